//! The inbox's state that survives restarts (ARCHITECTURE.md "State that
//! survives restarts"), saved through the [`CacheStore`] port under
//! `$XDG_CACHE_HOME/rsvp` in three files. Losing it costs time, never data:
//!
//! - [`ROWS_FILE`]: the last listing's rows and what they were computed
//!   from ([`Rows`]): a listing whose inputs are unchanged is these rows;
//! - [`MESSAGES_FILE`]: parsed messages keyed by file identity (path +
//!   [`FileStamp`]): a listing reads no message file that has not changed;
//! - [`FORGOTTEN_FILE`]: rows dropped since [`ROWS_FILE`] was written (a
//!   row just answered, applied or dismissed), so that dropping one costs
//!   a few bytes, not a rewrite of every row, before the reply is sent;
//! - [`CALENDAR_FILE`]: the calendar index: per calendar file, its
//!   identity, the UIDs it holds and its busy intervals (expanded within a
//!   window of whole months that covers the R9.7 window), rebuilt only for
//!   files whose identity changed; the same for each read-only busy
//!   calendar (`[calendar] busy`, khal's); and the log of busy intervals
//!   changed since the rows were saved ([`State::busy_log`]).
//!
//! A stale entry is never used: an entry is trusted only while the file's
//! stamp is unchanged, and an entry taken while the file was "racy" (changed
//! within the timestamp granularity before it was read) is read again next
//! time. A cache that cannot be read or decoded, or that was written by
//! another version or for other settings, is discarded with a log line.

use super::item::{Conflict, Flag, Item, Occurrence};
use crate::domain::classify::{CancelScope, Status};
use crate::domain::extract::{Mailbox, MessageMeta};
use crate::domain::invite::{Method, PartStat};
use crate::domain::ports::{CacheStore, Candidate, FileStamp};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The cache file of the parsed messages.
pub const MESSAGES_FILE: &str = "messages-v1.bin";
/// The cache file of the calendar index (and its busy log).
pub const CALENDAR_FILE: &str = "calendar-v1.bin";
/// Bumped whenever the format or what is derived into it changes.
const FORMAT: u32 = 6;

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

/// Everything saved but the rows, held in two files so that a change of
/// the calendar does not rewrite the parsed messages and the other way
/// round: [`MESSAGES_FILE`] and [`CALENDAR_FILE`].
#[derive(Debug, Default)]
pub struct State {
    fingerprint: String,
    pub messages: HashMap<String, MessageEntry>,
    pub calendar: HashMap<String, CalendarEntry>,
    /// The busy calendars' files, one map per calendar in the order of
    /// `Ports::busy`.
    pub others: Vec<HashMap<String, CalendarEntry>>,
    /// The busy intervals (unix seconds) of every calendar file read again,
    /// added or removed since the rows of generation `log_base` were
    /// computed, before and after: a saved row whose occurrences overlap
    /// none of them has the same conflicts. Emptied when rows are saved.
    pub busy_log: Vec<(i64, i64)>,
    /// The [`Rows::generation`] the log counts from; 0: none (no row may
    /// be reused against this state).
    pub log_base: u64,
    /// Whether each part changed since it was loaded (saved only then).
    pub messages_dirty: bool,
    pub calendar_dirty: bool,
}

/// One of the two files of a [`State`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Messages,
    Calendar,
}

#[derive(Deserialize)]
struct MessagesFile {
    format: u32,
    fingerprint: String,
    messages: HashMap<String, MessageEntry>,
}

/// [`MESSAGES_FILE`] as written (the same layout as [`MessagesFile`]).
#[derive(Serialize)]
struct MessagesFileOut<'a> {
    format: u32,
    fingerprint: &'a str,
    messages: &'a HashMap<String, MessageEntry>,
}

