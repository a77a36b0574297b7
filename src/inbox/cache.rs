//! The inbox's state that survives restarts (ARCHITECTURE.md "State that
//! survives restarts"), saved through the [`CacheStore`] port under
//! `$XDG_CACHE_HOME/rsvp`. Losing it costs time, never data:
//!
//! - parsed messages keyed by file identity (path + [`FileStamp`]): a warm
//!   listing reads no message file that has not changed;
//! - the calendar index: per calendar file, its identity, the UIDs it holds
//!   and its busy intervals (expanded within a window of whole months that
//!   covers the R9.7 window), rebuilt only for files whose identity changed;
//!   the same for each read-only busy calendar (`[calendar] busy`, khal's).
//!
//! A stale entry is never used: an entry is trusted only while the file's
//! stamp is unchanged, and an entry taken while the file was "racy" (changed
//! within the timestamp granularity before it was read) is read again next
//! time. A cache that cannot be read or decoded, or that was written by
//! another version or for other settings, is discarded with a log line.

use crate::domain::extract::{Mailbox, MessageMeta};
use crate::domain::ports::{CacheStore, FileStamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The cache file's name.
pub const FILE: &str = "inbox-v1.bin";
/// Bumped whenever the format or what is derived into it changes.
const FORMAT: u32 = 3;

/// A [`FileStamp`] as saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
}

impl From<FileStamp> for Stamp {
    fn from(s: FileStamp) -> Stamp {
        Stamp {
            size: s.size,
            mtime_ns: s.mtime_ns,
            ctime_ns: s.ctime_ns,
            ino: s.ino,
        }
    }
}

/// One parsed message: everything the listing needs to group it without
/// reading the file, and the calendar text to classify it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageEntry {
    pub stamp: Stamp,
    /// Taken while the file could still change unseen: read again next time.
    pub racy: bool,
    pub digest: Digest,
}

/// What a message file held.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Digest {
    /// An iTIP object was found in the part `text`.
    Invite(Box<Parsed>),
    /// Calendar data that is not a usable invitation (status `invalid`).
    Invalid {
        meta: Option<Box<Meta>>,
        reason: String,
        warnings: Vec<String>,
        /// Only the MIME `method=` disagrees (R7.2).
        method_mismatch: bool,
    },
    /// Not an invitation at all (no calendar part); not listed.
    NotInvitation(String),
}

/// A message whose calendar part holds an invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parsed {
    pub meta: Option<Meta>,
    /// The calendar part that holds the object, and its `method=`.
    pub text: String,
    pub method_param: Option<String>,
    /// Every warning of loading the message.
    pub warnings: Vec<String>,
    /// Grouping: the UID, and for a REPLY its sender (replies from
    /// different attendees are different items).
    pub uid: String,
    pub reply_from: Option<String>,
    /// SEQUENCE, then the latest DTSTAMP (unix seconds): newest first.
    pub sequence: i64,
    pub dtstamp: Option<i64>,
}

/// [`MessageMeta`] as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    from: Vec<(Option<String>, String)>,
    sender: Option<(Option<String>, String)>,
    reply_to: Vec<(Option<String>, String)>,
    to: Vec<(Option<String>, String)>,
    cc: Vec<(Option<String>, String)>,
    delivered_to: Vec<String>,
    message_id: Option<String>,
    references: Vec<String>,
    subject: Option<String>,
    date: Option<i64>,
}

fn boxes(list: &[Mailbox]) -> Vec<(Option<String>, String)> {
    list.iter()
        .map(|m| (m.name.clone(), m.address.clone()))
        .collect()
}

fn mailboxes(list: &[(Option<String>, String)]) -> Vec<Mailbox> {
    list.iter()
        .map(|(name, address)| Mailbox {
            name: name.clone(),
            address: address.clone(),
        })
        .collect()
}

