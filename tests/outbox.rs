//! The durable outbox on a temp directory (R9.13): entries survive a
//! restart, the `.json` commits an entry, crash leftovers are ignored and
//! cleaned, ids cannot escape the directory.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeZone, Utc};
use rsvp::adapters::outbox::DirOutbox;
use rsvp::domain::ports::{Envelope, Outbox, OutboxEntry, OutboxError, ReplyKey};

fn key(uid: &str, partstat: &str, sequence: i64) -> ReplyKey {
    ReplyKey {
        uid: uid.to_string(),
        recurrence_ids: Vec::new(),
        partstat: partstat.to_string(),
        sequence,
    }
}

fn entry(id: &str, key: ReplyKey) -> OutboxEntry {
    OutboxEntry {
        id: id.to_string(),
        envelope: Envelope {
            from: "bob@example.org".to_string(),
            to: vec!["alice@example.com".to_string()],
        },
        message: [
            format!("Message-ID: <{id}@rsvp.invalid>\r\nSubject: Accepted\r\n\r\nbody \u{e9}")
                .as_bytes(),
            b" \x00\xff\r\n",
        ]
        .concat(),
        key,
        last_error: None,
    }
}

/// A clock that ticks one second per call from 2025-03-01 10:00:00 UTC.
fn ticking_clock() -> Box<dyn Fn() -> DateTime<Utc> + Send + Sync> {
    let n = Arc::new(AtomicI64::new(0));
    Box::new(move || {
        let i = n.fetch_add(1, Ordering::SeqCst);
        Utc.timestamp_opt(1_740_823_200 + i, 0)
            .single()
            .unwrap_or_default()
    })
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn set_old(path: &Path) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

#[test]
fn open_creates_private_directories() {
    let root = tempfile::tempdir().unwrap();
    let outbox_root = root.path().join("state").join("outbox");
    DirOutbox::open(&outbox_root).unwrap();
    for sub in ["pending", "sent"] {
        let meta = fs::metadata(outbox_root.join(sub)).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{sub}");
    }
}

#[test]
fn r9_13_put_pending_mark_sent_find_roundtrip() {
    let root = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(root.path()).unwrap();
    let k = key("uid-1@example.com", "ACCEPTED", 2);
    let e = entry("reply-1", k.clone());
    outbox.put(&e).unwrap();

    assert_eq!(outbox.pending().unwrap(), vec![e.clone()]);
    assert_eq!(outbox.find(&k).unwrap(), Some((e.clone(), false)));
    assert_eq!(
        outbox
            .find(&key("uid-1@example.com", "DECLINED", 2))
            .unwrap(),
        None
    );
    assert_eq!(
        outbox
            .find(&key("uid-1@example.com", "ACCEPTED", 3))
            .unwrap(),
        None
    );
    assert_eq!(
        fs::read(root.path().join("pending/reply-1.eml")).unwrap(),
        e.message,
        "the exact bytes are stored"
    );
    for file in ["reply-1.eml", "reply-1.json"] {
        let mode = fs::metadata(root.path().join("pending").join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{file} is private");
    }

    outbox
        .record_error("reply-1", "451 4.3.0 try again later")
        .unwrap();
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].last_error.as_deref(),
        Some("451 4.3.0 try again later")
    );
    assert_eq!(pending[0].message, e.message, "retries send the same bytes");

    outbox.mark_sent("reply-1").unwrap();
    assert!(outbox.pending().unwrap().is_empty());
    let (found, sent) = outbox.find(&k).unwrap().unwrap();
    assert!(sent);
    assert_eq!(found.id, "reply-1");
    assert_eq!(found.message, e.message);
    assert_eq!(names(&root.path().join("pending")), Vec::<String>::new());
    assert_eq!(
        names(&root.path().join("sent")),
        vec!["reply-1.eml", "reply-1.json"]
    );
    assert_eq!(outbox.sent().unwrap().len(), 1);

    // Idempotent after the move; unknown ids are NotFound.
    outbox.mark_sent("reply-1").unwrap();
    assert_eq!(
        outbox.mark_sent("nope").unwrap_err(),
        OutboxError::NotFound {
            id: "nope".to_string()
        }
    );
    assert_eq!(
        outbox.record_error("reply-1", "x").unwrap_err(),
        OutboxError::NotFound {
            id: "reply-1".to_string()
        },
        "a sent entry has no error to record"
    );
}

#[test]
fn find_matches_recurrence_ids_exactly() {
    let root = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(root.path()).unwrap();
    let mut k = key("series", "TENTATIVE", 0);
    k.recurrence_ids = vec!["20250310T150000Z".to_string()];
    outbox.put(&entry("inst", k.clone())).unwrap();
    assert!(outbox.find(&k).unwrap().is_some());
    assert_eq!(outbox.find(&key("series", "TENTATIVE", 0)).unwrap(), None);
}

#[test]
fn pending_is_oldest_first_then_by_id() {
    let root = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open_with_clock(root.path(), ticking_clock()).unwrap();
    for id in ["c", "a", "b"] {
        outbox.put(&entry(id, key(id, "ACCEPTED", 0))).unwrap();
    }
    let ids: Vec<String> = outbox
        .pending()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec!["c", "a", "b"]);

    // Same creation time: by id.
    let root2 = tempfile::tempdir().unwrap();
    let fixed = Utc.timestamp_opt(1_740_823_200, 0).single().unwrap();
    let outbox2 = DirOutbox::open_with_clock(root2.path(), Box::new(move || fixed)).unwrap();
    for id in ["z", "m", "a"] {
        outbox2.put(&entry(id, key(id, "ACCEPTED", 0))).unwrap();
    }
    let ids: Vec<String> = outbox2
        .pending()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec!["a", "m", "z"]);
}

