//! The help overlay, generated from the live keymap (so it cannot drift
//! from the bindings the user configured in `[keys]`).

use super::{Theme, centered};
use crate::keymap::Action;
use crate::tui::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// What the marks of the list mean.
const LEGEND: &[(&str, &str)] = &[
    (
        "!",
        "warnings: see the detail (untrusted sender, odd data …)",
    ),
    ("×", "overlaps an event in one of your calendars"),
    ("✓", "you accepted"),
    ("✗", "you declined"),
    ("?", "you answered tentatively"),
    ("QUEUED", "your reply waits in the outbox"),
    ("DISMISSED", "dismissed without a reply"),
];

/// The help text, one line per action plus the prompt keys.
pub fn lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let help = state.keymap.help();
    let width = help
        .iter()
        .map(|h| h.keys.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 18);
    let mut out: Vec<Line<'static>> = help
        .into_iter()
        .map(|h| {
            let keys = if h.keys.is_empty() {
                "(unbound)".to_string()
            } else {
                h.keys
            };
            Line::from(vec![
                Span::styled(format!(" {keys:<width$}  "), theme.key()),
                Span::raw(h.description),
            ])
        })
        .collect();
    out.push(Line::raw(""));
    out.push(Line::styled(" Marks in the list", theme.heading()));
    for (mark, meaning) in LEGEND {
        let key = match *mark {
            "QUEUED" => state.keymap.label(Action::RetryOutbox),
            "DISMISSED" => state.keymap.label(Action::UndoDismiss),
            _ => None,
        };
        let how = match (*mark, key) {
            ("QUEUED", Some(k)) => format!(" ({k} retries)"),
            ("DISMISSED", Some(k)) => format!(" ({k} undoes it)"),
            _ => String::new(),
        };
        out.push(Line::from(vec![
            Span::styled(format!(" {mark:<width$}  "), theme.key()),
            Span::raw(format!("{meaning}{how}")),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        " In prompts: Enter confirms, Esc cancels, Ctrl-u clears the line",
        theme.dim(),
    ));
    if state.editor {
        out.push(Line::styled(
            " In the comment prompt, Ctrl-e opens $EDITOR",
            theme.dim(),
        ));
    }
    out.push(Line::styled(
        " Keys are set in the [keys] section of the configuration",
        theme.dim(),
    ));
    out
}

/// Draw the help as a popup over `area`, scrolled by `scroll` lines.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect, scroll: u16) {
    let lines = lines(state, theme);
    let wanted_height = lines.len() as u16 + 2;
    let popup = centered(area, 78, wanted_height);
    let inner = popup.height.saturating_sub(2);
    let max_scroll = (lines.len() as u16).saturating_sub(inner);
    let scroll = scroll.min(max_scroll);
    let more = if scroll < max_scroll {
        " ↓ more "
    } else {
        ""
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" Keys ")
        .title_bottom(Line::from(more).right_aligned())
        .border_style(theme.heading());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}
