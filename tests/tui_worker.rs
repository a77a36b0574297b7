//! The worker runs effects through the inbox use cases on memory adapters:
//! synchronously with `execute` (no threads), and once on its own thread to
//! show the factory builds the backend there and messages come back.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;
mod tui_support;

use rsvp::domain::invite::PartStat;
use rsvp::domain::ports::{CalendarStore, Outbox, TransportError};
use rsvp::tui::log::Log;
use rsvp::tui::state::{Level, State};
use rsvp::tui::update::{self, Delivery, Effect, Msg};
use rsvp::tui::worker::{self, Backend, Mark, Worker};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tui_support::*;

fn backend(shared: &Shared, source: &Fixtures) -> Backend {
    Backend {
        ports: Box::new(shared.clone()),
        source: Box::new(source.clone()),
    }
}

/// Run `effect` and return every message it posts.
fn run(b: &mut Backend, effect: Effect) -> Vec<Msg> {
    let mut out = Vec::new();
    worker::execute(b, effect, &mut |m| out.push(m));
    out
}

/// Drive the loop without threads: effects from `update` go to `execute`,
/// messages back to `update`, until nothing is left.
fn settle(state: &mut State, b: &mut Backend, mut effects: Vec<Effect>) {
    for _ in 0..20 {
        if effects.is_empty() {
            return;
        }
        let mut next = Vec::new();
        for e in effects {
            for m in run(b, e) {
                next.extend(update::update(state, m));
            }
        }
        effects = next;
    }
    panic!("effects did not settle");
}

/// R9.13 through the TUI: `a` sends the REPLY, the calendar holds the answer,
/// the message is marked, and the refreshed list no longer shows it pending.
#[test]
fn r9_13_accept_sends_stores_marks_and_refreshes() {
    let shared = Shared(Arc::new(memenv()));
    let source = Fixtures::default();
    let mut b = backend(&shared, &source);
    let mut s = state_with(rows(&shared.0));
    let effects = keys(&mut s, "a");
    settle(&mut s, &mut b, effects);

    let sent = shared.0.transport.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.to, ["priya@example.com"]);
    let parts = rsvp::domain::extract::extract(&sent[0].1).unwrap().parts;
    let ics = &parts.first().expect("a calendar part").text;
    assert!(ics.contains("METHOD:REPLY"), "{ics}");
    assert!(
        ics.contains("PARTSTAT=ACCEPTED:mailto:dana@example.org"),
        "{ics}"
    );
    let stored = shared
        .0
        .store
        .find_by_uid("5k2l9q8m7n6b5v4c3x2z1a0s9d@google.com")
        .unwrap()
        .expect("the event is in the calendar");
    assert!(String::from_utf8_lossy(&stored.data).contains("PARTSTAT=ACCEPTED"));
    assert_eq!(
        *source.marks.lock().unwrap(),
        [(
            "google-new.eml".to_string(),
            Mark::Answered(PartStat::Accepted)
        )]
    );
    assert!(s.busy.is_empty());
    let st = s.status.clone().unwrap();
    assert_eq!(st.level, Level::Info);
    assert_eq!(
        st.text,
        "accepted \"Quarterly planning\": reply sent to priya@example.com"
    );
    assert!(
        s.visible()
            .iter()
            .all(|&i| s.rows[i].key != "google-new.eml"),
        "answered: no longer pending"
    );
    let effects = keys(&mut s, "p");
    settle(&mut s, &mut b, effects);
    let row = s.row("google-new.eml").expect("listed with everything");
    assert_eq!(row.status.as_str(), "duplicate");
    assert_eq!(row.partstat, Some(PartStat::Accepted));
}

