//! End to end: the real `rsvp` binary answers invitations through a real
//! loopback SMTP server (aiosmtpd, `tests/support/smtp_server.py`) or msmtp,
//! with its configuration, vdir and outbox in a private sandbox
//! (`XDG_*`/`HOME` in a temp dir, `TZ=Europe/Berlin`).
//!
//! Test names carry the acceptance criterion (`ac1a_` … `ac6_`) and the
//! iTIP rule ids (R7.6, R9.13, T23, T35, T63) they check.
//!
//! Tools: `/usr/bin/python3` with aiosmtpd, `openssl`, `msmtp`. When one is
//! missing a test prints `SKIP: <reason>` and returns, or fails if env CI is
//! set.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

#[path = "support/sandbox.rs"]
mod sandbox;
mod support;

use mail_parser::{MessageParser, MimeHeaders};
use sandbox::{ME, SMTP_PASSWORD, SMTP_USER, Sandbox, SmtpConf, fixture, unfold};
use std::path::Path;
use std::time::Duration;
use support::{Received, ServerOptions, SmtpServer, TestCa};

const WAIT: Duration = Duration::from_secs(30);

const GOOGLE: &str = "google-request.eml";
const GOOGLE_ORGANIZER: &str = "organizer@example.com";
const GOOGLE_SUMMARY: &str = "Quarterly planning";
const GOOGLE_UID: &str = "5k3q2e2b7vr1h0u4t0mjd8c9gq@google.com";

const OUTLOOK: &str = "outlook-windows-tzid.eml";
const OUTLOOK_ORGANIZER: &str = "hans.mueller@corp.example";

const SERIES: &str = "thunderbird-weekly-series.eml";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The Message-ID of an invitation fixture.
fn invitation_message_id(name: &str) -> String {
    sandbox::message_id(&std::fs::read(fixture(name)).expect("read fixture"))
}

/// What a reply must look like.
struct Expect<'a> {
    invitation: &'a str,
    organizer: &'a str,
    subject: &'a str,
    partstat: &'a str,
}

/// R7.6, R7.7, R7.8, R7.11, T35: headers, MIME structure and the one-attendee
/// REPLY of an outgoing message. Returns the calendar text.
fn assert_reply(raw: &[u8], e: &Expect<'_>) -> String {
    let msg = MessageParser::default()
        .parse(raw)
        .unwrap_or_else(|| panic!("reply does not parse:\n{}", text(raw)));
    let from = msg.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some(ME), "From is my address (R7.8)");
    let to: Vec<_> = msg.to().map(|a| a.iter().collect()).unwrap_or_default();
    assert_eq!(to.len(), 1, "one To: {}", text(raw));
    assert_eq!(
        to[0].address(),
        Some(e.organizer),
        "To is the organizer (R7.7)"
    );
    assert_eq!(msg.subject(), Some(e.subject));
    assert_eq!(
        msg.in_reply_to().as_text(),
        Some(invitation_message_id(e.invitation).as_str()),
        "In-Reply-To is the invitation's Message-ID (R7.11)"
    );
    assert!(msg.message_id().is_some_and(|m| !m.is_empty()));

    // multipart/mixed > multipart/alternative(text/plain, text/html,
    // text/calendar; method=REPLY) + application/ics (R7.6).
    let root = msg.root_part();
    let ct = |p: &mail_parser::MessagePart<'_>| {
        let c = p.content_type().expect("Content-Type");
        format!(
            "{}/{}",
            c.ctype().to_ascii_lowercase(),
            c.subtype().unwrap_or("").to_ascii_lowercase()
        )
    };
    assert_eq!(ct(root), "multipart/mixed");
    let top = root.sub_parts().expect("mixed has parts");
    assert_eq!(top.len(), 2, "alternative + attachment");
    let alt = msg.part(top[0]).expect("alternative part");
    let ics = msg.part(top[1]).expect("attachment part");
    assert_eq!(ct(alt), "multipart/alternative");
    let inner: Vec<_> = alt
        .sub_parts()
        .expect("alternative has parts")
        .iter()
        .map(|&i| msg.part(i).expect("part"))
        .collect();
    let kinds: Vec<String> = inner.iter().map(|p| ct(p)).collect();
    assert_eq!(kinds, ["text/plain", "text/html", "text/calendar"]);
    let cal_part = inner[2];
    let method = cal_part
        .content_type()
        .and_then(|c| c.attribute("method"))
        .expect("method parameter");
    assert!(method.eq_ignore_ascii_case("REPLY"), "method={method}");
    assert_eq!(ct(ics), "application/ics");
    assert_eq!(ics.attachment_name(), Some("invite.ics"));
    assert_eq!(
        ics.contents(),
        cal_part.contents(),
        "the attachment is byte-identical to the calendar part (R7.6)"
    );

    let cal = unfold(&text(cal_part.contents()));
    assert!(cal.contains("\r\nMETHOD:REPLY\r\n"), "{cal}");
    let attendees: Vec<&str> = cal.lines().filter(|l| l.starts_with("ATTENDEE")).collect();
    assert_eq!(attendees.len(), 1, "exactly one ATTENDEE (T35): {cal}");
    assert!(
        attendees[0].contains(&format!("PARTSTAT={}", e.partstat)),
        "{}",
        attendees[0]
    );
    assert!(
        attendees[0]
            .to_ascii_lowercase()
            .ends_with(&format!("mailto:{ME}")),
        "{}",
        attendees[0]
    );
    assert!(!cal.contains("RSVP="), "no RSVP in a REPLY (T35): {cal}");
    cal
}

