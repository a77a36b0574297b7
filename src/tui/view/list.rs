//! The list of invitations: status badge, local date and time, title,
//! organizer and warning marks, one row each.

use super::{Theme, badge};
use crate::domain::invite::PartStat;
use crate::keymap::Action;
use crate::tui::state::{Focus, Row, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};

/// Below this width the organizer column is left out.
const ORGANIZER_MIN_WIDTH: u16 = 70;

/// One character for my answer.
pub fn partstat_mark(p: Option<PartStat>) -> &'static str {
    match p {
        Some(PartStat::Accepted) => "✓",
        Some(PartStat::Declined) => "✗",
        Some(PartStat::Tentative) => "?",
        Some(PartStat::Delegated) => "→",
        _ => " ",
    }
}

/// Local date and time columns: (`Mon 2025-01-06`, `09:00` or `all day`).
pub fn when_columns(row: &Row, state: &State) -> (String, String) {
    match row.start {
        Some(t) => {
            let local = t.with_timezone(&state.clock.local);
            let time = if row.all_day {
                "all day".to_string()
            } else {
                local.format("%H:%M").to_string()
            };
            (local.format("%a %Y-%m-%d").to_string(), time)
        }
        None => ("(no date)".to_string(), String::new()),
    }
}

/// Draw the list (or why it is empty) with the selection highlighted.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let visible = state.visible();
    if visible.is_empty() {
        let text = if state.loading {
            "Loading invitations…".to_string()
        } else if !state.filter.is_empty() {
            format!("Nothing matches the filter \"{}\".", state.filter)
        } else if state.show_all {
            "No invitations found.".to_string()
        } else {
            let all = state
                .keymap
                .label(Action::TogglePending)
                .map(|k| format!(" Press {k} to show everything."))
                .unwrap_or_default();
            format!("Nothing needs you: no pending invitations.{all}")
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim())).wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let with_organizer = area.width >= ORGANIZER_MIN_WIDTH;
    let rows: Vec<TableRow<'_>> = visible
        .iter()
        .filter_map(|&i| state.rows.get(i))
        .map(|row| {
            let (date, time) = when_columns(row, state);
            // What the row is now, before what the message said: a reply
            // still in the outbox, a dismissed invitation.
            let badge_cell = match state.busy.get(&row.key) {
                Some(b) => Cell::from(Span::styled(b.label(), theme.warning())),
                None if row.queued => Cell::from(Span::styled("QUEUED", theme.warning())),
                None if state.is_dismissed(row) => {
                    Cell::from(Span::styled("DISMISSED", theme.dim()))
                }
                None => Cell::from(Span::styled(badge(row.status), theme.badge(row.status))),
            };
            let mut marks = String::new();
            if !row.warnings.is_empty() {
                marks.push('!');
            }
            if !row.conflicts.is_empty() {
                marks.push('×');
            }
            let mut cells = vec![
                badge_cell,
                Cell::from(Span::styled(
                    partstat_mark(row.partstat),
                    row.partstat.map_or(theme.dim(), |p| theme.partstat(p)),
                )),
                Cell::from(date),
                Cell::from(time),
                Cell::from(row.summary.as_str()),
            ];
            if with_organizer {
                // An invalid message has no organizer: show who sent it.
                let who = row.organizer.as_deref().or(row.sender.as_deref());
                cells.push(Cell::from(who.unwrap_or("")));
            }
            cells.push(Cell::from(Span::styled(marks, theme.warning())));
            TableRow::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(1),
        Constraint::Length(14),
        Constraint::Length(7),
        Constraint::Fill(3),
    ];
    let mut header = vec!["STATUS", "", "DATE", "TIME", "TITLE"];
    if with_organizer {
        widths.push(Constraint::Fill(1));
        header.push("ORGANIZER");
    }
    widths.push(Constraint::Length(2));
    header.push("");
    let table = Table::new(rows, widths)
        .header(
            TableRow::new(header).style(theme.dim().add_modifier(ratatui::style::Modifier::BOLD)),
        )
        .column_spacing(1)
        .highlight_symbol("> ")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always)
        .row_highlight_style(theme.selected(state.focus == Focus::List));
    let selected = state.selected.min(visible.len().saturating_sub(1));
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
