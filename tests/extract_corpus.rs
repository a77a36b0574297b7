//! `domain::extract` against the shared real-world corpus
//! (`../shared/corpus`, skipped with a message when absent): every message
//! and bare `.ics` file must extract without error or panic.

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

mod support;

use std::path::PathBuf;

use rsvp::domain::extract::extract;

/// Messages in the corpus that carry no calendar object at all.
const NON_INVITES: &[&str] = &[
    "calendarserver__dsn_failure_no_ics.eml",
    "calendarserver__reply_missing_attachment.eml",
];

/// The corpus folder, or `None` (a failure under CI) when it is missing.
fn corpus_dir() -> Option<PathBuf> {
    support::engine::corpus()
}

#[test]
fn corpus_every_message_and_ics_file_extracts() {
    let Some(dir) = corpus_dir() else { return };
    let mut messages = Vec::new();
    support::files(&dir.join("eml"), &["eml"], &mut messages);
    support::files(&dir.join("scenarios"), &["eml"], &mut messages);
    let mut bare = Vec::new();
    support::files(&dir.join("ics"), &["ics"], &mut bare);
    support::files(&dir.join("scenarios"), &["ics"], &mut bare);
    assert!(!messages.is_empty() && !bare.is_empty());

    let (mut parts, mut with_warnings, mut empty) = (0, 0, 0);
    for path in messages.iter().chain(&bare) {
        let raw = std::fs::read(path).unwrap();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let x = extract(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(x.meta.is_some(), name.ends_with(".eml"), "{name}");
        if NON_INVITES.contains(&name) {
            assert!(x.parts.is_empty(), "{name}");
            empty += 1;
            continue;
        }
        assert!(!x.parts.is_empty(), "{}: no calendar part", path.display());
        for part in &x.parts {
            assert!(
                part.text.to_ascii_uppercase().contains("BEGIN:V"),
                "{}: {:?}",
                path.display(),
                part.text.get(..80)
            );
            // Nothing in the corpus is really broken UTF-8 after unfolding.
            assert!(!part.text.contains('\u{FFFD}'), "{}", path.display());
            parts += 1;
            with_warnings += usize::from(!part.warnings.is_empty());
        }
    }
    report!(
        "corpus: {} messages, {} bare files, {parts} calendar parts ({with_warnings} with warnings), {empty} documented non-invites",
        messages.len(),
        bare.len()
    );
}

#[test]
fn corpus_specific_cases() {
    let Some(dir) = corpus_dir() else { return };
    let read = |rel: &str| extract(&std::fs::read(dir.join(rel)).unwrap()).unwrap();
    // T02: text/calendar + application/ics from Google, processed once.
    let x = read("eml/google/listarchive-openbmc__google-invitation.eml");
    assert_eq!(x.parts.len(), 1);
    assert_eq!(x.parts[0].content_type, "text/calendar");
    // `TeXt/CaLeNdAr`.
    let x = read("eml/generic/thunderbird__message-containing-event.eml");
    assert_eq!(x.parts[0].content_type, "text/calendar");
    // R7.2 is judged later: the mismatch is visible here.
    let x = read("eml/yahoo/listarchive-openbmc__yahoo-cancel-method-mismatch.eml");
    assert_eq!(x.parts[0].method_param.as_deref(), Some("REQUEST"));
    assert!(x.parts[0].text.contains("METHOD:CANCEL"));
    // CalConnect's broken example still yields its REQUEST.
    let x = read("eml/generic/calconnect__imip_example.eml");
    assert_eq!(x.parts.len(), 1);
    assert_eq!(x.parts[0].method_param.as_deref(), Some("REQUEST"));
    // Latin-1 without charset.
    let x = read("ics/mozilla/thunderbird__importLatin1.ics");
    assert!(
        x.parts[0]
            .warnings
            .iter()
            .any(|w| w.contains("windows-1252"))
    );
    // BOM.
    let x = read("ics/generic/pyicalendar__bom_calendar.ics");
    assert!(x.parts[0].text.starts_with("BEGIN:VCALENDAR"));
    // ks_c_5601-1987 bodies around a UTF-8 calendar.
    let x = read("scenarios/listarchive-exchange-teams-series/05-cancel-series.eml");
    assert_eq!(x.parts[0].method_param.as_deref(), Some("CANCEL"));
}