/// [`CALENDAR_FILE`] as read: the written calendar's entries split in two
/// lists in the same order, the heads (name, stamp, UIDs) first, so that
/// [`calendar_heads`] decodes only those (a reply needs to know which file
/// holds a UID, not the busy times).
#[derive(Deserialize)]
struct CalendarFile {
    format: u32,
    fingerprint: String,
    heads: Vec<Head>,
    tails: Vec<Tail>,
    others: Vec<HashMap<String, CalendarEntry>>,
    busy_log: Vec<(i64, i64)>,
    log_base: u64,
}

/// [`CALENDAR_FILE`] as written (the same layout as [`CalendarFile`]).
#[derive(Serialize)]
struct CalendarFileOut<'a> {
    format: u32,
    fingerprint: &'a str,
    heads: Vec<(&'a str, Stamp, bool, &'a [String])>,
    tails: Vec<(i64, &'a [Busy])>,
    others: &'a [HashMap<String, CalendarEntry>],
    busy_log: &'a [(i64, i64)],
    log_base: u64,
}

/// The start of [`CALENDAR_FILE`]: what [`calendar_heads`] decodes.
#[derive(Deserialize)]
struct CalendarHeads {
    format: u32,
    fingerprint: String,
    heads: Vec<Head>,
}

/// A calendar file's name, stamp, racy flag and UIDs.
type Head = (String, Stamp, bool, Vec<String>);
/// A calendar file's busy window start and busy occurrences.
type Tail = (i64, Vec<Busy>);

/// Which file of the written calendar holds which UIDs, as saved (name,
/// stamp, UIDs; racy entries left out), without decoding the busy times;
/// empty when nothing usable is saved.
pub fn calendar_heads(
    store: &dyn CacheStore,
    fingerprint: &str,
    log: &dyn Fn(&str),
) -> Vec<(String, FileStamp, Vec<String>)> {
    load_file::<CalendarHeads>(store, CALENDAR_FILE, log)
        .filter(|f| f.format == FORMAT && f.fingerprint == fingerprint)
        .map(|f| {
            f.heads
                .into_iter()
                .filter(|(_, _, racy, _)| !racy)
                .map(|(href, stamp, _, uids)| (href, stamp_of(stamp), uids))
                .collect()
        })
        .unwrap_or_default()
}

/// Read and decode one cache file; `None` (with a log line saying why
/// when it was there) when it is missing, unreadable, corrupt, or for
/// other settings.
fn load_file<T: serde::de::DeserializeOwned>(
    store: &dyn CacheStore,
    name: &str,
    log: &dyn Fn(&str),
) -> Option<T> {
    let bytes = match store.load(name) {
        Ok(Some(b)) => b,
        Ok(None) => return None,
        Err(e) => {
            log(&format!("cache unreadable, rebuilding it: {e}"));
            return None;
        }
    };
    // Every file starts with its format: another version's is not corrupt,
    // only not ours (and the layout after it may differ).
    if bincode::deserialize::<u32>(&bytes).is_ok_and(|f| f != FORMAT) {
        return None;
    }
    match bincode::deserialize::<T>(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            log(&format!(
                "cache {}/{name} is corrupt ({e}); rebuilding it",
                store.describe()
            ));
            None
        }
    }
}

/// Encode `v` straight into the store's file (no copy of it in memory).
fn save_file<T: Serialize>(store: &dyn CacheStore, name: &str, v: &T, log: &dyn Fn(&str)) -> bool {
    let len = match bincode::serialized_size(v) {
        Ok(len) => len,
        Err(e) => {
            log(&format!("cannot encode the cache: {e}"));
            return false;
        }
    };
    let mut write = |w: &mut dyn std::io::Write| {
        bincode::serialize_into(w, v).map_err(|e| std::io::Error::other(e.to_string()))
    };
    match store.save_streamed(name, len, &mut write) {
        Ok(()) => true,
        Err(e) => {
            log(&format!("cannot save the cache: {e}"));
            false
        }
    }
}

