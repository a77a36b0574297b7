//! The inbox use cases wired to in-memory adapters, for engine-level tests.

use chrono::{DateTime, TimeZone, Utc};
use rsvp::adapters::cache::MemoryCache;
use rsvp::adapters::memory::MemorySource;
use rsvp::adapters::memory::{MemoryOutbox, MemoryStore, MemoryTransport};
use rsvp::adapters::tombstones::MemoryTombstones;
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::inbox::{Env, Inbox, Ports, Settings};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

fn token() -> String {
    format!("t{:08}", COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// Cloning shares the adapters (they are `Arc`s).
#[derive(Clone)]
pub struct MemEnv {
    pub store: Arc<MemoryStore>,
    /// Another calendar the user keeps (read only: busy times only).
    pub other: Arc<MemoryStore>,
    pub outbox: Arc<MemoryOutbox>,
    pub tombstones: Arc<MemoryTombstones>,
    pub transport: Arc<MemoryTransport>,
    /// The inbox session's cache (shared by every `inbox()` of this env).
    pub cache: Arc<MemoryCache>,
    pub identity: Identity,
    pub groups: Vec<String>,
    pub now: DateTime<Utc>,
    pub local: chrono_tz::Tz,
    /// `[calendar] declined` (default: transparent).
    pub declined: rsvp::inbox::Declined,
}

impl MemEnv {
    /// Fixed `now` (2025-01-02 12:00 UTC) and zone (Europe/Berlin).
    pub fn new(addresses: &[&str]) -> MemEnv {
        MemEnv {
            store: Arc::new(MemoryStore::new()),
            other: Arc::new(MemoryStore::new()),
            outbox: Arc::new(MemoryOutbox::new()),
            tombstones: Arc::new(MemoryTombstones::default()),
            transport: Arc::new(MemoryTransport::new()),
            cache: Arc::new(MemoryCache::new()),
            identity: Identity::new(
                Some("Test User".into()),
                &addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ),
            groups: Vec::new(),
            now: Utc.with_ymd_and_hms(2025, 1, 2, 12, 0, 0).unwrap(),
            local: chrono_tz::Europe::Berlin,
            declined: rsvp::inbox::Declined::default(),
        }
    }

    /// An inbox session over these adapters and `source`, trusting every
    /// sender, with this env's fixed time and zone.
    pub fn inbox(&self, source: Option<Arc<MemorySource>>) -> Inbox {
        let now = self.now;
        Inbox::new(
            Ports {
                store: Box::new(self.store.clone()),
                busy: vec![Box::new(self.other.clone())],
                outbox: Box::new(self.outbox.clone()),
                tombstones: Box::new(self.tombstones.clone()),
                transport: Some(Box::new(self.transport.clone())),
                source: source.map(|s| Box::new(s) as Box<dyn rsvp::domain::ports::InviteSource>),
                index: None,
                cache: Box::new(self.cache.clone()),
            },
            Settings {
                identity: self.identity.clone(),
                groups: self.groups.clone(),
                send_from: None,
                scheduling: rsvp::inbox::Scheduling::Client,
                declined: self.declined,
                clock: Clock { local: self.local },
                trusted: Box::new(|_: &str| true),
                now: Box::new(move || now),
                token: Box::new(token),
                log: Box::new(|_: &str| {}),
            },
        )
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            store: &*self.store,
            busy_calendars: &[],
            outbox: &*self.outbox,
            tombstones: &*self.tombstones,
            transport: Some(&*self.transport),
            identity: &self.identity,
            groups: &self.groups,
            send_from: None,
            scheduling: rsvp::inbox::Scheduling::Client,
            declined: self.declined,
            clock: Clock { local: self.local },
            now: self.now,
            token: &token,
        }
    }
}
