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
        // COUNT includes the occurrences EXDATE removes (RFC 5545 §3.8.5.1):
        // say how many are left and how many were cancelled.
        let cancelled = cancelled_count(invite);
        let left = u64::from(count).saturating_sub(cancelled as u64);
        if cancelled > 0 {
            s.push_str(&format!(", {left} times, {cancelled} cancelled"));
        } else {
            s.push_str(&format!(", {count} times"));
        }
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

/// Occurrences of the series removed by EXDATE or cancelled one by one
/// (an override with STATUS:CANCELLED).
fn cancelled_count(invite: &Invite) -> usize {
    let excluded = invite.master().map_or(0, |m| m.exdates().len());
    let cancelled = invite
        .overrides()
        .iter()
        .filter(|o| o.is_cancelled())
        .count();
    excluded + cancelled
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::domain::ical;

    #[test]
    fn the_repeat_count_leaves_out_cancelled_occurrences() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T080000Z\r\nRRULE:FREQ=WEEKLY;COUNT=13\r\nEXDATE:20250113T080000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let cal = ical::parse(text).unwrap().calendars.remove(0);
        let invite = Invite::from_calendar(cal, None).unwrap().remove(0);
        let rule = invite.master().unwrap().rrule().unwrap();
        let clock = Clock {
            local: chrono_tz::Europe::Berlin,
        };
        assert_eq!(
            recurrence_words(&rule, &clock, &invite),
            "every week, 12 times, 1 cancelled"
        );
    }
}
