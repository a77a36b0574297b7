//! SMTP submission through lettre: the `Transport` port over a real server.
//! Owns TLS policy and error mapping; never puts the password into an error,
//! a description or a `Debug` string.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use lettre::Transport as _;
use lettre::address::{Address, Envelope as LettreEnvelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{Error as SmtpError, SmtpTransport as LettreSmtp};

use crate::adapters::sendmail;

mod deadline;
mod probe;

use crate::domain::ports::{Envelope, Transport, TransportError};
use crate::domain::sanitize::terminal_excerpt;
pub use probe::probe;

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS; the upgrade is required,
    /// never opportunistic (no silent fallback to plain text).
    StartTls,
    /// Implicit TLS from the first byte (submissions, usually port 465).
    Tls,
    /// No encryption at all; allowed only towards a loopback address.
    None,
}

impl Security {
    fn name(self) -> &'static str {
        match self {
            Security::StartTls => "starttls",
            Security::Tls => "tls",
            Security::None => "none",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything needed to submit mail to one SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    /// The password itself (already obtained, e.g. by `password_from_command`).
    pub password: Option<String>,
    /// An extra root CA (PEM) to trust besides the system store
    /// (self-hosted servers, tests).
    pub ca_file: Option<PathBuf>,
    /// Bound of one whole exchange with the server: connecting, TLS,
    /// AUTH, the message and QUIT together.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// How much longer than the whole exchange lettre's own per-read timeout
/// is, so that the exchange deadline is the one that fires.
const LETTRE_TIMEOUT_SLACK: Duration = Duration::from_secs(5);

/// The `Transport` port over SMTP (lettre, rustls with the system trust store).
pub struct SmtpTransport {
    /// The server's host name or address, as lettre would connect to it.
    connect_host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    /// Bound of one whole exchange (connect, TLS, AUTH, DATA, QUIT).
    timeout: Duration,
    /// `host:port`, used in every error.
    server: String,
    description: String,
    /// Strings that must never appear in an error message (the password and
    /// its base64 forms as sent in AUTH PLAIN / AUTH LOGIN).
    secrets: Vec<String>,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("server", &self.server)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// Check the settings and prepare the transport; does not connect.
    pub fn new(settings: SmtpSettings) -> Result<Self, TransportError> {
        let host = settings.host.trim();
        // `[::1]` is accepted as written in URLs; lettre wants the bare address.
        let connect_host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let server = server_name(connect_host, settings.port);
        if connect_host.is_empty()
            || connect_host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '@')
        {
            return Err(TransportError::Config(format!(
                "smtp host {:?} is not a valid host name",
                settings.host
            )));
        }
        if settings.port == 0 {
            return Err(TransportError::Config(format!(
                "smtp server {server}: port 0 is not a valid port"
            )));
        }
        if settings.timeout.is_zero() {
            return Err(TransportError::Config(format!(
                "smtp server {server}: the timeout must be longer than zero"
            )));
        }
        if settings.security == Security::None && !is_loopback(connect_host) {
            return Err(TransportError::Config(format!(
                "smtp server {server}: security \"none\" (plain text) is only allowed for a \
                 loopback server (localhost, 127.0.0.0/8, ::1), because the password and the \
                 message would cross the network unencrypted; use \"starttls\" or \"tls\""
            )));
        }

        let credentials = match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.clone())),
            (None, None) => None,
            (Some(user), None) => {
                return Err(TransportError::Config(format!(
                    "smtp server {server}: a username ({user:?}) is set but no password"
                )));
            }
            (None, Some(_)) => {
                return Err(TransportError::Config(format!(
                    "smtp server {server}: a password is set but no username"
                )));
            }
        };

        let tls = match settings.security {
            Security::None => Tls::None,
            Security::StartTls => Tls::Required(tls_parameters(connect_host, &settings, &server)?),
            Security::Tls => Tls::Wrapper(tls_parameters(connect_host, &settings, &server)?),
        };

        let mut secrets = Vec::new();
        let credentials = credentials.map(|(user, password)| {
            if !password.is_empty() {
                secrets.push(base64(format!("\0{user}\0{password}").as_bytes()));
                secrets.push(base64(password.as_bytes()));
                secrets.push(password.clone());
            }
            Credentials::new(user, password)
        });

        let description = describe_settings(&settings, connect_host);
        Ok(SmtpTransport {
            connect_host: connect_host.to_string(),
            port: settings.port,
            tls,
            credentials,
            timeout: settings.timeout,
            server,
            description,
            secrets,
        })
    }

    fn error(&self, err: &SmtpError) -> TransportError {
        let mapped = map_error(err, &self.server);
        redact_error(mapped, &self.secrets)
    }
}

