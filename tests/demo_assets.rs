//! The bundled data of `rsvp demo` (assets/demo): the Maildir layout, the
//! seeded calendar, and what every message is to the engine on the demo's
//! "today" (2026-11-24 09:00 UTC) for Dana's two addresses.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rsvp::adapters::vdir::{is_safe_uid_name, safe_href};
use rsvp::domain::classify::expand_starts;
use rsvp::domain::diff::Clock;
use rsvp::domain::extract;
use rsvp::domain::identity::Identity;
use rsvp::domain::invite::{Invite, PartStat};
use rsvp::domain::ports::CalendarStore;
use rsvp::domain::sanitize::{is_bidi_control, terminal_line, terminal_safe};
use rsvp::inbox::{self, InboxError, ResponseRequest, Shown};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::memenv::MemEnv;

const DEMO: &str = "assets/demo";
const DANA: [&str; 2] = ["dana@example.org", "d.user@work.example"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

/// What one demo message is.
struct Expect {
    /// Path under assets/demo/maildir.
    file: &'static str,
    /// `show --json` status; `None` for a mail without a calendar part.
    status: Option<&'static str>,
    uid: &'static str,
    summary: &'static str,
    /// Cancel scope (`whole`, `instance`) for cancellations.
    scope: Option<&'static str>,
    /// My current answer: the stored one when the calendar has the event.
    partstat: Option<PartStat>,
    /// Whether `reply` is allowed (no refusal).
    answerable: bool,
    /// A warning the inbox must show (substring), if any.
    warning: Option<&'static str>,
    /// The organizer address a reply goes to.
    organizer: &'static str,
}

const HOSTILE: &str = "new/1795500905.M10P1.demo";
const VENDOR_DEMO: &str = "new/1795508414.M13P1.demo";
const SERIES: &str = "cur/1795163475.M3P1.demo:2,S";

const NA: Option<PartStat> = Some(PartStat::NeedsAction);
const ACC: Option<PartStat> = Some(PartStat::Accepted);

const TABLE: &[Expect] = &[
    // Google: multipart/mixed > alternative(plain, html, calendar) + invite.ics.
    Expect {
        file: "new/1795450328.M1P1.demo",
        status: Some("new"),
        uid: "3o9k2m7q1v5b8c4d6f0h2j4l6n@google.com",
        summary: "Design review: onboarding flow",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: None,
        organizer: "priya.raman@example.com",
    },
    // Outlook/Exchange, "W. Europe Standard Time" VTIMEZONE, to the alias (R6.x).
    Expect {
        file: "new/1795504533.M2P1.demo",
        status: Some("new"),
        uid: "040000008200E00074C5B7101A82E0080000000090C2F1A4F55BDB01000000000000000010000000D2E3F4A5B6C7D8E9F0A1B2C3D4E5F6A7",
        summary: "Q1 budget planning",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: None,
        organizer: "sofia.lindqvist@work.example",
    },
    // Thunderbird: weekly series, an override on 16 Dec, EXDATEs 23 and 30 Dec.
    Expect {
        file: SERIES,
        status: Some("new"),
        uid: "5c7e1f0a-3b2d-4e8f-9a61-2d4b7c9e0f13",
        summary: "Platform team weekly sync",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: None,
        organizer: "jo.park@work.example",
    },
    // Apple: a naked instance (RECURRENCE-ID only, T32).
    Expect {
        file: "cur/1795119738.M4P1.demo:2,S",
        status: Some("new"),
        uid: "6E3A9D2B-7C41-4F58-B0E2-91D4C7A85F36",
        summary: "Berlin Rust meetup – December talk night",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: None,
        organizer: "lena.fischer@example.net",
    },
    // Google: SEQUENCE 0 -> 1, 10:00 -> 16:00 (R3.7).
    Expect {
        file: "new/1795459212.M5P1.demo",
        status: Some("reschedule"),
        uid: "7h2p9s4d1k6m3n8q5r0t2v4x6z@google.com",
        summary: "Coffee chat with Alex",
        scope: None,
        partstat: ACC,
        answerable: true,
        warning: None,
        organizer: "alex.kim@example.com",
    },
    // Thunderbird: same SEQUENCE, newer DTSTAMP, new DESCRIPTION (R3.5).
    Expect {
        file: "new/1795446133.M6P1.demo",
        status: Some("update"),
        uid: "b94d2e71-0c3a-4f6d-8e15-7a2c9f0b3d58",
        summary: "Customer workshop prep",
        scope: None,
        partstat: ACC,
        answerable: true,
        warning: None,
        organizer: "tomas.ortega@work.example",
    },
    // Google: whole-event CANCEL of a stored event (R4.3).
    Expect {
        file: "new/1795507124.M7P1.demo",
        status: Some("cancel"),
        uid: "1f5h8k3m6p9r2t5w8y1b4d7g0j@google.com",
        summary: "Offsite planning lunch",
        scope: Some("whole"),
        partstat: ACC,
        answerable: false,
        warning: None,
        organizer: "noor.haddad@example.com",
    },
    // Outlook: CANCEL of one occurrence of a stored series (R4.5).
    Expect {
        file: "new/1795441930.M8P1.demo",
        status: Some("cancel"),
        uid: "040000008200E00074C5B7101A82E00800000000F0A3B2C1D45ADB010000000000000000100000004A5B6C7D8E9F0A1B2C3D4E5F60718293",
        summary: "Weekly ops review",
        scope: Some("instance"),
        partstat: ACC,
        answerable: false,
        warning: None,
        organizer: "marc.weber@work.example",
    },
    // Apple: SEQUENCE 1 while the calendar holds SEQUENCE 3 (R3.3).
    Expect {
        file: "cur/1794509113.M9P1.demo:2,S",
        status: Some("outdated"),
        uid: "D47C2A91-5E3B-4F80-A6C1-8B9E0F2D3C45",
        summary: "Book club — December",
        scope: None,
        partstat: ACC,
        answerable: false,
        warning: None,
        organizer: "rosa.martin@example.net",
    },
    // Hostile (R9.5, R9.6, R9.10): answerable, but every text is tamed.
    Expect {
        file: HOSTILE,
        status: Some("new"),
        uid: "../../.config/rsvp/config.toml",
        summary: "Salary adjustment",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: None,
        organizer: "payroll@payroll-notice.example",
    },
    Expect {
        file: "cur/1795374898.M11P1.demo:2,S",
        status: None,
        uid: "",
        summary: "",
        scope: None,
        partstat: None,
        answerable: false,
        warning: None,
        organizer: "",
    },
    Expect {
        file: "cur/1795244403.M12P1.demo:2,S",
        status: None,
        uid: "",
        summary: "",
        scope: None,
        partstat: None,
        answerable: false,
        warning: None,
        organizer: "",
    },
    // Outlook without VTIMEZONE (R3.9); overlaps the dentist.
    Expect {
        file: VENDOR_DEMO,
        status: Some("new"),
        uid: "040000008200E00074C5B7101A82E008000000006D8E2A7B105CDB01000000000000000010000000C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F6",
        summary: "Vendor demo: observability platform",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: Some("TZID \"W. Europe Standard Time\" has no VTIMEZONE"),
        organizer: "ravi.shah@vendor.example",
    },
    // Google through a Google Group: From is the list (R7.9).
    Expect {
        file: "new/1795430001.M14P1.demo",
        status: Some("new"),
        uid: "5c2f8j1n4q7s0u3w6y9a2c5e8g@google.com",
        summary: "Incident review: 19 Nov API outage",
        scope: None,
        partstat: NA,
        answerable: true,
        warning: Some(
            "sender platform-team@work.example is not the organizer kenji.mori@work.example",
        ),
        organizer: "kenji.mori@work.example",
    },
];

/// The events in the calendar that the personal-event checks refer to.
const DENTIST: &str = "K7Q2M9X4B1T6R8W3Z5N0P2J4L6H8F1D3V5C7";
const PERSONAL: [&str; 3] = [
    DENTIST,
    "R4T8Y2U6I0O3P7A1S5D9F3G7H1J5K9L3Z7X1",
    "B6N2M8Q4W0E6R2T8Y4U0I6O2P8A4S0D6F2G8",
];

fn maildir() -> PathBuf {
    Path::new(DEMO).join("maildir")
}

fn read(file: &str) -> Vec<u8> {
    let path = maildir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Non-dot file names in a directory, sorted (a Maildir reader skips dotfiles).
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

fn calendar_files() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(DEMO).join("calendar");
    names(&dir)
        .into_iter()
        .map(|n| {
            let data = std::fs::read(dir.join(&n)).unwrap();
            (n, data)
        })
        .collect()
}

/// Dana on the demo's "today", with the seeded calendar loaded by name.
fn demo_env() -> MemEnv {
    let mut m = MemEnv::new(&DANA);
    m.identity = Identity::new(
        Some("Dana User".into()),
        &DANA.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    );
    m.now = now();
    for (name, data) in calendar_files() {
        m.store.insert(&name, &data);
    }
    m
}

fn show(m: &MemEnv, file: &str) -> Result<Shown, InboxError> {
    inbox::show(&m.env(), &read(file))
}

fn accept(dry_run: bool, instance: Option<&str>) -> ResponseRequest<'_> {
    ResponseRequest {
        partstat: PartStat::Accepted,
        comment: None,
        instance,
        dry_run,
        resend: false,
        no_send: false,
    }
}

