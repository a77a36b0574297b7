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

/// Distinct TZID parameters used outside VTIMEZONE, in first-use order.
pub fn tzids_used(cal: &ICalendar) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for comp in &cal.components {
        if matches!(
            comp.component_type,
            calcard::icalendar::ICalendarComponentType::VTimezone
                | calcard::icalendar::ICalendarComponentType::Standard
                | calcard::icalendar::ICalendarComponentType::Daylight
        ) {
            continue;
        }
        for e in &comp.entries {
            if let Some(t) = e.tz_id() {
                if !out.iter().any(|o| o == t) {
                    out.push(t.to_string());
                }
            }
        }
    }
    out
}

/// Make sure `out` has a VTIMEZONE for every TZID it uses (R1.4, R8.9):
/// the source's own definition when it has one, else one generated from the
/// tz database covering [from, to]. Returns warnings for unresolvable TZIDs.
pub fn ensure_vtimezones(
    out: &mut ICalendar,
    source: &ICalendar,
    from: i64,
    to: i64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let defined: Vec<String> = out
        .timezones()
        .filter_map(|c| c.property(&calcard::icalendar::ICalendarProperty::Tzid))
        .filter_map(|e| {
            e.values
                .first()
                .and_then(|v| v.as_text())
                .map(str::to_string)
        })
        .collect();
    for tzid in tzids_used(out) {
        if defined.contains(&tzid) {
            continue;
        }
        let src = source.timezones().find(|c| {
            c.property(&calcard::icalendar::ICalendarProperty::Tzid)
                .and_then(|e| e.values.first())
                .and_then(|v| v.as_text())
                == Some(tzid.as_str())
        });
        if let Some(src) = src {
            // Copy the VTIMEZONE subtree into `out`, before the first
            // non-VTIMEZONE child.
            let tz_id = u32::try_from(out.components.len()).unwrap_or(u32::MAX);
            let mut comp = src.clone();
            let children = std::mem::take(&mut comp.component_ids);
            out.components.push(comp);
            let mut ids = Vec::new();
            for child in children {
                if let Some(c) = source.components.get(child as usize) {
                    let id = u32::try_from(out.components.len()).unwrap_or(u32::MAX);
                    let mut c = c.clone();
                    c.component_ids.clear();
                    out.components.push(c);
                    ids.push(id);
                }
            }
            if let Some(t) = out.components.get_mut(tz_id as usize) {
                t.component_ids = ids;
            }
            insert_first(out, tz_id);
            continue;
        }
        if out.add_timezone(&tzid, from, to).is_some() {
            continue;
        }
        match resolve_tzid(&tzid, source) {
            Some(tz) => {
                if let Some(id) = out.add_timezone(tz.name(), from, to) {
                    if let Some(c) = out.components.get_mut(id as usize) {
                        ical_set_tzid(c, &tzid);
                    }
                } else {
                    warnings.push(format!("no VTIMEZONE could be generated for TZID {tzid:?}"));
                }
            }
            None => warnings.push(format!("unknown time zone {tzid:?}: no VTIMEZONE included")),
        }
    }
    warnings
}

fn ical_set_tzid(c: &mut calcard::icalendar::ICalendarComponent, tzid: &str) {
    for e in &mut c.entries {
        if e.name == calcard::icalendar::ICalendarProperty::Tzid {
            e.values = vec![calcard::icalendar::ICalendarValue::Text(tzid.to_string())];
        }
    }
}

fn insert_first(out: &mut ICalendar, id: u32) {
    let pos = {
        let Some(root) = out.components.first() else {
            return;
        };
        root.component_ids
            .iter()
            .position(|cid| {
                out.components.get(*cid as usize).is_none_or(|c| {
                    c.component_type != calcard::icalendar::ICalendarComponentType::VTimezone
                })
            })
            .unwrap_or(root.component_ids.len())
    };
    if let Some(root) = out.components.first_mut() {
        root.component_ids.insert(pos, id);
    }
}
