//! Resumable uploads (断点续传) and moving a round to a new framework version, on both
//! databases.

use std::collections::HashMap;

use crate::common::*;
use fazhi_domain::framework::Node;
use fazhi_store::{Appended, NewRound, NewUpload, StoreError, TaskFilter, TaskId, UserRole};

store_tests!(
    upload_offsets_chunks_and_claims,
    a_round_moves_to_a_new_version
);

fn announce(token: &str, user: fazhi_store::UserId, size: u64) -> NewUpload {
    NewUpload {
        token: token.into(),
        task: TaskId(1),
        replaces: None,
        user,
        file_name: "录像.mp4".into(),
        size,
        title: Some("执法记录".into()),
        doc_number: None,
        doc_date: None,
    }
}

async fn upload_offsets_chunks_and_claims(db: Db) {
    let s = &db.store;
    let u = user(s, "sifa", UserRole::Observer, None).await;
    let token = "a".repeat(64);
    let up = s.upload_create(announce(&token, u.id, 10)).await.unwrap();
    assert_eq!((up.received, up.size, up.is_complete()), (0, 10, false));
    assert_eq!(
        s.upload_append(&token, 0, 4, "uploads/k0").await.unwrap(),
        Appended::Received(4)
    );
    // The same chunk again, or one from the wrong place: not counted.
    assert_eq!(
        s.upload_append(&token, 0, 4, "uploads/k0b").await.unwrap(),
        Appended::OffsetMismatch(4)
    );
    assert_eq!(
        s.upload_append(&token, 9, 1, "uploads/k9").await.unwrap(),
        Appended::OffsetMismatch(4)
    );
    // Past the announced size: refused.
    assert!(matches!(
        s.upload_append(&token, 4, 7, "uploads/kx").await,
        Err(StoreError::Invalid(_))
    ));
    // Not complete: no claim.
    let hour = chrono::Duration::hours(1);
    assert!(!s.upload_claim_finish(&token, hour).await.unwrap());
    assert_eq!(
        s.upload_append(&token, 4, 6, "uploads/k4").await.unwrap(),
        Appended::Received(10)
    );
    let chunks = s.upload_chunks(&token).await.unwrap();
    let tiles: Vec<(u64, u64, &str)> = chunks
        .iter()
        .map(|c| (c.offset, c.len, c.object_key.as_str()))
        .collect();
    assert_eq!(tiles, vec![(0, 4, "uploads/k0"), (4, 6, "uploads/k4")]);
    // One finish at a time; a released claim can be taken again.
    assert!(s.upload_claim_finish(&token, hour).await.unwrap());
    assert!(!s.upload_claim_finish(&token, hour).await.unwrap());
    s.upload_release_finish(&token).await.unwrap();
    assert!(s.upload_claim_finish(&token, hour).await.unwrap());
    // A claim older than the stale time counts as abandoned.
    assert!(
        s.upload_claim_finish(&token, chrono::Duration::seconds(-1))
            .await
            .unwrap()
    );

    // Idle uploads are found by age; forgetting removes the chunk list too.
    let future = chrono::Utc::now() + chrono::Duration::minutes(1);
    assert_eq!(s.uploads_idle_since(future).await.unwrap().len(), 1);
    assert!(
        s.uploads_idle_since(chrono::Utc::now() - chrono::Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    s.upload_forget(&token).await.unwrap();
    assert!(!s.upload_exists(&token).await.unwrap());
    assert!(matches!(
        s.upload(&token).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(count_rows(s, "resumable_upload_chunk").await, 0);

    // At most eight open uploads per user; the same file announced again is the same one.
    for i in 0..8 {
        let t = format!("{i:0>64}");
        let mut a = announce(&t, u.id, 5);
        a.file_name = format!("录像{i}.mp4");
        let got = s.upload_create(a.clone()).await.unwrap();
        assert_eq!(got.token, t);
        a.token = "e".repeat(64);
        assert_eq!(s.upload_create(a).await.unwrap().token, t, "reused");
    }
    let mut ninth = announce(&"f".repeat(64), u.id, 5);
    ninth.file_name = "第九个.mp4".into();
    assert!(matches!(
        s.upload_create(ninth).await,
        Err(StoreError::Invalid(_))
    ));
    // A malformed name is simply not found.
    assert!(matches!(
        s.upload("../x").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_round_moves_to_a_new_version(db: Db) {
    let s = &db.store;
    let old_version = import_county(s).await;
    let round = s
        .open_round(
            NewRound {
                name: "2026年度".into(),
                starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                framework_id: None,
                due_on: None,
                copy_from: None,
            },
            &admin(),
        )
        .await
        .unwrap()
        .round_id;
    let before = s
        .tasks(&TaskFilter {
            round: Some(round),
            ..Default::default()
        })
        .await
        .unwrap();
    // The new edition drops item 3.
    let mut lib = library();
    fn drop_code(nodes: &mut Vec<Node>, code: &str) {
        nodes.retain(|n| !matches!(n, Node::Indicator(i) if i.code == code));
        for n in nodes {
            if let Node::Heading(h) = n {
                drop_code(&mut h.children, code);
            }
        }
    }
    drop_code(&mut lib.framework.indicators, "3");
    let new_version = s
        .import_library(&lib, "新版.json", &"cd".repeat(32), &admin())
        .await
        .unwrap();
    let old_tree = s.framework_tree(old_version).await.unwrap();
    let new_tree = s.framework_tree(new_version).await.unwrap();
    let new_by_code: HashMap<String, fazhi_store::NodeId> = new_tree
        .leaves()
        .into_iter()
        .map(|(_, n)| (n.code.clone(), n.id))
        .collect();
    let mapping: HashMap<_, _> = old_tree
        .leaves()
        .into_iter()
        .filter_map(|(_, n)| new_by_code.get(&n.code).map(|new| (n.id, *new)))
        .collect();
    let done = s
        .remap_round(round, new_version, &mapping, &admin())
        .await
        .unwrap();
    let on_3 = before.iter().filter(|t| t.code == "3").count();
    assert!(on_3 > 0);
    assert_eq!(done.moved, before.len() - on_3);
    assert_eq!(done.kept.len(), on_3);
    assert!(done.sync.created.is_empty(), "{:?}", done.sync);
    assert!(done.sync.removed_untouched.is_empty(), "{:?}", done.sync);
    let after = s
        .tasks(&TaskFilter {
            round: Some(round),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(after.len(), before.len(), "no task dropped");
    let kept = s.tasks_on_earlier_versions(round).await.unwrap();
    assert_eq!(kept.len(), on_3);
    assert!(kept.iter().all(|t| t.code == "3"));
    assert_eq!(s.round(round).await.unwrap().framework_id, new_version);
    // Once moved, moving to the same version again is refused.
    assert!(matches!(
        s.remap_round(round, new_version, &mapping, &admin()).await,
        Err(StoreError::Invalid(_))
    ));
}
