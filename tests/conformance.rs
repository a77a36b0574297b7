//! The conformance cases of ITIP-RULES.md §10, one named test per case id
//! (`tNN_…`), at the use-case level: whole e-mail messages go through the
//! inbox use cases on memory adapters (`MemEnv`), or through the real binary
//! on a tempdir vdir (`Sandbox`) where the terminal, the file system or the
//! process matters (T55–T62). The messages are the fixtures in
//! `tests/fixtures/conformance/` (modelled on Thunderbird, Google, Outlook,
//! Apple, the RFC examples and hostile senders) or are built below when a
//! case needs a sequence of revisions of one event.
//!
//! Many cases also have unit tests next to the code (`grep -rn "fn t[0-9]"
//! src tests`); [`conformance_index_is_complete`] checks that every id of
//! T01–T47 and T55–T62 keeps at least one named test somewhere.
//!
//! Cases, or parts of cases, that do not concern this issue (the attendee
//! side of iMIP with a local vdir):
//! - T20: the main case (SCHEDULE-AGENT=CLIENT stored, no SCHEDULE-* sent)
//!   is tested here; the server_scheduling variant in tests/engine_smoke.rs.
//! - T48–T54: processing REPLYs as the organizer (rsvp refuses to apply a
//!   REPLY; `t48`… are not required).
//! - T63: SMTP failure and retry: covered by `tests/transport.rs` and
//!   `tests/outbox.rs` against a real loopback server.
//! - T64: address-parse tricks: `domain::identity`/`classify` unit tests.
//! - T65: PUBLISH/ADD as optional methods (ADD is not handled).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use rsvp::cli::{present, show_json};
use rsvp::domain::classify::{self, Status};
use rsvp::domain::ical;
use rsvp::domain::invite::PartStat;
use rsvp::domain::ports::{CalendarStore, Outbox};
use rsvp::inbox::{self, Applied, Env, InboxError, Responded, ResponseRequest};
use std::path::Path;
use std::time::{Duration, Instant};
use support::cli_sandbox::{self as sandbox, ALIAS, ME, Sandbox, fixture, fixture_path};
use support::memenv::MemEnv;

// ---------------------------------------------------------------------------
// Building messages
// ---------------------------------------------------------------------------

const ORG: &str = "olivia@example.com";

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// One VEVENT, as an organizer's client would write it.
#[derive(Clone)]
struct Ev {
    lines: Vec<String>,
}

impl Ev {
    /// A one-hour meeting on Mon 2025-01-13 09:00 UTC, me invited with RSVP.
    fn new(uid: &str) -> Ev {
        Ev {
            lines: vec![
                format!("UID:{uid}"),
                "SEQUENCE:0".into(),
                "DTSTAMP:20250102T100000Z".into(),
                "DTSTART:20250113T090000Z".into(),
                "DTEND:20250113T100000Z".into(),
                "SUMMARY:Planning".into(),
                format!("ORGANIZER;CN=Olivia Organizer:mailto:{ORG}"),
                format!("ATTENDEE;CN=Olivia Organizer;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:{ORG}"),
                format!(
                    "ATTENDEE;CN=Dana User;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}"
                ),
            ],
        }
    }

    /// A weekly series from Mon 2025-01-06 09:00 Europe/Berlin.
    fn weekly(uid: &str) -> Ev {
        Ev::new(uid)
            .set("DTSTART;TZID=Europe/Berlin:20250106T090000")
            .set("DTEND;TZID=Europe/Berlin:20250106T100000")
            .set("RRULE:FREQ=WEEKLY;COUNT=10")
    }

    fn name_of(line: &str) -> &str {
        line.split([';', ':']).next().unwrap_or("")
    }

    /// Replace the property of the same name (the first one), or add it.
    fn set(mut self, line: &str) -> Ev {
        let name = Ev::name_of(line).to_string();
        match self.lines.iter().position(|l| Ev::name_of(l) == name) {
            Some(i) => self.lines[i] = line.to_string(),
            None => self.lines.push(line.to_string()),
        }
        self
    }

    fn add(mut self, line: &str) -> Ev {
        self.lines.push(line.to_string());
        self
    }

    fn remove(mut self, name: &str) -> Ev {
        self.lines.retain(|l| Ev::name_of(l) != name);
        self
    }

    /// Replace my ATTENDEE line.
    fn me(mut self, line: &str) -> Ev {
        self.lines
            .retain(|l| !(l.starts_with("ATTENDEE") && l.to_lowercase().contains(ME)));
        self.lines.push(line.to_string());
        self
    }

    fn seq(self, n: i64) -> Ev {
        self.set(&format!("SEQUENCE:{n}"))
    }

    fn stamp(self, s: &str) -> Ev {
        self.set(&format!("DTSTAMP:{s}"))
    }

    fn text(&self) -> String {
        let mut s = String::from("BEGIN:VEVENT\r\n");
        for l in &self.lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str("END:VEVENT\r\n");
        s
    }
}

/// A whole iMIP message: one text/calendar part carrying `events` (and the
/// Europe/Berlin VTIMEZONE when they use it).
fn mail_with(method: &str, from: &str, extra_headers: &[&str], events: &[Ev]) -> Vec<u8> {
    let uses_berlin = events
        .iter()
        .any(|e| e.lines.iter().any(|l| l.contains("TZID=Europe/Berlin")));
    let tz = if uses_berlin { BERLIN } else { "" };
    mail_tz(method, from, extra_headers, tz, events)
}

/// Like [`mail_with`] with explicit VTIMEZONE text.
fn mail_tz(method: &str, from: &str, extra_headers: &[&str], tz: &str, events: &[Ev]) -> Vec<u8> {
    let body: String = events.iter().map(Ev::text).collect();
    let uid = events
        .first()
        .and_then(|e| e.lines.first())
        .cloned()
        .unwrap_or_default();
    let id: String = format!("{uid}{}", body.len())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut m = format!(
        "From: Sender <{from}>\r\nTo: Dana User <{ME}>\r\nSubject: {method} test\r\nDate: Thu, 2 Jan 2025 10:00:00 +0000\r\nMessage-ID: <{id}@test.example>\r\nMIME-Version: 1.0\r\n"
    );
    for h in extra_headers {
        m.push_str(h);
        m.push_str("\r\n");
    }
    m.push_str(&format!(
        "Content-Type: text/calendar; method={method}; charset=UTF-8\r\n\r\nBEGIN:VCALENDAR\r\nPRODID:-//Test//Conformance//EN\r\nVERSION:2.0\r\nMETHOD:{method}\r\n{tz}{body}END:VCALENDAR\r\n"
    ));
    m.into_bytes()
}

fn request(events: &[Ev]) -> Vec<u8> {
    mail_with("REQUEST", ORG, &[], events)
}

fn cancel(events: &[Ev]) -> Vec<u8> {
    mail_with("CANCEL", ORG, &[], events)
}

// ---------------------------------------------------------------------------
// Running the use cases
// ---------------------------------------------------------------------------

fn mem() -> MemEnv {
    MemEnv::new(&[ME, ALIAS])
}

fn ask(partstat: PartStat) -> ResponseRequest<'static> {
    ResponseRequest {
        partstat,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    }
}

fn answer(env: &Env<'_>, raw: &[u8], partstat: PartStat) -> Result<Responded, InboxError> {
    inbox::respond(env, raw, &ask(partstat))
}

fn status(env: &Env<'_>, raw: &[u8]) -> Status {
    inbox::show(env, raw).unwrap().class.status
}

fn stored_text(m: &MemEnv, uid: &str) -> String {
    let obj = m
        .store
        .find_by_uid(uid)
        .unwrap()
        .unwrap_or_else(|| panic!("{uid} is not in the calendar"));
    String::from_utf8(obj.data).unwrap()
}

fn stored_bytes(m: &MemEnv, uid: &str) -> Option<Vec<u8>> {
    m.store.find_by_uid(uid).unwrap().map(|o| o.data)
}

/// Unfolded iCalendar text.
fn unfold(s: &str) -> String {
    s.replace("\r\n ", "").replace("\r\n\t", "")
}

/// The REPLY calendar of the `n`th message the transport got, unfolded.
fn sent_ics(m: &MemEnv, n: usize) -> String {
    let sent = m.transport.sent();
    let (_, raw) = sent.get(n).expect("a sent message");
    unfold(&sandbox::reply_ics(raw))
}

/// My ATTENDEE line in stored (unfolded) iCalendar text.
fn my_line(ics: &str) -> String {
    unfold(ics)
        .lines()
        .find(|l| l.starts_with("ATTENDEE") && l.to_lowercase().ends_with(ME))
        .unwrap_or_else(|| panic!("no ATTENDEE for me in:\n{ics}"))
        .to_string()
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

fn assert_refused<T: std::fmt::Debug>(r: Result<T, InboxError>, what: &str) -> String {
    match r {
        Err(InboxError::Refused(why)) | Err(InboxError::NotInvitation(why)) => why,
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// A. Transport and parsing
// ---------------------------------------------------------------------------

/// T01: new, prompted; stored once without METHOD, NEEDS-ACTION, with the
/// received SEQUENCE and DTSTAMP (R3.1, R3.10, R8.10).
#[test]
fn t01_thunderbird_request_is_new_and_stored_without_method() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t01-thunderbird-request.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.class.status, Status::New);
    assert!(shown.class.rsvp_requested, "the user is prompted");
    assert_eq!(shown.class.partstat, Some(PartStat::NeedsAction));
    let (_, applied) = inbox::apply_message(&env, &raw).unwrap();
    assert!(matches!(applied, Applied::Stored { created: true, .. }));
    assert_eq!(m.store.list().unwrap().len(), 1);
    let ics = stored_text(&m, "5c3e1b9a-7f42-4d8e-9a51-0c2f6b8e4d17");
    assert!(!ics.contains("METHOD"), "{ics}");
    assert!(my_line(&ics).contains("PARTSTAT=NEEDS-ACTION"), "{ics}");
    assert!(ics.contains("X-RSVP-RECEIVED-SEQUENCE:0\r\n"), "{ics}");
    assert!(
        ics.contains("X-RSVP-RECEIVED-DTSTAMP:20250102T093512Z\r\n"),
        "{ics}"
    );
}

/// T02: text/calendar inside multipart/alternative plus an identical
/// application/ics attachment: one invitation, one prompt, one reply.
#[test]
fn t02_google_structure_with_ics_copy_is_processed_once() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t02-google-request.eml");
    let loaded = inbox::load(&raw).unwrap();
    assert!(loaded.invite.is_ok());
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.class.status, Status::New);
    assert!(
        !shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("more than one")),
        "{:?}",
        shown.class.warnings
    );
    let done = answer(&env, &raw, PartStat::Accepted).unwrap();
    assert!(done.sent);
    assert_eq!(m.transport.sent().len(), 1);
    let ics = sent_ics(&m, 0);
    assert_eq!(count(&ics, "BEGIN:VEVENT"), 1, "{ics}");
    assert_eq!(m.store.list().unwrap().len(), 1);
    // A second look is a duplicate, not a second prompt.
    assert_eq!(status(&env, &raw), Status::Duplicate);
}

