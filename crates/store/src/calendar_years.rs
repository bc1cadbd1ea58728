//! The years of holiday arrangements (节假日安排) the office adds on top of the ones
//! shipped with the program, and the working-day calendar they make together.

use chrono::{DateTime, Utc};
use fazhi_domain::calendar::HolidayCalendar;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::audit::{AuditEntry, append_audit};
use crate::entity::calendar_year;
use crate::error::{StoreError, StoreResult};
use crate::text::clean_text;
use crate::types::{Actor, now};

/// A year of holiday arrangement added by the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedCalendarYear {
    pub year: i32,
    /// e.g. `国办发明电〔2026〕7号`.
    pub source: String,
    pub csv: String,
    pub added_at: DateTime<Utc>,
    pub added_by_name: String,
}

impl From<calendar_year::Model> for AddedCalendarYear {
    fn from(m: calendar_year::Model) -> Self {
        AddedCalendarYear {
            year: m.year,
            source: m.source,
            csv: m.csv,
            added_at: m.added_at,
            added_by_name: m.added_by_name,
        }
    }
}

/// The shipped arrangements plus `years`; a stored year that no longer merges is an error
/// naming it.
fn calendar_with(years: &[AddedCalendarYear]) -> StoreResult<HolidayCalendar> {
    let mut cal = HolidayCalendar::china_builtin();
    for y in years {
        let corrupt = |e| StoreError::Corrupt(format!("{}年节假日安排：{e}", y.year));
        cal.merge(&HolidayCalendar::parse_csv(&y.csv).map_err(corrupt)?)
            .map_err(corrupt)?;
        cal.declare_year(y.year);
    }
    Ok(cal)
}

impl Store {
    /// Years of holiday arrangements the office added.
    pub async fn added_calendar_years(&self) -> StoreResult<Vec<AddedCalendarYear>> {
        Ok(calendar_year::Entity::find()
            .order_by_asc(calendar_year::Column::Year)
            .all(self.connection())
            .await?
            .into_iter()
            .map(AddedCalendarYear::from)
            .collect())
    }

    /// The working-day calendar in force: the shipped arrangements plus the years the
    /// office added. A stored year that no longer merges is an error naming it.
    pub async fn calendar(&self) -> StoreResult<HolidayCalendar> {
        calendar_with(&self.added_calendar_years().await?)
    }

    /// Adds (or, for a year the office added before, replaces) the arrangement of `year`.
    /// The CSV (`date,kind,name`) must parse, contain entries of that year, and agree with
    /// the other years' data; a year shipped with the program cannot be replaced.
    pub async fn set_calendar_year(
        &self,
        year: i32,
        source: &str,
        csv: &str,
        actor: &Actor,
    ) -> StoreResult<usize> {
        let source = clean_text(source, "依据（通知文号）", 200, true)?;
        if !(2000..=2100).contains(&year) {
            return Err(StoreError::invalid(format!("年份{year}不在2000至2100之间")));
        }
        if HolidayCalendar::china_builtin().is_covered(year) {
            return Err(StoreError::invalid(format!(
                "{year}年的节假日安排已随系统提供（国务院办公厅通知），不能修改"
            )));
        }
        let parsed =
            HolidayCalendar::parse_csv(csv).map_err(|e| StoreError::invalid(e.to_string()))?;
        let count = parsed.entries().count();
        if !parsed
            .entries()
            .any(|e| chrono::Datelike::year(&e.date) == year)
        {
            return Err(StoreError::invalid(format!(
                "数据中没有{year}年的日期，请检查年份"
            )));
        }
        // Must agree with the shipped data and the other added years.
        let others: Vec<AddedCalendarYear> = self
            .added_calendar_years()
            .await?
            .into_iter()
            .filter(|y| y.year != year)
            .collect();
        calendar_with(&others)?
            .merge(&parsed)
            .map_err(|e| StoreError::invalid(format!("与已有节假日数据冲突：{e}")))?;
        let text = parsed.to_csv();
        let tx = self.begin().await?;
        let conn = tx.connection();
        let before = calendar_year::Entity::find_by_id(year).one(conn).await?;
        if let Some(b) = &before {
            calendar_year::Entity::delete_by_id(b.year)
                .exec(conn)
                .await?;
        }
        let row = calendar_year::ActiveModel {
            year: Set(year),
            source: Set(source),
            csv: Set(text),
            added_at: Set(now()),
            added_by_name: Set(actor.name.clone()),
        }
        .insert(conn)
        .await?;
        let after = AddedCalendarYear::from(row);
        append_audit(
            &tx,
            AuditEntry::new(
                actor,
                "calendar.set_year",
                "calendar_year",
                Some(year.to_string()),
            )
            .before(before.map(AddedCalendarYear::from))
            .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(count)
    }
}
