//! The worker runs effects through the inbox use cases on memory adapters:
//! synchronously with `execute` (no threads), and once on its own thread to
//! show the factory builds the backend there and messages come back.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;
mod tui_support;

use rsvp::adapters::memory::MemorySource;
use rsvp::domain::invite::PartStat;
use rsvp::domain::ports::{CalendarStore, Outbox, TransportError};
use rsvp::inbox::Inbox;
use rsvp::tui::log::Log;
use rsvp::tui::state::{Level, State};
use rsvp::tui::update::{self, Delivery, Effect, Msg, Target};
use rsvp::tui::worker::{self, Queue, Worker};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::memenv::MemEnv;
use tui_support::*;

/// The worker's inbox over `m` and `src`, after a first listing (as the
/// TUI's first refresh does) so it knows every row.
fn worker_inbox(m: &MemEnv, src: &Arc<MemorySource>) -> Inbox {
    let mut inbox = inbox(m, src);
    inbox.list(true).unwrap();
    inbox
}

/// Run `effect` and return every message it posts.
fn run(b: &mut Inbox, effect: Effect) -> Vec<Msg> {
    let mut out = Vec::new();
    worker::execute(b, effect, &mut |m| out.push(m));
    out
}

/// Drive the loop without threads: effects from `update` go to `execute`,
/// messages back to `update`, until nothing is left.
fn settle(state: &mut State, b: &mut Inbox, mut effects: Vec<Effect>) {
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

fn target_of(row: &rsvp::tui::state::Row) -> Target {
    Target {
        key: row.key.clone(),
        path: row.path.clone(),
        summary: row.summary.clone(),
    }
}

/// R9.13 through the TUI: `a` sends the REPLY, the calendar holds the answer,
/// the message is marked, and the refreshed list no longer shows it pending.
#[test]
fn r9_13_accept_sends_stores_marks_and_refreshes() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let mut s = state_with(rows(&m));
    let effects = keys(&mut s, "a");
    settle(&mut s, &mut b, effects);

    let sent = m.transport.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.to, ["priya@example.com"]);
    let parts = rsvp::domain::extract::extract(&sent[0].1).unwrap().parts;
    let ics = &parts.first().expect("a calendar part").text;
    assert!(ics.contains("METHOD:REPLY"), "{ics}");
    assert!(
        ics.contains("PARTSTAT=ACCEPTED:mailto:dana@example.org"),
        "{ics}"
    );
    let stored = m
        .store
        .find_by_uid("5k2l9q8m7n6b5v4c3x2z1a0s9d@google.com")
        .unwrap()
        .expect("the event is in the calendar");
    assert!(String::from_utf8_lossy(&stored.data).contains("PARTSTAT=ACCEPTED"));
    let tags = src.tags("google-new.eml");
    assert!(tags.contains(&"rsvp/accepted".to_string()), "{tags:?}");
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
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    m.transport.fail_next(
        TransportError::Connection {
            server: "smtp.example.org:587".into(),
            message: "Connection refused".into(),
        },
        1,
    );
    let mut s = state_with(rows(&m));
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
        m.outbox.pending().unwrap().len(),
        1,
        "the reply stays queued"
    );
    assert!(m.transport.sent().is_empty());
    assert_eq!(target.key, "outlook-reschedule.eml");

    let effects = keys(&mut s, "R");
    settle(&mut s, &mut b, effects);
    assert_eq!(m.transport.sent().len(), 1);
    assert!(m.outbox.pending().unwrap().is_empty());
    assert_eq!(s.status.clone().unwrap().text, "sent 1 queued reply");
}

/// R4.8: the engine's refusal comes back as an error, nothing is sent.
#[test]
fn r4_8_refused_answer_is_an_error_and_sends_nothing() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let row = row_for(&m, "thunderbird-cancel.eml");
    let msgs = run(
        &mut b,
        Effect::Respond {
            target: target_of(&row),
            partstat: PartStat::Accepted,
            comment: None,
            instance: None,
            send: true,
        },
    );
    assert!(matches!(
        &msgs[..],
        [Msg::Answered { result: Err(e), .. }] if e.to_string() == "a cancellation needs no answer"
    ));
    assert!(m.transport.sent().is_empty());
    assert!(src.tags("thunderbird-cancel.eml").is_empty());
}