/// T03: method=REQUEST in the header, METHOD:CANCEL in the body: invalid,
/// reported, nothing stored or sent (R7.2).
#[test]
fn t03_method_mismatch_is_rejected_without_store_change() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t03-method-mismatch.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.class.status, Status::Invalid);
    assert!(
        shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("method=REQUEST") && w.contains("METHOD:CANCEL")),
        "{:?}",
        shown.class.warnings
    );
    assert_refused(inbox::apply_message(&env, &raw), "apply");
    assert_refused(answer(&env, &raw, PartStat::Accepted), "reply");
    assert!(m.store.list().unwrap().is_empty());
    assert!(m.transport.sent().is_empty());
}

/// T04: a text/calendar attachment without method=: import at most, never
/// answered (R7.1).
#[test]
fn t04_no_method_is_import_only_and_never_answered() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t04-apple-no-method.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.invite().unwrap().method, None);
    assert_eq!(shown.class.status, Status::Publish);
    assert!(shown.class.reply_refusal.is_some());
    assert!(!shown.class.rsvp_requested);
    assert_refused(answer(&env, &raw, PartStat::Accepted), "reply");
    assert!(m.transport.sent().is_empty());
    assert!(m.outbox.pending().unwrap().is_empty());
}

/// T05: windows-1252 quoted-printable from Outlook: "Café" decoded; the
/// REPLY is UTF-8 and says so (R7.4).
#[test]
fn t05_windows_1252_summary_decoded_and_reply_is_utf8() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t05-outlook-windows-1252-qp.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    let inv = shown.invite().unwrap();
    assert_eq!(inv.summary().as_deref(), Some("Café"));
    let text = present::describe(inv, Some(&shown.class), &env.clock);
    assert!(text.contains("Café Central"), "{text}");
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let (_, msg) = &m.transport.sent()[0];
    let msg_text = String::from_utf8_lossy(msg);
    assert!(
        msg_text.contains("Content-Type: text/calendar; method=REPLY; charset=UTF-8"),
        "{msg_text}"
    );
    let ics = sent_ics(&m, 0);
    assert!(ics.contains("SUMMARY;LANGUAGE=de-DE:Café\r\n"), "{ics}");
    assert!(!ics.contains('\u{FFFD}'));
}

/// T06: the same object as 7bit, base64 and quoted-printable with soft line
/// breaks inside folded lines parses identically.
#[test]
fn t06_cte_variants_give_identical_results() {
    let m = mem();
    let env = m.env();
    let results: Vec<(String, String)> =
        ["t06-7bit.eml", "t06-base64.eml", "t06-quoted-printable.eml"]
            .iter()
            .map(|name| {
                let shown = inbox::show(&env, &fixture(name)).unwrap();
                let written = ical::write(&shown.invite().unwrap().cal);
                (show_json(&shown, &env.clock).to_string(), written)
            })
            .collect();
    assert!(results[0].1.contains(
        "SUMMARY:Architecture review of the billing pipeline and the reconciliation jobs (part two)"
            .get(..60)
            .unwrap()
    ));
    assert!(unfold(&results[0].1).contains("a=b+c\\nLine two"));
    for r in &results[1..] {
        assert_eq!(r.0, results[0].0, "show --json differs");
        assert_eq!(r.1, results[0].1, "the parsed calendar differs");
    }
}

/// T07: a SUMMARY folded between the bytes of "é" unfolds to "é" (R8.2).
#[test]
fn t07_fold_inside_utf8_sequence_unfolds_to_e_acute() {
    let m = mem();
    let env = m.env();
    let shown = inbox::show(&env, &fixture("t07-apple-fold-inside-utf8.eml")).unwrap();
    assert_eq!(
        shown.invite().unwrap().summary().as_deref(),
        Some("Réunion d\u{2019}équipe")
    );
    assert!(
        !shown.class.warnings.iter().any(|w| w.contains("U+FFFD")),
        "{:?}",
        shown.class.warnings
    );
}

/// T08: LF-only message: parsed; everything written uses CRLF (R8.1).
#[test]
fn t08_lf_only_message_parsed_and_everything_written_is_crlf() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t08-apple-lf-only.eml");
    assert!(!raw.contains(&b'\r'));
    assert_eq!(status(&env, &raw), Status::New);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let stored = stored_text(&m, "0D9C8B7A-6F5E-4D3C-2B1A-F0E9D8C7B6A5");
    assert!(stored.contains("SUMMARY:Frühstück\r\n"));
    let (_, msg) = &m.transport.sent()[0];
    for (what, bytes) in [
        ("stored", stored.as_bytes().to_vec()),
        ("sent", msg.clone()),
        ("reply", sandbox::reply_ics(msg).into_bytes()),
    ] {
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "{what}: bare LF at {i}");
            }
        }
    }
}

/// T09: 0xFF 0xFE in a UTF-8 part: replaced and flagged; no crash; nothing
/// raw reaches the terminal (R9.9, R9.5).
#[test]
fn t09_invalid_utf8_is_replaced_flagged_and_never_printed_raw() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t09-invalid-utf8.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    assert!(
        shown.class.warnings.iter().any(|w| w.contains("U+FFFD")),
        "{:?}",
        shown.class.warnings
    );
    let inv = shown.invite().unwrap();
    assert!(inv.summary().unwrap().contains('\u{FFFD}'));
    let text = present::describe(inv, Some(&shown.class), &env.clock);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.contains("^[[31mred"),
        "the ESC is made visible: {text}"
    );
    // Through the binary: valid UTF-8, no ESC.
    let s = Sandbox::empty();
    let out = s
        .bare()
        .arg("render")
        .arg(fixture_path("t09-invalid-utf8.eml"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).expect("render prints valid UTF-8");
    assert!(!out.contains('\u{1b}'));
    assert!(out.contains("Broken \u{FFFD}\u{FFFD} bytes"), "{out}");
}

fn calendar_mail(ics: &str) -> Vec<u8> {
    format!(
        "From: <{ORG}>\r\nTo: <{ME}>\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n{ics}"
    )
    .into_bytes()
}

/// T10: 2 MB of calendar data, 10,000 VEVENTs, 5,000 ATTENDEEs: rejected
/// with a clear error, nothing written (R9.8).
#[test]
fn t10_oversized_inputs_are_rejected_without_partial_write() {
    let head = "BEGIN:VCALENDAR\r\nPRODID:-//Hostile//Big//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n";
    let ev = |uid: &str, extra: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250102T100000Z\r\nDTSTART:20250113T090000Z\r\nSUMMARY:big\r\nORGANIZER:mailto:{ORG}\r\nATTENDEE;RSVP=TRUE:mailto:{ME}\r\n{extra}END:VEVENT\r\n"
        )
    };
    // 2 MB: a DESCRIPTION of 2 MB.
    let big = format!(
        "{head}{}END:VCALENDAR\r\n",
        ev(
            "t10-big",
            &format!("DESCRIPTION:{}\r\n", "x".repeat(2 << 20))
        )
    );
    // 10,000 VEVENTs (overrides of one UID, small enough for the byte limit).
    let mut many = String::from(head);
    many.push_str(&ev("t10-many", ""));
    for i in 0..10_000 {
        many.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:t10-many\r\nRECURRENCE-ID:2025{:02}{:02}T{:02}0000Z\r\nEND:VEVENT\r\n",
            1 + i % 12,
            1 + i % 28,
            i % 24
        ));
    }
    many.push_str("END:VCALENDAR\r\n");
    assert!(many.len() < 1 << 20, "{}", many.len());
    // 5,000 ATTENDEEs.
    let attendees: String = (0..5_000)
        .map(|i| format!("ATTENDEE:mailto:guest{i}@example.com\r\n"))
        .collect();
    let crowd = format!("{head}{}END:VCALENDAR\r\n", ev("t10-crowd", &attendees));

    for (what, ics, needle) in [
        ("2 MB", big, "byte"),
        ("10,000 VEVENTs", many, "components"),
        ("5,000 ATTENDEEs", crowd, "attendees"),
    ] {
        let m = mem();
        let env = m.env();
        let raw = calendar_mail(&ics);
        let why = match inbox::show(&env, &raw) {
            Err(e) => e.to_string(),
            Ok(shown) => {
                assert_eq!(shown.class.status, Status::Invalid, "{what}");
                shown.class.warnings.join("; ")
            }
        };
        assert!(why.contains(needle), "{what}: {why}");
        assert_refused(inbox::apply_message(&env, &raw), what);
        assert_refused(answer(&env, &raw, PartStat::Accepted), what);
        assert!(m.store.list().unwrap().is_empty(), "{what}");
        assert!(m.outbox.pending().unwrap().is_empty(), "{what}");
        assert!(m.transport.sent().is_empty(), "{what}");
    }
}

