//! The Inbox session's state that survives restarts (issue 6): parsed
//! messages and the calendar index under the cache directory, on real files
//! (a Maildir, a vdir, the file cache). A stale entry is never shown: a
//! message or calendar file changed between two listings (same size, same
//! mtime second) shows its new content; a corrupt cache is discarded with a
//! log line and rebuilt; files added and removed are seen.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use chrono::{DateTime, Duration, Utc};
use rsvp::adapters::cache::FileCache;
use rsvp::adapters::maildir::MaildirSource;
use rsvp::adapters::memory::{MemoryOutbox, MemoryTransport};
use rsvp::adapters::tombstones::MemoryTombstones;
use rsvp::adapters::vdir::Vdir;
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::inbox::{Inbox, Item, Ports, Settings};
use std::fs::{File, FileTimes};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

const ME: &str = "me@x.example";

/// A plain REQUEST for `uid`, `summary` padded to a fixed width so
/// two versions have the same size.
fn request(uid: &str, summary: &str, start: &str) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291201T100000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nORGANIZER;CN=Org:mailto:org@x.example\r\nATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:{ME}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    format!(
        "From: Org <org@x.example>\r\nTo: {ME}\r\nSubject: {summary}\r\nMessage-ID: <{uid}@x.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n{ics}"
    )
}