/// `job` on a thread of `scope`; where none can be started, done here
/// (its result as `Err`).
fn start<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    job: &'env (dyn Fn() -> bool + Sync),
) -> Result<std::thread::ScopedJoinHandle<'scope, bool>, bool> {
    std::thread::Builder::new()
        .name("rsvp-cache-save".to_string())
        .spawn_scoped(scope, job)
        .map_err(|_| job())
}

/// What [`start`]ed `job` gave; `false` when it was not started or its
/// thread died.
fn finish(job: Option<Result<std::thread::ScopedJoinHandle<'_, bool>, bool>>) -> bool {
    match job {
        None => false,
        Some(Ok(handle)) => handle.join().unwrap_or(false),
        Some(Err(saved)) => saved,
    }
}

/// Save what changed of `state` and `rows`, each file on a thread of its
/// own, while `meanwhile` runs here (`rsvp list` prints its rows): after a
/// first listing of 20,000 events the three files are 4–5 MB each, and
/// encoding and checksumming one takes a core. Returns once every file is
/// saved. A failure only costs time next run; a part stays marked changed
/// until it is saved.
pub fn save_changed_while<R>(
    state: &mut State,
    rows: &mut Rows,
    store: &(dyn CacheStore + Sync),
    log: &(dyn Fn(&str) + Sync),
    meanwhile: impl FnOnce() -> R,
) -> R {
    let messages = state.messages_dirty.then(|| MessagesFileOut {
        format: FORMAT,
        fingerprint: &state.fingerprint,
        messages: &state.messages,
    });
    let calendar = state.calendar_dirty.then(|| state.calendar_out());
    let rows_out: Option<&Rows> = rows.dirty.then_some(&*rows);
    let save_messages = || {
        messages
            .as_ref()
            .is_some_and(|f| save_file(store, MESSAGES_FILE, f, log))
    };
    let save_calendar = || {
        calendar
            .as_ref()
            .is_some_and(|f| save_file(store, CALENDAR_FILE, f, log))
    };
    let save_rows = || rows_out.is_some_and(|r| save_file(store, ROWS_FILE, r, log));
    let (messages_saved, calendar_saved, rows_saved, out) = std::thread::scope(|scope| {
        let m = messages.is_some().then(|| start(scope, &save_messages));
        let c = calendar.is_some().then(|| start(scope, &save_calendar));
        let r = rows_out.is_some().then(|| start(scope, &save_rows));
        let out = meanwhile();
        (finish(m), finish(c), finish(r), out)
    });
    if messages_saved {
        state.messages_dirty = false;
    }
    if calendar_saved {
        state.calendar_dirty = false;
    }
    if rows_saved {
        rows.dirty = false;
    }
    out
}

impl State {
    /// An empty state for these settings.
    pub fn empty(fingerprint: &str) -> State {
        State {
            fingerprint: fingerprint.to_string(),
            messages_dirty: true,
            calendar_dirty: true,
            ..State::default()
        }
    }

    /// Replace one part with what is saved (or leave it empty).
    pub fn load_part(&mut self, store: &dyn CacheStore, part: Part, log: &dyn Fn(&str)) {
        let mine =
            |format: u32, fingerprint: &str| format == FORMAT && fingerprint == self.fingerprint;
        match part {
            Part::Messages => {
                if let Some(f) = load_file::<MessagesFile>(store, MESSAGES_FILE, log)
                    .filter(|f| mine(f.format, &f.fingerprint))
                {
                    self.messages = f.messages;
                    self.messages_dirty = false;
                }
            }
            Part::Calendar => {
                if let Some(f) = load_file::<CalendarFile>(store, CALENDAR_FILE, log)
                    .filter(|f| mine(f.format, &f.fingerprint))
                {
                    self.calendar = f
                        .heads
                        .into_iter()
                        .zip(f.tails)
                        .map(|((href, stamp, racy, uids), (window_from, busy))| {
                            let entry = CalendarEntry {
                                stamp,
                                racy,
                                uids,
                                window_from,
                                busy,
                            };
                            (href, entry)
                        })
                        .collect();
                    self.others = f.others;
                    self.busy_log = f.busy_log;
                    self.log_base = f.log_base;
                    self.calendar_dirty = false;
                }
            }
        }
    }

