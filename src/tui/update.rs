//! The single transition function: `update(&mut State, Msg) -> Vec<Effect>`.
//! No I/O, no terminal, no clock: effects describe work for the worker (or,
//! for `$EDITOR`, for the terminal loop) and come back as messages.

use super::state::{
    Busy, Focus, Level, LineInput, Mode, Occurrence, Progress, Row, State, StatusLine,
};
use crate::domain::invite::PartStat;
use crate::inbox::{InboxError, Item, Listing};
use crate::keymap::{Action, Key, KeyCode};

/// Upper bound of the detail scroll offset (the view clamps it further to
/// the text it draws; the detail holds at most a few hundred lines).
const MAX_DETAIL_SCROLL: u16 = 600;

/// Which message an effect is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The row's key.
    pub key: String,
    /// The message file.
    pub path: String,
    /// The row's title, for messages.
    pub summary: String,
}

impl Target {
    fn of(row: &Row) -> Target {
        Target {
            key: row.key.clone(),
            path: row.path.clone(),
            summary: row.summary.clone(),
        }
    }
}

/// Work to do outside `update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Show the rows the last listing saved, at once (a `Refresh` follows
    /// that checks them).
    Paint { all: bool },
    /// List the invitations again (everything when `all`).
    Refresh { all: bool },
    /// Build one row whole (`Inbox::item`): the selected row came from
    /// the saved listing, without its details.
    Detail { key: String },
    /// Index new mail, then list again.
    Reindex,
    /// Answer through `inbox::respond` (outbox → calendar → send).
    Respond {
        target: Target,
        partstat: PartStat,
        comment: Option<String>,
        /// One occurrence (RECURRENCE-ID text), or the whole series.
        instance: Option<String>,
        /// Mail the reply; `false` changes the calendar only (`n`).
        send: bool,
    },
    /// Bring the calendar up to date (`inbox::apply_message`).
    Apply { target: Target },
    /// Mark as done without replying.
    Dismiss { target: Target },
    /// Send the queued replies (`inbox::flush`).
    RetryOutbox,
    /// Drop the replies the mail server refused for good (issue 8 item 6).
    DropRefused,
    /// Edit the comment in `$EDITOR` (run by the terminal loop, not the worker).
    EditComment { text: String },
    /// Take the dismissal back (remove the tag `rsvp/dismissed`).
    Undismiss { target: Target },
    /// Show the original message in `$PAGER` or `[ui] open_command` (run
    /// by the terminal loop, which leaves the screen for it).
    OpenMessage {
        path: String,
        message_id: Option<String>,
    },
}

/// How an answer ended when the engine accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The mail server took the reply (to these addresses).
    Sent { to: Vec<String> },
    /// The calendar is updated but sending failed; the reply stays queued.
    Queued { reason: String },
    /// The same answer had been sent before; nothing sent now.
    AlreadySent,
    /// A scheduling server sends the reply; only the calendar changed (R6.7).
    ServerScheduled,
    /// The user chose to answer without mail; only the calendar changed.
    NotMailed,
}

/// The outcome of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub partstat: PartStat,
    /// The answer this one replaced, when the calendar held another.
    pub changed_from: Option<PartStat>,
    pub delivery: Delivery,
    /// Non-fatal problems (e.g. tagging the message failed).
    pub warnings: Vec<String>,
}

/// The outcome of retrying the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flushed {
    pub sent: usize,
    /// One reason per reply still queued.
    pub failed: Vec<String>,
}

