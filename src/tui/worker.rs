//! Runs effects off the UI thread through the [`Inbox`] and posts the
//! outcome back as a [`Msg`]. Never touches the terminal or the state.
//!
//! Ownership: some ports are not `Send` (notmuch handles), so the worker
//! does not receive an Inbox; it receives a [`Factory`], a `Send` closure
//! that runs once on the worker's own thread and builds the Inbox there.
//! Nothing built by the factory ever crosses a thread; only `Effect`s go in
//! and `Msg`s come out.
//!
//! Scheduling: answers, applies, dismissals and outbox retries run first,
//! in the order they came; refreshes coalesce (at most one waits, listing
//! what the latest asked for). Indexing new mail runs in the background (the
//! mail index works on its own thread) while the worker keeps taking jobs,
//! so an answer never waits behind indexing or a listing queued before it.
//! After painting the saved rows the worker waits [`PAINT_GRACE`] for a
//! key before it checks the rows; if none came within [`PRIME_DELAY`], it
//! indexes the calendar store meanwhile, so a first answer finds it ready.

use super::log::Log;
use super::state::Progress;
use super::update::{Answered, Delivery, Effect, Flushed, Msg, Target};
use crate::domain::invite::PartStat;
use crate::domain::ports::IndexProgress;
use crate::inbox::{Applied, Inbox, InboxError, ResponseRequest};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Builds the Inbox on the worker thread (see the module comment).
pub type Factory = Box<dyn FnOnce() -> Result<Inbox, String> + Send>;

/// How often the worker looks at a running index while it waits for jobs.
const INDEX_POLL: Duration = Duration::from_millis(20);

/// After painting the saved rows, how long the worker waits for a key
/// before it starts checking them (a listing it cannot interrupt): an
/// answer pressed on the first screen does not wait behind it.
pub const PAINT_GRACE: Duration = Duration::from_millis(250);

/// Within that grace, how long the worker waits for a key before it
/// indexes the calendar store for a first answer (about 15 ms at 20,000
/// files): a key pressed at once is answered without waiting for it (the
/// answer indexes the store itself); one pressed later finds it ready.
pub const PRIME_DELAY: Duration = Duration::from_millis(40);

/// Run one effect to completion. Progress and the outcome go to `post`.
/// Synchronous, so tests call it directly without threads. `Reindex` runs
/// to its end here; the worker thread runs it in the background instead.
pub fn execute(inbox: &mut Inbox, effect: Effect, post: &mut dyn FnMut(Msg)) {
    match effect {
        Effect::Paint { all } => {
            if let Some(listing) = inbox.saved(all) {
                post(Msg::Rows(Ok(listing)));
            }
        }
        Effect::Refresh { all } => post(Msg::Rows(inbox.list(all))),
        Effect::Detail { key } => {
            let result = inbox.item(&key).map(Box::new);
            post(Msg::Detail { key, result });
        }
        Effect::Reindex => {
            let result = inbox.reindex(&mut |event| {
                if let Some(p) = progress_of(event) {
                    post(Msg::Progress(p));
                }
            });
            post(Msg::Indexed(result.map(|c| c.and_then(summary))));
        }
        Effect::Respond {
            target,
            partstat,
            comment,
            instance,
            send,
        } => {
            let result = respond(
                inbox,
                &target,
                partstat,
                comment.as_deref(),
                instance.as_deref(),
                send,
            );
            post(Msg::Answered { target, result });
        }
        Effect::Apply { target } => {
            let result = apply(inbox, &target);
            post(Msg::Applied { target, result });
        }
        Effect::Dismiss { target } => {
            let result = inbox.dismiss(&target.key);
            post(Msg::Dismissed { target, result });
        }
        Effect::Undismiss { target } => {
            let result = inbox.undismiss(&target.key);
            post(Msg::Undismissed { target, result });
        }
        Effect::RetryOutbox => post(Msg::Flushed(flush(inbox))),
        Effect::DropRefused => post(Msg::DroppedRefused(drop_refused(inbox))),
        Effect::OpenMessage { .. } => post(Msg::Opened(Err(
            "the pager runs on the terminal, not in the background".to_string(),
        ))),
        // The terminal loop runs the editor; a worker that gets it says so.
        Effect::EditComment { .. } => post(Msg::Edited(Err(
            "the editor runs on the terminal, not in the background".to_string(),
        ))),
    }
}

/// The progress line for an indexing event.
fn progress_of(event: &IndexProgress) -> Option<Progress> {
    match event {
        IndexProgress::Waiting => Some(Progress::Waiting("the notmuch database".into())),
        IndexProgress::Scanning(c) => Some(Progress::Indexing {
            done: usize::try_from(c.scanned).unwrap_or(usize::MAX),
            total: None,
        }),
        IndexProgress::Indexed(_) | IndexProgress::Failed(_) => None,
    }
}

/// What the status line says after indexing, when anything changed.
fn summary(counts: crate::domain::ports::IndexCounts) -> Option<String> {
    (counts.added > 0 || counts.removed > 0).then(|| {
        format!(
            "new mail indexed: {} added, {} removed",
            counts.added, counts.removed
        )
    })
}

