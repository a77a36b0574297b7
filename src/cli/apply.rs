//! `rsvp apply`: bring the calendar up to date without replying.

use super::{Failure, Out, exit, read_input, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::{self, Env};

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
