use super::*;
use crate::domain::ical;

pub(crate) fn inv(method: &str, body: &str) -> Invite {
    let m = if method.is_empty() {
        String::new()
    } else {
        format!("METHOD:{method}\r\n")
    };
    let s = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{m}{body}END:VCALENDAR\r\n");
    Invite::from_calendar(ical::parse(&s).unwrap().calendars.remove(0), None)
        .unwrap()
        .remove(0)
}

pub(crate) fn ev(seq: i64, stamp: &str, extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:u1\r\nSEQUENCE:{seq}\r\nDTSTAMP:{stamp}\r\nDTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\nSUMMARY:Sync\r\nORGANIZER:mailto:org@x.example\r\n{extra}END:VEVENT\r\n"
    )
}

const ME: &str = "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:me@x.example\r\n";
const ME_ACC: &str = "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@x.example\r\n";

fn run(
    incoming: &Invite,
    stored: Option<&Invite>,
    sender: Option<&str>,
    tomb: Option<i64>,
) -> Classification {
    let me = Identity::new(None, &["me@x.example".to_string()]);
    let ctx = Context {
        me: &me,
        groups: &[],
        delivered_to: &[],
        sender,
        tombstone: tomb,
        clock: Clock {
            local: chrono_tz::Europe::Berlin,
        },
    };
    classify(incoming, stored, &ctx)
}

const T0: &str = "20250101T100000Z";
const T1: &str = "20250102T100000Z";

/// T01: a new invitation.
#[test]
fn t01_new() {
    let c = run(
        &inv("REQUEST", &ev(0, T0, ME)),
        None,
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::New);
    assert!(c.rsvp_requested);
    assert!(c.reply_refusal.is_none());
    assert!(c.me().is_some());
}

/// T21: lower SEQUENCE than stored.
#[test]
fn t21_outdated_sequence() {
    let stored = inv("", &ev(3, T0, ME_ACC));
    let c = run(
        &inv("REQUEST", &ev(2, T1, ME)),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Outdated);
    assert!(c.reply_refusal.is_some() && c.apply_refusal.is_some());
}

/// T22: same SEQUENCE, older DTSTAMP.
#[test]
fn t22_outdated_dtstamp() {
    let stored = inv("", &ev(1, T1, ME_ACC));
    let c = run(
        &inv("REQUEST", &ev(1, T0, ME)),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Outdated);
}

/// T23: the same message twice.
#[test]
fn t23_duplicate() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let c = run(
        &inv("REQUEST", &ev(1, T0, ME_ACC)),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Duplicate);
    assert_eq!(c.partstat, Some(PartStat::Accepted));
}

/// T24: minor update keeps my answer.
#[test]
fn t24_minor_update() {
    let stored = inv("", &ev(1, T0, &format!("{ME_ACC}DESCRIPTION:old\r\n")));
    let c = run(
        &inv("REQUEST", &ev(1, T1, &format!("{ME}DESCRIPTION:new\r\n"))),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Update);
    assert_eq!(c.partstat, Some(PartStat::Accepted));
    assert_eq!(c.changes.len(), 1);
    assert_eq!(c.changes[0].field, "DESCRIPTION");
}

/// T25: SEQUENCE up and time moved.
#[test]
fn t25_reschedule() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let moved = ev(2, T1, ME).replace("20250106T080000Z", "20250106T070000Z");
    let c = run(
        &inv("REQUEST", &moved),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Reschedule);
    assert!(
        c.changes
            .iter()
            .any(|ch| ch.field == "DTSTART" && ch.significant)
    );
}

/// T26: SEQUENCE up without a significant change is an update.
#[test]
fn t26_seq_bump_not_significant() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let same = ev(2, T1, ME).replace(
        "DTSTART:20250106T080000Z",
        "DTSTART;TZID=Europe/Berlin:20250106T090000",
    );
    let c = run(
        &inv("REQUEST", &same),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Update, "{:?}", c.changes);
}

/// T27: only RSVP=TRUE added: a status poll.
#[test]
fn t27_rsvp_poll() {
    let stored = inv(
        "",
        &ev(1, T0, "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@x.example\r\n"),
    );
    let c = run(
        &inv(
            "REQUEST",
            &ev(
                1,
                T1,
                "ATTENDEE;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:me@x.example\r\n",
            ),
        ),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Poll);
    assert!(c.reply_refusal.is_none());
}