/// The stored event: my answer, no METHOD (a vdir object is not an iTIP
/// message), exactly one file and no temp files.
fn assert_stored(sb: &Sandbox, partstat: &str) -> String {
    let obj = unfold(&sb.only_object());
    let mine: Vec<&str> = obj
        .lines()
        .filter(|l| l.starts_with("ATTENDEE") && l.to_ascii_lowercase().contains(ME))
        .collect();
    assert_eq!(mine.len(), 1, "my ATTENDEE once: {obj}");
    assert!(
        mine[0].contains(&format!("PARTSTAT={partstat}")),
        "stored answer: {}",
        mine[0]
    );
    assert!(
        !obj.lines().any(|l| l.starts_with("METHOD")),
        "no METHOD in the vdir: {obj}"
    );
    obj
}

fn assert_outbox_empty(sb: &Sandbox) {
    assert_eq!(
        sb.pending(),
        Vec::<String>::new(),
        "outbox pending is empty"
    );
}

fn only_message(server: &SmtpServer) -> Received {
    let got = server.wait_for_messages(1, WAIT);
    assert_eq!(got.len(), 1, "exactly one message");
    got.into_iter().next().expect("one message")
}

/// Run `rsvp reply accept` on a fixture; returns (exit code, stdout, stderr).
fn reply(sb: &Sandbox, answer: &str, fixture_name: &str, extra: &[&str]) -> (i32, String, String) {
    let out = sb
        .rsvp()
        .args(["reply", answer, "--message"])
        .arg(fixture(fixture_name))
        .args(extra)
        .output()
        .expect("run rsvp");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn run(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = sb.rsvp().args(args).output().expect("run rsvp");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn google_accept() -> Expect<'static> {
    Expect {
        invitation: GOOGLE,
        organizer: GOOGLE_ORGANIZER,
        subject: "Accepted: Quarterly planning",
        partstat: "ACCEPTED",
    }
}

// ------------------------------------------------------------ 1. success ----

/// AC1a, T35, R7.6, R9.13: plain SMTP with AUTH (password from
/// `password_command = "echo secret"`) receives a well-formed REPLY; the vdir
/// has my answer and the outbox is empty afterwards.
#[test]
fn ac1a_t35_reply_over_plain_smtp_with_auth() {
    let Some(server) =
        SmtpServer::start(&ServerOptions::plain().with_auth(SMTP_USER, SMTP_PASSWORD))
    else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(
        &SmtpConf::plain(server.port())
            .with_password(SMTP_PASSWORD)
            .toml(),
    );
    let (code, _out, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "stderr: {err}\nserver: {}", server.log());
    assert!(err.contains("reply sent to organizer@example.com"), "{err}");
    assert!(err.contains(GOOGLE_SUMMARY), "{err}");

    let got = only_message(&server);
    assert_eq!(got.mail_from, ME);
    assert_eq!(got.rcpt_tos, [GOOGLE_ORGANIZER]);
    assert_eq!(got.auth_user.as_deref(), Some(SMTP_USER));
    assert!(!got.tls);
    let cal = assert_reply(&got.data, &google_accept());
    assert!(cal.contains(&format!("\r\nUID:{GOOGLE_UID}\r\n")), "{cal}");
    assert!(cal.contains("\r\nSEQUENCE:0\r\n"), "{cal}");

    assert_stored(&sb, "ACCEPTED");
    assert_outbox_empty(&sb);
    assert_eq!(
        sb.sent().iter().filter(|n| n.ends_with(".eml")).count(),
        1,
        "the sent reply is kept in outbox/sent"
    );
}

/// AC1b, R7.6: STARTTLS with AUTH, the server certificate trusted through
/// `ca_file`; an Outlook invitation with a Windows TZID and an organizer
/// CN containing a comma.
#[test]
fn ac1b_reply_over_starttls_with_ca_file() {
    let certs = tempfile::tempdir().unwrap();
    let Some(ca) = TestCa::generate(certs.path()) else {
        return;
    };
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_starttls(&ca)
            .with_auth(SMTP_USER, SMTP_PASSWORD),
    ) else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(
        &SmtpConf::plain(server.port())
            .starttls(&ca.ca_cert)
            .with_password(SMTP_PASSWORD)
            .toml(),
    );
    let (code, _out, err) = reply(&sb, "accept", OUTLOOK, &[]);
    assert_eq!(code, 0, "stderr: {err}\nserver: {}", server.log());

    let got = only_message(&server);
    assert!(got.tls, "the session was upgraded with STARTTLS");
    assert_eq!(got.auth_user.as_deref(), Some(SMTP_USER));
    assert_eq!(got.mail_from, ME);
    assert_eq!(got.rcpt_tos, [OUTLOOK_ORGANIZER]);
    let cal = assert_reply(
        &got.data,
        &Expect {
            invitation: OUTLOOK,
            organizer: OUTLOOK_ORGANIZER,
            subject: "Accepted: Budgetrunde Q3",
            partstat: "ACCEPTED",
        },
    );
    // The organizer's display name with its comma survives as one mailbox.
    let msg = MessageParser::default().parse(&got.data).unwrap();
    let to = msg.to().and_then(|a| a.first()).unwrap();
    assert_eq!(to.name(), Some("Müller, Hans"));
    // The Windows zone is kept with its definition, so the time is exact.
    assert!(
        cal.contains("DTSTART;TZID=\"W. Europe Standard Time\":20300604T140000")
            || cal.contains("DTSTART;TZID=W. Europe Standard Time:20300604T140000"),
        "{cal}"
    );
    assert!(cal.contains("TZID:W. Europe Standard Time"), "{cal}");

    assert_stored(&sb, "ACCEPTED");
    assert_outbox_empty(&sb);
}