/// A failed send leaves the reply queued and says why (R9.13); `R` delivers
/// it once the server is back.
#[test]
fn r9_13_failed_send_is_queued_and_r_delivers_it() {
    let shared = Shared(Arc::new(memenv()));
    let source = Fixtures::default();
    let mut b = backend(&shared, &source);
    shared.0.transport.fail_next(
        TransportError::Connection {
            server: "smtp.example.org:587".into(),
            message: "Connection refused".into(),
        },
        1,
    );
    let mut s = state_with(rows(&shared.0));
    let effects = keys(&mut s, "j a");
    let target = match &effects[..] {
        [Effect::Respond { target, .. }] => target.clone(),
        other => panic!("{other:?}"),
    };
    let msgs = run(&mut b, effects[0].clone());
    match &msgs[..] {
        [Msg::Answered { result: Ok(a), .. }] => assert_eq!(
            a.delivery,
            Delivery::Queued {
                reason: "cannot connect to smtp.example.org:587: Connection refused".into()
            }
        ),
        other => panic!("{other:?}"),
    }
    for m in msgs {
        let _ = update::update(&mut s, m);
    }
    let st = s.status.clone().unwrap();
    assert_eq!(st.level, Level::Error);
    assert!(st.text.contains("Connection refused"), "{}", st.text);
    assert_eq!(
        shared.0.outbox.pending().unwrap().len(),
        1,
        "the reply stays queued"
    );
    assert!(shared.0.transport.sent().is_empty());
    assert_eq!(target.key, "outlook-reschedule.eml");

    let effects = keys(&mut s, "R");
    settle(&mut s, &mut b, effects);
    assert_eq!(shared.0.transport.sent().len(), 1);
    assert!(shared.0.outbox.pending().unwrap().is_empty());
    assert_eq!(s.status.clone().unwrap().text, "sent 1 queued reply");
}

/// R4.8: the engine's refusal comes back as an error, nothing is sent.
#[test]
fn r4_8_refused_answer_is_an_error_and_sends_nothing() {
    let shared = Shared(Arc::new(memenv()));
    let source = Fixtures::default();
    let mut b = backend(&shared, &source);
    let row = row_for(&shared.0, "thunderbird-cancel.eml");
    let msgs = run(
        &mut b,
        Effect::Respond {
            target: rsvp::tui::update::Target {
                key: row.key.clone(),
                path: row.path.clone(),
                summary: row.summary.clone(),
            },
            partstat: PartStat::Accepted,
            comment: None,
            instance: None,
        },
    );
    assert!(matches!(
        &msgs[..],
        [Msg::Answered { result: Err(e), .. }] if e == "a cancellation needs no answer (R4.8)"
    ));
    assert!(shared.0.transport.sent().is_empty());
    assert!(source.marks.lock().unwrap().is_empty());
}

/// `c` on a cancellation marks the stored event cancelled (R4.2).
#[test]
fn apply_cancellation_updates_the_calendar() {
    let shared = Shared(Arc::new(memenv()));
    let source = Fixtures::default();
    let mut b = backend(&shared, &source);
    let mut s = state_with(rows(&shared.0));
    let _ = keys(&mut s, "G k");
    assert_eq!(s.selected_row().unwrap().key, "thunderbird-cancel.eml");
    let effects = keys(&mut s, "c");
    settle(&mut s, &mut b, effects);
    let stored = shared.0.store.get("book-club.ics").unwrap();
    assert!(String::from_utf8_lossy(&stored.data).contains("STATUS:CANCELLED"));
    assert_eq!(
        s.status.clone().unwrap().text,
        "\"Book club: The Left Hand of Darkness\": calendar updated"
    );
    assert_eq!(
        *source.marks.lock().unwrap(),
        [("thunderbird-cancel.eml".to_string(), Mark::Applied)]
    );
    assert!(
        shared.0.transport.sent().is_empty(),
        "applying sends nothing"
    );
}

#[test]
fn a_closure_is_a_data_source() {
    let shared = Shared(Arc::new(memenv()));
    let mut b = Backend {
        ports: Box::new(shared.clone()),
        source: Box::new(|env: &rsvp::inbox::Env<'_>, all: bool| {
            Ok(if all {
                vec![row_in(env, "google-new.eml")]
            } else {
                Vec::new()
            })
        }),
    };
    match &run(&mut b, Effect::Refresh { all: true })[..] {
        [Msg::Rows(Ok(rows))] => assert_eq!(rows.len(), 1),
        other => panic!("{other:?}"),
    }
    // The default reindex has nothing to do and says so with no summary.
    assert!(matches!(
        &run(&mut b, Effect::Reindex)[..],
        [Msg::Indexed(Ok(None))]
    ));
}

#[test]
fn unreadable_message_is_an_error_naming_the_file() {
    let shared = Shared(Arc::new(memenv()));
    let mut b = backend(&shared, &Fixtures::default());
    let msgs = run(
        &mut b,
        Effect::Apply {
            target: rsvp::tui::update::Target {
                key: "gone".into(),
                path: "/nonexistent/rsvp/gone.eml".into(),
                summary: "Gone".into(),
            },
        },
    );
    assert!(
        matches!(
            &msgs[..],
            [Msg::Applied { result: Err(e), .. }] if e.starts_with("cannot read message /nonexistent/rsvp/gone.eml")
        ),
        "{msgs:?}"
    );
}

