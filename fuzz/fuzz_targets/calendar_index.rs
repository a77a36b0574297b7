//! Fuzz target: the calendar index's two readings of a stored object
//! (`domain::overlap::plain`, fast; `index_stored_fully`, calcard) agree
//! wherever the fast one answers, in two zones and three windows.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use rsvp::domain::identity::Identity;
use rsvp::domain::overlap::{index_stored, index_stored_fully, plain};

fuzz_target!(|data: &[u8]| {
    let me = Identity::new(None, &["me@example.com".to_string()]);
    let windows = [
        (Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0), Utc.with_ymd_and_hms(2110, 1, 1, 0, 0, 0)),
        (Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0), Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0)),
        (Utc.with_ymd_and_hms(2027, 3, 10, 9, 30, 0), Utc.with_ymd_and_hms(2027, 3, 10, 10, 0, 0)),
    ];
    for local in [chrono_tz::Tz::UTC, chrono_tz::Tz::Europe__Berlin] {
        if plain::read(data, local).is_none() {
            continue;
        }
        for (from, to) in windows {
            let (Some(from), Some(to)) = (from.single(), to.single()) else {
                continue;
            };
            assert_eq!(
                index_stored(data, &me, local, from, to),
                index_stored_fully(data, &me, local, from, to),
                "the readings differ in {local} for {from}..{to}"
            );
        }
    }
});