/// T11: 200 nested multiparts and a chain of message/rfc822: bounded, no
/// stack overflow, nothing stored (R9.8).
#[test]
fn t11_mime_bombs_are_bounded() {
    let ics = String::from_utf8(request(&[Ev::new("t11-bomb")])).unwrap();
    let cal_part = ics.split("\r\n\r\n").nth(1).unwrap().to_string();
    // 200 levels of multipart/mixed around the calendar part.
    let mut nested =
        format!("Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n{cal_part}");
    for i in 0..200 {
        nested = format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n{nested}\r\n--b{i}--\r\n"
        );
    }
    let multipart = format!("From: <{ORG}>\r\nTo: <{ME}>\r\nMIME-Version: 1.0\r\n{nested}");
    // 50 forwarded messages inside each other.
    let mut chain = format!(
        "From: <{ORG}>\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{cal_part}"
    );
    for i in 0..50 {
        chain = format!(
            "From: <fwd{i}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n{chain}"
        );
    }
    for (what, raw) in [("multipart", multipart), ("rfc822 chain", chain)] {
        let m = mem();
        let env = m.env();
        // A separate thread with a small stack: recursion must be bounded.
        let raw2 = raw.clone().into_bytes();
        let result = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || inbox::load(&raw2).map(|l| l.invite.is_ok()))
            .unwrap()
            .join()
            .expect("no stack overflow or panic");
        assert!(!matches!(result, Ok(true)), "{what}: must not be accepted");
        assert!(
            inbox::apply_message(&env, raw.as_bytes()).is_err(),
            "{what}"
        );
        assert!(m.store.list().unwrap().is_empty(), "{what}");
    }
}

/// T12: the RFC 6047 §4.2 (RSVP=YES), §4.6 (no mailto:, broken DTEND) and
/// RFC 5546 §4.7.1 (DTSTAMP without Z) examples: parsed with warnings, and
/// what we write back is valid (R8.13).
#[test]
fn t12_rfc_examples_are_parsed_with_warnings_and_written_back_valid() {
    for (name, uid, needle) in [
        (
            "t12-rfc6047-4.2-rsvp-yes.eml",
            "calsvr.example.com-8739701987387771",
            "RSVP=YES",
        ),
        (
            "t12-rfc6047-4.6-no-mailto.eml",
            "calsvr.example.com-873970198738777-8aa",
            "has no mailto:",
        ),
        (
            "t12-rfc5546-4.7.1-dtstamp-no-z.eml",
            "calsrv.example.com-873970198738777@example.com",
            "DTSTAMP 19970603T094000 has no Z",
        ),
    ] {
        let m = mem();
        let env = m.env();
        let raw = fixture(name);
        let shown = inbox::show(&env, &raw).unwrap();
        assert_eq!(shown.class.status, Status::New, "{name}");
        assert!(shown.class.rsvp_requested, "{name}: RSVP read as TRUE");
        assert!(
            shown.class.warnings.iter().any(|w| w.contains(needle)),
            "{name}: {:?}",
            shown.class.warnings
        );
        answer(&env, &raw, PartStat::Accepted).unwrap();
        let reply = sent_ics(&m, 0);
        let stored = unfold(&stored_text(&m, uid));
        for (what, ics) in [("reply", &reply), ("stored", &stored)] {
            assert!(!ics.contains("199706211T"), "{name} {what}: {ics}");
            assert!(!ics.contains("RSVP=YES"), "{name} {what}: {ics}");
            for line in ics.lines().filter(|l| l.starts_with("DTSTAMP")) {
                assert!(line.ends_with('Z'), "{name} {what}: {line}");
            }
            // Everything we wrote parses again without complaint.
            let again = ical::parse(ics).unwrap();
            assert!(
                !again
                    .warnings
                    .iter()
                    .any(|w| w.contains("DTSTAMP") || w.contains("DTEND")),
                "{name} {what}: {:?}",
                again.warnings
            );
        }
    }
}

// ---------------------------------------------------------------------------
// B. Identity
// ---------------------------------------------------------------------------

/// T13: `MAILTO:Dana@Example.ORG` is me; the REPLY keeps the value verbatim.
#[test]
fn t13_upper_case_mailto_is_me_and_kept_verbatim() {
    let m = mem();
    let env = m.env();
    let raw = request(&[Ev::new("t13").me("ATTENDEE;RSVP=TRUE:MAILTO:Dana@Example.ORG")]);
    let shown = inbox::show(&env, &raw).unwrap();
    // Matched case-insensitively, written as the invitation has it (issue 7 bug 6).
    assert!(shown.class.me().unwrap().address.eq_ignore_ascii_case(ME));
    assert_eq!(shown.class.me().unwrap().address, "Dana@Example.ORG");
    answer(&env, &raw, PartStat::Accepted).unwrap();
    assert!(
        sent_ics(&m, 0).contains("ATTENDEE;PARTSTAT=ACCEPTED:MAILTO:Dana@Example.ORG\r\n"),
        "{}",
        sent_ics(&m, 0)
    );
}

