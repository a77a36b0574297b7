//! Runs effects off the UI thread through the inbox use cases and posts the
//! outcome back as a [`Msg`]. Never touches the terminal or the state.
//!
//! Ownership: the use cases take an `Env<'_>` that *borrows* the ports, and
//! some ports are not `Send` (notmuch handles). So the worker does not
//! receive ports; it receives a [`Factory`], a `Send` closure that runs once
//! on the worker's own thread and builds a [`Backend`] there. The backend
//! owns the ports ([`Ports`] lends them as a fresh `Env` per job, with the
//! current time) and the [`DataSource`] (the mail index + listing). Nothing
//! built by the factory ever crosses a thread; only `Effect`s go in and
//! `Msg`s come out.

use super::log::Log;
use super::state::{Progress, Row};
use super::update::{Answered, Delivery, Effect, Flushed, Msg, Target};
use crate::domain::invite::PartStat;
use crate::inbox::{self, Applied, Env, ResponseRequest};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Owns the adapters and lends them to the use cases.
pub trait Ports {
    /// The use-case environment for one job (fresh `now`).
    fn env(&self) -> Env<'_>;
}

/// What was done with a message, for the mail index to record (tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Answered(PartStat),
    Applied,
    Dismissed,
}

/// Where the rows come from: the mail index and the listing use case (or
/// fixtures in tests and the demo). Runs on the worker thread only.
pub trait DataSource {
    /// The invitations as rows: pending ones, or everything when `all`.
    fn rows(&mut self, env: &Env<'_>, all: bool) -> Result<Vec<Row>, String>;

    /// The raw message of `target`. Default: read its file.
    fn read(&mut self, target: &Target) -> Result<Vec<u8>, String> {
        std::fs::read(&target.path).map_err(|e| format!("cannot read message {}: {e}", target.path))
    }

    /// Index new mail, reporting progress; returns a summary for the status
    /// line. Default: there is no index to update.
    fn reindex(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<Option<String>, String> {
        let _ = progress;
        Ok(None)
    }

    /// Record what was done with a message (notmuch tags). Default: nothing.
    fn mark(&mut self, target: &Target, mark: Mark) -> Result<(), String> {
        let _ = (target, mark);
        Ok(())
    }
}

/// A closure listing the rows is a data source with no index and no tags.
impl<F> DataSource for F
where
    F: FnMut(&Env<'_>, bool) -> Result<Vec<Row>, String>,
{
    fn rows(&mut self, env: &Env<'_>, all: bool) -> Result<Vec<Row>, String> {
        self(env, all)
    }
}

/// Everything the worker works with; built on the worker thread.
pub struct Backend {
    pub ports: Box<dyn Ports>,
    pub source: Box<dyn DataSource>,
}

impl Backend {
    /// A backend from owned ports and a data source (a closure
    /// `|env, all| -> Result<Vec<Row>, String>` will do).
    pub fn new(ports: impl Ports + 'static, source: impl DataSource + 'static) -> Backend {
        Backend {
            ports: Box::new(ports),
            source: Box::new(source),
        }
    }
}

/// Builds the backend on the worker thread (see the module comment).
pub type Factory = Box<dyn FnOnce() -> Result<Backend, String> + Send>;

/// Run one effect to completion. Progress and the outcome go to `post`.
/// Synchronous, so tests call it directly without threads.
pub fn execute(backend: &mut Backend, effect: Effect, post: &mut dyn FnMut(Msg)) {
    let env = backend.ports.env();
    let source = &mut backend.source;
    match effect {
        Effect::Refresh { all } => post(Msg::Rows(source.rows(&env, all))),
        Effect::Reindex => {
            let result = source.reindex(&mut |p| post(Msg::Progress(p)));
            post(Msg::Indexed(result));
        }
        Effect::Respond {
            target,
            partstat,
            comment,
            instance,
        } => {
            let result = respond(
                &env,
                source.as_mut(),
                &target,
                partstat,
                comment.as_deref(),
                instance.as_deref(),
            );
            post(Msg::Answered { target, result });
        }
        Effect::Apply { target } => {
            let result = apply(&env, source.as_mut(), &target);
            post(Msg::Applied { target, result });
        }
        Effect::Dismiss { target } => {
            let result = source.mark(&target, Mark::Dismissed);
            post(Msg::Dismissed { target, result });
        }
        Effect::RetryOutbox => post(Msg::Flushed(flush(&env))),
        // The terminal loop runs the editor; a worker that gets it says so.
        Effect::EditComment { .. } => post(Msg::Edited(Err(
            "the editor runs on the terminal, not in the background".to_string(),
        ))),
    }
}

fn respond(
    env: &Env<'_>,
    source: &mut dyn DataSource,
    target: &Target,
    partstat: PartStat,
    comment: Option<&str>,
    instance: Option<&str>,
) -> Result<Answered, String> {
    let raw = source.read(target)?;
    let req = ResponseRequest {
        partstat,
        comment,
        instance,
        dry_run: false,
        resend: false,
    };
    let done = inbox::respond(env, &raw, &req).map_err(|e| e.to_string())?;
    let mut warnings = done.warnings.clone();
    // The calendar holds the answer once `href` is set (R9.13): record it
    // even if sending failed, since the reply is queued and will go out.
    if (done.href.is_some() || done.already_sent)
        && let Err(e) = source.mark(target, Mark::Answered(partstat))
    {
        warnings.push(format!("could not tag the message: {e}"));
    }
    let delivery = if done.server_scheduled {
        Delivery::ServerScheduled
    } else if done.already_sent {
        Delivery::AlreadySent
    } else if done.sent {
        Delivery::Sent {
            to: done.envelope.to.clone(),
        }
    } else {
        Delivery::Queued {
            reason: done
                .send_error
                .map(|e| e.to_string())
                .unwrap_or_else(|| "not sent".to_string()),
        }
    };
    Ok(Answered {
        partstat,
        delivery,
        warnings,
    })
}

fn apply(env: &Env<'_>, source: &mut dyn DataSource, target: &Target) -> Result<String, String> {
    let raw = source.read(target)?;
    let (_, applied) = inbox::apply_message(env, &raw).map_err(|e| e.to_string())?;
    let text = match applied {
        Applied::Stored { created: true, .. } => "added to the calendar".to_string(),
        Applied::Stored { created: false, .. } => "calendar updated".to_string(),
        Applied::Tombstone => "not in the calendar; the cancellation is remembered".to_string(),
        Applied::NothingToDo(why) if why.is_empty() => "nothing to do".to_string(),
        Applied::NothingToDo(why) => format!("nothing to do: {why}"),
    };
    match source.mark(target, Mark::Applied) {
        Ok(()) => Ok(text),
        Err(e) => Ok(format!("{text} (could not tag the message: {e})")),
    }
}

fn flush(env: &Env<'_>) -> Result<Flushed, String> {
    let deliveries = inbox::flush(env).map_err(|e| e.to_string())?;
    let mut out = Flushed {
        sent: 0,
        failed: Vec::new(),
    };
    for d in deliveries {
        match d.result {
            Ok(()) => out.sent += 1,
            Err(e) => out.failed.push(format!("to {}: {e}", d.to.join(", "))),
        }
    }
    Ok(out)
}

/// A one-line description of a message for the log (no message bodies).
fn describe(msg: &Msg) -> Option<String> {
    Some(match msg {
        Msg::Rows(Ok(rows)) => format!("info listed {} invitations", rows.len()),
        Msg::Rows(Err(e)) => format!("error listing failed: {e}"),
        Msg::Indexed(Ok(s)) => format!("info indexed: {}", s.as_deref().unwrap_or("no changes")),
        Msg::Indexed(Err(e)) => format!("error indexing failed: {e}"),
        Msg::Answered { target, result } => match result {
            Ok(a) => format!(
                "info answered {} {}: {:?}",
                target.path,
                a.partstat.as_str(),
                a.delivery
            ),
            Err(e) => format!("error answering {} failed: {e}", target.path),
        },
        Msg::Applied { target, result } => match result {
            Ok(s) => format!("info applied {}: {s}", target.path),
            Err(e) => format!("error applying {} failed: {e}", target.path),
        },
        Msg::Dismissed { target, result } => match result {
            Ok(()) => format!("info dismissed {}", target.path),
            Err(e) => format!("error dismissing {} failed: {e}", target.path),
        },
        Msg::Flushed(Ok(f)) => format!(
            "info outbox: {} sent, {} still queued",
            f.sent,
            f.failed.len()
        ),
        Msg::Flushed(Err(e)) => format!("error outbox flush failed: {e}"),
        _ => return None,
    })
}

/// The worker thread and the queue of effects it runs, one at a time.
pub struct Worker {
    jobs: Option<Sender<Effect>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the thread: it builds the backend with `factory`, then runs
    /// effects in order and gives every message to `post`.
    pub fn spawn<P>(factory: Factory, mut post: P, log: Arc<Log>) -> std::io::Result<Worker>
    where
        P: FnMut(Msg) + Send + 'static,
    {
        let (tx, rx): (Sender<Effect>, Receiver<Effect>) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("rsvp-worker".to_string())
            .spawn(move || {
                let mut backend = match factory() {
                    Ok(b) => b,
                    Err(e) => {
                        log.line(&format!("error worker could not start: {e}"));
                        post(Msg::WorkerGone(format!("cannot start: {e}")));
                        return;
                    }
                };
                for effect in rx {
                    log.line(&format!("debug effect {}", effect_name(&effect)));
                    execute(&mut backend, effect, &mut |msg| {
                        if let Some(line) = describe(&msg) {
                            log.line(&line);
                        }
                        post(msg);
                    });
                }
            })?;
        Ok(Worker {
            jobs: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue an effect; fails when the worker has stopped.
    pub fn send(&self, effect: Effect) -> Result<(), String> {
        self.jobs
            .as_ref()
            .ok_or_else(|| "the background worker has stopped".to_string())?
            .send(effect)
            .map_err(|_| "the background worker has stopped".to_string())
    }

    /// Stop taking work and wait up to `wait` for the job in progress.
    /// Returns whether the thread finished.
    pub fn shutdown(mut self, wait: Duration) -> bool {
        self.jobs = None;
        let Some(handle) = self.handle.take() else {
            return true;
        };
        let deadline = Instant::now() + wait;
        while !handle.is_finished() {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        handle.join().is_ok()
    }
}

fn effect_name(e: &Effect) -> String {
    match e {
        Effect::Refresh { all } => format!("refresh all={all}"),
        Effect::Reindex => "reindex".to_string(),
        Effect::Respond {
            target, partstat, ..
        } => format!("respond {} {}", target.path, partstat.as_str()),
        Effect::Apply { target } => format!("apply {}", target.path),
        Effect::Dismiss { target } => format!("dismiss {}", target.path),
        Effect::RetryOutbox => "retry outbox".to_string(),
        Effect::EditComment { .. } => "edit comment".to_string(),
    }
}