/// T28: another organizer for a known UID.
#[test]
fn t28_organizer_changed() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let hijack = ev(2, T1, ME).replace("org@x.example", "mallory@evil.example");
    let c = run(
        &inv("REQUEST", &hijack),
        Some(&stored),
        Some("mallory@evil.example"),
        None,
    );
    assert_eq!(c.status, Status::OrganizerChanged);
    assert!(c.apply_refusal.is_some() && c.reply_refusal.is_some());
}

/// T33: an override for an unknown instance at the same SEQUENCE.
#[test]
fn t33_unknown_rid_same_seq_flagged() {
    let stored = inv(
        "",
        &ev(1, T0, &format!("{ME_ACC}RRULE:FREQ=WEEKLY;COUNT=3\r\n")),
    );
    let odd = ev(1, T1, ME).replace("DTSTART:", "RECURRENCE-ID:20250108T080000Z\r\nDTSTART:");
    let c = run(
        &inv("REQUEST", &odd),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("REFRESH")),
        "{:?}",
        c.warnings
    );
    assert!(c.apply_refusal.is_some());
    // A real occurrence is fine.
    let ok = ev(1, T1, ME).replace("DTSTART:", "RECURRENCE-ID:20250113T080000Z\r\nDTSTART:");
    let c = run(
        &inv("REQUEST", &ok),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert!(c.apply_refusal.is_none(), "{:?}", c);
}

/// T34: a tombstone makes an older REQUEST outdated.
#[test]
fn t34_tombstone() {
    let c = run(
        &inv("REQUEST", &ev(3, T0, ME)),
        None,
        Some("org@x.example"),
        Some(4),
    );
    assert_eq!(c.status, Status::Outdated);
    let c = run(
        &inv("REQUEST", &ev(5, T0, ME)),
        None,
        Some("org@x.example"),
        Some(4),
    );
    assert_eq!(c.status, Status::New);
}

/// T40: no reply to a cancelled event.
#[test]
fn t40_no_reply_to_cancelled() {
    let stored = inv("", &ev(2, T1, &format!("{ME_ACC}STATUS:CANCELLED\r\n")));
    let c = run(
        &inv("REQUEST", &ev(1, T0, ME)),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert!(c.reply_refusal.is_some());
}

/// T45: CANCEL without STATUS naming me: uninvited.
#[test]
fn t45_uninvite() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let c = run(
        &inv("CANCEL", &ev(2, T1, "ATTENDEE:mailto:me@x.example\r\n")),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Uninvited);
    assert!(c.apply_refusal.is_none());
    assert!(c.reply_refusal.is_some());
}

/// T46: a CANCEL not from the organizer is refused.
#[test]
fn t46_cancel_spoofed() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let c = run(
        &inv("CANCEL", &ev(2, T1, "STATUS:CANCELLED\r\n")),
        Some(&stored),
        Some("mallory@evil.example"),
        None,
    );
    assert!(c.apply_refusal.is_some());
    assert!(c.warnings.iter().any(|w| w.contains("not the organizer")));
}

/// T47: a CANCEL older than the stored copy.
#[test]
fn t47_cancel_stale() {
    let stored = inv("", &ev(5, T0, ME_ACC));
    let c = run(
        &inv("CANCEL", &ev(4, T1, "STATUS:CANCELLED\r\n")),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Outdated);
    assert!(c.apply_refusal.is_some());
}

/// T42 (classification): a whole-event CANCEL.
#[test]
fn t42_cancel_whole_classified() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let c = run(
        &inv("CANCEL", &ev(2, T1, "STATUS:CANCELLED\r\n")),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Cancel(CancelScope::Whole));
    assert!(c.apply_refusal.is_none());
}

/// T04: no METHOD: import only, never answered.
#[test]
fn t04_no_method() {
    let c = run(&inv("", &ev(0, T0, ME)), None, None, None);
    assert_eq!(c.status, Status::Publish);
    assert!(c.reply_refusal.is_some());
}