impl SmtpTransport {
    /// lettre, talking to the relay at `relay` instead of the server (TLS
    /// still checks the server's name, from the TLS parameters).
    fn lettre_via(&self, relay: std::net::SocketAddr) -> LettreSmtp {
        let mut builder = LettreSmtp::builder_dangerous(relay.ip().to_string())
            .port(relay.port())
            .tls(self.tls.clone())
            .timeout(Some(self.timeout + LETTRE_TIMEOUT_SLACK));
        if let Some(credentials) = &self.credentials {
            builder = builder.credentials(credentials.clone());
        }
        builder.build()
    }

    fn timed_out(&self) -> String {
        format!("timed out after {} s", self.timeout.as_secs_f32())
    }
}

impl Transport for SmtpTransport {
    /// One exchange, bounded as a whole by the timeout (connect included).
    fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), TransportError> {
        let lettre_envelope = to_lettre_envelope(envelope, &self.server)?;
        let data = smtp_data(message);
        let deadline = std::time::Instant::now() + self.timeout;
        let upstream = deadline::connect(&self.connect_host, self.port, deadline).map_err(|e| {
            TransportError::Connection {
                server: self.server.clone(),
                message: if e.kind() == std::io::ErrorKind::TimedOut {
                    self.timed_out()
                } else {
                    terminal_excerpt(&e.to_string(), 300)
                },
            }
        })?;
        let (result, timed_out) = deadline::run(upstream, deadline, |relay| {
            self.lettre_via(relay).send_raw(&lettre_envelope, &data)
        })
        .map_err(|e| TransportError::Temporary {
            server: self.server.clone(),
            message: format!("cannot set up the connection: {e}"),
        })?;
        match result {
            Ok(_) => Ok(()),
            Err(_) if timed_out => Err(TransportError::Temporary {
                server: self.server.clone(),
                message: self.timed_out(),
            }),
            Err(err) => Err(self.error(&err)),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

/// How long `password_from_command` waits for the command (a `pass` or
/// `gpg` that asks for a passphrase through pinentry needs the user).
pub const PASSWORD_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Run `sh -c command` and return the first line of its standard output
/// (the password), waiting at most [`PASSWORD_COMMAND_TIMEOUT`].
pub fn password_from_command(command: &str) -> Result<String, TransportError> {
    password_from_command_within(command, PASSWORD_COMMAND_TIMEOUT)
}

/// Run `sh -c command` and return the first line of its standard output
/// (the password). A command still running after `timeout` is killed with
/// everything it started (its process group) and reported by name. A
/// non-zero exit is reported with the first line of the command's stderr,
/// never its stdout.
pub fn password_from_command_within(
    command: &str,
    timeout: Duration,
) -> Result<String, TransportError> {
    if command.trim().is_empty() {
        return Err(TransportError::Config(
            "the password command is empty".to_string(),
        ));
    }
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own process group, so that a timeout kills what the shell started.
        .process_group(0)
        .spawn()
        .map_err(|e| {
            TransportError::Config(format!(
                "cannot run password command {command:?} with sh: {e}"
            ))
        })?;
    let stdout = child
        .stdout
        .take()
        .map(|out| sendmail::spawn_result(move || sendmail::read_capped(out)));
    let stderr = child
        .stderr
        .take()
        .map(|err| sendmail::spawn_result(move || sendmail::read_capped(err)));
    let status = match sendmail::wait_with_timeout(&mut child, timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            sendmail::kill_group(&mut child);
            return Err(TransportError::Config(format!(
                "password command {command:?} timed out after {} s and was killed",
                timeout.as_secs_f32()
            )));
        }
        Err(e) => {
            sendmail::kill_group(&mut child);
            return Err(TransportError::Config(format!(
                "cannot wait for password command {command:?}: {e}"
            )));
        }
    };
    let stdout = sendmail::collect(stdout).unwrap_or_default();
    let stderr = sendmail::collect(stderr).unwrap_or_default();
    if !status.success() {
        let status = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_string(),
        };
        let stderr = String::from_utf8_lossy(&stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let detail = if first.is_empty() {
            String::new()
        } else {
            format!(": {}", terminal_excerpt(first, 200))
        };
        return Err(TransportError::Config(format!(
            "password command {command:?} {status}{detail}"
        )));
    }
    let stdout = String::from_utf8(stdout).map_err(|_| {
        TransportError::Config(format!(
            "password command {command:?} printed something that is not UTF-8"
        ))
    })?;
    let first = stdout.split('\n').next().unwrap_or("");
    let password = first.strip_suffix('\r').unwrap_or(first);
    if password.is_empty() {
        return Err(TransportError::Config(format!(
            "password command {command:?} printed no password on its first line"
        )));
    }
    Ok(password.to_string())
}

// ---------------------------------------------------------------------------

fn server_name(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Whether plain text is acceptable: the name `localhost` or a loopback IP.
/// (A name is never resolved here: `smtp.example.org` pointing at 127.0.0.1
/// still needs TLS.)
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    IpAddr::from_str(host).is_ok_and(|ip| ip.is_loopback())
}

const CERT_MARKER: &[u8] = b"-----BEGIN CERTIFICATE-----";

fn tls_parameters(
    host: &str,
    settings: &SmtpSettings,
    server: &str,
) -> Result<TlsParameters, TransportError> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            TransportError::Config(format!(
                "smtp server {server}: cannot read ca_file {}: {e}",
                path.display()
            ))
        })?;
        // lettre accepts a file without any certificate (and then trusts
        // nothing extra), which would hide a wrong path or a key file.
        if !pem.windows(CERT_MARKER.len()).any(|w| w == CERT_MARKER) {
            return Err(TransportError::Config(format!(
                "smtp server {server}: ca_file {} contains no PEM certificate \
                 (-----BEGIN CERTIFICATE-----)",
                path.display()
            )));
        }
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            TransportError::Config(format!(
                "smtp server {server}: ca_file {} is not a PEM certificate: {e}",
                path.display()
            ))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| {
        TransportError::Config(format!(
            "smtp server {server}: cannot set up TLS: {}",
            terminal_excerpt(&error_chain(&e), 300)
        ))
    })
}