/// Everything that can happen to the UI.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    /// A new list of invitations, or why there is none.
    Rows(Result<Listing, InboxError>),
    /// One row whole, with its details (see [`Effect::Detail`]).
    Detail {
        key: String,
        result: Result<Box<Item>, InboxError>,
    },
    Progress(Progress),
    /// Indexing finished (with an optional summary) or failed.
    Indexed(Result<Option<String>, InboxError>),
    Answered {
        target: Target,
        result: Result<Answered, InboxError>,
    },
    /// Applied, with a description of what changed.
    Applied {
        target: Target,
        result: Result<String, InboxError>,
    },
    Dismissed {
        target: Target,
        result: Result<(), InboxError>,
    },
    Flushed(Result<Flushed, InboxError>),
    /// How many refused replies were dropped.
    DroppedRefused(Result<usize, InboxError>),
    Undismissed {
        target: Target,
        result: Result<(), InboxError>,
    },
    /// The pager or open command came back (or could not run).
    Opened(Result<(), String>),
    /// The text back from `$EDITOR`.
    Edited(Result<String, String>),
    /// The worker could not start or stopped; nothing more will be done.
    WorkerGone(String),
}

/// The effects to run when the screen opens: paint the rows saved last
/// time at once, check them against the mail and the calendar, then look
/// for new mail in the background.
pub fn init(state: &mut State) -> Vec<Effect> {
    state.loading = true;
    state.indexing = Some(Progress::Started);
    vec![
        Effect::Paint {
            all: state.show_all,
        },
        Effect::Refresh {
            all: state.show_all,
        },
        Effect::Reindex,
    ]
}

/// Apply `msg` to `state`; returns the work it asks for.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut effects = step(state, msg);
    effects.extend(want_detail(state));
    effects
}

/// Ask for the selected row's details once, when it came without them.
fn want_detail(state: &mut State) -> Option<Effect> {
    let row = state.selected_row()?;
    if row.shown.is_some() || state.detail_asked.as_deref() == Some(row.key.as_str()) {
        return None;
    }
    let key = row.key.clone();
    state.detail_asked = Some(key.clone());
    Some(Effect::Detail { key })
}

/// How to drop `n` refused replies: the key, or how to get one (the key
/// may have been given to another action in [keys]).
fn drop_hint(state: &State, n: usize) -> String {
    let them = if n == 1 { "it" } else { "them" };
    match state.keymap.label(Action::DropRefused) {
        Some(key) => format!("{key} drops {them}"),
        None => format!("drop_refused in [keys] needs a key to drop {them}"),
    }
}