/// T17: NON-PARTICIPANT: no prompt, still answerable.
#[test]
fn t17_non_participant() {
    let c = run(
        &inv(
            "REQUEST",
            &ev(
                0,
                T0,
                "ATTENDEE;ROLE=NON-PARTICIPANT;RSVP=FALSE:mailto:me@x.example\r\n",
            ),
        ),
        None,
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::New);
    assert!(!c.rsvp_requested);
    assert!(c.reply_refusal.is_none());
}

/// T18: my own REQUEST.
#[test]
fn t18_self_organized() {
    let own = ev(0, T0, "ATTENDEE;ROLE=CHAIR:mailto:me@x.example\r\n")
        .replace("org@x.example", "me@x.example");
    let c = run(&inv("REQUEST", &own), None, Some("me@x.example"), None);
    assert!(c.reply_refusal.is_some());
    assert_eq!(c.status, Status::NotInvited);
}

#[test]
fn not_invited_refused() {
    let c = run(
        &inv("REQUEST", &ev(0, T0, "ATTENDEE:mailto:bob@x.example\r\n")),
        None,
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::NotInvited);
    assert!(c.reply_refusal.unwrap().contains("me@x.example"));
}

/// R9.1: an update of a stored event from someone else is refused.
#[test]
fn r9_1_spoofed_update_refused() {
    let stored = inv("", &ev(1, T0, ME_ACC));
    let moved = ev(2, T1, ME).replace("20250106T080000Z", "20250106T070000Z");
    let c = run(
        &inv("REQUEST", &moved),
        Some(&stored),
        Some("mallory@evil.example"),
        None,
    );
    assert_eq!(c.status, Status::Reschedule);
    assert!(
        c.apply_refusal
            .as_deref()
            .is_some_and(|r| r.contains("did not send"))
    );
    assert!(c.reply_refusal.is_some());
    let c = run(
        &inv("REQUEST", &moved),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert!(c.apply_refusal.is_none() && c.reply_refusal.is_none());
}

#[test]
fn sender_not_organizer_warns() {
    let c = run(
        &inv("REQUEST", &ev(0, T0, ME)),
        None,
        Some("someone@else.example"),
        None,
    );
    assert_eq!(c.status, Status::New);
    assert!(c.warnings.iter().any(|w| w.contains("not the organizer")));
}

/// R3.11: a REQUEST without attendees is a PUBLISH: importable when new,
/// outdated over a stored copy that is as new.
#[test]
fn r3_11_request_without_attendees_is_imported_like_publish() {
    let c = run(
        &inv("REQUEST", &ev(1, T0, "")),
        None,
        Some("org@x.example"),
        None,
    );
    assert_eq!(c.status, Status::Publish);
    assert!(c.reply_refusal.is_some());
    assert!(c.apply_refusal.is_none());
    let stored = inv("", &ev(1, T0, ""));
    let again = run(
        &inv("REQUEST", &ev(1, T0, "")),
        Some(&stored),
        Some("org@x.example"),
        None,
    );
    assert_eq!(again.status, Status::Outdated);
    assert!(again.apply_refusal.is_some());
}

/// R6.3 + R4.1: iCloud invites with an iMIP token URI and EMAIL=<real>, then
/// cancels with the real address as URI: the same organizer, not a hijack.
#[test]
fn r6_3_organizer_matched_by_email_param_is_not_a_change() {
    let token = "ORGANIZER;EMAIL=org@x.example:mailto:2_token@imip.example";
    let stored = inv(
        "",
        &ev(0, T0, ME_ACC).replace("ORGANIZER:mailto:org@x.example", token),
    );
    let c = run(
        &inv("CANCEL", &ev(1, T1, "STATUS:CANCELLED\r\n")),
        Some(&stored),
        None,
        None,
    );
    assert_eq!(c.status, Status::Cancel(CancelScope::Whole));
    assert!(c.apply_refusal.is_none(), "{:?}", c.apply_refusal);
    // T28 still holds for a really different organizer.
    let other = inv(
        "CANCEL",
        &ev(1, T1, "STATUS:CANCELLED\r\n").replace("org@x.example", "evil@y.example"),
    );
    assert_eq!(
        run(&other, Some(&stored), None, None).status,
        Status::OrganizerChanged
    );
}