fn describe_settings(settings: &SmtpSettings, host: &str) -> String {
    let user = match &settings.username {
        Some(u) => format!("{}@", u.replace('%', "%25").replace('@', "%40")),
        None => String::new(),
    };
    format!(
        "smtp://{user}{} ({})",
        server_name(host, settings.port),
        settings.security
    )
}

fn check_address(addr: &str, role: &str, server: &str) -> Result<Address, TransportError> {
    let bad = |why: &str| TransportError::Permanent {
        server: server.to_string(),
        message: format!("refusing {role} address {addr:?}: {why}"),
    };
    if addr.is_empty() {
        return Err(bad("it is empty"));
    }
    if addr.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains white space or control characters"));
    }
    Address::from_str(addr).map_err(|e| bad(&e.to_string()))
}

fn to_lettre_envelope(envelope: &Envelope, server: &str) -> Result<LettreEnvelope, TransportError> {
    let from = check_address(&envelope.from, "sender", server)?;
    if envelope.to.is_empty() {
        return Err(TransportError::Permanent {
            server: server.to_string(),
            message: "the message has no recipients".to_string(),
        });
    }
    let to = envelope
        .to
        .iter()
        .map(|a| check_address(a, "recipient", server))
        .collect::<Result<Vec<_>, _>>()?;
    LettreEnvelope::new(Some(from), to).map_err(|e| TransportError::Permanent {
        server: server.to_string(),
        message: format!("invalid envelope: {e}"),
    })
}