/// A stored event (busy) for the calendar.
fn event(uid: &str, summary: &str, start: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20291201T100000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// `HH:MM` UTC on the day `days` from today: inside the overlap window.
fn at(days: i64, hhmm: &str) -> String {
    let day = (Utc::now() + Duration::days(days)).format("%Y%m%d");
    format!("{day}T{}00Z", hhmm.replace(':', ""))
}

struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for d in ["Mail/cur", "Mail/new", "Mail/tmp", "calendar", "cache"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        World {
            _dir: dir,
            root,
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn mail(&self, name: &str) -> PathBuf {
        self.root.join("Mail/cur").join(name)
    }

    fn calendar(&self, name: &str) -> PathBuf {
        self.root.join("calendar").join(name)
    }

    /// The calendar index (busy times, UIDs).
    fn cache_file(&self) -> PathBuf {
        self.root.join("cache/calendar-v1.bin")
    }

    /// The parsed messages.
    fn messages_file(&self) -> PathBuf {
        self.root.join("cache/messages-v1.bin")
    }

    /// The saved rows of the last listing.
    fn rows_file(&self) -> PathBuf {
        self.root.join("cache/rows-v1.bin")
    }

    /// A new session over the files, as a new run of rsvp makes one. Its
    /// clock runs ten seconds ahead, so files written by the test are not
    /// "racy" (changed within the timestamp granularity before they were
    /// read) and the cache is trusted by file identity alone.
    fn inbox(&self) -> Inbox {
        self.inbox_with(Utc::now() + Duration::seconds(10), |_| true)
    }

    /// A session at `now` whose contacts say `trusted`.
    fn inbox_with(&self, now: DateTime<Utc>, trusted: fn(&str) -> bool) -> Inbox {
        let log = self.log.clone();
        Inbox::new(
            Ports {
                store: Box::new(Vdir::open(&self.root.join("calendar")).unwrap()),
                busy: Vec::new(),
                outbox: Box::new(MemoryOutbox::new()),
                tombstones: Box::new(MemoryTombstones::default()),
                transport: Some(Box::new(MemoryTransport::new())),
                source: Some(Box::new(
                    MaildirSource::open(&self.root.join("Mail")).unwrap(),
                )),
                index: None,
                cache: Box::new(FileCache::new(&self.root.join("cache"))),
            },
            Settings {
                identity: Identity::new(None, &[ME.to_string()]),
                groups: Vec::new(),
                send_from: None,
                scheduling: rsvp::inbox::Scheduling::Client,
                declined: rsvp::inbox::Declined::default(),
                clock: Clock {
                    local: chrono_tz::UTC,
                },
                trusted: Box::new(trusted),
                now: Box::new(move || now),
                token: Box::new(|| "t".to_string()),
                log: Box::new(move |l: &str| log.lock().unwrap().push(l.to_string())),
            },
        )
    }
}

fn items(inbox: &mut Inbox) -> Vec<Item> {
    inbox.list(true).unwrap().items
}

fn summaries(items: &[Item]) -> Vec<String> {
    let mut s: Vec<String> = items.iter().map(|i| i.summary.clone()).collect();
    s.sort();
    s
}

/// Rewrite `path` with `data` keeping its mtime second (the nanoseconds
/// differ): what a coarse-timestamp tool sees as "unchanged".
fn rewrite_same_second(path: &Path, data: &str) {
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    let secs = before.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(std::fs::metadata(path).unwrap().len(), data.len() as u64);
    std::fs::write(path, data).unwrap();
    let same_second = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let f = File::options().write(true).open(path).unwrap();
    f.set_times(FileTimes::new().set_modified(same_second))
        .unwrap();
    let after = std::fs::metadata(path).unwrap();
    assert_eq!(
        after
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        secs,
        "same mtime second"
    );
}

/// Put the mtime of `path` in the past (to a whole second), so its stamp
/// is stable and only content-driven changes of size, ctime or inode remain.
fn age(path: &Path) {
    let past = SystemTime::now() - std::time::Duration::from_secs(3600);
    let secs = past.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let f = File::options().write(true).open(path).unwrap();
    f.set_times(FileTimes::new().set_modified(UNIX_EPOCH + std::time::Duration::from_secs(secs)))
        .unwrap();
}

/// One invitation ("Alpha") and one event that overlaps it ("Dentist").
fn alpha_and_dentist() -> World {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    std::fs::write(
        w.calendar("e1.ics"),
        event("e1", "Dentist", &at(30, "08:30")),
    )
    .unwrap();
    w
}

#[test]
fn a_warm_listing_in_a_new_session_reads_no_unchanged_file() {
    let w = alpha_and_dentist();
    let mut first = w.inbox();
    let listed = items(&mut first);
    assert_eq!(summaries(&listed), ["Alpha"]);
    assert_eq!(
        listed[0].conflicts.len(),
        1,
        "the calendar index has the dentist"
    );
    assert!(w.cache_file().is_file(), "the cache is saved");
    let saved = std::fs::metadata(w.cache_file())
        .unwrap()
        .modified()
        .unwrap();

    // A new run: the same answer from the cache.
    let mut second = w.inbox();
    let again = items(&mut second);
    assert_eq!(summaries(&again), ["Alpha"]);
    assert_eq!(again[0].conflicts, listed[0].conflicts);
    assert_eq!(
        std::fs::metadata(w.cache_file())
            .unwrap()
            .modified()
            .unwrap(),
        saved,
        "nothing changed, so the cache is not rewritten"
    );
}

/// A process about to exit leaves its in-memory caches to the operating
/// system (`Inbox::leave_cache_to_exit`): nothing it held is lost, since
/// each part was saved when it changed. The next run is served from the
/// saved rows and reads nothing; the session itself still lists after it.
#[test]
fn a_cache_left_to_the_exit_was_saved_already() {
    let w = alpha_and_dentist();
    let mut first = w.inbox();
    let listed = items(&mut first);
    first.leave_cache_to_exit();
    drop(first);

    let mut second = w.inbox();
    let again = items(&mut second);
    assert_eq!(summaries(&again), ["Alpha"]);
    assert_eq!(again[0].conflicts, listed[0].conflicts);
    let counts = second.cache_counts();
    assert_eq!(counts.served_from_rows, 1, "{counts:?}");
    assert_eq!(counts.message_reads, 0, "{counts:?}");
    assert_eq!(counts.calendar_reads, 0, "{counts:?}");

    second.leave_cache_to_exit();
    assert_eq!(summaries(&items(&mut second)), ["Alpha"]);
}

/// A first listing parses the messages a batch at a time on every core:
/// more invitations than one batch, among messages that are not
/// invitations (the mail index never offers those), give every invitation
/// once; the next session reads none of them.
#[test]
fn many_messages_are_parsed_in_batches_and_kept() {
    let w = World::new();
    let n: i64 = 600;
    for i in 0..n {
        let path = w.mail(&format!("{i}:2,S"));
        if i % 7 == 3 {
            std::fs::write(
                &path,
                "From: a@b.example\r\nSubject: hi\r\n\r\nno calendar\r\n",
            )
            .unwrap();
        } else {
            let text = request(
                &format!("u{i}"),
                &format!("Talk {i:03}"),
                &at(30 + i % 40, "08:00"),
            );
            std::fs::write(&path, text).unwrap();
        }
        age(&path);
    }
    let expected: Vec<String> = (0..n)
        .filter(|i| i % 7 != 3)
        .map(|i| format!("Talk {i:03}"))
        .collect();
    let mut first = w.inbox();
    let listed = items(&mut first);
    assert_eq!(summaries(&listed), expected);
    // Each digest went to its own message.
    for item in &listed {
        let name = Path::new(&item.message.path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let i: i64 = name.split(':').next().unwrap().parse().unwrap();
        assert_eq!(item.summary, format!("Talk {i:03}"), "{name}");
    }
    assert_eq!(first.cache_counts().message_reads, expected.len());
    let mut second = w.inbox();
    assert_eq!(summaries(&items(&mut second)), expected);
    assert_eq!(second.cache_counts().message_reads, 0);
}

#[test]
fn a_message_rewritten_in_the_same_second_with_the_same_size_shows_its_new_content() {
    let w = World::new();
    let path = w.mail("1:2,S");
    std::fs::write(&path, request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    age(&path);
    assert_eq!(summaries(&items(&mut w.inbox())), ["Alpha"]);
    rewrite_same_second(&path, &request("u1", "Omega", &at(30, "08:00")));
    // In the same session and in a new one.
    assert_eq!(summaries(&items(&mut w.inbox())), ["Omega"]);
}

#[test]
fn a_calendar_file_rewritten_in_the_same_second_with_the_same_size_is_read_again() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    let cal = w.calendar("e1.ics");
    std::fs::write(&cal, event("e1", "Dentist", &at(30, "08:30"))).unwrap();
    age(&cal);
    let mut session = w.inbox();
    let before = items(&mut session);
    assert_eq!(before[0].conflicts.len(), 1);
    assert_eq!(before[0].conflicts[0].summary, "Dentist");
    // Same size, same second: the event moves away from the invitation.
    rewrite_same_second(&cal, &event("e1", "Dentist", &at(31, "08:30")));
    let after = items(&mut session);
    assert!(after[0].conflicts.is_empty(), "{:?}", after[0].conflicts);
    assert!(
        items(&mut w.inbox())[0].conflicts.is_empty(),
        "in a new run too"
    );
}

#[test]
fn calendar_files_added_changed_and_removed_between_listings_are_seen() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    let mut session = w.inbox();
    assert!(items(&mut session)[0].conflicts.is_empty());
    assert_eq!(items(&mut session)[0].status.as_str(), "new");

    // Added: a busy event, and the invitation's own UID (now an update of
    // what is in the calendar, not new).
    std::fs::write(
        w.calendar("e1.ics"),
        event("e1", "Dentist", &at(30, "08:30")),
    )
    .unwrap();
    let stored = request("u1", "Alpha", &at(30, "08:00"));
    let ics = &stored[stored.find("BEGIN:VCALENDAR").unwrap()..];
    std::fs::write(
        w.calendar("u1.ics"),
        ics.replace("METHOD:REQUEST\r\n", "")
            .replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED"),
    )
    .unwrap();
    let listed = items(&mut session);
    assert_eq!(listed[0].conflicts.len(), 1);
    assert_eq!(
        listed[0].status.as_str(),
        "duplicate",
        "{:?}",
        listed[0].warnings
    );
    assert_eq!(listed[0].partstat.map(|p| p.as_str()), Some("ACCEPTED"));

    // Changed: the dentist is renamed (another size).
    std::fs::write(
        w.calendar("e1.ics"),
        event("e1", "Dentist (moved room)", &at(30, "08:30")),
    )
    .unwrap();
    assert_eq!(
        items(&mut session)[0].conflicts[0].summary,
        "Dentist (moved room)"
    );

    // Removed: no conflict, and the invitation is new again.
    std::fs::remove_file(w.calendar("e1.ics")).unwrap();
    std::fs::remove_file(w.calendar("u1.ics")).unwrap();
    let listed = items(&mut session);
    assert!(listed[0].conflicts.is_empty());
    assert_eq!(listed[0].status.as_str(), "new");
}

#[test]
fn messages_added_and_removed_between_listings_are_seen() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    let mut session = w.inbox();
    assert_eq!(summaries(&items(&mut session)), ["Alpha"]);
    std::fs::write(w.mail("2:2,S"), request("u2", "Beta", &at(31, "08:00"))).unwrap();
    assert_eq!(summaries(&items(&mut session)), ["Alpha", "Beta"]);
    std::fs::remove_file(w.mail("1:2,S")).unwrap();
    assert_eq!(summaries(&items(&mut session)), ["Beta"]);
    assert_eq!(
        summaries(&items(&mut w.inbox())),
        ["Beta"],
        "a new run agrees"
    );
}

#[test]
fn a_corrupt_cache_is_discarded_with_a_log_line_and_rebuilt() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    assert_eq!(summaries(&items(&mut w.inbox())), ["Alpha"]);
    // Each of the two files: the saved rows, and the parsed messages with
    // the calendar index (read when the rows do not answer, so the rows
    // are removed for that case).
    for (file, other) in [
        (w.rows_file(), None),
        (w.cache_file(), Some(w.rows_file())),
        (w.messages_file(), Some(w.rows_file())),
    ] {
        let good = std::fs::read(&file).unwrap();
        // Cut in half, then garbage: each is discarded and rebuilt.
        for bad in [
            good[..good.len() / 2].to_vec(),
            b"\xff\xfenot a cache at all".to_vec(),
        ] {
            std::fs::write(&file, &bad).unwrap();
            if let Some(other) = &other {
                std::fs::remove_file(other).unwrap();
            }
            w.log.lock().unwrap().clear();
            assert_eq!(summaries(&items(&mut w.inbox())), ["Alpha"]);
            let log = w.log.lock().unwrap().clone();
            assert!(
                log.iter()
                    .any(|l| l.contains("corrupt") && l.contains("rebuilding")),
                "{file:?}: {log:?}"
            );
            let rebuilt = std::fs::read(&file).unwrap();
            assert_ne!(rebuilt, bad, "rebuilt");
        }
    }
}