/// T14: invited as my alias: the REPLY's ATTENDEE and From are the alias.
#[test]
fn t14_alias_is_answered_as_the_alias() {
    let m = mem();
    let env = m.env();
    let raw = request(&[Ev::new("t14").me(&format!("ATTENDEE;RSVP=TRUE:mailto:{ALIAS}"))]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let (envelope, msg) = &m.transport.sent()[0];
    assert_eq!(envelope.from, ALIAS);
    assert_eq!(envelope.to, vec![ORG.to_string()]);
    assert!(sandbox::header_block(msg).contains(&format!("<{ALIAS}>")));
    let ics = sent_ics(&m, 0);
    assert_eq!(count(&ics, "ATTENDEE"), 1);
    assert!(ics.contains(&format!(":mailto:{ALIAS}\r\n")), "{ics}");
}

/// T15: both of my addresses invited; Delivered-To decides; one ATTENDEE.
#[test]
fn t15_two_of_my_addresses_delivered_to_decides() {
    let m = mem();
    let env = m.env();
    let ev = Ev::new("t15").add(&format!("ATTENDEE;RSVP=TRUE:mailto:{ALIAS}"));
    let raw = mail_with("REQUEST", ORG, &[&format!("Delivered-To: {ALIAS}")], &[ev]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let ics = sent_ics(&m, 0);
    assert_eq!(count(&ics, "ATTENDEE"), 1, "{ics}");
    assert!(ics.contains(&format!("mailto:{ALIAS}\r\n")), "{ics}");
    assert_eq!(m.transport.sent()[0].0.from, ALIAS);
}

/// T16: invited through a group I belong to: CUTYPE=INDIVIDUAL with MEMBER.
#[test]
fn t16_group_member_answers_as_individual_member() {
    let mut m = mem();
    m.groups = vec!["team@example.org".to_string()];
    let env = m.env();
    let raw =
        request(&[Ev::new("t16").me("ATTENDEE;CUTYPE=GROUP;RSVP=TRUE:mailto:team@example.org")]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let ics = sent_ics(&m, 0);
    let line = ics.lines().find(|l| l.starts_with("ATTENDEE")).unwrap();
    assert!(line.contains("CUTYPE=INDIVIDUAL"), "{line}");
    assert!(
        line.contains("MEMBER=\"mailto:team@example.org\""),
        "{line}"
    );
    assert!(line.ends_with(&format!(":mailto:{ME}")), "{line}");
}

/// T17: ROLE=NON-PARTICIPANT: information only, no prompt, reply possible.
#[test]
fn t17_non_participant_is_not_prompted_but_may_answer() {
    let m = mem();
    let env = m.env();
    let raw = request(&[Ev::new("t17").me(&format!(
        "ATTENDEE;ROLE=NON-PARTICIPANT;RSVP=FALSE:mailto:{ME}"
    ))]);
    let shown = inbox::show(&env, &raw).unwrap();
    assert!(!shown.class.rsvp_requested);
    assert!(shown.class.reply_refusal.is_none());
    assert!(
        shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("information"))
    );
    assert!(answer(&env, &raw, PartStat::Accepted).unwrap().sent);
}

/// T18: my own event (organizer and CHAIR attendee): no reply, no entry.
#[test]
fn t18_self_organized_is_never_answered() {
    let m = mem();
    let env = m.env();
    let ev = Ev::new("t18")
        .set(&format!("ORGANIZER;CN=Dana User:mailto:{ME}"))
        .me(&format!(
            "ATTENDEE;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:{ME}"
        ))
        .add("ATTENDEE;RSVP=TRUE:mailto:bob@example.com");
    let raw = mail_with("REQUEST", ME, &[], &[ev]);
    assert_eq!(status(&env, &raw), Status::NotInvited);
    assert_refused(answer(&env, &raw, PartStat::Accepted), "reply");
    assert_refused(inbox::apply_message(&env, &raw), "apply");
    assert!(m.transport.sent().is_empty());
    assert!(m.store.list().unwrap().is_empty());
}

/// T19: urn:uuid values with EMAIL=: recognised; REPLY keeps urn:uuid:1234;
/// the mail goes to the organizer's EMAIL.
#[test]
fn t19_email_parameter_identifies_me_and_the_organizer() {
    let m = mem();
    let env = m.env();
    let ev = Ev::new("t19")
        .set(&format!("ORGANIZER;EMAIL={ORG}:urn:uuid:9"))
        .me(&format!("ATTENDEE;EMAIL={ME};RSVP=TRUE:urn:uuid:1234"));
    let raw = request(&[ev]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let (envelope, _) = &m.transport.sent()[0];
    assert_eq!(envelope.to, vec![ORG.to_string()]);
    let ics = sent_ics(&m, 0);
    let line = ics.lines().find(|l| l.starts_with("ATTENDEE")).unwrap();
    assert!(line.ends_with(":urn:uuid:1234"), "{line}");
}

/// T20: the stored ORGANIZER gets SCHEDULE-AGENT=CLIENT; the REPLY carries no
/// SCHEDULE-* parameter (R6.7, R1.13).
#[test]
fn t20_stored_schedule_agent_client_and_none_in_the_reply() {
    let m = mem();
    let env = m.env();
    assert_eq!(env.scheduling, rsvp::inbox::Scheduling::Client);
    let ev = Ev::new("t20").set(&format!(
        "ORGANIZER;CN=Olivia;SCHEDULE-AGENT=SERVER;SCHEDULE-STATUS=1.1:mailto:{ORG}"
    ));
    let raw = request(&[ev]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let stored = unfold(&stored_text(&m, "t20"));
    let org = stored.lines().find(|l| l.starts_with("ORGANIZER")).unwrap();
    assert!(org.contains("SCHEDULE-AGENT=CLIENT"), "{org}");
    assert_eq!(count(org, "SCHEDULE-AGENT"), 1, "{org}");
    let reply = sent_ics(&m, 0);
    assert!(!reply.contains("SCHEDULE-"), "{reply}");
}

// ---------------------------------------------------------------------------
// C. Classifying REQUESTs
// ---------------------------------------------------------------------------

/// T21: stored SEQUENCE 3, incoming 2: ignored, bytes unchanged, no prompt.
#[test]
fn t21_lower_sequence_is_outdated_and_changes_nothing() {
    let m = mem();
    let env = m.env();
    inbox::apply_message(&env, &request(&[Ev::new("t21").seq(3)])).unwrap();
    let before = stored_bytes(&m, "t21");
    let old = request(&[Ev::new("t21").seq(2).stamp("20250102T110000Z")]);
    let shown = inbox::show(&env, &old).unwrap();
    assert_eq!(shown.class.status, Status::Outdated);
    assert!(shown.class.reply_refusal.is_some(), "no prompt");
    assert_refused(inbox::apply_message(&env, &old), "apply");
    assert_refused(answer(&env, &old, PartStat::Accepted), "reply");
    assert_eq!(stored_bytes(&m, "t21"), before);
}

/// T22: same SEQUENCE, older DTSTAMP: ignored.
#[test]
fn t22_older_dtstamp_is_outdated() {
    let m = mem();
    let env = m.env();
    inbox::apply_message(&env, &request(&[Ev::new("t22").stamp("20250102T100000Z")])).unwrap();
    let before = stored_bytes(&m, "t22");
    let old = request(&[Ev::new("t22")
        .stamp("20250101T090000Z")
        .set("SUMMARY:Old title")]);
    assert_eq!(status(&env, &old), Status::Outdated);
    assert_refused(inbox::apply_message(&env, &old), "apply");
    assert_eq!(stored_bytes(&m, "t22"), before);
}

/// T23: the identical message twice: the second is a no-op, no second
/// prompt, no second REPLY (R3.4, R9.11).
#[test]
fn t23_identical_message_twice_is_a_no_op() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t01-thunderbird-request.eml");
    let uid = "5c3e1b9a-7f42-4d8e-9a51-0c2f6b8e4d17";
    inbox::apply_message(&env, &raw).unwrap();
    let before = stored_bytes(&m, uid);
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.class.status, Status::Duplicate);
    let (_, again) = inbox::apply_message(&env, &raw).unwrap();
    assert!(matches!(again, Applied::NothingToDo(_)), "{again:?}");
    assert_eq!(stored_bytes(&m, uid), before);
    assert!(answer(&env, &raw, PartStat::Accepted).unwrap().sent);
    let second = answer(&env, &raw, PartStat::Accepted).unwrap();
    assert!(second.already_sent && !second.sent);
    assert_eq!(m.transport.sent().len(), 1, "no second REPLY");
}

/// T24: same SEQUENCE, newer DTSTAMP, DESCRIPTION changed: applied, still
/// ACCEPTED, the user is told, no reply needed (R3.5).
#[test]
fn t24_minor_update_keeps_accepted() {
    let m = mem();
    let env = m.env();
    let first = request(&[Ev::new("t24").add("DESCRIPTION:Agenda v1")]);
    answer(&env, &first, PartStat::Accepted).unwrap();
    let update = request(&[Ev::new("t24")
        .stamp("20250102T110000Z")
        .add("DESCRIPTION:Agenda v2")]);
    let shown = inbox::show(&env, &update).unwrap();
    assert_eq!(shown.class.status, Status::Update);
    assert_eq!(shown.class.partstat, Some(PartStat::Accepted));
    assert!(
        shown
            .class
            .changes
            .iter()
            .any(|c| c.field == "DESCRIPTION" && !c.significant),
        "{:?}",
        shown.class.changes
    );
    inbox::apply_message(&env, &update).unwrap();
    let stored = stored_text(&m, "t24");
    assert!(stored.contains("DESCRIPTION:Agenda v2"));
    assert!(my_line(&stored).contains("PARTSTAT=ACCEPTED"), "{stored}");
    assert_eq!(m.transport.sent().len(), 1, "no new reply");
}

/// Add a local VALARM and TRANSP to the stored copy of `uid`, as the user's
/// calendar program would.
fn add_local_alarm(m: &MemEnv, uid: &str) {
    let obj = m.store.find_by_uid(uid).unwrap().unwrap();
    let text = String::from_utf8(obj.data).unwrap();
    let pos = text.find("END:VEVENT").unwrap();
    let edited = format!(
        "{}TRANSP:TRANSPARENT\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:my reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n{}",
        &text[..pos],
        &text[pos..]
    );
    m.store.insert(&obj.href, edited.as_bytes());
}

/// T25: SEQUENCE+1, DTSTART moved an hour: NEEDS-ACTION again (the old
/// answer kept), prompted, local VALARM and TRANSP kept (R3.7, R2.8).
#[test]
fn t25_reschedule_asks_again_and_keeps_local_data() {
    let m = mem();
    let env = m.env();
    answer(&env, &request(&[Ev::new("t25")]), PartStat::Accepted).unwrap();
    add_local_alarm(&m, "t25");
    let moved = request(&[Ev::new("t25")
        .seq(1)
        .stamp("20250102T110000Z")
        .set("DTSTART:20250113T100000Z")
        .set("DTEND:20250113T110000Z")]);
    let shown = inbox::show(&env, &moved).unwrap();
    assert_eq!(shown.class.status, Status::Reschedule);
    assert!(
        shown
            .class
            .changes
            .iter()
            .any(|c| c.field == "DTSTART" && c.significant),
        "{:?}",
        shown.class.changes
    );
    assert!(shown.class.reply_refusal.is_none(), "prompted again");
    inbox::apply_message(&env, &moved).unwrap();
    let stored = unfold(&stored_text(&m, "t25"));
    assert!(
        my_line(&stored).contains("PARTSTAT=NEEDS-ACTION"),
        "{stored}"
    );
    assert!(
        stored.contains("X-RSVP-PREVIOUS-PARTSTAT:ACCEPTED"),
        "{stored}"
    );
    assert!(stored.contains("DESCRIPTION:my reminder"), "{stored}");
    assert!(stored.contains("TRANSP:TRANSPARENT"), "{stored}");
    assert!(stored.contains("DTSTART:20250113T100000Z"), "{stored}");
}

/// T26: SEQUENCE+1 but only equivalent forms (UTC → TZID, RRULE reordered
/// with INTERVAL=1): not a reschedule; PARTSTAT kept.
#[test]
fn t26_equivalent_forms_are_not_a_reschedule() {
    let m = mem();
    let env = m.env();
    let first = Ev::new("t26")
        .set("DTSTART:20250113T080000Z")
        .set("DTEND:20250113T090000Z")
        .set("RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5");
    answer(&env, &request(&[first]), PartStat::Accepted).unwrap();
    let same = Ev::new("t26")
        .seq(1)
        .stamp("20250102T110000Z")
        .set("DTSTART;TZID=Europe/Berlin:20250113T090000")
        .set("DTEND;TZID=Europe/Berlin:20250113T100000")
        .set("RRULE:COUNT=5;INTERVAL=1;BYDAY=MO;FREQ=WEEKLY");
    let raw = request(&[same]);
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(
        shown.class.status,
        Status::Update,
        "{:?}",
        shown.class.changes
    );
    inbox::apply_message(&env, &raw).unwrap();
    assert!(my_line(&stored_text(&m, "t26")).contains("PARTSTAT=ACCEPTED"));
}

/// T27: same SEQUENCE, only RSVP=TRUE added on me: a status poll; resend is
/// offered; nothing is reset (R3.6).
#[test]
fn t27_rsvp_poll_offers_a_resend_and_resets_nothing() {
    let m = mem();
    let env = m.env();
    let quiet = Ev::new("t27").me(&format!("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{ME}"));
    answer(&env, &request(&[quiet]), PartStat::Accepted).unwrap();
    let poll = request(&[Ev::new("t27").stamp("20250102T110000Z")]);
    let shown = inbox::show(&env, &poll).unwrap();
    assert_eq!(shown.class.status, Status::Poll);
    assert_eq!(shown.class.partstat, Some(PartStat::Accepted));
    assert!(shown.class.reply_refusal.is_none(), "a resend is possible");
    let resend = ResponseRequest {
        resend: true,
        ..ask(PartStat::Accepted)
    };
    assert!(inbox::respond(&env, &poll, &resend).unwrap().sent);
    assert_eq!(m.transport.sent().len(), 2);
    assert!(my_line(&stored_text(&m, "t27")).contains("PARTSTAT=ACCEPTED"));
}

/// T28: a known UID from another ORGANIZER: a warning, never applied.
#[test]
fn t28_organizer_change_is_refused() {
    let m = mem();
    let env = m.env();
    inbox::apply_message(&env, &request(&[Ev::new("t28")])).unwrap();
    let before = stored_bytes(&m, "t28");
    let hijack = Ev::new("t28")
        .seq(1)
        .stamp("20250102T110000Z")
        .set("ORGANIZER:mailto:mallory@evil.example");
    let raw = mail_with("REQUEST", "mallory@evil.example", &[], &[hijack]);
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.class.status, Status::OrganizerChanged);
    assert!(
        shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("organizer changed"))
    );
    assert_refused(inbox::apply_message(&env, &raw), "apply");
    assert_refused(answer(&env, &raw, PartStat::Accepted), "reply");
    assert_eq!(stored_bytes(&m, "t28"), before);
}

/// T29: two VEVENTs with different UIDs in one REQUEST: rejected (R2.7).
#[test]
fn t29_mixed_uids_are_rejected() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t29-mixed-uids.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    assert_eq!(shown.class.status, Status::Invalid);
    assert!(
        shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("mixes UIDs")),
        "{:?}",
        shown.class.warnings
    );
    assert_refused(inbox::apply_message(&env, &raw), "apply");
    assert_refused(answer(&env, &raw, PartStat::Accepted), "reply");
    assert!(m.store.list().unwrap().is_empty());
    assert!(m.transport.sent().is_empty());
}

