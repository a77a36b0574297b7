//! `rsvp reply`: answer an invitation (outbox, calendar, send).

use super::{Answer, Failure, Input, Out, exit, write_out};
use crate::domain::sanitize::terminal_line;
use crate::inbox::{self, Inbox};

#[allow(clippy::too_many_arguments)]
pub fn run_reply(
    inbox: &mut Inbox,
    answer: Answer,
    input: &Input<'_>,
    comment: Option<&str>,
    instance: Option<&str>,
    dry_run: bool,
    resend: bool,
    no_send: bool,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<u8, Failure> {
    let item = input.item(inbox)?;
    let req = inbox::ResponseRequest {
        partstat: answer.partstat(),
        comment,
        instance,
        dry_run,
        resend,
        no_send,
    };
    let done = inbox.respond(&item.key, &req)?;
    if dry_run {
        out.write_all(&done.message)
            .map_err(|e| Failure::output(&e))?;
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
    if done.not_mailed {
        write_out(
            err,
            &format!(
                "rsvp: {} \"{summary}\": not mailed (--no-send); {to} was not told\n",
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
        Some(e) if e.is_permanent() => Err(Failure::new(
            exit::RUNTIME,
            format!(
                "reply to {to} refused for good: {}; not retried: see `rsvp outbox list`, then `rsvp outbox drop ID`",
                terminal_line(&e.to_string())
            ),
        )),
        Some(e) => Err(Failure::new(
            exit::RUNTIME,
            format!(
                "reply to {to} not sent: {}; it is queued: run `rsvp outbox flush` to retry",
                terminal_line(&e.to_string())
            ),
        )),
    }
}
