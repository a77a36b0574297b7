//! The command-line face: one file per subcommand; stdout is data, stderr
//! diagnostics. The argument definitions are the stable contract of the
//! README.

pub mod apply;
pub mod index;
pub mod list;
pub mod outbox;
pub mod present;
pub mod render;
pub mod reply;
pub mod show;

pub use apply::run_apply;
pub use index::run_index;
pub use outbox::run_outbox;
pub use render::run_render;
pub use reply::run_reply;
pub use show::{run_show, show_json};

pub use list::Input;

use crate::domain::classify::Status;
use crate::domain::invite::PartStat;
use crate::domain::sanitize::terminal_line;
use crate::inbox::{self, InboxError};
use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use serde_json::Value;
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
        /// Record the answer in the calendar (and the tags) but mail
        /// nothing to the organizer, who will not hear back.
        #[arg(long, conflicts_with_all = ["dry_run", "resend"])]
        no_send: bool,
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
        /// Apply a message whose MIME method= disagrees with its calendar's
        /// METHOD as the calendar says (never done without this flag).
        #[arg(long)]
        force_method: bool,
    },
    /// Replies not yet accepted by the mail server: list them (queued and
    /// refused for good), flush the queue, or drop one by its id.
    Outbox {
        #[arg(value_enum, default_value = "list")]
        action: OutboxAction,
        /// The entry to drop (`rsvp outbox drop ID`, ids as `outbox list` shows).
        #[arg(value_name = "ID", required_if_eq("action", "drop"))]
        id: Option<String>,
    },
    /// Validate the configuration and probe the calendar and the transport.
    Check,
    /// Bring the mail index up to date (`[mail] maildir`) and print counts;
    /// for your own notmuch database only report (`notmuch new` indexes it).
    Index,
    /// Write a commented starter configuration from your notmuch, khal and
    /// msmtp settings, and show it; never overwrites an existing file.
    Init,
    /// Print a shell completion script (e.g. `rsvp completions bash >
    /// ~/.local/share/bash-completion/completions/rsvp`).
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff), e.g. `rsvp man | man -l -`.
    Man,
}

/// The shells `rsvp completions` writes scripts for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    #[value(name = "powershell")]
    PowerShell,
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
    /// Queued replies, then those the server refused for good.
    List,
    /// Send every queued reply.
    Flush,
    /// Remove one reply, queued or refused, without sending it.
    Drop,
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

    /// Writing the output failed. A reader that went away (`rsvp list |
    /// head`) is no failure: rsvp stops there, says nothing and exits 0,
    /// as a filter does (what was to be done, such as sending a reply, is
    /// done before anything is printed). Anything else is a runtime
    /// failure.
    pub fn output(e: &std::io::Error) -> Failure {
        Failure::output_kind(e.kind(), e)
    }

    fn output_kind(kind: std::io::ErrorKind, e: &dyn std::fmt::Display) -> Failure {
        if kind == std::io::ErrorKind::BrokenPipe {
            Failure::new(exit::OK, "")
        } else {
            Failure::new(exit::RUNTIME, format!("cannot write output: {e}"))
        }
    }

    /// Whether there is nothing to say (see [`Failure::output`]).
    pub fn is_quiet(&self) -> bool {
        self.message.is_empty()
    }
}

/// The classification behind an item the Inbox handed out whole (`item`,
/// `find_uid`, `adhoc` always build it).
pub(crate) fn shown_of(item: &inbox::Item) -> Result<&inbox::Shown, Failure> {
    item.shown().ok_or_else(|| {
        Failure::new(
            exit::RUNTIME,
            format!("invitation {}: its details could not be loaded", item.key),
        )
    })
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
    escape_json(serde_json::to_string_pretty(v).unwrap_or_default())
}