impl From<&MessageMeta> for Meta {
    fn from(m: &MessageMeta) -> Meta {
        Meta {
            from: boxes(&m.from),
            sender: m
                .sender
                .as_ref()
                .map(|s| (s.name.clone(), s.address.clone())),
            reply_to: boxes(&m.reply_to),
            to: boxes(&m.to),
            cc: boxes(&m.cc),
            delivered_to: m.delivered_to.clone(),
            message_id: m.message_id.clone(),
            references: m.references.clone(),
            subject: m.subject.clone(),
            date: m.date,
        }
    }
}

impl From<&Meta> for MessageMeta {
    fn from(m: &Meta) -> MessageMeta {
        MessageMeta {
            from: mailboxes(&m.from),
            sender: m.sender.as_ref().map(|(name, address)| Mailbox {
                name: name.clone(),
                address: address.clone(),
            }),
            reply_to: mailboxes(&m.reply_to),
            to: mailboxes(&m.to),
            cc: mailboxes(&m.cc),
            delivered_to: m.delivered_to.clone(),
            message_id: m.message_id.clone(),
            references: m.references.clone(),
            subject: m.subject.clone(),
            date: m.date,
        }
    }
}

/// One calendar file of the index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub stamp: Stamp,
    pub racy: bool,
    /// The UIDs inside (one, unless the file breaks the vdir contract).
    pub uids: Vec<String>,
    /// The busy occurrences within the window starting at `window_from`.
    pub window_from: i64,
    pub busy: Vec<Busy>,
}

/// A busy occurrence of a stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    pub uid: String,
    /// Terminal-safe, one line.
    pub summary: String,
    /// Unix seconds.
    pub start: i64,
    pub end: i64,
}

/// Everything saved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    format: u32,
    /// The settings the derived data depends on (identity, zone, version).
    fingerprint: String,
    pub messages: HashMap<String, MessageEntry>,
    pub calendar: HashMap<String, CalendarEntry>,
    /// The busy calendars' files, one map per calendar in the order of
    /// `Ports::busy`.
    pub others: Vec<HashMap<String, CalendarEntry>>,
    /// Whether anything changed since it was loaded (saved only then).
    #[serde(skip)]
    pub dirty: bool,
}

impl State {
    /// An empty state for these settings.
    pub fn empty(fingerprint: &str) -> State {
        State {
            format: FORMAT,
            fingerprint: fingerprint.to_string(),
            dirty: true,
            ..State::default()
        }
    }

    /// The saved state, or an empty one (with a log line saying why) when
    /// there is none usable.
    pub fn load(store: &dyn CacheStore, fingerprint: &str, log: &dyn Fn(&str)) -> State {
        let bytes = match store.load(FILE) {
            Ok(Some(b)) => b,
            Ok(None) => return State::empty(fingerprint),
            Err(e) => {
                log(&format!("cache unreadable, rebuilding it: {e}"));
                return State::empty(fingerprint);
            }
        };
        match bincode::deserialize::<State>(&bytes) {
            Ok(s) if s.format == FORMAT && s.fingerprint == fingerprint => s,
            Ok(_) => State::empty(fingerprint),
            Err(e) => {
                log(&format!(
                    "cache {}/{FILE} is corrupt ({e}); rebuilding it",
                    store.describe()
                ));
                State::empty(fingerprint)
            }
        }
    }

    /// Save when something changed; a failure only costs time next run.
    pub fn save(&mut self, store: &dyn CacheStore, log: &dyn Fn(&str)) {
        if !self.dirty {
            return;
        }
        match bincode::serialize(&*self) {
            Ok(bytes) => match store.save(FILE, &bytes) {
                Ok(()) => self.dirty = false,
                Err(e) => log(&format!("cannot save the cache: {e}")),
            },
            Err(e) => log(&format!("cannot encode the cache: {e}")),
        }
    }
}

/// Whether a saved entry still describes the file.
pub fn fresh(saved: Stamp, racy: bool, now: FileStamp) -> bool {
    !racy && saved == Stamp::from(now)
}

/// A saved stamp as the port's [`FileStamp`].
pub fn stamp_of(s: Stamp) -> FileStamp {
    FileStamp {
        size: s.size,
        mtime_ns: s.mtime_ns,
        ctime_ns: s.ctime_ns,
        ino: s.ino,
    }
}
