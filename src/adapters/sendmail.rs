//! The `Transport` port through a sendmail-compatible command (msmtp,
//! sendmail, postfix, exim...). The user's command string goes to `sh -c`;
//! envelope addresses are passed as positional arguments, never through the
//! shell's parser.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::domain::ports::{Envelope, Transport, TransportError};
use crate::domain::sanitize::terminal_excerpt;

/// How long a command may run before it is killed (and the send reported as
/// a temporary failure).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes of stderr kept for error messages.
const STDERR_LIMIT: usize = 16 * 1024;
/// Lines of stderr quoted in an error.
const STDERR_LINES: usize = 3;

// sysexits.h
const EX_DATAERR: i32 = 65;
const EX_NOUSER: i32 = 67;
const EX_NOHOST: i32 = 68;
const EX_UNAVAILABLE: i32 = 69;
const EX_TEMPFAIL: i32 = 75;
const EX_NOPERM: i32 = 77;
const EX_CONFIG: i32 = 78;
// sh
const SH_NOT_EXECUTABLE: i32 = 126;
const SH_NOT_FOUND: i32 = 127;

#[derive(Debug, Clone)]
pub struct SendmailTransport {
    command: String,
    timeout: Duration,
}

impl SendmailTransport {
    /// `command` is the user's configured string, e.g.
    /// `msmtp --read-envelope-from -t` or `/usr/sbin/sendmail`.
    pub fn new(command: &str) -> Result<Self, TransportError> {
        let command = command.trim();
        if command.is_empty() {
            return Err(TransportError::Config(
                "the sendmail command is empty".to_string(),
            ));
        }
        if command.chars().any(|c| c.is_control() && c != '\t') {
            return Err(TransportError::Config(format!(
                "the sendmail command {command:?} contains control characters"
            )));
        }
        Ok(SendmailTransport {
            command: command.to_string(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Replace the default 60 s limit.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether the command takes the recipients from the message headers
    /// (`-t` / `--read-recipients`), so that none must be added.
    pub fn reads_recipients(&self) -> bool {
        self.command
            .split_whitespace()
            .any(|w| w == "-t" || w == "--read-recipients")
    }

    fn server(&self) -> String {
        format!("sendmail command {:?}", self.command)
    }

    /// The argv appended to the command (`"$@"`).
    fn arguments(&self, envelope: &Envelope) -> Result<Vec<String>, TransportError> {
        check_address(&envelope.from, "sender", &self.server())?;
        for to in &envelope.to {
            check_address(to, "recipient", &self.server())?;
        }
        // -i: a line with a single "." is message text, not the end of input
        // (classic sendmail stops there otherwise); msmtp accepts and ignores it.
        let mut args = vec!["-i".to_string()];
        if self.reads_recipients() {
            return Ok(args);
        }
        if envelope.to.is_empty() {
            return Err(TransportError::Permanent {
                server: self.server(),
                message: "the message has no recipients".to_string(),
            });
        }
        args.push("-f".to_string());
        args.push(envelope.from.clone());
        args.push("--".to_string());
        args.extend(envelope.to.iter().cloned());
        Ok(args)
    }
}

impl Transport for SendmailTransport {
    fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), TransportError> {
        let args = self.arguments(envelope)?;
        let server = self.server();
        let script = format!("{} \"$@\"", self.command);
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .arg("sh")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so that a timeout kills the whole pipeline.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                TransportError::Config(format!("cannot run {server} with /bin/sh: {e}"))
            })?;

        let writer = child.stdin.take().map(|mut stdin| {
            let data = message.to_vec();
            spawn_result(move || {
                let r = stdin.write_all(&data);
                drop(stdin);
                r.map_err(|e| e.to_string())
            })
        });
        let stdout = child
            .stdout
            .take()
            .map(|out| spawn_result(move || read_capped(out)));
        let stderr = child
            .stderr
            .take()
            .map(|err| spawn_result(move || read_capped(err)));

        let status = match wait_with_timeout(&mut child, self.timeout) {
            Ok(Some(status)) => status,
            Ok(None) => {
                kill_group(&mut child);
                let stderr = collect(stderr).unwrap_or_default();
                return Err(TransportError::Temporary {
                    server,
                    message: format!(
                        "did not finish within {} s and was killed{}",
                        self.timeout.as_secs_f32(),
                        quote_stderr(&stderr)
                    ),
                });
            }
            Err(e) => {
                kill_group(&mut child);
                return Err(TransportError::Temporary {
                    server,
                    message: format!("cannot wait for the command: {e}"),
                });
            }
        };
        let stderr_bytes = collect(stderr).unwrap_or_default();
        let _ = collect(stdout);
        let written = collect(writer);
        if status.success() {
            return match written {
                Some(Err(e)) => Err(TransportError::Permanent {
                    server,
                    message: format!(
                        "exited successfully without reading the whole message ({e}); \
                         it may not have been sent"
                    ),
                }),
                _ => Ok(()),
            };
        }
        Err(map_status(status, &stderr_bytes, server))
    }

    fn describe(&self) -> String {
        self.server()
    }
}

fn check_address(addr: &str, role: &str, server: &str) -> Result<(), TransportError> {
    let why = if addr.is_empty() {
        Some("it is empty")
    } else if addr.starts_with('-') {
        Some("it starts with '-' and would be read as an option")
    } else if addr.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains white space or control characters")
    } else if !addr.contains('@') {
        Some("it has no '@'")
    } else {
        None
    };
    match why {
        Some(why) => Err(TransportError::Permanent {
            server: server.to_string(),
            message: format!("refusing {role} address {addr:?}: {why}"),
        }),
        None => Ok(()),
    }
}

