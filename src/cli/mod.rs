//! The command-line face: one file per subcommand; stdout is data, stderr
//! diagnostics. The argument definitions are the stable contract of the
//! README.

pub mod list;
pub mod present;

pub use list::Input;

use crate::domain::classify::{Classification, Status};
use crate::domain::invite::PartStat;
use crate::domain::ports::{IndexProgress, MailIndex};
use crate::domain::sanitize::terminal_line;
use crate::inbox::{self, Env, InboxError};
use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::io::Read;
use std::path::PathBuf;

/// Exit codes (README "Exit codes").
pub mod exit {
    pub const OK: u8 = 0;
    pub const RUNTIME: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONFIG: u8 = 3;
    pub const REFUSED: u8 = 4;
}

#[derive(Debug, Parser)]
#[command(
    name = "rsvp",
    version,
    about = "Answer calendar invitations from your mail, correctly."
)]
pub struct Args {
    /// Configuration file (default: $XDG_CONFIG_HOME/rsvp/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Without a command: the inbox (the TUI).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The inbox: every invitation that needs you, answered with one key
    /// (the default when no command is given).
    Tui,
    /// The inbox on bundled sample data in a temporary sandbox: no
    /// configuration, no mail sent (replies are written to files).
    Demo,
    /// Invitations that need you (pending first, then by date).
    List {
        /// Everything: answered, outdated and past invitations too.
        #[arg(long)]
        all: bool,
        /// One JSON array on stdout.
        #[arg(long)]
        json: bool,
        /// Read this Maildir (cur/ and new/, also of Maildirs below it).
        #[arg(long, value_name = "PATH")]
        maildir: Option<PathBuf>,
    },
    /// Show an invitation, classified against your calendar.
    #[command(group(ArgGroup::new("input").required(true).args(["message", "id"])))]
    Show {
        /// The message or .ics file; `-` reads standard input.
        #[arg(long, value_name = "PATH")]
        message: Option<String>,
        /// The newest message for this UID in the mail source.
        #[arg(long, value_name = "UID")]
        id: Option<String>,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// The Maildir searched for --id.
        #[arg(long, value_name = "PATH")]
        maildir: Option<PathBuf>,
    },
    /// Answer an invitation: send an iTIP REPLY and update the calendar.
    #[command(group(ArgGroup::new("input").required(true).args(["message", "id"])))]
    Reply {
        #[arg(value_enum)]
        answer: Answer,
        /// The message or .ics file; `-` reads standard input.
        #[arg(long, value_name = "PATH")]
        message: Option<String>,
        /// The newest message for this UID in the mail source.
        #[arg(long, value_name = "UID")]
        id: Option<String>,
        /// The Maildir searched for --id.
        #[arg(long, value_name = "PATH")]
        maildir: Option<PathBuf>,
        /// A note for the organizer.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
        /// Answer one occurrence (its RECURRENCE-ID, e.g. 20250113T090000).
        #[arg(long, value_name = "RECURRENCE-ID")]
        instance: Option<String>,
        /// Print the exact message; send nothing, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send again even if the same answer was already sent.
        #[arg(long)]
        resend: bool,
    },
    /// Terminal-safe text of a message or .ics (a display filter for mutt/aerc).
    Render {
        /// File to read; `-` or nothing reads standard input.
        path: Option<String>,
    },
    /// Bring the calendar up to date without replying.
    Apply {
        #[arg(long, value_name = "PATH")]
        message: String,
    },
    /// Replies not yet accepted by the mail server.
    Outbox {
        #[arg(value_enum, default_value = "list")]
        action: OutboxAction,
    },
    /// Validate the configuration and probe the calendar and the transport.
    Check,
    /// Bring the mail index up to date ([mail] maildir) and print counts;
    /// for your own notmuch database only report (`notmuch new` indexes it).
    Index,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Answer {
    Accept,
    Decline,
    Tentative,
}

impl Answer {
    pub fn partstat(self) -> PartStat {
        match self {
            Answer::Accept => PartStat::Accepted,
            Answer::Decline => PartStat::Declined,
            Answer::Tentative => PartStat::Tentative,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutboxAction {
    List,
    Flush,
}

/// A command's failure: one line on stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<InboxError> for Failure {
    fn from(e: InboxError) -> Failure {
        let code = match &e {
            InboxError::NotInvitation(_) | InboxError::Refused(_) => exit::REFUSED,
            InboxError::Usage(_) => exit::USAGE,
            InboxError::Config(_) => exit::CONFIG,
            InboxError::Store(_)
            | InboxError::Outbox(_)
            | InboxError::Source(_)
            | InboxError::Other(_) => exit::RUNTIME,
        };
        Failure::new(code, terminal_line(&e.to_string()))
    }
}

/// Read `--message PATH` or `-` (stdin), with a size cap (R9.8).
pub fn read_input(path: &str) -> Result<Vec<u8>, Failure> {
    const LIMIT: u64 = 32 * 1024 * 1024;
    let mut buf = Vec::new();
    let res = if path == "-" {
        std::io::stdin().take(LIMIT + 1).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(LIMIT + 1).read_to_end(&mut buf))
    };
    res.map_err(|e| Failure::new(exit::RUNTIME, format!("cannot read {path}: {e}")))?;
    if buf.len() as u64 > LIMIT {
        return Err(Failure::new(
            exit::REFUSED,
            format!("{path}: larger than {LIMIT} bytes"),
        ));
    }
    Ok(buf)
}

pub type Out<'a> = &'a mut dyn std::io::Write;

/// Pretty JSON that is also safe on a terminal: serde_json escapes C0
/// controls; DEL, C1 controls and bidirectional overrides are escaped here
/// too (`\u202e`), so parsers read the same data and a terminal sees no
/// control characters (R9.5, T55).
pub fn json_text(v: &Value) -> String {
    let raw = serde_json::to_string_pretty(v).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let u = u32::from(c);
        if u == 0x7f || (0x80..=0x9f).contains(&u) || crate::domain::sanitize::is_bidi_control(c) {
            out.push_str(&format!("\\u{u:04x}"));
        } else {
            out.push(c);
        }
    }
    out
}

fn write_out(out: Out<'_>, text: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes())
        .map_err(|e| Failure::new(exit::RUNTIME, format!("cannot write output: {e}")))
}

/// The JSON object of `show --json` (README contract).
pub fn show_json(shown: &inbox::Shown, env: &Env<'_>) -> Value {
    let class: &Classification = &shown.class;
    let inv = shown.invite();
    let primary = inv.and_then(|i| i.primary());
    let fmt_date = |d: Option<crate::domain::ical::CalDate>| -> Value {
        match (d, inv) {
            (Some(d), Some(i)) => {
                let instant = env.clock.instant(&d, &i.cal);
                json!({
                    "value": d.display_key(),
                    "all_day": d.is_date(),
                    "utc": instant.map(|t| t.to_rfc3339()),
                    "local": instant.map(|t| t.with_timezone(&env.clock.local).to_rfc3339()),
                    "text": env.clock.format(&d, &i.cal),
                })
            }
            _ => Value::Null,
        }
    };
    let organizer = inv.and_then(|i| i.organizer());
    json!({
        "method": inv.and_then(|i| i.method).map(|m| m.as_str()),
        "uid": inv.map(|i| i.uid.clone()),
        "status": class.status.as_str(),
        "cancel_scope": class.status.cancel_scope(),
        "summary": inv.and_then(|i| i.summary()),
        "organizer": organizer.as_ref().map(|o| json!({
            "address": o.email, "name": o.cn, "value": o.value,
        })),
        "me": class.me().map(|m| json!({
            "address": m.address, "attendee": m.party.value, "group": m.via_group,
        })),
        "partstat": class.partstat.map(|p| p.as_str()),
        "rsvp": class.rsvp_requested,
        "sequence": inv.map(|i| i.sequence()),
        "start": fmt_date(primary.and_then(|c| c.dtstart())),
        "end": fmt_date(primary.and_then(|c| c.dtend())),
        "recurring": primary.map(|c| c.is_recurring()).unwrap_or(false),
        "in_calendar": shown.stored.as_ref().map(|s| s.0.href.clone()),
        "changes": class.changes.iter().map(|c| json!({
            "field": c.field, "old": c.old, "new": c.new,
            "recurrence_id": c.recurrence_id, "significant": c.significant,
        })).collect::<Vec<_>>(),
        "can_reply": class.reply_refusal.is_none(),
        "reply_refused": class.reply_refusal,
        "can_apply": class.apply_refusal.is_none(),
        "apply_refused": class.apply_refusal,
        "warnings": class.warnings,
    })
}

pub fn run_show(
    env: &Env<'_>,
    input: &Input<'_>,
    as_json: bool,
    out: Out<'_>,
) -> Result<u8, Failure> {
    let raw = input.read()?;
    let shown = inbox::show(env, &raw)?;
    if as_json {
        let v = show_json(&shown, env);
        write_out(out, &format!("{}\n", json_text(&v)))?;
    } else {
        match shown.invite() {
            Some(inv) => write_out(out, &present::describe(inv, Some(&shown.class), &env.clock))?,
            None => write_out(
                out,
                &format!(
                    "invalid invitation: {}\n",
                    shown
                        .class
                        .warnings
                        .first()
                        .map(|w| terminal_line(w))
                        .unwrap_or_default()
                ),
            )?,
        }
    }
    Ok(exit::OK)
}

pub fn run_render(
    env: Option<&Env<'_>>,
    path: Option<&str>,
    clock: &crate::domain::diff::Clock,
    out: Out<'_>,
) -> Result<u8, Failure> {
    let raw = read_input(path.unwrap_or("-"))?;
    let text = match env {
        Some(env) => {
            let shown = inbox::show(env, &raw)?;
            match shown.invite() {
                Some(inv) => present::describe(inv, Some(&shown.class), clock),
                None => format!(
                    "invalid invitation: {}\n",
                    shown
                        .class
                        .warnings
                        .first()
                        .map(|w| terminal_line(w))
                        .unwrap_or_default()
                ),
            }
        }
        None => {
            let loaded = inbox::load(&raw)?;
            match &loaded.invite {
                Ok(inv) => present::describe(inv, None, clock),
                Err(reason) => format!("invalid invitation: {}\n", terminal_line(reason)),
            }
        }
    };
    write_out(out, &text)?;
    Ok(exit::OK)
}

#[allow(clippy::too_many_arguments)]
pub fn run_reply(
    env: &Env<'_>,
    answer: Answer,
    input: &Input<'_>,
    comment: Option<&str>,
    instance: Option<&str>,
    dry_run: bool,
    resend: bool,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<u8, Failure> {
    let (raw, candidate) = input.read_with_candidate()?;
    let req = inbox::ResponseRequest {
        partstat: answer.partstat(),
        comment,
        instance,
        dry_run,
        resend,
    };
    let done = inbox::respond(env, &raw, &req)?;
    if !dry_run {
        // Record the answer on the message in the mail index (`--id`).
        if let (
            Some(c),
            list::Input::Id {
                source: Some(source),
                ..
            },
        ) = (&candidate, input)
        {
            let (add, remove) = inbox::answer_tags(answer.partstat());
            if let Err(e) = source.tag(c, add, remove) {
                write_out(
                    err,
                    &format!(
                        "rsvp: warning: could not tag the message: {}\n",
                        terminal_line(&e.to_string())
                    ),
                )?;
            }
        }
    }
    if dry_run {
        out.write_all(&done.message)
            .map_err(|e| Failure::new(exit::RUNTIME, format!("cannot write output: {e}")))?;
        return Ok(exit::OK);
    }
    let summary = done
        .shown
        .invite()
        .and_then(|i| i.summary())
        .map(|s| terminal_line(&s))
        .unwrap_or_default();
    let to = done.envelope.to.join(", ");
    for w in &done.warnings {
        write_out(err, &format!("rsvp: warning: {}\n", terminal_line(w)))?;
    }
    if done.already_sent {
        write_out(
            err,
            &format!(
                "rsvp: already answered {} to \"{summary}\" ({to}); nothing sent (use --resend to send again)\n",
                answer.partstat().human()
            ),
        )?;
        return Ok(exit::OK);
    }
    if let Some(href) = &done.href {
        write_out(err, &format!("rsvp: calendar updated ({href})\n"))?;
    }
    if done.server_scheduled {
        write_out(
            err,
            &format!(
                "rsvp: {} \"{summary}\": not mailed; your calendar server sends the reply (server_scheduling)\n",
                answer.partstat().human()
            ),
        )?;
        return Ok(exit::OK);
    }
    match &done.send_error {
        None => {
            write_out(
                err,
                &format!(
                    "rsvp: {} \"{summary}\": reply sent to {to}\n",
                    answer.partstat().human()
                ),
            )?;
            Ok(exit::OK)
        }
        Some(e) => Err(Failure::new(
            exit::RUNTIME,
            format!(
                "reply to {to} not sent: {}; it is queued: run `rsvp outbox flush` to retry",
                terminal_line(&e.to_string())
            ),
        )),
    }
}

pub fn run_apply(env: &Env<'_>, message: &str, err: Out<'_>) -> Result<u8, Failure> {
    let raw = read_input(message)?;
    let (shown, applied) = inbox::apply_message(env, &raw)?;
    let summary = shown
        .invite()
        .and_then(|i| i.summary())
        .map(|s| terminal_line(&s))
        .unwrap_or_default();
    let line = match applied {
        inbox::Applied::Stored {
            href,
            created: true,
        } => format!(
            "stored \"{summary}\" as {href} ({})",
            shown.class.status.as_str()
        ),
        inbox::Applied::Stored {
            href,
            created: false,
        } => format!(
            "updated \"{summary}\" in {href} ({})",
            shown.class.status.as_str()
        ),
        inbox::Applied::Tombstone => {
            format!("\"{summary}\" is not in your calendar; the cancellation is remembered")
        }
        inbox::Applied::NothingToDo(why) => format!("nothing to do: {why}"),
    };
    write_out(err, &format!("rsvp: {line}\n"))?;
    Ok(exit::OK)
}

pub fn run_outbox(env: &Env<'_>, action: OutboxAction, out: Out<'_>) -> Result<u8, Failure> {
    match action {
        OutboxAction::List => {
            let pending = env.outbox.pending().map_err(InboxError::from)?;
            if pending.is_empty() {
                write_out(out, "outbox is empty\n")?;
            }
            for e in pending {
                let last = e
                    .last_error
                    .as_deref()
                    .map(|x| format!(" (last error: {})", terminal_line(x)))
                    .unwrap_or_default();
                write_out(
                    out,
                    &format!(
                        "{}  {}  {} {}{}\n",
                        e.id,
                        e.envelope.to.join(","),
                        e.key.partstat,
                        terminal_line(&e.key.uid),
                        last
                    ),
                )?;
            }
            Ok(exit::OK)
        }
        OutboxAction::Flush => {
            let results = inbox::flush(env)?;
            let mut failed = 0;
            for d in &results {
                match &d.result {
                    Ok(()) => write_out(out, &format!("sent {} to {}\n", d.id, d.to.join(",")))?,
                    Err(e) => {
                        failed += 1;
                        write_out(
                            out,
                            &format!("failed {}: {}\n", d.id, terminal_line(&e.to_string())),
                        )?;
                    }
                }
            }
            if results.is_empty() {
                write_out(out, "outbox is empty\n")?;
            }
            if failed > 0 {
                return Err(Failure::new(
                    exit::RUNTIME,
                    format!("{failed} repl(ies) still queued"),
                ));
            }
            Ok(exit::OK)
        }
    }
}

/// `rsvp index`: run the indexer to the end; counts on stdout, a note on
/// stderr while another program holds the database's write lock.
pub fn run_index(index: &dyn MailIndex, out: Out<'_>, err: Out<'_>) -> Result<u8, Failure> {
    let name = terminal_line(&index.describe());
    let mut announced = false;
    let result = {
        let err = &mut *err;
        let mut on_progress = |event: &IndexProgress| {
            if matches!(event, IndexProgress::Waiting) && !announced {
                announced = true;
                let _ = writeln!(
                    err,
                    "rsvp: waiting for the notmuch database {name}: another program is writing to it"
                );
            }
        };
        index.index(&mut on_progress)
    };
    let counts = result.map_err(|e| Failure::new(exit::RUNTIME, terminal_line(&e.to_string())))?;
    if !counts.managed {
        write_out(
            err,
            &format!(
                "rsvp: {name}: your own notmuch database is indexed by `notmuch new`, not by rsvp\n"
            ),
        )?;
    }
    if counts.skipped > 0 {
        write_out(
            err,
            &format!(
                "rsvp: skipped {} file(s) that are not mail or whose names are not UTF-8\n",
                counts.skipped
            ),
        )?;
    }
    write_out(
        out,
        &format!(
            "indexed {} new, {} removed, {} messages, {} candidates\n",
            counts.added, counts.removed, counts.total, counts.candidates
        ),
    )?;
    Ok(exit::OK)
}

/// Whether a status means "needs the user" (used by listings).
pub fn is_pending(status: Status) -> bool {
    inbox::list::is_pending(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// T55 for `--json`: no bidi override or C1 control reaches the
    /// terminal, and the JSON still decodes to the original text.
    #[test]
    fn t55_json_output_escapes_bidi_and_c1() {
        let v = json!({"summary": "a\u{202e}b\u{9b}c\u{7f}d\u{1b}e"});
        let text = json_text(&v);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(!text.contains('\u{202e}'));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
