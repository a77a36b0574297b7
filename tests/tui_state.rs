//! TUI state tests: key sequences into `update()`, asserting the state and
//! the effects it emits. No terminal, no threads (the issue's acceptance
//! "State tests"). Rows come from the fixture messages through `inbox::show`.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;
mod tui_support;

use rsvp::domain::classify::Status;
use rsvp::domain::invite::PartStat;
use rsvp::keymap::{Key, Keymap};
use rsvp::tui::state::{Busy, Focus, Level, Mode, Progress, State};
use rsvp::tui::update::{self, Answered, Delivery, Effect, Flushed, Msg, Target};
use tui_support::*;

fn loaded() -> State {
    state_with(rows(&memenv()))
}

fn selected(s: &State) -> &str {
    s.selected_row().map(|r| r.key.as_str()).unwrap_or("")
}

fn select(s: &mut State, name: &str) {
    let _ = keys(s, "g");
    for _ in 0..20 {
        if selected(s) == name {
            return;
        }
        let _ = keys(s, "j");
    }
    panic!("{name} not visible");
}

fn status(s: &State) -> (Level, String) {
    let st = s.status.as_ref().expect("a status message");
    (st.level, st.text.clone())
}

fn respond_target(effects: &[Effect]) -> Target {
    match effects {
        [Effect::Respond { target, .. }] => target.clone(),
        other => panic!("expected one Respond, got {other:?}"),
    }
}

fn sent(target: Target, partstat: PartStat) -> Msg {
    Msg::Answered {
        target,
        result: Ok(Answered {
            changed_from: None,
            partstat,
            delivery: Delivery::Sent {
                to: vec!["priya@example.com".into()],
            },
            warnings: Vec::new(),
        }),
    }
}

#[test]
fn fixtures_classify_as_the_screens_expect() {
    let rows = rows(&memenv());
    let got: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| (r.key.as_str(), r.status.as_str(), r.pending))
        .collect();
    assert_eq!(
        got,
        [
            ("google-new.eml", "new", true),
            ("outlook-reschedule.eml", "reschedule", true),
            ("apple-recurring.eml", "new", true),
            ("google-conflict.eml", "new", true),
            ("thunderbird-cancel.eml", "cancel", true),
            ("google-outdated.eml", "outdated", false),
            ("hostile.eml", "new", true),
        ]
    );
    // The stored answer shows, not the one in the organizer's new copy.
    assert_eq!(rows[1].partstat, Some(PartStat::Accepted));
    // R9.5: hostile text is made visible, never passed to the terminal.
    let hostile = &rows[6];
    assert!(!hostile.summary.contains('\u{1b}'), "{:?}", hostile.summary);
    assert!(
        hostile.summary.contains("<U+202E>"),
        "{:?}",
        hostile.summary
    );
    assert!(
        hostile
            .warnings
            .iter()
            .any(|w| w.contains("is not the organizer"))
    );
}

#[test]
fn opening_lists_what_is_indexed_then_indexes_in_the_background() {
    let mut s = State::new(Keymap::defaults(), clock());
    let effects = update::init(&mut s);
    assert_eq!(
        effects,
        [
            Effect::Paint { all: false },
            Effect::Refresh { all: false },
            Effect::Reindex
        ],
        "the saved rows at once, then checked, then new mail"
    );
    assert!(s.loading);
    assert_eq!(s.indexing, Some(Progress::Started));
    let _ = update::update(&mut s, Msg::Rows(Ok(listing(rows(&memenv())))));
    assert!(!s.loading);
    assert_eq!(s.visible().len(), 6, "the outdated one is not pending");
    let _ = update::update(
        &mut s,
        Msg::Progress(Progress::Waiting("the notmuch database".into())),
    );
    assert_eq!(
        s.indexing,
        Some(Progress::Waiting("the notmuch database".into()))
    );
    let effects = update::update(&mut s, Msg::Indexed(Ok(Some("2 new messages".into()))));
    assert_eq!(effects, [Effect::Refresh { all: false }]);
    assert_eq!(s.indexing, None);
    assert_eq!(status(&s), (Level::Info, "2 new messages".into()));
}

