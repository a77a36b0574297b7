//! Probing a transport without sending mail (`rsvp check`): does the SMTP
//! host resolve and accept a connection, and is the sendmail program there.
//! The SMTP session itself (EHLO, STARTTLS/TLS, AUTH) is probed by
//! `smtp::probe`, which owns the TLS policy.

use crate::domain::ports::TransportError;
use std::fmt;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The step of a probe that failed; the caller names the setting behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStep {
    /// The host name does not resolve.
    Resolve,
    /// Nothing accepts a TCP connection on that port.
    Connect,
    /// The SMTP greeting, EHLO or the TLS handshake failed.
    Session,
    /// The server refused the login.
    Auth,
    /// The sendmail program is not there.
    Program,
}

/// Why a probe failed.
#[derive(Debug, Clone)]
pub struct ProbeFailure {
    pub step: ProbeStep,
    pub error: TransportError,
}

impl fmt::Display for ProbeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl ProbeFailure {
    pub(crate) fn new(step: ProbeStep, error: TransportError) -> ProbeFailure {
        ProbeFailure { step, error }
    }
}

/// Resolve `host` and open (then close) a TCP connection to `port`.
pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<SocketAddr, ProbeFailure> {
    let server = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            ProbeFailure::new(
                ProbeStep::Resolve,
                TransportError::Connection {
                    server: server.clone(),
                    message: format!("the host name {host:?} does not resolve: {e}"),
                },
            )
        })?
        .collect();
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(_) => return Ok(*addr),
            Err(e) => last = Some(format!("{addr}: {e}")),
        }
    }
    Err(ProbeFailure::new(
        ProbeStep::Connect,
        TransportError::Connection {
            server,
            message: last.unwrap_or_else(|| format!("{host:?} has no address")),
        },
    ))
}

/// The program a sendmail command line runs: its first word (after
/// `NAME=value` assignments), found on `path` (`$PATH`) unless it names a
/// file. `Err` when it is missing or not executable.
pub fn find_program(
    command: &str,
    path: Option<&std::ffi::OsStr>,
) -> Result<PathBuf, ProbeFailure> {
    let fail =
        |message: String| ProbeFailure::new(ProbeStep::Program, TransportError::Config(message));
    let word = command
        .split_whitespace()
        .find(|w| !is_assignment(w))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '"'))
        .filter(|w| !w.is_empty())
        .ok_or_else(|| fail("the sendmail command is empty".to_string()))?;
    if word.contains('/') {
        let p = PathBuf::from(word);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(fail(format!(
                "the sendmail program {word:?} does not exist or is not executable"
            )))
        };
    }
    if let Some(path) = path {
        for dir in std::env::split_paths(path) {
            let candidate = dir.join(word);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(fail(format!(
        "the sendmail program {word:?} is not found on PATH"
    )))
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_program_skips_assignments_and_searches_path() {
        let path = std::ffi::OsString::from("/nonexistent:/bin:/usr/bin");
        let found = find_program("LC_ALL=C sh -c 'cat'", Some(&path)).unwrap();
        assert!(found.ends_with("sh"), "{found:?}");
        let e = find_program("sendmial -t", Some(&path)).unwrap_err();
        assert_eq!(e.step, ProbeStep::Program);
        assert!(
            e.to_string().contains("\"sendmial\" is not found on PATH"),
            "{e}"
        );
        let e = find_program("/nonexistent/msmtp -t", Some(&path)).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }

    #[test]
    fn connect_reports_a_closed_port_as_connect() {
        // Bind then drop: the port is (almost certainly) closed afterwards.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = connect("127.0.0.1", port, Duration::from_secs(2)).unwrap_err();
        assert_eq!(e.step, ProbeStep::Connect, "{e}");
    }
}