/// `c` on a cancellation marks the stored event cancelled (R4.2).
#[test]
fn apply_cancellation_updates_the_calendar() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let mut s = state_with(rows(&m));
    let _ = keys(&mut s, "G k");
    assert_eq!(s.selected_row().unwrap().key, "thunderbird-cancel.eml");
    let effects = keys(&mut s, "c");
    settle(&mut s, &mut b, effects);
    let stored = m.store.as_ref().get("book-club.ics").unwrap();
    assert!(String::from_utf8_lossy(&stored.data).contains("STATUS:CANCELLED"));
    assert_eq!(
        s.status.clone().unwrap().text,
        "\"Book club: The Left Hand of Darkness\": calendar updated"
    );
    assert!(
        src.tags("thunderbird-cancel.eml")
            .contains(&"rsvp/applied".to_string())
    );
    assert!(m.transport.sent().is_empty(), "applying sends nothing");
}

/// With no mail index to update, a reindex says so with no summary.
#[test]
fn reindex_without_an_index_reports_nothing_new() {
    let m = memenv();
    let mut b = worker_inbox(&m, &source());
    assert!(matches!(
        &run(&mut b, Effect::Reindex)[..],
        [Msg::Indexed(Ok(None))]
    ));
}

/// A row the inbox never listed is an error naming it; a listed message
/// whose file vanished is an error naming the file.
#[test]
fn an_unknown_or_vanished_message_is_an_error_naming_it() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let gone = Target {
        key: "gone".into(),
        path: "/nonexistent/rsvp/gone.eml".into(),
        summary: "Gone".into(),
    };
    let msgs = run(&mut b, Effect::Apply { target: gone });
    assert!(
        matches!(
            &msgs[..],
            [Msg::Applied { result: Err(e), .. }] if e.to_string().contains("\"gone\" is not in the last listing")
                || e.to_string().contains("gone is not in the last listing")
        ),
        "{msgs:?}"
    );
    assert!(src.remove("google-new.eml"));
    let row = row_for(&m, "google-conflict.eml");
    assert!(src.remove("google-conflict.eml"));
    let msgs = run(
        &mut b,
        Effect::Apply {
            target: target_of(&row),
        },
    );
    assert!(
        matches!(
            &msgs[..],
            [Msg::Applied { result: Err(e), .. }] if e.to_string().contains("google-conflict.eml")
        ),
        "{msgs:?}"
    );
}

/// Answers run before a refresh queued earlier, and refreshes coalesce:
/// the worker never makes an answer wait behind a listing.
#[test]
fn answers_run_before_queued_refreshes_which_coalesce() {
    let row = Target {
        key: "k".into(),
        path: "p".into(),
        summary: "s".into(),
    };
    let respond = Effect::Respond {
        target: row.clone(),
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        send: true,
    };
    let mut q = Queue::default();
    q.push(Effect::Refresh { all: false });
    q.push(Effect::Reindex);
    q.push(Effect::Refresh { all: true });
    q.push(respond.clone());
    q.push(Effect::Dismiss {
        target: row.clone(),
    });
    assert_eq!(q.pop(), Some(respond));
    assert_eq!(q.pop(), Some(Effect::Dismiss { target: row }));
    assert_eq!(
        q.pop(),
        Some(Effect::Refresh { all: true }),
        "one refresh, the latest, before indexing"
    );
    assert_eq!(q.pop(), Some(Effect::Reindex));
    assert_eq!(q.pop(), None);
    assert!(q.is_empty());
}