#[test]
fn movement_keys_stay_in_bounds() {
    let mut s = loaded();
    assert_eq!(selected(&s), "google-new.eml");
    let _ = keys(&mut s, "k Up");
    assert_eq!(selected(&s), "google-new.eml");
    let _ = keys(&mut s, "j Down");
    assert_eq!(selected(&s), "apple-recurring.eml");
    let _ = keys(&mut s, "G");
    assert_eq!(selected(&s), "hostile.eml");
    let _ = keys(&mut s, "j j");
    assert_eq!(selected(&s), "hostile.eml");
    let _ = keys(&mut s, "Home");
    assert_eq!(selected(&s), "google-new.eml");
}

#[test]
fn enter_focuses_the_detail_where_movement_scrolls() {
    let mut s = loaded();
    let _ = keys(&mut s, "Enter");
    assert_eq!(s.focus, Focus::Detail);
    let _ = keys(&mut s, "j j j k");
    assert_eq!(s.detail_scroll, 2);
    assert_eq!(selected(&s), "google-new.eml", "the selection did not move");
    let _ = keys(&mut s, "Esc");
    assert_eq!(s.focus, Focus::List);
    let _ = keys(&mut s, "j");
    assert_eq!(selected(&s), "outlook-reschedule.eml");
    assert_eq!(s.detail_scroll, 0, "a new selection starts at the top");
}

#[test]
fn accept_emits_respond_and_marks_the_row_sending() {
    let mut s = loaded();
    let effects = keys(&mut s, "a");
    assert_eq!(
        effects,
        [Effect::Respond {
            target: Target {
                key: "google-new.eml".into(),
                path: "google-new.eml".into(),
                summary: "Quarterly planning".into(),
            },
            partstat: PartStat::Accepted,
            comment: None,
            instance: None,
            send: true,
        }]
    );
    assert_eq!(
        s.busy.get("google-new.eml"),
        Some(&Busy::Sending(PartStat::Accepted))
    );
    // While it is in flight, the answer keys are refused, with the reason.
    assert_eq!(keys(&mut s, "d"), []);
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert!(text.contains("sending…"), "{text}");
    // Other rows stay usable: the screen never waits for the send.
    assert!(matches!(
        &keys(&mut s, "j t")[..],
        [Effect::Respond {
            partstat: PartStat::Tentative,
            ..
        }]
    ));
}

#[test]
fn a_sent_answer_reports_and_refreshes() {
    let mut s = loaded();
    let target = respond_target(&keys(&mut s, "d"));
    let effects = update::update(&mut s, sent(target, PartStat::Declined));
    assert_eq!(effects, [Effect::Refresh { all: false }]);
    assert!(s.busy.is_empty());
    assert_eq!(
        status(&s),
        (
            Level::Info,
            "declined \"Quarterly planning\": reply sent to priya@example.com".into()
        )
    );
}

#[test]
fn a_failed_answer_shows_the_reason_and_stays_answerable() {
    let mut s = loaded();
    let target = respond_target(&keys(&mut s, "a"));
    let effects = update::update(
        &mut s,
        Msg::Answered {
            target,
            result: Err(failure("calendar personal: disk full")),
        },
    );
    assert_eq!(effects, []);
    assert!(s.busy.is_empty());
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert_eq!(
        text,
        "could not answer \"Quarterly planning\": calendar personal: disk full"
    );
    assert_eq!(respond_target(&keys(&mut s, "a")).key, "google-new.eml");
}

