//! The vdir calendar store on a temp directory: safe names (R9.10, T57),
//! lookup through the index, ETag-checked atomic writes (R9.12, T61) and
//! crash leftovers (T62).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rsvp::adapters::vdir::{Vdir, scan_uid};
use rsvp::domain::ports::{CalendarStore, StoreError};

const FIXTURES: &str = "tests/fixtures/vdir";

/// Escape a UID as iCalendar TEXT (what the domain writer would do).
fn escape_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn event(uid: &str, summary: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rsvp//test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{}\r\nDTSTAMP:20250301T100000Z\r\nDTSTART:20250310T150000Z\r\n\
         SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        escape_text(uid)
    )
    .into_bytes()
}

/// A collection nested two levels deep, so `../../x` would land in `root`.
fn collection() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cal").join("personal");
    fs::create_dir_all(&dir).unwrap();
    (root, dir)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn temp_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn set_old(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(3600);
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

fn is_random_name(name: &str) -> bool {
    name.len() == 36 && name.ends_with(".ics") && name[..32].bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn open_missing_directory_names_the_path() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("no-such-calendar");
    let err = Vdir::open(&missing).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no-such-calendar"), "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
}

#[test]
fn open_a_file_is_not_a_directory() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("cal.ics");
    fs::write(&file, event("x", "x")).unwrap();
    let err = Vdir::open(&file).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cal.ics") && msg.contains("not a directory"),
        "{msg}"
    );
}

#[test]
fn t57_hostile_uids_get_safe_names_inside_the_collection() {
    let (root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let long = "a".repeat(300);
    let hostile = [
        "../../.ssh/x",
        "a/b",
        ".hidden",
        long.as_str(),
        // A NUL (any CTL) is refused instead: tests/uid_controls.rs.
        "new\nline",
        "..",
        "/etc/passwd",
    ];
    for uid in hostile {
        let created = store.create(uid, &event(uid, "first")).unwrap();
        assert!(
            is_random_name(&created.href),
            "uid {uid:?} got {:?}",
            created.href
        );
        assert!(dir.join(&created.href).is_file());

        let found = store.find_by_uid(uid).unwrap().expect("found by UID");
        assert_eq!(found.href, created.href);
        assert_eq!(found.etag, created.etag);

        let updated = store.update(&found, &event(uid, "second")).unwrap();
        assert_eq!(updated.href, created.href, "update keeps the name");
        let again = store.find_by_uid(uid).unwrap().unwrap();
        assert_eq!(again.href, created.href);
        assert_eq!(again.data, event(uid, "second"));
    }
    // Nothing escaped: the root holds only the collection's parents, and
    // the collection holds exactly one file per UID (no temp files).
    assert_eq!(names(root.path()), vec!["cal".to_string()]);
    assert_eq!(
        names(&root.path().join("cal")),
        vec!["personal".to_string()]
    );
    assert_eq!(names(&dir).len(), hostile.len());
    assert!(temp_files(&dir).is_empty());
    assert!(!root.path().join(".ssh").exists());
}

#[test]
fn t57_safe_uid_is_kept_as_the_name() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let created = store
        .create("abc-123_x.y+z", &event("abc-123_x.y+z", "s"))
        .unwrap();
    assert_eq!(created.href, "abc-123_x.y+z.ics");
    assert_eq!(
        fs::read(dir.join("abc-123_x.y+z.ics")).unwrap(),
        event("abc-123_x.y+z", "s")
    );
}

#[test]
fn r9_10_name_taken_by_another_uid_gets_a_random_name() {
    let (_root, dir) = collection();
    // The file name says "taken" but the object inside is another one.
    fs::write(dir.join("taken.ics"), event("something-else", "other")).unwrap();
    let store = Vdir::open(&dir).unwrap();
    let created = store.create("taken", &event("taken", "mine")).unwrap();
    assert!(is_random_name(&created.href), "{}", created.href);
    assert_eq!(
        fs::read(dir.join("taken.ics")).unwrap(),
        event("something-else", "other"),
        "the existing file is not overwritten"
    );
    assert_eq!(
        store.find_by_uid("taken").unwrap().unwrap().href,
        created.href
    );
    assert_eq!(
        store.find_by_uid("something-else").unwrap().unwrap().href,
        "taken.ics"
    );
}

