//! The ports: what the use cases need from the outside world. The adapters
//! implement them (the memory adapters for tests and the demo). The
//! calendar store, outbox, tombstones and transport are `Send + Sync`: a
//! first listing reads and classifies on every core. The mail source is
//! not (notmuch handles stay on one thread).

use thiserror::Error;

/// One calendar object as stored in the calendar collection (a vdir file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The file name inside the collection (never a path, never parsed).
    pub href: String,
    /// vdirsyncer-style ETag: `"<mtime_ns>;<inode>"` (R9.12).
    pub etag: String,
    /// The raw iCalendar bytes.
    pub data: Vec<u8>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The object changed between our read and our write (R9.12, T61).
    #[error("calendar object {href} was changed by another program while rsvp was writing it")]
    Conflict { href: String },
    #[error("calendar object {href} no longer exists")]
    Gone { href: String },
    #[error("calendar {path}: {message}")]
    Io { path: String, message: String },
}

/// A calendar collection: one object per UID.
pub trait CalendarStore: Send + Sync {
    /// Find the object that holds `uid`, by the UIDs inside the files,
    /// never by parsing file names (R9.10).
    fn find_by_uid(&self, uid: &str) -> Result<Option<StoredObject>, StoreError>;
    /// Store a new object for `uid` under a safe new name; returns it with its ETag.
    fn create(&self, uid: &str, data: &[u8]) -> Result<StoredObject, StoreError>;
    /// Replace an existing object, keeping its name, if its ETag still matches.
    fn update(&self, existing: &StoredObject, data: &[u8]) -> Result<StoredObject, StoreError>;
    /// Every object in the collection (for overlaps and listings).
    fn list(&self) -> Result<Vec<StoredObject>, StoreError>;
    /// Start the next [`CalendarStore::scan`] now, in the background, so
    /// it runs beside the caller's other work (a listing loads its saved
    /// rows and asks the mail index meanwhile); a store may ignore this.
    fn prefetch_scan(&self) {}
    /// Every object's name and identity, without reading any content (one
    /// directory scan): what the inbox's calendar index is kept by.
    fn scan(&self) -> Result<Vec<(String, FileStamp)>, StoreError> {
        Ok(self
            .list()?
            .into_iter()
            .map(|o| {
                let stamp = FileStamp {
                    size: o.data.len() as u64,
                    mtime_ns: 0,
                    ctime_ns: 0,
                    ino: content_hash(&o.data),
                };
                (o.href, stamp)
            })
            .collect())
    }
    /// What the caller already knows about the collection (name, identity,
    /// the UIDs inside), so a store that indexes files by UID need not read
    /// them again: entries whose identity no longer matches are ignored.
    fn prime(&self, known: &mut dyn Iterator<Item = (String, FileStamp, Vec<String>)>) {
        let _ = known;
    }
    /// One object by name; `None` when it does not exist.
    fn get(&self, href: &str) -> Result<Option<StoredObject>, StoreError> {
        Ok(self.list()?.into_iter().find(|o| o.href == href))
    }
    /// [`CalendarStore::get`] of each name, in order (a store may read
    /// them on several cores).
    fn get_many(&self, hrefs: &[&str]) -> Vec<Result<Option<StoredObject>, StoreError>> {
        hrefs.iter().map(|h| self.get(h)).collect()
    }
    /// Remove an object if its ETag still matches (`[calendar] declined =
    /// "drop"`); a store that cannot delete says so.
    fn delete(&self, existing: &StoredObject) -> Result<(), StoreError> {
        Err(StoreError::Io {
            path: existing.href.clone(),
            message: "this calendar cannot delete events".into(),
        })
    }
}

/// A cheap content hash, the identity of an object in stores that have no
/// file system stamps (memory).
fn content_hash(data: &[u8]) -> u64 {
    // FNV-1a, 64 bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Who a message goes to and comes from at the SMTP level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// 4xx, a timeout, a dropped connection: retrying later may work.
    #[error("temporary failure from {server}: {message}")]
    Temporary { server: String, message: String },
    /// 5xx or a refused recipient: retrying the same message will not help.
    #[error("permanent failure from {server}: {message}")]
    Permanent { server: String, message: String },
    /// The server could not be reached at all.
    #[error("cannot connect to {server}: {message}")]
    Connection { server: String, message: String },
    /// The server refused our credentials.
    #[error("authentication failed at {server}: {message}")]
    Auth { server: String, message: String },
    /// The transport is misconfigured (bad command, missing password command...).
    #[error("{0}")]
    Config(String),
}