fn map_status(status: ExitStatus, stderr: &[u8], server: String) -> TransportError {
    let detail = quote_stderr(stderr);
    let Some(code) = status.code() else {
        let signal = status
            .signal()
            .map_or_else(|| "a signal".to_string(), |s| format!("signal {s}"));
        return TransportError::Temporary {
            server,
            message: format!("was killed by {signal}{detail}"),
        };
    };
    let message = format!("exited with status {code}{}{detail}", sysexit_name(code));
    match code {
        EX_TEMPFAIL => TransportError::Temporary { server, message },
        EX_NOPERM => TransportError::Auth { server, message },
        EX_CONFIG => TransportError::Config(format!("{server} {message}")),
        SH_NOT_FOUND | SH_NOT_EXECUTABLE => TransportError::Config(format!(
            "{server} could not be run ({message}); is the program installed and on PATH?"
        )),
        EX_NOHOST => TransportError::Connection { server, message },
        // msmtp also uses EX_UNAVAILABLE when the server refused the message;
        // its quoted reply code then says which kind of failure it was.
        EX_UNAVAILABLE => match server_reply_class(stderr) {
            Some('4') => TransportError::Temporary { server, message },
            Some(_) => TransportError::Permanent { server, message },
            None => TransportError::Connection { server, message },
        },
        EX_NOUSER | EX_DATAERR => TransportError::Permanent { server, message },
        _ => TransportError::Permanent { server, message },
    }
}

fn sysexit_name(code: i32) -> &'static str {
    match code {
        64 => " (EX_USAGE)",
        EX_DATAERR => " (EX_DATAERR)",
        66 => " (EX_NOINPUT)",
        EX_NOUSER => " (EX_NOUSER)",
        EX_NOHOST => " (EX_NOHOST)",
        EX_UNAVAILABLE => " (EX_UNAVAILABLE)",
        70 => " (EX_SOFTWARE)",
        71 => " (EX_OSERR)",
        72 => " (EX_OSFILE)",
        73 => " (EX_CANTCREAT)",
        74 => " (EX_IOERR)",
        EX_TEMPFAIL => " (EX_TEMPFAIL)",
        76 => " (EX_PROTOCOL)",
        EX_NOPERM => " (EX_NOPERM)",
        EX_CONFIG => " (EX_CONFIG)",
        SH_NOT_EXECUTABLE => " (not executable)",
        SH_NOT_FOUND => " (command not found)",
        _ => "",
    }
}

/// The first digit of an SMTP reply quoted by the command, as msmtp prints
/// it (`msmtp: server message: 451 4.3.0 try later`).
fn server_reply_class(stderr: &[u8]) -> Option<char> {
    let text = String::from_utf8_lossy(stderr);
    text.lines().find_map(|line| {
        let (_, rest) = line.split_once("server message: ")?;
        let mut chars = rest.chars();
        let first = chars.next()?;
        let code_ok = matches!(first, '4' | '5')
            && chars.next().is_some_and(|c| c.is_ascii_digit())
            && chars.next().is_some_and(|c| c.is_ascii_digit());
        code_ok.then_some(first)
    })
}

/// `: first lines of stderr`, control characters removed, or nothing.
fn quote_stderr(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<String> = text
        .lines()
        .map(|l| terminal_excerpt(l, 200))
        .filter(|l| !l.is_empty())
        .take(STDERR_LINES)
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(": {}", lines.join(" / "))
    }
}

pub(crate) fn spawn_result<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// The result of a helper thread. A grandchild that outlives the command may
/// keep a pipe open; then give up after a short grace period instead of
/// hanging.
pub(crate) fn collect<T>(rx: Option<mpsc::Receiver<T>>) -> Option<T> {
    rx.and_then(|rx| rx.recv_timeout(Duration::from_secs(2)).ok())
}

pub(crate) fn read_capped(mut reader: impl Read) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = STDERR_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            }
        }
    }
    kept
}

