//! `rsvp check`: every configuration problem, then real probes that send no
//! mail — the calendar directory, the transport (resolve, connect, EHLO,
//! STARTTLS/TLS, AUTH; or the sendmail program on PATH), the contacts and
//! the mail index. Each failure names the setting behind it.

use super::{build_source, fetch_password, notmuch_env, smtp_settings};
use rsvp::adapters::contacts::Contacts;
use rsvp::adapters::probe::{self, ProbeFailure, ProbeStep};
use rsvp::adapters::smtp;
use rsvp::adapters::vdir::Vdir;
use rsvp::cli::{Failure, exit};
use rsvp::config::{self, Config, Paths};
use rsvp::domain::ports::{CalendarStore, SourceError, StoreError};
use rsvp::domain::sanitize::terminal_line;
use std::path::Path;

/// `rsvp check`: print one line per part, then `ok`, or fail with exit 3.
pub fn check(
    path: &Path,
    paths: Option<&Paths>,
    out: &mut dyn std::io::Write,
) -> Result<u8, Failure> {
    let mut lines: Vec<String> = Vec::new();
    let mut cfg = Config::load(path).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
    if let Some(from) = cfg.fill_identity(notmuch_env()) {
        lines.push(format!(
            "identity: {} (from {})",
            cfg.identity.addresses.join(", "),
            from.display()
        ));
    }
    let problems = cfg.validate();
    for p in &problems {
        lines.push(format!("config: {p}"));
    }
    let mut failed = !problems.is_empty();
    let mut say = |ok: bool, line: String| {
        failed |= !ok;
        lines.push(line);
    };
    match &cfg.calendar {
        Some(c) => match calendar(&c.path) {
            Ok(n) => say(
                true,
                format!("calendar: {} ({n} objects)", c.path.display()),
            ),
            Err(e) => say(false, format!("calendar: [calendar] path {e}")),
        },
        None => say(true, "calendar: not configured".into()),
    }
    match transport(&cfg) {
        Ok(line) => say(true, format!("transport: {line}")),
        Err(line) => say(false, format!("transport: {line}")),
    }
    if let Some(dir) = cfg.trust.as_ref().and_then(|t| t.contacts.as_ref()) {
        match Contacts::load(dir) {
            Ok(c) => say(
                true,
                format!("contacts: {} ({} addresses)", dir.display(), c.len()),
            ),
            Err(e) => say(false, format!("contacts: [trust] contacts: {e}")),
        }
    }
    match build_source(&cfg, paths) {
        Ok(Some(source)) => match source.candidates_timeout(std::time::Duration::from_secs(10)) {
            Ok(found) => say(
                true,
                format!(
                    "mail: {} ({} candidate messages)",
                    source.name(),
                    found.len()
                ),
            ),
            Err(SourceError::NotIndexed(name)) => say(
                true,
                format!(
                    "mail: {} (not indexed yet: run `rsvp index`)",
                    terminal_line(&name)
                ),
            ),
            Err(e) => say(false, format!("mail: {}", terminal_line(&e.to_string()))),
        },
        Ok(None) => say(
            true,
            "mail: not configured (no [mail] section, NOTMUCH_CONFIG unset)".into(),
        ),
        Err(f) => say(false, format!("mail: {}", f.message)),
    }
    if let Some(p) = paths {
        lines.push(format!("outbox: {}", p.data_dir.join("outbox").display()));
    }
    for l in &lines {
        let _ = writeln!(out, "{l}");
    }
    if failed {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "{}: the configuration has problems (listed above)",
                path.display()
            ),
        ));
    }
    let _ = writeln!(out, "ok");
    Ok(exit::OK)
}

/// The number of objects in the calendar, or why it cannot be read: the
/// path quoted and the reason ("does not exist").
fn calendar(path: &Path) -> Result<usize, String> {
    let describe = |e: StoreError| match e {
        StoreError::Io { message, .. } => format!("{:?}: {message}", path.display().to_string()),
        other => format!("{:?}: {other}", path.display().to_string()),
    };
    let vdir = Vdir::open(path).map_err(describe)?;
    vdir.list().map(|objs| objs.len()).map_err(describe)
}

/// Probe the configured transport, sending no mail: one line either way.
fn transport(cfg: &Config) -> Result<String, String> {
    let Some(send) = &cfg.send else {
        return Ok("not configured (only --dry-run and --no-send replies)".into());
    };
    match send.method {
        config::SendMethod::Sendmail => {
            let Some(s) = &cfg.sendmail else {
                return Err("[send] method = \"sendmail\" needs a [sendmail] section".into());
            };
            let path = std::env::var_os("PATH");
            match probe::find_program(&s.command, path.as_deref()) {
                Ok(program) => Ok(format!(
                    "sendmail command {:?} ({} found)",
                    s.command,
                    program.display()
                )),
                Err(e) => Err(format!("[sendmail] command: {e}")),
            }
        }
        config::SendMethod::Smtp => {
            let Some(s) = &cfg.smtp else {
                return Err("[send] method = \"smtp\" needs an [smtp] section".into());
            };
            let password = fetch_password(cfg).map_err(|e| {
                format!("[smtp] password_command: {}", terminal_line(&e.to_string()))
            })?;
            smtp::probe(smtp_settings(s, password))
                .map(|d| format!("{d}: connected, nothing sent"))
                .map_err(|e| format!("{}: {}", setting_of(&e), terminal_line(&e.to_string())))
        }
    }
}

/// The settings behind a failed probe step.
fn setting_of(e: &ProbeFailure) -> &'static str {
    match e.step {
        ProbeStep::Resolve => "[smtp] host",
        ProbeStep::Connect => "[smtp] host and port",
        ProbeStep::Session => "[smtp] security, port and ca_file",
        ProbeStep::Auth => "[smtp] username and password_command",
        ProbeStep::Program => "[sendmail] command",
    }
}