fn step(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(state, key),
        Msg::Rows(Ok(listing)) => {
            let keep = state.selected_row().map(|r| r.key.clone());
            if let Some(note) = listing.unreadable_note() {
                warn(state, note);
            }
            state.refused = listing.refused.len();
            if let Some(first) = listing.refused.first() {
                let n = listing.refused.len();
                let how = drop_hint(state, n);
                warn(
                    state,
                    format!(
                        "{n} repl{} refused for good by the mail server ({first}); {how}",
                        plural_y(n),
                    ),
                );
            }
            let mut rows = listing.items;
            if listing.unchanged {
                // Nothing changed since the rows were saved: the details
                // built for them since are still true; keep them.
                for row in rows.iter_mut().filter(|r| r.shown.is_none()) {
                    if let Some(old) = state
                        .rows
                        .iter_mut()
                        .find(|o| o.key == row.key && o.shown.is_some())
                    {
                        row.shown = old.shown.take();
                        row.agenda = old.agenda.take();
                    }
                }
            }
            state.rows = rows;
            state.detail_asked = None;
            state.loading = false;
            state
                .scope
                .retain(|k, _| state.rows.iter().any(|r| &r.key == k));
            reselect(state, keep.as_deref());
            Vec::new()
        }
        Msg::Detail { key, result } => {
            match result {
                Ok(item) => {
                    if let Some(row) = state.rows.iter_mut().find(|r| r.key == key) {
                        *row = *item;
                    }
                }
                // Asked once: the row keeps what the listing showed.
                Err(e) => error(state, format!("cannot load the details: {e}")),
            }
            Vec::new()
        }
        Msg::Rows(Err(e)) => {
            state.loading = false;
            error(state, format!("cannot list invitations: {e}"));
            Vec::new()
        }
        Msg::Progress(p) => {
            state.indexing = Some(p);
            Vec::new()
        }
        Msg::Indexed(result) => {
            state.indexing = None;
            match result {
                Ok(summary) => {
                    if let Some(s) = summary {
                        info(state, s);
                    }
                    vec![Effect::Refresh {
                        all: state.show_all,
                    }]
                }
                Err(e) => {
                    error(state, format!("indexing failed: {e}"));
                    Vec::new()
                }
            }
        }
        Msg::Answered { target, result } => {
            state.busy.remove(&target.key);
            match result {
                Ok(a) => {
                    answered(state, &target, &a);
                    vec![Effect::Refresh {
                        all: state.show_all,
                    }]
                }
                Err(e) => {
                    // The item stays answerable; the reason is on screen.
                    error(
                        state,
                        format!("could not answer \"{}\": {e}", target.summary),
                    );
                    Vec::new()
                }
            }
        }
        Msg::Applied { target, result } => {
            state.busy.remove(&target.key);
            match result {
                Ok(what) => {
                    info(state, format!("\"{}\": {what}", target.summary));
                    vec![Effect::Refresh {
                        all: state.show_all,
                    }]
                }
                Err(e) => {
                    error(
                        state,
                        format!("could not apply \"{}\": {e}", target.summary),
                    );
                    Vec::new()
                }
            }
        }
        Msg::Dismissed { target, result } => {
            state.busy.remove(&target.key);
            match result {
                Ok(()) => {
                    let keep = state.selected_row().map(|r| r.key.clone());
                    state.dismissed.insert(target.key.clone());
                    state.restored.remove(&target.key);
                    state.dismiss_history.retain(|k| k != &target.key);
                    state.dismiss_history.push(target.key.clone());
                    reselect(state, keep.as_deref());
                    let undo = state
                        .keymap
                        .label(Action::UndoDismiss)
                        .map(|k| format!(" ({k} undoes it)"))
                        .unwrap_or_default();
                    info(state, format!("dismissed \"{}\"{undo}", target.summary));
                }
                Err(e) => error(
                    state,
                    format!("could not dismiss \"{}\": {e}", target.summary),
                ),
            }
            Vec::new()
        }
        Msg::Undismissed { target, result } => {
            state.busy.remove(&target.key);
            match result {
                Ok(()) => {
                    let keep = state.selected_row().map(|r| r.key.clone());
                    state.dismissed.remove(&target.key);
                    state.restored.insert(target.key.clone());
                    state.dismiss_history.retain(|k| k != &target.key);
                    reselect(state, keep.as_deref().or(Some(target.key.as_str())));
                    info(
                        state,
                        format!("\"{}\" is back in the inbox", target.summary),
                    );
                    return vec![Effect::Refresh {
                        all: state.show_all,
                    }];
                }
                Err(e) => error(
                    state,
                    format!(
                        "could not undo the dismissal of \"{}\": {e}",
                        target.summary
                    ),
                ),
            }
            Vec::new()
        }
        Msg::Opened(result) => {
            if let Err(e) = result {
                error(state, format!("cannot open the message: {e}"));
            }
            Vec::new()
        }
        Msg::DroppedRefused(result) => {
            match result {
                Ok(0) => info(state, "no refused replies to drop".to_string()),
                Ok(n) => info(state, format!("dropped {n} refused repl{}", plural_y(n))),
                Err(e) => error(state, format!("cannot drop the refused replies: {e}")),
            }
            vec![Effect::Refresh {
                all: state.show_all,
            }]
        }
        Msg::Flushed(result) => {
            state.flushing = false;
            let idle = matches!(&result, Ok(f) if f.sent == 0 && f.failed.is_empty());
            match result {
                Ok(_) if idle && state.refused > 0 => {
                    let how = drop_hint(state, state.refused);
                    let note = crate::inbox::refused_stay_note(state.refused);
                    info(state, format!("{note}; {how}"))
                }
                Ok(_) if idle => info(state, "the outbox is empty: nothing to send".to_string()),
                Ok(f) if f.failed.is_empty() => info(
                    state,
                    format!("sent {} queued repl{}", f.sent, plural_y(f.sent)),
                ),
                Ok(f) => {
                    let total = f.sent + f.failed.len();
                    let first = f.failed.first().cloned().unwrap_or_default();
                    error(
                        state,
                        format!(
                            "sent {} of {total} queued replies; {} still queued: {first}",
                            f.sent,
                            f.failed.len()
                        ),
                    );
                }
                Err(e) => error(state, format!("cannot send the queued replies: {e}")),
            }
            // Items whose reply was queued leave the pending list once
            // sent, and a reply refused for good is listed as such. When
            // there was nothing to send nothing changed: the line above
            // stays (a refresh would put the refused warning over it).
            if idle {
                Vec::new()
            } else {
                vec![Effect::Refresh {
                    all: state.show_all,
                }]
            }
        }
        Msg::Edited(result) => {
            match (result, &mut state.mode) {
                (Ok(text), Mode::Comment { input, .. }) => {
                    *input = LineInput::with_text(text.trim_end());
                }
                (Ok(_), _) => {}
                (Err(e), _) => error(state, format!("editor: {e}")),
            }
            Vec::new()
        }
        Msg::WorkerGone(e) => {
            state.busy.clear();
            state.loading = false;
            state.indexing = None;
            state.flushing = false;
            error(state, e);
            Vec::new()
        }
    }
}

