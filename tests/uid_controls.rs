//! A UID with a control character (NUL or any other CTL) is never written
//! into the calendar: RFC 5545 §3.1 allows no CTL but HTAB in a value, and
//! a UID cannot be escaped without becoming another event (R9.10).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use rsvp::adapters::vdir::Vdir;
use rsvp::domain::ports::{CalendarStore, StoreError};
use support::cli_sandbox::{ME, Sandbox};

fn event(uid: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rsvp//test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20250301T100000Z\r\nDTSTART:20250310T150000Z\r\n\
         SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

/// The store refuses a create or an update that would write a UID with a
/// control character, and the error names the UID.
#[test]
fn r9_10_vdir_refuses_uids_with_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let vdir = Vdir::open(dir.path()).unwrap();
    for uid in [
        "a\0b@example.org",
        "a\u{1}b",
        "a\u{1b}[2Jb",
        "a\u{7f}b",
        "a\u{85}b",
    ] {
        let err = vdir.create(uid, &event(uid)).unwrap_err();
        match &err {
            StoreError::Io { message, .. } => {
                assert!(message.contains(&format!("{uid:?}")), "{message}");
                assert!(message.contains("control character"), "{message}");
            }
            other => panic!("{uid:?}: expected a refusal, got {other:?}"),
        }
    }
    let ok = vdir
        .create("fine@example.org", &event("fine@example.org"))
        .unwrap();
    assert!(vdir.update(&ok, &event("fine\0@example.org")).is_err());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    for path in names {
        let data = std::fs::read(path).unwrap();
        assert!(!data.contains(&0), "a NUL reached the calendar");
    }
}

/// End to end: answering an invitation whose UID holds a NUL stores
/// nothing and sends nothing, and says why.
#[test]
fn r9_10_reply_to_uid_with_nul_stores_and_sends_nothing() {
    let s = Sandbox::new();
    let raw = format!(
        "From: <org@example.com>\r\nTo: <{ME}>\r\nSubject: x\r\nMessage-ID: <nul@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n\
         BEGIN:VCALENDAR\r\nPRODID:-//Test//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
         UID:evil\0uid@example.com\r\nSEQUENCE:0\r\nDTSTAMP:20250101T100000Z\r\n\
         DTSTART:20250310T150000Z\r\nDURATION:PT1H\r\nSUMMARY:nul\r\n\
         ORGANIZER:mailto:org@example.com\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let path = s.root().join("nul.eml");
    std::fs::write(&path, raw).unwrap();
    let out = s
        .rsvp(&["reply", "accept", "--message", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    for (name, data) in s.cal_files() {
        assert!(!data.contains(&0), "{name}: a NUL reached the calendar");
    }
    assert!(s.sent().is_empty(), "a reply was sent");
    assert!(!stderr.contains('\0'), "{stderr:?}");
}