impl TransportError {
    /// Whether the reply should stay queued for a later `outbox flush`.
    /// Every failure keeps the message queued; this only tells the user
    /// whether a plain retry is expected to help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TransportError::Temporary { .. } | TransportError::Connection { .. }
        )
    }
}

impl TransportError {
    /// Whether the server refused this very message for good (a 5xx reply,
    /// a refused recipient): sending the same bytes again cannot succeed,
    /// so the outbox sets the entry apart instead of retrying it for ever.
    /// Auth and configuration failures are not: fixing them fixes the send.
    pub fn is_permanent(&self) -> bool {
        matches!(self, TransportError::Permanent { .. })
    }
}

/// Hands a finished RFC 5322 message to the mail system.
pub trait Transport: Send + Sync {
    fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), TransportError>;
    /// A one-line description for diagnostics, never containing a secret.
    fn describe(&self) -> String;
}

/// What a queued reply answers, so that the same answer is not sent twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyKey {
    pub uid: String,
    /// The RECURRENCE-IDs answered, in iCalendar form; empty for the series.
    pub recurrence_ids: Vec<String>,
    /// ACCEPTED, DECLINED or TENTATIVE.
    pub partstat: String,
    /// SEQUENCE of the invitation answered.
    pub sequence: i64,
}

/// One reply in the durable outbox (R9.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Stable id of the entry; also the basis of the Message-ID (same on every retry).
    pub id: String,
    pub envelope: Envelope,
    pub key: ReplyKey,
    /// The exact message bytes; retries send these bytes unchanged.
    pub message: Vec<u8>,
    /// Last error seen when sending, if any.
    pub last_error: Option<String>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OutboxError {
    #[error("outbox {path}: {message}")]
    Io { path: String, message: String },
    #[error("outbox entry {id} not found")]
    NotFound { id: String },
}

/// The durable queue of replies: a reply is written here before the calendar
/// changes and leaves only when the transport accepted it.
pub trait Outbox: Send + Sync {
    /// Store a new entry durably (fsync) and return it.
    fn put(&self, entry: &OutboxEntry) -> Result<(), OutboxError>;
    /// Entries not yet accepted by the transport, oldest first.
    fn pending(&self) -> Result<Vec<OutboxEntry>, OutboxError>;
    /// Record a failed attempt.
    fn record_error(&self, id: &str, error: &str) -> Result<(), OutboxError>;
    /// The transport accepted the entry: move it to the sent record.
    fn mark_sent(&self, id: &str) -> Result<(), OutboxError>;
    /// Drop a pending entry that must not be sent (its calendar write failed).
    fn discard(&self, id: &str) -> Result<(), OutboxError>;
    /// An entry (pending or sent) that answered exactly this key, if any.
    fn find(&self, key: &ReplyKey) -> Result<Option<(OutboxEntry, bool)>, OutboxError>;

    /// Record a failed attempt; an entry the server refused for good
    /// ([`TransportError::is_permanent`]) leaves the queue and is kept
    /// among [`Outbox::failed`] until the user drops it. The default keeps
    /// every failure queued (`record_error`).
    fn record_failure(&self, id: &str, error: &TransportError) -> Result<(), OutboxError> {
        self.record_error(id, &error.to_string())
    }

    /// Entries the server refused for good, oldest first; not pending, so
    /// no flush sends them again.
    fn failed(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        Ok(Vec::new())
    }

    /// Store a new entry that must not be sent yet: the calendar write it
    /// answers for is not recorded (issue 8 item 1). [`Outbox::mark_ready`]
    /// makes it sendable. Default: sendable at once.
    fn put_staged(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        self.put(entry)
    }

    /// The calendar write of a staged entry is done: it may be sent.
    fn mark_ready(&self, id: &str) -> Result<(), OutboxError> {
        let _ = id;
        Ok(())
    }

