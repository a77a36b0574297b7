//! `rsvp render`: terminal-safe text of a message or .ics (a display filter).

use super::{Failure, Out, exit, present, read_input, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::{self, Inbox};

pub fn run_render(
    inbox: Option<&mut Inbox>,
    path: Option<&str>,
    clock: &crate::domain::diff::Clock,
    out: Out<'_>,
) -> Result<u8, Failure> {
    let raw = read_input(path.unwrap_or("-"))?;
    let text = match inbox {
        Some(inbox) => {
            let item = inbox.adhoc(raw, path.unwrap_or("-"))?;
            present::describe_shown(super::shown_of(&item)?, clock)
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
