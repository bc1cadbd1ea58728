//! A user's schedule (日程): the due dates of their tasks in the active round and the
//! yearly deadlines of the tasks' requirements, and the same as an iCalendar feed.
//! Built here, not in the pages, so the page and the feed read one list.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::measure::next_yearly;
use fazhi_domain::rules::RuleKind;
use fazhi_domain::supervision::{Light, LightState, traffic_light};
use fazhi_domain::task::TaskStatus;
use icalendar::{Calendar, Component, EventLike};

use crate::tasks::{TaskFilter, TaskSummary};
use crate::{
    RoundInfo, Store, StoreError, StoreResult, TaskId, TaskMeasures, UnitId, User, UserRole,
};

fn weekday_cn(d: NaiveDate) -> &'static str {
    fazhi_domain::calendar::weekday_cn(d.weekday())
}

/// What a dated item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// The task's due date (办理期限).
    Due,
    /// A yearly deadline from the indicator's requirements (年度截止日).
    Deadline,
}

/// One date on a user's schedule.
pub struct ScheduleItem {
    pub date: NaiveDate,
    pub kind: ItemKind,
    pub task_id: TaskId,
    pub code: String,
    pub text: String,
    pub unit_name: String,
    /// For deadlines: the requirement (`行政执法总体情况 每年1月15日前`) and its rule key.
    pub requirement: String,
    /// For deadlines: what must be done, e.g. `公开本机关上年度行政执法总体情况`.
    pub subject: String,
    pub rule_key: Option<String>,
    pub task_status: TaskStatus,
    pub light: LightState,
    /// For deadlines: the reported completion day that counts for this occurrence.
    pub reported_on: Option<NaiveDate>,
    /// Past and not done.
    pub overdue: bool,
    /// e.g. `国庆节` when the date is a listed day off.
    pub holiday: Option<String>,
    /// Calendar days from today (negative when past).
    pub days_left: i64,
}

impl ScheduleItem {
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            ItemKind::Due => "办理期限",
            ItemKind::Deadline => "年度截止",
        }
    }

    pub fn weekday(&self) -> &'static str {
        weekday_cn(self.date)
    }

    /// `已通过`, `已报送（2027-01-10）`, `逾期未报` … in a few words.
    pub fn state_label(&self) -> String {
        match self.kind {
            ItemKind::Due => {
                if self.task_status.is_done() {
                    format!("任务{}", self.task_status.label())
                } else if self.overdue {
                    format!("已逾期（任务{}）", self.task_status.label())
                } else {
                    format!("任务{}", self.task_status.label())
                }
            }
            ItemKind::Deadline => match self.reported_on {
                Some(d) => format!("已报完成日期 {d}"),
                None if self.overdue => "逾期未报".into(),
                None => "尚未报送".into(),
            },
        }
    }

    /// How far off, in working days (`还剩2个工作日`), or in calendar days when the
    /// year's holiday arrangement is not entered (`还有40天（自然日）`).
    pub fn phrase(&self) -> String {
        if self.light.workdays_left.is_some() {
            return self.light.phrase();
        }
        match self.days_left {
            0 => "今天到期".into(),
            n if n > 0 => format!("还有{n}天（自然日）"),
            n => format!("已过{}天（自然日）", -n),
        }
    }

    /// Done or reported: nothing left to do for this date.
    pub fn settled(&self) -> bool {
        match self.kind {
            ItemKind::Due => self.task_status.is_done(),
            ItemKind::Deadline => self.reported_on.is_some(),
        }
    }

    /// Stable across feed refreshes: `task-12-due@fazhi`,
    /// `task-12-deadline-c17-2027@fazhi`.
    pub fn uid(&self) -> String {
        match (&self.kind, &self.rule_key) {
            (ItemKind::Deadline, Some(key)) => {
                let key: String = key
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                format!(
                    "task-{}-deadline-{key}-{}@fazhi",
                    self.task_id,
                    self.date.year()
                )
            }
            _ => format!("task-{}-due@fazhi", self.task_id),
        }
    }

    /// The indicator text cut for one line.
    pub fn short_text(&self, max: usize) -> String {
        cut(&self.text, max)
    }

    /// `【截止】第25项 行政规范性文件… · 县司法局`
    pub fn summary(&self) -> String {
        let tag = match (self.kind, self.overdue, self.settled()) {
            (_, true, _) => "已逾期",
            (ItemKind::Due, _, true) => "已完成",
            (ItemKind::Deadline, _, true) => "已报送",
            (ItemKind::Due, _, _) => "截止",
            (ItemKind::Deadline, _, _) => "年度截止",
        };
        // A deadline is named by what must be done, a due date by the indicator.
        let what = if self.subject.trim().is_empty() {
            self.short_text(16)
        } else {
            cut(&self.subject, 20)
        };
        format!("【{tag}】第{}项 {what} · {}", self.code, self.unit_name)
    }
}

