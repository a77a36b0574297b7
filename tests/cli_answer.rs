//! Issue 9, "the answer must go out": with the default configuration
//! (`server_scheduling = "auto"`) and a plain vdir, an answer is mailed even
//! when the event was already in the calendar; answering without mail is an
//! explicit choice (`reply --no-send`) that says so. Real binary, sandboxed
//! (`support::cli_sandbox`), replies to a sendmail sink.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use support::cli_sandbox::{self as sandbox, ME, Sandbox};

const ORG: &str = "olivia@example.com";

fn vevent(seq: u32, stamp: &str, start: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:issue9-auto\r\nSEQUENCE:{seq}\r\nDTSTAMP:{stamp}\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:Design review\r\nORGANIZER;CN=Olivia Organizer:mailto:{ORG}\r\nATTENDEE;CN=Dana User;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\nEND:VEVENT\r\n"
    )
}

/// The sandbox with the default `server_scheduling` (no such line).
fn default_sandbox() -> Sandbox {
    let s = Sandbox::new();
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    let text = text.replace("server_scheduling = \"off\"\n", "");
    assert!(!text.contains("server_scheduling"));
    std::fs::write(s.config_path(), text).unwrap();
    s
}

/// The event as a calendar server (or khal) left it in the vdir: no
/// METHOD, no SCHEDULE-AGENT, no rsvp bookkeeping.
fn put_plain_event(s: &Sandbox) {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Someone//Else//EN\r\n{}END:VCALENDAR\r\n",
        vevent(0, "20250102T100000Z", "20250113T080000Z")
    );
    std::fs::write(s.cal_dir().join("plain-event.ics"), ics).unwrap();
}

/// The organizer moves the meeting (SEQUENCE 1).
fn put_reschedule(s: &Sandbox) -> std::path::PathBuf {
    let raw = format!(
        "From: Olivia Organizer <{ORG}>\r\nTo: <{ME}>\r\nSubject: Updated: Design review\r\nMessage-ID: <issue9-auto@cli.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//CLI//EN\r\nMETHOD:REQUEST\r\n{}END:VCALENDAR\r\n",
        vevent(1, "20250103T100000Z", "20250114T080000Z")
    );
    let path = s.root().join("reschedule.eml");
    std::fs::write(&path, raw).unwrap();
    path
}

fn stored(s: &Sandbox) -> String {
    let files = s.cal_files();
    assert_eq!(files.len(), 1, "one calendar file: {:?}", files.len());
    String::from_utf8(files[0].1.clone()).unwrap()
}

/// The worst finding of issue 9: the default used to print "your calendar
/// server sends the reply" and mail nothing for an event already in a plain
/// vdir. Now the reply goes out and the stored ORGANIZER is marked
/// SCHEDULE-AGENT=CLIENT (R6.7 (a)) so a server would not answer twice.
#[test]
fn default_auto_mails_the_reply_for_an_event_already_in_a_plain_vdir() {
    let s = default_sandbox();
    put_plain_event(&s);
    let path = put_reschedule(&s);
    let out = s
        .rsvp(&["reply", "accept", "--message"])
        .arg(&path)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(&format!("reply sent to {ORG}")), "{err}");
    assert!(!err.contains("server sends"), "{err}");
    let sent = s.sent();
    assert_eq!(sent.len(), 1, "{err}");
    let ics = sandbox::reply_ics(&sent[0]);
    assert!(ics.contains("PARTSTAT=ACCEPTED"), "{ics}");
    assert!(!ics.contains("SCHEDULE-AGENT"), "R1.13: {ics}");
    let cal = stored(&s);
    assert!(cal.contains("PARTSTAT=ACCEPTED"), "{cal}");
    assert!(cal.contains("SCHEDULE-AGENT=CLIENT"), "{cal}");
    assert!(s.pending().is_empty());
}

/// `reply --no-send`: the calendar holds the answer, nothing is mailed or
/// queued, no transport is needed, and stderr says the organizer was not told.
#[test]
fn reply_no_send_changes_the_calendar_only_and_says_so() {
    let s = default_sandbox();
    put_plain_event(&s);
    let path = put_reschedule(&s);
    // Not even a working transport is needed.
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    let cut = text.find("[sendmail]").unwrap();
    std::fs::write(
        s.config_path(),
        format!("{}[sendmail]\ncommand = \"false\"\n", &text[..cut]),
    )
    .unwrap();
    let out = s
        .rsvp(&["reply", "decline", "--no-send", "--message"])
        .arg(&path)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("not mailed (--no-send)"), "{err}");
    assert!(err.contains(ORG), "{err}");
    assert!(s.sent().is_empty());
    assert!(s.pending().is_empty(), "nothing queued either");
    assert!(stored(&s).contains("PARTSTAT=DECLINED"));
}

/// `--no-send` with `--dry-run` makes no sense: a usage error.
#[test]
fn no_send_and_dry_run_conflict() {
    let s = default_sandbox();
    let path = put_reschedule(&s);
    s.rsvp(&["reply", "accept", "--no-send", "--dry-run", "--message"])
        .arg(&path)
        .assert()
        .code(2);
    assert!(s.sent().is_empty());
}