fn override_ev(uid: &str, rid_local: &str, start_local: &str) -> Ev {
    Ev::new(uid)
        .set(&format!("RECURRENCE-ID;TZID=Europe/Berlin:{rid_local}"))
        .set(&format!("DTSTART;TZID=Europe/Berlin:{start_local}"))
        .remove("DTEND")
        .set("DURATION:PT1H")
}

/// T30: master + override stored; a new full REQUEST (master only, higher
/// SEQUENCE) removes the override and keeps local VALARMs (R2.8).
#[test]
fn t30_full_update_removes_overrides_and_keeps_alarms() {
    let m = mem();
    let env = m.env();
    let series = [
        Ev::weekly("t30"),
        override_ev("t30", "20250113T090000", "20250113T110000"),
    ];
    answer(&env, &request(&series), PartStat::Accepted).unwrap();
    assert!(stored_text(&m, "t30").contains("RECURRENCE-ID"));
    add_local_alarm(&m, "t30");
    let full = request(&[Ev::weekly("t30").seq(1).stamp("20250102T110000Z")]);
    inbox::apply_message(&env, &full).unwrap();
    let stored = stored_text(&m, "t30");
    assert!(!stored.contains("RECURRENCE-ID"), "{stored}");
    assert!(stored.contains("DESCRIPTION:my reminder"), "{stored}");
}

