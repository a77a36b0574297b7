//! The title bar, the status line (messages, errors, background activity)
//! and the hint line of keys, generated from the live keymap with the keys
//! that cannot be used now shown disabled.

use super::Theme;
use crate::keymap::Action;
use crate::tui::state::{Focus, Level, Mode, Progress, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Draw the title bar: counts, mode and filter.
pub fn render_title(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let (pending, all) = state.counts();
    let mut left = if state.loading && all == 0 {
        format!(" {}", state.title)
    } else {
        format!(" {} · {pending} pending", state.title)
    };
    if state.show_all {
        left.push_str(&format!(" · showing all {all}"));
    }
    let right = if state.filter.is_empty() {
        String::new()
    } else {
        format!("filter: {} ", state.filter)
    };
    frame.render_widget(Paragraph::new("").style(theme.title()), area);
    let [l, r] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(left).style(theme.title()), l);
    frame.render_widget(Paragraph::new(right).style(theme.title()), r);
}

/// What runs in the background, for the right end of the status line.
pub fn activity(state: &State) -> Option<String> {
    let mut parts = Vec::new();
    if state.loading {
        parts.push("loading…".to_string());
    }
    match &state.indexing {
        Some(Progress::Started) => parts.push("looking for new mail…".to_string()),
        Some(Progress::Indexing {
            done,
            total: Some(t),
        }) => parts.push(format!("indexing {done}/{t}…")),
        Some(Progress::Indexing { done, total: None }) => parts.push(format!("indexing {done}…")),
        Some(Progress::Waiting(what)) => parts.push(format!("waiting for {what}…")),
        None => {}
    }
    if state.flushing {
        parts.push("sending queued replies…".to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// Most lines the status line may take when a message is long (an error
/// must show its reason, even at 80 columns).
pub const MAX_STATUS_LINES: u16 = 3;

/// How many lines the status line needs at `width`.
pub fn height(state: &State, width: u16) -> u16 {
    let text = state
        .status
        .as_ref()
        .map_or(0, |s| s.text.chars().count() + 9);
    let activity = activity(state).map_or(0, |a| a.chars().count() + 1);
    let width = usize::from(width.max(1));
    // Word wrapping loses a few cells per line: count some slack.
    let needed = (text + activity + 8 * (text / width)).div_ceil(width);
    (needed as u16).clamp(1, MAX_STATUS_LINES)
}

/// Draw the status message (wrapped) and the background activity.
pub fn render_status(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let activity = activity(state).unwrap_or_default();
    let [l, r] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(activity.chars().count() as u16),
    ])
    .spacing(if activity.is_empty() { 0 } else { 1 })
    .areas(area);
    let r = Rect {
        y: r.y + r.height.saturating_sub(1),
        height: r.height.min(1),
        ..r
    };
    if let Some(s) = &state.status {
        let line = match s.level {
            Level::Error => Line::from(vec![
                Span::styled("error: ", theme.error()),
                Span::styled(s.text.clone(), theme.error()),
            ]),
            Level::Warning => Line::from(vec![
                Span::styled("warning: ", theme.warning()),
                Span::styled(s.text.clone(), theme.warning()),
            ]),
            Level::Info => Line::raw(s.text.clone()),
        };
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), l);
    }
    frame.render_widget(Paragraph::new(Line::styled(activity, theme.dim())), r);
}

/// The actions worth a hint in the current mode, in order.
fn hinted(state: &State) -> Vec<Action> {
    match state.focus {
        _ if state.selected_row().is_none() => vec![
            Action::TogglePending,
            Action::Reindex,
            Action::RetryOutbox,
            Action::Filter,
            Action::Help,
            Action::Quit,
        ],
        Focus::List | Focus::Detail => {
            let mut v = vec![Action::Accept, Action::Decline, Action::Tentative];
            if state
                .selected_row()
                .is_some_and(|r| r.recurring && !r.occurrences.is_empty())
            {
                v.push(Action::ChooseOccurrence);
            }
            v.extend([
                Action::Apply,
                Action::Dismiss,
                Action::AcceptWithComment,
                Action::Filter,
                Action::TogglePending,
                Action::Help,
                Action::Quit,
            ]);
            v
        }
    }
}

/// Draw the key hints of the current mode.
pub fn render_hints(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let line = match &state.mode {
        Mode::Normal => normal_hints(state, theme, area.width as usize),
        Mode::Help { .. } => prompt_hints(theme, &[("↑/↓", "scroll"), ("Esc", "close")]),
        Mode::Filter { .. } => prompt_hints(theme, &[("Enter", "keep"), ("Esc", "clear")]),
        Mode::Comment { .. } if state.editor => prompt_hints(
            theme,
            &[("Enter", "send"), ("Esc", "cancel"), ("Ctrl-e", "$EDITOR")],
        ),
        Mode::Comment { .. } => prompt_hints(theme, &[("Enter", "send"), ("Esc", "cancel")]),
        Mode::Occurrence { .. } => prompt_hints(
            theme,
            &[("↑/↓", "move"), ("Enter", "choose"), ("Esc", "cancel")],
        ),
        Mode::Confirm { .. } => prompt_hints(theme, &[("y", "send"), ("n/Esc", "cancel")]),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn prompt_hints(theme: &Theme, items: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, what) in items {
        spans.push(Span::styled(k.to_string(), theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}

/// `a accept  d decline …` from the live keymap; keys refused for the
/// selected row are struck through and dimmed; stops before `width`.
fn normal_hints(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let row = state.selected_row();
    let mut spans = Vec::new();
    let mut used = 0;
    let help = state.keymap.label(Action::Help);
    let reserve = help.as_ref().map_or(0, |k| k.chars().count() + 6);
    for action in hinted(state) {
        let Some(key) = state.keymap.label(action) else {
            continue;
        };
        let text = format!("{key} {}", action.hint());
        let len = text.chars().count() + 2;
        if action != Action::Help && used + len + reserve > width {
            continue;
        }
        used += len;
        let disabled = row.is_some_and(|r| state.refusal(r, action).is_some());
        if disabled {
            spans.push(Span::styled(text, theme.disabled()));
        } else {
            spans.push(Span::styled(key, theme.key()));
            spans.push(Span::raw(format!(" {}", action.hint())));
        }
        spans.push(Span::raw("  "));
    }
    Line::from(spans)
}
