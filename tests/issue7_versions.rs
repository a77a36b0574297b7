//! Issue 7, "versions and updates": behaviours the CalendarServer and
//! Cyrus attendee-side suites expect, each on a fixture written here.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use rsvp::domain::classify::{self, Context, Status};
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::domain::invite::{Invite, PartStat};
use support::engine::{self, stored};
use support::memenv::MemEnv;

fn cal(method: &str, body: &str) -> String {
    let m = if method.is_empty() {
        String::new()
    } else {
        format!("METHOD:{method}\r\n")
    };
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//v//EN\r\n{m}{body}END:VCALENDAR\r\n")
}

fn mail(ics: &str, method: &str) -> Vec<u8> {
    format!(
        "From: <org@example.org>\r\nTo: <me@example.com>\r\nSubject: x\r\nMessage-ID: <v{n}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method={method}; charset=UTF-8\r\n\r\n{ics}",
        n = ics.len()
    )
    .into_bytes()
}

fn ev(seq: u32, stamp: &str, me: &str, extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:v1\r\nSEQUENCE:{seq}\r\nDTSTAMP:{stamp}\r\nDTSTART:20270301T090000Z\r\nDURATION:PT1H\r\nSUMMARY:Plan\r\nORGANIZER:mailto:org@example.org\r\n{me}{extra}END:VEVENT\r\n"
    )
}

const ME_ASKED: &str = "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:me@example.com\r\n";
const ME_ACCEPTED: &str = "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com\r\n";

fn accepted_env() -> MemEnv {
    let m = MemEnv::new(&["me@example.com"]);
    let raw = mail(
        &cal("REQUEST", &ev(1, "20250101T000000Z", ME_ASKED, "")),
        "REQUEST",
    );
    engine::respond(&m, &raw, PartStat::Accepted, None, false).expect("answered");
    m
}

fn partstat(m: &MemEnv) -> Option<PartStat> {
    let st = stored(m, "v1")?;
    st.master()?
        .attendees()
        .into_iter()
        .find(|a| a.email.as_deref() == Some("me@example.com"))
        .map(|a| a.partstat)
}

/// A REQUEST that raises SEQUENCE and sets me back to NEEDS-ACTION with
/// RSVP=TRUE asks me again (CalendarServer attendee_needs_action, poll).
#[test]
fn raised_sequence_back_to_needs_action_asks_again() {
    let m = accepted_env();
    let raw = mail(
        &cal(
            "REQUEST",
            &ev(
                2,
                "20250102T000000Z",
                ME_ASKED,
                "DESCRIPTION:new agenda\r\n",
            ),
        ),
        "REQUEST",
    );
    let (shown, _) = engine::apply(&m, &raw).expect("applied");
    assert_eq!(shown.class.status, Status::Reschedule);
    assert_eq!(partstat(&m), Some(PartStat::NeedsAction));
    // Sent with my answer (Google): the answer is kept.
    let m = accepted_env();
    let raw = mail(
        &cal(
            "REQUEST",
            &ev(
                2,
                "20250102T000000Z",
                ME_ACCEPTED,
                "DESCRIPTION:new agenda\r\n",
            ),
        ),
        "REQUEST",
    );
    let (shown, _) = engine::apply(&m, &raw).expect("applied");
    assert_eq!(shown.class.status, Status::Update);
    assert_eq!(partstat(&m), Some(PartStat::Accepted));
}

/// A copy without METHOD, or with a lower SEQUENCE, never overwrites a
/// newer stored event.
#[test]
fn methodless_or_older_copy_never_overwrites_a_newer_event() {
    let m = accepted_env();
    let before = stored(&m, "v1").map(|i| rsvp::domain::ical::write(&i.cal));
    for ics in [
        cal("", &ev(1, "20241201T000000Z", ME_ASKED, "SUMMARY:Old\r\n")),
        cal("", &ev(0, "20250301T000000Z", ME_ASKED, "")),
        cal("PUBLISH", &ev(0, "20250301T000000Z", ME_ASKED, "")),
    ] {
        let raw = ics.into_bytes();
        let shown = engine::show(&m, &raw).expect("shown");
        assert_eq!(
            shown.class.status,
            Status::Outdated,
            "{:?}",
            shown.class.warnings
        );
        assert!(engine::apply(&m, &raw).is_err());
        assert_eq!(
            stored(&m, "v1").map(|i| rsvp::domain::ical::write(&i.cal)),
            before
        );
    }
}

