//! "Today" for the business rules (late submissions, the inbox, traffic lights) is the
//! calendar date in the county's time zone, not UTC's: a task handed in at 01:30 Beijing
//! time on the day after its due date is late, although it is still the due date in UTC.
//!
//! The zone is a fixed UTC offset (Asia/Shanghai has had no daylight saving time since
//! 1991), configurable in minutes; the default is +08:00. Stored timestamps stay UTC
//! instants; only the edge (the web server, the command line) reads the clock and hands
//! the date down.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Minutes east of UTC of Asia/Shanghai (Beijing time).
pub const BEIJING_OFFSET_MINUTES: i32 = 8 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("时区偏移 {0} 分钟不在 -1439 至 +1439 之间")]
    OutOfRange(i32),
    #[error("时区“{0}”应写成 +08:00 这样的 UTC 偏移（符号、两位小时、冒号、两位分钟）")]
    Malformed(String),
}

/// The working time zone: a fixed offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(FixedOffset);

impl Zone {
    /// Asia/Shanghai (+08:00).
    pub fn beijing() -> Zone {
        // Evaluated at compile time: the offset is in range.
        const BEIJING: FixedOffset = match FixedOffset::east_opt(BEIJING_OFFSET_MINUTES * 60) {
            Some(offset) => offset,
            None => panic!("Beijing offset out of range"),
        };
        Zone(BEIJING)
    }

    /// A zone `minutes` east of UTC (negative: west), less than a day either way.
    pub fn from_offset_minutes(minutes: i32) -> Result<Zone, ZoneError> {
        minutes
            .checked_mul(60)
            .and_then(FixedOffset::east_opt)
            .map(Zone)
            .ok_or(ZoneError::OutOfRange(minutes))
    }

    /// Parses a UTC offset as written in the config file: `+08:00`, `-05:30`, `Z`.
    pub fn parse(text: &str) -> Result<Zone, ZoneError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("z") || t == "UTC" {
            return Zone::from_offset_minutes(0);
        }
        let malformed = || ZoneError::Malformed(text.to_string());
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(malformed()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(malformed)?;
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(malformed());
        }
        let (h, m): (i32, i32) = (
            h.parse().map_err(|_| malformed())?,
            m.parse().map_err(|_| malformed())?,
        );
        if m >= 60 {
            return Err(malformed());
        }
        Zone::from_offset_minutes(sign * (h * 60 + m))
    }

    pub fn offset_minutes(self) -> i32 {
        self.0.local_minus_utc() / 60
    }

    /// `+08:00`: the form [`Zone::parse`] reads.
    pub fn to_offset_string(self) -> String {
        self.0.to_string()
    }

    /// The calendar date of `instant` in this zone.
    pub fn date_of(self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.0).date_naive()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::beijing()
    }
}

/// The calendar date of `now` in `zone`.
pub fn today_in(zone: Zone, now: DateTime<Utc>) -> NaiveDate {
    zone.date_of(now)
}

/// Reads the system clock in a zone. The one place that decides "today".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    pub zone: Zone,
}

impl Clock {
    pub fn new(zone: Zone) -> Clock {
        Clock { zone }
    }

    /// Today's date in the clock's zone.
    pub fn today(self) -> NaiveDate {
        today_in(self.zone, Utc::now())
    }

    /// The date of an instant in the clock's zone (e.g. when something was stored).
    pub fn date_of(self, instant: DateTime<Utc>) -> NaiveDate {
        self.zone.date_of(instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .expect("test instant")
    }

    #[test]
    fn beijing_date_turns_at_16_utc() {
        let z = Zone::default();
        assert_eq!(z.offset_minutes(), 480);
        assert_eq!(
            today_in(z, at("2026-03-10T15:59:59Z")),
            NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
        );
        assert_eq!(
            today_in(z, at("2026-03-10T16:00:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()
        );
        assert_eq!(
            z.date_of(at("2026-03-10T17:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()
        );
    }

    #[test]
    fn offsets_parse_as_written_in_the_config_file() {
        assert_eq!(Zone::parse("+08:00").unwrap(), Zone::beijing());
        assert_eq!(Zone::parse(" -05:30 ").unwrap().offset_minutes(), -330);
        assert_eq!(Zone::parse("Z").unwrap().offset_minutes(), 0);
        assert_eq!(Zone::beijing().to_offset_string(), "+08:00");
        for bad in [
            "", "8", "+8:00", "+08", "+08:60", "北京", "+0８:00", "+24:00", "++08:00",
        ] {
            assert!(Zone::parse(bad).is_err(), "{bad:?} accepted");
        }
        let message = Zone::parse("北京").unwrap_err().to_string();
        assert!(message.contains("+08:00"), "{message}");
    }

    #[test]
    fn offsets_are_checked() {
        assert_eq!(Zone::from_offset_minutes(0).unwrap().offset_minutes(), 0);
        assert_eq!(
            Zone::from_offset_minutes(-300).unwrap().offset_minutes(),
            -300
        );
        assert_eq!(
            Zone::from_offset_minutes(1440),
            Err(ZoneError::OutOfRange(1440))
        );
        assert_eq!(
            Zone::from_offset_minutes(i32::MAX),
            Err(ZoneError::OutOfRange(i32::MAX))
        );
        let utc = Zone::from_offset_minutes(0).unwrap();
        assert_eq!(
            utc.date_of(at("2026-03-10T17:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
        );
    }
}
