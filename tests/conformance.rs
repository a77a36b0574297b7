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
//! - T20, variant "server_scheduling = on, event already in the vdir: change
//!   PARTSTAT in the store and send no iMIP": not implemented yet (`respond`
//!   always mails; `server_scheduling` only decides SCHEDULE-AGENT=CLIENT).
//!   The main case (SCHEDULE-AGENT=CLIENT stored, no SCHEDULE-* sent) is
//!   tested here.
//! - T48–T54: processing REPLYs as the organizer (rsvp refuses to apply a
//!   REPLY; `t48`… are not required).
//! - T63: SMTP failure and retry: covered by `tests/transport.rs` and
//!   `tests/outbox.rs` against a real loopback server.
//! - T64: address-parse tricks: `domain::identity`/`classify` unit tests.
//! - T65: PUBLISH/ADD as optional methods (ADD is not handled).

mod support;

use rsvp::cli::{present, show_json};
use rsvp::domain::classify::{self, Status};
use rsvp::domain::ical;
use rsvp::domain::invite::PartStat;
use rsvp::domain::ports::{CalendarStore, Outbox};
use rsvp::inbox::{self, Applied, Env, InboxError, Responded, ResponseRequest};
use std::path::Path;
use std::time::{Duration, Instant};
use support::memenv::MemEnv;
use support::sandbox::{self, ALIAS, ME, Sandbox, fixture, fixture_path};

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

/// A whole iMIP message: one text/calendar part carrying `events`.
fn mail_with(method: &str, from: &str, extra_headers: &[&str], events: &[Ev]) -> Vec<u8> {
    let body: String = events.iter().map(Ev::text).collect();
    let tz = if body.contains("TZID=Europe/Berlin") {
        BERLIN
    } else {
        ""
    };
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
                (show_json(&shown, &env).to_string(), written)
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
    assert_eq!(shown.class.me().unwrap().address, ME);
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
/// SCHEDULE-* parameter (R6.7, R1.13). The server_scheduling=on variant is
/// not implemented (see the module comment).
#[test]
fn t20_stored_schedule_agent_client_and_none_in_the_reply() {
    let m = mem();
    let env = m.env();
    assert!(env.schedule_agent_client);
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
