//! The calendar index reads plain stored events fast
//! (`domain::overlap::plain`) and everything else fully: both readings
//! must give the same UIDs and busy times (R9.7's window, R9.5's terminal
//! line) wherever the fast one answers. Checked on every corpus file, on
//! variants of each shape (some of which the fast reading must take, some
//! it must leave to the full one), and on thousands of mutations of them.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

mod support;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rsvp::domain::identity::Identity;
use rsvp::domain::overlap::{index_stored, index_stored_fully, plain};
use std::path::Path;
use support::files;

/// Counts go straight to stderr, past the test harness's capture, so the
/// CI log shows them.
fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn me() -> Identity {
    Identity::new(None, &["me@example.com".to_string()])
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Windows around the variants' event (2027-03-10, 09:00–10:00 UTC for the
/// UTC form): containing it, inside it, ending at its start, starting at
/// its end, and far from it.
fn windows() -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    vec![
        (at(1990, 1, 1, 0, 0), at(2110, 1, 1, 0, 0)),
        (at(2027, 3, 10, 9, 15), at(2027, 3, 10, 9, 45)),
        (at(2026, 12, 1, 0, 0), at(2027, 3, 10, 9, 0)),
        (at(2027, 3, 10, 10, 0), at(2027, 6, 1, 0, 0)),
        (at(2027, 3, 9, 0, 0), at(2027, 3, 11, 0, 0)),
        (at(2030, 1, 1, 0, 0), at(2031, 1, 1, 0, 0)),
    ]
}

const ZONES: [Tz; 3] = [Tz::UTC, Tz::Europe__Berlin, Tz::America__New_York];