// ------------------------------------------------------------ 2. failure ----

/// How the first server fails.
enum Failure {
    /// DATA answered with this code.
    Code(&'static str),
    /// Nothing listens on the port.
    Refused,
    /// AUTH with the wrong password.
    BadPassword,
}

/// AC2, R9.13, T63: a failed send exits 1 with one clear line (server,
/// "queued", `rsvp outbox flush`), the calendar already holds my answer, the
/// reply waits in the outbox under a Message-ID that every retry keeps, and
/// `outbox flush` to a working server delivers it exactly once.
fn queued_then_flushed(failure: Failure) {
    let sb = Sandbox::new();
    // The failing side.
    let mut failing_server: Option<SmtpServer> = None;
    let port = match &failure {
        Failure::Code(code) => {
            let Some(s) = SmtpServer::start(&ServerOptions::plain().failing(code)) else {
                return;
            };
            let p = s.port();
            failing_server = Some(s);
            sb.write_config(&SmtpConf::plain(p).toml());
            p
        }
        Failure::Refused => {
            if let Err(reason) = support::aiosmtpd_available() {
                support::skip::<()>(&reason);
                return;
            }
            let p = support::free_port();
            sb.write_config(&SmtpConf::plain(p).toml());
            p
        }
        Failure::BadPassword => {
            let Some(s) =
                SmtpServer::start(&ServerOptions::plain().with_auth(SMTP_USER, SMTP_PASSWORD))
            else {
                return;
            };
            let p = s.port();
            failing_server = Some(s);
            sb.write_config(&SmtpConf::plain(p).with_password("not-the-password").toml());
            p
        }
    };
    let server_name = format!("127.0.0.1:{port}");

    let (code, _out, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 1, "a failed send is a runtime error; stderr: {err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("not sent") || l.contains("queued"))
        .collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    let line = lines[0];
    assert!(line.starts_with("rsvp: "), "{line}");
    assert!(line.contains(&server_name), "names the server: {line}");
    assert!(line.contains("queued"), "{line}");
    assert!(
        line.contains("rsvp outbox flush"),
        "says how to retry: {line}"
    );
    assert!(line.contains(GOOGLE_ORGANIZER), "{line}");
    match &failure {
        Failure::Code("451") => assert!(line.contains("temporary failure"), "{line}"),
        Failure::Code(_) => assert!(line.contains("permanent failure"), "{line}"),
        Failure::Refused => assert!(line.contains("cannot connect"), "{line}"),
        Failure::BadPassword => {
            assert!(line.contains("authentication failed"), "{line}");
            assert!(!err.contains("not-the-password"), "no password in errors");
        }
    }
    if let Some(s) = &failing_server {
        assert_eq!(s.received().len(), 0, "nothing was accepted");
    }

    // The calendar is consistent: my answer, one file, no temp file.
    assert_stored(&sb, "ACCEPTED");
    // The reply waits in the outbox.
    let queued_id = sb.queued_message_id();
    let (code, out, err) = run(&sb, &["outbox", "list"]);
    assert_eq!(code, 0, "{err}");
    let listed: Vec<&str> = out.lines().collect();
    assert_eq!(listed.len(), 1, "one queued reply: {out}");
    assert!(listed[0].contains(GOOGLE_ORGANIZER), "{out}");
    assert!(listed[0].contains("ACCEPTED"), "{out}");
    assert!(listed[0].contains(GOOGLE_UID), "{out}");
    assert!(listed[0].contains("last error"), "{out}");
    let entry_id = listed[0].split_whitespace().next().unwrap().to_string();
    assert!(
        queued_id.starts_with(&entry_id),
        "Message-ID {queued_id} is built from the entry id {entry_id}"
    );

    // T63: retries while the server still fails keep the same message.
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        sb.queued_message_id(),
        queued_id,
        "reply retry keeps the Message-ID"
    );
    let (code, out, err) = run(&sb, &["outbox", "flush"]);
    assert_eq!(code, 1, "flush against a failing server fails: {out}{err}");
    assert!(out.contains(&format!("failed {entry_id}")), "{out}");
    assert!(err.contains("still queued"), "{err}");
    assert_eq!(
        sb.queued_message_id(),
        queued_id,
        "flush retry keeps the Message-ID"
    );
    assert_stored(&sb, "ACCEPTED");

    // A working server.
    let good = match &failure {
        Failure::Refused => {
            SmtpServer::start(&ServerOptions::plain().on_port(port)).expect("aiosmtpd checked")
        }
        Failure::BadPassword => {
            // The user fixes the password; the same server now accepts.
            sb.write_config(&SmtpConf::plain(port).with_password(SMTP_PASSWORD).toml());
            failing_server.take().expect("server kept")
        }
        Failure::Code(_) => {
            drop(failing_server.take());
            let s = SmtpServer::start(&ServerOptions::plain()).expect("aiosmtpd checked");
            sb.write_config(&SmtpConf::plain(s.port()).toml());
            s
        }
    };
    let (code, out, err) = run(&sb, &["outbox", "flush"]);
    assert_eq!(code, 0, "flush: {out}{err}\nserver: {}", good.log());
    assert!(
        out.contains(&format!("sent {entry_id} to {GOOGLE_ORGANIZER}")),
        "{out}"
    );
    let got = only_message(&good);
    assert_eq!(
        sandbox::message_id(&got.data),
        queued_id,
        "the delivered reply has the queued Message-ID (R9.13)"
    );
    assert_reply(&got.data, &google_accept());
    assert_outbox_empty(&sb);

    // A second flush sends nothing (the server has replied 250 and spooled
    // before the first flush exited, so the count is final).
    let (code, out, err) = run(&sb, &["outbox", "flush"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("outbox is empty"), "{out}");
    assert_eq!(good.received().len(), 1, "no second delivery");
    let (_, out, _) = run(&sb, &["outbox", "list"]);
    assert!(out.contains("outbox is empty"), "{out}");
    // Answering again now is recognised as already answered (T23).
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already answered"), "{err}");
    assert_eq!(good.received().len(), 1, "still one delivery");
    assert_stored(&sb, "ACCEPTED");
}

/// AC2, T63: 451 on DATA: queued; flush to a good server delivers it once.
#[test]
fn ac2_t63_smtp_451_queues_and_flush_delivers_same_message_id() {
    queued_then_flushed(Failure::Code("451"));
}

/// Issue 8 item 6: 550 on DATA is a refusal for good: not queued for
/// retries (every flush would fail again), listed apart by `outbox list`,
/// removed by `outbox drop ID`; a flush sends nothing.
#[test]
fn ac2_r9_13_smtp_550_is_kept_apart_and_dropped_not_retried() {
    let Some(failing) = SmtpServer::start(&ServerOptions::plain().failing("550")) else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(&SmtpConf::plain(failing.port()).toml());
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused for good"), "{err}");
    assert!(err.contains("rsvp outbox drop"), "{err}");
    assert!(
        !err.contains("outbox flush"),
        "a retry would fail again: {err}"
    );
    assert_stored(&sb, "ACCEPTED");
    let (code, out, err) = run(&sb, &["outbox", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("FAILED"), "{out}");
    let id = out
        .lines()
        .find(|l| l.contains("FAILED"))
        .and_then(|l| l.split_whitespace().next())
        .expect("an id")
        .to_string();
    let (code, out, err) = run(&sb, &["outbox", "flush"]);
    assert_eq!(code, 0, "nothing to retry: {out}{err}");
    let (code, out, err) = run(&sb, &["outbox", "drop", &id]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = run(&sb, &["outbox", "list"]);
    assert_eq!(out.trim(), "outbox is empty", "{out}");
}

/// AC2, R9.13: nothing listens; the server comes up on that port later.
#[test]
fn ac2_r9_13_connection_refused_queues_and_flush_delivers_on_that_port() {
    queued_then_flushed(Failure::Refused);
}

/// AC2, R9.13: the server refuses the password; after fixing it, flush
/// delivers.
#[test]
fn ac2_r9_13_bad_password_queues_and_flush_delivers_after_fix() {
    queued_then_flushed(Failure::BadPassword);
}

// ------------------------------------------------------------- 3. resend ----

/// AC3, T23, R9.11: the same answer twice sends once (exit 0, "already
/// answered"); `--resend` sends again; a different answer is sent too.
#[test]
fn ac3_t23_same_answer_is_not_sent_twice_resend_sends_again() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(&SmtpConf::plain(server.port()).toml());
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "{err}");
    let first = only_message(&server);

    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already answered"), "{err}");
    assert!(err.contains("--resend"), "tells how to send anyway: {err}");
    assert_eq!(server.received().len(), 1, "no second REPLY (T23)");
    assert_stored(&sb, "ACCEPTED");

    let (code, _, err) = reply(&sb, "accept", GOOGLE, &["--resend"]);
    assert_eq!(code, 0, "{err}");
    let got = server.wait_for_messages(2, WAIT);
    assert_eq!(got.len(), 2);
    assert_reply(&got[1].data, &google_accept());
    assert_ne!(
        sandbox::message_id(&got[1].data),
        sandbox::message_id(&first.data),
        "a deliberate resend is a new message"
    );
    assert_outbox_empty(&sb);

    // Changing my mind is a new answer, sent at once.
    let (code, _, err) = reply(&sb, "decline", GOOGLE, &[]);
    assert_eq!(code, 0, "{err}");
    let got = server.wait_for_messages(3, WAIT);
    assert_eq!(got.len(), 3);
    assert_reply(
        &got[2].data,
        &Expect {
            invitation: GOOGLE,
            organizer: GOOGLE_ORGANIZER,
            subject: "Declined: Quarterly planning",
            partstat: "DECLINED",
        },
    );
    assert_stored(&sb, "DECLINED");
}

/// AC3, T23: "already answered" means the calendar still holds that
/// answer: accept → decline → accept sends three replies, and the
/// organizer's last one matches the calendar.
#[test]
fn ac3_t23_changing_back_to_an_earlier_answer_is_sent() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(&SmtpConf::plain(server.port()).toml());
    for (i, answer) in ["accept", "decline", "accept"].iter().enumerate() {
        let (code, _, err) = reply(&sb, answer, GOOGLE, &[]);
        assert_eq!(code, 0, "{answer}: {err}");
        assert!(!err.contains("already answered"), "{answer} #{i}: {err}");
        server.wait_for_messages(i + 1, WAIT);
    }
    let got = server.received();
    assert_eq!(got.len(), 3);
    assert_reply(&got[2].data, &google_accept());
    assert_stored(&sb, "ACCEPTED");
    // Now it really is already answered.
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already answered"), "{err}");
    assert_eq!(server.received().len(), 3);
}

/// R9.13: answers given while the server is down are not all replayed: a
/// newer answer supersedes a queued older one for the same occurrences, so
/// `outbox flush` delivers only the answer the calendar holds.
#[test]
fn ac2_r9_13_superseded_queued_answer_is_not_flushed() {
    if let Err(reason) = support::aiosmtpd_available() {
        support::skip::<()>(&reason);
        return;
    }
    let sb = Sandbox::new();
    let port = support::free_port();
    sb.write_config(&SmtpConf::plain(port).toml());
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 1, "{err}");
    let first_id = sb.queued_message_id();
    let (code, _, err) = reply(&sb, "decline", GOOGLE, &[]);
    assert_eq!(code, 1, "{err}");
    assert_stored(&sb, "DECLINED");
    let declined_id = sb.queued_message_id();
    assert_ne!(declined_id, first_id, "only the decline is queued");
    // Back to accept: a new decision again, queued alone.
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 1, "{err}");
    assert_stored(&sb, "ACCEPTED");
    let accepted_id = sb.queued_message_id();
    let (_, out, _) = run(&sb, &["outbox", "list"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("ACCEPTED"), "{out}");

    let server = SmtpServer::start(&ServerOptions::plain().on_port(port)).expect("aiosmtpd");
    let (code, out, err) = run(&sb, &["outbox", "flush"]);
    assert_eq!(code, 0, "{out}{err}");
    let got = only_message(&server);
    assert_eq!(sandbox::message_id(&got.data), accepted_id);
    assert_reply(&got.data, &google_accept());
    assert_outbox_empty(&sb);
}

