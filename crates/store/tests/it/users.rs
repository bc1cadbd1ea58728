//! Accounts.

use crate::common::*;
use fazhi_store::{NewUser, StoreError, UserId, UserRole, UserUpdate};

store_tests!(create_and_read_users);

fn new_user(username: &str, role: UserRole, unit: Option<fazhi_store::UnitId>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("{username}的姓名"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role,
        unit_id: unit,
        must_change_password: true,
    }
}

async fn create_and_read_users(db: Db) {
    let s = &db.store;
    import_county(s).await;
    let sifa = unit_id(s, "县司法局").await;

    let admin_id = s
        .create_user(new_user("Admin", UserRole::Admin, None), &admin())
        .await
        .unwrap();
    let liaison = s
        .create_user(new_user("sifa01", UserRole::Liaison, Some(sifa)), &admin())
        .await
        .unwrap();
    let observer = s
        .create_user(new_user("leader", UserRole::Observer, None), &admin())
        .await
        .unwrap();

    let a = s
        .user_by_username(" ADMIN ")
        .await
        .unwrap()
        .expect("按用户名查找，不分大小写");
    assert_eq!(a.id, admin_id);
    assert_eq!(a.username, "admin");
    assert_eq!(a.role, UserRole::Admin);
    assert!(a.must_change_password && !a.disabled && a.last_login_at.is_none());
    assert!(
        !format!("{a:?}").contains("argon2"),
        "Debug 不应显示密码哈希"
    );
    assert!(!serde_json::to_string(&a).unwrap().contains("argon2"));
    let l = s.user(liaison).await.unwrap();
    assert_eq!((l.role, l.unit_id), (UserRole::Liaison, Some(sifa)));
    assert_eq!(
        s.users()
            .await
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        vec![admin_id, liaison, observer]
    );
    assert!(s.user_by_username("nobody").await.unwrap().is_none());
    assert!(matches!(
        s.user(UserId(4242)).await,
        Err(StoreError::NotFound { .. })
    ));

    let err = s
        .create_user(new_user("admin", UserRole::Observer, None), &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { field: "username", value } if value == "admin"),
        "{err}"
    );
    let err = s
        .create_user(new_user("x1", UserRole::Liaison, None), &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m == "单位联络员必须指定所属单位"),
        "{err}"
    );
    let err = s
        .create_user(
            new_user("x2", UserRole::Liaison, Some(fazhi_store::UnitId(31_337))),
            &admin(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = s
        .create_user(new_user("a b", UserRole::Admin, None), &admin())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let mut empty = new_user("x3", UserRole::Admin, None);
    empty.display_name = " ".into();
    assert!(matches!(
        s.create_user(empty, &admin()).await,
        Err(StoreError::Invalid(_))
    ));

    let by_admin = a.actor();
    s.set_password_hash(liaison, "$argon2id$new", false, &by_admin)
        .await
        .unwrap();
    let l = s.user(liaison).await.unwrap();
    assert_eq!(l.password_hash, "$argon2id$new");
    assert!(!l.must_change_password);

    s.record_login(liaison).await.unwrap();
    assert!(s.user(liaison).await.unwrap().last_login_at.is_some());

    s.set_disabled(observer, true, &by_admin).await.unwrap();
    assert!(s.user(observer).await.unwrap().disabled);
    s.set_disabled(observer, false, &by_admin).await.unwrap();
    assert!(!s.user(observer).await.unwrap().disabled);

    let err = s
        .update_user(
            observer,
            UserUpdate {
                display_name: "领导".into(),
                role: UserRole::Liaison,
                unit_id: None,
            },
            &by_admin,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    s.update_user(
        observer,
        UserUpdate {
            display_name: "领导".into(),
            role: UserRole::Liaison,
            unit_id: Some(sifa),
        },
        &by_admin,
    )
    .await
    .unwrap();
    let o = s.user(observer).await.unwrap();
    assert_eq!(
        (o.display_name.as_str(), o.role, o.unit_id),
        ("领导", UserRole::Liaison, Some(sifa))
    );

    // The log never holds a password hash.
    let log = s
        .audit_entries(&fazhi_store::AuditFilter {
            entity: Some("user".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 3 + 1 + 1 + 2 + 1);
    for entry in &log {
        let text = format!("{:?}{:?}", entry.before_json, entry.after_json);
        assert!(!text.contains("argon2"), "{text}");
    }
    let login = log.iter().find(|e| e.action == "user.login").unwrap();
    assert_eq!(login.actor_user_id, Some(liaison));
    let by = s
        .audit_entries(&fazhi_store::AuditFilter {
            actor_user_id: Some(admin_id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by.len(), 4);
}
