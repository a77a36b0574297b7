//! `rsvp list`, and the input of `show` and `reply` (`--message` or
//! `--id UID`): all through the one [`Inbox`].

use super::{Failure, Out, exit, read_input, write_json, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::{Inbox, Item, Listing};
use serde::Serialize;

/// Where `show` and `reply` take the message from.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    /// `--message PATH|-`.
    Message(&'a str),
    /// `--id UID`: the newest message for that UID in the mail source.
    Id(&'a str),
}

impl Input<'_> {
    /// The item of the session for this input.
    pub fn item(&self, inbox: &mut Inbox) -> Result<Item, Failure> {
        match *self {
            Input::Message(path) => {
                let raw = read_input(path)?;
                Ok(inbox.adhoc(raw, path)?)
            }
            Input::Id(uid) => {
                if !inbox.has_source() {
                    return Err(Failure::new(
                        exit::USAGE,
                        "--id needs a mail source: add [mail] or pass --maildir PATH",
                    ));
                }
                Ok(inbox.find_uid(uid)?)
            }
        }
    }
}

/// Width of the status column of the text listing.
const STATUS_WIDTH: usize = 12;
/// Longest summary and organizer shown on one line (in characters).
const SUMMARY_CHARS: usize = 60;
const ORGANIZER_CHARS: usize = 40;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One terminal-safe line: status, local date/time, summary, organizer, marks.
pub fn item_line(item: &Item) -> String {
    let when = if item.start_text.is_empty() {
        "(no date)".to_string()
    } else {
        terminal_line(&item.start_text)
    };
    let summary = if item.summary.is_empty() {
        "(no title)".to_string()
    } else {
        cut(&terminal_line(&item.summary), SUMMARY_CHARS)
    };
    // What the item is now comes before what the message said.
    let status = if item.queued {
        "queued"
    } else if item.dismissed {
        "dismissed"
    } else {
        item.status.as_str()
    };
    let mut line = format!(
        "{:<width$} {:<22} {summary}",
        status,
        when,
        width = STATUS_WIDTH
    );
    if let Some(org) = &item.organizer_display {
        line.push_str(&format!(
            " \u{2014} {}",
            cut(&terminal_line(org), ORGANIZER_CHARS)
        ));
    } else if item.status == crate::domain::classify::Status::Invalid {
        // Enough to find the message: who sent it and where it is.
        let from = item.sender.as_deref().unwrap_or("no sender");
        line.push_str(&format!(
            " \u{2014} from {} ({})",
            cut(&terminal_line(from), ORGANIZER_CHARS),
            terminal_line(&item.path)
        ));
    }
    match (&item.answers, item.partstat) {
        (Some(answers), _) => line.push_str(&format!(" ({answers})")),
        (None, Some(p)) => line.push_str(&format!(" ({})", p.human())),
        (None, None) => {}
    }
    for f in &item.flags {
        line.push_str(&format!(" !{}", f.as_str()));
    }
    if !item.conflicts.is_empty() {
        line.push_str(&format!(" !conflicts:{}", item.conflicts.len()));
    }
    if item.superseded > 0 {
        line.push_str(&format!(" +{} older", item.superseded));
    }
    line
}

/// The JSON object of one item (README contract of `list --json`).
/// One item of `rsvp list --json`, fields in the order of the contract's
/// sorted keys; serialized straight from the item, with no tree in between.
#[derive(Serialize)]
pub struct ItemJson<'a> {
    all_day: bool,
    answers: &'a Option<String>,
    can_apply: bool,
    can_reply: bool,
    cancel_scope: Option<&'static str>,
    conflicts: Vec<ConflictJson<'a>>,
    dismissed: bool,
    flags: Vec<&'static str>,
    message: &'a str,
    older: Vec<&'a str>,
    organizer: Option<OrganizerJson<'a>>,
    partstat: Option<&'static str>,
    past: bool,
    pending: bool,
    queued: bool,
    recurring: bool,
    sender: &'a Option<String>,
    start: Option<String>,
    start_text: &'a str,
    status: &'static str,
    summary: &'a str,
    superseded: usize,
    uid: Option<&'a str>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct OrganizerJson<'a> {
    address: &'a Option<String>,
    name: &'a Option<String>,
}

#[derive(Serialize)]
struct ConflictJson<'a> {
    end: String,
    start: String,
    summary: &'a str,
    uid: &'a str,
}

