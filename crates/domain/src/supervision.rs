//! Supervision (督办): traffic lights (红黄绿灯) per task and the levels of a 督办单.
//!
//! Light of a task with a due date, on day `today`:
//! * green — done (已通过/销号), or handed in before the due date, or more than `warn`
//!   working days left;
//! * yellow — not handed in and at most `warn` working days left (逾期预警);
//! * red — the due date has passed and the task is not done. Handing in does not clear
//!   red: only approval does. A task that was late keeps a mark after it turns green.
//!
//! Where the calendar has no arrangement for a year the working days cannot be counted;
//! then the light falls back to calendar days and says so in `note`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::HolidayCalendar;
use crate::task::TaskStatus;

/// Default number of working days before the due date at which the light turns yellow.
pub const DEFAULT_WARN_WORKDAYS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// No due date: nothing to chase.
    None,
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn label(self) -> &'static str {
        match self {
            Light::None => "未设期限",
            Light::Green => "绿灯",
            Light::Yellow => "黄灯",
            Light::Red => "红灯",
        }
    }

    /// CSS class suffix.
    pub fn css(self) -> &'static str {
        match self {
            Light::None => "none",
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }

    /// What the light means, for a tooltip.
    pub fn meaning(self) -> &'static str {
        match self {
            Light::None => "没有办理期限",
            Light::Green => "按期推进或已完成",
            Light::Yellow => "临近办理期限，尚未报送",
            Light::Red => "已超过办理期限，尚未通过审核",
        }
    }
}

/// The light of one task and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightState {
    pub light: Light,
    /// The task was (or is) late: keeps showing after the light turns green.
    pub late: bool,
    /// Working days from today to the due date (negative when overdue); `None` without a
    /// due date or when the calendar lacks the year.
    pub workdays_left: Option<i64>,
    /// Set when the calendar lacked a year and calendar days were used.
    pub note: Option<String>,
}

impl LightState {
    /// A short phrase for lists: `还剩2个工作日`, `逾期3个工作日`, `今天到期`.
    pub fn phrase(&self) -> String {
        match self.workdays_left {
            None => String::new(),
            Some(0) => "今天到期".into(),
            Some(n) if n > 0 => format!("还剩{n}个工作日"),
            Some(n) => format!("逾期{}个工作日", -n),
        }
    }
}

/// The traffic light of a task. `was_late` is the stored mark (handed in after the due date
/// at least once); `finished_on` is the day it was approved, if it is done.
pub fn traffic_light(
    status: TaskStatus,
    due: Option<NaiveDate>,
    was_late: bool,
    finished_on: Option<NaiveDate>,
    today: NaiveDate,
    calendar: &HolidayCalendar,
    warn_workdays: u32,
) -> LightState {
    let Some(due) = due else {
        return LightState {
            light: if status.is_done() {
                Light::Green
            } else {
                Light::None
            },
            late: was_late,
            workdays_left: None,
            note: None,
        };
    };
    let (left, note) = match calendar.workdays_until(today, due) {
        Ok(n) => (Some(n), None),
        Err(e) => (None, Some(format!("{e}；按自然日计算"))),
    };
    if status.is_done() {
        let late = was_late || finished_on.is_some_and(|d| d > due);
        return LightState {
            light: Light::Green,
            late,
            workdays_left: None,
            note: None,
        };
    }
    let overdue = today > due;
    let light = if overdue {
        Light::Red
    } else if status == TaskStatus::Submitted {
        Light::Green
    } else {
        let near = match left {
            Some(n) => n <= i64::from(warn_workdays),
            None => (due - today).num_days() <= i64::from(warn_workdays),
        };
        if near { Light::Yellow } else { Light::Green }
    };
    LightState {
        light,
        late: was_late || overdue,
        workdays_left: left,
        note,
    }
}

/// Level of a 督办单: 提醒 (蓝) → 警示 (黄) → 严重 (红).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    Remind,
    Warn,
    Severe,
}

impl NoticeLevel {
    pub const ALL: [NoticeLevel; 3] = [NoticeLevel::Remind, NoticeLevel::Warn, NoticeLevel::Severe];