#[test]
fn r9_10_lookup_never_parses_the_file_name() {
    let (_root, dir) = collection();
    fs::write(dir.join("wanted.ics"), event("not-wanted", "x")).unwrap();
    let store = Vdir::open(&dir).unwrap();
    assert_eq!(store.find_by_uid("wanted").unwrap(), None);
    assert!(store.find_by_uid("not-wanted").unwrap().is_some());
    assert_eq!(store.find_by_uid("").unwrap(), None);
}

#[test]
fn create_for_an_existing_uid_is_a_conflict() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let first = store.create("dup", &event("dup", "a")).unwrap();
    let err = store.create("dup", &event("dup", "b")).unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            href: first.href.clone()
        }
    );
    assert_eq!(fs::read(dir.join(&first.href)).unwrap(), event("dup", "a"));
    assert_eq!(names(&dir), vec![first.href]);
}

#[test]
fn etag_is_mtime_ns_and_inode() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let created = store.create("e", &event("e", "x")).unwrap();
    let meta = fs::metadata(dir.join(&created.href)).unwrap();
    let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    assert_eq!(created.etag, format!("{mtime_ns};{}", meta.ino()));
    assert_eq!(store.find_by_uid("e").unwrap().unwrap().etag, created.etag);
}

#[test]
fn t61_file_changed_in_place_between_read_and_update_is_a_conflict() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    store.create("t61", &event("t61", "original")).unwrap();
    let read = store.find_by_uid("t61").unwrap().unwrap();

    // Another program edits the file in place (same size, maybe the same
    // mtime tick): only the content tells.
    let theirs = event("t61", "ORIGINAL");
    fs::write(dir.join(&read.href), &theirs).unwrap();

    let err = store.update(&read, &event("t61", "ours")).unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            href: read.href.clone()
        }
    );
    assert!(err.to_string().contains(&read.href));
    assert!(temp_files(&dir).is_empty(), "{:?}", names(&dir));
    assert_eq!(
        fs::read(dir.join(&read.href)).unwrap(),
        theirs,
        "their change is intact"
    );

    // Redo from a fresh read: works and keeps the name.
    let fresh = store.find_by_uid("t61").unwrap().unwrap();
    let ours = store.update(&fresh, &event("t61", "ours")).unwrap();
    assert_eq!(ours.href, read.href);
    assert_eq!(
        fs::read(dir.join(&read.href)).unwrap(),
        event("t61", "ours")
    );
}

#[test]
fn t61_file_replaced_by_rename_with_same_bytes_is_a_conflict() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    store.create("t61b", &event("t61b", "same")).unwrap();
    let read = store.find_by_uid("t61b").unwrap().unwrap();

    // vdirsyncer writes a temp file and renames it: new inode, same bytes.
    let other_tmp = dir.join("vdirsyncer-write.tmp");
    fs::write(&other_tmp, &read.data).unwrap();
    fs::rename(&other_tmp, dir.join(&read.href)).unwrap();

    let err = store.update(&read, &event("t61b", "ours")).unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            href: read.href.clone()
        }
    );
    assert!(temp_files(&dir).is_empty());
    assert_eq!(fs::read(dir.join(&read.href)).unwrap(), read.data);
}

#[test]
fn update_of_a_removed_file_is_gone() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let created = store.create("gone", &event("gone", "x")).unwrap();
    fs::remove_file(dir.join(&created.href)).unwrap();
    let err = store.update(&created, &event("gone", "y")).unwrap_err();
    assert_eq!(err, StoreError::Gone { href: created.href });
    assert!(names(&dir).is_empty());
}