/// Through the real worker loop: jobs that arrived together are taken
/// together; the answer runs before the refreshes sent before it, which
/// run once.
#[test]
fn the_worker_posts_the_answer_before_a_refresh_sent_first() {
    let m = memenv();
    let src = source();
    let row = row_for(&m, "google-new.eml");
    let (jobs, rx_jobs) = mpsc::channel();
    jobs.send(Effect::Refresh { all: true }).unwrap();
    jobs.send(Effect::Refresh { all: false }).unwrap();
    jobs.send(Effect::Respond {
        target: target_of(&row),
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        send: true,
    })
    .unwrap();
    drop(jobs);
    let mut b = worker_inbox(&m, &src);
    let mut seen = Vec::new();
    worker::run_jobs(&mut b, &rx_jobs, &Log::off(), &mut |msg| seen.push(msg));
    let kinds: Vec<&str> = seen
        .iter()
        .map(|msg| match msg {
            Msg::Answered { .. } => "answered",
            Msg::Rows(_) => "rows",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["answered", "rows"],
        "the answer first, then the two refreshes as one"
    );
    assert_eq!(m.transport.sent().len(), 1);
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
    let m = memenv();
    let src = source();
    let for_thread = (m.clone(), src.clone());
    let main_thread = std::thread::current().id();
    let (tx, rx) = mpsc::channel();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("rsvp.log");
    let worker = Worker::spawn(
        Box::new(move || {
            assert_ne!(std::thread::current().id(), main_thread);
            let (env, src) = for_thread;
            Ok(inbox(&env, &src))
        }),
        move |m| {
            let _ = tx.send(m);
        },
        Arc::new(Log::open(Some(&log_path))),
    )
    .unwrap();
    worker.send(Effect::Refresh { all: false }).unwrap();
    match recv_until(&rx, |m| matches!(m, Msg::Rows(_))) {
        Msg::Rows(Ok(listing)) => assert_eq!(listing.items.len(), 6),
        other => panic!("{other:?}"),
    }
    let row = row_for(&m, "google-new.eml");
    worker
        .send(Effect::Respond {
            target: target_of(&row),
            partstat: PartStat::Tentative,
            comment: Some("might be late".into()),
            instance: None,
            send: true,
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
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let mut s = state_with(rows(&m));
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
    let sent = m.transport.sent();
    assert_eq!(sent.len(), 1, "{:?}", s.status);
    let parts = rsvp::domain::extract::extract(&sent[0].1).unwrap().parts;
    let ics = &parts[0].text;
    assert!(
        ics.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250115T093000"),
        "{ics}"
    );
    assert!(ics.contains("PARTSTAT=DECLINED"), "{ics}");
}

/// The real listing behind the TUI: the inbox computes the overlap with
/// the dentist, and answering tags the message (+rsvp/accepted -rsvp/pending).
#[test]
fn listing_lists_with_conflicts_and_tags_what_was_done() {
    use rsvp::domain::ports::InviteSource;
    let m = memenv();
    let src = source();
    let c = src
        .candidates()
        .unwrap()
        .into_iter()
        .find(|c| c.path == "google-new.eml")
        .unwrap();
    src.tag(&c, &["rsvp/pending"], &[]).unwrap();
    let mut b = inbox(&m, &src);
    let rows = match &run(&mut b, Effect::Refresh { all: false })[..] {
        [Msg::Rows(Ok(listing))] => listing.items.clone(),
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
    assert_eq!(design.key, "google-conflict.eml");

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
    assert_eq!(m.transport.sent().len(), 1);
    let tags = src.tags("google-new.eml");
    assert!(tags.contains(&"rsvp/accepted".to_string()), "{tags:?}");
    assert!(!tags.contains(&"rsvp/pending".to_string()), "{tags:?}");

    // Dismiss the next one: tagged, no reply.
    let effects = keys(&mut s, "x");
    settle(&mut s, &mut b, effects);
    let dismissed = s.dismissed.iter().next().expect("a dismissed row").clone();
    assert!(src.tags(&dismissed).contains(&"rsvp/dismissed".to_string()));
    assert_eq!(m.transport.sent().len(), 1, "dismiss sends nothing");
}

/// Issue 9: an answered invitation is answered again from the all view; the
/// status line and the reply both say the answer changed.
#[test]
fn changing_an_answer_from_the_all_view_says_so_in_the_reply() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let mut s = state_with(rows(&m));
    let effects = keys(&mut s, "a");
    settle(&mut s, &mut b, effects);
    let effects = keys(&mut s, "p");
    settle(&mut s, &mut b, effects);
    let _ = keys(&mut s, "g");
    while s.selected_row().map(|r| r.key.as_str()) != Some("google-new.eml") {
        let before = s.selected;
        let _ = keys(&mut s, "j");
        assert_ne!(before, s.selected, "google-new.eml is listed");
    }
    let effects = keys(&mut s, "d");
    assert!(
        matches!(
            &effects[..],
            [Effect::Respond {
                partstat: PartStat::Declined,
                ..
            }]
        ),
        "{effects:?}"
    );
    settle(&mut s, &mut b, effects);
    let st = s.status.clone().unwrap();
    assert_eq!(
        st.text,
        "changed your answer to \"Quarterly planning\" from accepted to declined: reply sent to priya@example.com"
    );
    let sent = m.transport.sent();
    assert_eq!(sent.len(), 2);
    // The text part is quoted-printable: join its soft line breaks.
    let body = String::from_utf8_lossy(&sent[1].1)
        .replace("=\r\n", "")
        .replace("=\n", "");
    assert!(
        body.contains("has changed the answer to the invitation \"Quarterly planning\": now declined (before: accepted)"),
        "{body}"
    );
    assert_eq!(
        s.row("google-new.eml").unwrap().partstat,
        Some(PartStat::Declined)
    );
}

/// Issue 9: `x` then `u` takes the dismissal back: the tag goes, the row
/// comes back to the pending list.
#[test]
fn undo_dismiss_removes_the_tag_and_brings_the_row_back() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let mut s = state_with(rows(&m));
    let effects = keys(&mut s, "x");
    settle(&mut s, &mut b, effects);
    assert!(
        src.tags("google-new.eml")
            .contains(&"rsvp/dismissed".to_string())
    );
    assert_eq!(s.visible().len(), 5);
    let effects = keys(&mut s, "u");
    assert!(
        matches!(&effects[..], [Effect::Undismiss { target }] if target.key == "google-new.eml"),
        "{effects:?}"
    );
    settle(&mut s, &mut b, effects);
    assert!(
        !src.tags("google-new.eml")
            .contains(&"rsvp/dismissed".to_string())
    );
    assert_eq!(s.visible().len(), 6);
    assert_eq!(
        s.status.clone().unwrap().text,
        "\"Quarterly planning\" is back in the inbox"
    );
    let row = s.row("google-new.eml").unwrap();
    assert!(
        row.pending && !row.dismissed,
        "the refreshed listing agrees"
    );
}

/// Issue 9: `[calendar] declined = "drop"`: declining stores nothing (and
/// removes a stored copy); the message's tag keeps the item answered.
#[test]
fn declined_drop_keeps_no_copy_and_the_item_stays_answered() {
    let mut m = memenv();
    m.declined = rsvp::inbox::Declined::Drop;
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let req = |p| rsvp::inbox::ResponseRequest {
        partstat: p,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    };
    let uid = "5k2l9q8m7n6b5v4c3x2z1a0s9d@google.com";
    b.respond("google-new.eml", &req(PartStat::Accepted))
        .unwrap();
    assert!(
        m.store.find_by_uid(uid).unwrap().is_some(),
        "accepted: kept"
    );
    let done = b
        .respond("google-new.eml", &req(PartStat::Declined))
        .unwrap();
    assert!(done.sent, "the reply is mailed");
    assert_eq!(done.changed_from, Some(PartStat::Accepted));
    assert!(
        m.store.find_by_uid(uid).unwrap().is_none(),
        "declined: removed"
    );
    let row = b
        .list(true)
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.key == "google-new.eml")
        .unwrap();
    assert!(!row.pending, "answered, not NEW again");
    assert_eq!(row.partstat, Some(PartStat::Declined));
}

/// Issue 9: the default `declined = "transparent"` keeps the declined event
/// but not busy.
#[test]
fn a_declined_event_is_kept_transparent_by_default() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    let req = rsvp::inbox::ResponseRequest {
        partstat: PartStat::Declined,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    };
    b.respond("google-new.eml", &req).unwrap();
    let stored = m
        .store
        .find_by_uid("5k2l9q8m7n6b5v4c3x2z1a0s9d@google.com")
        .unwrap()
        .expect("kept");
    let text = String::from_utf8_lossy(&stored.data);
    assert!(text.contains("TRANSP:TRANSPARENT"), "{text}");
}