#[test]
fn maildir_has_cur_new_tmp_and_tmp_holds_no_mail() {
    for d in ["cur", "new", "tmp"] {
        assert!(maildir().join(d).is_dir(), "maildir/{d} is missing");
    }
    assert!(
        names(&maildir().join("tmp")).is_empty(),
        "Maildir tmp/ must hold no mail"
    );
    assert!(
        maildir().join("tmp/.gitkeep").is_file(),
        "git needs the placeholder"
    );
    // No stray files next to cur/new/tmp.
    assert_eq!(names(&maildir()), ["cur", "new", "tmp"]);
    for name in names(&maildir().join("cur")) {
        let (base, info) = name.split_once(":2,").expect("cur/ names end in :2,FLAGS");
        assert!(info.chars().all(|c| c.is_ascii_uppercase()), "{name}");
        assert!(info.contains('S'), "{name}: read mail is flagged S");
        assert!(base.ends_with(".demo") && base.contains(".M"), "{name}");
    }
    for name in names(&maildir().join("new")) {
        assert!(!name.contains(':'), "new/{name} carries no info part");
        assert!(name.ends_with(".demo") && name.contains(".M"), "{name}");
    }
}

#[test]
fn table_lists_every_message_and_file_names_match_dates() {
    let mut on_disk = BTreeSet::new();
    for d in ["cur", "new"] {
        for n in names(&maildir().join(d)) {
            on_disk.insert(format!("{d}/{n}"));
        }
    }
    let listed: BTreeSet<String> = TABLE.iter().map(|e| e.file.to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "every demo message has a row, and only those"
    );
    assert_eq!(TABLE.iter().filter(|e| e.status.is_some()).count(), 12);

    let mut ids = BTreeSet::new();
    for e in TABLE {
        let meta = extract::extract(&read(e.file))
            .unwrap_or_else(|err| panic!("{}: {err}", e.file))
            .meta
            .unwrap_or_else(|| panic!("{}: no headers", e.file));
        let id = meta.message_id.unwrap_or_else(|| panic!("{}", e.file));
        assert!(
            ids.insert(id.clone()),
            "{}: Message-ID {id} used twice",
            e.file
        );
        // The name starts with the delivery time: a few seconds after Date.
        let stamp: i64 = e
            .file
            .split_once('/')
            .and_then(|(_, n)| n.split_once('.'))
            .and_then(|(t, _)| t.parse().ok())
            .unwrap_or_else(|| panic!("{}: no time in the name", e.file));
        let date = meta.date.unwrap_or_else(|| panic!("{}: no Date", e.file));
        assert!((0..60).contains(&(stamp - date)), "{}", e.file);
        assert!(date < now().timestamp(), "{}: sent before today", e.file);
    }
}