#[test]
fn an_unreadable_cache_file_costs_time_not_the_listing() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    // Directories where the cache files should be: cannot be read or saved.
    for file in [w.cache_file(), w.messages_file(), w.rows_file()] {
        std::fs::create_dir_all(file).unwrap();
    }
    assert_eq!(summaries(&items(&mut w.inbox())), ["Alpha"]);
    let log = w.log.lock().unwrap().clone();
    assert!(log.iter().any(|l| l.contains("cache")), "{log:?}");
}

mod support;

/// A new session sharing the cache reads no message file that has not
/// changed (counted by the memory source), and reads a changed one.
#[test]
fn a_new_session_reads_only_changed_messages() {
    use rsvp::adapters::memory::MemorySource;
    let m = support::memenv::MemEnv::new(&[ME]);
    let src = Arc::new(MemorySource::new());
    src.add("/m/1", request("u1", "Alpha", &at(30, "08:00")).as_bytes());
    src.add("/m/2", request("u2", "Beta", &at(31, "08:00")).as_bytes());
    assert_eq!(
        summaries(&items(&mut m.inbox(Some(src.clone())))),
        ["Alpha", "Beta"]
    );
    assert_eq!(src.reads(), 2);
    assert_eq!(
        summaries(&items(&mut m.inbox(Some(src.clone())))),
        ["Alpha", "Beta"]
    );
    assert_eq!(src.reads(), 2, "a warm listing reads nothing");
    src.add("/m/2", request("u2", "Gamma", &at(31, "08:00")).as_bytes());
    assert_eq!(
        summaries(&items(&mut m.inbox(Some(src.clone())))),
        ["Alpha", "Gamma"]
    );
    assert_eq!(src.reads(), 3, "only the changed message is read");
}

