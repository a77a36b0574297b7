//! Shared set-up of the fuzz targets: memory adapters with a fixed clock,
//! and the invariants checked on every output.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use rsvp::adapters::memory::{MemoryOutbox, MemoryStore, MemoryTransport};
use rsvp::adapters::tombstones::MemoryTombstones;
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::domain::ports::CalendarStore;
use rsvp::inbox::{Declined, Env, Scheduling};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

fn token() -> String {
    format!("fz{:08}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// In-memory ports, `now` = 2025-01-02 12:00 UTC, local zone Europe/Berlin.
pub struct MemEnv {
    pub store: MemoryStore,
    pub outbox: MemoryOutbox,
    pub tombstones: MemoryTombstones,
    pub transport: MemoryTransport,
    pub identity: Identity,
    pub groups: Vec<String>,
    pub busy: Vec<Box<dyn CalendarStore>>,
    pub now: DateTime<Utc>,
}

impl MemEnv {
    pub fn new(addresses: &[String]) -> MemEnv {
        MemEnv {
            store: MemoryStore::new(),
            outbox: MemoryOutbox::new(),
            tombstones: MemoryTombstones::default(),
            transport: MemoryTransport::new(),
            identity: Identity::new(Some("Fuzz User".into()), addresses),
            groups: Vec::new(),
            busy: vec![Box::new(MemoryStore::new())],
            now: Utc
                .with_ymd_and_hms(2025, 1, 2, 12, 0, 0)
                .single()
                .unwrap_or_default(),
        }
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            store: &self.store,
            busy_calendars: &self.busy,
            outbox: &self.outbox,
            tombstones: &self.tombstones,
            transport: Some(&self.transport),
            identity: &self.identity,
            groups: &self.groups,
            send_from: None,
            scheduling: Scheduling::Client,
            declined: Declined::default(),
            clock: Clock {
                local: chrono_tz::Europe::Berlin,
            },
            now: self.now,
            token: &token,
        }
    }
}

/// The addresses of the attendees of the message's primary component, so
/// that the fuzzed invitation is addressed to "me" and the reply path runs.
pub fn attendee_addresses(raw: &[u8]) -> Vec<String> {
    let mut out = vec!["me@example.org".to_string()];
    if let Ok(loaded) = rsvp::inbox::load(raw)
        && let Ok(invite) = &loaded.invite
        && let Some(primary) = invite.primary()
    {
        out.extend(
            primary
                .attendees()
                .into_iter()
                .filter_map(|a| a.email)
                .take(1),
        );
    }
    out
}

/// The terminal invariant (R9.5): no C0 control but `\t` and `\n`, no DEL,
/// no C1 control, no bidi control.
pub fn assert_terminal_safe(what: &str, text: &str) {
    for c in text.chars() {
        let u = u32::from(c);
        let bad = (u < 0x20 && c != '\t' && c != '\n')
            || u == 0x7f
            || (0x80..=0x9f).contains(&u)
            || rsvp::domain::sanitize::is_bidi_control(c);
        assert!(!bad, "{what}: control {c:?} reaches the terminal in {text:?}");
    }
}

/// Header names a built iMIP message may carry.
const TOP_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "auto-submitted",
    "content-type",
];

/// The invariants of every message rsvp builds (R9.6, T56): every line ends
/// in CRLF (no bare CR or LF), every byte is printable ASCII or SP/HTAB, and
/// the top-level header block holds only the header names rsvp writes.
pub fn assert_message_well_formed(message: &[u8]) {
    assert!(message.ends_with(b"\r\n"), "message does not end in CRLF");
    for (i, &b) in message.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(message.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && message[i - 1] == b'\r', "bare LF at {i}"),
            b'\t' | b' '..=b'~' => {}
            _ => panic!("byte {b:#04x} at {i} is not printable ASCII"),
        }
    }
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let name = line.split(':').next().unwrap_or_default().to_ascii_lowercase();
        assert!(
            TOP_HEADERS.contains(&name.as_str()),
            "unexpected header line {line:?}"
        );
    }
}