/// T31: a REQUEST with only one instance at a higher SEQUENCE: the override
/// is added; the master is untouched.
#[test]
fn t31_instance_only_update_adds_an_override() {
    let m = mem();
    let env = m.env();
    answer(&env, &request(&[Ev::weekly("t31")]), PartStat::Accepted).unwrap();
    let master_before = stored_text(&m, "t31");
    let inst = override_ev("t31", "20250113T090000", "20250113T140000")
        .seq(1)
        .stamp("20250102T110000Z");
    inbox::apply_message(&env, &request(&[inst])).unwrap();
    let stored = unfold(&stored_text(&m, "t31"));
    assert_eq!(count(&stored, "BEGIN:VEVENT"), 2, "{stored}");
    assert!(stored.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250113T090000"));
    assert!(stored.contains("DTSTART;TZID=Europe/Berlin:20250113T140000"));
    let master = |s: &str| s.split("BEGIN:VEVENT").nth(1).unwrap().to_string();
    let old_master = master(&unfold(&master_before));
    assert!(stored.contains(old_master.trim_end_matches("END:VCALENDAR\r\n")));
}

/// T32: two instances and no master: stored without a master; "accept all"
/// answers exactly those two instances (R2.5).
#[test]
fn t32_naked_recurrence_is_stored_and_answered_as_is() {
    let m = mem();
    let env = m.env();
    let raw = request(&[
        override_ev("t32", "20250113T090000", "20250113T090000"),
        override_ev("t32", "20250120T090000", "20250120T090000"),
    ]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let stored = unfold(&stored_text(&m, "t32"));
    assert_eq!(count(&stored, "BEGIN:VEVENT"), 2, "{stored}");
    assert_eq!(count(&stored, "RECURRENCE-ID"), 2, "no invented master");
    assert!(!stored.contains("RRULE:FREQ=WEEKLY"));
    let reply = sent_ics(&m, 0);
    assert_eq!(count(&reply, "BEGIN:VEVENT"), 2, "{reply}");
    assert_eq!(
        count(&reply, "RECURRENCE-ID;TZID=Europe/Berlin:"),
        2,
        "{reply}"
    );
}

/// T33: an override for an instance the stored series does not have, same
/// SEQUENCE: flagged as out of sync (REFRESH), not merged.
#[test]
fn t33_unknown_instance_at_same_sequence_is_flagged_not_merged() {
    let m = mem();
    let env = m.env();
    inbox::apply_message(&env, &request(&[Ev::weekly("t33")])).unwrap();
    let before = stored_bytes(&m, "t33");
    // A Tuesday: not an occurrence of the Monday series.
    let odd = override_ev("t33", "20250114T090000", "20250114T090000").stamp("20250102T110000Z");
    let raw = request(&[odd]);
    let shown = inbox::show(&env, &raw).unwrap();
    assert!(
        shown.class.warnings.iter().any(|w| w.contains("REFRESH")),
        "{:?}",
        shown.class.warnings
    );
    assert_refused(inbox::apply_message(&env, &raw), "apply");
    assert_eq!(stored_bytes(&m, "t33"), before);
}

/// T34: CANCEL (SEQUENCE 4) for an unknown UID, then its REQUEST at
/// SEQUENCE 3: the REQUEST is ignored (R3.1, R4.7).
#[test]
fn t34_request_older_than_a_remembered_cancel_is_ignored() {
    let m = mem();
    let env = m.env();
    let can = cancel(&[Ev::new("t34").seq(4).add("STATUS:CANCELLED")]);
    let (_, applied) = inbox::apply_message(&env, &can).unwrap();
    assert_eq!(applied, Applied::Tombstone);
    let late = request(&[Ev::new("t34").seq(3)]);
    assert_eq!(status(&env, &late), Status::Outdated);
    assert_refused(inbox::apply_message(&env, &late), "apply");
    assert_refused(answer(&env, &late, PartStat::Accepted), "reply");
    assert!(m.store.list().unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// D. Generating REPLYs
// ---------------------------------------------------------------------------

/// T35: accepting T01 gives the REPLY and the message of the case (R1.x,
/// R7.6–R7.11).
#[test]
fn t35_accepting_t01_gives_a_minimal_correct_reply() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t01-thunderbird-request.eml");
    let done = answer(&env, &raw, PartStat::Accepted).unwrap();
    assert!(done.sent);
    let (envelope, msg) = &m.transport.sent()[0];
    assert_eq!(envelope.from, ME);
    assert_eq!(envelope.to, vec!["tom@tb.example".to_string()]);
    let head = sandbox::header_block(msg);
    assert!(
        head.contains("Subject: Accepted: Projektplanung Q1"),
        "{head}"
    );
    assert!(
        head.contains("In-Reply-To: <7d1f0c2a-1b3e-4f5a-8c6d-9e0f1a2b3c4d@tb.example>"),
        "{head}"
    );
    assert!(
        head.contains(&format!("From: \"Test User\" <{ME}>")),
        "{head}"
    );
    assert!(
        head.contains("To: \"Tom Thunder\" <tom@tb.example>"),
        "{head}"
    );
    let text = String::from_utf8_lossy(msg);
    assert!(text.contains("Content-Type: text/calendar; method=REPLY; charset=UTF-8"));
    let ics = sent_ics(&m, 0);
    for line in [
        "METHOD:REPLY\r\n",
        "VERSION:2.0\r\n",
        "UID:5c3e1b9a-7f42-4d8e-9a51-0c2f6b8e4d17\r\n",
        "DTSTAMP:20250102T120000Z\r\n",
        "SEQUENCE:0\r\n",
        "ORGANIZER;CN=\"Tom Thunder\":mailto:tom@tb.example\r\n",
        "ATTENDEE;CN=\"Dana User\";PARTSTAT=ACCEPTED:mailto:dana@example.org\r\n",
    ] {
        assert!(ics.contains(line), "missing {line:?} in\n{ics}");
    }
    assert_eq!(count(&ics, "PRODID:"), 1);
    assert_eq!(count(&ics, "BEGIN:VEVENT"), 1);
    assert_eq!(count(&ics, "ATTENDEE"), 1, "{ics}");
    for absent in ["RSVP", "SCHEDULE-", "VALARM", "erik@tb.example"] {
        assert!(!ics.contains(absent), "{absent} in\n{ics}");
    }
}

/// T36: decline one occurrence of a TZID series: RECURRENCE-ID with TZID and
/// its VTIMEZONE; a DECLINED override stored; the master unchanged.
#[test]
fn t36_declining_one_occurrence_of_a_tzid_series() {
    let m = mem();
    let env = m.env();
    let raw = request(&[Ev::weekly("t36")]);
    let one = ResponseRequest {
        instance: Some("20250113T090000"),
        ..ask(PartStat::Declined)
    };
    inbox::respond(&env, &raw, &one).unwrap();
    let reply = sent_ics(&m, 0);
    assert!(
        reply.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250113T090000\r\n"),
        "{reply}"
    );
    assert!(
        reply.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"),
        "{reply}"
    );
    assert_eq!(count(&reply, "BEGIN:VEVENT"), 1);
    let stored = unfold(&stored_text(&m, "t36"));
    let (master, rest) = stored.split_at(stored.find("RECURRENCE-ID").unwrap());
    assert!(
        my_line(master).contains("PARTSTAT=NEEDS-ACTION"),
        "{stored}"
    );
    assert!(my_line(rest).contains("PARTSTAT=DECLINED"), "{stored}");
}

/// T37: one occurrence of an all-day series: RECURRENCE-ID;VALUE=DATE.
#[test]
fn t37_all_day_occurrence_uses_value_date() {
    let m = mem();
    let env = m.env();
    let ev = Ev::new("t37")
        .set("DTSTART;VALUE=DATE:20250106")
        .set("DTEND;VALUE=DATE:20250107")
        .set("RRULE:FREQ=WEEKLY;COUNT=10");
    let one = ResponseRequest {
        instance: Some("20250113"),
        ..ask(PartStat::Declined)
    };
    inbox::respond(&env, &request(&[ev]), &one).unwrap();
    let reply = sent_ics(&m, 0);
    assert!(
        reply.contains("RECURRENCE-ID;VALUE=DATE:20250113\r\n"),
        "{reply}"
    );
}

/// T38: tentative with a comment full of TEXT specials, a newline and an
/// emoji: escaped per R8.4, lines ≤ 75 octets, no split UTF-8.
#[test]
fn t38_tentative_with_comment_is_escaped_and_folded() {
    let m = mem();
    let env = m.env();
    let comment = "Late, maybe; bring a\\b, \"x\" \u{2014} not: escaped\nSee you there \u{1F389}\u{1F389}\u{1F389} with some more words to force folding";
    let with = ResponseRequest {
        comment: Some(comment),
        ..ask(PartStat::Tentative)
    };
    inbox::respond(&env, &request(&[Ev::new("t38")]), &with).unwrap();
    let (_, msg) = &m.transport.sent()[0];
    assert!(sandbox::header_block(msg).contains("Subject: Tentative: Planning"));
    let raw_ics = sandbox::reply_ics(msg);
    for line in raw_ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let ics = unfold(&raw_ics);
    assert!(ics.contains("PARTSTAT=TENTATIVE"));
    assert!(
        ics.contains(
            "COMMENT:Late\\, maybe\\; bring a\\\\b\\, \"x\" \u{2014} not: escaped\\nSee you there \u{1F389}\u{1F389}\u{1F389} with"
        ),
        "{ics}"
    );
}

/// T39: `CN=Doe, Jane` and an Outlook TZID with commas: quoted parameters,
/// escaped TZID property, byte-stable round trip (R8.6).
#[test]
fn t39_parameters_with_commas_are_quoted() {
    let m = mem();
    let env = m.env();
    let tzid = "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris";
    let tz = String::from(
        "BEGIN:VTIMEZONE\r\nTZID:(UTC+01:00) Brussels\\, Copenhagen\\, Madrid\\, Paris\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
    );
    let ev = Ev::new("t39")
        .set(&format!("ORGANIZER;CN=\"Doe, Jane\":mailto:{ORG}"))
        .set(&format!("DTSTART;TZID=\"{tzid}\":20250113T090000"))
        .set(&format!("DTEND;TZID=\"{tzid}\":20250113T100000"));
    let raw = mail_tz("REQUEST", ORG, &[], &tz, &[ev]);
    answer(&env, &raw, PartStat::Accepted).unwrap();
    let raw_ics = sandbox::reply_ics(&m.transport.sent()[0].1);
    let ics = unfold(&raw_ics);
    assert!(
        ics.contains(&format!("ORGANIZER;CN=\"Doe, Jane\":mailto:{ORG}\r\n")),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTSTART;TZID=\"{tzid}\":20250113T090000\r\n")),
        "{ics}"
    );
    assert!(
        ics.contains("TZID:(UTC+01:00) Brussels\\, Copenhagen\\, Madrid\\, Paris\r\n"),
        "{ics}"
    );
    let again = ical::write(&ical::parse(&ics).unwrap().calendars[0]);
    assert_eq!(again, raw_ics, "round trip is byte-stable");
}

/// T40: an event cancelled in the calendar is not answered (R1.14).
#[test]
fn t40_cancelled_event_is_not_answered() {
    let m = mem();
    let env = m.env();
    let raw = request(&[Ev::new("t40")]);
    inbox::apply_message(&env, &raw).unwrap();
    let can = cancel(&[Ev::new("t40").seq(1).add("STATUS:CANCELLED")]);
    inbox::apply_message(&env, &can).unwrap();
    assert_refused(answer(&env, &raw, PartStat::Accepted), "reply");
    assert_refused(
        answer(&env, &can, PartStat::Accepted),
        "reply to the CANCEL",
    );
    assert!(m.transport.sent().is_empty());
    assert!(m.outbox.pending().unwrap().is_empty());
}

/// T41: sending from another address adds SENT-BY, quoted (R7.8).
#[test]
fn t41_other_from_address_adds_sent_by() {
    let m = mem();
    let mut env = m.env();
    env.send_from = Some("dana.mail@example.net");
    answer(&env, &request(&[Ev::new("t41")]), PartStat::Accepted).unwrap();
    assert_eq!(m.transport.sent()[0].0.from, "dana.mail@example.net");
    let ics = sent_ics(&m, 0);
    let line = ics.lines().find(|l| l.starts_with("ATTENDEE")).unwrap();
    assert!(
        line.contains("SENT-BY=\"mailto:dana.mail@example.net\""),
        "{line}"
    );
    assert!(line.ends_with(&format!(":mailto:{ME}")), "{line}");
}

// ---------------------------------------------------------------------------
// E. CANCEL
// ---------------------------------------------------------------------------

/// T42: CANCEL of the whole event: every component CANCELLED, no REPLY, the
/// CANCEL's SEQUENCE kept so an older REQUEST is ignored (R4.2, R4.3).
#[test]
fn t42_whole_cancel_marks_cancelled_without_reply() {
    let m = mem();
    let env = m.env();
    let series = [
        Ev::weekly("t42"),
        override_ev("t42", "20250113T090000", "20250113T110000"),
    ];
    answer(&env, &request(&series), PartStat::Accepted).unwrap();
    let can = cancel(&[Ev::weekly("t42").seq(1).add("STATUS:CANCELLED")]);
    let shown = inbox::show(&env, &can).unwrap();
    assert_eq!(shown.class.status.as_str(), "cancel");
    assert_eq!(shown.class.status.cancel_scope(), Some("whole"));
    assert_refused(answer(&env, &can, PartStat::Accepted), "reply");
    inbox::apply_message(&env, &can).unwrap();
    let stored = stored_text(&m, "t42");
    assert_eq!(
        count(&stored, "BEGIN:VEVENT"),
        count(&stored, "STATUS:CANCELLED"),
        "{stored}"
    );
    assert!(stored.contains("X-RSVP-RECEIVED-SEQUENCE:1"), "{stored}");
    assert_eq!(m.transport.sent().len(), 1, "only the earlier accept");
    let old = request(&series);
    assert!(matches!(
        status(&env, &old),
        Status::Outdated | Status::Cancelled
    ));
    assert_refused(
        answer(&env, &old, PartStat::Accepted),
        "reply to the old request",
    );
}

/// T43: CANCEL of one occurrence with no override: an EXDATE in DTSTART's
/// form (TZID); the other occurrences intact (R4.5).
#[test]
fn t43_instance_cancel_adds_exdate_in_dtstart_form() {
    let m = mem();
    let env = m.env();
    inbox::apply_message(&env, &request(&[Ev::weekly("t43")])).unwrap();
    let can = cancel(&[Ev::new("t43")
        .seq(1)
        .set("RECURRENCE-ID:20250120T080000Z")
        .set("DTSTART:20250120T080000Z")
        .set("DTEND:20250120T090000Z")
        .add("STATUS:CANCELLED")]);
    assert_eq!(
        inbox::show(&env, &can).unwrap().class.status.cancel_scope(),
        Some("instance")
    );
    inbox::apply_message(&env, &can).unwrap();
    let stored = unfold(&stored_text(&m, "t43"));
    assert!(
        stored.contains("EXDATE;TZID=Europe/Berlin:20250120T090000\r\n"),
        "{stored}"
    );
    assert!(stored.contains("RRULE:FREQ=WEEKLY;COUNT=10"), "{stored}");
    assert_eq!(count(&stored, "BEGIN:VEVENT"), 1);
    assert_eq!(count(&stored, "STATUS:CANCELLED"), 0);
}

/// The occurrences of the stored `uid` that are not cancelled.
fn live_occurrences(m: &MemEnv, uid: &str) -> usize {
    let env = m.env();
    let (_, inv) = inbox::stored(&env, uid).unwrap().unwrap();
    classify::expand_starts(&inv)
        .into_iter()
        .filter(|(id, _)| {
            ical::component(&inv.cal, *id)
                .and_then(|c| ical::text(c, &calcard::icalendar::ICalendarProperty::Status))
                .is_none_or(|s| !s.eq_ignore_ascii_case("CANCELLED"))
        })
        .count()
}

/// T44: THISANDFUTURE at occurrence 4 of COUNT=10 with overrides 3 and 6:
/// UNTIL before 4 and no COUNT; override 6 cancelled or gone; override 3
/// unchanged; three occurrences left (R4.6).
#[test]
fn t44_this_and_future_cuts_the_series() {
    let m = mem();
    let env = m.env();
    let third = override_ev("t44", "20250120T090000", "20250120T110000");
    let sixth = override_ev("t44", "20250210T090000", "20250210T110000");
    inbox::apply_message(&env, &request(&[Ev::weekly("t44"), third, sixth])).unwrap();
    assert_eq!(live_occurrences(&m, "t44"), 10);
    let before = unfold(&stored_text(&m, "t44"));
    let third_before = before
        .split("BEGIN:VEVENT")
        .find(|c| c.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250120T090000"))
        .unwrap()
        .to_string();
    let can = cancel(&[Ev::new("t44")
        .seq(1)
        .set("RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20250127T090000")
        .set("DTSTART;TZID=Europe/Berlin:20250127T090000")
        .set("DTEND;TZID=Europe/Berlin:20250127T100000")
        .add("STATUS:CANCELLED")]);
    assert_eq!(
        inbox::show(&env, &can).unwrap().class.status.cancel_scope(),
        Some("this-and-future")
    );
    inbox::apply_message(&env, &can).unwrap();
    let stored = unfold(&stored_text(&m, "t44"));
    let rrule = stored
        .lines()
        .find(|l| l.starts_with("RRULE:FREQ=WEEKLY"))
        .unwrap();
    assert!(rrule.contains("UNTIL=2025012"), "{rrule}");
    assert!(!rrule.contains("COUNT"), "{rrule}");
    let sixth_after = stored
        .split("BEGIN:VEVENT")
        .find(|c| c.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250210T090000"));
    assert!(
        sixth_after.is_none_or(|c| c.contains("STATUS:CANCELLED")),
        "{stored}"
    );
    let third_after = stored
        .split("BEGIN:VEVENT")
        .find(|c| c.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250120T090000"))
        .unwrap();
    assert_eq!(
        third_after.split("END:VEVENT").next(),
        third_before.split("END:VEVENT").next(),
        "occurrence 3 is unchanged"
    );
    assert_eq!(live_occurrences(&m, "t44"), 3, "{stored}");
}

/// T45: a CANCEL without STATUS that names me: I was removed; my copy is
/// marked cancelled (R4.4).
#[test]
fn t45_uninvitation_cancels_my_copy() {
    let m = mem();
    let env = m.env();
    answer(&env, &request(&[Ev::new("t45")]), PartStat::Accepted).unwrap();
    let can = cancel(&[Ev::new("t45").seq(1)]);
    assert_eq!(status(&env, &can), Status::Uninvited);
    assert_refused(answer(&env, &can, PartStat::Accepted), "reply");
    inbox::apply_message(&env, &can).unwrap();
    assert!(stored_text(&m, "t45").contains("STATUS:CANCELLED"));
}

/// T46: a CANCEL whose From is not the ORGANIZER (DMARC failed): ignored
/// with a warning; nothing changes (R4.1, R9.1).
#[test]
fn t46_spoofed_cancel_is_ignored_with_a_warning() {
    let m = mem();
    let env = m.env();
    let uid = "5c3e1b9a-7f42-4d8e-9a51-0c2f6b8e4d17";
    inbox::apply_message(&env, &fixture("t01-thunderbird-request.eml")).unwrap();
    let before = stored_bytes(&m, uid);
    let raw = fixture("t46-cancel-spoofed.eml");
    let shown = inbox::show(&env, &raw).unwrap();
    assert!(
        shown
            .class
            .warnings
            .iter()
            .any(|w| w.contains("mallory@evil.example") && w.contains("not the organizer")),
        "{:?}",
        shown.class.warnings
    );
    assert!(
        !show_json(&shown, &env.clock)["can_apply"]
            .as_bool()
            .unwrap()
    );
    let why = assert_refused(inbox::apply_message(&env, &raw), "apply");
    assert!(why.contains("not sent by the organizer"), "{why}");
    assert_eq!(stored_bytes(&m, uid), before);
}

/// T47: a CANCEL older than the stored revision is ignored (R4.2).
#[test]
fn t47_stale_cancel_is_ignored() {
    let m = mem();
    let env = m.env();
    inbox::apply_message(&env, &request(&[Ev::new("t47").seq(3)])).unwrap();
    let before = stored_bytes(&m, "t47");
    let can = cancel(&[Ev::new("t47").seq(2).add("STATUS:CANCELLED")]);
    assert_eq!(status(&env, &can), Status::Outdated);
    assert_refused(inbox::apply_message(&env, &can), "apply");
    assert_eq!(stored_bytes(&m, "t47"), before);
}

// ---------------------------------------------------------------------------
// G. Security and robustness (through the binary)
// ---------------------------------------------------------------------------

/// Terminal-dangerous code points: ESC, BEL, the one-byte CSI U+009B and
/// the bidi override U+202E (R9.5).
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for (bad, name) in [
        ('\u{1b}', "ESC"),
        ('\u{07}', "BEL"),
        ('\u{9b}', "CSI (U+009B)"),
        ('\u{202e}', "RLO (U+202E)"),
    ] {
        assert!(!text.contains(bad), "{what}: contains {name}:\n{text:?}");
    }
}

/// T55: SUMMARY, LOCATION, DESCRIPTION, CN and the From name full of escape
/// sequences: `render` (no config, from a file and from stdin) and `show`
/// print none of them; they are made visible.
#[test]
fn t55_terminal_escapes_never_reach_the_terminal() {
    let path = fixture_path("t55-terminal-escapes.eml");
    let raw = fixture("t55-terminal-escapes.eml");
    assert!(raw.contains(&0x1b) && raw.contains(&0x07));
    let empty = Sandbox::empty();
    let out = empty.bare().arg("render").arg(&path).assert().success();
    let rendered = out.get_output().stdout.clone();
    assert_terminal_safe("render FILE", &rendered);
    assert_terminal_safe("render stderr", &out.get_output().stderr);
    let text = String::from_utf8(rendered).unwrap();
    assert!(text.contains("Pay ^[[2J"), "made visible: {text}");
    assert!(text.contains("<U+202E>"), "made visible: {text}");
    let stdin = empty
        .bare()
        .args(["render", "-"])
        .write_stdin(raw.clone())
        .assert()
        .success();
    assert_terminal_safe("render -", &stdin.get_output().stdout);

    let s = Sandbox::new();
    for args in [
        vec!["show", "--message"],
        vec!["apply", "--message"],
        vec!["show", "--message"],
        vec!["reply", "accept", "--message"],
    ] {
        let mut cmd = s.rsvp(&args);
        let out = cmd.arg(&path).assert().success();
        let o = out.get_output();
        assert_terminal_safe(&format!("{args:?} stdout"), &o.stdout);
        assert_terminal_safe(&format!("{args:?} stderr"), &o.stderr);
    }
}

/// T56: SUMMARY `Lunch\nBcc: evil@x` (TEXT escape) and an encoded-word trick;
/// plus a CN and a References header with line breaks: the raw REPLY has one
/// Subject line and no Bcc or other injected header (R9.6).
#[test]
fn t56_reply_has_one_subject_and_no_injected_header() {
    let s = Sandbox::new();
    for name in ["t56-summary-newline.eml", "t56-summary-encoded-word.eml"] {
        let out = s
            .rsvp(&["reply", "accept", "--dry-run", "--message"])
            .arg(fixture_path(name))
            .assert()
            .success();
        let raw = out.get_output().stdout.clone();
        let head = sandbox::header_block(&raw);
        let fields: Vec<String> = head
            .lines()
            .filter(|l| !l.starts_with([' ', '\t']))
            .map(|l| l.split(':').next().unwrap_or("").to_ascii_lowercase())
            .collect();
        assert_eq!(
            fields.iter().filter(|f| *f == "subject").count(),
            1,
            "{name}:\n{head}"
        );
        for f in &fields {
            assert!(
                [
                    "from",
                    "to",
                    "subject",
                    "date",
                    "message-id",
                    "in-reply-to",
                    "references",
                    "mime-version",
                    "content-type",
                    "auto-submitted"
                ]
                .contains(&f.as_str()),
                "{name}: unexpected header {f:?}:\n{head}"
            );
        }
        let text = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
        for line in text.lines() {
            let l = line.to_ascii_lowercase();
            assert!(
                !l.starts_with("bcc:") && !l.starts_with("x-injected:"),
                "{name}: {line}"
            );
        }
        assert!(s.sent().is_empty(), "--dry-run sends nothing");
    }
}

fn is_safe_file_name(name: &str) -> bool {
    !name.starts_with('.')
        && name.ends_with(".ics")
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+@".contains(c))
}

/// T57: UIDs `../../.ssh/x`, `a/b`, `.hidden`, 300 × "a" and one with NUL,
/// through the CLI on a real vdir: each file is created directly in the
/// collection under a safe name, found again by UID, and keeps its name on
/// update (R9.10).
#[test]
fn t57_hostile_uids_get_safe_names_and_keep_them() {
    let s = Sandbox::new();
    // The fixture first, then the other hostile UIDs.
    s.rsvp(&["apply", "--message"])
        .arg(fixture_path("t57-uid-traversal.eml"))
        .assert()
        .success();
    let files = s.cal_files();
    assert_eq!(files.len(), 1);
    let name = files[0].0.clone();
    assert!(is_safe_file_name(&name), "{name:?}");
    assert!(!s.cal_dir().join("../../.ssh").exists());
    assert!(!s.root().join(".ssh").exists() && !s.home().join(".ssh").exists());
    let update = fixture_path("t57-uid-traversal-update.eml");
    let shown = s
        .rsvp(&["show", "--json", "--message"])
        .arg(&update)
        .assert()
        .success();
    let v = sandbox::json(&shown.get_output().stdout);
    assert_eq!(v["status"], "reschedule");
    assert_eq!(v["in_calendar"], name.as_str(), "found by UID");
    s.rsvp(&["apply", "--message"])
        .arg(&update)
        .assert()
        .success();
    s.rsvp(&["reply", "accept", "--message"])
        .arg(&update)
        .assert()
        .success();
    let after = s.cal_files();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, name, "the same file name after updates");
    let text = String::from_utf8_lossy(&after[0].1).into_owned();
    assert!(
        text.contains("UID:../../.ssh/x\r\n") && text.contains("SEQUENCE:1"),
        "{text}"
    );

    let long = "a".repeat(300);
    // A UID with NUL (or any CTL) is refused, not stored: tests/uid_controls.rs.
    for uid in ["a/b", ".hidden", long.as_str()] {
        let file = s.root().join("hostile.eml");
        std::fs::write(&file, request(&[Ev::new(uid)])).unwrap();
        let before: Vec<String> = s.cal_files().into_iter().map(|f| f.0).collect();
        s.rsvp(&["apply", "--message"])
            .arg(&file)
            .assert()
            .success();
        let now: Vec<String> = s.cal_files().into_iter().map(|f| f.0).collect();
        let new: Vec<&String> = now.iter().filter(|n| !before.contains(n)).collect();
        assert_eq!(new.len(), 1, "{uid:?}: {now:?}");
        assert!(is_safe_file_name(new[0]), "{uid:?}: {:?}", new[0]);
        std::fs::write(
            &file,
            request(&[Ev::new(uid)
                .seq(1)
                .set("SUMMARY:Moved")
                .set("DTSTART:20250113T100000Z")]),
        )
        .unwrap();
        let out = s
            .rsvp(&["show", "--json", "--message"])
            .arg(&file)
            .assert()
            .success();
        assert_eq!(
            sandbox::json(&out.get_output().stdout)["in_calendar"],
            new[0].as_str()
        );
        s.rsvp(&["apply", "--message"])
            .arg(&file)
            .assert()
            .success();
        let again: Vec<String> = s.cal_files().into_iter().map(|f| f.0).collect();
        assert_eq!(again, now, "{uid:?}: update keeps the name");
    }
    // Nothing escaped the collection.
    let mut top: Vec<String> = std::fs::read_dir(s.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [
            "calendar",
            "config.toml",
            "home",
            "hostile.eml",
            "sent",
            "xdg"
        ]
    );
}

/// T58: `RRULE:FREQ=SECONDLY` without end and `COUNT=100000000`: show, render
/// and apply finish quickly, and the event is flagged (R9.7).
#[test]
fn t58_recurrence_bombs_finish_quickly_and_are_flagged() {
    let s = Sandbox::new();
    for name in [
        "t58-secondly-unbounded.eml",
        "t58-count-huge.eml",
        "t58-daily-count-huge.eml",
    ] {
        let path = fixture_path(name);
        let start = Instant::now();
        let out = s
            .rsvp(&["show", "--json", "--message"])
            .arg(&path)
            .assert()
            .success();
        let v = sandbox::json(&out.get_output().stdout);
        let warnings = v["warnings"].to_string();
        assert!(
            warnings.contains("suspicious recurrence"),
            "{name}: {warnings}"
        );
        let text = s.rsvp(&["show", "--message"]).arg(&path).assert().success();
        let text = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
        assert!(text.contains("suspicious"), "{name}: {text}");
        s.bare().arg("render").arg(&path).assert().success();
        s.rsvp(&["apply", "--message"])
            .arg(&path)
            .assert()
            .success();
        // An occurrence check on the bomb: bounded too (answered or refused).
        let code = s
            .rsvp(&[
                "reply",
                "decline",
                "--dry-run",
                "--instance",
                "20250103T090005Z",
                "--message",
            ])
            .arg(&path)
            .assert()
            .get_output()
            .status
            .code();
        assert!(matches!(code, Some(0 | 4)), "{name}: {code:?}");
        let took = start.elapsed();
        assert!(took < Duration::from_secs(20), "{name}: {took:?}");
    }
}

/// T59: an invitation from a sender nobody knows is never put in the
/// calendar by looking at it (`show`, `show --json`, `render`, `reply
/// --dry-run`); only an explicit `apply` or `reply` writes. A sender who is
/// not the organizer is marked (R9.2, R7.9).
#[test]
fn t59_looking_at_an_invitation_never_adds_it() {
    let s = Sandbox::new();
    let ev = Ev::new("t59-spam").set("SUMMARY:Cheap watches");
    let file = s.root().join("spam.eml");
    std::fs::write(
        &file,
        mail_with("REQUEST", "stranger@unknown.example", &[], &[ev]),
    )
    .unwrap();
    let untouched = |s: &Sandbox| {
        assert!(s.cal_files().is_empty(), "{:?}", s.cal_files());
        assert!(s.sent().is_empty());
        assert!(s.pending().is_empty());
    };
    let out = s
        .rsvp(&["show", "--json", "--message"])
        .arg(&file)
        .assert()
        .success();
    let v = sandbox::json(&out.get_output().stdout);
    assert_eq!(v["status"], "new");
    assert!(
        v["warnings"]
            .to_string()
            .contains("stranger@unknown.example is not the organizer"),
        "{v}"
    );
    s.rsvp(&["show", "--message"]).arg(&file).assert().success();
    s.rsvp(&["render"]).arg(&file).assert().success();
    s.rsvp(&["render", "-"])
        .write_stdin(std::fs::read(&file).unwrap())
        .assert()
        .success();
    s.rsvp(&["reply", "accept", "--dry-run", "--message"])
        .arg(&file)
        .assert()
        .success();
    untouched(&s);
    s.rsvp(&["apply", "--message"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(s.cal_files().len(), 1);
    assert!(s.sent().is_empty(), "apply sends nothing");
    s.rsvp(&["reply", "decline", "--message"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(s.sent().len(), 1, "an explicit reply sends");
}

/// T60: a REQUEST with an EMAIL and an AUDIO VALARM, IMAGE, CONFERENCE,
/// ATTACH and URL pointing at a local listener: the stored copy has no
/// foreign alarm and nothing connects to the listener (R9.3).
#[test]
fn t60_foreign_alarms_are_stripped_and_nothing_is_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let s = Sandbox::new();
    let file = s.root().join("t60.eml");
    let text = String::from_utf8(fixture("t60-foreign-alarm-image-conference.eml")).unwrap();
    std::fs::write(&file, text.replace("PORT", &port)).unwrap();
    for args in [
        vec!["show", "--message"],
        vec!["show", "--json", "--message"],
        vec!["render"],
        vec!["apply", "--message"],
        vec!["reply", "accept", "--message"],
    ] {
        s.rsvp(&args).arg(&file).assert().success();
    }
    let files = s.cal_files();
    assert_eq!(files.len(), 1);
    let stored = String::from_utf8_lossy(&files[0].1).into_owned();
    for absent in ["VALARM", "ACTION:EMAIL", "exfil@zoom.example", "sound.wav"] {
        assert!(!stored.contains(absent), "{absent} stored:\n{stored}");
    }
    let sent = s.sent();
    assert_eq!(sent.len(), 1);
    assert!(!sandbox::reply_ics(&sent[0]).contains("VALARM"));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected to the listener: {other:?}"),
    }
}

/// T61: the calendar object changes between our read and our write: the
/// write is redone from a fresh read; the other program's change is kept
/// (no lost update); one reply is sent (R9.12).
#[test]
fn t61_concurrent_change_is_redone_from_a_fresh_read() {
    let m = mem();
    let env = m.env();
    let raw = fixture("t01-thunderbird-request.eml");
    let uid = "5c3e1b9a-7f42-4d8e-9a51-0c2f6b8e4d17";
    inbox::apply_message(&env, &raw).unwrap();
    // Another program (vdirsyncer) rewrites the file …
    let obj = m.store.find_by_uid(uid).unwrap().unwrap();
    let text = String::from_utf8(obj.data.clone()).unwrap();
    let edited = text.replace("END:VEVENT", "X-OTHER-PROGRAM:kept\r\nEND:VEVENT");
    m.store.insert(&obj.href, edited.as_bytes());
    // … and once more while we write.
    m.store.inject_conflict();
    let done = answer(&env, &raw, PartStat::Accepted).unwrap();
    assert!(done.sent);
    assert_eq!(m.transport.sent().len(), 1, "one reply despite the retry");
    assert!(m.outbox.pending().unwrap().is_empty());
    let stored = stored_text(&m, uid);
    assert!(stored.contains("X-OTHER-PROGRAM:kept"), "{stored}");
    assert!(my_line(&stored).contains("PARTSTAT=ACCEPTED"), "{stored}");
    assert_eq!(m.store.list().unwrap().len(), 1);
}

fn temp_files(dir: &Path) -> Vec<String> {
    sandbox::files_in(dir)
        .into_iter()
        .map(|f| f.0)
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// T61 (files): the binary leaves no temp file behind after creating and
/// updating objects.
#[test]
fn t61_no_temp_file_is_left_by_the_binary() {
    let s = Sandbox::new();
    let path = fixture_path("t01-thunderbird-request.eml");
    s.rsvp(&["apply", "--message"])
        .arg(&path)
        .assert()
        .success();
    s.rsvp(&["reply", "tentative", "--message"])
        .arg(&path)
        .assert()
        .success();
    s.rsvp(&["reply", "accept", "--message"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(s.cal_files().len(), 1);
    assert!(temp_files(&s.cal_dir()).is_empty(), "{:?}", s.cal_files());
    assert_eq!(s.sent().len(), 2);
}

fn set_old(path: &Path) {
    let old = std::time::SystemTime::now() - Duration::from_secs(3 * 3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

/// T62: killed after writing the temp file, before the rename: the original
/// is intact, the temp file is ignored by readers and removed at the next
/// start once it is old (R9.12).
#[test]
fn t62_half_written_temp_files_are_ignored_then_cleaned() {
    let s = Sandbox::new();
    let path = fixture_path("t01-thunderbird-request.eml");
    s.rsvp(&["apply", "--message"])
        .arg(&path)
        .assert()
        .success();
    let (name, original) = s.cal_files().remove(0);
    // A crashed update of the same object, and a crashed creation.
    let newer = String::from_utf8(original.clone())
        .unwrap()
        .replace("SEQUENCE:0", "SEQUENCE:5")
        .replace("Projektplanung", "HALF WRITTEN");
    let crashed_update = s
        .cal_dir()
        .join(format!(".{name}.0123456789abcdef0123456789abcdef.tmp"));
    std::fs::write(&crashed_update, newer).unwrap();
    let other = request(&[Ev::new("t62-only-in-tmp")]);
    let crashed_new = s
        .cal_dir()
        .join(".t62.ics.fedcba9876543210fedcba9876543210.tmp");
    std::fs::write(&crashed_new, &other).unwrap();

    let out = s
        .rsvp(&["show", "--json", "--message"])
        .arg(&path)
        .assert()
        .success();
    let v = sandbox::json(&out.get_output().stdout);
    assert_eq!(v["in_calendar"], name.as_str());
    assert_eq!(v["status"], "duplicate", "the temp file is not read: {v}");
    let file = s.root().join("t62.eml");
    std::fs::write(&file, &other).unwrap();
    let out = s
        .rsvp(&["show", "--json", "--message"])
        .arg(&file)
        .assert()
        .success();
    let v = sandbox::json(&out.get_output().stdout);
    assert_eq!(v["status"], "new");
    assert!(v["in_calendar"].is_null());
    assert_eq!(std::fs::read(s.cal_dir().join(&name)).unwrap(), original);

    // Young temp files may belong to a running writer: kept. Old ones go.
    assert_eq!(temp_files(&s.cal_dir()).len(), 2);
    set_old(&crashed_update);
    set_old(&crashed_new);
    s.rsvp(&["show", "--message"]).arg(&path).assert().success();
    assert!(temp_files(&s.cal_dir()).is_empty());
    assert_eq!(s.cal_files(), vec![(name, original)]);
}

// ---------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------

/// Every required case id (T01–T47, T55–T62) has a test whose name starts
/// with it, somewhere in src/ or tests/.
#[test]
fn conformance_index_is_complete() {
    fn walk(dir: &Path, out: &mut String) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("fixtures") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                out.push('\n');
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = String::new();
    walk(&root.join("src"), &mut sources);
    walk(&root.join("tests"), &mut sources);
    // Names of functions marked #[test] (attributes in between allowed).
    let mut tests: Vec<String> = Vec::new();
    let mut armed = false;
    for line in sources.lines().map(str::trim) {
        if line.starts_with("#[test]") {
            armed = true;
        } else if armed {
            if let Some(rest) = line
                .strip_prefix("fn ")
                .or_else(|| line.strip_prefix("pub fn "))
            {
                tests.push(rest.split('(').next().unwrap_or("").to_string());
                armed = false;
            } else if !line.starts_with("#[") && !line.starts_with("//") {
                armed = false;
            }
        }
    }
    let required = (1..=47).chain(55..=62);
    let missing: Vec<String> = required
        .map(|n| format!("t{n:02}"))
        .filter(|id| {
            !tests
                .iter()
                .any(|t| t == id || t.starts_with(&format!("{id}_")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "conformance cases without a named test (fn tNN_…): {}",
        missing.join(", ")
    );
}