/// AC3 for one occurrence: answering an instance of a weekly series twice
/// sends once.
#[test]
fn ac3_t23_instance_answer_is_not_sent_twice() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(&SmtpConf::plain(server.port()).toml());
    let (code, _, err) = reply(&sb, "accept", SERIES, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = reply(&sb, "decline", SERIES, &["--instance", "20300114T090000"]);
    assert_eq!(code, 0, "{err}");
    let got = server.wait_for_messages(2, WAIT);
    let cal = assert_reply(
        &got[1].data,
        &Expect {
            invitation: SERIES,
            organizer: "tom@lists.example",
            subject: "Declined: Weekly sync",
            partstat: "DECLINED",
        },
    );
    assert!(
        cal.contains("RECURRENCE-ID;TZID=Europe/Berlin:20300114T090000"),
        "{cal}"
    );
    let (code, _, err) = reply(&sb, "decline", SERIES, &["--instance", "20300114T090000"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already answered"), "{err}");
    assert_eq!(server.received().len(), 2, "no second instance REPLY");
    // The stored series: accepted, the one occurrence declined.
    let obj = unfold(&sb.only_object());
    assert!(obj.contains("RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=MO"), "{obj}");
    assert!(
        obj.contains("RECURRENCE-ID;TZID=Europe/Berlin:20300114T090000"),
        "{obj}"
    );
    let mine: Vec<&str> = obj
        .lines()
        .filter(|l| l.starts_with("ATTENDEE") && l.contains(ME))
        .collect();
    assert_eq!(mine.len(), 2, "master + override: {obj}");
    assert!(
        mine.iter().any(|l| l.contains("PARTSTAT=ACCEPTED")),
        "{obj}"
    );
    assert!(
        mine.iter().any(|l| l.contains("PARTSTAT=DECLINED")),
        "{obj}"
    );
}

// ------------------------------------------------------------ 4. dry run ----

/// AC4: `--dry-run` prints the exact message and changes nothing: no vdir
/// file, no outbox entry, no transport (no [send] section at all).
#[test]
fn ac4_dry_run_prints_message_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.write_config("");
    let (code, out, err) = reply(&sb, "accept", GOOGLE, &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_reply(out.as_bytes(), &google_accept());
    assert!(out.starts_with("From: "), "the message itself: {out}");
    assert_eq!(sb.vdir_names(), Vec::<String>::new(), "no vdir file");
    assert_eq!(sb.pending(), Vec::<String>::new(), "no outbox entry");
    assert!(
        !sb.data_dir().exists(),
        "a dry run leaves nothing on disk, not even an empty outbox"
    );
    assert_eq!(sb.sent(), Vec::<String>::new(), "nothing sent");
    // The same from standard input.
    let out2 = sb
        .rsvp()
        .args(["reply", "tentative", "--dry-run", "--message", "-"])
        .write_stdin(std::fs::read(fixture(OUTLOOK)).unwrap())
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(0), "{}", text(&out2.stderr));
    assert_reply(
        &out2.stdout,
        &Expect {
            invitation: OUTLOOK,
            organizer: OUTLOOK_ORGANIZER,
            subject: "Tentative: Budgetrunde Q3",
            partstat: "TENTATIVE",
        },
    );
    assert_eq!(sb.vdir_names(), Vec::<String>::new());
    assert_eq!(sb.pending(), Vec::<String>::new());
}

/// AC4: with a transport configured, a dry run still does not touch it:
/// the password command is never run and the live server receives nothing.
#[test]
fn ac4_dry_run_does_not_connect_or_run_the_password_command() {
    let Some(server) =
        SmtpServer::start(&ServerOptions::plain().with_auth(SMTP_USER, SMTP_PASSWORD))
    else {
        return;
    };
    let sb = Sandbox::new();
    let marker = sb.path().join("password-command-ran");
    let mut conf = SmtpConf::plain(server.port());
    conf.auth = Some((
        SMTP_USER.to_string(),
        format!("touch '{}'; echo {SMTP_PASSWORD}", marker.display()),
    ));
    sb.write_config(&conf.toml());
    let (code, out, err) = reply(&sb, "accept", GOOGLE, &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_reply(out.as_bytes(), &google_accept());
    assert!(!marker.exists(), "the password command was not run");
    assert_eq!(server.received().len(), 0, "nothing was sent");
    assert_eq!(sb.vdir_names(), Vec::<String>::new());
    assert_eq!(sb.pending(), Vec::<String>::new());
    // The same setup really sends without --dry-run (the check above is not vacuous).
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(marker.exists(), "the password command ran for a real send");
    assert_eq!(only_message(&server).auth_user.as_deref(), Some(SMTP_USER));
}

// ------------------------------------------------------------ 6. sendmail ---

/// A private msmtprc for a plain loopback server with AUTH (mode 0600, as
/// msmtp requires when it holds a password).
fn write_msmtprc(dir: &Path, port: u16) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let rc = dir.join("msmtprc");
    std::fs::write(
        &rc,
        format!(
            "account default\nhost 127.0.0.1\nport {port}\ntls off\nauth plain\n\
             user {SMTP_USER}\npassword {SMTP_PASSWORD}\nfrom {ME}\nsyslog off\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    rc
}

/// AC6: `[send] method = "sendmail"` with msmtp reading the envelope from
/// the headers delivers the same well-formed reply.
#[test]
fn ac6_sendmail_msmtp_via_cli_delivers_reply() {
    if let Err(reason) = support::msmtp_available() {
        support::skip::<()>(&reason);
        return;
    }
    let Some(server) =
        SmtpServer::start(&ServerOptions::plain().with_auth(SMTP_USER, SMTP_PASSWORD))
    else {
        return;
    };
    let sb = Sandbox::new();
    let rc = write_msmtprc(sb.path(), server.port());
    sb.write_config(&format!(
        "[send]\nmethod = \"sendmail\"\n\n[sendmail]\ncommand = \"msmtp -C '{}' --read-envelope-from -t\"\n",
        rc.display()
    ));
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 0, "stderr: {err}\nserver: {}", server.log());
    let got = only_message(&server);
    assert_eq!(got.mail_from, ME);
    assert_eq!(got.rcpt_tos, [GOOGLE_ORGANIZER]);
    assert_eq!(got.auth_user.as_deref(), Some(SMTP_USER));
    assert_reply(&got.data, &google_accept());
    assert_stored(&sb, "ACCEPTED");
    assert_outbox_empty(&sb);
}

/// AC6 + AC2: msmtp failing (451) leaves the reply queued with a clear
/// message; flush after the server recovers delivers the same Message-ID.
#[test]
fn ac6_sendmail_failure_queues_and_flush_delivers() {
    if let Err(reason) = support::msmtp_available() {
        support::skip::<()>(&reason);
        return;
    }
    let Some(failing) = SmtpServer::start(&ServerOptions::plain().failing("451")) else {
        return;
    };
    let sb = Sandbox::new();
    let config = |port: u16| {
        let rc = write_msmtprc(sb.path(), port);
        format!(
            "[send]\nmethod = \"sendmail\"\n\n[sendmail]\ncommand = \"msmtp -C '{}' --read-envelope-from -t\"\n",
            rc.display()
        )
    };
    sb.write_config(&config(failing.port()));
    let (code, _, err) = reply(&sb, "accept", GOOGLE, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("queued") && err.contains("rsvp outbox flush"),
        "{err}"
    );
    assert!(err.contains("msmtp"), "names the command: {err}");
    assert_stored(&sb, "ACCEPTED");
    let queued_id = sb.queued_message_id();
    drop(failing);

    let Some(good) = SmtpServer::start(&ServerOptions::plain().with_auth(SMTP_USER, SMTP_PASSWORD))
    else {
        return;
    };
    sb.write_config(&config(good.port()));
    let (code, out, err) = run(&sb, &["outbox", "flush"]);
    assert_eq!(code, 0, "{out}{err}\nserver: {}", good.log());
    let got = only_message(&good);
    assert_eq!(sandbox::message_id(&got.data), queued_id);
    assert_outbox_empty(&sb);
}