/// Whether the fast reading answered for `raw` in any zone; where it did,
/// both readings agree in every window.
fn agree(raw: &[u8], what: &str) -> bool {
    let me = me();
    let mut taken = false;
    for local in ZONES {
        if plain::read(raw, local).is_none() {
            continue;
        }
        taken = true;
        for (from, to) in windows() {
            let fast = index_stored(raw, &me, local, from, to);
            let full = index_stored_fully(raw, &me, local, from, to);
            assert_eq!(
                fast,
                full,
                "{what}: the fast reading differs (zone {local}, window {from}..{to})\n{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
    taken
}

const BERLIN: &str = "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:DAYLIGHT\nTZOFFSETFROM:+0100\n\
TZOFFSETTO:+0200\nTZNAME:CEST\nDTSTART:19700329T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\n\
END:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nTZNAME:CET\n\
DTSTART:19701025T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE\n";

/// A calendar with `head` before the event (time zones, calendar
/// properties) and `props` inside it, lines ended by LF.
fn calendar(head: &str, props: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//rsvp tests//EN\n{head}BEGIN:VEVENT\n\
UID:plain-1@example.com\nDTSTAMP:20261101T000000Z\n{props}END:VEVENT\nEND:VCALENDAR\n"
    )
}

const UTC_TIMES: &str = "DTSTART:20270310T090000Z\nDTEND:20270310T100000Z\n";
const BERLIN_TIMES: &str =
    "DTSTART;TZID=Europe/Berlin:20270310T100000\nDTEND;TZID=Europe/Berlin:20270310T110000\n";

/// (name, calendar text, whether the fast reading must answer).
fn variants() -> Vec<(&'static str, String, Option<bool>)> {
    let s = "SUMMARY:Standup\n";
    let mut v = vec![
        ("utc", calendar("", &format!("{UTC_TIMES}{s}")), Some(true)),
        (
            "zoned with its VTIMEZONE",
            calendar(BERLIN, &format!("{BERLIN_TIMES}{s}")),
            Some(true),
        ),
        (
            "zoned without a VTIMEZONE",
            calendar("", &format!("{BERLIN_TIMES}{s}")),
            Some(true),
        ),
        (
            "floating",
            calendar(
                "",
                "DTSTART:20270310T090000\nDTEND:20270310T100000\nSUMMARY:Floating\n",
            ),
            Some(true),
        ),
        (
            "all-day",
            calendar(
                "",
                "DTSTART;VALUE=DATE:20270310\nDTEND;VALUE=DATE:20270311\nSUMMARY:Away\n",
            ),
            Some(true),
        ),
        (
            "end before start",
            calendar(
                "",
                "DTSTART:20270310T100000Z\nDTEND:20270310T090000Z\nSUMMARY:Backwards\n",
            ),
            Some(true),
        ),
        (
            "an instant",
            calendar(
                "",
                "DTSTART:20270310T093000Z\nDTEND:20270310T093000Z\nSUMMARY:Ping\n",
            ),
            Some(true),
        ),
        (
            "cancelled",
            calendar("", &format!("{UTC_TIMES}{s}STATUS:CANCELLED\n")),
            Some(true),
        ),
        (
            "transparent",
            calendar("", &format!("{UTC_TIMES}{s}TRANSP:TRANSPARENT\n")),
            Some(true),
        ),
        (
            "tentative and opaque",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}STATUS:TENTATIVE\nTRANSP:OPAQUE\n"),
            ),
            Some(true),
        ),
        (
            "an alarm",
            calendar(
                "",
                &format!(
                    "{UTC_TIMES}{s}BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Soon\nTRIGGER:-PT15M\nEND:VALARM\n"
                ),
            ),
            Some(true),
        ),
        (
            "a folded, escaped description",
            calendar(
                "",
                &format!(
                    "{UTC_TIMES}{s}DESCRIPTION:one line\\, then\\nanother that goes on and on\n  and is folded\n\tand folded again\n"
                ),
            ),
            Some(true),
        ),
        (
            "an organizer",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}ORGANIZER;CN=Boss:mailto:boss@example.com\n"),
            ),
            Some(true),
        ),
        (
            "non-ASCII and bidi in the summary",
            calendar("", &format!("{UTC_TIMES}SUMMARY:Café ☕ \u{202e}evil\n")),
            Some(true),
        ),
        (
            "Windows zone name",
            calendar(
                "",
                "DTSTART;TZID=W. Europe Standard Time:20270310T100000\nDTEND;TZID=W. Europe Standard Time:20270310T110000\nSUMMARY:Outlook\n",
            ),
            None,
        ),
        (
            "zone name in lower case",
            calendar(
                "",
                "DTSTART;TZID=europe/berlin:20270310T100000\nDTEND;TZID=europe/berlin:20270310T110000\nSUMMARY:Lower\n",
            ),
            None,
        ),
        (
            "zone name with an underscore",
            calendar(
                "",
                "DTSTART;TZID=Europe_Berlin:20270310T100000\nDTEND;TZID=Europe_Berlin:20270310T110000\nSUMMARY:Under\n",
            ),
            None,
        ),
        (
            "zone the readers do not know",
            calendar(
                "",
                "DTSTART;TZID=Mars/Olympus:20270310T100000\nDTEND;TZID=Mars/Olympus:20270310T110000\nSUMMARY:Mars\n",
            ),
            Some(false),
        ),
        (
            "in the gap when clocks go forward",
            calendar(
                BERLIN,
                "DTSTART;TZID=Europe/Berlin:20270328T023000\nDTEND;TZID=Europe/Berlin:20270328T033000\nSUMMARY:Gap\n",
            ),
            Some(false),
        ),
        (
            "in the hour repeated when clocks go back",
            calendar(
                BERLIN,
                "DTSTART;TZID=Europe/Berlin:20271031T023000\nDTEND;TZID=Europe/Berlin:20271031T040000\nSUMMARY:Twice\n",
            ),
            Some(false),
        ),
        (
            "floating in the local gap",
            calendar(
                "",
                "DTSTART:20270328T023000\nDTEND:20270328T033000\nSUMMARY:Gap\n",
            ),
            Some(true),
        ),
        (
            "a recurrence",
            calendar("", &format!("{UTC_TIMES}{s}RRULE:FREQ=DAILY;COUNT=3\n")),
            Some(false),
        ),
        (
            "I declined",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.com\n"),
            ),
            Some(false),
        ),
        (
            "a duration",
            calendar(
                "",
                "DTSTART:20270310T090000Z\nDURATION:PT1H\nSUMMARY:Hour\n",
            ),
            Some(false),
        ),
        (
            "no end",
            calendar("", "DTSTART:20270310T090000Z\nSUMMARY:Open\n"),
            Some(false),
        ),
        (
            "start and end in two forms",
            calendar(
                "",
                "DTSTART:20270310T090000Z\nDTEND;TZID=Europe/Berlin:20270310T110000\nSUMMARY:Mixed\n",
            ),
            Some(false),
        ),
        (
            "a method",
            calendar("METHOD:REQUEST\n", &format!("{UTC_TIMES}{s}")),
            Some(false),
        ),
        (
            "parameters folded on a property not read",
            calendar(
                "",
                &format!(
                    "{UTC_TIMES}{s}X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-TITLE=Main\n  Street:geo:1,2\n"
                ),
            ),
            Some(true),
        ),
        (
            // Found by the fuzz target: calcard takes the part before the
            // comma for the TZID.
            "a zone with a comma in it",
            calendar(
                "",
                "DTSTART;TZID=/softwarestud,io.org/Tzfile/America/Chicago:20270310T100000\nDTEND;TZID=/softwarestud,io.org/Tzfile/America/Chicago:20270310T110000\nSUMMARY:Comma\n",
            ),
            Some(false),
        ),
        (
            "a quoted zone",
            calendar(
                "",
                "DTSTART;TZID=\"Europe/Berlin\":20270310T100000\nDTEND;TZID=\"Europe/Berlin\":20270310T110000\nSUMMARY:Quoted\n",
            ),
            Some(false),
        ),
        (
            "an escaped comma in the summary",
            calendar("", &format!("{UTC_TIMES}SUMMARY:Lunch\\, team\n")),
            Some(false),
        ),
        (
            "a bare comma in the summary",
            calendar("", &format!("{UTC_TIMES}SUMMARY:Lunch, team\n")),
            Some(false),
        ),
        (
            "a folded summary",
            calendar("", &format!("{UTC_TIMES}SUMMARY:Long\n  title\n")),
            Some(true),
        ),
        (
            "a folded UID",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}").replace("DTSTART", "X-UID-NOTE:x\nDTSTART"),
            )
            .replace("UID:plain-1@example.com", "UID:plain-1@exa\r\n mple.com"),
            Some(true),
        ),
        (
            "attendees who accepted, quoted and folded",
            calendar(
                "",
                &format!(
                    "{UTC_TIMES}{s}ORGANIZER;CN=\"Doe, John: CEO\":mailto:john@example.com\n\
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=\"Dana\n  User\";X-NUM-GUESTS=0:mailto:me@example.com\n\
ATTENDEE;PARTSTAT=TENTATIVE;DELEGATED-TO=\"mailto:a@x\",\"mailto:b@x\":mailto:john@example.com\n"
                ),
            ),
            Some(true),
        ),
        (
            "an attendee who declined, in lower case",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}ATTENDEE;PARTSTAT=declined:mailto:me@example.com\n"),
            ),
            Some(false),
        ),
        (
            "someone else declined",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}ATTENDEE;PARTSTAT=DECLINED:mailto:other@example.com\n"),
            ),
            None,
        ),
        (
            "an unterminated quote in a parameter",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}ORGANIZER;CN=\"Doe:mailto:john@example.com\n"),
            ),
            Some(false),
        ),
        (
            "quotes in a description",
            calendar(
                "",
                &format!("{UTC_TIMES}{s}DESCRIPTION:He said \"see you\" and left\n"),
            ),
            Some(true),
        ),
        (
            "a summary in quotes",
            calendar("", &format!("{UTC_TIMES}SUMMARY:\"Quarterly\" review\n")),
            Some(true),
        ),
        (
            "a property in lower case",
            calendar("", &format!("{UTC_TIMES}summary:Lower\n")),
            Some(false),
        ),
        (
            "no such day",
            calendar(
                "",
                "DTSTART:20270230T090000Z\nDTEND:20270230T100000Z\nSUMMARY:Never\n",
            ),
            Some(false),
        ),
        (
            "an escape in the summary's terminal",
            calendar("", &format!("{UTC_TIMES}SUMMARY:red \u{1b}[31m\n")),
            Some(false),
        ),
        (
            "two events",
            calendar(
                "",
                &format!(
                    "{UTC_TIMES}{s}END:VEVENT\nBEGIN:VEVENT\nUID:plain-2@example.com\n{UTC_TIMES}{s}"
                ),
            ),
            Some(false),
        ),
        (
            // Found by the fuzz target: calcard reads a line without its
            // colon on into the next, and the DTSTART was lost.
            "a property without its colon before the start",
            calendar("", &format!("DTSTAR;=ZETTID26T000000Z\n{BERLIN_TIMES}{s}")),
            Some(false),
        ),
        (
            "parameters in lower case on a property not read",
            calendar("", &format!("{UTC_TIMES}{s}X-NOTE;lang=en:hello\n")),
            Some(false),
        ),
        (
            "plain parameters on a property not read",
            calendar(
                "",
                &format!(
                    "{UTC_TIMES}{s}X-NOTE;LANGUAGE=en;X-A=b,c:hello\nLOCATION;ALTREP=cid:x:Room 1\n"
                ),
            ),
            Some(true),
        ),
        (
            "a to-do beside",
            calendar(
                "BEGIN:VTODO\nUID:todo@example.com\nSUMMARY:Do\nEND:VTODO\n",
                &format!("{UTC_TIMES}{s}"),
            ),
            Some(false),
        ),
    ];
    // The same shapes with CRLF, without the last line end, with a BOM,
    // after a blank line, and followed by another calendar.
    let base = calendar(BERLIN, &format!("{BERLIN_TIMES}{s}"));
    v.push(("CRLF", base.replace('\n', "\r\n"), Some(true)));
    v.push(("no last line end", base.trim_end().to_string(), Some(true)));
    v.push(("trailing blank lines", format!("{base}\n\n"), Some(true)));
    v.push(("a byte-order mark", format!("\u{feff}{base}"), Some(false)));
    v.push(("a blank line first", format!("\n{base}"), Some(false)));
    v.push(("two calendars", format!("{base}{base}"), Some(false)));
    v.push((
        "a bare CR",
        base.replace("SUMMARY:", "SUMMARY:a\rb "),
        Some(false),
    ));
    v
}