/// Issue 8 item 6: a reply the server refused for good is listed apart
/// (the listing names it) and the TUI's drop removes it from the outbox.
#[test]
fn a_refused_reply_is_listed_and_dropped() {
    let m = memenv();
    let src = source();
    let mut b = worker_inbox(&m, &src);
    m.transport.fail_next(
        TransportError::Permanent {
            server: "smtp.example.org:587".into(),
            message: "550 5.1.1 no such user".into(),
        },
        1,
    );
    let row = row_for(&m, "google-new.eml");
    let msgs = run(
        &mut b,
        Effect::Respond {
            target: target_of(&row),
            partstat: PartStat::Accepted,
            comment: None,
            instance: None,
            send: true,
        },
    );
    assert!(
        matches!(&msgs[..], [Msg::Answered { result: Ok(_), .. }]),
        "{msgs:?}"
    );
    match &run(&mut b, Effect::Refresh { all: true })[..] {
        [Msg::Rows(Ok(listing))] => assert_eq!(listing.refused.len(), 1, "{:?}", listing.refused),
        other => panic!("{other:?}"),
    }
    match &run(&mut b, Effect::DropRefused)[..] {
        [Msg::DroppedRefused(Ok(1))] => {}
        other => panic!("{other:?}"),
    }
    match &run(&mut b, Effect::Refresh { all: true })[..] {
        [Msg::Rows(Ok(listing))] => assert!(listing.refused.is_empty()),
        other => panic!("{other:?}"),
    }
}

