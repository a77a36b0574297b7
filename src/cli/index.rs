//! `rsvp index`: update the private notmuch index and print counts.

use super::{Failure, Out, exit, write_out};
use crate::domain::ports::IndexProgress;
use crate::domain::sanitize::terminal_line;
use crate::inbox::Inbox;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// `rsvp index`: run the indexer to the end; counts on stdout, a note on
/// stderr while another program holds the database's write lock. Waiting
/// for that lock is bounded by `wait`: past it, nothing was indexed and the
/// error says so (issue 8 item 7).
pub fn run_index(
    inbox: &mut Inbox,
    wait: Duration,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<u8, Failure> {
    let (Some(name), Some(events)) = (inbox.index_name(), inbox.start_reindex()) else {
        return Err(Failure::new(exit::CONFIG, "no mail index to update"));
    };
    let name = terminal_line(&name);
    let mut waiting_since: Option<Instant> = None;
    let counts = loop {
        let timeout = match waiting_since {
            Some(since) => wait.saturating_sub(since.elapsed()),
            None => Duration::from_secs(3600),
        };
        match events.recv_timeout(timeout) {
            Ok(IndexProgress::Waiting) => {
                if waiting_since.is_none() {
                    waiting_since = Some(Instant::now());
                    write_out(
                        err,
                        &format!(
                            "rsvp: waiting for the notmuch database {name}: another program is writing to it\n"
                        ),
                    )?;
                }
            }
            Ok(IndexProgress::Scanning(_)) => waiting_since = None,
            Ok(IndexProgress::Indexed(counts)) => break counts,
            Ok(IndexProgress::Failed(e)) => {
                return Err(Failure::new(exit::RUNTIME, terminal_line(&e.to_string())));
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(Failure::new(
                    exit::RUNTIME,
                    format!(
                        "the notmuch database {name} stayed locked by another program for {} s; nothing was indexed: try again later (or raise [mail] lock_timeout_seconds)",
                        wait.as_secs()
                    ),
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Failure::new(
                    exit::RUNTIME,
                    format!("indexing {name} stopped without a result"),
                ));
            }
        }
    };
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