/// The bytes to hand to lettre so that the server receives `message`
/// unchanged. lettre always ends DATA with `\r\n.\r\n`, so a final CRLF of
/// the message is dropped here (it is the one lettre writes back). Bare CR
/// or LF, which SMTP forbids and which some servers treat as line ends
/// (the "SMTP smuggling" ambiguity around dot-stuffing), become CRLF; a
/// well-formed message is passed through byte for byte.
fn smtp_data(message: &[u8]) -> Cow<'_, [u8]> {
    let needs_fix = message.iter().enumerate().any(|(i, &b)| match b {
        b'\r' => message.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || message.get(i - 1) != Some(&b'\r'),
        _ => false,
    });
    let mut data: Cow<'_, [u8]> = if needs_fix {
        let mut out = Vec::with_capacity(message.len() + 16);
        let mut i = 0;
        while let Some(&b) = message.get(i) {
            match b {
                b'\r' => {
                    out.extend_from_slice(b"\r\n");
                    if message.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b'\n' => out.extend_from_slice(b"\r\n"),
                _ => out.push(b),
            }
            i += 1;
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(message)
    };
    if data.ends_with(b"\r\n") {
        data = match data {
            Cow::Borrowed(b) => Cow::Borrowed(b.get(..b.len() - 2).unwrap_or(b)),
            Cow::Owned(mut v) => {
                v.truncate(v.len() - 2);
                Cow::Owned(v)
            }
        };
    }
    data
}

/// lettre's message plus every nested source not already contained in it.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Auth failures: 535 (credentials invalid, enhanced 5.7.8), and the other
/// AUTH refusals 530 (authentication required: no username configured),
/// 534 (mechanism too weak) and 538 (encryption required).
fn is_auth_failure(code: u16, text: &str) -> bool {
    matches!(code, 530 | 534 | 535 | 538) || text.contains("5.7.8")
}

fn map_error(err: &SmtpError, server: &str) -> TransportError {
    let server = server.to_string();
    if let Some(code) = err.status() {
        let code_num = u16::from(code);
        let text = std::error::Error::source(err)
            .map(|t| terminal_excerpt(&t.to_string(), 300))
            .unwrap_or_default();
        let message = if text.is_empty() {
            format!("{code_num}")
        } else {
            format!("{code_num} {text}")
        };
        return if err.is_transient() {
            TransportError::Temporary { server, message }
        } else if is_auth_failure(code_num, &text) {
            TransportError::Auth { server, message }
        } else {
            TransportError::Permanent { server, message }
        };
    }
    let text = terminal_excerpt(&error_chain(err), 400);
    if err.is_tls() {
        return TransportError::Connection {
            server,
            message: format!("TLS failed: {text}{}", certificate_hint(&text)),
        };
    }
    if err.is_client() {
        if text.contains("authentication mechanism") {
            return TransportError::Auth {
                server,
                message: format!(
                    "{text} (the server offers no AUTH mechanism rsvp supports, PLAIN or LOGIN; \
                     servers often offer AUTH only after TLS)"
                ),
            };
        }
        if text.contains("STARTTLS") {
            return TransportError::Connection {
                server,
                message: format!(
                    "{text} (security is \"starttls\", so rsvp will not continue without it)"
                ),
            };
        }
        return TransportError::Permanent {
            server,
            message: text,
        };
    }
    if err.is_transport_shutdown() {
        return TransportError::Temporary {
            server,
            message: text,
        };
    }
    if err.is_timeout() {
        return TransportError::Connection {
            server,
            message: format!("timed out: {text}"),
        };
    }
    // Network, connection and unparseable-response errors: the server could
    // not be talked to (refused, reset, wrong port or wrong security mode).
    // rustls reports a rejected certificate through the stream, so it lands
    // here as a network error.
    let hint = certificate_hint(&text);
    TransportError::Connection {
        server,
        message: format!("{text}{hint}"),
    }
}