fn respond(
    inbox: &mut Inbox,
    target: &Target,
    partstat: PartStat,
    comment: Option<&str>,
    instance: Option<&str>,
    send: bool,
) -> Result<Answered, InboxError> {
    let req = ResponseRequest {
        partstat,
        comment,
        instance,
        dry_run: false,
        resend: false,
        no_send: !send,
    };
    let done = inbox.respond(&target.key, &req)?;
    let delivery = if done.server_scheduled {
        Delivery::ServerScheduled
    } else if done.not_mailed {
        Delivery::NotMailed
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
        changed_from: done.changed_from,
        delivery,
        warnings: done.warnings,
    })
}

fn apply(inbox: &mut Inbox, target: &Target) -> Result<String, InboxError> {
    // `c` is the user's explicit request: a message whose MIME method=
    // disagrees (R7.2) is applied as its calendar's METHOD says; the
    // detail said so before the key was pressed.
    let (_, applied, warnings) = inbox.apply(&target.key, true)?;
    let text = match applied {
        Applied::Stored { created: true, .. } => "added to the calendar".to_string(),
        Applied::Stored { created: false, .. } => "calendar updated".to_string(),
        Applied::Tombstone => "not in the calendar; the cancellation is remembered".to_string(),
        Applied::NothingToDo(why) if why.is_empty() => "nothing to do".to_string(),
        Applied::NothingToDo(why) => format!("nothing to do: {why}"),
    };
    Ok(match warnings.first() {
        Some(w) => format!("{text} ({w})"),
        None => text,
    })
}

/// Drop every reply the mail server refused for good.
fn drop_refused(inbox: &mut Inbox) -> Result<usize, InboxError> {
    let refused = inbox.refused()?;
    for e in &refused {
        inbox.drop_queued(&e.id)?;
    }
    Ok(refused.len())
}

fn flush(inbox: &mut Inbox) -> Result<Flushed, InboxError> {
    let deliveries = inbox.flush()?;
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
        Msg::Rows(Ok(l)) => format!(
            "info listed {} invitations ({} unreadable)",
            l.items.len(),
            l.unreadable.len()
        ),
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
        Msg::Undismissed { target, result } => match result {
            Ok(()) => format!("info dismissal undone {}", target.path),
            Err(e) => format!("error undoing the dismissal of {} failed: {e}", target.path),
        },
        _ => return None,
    })
}

/// The jobs waiting for the worker: answers and other actions in order,
/// then the selected row's details, then at most one refresh and one
/// reindex.
#[derive(Debug, Default)]
pub struct Queue {
    actions: VecDeque<Effect>,
    /// The row whose details are wanted (only the latest ask counts).
    detail: Option<String>,
    /// A refresh is wanted (listing everything when `Some(true)`).
    refresh: Option<bool>,
    reindex: bool,
}

impl Queue {
    /// Add a job; refreshes and reindexes coalesce.
    pub fn push(&mut self, effect: Effect) {
        match effect {
            Effect::Refresh { all } => self.refresh = Some(all),
            Effect::Detail { key } => self.detail = Some(key),
            Effect::Reindex => self.reindex = true,
            other => self.actions.push_back(other),
        }
    }

    /// The next job: an action first, then the details of the row the user
    /// looks at, then the refresh (the screen paints from the cache before
    /// anything else), then the reindex.
    pub fn pop(&mut self) -> Option<Effect> {
        if let Some(a) = self.actions.pop_front() {
            return Some(a);
        }
        if let Some(key) = self.detail.take() {
            return Some(Effect::Detail { key });
        }
        if let Some(all) = self.refresh.take() {
            return Some(Effect::Refresh { all });
        }
        std::mem::take(&mut self.reindex).then_some(Effect::Reindex)
    }

    /// Whether an action (not a listing, details or indexing) waits.
    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.detail.is_none() && self.refresh.is_none() && !self.reindex
    }
}