#[test]
fn update_refuses_an_unsafe_href() {
    let (root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let created = store.create("u", &event("u", "x")).unwrap();
    for href in ["../../evil.ics", ".hidden.ics", "a/b.ics", "noext", ""] {
        let mut forged = created.clone();
        forged.href = href.to_string();
        let err = store.update(&forged, b"x").unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{href:?}: {err:?}");
    }
    assert!(!root.path().join("evil.ics").exists());
    assert_eq!(names(&dir), vec![created.href]);
}

#[test]
fn update_keeps_the_file_mode() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let created = store.create("mode", &event("mode", "x")).unwrap();
    let path = dir.join(&created.href);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let read = store.find_by_uid("mode").unwrap().unwrap();
    store.update(&read, &event("mode", "y")).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn t62_leftover_temp_files_are_ignored_and_old_ones_cleaned_at_the_next_start() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    store.create("real", &event("real", "x")).unwrap();

    // A crash after writing the temp file, before the rename.
    let stale = dir.join(".x.ics.tmp");
    fs::write(&stale, event("real", "half-written update")).unwrap();
    set_old(&stale);
    let stale_new = dir.join(".crashed.ics.0123456789abcdef0123456789abcdef.tmp");
    fs::write(&stale_new, event("only-in-tmp", "x")).unwrap();
    set_old(&stale_new);
    // A temp file of a writer that is still running: young, kept.
    let live = dir.join(".live.ics.fedcba9876543210fedcba9876543210.tmp");
    fs::write(&live, event("only-in-live-tmp", "x")).unwrap();
    // Other things readers must ignore (R9.12).
    fs::write(dir.join("noextension"), event("no-ext", "x")).unwrap();
    fs::write(dir.join("visible.ics.tmp"), event("visible-tmp", "x")).unwrap();
    fs::write(dir.join(".hidden.ics"), event("hidden", "x")).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    fs::write(dir.join("sub").join("nested.ics"), event("nested", "x")).unwrap();

    for uid in [
        "only-in-tmp",
        "only-in-live-tmp",
        "no-ext",
        "visible-tmp",
        "hidden",
        "nested",
    ] {
        assert_eq!(store.find_by_uid(uid).unwrap(), None, "{uid}");
    }
    let found = store.find_by_uid("real").unwrap().unwrap();
    assert_eq!(found.data, event("real", "x"), "the original is intact");
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].href, "real.ics");

    drop(store);
    // The next start: its first scan (a listing) removes the stale ones.
    let reopened = Vdir::open(&dir).unwrap();
    reopened.scan().unwrap();
    assert!(!stale.exists(), "stale temp file removed at start-up");
    assert!(!stale_new.exists(), "stale temp file removed at start-up");
    // A start that writes before any scan removes them before the write.
    let stale_again = dir.join(".y.ics.tmp");
    fs::write(&stale_again, event("real", "half-written")).unwrap();
    set_old(&stale_again);
    let writer = Vdir::open(&dir).unwrap();
    assert!(stale_again.exists(), "opening alone reads nothing");
    writer.create("second", &event("second", "y")).unwrap();
    assert!(!stale_again.exists(), "removed before the first write");
    assert!(
        live.exists(),
        "a young temp file may belong to a running writer"
    );
    assert!(dir.join("visible.ics.tmp").exists(), "not ours: left alone");
    assert!(
        dir.join(".hidden.ics").exists(),
        "not a temp file: left alone"
    );
    assert_eq!(
        reopened.find_by_uid("real").unwrap().unwrap().data,
        event("real", "x")
    );
}

#[test]
fn index_picks_up_external_edits_and_removals() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    let created = store.create("before", &event("before", "x")).unwrap();
    assert!(store.find_by_uid("before").unwrap().is_some());

    // Same size, new UID, written right away (possibly within one mtime tick).
    fs::write(dir.join(&created.href), event("after1", "x")).unwrap();
    assert_eq!(store.find_by_uid("before").unwrap(), None);
    let found = store.find_by_uid("after1").unwrap().unwrap();
    assert_eq!(found.href, created.href);

    // A file appears from outside (vdirsyncer sync).
    fs::copy(
        Path::new(FIXTURES).join("google.ics"),
        dir.join("synced.ics"),
    )
    .unwrap();
    let google = store
        .find_by_uid("7kukuqrfedlm2f9t0vr42q2q9k@google.com")
        .unwrap()
        .unwrap();
    assert_eq!(google.href, "synced.ics");

    fs::remove_file(dir.join("synced.ics")).unwrap();
    assert_eq!(
        store
            .find_by_uid("7kukuqrfedlm2f9t0vr42q2q9k@google.com")
            .unwrap(),
        None
    );
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn index_reuses_entries_of_unchanged_old_files() {
    let (_root, dir) = collection();
    let path = dir.join("old.ics");
    fs::write(&path, event("cached", "x")).unwrap();
    set_old(&path);
    let store = Vdir::open(&dir).unwrap();
    assert!(store.find_by_uid("cached").unwrap().is_some());
    // Change the UID but restore size and mtime (as `rsync -t` would):
    // the ctime still changes, so the index re-reads the file.
    let meta = fs::metadata(&path).unwrap();
    fs::write(&path, event("cachex", "x")).unwrap();
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().modified().unwrap(),
        meta.modified().unwrap()
    );
    assert_eq!(
        store.find_by_uid("cachex").unwrap().unwrap().href,
        "old.ics"
    );
    assert_eq!(store.find_by_uid("cached").unwrap(), None);
}

