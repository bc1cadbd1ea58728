//! The holiday CSV parser: whatever it accepts, it writes back and reads again the same.
#![no_main]

use fazhi_domain::calendar::HolidayCalendar;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(calendar) = HolidayCalendar::parse_csv(text) {
        let written = calendar.to_csv();
        let again = HolidayCalendar::parse_csv(&written).expect("its own CSV reads back");
        assert_eq!(again.to_csv(), written);
    }
});
