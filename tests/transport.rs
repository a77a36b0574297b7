//! The transport adapters against a real loopback SMTP server
//! (tests/support/smtp_server.py): lettre SMTP in plain, STARTTLS and
//! implicit-TLS modes, error mapping (R9.13: 4xx stays retryable, 5xx does
//! not), and the sendmail adapter driving msmtp.
//!
//! Tools: `/usr/bin/python3` with aiosmtpd, `openssl` and `msmtp` from PATH.
//! When one is missing the test prints `SKIP: <reason>` and returns, or
//! fails if env CI is set.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use std::path::Path;
use std::time::Duration;

use rsvp::adapters::sendmail::SendmailTransport;
use rsvp::adapters::smtp::{Security, SmtpSettings, SmtpTransport};
use rsvp::domain::ports::{Envelope, Transport, TransportError};
use support::{ServerOptions, SmtpServer, TestCa};

const USER: &str = "dana@example.org";
/// Distinctive, with characters that need quoting in shells and URLs.
const PASSWORD: &str = "Pw:7f3a$x'\"Q%";
const WAIT: Duration = Duration::from_secs(10);

/// An iMIP REPLY as rsvp would queue it: CRLF line ends, a line holding a
/// single "." (must survive dot-stuffing), a line starting with "..", and
/// UTF-8 in an 8bit part (needs 8BITMIME).
fn reply_message() -> Vec<u8> {
    [
        "From: Dana Scully <dana@example.org>",
        "To: Walter Skinner <organizer@example.com>",
        "Subject: Accepted: =?utf-8?q?Caf=C3=A9_review?=",
        "Date: Tue, 24 Nov 2026 10:00:00 +0000",
        "Message-ID: <rsvp-0123456789abcdef@example.org>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Dana accepted « Café review ».",
        ".",
        "..two dots",
        "--b1",
        "Content-Type: text/calendar; method=REPLY; charset=UTF-8",
        "Content-Transfer-Encoding: 7bit",
        "",
        "BEGIN:VCALENDAR",
        "METHOD:REPLY",
        "PRODID:-//rsvp//test//EN",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        "UID:review-42@example.com",
        "DTSTAMP:20261124T100000Z",
        "SEQUENCE:0",
        "ORGANIZER:mailto:organizer@example.com",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@example.org",
        "END:VEVENT",
        "END:VCALENDAR",
        "--b1--",
        "",
    ]
    .join("\r\n")
    .into_bytes()
}

fn envelope() -> Envelope {
    Envelope {
        from: "dana@example.org".to_string(),
        to: vec!["organizer@example.com".to_string()],
    }
}

fn settings(host: &str, port: u16, security: Security) -> SmtpSettings {
    SmtpSettings {
        host: host.to_string(),
        port,
        security,
        username: Some(USER.to_string()),
        password: Some(PASSWORD.to_string()),
        ca_file: None,
        timeout: WAIT,
    }
}

fn assert_no_password(err: &TransportError, password: &str) {
    let shown = format!("{err} {err:?}");
    assert!(!password.is_empty());
    assert!(
        !shown.contains(password),
        "password leaked into error: {shown}"
    );
}

// ---------------------------------------------------------------- SMTP ----

#[test]
fn smtp_plain_with_auth_delivers_the_exact_bytes() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain().with_auth(USER, PASSWORD)) else {
        return;
    };
    let transport =
        SmtpTransport::new(settings("127.0.0.1", server.port(), Security::None)).unwrap();
    let message = reply_message();
    transport.send(&envelope(), &message).unwrap();

    let got = server.wait_for_messages(1, WAIT);
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.mail_from, "dana@example.org");
    assert_eq!(r.rcpt_tos, vec!["organizer@example.com".to_string()]);
    assert_eq!(r.auth_user.as_deref(), Some(USER));
    assert!(!r.tls);
    assert_eq!(
        String::from_utf8_lossy(&r.data),
        String::from_utf8_lossy(&message)
    );
    assert_eq!(r.data, message, "bytes must arrive unchanged");
}

#[test]
fn smtp_sends_to_every_recipient_and_twice_on_one_transport() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let mut s = settings("localhost", server.port(), Security::None);
    s.username = None;
    s.password = None;
    let transport = SmtpTransport::new(s).unwrap();
    let env = Envelope {
        from: "dana@example.org".into(),
        to: vec!["a@example.com".into(), "b@example.net".into()],
    };
    transport.send(&env, &reply_message()).unwrap();
    transport.send(&env, &reply_message()).unwrap();
    let got = server.wait_for_messages(2, WAIT);
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(r.rcpt_tos, vec!["a@example.com", "b@example.net"]);
        assert_eq!(r.auth_user, None);
    }
}