fn recv_until(rx: &mpsc::Receiver<Msg>, want: impl Fn(&Msg) -> bool) -> Msg {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) if want(&m) => return m,
            Ok(_) => continue,
            Err(e) => panic!("no message from the worker: {e}"),
        }
    }
}

/// The factory runs on the worker thread; effects go in, messages come out,
/// and shutdown waits for the thread.
#[test]
fn worker_thread_builds_its_backend_and_posts_messages() {
    let shared = Shared(Arc::new(memenv()));
    let for_thread = shared.clone();
    let main_thread = std::thread::current().id();
    let (tx, rx) = mpsc::channel();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("rsvp.log");
    let worker = Worker::spawn(
        Box::new(move || {
            assert_ne!(std::thread::current().id(), main_thread);
            Ok(Backend {
                ports: Box::new(for_thread),
                source: Box::new(Fixtures::default()),
            })
        }),
        move |m| {
            let _ = tx.send(m);
        },
        Arc::new(Log::open(Some(&log_path))),
    )
    .unwrap();
    worker.send(Effect::Refresh { all: false }).unwrap();
    match recv_until(&rx, |m| matches!(m, Msg::Rows(_))) {
        Msg::Rows(Ok(rows)) => assert_eq!(rows.len(), 6),
        other => panic!("{other:?}"),
    }
    let row = row_for(&shared.0, "google-new.eml");
    worker
        .send(Effect::Respond {
            target: rsvp::tui::update::Target {
                key: row.key,
                path: row.path,
                summary: row.summary,
            },
            partstat: PartStat::Tentative,
            comment: Some("might be late".into()),
            instance: None,
        })
        .unwrap();
    match recv_until(&rx, |m| matches!(m, Msg::Answered { .. })) {
        Msg::Answered { result: Ok(a), .. } => {
            assert!(matches!(a.delivery, Delivery::Sent { .. }))
        }
        other => panic!("{other:?}"),
    }
    assert!(worker.shutdown(Duration::from_secs(20)));
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("debug effect refresh all=false"), "{log}");
    assert!(log.contains("info answered "), "{log}");
    assert!(
        !log.contains("might be late"),
        "no message content in the log"
    );
}

#[test]
fn a_failing_factory_reports_worker_gone() {
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(
        Box::new(|| Err("calendar /nowhere: no such directory".to_string())),
        move |m| {
            let _ = tx.send(m);
        },
        Arc::new(Log::off()),
    )
    .unwrap();
    match recv_until(&rx, |_| true) {
        Msg::WorkerGone(e) => assert_eq!(e, "cannot start: calendar /nowhere: no such directory"),
        other => panic!("{other:?}"),
    }
    assert!(worker.shutdown(Duration::from_secs(20)));
}

/// The occurrence chosen with `i` reaches the engine in a form it reads:
/// the REPLY carries that RECURRENCE-ID (R5.3 style per-instance answer).
#[test]
fn answering_one_occurrence_replies_for_that_recurrence_id() {
    let shared = Shared(Arc::new(memenv()));
    let source = Fixtures::default();
    let mut b = backend(&shared, &source);
    let mut s = state_with(rows(&shared.0));
    let _ = keys(&mut s, "j j");
    assert_eq!(s.selected_row().unwrap().key, "apple-recurring.eml");
    let _ = keys(&mut s, "i j j j Enter");
    let effects = keys(&mut s, "d");
    assert!(
        matches!(
            &effects[..],
            [Effect::Respond { instance: Some(i), .. }] if i == "TZID=Europe/Berlin:20250115T093000"
        ),
        "{effects:?}"
    );
    settle(&mut s, &mut b, effects);
    let sent = shared.0.transport.sent();
    assert_eq!(sent.len(), 1, "{:?}", s.status);
    let parts = rsvp::domain::extract::extract(&sent[0].1).unwrap().parts;
    let ics = &parts[0].text;
    assert!(
        ics.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250115T093000"),
        "{ics}"
    );
    assert!(ics.contains("PARTSTAT=DECLINED"), "{ics}");
}

/// The fixture messages as a mail source shared with the test.
struct SharedSource(Arc<rsvp::adapters::memory::MemorySource>);