#[test]
fn two_objects_with_folded_and_parameterised_uids() {
    let (_root, dir) = collection();
    for name in ["google.ics", "outlook.ics", "khal-lf-escaped.ics"] {
        fs::copy(Path::new(FIXTURES).join(name), dir.join(name)).unwrap();
    }
    let store = Vdir::open(&dir).unwrap();
    let outlook_uid = "040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5A6010000000000000000100000004A6F1D2E3C4B5A69788796A5B4C3D2E1";
    assert_eq!(
        store.find_by_uid(outlook_uid).unwrap().unwrap().href,
        "outlook.ics"
    );
    assert_eq!(
        store.find_by_uid("alarm-1").unwrap(),
        None,
        "a VALARM UID is not the object's"
    );
    assert_eq!(
        store.find_by_uid("khal,escaped;uid").unwrap().unwrap().href,
        "khal-lf-escaped.ics"
    );
    let listed = store.list().unwrap();
    let hrefs: Vec<&str> = listed.iter().map(|o| o.href.as_str()).collect();
    assert_eq!(
        hrefs,
        vec!["google.ics", "khal-lf-escaped.ics", "outlook.ics"]
    );
    for obj in &listed {
        assert_eq!(
            obj.data,
            fs::read(Path::new(FIXTURES).join(&obj.href)).unwrap()
        );
    }
}

#[test]
fn unreadable_and_garbage_files_are_skipped() {
    let (_root, dir) = collection();
    fs::copy(
        Path::new(FIXTURES).join("garbage.bin"),
        dir.join("garbage.ics"),
    )
    .unwrap();
    fs::write(dir.join("empty.ics"), b"").unwrap();
    std::os::unix::fs::symlink(dir.join("missing-target.ics"), dir.join("dangling.ics")).unwrap();
    fs::create_dir(dir.join("dir.ics")).unwrap();
    fs::write(dir.join("ok.ics"), event("ok", "x")).unwrap();
    let store = Vdir::open(&dir).unwrap();
    assert!(store.find_by_uid("ok").unwrap().is_some());
    assert_eq!(store.find_by_uid("missing").unwrap(), None);
    let hrefs: Vec<String> = store.list().unwrap().into_iter().map(|o| o.href).collect();
    assert_eq!(hrefs, vec!["empty.ics", "garbage.ics", "ok.ics"]);
}

#[test]
fn list_returns_every_object() {
    let (_root, dir) = collection();
    let store = Vdir::open(&dir).unwrap();
    for i in 0..5 {
        let uid = format!("uid-{i}@example.com");
        store.create(&uid, &event(&uid, "x")).unwrap();
    }
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 5);
    for obj in &listed {
        let uid = scan_uid(&obj.data).unwrap();
        assert_eq!(store.find_by_uid(&uid).unwrap().unwrap(), *obj);
    }
}

/// The byte scanner agrees with calcard on the first VEVENT/VTODO/VJOURNAL
/// UID of every real-world file in the shared corpus.
#[test]
fn scan_uid_agrees_with_calcard_on_the_corpus() {
    let corpus = Path::new("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipping: corpus not found at {}", corpus.display());
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![corpus.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ics") {
                files.push(p);
            }
        }
    }
    assert!(!files.is_empty());
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for path in &files {
        let bytes = fs::read(path).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(cal) = calcard::icalendar::ICalendar::parse(text) else {
            continue;
        };
        use calcard::icalendar::ICalendarComponentType as T;
        let expected = cal
            .components
            .iter()
            .find(|c| matches!(c.component_type, T::VEvent | T::VTodo | T::VJournal))
            .and_then(|c| c.uid())
            .map(str::to_string);
        let Some(expected) = expected else { continue };
        compared += 1;
        if scan_uid(&bytes).as_deref() != Some(expected.as_str()) {
            mismatches.push(format!(
                "{}: {:?} vs {expected:?}",
                path.display(),
                scan_uid(&bytes)
            ));
        }
    }
    eprintln!("compared {compared} of {} corpus files", files.len());
    assert!(compared > 0);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// An old, settled stamp for `path` (as a listing an hour ago saved it):