/// Issue 6: the details of the row the user looks at come right after the
/// actions and before any refresh; only the latest ask counts.
#[test]
fn the_selected_rows_details_come_after_actions_and_before_refreshes() {
    let row = Target {
        key: "k".into(),
        path: "p".into(),
        summary: "s".into(),
    };
    let mut q = Queue::default();
    q.push(Effect::Refresh { all: false });
    q.push(Effect::Detail { key: "a".into() });
    q.push(Effect::Dismiss {
        target: row.clone(),
    });
    q.push(Effect::Detail { key: "b".into() });
    assert_eq!(q.pop(), Some(Effect::Dismiss { target: row }));
    assert_eq!(q.pop(), Some(Effect::Detail { key: "b".into() }));
    assert_eq!(q.pop(), Some(Effect::Refresh { all: false }));
    assert_eq!(q.pop(), None);
}

/// A listing served from the saved rows has no details; `Effect::Detail`
/// through `worker::execute` builds the row whole.
#[test]
fn a_detail_job_builds_the_row_whole() {
    let m = memenv();
    let src = source();
    let _ = inbox(&m, &src).list(true).unwrap();
    let mut session = inbox(&m, &src);
    let listed = session.list(true).unwrap().items;
    assert!(
        listed.iter().all(|r| r.shown.is_none()),
        "the second session is served from the saved rows"
    );
    let mut posted = Vec::new();
    worker::execute(
        &mut session,
        Effect::Detail {
            key: "google-new.eml".into(),
        },
        &mut |m| posted.push(m),
    );
    match posted.as_slice() {
        [
            Msg::Detail {
                key,
                result: Ok(item),
            },
        ] => {
            assert_eq!(key, "google-new.eml");
            assert!(item.shown.is_some() && item.agenda.is_some());
        }
        other => panic!("{other:?}"),
    }
}

/// Issue 6, "the TUI paints from the cache at once": `Effect::Paint` posts
/// the rows the last listing saved, unchecked, and nothing when there are
/// none; the refresh that follows checks them.
#[test]
fn paint_posts_the_saved_rows_then_the_refresh_checks_them() {
    let m = memenv();
    let src = source();
    let mut posted = Vec::new();
    worker::execute(
        &mut inbox(&m, &src),
        Effect::Paint { all: true },
        &mut |msg| posted.push(msg),
    );
    assert!(posted.is_empty(), "nothing saved yet: nothing painted");
    let listed = inbox(&m, &src).list(true).unwrap().items;
    let mut session = inbox(&m, &src);
    worker::execute(&mut session, Effect::Paint { all: true }, &mut |msg| {
        posted.push(msg)
    });
    match posted.as_slice() {
        [Msg::Rows(Ok(l))] => {
            let keys: Vec<&str> = l.items.iter().map(|i| i.key.as_str()).collect();
            let want: Vec<&str> = listed.iter().map(|i| i.key.as_str()).collect();
            assert_eq!(keys, want);
        }
        other => panic!("{other:?}"),
    }
    // A painted row can be answered: the session knows its messages.
    assert!(session.raw(&listed[0].key).is_ok());
}

/// A row answered, applied or dismissed is not painted again as it was at
/// the next start (the saved rows drop it; the listing rebuilds it).
#[test]
fn a_row_acted_on_is_not_painted_again_as_it_was() {
    let m = memenv();
    let src = source();
    let listed = inbox(&m, &src).list(true).unwrap().items;
    let key = listed[0].key.clone();
    let mut session = inbox(&m, &src);
    session.dismiss(&key).unwrap();
    let painted = inbox(&m, &src).saved(true).unwrap().items;
    assert_eq!(painted.len(), listed.len() - 1);
    assert!(painted.iter().all(|i| i.key != key));
    let mut next = inbox(&m, &src);
    let relisted = next.list(true).unwrap().items;
    assert_eq!(relisted.len(), listed.len(), "the listing has it again");
    assert_eq!(next.cache_counts().served_from_rows, 0);
}

