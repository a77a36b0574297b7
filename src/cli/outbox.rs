//! `rsvp outbox`: list or flush the replies not yet accepted by the mail server.

use super::{Failure, Out, OutboxAction, exit, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::Inbox;

pub fn run_outbox(inbox: &mut Inbox, action: OutboxAction, out: Out<'_>) -> Result<u8, Failure> {
    match action {
        OutboxAction::List => {
            let pending = inbox.queued()?;
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