/// R3.1–R3.9, R4.x, R7.9: what every message is against the seeded calendar.
#[test]
fn every_demo_message_has_its_expected_status() {
    let m = demo_env();
    for e in TABLE {
        let shown = show(&m, e.file);
        let Some(status) = e.status else {
            assert!(
                matches!(shown, Err(InboxError::NotInvitation(_))),
                "{}: a plain mail is not an invitation",
                e.file
            );
            continue;
        };
        let shown = shown.unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let c = &shown.class;
        assert_eq!(c.status.as_str(), status, "{}: {c:?}", e.file);
        assert_eq!(c.status.cancel_scope(), e.scope, "{}", e.file);
        assert_eq!(c.partstat, e.partstat, "{}", e.file);
        let inv = shown.invite().unwrap();
        assert_eq!(inv.uid, e.uid, "{}", e.file);
        let summary = inv.summary().unwrap_or_default();
        assert!(summary.contains(e.summary), "{}: {summary:?}", e.file);
        assert_eq!(
            inv.organizer().and_then(|o| o.email).as_deref(),
            Some(e.organizer),
            "{}",
            e.file
        );
        assert_eq!(
            c.reply_refusal.is_none(),
            e.answerable,
            "{}: {:?}",
            e.file,
            c.reply_refusal
        );
        match e.warning {
            Some(w) => assert!(
                c.warnings.iter().any(|x| x.contains(w)),
                "{}: {:?}",
                e.file,
                c.warnings
            ),
            None => assert!(c.warnings.is_empty(), "{}: {:?}", e.file, c.warnings),
        }
        // Updates, reschedules, cancellations and outdated copies refer to
        // an event the calendar holds; new ones do not.
        assert_eq!(
            shown.stored.is_some(),
            status != "new",
            "{}: stored copy",
            e.file
        );
    }
}