/// The worker thread and the queue of effects it runs.
pub struct Worker {
    jobs: Option<Sender<Effect>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the thread: it builds the Inbox with `factory`, then runs
    /// effects (see the module comment) and gives every message to `post`.
    pub fn spawn<P>(factory: Factory, mut post: P, log: Arc<Log>) -> std::io::Result<Worker>
    where
        P: FnMut(Msg) + Send + 'static,
    {
        let (tx, rx): (Sender<Effect>, Receiver<Effect>) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("rsvp-worker".to_string())
            .spawn(move || {
                let mut inbox = match factory() {
                    Ok(b) => b,
                    Err(e) => {
                        log.line(&format!("error worker could not start: {e}"));
                        post(Msg::WorkerGone(format!("cannot start: {e}")));
                        return;
                    }
                };
                let mut post = |msg: Msg| {
                    if let Some(line) = describe(&msg) {
                        log.line(&line);
                    }
                    post(msg);
                };
                run_jobs(&mut inbox, &rx, &log, &mut post);
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

/// The worker's loop: take every job that arrived, run the most urgent,
/// and follow a background index run, until the job channel closes.
pub fn run_jobs(inbox: &mut Inbox, rx: &Receiver<Effect>, log: &Log, post: &mut dyn FnMut(Msg)) {
    run_jobs_with(inbox, rx, log, post, PAINT_GRACE);
}

/// [`run_jobs`] with another [`PAINT_GRACE`]. The grace ends early with the
/// first action (the user acted: the listing may run).
pub fn run_jobs_with(
    inbox: &mut Inbox,
    rx: &Receiver<Effect>,
    log: &Log,
    post: &mut dyn FnMut(Msg),
    paint_grace: Duration,
) {
    let mut queue = Queue::default();
    let mut indexing: Option<Receiver<IndexProgress>> = None;
    let mut open = true;
    let mut grace: Option<Instant> = None;
    // When to index the calendar store, if no key came first.
    let mut prime_at: Option<Instant> = None;
    loop {
        // Everything that is already waiting, without blocking.
        loop {
            match rx.try_recv() {
                Ok(e) => queue.push(e),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        if let Some(events) = &indexing {
            let mut finished = false;
            loop {
                match events.try_recv() {
                    Ok(IndexProgress::Indexed(counts)) => {
                        post(Msg::Indexed(Ok(summary(counts))));
                        finished = true;
                    }
                    Ok(IndexProgress::Failed(e)) => {
                        post(Msg::Indexed(Err(e.into())));
                        finished = true;
                    }
                    Ok(other) => {
                        if let Some(p) = progress_of(&other) {
                            post(Msg::Progress(p));
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        if !finished {
                            post(Msg::Indexed(Err(InboxError::Other(
                                "indexing stopped without a result".into(),
                            ))));
                        }
                        finished = true;
                        break;
                    }
                }
            }
            if finished {
                indexing = None;
            }
        }
        if !open && (queue.is_empty() || indexing.is_some()) {
            // Quitting: the actions still queued are run; a running index
            // finishes on its own thread.
            while let Some(effect) = queue.pop() {
                if matches!(
                    effect,
                    Effect::Paint { .. }
                        | Effect::Refresh { .. }
                        | Effect::Detail { .. }
                        | Effect::Reindex
                ) {
                    continue;
                }
                execute(inbox, effect, post);
            }
            return;
        }
        if let Some(until) = grace {
            let now = Instant::now();
            if open && !queue.has_actions() {
                // While the user reads the first screen: a first answer
                // then finds the calendar store indexed.
                if prime_at.is_some_and(|at| at <= now) {
                    prime_at = None;
                    inbox.prepare_answers();
                    log.line("debug calendar store indexed for a first answer");
                    continue;
                }
                let next = prime_at.map_or(until, |at| at.min(until));
                let left = next.saturating_duration_since(now);
                if !left.is_zero() {
                    match rx.recv_timeout(left) {
                        Ok(e) => queue.push(e),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => open = false,
                    }
                    continue;
                }
            }
            grace = None;
            prime_at = None;
        }
        match queue.pop() {
            Some(Effect::Reindex) if indexing.is_some() => {
                // One run at a time; the running one sees the new mail too
                // or the next refresh after it does.
            }
            Some(Effect::Reindex) => match inbox.start_reindex() {
                Some(events) => {
                    log.line("debug effect reindex (background)");
                    indexing = Some(events);
                }
                None => post(Msg::Indexed(Ok(None))),
            },
            Some(effect) => {
                log.line(&format!("debug effect {}", effect_name(&effect)));
                let painting = matches!(effect, Effect::Paint { .. });
                let mut painted = false;
                execute(inbox, effect, &mut |m| {
                    painted = painting;
                    post(m);
                });
                if painted {
                    let now = Instant::now();
                    grace = Some(now + paint_grace);
                    prime_at = Some(now + PRIME_DELAY);
                }
            }
            None => {
                let wait = if indexing.is_some() {
                    INDEX_POLL
                } else {
                    Duration::from_secs(3600)
                };
                match rx.recv_timeout(wait) {
                    Ok(e) => queue.push(e),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => open = false,
                }
            }
        }
    }
}

fn effect_name(e: &Effect) -> String {
    match e {
        Effect::Paint { all } => format!("paint the saved rows all={all}"),
        Effect::Refresh { all } => format!("refresh all={all}"),
        Effect::Detail { key } => {
            format!("details of {}", crate::domain::sanitize::terminal_line(key))
        }
        Effect::Reindex => "reindex".to_string(),
        Effect::Respond {
            target, partstat, ..
        } => format!("respond {} {}", target.path, partstat.as_str()),
        Effect::Apply { target } => format!("apply {}", target.path),
        Effect::Dismiss { target } => format!("dismiss {}", target.path),
        Effect::RetryOutbox => "retry outbox".to_string(),
        Effect::DropRefused => "drop refused replies".to_string(),
        Effect::EditComment { .. } => "edit comment".to_string(),
        Effect::Undismiss { target } => format!("undismiss {}", target.path),
        Effect::OpenMessage { path, .. } => format!("open {path}"),
    }
}