/// At most `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    let mut s: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        s.push('…');
    }
    s
}

/// The schedule's scope: the active round, the tasks it covers, the units to filter by.
pub struct Schedule {
    pub round: Option<RoundInfo>,
    pub items: Vec<ScheduleItem>,
    /// Units with tasks in the round, for the filter (empty for a liaison).
    pub units: Vec<(UnitId, String)>,
    pub today: NaiveDate,
    pub horizon: NaiveDate,
}

/// The dates of `user`'s tasks in the active round from `today`: due dates of the next 12
/// months and those passed without the task being done, and the yearly deadlines of the
/// tasks' requirements (next occurrence; the round's own occurrence when it passed
/// unreported). A liaison sees the own unit's tasks; others all, or one unit's.
pub async fn schedule(
    store: &Store,
    user: &User,
    unit_filter: Option<UnitId>,
    today: NaiveDate,
    cal: &HolidayCalendar,
    warn: u32,
) -> StoreResult<Schedule> {
    let horizon = today
        .checked_add_months(Months::new(12))
        .unwrap_or(NaiveDate::MAX);
    let round = store.active_round().await?;
    let mut out = Schedule {
        round: None,
        items: Vec::new(),
        units: Vec::new(),
        today,
        horizon,
    };
    let Some(round) = round else {
        return Ok(out);
    };
    let liaison = user.role == UserRole::Liaison;
    let unit = if liaison {
        Some(
            user.unit_id
                .ok_or_else(|| StoreError::Invalid("单位联络员账号没有所属单位".into()))?,
        )
    } else {
        None
    };
    let mut tasks = store
        .tasks(&TaskFilter {
            round: Some(round.id),
            unit,
            ..Default::default()
        })
        .await?;
    if !liaison {
        let mut units: Vec<(UnitId, String)> = Vec::new();
        for t in &tasks {
            if !units.iter().any(|(id, _)| *id == t.unit_id) {
                units.push((t.unit_id, t.unit_name.clone()));
            }
        }
        units.sort_by(|a, b| a.1.cmp(&b.1));
        out.units = units;
        if let Some(u) = unit_filter {
            tasks.retain(|t| t.unit_id == u);
        }
    }
    let measures: HashMap<TaskId, TaskMeasures> = if tasks.is_empty() {
        HashMap::new()
    } else {
        store
            .round_measures(round.id)
            .await?
            .into_iter()
            .map(|m| (m.task_id, m))
            .collect()
    };
    for t in &tasks {
        if let Some(due) = t.due_on {
            let light = t.light(cal, warn, today);
            let overdue = due < today && !t.status.is_done();
            if overdue || (today..=horizon).contains(&due) {
                out.items
                    .push(item(t, cal, today, due, ItemKind::Due, light, overdue));
            }
        }
        if let Some(m) = measures.get(&t.id) {
            deadline_items(t, m, cal, today, horizon, warn, &mut out.items);
        }
    }
    out.items.sort_by(|a, b| {
        (
            a.date,
            code_order(&a.code),
            &a.unit_name,
            a.kind as u8,
            &a.requirement,
        )
            .cmp(&(
                b.date,
                code_order(&b.code),
                &b.unit_name,
                b.kind as u8,
                &b.requirement,
            ))
    });
    // An indicator may state the same deadline twice (e.g. 第92项: 县政府 and 政府各部门
    // both report in the first quarter); one line is enough when nothing tells them apart.
    out.items.dedup_by(|b, a| {
        a.task_id == b.task_id
            && a.kind == b.kind
            && a.date == b.date
            && a.requirement == b.requirement
            && a.reported_on == b.reported_on
            && a.overdue == b.overdue
    });
    out.round = Some(round);
    Ok(out)
}

fn code_order(code: &str) -> (usize, &str) {
    (code.parse().unwrap_or(usize::MAX), code)
}