/// Details the demo shows in the detail pane: the diff of the reschedule and
/// the update, the occurrence of the instance cancellation, the series shape.
#[test]
fn r3_8_diffs_are_what_the_demo_shows() {
    let m = demo_env();
    let fields = |file: &str| -> Vec<(String, bool)> {
        show(&m, file)
            .unwrap()
            .class
            .changes
            .iter()
            .map(|c| (c.field.clone(), c.significant))
            .collect()
    };
    let s = |f: &str, sig: bool| (f.to_string(), sig);
    // Reschedule: only the time moved.
    assert_eq!(
        fields("new/1795459212.M5P1.demo"),
        [s("DTSTART", true), s("DTEND", true)]
    );
    // Minor update: only the description, not significant.
    assert_eq!(
        fields("new/1795446133.M6P1.demo"),
        [s("DESCRIPTION", false)]
    );
    // Instance cancellation: the 7 December occurrence, no bogus time change.
    let shown = show(&m, "new/1795441930.M8P1.demo").unwrap();
    assert!(
        shown
            .class
            .changes
            .iter()
            .all(|c| c.recurrence_id.as_deref() == Some("Mon 2026-12-07 16:00 CET")),
        "{:?}",
        shown.class.changes
    );
    assert!(
        !shown
            .class
            .changes
            .iter()
            .any(|c| c.field == "DTSTART" || c.field == "DTEND")
    );
    // The series: a master with RRULE and two EXDATEs, one moved occurrence.
    let series = show(&m, SERIES).unwrap();
    let inv = series.invite().unwrap();
    let master = inv.master().unwrap();
    assert!(master.is_recurring());
    assert_eq!(master.exdates().len(), 2);
    assert_eq!(inv.overrides().len(), 1);
    // The naked instance has no master.
    let naked = show(&m, "cur/1795119738.M4P1.demo:2,S").unwrap();
    assert!(naked.invite().unwrap().is_naked());
}

/// Every REQUEST that can be answered gives a dry-run REPLY to its organizer,
/// and a dry run changes nothing (R9.13).
#[test]
fn answerable_requests_give_a_dry_run_reply() {
    let m = demo_env();
    let before = m.store.list().unwrap().len();
    for e in TABLE.iter().filter(|e| e.answerable) {
        let done = inbox::respond(&m.env(), &read(e.file), &accept(true, None))
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(done.envelope.to, [e.organizer], "{}", e.file);
        assert!(DANA.contains(&done.envelope.from.as_str()), "{}", e.file);
        let reply = extract::extract(&done.message).unwrap();
        let part = reply.parts.first().expect("a calendar part");
        assert_eq!(part.method_param.as_deref(), Some("REPLY"), "{}", e.file);
        assert!(part.text.contains("PARTSTAT=ACCEPTED"), "{}", e.file);
        assert!(part.text.contains(e.uid), "{}", e.file);
        assert!(done.href.is_none() && !done.sent, "{}", e.file);
    }
    assert_eq!(m.store.list().unwrap().len(), before);
    assert!(m.transport.sent().is_empty());
}

/// R2.2: one occurrence of the series can be answered on its own, including
/// the moved one (answered by its RECURRENCE-ID).
#[test]
fn series_occurrences_can_be_answered_alone() {
    let m = demo_env();
    for rid in ["20261209T093000", "20261216T093000"] {
        let done = inbox::respond(&m.env(), &read(SERIES), &accept(true, Some(rid)))
            .unwrap_or_else(|err| panic!("{rid}: {err}"));
        let reply = extract::extract(&done.message).unwrap();
        let text = &reply.parts[0].text;
        assert!(
            text.contains(&format!("RECURRENCE-ID;TZID=Europe/Berlin:{rid}")),
            "{text}"
        );
    }
    // An EXDATE'd occurrence is not part of the series.
    let refused = inbox::respond(
        &m.env(),
        &read(SERIES),
        &accept(true, Some("20261223T093000")),
    );
    assert!(refused.is_err());
}

/// R3.3, R4.8: outdated copies and cancellations are refused with a reason.
#[test]
fn refused_items_say_why() {
    let m = demo_env();
    for e in TABLE.iter().filter(|e| e.status.is_some() && !e.answerable) {
        match inbox::respond(&m.env(), &read(e.file), &accept(true, None)) {
            Err(InboxError::Refused(reason)) => assert!(!reason.is_empty(), "{}", e.file),
            other => panic!("{}: {:?}", e.file, other.map(|r| r.envelope)),
        }
    }
}