    /// Take `part` (and the settings' fingerprint) from `saved`.
    pub fn adopt(&mut self, saved: State, part: Part) {
        self.fingerprint = saved.fingerprint;
        match part {
            Part::Messages => {
                self.messages = saved.messages;
                self.messages_dirty = saved.messages_dirty;
            }
            Part::Calendar => {
                self.calendar = saved.calendar;
                self.others = saved.others;
                self.busy_log = saved.busy_log;
                self.log_base = saved.log_base;
                self.calendar_dirty = saved.calendar_dirty;
            }
        }
    }

    /// The saved `part` alone (the other one empty, not to be saved).
    pub fn load_only(
        store: &dyn CacheStore,
        fingerprint: &str,
        part: Part,
        log: &dyn Fn(&str),
    ) -> State {
        let mut state = State::empty(fingerprint);
        state.load_part(store, part, log);
        state
    }

    /// [`CALENDAR_FILE`] as it is to be written (borrowed).
    fn calendar_out(&self) -> CalendarFileOut<'_> {
        CalendarFileOut {
            format: FORMAT,
            fingerprint: &self.fingerprint,
            heads: self
                .calendar
                .iter()
                .map(|(href, e)| (href.as_str(), e.stamp, e.racy, e.uids.as_slice()))
                .collect(),
            tails: self
                .calendar
                .values()
                .map(|e| (e.window_from, e.busy.as_slice()))
                .collect(),
            others: &self.others,
            busy_log: &self.busy_log,
            log_base: self.log_base,
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

/// The rows cache file's name: the last listing, whole, for a warm start.
pub const ROWS_FILE: &str = "rows-v1.bin";
/// The rows dropped from [`ROWS_FILE`] since it was written ([`Forgotten`]).
pub const FORGOTTEN_FILE: &str = "rows-forgotten-v1.bin";

/// The keys of rows that no longer say what is true, for the rows of one
/// [`Rows::generation`]: a newer generation of rows ignores them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Forgotten {
    format: u32,
    generation: u64,
    keys: Vec<String>,
}

/// The last listing as rows (every item, `--all`), and everything it was
/// computed from. A listing whose inputs are all unchanged is served from
/// here without reading [`MESSAGES_FILE`], [`CALENDAR_FILE`], a message or
/// a calendar file:
///
/// - the mail index's revision and the candidates it gave, each with its
///   file stamp (any new message, tag change or touched file misses);
/// - a digest of every calendar file's name and stamp (any calendar change
///   misses: conflicts and the day agenda depend on the whole calendar);
/// - digests of the tombstones and of the outbox's queued replies;
/// - the answers of the contacts list that the rows depended on;
/// - the time: rows are kept until the earliest moment one of them changes
///   with the time alone ([`super::Item::until`]) and never past the UTC
///   day (the overlap window moves with it).
///
/// Rows computed while any of those files was "racy" are not reused.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Rows {
    pub(crate) format: u32,
    pub fingerprint: String,
    /// Which computation these rows are (see [`State::log_base`]).
    pub generation: u64,
    pub revision: Option<String>,
    pub candidates: Vec<CandidateEntry>,
    pub candidates_digest: u64,
    pub calendar_digest: u64,
    pub tombstones_digest: u64,
    pub outbox_digest: u64,
    pub computed_at: i64,
    pub valid_until: i64,
    pub racy: bool,
    /// (address, trusted) as asked while building the rows.
    pub trust: Vec<(String, bool)>,
    pub unreadable: Vec<(String, String)>,
    pub items: Vec<RowEntry>,
    #[serde(skip)]
    pub dirty: bool,
    /// The keys dropped since the rows of this generation were written
    /// ([`FORGOTTEN_FILE`]).
    #[serde(skip)]
    pub(crate) forgotten: Vec<String>,
    /// Whether the rows may be used (loaded for these settings and format).
    #[serde(skip)]
    pub usable: bool,
}