fn plural_y(n: usize) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}

fn info(state: &mut State, text: String) {
    state.status = Some(StatusLine {
        level: Level::Info,
        text,
    });
}

fn warn(state: &mut State, text: String) {
    state.status = Some(StatusLine {
        level: Level::Warning,
        text,
    });
}

fn error(state: &mut State, text: String) {
    state.status = Some(StatusLine {
        level: Level::Error,
        text,
    });
}

fn verb(p: PartStat) -> &'static str {
    match p {
        PartStat::Accepted => "accepted",
        PartStat::Declined => "declined",
        PartStat::Tentative => "tentatively accepted",
        _ => "answered",
    }
}

fn answered(state: &mut State, target: &Target, a: &Answered) {
    let what = match a.changed_from {
        Some(old) => format!(
            "changed your answer to \"{}\" from {} to {}",
            target.summary,
            verb(old),
            verb(a.partstat)
        ),
        None => format!("{} \"{}\"", verb(a.partstat), target.summary),
    };
    match &a.delivery {
        Delivery::Sent { to } => info(state, format!("{what}: reply sent to {}", to.join(", "))),
        Delivery::Queued { reason } => {
            let retry = state
                .keymap
                .label(Action::RetryOutbox)
                .map(|k| format!("; press {k} to retry"))
                .unwrap_or_default();
            error(
                state,
                format!(
                    "reply not sent: {reason} — \"{}\" is {} in your calendar and the reply \
                     stays queued{retry}",
                    target.summary,
                    verb(a.partstat)
                ),
            )
        }
        Delivery::AlreadySent => info(
            state,
            format!("{what}: this answer was already sent; nothing sent again"),
        ),
        Delivery::ServerScheduled => info(
            state,
            format!("{what}: calendar updated; your calendar server sends the reply"),
        ),
        Delivery::NotMailed => info(
            state,
            format!(
                "{what}: calendar updated; not mailed, as you chose: the organizer is not told"
            ),
        ),
    }
    if let (
        Some(w),
        Delivery::Sent { .. }
        | Delivery::AlreadySent
        | Delivery::ServerScheduled
        | Delivery::NotMailed,
    ) = (a.warnings.first(), &a.delivery)
    {
        let text = state
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        warn(state, format!("{text} (warning: {w})"));
    }
}

