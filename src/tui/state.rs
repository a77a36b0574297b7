//! UI state only: the rows, the selection, the mode, what is in flight and
//! the status line. Never performs I/O; only `update` changes it.

use crate::domain::classify::Status;
use crate::domain::diff::Clock;
use crate::domain::invite::PartStat;
use crate::keymap::{Action, Keymap};
use std::collections::{BTreeMap, BTreeSet};

/// An event of the calendar that overlaps the invitation (from the listing).
pub use crate::inbox::Conflict;
/// One row of the list: the inbox's read model, rendered as it is.
pub use crate::inbox::Item as Row;
/// One occurrence of a recurring event (`i`).
pub use crate::inbox::Occurrence;

/// Which pane the movement keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Detail,
}

/// A one-line text editor (comment and filter prompts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
    /// Cursor position in characters.
    pub cursor: usize,
}

impl LineInput {
    /// An editor holding `text`, cursor at the end.
    pub fn with_text(text: &str) -> LineInput {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Insert `c` at the cursor.
    pub fn insert(&mut self, c: char) {
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Delete the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_at(self.cursor);
        self.text.remove(at);
    }

    /// Delete the character under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Move the cursor one character left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Move the cursor one character right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    /// Move the cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Move the cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Empty the line.
    pub fn clear(&mut self) {
        *self = LineInput::default();
    }
}

/// What the keyboard currently talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// The help overlay, scrolled by `scroll` lines.
    Help {
        scroll: u16,
    },
    /// Typing a filter; `before` is restored on Esc.
    Filter {
        input: LineInput,
        before: String,
    },
    /// Typing a comment to send with an answer.
    Comment {
        key: String,
        partstat: PartStat,
        input: LineInput,
    },
    /// Choosing the whole series or one occurrence; 0 = the series.
    Occurrence {
        key: String,
        cursor: usize,
    },
    /// `[ui] confirm`: the answer waits for `y` (or Enter) before mailing.
    Confirm {
        key: String,
        partstat: PartStat,
        comment: Option<String>,
    },
}

/// An operation in flight for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    Sending(PartStat),
    Applying,
    Dismissing,
    Restoring,
}

impl Busy {
    /// What the list shows instead of the status badge.
    pub fn label(self) -> &'static str {
        match self {
            Busy::Sending(_) => "sending…",
            Busy::Applying => "applying…",
            Busy::Dismissing => "dismissing…",
            Busy::Restoring => "restoring…",
        }
    }
}

/// How bad a status message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// The message under the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub level: Level,
    pub text: String,
}

/// Progress of background indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Started, nothing counted yet.
    Started,
    /// `done` of `total` (when known) messages looked at.
    Indexing { done: usize, total: Option<usize> },
    /// Another program holds the index; retrying (the text says which).
    Waiting(String),
}

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct State {
    pub rows: Vec<Row>,
    /// Index into [`State::visible`].
    pub selected: usize,
    pub focus: Focus,
    pub mode: Mode,
    /// Show everything, not only pending invitations.
    pub show_all: bool,
    /// Case-insensitive text filter.
    pub filter: String,
    /// Rows with an operation in flight, by key.
    pub busy: BTreeMap<String, Busy>,
    /// The occurrence chosen with `i`, by key; absent = the whole series.
    pub scope: BTreeMap<String, Occurrence>,
    /// Rows dismissed in this session (hidden unless showing everything).
    pub dismissed: BTreeSet<String>,
    /// Dismissals undone in this session (until the next listing says so).
    pub restored: BTreeSet<String>,
    /// The rows dismissed in this session, the last one last (`u` undoes it).
    pub dismiss_history: Vec<String>,
    /// `[ui] confirm`: ask before mailing an answer.
    pub confirm: bool,
    pub status: Option<StatusLine>,
    /// Waiting for the first list.
    pub loading: bool,
    pub indexing: Option<Progress>,
    /// Retrying the outbox.
    pub flushing: bool,
    /// Replies the mail server refused for good, as of the last listing
    /// (they stay in the outbox, unsent, until dropped).
    pub refused: usize,
    pub detail_scroll: u16,
    /// The row whose details (classification, diff, agenda) were asked of
    /// the worker: rows painted from the saved listing come without them.
    pub detail_asked: Option<String>,
    pub keymap: Keymap,
    pub clock: Clock,
    /// Colours on (off when NO_COLOR is set).
    pub color: bool,
    /// `$EDITOR` can be used for comments.
    pub editor: bool,
    /// Heading of the screen.
    pub title: String,
    /// `q` was pressed while replies were in flight.
    pub confirm_quit: bool,
    /// `n` was pressed: the next answer changes the calendar only.
    pub no_send: bool,
    pub quit: bool,
}

impl State {
    /// A fresh state, loading.
    pub fn new(keymap: Keymap, clock: Clock) -> State {
        State {
            rows: Vec::new(),
            selected: 0,
            focus: Focus::List,
            mode: Mode::Normal,
            show_all: false,
            filter: String::new(),
            busy: BTreeMap::new(),
            scope: BTreeMap::new(),
            dismissed: BTreeSet::new(),
            restored: BTreeSet::new(),
            dismiss_history: Vec::new(),
            confirm: false,
            status: None,
            loading: true,
            indexing: None,
            flushing: false,
            refused: 0,
            detail_scroll: 0,
            detail_asked: None,
            keymap,
            clock,
            color: true,
            editor: false,
            title: "rsvp".to_string(),
            confirm_quit: false,
            no_send: false,
            quit: false,
        }
    }

