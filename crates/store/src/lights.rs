//! The traffic light (红黄绿灯) of a stored task, as the lists, the schedule and the
//! overview show it.

use chrono::NaiveDate;
use fazhi_domain::calendar::HolidayCalendar;
use fazhi_domain::clock::Clock;
use fazhi_domain::supervision::{LightState, traffic_light};

use crate::tasks::TaskSummary;

impl TaskSummary {
    /// The light on `today` (the county's date). A done task's finishing day is the day
    /// of its last step, on the county's clock.
    pub fn light(
        &self,
        calendar: &HolidayCalendar,
        warn_workdays: u32,
        today: NaiveDate,
    ) -> LightState {
        let finished_on = self
            .status
            .is_done()
            .then(|| self.last_event_at.map(|at| Clock::default().date_of(at)))
            .flatten();
        traffic_light(
            self.status,
            self.due_on,
            self.was_late,
            finished_on,
            today,
            calendar,
            warn_workdays,
        )
    }
}