impl Rows {
    /// Rows for these settings that match nothing yet.
    pub fn empty(fingerprint: &str) -> Rows {
        Rows {
            format: FORMAT,
            fingerprint: fingerprint.to_string(),
            ..Rows::default()
        }
    }

    /// The saved rows, or empty ones when there are none usable (a corrupt
    /// file is said in the log).
    pub fn load(store: &dyn CacheStore, fingerprint: &str, log: &dyn Fn(&str)) -> Rows {
        let bytes = match store.load(ROWS_FILE) {
            Ok(Some(b)) => b,
            Ok(None) => return Rows::empty(fingerprint),
            Err(e) => {
                log(&format!("cache unreadable, rebuilding it: {e}"));
                return Rows::empty(fingerprint);
            }
        };
        if bincode::deserialize::<u32>(&bytes).is_ok_and(|f| f != FORMAT) {
            return Rows::empty(fingerprint);
        }
        match bincode::deserialize::<Rows>(&bytes) {
            Ok(mut r) if r.format == FORMAT && r.fingerprint == fingerprint => {
                r.usable = true;
                r.apply_forgotten(store, log);
                r
            }
            Ok(_) => Rows::empty(fingerprint),
            Err(e) => {
                log(&format!(
                    "cache {}/{ROWS_FILE} is corrupt ({e}); rebuilding it",
                    store.describe()
                ));
                Rows::empty(fingerprint)
            }
        }
    }

    /// Drop the rows forgotten since these were written ([`Rows::forget`]).
    fn apply_forgotten(&mut self, store: &dyn CacheStore, log: &dyn Fn(&str)) {
        let Some(f) = load_file::<Forgotten>(store, FORGOTTEN_FILE, log) else {
            return;
        };
        if f.format != FORMAT || f.generation != self.generation || f.keys.is_empty() {
            return;
        }
        self.items.retain(|r| !f.keys.iter().any(|k| k == r.key()));
        self.valid_until = i64::MIN;
        self.forgotten = f.keys;
    }

    /// The row `key` no longer says what is true: drop it here and in what
    /// is saved, by writing only the list of rows dropped (a few bytes)
    /// rather than every row again. Rows with a dropped row are never
    /// served whole again: the next listing rebuilds that row.
    pub fn forget(&mut self, key: &str, store: &dyn CacheStore, log: &dyn Fn(&str)) {
        if !self.usable {
            return;
        }
        self.items.retain(|r| r.key() != key);
        self.valid_until = i64::MIN;
        if !self.forgotten.iter().any(|k| k == key) {
            self.forgotten.push(key.to_string());
        }
        let forgotten = Forgotten {
            format: FORMAT,
            generation: self.generation,
            keys: self.forgotten.clone(),
        };
        save_file(store, FORGOTTEN_FILE, &forgotten, log);
    }
}

/// A [`Candidate`] as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CandidateEntry {
    id: String,
    path: String,
    stamp: Stamp,
    tags: Vec<String>,
    missing: Option<String>,
}

impl From<&Candidate> for CandidateEntry {
    fn from(c: &Candidate) -> CandidateEntry {
        CandidateEntry {
            id: c.id.clone(),
            path: c.path.clone(),
            stamp: c.stamp.into(),
            tags: c.tags.clone(),
            missing: c.missing.clone(),
        }
    }
}

impl From<&CandidateEntry> for Candidate {
    fn from(c: &CandidateEntry) -> Candidate {
        Candidate {
            id: c.id.clone(),
            path: c.path.clone(),
            stamp: stamp_of(c.stamp),
            tags: c.tags.clone(),
            missing: c.missing.clone(),
        }
    }
}

type Span = (i64, i64);