/// Pretty JSON of `v` (as [`json_text`]), then a line break, streamed to
/// `out` through `SafeJson`: a listing of thousands of items is never
/// held whole in memory (nor copied again to make it terminal-safe).
pub fn write_json<T: serde::Serialize + ?Sized>(out: Out<'_>, v: &T) -> Result<(), Failure> {
    use std::io::Write;
    let fail = |e: std::io::Error| Failure::output(&e);
    // serde_json writes token by token into the buffer; SafeJson looks at
    // the text 64 KiB at a time.
    let mut sink = std::io::BufWriter::with_capacity(
        64 * 1024,
        SafeJson {
            inner: out,
            carry: Vec::new(),
        },
    );
    serde_json::to_writer_pretty(&mut sink, v).map_err(|e| {
        if let Some(kind) = e.io_error_kind() {
            Failure::output_kind(kind, &e)
        } else {
            Failure::new(exit::RUNTIME, format!("cannot encode the output: {e}"))
        }
    })?;
    sink.write_all(b"\n").map_err(fail)?;
    let safe = sink.into_inner().map_err(|e| fail(e.into_error()))?;
    safe.finish().map_err(fail)
}

/// A writer of JSON text that escapes DEL, C1 and bidi controls as
/// `\uXXXX` on the way (what [`json_text`] does to a whole string):
/// serde_json escapes C0 controls, so what comes out needs nothing more to
/// be terminal-safe (R9.5, T55). A UTF-8 sequence split between two writes
/// is held until it is whole.
struct SafeJson<W: std::io::Write> {
    inner: W,
    carry: Vec<u8>,
}

impl<W: std::io::Write> SafeJson<W> {
    /// Write what is held and flush; an incomplete UTF-8 sequence at the
    /// end (serde_json never writes one) is written as it is.
    fn finish(mut self) -> std::io::Result<()> {
        let carry = std::mem::take(&mut self.carry);
        self.inner.write_all(&carry)?;
        self.inner.flush()
    }

    /// Write `bytes` (whole UTF-8 sequences), escaping the characters
    /// that need it. Only their first bytes are looked for: DEL (0x7F),
    /// C1 controls (0xC2 0x80-0x9F) and the bidi controls (U+061C: 0xD8;
    /// U+200E-U+206F: 0xE2).
    fn escaped(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut start = 0;
        let mut from = 0;
        while let Some(off) = bytes.get(from..).and_then(first_lead) {
            let at = from + off;
            let len = match bytes.get(at) {
                Some(0x7f) => 1,
                Some(0xe2) => 3,
                _ => 2,
            };
            from = at + 1;
            let Some(c) = bytes
                .get(at..at + len)
                .and_then(|seq| std::str::from_utf8(seq).ok())
                .and_then(|text| text.chars().next())
            else {
                continue;
            };
            let u = u32::from(c);
            if u == 0x7f
                || (0x80..=0x9f).contains(&u)
                || crate::domain::sanitize::is_bidi_control(c)
            {
                self.inner
                    .write_all(bytes.get(start..at).unwrap_or_default())?;
                write!(self.inner, "\\u{u:04x}")?;
                start = at + len;
                from = start;
            }
        }
        self.inner.write_all(bytes.get(start..).unwrap_or_default())
    }
}

/// Where in `bytes` the first byte that may begin a character to escape
/// is (see [`SafeJson::escaped`]). JSON text is mostly ASCII below DEL:
/// eight such bytes at a time are passed over at once.
fn first_lead(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut skipped = 0;
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let w = u64::from_le_bytes(b);
        // Every byte is at most 0x7E: none has its high bit, and adding 1
        // to each (which cannot carry then) sets none.
        if (w | w.wrapping_add(ONES)) & HIGH != 0 {
            break;
        }
        skipped += 8;
    }
    bytes
        .get(skipped..)?
        .iter()
        .position(|b| matches!(b, 0x7f | 0xc2 | 0xd8 | 0xe2))
        .map(|off| skipped + off)
}

/// How many bytes at the end of `bytes` begin a UTF-8 sequence that is
/// not complete yet.
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let Some(&b) = bytes.get(bytes.len() - back) else {
            return 0;
        };
        if b & 0xc0 == 0x80 {
            continue; // a continuation byte: look further back
        }
        let need = match b {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        return if need > back { back } else { 0 };
    }
    0
}

impl<W: std::io::Write> std::io::Write for SafeJson<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let joined;
        let bytes: &[u8] = if self.carry.is_empty() {
            buf
        } else {
            let mut j = std::mem::take(&mut self.carry);
            j.extend_from_slice(buf);
            joined = j;
            &joined
        };
        let (whole, tail) = bytes.split_at(bytes.len() - incomplete_tail(bytes));
        self.escaped(whole)?;
        self.carry = tail.to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// DEL, C1 and bidi controls as `\uXXXX` escapes (serde_json escapes C0).