#[test]
fn a_queued_reply_says_so_and_r_retries_the_outbox() {
    let mut s = loaded();
    let target = respond_target(&keys(&mut s, "a"));
    let _ = update::update(
        &mut s,
        Msg::Answered {
            target,
            result: Ok(Answered {
                changed_from: None,
                partstat: PartStat::Accepted,
                delivery: Delivery::Queued {
                    reason: "cannot connect to smtp.example.org: refused".into(),
                },
                warnings: Vec::new(),
            }),
        },
    );
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert!(
        text.starts_with("reply not sent: cannot connect to smtp.example.org: refused"),
        "{text}"
    );
    assert!(text.ends_with("stays queued; press R to retry"), "{text}");
    assert_eq!(keys(&mut s, "R"), [Effect::RetryOutbox]);
    assert!(s.flushing);
    assert_eq!(keys(&mut s, "R"), [], "one retry at a time");
    let effects = update::update(
        &mut s,
        Msg::Flushed(Ok(Flushed {
            sent: 1,
            failed: Vec::new(),
        })),
    );
    assert!(!s.flushing);
    // A reply sent: its item leaves the pending list with a refresh.
    assert!(
        matches!(effects[..], [Effect::Refresh { .. }]),
        "{effects:?}"
    );
    assert_eq!(status(&s), (Level::Info, "sent 1 queued reply".into()));
    let _ = keys(&mut s, "R");
    let _ = update::update(
        &mut s,
        Msg::Flushed(Ok(Flushed {
            sent: 1,
            failed: vec!["to a@example.com: temporary failure".into()],
        })),
    );
    assert_eq!(
        status(&s),
        (
            Level::Error,
            "sent 1 of 2 queued replies; 1 still queued: to a@example.com: temporary failure"
                .into()
        )
    );
}

/// R4.8: a cancellation needs no answer; the keys are refused with the
/// engine's reason, and `c` applies it instead.
#[test]
fn r4_8_cancel_refuses_answers_and_offers_apply() {
    let mut s = loaded();
    select(&mut s, "thunderbird-cancel.eml");
    let row = s.selected_row().unwrap().clone();
    assert_eq!(
        row.status,
        Status::Cancel(rsvp::domain::classify::CancelScope::Whole)
    );
    for action in [
        rsvp::keymap::Action::Accept,
        rsvp::keymap::Action::DeclineWithComment,
    ] {
        assert_eq!(
            s.refusal(&row, action).as_deref(),
            Some("a cancellation needs no answer")
        );
    }
    for k in ["a", "d", "t", "A", "D", "T", "i"] {
        assert_eq!(keys(&mut s, k), [], "{k}");
        assert_eq!(s.mode, Mode::Normal, "{k} opened no prompt");
    }
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert!(text.contains("a cancellation needs no answer"), "{text}");
    let effects = keys(&mut s, "c");
    assert!(
        matches!(&effects[..], [Effect::Apply { target }] if target.key == "thunderbird-cancel.eml")
    );
    assert_eq!(s.busy.get("thunderbird-cancel.eml"), Some(&Busy::Applying));
    let target = match &effects[0] {
        Effect::Apply { target } => target.clone(),
        _ => unreachable!(),
    };
    let effects = update::update(
        &mut s,
        Msg::Applied {
            target,
            result: Ok("calendar updated".into()),
        },
    );
    assert_eq!(effects, [Effect::Refresh { all: false }]);
    assert!(s.busy.is_empty());
}

#[test]
fn outdated_invitation_refuses_answer_and_apply() {
    let mut s = loaded();
    let _ = keys(&mut s, "p");
    select(&mut s, "google-outdated.eml");
    assert_eq!(keys(&mut s, "a c"), []);
    let (_, text) = status(&s);
    assert!(
        text.contains("a newer version of this invitation is already in your calendar"),
        "{text}"
    );
}

#[test]
fn comment_prompt_sends_the_comment() {
    let mut s = loaded();
    assert_eq!(keys(&mut s, "D"), []);
    assert!(matches!(
        &s.mode,
        Mode::Comment {
            partstat: PartStat::Declined,
            ..
        }
    ));
    // Keys of the keymap are text here: `q` does not quit, `a` does not accept.
    let _ = type_text(&mut s, "  Away, sorry q");
    let _ = keys(&mut s, "Backspace Backspace");
    assert!(!s.quit);
    let effects = keys(&mut s, "Enter");
    assert!(
        matches!(
            &effects[..],
            [Effect::Respond { partstat: PartStat::Declined, comment: Some(c), .. }] if c == "Away, sorry"
        ),
        "{effects:?}"
    );
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn comment_prompt_escape_sends_nothing_and_empty_comment_is_none() {
    let mut s = loaded();
    let _ = keys(&mut s, "A");
    let _ = type_text(&mut s, "maybe");
    assert_eq!(keys(&mut s, "Esc"), []);
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.busy.is_empty());
    let _ = keys(&mut s, "T");
    let effects = keys(&mut s, "Space Enter");
    assert!(matches!(
        &effects[..],
        [Effect::Respond {
            partstat: PartStat::Tentative,
            comment: None,
            ..
        }]
    ));
}

