//! The command line of the listing: `rsvp list [--all] [--json] --maildir`,
//! and `show`/`reply` with `--id UID`, run as the real binary on a temporary
//! Maildir, calendar and XDG directories.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A Maildir holding every fixture of `tests/fixtures/list` in `cur/`,
    /// an empty calendar and a config; `extra` is appended to the config.
    fn new(extra: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["Mail/cur", "Mail/new", "Mail/tmp", "cal", "xdg"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/list");
        for e in std::fs::read_dir(fixtures).unwrap() {
            let e = e.unwrap();
            let name = format!("{}:2,S", e.file_name().to_string_lossy());
            std::fs::copy(e.path(), root.join("Mail/cur").join(name)).unwrap();
        }
        std::fs::write(
            root.join("config.toml"),
            format!(
                "[identity]\naddresses = [\"me@x.example\"]\n[calendar]\npath = \"{}\"\n{extra}",
                root.join("cal").display()
            ),
        )
        .unwrap();
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// [`Sandbox::cmd`] as a plain `std::process::Command`.
    fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("rsvp"));
        let xdg = self.path("xdg");
        c.env("TZ", "Europe/Berlin")
            .env("HOME", &xdg)
            .env("XDG_CONFIG_HOME", xdg.join("config"))
            .env("XDG_DATA_HOME", xdg.join("data"))
            .env("XDG_STATE_HOME", xdg.join("state"))
            .env("XDG_CACHE_HOME", xdg.join("cache"))
            .arg("--config")
            .arg(self.path("config.toml"));
        c
    }

    fn maildir(&self) -> String {
        self.path("Mail").display().to_string()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

const GOOGLE_UID: &str = "6kq2r0c1m8p4s9t3v7w5x2y1z0@google.com";
const OUTLOOK_UID: &str = "040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5D9010000000000000000100000004F8E5C1A2B3C4D5E6F708192A3B4C5D6";

#[test]
fn list_json_is_one_array_with_the_contract_fields() {
    let sb = Sandbox::new("");
    let v = sb.json(&["list", "--all", "--json", "--maildir", &sb.maildir()]);
    let items = v.as_array().expect("one JSON array");
    assert_eq!(items.len(), 5, "{v:#}");
    for item in items {
        for key in [
            "uid",
            "status",
            "partstat",
            "summary",
            "start",
            "organizer",
            "warnings",
            "message",
            "superseded",
            "pending",
            "conflicts",
            "flags",
        ] {
            assert!(item.get(key).is_some(), "{key} missing in {item:#}");
        }
        let msg = item["message"].as_str().unwrap();
        assert!(msg.starts_with(&sb.maildir()), "{msg}");
    }
    let outlook = items.iter().find(|i| i["uid"] == OUTLOOK_UID).unwrap();
    assert_eq!(outlook["superseded"], 1);
    assert_eq!(outlook["status"], "new");
    assert!(
        outlook["message"]
            .as_str()
            .unwrap()
            .contains("outlook-update.eml")
    );
    assert_eq!(outlook["start"], "2031-02-05T14:00:00+00:00");
    assert_eq!(outlook["start_text"], "Wed 2031-02-05 15:00");
    let google = items.iter().find(|i| i["uid"] == GOOGLE_UID).unwrap();
    assert_eq!(google["partstat"], "NEEDS-ACTION");
    assert_eq!(google["organizer"]["address"], "alice@example.com");
    assert_eq!(google["summary"], "Quarterly planning");
    let cancel = items.iter().find(|i| i["status"] == "cancel").unwrap();
    assert_eq!(cancel["cancel_scope"], "whole");
    assert_eq!(cancel["all_day"], true);
}

/// T55 (R9.5): the text listing is terminal-safe; one line per item.
#[test]
fn t55_list_text_is_one_safe_line_per_item() {
    let sb = Sandbox::new("");
    let out = sb
        .cmd()
        .args(["list", "--all", "--maildir", &sb.maildir()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
        "{text:?}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    let google = lines
        .iter()
        .find(|l| l.contains("Quarterly planning"))
        .unwrap();
    assert!(google.starts_with("new "), "{google}");
    assert!(google.contains("Mon 2031-01-13 10:00"), "{google}");
    assert!(
        google.contains("Alice Example <alice@example.com>"),
        "{google}"
    );
    let hostile = lines.iter().find(|l| l.contains("Pay")).unwrap();
    assert!(hostile.contains("!sender-not-organizer"), "{hostile}");
    assert!(lines.iter().any(|l| l.contains("+1 older")), "{text}");
}

/// Default listing: pending and not past; [trust] contacts marks strangers.
#[test]
fn t59_default_list_with_contacts_marks_untrusted() {
    let sb = Sandbox::new("[trust]\ncontacts = \"CONTACTS\"\n");
    let contacts = sb.path("contacts");
    std::fs::create_dir_all(&contacts).unwrap();
    std::fs::write(
        contacts.join("alice.vcf"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice\r\nEMAIL;TYPE=work:ALICE@example.com\r\nEND:VCARD\r\n",
    )
    .unwrap();
    let cfg = std::fs::read_to_string(sb.path("config.toml")).unwrap();
    std::fs::write(
        sb.path("config.toml"),
        cfg.replace("CONTACTS", &contacts.display().to_string()),
    )
    .unwrap();
    // A far-future invitation from a stranger, and one from the past.
    let msg = |uid: &str, start: &str| {
        format!(
            "From: Zed <zed@stranger.example>\r\nTo: me@x.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20200101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{uid}\r\nORGANIZER:mailto:zed@stranger.example\r\nATTENDEE;RSVP=TRUE:mailto:me@x.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    std::fs::write(
        sb.path("Mail/new/future.host"),
        msg("future", "20990105T090000Z"),
    )
    .unwrap();
    std::fs::write(
        sb.path("Mail/new/past.host"),
        msg("past", "20200105T090000Z"),
    )
    .unwrap();
    let v = sb.json(&["list", "--json", "--maildir", &sb.maildir()]);
    let items = v.as_array().unwrap();
    assert!(items.iter().all(|i| i["pending"] == true), "{v:#}");
    assert!(items.iter().all(|i| i["uid"] != "past"), "{v:#}");
    let future = items.iter().find(|i| i["uid"] == "future").unwrap();
    assert_eq!(future["flags"], serde_json::json!(["untrusted"]));
    let all = sb.json(&["list", "--all", "--json", "--maildir", &sb.maildir()]);
    let all = all.as_array().unwrap();
    let google = all.iter().find(|i| i["uid"] == GOOGLE_UID).unwrap();
    assert_eq!(google["flags"], serde_json::json!([]), "alice is a contact");
    let past = all.iter().find(|i| i["uid"] == "past").unwrap();
    assert_eq!(past["past"], true);
    // `check` reports the contacts.
    let out = sb.cmd().arg("check").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(1 addresses)"), "{text}");
}

#[test]
fn show_and_reply_by_id() {
    let sb = Sandbox::new("");
    let md = sb.maildir();
    let v = sb.json(&["show", "--id", OUTLOOK_UID, "--json", "--maildir", &md]);
    assert_eq!(v["uid"], OUTLOOK_UID);
    assert_eq!(v["summary"], "Design review (moved)", "the newest version");
    assert_eq!(v["sequence"], 1);
    let out = sb
        .cmd()
        .args([
            "reply",
            "accept",
            "--id",
            GOOGLE_UID,
            "--dry-run",
            "--maildir",
            &md,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parts = rsvp::domain::extract::extract(&out.stdout).unwrap().parts;
    let msg = parts[0].text.replace("\r\n ", "");
    assert!(msg.contains("METHOD:REPLY"), "{msg}");
    assert!(msg.contains("PARTSTAT=ACCEPTED"), "{msg}");
    assert!(msg.contains(&format!("UID:{GOOGLE_UID}")), "{msg}");
    // Dry run: nothing stored.
    assert_eq!(std::fs::read_dir(sb.path("cal")).unwrap().count(), 0);
}

#[test]
fn id_and_message_usage_errors() {
    let sb = Sandbox::new("");
    let md = sb.maildir();
    let code = |args: &[&str]| sb.cmd().args(args).output().unwrap().status.code();
    // Mutually exclusive, and one of them is required (clap usage, exit 2).
    assert_eq!(
        code(&[
            "show",
            "--id",
            GOOGLE_UID,
            "--message",
            "x.eml",
            "--maildir",
            &md
        ]),
        Some(2)
    );
    assert_eq!(code(&["show", "--json"]), Some(2));
    assert_eq!(code(&["reply", "accept", "--dry-run"]), Some(2));
    // --id needs a source.
    assert_eq!(code(&["show", "--id", GOOGLE_UID]), Some(2));
    // An unknown UID is not an invitation (exit 4), named safely.
    let out = sb
        .cmd()
        .args(["show", "--id", "nope\u{1b}[2J", "--maildir", &md])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope^[[2J"), "{err}");
    // list without a source is a configuration problem (exit 3).
    assert_eq!(code(&["list"]), Some(3));
    // A Maildir that does not exist: runtime error naming it (exit 1).
    let out = sb
        .cmd()
        .args(["list", "--maildir", "/nonexistent/rsvp-mail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/rsvp-mail"));
}

/// Issue 9: khal's config lists a second calendar: an overlap with an event
/// there is a conflict (it was not shown before); `[calendar] busy` names
/// calendars explicitly instead, and a missing one is a config error.
#[test]
fn conflicts_cover_khals_other_calendars() {
    let sb = Sandbox::new("");
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    // Within the overlap window, which starts at the real now.
    let start = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
        + chrono::Duration::days(10);
    std::fs::write(
        sb.path("Mail/cur/soon.eml:2,S"),
        format!(
            "From: Olivia <olivia@example.com>\r\nTo: me@x.example\r\nSubject: Soon\r\nMessage-ID: <soon@example.com>\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:soon-1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Soon\r\nORGANIZER:mailto:olivia@example.com\r\nATTENDEE;RSVP=TRUE:mailto:me@x.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            at(start),
            at(start + chrono::Duration::hours(1))
        ),
    )
    .unwrap();
    let work = sb.path("work-cal");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("standup.ics"),
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//khal//EN\r\nBEGIN:VEVENT\r\nUID:work-1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Work standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            at(start + chrono::Duration::minutes(30)),
            at(start + chrono::Duration::minutes(90))
        ),
    )
    .unwrap();
    let conflicts = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .find(|i| i["uid"] == "soon-1")
            .expect("the invitation is listed")["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["summary"].as_str().unwrap().to_string())
            .collect()
    };
    let list = || sb.json(&["list", "--all", "--json", "--maildir", &sb.maildir()]);
    assert!(conflicts(&list()).is_empty(), "no khal config yet");
    let khal = sb.path("xdg/config/khal");
    std::fs::create_dir_all(&khal).unwrap();
    std::fs::write(
        khal.join("config"),
        format!(
            "[calendars]\n[[personal]]\npath = {}\n[[work]]\npath = {}\ncolor = dark red\n[locale]\ntimeformat = %H:%M\n",
            sb.path("cal").display(),
            work.display()
        ),
    )
    .unwrap();
    assert_eq!(
        conflicts(&list()),
        ["Work standup"],
        "khal's second calendar"
    );
    let config = std::fs::read_to_string(sb.path("config.toml")).unwrap();
    let with = |busy: &str| {
        std::fs::write(
            sb.path("config.toml"),
            config.replace("[calendar]\n", &format!("[calendar]\nbusy = {busy}\n")),
        )
        .unwrap();
    };
    with("[]");
    assert!(conflicts(&list()).is_empty(), "busy = [] uses none");
    with(&format!("[\"{}\"]", work.display()));
    assert_eq!(conflicts(&list()), ["Work standup"], "[calendar] busy");
    with(&format!("[\"{}\"]", sb.path("gone").display()));
    let out = sb
        .cmd()
        .args(["list", "--json", "--maildir", &sb.maildir()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "a config error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[calendar] busy"), "{err}");
    assert!(err.contains("gone"), "{err}");
}

/// `rsvp list | head`: a reader that goes away ends the listing quietly
/// with 0, as a filter does, not with "cannot write output: Broken pipe"
/// and 1. The read end is closed before rsvp starts, so its first write
/// fails every time; the cache is saved all the same.
#[test]
fn a_reader_that_goes_away_ends_the_listing_quietly() {
    let sb = Sandbox::new("");
    let maildir = sb.maildir();
    for json in [false, true] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = sb.std_cmd();
        cmd.args(["list", "--all", "--maildir", &maildir]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "json: {json}");
        assert_eq!(out.status.code(), Some(0), "json: {json}");
    }
    // Something was to be printed, and the listing was saved.
    let items = sb.json(&["list", "--all", "--json", "--maildir", &maildir]);
    assert!(!items.as_array().unwrap().is_empty());
    assert!(sb.path("xdg/cache/rsvp/rows-v1.bin").is_file());
}
