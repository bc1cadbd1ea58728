//! Sessions and API tokens.

use crate::common::*;
use chrono::{Duration, Utc};
use fazhi_store::{NewUser, StoreError, UserRole};

store_tests!(sessions_round_trip, api_tokens);

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
    s.session_save("abc", b"new", later).await.unwrap();
    assert_eq!(
        s.session_load("abc").await.unwrap().as_deref(),
        Some(&b"new"[..])
    );
    s.session_save("old", b"gone", Utc::now() - Duration::minutes(1))
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
        .create_api_token(user, "报表", &digest, &admin())
        .await
        .unwrap();
    let err = s
        .create_api_token(user, "重复", &digest, &admin())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "token", .. }),
        "{err}"
    );
    assert!(matches!(
        s.create_api_token(user, "短", "abc", &admin()).await,
        Err(StoreError::Invalid(_))
    ));

    let (token, owner) = s.user_by_api_token(&digest).await.unwrap().unwrap();
    assert_eq!((token.id, owner.id), (id, user));
    assert!(token.last_used_at.is_some());
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
