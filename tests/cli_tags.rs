//! Issue 9, "tags are complete": a reply delivered later by `outbox flush`
//! records its answer (`rsvp/accepted`) on the invitation in the mail index,
//! and `[mail] after_answer` files answered mail away (`-inbox`, `-unread`).
//! Real binary over a private notmuch index of a sandbox Maildir
//! (`[mail] maildir`); needs notmuch (skip, or fail when env CI is set).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use support::cli_sandbox::{ME, Sandbox, config_text};

const ORG: &str = "olivia@example.com";
const UID: &str = "issue9-tags";

fn notmuch_cli() -> Option<()> {
    match Command::new("notmuch")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Some(()),
        _ => support::skip("the notmuch CLI is missing; install the Debian package notmuch"),
    }
}

fn maildir(s: &Sandbox) -> PathBuf {
    s.root().join("Mail")
}

/// The sandbox config with `[mail]` on the sandbox Maildir, tags filed
/// away after an answer, and `sendmail` as given.
fn write_config(s: &Sandbox, sendmail: Option<&str>) {
    let mut text = config_text(&s.cal_dir(), &s.sent_dir());
    if let Some(cmd) = sendmail {
        let cut = text.find("[sendmail]").unwrap();
        text = format!("{}[sendmail]\ncommand = \"{cmd}\"\n", &text[..cut]);
    }
    text.push_str(&format!(
        "\n[mail]\nmaildir = \"{}\"\nafter_answer = [\"-inbox\", \"-unread\"]\n",
        maildir(s).display()
    ));
    std::fs::write(s.config_path(), text).unwrap();
}

fn put_invitation(s: &Sandbox) -> PathBuf {
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir(s).join(d)).unwrap();
    }
    let raw = format!(
        "From: Olivia Organizer <{ORG}>\r\nTo: <{ME}>\r\nSubject: Invitation: Tags\r\nMessage-ID: <{UID}@cli.test>\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//CLI//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:{UID}\r\nSEQUENCE:0\r\nDTSTAMP:20250106T100000Z\r\nDTSTART:20300113T080000Z\r\nDURATION:PT1H\r\nSUMMARY:Tags\r\nORGANIZER;CN=Olivia Organizer:mailto:{ORG}\r\nATTENDEE;CN=Dana User;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ME}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let path = maildir(s).join("new/1736157600.tags.test");
    std::fs::write(&path, raw).unwrap();
    path
}

/// `notmuch` on rsvp's private database, reading no config file.
fn notmuch(s: &Sandbox, args: &[&str]) -> String {
    let out = Command::new("notmuch")
        .arg("--config=")
        .args(args)
        .env("NOTMUCH_DATABASE", s.data_dir().join("notmuch"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "notmuch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tags(s: &Sandbox) -> BTreeSet<String> {
    notmuch(
        s,
        &["search", "--output=tags", &format!("id:{UID}@cli.test")],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn indexed(s: &Sandbox) {
    s.rsvp(&["index"]).assert().success();
    notmuch(
        s,
        &[
            "tag",
            "+inbox",
            "+unread",
            "--",
            &format!("id:{UID}@cli.test"),
        ],
    );
    assert!(tags(s).contains("inbox"));
}

#[test]
fn a_reply_delivered_by_outbox_flush_tags_its_invitation() {
    if notmuch_cli().is_none() {
        return;
    }
    let s = Sandbox::new();
    write_config(&s, Some("sh -c 'echo mail queue full >&2; exit 75'"));
    let path = put_invitation(&s);
    indexed(&s);
    // Answered from a file: the reply is queued, nothing is tagged yet.
    s.rsvp(&["reply", "accept", "--message"])
        .arg(&path)
        .assert()
        .code(1);
    assert_eq!(s.pending().len(), 1);
    assert!(!tags(&s).contains("rsvp/accepted"), "{:?}", tags(&s));
    // The transport works again: the flush delivers and records the answer.
    write_config(&s, None);
    s.rsvp(&["outbox", "flush"]).assert().success();
    assert_eq!(s.sent().len(), 1);
    assert!(s.pending().is_empty());
    let t = tags(&s);
    assert!(t.contains("rsvp/accepted"), "{t:?}");
    assert!(
        !t.contains("inbox") && !t.contains("unread"),
        "after_answer: {t:?}"
    );
}

#[test]
fn after_answer_files_the_answered_invitation_away() {
    if notmuch_cli().is_none() {
        return;
    }
    let s = Sandbox::new();
    write_config(&s, None);
    put_invitation(&s);
    indexed(&s);
    s.rsvp(&["reply", "decline", "--id", UID])
        .assert()
        .success();
    let t = tags(&s);
    assert!(t.contains("rsvp/declined"), "{t:?}");
    assert!(!t.contains("inbox") && !t.contains("unread"), "{t:?}");
}

#[test]
fn a_bad_after_answer_entry_is_a_config_error_naming_it() {
    let s = Sandbox::new();
    let mut text = config_text(&s.cal_dir(), &s.sent_dir());
    text.push_str("\n[mail]\nmaildir = \"/tmp\"\nafter_answer = [\"inbox\"]\n");
    std::fs::write(s.config_path(), text).unwrap();
    let out = s.rsvp(&["check"]).assert().code(3);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("[mail] after_answer: \"inbox\""),
        "{stdout}"
    );
}
