//! The inbox use cases wired to in-memory adapters, for engine-level tests.

use chrono::{DateTime, TimeZone, Utc};
use rsvp::adapters::memory::{MemoryOutbox, MemoryStore, MemoryTransport};
use rsvp::adapters::tombstones::MemoryTombstones;
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::inbox::Env;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

fn token() -> String {
    format!("t{:08}", COUNTER.fetch_add(1, Ordering::SeqCst))
}

pub struct MemEnv {
    pub store: MemoryStore,
    pub outbox: MemoryOutbox,
    pub tombstones: MemoryTombstones,
    pub transport: MemoryTransport,
    pub identity: Identity,
    pub groups: Vec<String>,
    pub now: DateTime<Utc>,
    pub local: chrono_tz::Tz,
}

impl MemEnv {
    /// Fixed `now` (2025-01-02 12:00 UTC) and zone (Europe/Berlin).
    pub fn new(addresses: &[&str]) -> MemEnv {
        MemEnv {
            store: MemoryStore::new(),
            outbox: MemoryOutbox::new(),
            tombstones: MemoryTombstones::default(),
            transport: MemoryTransport::new(),
            identity: Identity::new(
                Some("Test User".into()),
                &addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ),
            groups: Vec::new(),
            now: Utc.with_ymd_and_hms(2025, 1, 2, 12, 0, 0).unwrap(),
            local: chrono_tz::Europe::Berlin,
        }
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            store: &self.store,
            outbox: &self.outbox,
            tombstones: &self.tombstones,
            transport: Some(&self.transport),
            identity: &self.identity,
            groups: &self.groups,
            send_from: None,
            scheduling: rsvp::inbox::Scheduling::Client,
            clock: Clock { local: self.local },
            now: self.now,
            token: &token,
        }
    }
}