/// Issue 8 item 9: a message over the size limit is not silently left out:
/// the listing names it as unreadable, with the reason (memory source and
/// a plain Maildir).
#[test]
fn an_oversized_invitation_is_listed_as_unreadable() {
    use rsvp::adapters::memory::MemorySource;
    let mut big = request("big", "Huge", &at(30, "08:00"));
    big.push_str(&"X".repeat(rsvp::domain::extract::MAX_MESSAGE_BYTES + 1));
    let m = support::memenv::MemEnv::new(&[ME]);
    let src = Arc::new(MemorySource::new());
    src.add("/m/big", big.as_bytes());
    src.add(
        "/m/small",
        request("u1", "Alpha", &at(30, "08:00")).as_bytes(),
    );
    let listing = m.inbox(Some(src)).list(true).unwrap();
    assert_eq!(summaries(&listing.items), ["Alpha"]);
    assert_eq!(listing.unreadable.len(), 1);
    assert_eq!(listing.unreadable[0].path, "/m/big");
    assert_eq!(listing.unreadable[0].reason, "larger than 25 MB; not read");
    assert_eq!(
        listing.unreadable_note().as_deref(),
        Some("1 invitation could not be read")
    );

    let w = World::new();
    std::fs::write(w.mail("big:2,S"), &big).unwrap();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    let listing = w.inbox().list(true).unwrap();
    assert_eq!(summaries(&listing.items), ["Alpha"]);
    assert_eq!(listing.unreadable.len(), 1, "{:?}", listing.unreadable);
    assert!(listing.unreadable[0].path.ends_with("big:2,S"));
}