    pub fn label(self) -> &'static str {
        match self {
            NoticeLevel::Remind => "提醒",
            NoticeLevel::Warn => "警示",
            NoticeLevel::Severe => "严重",
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            NoticeLevel::Remind => "蓝色",
            NoticeLevel::Warn => "黄色",
            NoticeLevel::Severe => "红色",
        }
    }

    /// CSS classes of a notice's box on the pages (colour by level).
    pub fn box_class(self) -> &'static str {
        match self {
            NoticeLevel::Remind => "notice",
            NoticeLevel::Warn => "notice warn-level",
            NoticeLevel::Severe => "notice severe",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeLevel::Remind => "remind",
            NoticeLevel::Warn => "warn",
            NoticeLevel::Severe => "severe",
        }
    }

    /// The next level up, if any.
    pub fn next(self) -> Option<NoticeLevel> {
        match self {
            NoticeLevel::Remind => Some(NoticeLevel::Warn),
            NoticeLevel::Warn => Some(NoticeLevel::Severe),
            NoticeLevel::Severe => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn light(status: TaskStatus, due: &str, today: &str) -> LightState {
        traffic_light(
            status,
            Some(d(due)),
            false,
            None,
            d(today),
            &HolidayCalendar::china_builtin(),
            DEFAULT_WARN_WORKDAYS,
        )
    }

    #[test]
    fn green_yellow_red_on_working_days() {
        // 2025-10-10 (Fri) is due; the National Day holiday lies before it.
        let cal_due = "2025-10-10";
        // 2025-09-26: working days after it up to 10-10: 9-28 (调休), 9-29, 9-30, 10-9, 10-10 → 5.
        let s = light(TaskStatus::InProgress, cal_due, "2025-09-26");
        assert_eq!((s.light, s.workdays_left), (Light::Green, Some(5)));
        // 2025-09-30: 10-09, 10-10 left → 2 ≤ 3 → yellow, although 10 calendar days remain.
        let s = light(TaskStatus::InProgress, cal_due, "2025-09-30");
        assert_eq!((s.light, s.workdays_left), (Light::Yellow, Some(2)));
        assert_eq!(s.phrase(), "还剩2个工作日");
        // Handed in: green while not overdue.
        assert_eq!(
            light(TaskStatus::Submitted, cal_due, "2025-09-30").light,
            Light::Green
        );
        // Overdue: red, also when handed in; marked late.
        let s = light(TaskStatus::Submitted, cal_due, "2025-10-13");
        assert_eq!((s.light, s.late), (Light::Red, true));
        // 10-11 (a 调休 Saturday) and 10-13 are working days.
        assert_eq!(s.phrase(), "逾期2个工作日");
        assert_eq!(
            light(TaskStatus::Returned, cal_due, "2025-10-11").light,
            Light::Red
        );
        // Due today.
        assert_eq!(
            light(TaskStatus::Pending, cal_due, "2025-10-10").phrase(),
            "今天到期"
        );
    }

    #[test]
    fn red_clears_only_when_done_and_keeps_the_late_mark() {
        let cal = HolidayCalendar::china_builtin();
        let s = traffic_light(
            TaskStatus::Approved,
            Some(d("2025-10-10")),
            false,
            Some(d("2025-10-15")),
            d("2025-10-20"),
            &cal,
            3,
        );
        assert_eq!((s.light, s.late), (Light::Green, true));
        let s = traffic_light(
            TaskStatus::Approved,
            Some(d("2025-10-10")),
            false,
            Some(d("2025-10-09")),
            d("2025-10-20"),
            &cal,
            3,
        );
        assert_eq!((s.light, s.late), (Light::Green, false));
    }

    #[test]
    fn no_due_date_and_missing_calendar_year() {
        let cal = HolidayCalendar::china_builtin();
        let s = traffic_light(
            TaskStatus::InProgress,
            None,
            false,
            None,
            d("2025-10-01"),
            &cal,
            3,
        );
        assert_eq!(s.light, Light::None);
        // 2031 is not in the shipped data: calendar days are used and the note says why.
        let s = traffic_light(
            TaskStatus::InProgress,
            Some(d("2031-03-03")),
            false,
            None,
            d("2031-03-01"),
            &cal,
            3,
        );
        assert_eq!(s.light, Light::Yellow);
        assert!(s.note.as_deref().unwrap_or("").contains("2031"), "{s:?}");
        assert_eq!(s.workdays_left, None);
    }

    #[test]
    fn notice_levels_escalate_in_order() {
        assert!(NoticeLevel::Remind < NoticeLevel::Warn && NoticeLevel::Warn < NoticeLevel::Severe);
        assert_eq!(NoticeLevel::Remind.next(), Some(NoticeLevel::Warn));
        assert_eq!(NoticeLevel::Severe.next(), None);
        for l in NoticeLevel::ALL {
            assert_eq!(l.as_str().parse::<NoticeLevel>(), Ok(l));
        }
        assert_eq!(NoticeLevel::Severe.colour(), "红色");
    }
}

crate::string_enum!(Light, "信号灯", {
    None => "none",
    Green => "green",
    Yellow => "yellow",
    Red => "red",
});

crate::string_enum!(@from_str NoticeLevel, "督办级别");