/// its real inode, times an hour back, so the entry is not "racy".
fn settled_stamp(path: &Path) -> rsvp::domain::ports::FileStamp {
    let meta = fs::metadata(path).unwrap();
    let hour_ago = i64::try_from(
        (SystemTime::now() - Duration::from_secs(3600))
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap();
    rsvp::domain::ports::FileStamp {
        size: meta.len(),
        mtime_ns: hour_ago,
        ctime_ns: hour_ago,
        ino: meta.ino(),
    }
}

/// R9.12: the lookup before a write trusts what the saved index says of a
/// file while the directory lists it under the same name and inode (no
/// stat of every file on the way to a reply), and sees every file created,
/// removed or replaced by rename, as vdirsyncer and khal write.
#[test]
fn lookup_before_a_write_trusts_names_and_inodes_and_sees_renames() {
    let (_root, dir) = collection();
    fs::write(dir.join("a.ics"), event("one", "x")).unwrap();
    fs::write(dir.join("c.ics"), event("five", "x")).unwrap();
    let store = Vdir::open(&dir).unwrap();
    // The saved index says c.ics holds "four": as if it had been edited in
    // place (same inode) since the last listing.
    let known = vec![
        (
            "a.ics".to_string(),
            settled_stamp(&dir.join("a.ics")),
            vec!["one".to_string()],
        ),
        (
            "c.ics".to_string(),
            settled_stamp(&dir.join("c.ics")),
            vec!["four".to_string()],
        ),
    ];
    store.prime(&mut known.into_iter());
    assert_eq!(store.find_by_uid("one").unwrap().unwrap().href, "a.ics");

    // Replaced by rename (a new inode) with another UID: seen at once.
    let tmp = dir.join(".a.ics.tmp");
    fs::write(&tmp, event("two", "x")).unwrap();
    fs::rename(&tmp, dir.join("a.ics")).unwrap();
    assert_eq!(store.find_by_uid("two").unwrap().unwrap().href, "a.ics");
    assert_eq!(store.find_by_uid("one").unwrap(), None);

    // Created, then removed: seen.
    fs::write(dir.join("b.ics"), event("three", "x")).unwrap();
    assert_eq!(store.find_by_uid("three").unwrap().unwrap().href, "b.ics");
    fs::remove_file(dir.join("b.ics")).unwrap();
    assert_eq!(store.find_by_uid("three").unwrap(), None);

    // The file edited in place is trusted by name and inode, so its new UID
    // alone is not seen; looking up the old UID reads it, finds it changed,
    // and from then on the new UID is found.
    assert_eq!(store.find_by_uid("five").unwrap(), None);
    assert_eq!(store.find_by_uid("four").unwrap(), None);
    assert_eq!(store.find_by_uid("five").unwrap().unwrap().href, "c.ics");
    // A full listing stats every file and holds the truth.
    assert_eq!(store.list().unwrap().len(), 2);
}

/// A scan started ahead (as a listing starts it) gives what a scan gives,
/// and the scan that takes it still sweeps stale temp files (T62).
#[test]
fn a_prefetched_scan_is_the_scan_and_sweeps_stale_temps() {
    let (_root, dir) = collection();
    for uid in ["a", "b", "c"] {
        fs::write(dir.join(format!("{uid}.ics")), event(uid, "x")).unwrap();
    }
    let stale = dir.join(".crashed.ics.0123456789abcdef0123456789abcdef.tmp");
    fs::write(&stale, event("only-in-tmp", "x")).unwrap();
    set_old(&stale);
    let plain = Vdir::open_read_only(&dir).unwrap().scan().unwrap();
    assert_eq!(plain.len(), 3);

    let store = Vdir::open(&dir).unwrap();
    store.prefetch_scan();
    assert_eq!(store.scan().unwrap(), plain);
    assert!(!stale.exists(), "swept by the scan that took the prefetch");
    // Taken once: the next scan reads the directory again.
    fs::remove_file(dir.join("b.ics")).unwrap();
    let names: Vec<String> = store.scan().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a.ics", "c.ics"]);
}

/// T62 by the lookup: the first listing a lookup takes sweeps the stale
/// temp files it sees, so the first write after it reads the directory no
/// more for that (a temp file left after the sweep stays for the next
/// session). A read-only store sweeps nothing.
#[test]
fn t62_a_lookup_sweeps_stale_temps_once_per_session() {
    let (_root, dir) = collection();
    fs::write(dir.join("a.ics"), event("a", "x")).unwrap();
    let stale = |n: u8| dir.join(format!(".crashed.ics.{:032x}.tmp", n));
    fs::write(stale(1), event("left", "x")).unwrap();
    set_old(&stale(1));

    let read_only = Vdir::open_read_only(&dir).unwrap();
    assert!(read_only.find_by_uid("a").unwrap().is_some());
    assert!(stale(1).exists(), "a read-only store sweeps nothing");

    let store = Vdir::open(&dir).unwrap();
    let found = store.find_by_uid("a").unwrap().unwrap();
    assert!(!stale(1).exists(), "swept by the lookup's listing");

    fs::write(stale(2), event("left", "x")).unwrap();
    set_old(&stale(2));
    store.update(&found, &event("a", "y")).unwrap();
    store.create("b", &event("b", "x")).unwrap();
    assert!(
        stale(2).exists(),
        "one sweep a session: the writes read no directory for it"
    );
    assert_eq!(store.list().unwrap().len(), 2);
    assert!(
        Vdir::open(&dir)
            .unwrap()
            .find_by_uid("b")
            .unwrap()
            .is_some()
    );
    // The next session sweeps it.
    assert!(!stale(2).exists());
}

/// A store that keeps its listings' names under `cache`, saved once the
/// directory has been unchanged for 50 ms (instead of 3 s).
fn kept(dir: &Path, cache: &Path) -> Vdir {
    Vdir::open(dir)
        .unwrap()
        .keep_names_in(cache)
        .settled_after(Duration::from_millis(50))
}

fn saved_names_files(cache: &Path) -> Vec<PathBuf> {
    fs::read_dir(cache)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().contains("vdir-names-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Scan until a listing of the settled directory has been saved (polled,
/// with a deadline: a directory just written is not settled yet).
fn scan_until_saved(dir: &Path, cache: &Path) -> Vec<(String, rsvp::domain::ports::FileStamp)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let scanned = kept(dir, cache).scan().unwrap();
        if !saved_names_files(cache).is_empty() {
            return scanned;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no listing of {} was saved",
            dir.display()
        );
    }
}

/// A directory unchanged since the last listing is listed from the names
/// saved then (no reading of the directory), and each file is still
/// stat'ed: an edit in place (same size) is seen. A file created, removed
/// or replaced by rename changes the directory, which is read again.
#[test]
fn an_unchanged_directory_is_listed_from_the_saved_names() {
    let (_root, dir) = collection();
    let cache = tempfile::tempdir().unwrap();
    for uid in ["a", "b"] {
        fs::write(dir.join(format!("{uid}.ics")), event(uid, "x")).unwrap();
    }
    let first = scan_until_saved(&dir, cache.path());
    assert_eq!(first.len(), 2);

    let store = kept(&dir, cache.path());
    assert_eq!(store.scan().unwrap(), first);
    assert_eq!(store.saved_listings(), 1, "listed from the saved names");
    // A lookup lists the directory the same way.
    let store = kept(&dir, cache.path());
    assert_eq!(store.find_by_uid("b").unwrap().unwrap().href, "b.ics");
    assert_eq!(store.saved_listings(), 1);

    // Edited in place, same size: the directory is unchanged, the file's
    // stamp is not.
    fs::write(dir.join("a.ics"), event("a", "y")).unwrap();
    let store = kept(&dir, cache.path());
    let after_edit = store.scan().unwrap();
    assert_eq!(store.saved_listings(), 1);
    assert_eq!(after_edit[0].0, "a.ics");
    assert_eq!(after_edit[0].1.size, first[0].1.size);
    assert_ne!(after_edit[0].1, first[0].1, "the edit in place is seen");
    assert_eq!(after_edit[1], first[1]);

    // Created: the directory changed, so it is read again.
    fs::write(dir.join("c.ics"), event("c", "x")).unwrap();
    let store = kept(&dir, cache.path());
    let names: Vec<String> = store.scan().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a.ics", "b.ics", "c.ics"]);
    assert_eq!(store.saved_listings(), 0);

    // Replaced by rename, once the new listing is saved: read again, the
    // new inode seen.
    scan_until_saved_again(&dir, cache.path(), 3);
    let tmp = dir.join(".b.ics.0123.tmp");
    fs::write(&tmp, event("b2", "x")).unwrap();
    fs::rename(&tmp, dir.join("b.ics")).unwrap();
    let store = kept(&dir, cache.path());
    assert_eq!(store.find_by_uid("b2").unwrap().unwrap().href, "b.ics");
    assert_eq!(store.find_by_uid("b").unwrap(), None);
    assert_eq!(store.saved_listings(), 0);

    // Removed: read again.
    scan_until_saved_again(&dir, cache.path(), 3);
    fs::remove_file(dir.join("c.ics")).unwrap();
    let store = kept(&dir, cache.path());
    assert_eq!(store.scan().unwrap().len(), 2);
    assert_eq!(store.saved_listings(), 0);
}

/// Scan until a scan is served from the saved names and lists `count`
/// files (the directory changed: the next settled listing is saved).
fn scan_until_saved_again(dir: &Path, cache: &Path, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let store = kept(dir, cache);
        let scanned = store.scan().unwrap();
        if store.saved_listings() == 1 {
            assert_eq!(scanned.len(), count);
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never saved again");
    }
}

/// The saved names are a cache: a corrupt file, or one saved for another
/// directory, is not used (the directory is read and the file replaced).
#[test]
fn corrupt_or_foreign_saved_names_are_not_used() {
    let (_root, dir) = collection();
    let cache = tempfile::tempdir().unwrap();
    fs::write(dir.join("a.ics"), event("a", "x")).unwrap();
    let first = scan_until_saved(&dir, cache.path());
    let saved = saved_names_files(cache.path());
    assert_eq!(saved.len(), 1);
    let good = fs::read(&saved[0]).unwrap();

    // One byte flipped in a name: the checksum no longer matches.
    let mut bad = good.clone();
    let at = bad.windows(5).position(|w| w == b"a.ics").unwrap();
    bad[at] = b'z';
    fs::write(&saved[0], &bad).unwrap();
    let store = kept(&dir, cache.path());
    assert_eq!(store.scan().unwrap(), first);
    assert_eq!(store.saved_listings(), 0);
    assert_eq!(fs::read(&saved[0]).unwrap(), good, "saved again");

    // Another directory's names under this directory's file name.
    let (_other_root, other) = collection();
    fs::write(other.join("x.ics"), event("x", "x")).unwrap();
    let other_cache = tempfile::tempdir().unwrap();
    scan_until_saved(&other, other_cache.path());
    let foreign = &saved_names_files(other_cache.path())[0];
    fs::copy(foreign, &saved[0]).unwrap();
    let store = kept(&dir, cache.path());
    assert_eq!(store.scan().unwrap(), first);
    assert_eq!(store.saved_listings(), 0);
}

/// A scan lists the files in name order, however many there are (the stat
/// is split over the cores in shares of at least 1,024 files), whether it
/// read the directory or took the saved names.
#[test]
fn a_large_directory_is_scanned_in_name_order() {
    let (_root, dir) = collection();
    let cache = tempfile::tempdir().unwrap();
    let data = event("x", "x");
    for i in 0..2600 {
        fs::write(dir.join(format!("{:05}.ics", (i * 7919) % 10007)), &data).unwrap();
    }
    let mut expected = names(&dir);
    expected.retain(|n| n.ends_with(".ics"));
    assert_eq!(expected.len(), 2600);
    let read: Vec<String> = scan_until_saved(&dir, cache.path())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(read, expected, "read from the directory");
    let store = kept(&dir, cache.path());
    let saved: Vec<String> = store.scan().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(store.saved_listings(), 1);
    assert_eq!(saved, expected, "from the saved names");
}