/// Issue 6, "a warm listing reads no message that has not changed": the
/// second run is the saved rows, with no message, calendar file or saved
/// parse read; the details of one item are built on demand.
#[test]
fn a_warm_listing_is_served_from_the_saved_rows() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    std::fs::write(w.mail("2:2,S"), request("u2", "Beta", &at(32, "08:00"))).unwrap();
    std::fs::write(
        w.calendar("e1.ics"),
        event("e1", "Dentist", &at(30, "08:30")),
    )
    .unwrap();
    let mut first = w.inbox();
    let listed = items(&mut first);
    assert!(listed.iter().all(|i| i.shown.is_some()));
    assert_eq!(first.cache_counts().served_from_rows, 0);
    assert!(w.rows_file().is_file(), "the rows are saved");

    let mut second = w.inbox();
    let again = items(&mut second);
    let counts = second.cache_counts();
    assert_eq!(counts.served_from_rows, 1, "{counts:?}");
    assert_eq!(counts.message_reads, 0);
    assert_eq!(counts.calendar_reads, 0);
    assert!(
        !counts.parses_loaded,
        "the saved parses are not even loaded"
    );
    assert_eq!(summaries(&again), ["Alpha", "Beta"]);
    for (a, b) in listed.iter().zip(&again) {
        assert_eq!(
            (
                &a.key,
                &a.status,
                &a.conflicts,
                &a.warnings,
                a.pending,
                a.until
            ),
            (
                &b.key,
                &b.status,
                &b.conflicts,
                &b.warnings,
                b.pending,
                b.until
            )
        );
        assert!(b.shown.is_none(), "rows come without their details");
    }
    assert!(
        second.list(true).unwrap().unchanged,
        "served whole: unchanged"
    );
    // One item whole, on demand.
    let whole = second.item(&again[0].key).unwrap();
    assert!(whole.shown.is_some() && whole.agenda.is_some());
    assert_eq!(whole.summary, again[0].summary);
}

/// The saved rows are never used once the time alone changes a row: the
/// event has ended, so the same listing an hour later says it is past.
#[test]
fn saved_rows_expire_when_a_row_changes_with_the_time() {
    let w = World::new();
    let now = Utc::now() + Duration::seconds(10);
    let soon = (now + Duration::minutes(30))
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &soon)).unwrap();
    let listed = w.inbox_with(now, |_| true).list(true).unwrap().items;
    assert!(!listed[0].past);
    assert_eq!(listed[0].until.map(|t| t > now), Some(true), "{listed:?}");
    // A minute later nothing changed: the rows answer.
    let mut later = w.inbox_with(now + Duration::minutes(1), |_| true);
    assert!(!later.list(true).unwrap().items[0].past);
    assert_eq!(later.cache_counts().served_from_rows, 1);
    // Two hours later the event has ended (the hour it lasts is over).
    let mut after = w.inbox_with(now + Duration::hours(2), |_| true);
    let listed = after.list(true).unwrap().items;
    assert!(listed[0].past, "{listed:?}");
    assert_eq!(after.cache_counts().served_from_rows, 0);
    assert!(
        after.list(false).unwrap().items.is_empty(),
        "past: not pending"
    );
}