pub(crate) fn wait_with_timeout(
    child: &mut Child,
    timeout: Duration,
) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Kill the command's whole process group (sh and whatever it started).
pub(crate) fn kill_group(child: &mut Child) {
    let pgid = child.id();
    // The shell's `kill` builtin signals a process group given a negative
    // id; std has no API for that and this avoids unsafe libc calls.
    // (dash's `kill` does not accept `--`, so the id goes right after -KILL.)
    let _ = Command::new("/bin/sh")
        .arg("-c")
        .arg("kill -KILL \"-$1\" 2>/dev/null")
        .arg("sh")
        .arg(pgid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R9.5: the command's stderr reaches the terminal through the one
    /// terminal sanitiser, bidi controls and C1 controls included.
    #[test]
    fn r9_5_stderr_quote_has_no_controls_or_bidi() {
        let quoted =
            quote_stderr("msmtp: bad\u{202e}gnp.exe\u{9b}31m\x1b[2J\r\nsecond\n".as_bytes());
        assert_eq!(
            quoted,
            ": msmtp: bad<U+202E>gnp.exe<U+009B>31m^[[2J / second"
        );
    }

    fn env(from: &str, to: &[&str]) -> Envelope {
        Envelope {
            from: from.to_string(),
            to: to.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn empty_command_is_a_config_error() {
        assert!(matches!(
            SendmailTransport::new("  "),
            Err(TransportError::Config(_))
        ));
        assert!(matches!(
            SendmailTransport::new("msmtp\n-t"),
            Err(TransportError::Config(_))
        ));
    }

    #[test]
    fn recipients_from_headers_are_detected_by_whole_words() {
        for cmd in [
            "msmtp -t",
            "msmtp --read-envelope-from -t",
            "sendmail -oi -t",
            "msmtp --read-recipients",
        ] {
            assert!(
                SendmailTransport::new(cmd).unwrap().reads_recipients(),
                "{cmd}"
            );
        }
        for cmd in [
            "msmtp",
            "msmtp --tls-trust-file=x",
            "/usr/sbin/sendmail -oi",
            "my-t",
        ] {
            assert!(
                !SendmailTransport::new(cmd).unwrap().reads_recipients(),
                "{cmd}"
            );
        }
    }

    #[test]
    fn arguments_carry_envelope_unless_reading_headers() {
        let t = SendmailTransport::new("msmtp -a work").unwrap();
        let args = t
            .arguments(&env("me@example.org", &["a@example.org", "b@example.org"]))
            .unwrap();
        assert_eq!(
            args,
            [
                "-i",
                "-f",
                "me@example.org",
                "--",
                "a@example.org",
                "b@example.org"
            ]
        );
        let t = SendmailTransport::new("msmtp --read-envelope-from -t").unwrap();
        assert_eq!(
            t.arguments(&env("me@example.org", &["a@example.org"]))
                .unwrap(),
            ["-i"]
        );
    }

    #[test]
    fn option_like_or_spaced_addresses_are_refused() {
        let t = SendmailTransport::new("msmtp").unwrap();
        for (from, to) in [
            ("-oQ/tmp/x@example.org", "a@example.org"),
            ("me@example.org", "-X/tmp/log"),
            ("me@example.org", "a@example.org b@example.org"),
            ("me@example.org", "a@example.org\nBcc: c@example.org"),
            ("", "a@example.org"),
            ("me@example.org", "nobody"),
        ] {
            let err = t.arguments(&env(from, &[to])).unwrap_err();
            assert!(
                matches!(&err, TransportError::Permanent { message, .. } if message.starts_with("refusing")),
                "{err:?}"
            );
            assert!(!err.to_string().contains('\n'));
        }
        assert!(t.arguments(&env("me@example.org", &[])).is_err());
    }

    #[test]
    fn shell_metacharacters_in_addresses_are_never_interpreted() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let marker = dir.path().join("pwned");
        // The "command" records its argv, one per line.
        let cmd = format!(
            "f() {{ for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'; cat >/dev/null; }}; f",
            out.display()
        );
        let t = SendmailTransport::new(&cmd).unwrap();
        let evil = format!("a$(touch${{IFS}}{})@example.org", marker.display());
        t.send(&env("me@example.org", &[&evil, "b;@example.org"]), b"x\r\n")
            .unwrap();
        let args = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            args,
            format!("-i\n-f\nme@example.org\n--\n{evil}\nb;@example.org\n")
        );
        assert!(!marker.exists());
    }

    #[test]
    fn message_goes_to_stdin_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("msg");
        let t = SendmailTransport::new(&format!("cat > '{}' #", out.display())).unwrap();
        let msg: Vec<u8> = b"Subject: x\r\n\r\n.\r\nline\r\n\xff\x00end"
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'z', 200_000))
            .collect();
        t.send(&env("me@example.org", &["a@example.org"]), &msg)
            .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), msg);
    }

    #[test]
    fn exit_statuses_map_to_error_kinds() {
        let e = env("me@example.org", &["a@example.org"]);
        let send = |cmd: &str| SendmailTransport::new(cmd).unwrap().send(&e, b"x\r\n");
        let temp = send("cat >/dev/null; echo 'queue full' >&2; exit 75").unwrap_err();
        assert!(
            matches!(&temp, TransportError::Temporary { message, .. } if message.contains("queue full") && message.contains("75")),
            "{temp:?}"
        );
        assert!(matches!(
            send("false"),
            Err(TransportError::Permanent { .. })
        ));
        assert!(matches!(send("exit 77"), Err(TransportError::Auth { .. })));
        assert!(matches!(
            send("exit 68"),
            Err(TransportError::Connection { .. })
        ));
        assert!(matches!(
            send("exit 67"),
            Err(TransportError::Permanent { .. })
        ));
        assert!(matches!(send("exit 78"), Err(TransportError::Config(_))));
        assert!(matches!(
            send("exit 69"),
            Err(TransportError::Connection { .. })
        ));
        assert!(matches!(
            send("echo 'msmtp: server message: 451 4.3.0 later' >&2; exit 69"),
            Err(TransportError::Temporary { .. })
        ));
        assert!(matches!(
            send("echo 'msmtp: server message: 550 5.7.1 no' >&2; exit 69"),
            Err(TransportError::Permanent { .. })
        ));
        assert!(matches!(
            send("kill -TERM $$"),
            Err(TransportError::Temporary { .. })
        ));
    }

    #[test]
    fn missing_binary_is_a_config_error() {
        let err = SendmailTransport::new("/nonexistent/rsvp-no-such-sendmail -t")
            .unwrap()
            .send(&env("me@example.org", &["a@example.org"]), b"x\r\n")
            .unwrap_err();
        match &err {
            TransportError::Config(m) => {
                assert!(m.contains("127"), "{m}");
                assert!(m.contains("rsvp-no-such-sendmail"), "{m}");
            }
            other => panic!("expected Config, got {other:?}"),
        }
    }

    #[test]
    fn stderr_is_quoted_briefly_and_cleaned() {
        // `tr` produces the texts that must not appear, so that the quoted
        // command itself (part of the server name) cannot contain them.
        let err = SendmailTransport::new(
            "printf 'one\\033[31m\\ntwo\\nthree\\n' >&2; echo abc | tr a-c p-r >&2; \
             echo def | tr d-f s-u; exit 1",
        )
        .unwrap()
        .send(&env("me@example.org", &["a@example.org"]), b"x\r\n")
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("one^[[31m / two / three"), "{text}");
        assert!(!text.contains("pqr"), "fourth stderr line quoted: {text}");
        assert!(!text.contains("stu"), "stdout quoted: {text}");
        assert!(!text.contains('\x1b'), "{text}");
    }

    /// Live (non-zombie) processes whose process group is `pgid`.
    fn live_group_members(pgid: &str) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp ...
            let Some((_, after_comm)) = stat.rsplit_once(')') else {
                continue;
            };
            let fields: Vec<&str> = after_comm.split_whitespace().collect();
            if fields.get(2) == Some(&pgid) && fields.first() != Some(&"Z") {
                found.push(stat);
            }
        }
        found
    }

    #[test]
    fn a_hanging_command_is_killed_with_its_whole_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // A pipeline whose processes would outlive a plain kill of sh.
        let cmd = format!(
            "echo $$ > '{}'; cat >/dev/null; sleep 30 | sleep 30; :",
            pid_file.display()
        );
        let t = SendmailTransport::new(&cmd)
            .unwrap()
            .with_timeout(Duration::from_millis(300));
        let err = t
            .send(&env("me@example.org", &["a@example.org"]), b"x\r\n")
            .unwrap_err();
        assert!(
            matches!(&err, TransportError::Temporary { message, .. } if message.contains("killed")),
            "{err:?}"
        );
        let pgid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = live_group_members(&pgid);
            if left.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "still running: {left:?}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn success_without_reading_a_large_message_is_not_reported_as_sent() {
        let msg = vec![b'a'; 1 << 20];
        let err = SendmailTransport::new("true")
            .unwrap()
            .send(&env("me@example.org", &["a@example.org"]), &msg)
            .unwrap_err();
        assert!(matches!(err, TransportError::Permanent { .. }), "{err:?}");
    }

    #[test]
    fn describe_names_the_command() {
        let t = SendmailTransport::new("msmtp -t").unwrap();
        assert_eq!(t.describe(), "sendmail command \"msmtp -t\"");
    }
}
