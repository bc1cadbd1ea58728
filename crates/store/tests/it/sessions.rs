//! Sessions and API tokens.

use crate::common::*;
use chrono::{Duration, Utc};
use fazhi_store::{NewUser, StoreError, UserRole};

store_tests!(
    sessions_round_trip,
    api_tokens,
    user_sessions_and_tokens_end_together,
    login_failures_count_and_purge
);

fn later() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::days(90)
}

async fn bot(s: &fazhi_store::Store, name: &str) -> fazhi_store::UserId {
    s.create_user(
        NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "h".into(),
            role: UserRole::Observer,
            unit_id: None,
            must_change_password: false,
        },
        &admin(),
    )
    .await
    .unwrap()
}

async fn user_sessions_and_tokens_end_together(db: Db) {
    let s = &db.store;
    let (a, b) = (bot(s, "a").await, bot(s, "b").await);
    let later = later();
    s.session_save("a1", Some(a), b"x", later).await.unwrap();
    s.session_save("a2", Some(a), b"x", later).await.unwrap();
    s.session_save("b1", Some(b), b"x", later).await.unwrap();
    s.session_save("anon", None, b"x", later).await.unwrap();
    assert_eq!(s.end_user_sessions(a, Some("a1")).await.unwrap(), 1);
    assert!(s.session_load("a1").await.unwrap().is_some());
    assert!(s.session_load("a2").await.unwrap().is_none());
    assert!(s.session_load("b1").await.unwrap().is_some());
    assert_eq!(s.end_user_sessions(a, None).await.unwrap(), 1);
    assert!(s.session_load("anon").await.unwrap().is_some());

    s.create_api_token(a, "一", &"a1".repeat(32), later, false, &admin())
        .await
        .unwrap();
    s.create_api_token(a, "二", &"a2".repeat(32), later, true, &admin())
        .await
        .unwrap();
    s.create_api_token(b, "三", &"b1".repeat(32), later, false, &admin())
        .await
        .unwrap();
    assert_eq!(s.revoke_user_tokens(a, &admin()).await.unwrap(), 2);
    assert!(s.api_tokens(a).await.unwrap().is_empty());
    assert_eq!(s.api_tokens(b).await.unwrap().len(), 1);
    let revoked = s
        .audit_entries(&fazhi_store::AuditFilter {
            action: Some("api_token.revoke".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(revoked.len(), 2);
    assert!(s.verify_audit().await.unwrap().is_ok());
}

async fn login_failures_count_and_purge(db: Db) {
    let s = &db.store;
    let user = bot(s, "clerk").await;
    let (k1, k2) = ("1f".repeat(32), "2f".repeat(32));
    let before = Utc::now() - Duration::minutes(1);
    s.record_login_failure(&[&k1, &k2], None).await.unwrap();
    s.record_login_failure(
        &[&k1],
        Some(fazhi_store::FailedLogin {
            user,
            display_name: "clerk",
            client: "192.0.2.7",
        }),
    )
    .await
    .unwrap();
    let c = s.login_failures(&k1, before).await.unwrap();
    assert_eq!(c.count, 2);
    assert!(c.last.is_some());
    assert_eq!(s.login_failures(&k2, before).await.unwrap().count, 1);
    assert!(s.login_failures("short", before).await.is_err());
    let failed = s
        .audit_entries(&fazhi_store::AuditFilter {
            action: Some("user.login_failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .after_json
            .as_deref()
            .unwrap()
            .contains("192.0.2.7")
    );
    s.clear_login_failures(&k2).await.unwrap();
    assert_eq!(s.login_failure_rows().await.unwrap(), 2);
    assert_eq!(s.purge_login_failures(before).await.unwrap(), 0);
    assert_eq!(s.purge_login_failures(Utc::now()).await.unwrap(), 2);
    assert_eq!(s.login_failure_rows().await.unwrap(), 0);
}

async fn sessions_round_trip(db: Db) {
    let s = &db.store;
    let later = Utc::now() + Duration::hours(1);
    s.session_create("abc", b"\x00\x01data", later)
        .await
        .unwrap();
    assert_eq!(
        s.session_load("abc").await.unwrap().as_deref(),
        Some(&b"\x00\x01data"[..])
    );
    let err = s.session_create("abc", b"x", later).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    s.session_save("abc", None, b"new", later).await.unwrap();
    assert_eq!(
        s.session_load("abc").await.unwrap().as_deref(),
        Some(&b"new"[..])
    );
    s.session_save("old", None, b"gone", Utc::now() - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(s.session_load("old").await.unwrap(), None);
    assert_eq!(s.session_delete_expired().await.unwrap(), 1);
    s.session_delete("abc").await.unwrap();
    assert_eq!(s.session_load("abc").await.unwrap(), None);
    assert_eq!(count_rows(s, "session").await, 0);
    assert_eq!(count_rows(s, "audit_log").await, 0);
}

async fn api_tokens(db: Db) {
    let s = &db.store;
    let user = s
        .create_user(
            NewUser {
                username: "bot".into(),
                display_name: "接口".into(),
                password_hash: "h".into(),
                role: UserRole::Observer,
                unit_id: None,
                must_change_password: false,
            },
            &admin(),
        )
        .await
        .unwrap();
    let digest = "AB".repeat(32);
    let id = s
        .create_api_token(user, "报表", &digest, later(), false, &admin())
        .await
        .unwrap();
    let err = s
        .create_api_token(user, "重复", &digest, later(), false, &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "token", .. }),
        "{err}"
    );
    assert!(matches!(
        s.create_api_token(user, "短", "abc", later(), false, &admin())
            .await,
        Err(StoreError::Invalid(_))
    ));

    let (token, owner) = s.user_by_api_token(&digest).await.unwrap().unwrap();
    assert_eq!((token.id, owner.id), (id, user));
    assert!(token.last_used_at.is_some());
    assert!(!token.can_write && !token.expired());
    assert!(matches!(
        s.create_api_token(user, "过期", &"ef".repeat(32), Utc::now(), true, &admin())
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        s.user_by_api_token(&"cd".repeat(32))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.api_tokens(user).await.unwrap().len(), 1);

    s.revoke_api_token(id, &admin()).await.unwrap();
    assert!(s.user_by_api_token(&digest).await.unwrap().is_none());
    assert!(matches!(
        s.revoke_api_token(id, &admin()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.verify_audit().await.unwrap(), Ok(3));
}
