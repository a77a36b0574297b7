//! The command-line contract, against the real binary: every run gets its
//! own HOME, XDG_* directories, vdir and config in a tempdir, TZ is
//! Europe/Berlin, and replies go to a sendmail sink (`support::cli_sandbox`).
//!
//! Exit codes: 0 ok, 1 runtime (a failed send leaves the reply queued),
//! 2 usage, 3 configuration, 4 refused by the iTIP rules or not an
//! invitation — with exactly one line on stderr saying why.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::cli_sandbox::{
    self as sandbox, ME, Sandbox, fixture, fixture_path, json, stderr_lines,
};

const ORG: &str = "olivia@example.com";

/// A REQUEST from the organizer with me invited (RSVP), Europe/Berlin times.
fn invite(uid: &str, seq: u32, stamp: &str, start: &str, extra: &str) -> Vec<u8> {
    message(
        "REQUEST",
        ORG,
        &format!(
            "UID:{uid}\r\nSEQUENCE:{seq}\r\nDTSTAMP:{stamp}\r\nDTSTART;TZID=Europe/Berlin:{start}\r\nDURATION:PT1H\r\nSUMMARY:Budget review\r\nLOCATION:Room 1\r\nORGANIZER;CN=Olivia Organizer:mailto:{ORG}\r\nATTENDEE;CN=Dana User;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\n{extra}"
        ),
    )
}

fn cancel(uid: &str, seq: u32, from: &str) -> Vec<u8> {
    message(
        "CANCEL",
        from,
        &format!(
            "UID:{uid}\r\nSEQUENCE:{seq}\r\nDTSTAMP:20250102T150000Z\r\nDTSTART;TZID=Europe/Berlin:20250113T090000\r\nSUMMARY:Budget review\r\nSTATUS:CANCELLED\r\nORGANIZER;CN=Olivia Organizer:mailto:{ORG}\r\nATTENDEE:mailto:{ME}\r\n"
        ),
    )
}

fn message(method: &str, from: &str, vevent: &str) -> Vec<u8> {
    let tz = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";
    format!(
        "From: <{from}>\r\nTo: <{ME}>\r\nSubject: {method}\r\nMessage-ID: <{}@cli.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method={method}; charset=UTF-8\r\n\r\nBEGIN:VCALENDAR\r\nPRODID:-//Test//CLI//EN\r\nVERSION:2.0\r\nMETHOD:{method}\r\n{tz}BEGIN:VEVENT\r\n{vevent}END:VEVENT\r\nEND:VCALENDAR\r\n",
        vevent.len()
    )
    .into_bytes()
}

const PLAIN_MAIL: &str = "From: Friend <friend@example.net>\r\nTo: <dana@example.org>\r\nSubject: lunch?\r\n\r\nAre you free on Monday?\r\n";