#[test]
fn smtp_starttls_with_auth_trusts_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ca) = TestCa::generate(dir.path()) else {
        return;
    };
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_starttls(&ca)
            .with_auth(USER, PASSWORD),
    ) else {
        return;
    };
    let mut s = settings("localhost", server.port(), Security::StartTls);
    s.ca_file = Some(ca.ca_cert.clone());
    let transport = SmtpTransport::new(s).unwrap();
    transport.send(&envelope(), &reply_message()).unwrap();

    let got = server.wait_for_messages(1, WAIT);
    assert_eq!(got[0].auth_user.as_deref(), Some(USER));
    assert!(got[0].tls, "session must be encrypted");
    assert_eq!(got[0].data, reply_message());
}

#[test]
fn smtp_implicit_tls_with_auth() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ca) = TestCa::generate(dir.path()) else {
        return;
    };
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_tls(&ca)
            .with_auth(USER, PASSWORD),
    ) else {
        return;
    };
    // By IP: the leaf certificate carries IP:127.0.0.1 as a SAN.
    let mut s = settings("127.0.0.1", server.port(), Security::Tls);
    s.ca_file = Some(ca.ca_cert.clone());
    let transport = SmtpTransport::new(s).unwrap();
    transport.send(&envelope(), &reply_message()).unwrap();

    let got = server.wait_for_messages(1, WAIT);
    assert_eq!(got[0].auth_user.as_deref(), Some(USER));
    assert!(got[0].tls);
    assert_eq!(got[0].data, reply_message());
}

#[test]
fn smtp_starttls_without_the_ca_is_a_connection_error_before_auth() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ca) = TestCa::generate(dir.path()) else {
        return;
    };
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_starttls(&ca)
            .with_auth(USER, PASSWORD),
    ) else {
        return;
    };
    let transport =
        SmtpTransport::new(settings("localhost", server.port(), Security::StartTls)).unwrap();
    let err = transport.send(&envelope(), &reply_message()).unwrap_err();
    match &err {
        TransportError::Connection {
            server: name,
            message,
        } => {
            assert_eq!(name, &format!("localhost:{}", server.port()));
            assert!(message.contains("ca_file"), "{message}");
        }
        other => panic!("expected Connection, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_no_password(&err, PASSWORD);
    assert!(server.received().is_empty());
    assert!(
        !server.log().contains(">> b'AUTH"),
        "no AUTH may be sent over an unverified connection:\n{}",
        server.log()
    );
}

#[test]
fn smtp_plain_to_a_starttls_only_server_fails_without_sending_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ca) = TestCa::generate(dir.path()) else {
        return;
    };
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_starttls(&ca)
            .with_auth(USER, PASSWORD),
    ) else {
        return;
    };
    let transport =
        SmtpTransport::new(settings("127.0.0.1", server.port(), Security::None)).unwrap();
    let err = transport.send(&envelope(), &reply_message()).unwrap_err();
    // The server offers AUTH only after STARTTLS, so lettre finds no mechanism.
    assert!(matches!(err, TransportError::Auth { .. }), "{err:?}");
    assert_no_password(&err, PASSWORD);
    assert!(server.received().is_empty());
}