fn certificate_hint(text: &str) -> &'static str {
    if text.contains("UnknownIssuer") {
        " (the server certificate is not signed by a trusted CA; set ca_file to trust a \
         private CA)"
    } else if text.contains("NotValidForName") {
        " (the server certificate does not name this host)"
    } else if text.contains("Expired") {
        " (the server certificate has expired)"
    } else {
        ""
    }
}

fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.is_empty() && out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "<redacted>");
        }
    }
    out
}

fn redact_error(err: TransportError, secrets: &[String]) -> TransportError {
    match err {
        TransportError::Temporary { server, message } => TransportError::Temporary {
            server,
            message: redact(&message, secrets),
        },
        TransportError::Permanent { server, message } => TransportError::Permanent {
            server,
            message: redact(&message, secrets),
        },
        TransportError::Connection { server, message } => TransportError::Connection {
            server,
            message: redact(&message, secrets),
        },
        TransportError::Auth { server, message } => TransportError::Auth {
            server,
            message: redact(&message, secrets),
        },
        TransportError::Config(message) => TransportError::Config(redact(&message, secrets)),
    }
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |n: u32| {
        ALPHABET
            .get((n & 63) as usize)
            .map_or('=', |&b| char::from(b))
    };
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, security: Security) -> SmtpSettings {
        SmtpSettings {
            host: host.to_string(),
            port: 587,
            security,
            username: Some("dana@example.org".to_string()),
            password: Some("s3cret-PW".to_string()),
            ca_file: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn plain_text_is_refused_for_a_remote_host() {
        let err = SmtpTransport::new(settings("smtp.example.org", Security::None)).unwrap_err();
        match &err {
            TransportError::Config(msg) => {
                assert!(msg.contains("smtp.example.org:587"), "{msg}");
                assert!(msg.contains("loopback"), "{msg}");
            }
            other => panic!("expected Config, got {other:?}"),
        }
        assert!(!format!("{err} {err:?}").contains("s3cret-PW"));
    }

    #[test]
    fn plain_text_is_allowed_for_loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(
                SmtpTransport::new(settings(host, Security::None)).is_ok(),
                "{host} should count as loopback"
            );
        }
        for host in [
            "10.0.0.1",
            "localhost.example.org",
            "0.0.0.0",
            "::",
            "128.0.0.1",
        ] {
            assert!(
                matches!(
                    SmtpTransport::new(settings(host, Security::None)),
                    Err(TransportError::Config(_))
                ),
                "{host} must not count as loopback"
            );
        }
    }

    #[test]
    fn describe_names_user_server_and_security_but_not_the_password() {
        let t = SmtpTransport::new(settings("smtp.example.org", Security::StartTls)).unwrap();
        assert_eq!(
            t.describe(),
            "smtp://dana%40example.org@smtp.example.org:587 (starttls)"
        );
        let mut s = settings("::1", Security::Tls);
        s.username = Some("dana".into());
        s.port = 465;
        let t = SmtpTransport::new(s).unwrap();
        assert_eq!(t.describe(), "smtp://dana@[::1]:465 (tls)");
        assert!(!format!("{t:?}").contains("s3cret-PW"));
        let mut s = settings("localhost", Security::None);
        s.username = None;
        s.password = None;
        assert_eq!(
            SmtpTransport::new(s).unwrap().describe(),
            "smtp://localhost:587 (none)"
        );
    }

    #[test]
    fn settings_debug_redacts_the_password() {
        let s = settings("smtp.example.org", Security::Tls);
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("s3cret-PW"), "{dbg}");
        assert!(dbg.contains("<redacted>"), "{dbg}");
    }

    #[test]
    fn inconsistent_settings_are_config_errors() {
        let mut s = settings("smtp.example.org", Security::Tls);
        s.password = None;
        assert!(
            matches!(SmtpTransport::new(s), Err(TransportError::Config(m)) if m.contains("no password"))
        );
        let mut s = settings("smtp.example.org", Security::Tls);
        s.username = None;
        let err = SmtpTransport::new(s).unwrap_err();
        assert!(matches!(&err, TransportError::Config(m) if m.contains("no username")));
        assert!(!format!("{err:?}").contains("s3cret-PW"));
        let mut s = settings("smtp.example.org", Security::Tls);
        s.port = 0;
        assert!(matches!(
            SmtpTransport::new(s),
            Err(TransportError::Config(_))
        ));
        let mut s = settings("smtp.example.org", Security::Tls);
        s.timeout = Duration::ZERO;
        assert!(matches!(
            SmtpTransport::new(s),
            Err(TransportError::Config(_))
        ));
        for host in ["", "smtp example.org", "a\r\nb", "user@host"] {
            let s = settings(host, Security::Tls);
            assert!(
                matches!(SmtpTransport::new(s), Err(TransportError::Config(_))),
                "{host:?}"
            );
        }
    }

    #[test]
    fn unreadable_or_invalid_ca_file_is_a_config_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing-ca.pem");
        let mut s = settings("smtp.example.org", Security::StartTls);
        s.ca_file = Some(missing.clone());
        let err = SmtpTransport::new(s).unwrap_err();
        assert!(
            matches!(&err, TransportError::Config(m) if m.contains("missing-ca.pem")),
            "{err:?}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let mut s = settings("smtp.example.org", Security::Tls);
        s.ca_file = Some(junk);
        let err = SmtpTransport::new(s).unwrap_err();
        assert!(
            matches!(&err, TransportError::Config(m) if m.contains("junk.pem")),
            "{err:?}"
        );
    }

    #[test]
    fn well_formed_message_passes_unchanged_minus_the_final_crlf() {
        let msg = b"Subject: x\r\n\r\n.dot line\r\nend\r\n";
        assert_eq!(&*smtp_data(msg), &msg[..msg.len() - 2]);
        assert!(matches!(smtp_data(msg), Cow::Borrowed(_)));
        assert_eq!(&*smtp_data(b"a\r\nb"), b"a\r\nb");
        assert_eq!(&*smtp_data(b"a\r\n\r\n"), b"a\r\n");
    }

    #[test]
    fn bare_cr_and_lf_become_crlf() {
        // A bare LF followed by "." could end DATA early on servers that
        // accept bare LF as a line end (SMTP smuggling).
        assert_eq!(&*smtp_data(b"a\n.\nb\rc\r\n"), b"a\r\n.\r\nb\r\nc");
        assert_eq!(&*smtp_data(b"\nx"), b"\r\nx");
    }

    #[test]
    fn invalid_envelope_addresses_are_refused_before_connecting() {
        let t = SmtpTransport::new(settings("127.0.0.1", Security::None)).unwrap();
        for (from, to) in [
            ("a b@example.org", "x@example.org"),
            (
                "a@example.org",
                "x@example.org\r\nRCPT TO:<evil@example.org>",
            ),
            ("", "x@example.org"),
            ("a@example.org", "not-an-address"),
        ] {
            let env = Envelope {
                from: from.to_string(),
                to: vec![to.to_string()],
            };
            let err = t.send(&env, b"x\r\n").unwrap_err();
            assert!(
                matches!(&err, TransportError::Permanent { message, .. } if message.starts_with("refusing")),
                "{err:?}"
            );
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let env = Envelope {
            from: "a@example.org".into(),
            to: vec![],
        };
        assert!(matches!(
            t.send(&env, b"x\r\n"),
            Err(TransportError::Permanent { .. })
        ));
    }

    #[test]
    fn redaction_removes_password_and_its_base64_forms() {
        let secrets = vec![
            base64(b"\0dana\0pw-123"),
            base64(b"pw-123"),
            "pw-123".to_string(),
        ];
        let err = TransportError::Auth {
            server: "h:1".into(),
            message: format!(
                "535 bad {} and pw-123 and {}",
                base64(b"\0dana\0pw-123"),
                base64(b"pw-123")
            ),
        };
        let out = redact_error(err, &secrets).to_string();
        assert!(!out.contains("pw-123"), "{out}");
        assert!(!out.contains(&base64(b"pw-123")), "{out}");
        assert_eq!(out.matches("<redacted>").count(), 3, "{out}");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn server_text_goes_through_the_terminal_sanitiser() {
        assert_eq!(terminal_excerpt("a\x1b[31mb\r\nc", 100), "a^[[31mb / c");
        assert_eq!(terminal_excerpt("ab\u{202e}cd", 100), "ab<U+202E>cd");
        assert_eq!(terminal_excerpt("abcdef", 3), "ab…");
    }

    #[test]
    fn password_command_returns_first_line_without_newline() {
        assert_eq!(
            password_from_command("printf 'pa ss\\nsecond\\n'").unwrap(),
            "pa ss"
        );
        assert_eq!(password_from_command("printf 'pw\\r\\n'").unwrap(), "pw");
        assert_eq!(password_from_command("printf pw").unwrap(), "pw");
    }

    #[test]
    fn password_command_failure_quotes_stderr_never_stdout() {
        // `tr` produces the texts that must not appear, so that the quoted
        // command itself cannot contain them.
        let err = password_from_command(
            "echo abc | tr a-c p-r; echo 'gpg: decryption failed' >&2; \
             echo def | tr d-f s-u >&2; exit 2",
        )
        .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, TransportError::Config(_)));
        assert!(text.contains("gpg: decryption failed"), "{text}");
        assert!(text.contains("status 2"), "{text}");
        assert!(!text.contains("pqr"), "stdout quoted: {text}");
        assert!(!text.contains("stu"), "second stderr line quoted: {text}");
    }

    /// Issue 8 item 5: a password command that never ends is killed after
    /// the timeout, with everything it started, and named in the error.
    #[test]
    fn password_command_that_hangs_is_killed_and_named() {
        let started = std::time::Instant::now();
        let err = password_from_command_within("sleep 30; echo late", Duration::from_millis(300))
            .unwrap_err();
        let elapsed = started.elapsed();
        let text = err.to_string();
        assert!(matches!(err, TransportError::Config(_)));
        assert!(text.contains("\"sleep 30; echo late\""), "{text}");
        assert!(text.contains("timed out after 0.3 s"), "{text}");
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    }

    #[test]
    fn password_command_with_empty_output_is_an_error() {
        for cmd in ["true", "printf '\\n'", "   "] {
            assert!(
                matches!(password_from_command(cmd), Err(TransportError::Config(_))),
                "{cmd:?}"
            );
        }
    }

    #[test]
    fn auth_codes_are_recognised() {
        assert!(is_auth_failure(
            535,
            "5.7.8 Authentication credentials invalid"
        ));
        assert!(is_auth_failure(554, "5.7.8 Error: authentication failed"));
        assert!(!is_auth_failure(550, "5.7.1 relaying denied"));
    }
}
