//! Pairing the overrides of a big recurring series must not be quadratic:
//! an invitation with 1,990 overrides shown against a stored copy with the
//! same 1,990 (R2.4: pairs by RECURRENCE-ID instant). Speed targets live in
//! benchmarks; this test asserts the algorithmic property (doubling the
//! overrides must not come near quadrupling the time) and a very generous
//! absolute bound, and prints the measured times.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rsvp::domain::ports::CalendarStore;
use rsvp::inbox;
use support::memenv::MemEnv;

const ME: &str = "me@x.example";

/// A weekly series in Europe/Berlin with `n` occurrences moved to `hour`.
fn calendar(n: usize, method: Option<&str>, sequence: u32, hour: u32) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\n");
    if let Some(m) = method {
        let _ = write!(s, "METHOD:{m}\r\n");
    }
    s.push_str(
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
         END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\n\
         TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
         END:VTIMEZONE\r\n",
    );
    let head = |s: &mut String| {
        let _ = write!(
            s,
            "UID:big-series@x.example\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20250101T100000Z\r\n\
             ORGANIZER:mailto:org@x.example\r\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\n"
        );
    };
    s.push_str("BEGIN:VEVENT\r\n");
    head(&mut s);
    s.push_str(
        "DTSTART;TZID=Europe/Berlin:20250106T090000\r\nDURATION:PT1H\r\n\
         RRULE:FREQ=WEEKLY\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
    for i in 0..n {
        let day = start + chrono::Duration::weeks(i as i64 + 1);
        let d = day.format("%Y%m%d");
        s.push_str("BEGIN:VEVENT\r\n");
        head(&mut s);
        let _ = write!(
            s,
            "RECURRENCE-ID;TZID=Europe/Berlin:{d}T090000\r\n\
             DTSTART;TZID=Europe/Berlin:{d}T{hour:02}0000\r\nDURATION:PT1H\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n"
        );
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: <org@x.example>\r\nTo: <{ME}>\r\nSubject: big\r\nMessage-ID: <big@x.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n{}",
        calendar(n, Some("REQUEST"), 1, 11)
    )
    .into_bytes()
}

/// Time of `inbox::show` of an n-override invitation against a stored
/// copy with the same n overrides (the best of two runs).
fn show_time(n: usize) -> Duration {
    let m = MemEnv::new(&[ME]);
    m.store
        .create("big-series@x.example", calendar(n, None, 0, 10).as_bytes())
        .unwrap();
    let env = m.env();
    let raw = message(n);
    let mut best = Duration::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        let shown = inbox::show(&env, &raw).unwrap();
        best = best.min(started.elapsed());
        assert!(
            shown.stored.is_some(),
            "{:?} {:?}",
            shown.class.status,
            shown.class.warnings
        );
        assert!(
            shown.class.changes.len() >= n,
            "every moved occurrence is a change"
        );
    }
    best
}

/// Issue 8 item 11: show of ~2,000 overrides is not quadratic.
#[test]
fn r2_4_pairing_overrides_scales_linearly() {
    // 1,990 + master + VTIMEZONE stay under the 2,000-component limit (R9.7).
    let small = show_time(497);
    let big = show_time(1990);
    eprintln!("show with overrides: 497 -> {small:?}, 1990 -> {big:?}");
    // Linear: ~4x; quadratic: ~16x. 10x leaves room for a loaded machine.
    assert!(
        big < small * 10,
        "4x the overrides took {:.1}x the time ({small:?} -> {big:?})",
        big.as_secs_f64() / small.as_secs_f64()
    );
    assert!(
        big < Duration::from_secs(20),
        "1,990 overrides took {big:?}"
    );
}

/// Time of `inbox::apply_message` of an n-override update over a stored
/// copy with the same n overrides (the best of two runs, each on a fresh
/// calendar).
fn apply_time(n: usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..2 {
        let m = MemEnv::new(&[ME]);
        m.store
            .create("big-series@x.example", calendar(n, None, 0, 10).as_bytes())
            .unwrap();
        let env = m.env();
        let raw = message(n);
        let started = Instant::now();
        inbox::apply_message(&env, &raw).unwrap();
        best = best.min(started.elapsed());
        let stored = m
            .store
            .find_by_uid("big-series@x.example")
            .unwrap()
            .expect("stored");
        let text = String::from_utf8_lossy(&stored.data).replace("\r\n ", "");
        assert_eq!(
            text.matches("RECURRENCE-ID").count(),
            n,
            "every override is kept"
        );
    }
    best
}

/// Issue 8 item 11: applying ~2,000 overrides pairs each with its stored
/// counterpart by lookup (classify::StoredOverrides), not a scan.
#[test]
fn r2_8_applying_overrides_scales_linearly() {
    let small = apply_time(497);
    let big = apply_time(1990);
    eprintln!("apply with overrides: 497 -> {small:?}, 1990 -> {big:?}");
    assert!(
        big < small * 10,
        "4x the overrides cost {:.1}x the time: quadratic?",
        big.as_secs_f64() / small.as_secs_f64()
    );
    assert!(big < Duration::from_secs(60), "{big:?}");
}