/// `t.to_rfc3339()` (`2027-01-04T07:30:00+00:00`), written digit by digit
/// for whole seconds of years 0–9999 (every time of a listing): a listing
/// prints tens of thousands of them.
fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(t.year()).unwrap_or(u32::MAX);
    if year > 9999 || t.nanosecond() != 0 {
        return t.to_rfc3339();
    }
    let mut out = String::with_capacity(25);
    let digit = |n: u32| char::from(b'0' + u8::try_from(n % 10).unwrap_or(0));
    for n in [year / 1000, year / 100, year / 10, year] {
        out.push(digit(n));
    }
    for (sep, n) in [
        ('-', t.month()),
        ('-', t.day()),
        ('T', t.hour()),
        (':', t.minute()),
        (':', t.second()),
    ] {
        out.push(sep);
        out.push(digit(n / 10));
        out.push(digit(n));
    }
    out.push_str("+00:00");
    out
}

/// The `list --json` object of one item.
pub fn item_json(item: &Item) -> ItemJson<'_> {
    ItemJson {
        all_day: item.all_day,
        answers: &item.answers,
        can_apply: item.apply_refusal.is_none(),
        can_reply: item.reply_refusal.is_none(),
        cancel_scope: item.status.cancel_scope(),
        conflicts: item
            .conflicts
            .iter()
            .map(|c| ConflictJson {
                end: rfc3339(c.end),
                start: rfc3339(c.start),
                summary: &c.summary,
                uid: &c.uid,
            })
            .collect(),
        dismissed: item.dismissed,
        flags: item.flags.iter().map(|f| f.as_str()).collect(),
        message: &item.message.path,
        older: item.older.iter().map(|c| c.path.as_str()).collect(),
        organizer: item.organizer_display.is_some().then_some(OrganizerJson {
            address: &item.organizer_address,
            name: &item.organizer_cn,
        }),
        partstat: item.partstat.map(|p| p.as_str()),
        past: item.past,
        pending: item.pending,
        queued: item.queued,
        recurring: item.recurring,
        sender: &item.sender,
        start: item.start.map(rfc3339),
        start_text: &item.start_text,
        status: item.status.as_str(),
        summary: &item.summary,
        superseded: item.superseded,
        uid: (!item.uid.is_empty()).then_some(item.uid.as_str()),
        warnings: &item.warnings,
    }
}

/// `rsvp list [--all] [--json]`.
pub fn run_list(
    inbox: &mut Inbox,
    all: bool,
    as_json: bool,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<u8, Failure> {
    // The rows are printed while the cache is saved.
    inbox.list_rows_then(all, |listing| show_list(listing, all, as_json, out, err))?
}

/// Print one listing (see [`run_list`]).
fn show_list(
    listing: &Listing,
    all: bool,
    as_json: bool,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<u8, Failure> {
    if let Some(note) = listing.unreadable_note() {
        write_out(err, &format!("rsvp: {note}\n"))?;
        for u in &listing.unreadable {
            write_out(err, &format!("rsvp:   {}: {}\n", u.path, u.reason))?;
        }
    }
    let items = &listing.items;
    if as_json {
        let all: Vec<ItemJson<'_>> = items.iter().map(item_json).collect();
        write_json(out, &all)?;
        return Ok(exit::OK);
    }
    if items.is_empty() {
        let what = if all {
            "no invitations found"
        } else {
            "no invitation needs you (rsvp list --all shows everything)"
        };
        write_out(err, &format!("rsvp: {what}\n"))?;
    }
    for item in items {
        write_out(out, &format!("{}\n", item_line(item)))?;
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_is_chronos() {
        use chrono::TimeZone;
        for t in [
            chrono::Utc.with_ymd_and_hms(2027, 1, 4, 7, 30, 0).unwrap(),
            chrono::Utc
                .with_ymd_and_hms(1999, 12, 31, 23, 59, 59)
                .unwrap(),
            chrono::Utc.with_ymd_and_hms(5, 2, 3, 4, 5, 6).unwrap(),
            chrono::Utc.with_ymd_and_hms(12345, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc.timestamp_opt(1_700_000_000, 5).unwrap(),
        ] {
            assert_eq!(super::rfc3339(t), t.to_rfc3339());
        }
    }
}
