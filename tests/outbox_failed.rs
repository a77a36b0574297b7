//! Replies the server refused for good (a 550) are kept apart from the
//! queue: no flush sends them again, `rsvp outbox list` shows them and
//! `rsvp outbox drop ID` removes one (R9.13).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use rsvp::adapters::outbox::DirOutbox;
use rsvp::domain::ports::{Envelope, Outbox, OutboxEntry, OutboxError, ReplyKey, TransportError};
use support::cli_sandbox::Sandbox;

fn entry(id: &str, uid: &str) -> OutboxEntry {
    OutboxEntry {
        id: id.to_string(),
        envelope: Envelope {
            from: "dana@example.org".into(),
            to: vec!["org@example.org".into()],
        },
        key: ReplyKey {
            uid: uid.to_string(),
            recurrence_ids: Vec::new(),
            partstat: "ACCEPTED".into(),
            sequence: 0,
        },
        message: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
        last_error: None,
    }
}

fn rejected() -> TransportError {
    TransportError::Permanent {
        server: "smtp.example.org:587".into(),
        message: "550 5.1.1 <org@example.org>: Recipient address rejected".into(),
    }
}

fn deferred() -> TransportError {
    TransportError::Temporary {
        server: "smtp.example.org:587".into(),
        message: "451 4.3.0 try again later".into(),
    }
}

/// A 550 takes the entry out of the queue into `failed`; a 451 leaves it
/// queued; neither counts as an answer already given.
#[test]
fn r9_13_permanent_failure_leaves_the_queue_temporary_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(dir.path()).unwrap();
    outbox.put(&entry("r1", "uid-1")).unwrap();
    outbox.put(&entry("r2", "uid-2")).unwrap();

    outbox.record_failure("r1", &rejected()).unwrap();
    outbox.record_failure("r2", &deferred()).unwrap();

    let pending: Vec<String> = outbox
        .pending()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, ["r2"]);
    let failed = outbox.failed().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, "r1");
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("550 5.1.1")
    );
    assert_eq!(failed[0].message, entry("r1", "uid-1").message);
    assert!(outbox.find(&entry("r1", "uid-1").key).unwrap().is_none());

    // Survives a reopen, and the id stays taken.
    let outbox = DirOutbox::open(dir.path()).unwrap();
    assert_eq!(outbox.failed().unwrap().len(), 1);
    assert!(outbox.put(&entry("r1", "uid-1")).is_err());

    outbox.drop_entry("r1").unwrap();
    assert!(outbox.failed().unwrap().is_empty());
    assert!(matches!(
        outbox.drop_entry("r1"),
        Err(OutboxError::NotFound { .. })
    ));
    outbox.drop_entry("r2").unwrap();
    assert!(outbox.pending().unwrap().is_empty());
    assert!(matches!(
        outbox.drop_entry("../x"),
        Err(OutboxError::NotFound { .. })
    ));
}

/// A crash between moving the message and moving its commit marker is
/// finished at the next open.
#[test]
fn r9_13_interrupted_move_to_failed_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(dir.path()).unwrap();
    outbox.put(&entry("r1", "uid-1")).unwrap();
    std::fs::rename(
        dir.path().join("pending/r1.eml"),
        dir.path().join("failed/r1.eml"),
    )
    .unwrap();
    let outbox = DirOutbox::open(dir.path()).unwrap();
    assert!(outbox.pending().unwrap().is_empty());
    assert_eq!(outbox.failed().unwrap().len(), 1);
}

/// The CLI: `outbox list` shows refused replies apart, `outbox flush` does
/// not retry them (exit 0), `outbox drop ID` removes one.
#[test]
fn outbox_list_shows_refused_replies_and_drop_removes_them() {
    let s = Sandbox::new();
    let root = s.data_dir().join("outbox");
    {
        let outbox = DirOutbox::open(&root).unwrap();
        outbox.put(&entry("refused-1", "uid-refused")).unwrap();
        outbox.record_failure("refused-1", &rejected()).unwrap();
    }

    let out = s.rsvp(&["outbox", "list"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("refused for good"), "{text}");
    assert!(text.contains("refused-1"), "{text}");
    assert!(text.contains("550 5.1.1"), "{text}");

    let out = s.rsvp(&["outbox", "flush"]).assert().success();
    assert!(s.sent().is_empty(), "a refused reply was sent again");
    // Not "outbox is empty": `outbox list` still shows the refused reply.
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(
        text,
        "nothing to send; 1 reply refused for good stays (rsvp outbox list, rsvp outbox drop ID)\n"
    );

    let out = s.rsvp(&["outbox", "drop"]).assert().failure();
    assert_eq!(out.get_output().status.code(), Some(2), "drop needs an id");
    let out = s.rsvp(&["outbox", "drop", "nope"]).assert().failure();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("nope"), "{err}");

    s.rsvp(&["outbox", "drop", "refused-1"]).assert().success();
    let out = s.rsvp(&["outbox", "list"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text, "outbox is empty\n");
}
