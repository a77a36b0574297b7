//! A second program rewriting the same vdir file (read, temp + rename, as
//! vdirsyncer does) while rsvp updates it: none of its writes may be lost
//! (R9.12, T61). Bounded in time; the writer polls, never sleeps to wait.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use rsvp::adapters::vdir::Vdir;
use rsvp::domain::ports::{CalendarStore, StoreError};

const UID: &str = "concurrent-1@example.org";
const NAME: &str = "concurrent.ics";
/// How long the two writers race at most.
const RACE: Duration = Duration::from_secs(8);
/// Enough rsvp updates to hit the check-then-rename window of a naive store
/// (the probe lost 6 of 3,404 writes).
const RSVP_WRITES: u32 = 10_000;
/// How long a write that seems lost may take to reappear (a store that
/// restores the other program's version does so within microseconds).
const RESTORE_GRACE: Duration = Duration::from_secs(2);

fn object(writer: u64, rsvp: u64) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rsvp//test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{UID}\r\nDTSTAMP:20250301T100000Z\r\nDTSTART:20250310T150000Z\r\n\
         SUMMARY:race\r\nX-WRITER:{writer}\r\nX-RSVP:{rsvp}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

fn counter(data: &[u8], name: &str) -> Option<u64> {
    let text = std::str::from_utf8(data).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// How long the other program lets rsvp try after each of its writes (it
/// goes on as soon as rsvp has made an attempt).
const TURN: Duration = Duration::from_millis(2);

/// The other program: read, bump X-WRITER, write a temp file, rename it
/// over the object. After each write it polls until rsvp has made another
/// attempt (or [`TURN`] passed), so on a loaded machine rsvp still gets
/// windows to write in and the race is between the two, not a flood.
/// Returns (writes done, writes lost).
fn other_writer(dir: &Path, stop: &AtomicBool, attempts: &AtomicU64) -> (u64, u64) {
    let target = dir.join(NAME);
    let temp = dir.join(".other-writer.tmp");
    let mut last_written = 0;
    let mut lost = 0;
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut data) = fs::read(&target) else {
            continue;
        };
        let mut seen = counter(&data, "X-WRITER").unwrap_or(0);
        if seen < last_written {
            // Our last write is not there: poll for a while in case the
            // other side is putting it back, then count it as lost.
            let deadline = Instant::now() + RESTORE_GRACE;
            while seen < last_written && Instant::now() < deadline {
                thread::yield_now();
                data = fs::read(&target).unwrap_or_default();
                seen = counter(&data, "X-WRITER").unwrap_or(0);
            }
            if seen < last_written {
                lost += 1;
            }
        }
        let rsvp = counter(&data, "X-RSVP").unwrap_or(0);
        let next = seen + 1;
        fs::write(&temp, object(next, rsvp)).unwrap();
        fs::rename(&temp, &target).unwrap();
        last_written = next;
        let seen_attempts = attempts.load(Ordering::Relaxed);
        let turn = Instant::now();
        while attempts.load(Ordering::Relaxed) == seen_attempts
            && turn.elapsed() < TURN
            && !stop.load(Ordering::Relaxed)
        {
            thread::yield_now();
        }
    }
    let final_seen = counter(&fs::read(&target).unwrap(), "X-WRITER").unwrap_or(0);
    if final_seen < last_written {
        lost += 1;
    }
    (last_written, lost)
}

/// R9.12, T61: rsvp never overwrites a write that another program made
/// between rsvp's ETag check and its rename; a conflict is reported instead.
#[test]
fn r9_12_concurrent_writer_loses_no_write() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(NAME), object(0, 0)).unwrap();
    let vdir = Vdir::open(dir.path()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(2));

    let writer = {
        let dir = dir.path().to_path_buf();
        let stop = Arc::clone(&stop);
        let attempts = Arc::clone(&attempts);
        let start = Arc::clone(&start);
        thread::spawn(move || {
            start.wait();
            other_writer(&dir, &stop, &attempts)
        })
    };

    start.wait();
    let began = Instant::now();
    let (mut ok, mut conflicts, mut kept) = (0u32, 0u32, 0u32);
    while ok + conflicts < RSVP_WRITES && began.elapsed() < RACE {
        let Some(existing) = vdir.find_by_uid(UID).unwrap() else {
            panic!("the object vanished from the vdir");
        };
        let writer_seq = counter(&existing.data, "X-WRITER").unwrap();
        let rsvp_seq = counter(&existing.data, "X-RSVP").unwrap();
        let result = vdir.update(&existing, &object(writer_seq, rsvp_seq + 1));
        attempts.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            // A third write landed inside the swap: the newest stays, the
            // displaced one is kept beside it and the error says where.
            Err(StoreError::Io { message, .. }) if message.contains("was kept as") => kept += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (writes, lost) = writer.join().unwrap();
    eprintln!(
        "concurrent vdir writers: rsvp {ok} written, {conflicts} conflicts, {kept} kept \
         as conflict copies; other program {writes} written, {lost} lost"
    );
    assert!(ok > 0, "rsvp never managed to write");
    assert!(writes > 0, "the other program never managed to write");
    assert_eq!(
        lost, 0,
        "writes of the other program were overwritten by rsvp"
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".") && n != ".other-writer.tmp")
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let copies = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name().into_string().unwrap();
            name.starts_with(&format!("{NAME}.conflict-"))
        })
        .count();
    assert_eq!(copies, kept as usize, "one conflict copy per report");
}