impl rsvp::domain::ports::InviteSource for SharedSource {
    fn candidates(
        &self,
    ) -> Result<Vec<rsvp::domain::ports::Candidate>, rsvp::domain::ports::SourceError> {
        self.0.candidates()
    }
    fn read(
        &self,
        c: &rsvp::domain::ports::Candidate,
    ) -> Result<Vec<u8>, rsvp::domain::ports::SourceError> {
        self.0.read(c)
    }
    fn tag(
        &self,
        c: &rsvp::domain::ports::Candidate,
        add: &[&str],
        remove: &[&str],
    ) -> Result<(), rsvp::domain::ports::SourceError> {
        self.0.tag(c, add, remove)
    }
}

/// The real listing behind the TUI: `inbox::list` computes the overlap with
/// the dentist, and answering tags the message (+rsvp/accepted -rsvp/pending).
#[test]
fn listing_source_lists_with_conflicts_and_tags_what_was_done() {
    use rsvp::domain::ports::InviteSource;
    let shared = Shared(Arc::new(memenv()));
    let mail = Arc::new(rsvp::adapters::memory::MemorySource::from_dir(&fixture("")).unwrap());
    let path_of = |name: &str| fixture(name).display().to_string();
    mail.tag(
        &mail
            .candidates()
            .unwrap()
            .into_iter()
            .find(|c| c.path == path_of("google-new.eml"))
            .unwrap(),
        &["rsvp/pending"],
        &[],
    )
    .unwrap();
    let mut b = Backend::new(
        shared.clone(),
        rsvp::tui::source::Listing::new(
            Box::new(SharedSource(mail.clone())),
            None,
            Box::new(|_| true),
        ),
    );
    let rows = match &run(&mut b, Effect::Refresh { all: false })[..] {
        [Msg::Rows(Ok(rows))] => rows.clone(),
        other => panic!("{other:?}"),
    };
    let titles: Vec<&str> = rows.iter().map(|r| r.summary.as_str()).collect();
    assert!(titles.contains(&"Quarterly planning"), "{titles:?}");
    assert!(
        !titles.contains(&"Budget review"),
        "outdated is not pending: {titles:?}"
    );
    let design = rows.iter().find(|r| r.summary == "Design review").unwrap();
    assert_eq!(design.conflicts.len(), 1, "{:?}", design.conflicts);
    assert_eq!(design.conflicts[0].summary, "Dentist");
    assert_eq!(design.key, path_of("google-conflict.eml"));

    let order: Vec<String> = rows.iter().map(|r| r.summary.clone()).collect();
    let mut s = state_with(rows);
    for _ in 0..order.len() {
        if s.selected_row().unwrap().summary == "Quarterly planning" {
            break;
        }
        let _ = keys(&mut s, "j");
    }
    assert_eq!(
        s.selected_row().unwrap().summary,
        "Quarterly planning",
        "{order:?}"
    );
    let effects = keys(&mut s, "a");
    settle(&mut s, &mut b, effects);
    assert_eq!(shared.0.transport.sent().len(), 1);
    let tags = mail.tags(&path_of("google-new.eml"));
    assert!(tags.contains(&"rsvp/accepted".to_string()), "{tags:?}");
    assert!(!tags.contains(&"rsvp/pending".to_string()), "{tags:?}");

    // Dismiss the next one: tagged, no reply.
    let effects = keys(&mut s, "x");
    settle(&mut s, &mut b, effects);
    let dismissed = s.dismissed.iter().next().expect("a dismissed row").clone();
    assert!(
        mail.tags(&dismissed)
            .contains(&"rsvp/dismissed".to_string())
    );
    assert_eq!(shared.0.transport.sent().len(), 1, "dismiss sends nothing");
}

#[test]
fn tags_for_each_mark() {
    use rsvp::tui::source::tags_for;
    assert_eq!(
        tags_for(Mark::Answered(PartStat::Declined)),
        (
            &["rsvp/declined"][..],
            &["rsvp/pending", "rsvp/accepted", "rsvp/tentative"][..]
        )
    );
    assert_eq!(
        tags_for(Mark::Applied),
        (&["rsvp/applied"][..], &["rsvp/pending"][..])
    );
    assert_eq!(
        tags_for(Mark::Dismissed),
        (&["rsvp/dismissed"][..], &["rsvp/pending"][..])
    );
}
