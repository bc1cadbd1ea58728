//! Working-day calendar (法定节假日与调休).
//!
//! China's working days are not "Monday to Friday": every year the State Council
//! (国务院办公厅) publishes an arrangement that turns some weekdays into days off
//! (放假/调休/补休) and some weekends into working days (调休上班). Deadlines such as
//! "审查规范性文件应在 N 个工作日内完成" must be counted on that calendar.
//!
//! Rules implemented here:
//! * A date is a **working day** if it is listed as [`DayKind::Workday`], or if it is
//!   Monday–Friday and not listed as [`DayKind::Off`]. Everything else is a rest day.
//! * A year is **covered** only when its arrangement has been entered (see
//!   [`HolidayCalendar::is_covered`]). Queries that need a day of an uncovered year
//!   fail with [`CalendarError::YearNotCovered`]: an unpublished year (e.g. 2027 before
//!   the notice) must never be guessed as "plain weekends", because that would silently
//!   give wrong deadlines around 元旦 and 春节.
//!
//! The data format is the CSV shipped in `data/calendar/cn-holidays.csv`:
//! `date,kind,name` with `kind` = `off` | `workday`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Prefix of the entry names that mark a year's arrangement as published.
const SPRING_FESTIVAL: &str = "春节";

/// The header line that every calendar CSV must start with.
const CSV_HEADER: &str = "date,kind,name";

/// Where a rejected entry came from, so error messages can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntrySource {
    /// 1-based physical line of the CSV text (header is line 1).
    Line(usize),
    /// 1-based position in the list passed to [`HolidayCalendar::add_entries`].
    Entry(usize),
    /// An entry of another calendar passed to [`HolidayCalendar::merge`].
    Merge,
}

impl fmt::Display for EntrySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntrySource::Line(n) => write!(f, "节假日数据 CSV 第 {n} 行"),
            EntrySource::Entry(n) => write!(f, "新增的第 {n} 条节假日条目"),
            EntrySource::Merge => f.write_str("合并的节假日数据"),
        }
    }
}

/// Errors of reading calendar data or of querying a year whose arrangement is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("节假日数据缺少表头：第 {line} 行应为 `date,kind,name`，实际为 `{found}`")]
    MissingHeader { line: usize, found: String },

    #[error(
        "节假日数据 CSV 第 {line} 行：缺少 {field} 列（每行应为 `日期,类型,名称`，如 `2025-10-01,off,国庆节`）"
    )]
    MissingField { line: usize, field: &'static str },

    #[error("节假日数据 CSV 第 {line} 行：日期 `{value}` 无法识别，应为 YYYY-MM-DD 格式的有效日期")]
    BadDate { line: usize, value: String },

    #[error(
        "节假日数据 CSV 第 {line} 行：类型 `{value}` 无法识别，只能是“放假”（或 off）、“上班”（调休上班，或 workday）"
    )]
    UnknownKind { line: usize, value: String },

    #[error("{at}：{date} 的名称 `{name}` 无效：{reason}")]
    BadName {
        at: EntrySource,
        date: NaiveDate,
        name: String,
        reason: &'static str,
    },

    #[error(
        "{at}：{date}（{weekday}）标为 workday（调休上班），但调休上班日只能是周六或周日，请核对国务院办公厅通知",
        weekday = weekday_cn(.date.weekday())
    )]
    WorkdayNotWeekend { at: EntrySource, date: NaiveDate },

    #[error(
        "{at}：{date} 的安排与已有条目冲突：已有 `{existing_kind},{existing_name}`，又给出 `{found_kind},{found_name}`；同一日期只能有一种安排"
    )]
    ConflictingEntry {
        at: EntrySource,
        date: NaiveDate,
        existing_kind: DayKind,
        existing_name: String,
        found_kind: DayKind,
        found_name: String,
    },

    #[error(
        "{year}年的节假日安排尚未录入，无法判断该年哪些天是工作日；请先导入国务院办公厅发布的{year}年部分节假日安排"
    )]
    YearNotCovered { year: i32 },
}