    /// Indices into `rows` of the rows on screen, in order.
    pub fn visible(&self) -> Vec<usize> {
        let needle = fold(self.filter.trim());
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                self.busy.contains_key(&r.key)
                    || self.show_all
                    || (r.pending && !self.dismissed.contains(&r.key))
                    || (self.restored.contains(&r.key) && !r.past)
            })
            .filter(|(_, r)| needle.is_empty() || matches_filter(r, &needle))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether `row` is dismissed (by its tag or in this session).
    pub fn is_dismissed(&self, row: &Row) -> bool {
        self.dismissed.contains(&row.key) || (row.dismissed && !self.restored.contains(&row.key))
    }

    /// The selected row, if the list is not empty.
    pub fn selected_row(&self) -> Option<&Row> {
        let visible = self.visible();
        visible
            .get(self.selected)
            .or_else(|| visible.last())
            .and_then(|&i| self.rows.get(i))
    }

    /// The row with `key`.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.key == key)
    }

    /// Why `action` cannot be used on `row` now, or `None` when it can. The
    /// single source for both refusing a key and showing it disabled before
    /// it is pressed.
    pub fn refusal(&self, row: &Row, action: Action) -> Option<String> {
        let busy = self
            .busy
            .get(&row.key)
            .map(|b| format!("{} (wait for the result)", b.label()));
        match action {
            Action::Accept
            | Action::Decline
            | Action::Tentative
            | Action::AcceptWithComment
            | Action::DeclineWithComment
            | Action::TentativeWithComment => busy.or_else(|| row.reply_refusal.clone()),
            Action::ChooseOccurrence => busy.or_else(|| row.reply_refusal.clone()).or_else(|| {
                (!row.recurring || row.occurrences.is_empty())
                    .then(|| "this event has no occurrences to choose from".to_string())
            }),
            Action::Apply if row.method_mismatch => busy,
            Action::Apply => {
                busy.or_else(|| row.apply_refusal.clone())
                    .or_else(|| match row.status {
                        Status::Duplicate => {
                            Some("this version is already in your calendar".to_string())
                        }
                        Status::Cancelled => {
                            Some("the cancellation is already in your calendar".to_string())
                        }
                        _ => None,
                    })
            }
            Action::Dismiss => busy.or_else(|| {
                self.is_dismissed(row)
                    .then(|| "this invitation is already dismissed".to_string())
            }),
            Action::UndoDismiss => busy.or_else(|| {
                (!self.is_dismissed(row)).then(|| "this invitation is not dismissed".to_string())
            }),
            _ => None,
        }
    }

    /// The occurrence answers apply to for `row`, if one was chosen.
    pub fn scope_of(&self, row: &Row) -> Option<&Occurrence> {
        self.scope.get(&row.key)
    }

    /// Counts for the heading: (pending rows, all rows).
    pub fn counts(&self) -> (usize, usize) {
        let pending = self
            .rows
            .iter()
            .filter(|r| r.pending && !self.dismissed.contains(&r.key))
            .count();
        (pending, self.rows.len())
    }
}

/// What the filter looks at: title, organizer (name, address and so its
/// domain), sender, location, attendees, UID and status.
fn matches_filter(row: &Row, needle: &str) -> bool {
    let hit = |s: &str| fold(s).contains(needle);
    if hit(&row.summary)
        || row.organizer.as_deref().is_some_and(hit)
        || row.organizer_address.as_deref().is_some_and(hit)
        || row.sender.as_deref().is_some_and(hit)
        || hit(&row.uid)
        || hit(row.status.as_str())
    {
        return true;
    }
    row.search.lines().any(hit)
}

/// Lower case without accents, so "tomas" finds "Tomás" and "muller"
/// finds "Müller" (Latin letters; other scripts are only lower-cased).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à'..='å' | 'ā' | 'ă' | 'ą' => out.push('a'),
            'æ' => out.push_str("ae"),
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => out.push('c'),
            'ď' | 'đ' | 'ð' => out.push('d'),
            'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => out.push('e'),
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => out.push('g'),
            'ĥ' | 'ħ' => out.push('h'),
            'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => out.push('i'),
            'ĵ' => out.push('j'),
            'ķ' => out.push('k'),
            'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => out.push('l'),
            'ñ' | 'ń' | 'ņ' | 'ň' => out.push('n'),
            'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => out.push('o'),
            'œ' => out.push_str("oe"),
            'ŕ' | 'ŗ' | 'ř' => out.push('r'),
            'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => out.push('s'),
            'ß' => out.push_str("ss"),
            'ţ' | 'ť' | 'ŧ' | 'ț' => out.push('t'),
            'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => out.push('u'),
            'ŵ' => out.push('w'),
            'ý' | 'ÿ' | 'ŷ' => out.push('y'),
            'ź' | 'ż' | 'ž' => out.push('z'),
            'þ' => out.push_str("th"),
            // Combining marks (a decomposed "a" + U+0301) fold away.
            '\u{300}'..='\u{36f}' => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_ignores_case_and_accents() {
        assert_eq!(fold("Tomás MÜLLER"), "tomas muller");
        assert_eq!(fold("Tome\u{301}"), "tome");
        assert_eq!(fold("Straße Œuvre"), "strasse oeuvre");
        assert!(fold("Łódź").contains("lodz"));
    }

    #[test]
    fn line_input_edits_by_characters() {
        let mut i = LineInput::with_text("héllo");
        assert_eq!(i.cursor, 5);
        i.left();
        i.left();
        i.backspace();
        assert_eq!(i.text, "hélo");
        i.home();
        i.delete();
        assert_eq!(i.text, "élo");
        i.insert('→');
        assert_eq!(i.text, "→élo");
        assert_eq!(i.cursor, 1);
        i.end();
        i.right();
        assert_eq!(i.cursor, 4);
        i.clear();
        assert_eq!(i, LineInput::default());
    }
}