/// Same SEQUENCE and DTSTAMP as the stored copy but different content: not
/// a silent duplicate; shown with a warning, and the user may apply it.
#[test]
fn same_revision_with_different_content_is_shown_not_dropped() {
    let m = accepted_env();
    let raw = mail(
        &cal(
            "REQUEST",
            &ev(1, "20250101T000000Z", ME_ASKED, "")
                .replace("DTSTART:20270301T090000Z", "DTSTART:20270301T100000Z"),
        ),
        "REQUEST",
    );
    let shown = engine::show(&m, &raw).expect("shown");
    assert_ne!(shown.class.status, Status::Duplicate);
    assert!(
        shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("same SEQUENCE and DTSTAMP")),
        "{:?}",
        shown.class.warnings
    );
    assert!(!shown.class.changes.is_empty());
    assert!(shown.class.apply_refusal.is_none());
    engine::apply(&m, &raw).expect("the user applies it");
    let st = stored(&m, "v1").unwrap();
    assert_eq!(
        st.master().unwrap().dtstart().unwrap().display_key(),
        "20270301T100000Z"
    );
    // The very same message again is a duplicate.
    let again = mail(
        &cal("REQUEST", &ev(1, "20250101T000000Z", ME_ASKED, "")),
        "REQUEST",
    );
    let m2 = accepted_env();
    assert_eq!(
        engine::show(&m2, &again).unwrap().class.status,
        Status::Duplicate
    );
}

/// A CANCEL for one instance removes only that instance.
#[test]
fn cancel_of_one_instance_removes_only_that_instance() {
    let m = MemEnv::new(&["me@example.com"]);
    let series = ev(
        1,
        "20250101T000000Z",
        ME_ASKED,
        "RRULE:FREQ=DAILY;COUNT=4\r\n",
    );
    engine::respond(
        &m,
        &mail(&cal("REQUEST", &series), "REQUEST"),
        PartStat::Accepted,
        None,
        false,
    )
    .expect("answered");
    let cancel = "BEGIN:VEVENT\r\nUID:v1\r\nSEQUENCE:1\r\nDTSTAMP:20250105T000000Z\r\nRECURRENCE-ID:20270302T090000Z\r\nDTSTART:20270302T090000Z\r\nSTATUS:CANCELLED\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE:mailto:me@example.com\r\nEND:VEVENT\r\n";
    let (shown, _) = engine::apply(&m, &mail(&cal("CANCEL", cancel), "CANCEL")).expect("applied");
    assert_eq!(shown.class.status.cancel_scope(), Some("instance"));
    let st = stored(&m, "v1").unwrap();
    let master = st.master().unwrap();
    assert!(!master.is_cancelled());
    let clock = Clock {
        local: chrono_tz::UTC,
    };
    let left: Vec<String> = classify::master_occurrences(&st, &clock)
        .iter()
        .map(|d| d.display_key())
        .collect();
    assert_eq!(
        left,
        vec!["20270301T090000Z", "20270303T090000Z", "20270304T090000Z"]
    );
    assert_eq!(partstat(&m), Some(PartStat::Accepted));
}

/// A MIME method= that disagrees with METHOD is never acted on (R7.2); the
/// reason is shown, and the calendar's own METHOD may be used on request.
#[test]
fn method_mismatch_is_shown_with_its_reason_and_can_be_applied_explicitly() {
    let ics = cal("REQUEST", &ev(1, "20250101T000000Z", ME_ASKED, ""));
    let raw = mail(&ics, "CANCEL");
    let loaded = rsvp::inbox::load(&raw).expect("loaded");
    let reason = loaded.invite.expect_err("not acted on");
    assert!(
        reason.contains("method=CANCEL disagrees with METHOD:REQUEST"),
        "{reason}"
    );

    let parsed = rsvp::domain::ical::parse(&ics).unwrap();
    let cal0 = parsed.calendars.into_iter().next().unwrap();
    let err = Invite::from_calendar(cal0.clone(), Some("CANCEL")).unwrap_err();
    assert!(err.can_use_own_method());
    let inv = Invite::from_calendar_own_method(cal0, Some("CANCEL"))
        .unwrap()
        .remove(0);
    let me = Identity::new(None, &["me@example.com".to_string()]);
    let ctx = Context {
        me: &me,
        groups: &[],
        delivered_to: &[],
        sender: Some("org@example.org"),
        tombstone: None,
        clock: Clock {
            local: chrono_tz::UTC,
        },
    };
    let class = classify::classify(&inv, None, &ctx);
    assert_eq!(class.status, Status::New);
    assert!(
        class.warnings.iter().any(|w| w.contains("at your request")),
        "{:?}",
        class.warnings
    );
}
