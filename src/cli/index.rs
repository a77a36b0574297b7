//! `rsvp index`: update the private notmuch index and print counts.

use super::{Failure, Out, exit, write_out};
use crate::domain::ports::{IndexProgress, MailIndex};
use crate::domain::sanitize::terminal_line;

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