/// The `c` key: updates, reschedules and cancellations apply to the calendar.
#[test]
fn updates_and_cancellations_apply_to_the_calendar() {
    let stored_text = |m: &MemEnv, uid: &str| -> String {
        let obj = m.store.find_by_uid(uid).unwrap().unwrap();
        String::from_utf8(obj.data).unwrap()
    };
    let m = demo_env();
    for e in TABLE
        .iter()
        .filter(|e| matches!(e.status, Some("update" | "reschedule" | "cancel")))
    {
        inbox::apply_message(&m.env(), &read(e.file))
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        // Applied once, the same message is nothing new any more.
        let again = show(&m, e.file).unwrap();
        assert!(
            matches!(again.class.status.as_str(), "duplicate" | "cancelled"),
            "{}: {}",
            e.file,
            again.class.status.as_str()
        );
    }
    let coffee = stored_text(&m, "7h2p9s4d1k6m3n8q5r0t2v4x6z@google.com");
    assert!(
        coffee.contains("DTSTART;TZID=Europe/Berlin:20261127T160000"),
        "{coffee}"
    );
    let workshop = stored_text(&m, "b94d2e71-0c3a-4f6d-8e15-7a2c9f0b3d58");
    assert!(workshop.contains("Agenda:"), "{workshop}");
    assert!(
        workshop.contains("PARTSTAT=ACCEPTED"),
        "R3.5 keeps my answer"
    );
    let lunch = stored_text(&m, "1f5h8k3m6p9r2t5w8y1b4d7g0j@google.com");
    assert!(lunch.contains("STATUS:CANCELLED"), "{lunch}");
    let ops = stored_text(
        &m,
        "040000008200E00074C5B7101A82E00800000000F0A3B2C1D45ADB010000000000000000100000004A5B6C7D8E9F0A1B2C3D4E5F60718293",
    );
    assert!(ops.contains("20261207T160000"), "{ops}");
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
}

/// T55 (R9.5): the hostile invitation carries escapes and bidi overrides in
/// every text field; after sanitising none reaches the terminal.
#[test]
fn t55_hostile_text_is_terminal_safe() {
    let m = demo_env();
    let shown = show(&m, HOSTILE).unwrap();
    let inv = shown.invite().unwrap();
    let comp = inv.primary().unwrap();
    let meta = shown.loaded.meta.as_ref().unwrap();
    let organizer = inv.organizer().unwrap();
    let texts = [
        inv.summary().unwrap(),
        comp.text(&calcard::icalendar::ICalendarProperty::Location)
            .unwrap(),
        comp.text(&calcard::icalendar::ICalendarProperty::Description)
            .unwrap(),
        meta.subject.clone().unwrap(),
    ];
    for raw in &texts {
        assert!(
            has_control(raw),
            "the demo text lost its hostility: {raw:?}"
        );
        let line = terminal_line(raw);
        assert!(!has_control(&line) && !line.contains('\n'), "{line:?}");
        assert!(!has_control(&terminal_safe(raw)), "{raw:?}");
    }
    let summary = terminal_line(&texts[0]);
    assert!(summary.contains("^[]0;"), "escapes stay visible: {summary}");
    assert!(
        summary.contains("<U+202E>"),
        "bidi stays visible: {summary}"
    );
    // Quotes in names (From display name, CN) survive as text.
    let from = meta.from[0].name.clone().unwrap();
    assert_eq!(terminal_line(&from), "Payroll \"HR\" Team");
    assert!(
        organizer
            .cn
            .unwrap()
            .contains("\" <ceo-fraud@attacker.example>")
    );
}

/// T56 (R9.6): the newline in SUMMARY and the quotes in CN do not become
/// headers or recipients of the reply.
#[test]
fn t56_hostile_reply_has_no_injected_headers() {
    let m = demo_env();
    let done = inbox::respond(&m.env(), &read(HOSTILE), &accept(true, None)).unwrap();
    assert_eq!(done.envelope.to, ["payroll@payroll-notice.example"]);
    let text = String::from_utf8_lossy(&done.message);
    let header = text.split("\r\n\r\n").next().unwrap_or_default();
    for line in header.split("\r\n") {
        assert!(!line.contains('\u{1b}'), "{line:?}");
        for bad in ["Bcc:", "X-Priority:"] {
            assert!(!line.starts_with(bad), "injected header: {line:?}");
        }
    }
    let meta = extract::extract(&done.message).unwrap().meta.unwrap();
    let to: Vec<&str> = meta.to.iter().map(|t| t.address.as_str()).collect();
    assert_eq!(to, ["payroll@payroll-notice.example"], "one recipient");
    assert!(meta.cc.is_empty());
}

/// T57 (R9.10): the UID with `../` never becomes a path.
#[test]
fn t57_hostile_uid_gets_a_random_file_name() {
    let uid = "../../.config/rsvp/config.toml";
    assert!(!is_safe_uid_name(uid));
    assert_eq!(safe_href(uid, || "random.ics".into()), "random.ics");
    let m = demo_env();
    let (_, applied) = inbox::apply_message(&m.env(), &read(HOSTILE)).unwrap();
    let inbox::Applied::Stored { href, created } = applied else {
        panic!("{applied:?}");
    };
    assert!(created);
    assert!(!href.contains('/') && !href.starts_with('.'), "{href}");
    assert!(is_safe_uid_name(href.trim_end_matches(".ics")), "{href}");
}

