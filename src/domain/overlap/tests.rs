use super::*;
use crate::domain::ical;
use chrono::TimeZone;

fn inv(body: &str) -> Invite {
    let s = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{body}END:VCALENDAR\r\n");
    Invite::from_calendar(ical::parse(&s).unwrap().calendars.remove(0), None)
        .unwrap()
        .remove(0)
}

fn ev(extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:S\r\n{extra}END:VEVENT\r\n"
    )
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn wide() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc(2000, 1, 1, 0, 0), utc(2100, 1, 1, 0, 0))
}

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn all(_: Comp<'_>) -> bool {
    true
}

#[test]
fn single_event_is_one_occurrence_with_known_end() {
    let i = inv(&ev(
        "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\n",
    ));
    let (from, to) = wide();
    let x = expand(&i, BERLIN, from, to, &all);
    assert_eq!(x.occurrences.len(), 1);
    assert_eq!(x.occurrences[0].start, utc(2025, 1, 6, 8, 0));
    assert_eq!(x.occurrences[0].end, utc(2025, 1, 6, 9, 0));
    assert_eq!(x.last_end, Some(utc(2025, 1, 6, 9, 0)));
    assert!(!x.capped);
    assert!(x.suspicious.is_none());
}

/// Weekly at 09:00 Berlin across the March DST change: wall clock is kept.
#[test]
fn weekly_rule_keeps_wall_clock_across_dst() {
    let i = inv(&ev(
        "DTSTART;TZID=Europe/Berlin:20250324T090000\r\nDTEND;TZID=Europe/Berlin:20250324T100000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n",
    ));
    let (from, to) = wide();
    let x = expand(&i, chrono_tz::UTC, from, to, &all);
    let starts: Vec<_> = x.occurrences.iter().map(|o| o.start).collect();
    assert_eq!(starts, vec![utc(2025, 3, 24, 8, 0), utc(2025, 3, 31, 7, 0)]);
    assert_eq!(x.occurrences[1].end, utc(2025, 3, 31, 8, 0));
    assert_eq!(x.last_end, Some(utc(2025, 3, 31, 8, 0)));
}

/// Windows zone names resolve through `tz` (not calcard's own resolver).
#[test]
fn windows_tzid_resolves() {
    let i = inv(&ev(
        "DTSTART;TZID=W. Europe Standard Time:20250106T090000\r\nDTEND;TZID=W. Europe Standard Time:20250106T093000\r\n",
    ));
    let (from, to) = wide();
    let x = expand(&i, chrono_tz::UTC, from, to, &all);
    assert_eq!(x.occurrences[0].start, utc(2025, 1, 6, 8, 0));
    assert_eq!(x.occurrences[0].end, utc(2025, 1, 6, 8, 30));
}

#[test]
fn window_and_exdate_and_override() {
    let body = format!(
        "{}{}",
        ev(
            "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20250107T080000Z\r\n"
        ),
        ev(
            "RECURRENCE-ID:20250108T080000Z\r\nDTSTART:20250108T120000Z\r\nDTEND:20250108T130000Z\r\n"
        )
    );
    let i = inv(&body);
    let x = expand(
        &i,
        BERLIN,
        utc(2025, 1, 7, 0, 0),
        utc(2025, 1, 9, 0, 0),
        &all,
    );
    let starts: Vec<_> = x.occurrences.iter().map(|o| o.start).collect();
    assert_eq!(starts, vec![utc(2025, 1, 8, 12, 0)], "{x:?}");
    assert_eq!(x.last_end, Some(utc(2025, 1, 10, 9, 0)));
    // A cancelled override drops out when `keep` refuses it.
    let keep = |c: Comp<'_>| c.recurrence_id().is_none();
    let x = expand(
        &i,
        BERLIN,
        utc(2025, 1, 7, 0, 0),
        utc(2025, 1, 9, 0, 0),
        &keep,
    );
    assert!(x.occurrences.is_empty(), "{x:?}");
}