/// Keep the row `key` selected if it is still visible, else stay in range.
fn reselect(state: &mut State, key: Option<&str>) {
    let visible = state.visible();
    if let Some(pos) = key.and_then(|k| {
        visible
            .iter()
            .position(|&i| state.rows.get(i).is_some_and(|r| r.key == k))
    }) {
        state.selected = pos;
    } else {
        state.selected = state.selected.min(visible.len().saturating_sub(1));
    }
}

fn on_key(state: &mut State, key: Key) -> Vec<Effect> {
    let action = state.keymap.action(key);
    if action != Some(Action::Quit) {
        state.confirm_quit = false;
    }
    match state.mode.clone() {
        Mode::Normal => match action {
            Some(a) => on_action(state, a),
            None => Vec::new(),
        },
        Mode::Help { scroll } => {
            match action {
                Some(Action::Down) => state.mode = Mode::Help { scroll: scroll + 1 },
                Some(Action::Up) => {
                    state.mode = Mode::Help {
                        scroll: scroll.saturating_sub(1),
                    }
                }
                Some(Action::PageDown) => {
                    state.mode = Mode::Help {
                        scroll: scroll + 10,
                    }
                }
                Some(Action::PageUp) => {
                    state.mode = Mode::Help {
                        scroll: scroll.saturating_sub(10),
                    }
                }
                Some(Action::First) => state.mode = Mode::Help { scroll: 0 },
                Some(Action::Help | Action::Back | Action::Quit) => state.mode = Mode::Normal,
                _ if key.code == KeyCode::Esc => state.mode = Mode::Normal,
                _ => {}
            }
            Vec::new()
        }
        Mode::Filter { mut input, before } => {
            match key.code {
                KeyCode::Enter => {
                    state.filter = input.text.trim().to_string();
                    state.mode = Mode::Normal;
                    return Vec::new();
                }
                KeyCode::Esc => {
                    // Esc clears the filter (Enter keeps it).
                    let _ = before;
                    let keep = state.selected_row().map(|r| r.key.clone());
                    state.filter.clear();
                    state.mode = Mode::Normal;
                    reselect(state, keep.as_deref());
                    return Vec::new();
                }
                _ => edit(&mut input, key),
            }
            let keep = state.selected_row().map(|r| r.key.clone());
            state.filter = input.text.trim().to_string();
            state.mode = Mode::Filter { input, before };
            reselect(state, keep.as_deref());
            Vec::new()
        }
        Mode::Comment {
            key: row_key,
            partstat,
            mut input,
        } => match key.code {
            KeyCode::Enter => {
                state.mode = Mode::Normal;
                let comment = Some(input.text.trim().to_string()).filter(|c| !c.is_empty());
                match state.row(&row_key).cloned() {
                    Some(row) => confirm_or_send(state, &row, partstat, comment),
                    None => {
                        error(state, "the invitation is no longer in the list".to_string());
                        Vec::new()
                    }
                }
            }
            KeyCode::Esc => {
                state.mode = Mode::Normal;
                state.no_send = false;
                info(state, "answer cancelled; nothing sent".to_string());
                Vec::new()
            }
            KeyCode::Char('e') if key.ctrl && state.editor => {
                let text = input.text.clone();
                state.mode = Mode::Comment {
                    key: row_key,
                    partstat,
                    input,
                };
                vec![Effect::EditComment { text }]
            }
            _ => {
                edit(&mut input, key);
                state.mode = Mode::Comment {
                    key: row_key,
                    partstat,
                    input,
                };
                Vec::new()
            }
        },
        Mode::Confirm {
            key: row_key,
            partstat,
            comment,
        } => {
            state.mode = Mode::Normal;
            match (key.code, state.row(&row_key).cloned()) {
                (KeyCode::Char('y' | 'Y') | KeyCode::Enter, Some(row)) => {
                    send(state, &row, partstat, comment)
                }
                (KeyCode::Char('y' | 'Y') | KeyCode::Enter, None) => {
                    error(state, "the invitation is no longer in the list".to_string());
                    Vec::new()
                }
                _ => {
                    state.no_send = false;
                    info(state, "answer cancelled; nothing sent".to_string());
                    Vec::new()
                }
            }
        }
        Mode::Occurrence {
            key: row_key,
            cursor,
        } => {
            let Some(row) = state.row(&row_key).cloned() else {
                state.mode = Mode::Normal;
                return Vec::new();
            };
            let count = row.occurrences.len() + 1;
            match (action, key.code) {
                (Some(Action::Down), _) => {
                    state.mode = Mode::Occurrence {
                        key: row_key,
                        cursor: (cursor + 1).min(count - 1),
                    }
                }
                (Some(Action::Up), _) => {
                    state.mode = Mode::Occurrence {
                        key: row_key,
                        cursor: cursor.saturating_sub(1),
                    }
                }
                (_, KeyCode::Enter) => {
                    state.mode = Mode::Normal;
                    match cursor.checked_sub(1).and_then(|i| row.occurrences.get(i)) {
                        Some(o) => {
                            info(
                                state,
                                format!(
                                    "answers to \"{}\" now apply to {} only",
                                    row.summary, o.label
                                ),
                            );
                            state.scope.insert(row.key.clone(), o.clone());
                        }
                        None => {
                            info(
                                state,
                                format!("answers to \"{}\" apply to the whole series", row.summary),
                            );
                            state.scope.remove(&row.key);
                        }
                    }
                }
                (Some(Action::Back | Action::Quit), _) | (_, KeyCode::Esc) => {
                    state.mode = Mode::Normal
                }
                _ => {}
            }
            Vec::new()
        }
    }
}

