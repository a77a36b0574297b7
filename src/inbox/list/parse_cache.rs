//! The [`ParseCache`]: what a listing keeps of the messages it parsed and
//! of the calendar it indexed, between listings and (saved by the
//! [`crate::inbox::Inbox`]) between runs.

use crate::inbox::cache::{self, State};

/// Parsed messages and the calendar index, kept between listings (and,
/// through the [`crate::inbox::Inbox`], between runs).
#[derive(Debug)]
pub struct ParseCache {
    pub(crate) state: State,
    /// Which parts of `state` hold what was saved (else they are loaded on the
    /// first listing that needs it, through [`super::ListOptions::load`]).
    pub(crate) loaded: Parts,
    /// The last listing's rows and what they were computed from.
    pub(crate) rows: cache::Rows,
    pub(super) reads: usize,
    pub(super) calendar_reads: usize,
    pub(super) served: usize,
    pub(super) reused: usize,
}

/// Which parts of the saved state are in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts {
    pub(crate) messages: bool,
    pub(crate) calendar: bool,
}

impl Parts {
    const ALL: Parts = Parts {
        messages: true,
        calendar: true,
    };
    const NONE: Parts = Parts {
        messages: false,
        calendar: false,
    };

    pub(crate) fn any(self) -> bool {
        self.messages || self.calendar
    }
}

impl Default for ParseCache {
    fn default() -> Self {
        ParseCache::new()
    }
}

impl ParseCache {
    pub fn new() -> ParseCache {
        ParseCache::with_state(State::empty(""))
    }

    pub(crate) fn with_state(state: State) -> ParseCache {
        ParseCache {
            state,
            loaded: Parts::ALL,
            rows: cache::Rows::default(),
            reads: 0,
            calendar_reads: 0,
            served: 0,
            reused: 0,
        }
    }

    /// A cache that starts from saved `rows`; the parsed messages and the
    /// calendar index are loaded only when a listing needs them.
    pub(crate) fn with_rows(rows: cache::Rows) -> ParseCache {
        let mut state = State::empty("");
        // Nothing of it is saved until a part is loaded (or cleared).
        state.messages_dirty = false;
        state.calendar_dirty = false;
        ParseCache {
            state,
            loaded: Parts::NONE,
            rows,
            reads: 0,
            calendar_reads: 0,
            served: 0,
            reused: 0,
        }
    }

    /// How many saved rows were taken again one by one by listings that
    /// could not be served whole.
    pub fn rows_reused(&self) -> usize {
        self.reused
    }

    /// How many listings were served from the saved rows.
    pub fn served_from_rows(&self) -> usize {
        self.served
    }

    /// Load a part of what was saved, once (see [`super::ListOptions::load`]).
    pub(crate) fn ensure(
        &mut self,
        part: cache::Part,
        load: Option<&dyn Fn(cache::Part) -> State>,
    ) {
        let done = match part {
            cache::Part::Messages => &mut self.loaded.messages,
            cache::Part::Calendar => &mut self.loaded.calendar,
        };
        if *done {
            return;
        }
        *done = true;
        let Some(load) = load else {
            return;
        };
        let saved = load(part);
        self.state.adopt(saved, part);
    }

    /// Both parts (a listing that cannot be served from the rows).
    pub(crate) fn ensure_loaded(&mut self, load: Option<&dyn Fn(cache::Part) -> State>) {
        self.ensure(cache::Part::Messages, load);
        self.ensure(cache::Part::Calendar, load);
    }

    /// The calendar part (index, busy log), moved out to be brought up to
    /// date on another thread; [`ParseCache::put_calendar`] takes it back.
    pub(crate) fn take_calendar(&mut self) -> ParseCache {
        let mut state = State::empty("");
        state.calendar = std::mem::take(&mut self.state.calendar);
        state.others = std::mem::take(&mut self.state.others);
        state.busy_log = std::mem::take(&mut self.state.busy_log);
        state.log_base = self.state.log_base;
        state.calendar_dirty = self.state.calendar_dirty;
        state.messages_dirty = false;
        ParseCache::with_state(state)
    }

    /// Take back the calendar part of [`ParseCache::take_calendar`].
    pub(crate) fn put_calendar(&mut self, side: ParseCache) {
        self.state.calendar = side.state.calendar;
        self.state.others = side.state.others;
        self.state.busy_log = side.state.busy_log;
        self.state.log_base = side.state.log_base;
        self.state.calendar_dirty = side.state.calendar_dirty;
        self.calendar_reads += side.calendar_reads;
    }

    /// How many message files were read from the source so far.
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// How many calendar files were read to index them so far.
    pub fn calendar_reads(&self) -> usize {
        self.calendar_reads
    }

    /// How many messages are cached.
    pub fn len(&self) -> usize {
        self.state.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.messages.is_empty()
    }

    /// Forget everything (the next listing reads every file again).
    pub fn clear(&mut self) {
        self.state.messages.clear();
        self.state.calendar.clear();
        self.state.others.clear();
        self.state.messages_dirty = true;
        self.state.calendar_dirty = true;
        self.state.busy_log.clear();
        self.state.log_base = 0;
        self.loaded = Parts::ALL;
        self.rows.usable = false;
    }
}