/// Issue 6, "`a` right after launch": after painting the saved rows, while
/// the user reads them (no key within PRIME_DELAY), the worker indexes the
/// calendar store, so a first answer does not; a key pressed at once is
/// handled first and nothing more is indexed before it.
#[test]
fn painting_prepares_the_first_answer_unless_a_key_waits() {
    let m = memenv();
    let src = source();
    let _ = inbox(&m, &src).list(false).unwrap();
    let row = row_for(&m, "google-new.eml");
    for key_waiting in [false, true] {
        let (jobs, rx_jobs) = mpsc::channel();
        let (tx, rx) = mpsc::channel();
        let for_thread = (m.clone(), src.clone(), row.clone());
        // The key comes while the rows are being painted.
        let mut key = Some(jobs.clone());
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("rsvp.log");
        let log = Log::open(Some(&log_path));
        let thread = std::thread::spawn(move || {
            let (m, src, row) = for_thread;
            let mut b = worker_inbox(&m, &src);
            worker::run_jobs_with(
                &mut b,
                &rx_jobs,
                &log,
                &mut |msg| {
                    if let Some(jobs) = key.take()
                        && key_waiting
                    {
                        let target = target_of(&row);
                        jobs.send(Effect::Dismiss { target }).unwrap();
                    }
                    let _ = tx.send(msg);
                },
                Duration::from_secs(60),
            );
            b.answers_prepared()
        });
        jobs.send(Effect::Paint { all: false }).unwrap();
        assert!(
            matches!(recv_until(&rx, |_| true), Msg::Rows(Ok(_))),
            "painted"
        );
        let indexed = "calendar store indexed for a first answer";
        if key_waiting {
            // The key's outcome, then quit.
            let _ = recv_until(&rx, |_| true);
        } else {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !std::fs::read_to_string(&log_path)
                .unwrap_or_default()
                .contains(indexed)
            {
                assert!(Instant::now() < deadline, "never indexed");
                std::thread::yield_now();
            }
        }
        drop(jobs);
        let prepared = thread.join().unwrap();
        assert_eq!(prepared, !key_waiting, "key waiting: {key_waiting}");
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        assert_eq!(log.contains(indexed), !key_waiting, "{log}");
    }
}

/// Issue 6, "`a` right after launch": once the saved rows are painted, the
/// worker waits for a key before it checks them, so an answer pressed on
/// the first screen runs before the listing; the listing follows at once.
#[test]
fn an_answer_on_the_painted_rows_runs_before_they_are_checked() {
    let m = memenv();
    let src = source();
    // A listing saves the rows that the next start paints.
    let _ = inbox(&m, &src).list(false).unwrap();
    let row = row_for(&m, "google-new.eml");
    let (jobs, rx_jobs) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    let for_thread = (m.clone(), src.clone());
    let thread = std::thread::spawn(move || {
        let (m, src) = for_thread;
        let mut b = worker_inbox(&m, &src);
        // A long grace: the test does not race the clock; the answer ends it.
        worker::run_jobs_with(
            &mut b,
            &rx_jobs,
            &Log::off(),
            &mut |msg| {
                let _ = tx.send(msg);
            },
            Duration::from_secs(60),
        );
    });
    jobs.send(Effect::Paint { all: false }).unwrap();
    jobs.send(Effect::Refresh { all: false }).unwrap();
    let started = Instant::now();
    assert!(
        matches!(recv_until(&rx, |_| true), Msg::Rows(Ok(_))),
        "painted"
    );
    jobs.send(Effect::Respond {
        target: target_of(&row),
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        send: true,
    })
    .unwrap();
    let next = recv_until(&rx, |m| matches!(m, Msg::Answered { .. } | Msg::Rows(_)));
    assert!(
        matches!(next, Msg::Answered { result: Ok(_), .. }),
        "{next:?}"
    );
    assert!(
        matches!(recv_until(&rx, |_| true), Msg::Rows(Ok(_))),
        "then checked"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the answer ended the grace"
    );
    drop(jobs);
    thread.join().unwrap();
}