/// Write `bytes` into the sandbox and return the path.
fn put(s: &Sandbox, name: &str, bytes: &[u8]) -> PathBuf {
    let p = s.root().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Every file under the sandbox (relative path → bytes), except the cache
/// (`$XDG_CACHE_HOME/rsvp`: parsed messages and the calendar index, which
/// only save time; ARCHITECTURE.md "State that survives restarts").
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.ends_with("xdg/cache") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn stdout_json(s: &Sandbox, path: &Path) -> serde_json::Value {
    let out = s
        .rsvp(&["show", "--json", "--message"])
        .arg(path)
        .assert()
        .success();
    json(&out.get_output().stdout)
}

fn stored(s: &Sandbox) -> String {
    let files = s.cal_files();
    assert_eq!(files.len(), 1, "{files:?}");
    String::from_utf8(files[0].1.clone())
        .unwrap()
        .replace("\r\n ", "")
}

fn my_partstat(ics: &str) -> String {
    let line = ics
        .lines()
        .find(|l| l.starts_with("ATTENDEE") && l.ends_with(ME))
        .unwrap_or_else(|| panic!("no ATTENDEE for me:\n{ics}"));
    line.split(';')
        .find_map(|p| p.strip_prefix("PARTSTAT="))
        .map(|p| p.split(':').next().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// Exit code `code`, exactly one non-empty stderr line (returned), nothing
/// on stdout.
fn fails_with(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    let o = out.get_output();
    let lines = stderr_lines(&o.stderr);
    assert_eq!(lines.len(), 1, "stderr: {lines:?}");
    assert!(
        o.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    lines[0].clone()
}

// ---------------------------------------------------------------------------
// show --json
// ---------------------------------------------------------------------------

#[test]
fn show_json_has_the_contract_fields() {
    let s = Sandbox::new();
    let v = stdout_json(&s, &fixture_path("t01-thunderbird-request.eml"));
    assert_eq!(v["method"], "REQUEST");
    assert_eq!(v["uid"], "5c3e1b9a-7f42-4d8e-9a51-0c2f6b8e4d17");
    assert_eq!(v["status"], "new");
    assert_eq!(v["summary"], "Projektplanung Q1");
    assert_eq!(v["organizer"]["address"], "tom@tb.example");
    assert_eq!(v["organizer"]["name"], "Tom Thunder");
    assert_eq!(v["me"]["address"], ME);
    assert_eq!(v["me"]["attendee"], format!("mailto:{ME}"));
    assert_eq!(v["partstat"], "NEEDS-ACTION");
    assert_eq!(v["sequence"], 0);
    assert_eq!(v["start"]["value"], "TZID=Europe/Berlin:20250113T090000");
    assert_eq!(v["start"]["utc"], "2025-01-13T08:00:00+00:00");
    assert_eq!(v["start"]["local"], "2025-01-13T09:00:00+01:00");
    assert_eq!(v["end"]["utc"], "2025-01-13T09:30:00+00:00");
    assert_eq!(v["changes"], serde_json::json!([]));
    assert!(v["warnings"].is_array());
    assert!(v["in_calendar"].is_null());
    assert_eq!(v["can_reply"], true);
}

/// After a version is in the calendar, `show --json` of the next one lists
/// the changes with iCalendar property names.
#[test]
fn show_json_lists_changes_by_icalendar_field_name() {
    let s = Sandbox::new();
    let v1 = put(
        &s,
        "v1.eml",
        &invite("cli-upd", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    s.rsvp(&["apply", "--message"]).arg(&v1).assert().success();
    let v2 = put(
        &s,
        "v2.eml",
        &String::from_utf8(invite(
            "cli-upd",
            1,
            "20250102T110000Z",
            "20250113T110000",
            "",
        ))
        .unwrap()
        .replace("LOCATION:Room 1", "LOCATION:Room 2")
        .into_bytes(),
    );
    let v = stdout_json(&s, &v2);
    assert_eq!(v["status"], "reschedule");
    let changes = v["changes"].as_array().unwrap();
    let field = |name: &str| {
        changes
            .iter()
            .find(|c| c["field"] == name)
            .unwrap_or_else(|| panic!("no {name} change in {changes:?}"))
    };
    let dtstart = field("DTSTART");
    assert!(
        dtstart["old"].as_str().unwrap().contains("09:00"),
        "{dtstart}"
    );
    assert!(
        dtstart["new"].as_str().unwrap().contains("11:00"),
        "{dtstart}"
    );
    assert_eq!(field("LOCATION")["old"], "Room 1");
    assert_eq!(field("LOCATION")["new"], "Room 2");
    for c in changes {
        for key in ["field", "old", "new"] {
            assert!(c.get(key).is_some(), "{c}");
        }
    }
    s.rsvp(&["apply", "--message"]).arg(&v2).assert().success();
    let again = stdout_json(&s, &v2);
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["changes"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    s.rsvp(&["frobnicate"]).assert().code(2);
    s.rsvp(&["show"]).assert().code(2);
    s.rsvp(&["reply", "accept"]).assert().code(2);
    s.rsvp(&["reply", "maybe", "--message", "x.eml"])
        .assert()
        .code(2);
    // No command is the inbox (TUI); without a configuration it says so.
    s.bare()
        .assert()
        .code(3)
        .stderr(predicates::str::contains("config.toml"));
    let path = put(
        &s,
        "inv.eml",
        &invite("cli-usage", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    let why = fails_with(
        s.rsvp(&["reply", "accept", "--instance", "next tuesday", "--message"])
            .arg(&path),
        2,
    );
    assert!(why.contains("--instance"), "{why}");
    assert!(s.cal_files().is_empty());
}

#[test]
fn config_errors_exit_3_and_name_the_problem() {
    let s = Sandbox::new();
    std::fs::write(
        s.config_path(),
        format!(
            "[identity]\naddresses = [\"{ME}\"]\ncolour = \"blue\"\n[calendar]\npath = \"{}\"\n",
            s.cal_dir().display()
        ),
    )
    .unwrap();
    let inv = put(
        &s,
        "inv.eml",
        &invite("cli-cfg", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    let why = fails_with(s.rsvp(&["show", "--message"]).arg(&inv), 3);
    let file = s.config_path().display().to_string();
    assert!(why.contains(&format!("{file}:3")), "file and line: {why}");
    assert!(why.contains("colour"), "the key: {why}");

    // A missing file, given or default.
    let missing = s.root().join("nope.toml");
    let why = fails_with(
        s.bare()
            .arg("--config")
            .arg(&missing)
            .args(["show", "--message"])
            .arg(&inv),
        3,
    );
    assert!(why.contains("nope.toml"), "{why}");
    let why = fails_with(s.bare().args(["show", "--message"]).arg(&inv), 3);
    assert!(why.contains("config.toml"), "{why}");
}

#[test]
fn refusals_exit_4_with_one_line_and_write_nothing() {
    let s = Sandbox::new();
    let v1 = invite("cli-ref", 1, "20250102T100000Z", "20250113T090000", "");
    s.rsvp(&["apply", "--message"])
        .arg(put(&s, "v1.eml", &v1))
        .assert()
        .success();
    let before = snapshot(s.root());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a CANCEL", cancel("cli-ref", 2, ORG), "needs no answer"),
        (
            "an outdated invitation",
            invite("cli-ref", 0, "20250101T100000Z", "20250113T090000", ""),
            "newer version",
        ),
        (
            "an invitation for someone else",
            String::from_utf8(invite(
                "cli-other",
                0,
                "20250102T100000Z",
                "20250113T090000",
                "",
            ))
            .unwrap()
            .replace(&format!("mailto:{ME}"), "mailto:bob@example.com")
            .into_bytes(),
            "is an attendee",
        ),
        (
            "a plain e-mail",
            PLAIN_MAIL.as_bytes().to_vec(),
            "no calendar part",
        ),
    ];
    for (what, bytes, because) in cases {
        let path = put(&s, "case.eml", &bytes);
        let why = fails_with(s.rsvp(&["reply", "accept", "--message"]).arg(&path), 4);
        assert!(why.starts_with("rsvp: "), "{what}: {why}");
        assert!(why.contains(because), "{what}: {why}");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(snapshot(s.root()), before, "{what}: something was written");
    }
    assert!(s.sent().is_empty());
}

// ---------------------------------------------------------------------------
// reply
// ---------------------------------------------------------------------------

#[test]
fn reply_dry_run_prints_the_message_and_writes_nothing() {
    let s = Sandbox::new();
    let path = put(
        &s,
        "inv.eml",
        &invite("cli-dry", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    let before = snapshot(s.root());
    let out = s
        .rsvp(&[
            "reply",
            "decline",
            "--dry-run",
            "--comment",
            "Sorry",
            "--message",
        ])
        .arg(&path)
        .assert()
        .success();
    let msg = out.get_output().stdout.clone();
    let head = sandbox::header_block(&msg);
    assert!(head.contains("Subject: Declined: Budget review"), "{head}");
    assert!(
        head.contains(&format!("To: \"Olivia Organizer\" <{ORG}>")),
        "{head}"
    );
    let ics = sandbox::reply_ics(&msg);
    assert!(ics.contains("PARTSTAT=DECLINED"), "{ics}");
    assert!(ics.contains("COMMENT:Sorry"), "{ics}");
    assert_eq!(snapshot(s.root()), before, "--dry-run wrote something");

    // Works without any transport configured.
    std::fs::write(
        s.config_path(),
        format!(
            "[identity]\naddresses = [\"{ME}\"]\n[calendar]\npath = \"{}\"\n",
            s.cal_dir().display()
        ),
    )
    .unwrap();
    s.rsvp(&["reply", "accept", "--dry-run", "--message"])
        .arg(&path)
        .assert()
        .success();
    let why = fails_with(s.rsvp(&["reply", "accept", "--message"]).arg(&path), 3);
    assert!(why.contains("transport"), "{why}");
    assert!(s.cal_files().is_empty() && s.pending().is_empty());
}

#[test]
fn reply_sends_updates_the_calendar_and_does_not_send_twice() {
    let s = Sandbox::new();
    let path = put(
        &s,
        "inv.eml",
        &invite("cli-send", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    let out = s
        .rsvp(&["reply", "accept", "--message"])
        .arg(&path)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(&format!("reply sent to {ORG}")), "{err}");
    let sent = s.sent();
    assert_eq!(sent.len(), 1);
    assert!(sandbox::reply_ics(&sent[0]).contains("PARTSTAT=ACCEPTED"));
    assert_eq!(my_partstat(&stored(&s)), "ACCEPTED");
    assert!(s.pending().is_empty());
    let again = s
        .rsvp(&["reply", "accept", "--message"])
        .arg(&path)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&again.get_output().stderr).into_owned();
    assert!(err.contains("already answered"), "{err}");
    assert_eq!(s.sent().len(), 1);
    s.rsvp(&["reply", "accept", "--resend", "--message"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(s.sent().len(), 2, "--resend sends again");
}

/// A failing transport: exit 1, one line, the calendar is updated and the
/// reply stays queued; `outbox flush` sends it later (R9.13).
#[test]
fn failed_send_exits_1_and_stays_queued_until_flush() {
    let s = Sandbox::new();
    let good = std::fs::read_to_string(s.config_path()).unwrap();
    let cut = good.find("[sendmail]").unwrap();
    let failing = format!(
        "{}[sendmail]\ncommand = \"sh -c 'echo mail queue full >&2; exit 75'\"\n",
        &good[..cut]
    );
    assert_ne!(failing, good);
    std::fs::write(s.config_path(), failing).unwrap();
    let path = put(
        &s,
        "inv.eml",
        &invite("cli-fail", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    let out = s
        .rsvp(&["reply", "tentative", "--message"])
        .arg(&path)
        .assert()
        .code(1);
    let lines = stderr_lines(&out.get_output().stderr);
    let last = lines.last().unwrap();
    assert!(
        last.contains("not sent") && last.contains("queued"),
        "{lines:?}"
    );
    assert!(last.contains("mail queue full"), "the reason: {last}");
    assert_eq!(my_partstat(&stored(&s)), "TENTATIVE");
    assert_eq!(s.pending().len(), 1);
    let list = s.rsvp(&["outbox", "list"]).assert().success();
    let listed = String::from_utf8_lossy(&list.get_output().stdout).into_owned();
    assert!(
        listed.contains("cli-fail") && listed.contains(ORG),
        "{listed}"
    );

    std::fs::write(s.config_path(), good).unwrap();
    s.rsvp(&["outbox", "flush"]).assert().success();
    assert_eq!(s.sent().len(), 1);
    assert!(s.pending().is_empty());
    let list = s.rsvp(&["outbox"]).assert().success();
    assert!(String::from_utf8_lossy(&list.get_output().stdout).contains("outbox is empty"));
}

// ---------------------------------------------------------------------------
// apply
// ---------------------------------------------------------------------------

#[test]
fn apply_stores_merges_cancels_and_refuses() {
    let s = Sandbox::new();
    let v1 = put(
        &s,
        "v1.eml",
        &invite("cli-apply", 0, "20250102T100000Z", "20250113T090000", ""),
    );
    s.rsvp(&["apply", "--message"]).arg(&v1).assert().success();
    let ics = stored(&s);
    assert_eq!(my_partstat(&ics), "NEEDS-ACTION");
    assert!(!ics.contains("METHOD"));
    let name = s.cal_files()[0].0.clone();
    assert!(s.sent().is_empty(), "apply never sends");

    // Answer, then a minor update keeps the answer and merges the change.
    s.rsvp(&["reply", "accept", "--message"])
        .arg(&v1)
        .assert()
        .success();
    let v1b = put(
        &s,
        "v1b.eml",
        &invite(
            "cli-apply",
            0,
            "20250102T110000Z",
            "20250113T090000",
            "DESCRIPTION:Bring the numbers\r\n",
        ),
    );
    s.rsvp(&["apply", "--message"]).arg(&v1b).assert().success();
    let ics = stored(&s);
    assert!(ics.contains("DESCRIPTION:Bring the numbers"), "{ics}");
    assert_eq!(my_partstat(&ics), "ACCEPTED");
    // The same message again: nothing to do, exit 0.
    s.rsvp(&["apply", "--message"]).arg(&v1b).assert().success();

    // Outdated: exit 4, bytes unchanged.
    let before = s.cal_files();
    let old = put(
        &s,
        "old.eml",
        &invite("cli-apply", 0, "20250101T100000Z", "20250113T080000", ""),
    );
    let why = fails_with(s.rsvp(&["apply", "--message"]).arg(&old), 4);
    assert!(why.contains("newer version"), "{why}");
    assert_eq!(s.cal_files(), before);

    // A spoofed cancellation: exit 4, bytes unchanged.
    let spoofed = put(
        &s,
        "spoof.eml",
        &cancel("cli-apply", 1, "mallory@evil.example"),
    );
    let why = fails_with(s.rsvp(&["apply", "--message"]).arg(&spoofed), 4);
    assert!(why.contains("not the organizer"), "{why}");
    assert_eq!(s.cal_files(), before);

    // The organizer's cancellation is applied in place.
    let can = put(&s, "cancel.eml", &cancel("cli-apply", 1, ORG));
    s.rsvp(&["apply", "--message"]).arg(&can).assert().success();
    let files = s.cal_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, name, "same file");
    assert!(String::from_utf8_lossy(&files[0].1).contains("STATUS:CANCELLED"));
    assert_eq!(s.sent().len(), 1, "no reply to a cancellation");
}

/// A CANCEL for an event that is not in the calendar is remembered: its
/// older REQUEST arriving late is refused (T34 through the files).
#[test]
fn apply_remembers_cancellations_of_unknown_events() {
    let s = Sandbox::new();
    let can = put(&s, "cancel.eml", &cancel("cli-tomb", 4, ORG));
    s.rsvp(&["apply", "--message"]).arg(&can).assert().success();
    assert!(s.cal_files().is_empty());
    assert!(s.data_dir().join("tombstones.json").exists());
    let late = put(
        &s,
        "late.eml",
        &invite("cli-tomb", 3, "20250102T100000Z", "20250113T090000", ""),
    );
    let v = stdout_json(&s, &late);
    assert_eq!(v["status"], "outdated");
    fails_with(s.rsvp(&["apply", "--message"]).arg(&late), 4);
    assert!(s.cal_files().is_empty());
}

// ---------------------------------------------------------------------------
// render, check, stdin
// ---------------------------------------------------------------------------

#[test]
fn render_works_without_any_configuration() {
    let s = Sandbox::empty();
    assert!(!s.config_path().exists());
    let raw = fixture("t05-outlook-windows-1252-qp.eml");
    for args in [vec!["render", "-"], vec!["render"]] {
        let out = s
            .bare()
            .args(&args)
            .write_stdin(raw.clone())
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(text.starts_with("Café\n"), "{args:?}: {text}");
        assert!(text.contains("Café Central"), "{text}");
        assert!(text.contains("Boris Boss"), "{text}");
    }
    let out = s
        .bare()
        .arg("render")
        .arg(fixture_path("t07-apple-fold-inside-utf8.eml"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("Réunion"));
    // A broken config does not stop the display filter either.
    std::fs::write(s.config_path(), "this is not toml [").unwrap();
    s.bare()
        .arg("--config")
        .arg(s.config_path())
        .args(["render", "-"])
        .write_stdin(raw)
        .assert()
        .success();
    // Not an invitation: exit 4, one line.
    fails_with(s.bare().args(["render", "-"]).write_stdin(PLAIN_MAIL), 4);
}

#[test]
fn check_prints_ok_or_reports_problems_with_exit_3() {
    let s = Sandbox::new();
    let out = s.rsvp(&["check"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(text.lines().last(), Some("ok"), "{text}");
    assert!(text.contains("calendar: "), "{text}");
    assert!(text.contains("transport: sendmail"), "{text}");

    // The calendar directory is missing.
    std::fs::remove_dir(s.cal_dir()).unwrap();
    let out = s.rsvp(&["check"]).assert().code(3);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("calendar: ") && text.contains("does not exist"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l == "ok"), "{text}");
    assert_eq!(stderr_lines(&out.get_output().stderr).len(), 1);

    // A configuration that parses but is not usable.
    std::fs::create_dir(s.cal_dir()).unwrap();
    std::fs::write(
        s.config_path(),
        format!(
            "[identity]\naddresses = []\n[calendar]\npath = \"{}\"\n",
            s.cal_dir().display()
        ),
    )
    .unwrap();
    let out = s.rsvp(&["check"]).assert().code(3);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("config: "), "{text}");
    assert!(text.contains("address"), "{text}");
}

#[test]
fn message_dash_reads_standard_input() {
    let s = Sandbox::new();
    let raw = invite("cli-stdin", 0, "20250102T100000Z", "20250113T090000", "");
    let out = s
        .rsvp(&["show", "--json", "--message", "-"])
        .write_stdin(raw.clone())
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout)["uid"], "cli-stdin");
    let out = s
        .rsvp(&["reply", "accept", "--dry-run", "--message", "-"])
        .write_stdin(raw.clone())
        .assert()
        .success();
    assert!(sandbox::reply_ics(&out.get_output().stdout).contains("UID:cli-stdin"));
    s.rsvp(&["apply", "--message", "-"])
        .write_stdin(raw.clone())
        .assert()
        .success();
    assert_eq!(my_partstat(&stored(&s)), "NEEDS-ACTION");
    s.rsvp(&["reply", "accept", "--message", "-"])
        .write_stdin(raw)
        .assert()
        .success();
    assert_eq!(my_partstat(&stored(&s)), "ACCEPTED");
    assert_eq!(s.sent().len(), 1);
}

/// `config.example.toml` in the default location (~ is the sandbox HOME)
/// passes `check` once its calendar and contacts exist and its transport is
/// reachable (the sendmail one: msmtp); only the password command is
/// replaced (`pass` is not installed here).
#[test]
fn config_example_passes_check() {
    let s = Sandbox::empty();
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"))
            .unwrap();
    let adapted = example.replace(
        "password_command = \"pass show mail/dana\"",
        "password_command = \"echo not-a-real-password\"",
    );
    assert_ne!(adapted, example, "the example's password_command changed");
    let dir = s.root().join("xdg/config/rsvp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), &adapted).unwrap();
    // Without the calendar directory: a problem.
    s.bare().arg("check").assert().code(3);
    std::fs::create_dir_all(s.home().join(".calendars/personal")).unwrap();
    std::fs::create_dir_all(s.home().join(".contacts")).unwrap();
    // `check` probes the transport for real: the example's smtp.example.org
    // is no server to reach (issue 9), and the line names the setting.
    let out = s.bare().arg("check").assert().code(3);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("transport: [smtp] host"), "{text}");
    assert!(!text.contains("not-a-real-password"), "no secret: {text}");
    // With the example's sendmail command (msmtp) it passes.
    if let Err(reason) = support::msmtp_available() {
        support::skip::<()>(&reason);
        return;
    }
    std::fs::write(
        dir.join("config.toml"),
        adapted.replace("method = \"smtp\"", "method = \"sendmail\""),
    )
    .unwrap();
    let out = s.bare().arg("check").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(text.lines().last(), Some("ok"), "{text}");
    assert!(
        text.contains(&s.home().join(".calendars/personal").display().to_string()),
        "{text}"
    );
    assert!(
        !text.contains("not-a-real-password"),
        "no secret in the output"
    );
}

/// Issue 9: `rsvp render` of a bare calendar part (mailcap, aerc) says once,
/// as a note, that there was no sender to check; a whole message from
/// someone else still gets the full sender warning (R7.9).
#[test]
fn render_of_a_bare_calendar_file_notes_the_missing_sender_once() {
    let s = Sandbox::new();
    let whole = invite("bare-1", 0, "20250102T100000Z", "20250113T090000", "");
    let text = String::from_utf8(whole.clone()).unwrap();
    let ics = &text[text.find("BEGIN:VCALENDAR").unwrap()..];
    let out = s
        .rsvp(&["render", "-"])
        .write_stdin(ics.to_string())
        .assert()
        .success();
    let shown = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!shown.contains("! no sender"), "{shown}");
    assert_eq!(
        shown.matches("the sender was not checked").count(),
        1,
        "{shown}"
    );
    assert!(
        shown.trim_end().ends_with("the sender was not checked."),
        "{shown}"
    );
    let spoofed = String::from_utf8(invite(
        "bare-2",
        0,
        "20250102T100000Z",
        "20250113T090000",
        "",
    ))
    .unwrap()
    .replacen(&format!("From: <{ORG}>"), "From: <mallory@evil.example>", 1);
    let out = s
        .rsvp(&["render", "-"])
        .write_stdin(spoofed)
        .assert()
        .success();
    let shown = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(shown.contains("Warnings:"), "{shown}");
    assert!(shown.contains("mallory@evil.example"), "{shown}");
    assert!(!shown.contains("the sender was not checked"), "{shown}");
}

/// Issue 7: without `[identity] addresses`, my addresses come from the
/// notmuch config (user.primary_email, user.other_email), as a notmuch
/// user has already said them once; `rsvp check` says where from.
#[test]
fn identity_comes_from_the_notmuch_config_when_not_configured() {
    let s = Sandbox::new();
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    let without = text
        .lines()
        .filter(|l| !l.starts_with("addresses") && !l.starts_with("name"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(s.config_path(), format!("{without}\n")).unwrap();
    let nm = s.root().join("notmuch-config");
    std::fs::write(
        &nm,
        format!("[database]\npath=/nowhere\n\n[user]\nname=Dana From Notmuch\nprimary_email=someone@else.example\nother_email={ME};\n"),
    )
    .unwrap();
    let msg = s.root().join("inv.eml");
    std::fs::write(&msg, fixture("t01-thunderbird-request.eml")).unwrap();
    let out = s
        .rsvp(&["show", "--json", "--message"])
        .arg(&msg)
        .env("NOTMUCH_CONFIG", &nm)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["me"]["address"].as_str().map(str::to_lowercase),
        Some(ME.to_lowercase()),
        "{v}"
    );
    let out = s
        .rsvp(&["check"])
        .env("NOTMUCH_CONFIG", &nm)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "identity: someone@else.example, {ME} (from {})",
            nm.display()
        )),
        "{stdout}"
    );
    // Without either, the error says both ways.
    s.rsvp(&["show", "--message"])
        .arg(&msg)
        .env("NOTMUCH_CONFIG", s.root().join("missing"))
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "user.primary_email in your notmuch config",
        ));
}

/// Issue 7 / R7.2: a message whose MIME method= disagrees with its METHOD
/// is never applied on its own; `apply --force-method` applies it as the
/// calendar's METHOD says.
#[test]
fn apply_force_method_applies_a_method_mismatch_only_when_asked() {
    let s = Sandbox::new();
    let msg = s.root().join("t03.eml");
    std::fs::write(&msg, fixture("t03-method-mismatch.eml")).unwrap();
    s.rsvp(&["apply", "--message"])
        .arg(&msg)
        .assert()
        .code(4)
        .stderr(predicates::str::contains("pass --force-method"));
    assert!(s.cal_files().is_empty());
    assert!(!s.data_dir().join("tombstones.json").exists());
    // METHOD:CANCEL for an event not in the calendar: remembered.
    s.rsvp(&["apply", "--force-method", "--message"])
        .arg(&msg)
        .assert()
        .success()
        .stderr(predicates::str::contains("the cancellation is remembered"));
    assert!(s.data_dir().join("tombstones.json").exists());
}