/// The vdir: rsvp's stored copies (no METHOD, my answer, the organizer's
/// revision kept, SCHEDULE-AGENT=CLIENT) and plain personal events, under
/// safe names.
#[test]
fn calendar_holds_stored_copies_and_personal_events() {
    let files = calendar_files();
    assert_eq!(files.len(), 8);
    let mut uids = BTreeSet::new();
    for (name, data) in &files {
        let text = String::from_utf8(data.clone()).unwrap();
        let stem = name.strip_suffix(".ics").expect("a .ics name");
        assert!(is_safe_uid_name(stem), "{name}");
        let loaded = inbox::load(data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let inv = loaded.invite.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            inv.method.is_none(),
            "{name}: a stored object has no METHOD"
        );
        assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'));
        let text = text.replace("\r\n ", "");
        // UID.ics when the UID is a safe name, else a random name (R9.10).
        if is_safe_uid_name(&inv.uid) {
            assert_eq!(stem, inv.uid, "{name}");
        } else {
            assert!(
                stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit()),
                "{name}"
            );
        }
        assert!(uids.insert(inv.uid.clone()), "{name}: UID twice");
        if PERSONAL.contains(&inv.uid.as_str()) {
            assert!(inv.organizer().is_none(), "{name}: a personal event");
            continue;
        }
        assert!(text.contains("SCHEDULE-AGENT=CLIENT"), "{name}");
        assert!(text.contains("X-RSVP-RECEIVED-SEQUENCE:"), "{name}");
        assert!(text.contains("X-RSVP-RECEIVED-DTSTAMP:"), "{name}");
        let me = inv
            .primary()
            .unwrap()
            .attendees()
            .into_iter()
            .find(|a| a.email.as_deref().is_some_and(|e| DANA.contains(&e)))
            .unwrap_or_else(|| panic!("{name}: Dana is an attendee"));
        assert_eq!(me.partstat, PartStat::Accepted, "{name}");
    }
    // Every stored copy is one that a demo message refers to.
    let referred: BTreeSet<String> = TABLE
        .iter()
        .filter(|e| matches!(e.status, Some(s) if s != "new"))
        .map(|e| e.uid.to_string())
        .collect();
    let stored: BTreeSet<String> = uids
        .into_iter()
        .filter(|u| !PERSONAL.contains(&u.as_str()))
        .collect();
    assert_eq!(stored, referred);
}

/// Occurrences (start, end) up to the horizon; a cancelled component is free.
fn spans(
    inv: &Invite,
    clock: &Clock,
    horizon: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let comps = inv.components();
    let length = |id: u32| -> Option<Duration> {
        let c = comps.iter().find(|c| c.id == id)?;
        if c.is_cancelled() {
            return None;
        }
        let start = clock.instant(&c.dtstart()?, &inv.cal)?;
        let end = match c.dtend() {
            Some(e) => clock.instant(&e, &inv.cal)?,
            None => start + c.duration()?,
        };
        Some(end - start)
    };
    let recurring = inv.master().is_some_and(|m| m.is_recurring());
    if recurring {
        expand_starts(inv)
            .into_iter()
            .filter(|(_, s)| *s < horizon)
            .filter_map(|(id, s)| Some((s, s + length(id)?)))
            .collect()
    } else {
        comps
            .iter()
            .filter_map(|c| {
                let s = clock.instant(&c.dtstart()?, &inv.cal)?;
                Some((s, s + length(c.id)?))
            })
            .collect()
    }
}

/// Issue 3 "conflicts": exactly one invitation overlaps another event in
/// the calendar: the vendor demo (15:30–16:30) and the dentist (15:00–16:00).
/// Every invitation lies after "today".
#[test]
fn only_the_vendor_demo_overlaps_the_calendar() {
    let m = demo_env();
    let clock = Clock {
        local: chrono_tz::Europe::Berlin,
    };
    let horizon = Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap();
    let stored: Vec<Invite> = calendar_files()
        .iter()
        .map(|(_, d)| inbox::load(d).unwrap().invite.unwrap())
        .collect();
    let mut conflicts = Vec::new();
    for e in TABLE.iter().filter(|e| e.answerable) {
        let shown = show(&m, e.file).unwrap();
        let inv = shown.invite().unwrap();
        let mine = spans(inv, &clock, horizon);
        assert!(!mine.is_empty(), "{}", e.file);
        assert!(
            mine.iter().all(|(s, _)| *s > now()),
            "{}: in the past",
            e.file
        );
        for other in stored.iter().filter(|o| o.uid != inv.uid) {
            let theirs = spans(other, &clock, horizon);
            if mine
                .iter()
                .any(|(s, end)| theirs.iter().any(|(os, oe)| s < oe && os < end))
            {
                conflicts.push((e.file, other.uid.clone()));
            }
        }
    }
    assert_eq!(conflicts, [(VENDOR_DEMO, DENTIST.to_string())]);
}

