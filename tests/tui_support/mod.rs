//! Shared by the TUI tests: rows built from `tests/fixtures/tui/*.eml`
//! through `inbox::show` on memory adapters (fixed now 2025-01-02T12:00Z,
//! zone Europe/Berlin), with the stored copies those messages refer to.
//!
//! Use with `mod support; mod tui_support;`.
#![allow(dead_code)]

use crate::support::memenv::MemEnv;
use chrono::{TimeZone, Utc};
use rsvp::domain::diff::Clock;
use rsvp::inbox::{self, Env};
use rsvp::keymap::{Key, Keymap};
use rsvp::tui::row;
use rsvp::tui::state::{Conflict, Row, State};
use rsvp::tui::update::{self, Effect, Msg};
use rsvp::tui::worker::{DataSource, Mark, Ports};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// My address in every fixture.
pub const ME: &str = "dana@example.org";

/// The messages, in list order.
pub const MESSAGES: &[&str] = &[
    "google-new.eml",
    "outlook-reschedule.eml",
    "apple-recurring.eml",
    "google-conflict.eml",
    "thunderbird-cancel.eml",
    "google-outdated.eml",
    "hostile.eml",
];

/// Stored copies put in the calendar before showing the messages.
pub const STORED: &[&str] = &[
    "supplier-sync.ics",
    "book-club.ics",
    "budget-review.ics",
    "dentist.ics",
];

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tui")
        .join(name)
}

/// A memory environment whose calendar holds the stored copies.
pub fn memenv() -> MemEnv {
    let m = MemEnv::new(&[ME]);
    for name in STORED {
        let data = std::fs::read(fixture(&format!("stored/{name}"))).unwrap();
        m.store.insert(name, &data);
    }
    m
}

pub fn clock() -> Clock {
    Clock {
        local: chrono_tz::Europe::Berlin,
    }
}

/// The row for one fixture message, keyed by its file name.
pub fn row_for(m: &MemEnv, name: &str) -> Row {
    row_in(&m.env(), name)
}

/// The row for one fixture message as the use cases in `env` see it.
pub fn row_in(env: &Env<'_>, name: &str) -> Row {
    let path = fixture(name);
    let raw = std::fs::read(&path).unwrap();
    let shown = inbox::show(env, &raw).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut row = row::from_shown(name, &path.to_string_lossy(), shown, &env.clock, env.now);
    if name == "google-conflict.eml" {
        // What the listing computes from the calendar: the dentist at 10:30.
        row.conflicts = vec![Conflict {
            uid: "dentist-2025-01-06@khal".into(),
            summary: "Dentist".into(),
            start: Utc.with_ymd_and_hms(2025, 1, 6, 9, 30, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2025, 1, 6, 10, 30, 0).unwrap(),
        }];
    }
    row
}

/// Every fixture as rows.
pub fn rows(m: &MemEnv) -> Vec<Row> {
    MESSAGES.iter().map(|n| row_for(m, n)).collect()
}

/// A loaded state (colours off, as under NO_COLOR) showing `rows`.
pub fn state_with(rows: Vec<Row>) -> State {
    let mut s = State::new(Keymap::defaults(), clock());
    s.color = false;
    let _ = update::init(&mut s);
    let _ = update::update(&mut s, Msg::Rows(Ok(rows)));
    let _ = update::update(&mut s, Msg::Indexed(Ok(None)));
    s
}

/// Feed keys written like `"j j a"` (space separated; named keys as in
/// `[keys]`, `Space` for a space) and collect every effect.
pub fn keys(state: &mut State, keys: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for k in keys.split(' ').filter(|k| !k.is_empty()) {
        let key = Key::parse(k).unwrap_or_else(|e| panic!("{e}"));
        out.extend(update::update(state, Msg::Key(key)));
    }
    out
}

/// Type text into a prompt, character by character.
pub fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(update::update(state, Msg::Key(Key::char(c))));
    }
    out
}

/// The memory environment shared between a test and the worker's backend.
#[derive(Clone)]
pub struct Shared(pub Arc<MemEnv>);

impl Ports for Shared {
    fn env(&self) -> Env<'_> {
        self.0.env()
    }
}

/// A data source over the fixture messages that records the marks (what
/// notmuch tags would record).
#[derive(Clone, Default)]
pub struct Fixtures {
    pub marks: Arc<Mutex<Vec<(String, Mark)>>>,
}

impl DataSource for Fixtures {
    fn rows(&mut self, env: &Env<'_>, all: bool) -> Result<Vec<Row>, String> {
        Ok(MESSAGES
            .iter()
            .map(|n| row_in(env, n))
            .filter(|r| all || r.pending)
            .collect())
    }

    fn mark(&mut self, target: &rsvp::tui::update::Target, mark: Mark) -> Result<(), String> {
        self.marks.lock().unwrap().push((target.key.clone(), mark));
        Ok(())
    }
}