#[test]
fn r9_13_entries_survive_reopening() {
    let root = tempfile::tempdir().unwrap();
    {
        let outbox = DirOutbox::open(root.path()).unwrap();
        outbox.put(&entry("one", key("u1", "ACCEPTED", 0))).unwrap();
        outbox.put(&entry("two", key("u2", "DECLINED", 1))).unwrap();
        outbox.record_error("two", "connection refused").unwrap();
        outbox.mark_sent("one").unwrap();
    }
    let outbox = DirOutbox::open(root.path()).unwrap();
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, "two");
    assert_eq!(pending[0].envelope.to, vec!["alice@example.com"]);
    assert_eq!(pending[0].key, key("u2", "DECLINED", 1));
    assert_eq!(pending[0].last_error.as_deref(), Some("connection refused"));
    assert!(
        outbox.find(&key("u1", "ACCEPTED", 0)).unwrap().unwrap().1,
        "sent"
    );
}

#[test]
fn ids_that_could_escape_the_directory_are_rejected() {
    let root = tempfile::tempdir().unwrap();
    let outbox_root = root.path().join("outbox");
    let outbox = DirOutbox::open(&outbox_root).unwrap();
    for id in [
        "../evil",
        "a/b",
        "/abs",
        ".hidden",
        "..",
        "",
        "a\0b",
        "new\nline",
    ] {
        let err = outbox.put(&entry(id, key("u", "ACCEPTED", 0))).unwrap_err();
        let OutboxError::Io { message, .. } = &err else {
            panic!("{id:?}: {err:?}");
        };
        assert!(message.contains("invalid outbox entry id"), "{message}");
        assert!(outbox.mark_sent(id).is_err());
        assert!(outbox.record_error(id, "x").is_err());
    }
    assert_eq!(names(root.path()), vec!["outbox"]);
    assert!(names(&outbox_root.join("pending")).is_empty());
}

#[test]
fn put_refuses_a_duplicate_id() {
    let root = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(root.path()).unwrap();
    let first = entry("same", key("u", "ACCEPTED", 0));
    outbox.put(&first).unwrap();
    let mut second = entry("same", key("u", "DECLINED", 0));
    second.message = b"other".to_vec();
    let err = outbox.put(&second).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(outbox.pending().unwrap(), vec![first]);
    outbox.mark_sent("same").unwrap();
    assert!(outbox.put(&second).is_err(), "also when the first was sent");
}

#[test]
fn r9_13_crash_leftovers_are_ignored_and_cleaned() {
    let root = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(root.path()).unwrap();
    let pending = root.path().join("pending");
    let sent = root.path().join("sent");
    outbox.put(&entry("good", key("g", "ACCEPTED", 0))).unwrap();

    // put died after the .eml: never committed.
    fs::write(pending.join("half.eml"), b"half").unwrap();
    set_old(&pending.join("half.eml"));
    // A put running right now in another process: young, kept.
    fs::write(pending.join("young.eml"), b"young").unwrap();
    // A temp file of a crashed write.
    fs::write(pending.join(".x.json.0123.tmp"), b"{").unwrap();
    set_old(&pending.join(".x.json.0123.tmp"));
    // A damaged .json and one whose id does not match its name.
    fs::write(pending.join("broken.eml"), b"m").unwrap();
    fs::write(pending.join("broken.json"), b"{not json").unwrap();
    let good_json = fs::read(pending.join("good.json")).unwrap();
    fs::write(pending.join("renamed.eml"), b"m").unwrap();
    fs::write(pending.join("renamed.json"), &good_json).unwrap();

    let ids: Vec<String> = outbox
        .pending()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec!["good"]);

    drop(outbox);
    let outbox = DirOutbox::open(root.path()).unwrap();
    assert!(!pending.join("half.eml").exists());
    assert!(!pending.join(".x.json.0123.tmp").exists());
    assert!(pending.join("young.eml").exists());
    assert!(pending.join("good.eml").exists() && pending.join("good.json").exists());
    assert_eq!(outbox.pending().unwrap().len(), 1);
    assert!(names(&sent).is_empty());
}

#[test]
fn r9_13_interrupted_mark_sent_is_finished_on_open() {
    let root = tempfile::tempdir().unwrap();
    let outbox = DirOutbox::open(root.path()).unwrap();
    let k = key("m", "ACCEPTED", 0);
    outbox.put(&entry("moving", k.clone())).unwrap();
    // mark_sent moved the .eml, then the process died.
    fs::rename(
        root.path().join("pending/moving.eml"),
        root.path().join("sent/moving.eml"),
    )
    .unwrap();
    assert!(outbox.pending().unwrap().is_empty(), "never sent twice");
    drop(outbox);

    let outbox = DirOutbox::open(root.path()).unwrap();
    assert_eq!(names(&root.path().join("pending")), Vec::<String>::new());
    assert_eq!(
        names(&root.path().join("sent")),
        vec!["moving.eml", "moving.json"]
    );
    assert!(outbox.find(&k).unwrap().unwrap().1);
}
