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

/// T20 variant (R6.7 b): the event came from a scheduling server (already in
/// the vdir, no SCHEDULE-AGENT): with server_scheduling on/auto only the
/// calendar changes and no iMIP is sent.
#[test]
fn t20_server_scheduling_changes_store_without_mail() {
    for mode in [
        rsvp::inbox::Scheduling::Server,
        rsvp::inbox::Scheduling::Auto,
    ] {
        let m = MemEnv::new(&["me@x.example"]);
        let body = REQ
            .split("\r\n\r\n")
            .nth(1)
            .unwrap()
            .replace("METHOD:REQUEST\r\n", "");
        m.store.insert("from-server.ics", body.as_bytes());
        let mut env = m.env();
        env.scheduling = mode;
        let req = ResponseRequest {
            partstat: PartStat::Accepted,
            comment: None,
            instance: None,
            dry_run: false,
            resend: false,
        };
        let done = inbox::respond(&env, REQ.as_bytes(), &req).unwrap();
        assert!(done.server_scheduled, "{mode:?}");
        assert!(m.transport.sent().is_empty());
        let stored = m.store.as_ref().get("from-server.ics").unwrap();
        let text = String::from_utf8(stored.data).unwrap();
        assert!(text.contains("PARTSTAT=ACCEPTED"));
        assert!(!text.contains("SCHEDULE-AGENT"));
    }
    // With "auto", an event rsvp stored itself is answered by mail (T20 main case).
    let m = MemEnv::new(&["me@x.example"]);
    let mut env = m.env();
    env.scheduling = rsvp::inbox::Scheduling::Auto;
    let req = ResponseRequest {
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
    };
    inbox::respond(&env, REQ.as_bytes(), &req).unwrap();
    assert_eq!(m.transport.sent().len(), 1);
    use rsvp::domain::ports::CalendarStore;
    let objs = m.store.list().unwrap();
    assert!(
        objs.iter()
            .any(|o| String::from_utf8_lossy(&o.data).contains("SCHEDULE-AGENT=CLIENT"))
    );
}