/// How a listed date deviates from the plain Monday–Friday week; also the answer of
/// [`HolidayCalendar::day_kind`] for any date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Rest day: 放假/调休/补休 (or, as a query answer, an ordinary weekend).
    Off,
    /// Working day: 调休上班 (or, as a query answer, an ordinary weekday).
    Workday,
}

// The CSV tokens (`off` / `workday`).
crate::string_enum!(DayKind, "日期类型", { Off => "off", Workday => "workday" });

impl DayKind {
    /// Chinese label for display.
    pub fn label(self) -> &'static str {
        match self {
            DayKind::Off => "休息日",
            DayKind::Workday => "工作日",
        }
    }

    /// The CSV token, or the words of the notice the office types (放假 / 休息,
    /// 上班 / 调休上班 / 补班).
    fn parse(token: &str) -> Option<Self> {
        match token {
            "放假" | "休息" | "休息日" => Some(DayKind::Off),
            "上班" | "调休上班" | "补班" | "工作日" => Some(DayKind::Workday),
            other => other.parse().ok(),
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a State Council arrangement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayEntry {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// Holiday the entry belongs to, e.g. `春节`, `国庆节、中秋节`; for a `Workday` entry
    /// it names the holiday whose 调休 it is.
    pub name: String,
}

/// The working-day calendar: listed exceptions plus the set of years whose arrangement
/// is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    entries: BTreeMap<NaiveDate, DayEntry>,
    covered: BTreeSet<i32>,
}

static BUILTIN: LazyLock<HolidayCalendar> = LazyLock::new(|| {
    HolidayCalendar::parse_csv(include_str!("../../../data/calendar/cn-holidays.csv"))
        .expect("the shipped data/calendar/cn-holidays.csv must be valid")
});

impl HolidayCalendar {
    /// An empty calendar: no year is covered, so every query fails until data is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// The arrangements 2019–2026 shipped with the program.
    pub fn china_builtin() -> Self {
        BUILTIN.clone()
    }

    /// Reads `date,kind,name` CSV. Accepts a UTF-8 BOM, CRLF line ends and blank lines;
    /// the first non-blank line must be the header. A name containing `,` may be written
    /// bare (everything after the second comma is the name) or CSV-quoted.
    pub fn parse_csv(text: &str) -> Result<Self, CalendarError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.trim().is_empty());

        match lines.next() {
            Some((_, header)) if is_header(header) => {}
            Some((line, other)) => {
                return Err(CalendarError::MissingHeader {
                    line,
                    found: other.trim().to_owned(),
                });
            }
            None => {
                return Err(CalendarError::MissingHeader {
                    line: 1,
                    found: "（空）".to_owned(),
                });
            }
        }

        let mut batch = Vec::new();
        for (line, text) in lines {
            batch.push((EntrySource::Line(line), parse_row(line, text)?));
        }
        let mut calendar = Self::new();
        calendar.insert_batch(batch)?;
        Ok(calendar)
    }

    /// Writes the entries as CSV (header, LF line ends, sorted by date) that
    /// [`parse_csv`](Self::parse_csv) reads back to an equal calendar. Years covered only
    /// through [`declare_year`](Self::declare_year) are not representable in the format
    /// and must be declared again after reading.
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(32 * (self.entries.len() + 1));
        out.push_str(CSV_HEADER);
        out.push('\n');
        for e in self.entries.values() {
            out.push_str(&format!(
                "{},{},{}\n",
                e.date.format("%Y-%m-%d"),
                e.kind,
                quote_name(&e.name)
            ));
        }
        out
    }

    /// Adds a new arrangement (e.g. next year's notice). All-or-nothing: on error nothing
    /// is added. An identical duplicate of an existing entry is accepted; a different kind
    /// or name for an already listed date is a conflict. Names are trimmed.
    pub fn add_entries<I>(&mut self, entries: I) -> Result<(), CalendarError>
    where
        I: IntoIterator<Item = DayEntry>,
    {
        let batch = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| (EntrySource::Entry(i + 1), e))
            .collect();
        self.insert_batch(batch)
    }

    /// Adds all entries and covered years of `other`; all-or-nothing like
    /// [`add_entries`](Self::add_entries).
    pub fn merge(&mut self, other: &HolidayCalendar) -> Result<(), CalendarError> {
        let batch = other
            .entries
            .values()
            .map(|e| (EntrySource::Merge, e.clone()))
            .collect();
        self.insert_batch(batch)?;
        self.covered.extend(other.covered.iter().copied());
        Ok(())
    }

    /// Marks `year` as covered although it has no `春节…` entry — for the rare case the
    /// admin knows the year's arrangement is complete as entered. Prefer entering data.
    pub fn declare_year(&mut self, year: i32) {
        self.covered.insert(year);
    }

    /// Coverage rule: a year is covered when the data holds an entry dated in that year
    /// whose name starts with `春节`, or when it was declared with
    /// [`declare_year`](Self::declare_year).
    ///
    /// Why 春节: every State Council notice contains the Spring Festival arrangement, and
    /// 春节 (and its 调休) always falls between mid-January and February, so it is dated
    /// inside its own year. 元旦 is not usable: the 2019 notice lists 2018-12-29..31,
    /// which must not make 2018 look published.
    pub fn is_covered(&self, year: i32) -> bool {
        self.covered.contains(&year)
    }

    /// Covered years in ascending order.
    pub fn covered_years(&self) -> &BTreeSet<i32> {
        &self.covered
    }

    /// All listed entries, sorted by date.
    pub fn entries(&self) -> impl Iterator<Item = &DayEntry> + '_ {
        self.entries.values()
    }

    /// The raw listed entry of a date, if any (no coverage check: this is data lookup,
    /// not a working-day decision).
    pub fn entry(&self, date: NaiveDate) -> Option<&DayEntry> {
        self.entries.get(&date)
    }

    /// Working day or rest day.
    pub fn day_kind(&self, date: NaiveDate) -> Result<DayKind, CalendarError> {
        self.require_year(date.year())?;
        Ok(match self.entries.get(&date) {
            Some(e) => e.kind,
            None if is_weekend(date) => DayKind::Off,
            None => DayKind::Workday,
        })
    }

    pub fn is_workday(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.day_kind(date)? == DayKind::Workday)
    }

    /// Name of the holiday if `date` is a listed day off (e.g. `春节`); `None` for
    /// ordinary days, ordinary weekends and 调休上班 days (use [`entry`](Self::entry)
    /// to see which holiday a 调休上班 day belongs to).
    pub fn holiday_name(&self, date: NaiveDate) -> Result<Option<&str>, CalendarError> {
        self.require_year(date.year())?;
        Ok(self
            .entries
            .get(&date)
            .filter(|e| e.kind == DayKind::Off)
            .map(|e| e.name.as_str()))
    }

    /// The `n`-th working day strictly after `start`; `n == 0` returns `start` itself.
    /// E.g. 5 working days after 2025-09-26 is 2025-10-10. Only the days after `start`
    /// are examined, so `start` may lie in an uncovered year.
    pub fn add_workdays(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date = next_day(date)?;
            if self.is_workday(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// Number of working days `d` with `start < d <= end` (0 when `end <= start`).
    ///
    /// Convention: the start day is not counted, the end day is — the same as "期间开始的
    /// 当日不计入". So a 规范性文件 received on A and finished on B "took"
    /// `workdays_between(A, B)` working days, and
    /// `workdays_between(d, add_workdays(d, n)?) == n`.
    pub fn workdays_between(&self, start: NaiveDate, end: NaiveDate) -> Result<u32, CalendarError> {
        if end <= start {
            return Ok(0);
        }
        let first = next_day(start)?;
        for year in first.year()..=end.year() {
            self.require_year(year)?;
        }
        // Count Monday–Friday arithmetically, then apply the listed exceptions in range,
        // so long ranges cost O(entries in range) rather than O(days).
        let mut count = weekdays_in(first, end);
        for e in self.entries.range(first..=end).map(|(_, e)| e) {
            match (e.kind, is_weekend(e.date)) {
                (DayKind::Workday, true) => count += 1,
                (DayKind::Off, false) => count -= 1,
                // A workday on a weekday cannot be stored; an off weekend changes nothing.
                _ => {}
            }
        }
        // Never negative (every subtracted day was counted above) and below 2^32 for any
        // chrono date range; saturate instead of panicking all the same.
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Signed working-day distance for traffic lights:
    /// * `due >= today`: working days left after today up to and including `due`
    ///   (`workdays_between(today, due)`); `0` means today is the last working day
    ///   (or only rest days remain before `due`).
    /// * `due < today`: minus the working days elapsed after `due` up to and including
    ///   `today`; `-1` on the first working day after the due date.
    ///
    /// A due date on a rest day is taken literally; apply
    /// [`workday_on_or_after`](Self::workday_on_or_after) first for 顺延.
    pub fn workdays_until(&self, today: NaiveDate, due: NaiveDate) -> Result<i64, CalendarError> {
        if due >= today {
            Ok(i64::from(self.workdays_between(today, due)?))
        } else {
            Ok(-i64::from(self.workdays_between(due, today)?))
        }
    }

    /// `date` if it is a working day, else the next working day (期间届满日遇节假日顺延).
    pub fn workday_on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut d = date;
        while !self.is_workday(d)? {
            d = next_day(d)?;
        }
        Ok(d)
    }

    fn require_year(&self, year: i32) -> Result<(), CalendarError> {
        if self.is_covered(year) {
            Ok(())
        } else {
            Err(CalendarError::YearNotCovered { year })
        }
    }

    /// Validates a batch against itself and the current data, then commits it whole.
    fn insert_batch(&mut self, batch: Vec<(EntrySource, DayEntry)>) -> Result<(), CalendarError> {
        let mut staged: BTreeMap<NaiveDate, DayEntry> = BTreeMap::new();
        for (source, entry) in batch {
            let entry = validate(source, entry)?;
            let existing = staged
                .get(&entry.date)
                .or_else(|| self.entries.get(&entry.date));
            match existing {
                Some(e) if *e == entry => {}
                Some(e) => {
                    return Err(CalendarError::ConflictingEntry {
                        at: source,
                        date: entry.date,
                        existing_kind: e.kind,
                        existing_name: e.name.clone(),
                        found_kind: entry.kind,
                        found_name: entry.name,
                    });
                }
                None => {
                    staged.insert(entry.date, entry);
                }
            }
        }
        for (date, entry) in staged {
            if entry.name.starts_with(SPRING_FESTIVAL) {
                self.covered.insert(date.year());
            }
            self.entries.insert(date, entry);
        }
        Ok(())
    }
}

fn is_header(line: &str) -> bool {
    let mut fields = line.split(',').map(str::trim);
    ["date", "kind", "name"]
        .iter()
        .all(|want| fields.next().is_some_and(|f| f.eq_ignore_ascii_case(want)))
        && fields.next().is_none()
}

fn parse_row(line: usize, text: &str) -> Result<DayEntry, CalendarError> {
    let mut fields = text.splitn(3, ',').map(str::trim);
    let mut field = |name: &'static str| {
        fields
            .next()
            .filter(|f| !f.is_empty())
            .ok_or(CalendarError::MissingField { line, field: name })
    };
    let date_text = field("date")?;
    let kind_text = field("kind")?;
    let name = unquote(field("name")?);

    let date =
        NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| CalendarError::BadDate {
            line,
            value: date_text.to_owned(),
        })?;
    let kind = DayKind::parse(kind_text).ok_or_else(|| CalendarError::UnknownKind {
        line,
        value: kind_text.to_owned(),
    })?;
    Ok(DayEntry { date, kind, name })
}

