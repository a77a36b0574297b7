//! The corpus's TZIDs (real producers' data) resolve through `domain::tz`
//! (R8.9, R3.9). Prints the counts; skips when ../shared/corpus is absent.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

/// Counts go straight to stderr, past the test harness's capture, so the
/// CI log shows them.
macro_rules! report {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

use calcard::icalendar::{ICalendar, ICalendarComponentType};
use rsvp::domain::tz::{ensure_vtimezones, resolve_tzid, tzids_used};
use std::path::{Path, PathBuf};

fn corpus_ics_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "ics") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn r8_9_corpus_tzids_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        report!("corpus not found at {}; skipping", root.display());
        return;
    }
    let files = corpus_ics_files(&root);
    let (mut total, mut resolved, mut parsed, mut with_vtz) = (0usize, 0usize, 0usize, 0usize);
    let mut unresolved: Vec<String> = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let Ok(cal) = ICalendar::parse(&*text) else {
            continue;
        };
        parsed += 1;
        for tzid in tzids_used(&cal) {
            total += 1;
            let has_vtz = cal.timezones().any(|tz| {
                tz.entries
                    .iter()
                    .any(|e| e.values.first().and_then(|v| v.as_text()) == Some(tzid.as_str()))
            });
            if has_vtz {
                with_vtz += 1;
            }
            if resolve_tzid(&tzid, &cal).is_some() {
                resolved += 1;
            } else {
                let rel = file.strip_prefix(&root).unwrap_or(file);
                unresolved.push(format!("{tzid:?} in {}", rel.display()));
            }
        }
    }
    report!(
        "corpus: {} .ics files, {parsed} parsed, {total} TZIDs used \
         ({with_vtz} with their VTIMEZONE), {resolved} resolved",
        files.len()
    );
    for u in &unresolved {
        report!("  unresolved: {u}");
    }
    assert!(total > 0, "the corpus uses TZIDs");
    assert!(
        resolved * 10 >= total * 9,
        "only {resolved} of {total} TZIDs resolve"
    );
}

fn vtimezone_count(cal: &ICalendar, tzid: &str) -> usize {
    cal.timezones()
        .filter(|tz| {
            tz.entries
                .iter()
                .any(|e| e.values.first().and_then(|v| v.as_text()) == Some(tzid))
        })
        .count()
}

#[test]
fn r1_4_corpus_objects_get_every_vtimezone() {
    // Strip each object's VTIMEZONEs, then ask for them again: once from the
    // tz database alone (source without VTIMEZONEs), once copying from the
    // original. Every used TZID must get exactly one, written before the
    // events, or a warning naming it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        report!("corpus not found at {}; skipping", root.display());
        return;
    }
    let empty = ICalendar::parse("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
        .expect("empty calendar parses");
    let (mut checked, mut generated, mut copied, mut warned) = (0usize, 0usize, 0usize, 0usize);
    for file in corpus_ics_files(&root) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let Ok(original) = ICalendar::parse(&*text) else {
            continue;
        };
        let used = tzids_used(&original);
        let is_calendar = original
            .components
            .first()
            .is_some_and(|c| c.component_type == ICalendarComponentType::VCalendar);
        if used.is_empty() || !is_calendar {
            continue;
        }
        let timezone_ids: Vec<u32> = original
            .components
            .iter()
            .enumerate()
            .filter(|(_, c)| c.component_type == ICalendarComponentType::VTimezone)
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect();
        let mut stripped = original.clone();
        stripped.remove_component_ids(&timezone_ids);
        assert_eq!(stripped.timezones().count(), 0);

        for (source, from_db) in [(&empty, true), (&original, false)] {
            let mut out = stripped.clone();
            let warnings = ensure_vtimezones(&mut out, source, 1_704_067_200, 1_798_761_600);
            let written = out.to_string();
            let reparsed = ICalendar::parse(&written).expect("output re-parses");
            if let (Some(last_tz), Some(first_other)) = (
                written.rfind("END:VTIMEZONE"),
                ["BEGIN:VEVENT", "BEGIN:VTODO", "BEGIN:VJOURNAL"]
                    .iter()
                    .filter_map(|b| written.find(b))
                    .min(),
            ) {
                assert!(
                    last_tz < first_other,
                    "{}: order\n{written}",
                    file.display()
                );
            }
            for tzid in &used {
                let expect_one = if from_db {
                    resolve_tzid(tzid, &empty).is_some()
                } else {
                    vtimezone_count(&original, tzid) > 0 || resolve_tzid(tzid, &original).is_some()
                };
                let count = vtimezone_count(&reparsed, tzid);
                if expect_one {
                    assert_eq!(
                        count,
                        1,
                        "{}: VTIMEZONEs for {tzid:?}\n{written}",
                        file.display()
                    );
                    if from_db {
                        generated += 1;
                    } else {
                        copied += 1;
                    }
                } else {
                    assert_eq!(count, 0, "{}: {tzid:?}", file.display());
                    assert!(
                        warnings.iter().any(|w| w.contains(&format!("{tzid:?}"))),
                        "{}: no warning for {tzid:?}: {warnings:?}",
                        file.display()
                    );
                    warned += 1;
                }
            }
        }
        checked += 1;
    }
    report!(
        "corpus: {checked} calendars with TZIDs; {generated} VTIMEZONEs generated from the \
         tz database, {copied} copied or generated with the original as source, {warned} warnings"
    );
    assert!(checked > 0);
}