/// An [`Item`] without its classification and day agenda, as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowEntry {
    key: String,
    path: String,
    uid: String,
    status: (String, Option<String>),
    partstat: Option<String>,
    summary: String,
    start: Option<i64>,
    start_text: String,
    all_day: bool,
    organizer: Option<String>,
    organizer_display: Option<String>,
    organizer_address: Option<String>,
    organizer_cn: Option<String>,
    sender: Option<String>,
    flags: Vec<String>,
    warnings: Vec<String>,
    message: CandidateEntry,
    older: Vec<CandidateEntry>,
    pending: bool,
    past: bool,
    queued: bool,
    dismissed: bool,
    recurring: bool,
    occurrences: Vec<(String, String, i64)>,
    conflicts: Vec<(String, String, Span)>,
    reply_refusal: Option<String>,
    apply_refusal: Option<String>,
    server_sends_reply: bool,
    method_mismatch: bool,
    answers: Option<String>,
    method: Option<String>,
    invite_uid: Option<String>,
    message_id: Option<String>,
    search: String,
    until: Option<i64>,
    /// What the row was built from besides the busy times.
    pub inputs: RowInputs,
}

/// What one row was built from: when all of it is unchanged, and no busy
/// interval changed within `span`, the row is still true.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowInputs {
    /// Digest of the messages of its UID (paths, stamps, tags).
    pub versions: u64,
    /// Digest of the stored copy's file and stamp (0: none).
    pub stored: u64,
    pub tombstone: Option<i64>,
    pub queued: bool,
    /// (address, trusted) as asked while building it.
    pub trust: Vec<(String, bool)>,
    /// Its occurrences within the overlap window ([`Item::overlap_slots`]);
    /// empty: its conflicts do not depend on the calendar.
    pub slots: Vec<(i64, i64)>,
    /// One of its files had changed too recently to be trusted by stamp.
    pub racy: bool,
}

const STATUSES: [Status; 16] = [
    Status::New,
    Status::Update,
    Status::Reschedule,
    Status::Poll,
    Status::Outdated,
    Status::Duplicate,
    Status::Cancel(CancelScope::Whole),
    Status::Cancel(CancelScope::Instances),
    Status::Cancel(CancelScope::ThisAndFuture),
    Status::Cancelled,
    Status::Uninvited,
    Status::OrganizerChanged,
    Status::NotInvited,
    Status::Reply,
    Status::Publish,
    Status::Invalid,
];

const FLAGS: [Flag; 4] = [
    Flag::SenderNotOrganizer,
    Flag::OrganizerChanged,
    Flag::Untrusted,
    Flag::RecurrenceCapped,
];

fn at(t: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t, 0)
}

impl RowEntry {
    /// The row of `i`, built from `inputs`.
    pub fn of(i: &Item, inputs: RowInputs) -> RowEntry {
        RowEntry {
            inputs,
            ..RowEntry::from(i)
        }
    }

    /// The key of the item (its newest message's id).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// When the row stops being true with the time alone.
    pub fn until(&self) -> Option<i64> {
        self.until
    }
}

