//! Time zones: TZID resolution and VTIMEZONE generation (R1.4, R3.9, R8.9).
//! (Interim version; the full one lands from the `config` branch.)

use super::ical::CalDate;
use calcard::icalendar::ICalendar;
use chrono::{DateTime, TimeZone, Utc};
use std::str::FromStr;

/// Resolve a TZID to a tz database zone: IANA names, Windows names,
/// Outlook display names, the calendar's own VTIMEZONE.
pub fn resolve_tzid(tzid: &str, cal: &ICalendar) -> Option<chrono_tz::Tz> {
    let t = tzid.trim().trim_matches('"');
    if let Ok(tz) = chrono_tz::Tz::from_str(t) {
        return Some(tz);
    }
    if let Some(calcard::common::timezone::Tz::Tz(tz)) = cal.build_tz_resolver().resolve(t) {
        return Some(tz);
    }
    match calcard::common::timezone::Tz::from_str(t) {
        Ok(calcard::common::timezone::Tz::Tz(tz)) => Some(tz),
        _ => None,
    }
}

/// The instant of a date value; floating and DATE values are read in `fallback`.
pub fn to_instant(
    value: &CalDate,
    cal: &ICalendar,
    fallback: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    match value {
        CalDate::Utc(t) => Some(Utc.from_utc_datetime(t)),
        CalDate::Date(_) | CalDate::Floating(_) => fallback
            .from_local_datetime(&value.naive())
            .earliest()
            .map(|d| d.with_timezone(&Utc)),
        CalDate::Zoned { tzid, local } => {
            let tz = resolve_tzid(tzid, cal).unwrap_or(fallback);
            tz.from_local_datetime(local)
                .earliest()
                .or_else(|| {
                    // In the spring gap: use the offset from before the gap (R8.8).
                    tz.from_local_datetime(&(*local + chrono::Duration::hours(1)))
                        .earliest()
                        .map(|d| d - chrono::Duration::hours(1))
                })
                .map(|d| d.with_timezone(&Utc))
        }
    }
}