    /// Staged entries whose calendar write was never recorded (rsvp stopped
    /// between the two): never sent by a flush; answering again reuses them.
    fn staged(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        Ok(Vec::new())
    }

    /// Remove one entry, pending or failed, at the user's request
    /// (`rsvp outbox drop ID`); NotFound when there is none.
    fn drop_entry(&self, id: &str) -> Result<(), OutboxError> {
        let known = self.pending()?.iter().any(|e| e.id == id);
        if !known {
            return Err(OutboxError::NotFound { id: id.to_string() });
        }
        self.discard(id)
    }
}

/// CANCELs received for UIDs that were not in the calendar (R3.1, R4.7):
/// a later, older REQUEST for the same UID is ignored.
pub trait Tombstones: Send + Sync {
    fn get(&self, uid: &str) -> Result<Option<i64>, StoreError>;
    fn record(&self, uid: &str, sequence: i64) -> Result<(), StoreError>;
    /// Every tombstone at once (a listing reads them once, not per item).
    fn all(&self) -> Result<std::collections::HashMap<String, i64>, StoreError>;
}

/// Where the inbox keeps state that only saves time (parsed messages, the
/// calendar index) between runs, e.g. `$XDG_CACHE_HOME/rsvp`. Losing it
/// costs time, never data.
pub trait CacheStore {
    /// The bytes saved under `name`; `Ok(None)` when there are none.
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, String>;
    /// Replace what is saved under `name` (atomically: a reader sees the
    /// old or the new bytes, never a mix).
    fn save(&self, name: &str, data: &[u8]) -> Result<(), String>;
    /// [`CacheStore::save`] of the `len` bytes that `write` writes, without
    /// holding them in memory when the store need not (a cache file of
    /// several megabytes is written as it is encoded).
    fn save_streamed(
        &self,
        name: &str,
        len: u64,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), String> {
        let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        write(&mut data).map_err(|e| format!("cannot encode {name}: {e}"))?;
        self.save(name, &data)
    }
    /// One line naming where (for log lines).
    fn describe(&self) -> String;
}

/// The identity of a file's content as the file system tells it, for
/// caches: a file whose stamp is unchanged is not read again. The ctime is
/// part of it because user space cannot set it (a tool that restores the
/// mtime after an edit still changes the ctime).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FileStamp {
    pub size: u64,
    /// Modification time in nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Status change time in nanoseconds since the epoch.
    pub ctime_ns: i64,
    pub ino: u64,
}

impl FileStamp {
    /// The modification time in whole seconds.
    pub fn mtime(&self) -> i64 {
        self.mtime_ns.div_euclid(1_000_000_000)
    }

    /// Whether the file changed so shortly before `now_ns` that another
    /// change within the file system's timestamp granularity could leave
    /// the stamp unchanged ("racy", as git calls it): such an entry is
    /// read again next time instead of trusted.
    pub fn is_racy(&self, now_ns: i64) -> bool {
        self.mtime_ns
            .max(self.ctime_ns)
            .saturating_add(RACY_WINDOW_NS)
            > now_ns
    }
}

/// See [`FileStamp::is_racy`].
pub const RACY_WINDOW_NS: i64 = 3_000_000_000;

/// One message that may carry an invitation, as the mail index sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// A stable id for the message (notmuch message id, or the path).
    pub id: String,
    /// The message file (absolute path as text).
    pub path: String,
    /// The file's identity, for caches.
    pub stamp: FileStamp,
    /// Tags the index holds for it (e.g. `rsvp/accepted`).
    pub tags: Vec<String>,
    /// Why the file cannot be read, when the index knows the message but
    /// none of its files exists any more (moved since the last `notmuch
    /// new`): shown as unreadable, never silently dropped.
    pub missing: Option<String>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// Another process holds the mail index's write lock; try again later.
    #[error("waiting for the mail index {0}: another program is writing to it")]
    Locked(String),
    #[error("mail index {path}: {message}")]
    Index { path: String, message: String },
    /// rsvp's private index has not been created yet.
    #[error("mail index {0}: the private index does not exist yet: run `rsvp index`")]
    NotIndexed(String),
    #[error("message {path}: {message}")]
    Message { path: String, message: String },
    /// A plain Maildir given as the mail source (`--maildir`) that is not one.
    #[error("maildir {path}: {message}")]
    Maildir { path: String, message: String },
}

