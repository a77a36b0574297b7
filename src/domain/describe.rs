//! Words for people: statuses and recurrence rules, shared by the command
//! line and the TUI.

use super::classify::Status;
use super::diff::Clock;
use super::ical::CalDate;
use super::invite::Invite;
use calcard::icalendar::{ICalendarFrequency, ICalendarRecurrenceRule, ICalendarWeekday};

/// The status in words.
pub fn status_words(status: Status) -> &'static str {
    match status {
        Status::New => "new invitation",
        Status::Update => "update to an event in your calendar",
        Status::Reschedule => "rescheduled: please answer again",
        Status::Poll => "the organizer asks for your answer again",
        Status::Outdated => "outdated: a newer version is in your calendar",
        Status::Duplicate => "already processed",
        Status::Cancel(_) => "CANCELLED by the organizer",
        Status::Cancelled => "cancellation already applied",
        Status::Uninvited => "you were removed from this event",
        Status::OrganizerChanged => "WARNING: the organizer changed",
        Status::NotInvited => "you are not invited",
        Status::Reply => "a reply from an attendee",
        Status::Publish => "published event (no answer expected)",
        Status::Invalid => "invalid invitation",
    }
}

fn weekday(w: &ICalendarWeekday) -> &'static str {
    match w {
        ICalendarWeekday::Monday => "Monday",
        ICalendarWeekday::Tuesday => "Tuesday",
        ICalendarWeekday::Wednesday => "Wednesday",
        ICalendarWeekday::Thursday => "Thursday",
        ICalendarWeekday::Friday => "Friday",
        ICalendarWeekday::Saturday => "Saturday",
        ICalendarWeekday::Sunday => "Sunday",
    }
}

fn ordinal(n: i16) -> String {
    match n {
        -1 => "last".to_string(),
        1 => "1st".to_string(),
        2 => "2nd".to_string(),
        3 => "3rd".to_string(),
        n => format!("{n}th"),
    }
}

/// `every 2 weeks on Monday, Wednesday, 10 times`, `every month on the last
/// Friday, until Mon 2025-03-03`.
pub fn recurrence_words(r: &ICalendarRecurrenceRule, clock: &Clock, invite: &Invite) -> String {
    let n = r.interval.unwrap_or(1).max(1);
    let unit = match r.freq {
        ICalendarFrequency::Yearly => "year",
        ICalendarFrequency::Monthly => "month",
        ICalendarFrequency::Weekly => "week",
        ICalendarFrequency::Daily => "day",
        ICalendarFrequency::Hourly => "hour",
        ICalendarFrequency::Minutely => "minute",
        ICalendarFrequency::Secondly => "second",
    };
    let mut s = if n == 1 {
        format!("every {unit}")
    } else {
        format!("every {n} {unit}s")
    };
    if !r.byday.is_empty() {
        let days: Vec<String> = r
            .byday
            .iter()
            .map(|d| match d.ordwk {
                Some(o) => format!("the {} {}", ordinal(o), weekday(&d.weekday)),
                None => weekday(&d.weekday).to_string(),
            })
            .collect();
        s.push_str(&format!(" on {}", days.join(", ")));
    }
    if !r.bymonthday.is_empty() {
        let days: Vec<String> = r.bymonthday.iter().map(|d| d.to_string()).collect();
        s.push_str(&format!(" on day {}", days.join(", ")));
    }
    if let Some(count) = r.count {
        s.push_str(&format!(", {count} times"));
    }
    if let Some(until) = &r.until
        && let Some(d) = CalDate::from_partial(until, None)
    {
        let text = match d {
            CalDate::Date(day) => day.format("%a %Y-%m-%d").to_string(),
            other => clock.format(&other, &invite.cal),
        };
        s.push_str(&format!(", until {text}"));
    }
    if matches!(
        r.freq,
        ICalendarFrequency::Secondly | ICalendarFrequency::Minutely
    ) {
        s.push_str(" (suspicious: very frequent)");
    }
    s
}