impl From<&Item> for RowEntry {
    fn from(i: &Item) -> RowEntry {
        let span = |a: DateTime<Utc>, b: DateTime<Utc>| (a.timestamp(), b.timestamp());
        RowEntry {
            key: i.key.clone(),
            path: i.path.clone(),
            uid: i.uid.clone(),
            status: (
                i.status.as_str().to_string(),
                i.status.cancel_scope().map(str::to_string),
            ),
            partstat: i.partstat.map(|p| p.as_str().to_string()),
            summary: i.summary.clone(),
            start: i.start.map(|t| t.timestamp()),
            start_text: i.start_text.clone(),
            all_day: i.all_day,
            organizer: i.organizer.clone(),
            organizer_display: i.organizer_display.clone(),
            organizer_address: i.organizer_address.clone(),
            organizer_cn: i.organizer_cn.clone(),
            sender: i.sender.clone(),
            flags: i.flags.iter().map(|f| f.as_str().to_string()).collect(),
            warnings: i.warnings.clone(),
            message: (&i.message).into(),
            older: i.older.iter().map(CandidateEntry::from).collect(),
            pending: i.pending,
            past: i.past,
            queued: i.queued,
            dismissed: i.dismissed,
            recurring: i.recurring,
            occurrences: i
                .occurrences
                .iter()
                .map(|o| (o.instance.clone(), o.label.clone(), o.start.timestamp()))
                .collect(),
            conflicts: i
                .conflicts
                .iter()
                .map(|c| (c.uid.clone(), c.summary.clone(), span(c.start, c.end)))
                .collect(),
            reply_refusal: i.reply_refusal.clone(),
            apply_refusal: i.apply_refusal.clone(),
            server_sends_reply: i.server_sends_reply,
            method_mismatch: i.method_mismatch,
            answers: i.answers.clone(),
            method: i.method.map(|m| m.as_str().to_string()),
            invite_uid: i.invite_uid.clone(),
            message_id: i.message_id.clone(),
            search: i.search.clone(),
            until: i.until.map(|t| t.timestamp()),
            inputs: RowInputs::default(),
        }
    }
}

impl RowEntry {
    /// The row again (without its classification); `None` when something
    /// saved no longer decodes (the rows are then rebuilt).
    pub fn item(&self) -> Option<Item> {
        let status = STATUSES.iter().copied().find(|s| {
            s.as_str() == self.status.0 && s.cancel_scope() == self.status.1.as_deref()
        })?;
        let mut flags = Vec::with_capacity(self.flags.len());
        for f in &self.flags {
            flags.push(FLAGS.iter().copied().find(|x| x.as_str() == f)?);
        }
        let method = match &self.method {
            Some(m) => Some(Method::parse(m)?),
            None => None,
        };
        let mut occurrences = Vec::with_capacity(self.occurrences.len());
        for (instance, label, start) in &self.occurrences {
            occurrences.push(Occurrence {
                instance: instance.clone(),
                label: label.clone(),
                start: at(*start)?,
            });
        }
        let mut conflicts = Vec::with_capacity(self.conflicts.len());
        for (uid, summary, (start, end)) in &self.conflicts {
            conflicts.push(Conflict {
                uid: uid.clone(),
                summary: summary.clone(),
                start: at(*start)?,
                end: at(*end)?,
            });
        }
        let start = match self.start {
            Some(t) => Some(at(t)?),
            None => None,
        };
        let until = match self.until {
            Some(t) => Some(at(t)?),
            None => None,
        };
        Some(Item {
            key: self.key.clone(),
            path: self.path.clone(),
            uid: self.uid.clone(),
            status,
            partstat: self.partstat.as_deref().map(PartStat::parse),
            summary: self.summary.clone(),
            start,
            start_text: self.start_text.clone(),
            all_day: self.all_day,
            organizer: self.organizer.clone(),
            organizer_display: self.organizer_display.clone(),
            organizer_address: self.organizer_address.clone(),
            organizer_cn: self.organizer_cn.clone(),
            sender: self.sender.clone(),
            flags,
            warnings: self.warnings.clone(),
            message: (&self.message).into(),
            superseded: self.older.len(),
            older: self.older.iter().map(Candidate::from).collect(),
            pending: self.pending,
            past: self.past,
            queued: self.queued,
            dismissed: self.dismissed,
            recurring: self.recurring,
            occurrences,
            conflicts,
            // Kept out of the rows (a fifth of their size): the details
            // carry it (`Inbox::item`).
            agenda: None,
            reply_refusal: self.reply_refusal.clone(),
            apply_refusal: self.apply_refusal.clone(),
            server_sends_reply: self.server_sends_reply,
            method_mismatch: self.method_mismatch,
            answers: self.answers.clone(),
            method,
            invite_uid: self.invite_uid.clone(),
            message_id: self.message_id.clone(),
            search: self.search.clone(),
            until,
            overlap_slots: self.inputs.slots.clone(),
            shown: None,
        })
    }
}