/// Where candidate invitation messages come from (notmuch, or memory in tests).
pub trait InviteSource {
    /// Messages matching the invitation query (text/calendar, application/ics, .ics).
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError>;
    /// The raw bytes of one message.
    fn read(&self, candidate: &Candidate) -> Result<Vec<u8>, SourceError>;
    /// Record what was done (`+rsvp/accepted`, `-rsvp/pending` …).
    fn tag(&self, candidate: &Candidate, add: &[&str], remove: &[&str]) -> Result<(), SourceError>;
    /// The candidates, or [`Found::Unchanged`] when the index has not
    /// changed since the revision `since` that an earlier call returned
    /// (then the earlier list still holds, file stamps aside). A source
    /// without revisions always answers with the list.
    fn candidates_since(&self, since: Option<&str>) -> Result<Found, SourceError> {
        let _ = since;
        Ok(Found::Changed {
            revision: None,
            candidates: self.candidates()?,
        })
    }
    /// The file's stamp now; `None` when it is gone or the source cannot
    /// tell (the caller then asks for the candidates again).
    fn restat(&self, path: &str) -> Option<FileStamp> {
        let _ = path;
        None
    }
}

/// What [`InviteSource::candidates_since`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The index is at the revision given.
    Unchanged,
    /// The candidates now, and the index's revision (if it has one).
    Changed {
        revision: Option<String>,
        candidates: Vec<Candidate>,
    },
}

/// Counts of one indexing run, for `rsvp index` and the TUI's progress line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexCounts {
    /// Message files looked at (only in directories that changed).
    pub scanned: u64,
    /// Messages new to the index (a file renamed by the mail client is not new).
    pub added: u64,
    /// Messages whose last file vanished.
    pub removed: u64,
    /// Files that could not be indexed (not mail, unreadable, non-UTF-8 name).
    pub skipped: u64,
    /// Messages in the index afterwards.
    pub total: u64,
    /// Messages matching the invitation query afterwards.
    pub candidates: u64,
    /// Whether rsvp maintains this index (a private index of a Maildir);
    /// false for the user's own notmuch database, which `notmuch new` indexes.
    pub managed: bool,
}

/// What an indexing run reports while it runs; the last event is
/// `Indexed` or `Failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexProgress {
    /// Another program holds the index's write lock; indexing starts when
    /// it is released ("waiting for the notmuch database").
    Waiting,
    /// Running counts (`total` and `candidates` are still 0).
    Scanning(IndexCounts),
    /// Done.
    Indexed(IndexCounts),
    /// Gave up; nothing is lost, the next run starts again.
    Failed(SourceError),
}

/// A mail index that can be brought up to date in the background.
pub trait MailIndex {
    /// Start an indexing run and return at once; events arrive on the
    /// returned channel, which closes after `Indexed` or `Failed`.
    fn start_index(&self) -> std::sync::mpsc::Receiver<IndexProgress>;

    /// One line naming the index (a database directory or a config file).
    fn describe(&self) -> String;

    /// Run an index to the end, calling `on_progress` for every event.
    fn index(
        &self,
        on_progress: &mut dyn FnMut(&IndexProgress),
    ) -> Result<IndexCounts, SourceError> {
        let events = self.start_index();
        let mut last = None;
        for event in events.iter() {
            on_progress(&event);
            match event {
                IndexProgress::Indexed(counts) => last = Some(Ok(counts)),
                IndexProgress::Failed(e) => last = Some(Err(e)),
                IndexProgress::Waiting | IndexProgress::Scanning(_) => {}
            }
        }
        last.unwrap_or_else(|| {
            Err(SourceError::Index {
                path: self.describe(),
                message: "indexing stopped without a result".to_string(),
            })
        })
    }
}

