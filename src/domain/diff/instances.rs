//! RECURRENCE-IDs indexed for pairing (R2.4): the same answers as
//! [`same_instance`](super::same_instance) against every indexed value, in
//! constant time per lookup, with each value resolved through the
//! time-zone database once. Pure.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::Clock;
use crate::domain::ical::CalDate;

/// A list of RECURRENCE-IDs (or other instants, e.g. EXDATEs) of one
/// calendar, indexed by what `same_instance` compares: DATE values by date,
/// floating times by wall clock, other DATE-TIMEs by instant (and by their
/// exact value when the instant cannot be resolved). Each map keeps the
/// first position for its key, so `find` returns the first match, as a
/// linear search would.
#[derive(Debug, Default)]
pub struct InstanceIndex {
    /// DATE values.
    dates: HashMap<NaiveDate, usize>,
    /// DATE-TIME values by their calendar date (matched by a DATE).
    days_of_times: HashMap<NaiveDate, usize>,
    /// Floating DATE-TIMEs by wall clock (matched by another floating time).
    floating: HashMap<NaiveDateTime, usize>,
    /// Floating DATE-TIMEs by instant (matched by a UTC or zoned time).
    floating_instants: HashMap<DateTime<Utc>, usize>,
    /// UTC and zoned DATE-TIMEs by instant.
    fixed_instants: HashMap<DateTime<Utc>, usize>,
    /// DATE-TIMEs whose instant cannot be resolved, by exact value.
    unresolved: HashMap<CalDate, usize>,
    /// Every DATE-TIME by exact value (matched by an unresolvable value).
    exact: HashMap<CalDate, usize>,
}

fn keep_first<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K, i: usize) {
    map.entry(key).or_insert(i);
}

impl InstanceIndex {
    /// Index `values` (None entries are never found) of calendar `cal`.
    pub fn new(
        values: impl IntoIterator<Item = Option<CalDate>>,
        cal: &calcard::icalendar::ICalendar,
        clock: &Clock,
    ) -> InstanceIndex {
        let mut index = InstanceIndex::default();
        for (i, value) in values.into_iter().enumerate() {
            let Some(value) = value else { continue };
            if let CalDate::Date(d) = value {
                keep_first(&mut index.dates, d, i);
                continue;
            }
            keep_first(&mut index.days_of_times, value.naive().date(), i);
            match clock.instant(&value, cal) {
                Some(t) if matches!(value, CalDate::Floating(_)) => {
                    keep_first(&mut index.floating_instants, t, i);
                }
                Some(t) => keep_first(&mut index.fixed_instants, t, i),
                None => keep_first(&mut index.unresolved, value.clone(), i),
            }
            if let CalDate::Floating(t) = value {
                keep_first(&mut index.floating, t, i);
            }
            keep_first(&mut index.exact, value, i);
        }
        index
    }

    /// The position of the first indexed value that is the same instance
    /// as `value` of calendar `cal`, as `same_instance(indexed, value)`.
    pub fn find(
        &self,
        value: &CalDate,
        cal: &calcard::icalendar::ICalendar,
        clock: &Clock,
    ) -> Option<usize> {
        let mut hits: Vec<Option<usize>> = Vec::with_capacity(3);
        match value {
            CalDate::Date(d) => {
                hits.push(self.dates.get(d).copied());
                hits.push(self.days_of_times.get(d).copied());
            }
            _ => {
                hits.push(self.dates.get(&value.naive().date()).copied());
                let floating = matches!(value, CalDate::Floating(_));
                if let CalDate::Floating(t) = value {
                    hits.push(self.floating.get(t).copied());
                }
                match clock.instant(value, cal) {
                    Some(t) => {
                        hits.push(self.fixed_instants.get(&t).copied());
                        if !floating {
                            hits.push(self.floating_instants.get(&t).copied());
                        }
                        // An indexed value without an instant is compared
                        // exactly (a floating pair by wall clock, above).
                        if !floating {
                            hits.push(self.unresolved.get(value).copied());
                        }
                    }
                    None => {
                        // Exact comparison with everything but a floating
                        // pair, which compares wall clocks (above).
                        if !floating {
                            hits.push(self.exact.get(value).copied());
                        }
                    }
                }
            }
        }
        hits.into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diff::same_instance;
    use crate::domain::ical;

    fn cal(body: &str) -> calcard::icalendar::ICalendar {
        let s = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{body}END:VCALENDAR\r\n");
        ical::parse(&s).unwrap().calendars.remove(0)
    }

    fn values() -> Vec<CalDate> {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y%m%d").unwrap();
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").unwrap();
        let zoned = |tzid: &str, s: &str| CalDate::Zoned {
            tzid: tzid.into(),
            local: t(s),
        };
        vec![
            CalDate::Date(d("20250106")),
            CalDate::Date(d("20250107")),
            CalDate::Floating(t("20250106T090000")),
            CalDate::Floating(t("20250106T080000")),
            CalDate::Utc(t("20250106T080000")),
            CalDate::Utc(t("20250107T080000")),
            zoned("Europe/Berlin", "20250106T090000"),
            zoned("Europe/London", "20250106T080000"),
            zoned("America/New_York", "20250106T030000"),
            zoned("Custom/Zone", "20250106T090000"),
            zoned("No/Such/Zone", "20250106T090000"),
            zoned("No/Such/Zone", "20250106T100000"),
            // In the spring-forward gap: no instant.
            CalDate::Floating(t("20250330T023000")),
            zoned("Europe/Berlin", "20250330T023000"),
        ]
    }

    /// R2.4: the index finds exactly what a linear scan with
    /// `same_instance` finds (the first match), across two calendars that
    /// resolve TZIDs differently, with every subset order.
    #[test]
    fn r2_4_index_agrees_with_same_instance() {
        let clock = Clock {
            local: chrono_tz::Europe::Berlin,
        };
        let with_custom = cal(
            "BEGIN:VTIMEZONE\r\nTZID:Custom/Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
             TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        );
        let plain = cal("");
        let all = values();
        for (cal_a, cal_b) in [
            (&plain, &plain),
            (&with_custom, &plain),
            (&plain, &with_custom),
        ] {
            for rotate in 0..all.len() {
                let mut indexed = all.clone();
                indexed.rotate_left(rotate);
                let index = InstanceIndex::new(indexed.iter().cloned().map(Some), cal_a, &clock);
                for b in &all {
                    let linear = indexed
                        .iter()
                        .position(|a| same_instance(a, cal_a, b, cal_b, &clock));
                    assert_eq!(index.find(b, cal_b, &clock), linear, "{b:?} in {indexed:?}");
                }
            }
        }
    }

    #[test]
    fn none_entries_keep_positions_and_are_never_found() {
        let clock = Clock {
            local: chrono_tz::Europe::Berlin,
        };
        let c = cal("");
        let v = values();
        let index = InstanceIndex::new([None, Some(v[4].clone())], &c, &clock);
        assert_eq!(index.find(&v[4], &c, &clock), Some(1));
        assert_eq!(index.find(&v[5], &c, &clock), None);
    }
}
