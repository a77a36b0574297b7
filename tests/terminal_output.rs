//! Everything `rsvp render` and `rsvp show` print reaches a terminal (the
//! mailcap / aerc display-filter path), so no C0 control but `\t` and `\n`,
//! no DEL, no C1 control and no bidi control may be printed, whatever field
//! of the invitation carries it: properties, parameter values and TZIDs
//! included (R9.5, T55).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use support::cli_sandbox::{ME, Sandbox};

/// The hostile payload: ESC (a CSI), a C1 CSI, DEL, a bidi override and a
/// bidi isolate.
const EVIL: &str = "\u{1b}[31m\u{9b}2J\u{7f}\u{202e}\u{2066}";

/// Every displayed field carries the payload after a marker naming it.
fn hostile_calendar(summary: &str, location: &str) -> String {
    let e = EVIL;
    let tz = format!("Evil/Zone{e}");
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x{e}//EN\r\nMETHOD:REQUEST\r\n\
         BEGIN:VTIMEZONE\r\nTZID:{tz}\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
         TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nTZNAME:EVL{e}\r\nEND:STANDARD\r\n\
         END:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:evil-uid{e}@example.org\r\nSEQUENCE:1\r\n\
         DTSTAMP:20250101T100000Z\r\n\
         DTSTART;TZID=\"{tz}\":20250106T090000\r\nDTEND;TZID=\"{tz}\":20250106T100000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=\"{tz}\":20250113T090000\r\n\
         SUMMARY:{summary}\r\nLOCATION:{location}\r\nDESCRIPTION:description{e}\\nline2{e}\r\n\
         URL:https://example.org/url{e}\r\nX-GOOGLE-CONFERENCE:https://meet.example/conf{e}\r\n\
         COMMENT:comment{e}\r\nCATEGORIES:category{e}\r\n\
         ORGANIZER;CN=\"organizer-cn{e}\";SENT-BY=\"mailto:sentby{e}@example.org\":mailto:org@example.org\r\n\
         ATTENDEE;CN=\"me-cn{e}\";ROLE=role{e};CUTYPE=cutype{e};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\n\
         ATTENDEE;CN=\"other-cn{e}\";PARTSTAT=x-state{e};EMAIL=\"other{e}@example.org\":urn:uuid:other{e}\r\n\
         END:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:evil-uid{e}@example.org\r\nSEQUENCE:1\r\nDTSTAMP:20250101T100000Z\r\n\
         RECURRENCE-ID;TZID=\"{tz}\":20250120T090000\r\n\
         DTSTART;TZID=\"{tz}\":20250120T110000\r\nDTEND;TZID=\"{tz}\":20250120T120000\r\n\
         SUMMARY:override-summary{e}\r\nLOCATION:override-location{e}\r\n\
         ORGANIZER;CN=\"organizer-cn{e}\":mailto:org@example.org\r\n\
         ATTENDEE;CN=\"me-cn{e}\";PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn hostile_message(summary: &str, location: &str) -> Vec<u8> {
    let e = EVIL;
    format!(
        "From: \"from-name{e}\" <org@example.org>\r\nTo: {ME}\r\n\
         Subject: subject{e}\r\nMessage-ID: <evil@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{}",
        hostile_calendar(summary, location)
    )
    .into_bytes()
}

/// Panics naming the first control character that would reach the terminal.
fn assert_terminal_safe(what: &str, text: &str) {
    for (i, c) in text.chars().enumerate() {
        let u = u32::from(c);
        let bad = (u < 0x20 && c != '\t' && c != '\n')
            || u == 0x7f
            || (0x80..=0x9f).contains(&u)
            || rsvp::domain::sanitize::is_bidi_control(c);
        assert!(
            !bad,
            "{what}: {c:?} at char {i} reaches the terminal:\n{}",
            text.chars()
                .skip(i.saturating_sub(60))
                .take(120)
                .collect::<String>()
        );
    }
}

/// T55: `rsvp render` (no configuration, the display filter) prints every
/// field of a hostile invitation without a single control character, and
/// still shows the fields (the payload is made visible, not dropped).
#[test]
fn t55_render_prints_no_control_from_any_field() {
    let s = Sandbox::empty();
    let path = s.root().join("evil.eml");
    let e = EVIL;
    std::fs::write(
        &path,
        hostile_message(&format!("summary{e}"), &format!("location{e}")),
    )
    .unwrap();
    let out = s.bare().arg("render").arg(&path).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert_terminal_safe("render stdout", &stdout);
    assert_terminal_safe("render stderr", &stderr);
    for field in [
        "summary",
        "location",
        "description",
        "organizer-cn",
        "me-cn",
        "other-cn",
        "Evil/Zone",
        "override-summary",
    ] {
        // The parser drops some controls from parameter values; what is
        // left is shown in visible form.
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(field) && l.contains("<U+009B>2J") && l.contains("<U+202E>")),
            "{field} is not shown made visible:\n{stdout}"
        );
    }
}

/// T55: `rsvp show` against a stored copy (so the diff of old and new
/// values is printed too) and `show --json` print no control character.
#[test]
fn t55_show_and_its_diff_print_no_control_from_any_field() {
    let s = Sandbox::new();
    let e = EVIL;
    let stored = hostile_calendar(&format!("old-summary{e}"), &format!("old-location{e}"))
        .replace("METHOD:REQUEST\r\n", "")
        .replace("SEQUENCE:1", "SEQUENCE:0");
    std::fs::write(s.cal_dir().join("evil.ics"), stored).unwrap();
    let path = s.root().join("evil.eml");
    std::fs::write(
        &path,
        hostile_message(&format!("new-summary{e}"), &format!("new-location{e}")),
    )
    .unwrap();
    let message = path.to_str().unwrap();

    let out = s.rsvp(&["show", "--message", message]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert_terminal_safe("show stdout", &stdout);
    assert_terminal_safe("show stderr", &stderr);
    assert!(stdout.contains("Changes against your calendar"), "{stdout}");
    for field in ["old-summary", "new-location", "Evil/Zone", "me-cn"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(field) && l.contains("<U+202E>")),
            "{field} is not shown made visible:\n{stdout}"
        );
    }

    let out = s
        .rsvp(&["show", "--json", "--message", message])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert_terminal_safe("show --json", &stdout);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["summary"].as_str().unwrap().contains('\u{202e}'));
}
