//! A first end-to-end pass through the inbox use cases on memory adapters.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use rsvp::domain::invite::PartStat;
use rsvp::inbox::{self, ResponseRequest};
use support::memenv::MemEnv;

const REQ: &str = "From: Org <org@x.example>\r\nTo: me@x.example\r\nMessage-ID: <inv1@x.example>\r\nSubject: Invitation\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:smoke-1\r\nSEQUENCE:0\r\nDTSTAMP:20250101T100000Z\r\nDTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\nSUMMARY:Smoke\r\nORGANIZER;CN=Org:mailto:org@x.example\r\nATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:me@x.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// T35 + T23 through the use case: one reply sent, the second answer is not sent again.
#[test]
fn t23_accept_then_same_answer_does_not_send_twice() {
    let m = MemEnv::new(&["me@x.example"]);
    let env = m.env();
    let req = ResponseRequest {
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    };
    let done = inbox::respond(&env, REQ.as_bytes(), &req).unwrap();
    assert!(done.sent);
    assert_eq!(m.transport.sent().len(), 1);
    let again = inbox::respond(&env, REQ.as_bytes(), &req).unwrap();
    assert!(again.already_sent);
    assert_eq!(m.transport.sent().len(), 1, "no second REPLY");
    let shown = inbox::show(&env, REQ.as_bytes()).unwrap();
    assert_eq!(shown.class.status.as_str(), "duplicate");
    assert_eq!(shown.class.partstat, Some(PartStat::Accepted));
}

/// T20 variant (R6.7 b): the user said a scheduling server handles the
/// calendar (`server_scheduling = "on"`) and the event is already in the
/// vdir with no SCHEDULE-AGENT: only the calendar changes, no iMIP is sent.
#[test]
fn t20_server_scheduling_on_changes_store_without_mail() {
    let m = MemEnv::new(&["me@x.example"]);
    m.store.insert("from-server.ics", stored_copy().as_bytes());
    let mut env = m.env();
    env.scheduling = rsvp::inbox::Scheduling::Server;
    let done = inbox::respond(&env, REQ.as_bytes(), &accept()).unwrap();
    assert!(done.server_scheduled);
    assert!(m.transport.sent().is_empty());
    let stored = m.store.as_ref().get("from-server.ics").unwrap();
    let text = String::from_utf8(stored.data).unwrap();
    assert!(text.contains("PARTSTAT=ACCEPTED"));
    assert!(!text.contains("SCHEDULE-AGENT"));
}

/// Issue 9, R6.7 (a), T20 main case: with the default "auto" an event that
/// was already in a plain vdir (no SCHEDULE-AGENT, no rsvp bookkeeping) is
/// still answered by mail: nothing says a server exists. The stored
/// ORGANIZER gets SCHEDULE-AGENT=CLIENT so a server, if any, does not
/// answer a second time.
#[test]
fn t20_auto_mails_the_reply_for_an_event_already_in_the_vdir() {
    let m = MemEnv::new(&["me@x.example"]);
    m.store.insert("plain.ics", stored_copy().as_bytes());
    let mut env = m.env();
    env.scheduling = rsvp::inbox::Scheduling::Auto;
    let done = inbox::respond(&env, REQ.as_bytes(), &accept()).unwrap();
    assert!(!done.server_scheduled && !done.not_mailed);
    assert!(done.sent);
    assert_eq!(m.transport.sent().len(), 1);
    let stored = m.store.as_ref().get("plain.ics").unwrap();
    let text = String::from_utf8(stored.data).unwrap();
    assert!(text.contains("PARTSTAT=ACCEPTED"), "{text}");
    assert!(text.contains("SCHEDULE-AGENT=CLIENT"), "{text}");
}

/// `reply --no-send`: the calendar holds the answer, nothing is mailed or
/// queued, and the outcome says so.
#[test]
fn no_send_changes_the_calendar_only() {
    let m = MemEnv::new(&["me@x.example"]);
    let env = m.env();
    let req = ResponseRequest {
        no_send: true,
        ..accept()
    };
    let done = inbox::respond(&env, REQ.as_bytes(), &req).unwrap();
    assert!(done.not_mailed && !done.sent && !done.server_scheduled);
    assert!(m.transport.sent().is_empty());
    use rsvp::domain::ports::{CalendarStore, Outbox};
    assert!(m.outbox.pending().unwrap().is_empty());
    let objs = m.store.list().unwrap();
    assert!(
        objs.iter()
            .any(|o| String::from_utf8_lossy(&o.data).contains("PARTSTAT=ACCEPTED"))
    );
}

fn stored_copy() -> String {
    REQ.split("\r\n\r\n")
        .nth(1)
        .unwrap()
        .replace("METHOD:REQUEST\r\n", "")
}

fn accept() -> ResponseRequest<'static> {
    ResponseRequest {
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    }
}
