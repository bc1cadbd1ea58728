//! Read caches for the hot pages: the current framework tree and each unit's list change
//! only when someone writes, so they are kept until the store's write generation moves.
//! Measured in BENCHMARKS.md (HTTP section); one server process per database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::stats::{LightRules, RoundStats};
use fazhi_store::{
    RoundFacts, RoundId, StoredFramework, TaskFilter, UnitId, UnitIndicator, User, UserId,
};

use crate::AppState;
use crate::error::{WebError, WebResult};

#[derive(Default)]
struct Inner {
    generation: u64,
    framework: Option<Arc<StoredFramework>>,
    unit_lists: HashMap<UnitId, Arc<Vec<UnitIndicator>>>,
    inbox_totals: HashMap<(UserId, NaiveDate), usize>,
    calendar: Option<Arc<HolidayCalendar>>,
    round_views: HashMap<RoundViewKey, Arc<RoundView>>,
}

/// (round, unit or the whole round, as-of date).
type RoundViewKey = (RoundId, Option<UnitId>, NaiveDate);

/// Distinct round views kept per generation (units × dates viewed between two writes); past
/// it the oldest generation's set is simply dropped and rebuilt.
const MAX_ROUND_VIEWS: usize = 256;

/// A round's (or one unit's) facts and statistics as of a date: what the dashboard, the
/// exports and the report read.
pub struct RoundView {
    pub facts: RoundFacts,
    pub stats: RoundStats,
}

#[derive(Default)]
pub struct ReadCache {
    inner: Mutex<Inner>,
}

impl ReadCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The entries valid at `generation`, dropping older ones.
    fn at(&self, generation: u64) -> std::sync::MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        if inner.generation != generation {
            *inner = Inner {
                generation,
                ..Default::default()
            };
        }
        inner
    }
}

impl AppState {
    /// The working-day calendar in force (shipped years plus those the office added).
    pub async fn calendar(&self) -> WebResult<Arc<HolidayCalendar>> {
        let generation = self.store.generation();
        if let Some(cal) = self.cache.at(generation).calendar.clone() {
            return Ok(cal);
        }
        let cal = Arc::new(self.store.calendar().await?);
        let mut inner = self.cache.lock();
        if inner.generation == generation {
            inner.calendar = Some(Arc::clone(&cal));
        }
        Ok(cal)
    }

    /// The current framework; 404 with a Chinese message when none is imported.
    pub async fn current_framework(&self) -> WebResult<Arc<StoredFramework>> {
        // Read the generation first: a write during the query makes the result stale, and
        // it is then stored under the old generation, which the next reader drops.
        let generation = self.store.generation();
        if let Some(fw) = self.cache.at(generation).framework.clone() {
            return Ok(fw);
        }
        let fw = Arc::new(self.store.current_framework().await?.ok_or_else(|| {
            WebError::NotFound("还没有导入指标体系，请管理员先导入责任分工表".into())
        })?);
        let mut inner = self.cache.lock();
        if inner.generation == generation {
            inner.framework = Some(Arc::clone(&fw));
        }
        Ok(fw)
    }

    /// A unit's indicators (its 责任清单), including those it holds through a group.
    pub async fn unit_indicators(&self, unit: UnitId) -> WebResult<Arc<Vec<UnitIndicator>>> {
        let generation = self.store.generation();
        if let Some(list) = self.cache.at(generation).unit_lists.get(&unit).cloned() {
            return Ok(list);
        }
        let list = Arc::new(self.store.unit_indicators(unit).await?);
        let mut inner = self.cache.lock();
        if inner.generation == generation {
            inner.unit_lists.insert(unit, Arc::clone(&list));
        }
        Ok(list)
    }

    /// How many items wait in `user`'s inbox today (the header badge on every page).
    pub async fn inbox_total(&self, user: &User, today: NaiveDate) -> WebResult<usize> {
        let generation = self.store.generation();
        let key = (user.id, today);
        if let Some(n) = self.cache.at(generation).inbox_totals.get(&key).copied() {
            return Ok(n);
        }
        let calendar = self.calendar().await?;
        let mut n = self
            .store
            .inbox_on(user, today, &calendar, self.config.warn_workdays)
            .await?
            .total();
        // 督办单 waiting for the unit's acknowledgement count as to-dos too.
        if let (fazhi_store::UserRole::Liaison, Some(unit)) = (user.role, user.unit_id) {
            n += self.store.open_notices_of_unit(unit).await?.len();
        }
        let mut inner = self.cache.lock();
        if inner.generation == generation {
            inner.inbox_totals.insert(key, n);
        }
        Ok(n)
    }
}

impl AppState {
    /// The facts and statistics of `round` (or of one unit's tasks in it) on `as_of`,
    /// computed once per store generation: while nobody writes, a dashboard costs a map
    /// lookup (measured in BENCHMARKS.md, 任务台账 section).
    pub async fn round_view(
        &self,
        round: RoundId,
        unit: Option<UnitId>,
        as_of: NaiveDate,
    ) -> WebResult<Arc<RoundView>> {
        let generation = self.store.generation();
        let key = (round, unit, as_of);
        if let Some(v) = self.cache.at(generation).round_views.get(&key).cloned() {
            return Ok(v);
        }
        let calendar = self.calendar().await?;
        let filter = TaskFilter {
            round: Some(round),
            unit,
            ..Default::default()
        };
        let facts = self.store.round_facts(&filter, as_of, &calendar).await?;
        let stats = facts.stats(LightRules {
            calendar: &calendar,
            warn_workdays: self.config.warn_workdays,
        });
        let view = Arc::new(RoundView { facts, stats });
        let mut inner = self.cache.lock();
        if inner.generation == generation {
            if inner.round_views.len() >= MAX_ROUND_VIEWS {
                inner.round_views.clear();
            }
            inner.round_views.insert(key, Arc::clone(&view));
        }
        Ok(view)
    }
}