#[test]
fn all_day_event_is_read_in_local_zone() {
    let i = inv(&ev("DTSTART;VALUE=DATE:20250106\r\n"));
    let (from, to) = wide();
    let x = expand(&i, BERLIN, from, to, &all);
    assert_eq!(x.occurrences[0].start, utc(2025, 1, 5, 23, 0));
    assert_eq!(x.occurrences[0].end, utc(2025, 1, 6, 23, 0));
    let one = single(&i, i.primary().unwrap(), BERLIN).unwrap();
    assert_eq!(one.end, utc(2025, 1, 6, 23, 0));
}

/// T58, R9.7: an unbounded SECONDLY rule is capped and flagged, quickly.
#[test]
fn t58_secondly_rule_is_capped_and_flagged() {
    let i = inv(&ev(
        "DTSTART:20250106T080000Z\r\nDTEND:20250106T080001Z\r\nRRULE:FREQ=SECONDLY\r\n",
    ));
    let (from, to) = wide();
    let started = std::time::Instant::now();
    let x = expand(&i, BERLIN, from, to, &all);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(x.capped);
    assert!(x.occurrences.len() <= MAX_EXPANSION);
    assert!(x.occurrences.len() > 100);
    assert_eq!(x.last_end, None);
    assert!(x.suspicious.is_some());
    let i = inv(&ev(
        "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\nRRULE:FREQ=DAILY;COUNT=100000000\r\n",
    ));
    let x = expand(&i, BERLIN, from, to, &all);
    assert!(x.capped);
    assert_eq!(x.last_end, None, "a cut series has no known end");
}

/// R9.7: huge BY lists are not expanded at all.
#[test]
fn t58_by_list_bomb_is_not_expanded() {
    let mins: Vec<String> = (0..60).map(|m| m.to_string()).collect();
    let hours: Vec<String> = (0..24).map(|m| m.to_string()).collect();
    let rule = format!(
        "RRULE:FREQ=YEARLY;BYHOUR={};BYMINUTE={};BYSECOND={}\r\n",
        hours.join(","),
        mins.join(","),
        mins.join(",")
    );
    let i = inv(&ev(&format!(
        "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\n{rule}"
    )));
    let (from, to) = wide();
    let x = expand(&i, BERLIN, from, to, &all);
    assert!(x.capped);
    assert_eq!(x.occurrences.len(), 1);
    assert!(x.suspicious.unwrap().contains("too large"));
}

#[test]
fn busy_ignores_cancelled_transparent_and_declined() {
    let me = Identity::new(None, &["me@x.example".to_string()]);
    let base = "DTSTART:20250106T080000Z\r\n";
    let cases = [
        ("", true),
        ("STATUS:CANCELLED\r\n", false),
        ("TRANSP:TRANSPARENT\r\n", false),
        ("TRANSP:OPAQUE\r\n", true),
        ("ATTENDEE;PARTSTAT=DECLINED:mailto:ME@x.example\r\n", false),
        (
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@x.example\r\nATTENDEE;PARTSTAT=DECLINED:mailto:other@x.example\r\n",
            true,
        ),
    ];
    for (extra, busy) in cases {
        let i = inv(&ev(&format!("{base}{extra}")));
        assert_eq!(is_busy(i.primary().unwrap(), &me), busy, "{extra}");
    }
}

#[test]
fn overlapping_finds_intersections_not_touching() {
    let o = |h0: u32, h1: u32| Occurrence {
        comp_id: 0,
        start: utc(2025, 1, 6, h0, 0),
        end: utc(2025, 1, 6, h1, 0),
    };
    let others = vec![o(6, 8), o(7, 12), o(9, 10), o(10, 11), o(13, 14)];
    assert_eq!(
        overlapping(&[o(8, 10)], &others, &|_| false, 10),
        vec![1, 2]
    );
    assert_eq!(
        overlapping(&[o(8, 10), o(13, 15)], &others, &|_| false, 10),
        vec![1, 2, 4]
    );
    assert_eq!(
        overlapping(&[o(8, 10), o(13, 15)], &others, &|_| false, 2),
        vec![1, 2]
    );
    assert!(overlapping(&[o(14, 16)], &others, &|_| false, 10).is_empty());
    assert_eq!(overlapping(&[o(8, 10)], &others, &|i| i == 1, 10), vec![2]);
    // A zero-length event overlaps nothing.
    assert!(overlapping(&[o(9, 9)], &others, &|_| false, 10).is_empty());
}