/// Text editing keys shared by the prompts.
fn edit(input: &mut LineInput, key: Key) {
    match key.code {
        KeyCode::Char('u') if key.ctrl => input.clear(),
        KeyCode::Char('a') if key.ctrl => input.home(),
        KeyCode::Char('e') if key.ctrl => input.end(),
        KeyCode::Char(c) if !key.ctrl && !key.alt => input.insert(c),
        KeyCode::Backspace => input.backspace(),
        KeyCode::Delete => input.delete(),
        KeyCode::Left => input.left(),
        KeyCode::Right => input.right(),
        KeyCode::Home => input.home(),
        KeyCode::End => input.end(),
        _ => {}
    }
}

fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let visible = state.visible().len();
    // `n` holds only for the answer keys that follow it; any other key
    // lets it go, so a later answer is mailed as usual.
    let no_send = std::mem::take(&mut state.no_send);
    match action {
        Action::Down | Action::Up if state.focus == Focus::Detail => {
            state.detail_scroll = if action == Action::Down {
                (state.detail_scroll + 1).min(MAX_DETAIL_SCROLL)
            } else {
                state.detail_scroll.saturating_sub(1)
            };
        }
        Action::First if state.focus == Focus::Detail => state.detail_scroll = 0,
        Action::Down => move_to(state, (state.selected + 1).min(visible.saturating_sub(1))),
        Action::Up => move_to(state, state.selected.saturating_sub(1)),
        Action::First => move_to(state, 0),
        Action::Last => move_to(state, visible.saturating_sub(1)),
        Action::PageDown => state.detail_scroll = (state.detail_scroll + 10).min(MAX_DETAIL_SCROLL),
        Action::PageUp => state.detail_scroll = state.detail_scroll.saturating_sub(10),
        Action::FocusDetail => {
            state.focus = match state.focus {
                Focus::List if state.selected_row().is_some() => Focus::Detail,
                _ => Focus::List,
            }
        }
        Action::Back => {
            if state.focus == Focus::List && !state.filter.is_empty() {
                let keep = state.selected_row().map(|r| r.key.clone());
                state.filter.clear();
                reselect(state, keep.as_deref());
            }
            state.focus = Focus::List;
            state.status = None;
        }
        Action::Accept
        | Action::Decline
        | Action::Tentative
        | Action::AcceptWithComment
        | Action::DeclineWithComment
        | Action::TentativeWithComment => {
            let (partstat, comment) = match action {
                Action::Accept => (PartStat::Accepted, false),
                Action::Decline => (PartStat::Declined, false),
                Action::Tentative => (PartStat::Tentative, false),
                Action::AcceptWithComment => (PartStat::Accepted, true),
                Action::DeclineWithComment => (PartStat::Declined, true),
                _ => (PartStat::Tentative, true),
            };
            state.no_send = no_send;
            return answer(state, action, partstat, comment);
        }
        Action::AnswerNoSend => {
            if no_send {
                info(state, "answers are mailed again".to_string());
            } else if usable(state, Action::Accept).is_some() {
                state.no_send = true;
                let keys: Vec<String> = [Action::Accept, Action::Decline, Action::Tentative]
                    .iter()
                    .filter_map(|a| state.keymap.label(*a))
                    .collect();
                info(
                    state,
                    format!(
                        "not mailing: press {} to answer in your calendar only \
                         (the organizer is not told); any other key cancels",
                        keys.join("/")
                    ),
                );
            }
        }
        Action::ChooseOccurrence => {
            if let Some(row) = usable(state, action) {
                let cursor = state
                    .scope_of(&row)
                    .and_then(|chosen| {
                        row.occurrences
                            .iter()
                            .position(|o: &Occurrence| o.instance == chosen.instance)
                    })
                    .map_or(0, |i| i + 1);
                state.mode = Mode::Occurrence {
                    key: row.key.clone(),
                    cursor,
                };
            }
        }
        Action::Apply => {
            if let Some(row) = usable(state, action) {
                state.busy.insert(row.key.clone(), Busy::Applying);
                info(
                    state,
                    format!("applying \"{}\" to the calendar…", row.summary),
                );
                return vec![Effect::Apply {
                    target: Target::of(&row),
                }];
            }
        }
        Action::Dismiss => {
            if let Some(row) = usable(state, action) {
                state.busy.insert(row.key.clone(), Busy::Dismissing);
                return vec![Effect::Dismiss {
                    target: Target::of(&row),
                }];
            }
        }
        Action::UndoDismiss => return undo_dismiss(state),
        Action::OpenMessage => {
            if let Some(row) = state.selected_row() {
                return vec![Effect::OpenMessage {
                    path: row.path.clone(),
                    message_id: row.message_id.clone(),
                }];
            }
            info(state, "no invitation selected".to_string());
        }
        Action::Reindex => {
            if state.indexing.is_some() {
                info(state, "already looking for new mail".to_string());
            } else {
                state.indexing = Some(Progress::Started);
                return vec![Effect::Reindex];
            }
        }
        Action::Filter => {
            state.mode = Mode::Filter {
                input: LineInput::with_text(&state.filter),
                before: state.filter.clone(),
            };
        }
        Action::TogglePending => {
            let keep = state.selected_row().map(|r| r.key.clone());
            state.show_all = !state.show_all;
            reselect(state, keep.as_deref());
            info(
                state,
                if state.show_all {
                    "showing every invitation, answered and past ones too".to_string()
                } else {
                    "showing pending invitations only".to_string()
                },
            );
            return vec![Effect::Refresh {
                all: state.show_all,
            }];
        }
        Action::DropRefused => {
            info(state, "dropping the refused replies…".to_string());
            return vec![Effect::DropRefused];
        }
        Action::RetryOutbox => {
            if state.flushing {
                info(state, "already sending the queued replies".to_string());
            } else {
                state.flushing = true;
                info(state, "sending queued replies…".to_string());
                return vec![Effect::RetryOutbox];
            }
        }
        Action::Help => state.mode = Mode::Help { scroll: 0 },
        Action::Quit => {
            if !state.busy.is_empty() && !state.confirm_quit {
                state.confirm_quit = true;
                let again = state.keymap.label(Action::Quit).unwrap_or_default();
                warn(
                    state,
                    format!(
                        "{} operation(s) still running; press {again} again to quit anyway \
                         (queued replies stay in the outbox)",
                        state.busy.len()
                    ),
                );
            } else {
                state.quit = true;
            }
        }
    }
    Vec::new()
}