#[test]
fn both_readings_agree_on_every_variant_and_the_fast_one_takes_the_plain_ones() {
    for (name, text, expected) in variants() {
        let taken = agree(text.as_bytes(), name);
        if let Some(expected) = expected {
            assert_eq!(
                taken,
                expected,
                "{name}: the fast reading {} it\n{text}",
                if taken { "took" } else { "left" }
            );
        }
    }
}

#[test]
fn a_plain_event_is_read_as_written() {
    let text = calendar(BERLIN, &format!("{BERLIN_TIMES}SUMMARY:Standup\n"));
    let p = plain::read(text.as_bytes(), Tz::UTC).unwrap();
    assert_eq!(p.uid, "plain-1@example.com");
    assert_eq!(p.summary, "Standup");
    // 10:00 in Berlin in March (CET) is 09:00 UTC.
    assert_eq!(
        p.busy,
        Some((at(2027, 3, 10, 9, 0), at(2027, 3, 10, 10, 0)))
    );
    let cancelled = calendar("", &format!("{UTC_TIMES}SUMMARY:x\nSTATUS:CANCELLED\n"));
    assert_eq!(
        plain::read(cancelled.as_bytes(), Tz::UTC).unwrap().busy,
        None
    );
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes a mutation inserts: the grammar's own and its edges.
const PIECES: &[&str] = &[
    "\n",
    "\r\n",
    " ",
    "\t",
    ":",
    ";",
    ",",
    "\\",
    "\\n",
    "\"",
    "=",
    "Z",
    "T",
    "0",
    "9",
    "-",
    "\u{1b}",
    "\r",
    "BEGIN:VALARM\n",
    "END:VALARM\n",
    "END:VEVENT\n",
    "BEGIN:VEVENT\n",
    "STATUS:CANCELLED\n",
    "TRANSP:TRANSPARENT\n",
    "RRULE:FREQ=DAILY\n",
    ";VALUE=DATE",
    ";TZID=Europe/Berlin",
    ";TZID=America/New_York",
    "SUMMARY:x\n",
    "UID:u\n",
    "DTEND:20270310T110000Z\n",
    "é",
    "\u{feff}",
];

#[test]
fn both_readings_agree_on_mutations_of_every_variant() {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let bases: Vec<String> = variants()
        .into_iter()
        .filter(|(_, _, e)| *e == Some(true))
        .map(|(_, t, _)| t)
        .collect();
    let mut taken = 0usize;
    let runs = 4000;
    for run in 0..runs {
        let mut bytes = bases[rng.below(bases.len())].clone().into_bytes();
        for _ in 0..=rng.below(3) {
            let i = rng.below(bytes.len() + 1);
            match rng.below(4) {
                0 if i < bytes.len() => {
                    bytes.remove(i);
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    bytes.splice(i..i, piece.bytes());
                }
                2 if i < bytes.len() => {
                    // Change one digit or letter into another.
                    let b = bytes[i];
                    if b.is_ascii_digit() {
                        bytes[i] = b'0' + (rng.below(10) as u8);
                    } else if b.is_ascii_uppercase() {
                        bytes[i] = b'A' + (rng.below(26) as u8);
                    }
                }
                _ => {
                    // Repeat a line.
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let lines: Vec<&str> = text.split('\n').collect();
                    let k = rng.below(lines.len());
                    let mut out = lines.clone();
                    out.insert(k, lines[k]);
                    bytes = out.join("\n").into_bytes();
                }
            }
        }
        if agree(&bytes, &format!("mutation {run}")) {
            taken += 1;
        }
    }
    report(&format!(
        "calendar index: {taken} of {runs} mutations read fast, all as the full reading"
    ));
    // The mutations must exercise the fast reading, not only its refusals.
    assert!(
        taken > runs / 10,
        "only {taken} of {runs} mutations read fast"
    );
}

#[test]
fn both_readings_agree_on_every_corpus_file_and_fixture() {
    let mut paths = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &["ics", "eml"],
        &mut paths,
    );
    let fixtures = paths.len();
    let Some(corpus) = support::engine::corpus() else {
        return;
    };
    files(&corpus, &["ics", "eml"], &mut paths);
    assert!(paths.len() > fixtures + 100, "corpus looks incomplete");
    let mut taken = 0usize;
    for path in &paths {
        let raw = std::fs::read(path).unwrap();
        if agree(&raw, &path.display().to_string()) {
            taken += 1;
        }
    }
    report(&format!(
        "calendar index: {taken} of {} corpus files and fixtures read fast, all as the full reading",
        paths.len()
    ));
    assert!(taken > 0, "no corpus file was read fast");
}