fn escape_json(raw: String) -> String {
    let special = |c: char| {
        let u = u32::from(c);
        u == 0x7f || (0x80..=0x9f).contains(&u) || crate::domain::sanitize::is_bidi_control(c)
    };
    if !raw.contains(special) {
        return raw;
    }
    let mut out = String::with_capacity(raw.len());
    let mut start = 0;
    for (i, c) in raw.char_indices() {
        if special(c) {
            out.push_str(raw.get(start..i).unwrap_or_default());
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
            start = i + c.len_utf8();
        }
    }
    out.push_str(raw.get(start..).unwrap_or_default());
    out
}

/// The one writer of command-line text: every byte goes through
/// [`terminal_safe`](crate::domain::sanitize::terminal_safe), so no field,
/// present or future, can put a control character on the terminal (R9.5,
/// T55). Only `reply --dry-run` writes the exact message bytes past it.
pub(crate) fn write_out(out: Out<'_>, text: &str) -> Result<(), Failure> {
    out.write_all(crate::domain::sanitize::terminal_safe(text).as_bytes())
        .map_err(|e| Failure::output(&e))
}

/// Whether a status means "needs the user" (used by listings).
pub fn is_pending(status: Status) -> bool {
    inbox::list::is_pending(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// `write_json` streams what `json_text` returns whole: the same
    /// bytes, whatever the size of the pieces serde_json writes.
    #[test]
    fn t55_streamed_json_equals_json_text() {
        let v = json!([
            {"summary": "a\u{202e}b\u{9b}c\u{7f}d\u{1b}e", "n": 1},
            {"summary": "Réunion \u{2066}x\u{2069} 東京 😀", "list": ["é", "\u{85}"]},
        ]);
        let mut out: Vec<u8> = Vec::new();
        write_json(&mut out, &v).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\n", json_text(&v))
        );
    }

    /// Far more than one buffer of text, so that buffer boundaries fall
    /// inside multi-byte characters and escapes.
    #[test]
    fn t55_streamed_json_equals_json_text_across_buffers() {
        let pieces = [
            "é", "\u{202e}", "x", "😀", "\u{9b}", "東", "\u{7f}", "\u{61c}",
        ];
        let v: Value = (0..20_000)
            .map(|i| {
                let s: String = (0..(i % 7 + 1))
                    .map(|k| pieces[(i + k) % pieces.len()])
                    .collect();
                json!({ "n": i, "s": s })
            })
            .collect();
        let mut out: Vec<u8> = Vec::new();
        write_json(&mut out, &v).unwrap();
        assert!(out.len() > 4 * 64 * 1024);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\n", json_text(&v))
        );
    }

    /// A UTF-8 sequence cut between two writes is escaped or passed whole.
    #[test]
    fn safe_json_holds_a_sequence_cut_between_writes() {
        use std::io::Write;
        let text = "x\u{202e}y é 😀 \u{9b}";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut out: Vec<u8> = Vec::new();
            let mut sink = SafeJson {
                inner: &mut out,
                carry: Vec::new(),
            };
            sink.write_all(&bytes[..cut]).unwrap();
            sink.write_all(&bytes[cut..]).unwrap();
            sink.finish().unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "x\\u202ey é 😀 \\u009b",
                "cut at {cut}"
            );
        }
    }

    /// The word-at-a-time skip finds the same first byte as a plain scan,
    /// wherever it sits and whatever ASCII (DEL and `~` included) is around.
    #[test]
    fn first_lead_agrees_with_a_plain_scan() {
        let plain = |b: &[u8]| {
            b.iter()
                .position(|b| matches!(b, 0x7f | 0xc2 | 0xd8 | 0xe2))
        };
        for special in [0x7f_u8, 0x7e, 0xc2, 0xd8, 0xe2, 0xff, 0x80, 0xc3] {
            for len in 0..24 {
                for at in 0..=len {
                    let mut b: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    if at < len {
                        b[at] = special;
                    }
                    assert_eq!(first_lead(&b), plain(&b), "{special:#x} at {at} of {len}");
                }
            }
        }
    }
}
