//! Issue 9: `rsvp check` probes for real and sends no mail: the SMTP server
//! is resolved, connected to, greeted (EHLO), upgraded (STARTTLS/TLS) and
//! logged into; the sendmail program is looked up on PATH; the calendar
//! directory is opened. Each failure names the setting and exits 3.
//! Real binary, loopback aiosmtpd server (`tests/support/smtp_server.py`
//! under /usr/bin/python3) and msmtp; without them a test skips, or fails
//! when env CI is set.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

#[path = "support/sandbox.rs"]
mod sandbox;
mod support;

use sandbox::{SMTP_PASSWORD, SMTP_USER, Sandbox, SmtpConf};
use support::{ServerOptions, SmtpServer};

/// (exit code, stdout, stderr) of `rsvp check`.
fn check(sb: &Sandbox) -> (i32, String, String) {
    let out = sb.rsvp().arg("check").output().expect("run rsvp check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `transport:` line of the output.
fn transport_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("transport: "))
        .unwrap_or_else(|| panic!("no transport line in {stdout}"))
        .to_string()
}

fn assert_fails_naming(sb: &Sandbox, setting: &str) -> String {
    let (code, out, err) = check(sb);
    assert_eq!(code, 3, "stdout: {out}\nstderr: {err}");
    let line = transport_line(&out);
    assert!(line.contains(setting), "{line:?} should name {setting}");
    assert!(!out.lines().any(|l| l == "ok"), "{out}");
    assert!(err.contains("the configuration has problems"), "{err}");
    line
}

#[test]
fn check_passes_on_a_loopback_smtp_server_with_auth_and_sends_nothing() {
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
    let (code, out, err) = check(&sb);
    assert_eq!(
        code,
        0,
        "stdout: {out}\nstderr: {err}\nserver: {}",
        server.log()
    );
    assert_eq!(out.lines().last(), Some("ok"), "{out}");
    let line = transport_line(&out);
    assert!(line.contains("nothing sent"), "{line}");
    assert!(!line.contains(SMTP_PASSWORD), "{line}");
    // The server saw the session but no message.
    assert!(server.received().is_empty(), "{}", server.log());
    assert!(server.log().contains("AUTH"), "{}", server.log());
}

#[test]
fn check_fails_on_a_wrong_password_naming_username_and_password_command() {
    let Some(server) =
        SmtpServer::start(&ServerOptions::plain().with_auth(SMTP_USER, SMTP_PASSWORD))
    else {
        return;
    };
    let sb = Sandbox::new();
    sb.write_config(&SmtpConf::plain(server.port()).with_password("wrong").toml());
    let line = assert_fails_naming(&sb, "[smtp] username and password_command");
    assert!(line.contains("authentication failed"), "{line}");
    assert!(!line.contains("wrong"), "no password in the output: {line}");
}

#[test]
fn check_fails_on_a_closed_port_naming_host_and_port() {
    let sb = Sandbox::new();
    sb.write_config(&SmtpConf::plain(support::free_port()).toml());
    let line = assert_fails_naming(&sb, "[smtp] host and port");
    assert!(line.contains("127.0.0.1"), "{line}");
}

#[test]
fn check_fails_on_a_misspelled_smtp_host_naming_host() {
    let sb = Sandbox::new();
    let mut conf = SmtpConf::plain(587);
    conf.security = "starttls";
    conf.host = "smtp.exmaple.invalid";
    sb.write_config(&conf.toml());
    let line = assert_fails_naming(&sb, "[smtp] host:");
    assert!(line.contains("does not resolve"), "{line}");
    assert!(line.contains("smtp.exmaple.invalid"), "{line}");
}

/// STARTTLS required but the server does not offer it: the session fails
/// and the line names `security`.
#[test]
fn check_fails_when_starttls_is_not_offered_naming_security() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let sb = Sandbox::new();
    let mut conf = SmtpConf::plain(server.port());
    conf.security = "starttls";
    conf.host = "localhost";
    sb.write_config(&conf.toml());
    assert_fails_naming(&sb, "[smtp] security");
}

#[test]
fn check_fails_on_a_sendmail_program_that_does_not_exist() {
    let sb = Sandbox::new();
    sb.write_config("[send]\nmethod = \"sendmail\"\n\n[sendmail]\ncommand = \"msmtpp -t\"\n");
    let line = assert_fails_naming(&sb, "[sendmail] command");
    assert!(line.contains("\"msmtpp\" is not found on PATH"), "{line}");
}

#[test]
fn check_passes_with_msmtp_as_the_sendmail_command() {
    if let Err(reason) = support::msmtp_available() {
        support::skip::<()>(&reason);
        return;
    }
    let sb = Sandbox::new();
    sb.write_config(
        "[send]\nmethod = \"sendmail\"\n\n[sendmail]\ncommand = \"msmtp --read-envelope-from -t\"\n",
    );
    let (code, out, err) = check(&sb);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let line = transport_line(&out);
    assert!(line.contains("msmtp") && line.contains("found"), "{line}");
}

#[test]
fn check_names_calendar_path_when_the_directory_is_missing() {
    let sb = Sandbox::new();
    sb.write_config("");
    std::fs::remove_dir(sb.cal_dir()).unwrap();
    let (code, out, _) = check(&sb);
    assert_eq!(code, 3, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("calendar: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("[calendar] path"), "{line}");
    assert!(line.contains("does not exist"), "{line}");
    assert!(!line.contains("calendar: calendar"), "{line}");
}