#[test]
fn comment_prompt_uses_editor_only_when_there_is_one() {
    let mut s = loaded();
    let _ = keys(&mut s, "A");
    let _ = type_text(&mut s, "draft");
    assert_eq!(
        keys(&mut s, "Ctrl-e"),
        [],
        "no $EDITOR: Ctrl-e is end of line"
    );
    s.editor = true;
    assert_eq!(
        keys(&mut s, "Ctrl-e"),
        [Effect::EditComment {
            text: "draft".into()
        }]
    );
    let _ = update::update(&mut s, Msg::Edited(Ok("Long text\nfrom vim\n".into())));
    match &s.mode {
        Mode::Comment { input, .. } => assert_eq!(input.text, "Long text\nfrom vim"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn choosing_one_occurrence_answers_only_it() {
    let mut s = loaded();
    select(&mut s, "apple-recurring.eml");
    assert_eq!(keys(&mut s, "i"), []);
    assert!(matches!(&s.mode, Mode::Occurrence { cursor: 0, .. }));
    let _ = keys(&mut s, "j j Enter");
    assert_eq!(s.mode, Mode::Normal);
    let chosen = s.scope.get("apple-recurring.eml").expect("a scope").clone();
    assert_eq!(chosen.instance, "TZID=Europe/Berlin:20250108T093000");
    let effects = keys(&mut s, "t");
    assert!(
        matches!(
            &effects[..],
            [Effect::Respond { partstat: PartStat::Tentative, instance: Some(i), .. }]
                if i == "TZID=Europe/Berlin:20250108T093000"
        ),
        "{effects:?}"
    );
    // Back to the series.
    let _ = update::update(&mut s, sent(respond_target(&effects), PartStat::Tentative));
    let _ = keys(&mut s, "i");
    assert!(
        matches!(&s.mode, Mode::Occurrence { cursor: 2, .. }),
        "{:?}",
        s.mode
    );
    let _ = keys(&mut s, "g k k Enter");
    assert!(s.scope.is_empty());
    assert!(matches!(
        &keys(&mut s, "a")[..],
        [Effect::Respond { instance: None, .. }]
    ));
}

#[test]
fn occurrence_choice_is_refused_for_a_single_event() {
    let mut s = loaded();
    assert_eq!(keys(&mut s, "i"), []);
    assert_eq!(s.mode, Mode::Normal);
    assert!(status(&s).1.contains("no occurrences to choose from"));
}

#[test]
fn filter_narrows_live_and_escape_restores() {
    let mut s = loaded();
    let _ = keys(&mut s, "/");
    let _ = type_text(&mut s, "SYNC");
    assert_eq!(s.visible().len(), 1);
    assert_eq!(selected(&s), "outlook-reschedule.eml");
    let _ = keys(&mut s, "Esc");
    assert_eq!(s.filter, "");
    assert_eq!(s.visible().len(), 6);
    let _ = keys(&mut s, "/");
    let _ = type_text(&mut s, "priya");
    let _ = keys(&mut s, "Enter");
    assert_eq!(s.filter, "priya");
    assert_eq!(s.visible().len(), 2, "filter matches organizers too");
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn p_toggles_pending_and_all() {
    let mut s = loaded();
    assert_eq!(s.visible().len(), 6);
    assert_eq!(keys(&mut s, "p"), [Effect::Refresh { all: true }]);
    assert!(s.show_all);
    assert_eq!(s.visible().len(), 7);
    assert_eq!(keys(&mut s, "p"), [Effect::Refresh { all: false }]);
    assert_eq!(s.visible().len(), 6);
}

#[test]
fn dismiss_hides_the_row_after_the_source_records_it() {
    let mut s = loaded();
    let effects = keys(&mut s, "x");
    let target = match &effects[..] {
        [Effect::Dismiss { target }] => target.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(s.visible().len(), 6, "still shown while dismissing");
    let _ = update::update(
        &mut s,
        Msg::Dismissed {
            target,
            result: Ok(()),
        },
    );
    assert_eq!(s.visible().len(), 5);
    assert_eq!(selected(&s), "outlook-reschedule.eml");
    assert_eq!(s.counts().0, 5);
    let _ = keys(&mut s, "p");
    assert_eq!(s.visible().len(), 7, "everything includes dismissed ones");
}

#[test]
fn reindex_runs_once_at_a_time() {
    let mut s = loaded();
    assert_eq!(keys(&mut s, "r"), [Effect::Reindex]);
    assert_eq!(keys(&mut s, "r"), []);
    let _ = update::update(
        &mut s,
        Msg::Indexed(Err(failure("notmuch: database locked"))),
    );
    assert_eq!(
        status(&s),
        (
            Level::Error,
            "indexing failed: notmuch: database locked".into()
        )
    );
    assert_eq!(keys(&mut s, "r"), [Effect::Reindex]);
}

#[test]
fn refresh_keeps_the_selected_invitation() {
    let m = memenv();
    let mut s = state_with(rows(&m));
    select(&mut s, "apple-recurring.eml");
    let mut fewer = rows(&m);
    fewer.remove(0);
    let _ = update::update(&mut s, Msg::Rows(Ok(listing(fewer))));
    assert_eq!(selected(&s), "apple-recurring.eml");
    let _ = update::update(&mut s, Msg::Rows(Err(failure("notmuch: no database"))));
    assert_eq!(
        status(&s),
        (
            Level::Error,
            "cannot list invitations: notmuch: no database".into()
        )
    );
}

#[test]
fn help_opens_and_closes_and_swallows_actions() {
    let mut s = loaded();
    let _ = keys(&mut s, "?");
    assert_eq!(s.mode, Mode::Help { scroll: 0 });
    assert_eq!(keys(&mut s, "a j j"), []);
    assert_eq!(s.mode, Mode::Help { scroll: 2 });
    let _ = keys(&mut s, "?");
    assert_eq!(s.mode, Mode::Normal);
    let _ = keys(&mut s, "? Esc");
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.busy.is_empty());
}

#[test]
fn quit_asks_again_while_a_reply_is_in_flight() {
    let mut s = loaded();
    let _ = keys(&mut s, "a");
    let _ = keys(&mut s, "q");
    assert!(!s.quit);
    assert_eq!(status(&s).0, Level::Warning);
    let _ = keys(&mut s, "j q");
    assert!(!s.quit, "another key in between resets the question");
    let _ = keys(&mut s, "q");
    assert!(s.quit);
    let mut idle = loaded();
    let _ = keys(&mut idle, "Ctrl-c");
    assert!(idle.quit);
}

#[test]
fn user_keymap_drives_update() {
    let overrides = [
        ("accept".to_string(), vec!["y".to_string()]),
        ("down".to_string(), vec!["J".to_string()]),
    ];
    let keymap =
        Keymap::with_overrides(overrides.iter().map(|(a, k)| (a.as_str(), k.as_slice()))).unwrap();
    let mut s = loaded();
    s.keymap = keymap;
    assert_eq!(keys(&mut s, "a j"), []);
    assert_eq!(selected(&s), "google-new.eml");
    let effects = keys(&mut s, "J y");
    assert!(
        matches!(&effects[..], [Effect::Respond { partstat: PartStat::Accepted, target, .. }] if target.key == "outlook-reschedule.eml")
    );
}

#[test]
fn worker_gone_clears_everything_in_flight() {
    let mut s = loaded();
    let _ = keys(&mut s, "a R");
    let _ = update::update(&mut s, Msg::WorkerGone("cannot start: no calendar".into()));
    assert!(s.busy.is_empty());
    assert!(!s.flushing);
    assert_eq!(
        status(&s),
        (Level::Error, "cannot start: no calendar".into())
    );
}

#[test]
fn unknown_keys_do_nothing() {
    let mut s = loaded();
    let before = (s.selected, s.mode.clone(), s.busy.clone());
    assert_eq!(keys(&mut s, "z F5 Ctrl-x"), []);
    assert_eq!((s.selected, s.mode.clone(), s.busy.clone()), before);
    let _ = update::update(&mut s, Msg::Key(Key::char('Z')));
    assert!(!s.quit);
}

/// Issue 9: answering without mail is an explicit choice: `n` then an
/// answer key emits a Respond that does not mail; the outcome says so.
#[test]
fn n_then_accept_answers_without_mailing_and_says_so() {
    let mut s = loaded();
    select(&mut s, "google-new.eml");
    let effects = keys(&mut s, "n");
    assert!(effects.is_empty());
    assert!(s.no_send);
    assert!(status(&s).1.contains("not mailing"), "{:?}", status(&s));
    let effects = keys(&mut s, "a");
    let target = match &effects[..] {
        [
            Effect::Respond {
                target,
                partstat: PartStat::Accepted,
                send: false,
                ..
            },
        ] => target.clone(),
        other => panic!("expected one Respond without mail, got {other:?}"),
    };
    assert!(!s.no_send, "the choice holds for one answer");
    assert!(status(&s).1.contains("without mailing"), "{:?}", status(&s));
    let _ = update::update(
        &mut s,
        Msg::Answered {
            target,
            result: Ok(Answered {
                partstat: PartStat::Accepted,
                changed_from: None,
                delivery: Delivery::NotMailed,
                warnings: Vec::new(),
            }),
        },
    );
    let (level, text) = status(&s);
    assert_eq!(level, Level::Info);
    assert!(text.contains("not mailed"), "{text}");
}

/// Any other key after `n` lets the choice go: the next answer is mailed.
#[test]
fn n_is_forgotten_after_another_key() {
    let mut s = loaded();
    select(&mut s, "google-new.eml");
    let _ = keys(&mut s, "n");
    let _ = keys(&mut s, "j");
    let _ = keys(&mut s, "k");
    assert!(!s.no_send);
    let effects = keys(&mut s, "a");
    assert!(
        matches!(&effects[..], [Effect::Respond { send: true, .. }]),
        "{effects:?}"
    );
}

/// Issue 9: `[ui] confirm` asks before mailing; only `y` (or Enter) sends.
#[test]
fn confirm_asks_before_mailing() {
    let mut s = loaded();
    s.confirm = true;
    assert_eq!(keys(&mut s, "a"), []);
    assert!(
        matches!(&s.mode, Mode::Confirm { key, partstat: PartStat::Accepted, .. } if key == "google-new.eml")
    );
    assert_eq!(keys(&mut s, "n"), []);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(status(&s).1, "answer cancelled; nothing sent");
    assert_eq!(keys(&mut s, "a"), []);
    let target = respond_target(&keys(&mut s, "y"));
    assert_eq!(target.key, "google-new.eml");
    assert_eq!(s.mode, Mode::Normal);
}

/// Issue 9: the filter ignores case and accents and looks at the location,
/// the organizer's address (so its domain) and the attendees; Esc clears it.
#[test]
fn filter_ignores_accents_and_covers_addresses_location_and_attendees() {
    let mut s = loaded();
    let _ = keys(&mut s, "/");
    let _ = type_text(&mut s, "cafe LUMEN");
    assert_eq!(
        selected(&s),
        "thunderbird-cancel.eml",
        "LOCATION:Café Lumen"
    );
    assert_eq!(s.visible().len(), 1);
    let _ = keys(&mut s, "Esc");
    assert_eq!(s.filter, "", "Esc clears the filter");
    assert_eq!(s.visible().len(), 6);
    let _ = keys(&mut s, "/");
    let _ = type_text(&mut s, "example.net");
    let _ = keys(&mut s, "Enter");
    assert!(!s.visible().is_empty());
    assert!(s.visible().iter().all(|&i| {
        s.rows[i]
            .organizer_address
            .as_deref()
            .unwrap_or("")
            .ends_with("example.net")
            || s.rows[i]
                .sender
                .as_deref()
                .unwrap_or("")
                .ends_with("example.net")
            || s.rows[i]
                .shown()
                .and_then(|s| s.invite())
                .is_some_and(|inv| {
                    inv.primary().is_some_and(|c| {
                        c.attendees()
                            .iter()
                            .any(|a| a.email.as_deref().unwrap_or("").ends_with("example.net"))
                    })
                })
    }),);
    assert_eq!(keys(&mut s, "Esc"), []);
    assert_eq!(s.filter, "", "Esc in the list clears a kept filter");
    let _ = keys(&mut s, "/");
    let _ = type_text(&mut s, "ana co");
    assert!(
        s.visible()
            .iter()
            .any(|&i| s.rows[i].key == "google-new.eml"),
        "an attendee's name matches"
    );
}

/// Issue 9: a dismissed row says so in the all view, and `u` on it asks to
/// take the dismissal back; `u` on a row that is not dismissed refuses.
#[test]
fn undo_dismiss_targets_the_selected_dismissed_row() {
    let mut s = loaded();
    let _ = keys(&mut s, "u");
    assert_eq!(status(&s).1, "nothing dismissed to undo");
    let target = match &keys(&mut s, "x")[..] {
        [Effect::Dismiss { target }] => target.clone(),
        other => panic!("{other:?}"),
    };
    let _ = update::update(
        &mut s,
        Msg::Dismissed {
            target: target.clone(),
            result: Ok(()),
        },
    );
    assert!(status(&s).1.ends_with("(u undoes it)"), "{:?}", status(&s));
    let _ = keys(&mut s, "p");
    select(&mut s, "google-new.eml");
    assert!(s.is_dismissed(s.selected_row().unwrap()));
    assert_eq!(
        keys(&mut s, "u"),
        [Effect::Undismiss {
            target: target.clone()
        }]
    );
    assert_eq!(s.busy.get("google-new.eml"), Some(&Busy::Restoring));
    let effects = update::update(
        &mut s,
        Msg::Undismissed {
            target,
            result: Ok(()),
        },
    );
    assert_eq!(effects, [Effect::Refresh { all: true }]);
    assert!(!s.is_dismissed(s.row("google-new.eml").unwrap()));
    select(&mut s, "outlook-reschedule.eml");
    let _ = keys(&mut s, "u");
    assert_eq!(status(&s).1, "nothing dismissed to undo");
}

/// Issue 6: a candidate the inbox could not read is said on the status
/// line, not silently dropped.
#[test]
fn unreadable_invitations_are_said_on_the_status_line() {
    let mut s = loaded();
    let _ = update::update(
        &mut s,
        Msg::Rows(Ok(rsvp::inbox::Listing {
            items: rows(&memenv()),
            unreadable: vec![rsvp::inbox::Unreadable {
                path: "/mail/new/1.eml".into(),
                reason: "the message file is gone; run notmuch new".into(),
            }],
            refused: Vec::new(),
            unchanged: false,
        })),
    );
    let st = s.status.clone().expect("a status line");
    assert_eq!(st.level, Level::Warning);
    assert_eq!(st.text, "1 invitation could not be read: run notmuch new");
}

/// Issue 9: `o` asks the terminal loop to show the original message: its
/// file and Message-ID; the worker refuses it (it needs the terminal).
#[test]
fn o_opens_the_original_message() {
    let mut s = loaded();
    let effects = keys(&mut s, "o");
    match &effects[..] {
        [Effect::OpenMessage { path, message_id }] => {
            assert_eq!(path, "google-new.eml");
            assert_eq!(message_id.as_deref(), Some("calendar-5k2l9q8m@google.com"));
        }
        other => panic!("{other:?}"),
    }
    let _ = update::update(&mut s, Msg::Opened(Err("less: not found".into())));
    assert_eq!(
        status(&s),
        (
            Level::Error,
            "cannot open the message: less: not found".into()
        )
    );
}

/// Issue 8 item 6: replies the mail server refused for good are said on
/// the status line with the key that drops them; the key asks the worker.
#[test]
fn refused_replies_are_said_and_x_drops_them() {
    let mut s = loaded();
    let _ = update::update(
        &mut s,
        Msg::Rows(Ok(rsvp::inbox::Listing {
            items: rows(&memenv()),
            unreadable: Vec::new(),
            refused: vec!["u1@x to org@example.org".into()],
            unchanged: false,
        })),
    );
    let st = s.status.clone().expect("a status line");
    assert_eq!(st.level, Level::Warning);
    assert_eq!(
        st.text,
        "1 reply refused for good by the mail server (u1@x to org@example.org); X drops it"
    );
    // Retrying the outbox sends nothing, and does not call it empty.
    assert_eq!(keys(&mut s, "R"), [Effect::RetryOutbox]);
    let effects = update::update(
        &mut s,
        Msg::Flushed(Ok(Flushed {
            sent: 0,
            failed: Vec::new(),
        })),
    );
    assert_eq!(
        status(&s),
        (
            Level::Info,
            "nothing to send; 1 reply refused for good stays; X drops it".into()
        )
    );
    // Nothing was sent: no refresh repeats the warning over that line.
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(keys(&mut s, "X"), [Effect::DropRefused]);
    let effects = update::update(&mut s, Msg::DroppedRefused(Ok(1)));
    assert_eq!(
        s.status.clone().expect("status").text,
        "dropped 1 refused reply"
    );
    assert!(
        matches!(effects[..], [Effect::Refresh { .. }]),
        "{effects:?}"
    );
}

/// When [keys] gave X to another action, drop_refused has no key: the
/// warning says so instead of naming a key that does something else.
#[test]
fn refused_replies_without_a_drop_key_say_how_to_get_one() {
    let mut s = loaded();
    let x = vec!["X".to_string()];
    s.keymap = Keymap::with_overrides([("reindex", x.as_slice())]).unwrap();
    let _ = update::update(
        &mut s,
        Msg::Rows(Ok(rsvp::inbox::Listing {
            items: rows(&memenv()),
            unreadable: Vec::new(),
            refused: vec![
                "u1@x to org@example.org".into(),
                "u2@x to org@example.org".into(),
            ],
            unchanged: false,
        })),
    );
    assert_eq!(
        s.status.clone().expect("a status line").text,
        "2 replies refused for good by the mail server (u1@x to org@example.org); \
         drop_refused in [keys] needs a key to drop them"
    );
}

/// Issue 6: rows painted from the saved listing come without details; the
/// selected one is asked for once, shows "loading" until it arrives, and
/// is then shown whole.
#[test]
fn the_selected_row_without_details_asks_for_them_once() {
    let m = memenv();
    let whole = rows(&m);
    let mut bare = whole.clone();
    for r in &mut bare {
        r.shown = None;
    }
    let mut s = State::new(Keymap::defaults(), clock());
    s.color = false;
    let _ = update::init(&mut s);
    let effects = update::update(
        &mut s,
        Msg::Rows(Ok(rsvp::inbox::Listing {
            items: bare,
            unreadable: Vec::new(),
            refused: Vec::new(),
            unchanged: false,
        })),
    );
    let first = selected(&s).to_string();
    assert_eq!(effects, [Effect::Detail { key: first.clone() }]);
    assert!(screen(&s, 120, 40).contains("loading the details"));
    // A message that changes nothing does not ask again.
    assert_eq!(update::update(&mut s, Msg::Indexed(Ok(None))).len(), 1);
    assert!(
        !update::update(&mut s, Msg::Progress(Progress::Started))
            .iter()
            .any(|e| matches!(e, Effect::Detail { .. }))
    );
    let item = whole.iter().find(|r| r.key == first).unwrap().clone();
    let effects = update::update(
        &mut s,
        Msg::Detail {
            key: first.clone(),
            result: Ok(Box::new(item)),
        },
    );
    assert!(effects.is_empty(), "{effects:?}");
    assert!(s.selected_row().unwrap().shown.is_some());
    assert!(!screen(&s, 120, 40).contains("loading the details"));
    // The check of the painted rows finds nothing changed: the details
    // built since are kept, nothing is asked again.
    let bare_again: Vec<_> = whole
        .iter()
        .cloned()
        .map(|mut r| {
            r.shown = None;
            r
        })
        .collect();
    let effects = update::update(
        &mut s,
        Msg::Rows(Ok(rsvp::inbox::Listing {
            items: bare_again.clone(),
            unchanged: true,
            ..Default::default()
        })),
    );
    assert!(effects.is_empty(), "{effects:?}");
    assert!(s.selected_row().unwrap().shown.is_some());
    // A listing that rebuilt rows (something changed) keeps nothing.
    let effects = update::update(
        &mut s,
        Msg::Rows(Ok(rsvp::inbox::Listing {
            items: bare_again,
            ..Default::default()
        })),
    );
    assert_eq!(effects, [Effect::Detail { key: first.clone() }]);
    // Moving to another bare row asks for that one.
    let effects = keys(&mut s, "j");
    assert_eq!(
        effects,
        [Effect::Detail {
            key: selected(&s).to_string()
        }]
    );
}
