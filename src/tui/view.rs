//! Pure rendering of the state: layout, theme, and the panes in `view/`.
//! Never changes the state and never produces a message.

pub mod detail;
pub mod help;
pub mod list;
pub mod prompt;
pub mod status;

use super::state::{Mode, State};
use crate::domain::classify::Status;
use crate::domain::invite::PartStat;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};

/// Wide enough to put the detail beside the list instead of below it.
pub const SIDE_BY_SIDE_WIDTH: u16 = 160;

/// Styles, with colours only when allowed (NO_COLOR). Meaning never rests
/// on colour alone: diffs carry `-`/`+`, errors the word "error".
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The title bar.
    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    /// Section headings of the detail.
    pub fn heading(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Field labels.
    pub fn label(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Errors and refusals.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Warnings and work in progress.
    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Success.
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    /// The old value of a changed field: red and struck through.
    pub fn old(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::CROSSED_OUT)
    }

    /// The new value of a changed field: green.
    pub fn new_value(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    /// A key that cannot be used now.
    pub fn disabled(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM | Modifier::CROSSED_OUT)
    }

    /// A key in a hint.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The selected row, strong when its pane has focus.
    pub fn selected(&self, focused: bool) -> Style {
        if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        }
    }

    /// The status badge of a row.
    pub fn badge(&self, status: Status) -> Style {
        let c = match status {
            Status::New | Status::Poll => Color::Cyan,
            Status::Update => Color::Yellow,
            Status::Reschedule | Status::OrganizerChanged => Color::Magenta,
            Status::Cancel(_) | Status::Uninvited | Status::Invalid => Color::Red,
            _ => return self.dim(),
        };
        self.fg(c).add_modifier(Modifier::BOLD)
    }

    /// An answer (accepted, declined …).
    pub fn partstat(&self, p: PartStat) -> Style {
        match p {
            PartStat::Accepted => self.fg(Color::Green),
            PartStat::Declined => self.fg(Color::Red),
            PartStat::Tentative => self.fg(Color::Yellow),
            _ => self.dim(),
        }
    }
}

/// The short badge of a status in the list.
pub fn badge(status: Status) -> &'static str {
    match status {
        Status::New => "NEW",
        Status::Update => "UPDATE",
        Status::Reschedule => "RESCHED",
        Status::Poll => "POLL",
        Status::Outdated => "OUTDATED",
        Status::Duplicate => "DONE",
        Status::Cancel(_) => "CANCEL",
        Status::Cancelled => "CANCELLED",
        Status::Uninvited => "REMOVED",
        Status::OrganizerChanged => "ORG-CHG",
        Status::NotInvited => "NOT-INV",
        Status::Reply => "REPLY",
        Status::Publish => "PUBLISH",
        Status::Invalid => "INVALID",
    }
}

pub use crate::domain::describe::status_words;

/// A `width`×`height` rectangle centred in `area` (clamped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Draw the whole screen.
pub fn render(state: &State, frame: &mut Frame<'_>) {
    let theme = Theme { color: state.color };
    let area = frame.area();
    let [title, body, status_area, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(status::height(state, area.width)),
        Constraint::Length(1),
    ])
    .areas(area);
    status::render_title(state, &theme, frame, title);

    let (list_area, detail_area) = if state.selected_row().is_none() {
        (body, None)
    } else if area.width >= SIDE_BY_SIDE_WIDTH {
        let [l, d] = Layout::horizontal([Constraint::Percentage(45), Constraint::Min(20)])
            .spacing(1)
            .areas(body);
        (l, Some(d))
    } else if body.height < 8 {
        (body, None)
    } else {
        let wanted = state.visible().len() as u16 + 1;
        let max = (body.height * 2 / 5).max(3);
        let [l, d] =
            Layout::vertical([Constraint::Length(wanted.clamp(3, max)), Constraint::Min(1)])
                .areas(body);
        (l, Some(d))
    };
    list::render(state, &theme, frame, list_area);
    if let Some(d) = detail_area {
        detail::render(state, &theme, frame, d);
    }
    status::render_status(state, &theme, frame, status_area);
    status::render_hints(state, &theme, frame, hints);

    match &state.mode {
        Mode::Help { scroll } => help::render(state, &theme, frame, body, *scroll),
        Mode::Comment { .. } => prompt::render_comment(state, &theme, frame, body),
        Mode::Occurrence { .. } => prompt::render_occurrences(state, &theme, frame, body),
        Mode::Filter { .. } => prompt::render_filter(state, &theme, frame, status_area),
        Mode::Confirm { .. } => prompt::render_confirm(state, &theme, frame, body),
        Mode::Normal => {}
    }
}