/// R9.2: rows that depended on the contacts are rebuilt when the contacts
/// say otherwise (the untrusted flag comes and goes).
#[test]
fn saved_rows_follow_the_contacts() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    let now = Utc::now() + Duration::seconds(10);
    let trusted = w.inbox_with(now, |_| true).list(true).unwrap().items;
    assert!(trusted[0].flags.is_empty());
    let mut stranger = w.inbox_with(now, |_| false);
    let listed = stranger.list(true).unwrap().items;
    assert_eq!(listed[0].flags, [rsvp::inbox::Flag::Untrusted]);
    assert_eq!(stranger.cache_counts().served_from_rows, 0);
    let mut again = w.inbox_with(now, |_| true);
    assert!(again.list(true).unwrap().items[0].flags.is_empty());
    assert_eq!(again.cache_counts().served_from_rows, 0);
}

/// A calendar file changed in place (same size, same second) and a message
/// rewritten the same way: the rows are not served, the new content is.
#[test]
fn saved_rows_are_not_served_after_a_file_changed_under_them() {
    let w = World::new();
    let msg = w.mail("1:2,S");
    std::fs::write(&msg, request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    age(&msg);
    let cal = w.calendar("e1.ics");
    std::fs::write(&cal, event("e1", "Dentist", &at(30, "08:30"))).unwrap();
    age(&cal);
    assert_eq!(items(&mut w.inbox())[0].conflicts.len(), 1);
    rewrite_same_second(&cal, &event("e1", "Dentist", &at(31, "08:30")));
    let mut session = w.inbox();
    assert!(items(&mut session)[0].conflicts.is_empty());
    assert_eq!(session.cache_counts().served_from_rows, 0);
    rewrite_same_second(&msg, &request("u1", "Omega", &at(30, "08:00")));
    let mut session = w.inbox();
    assert_eq!(summaries(&items(&mut session)), ["Omega"]);
    assert_eq!(session.cache_counts().served_from_rows, 0);
    let mut session = w.inbox();
    assert_eq!(summaries(&items(&mut session)), ["Omega"]);
    assert_eq!(
        session.cache_counts().served_from_rows,
        1,
        "then served again"
    );
}

/// When the rows cannot be served whole, each row is still taken again if
/// its own messages, stored copy, tombstone and queue state are unchanged
/// and no busy time that changed touches its occurrences; the rest are
/// rebuilt. An event moved from one invitation's slot to another's
/// changes the conflicts of both and of nothing else.
#[test]
fn rows_untouched_by_a_change_are_reused_one_by_one() {
    let w = World::new();
    for (name, uid, summary, day) in [
        ("1:2,S", "u1", "Alpha", 30),
        ("2:2,S", "u2", "Beta", 40),
        ("3:2,S", "u3", "Gamma", 50),
    ] {
        let path = w.mail(name);
        std::fs::write(&path, request(uid, summary, &at(day, "08:00"))).unwrap();
        age(&path);
    }
    let cal = w.calendar("e1.ics");
    std::fs::write(&cal, event("e1", "Dentist", &at(30, "08:30"))).unwrap();
    age(&cal);
    let conflicts = |items: &[Item]| -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = items
            .iter()
            .map(|i| (i.summary.clone(), i.conflicts.len()))
            .collect();
        v.sort();
        v
    };
    let first = items(&mut w.inbox());
    assert_eq!(
        conflicts(&first),
        [("Alpha".into(), 1), ("Beta".into(), 0), ("Gamma".into(), 0)]
    );
    // The dentist moves from Alpha's day to Beta's (same size, in place).
    rewrite_same_second(&cal, &event("e1", "Dentist", &at(40, "08:30")));
    let mut session = w.inbox();
    let second = items(&mut session);
    assert_eq!(
        conflicts(&second),
        [("Alpha".into(), 0), ("Beta".into(), 1), ("Gamma".into(), 0)]
    );
    let counts = session.cache_counts();
    assert_eq!(counts.served_from_rows, 0);
    assert_eq!(
        counts.rows_reused, 1,
        "only Gamma is taken again: {counts:?}"
    );
    assert_eq!(counts.calendar_reads, 1, "only the changed file is read");
    let gamma = second.iter().find(|i| i.summary == "Gamma").unwrap();
    assert!(gamma.shown.is_none(), "Gamma came from the saved rows");

    // Beta's message changes: Alpha and Gamma are taken again.
    rewrite_same_second(&w.mail("2:2,S"), &request("u2", "Bota", &at(40, "08:00")));
    let mut session = w.inbox();
    let third = items(&mut session);
    assert_eq!(
        conflicts(&third),
        [("Alpha".into(), 0), ("Bota".into(), 1), ("Gamma".into(), 0)]
    );
    assert_eq!(session.cache_counts().rows_reused, 2);
    assert_eq!(session.cache_counts().message_reads, 1);
}

