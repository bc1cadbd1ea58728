//! The round view (facts + statistics) is computed once per store generation and date:
//! the same value while nobody writes, a fresh one after a write.

use fazhi_store::test_support::PastGuards;
use std::sync::Arc;

use fazhi_domain::clock::Clock;
use fazhi_domain::stats::LightRules;
use fazhi_store::{ActorRole, TaskAction, TaskFilter, UserRole};

use crate::App;

#[tokio::test]
async fn round_view_is_cached_until_a_write() {
    let app = App::new().await;
    app.user("boss", UserRole::Admin, None).await;
    let mut admin = app.login("boss").await;
    admin.open_round("2026年度", 2026).await;
    let round = app.store.active_round().await.unwrap().unwrap().id;
    let today = Clock::default().today();

    let first = app.state.round_view(round, None, today).await.unwrap();
    let again = app.state.round_view(round, None, today).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "nothing written: the cached view"
    );
    assert_eq!(first.stats.approved, 0);
    // Another date or one unit: its own entry.
    let unit = app.unit_id("县司法局").await;
    let own = app
        .state
        .round_view(round, Some(unit), today)
        .await
        .unwrap();
    assert!(own.stats.tasks < first.stats.tasks);
    assert!(own.facts.tasks.iter().all(|t| t.unit_name == "县司法局"));

    // A write moves the generation: the next view is recomputed and sees it.
    let task = app
        .store
        .tasks(&TaskFilter {
            round: Some(round),
            unit: Some(unit),
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    let office = fazhi_store::Actor::system();
    for (a, r) in [
        (TaskAction::Sign, ActorRole::ResponsibleUnit),
        (TaskAction::Submit, ActorRole::ResponsibleUnit),
        (TaskAction::Approve, ActorRole::Office),
    ] {
        app.store
            .transition_ready(task, &a, r, &office, today)
            .await
            .unwrap();
    }
    let after = app.state.round_view(round, None, today).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &after));
    assert_eq!(after.stats.approved, 1);
    // The same numbers as computing directly.
    let calendar = app.store.calendar().await.unwrap();
    let direct = app
        .store
        .all_round_facts(round, today, &calendar)
        .await
        .unwrap()
        .stats(LightRules {
            calendar: &calendar,
            warn_workdays: app.state.config.warn_workdays,
        });
    assert_eq!(after.stats, direct);
}
