//! `rsvp outbox`: list, flush or drop the replies not yet accepted by the
//! mail server. Replies the server refused for good are listed apart and
//! never sent again; `drop` removes one.

use super::{Failure, Out, OutboxAction, exit, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::Inbox;

/// One outbox entry on one line: id, recipients, answer, UID, then `tail`.
fn entry_line(e: &crate::domain::ports::OutboxEntry, tail: &str) -> String {
    format!(
        "{}  {}  {} {}{tail}\n",
        e.id,
        e.envelope.to.join(","),
        e.key.partstat,
        terminal_line(&e.key.uid),
    )
}

pub fn run_outbox(
    inbox: &mut Inbox,
    action: OutboxAction,
    id: Option<&str>,
    out: Out<'_>,
) -> Result<u8, Failure> {
    match action {
        OutboxAction::List => {
            let pending = inbox.queued()?;
            let failed = inbox.refused()?;
            let unfinished = inbox.unfinished()?;
            for e in &unfinished {
                let note = "  UNFINISHED: rsvp stopped before the calendar was written; answer again to send it";
                write_out(out, &entry_line(e, note))?;
            }
            if pending.is_empty() && failed.is_empty() && unfinished.is_empty() {
                write_out(out, "outbox is empty\n")?;
            }
            if !failed.is_empty() {
                write_out(
                    out,
                    "refused for good by the server (not sent again; rsvp outbox drop ID):\n",
                )?;
            }
            for e in &failed {
                let why = e.last_error.as_deref().unwrap_or("refused");
                write_out(
                    out,
                    &entry_line(e, &format!("  FAILED: {}", terminal_line(why))),
                )?;
            }
            if !failed.is_empty() && !pending.is_empty() {
                write_out(out, "queued:\n")?;
            }
            for e in &pending {
                let last = e
                    .last_error
                    .as_deref()
                    .map(|x| format!(" (last error: {})", terminal_line(x)))
                    .unwrap_or_default();
                write_out(out, &entry_line(e, &last))?;
            }
            Ok(exit::OK)
        }
        OutboxAction::Drop => {
            let id = id.unwrap_or_default();
            inbox.drop_queued(id)?;
            write_out(out, &format!("dropped {}\n", terminal_line(id)))?;
            Ok(exit::OK)
        }
        OutboxAction::Flush => {
            let results = inbox.flush()?;
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
                // Replies refused for good stay in the outbox, unsent:
                // "empty" would contradict `outbox list`.
                let refused = inbox.refused()?.len();
                if refused == 0 {
                    write_out(out, "outbox is empty\n")?;
                } else {
                    let note = crate::inbox::refused_stay_note(refused);
                    write_out(
                        out,
                        &format!("{note} (rsvp outbox list, rsvp outbox drop ID)\n"),
                    )?;
                }
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