#[test]
fn smtp_wrong_password_is_an_auth_error_without_the_password() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain().with_auth(USER, PASSWORD)) else {
        return;
    };
    let wrong = "Wrong-Pw-31337";
    let mut s = settings("127.0.0.1", server.port(), Security::None);
    s.password = Some(wrong.to_string());
    let err = SmtpTransport::new(s)
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    match &err {
        TransportError::Auth {
            server: name,
            message,
        } => {
            assert_eq!(name, &format!("127.0.0.1:{}", server.port()));
            assert!(message.contains("535"), "{message}");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_no_password(&err, wrong);
    assert_no_password(&err, PASSWORD);
    assert!(server.received().is_empty());
}

#[test]
fn t63_smtp_451_is_temporary_and_retryable() {
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_auth(USER, PASSWORD)
            .failing("451 4.3.0 try later"),
    ) else {
        return;
    };
    let err = SmtpTransport::new(settings("127.0.0.1", server.port(), Security::None))
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    match &err {
        TransportError::Temporary {
            server: name,
            message,
        } => {
            assert_eq!(name, &format!("127.0.0.1:{}", server.port()));
            assert!(message.contains("451"), "{message}");
            assert!(message.contains("try later"), "{message}");
        }
        other => panic!("expected Temporary, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_no_password(&err, PASSWORD);
}

#[test]
fn smtp_550_is_permanent() {
    let Some(server) = SmtpServer::start(&ServerOptions::plain().failing("550")) else {
        return;
    };
    let mut s = settings("127.0.0.1", server.port(), Security::None);
    s.username = None;
    s.password = None;
    let err = SmtpTransport::new(s)
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    assert!(
        matches!(&err, TransportError::Permanent { message, .. } if message.starts_with("550 5.7.1")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[test]
fn smtp_connection_refused_is_a_connection_error_naming_the_server() {
    let port = support::free_port();
    let err = SmtpTransport::new(settings("127.0.0.1", port, Security::None))
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    match &err {
        TransportError::Connection { server, .. } => {
            assert_eq!(server, &format!("127.0.0.1:{port}"))
        }
        other => panic!("expected Connection, got {other:?}"),
    }
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")));
    assert!(err.is_retryable());
    assert_no_password(&err, PASSWORD);
}

#[test]
fn smtp_plain_to_a_remote_host_is_refused_without_connecting() {
    // 192.0.2.0/24 is TEST-NET-1: a connection attempt would hang, not fail
    // fast, so a quick Config error shows that nothing was attempted.
    let started = std::time::Instant::now();
    let err = SmtpTransport::new(settings("192.0.2.1", 25, Security::None)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    match &err {
        TransportError::Config(m) => {
            assert!(m.contains("192.0.2.1:25"), "{m}");
            assert!(m.contains("unencrypted"), "{m}");
        }
        other => panic!("expected Config, got {other:?}"),
    }
    assert_no_password(&err, PASSWORD);
}

#[test]
fn password_never_appears_in_any_smtp_error_display_or_debug() {
    const SECRET: &str = "Pw-Echo-9z!";
    // base64 of the password (AUTH LOGIN) and of "\0user\0password" (AUTH PLAIN).
    const SECRET_B64: &str = "UHctRWNoby05eiE=";
    const PLAIN_B64: &str = "AGRhbmFAZXhhbXBsZS5vcmcAUHctRWNoby05eiE=";
    let with_secret = |host: &str, port: u16, security: Security| {
        let mut s = settings(host, port, security);
        s.password = Some(SECRET.to_string());
        s
    };
    let mut errors = Vec::new();

    // Configuration errors.
    errors
        .push(SmtpTransport::new(with_secret("mail.example.org", 25, Security::None)).unwrap_err());
    let mut s = with_secret("mail.example.org", 465, Security::Tls);
    s.ca_file = Some("/nonexistent/rsvp-ca.pem".into());
    errors.push(SmtpTransport::new(s).unwrap_err());
    // Nobody listening.
    errors.push(
        SmtpTransport::new(with_secret(
            "127.0.0.1",
            support::free_port(),
            Security::None,
        ))
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err(),
    );
    // A server that quotes the rejected credentials back in its 535 reply.
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_auth(USER, PASSWORD)
            .echoing_rejected_passwords(),
    ) else {
        return;
    };
    let auth_err = SmtpTransport::new(with_secret("127.0.0.1", server.port(), Security::None))
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    assert!(
        matches!(&auth_err, TransportError::Auth { message, .. } if message.contains("<redacted>")),
        "the echoed password must be replaced: {auth_err:?}"
    );
    assert!(server.log().contains(SECRET), "the server did echo it");
    errors.push(auth_err);
    // A temporary failure after a successful AUTH.
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_auth(USER, SECRET)
            .failing("451"),
    ) else {
        return;
    };
    errors.push(
        SmtpTransport::new(with_secret("127.0.0.1", server.port(), Security::None))
            .unwrap()
            .send(&envelope(), &reply_message())
            .unwrap_err(),
    );

    assert_eq!(errors.len(), 5);
    for err in &errors {
        let shown = format!("{err}\n{err:?}");
        for secret in [SECRET, SECRET_B64, PLAIN_B64] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
}

// ------------------------------------------------------ sendmail/msmtp ----

fn msmtp_available() -> bool {
    match support::msmtp_available() {
        Ok(()) => true,
        Err(reason) => support::skip::<()>(&reason).is_some(),
    }
}

/// A private msmtprc for `server` (mode 0600, as msmtp requires when it
/// holds a password).
fn write_msmtprc(dir: &Path, port: u16, password: &str, tls_ca: Option<&Path>) -> String {
    use std::os::unix::fs::PermissionsExt;
    let tls = match tls_ca {
        Some(ca) => format!(
            "tls on\ntls_starttls on\ntls_trust_file {}\nhost localhost\n",
            ca.display()
        ),
        // msmtp refuses AUTH without TLS unless the method is named.
        None => "tls off\nhost 127.0.0.1\n".to_string(),
    };
    let rc = dir.join("msmtprc");
    std::fs::write(
        &rc,
        format!(
            "account default\nport {port}\n{tls}auth plain\nuser {USER}\npassword {password}\n\
             from dana@example.org\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    format!("msmtp -C '{}'", rc.display())
}

#[test]
fn sendmail_msmtp_with_envelope_arguments_over_starttls() {
    if !msmtp_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(ca) = TestCa::generate(dir.path()) else {
        return;
    };
    let Some(server) = SmtpServer::start(
        &ServerOptions::plain()
            .with_starttls(&ca)
            .with_auth(USER, PASSWORD),
    ) else {
        return;
    };
    let cmd = write_msmtprc(dir.path(), server.port(), PASSWORD, Some(&ca.ca_cert));
    let transport = SendmailTransport::new(&cmd).unwrap();
    assert!(!transport.reads_recipients());
    // The envelope differs from the headers: it must win.
    let env = Envelope {
        from: "dana+bounce@example.org".into(),
        to: vec!["organizer@example.com".into(), "cc@example.net".into()],
    };
    transport.send(&env, &reply_message()).unwrap();

    let got = server.wait_for_messages(1, WAIT);
    assert_eq!(got[0].mail_from, "dana+bounce@example.org");
    assert_eq!(
        got[0].rcpt_tos,
        vec!["organizer@example.com", "cc@example.net"]
    );
    assert_eq!(got[0].auth_user.as_deref(), Some(USER));
    assert!(got[0].tls);
    assert_eq!(
        String::from_utf8_lossy(&got[0].data),
        String::from_utf8_lossy(&reply_message())
    );
}

#[test]
fn sendmail_msmtp_reading_recipients_from_headers() {
    if !msmtp_available() {
        return;
    }
    let Some(server) = SmtpServer::start(&ServerOptions::plain().with_auth(USER, PASSWORD)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cmd = write_msmtprc(dir.path(), server.port(), PASSWORD, None);
    let transport = SendmailTransport::new(&format!("{cmd} --read-envelope-from -t")).unwrap();
    assert!(transport.reads_recipients());
    // Envelope recipients are not passed: msmtp takes them from To:.
    let env = Envelope {
        from: "dana@example.org".into(),
        to: vec!["ignored@example.net".into()],
    };
    transport.send(&env, &reply_message()).unwrap();

    let got = server.wait_for_messages(1, WAIT);
    assert_eq!(got[0].mail_from, "dana@example.org");
    assert_eq!(got[0].rcpt_tos, vec!["organizer@example.com"]);
    assert_eq!(got[0].auth_user.as_deref(), Some(USER));
    assert!(!got[0].tls);
    assert_eq!(
        String::from_utf8_lossy(&got[0].data),
        String::from_utf8_lossy(&reply_message())
    );
}

#[test]
fn t63_sendmail_msmtp_451_is_temporary_and_550_permanent() {
    if !msmtp_available() {
        return;
    }
    for (reply, temporary) in [("451", true), ("550", false)] {
        let Some(server) = SmtpServer::start(
            &ServerOptions::plain()
                .with_auth(USER, PASSWORD)
                .failing(reply),
        ) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let cmd = write_msmtprc(dir.path(), server.port(), PASSWORD, None);
        let err = SendmailTransport::new(&cmd)
            .unwrap()
            .send(&envelope(), &reply_message())
            .unwrap_err();
        match (&err, temporary) {
            (TransportError::Temporary { message, .. }, true)
            | (TransportError::Permanent { message, .. }, false) => {
                assert!(message.contains(reply), "{message}")
            }
            _ => panic!("{reply}: unexpected {err:?}"),
        }
    }
}

#[test]
fn sendmail_msmtp_wrong_password_is_an_auth_error() {
    if !msmtp_available() {
        return;
    }
    let Some(server) = SmtpServer::start(&ServerOptions::plain().with_auth(USER, PASSWORD)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cmd = write_msmtprc(dir.path(), server.port(), "not-the-password", None);
    let err = SendmailTransport::new(&cmd)
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    assert!(
        matches!(&err, TransportError::Auth { message, .. } if message.contains("535")),
        "{err:?}"
    );
}

#[test]
fn sendmail_msmtp_connection_refused_is_retryable() {
    if !msmtp_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cmd = write_msmtprc(dir.path(), support::free_port(), PASSWORD, None);
    let err = SendmailTransport::new(&cmd)
        .unwrap()
        .send(&envelope(), &reply_message())
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[test]
fn sendmail_failing_commands_map_to_error_kinds() {
    let send = |cmd: &str| {
        SendmailTransport::new(cmd)
            .unwrap()
            .send(&envelope(), &reply_message())
    };
    assert!(matches!(
        send("false"),
        Err(TransportError::Permanent { .. })
    ));
    let err = send("cat >/dev/null; echo 'mail queue full' >&2; exit 75").unwrap_err();
    assert!(
        matches!(&err, TransportError::Temporary { message, .. } if message.contains("mail queue full")),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let err = send("rsvp-test-no-such-sendmail -t").unwrap_err();
    assert!(
        matches!(&err, TransportError::Config(m) if m.contains("rsvp-test-no-such-sendmail")),
        "{err:?}"
    );
}