/// notmuch (the issue-3 index) reads the Maildir: fourteen messages, twelve
/// with a calendar part, and the tmp/ placeholder is not mail.
#[test]
fn notmuch_indexes_the_demo_maildir() {
    use std::process::Command;
    if Command::new("notmuch").arg("--version").output().is_err() {
        return support::skip::<()>("notmuch is not installed").unwrap_or(());
    }
    let tmp = tempfile::tempdir().unwrap();
    let mail = tmp.path().join("mail");
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(mail.join(d)).unwrap();
        for entry in std::fs::read_dir(maildir().join(d)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), mail.join(d).join(entry.file_name())).unwrap();
        }
    }
    let config = tmp.path().join("notmuch-config");
    std::fs::write(
        &config,
        format!(
            "[database]\npath={}\n[new]\ntags=inbox\n[maildir]\nsynchronize_flags=false\n",
            mail.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| -> String {
        let out = Command::new("notmuch")
            .args(args)
            .env("NOTMUCH_CONFIG", &config)
            .env_remove("NOTMUCH_PROFILE")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "notmuch {args:?}: {all}");
        all
    };
    let new = run(&["new"]);
    assert!(!new.contains("Ignoring non-mail file"), "{new}");
    assert_eq!(run(&["count", "*"]).trim(), "14");
    let query = "mimetype:text/calendar or mimetype:application/ics or attachment:ics";
    assert_eq!(run(&["count", query]).trim(), "12");
}

/// The files compiled into the binary (`rsvp::demo::FILES`) are exactly the
/// files of assets/demo (so `rsvp demo` shows what the tests pin).
#[test]
fn embedded_demo_files_match_the_directory() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let mut on_disk = Vec::new();
    for sub in ["maildir/cur", "maildir/new", "calendar"] {
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if !name.starts_with('.') {
                on_disk.push(format!("{sub}/{name}"));
            }
        }
    }
    on_disk.sort();
    let mut embedded: Vec<String> = rsvp::demo::FILES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
    for (name, bytes) in rsvp::demo::FILES {
        assert_eq!(
            *bytes,
            std::fs::read(root.join(name)).unwrap().as_slice(),
            "{name}"
        );
    }
}

/// Issue 9: `rsvp demo` moves the data by whole weeks to the day it runs.
/// Moved by any number of weeks (across a year end and DST changes), with
/// the clock moved alike, every message is what it was on the demo's
/// "today": same status, answer, refusal and warnings; its start moved by
/// exactly that many weeks (same weekday) and its Date header too.
#[test]
fn demo_moved_by_whole_weeks_is_the_same_inbox() {
    let base = demo_env();
    for weeks in [1i64, 5, 54, -60] {
        let mut m = MemEnv::new(&DANA);
        m.identity = base.identity.clone();
        m.now = now() + Duration::weeks(weeks);
        for (name, data) in calendar_files() {
            m.store.insert(&name, &rsvp::demo::shift(&data, weeks));
        }
        for e in TABLE {
            let raw = read(e.file);
            let moved = rsvp::demo::shift(&raw, weeks);
            let before = inbox::show(&base.env(), &raw);
            let after = inbox::show(&m.env(), &moved);
            let (Ok(before), Ok(after)) = (before, after) else {
                assert!(e.status.is_none(), "{} ({weeks} weeks)", e.file);
                continue;
            };
            let (b, a) = (&before.class, &after.class);
            assert_eq!(a.status, b.status, "{} ({weeks} weeks)", e.file);
            assert_eq!(a.partstat, b.partstat, "{} ({weeks} weeks)", e.file);
            assert_eq!(
                after.stored.is_some(),
                before.stored.is_some(),
                "{} ({weeks} weeks): stored copy",
                e.file
            );
            assert_eq!(
                a.reply_refusal.is_some(),
                b.reply_refusal.is_some(),
                "{} ({weeks} weeks): {:?}",
                e.file,
                a.reply_refusal
            );
            assert_eq!(
                a.warnings.len(),
                b.warnings.len(),
                "{}: {:?}",
                e.file,
                a.warnings
            );
            let start = |s: &Shown| {
                let inv = s.invite().unwrap();
                let c = inv.primary().unwrap();
                let v = c.dtstart().or_else(|| c.recurrence_id()).unwrap();
                Clock {
                    local: chrono_tz::Europe::Berlin,
                }
                .instant(&v, &inv.cal)
                .unwrap()
            };
            let delta = start(&after) - start(&before);
            // A wall-clock time keeps its hour; across a DST change the
            // instant moves by an hour more or less than whole weeks.
            let off = (delta - Duration::weeks(weeks)).num_minutes().abs();
            assert!(off == 0 || off == 60, "{} ({weeks} weeks): {delta}", e.file);
            let date = |raw: &[u8]| extract::extract(raw).unwrap().meta.unwrap().date.unwrap();
            assert_eq!(
                date(&moved) - date(&raw),
                Duration::weeks(weeks).num_seconds(),
                "{} Date header",
                e.file
            );
        }
    }
}

