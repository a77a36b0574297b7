//! `rsvp apply`: bring the calendar up to date without replying.

use super::{Failure, Out, exit, read_input, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::{self, Inbox};

pub fn run_apply(
    inbox: &mut Inbox,
    message: &str,
    force_method: bool,
    err: Out<'_>,
) -> Result<u8, Failure> {
    let raw = read_input(message)?;
    let item = inbox.adhoc(raw, message)?;
    if item.method_mismatch && !force_method {
        return Err(Failure::new(
            exit::REFUSED,
            format!(
                "{}; not applied: pass --force-method to apply it as its calendar's METHOD says",
                item.apply_refusal
                    .as_deref()
                    .unwrap_or("the MIME method= disagrees with the calendar")
            ),
        ));
    }
    let (shown, applied, warnings) = inbox.apply(&item.key, force_method)?;
    for w in &warnings {
        write_out(err, &format!("rsvp: warning: {}\n", terminal_line(w)))?;
    }
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
