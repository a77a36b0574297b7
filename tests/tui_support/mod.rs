//! Shared by the TUI tests: rows are production [`Item`]s, listed by an
//! [`Inbox`] over memory adapters from `tests/fixtures/tui/*.eml` (fixed now
//! 2025-01-02T12:00Z, zone Europe/Berlin), with the stored copies those
//! messages refer to in the calendar.
//!
//! Use with `mod support; mod tui_support;`.
#![allow(dead_code)]

use crate::support::memenv::MemEnv;
use rsvp::adapters::memory::MemorySource;
use rsvp::domain::diff::Clock;
use rsvp::inbox::{Inbox, Listing};
use rsvp::keymap::{Key, Keymap};
use rsvp::tui::state::{Row, State};
use rsvp::tui::update::{self, Effect, Msg};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// The fixture messages as a mail source, each under its file name (the
/// name is the row's key).
pub fn source() -> Arc<MemorySource> {
    let src = MemorySource::new();
    for name in MESSAGES {
        let data = std::fs::read(fixture(name)).unwrap();
        src.add(name, &data);
    }
    Arc::new(src)
}

/// An inbox session over `m` and the fixture messages of `src`.
pub fn inbox(m: &MemEnv, src: &Arc<MemorySource>) -> Inbox {
    m.inbox(Some(src.clone()))
}

/// Every fixture as the listing makes rows of it (`--all`), in the order
/// of [`MESSAGES`] (which the key sequences of the tests are written for).
pub fn rows(m: &MemEnv) -> Vec<Row> {
    let mut session = inbox(m, &source());
    let mut items = session.list(true).unwrap().items;
    // A listing served from the saved rows has no details: the TUI asks
    // the worker for them (Effect::Detail); here, every row whole.
    for item in &mut items {
        if item.shown.is_none() {
            *item = session.item(&item.key).unwrap();
        }
    }
    assert_eq!(items.len(), MESSAGES.len(), "every fixture is listed");
    items.sort_by_key(|r| MESSAGES.iter().position(|n| *n == r.key));
    items
}

/// The row for one fixture message, keyed by its file name.
pub fn row_for(m: &MemEnv, name: &str) -> Row {
    rows(m)
        .into_iter()
        .find(|r| r.key == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))
}

/// A loaded state (colours off, as under NO_COLOR) showing `rows`.
pub fn state_with(rows: Vec<Row>) -> State {
    let mut s = State::new(Keymap::defaults(), clock());
    s.color = false;
    let _ = update::init(&mut s);
    let _ = update::update(
        &mut s,
        Msg::Rows(Ok(Listing {
            items: rows,
            unreadable: Vec::new(),
            refused: Vec::new(),
            unchanged: false,
        })),
    );
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

/// A listing of `rows` with nothing unreadable.
pub fn listing(rows: Vec<Row>) -> Listing {
    Listing {
        items: rows,
        unreadable: Vec::new(),
        refused: Vec::new(),
        unchanged: false,
    }
}

/// An error as the inbox reports it.
pub fn failure(text: &str) -> rsvp::inbox::InboxError {
    rsvp::inbox::InboxError::Other(text.to_string())
}

/// The screen `state` draws at `w`×`h`, as text.
pub fn screen(state: &State, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| rsvp::tui::view::render(state, f)).unwrap();
    t.backend().to_string()
}