fn item(
    t: &TaskSummary,
    cal: &HolidayCalendar,
    today: NaiveDate,
    date: NaiveDate,
    kind: ItemKind,
    light: LightState,
    overdue: bool,
) -> ScheduleItem {
    ScheduleItem {
        date,
        kind,
        task_id: t.id,
        code: t.code.clone(),
        text: t.text.clone(),
        unit_name: t.unit_name.clone(),
        requirement: String::new(),
        subject: String::new(),
        rule_key: None,
        task_status: t.status,
        light,
        reported_on: None,
        overdue,
        holiday: cal.holiday_name(date).ok().flatten().map(str::to_string),
        days_left: (date - today).num_days(),
    }
}

fn deadline_items(
    t: &TaskSummary,
    m: &TaskMeasures,
    cal: &HolidayCalendar,
    today: NaiveDate,
    horizon: NaiveDate,
    warn: u32,
    items: &mut Vec<ScheduleItem>,
) {
    for r in &m.rules.rules {
        let RuleKind::Deadline { month, day } = r.rule.kind else {
            continue;
        };
        let done_on = m.latest.get(&r.key).and_then(|x| x.measurement.done_on);
        // The round's occurrence is the one 达标判定 checks the reported day against.
        let first = next_yearly(month, day, m.period_start);
        let mut push = |date: NaiveDate, reported: Option<NaiveDate>, overdue: bool| {
            let status = if reported.is_some() {
                TaskStatus::Approved
            } else {
                TaskStatus::InProgress
            };
            let light = traffic_light(status, Some(date), false, reported, today, cal, warn);
            let mut it = item(t, cal, today, date, ItemKind::Deadline, light, overdue);
            it.requirement = r.rule.describe();
            it.subject = r.rule.subject.clone();
            it.rule_key = Some(r.key.clone());
            it.reported_on = reported;
            items.push(it);
        };
        let Some(first) = first else {
            continue;
        };
        if first >= today {
            if first <= horizon {
                push(first, done_on, false);
            }
            continue;
        }
        // The round's occurrence has passed: still open unless reported (late or not).
        if done_on.is_none() && !t.status.is_done() {
            push(first, None, true);
        }
        // A reminder of the next year's occurrence. The reported value belongs to the
        // round's occurrence (one value per rule and round), so this one is still open.
        if let Some(next) = next_yearly(month, day, today)
            && next <= horizon
        {
            push(next, None, false);
        }
    }
}

/// The schedule as an iCalendar text: one all-day event per item.
pub fn ics(s: &Schedule, scope: &str, origin: &str) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(icalendar::Property::new("VERSION", "2.0"))
        .append_property(icalendar::Property::new(
            "PRODID",
            "-//fazhi//法治政府建设示范创建//ZH",
        ))
        .append_property(icalendar::Property::new("CALSCALE", "GREGORIAN"))
        .append_property(icalendar::Property::new("METHOD", "PUBLISH"))
        .name(&format!("法治政府建设示范创建日程 · {scope}"))
        .description("依法治县办平台中的任务办理期限和年度截止日期")
        .timezone("Asia/Shanghai")
        .ttl(&chrono::Duration::hours(4));
    for i in &s.items {
        let link = format!("{origin}/tasks/{}", i.task_id);
        let mut lines = Vec::new();
        match i.kind {
            ItemKind::Due => lines.push(format!("办理期限：{}（{}）", i.date, i.weekday())),
            ItemKind::Deadline => {
                lines.push(format!("要求：{}", i.requirement));
                lines.push(format!("截止日期：{}（{}）", i.date, i.weekday()));
            }
        }
        if let Some(h) = &i.holiday {
            lines.push(format!("注意：当天是法定节假日（{h}）"));
        }
        let mut state = i.state_label();
        let phrase = i.phrase();
        if !i.settled() && !phrase.is_empty() {
            state.push_str(&format!("，{phrase}"));
        }
        lines.push(format!("状态：{state}"));
        lines.push(format!("责任单位：{}", i.unit_name));
        lines.push(format!("办理：{link}"));
        lines.push(format!("指标（第{}项）：{}", i.code, i.text));
        let end = i.date.succ_opt().unwrap_or(i.date);
        let mut event = icalendar::Event::new();
        event
            .uid(&i.uid())
            .summary(&i.summary())
            .description(&lines.join("\n"))
            .starts(i.date)
            .ends(end)
            .url(&link)
            .add_property("TRANSP", "TRANSPARENT")
            .add_property(
                "CATEGORIES",
                match i.kind {
                    ItemKind::Due => "办理期限",
                    ItemKind::Deadline => "年度截止",
                },
            );
        if i.overdue || i.light.light == Light::Red {
            event.add_property("PRIORITY", "1");
        }
        cal.push(event.done());
    }
    cal.done().to_string()
}