/// Trims the name and enforces the data rules that make an entry meaningful.
fn validate(source: EntrySource, entry: DayEntry) -> Result<DayEntry, CalendarError> {
    let name = entry.name.trim();
    let bad_name = |reason| CalendarError::BadName {
        at: source,
        date: entry.date,
        name: entry.name.clone(),
        reason,
    };
    if name.is_empty() {
        return Err(bad_name("名称不能为空"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad_name("名称不能含换行等控制字符"));
    }
    // A 调休上班 on a weekday would be a no-op at best and a typo at worst.
    if entry.kind == DayKind::Workday && !is_weekend(entry.date) {
        return Err(CalendarError::WorkdayNotWeekend {
            at: source,
            date: entry.date,
        });
    }
    Ok(DayEntry {
        name: name.to_owned(),
        ..entry
    })
}

/// Strips CSV quoting (`"a,b"`, `""` for a quote); a bare field is returned as is.
fn unquote(field: &str) -> String {
    match field
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_owned(),
    }
}

fn quote_name(name: &str) -> String {
    if name.contains([',', '"']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_owned()
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The day after `date`; past chrono's last date no year can be covered.
fn next_day(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    date.succ_opt().ok_or(CalendarError::YearNotCovered {
        year: date.year() + 1,
    })
}

/// Monday–Friday days in `first..=last` (`first <= last`).
fn weekdays_in(first: NaiveDate, last: NaiveDate) -> i64 {
    let days = (last - first).num_days() + 1;
    let full_weeks = days / 7;
    let offset = i64::from(first.weekday().num_days_from_monday());
    // The remaining days start at `first`'s weekday; count those falling on Mon..Fri.
    let rest = (0..days % 7).filter(|i| (offset + i) % 7 < 5).count() as i64;
    full_weeks * 5 + rest
}

/// The day of the week in Chinese: `星期一` ….
pub fn weekday_cn(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn cal() -> HolidayCalendar {
        HolidayCalendar::china_builtin()
    }

    #[test]
    fn builtin_covers_2019_to_2026_only() {
        let c = cal();
        assert_eq!(
            c.covered_years().iter().copied().collect::<Vec<_>>(),
            (2019..=2026).collect::<Vec<_>>()
        );
        assert!(!c.is_covered(2018));
        assert!(!c.is_covered(2027));
    }

    #[test]
    fn official_national_day_2025_examples() {
        let c = cal();
        assert_eq!(c.add_workdays(d(2025, 9, 26), 5), Ok(d(2025, 10, 10)));
        assert_eq!(c.add_workdays(d(2025, 9, 26), 6), Ok(d(2025, 10, 11)));
        assert_eq!(c.add_workdays(d(2025, 9, 26), 1), Ok(d(2025, 9, 28)));
        assert_eq!(c.add_workdays(d(2025, 9, 26), 0), Ok(d(2025, 9, 26)));
        assert_eq!(c.is_workday(d(2025, 9, 28)), Ok(true));
        assert_eq!(c.is_workday(d(2025, 10, 11)), Ok(true));
        for day in 1..=8 {
            assert_eq!(c.is_workday(d(2025, 10, day)), Ok(false), "10-{day}");
        }
        assert_eq!(c.workdays_between(d(2025, 9, 26), d(2025, 10, 10)), Ok(5));
        assert_eq!(c.workdays_between(d(2025, 9, 26), d(2025, 10, 11)), Ok(6));
        assert_eq!(c.holiday_name(d(2025, 10, 6)), Ok(Some("国庆节、中秋节")));
        assert_eq!(c.holiday_name(d(2025, 9, 28)), Ok(None));
        assert_eq!(
            c.entry(d(2025, 9, 28)).map(|e| e.kind),
            Some(DayKind::Workday)
        );
    }

    #[test]
    fn year_2026_adjustments() {
        let c = cal();
        assert_eq!(c.is_workday(d(2026, 2, 14)), Ok(true)); // Saturday 调休上班
        assert_eq!(c.is_workday(d(2026, 10, 10)), Ok(true)); // Saturday 调休上班
        assert_eq!(c.is_workday(d(2026, 2, 16)), Ok(false)); // Monday 春节
        assert_eq!(c.day_kind(d(2026, 2, 16)), Ok(DayKind::Off));
        assert_eq!(c.holiday_name(d(2026, 2, 16)), Ok(Some("春节")));
    }

    #[test]
    fn spring_festival_2020_extension_is_off() {
        let c = cal();
        for day in [d(2020, 1, 31), d(2020, 2, 1), d(2020, 2, 2)] {
            assert_eq!(c.is_workday(day), Ok(false), "{day}");
        }
        assert_eq!(c.holiday_name(d(2020, 1, 31)), Ok(Some("春节(延长)")));
        assert_eq!(c.is_workday(d(2020, 2, 3)), Ok(true));
    }

    #[test]
    fn ordinary_days() {
        let c = cal();
        assert_eq!(c.is_workday(d(2025, 3, 15)), Ok(false)); // Saturday
        assert_eq!(c.is_workday(d(2025, 3, 16)), Ok(false)); // Sunday
        assert_eq!(c.is_workday(d(2025, 3, 12)), Ok(true)); // Wednesday
        assert_eq!(c.holiday_name(d(2025, 3, 15)), Ok(None));
        assert_eq!(c.workday_on_or_after(d(2025, 3, 15)), Ok(d(2025, 3, 17)));
        assert_eq!(c.workday_on_or_after(d(2025, 3, 12)), Ok(d(2025, 3, 12)));
        assert_eq!(c.workday_on_or_after(d(2025, 10, 1)), Ok(d(2025, 10, 9)));
    }

    #[test]
    fn workdays_until_is_signed() {
        let c = cal();
        let due = d(2025, 10, 10);
        assert_eq!(c.workdays_until(d(2025, 9, 26), due), Ok(5));
        assert_eq!(c.workdays_until(due, due), Ok(0));
        assert_eq!(c.workdays_until(d(2025, 10, 11), due), Ok(-1));
        assert_eq!(c.workdays_until(d(2025, 10, 13), due), Ok(-2));
        assert_eq!(c.workdays_between(due, d(2025, 9, 26)), Ok(0));
    }

    #[test]
    fn uncovered_years_are_reported() {
        let c = cal();
        fn not<T>(year: i32) -> Result<T, CalendarError> {
            Err(CalendarError::YearNotCovered { year })
        }
        assert_eq!(c.is_workday(d(2027, 3, 3)), not(2027));
        assert_eq!(c.day_kind(d(2018, 12, 30)), not(2018));
        assert_eq!(c.holiday_name(d(2018, 12, 30)), not(2018));
        assert_eq!(c.add_workdays(d(2026, 12, 30), 5), not(2027));
        assert_eq!(c.workdays_between(d(2026, 12, 1), d(2027, 1, 5)), not(2027));
        assert_eq!(c.workdays_between(d(2018, 12, 1), d(2019, 1, 5)), not(2018));
        assert_eq!(c.workdays_until(d(2027, 1, 5), d(2026, 12, 1)), not(2027));
        let msg = CalendarError::YearNotCovered { year: 2027 }.to_string();
        assert!(msg.starts_with("2027年的节假日安排尚未录入"), "{msg}");
        // The start day itself is never examined.
        assert_eq!(c.add_workdays(d(2018, 12, 31), 1), Ok(d(2019, 1, 2)));
        assert_eq!(c.workdays_between(d(2018, 12, 31), d(2019, 1, 2)), Ok(1));
    }

    fn parse_err(text: &str) -> CalendarError {
        HolidayCalendar::parse_csv(text).expect_err("should be rejected")
    }

    #[test]
    fn kinds_may_be_written_in_the_notice_words() {
        let c = HolidayCalendar::parse_csv(
            "date,kind,name\n2027-01-01,放假,元旦\n2027-01-02,休息,元旦\n2027-02-06,上班,春节\n2027-02-20,调休上班,春节\n",
        )
        .unwrap();
        assert_eq!(c.day_kind(d(2027, 1, 1)), Ok(DayKind::Off));
        assert_eq!(c.day_kind(d(2027, 1, 2)), Ok(DayKind::Off));
        assert_eq!(c.day_kind(d(2027, 2, 6)), Ok(DayKind::Workday));
        assert_eq!(c.day_kind(d(2027, 2, 20)), Ok(DayKind::Workday));
        assert!(matches!(
            parse_err("date,kind,name\n2027-01-01,假,元旦\n"),
            CalendarError::UnknownKind { .. }
        ));
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = parse_err("date,kind,name\n2025-01-01,off,元旦\n2025-02-30,off,春节\n");
        assert_eq!(
            e,
            CalendarError::BadDate {
                line: 3,
                value: "2025-02-30".into()
            }
        );
        assert!(e.to_string().contains("第 3 行"), "{e}");

        let e = parse_err("date,kind,name\r\n\r\n2025-01-01,holiday,元旦\r\n");
        assert_eq!(
            e,
            CalendarError::UnknownKind {
                line: 3,
                value: "holiday".into()
            }
        );

        // 2025-10-10 is a Friday.
        let e = parse_err("date,kind,name\n2025-10-10,workday,国庆节\n");
        assert!(matches!(
            e,
            CalendarError::WorkdayNotWeekend {
                at: EntrySource::Line(2),
                ..
            }
        ));
        assert!(
            e.to_string().contains("第 2 行") && e.to_string().contains("星期五"),
            "{e}"
        );

        let e = parse_err("2025-01-01,off,元旦\n");
        assert!(matches!(e, CalendarError::MissingHeader { line: 1, .. }));
        assert!(matches!(parse_err(""), CalendarError::MissingHeader { .. }));

        let e = parse_err("date,kind,name\n2025-01-04,off,元旦\n2025-01-04,workday,元旦\n");
        assert!(matches!(
            e,
            CalendarError::ConflictingEntry {
                at: EntrySource::Line(3),
                ..
            }
        ));
        assert!(e.to_string().contains("第 3 行"), "{e}");

        let e = parse_err("date,kind,name\n2025-01-01,off\n");
        assert_eq!(
            e,
            CalendarError::MissingField {
                line: 2,
                field: "name"
            }
        );
    }

    #[test]
    fn parse_accepts_bom_crlf_blank_lines_and_identical_duplicates() {
        let text =
            "\u{feff}date,kind,name\r\n\r\n2027-02-06,off,春节\r\n2027-02-06,off,春节\r\n\r\n";
        let c = HolidayCalendar::parse_csv(text).expect("valid");
        assert_eq!(c.entries().count(), 1);
        assert!(c.is_covered(2027));
    }

    #[test]
    fn csv_round_trip() {
        let c = cal();
        let back = HolidayCalendar::parse_csv(&c.to_csv()).expect("round trip");
        assert_eq!(back, c);

        let mut odd = HolidayCalendar::new();
        odd.add_entries([DayEntry {
            date: d(2030, 2, 4),
            kind: DayKind::Off,
            name: "春节,\"加长\"".into(),
        }])
        .expect("valid");
        assert_eq!(HolidayCalendar::parse_csv(&odd.to_csv()), Ok(odd));
    }

    #[test]
    fn merge_adds_a_year() {
        let mut c = cal();
        // Made-up 2027 arrangement (not the real notice).
        let new_year = HolidayCalendar::parse_csv(
            "date,kind,name\n2027-02-06,off,春节\n2027-02-07,workday,春节\n2027-02-08,off,春节\n",
        )
        .expect("valid");
        c.merge(&new_year).expect("no conflict");
        assert!(c.is_covered(2027));
        assert_eq!(c.is_workday(d(2027, 2, 7)), Ok(true)); // Sunday 调休上班
        assert_eq!(c.is_workday(d(2027, 2, 8)), Ok(false));
        assert_eq!(c.add_workdays(d(2026, 12, 30), 5), Ok(d(2027, 1, 6))); // made-up data lists no 元旦
        // Merging again is idempotent.
        c.merge(&new_year).expect("identical duplicates are fine");
    }

    #[test]
    fn conflicting_additions_are_rejected_atomically() {
        let mut c = cal();
        let before = c.clone();
        let err = c
            .add_entries([
                DayEntry {
                    date: d(2027, 2, 8),
                    kind: DayKind::Off,
                    name: "春节".into(),
                },
                DayEntry {
                    date: d(2025, 10, 11),
                    kind: DayKind::Off,
                    name: "国庆节".into(),
                },
            ])
            .expect_err("conflicts with the 2025 调休上班");
        assert!(matches!(
            err,
            CalendarError::ConflictingEntry {
                at: EntrySource::Entry(2),
                existing_kind: DayKind::Workday,
                ..
            }
        ));
        assert_eq!(c, before);

        let err = c
            .add_entries([DayEntry {
                date: d(2027, 2, 8),
                kind: DayKind::Off,
                name: "  ".into(),
            }])
            .expect_err("empty name");
        assert!(matches!(err, CalendarError::BadName { .. }));
    }

    #[test]
    fn declare_year_covers_without_data() {
        let mut c = cal();
        c.declare_year(2027);
        assert_eq!(c.is_workday(d(2027, 3, 3)), Ok(true));
    }

    #[test]
    fn weekdays_in_matches_naive_count() {
        let start = d(2025, 1, 1);
        for len in 0..30 {
            for shift in 0..7 {
                let first = start + chrono::Days::new(shift);
                let last = first + chrono::Days::new(len);
                let naive = first
                    .iter_days()
                    .take_while(|x| *x <= last)
                    .filter(|x| !is_weekend(*x))
                    .count() as i64;
                assert_eq!(weekdays_in(first, last), naive);
            }
        }
    }

    fn covered_date() -> impl Strategy<Value = NaiveDate> {
        let first = d(2019, 1, 1);
        let days = (d(2026, 12, 31) - first).num_days() as u64;
        (0..=days).prop_map(move |i| first + chrono::Days::new(i))
    }

    proptest! {
        #[test]
        fn parse_csv_never_panics(text in any::<String>()) {
            let _ = HolidayCalendar::parse_csv(&text);
        }

        #[test]
        fn parse_csv_never_panics_on_csv_like_text(
            text in "(date,kind,name\r?\n)?([0-9-]{0,12},(off|workday|x)?,[春节a,\" ]{0,5}\r?\n){0,6}"
        ) {
            let _ = HolidayCalendar::parse_csv(&text);
        }

        #[test]
        fn add_then_count_round_trips(start in covered_date(), n in 0u32..60) {
            let c = cal();
            match c.add_workdays(start, n) {
                Ok(end) => {
                    prop_assert_eq!(c.workdays_between(start, end), Ok(n));
                    if n > 0 {
                        prop_assert_eq!(c.is_workday(end), Ok(true));
                        prop_assert_eq!(c.workdays_until(start, end), Ok(i64::from(n)));
                        prop_assert_eq!(c.workdays_until(end, start), Ok(-i64::from(n)));
                    }
                }
                Err(e) => prop_assert_eq!(e, CalendarError::YearNotCovered { year: 2027 }),
            }
        }

        #[test]
        fn workdays_between_agrees_with_day_by_day(a in covered_date(), len in 0u64..400) {
            let c = cal();
            let b = a + chrono::Days::new(len);
            let slow = a.iter_days().skip(1).take_while(|x| *x <= b)
                .map(|x| c.is_workday(x))
                .collect::<Result<Vec<_>, _>>();
            match slow {
                Ok(days) => prop_assert_eq!(
                    c.workdays_between(a, b),
                    Ok(days.into_iter().filter(|w| *w).count() as u32)
                ),
                Err(e) => prop_assert_eq!(c.workdays_between(a, b), Err(e)),
            }
        }
    }
}