/// A shared source is still a source (one notmuch handle serving as both
/// the candidate source and the index).
impl<T: InviteSource + ?Sized> InviteSource for std::sync::Arc<T> {
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError> {
        (**self).candidates()
    }
    fn read(&self, candidate: &Candidate) -> Result<Vec<u8>, SourceError> {
        (**self).read(candidate)
    }
    fn tag(&self, candidate: &Candidate, add: &[&str], remove: &[&str]) -> Result<(), SourceError> {
        (**self).tag(candidate, add, remove)
    }
    fn candidates_since(&self, since: Option<&str>) -> Result<Found, SourceError> {
        (**self).candidates_since(since)
    }
    fn restat(&self, path: &str) -> Option<FileStamp> {
        (**self).restat(path)
    }
}

impl<T: MailIndex + ?Sized> MailIndex for std::sync::Arc<T> {
    fn start_index(&self) -> std::sync::mpsc::Receiver<IndexProgress> {
        (**self).start_index()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A shared store is still a store (a test or the demo keeps a handle on
/// what the inbox session owns).
impl<T: CalendarStore + ?Sized> CalendarStore for std::sync::Arc<T> {
    fn find_by_uid(&self, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        (**self).find_by_uid(uid)
    }
    fn create(&self, uid: &str, data: &[u8]) -> Result<StoredObject, StoreError> {
        (**self).create(uid, data)
    }
    fn update(&self, existing: &StoredObject, data: &[u8]) -> Result<StoredObject, StoreError> {
        (**self).update(existing, data)
    }
    fn list(&self) -> Result<Vec<StoredObject>, StoreError> {
        (**self).list()
    }
    fn prefetch_scan(&self) {
        (**self).prefetch_scan()
    }
    fn scan(&self) -> Result<Vec<(String, FileStamp)>, StoreError> {
        (**self).scan()
    }
    fn prime(&self, known: &mut dyn Iterator<Item = (String, FileStamp, Vec<String>)>) {
        (**self).prime(known)
    }
    fn get(&self, href: &str) -> Result<Option<StoredObject>, StoreError> {
        (**self).get(href)
    }
    fn get_many(&self, hrefs: &[&str]) -> Vec<Result<Option<StoredObject>, StoreError>> {
        (**self).get_many(hrefs)
    }
    fn delete(&self, existing: &StoredObject) -> Result<(), StoreError> {
        (**self).delete(existing)
    }
}

impl<T: Outbox + ?Sized> Outbox for std::sync::Arc<T> {
    fn put(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        (**self).put(entry)
    }
    fn pending(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        (**self).pending()
    }
    fn record_error(&self, id: &str, error: &str) -> Result<(), OutboxError> {
        (**self).record_error(id, error)
    }
    fn mark_sent(&self, id: &str) -> Result<(), OutboxError> {
        (**self).mark_sent(id)
    }
    fn discard(&self, id: &str) -> Result<(), OutboxError> {
        (**self).discard(id)
    }
    fn find(&self, key: &ReplyKey) -> Result<Option<(OutboxEntry, bool)>, OutboxError> {
        (**self).find(key)
    }
    fn record_failure(&self, id: &str, error: &TransportError) -> Result<(), OutboxError> {
        (**self).record_failure(id, error)
    }
    fn failed(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        (**self).failed()
    }
    fn drop_entry(&self, id: &str) -> Result<(), OutboxError> {
        (**self).drop_entry(id)
    }
    fn put_staged(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        (**self).put_staged(entry)
    }
    fn mark_ready(&self, id: &str) -> Result<(), OutboxError> {
        (**self).mark_ready(id)
    }
    fn staged(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        (**self).staged()
    }
}

impl<T: Tombstones + ?Sized> Tombstones for std::sync::Arc<T> {
    fn get(&self, uid: &str) -> Result<Option<i64>, StoreError> {
        (**self).get(uid)
    }
    fn record(&self, uid: &str, sequence: i64) -> Result<(), StoreError> {
        (**self).record(uid, sequence)
    }
    fn all(&self) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        (**self).all()
    }
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), TransportError> {
        (**self).send(envelope, message)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<T: CacheStore + ?Sized> CacheStore for std::sync::Arc<T> {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        (**self).load(name)
    }
    fn save(&self, name: &str, data: &[u8]) -> Result<(), String> {
        (**self).save(name, data)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}