fn move_to(state: &mut State, index: usize) {
    if index != state.selected {
        state.detail_scroll = 0;
    }
    state.selected = index;
}

/// The selected row when `action` may be used on it; otherwise the reason
/// goes to the status line and `None` comes back.
fn usable(state: &mut State, action: Action) -> Option<Row> {
    let Some(row) = state.selected_row().cloned() else {
        info(state, "no invitation selected".to_string());
        return None;
    };
    match state.refusal(&row, action) {
        Some(reason) => {
            error(state, format!("{}: not possible: {reason}", action.hint()));
            None
        }
        None => Some(row),
    }
}

fn answer(state: &mut State, action: Action, partstat: PartStat, comment: bool) -> Vec<Effect> {
    let Some(row) = usable(state, action) else {
        state.no_send = false;
        return Vec::new();
    };
    if comment {
        state.mode = Mode::Comment {
            key: row.key.clone(),
            partstat,
            input: LineInput::default(),
        };
        return Vec::new();
    }
    confirm_or_send(state, &row, partstat, None)
}

/// Send now, or with `[ui] confirm` ask first (`Mode::Confirm`).
fn confirm_or_send(
    state: &mut State,
    row: &Row,
    partstat: PartStat,
    comment: Option<String>,
) -> Vec<Effect> {
    // `confirm` asks before mailing; an answer after `n` mails nothing.
    if !state.confirm || state.no_send {
        return send(state, row, partstat, comment);
    }
    state.mode = Mode::Confirm {
        key: row.key.clone(),
        partstat,
        comment,
    };
    Vec::new()
}

