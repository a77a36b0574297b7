//! Prompts: the comment editor sent with an answer, the filter line, and
//! the choice between the whole series and one occurrence.

use super::{Theme, centered};
use crate::domain::invite::PartStat;
use crate::domain::sanitize::terminal_line;
use crate::tui::state::{LineInput, Mode, State};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph};

/// The visible part of `input` in `width` cells and the cursor column.
fn visible(input: &LineInput, width: usize) -> (String, u16) {
    // A comment from $EDITOR may span lines; show line breaks as a mark.
    let chars: Vec<char> = input
        .text
        .chars()
        .map(|c| match c {
            '\n' => '↵',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let width = width.max(1);
    let start = input.cursor.saturating_sub(width - 1);
    let shown: String = chars.iter().skip(start).take(width).collect();
    let col = input.cursor - start;
    (shown, col as u16)
}

fn verb(p: PartStat) -> &'static str {
    match p {
        PartStat::Accepted => "Accept",
        PartStat::Declined => "Decline",
        PartStat::Tentative => "Tentative",
        _ => "Answer",
    }
}

/// Draw the comment editor over the bottom of `area`, with the cursor.
pub fn render_comment(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Mode::Comment {
        key,
        partstat,
        input,
    } = &state.mode
    else {
        return;
    };
    let summary = state.row(key).map(|r| r.summary.as_str()).unwrap_or("");
    let width = area.width.saturating_sub(4).min(100);
    let popup = Rect {
        y: area.y + area.height.saturating_sub(3),
        ..centered(area, width, 3)
    };
    let scope = state
        .row(key)
        .and_then(|r| state.scope_of(r))
        .map(|o| format!(" (only {})", o.label))
        .unwrap_or_default();
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(
            " {} \"{summary}\"{scope} with a comment ",
            verb(*partstat)
        ))
        .border_style(theme.heading());
    let inner = block.inner(popup);
    let (text, col) = visible(input, inner.width as usize);
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(Line::raw(text)).block(block), popup);
    frame.set_cursor_position(Position {
        x: inner.x + col,
        y: inner.y,
    });
}

/// Draw the question before mailing an answer (`[ui] confirm`).
pub fn render_confirm(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Mode::Confirm {
        key,
        partstat,
        comment,
    } = &state.mode
    else {
        return;
    };
    let row = state.row(key);
    let summary = row.map(|r| r.summary.as_str()).unwrap_or("");
    let to = row
        .and_then(|r| r.organizer_address.as_deref())
        .map_or_else(|| "the organizer".to_string(), terminal_line);
    let scope = row
        .and_then(|r| state.scope_of(r))
        .map(|o| format!(" (only {})", o.label))
        .unwrap_or_default();
    let mut lines = vec![Line::raw(format!(
        "{} \"{summary}\"{scope} and mail the reply to {to}?",
        verb(*partstat)
    ))];
    if let Some(c) = comment {
        lines.push(Line::styled(format!("Comment: {c}"), theme.dim()));
    }
    lines.push(Line::from(vec![
        Span::styled("y", theme.key()),
        Span::raw(" or Enter sends, any other key cancels"),
    ]));
    let width = area.width.saturating_sub(4).min(100);
    let popup = centered(area, width, lines.len() as u16 + 2);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" Send the reply? ")
        .border_style(theme.heading());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: false }),
        popup,
    );
}

/// Draw the filter line in place of the status line.
pub fn render_filter(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Mode::Filter { input, .. } = &state.mode else {
        return;
    };
    let (text, col) = visible(input, area.width.saturating_sub(9) as usize);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("filter: ", theme.key()),
            Span::raw(text),
        ])),
        area,
    );
    frame.set_cursor_position(Position {
        x: area.x + 8 + col,
        y: area.y,
    });
}

/// Draw the series-or-occurrence chooser as a popup.
pub fn render_occurrences(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Mode::Occurrence { key, cursor } = &state.mode else {
        return;
    };
    let Some(row) = state.row(key) else {
        return;
    };
    let mut items = vec![ListItem::new("The whole series")];
    items.extend(
        row.occurrences
            .iter()
            .map(|o| ListItem::new(format!("Only {}", o.label))),
    );
    let height = (items.len() as u16 + 2).min(area.height);
    let popup = centered(area, 76, height);
    let list = List::new(items)
        .block(
            Block::new()
                .borders(Borders::ALL)
                .title(format!(" Answer \"{}\" for ", row.summary))
                .border_style(theme.heading()),
        )
        .highlight_symbol("> ")
        .highlight_style(theme.selected(true));
    let mut list_state = ListState::default().with_selected(Some(*cursor));
    frame.render_widget(Clear, popup);
    frame.render_stateful_widget(list, popup, &mut list_state);
}