/// An answer drops its row from what the next start paints by writing the
/// few bytes of the forgotten list, not every row again; the next listing
/// rebuilds that row. In a session that has not listed, the answer finds
/// the stored copy (under a name that is not its UID) through the saved
/// calendar index, without a listing first.
#[test]
fn an_answer_forgets_its_row_without_rewriting_the_rows() {
    let w = World::new();
    for (name, uid, summary, day) in [("1:2,S", "u1", "Alpha", 30), ("2:2,S", "u2", "Beta", 40)] {
        let path = w.mail(name);
        std::fs::write(&path, request(uid, summary, &at(day, "08:00"))).unwrap();
        age(&path);
    }
    // Alpha is already in the calendar, under a name that is not its UID.
    let stored = w.calendar("0a1b2c.ics");
    std::fs::write(&stored, event("u1", "Alpha", &at(30, "08:00"))).unwrap();
    age(&stored);
    let first = items(&mut w.inbox());
    let alpha = first
        .iter()
        .find(|i| i.summary == "Alpha")
        .unwrap()
        .key
        .clone();
    let rows_before = std::fs::read(w.rows_file()).unwrap();

    // As the TUI does: paint the saved rows, answer one at once.
    let mut session = w.inbox();
    assert_eq!(session.saved(true).unwrap().items.len(), 2);
    let req = rsvp::inbox::ResponseRequest {
        partstat: rsvp::domain::invite::PartStat::Accepted,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    };
    let done = session.respond(&alpha, &req).unwrap();
    assert!(done.sent, "{:?}", done.send_error);
    assert_eq!(
        done.href.as_deref(),
        Some("0a1b2c.ics"),
        "the stored copy is updated"
    );
    assert_eq!(
        std::fs::read_dir(w.root.join("calendar")).unwrap().count(),
        1,
        "no second file for the UID"
    );
    assert_eq!(
        std::fs::read(w.rows_file()).unwrap(),
        rows_before,
        "the rows are not written again"
    );
    assert!(w.root.join("cache/rows-forgotten-v1.bin").is_file());
    drop(session);

    // The next start paints the rows without Alpha and does not serve them
    // whole: its listing builds Alpha again, answered.
    let mut next = w.inbox();
    let painted = next.saved(true).unwrap();
    assert_eq!(summaries(&painted.items), ["Beta"]);
    let listed = items(&mut next);
    assert_eq!(next.cache_counts().served_from_rows, 0);
    let alpha = listed.iter().find(|i| i.summary == "Alpha").unwrap();
    assert_eq!(
        alpha.partstat,
        Some(rsvp::domain::invite::PartStat::Accepted),
        "{alpha:?}"
    );
    // A listing saves new rows: the forgotten list no longer applies.
    let mut later = w.inbox();
    assert_eq!(
        summaries(&later.saved(true).unwrap().items),
        ["Alpha", "Beta"]
    );
}

/// A cache written by another version of rsvp (another format number at
/// the start of each file) is not corrupt: it is replaced without a word.
#[test]
fn a_cache_of_another_version_is_replaced_without_a_corruption_line() {
    use rsvp::domain::ports::CacheStore;
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    let store = FileCache::new(&w.root.join("cache"));
    let old = bincode::serialize(&(5u32, "another layout", vec![1u8, 2, 3])).unwrap();
    for name in ["rows-v1.bin", "messages-v1.bin", "calendar-v1.bin"] {
        store.save(name, &old).unwrap();
    }
    let mut inbox = w.inbox();
    assert_eq!(summaries(&items(&mut inbox)), ["Alpha"]);
    let log = w.log.lock().unwrap().clone();
    assert!(!log.iter().any(|l| l.contains("corrupt")), "{log:?}");
    assert_ne!(std::fs::read(w.rows_file()).unwrap()[..4], [5, 0, 0, 0]);
    assert_eq!(summaries(&items(&mut w.inbox())), ["Alpha"]);
    assert!(w.inbox().list(true).unwrap().unchanged);
}