/// Undo the dismissal of the selected row, else of the last row dismissed
/// in this session.
fn undo_dismiss(state: &mut State) -> Vec<Effect> {
    let selected = state
        .selected_row()
        .filter(|r| state.is_dismissed(r))
        .cloned();
    let row = selected.or_else(|| {
        state
            .dismiss_history
            .iter()
            .rev()
            .find_map(|k| state.row(k))
            .cloned()
    });
    let Some(row) = row else {
        info(state, "nothing dismissed to undo".to_string());
        return Vec::new();
    };
    if let Some(reason) = state.refusal(&row, Action::UndoDismiss) {
        error(state, format!("undo dismiss: not possible: {reason}"));
        return Vec::new();
    }
    state.busy.insert(row.key.clone(), Busy::Restoring);
    vec![Effect::Undismiss {
        target: Target::of(&row),
    }]
}

fn send(state: &mut State, row: &Row, partstat: PartStat, comment: Option<String>) -> Vec<Effect> {
    let instance = state.scope_of(row).cloned();
    let mail = !std::mem::take(&mut state.no_send);
    state.busy.insert(row.key.clone(), Busy::Sending(partstat));
    let scope = instance
        .as_ref()
        .map(|o| format!(" (only {})", o.label))
        .unwrap_or_default();
    let doing = if mail {
        "sending your answer"
    } else {
        "recording, without mailing, your answer"
    };
    info(
        state,
        format!(
            "{doing} ({}) to \"{}\"{scope}…",
            verb(partstat),
            row.summary
        ),
    );
    vec![Effect::Respond {
        target: Target::of(row),
        partstat,
        comment,
        instance: instance.map(|o| o.instance),
        send: mail,
    }]
}