/// The decoded text of every text part of a message (plain, html and the
/// calendar parts), in order.
fn text_parts(raw: &[u8]) -> Vec<String> {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    msg.parts
        .iter()
        .filter_map(|p| match &p.body {
            mail_parser::PartType::Text(t) | mail_parser::PartType::Html(t) => Some(t.to_string()),
            mail_parser::PartType::Binary(b) | mail_parser::PartType::InlineBinary(b) => {
                Some(String::from_utf8_lossy(b).into_owned())
            }
            _ => None,
        })
        .collect()
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_of(word: &str) -> Option<u32> {
    MONTH_NAMES
        .iter()
        .position(|m| word == *m || word == &m[..3])
        .map(|i| i as u32 + 1)
}

/// Every `[Weekday[,]] D Month YYYY` in `text` (words split at anything
/// but letters and digits), with the weekday written before it.
fn written_dates(text: &str) -> Vec<(chrono::NaiveDate, Option<String>)> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.windows(3).enumerate() {
        let (Ok(d), Some(m), Ok(y)) = (w[0].parse(), month_of(w[1]), w[2].parse::<i32>()) else {
            continue;
        };
        if w[2].len() != 4 {
            continue;
        }
        let weekday = i
            .checked_sub(1)
            .map(|k| words[k])
            .filter(|w| {
                ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                    .iter()
                    .any(|d| w.starts_with(d))
            })
            .map(str::to_string);
        out.push((chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(), weekday));
    }
    out
}

/// The text with its dates taken out: every digit and month name, and
/// runs of spaces made one (iCalendar lines unfolded first: a moved date
/// may fold a line elsewhere).
fn without_dates(text: &str) -> String {
    let unfolded = text.replace("\r\n ", "").replace("\n ", "");
    let mut t: String = unfolded.chars().filter(|c| !c.is_ascii_digit()).collect();
    for m in MONTH_NAMES {
        t = t.replace(m, "").replace(&m[..3], "");
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `rsvp demo` moves the data by whole weeks to the day it runs: the
/// dates written in the messages (headers, plain and html text, the
/// events' summaries and descriptions; base64 and quoted-printable parts
/// alike) move with the events, their weekdays stay right, and nothing
/// else of the text changes.
#[test]
fn demo_prose_dates_move_with_the_events() {
    use chrono::Datelike;
    let mut moved = 0;
    for (name, bytes) in rsvp::demo::FILES
        .iter()
        .filter(|(n, _)| n.starts_with("maildir/"))
    {
        let shifted = rsvp::demo::shift(bytes, 1);
        let (before, after) = (text_parts(bytes), text_parts(&shifted));
        assert_eq!(before.len(), after.len(), "{name}: parts");
        let subject = |raw: &[u8]| {
            let m = mail_parser::MessageParser::default().parse(raw).unwrap();
            m.subject().unwrap_or_default().to_string()
        };
        let mut texts: Vec<(String, String)> = before.into_iter().zip(after).collect();
        texts.push((subject(bytes), subject(&shifted)));
        for (b, a) in &texts {
            assert_eq!(
                without_dates(b),
                without_dates(a),
                "{name}: text besides dates"
            );
            let (was, now) = (written_dates(b), written_dates(a));
            assert_eq!(was.len(), now.len(), "{name}: {a}");
            for ((d0, _), (d1, weekday)) in was.iter().zip(&now) {
                assert_eq!(*d1, *d0 + Duration::days(7), "{name}");
                if let Some(w) = weekday {
                    assert!(w.starts_with(&d1.weekday().to_string()), "{name}: {w} {d1}");
                }
                moved += 1;
            }
        }
    }
    assert!(moved >= 20, "only {moved} written dates seen");
    // The ones a reader sees first, one week later.
    let text = |file: &str| {
        let (_, raw) = rsvp::demo::FILES
            .iter()
            .find(|(n, _)| n.ends_with(file))
            .unwrap();
        text_parts(&rsvp::demo::shift(raw, 1)).join("\n")
    };
    let incident = text("M14P1.demo");
    assert!(
        incident.contains("Incident review: 26 Nov API outage"),
        "{incident}"
    );
    assert!(incident.contains("Friday 4 Dec 2026"), "{incident}");
    let series = text("M3P1.demo:2,S");
    assert!(
        series.contains("not on 30 December and 6 January;"),
        "{series}"
    );
    assert!(series.contains("23 December moved to 14:00"), "{series}");
    assert!(series.contains("until 7 April 2027"), "{series}");
    assert!(text("M8P1.demo").contains("No ops review on 14 December"));
}
