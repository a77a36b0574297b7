//! The TUI on the test fixtures with memory adapters: how `tui::run` is
//! wired (`cargo run --example tui_fixtures`). Replies go to a memory
//! transport; nothing leaves the machine. Set `RSVP_FAIL_SEND=1` to make
//! the first send fail (the reply stays queued; `R` retries).

use chrono::{DateTime, TimeZone, Utc};
use rsvp::adapters::memory::{MemoryOutbox, MemorySource, MemoryStore, MemoryTransport};
use rsvp::adapters::tombstones::MemoryTombstones;
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::domain::ports::TransportError;
use rsvp::inbox::{Env, Scheduling};
use rsvp::keymap::Keymap;
use rsvp::tui::source::Listing;
use rsvp::tui::worker::{Backend, Ports};
use rsvp::tui::{self, Options};
use std::path::{Path, PathBuf};

const STORED: &[&str] = &[
    "supplier-sync.ics",
    "book-club.ics",
    "budget-review.ics",
    "dentist.ics",
];

/// The adapters, owned by the worker thread.
struct Memory {
    store: MemoryStore,
    outbox: MemoryOutbox,
    tombstones: MemoryTombstones,
    transport: MemoryTransport,
    identity: Identity,
    now: DateTime<Utc>,
}

fn token() -> String {
    format!("{:x}", rand::random::<u64>())
}

impl Ports for Memory {
    fn env(&self) -> Env<'_> {
        Env {
            store: &self.store,
            outbox: &self.outbox,
            tombstones: &self.tombstones,
            transport: Some(&self.transport),
            identity: &self.identity,
            groups: &[],
            send_from: None,
            scheduling: Scheduling::Client,
            clock: clock(),
            // The fixtures are from January 2025.
            now: self.now,
            token: &token,
        }
    }
}

fn clock() -> Clock {
    Clock {
        local: chrono_tz::Europe::Berlin,
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui")
}

fn main() -> anyhow::Result<()> {
    let log = std::env::temp_dir().join("rsvp-tui-fixtures.log");
    let mut options = Options::from_env(Keymap::defaults(), clock(), Some(log));
    options.title = "rsvp fixtures".to_string();
    let fail = std::env::var_os("RSVP_FAIL_SEND").is_some();
    tui::run(
        options,
        Box::new(move || {
            let memory = Memory {
                store: MemoryStore::new(),
                outbox: MemoryOutbox::new(),
                tombstones: MemoryTombstones::default(),
                transport: MemoryTransport::new(),
                identity: Identity::new(
                    Some("Dana User".into()),
                    &["dana@example.org".to_string()],
                ),
                now: Utc
                    .with_ymd_and_hms(2025, 1, 2, 12, 0, 0)
                    .single()
                    .ok_or("bad date")?,
            };
            for name in STORED {
                let data = std::fs::read(fixtures().join("stored").join(name))
                    .map_err(|e| format!("{name}: {e}"))?;
                memory.store.insert(name, &data);
            }
            if fail {
                memory.transport.fail_next(
                    TransportError::Connection {
                        server: "smtp.example.org:587".into(),
                        message: "Connection refused".into(),
                    },
                    1,
                );
            }
            // The listing use case over the fixture messages, as `main.rs`
            // will do over notmuch (with the index for `r`).
            let mail = MemorySource::from_dir(&fixtures()).map_err(|e| e.to_string())?;
            let source = Listing::new(Box::new(mail), None, Box::new(|_| true));
            Ok(Backend::new(memory, source))
        }),
    )
}