/// `rsvp list` builds rows without keeping each invitation's
/// classification (a first listing never holds them all at once): the
/// same rows as a full listing, and the same rows saved.
#[test]
fn a_listing_as_rows_keeps_no_classification_and_saves_the_same_rows() {
    let w = World::new();
    std::fs::write(w.mail("1:2,S"), request("u1", "Alpha", &at(30, "08:00"))).unwrap();
    std::fs::write(w.mail("2:2,S"), request("u2", "Beta", &at(32, "08:00"))).unwrap();
    std::fs::write(
        w.calendar("e1.ics"),
        event("e1", "Dentist", &at(30, "08:30")),
    )
    .unwrap();
    let full = items(&mut w.inbox());
    assert!(full.iter().all(|i| i.shown.is_some()));
    let saved_full = std::fs::read(w.rows_file()).unwrap();
    std::fs::remove_dir_all(w.root.join("cache")).unwrap();

    let mut session = w.inbox();
    let rows = session.list_rows(true).unwrap().items;
    assert_eq!(
        session.cache_counts().served_from_rows,
        0,
        "built, not served"
    );
    assert!(rows.iter().all(|i| i.shown.is_none() && i.agenda.is_none()));
    let view = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| {
                format!(
                    "{} {:?} {:?} {:?} {}",
                    i.key, i.status, i.conflicts, i.warnings, i.pending
                )
            })
            .collect()
    };
    assert_eq!(view(&rows), view(&full));
    // The rows saved are those of the full listing (only the generation,
    // a timestamp, differs): the next start paints the same.
    let saved_rows = std::fs::read(w.rows_file()).unwrap();
    assert_eq!(saved_rows.len(), saved_full.len());
    let mut next = w.inbox();
    assert_eq!(view(&next.saved(true).unwrap().items), view(&full));
    // One item whole, on demand.
    assert!(next.item(&rows[0].key).unwrap().shown.is_some());
}

/// `rsvp list` prints its rows while the cache is saved on another thread
/// (`Inbox::list_rows_then`): it shows what `list_rows` gives, and once it
/// returns every file is saved, so the next run is served from the rows
/// and reads nothing.
#[test]
fn rows_shown_while_the_cache_is_saved_are_saved_when_shown() {
    let w = alpha_and_dentist();
    let expected = w.inbox().list_rows(true).unwrap().items;
    std::fs::remove_dir_all(w.root.join("cache")).unwrap();

    let mut first = w.inbox();
    let shown = first
        .list_rows_then(true, |listing| {
            listing
                .items
                .iter()
                .map(|i| (i.key.clone(), i.summary.clone(), i.conflicts.clone()))
                .collect::<Vec<_>>()
        })
        .unwrap();
    let want: Vec<_> = expected
        .iter()
        .map(|i| (i.key.clone(), i.summary.clone(), i.conflicts.clone()))
        .collect();
    assert_eq!(shown, want);
    assert_eq!(
        first.cache_counts().served_from_rows,
        0,
        "built, not served"
    );
    for name in ["rows-v1.bin", "messages-v1.bin", "calendar-v1.bin"] {
        assert!(
            w.root.join("cache").join(name).is_file(),
            "{name} not saved"
        );
    }
    first.leave_cache_to_exit();

    let mut second = w.inbox();
    let again = second.list_rows(true).unwrap().items;
    assert_eq!(summaries(&again), ["Alpha"]);
    let counts = second.cache_counts();
    assert_eq!(counts.served_from_rows, 1, "{counts:?}");
    assert_eq!(counts.message_reads, 0, "{counts:?}");
    assert_eq!(counts.calendar_reads, 0, "{counts:?}");
    // With the rows gone, the parsed messages and the calendar index
    // saved beside them still spare every read.
    std::fs::remove_file(w.rows_file()).unwrap();
    let mut third = w.inbox();
    assert_eq!(summaries(&third.list_rows(true).unwrap().items), ["Alpha"]);
    let counts = third.cache_counts();
    assert_eq!(counts.served_from_rows, 0, "{counts:?}");
    assert_eq!(counts.message_reads, 0, "{counts:?}");
    assert_eq!(counts.calendar_reads, 0, "{counts:?}");
}
