//! The mail index through notmuch (libnotmuch via the `notmuch` crate):
//! invitation candidates by query, tags that record what was done, and an
//! incremental indexer for a Maildir that rsvp indexes itself.
//!
//! Two modes ([`Mode`]):
//! - `User`: the user's own database, found through their notmuch config.
//!   rsvp reads it and tags messages, but never writes the config and never
//!   indexes (that is `notmuch new`'s job; `index` only reports counts).
//! - `Private`: a database of rsvp's own (under its data directory) whose
//!   mail root is a Maildir. It is opened with the config `""`, so no
//!   notmuch config file is read (not `NOTMUCH_CONFIG`, not
//!   `~/.notmuch-config`), and indexed incrementally like `notmuch new`.
//!
//! Threading and locking. notmuch handles are `!Send`, and libnotmuch (built
//! with `retry_lock`) blocks a read-write open, without a timeout, while
//! another process writes. So every notmuch call runs on one thread owned by
//! [`Notmuch`]; callers send requests over a channel and wait for the answer
//! with a timeout, which makes `Notmuch` `Send + Sync`. Read-only handles
//! are opened fresh for every query (a handle is a snapshot) and are never
//! blocked. Read-write handles live for one tag request or one indexing
//! run. While a read-write open waits for the lock, indexing reports
//! [`IndexProgress::Waiting`], calls that time out return
//! [`SourceError::Locked`], and the work is done once the lock is released.
//! An indexing run answers queries and tag requests between batches.
//!
//! The `notmuch` crate unwraps C strings: a NUL in a query, tag or message
//! id, or a non-UTF-8 path, would panic inside it. Those are refused before
//! they reach it, non-UTF-8 file names are never indexed, and each request
//! runs under `catch_unwind` as a last guard.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use notmuch::{ConfigKey, Database, DatabaseMode, Message, Sort, Status};
use serde::{Deserialize, Serialize};

use crate::adapters::fsutil;
use crate::domain::extract::MAX_MESSAGE_BYTES;
use crate::domain::ports::{
    Candidate, FileStamp, Found, IndexCounts, IndexProgress, InviteSource, MailIndex, SourceError,
};

/// Messages that may carry an invitation. `attachment:*.ics` unquoted
/// finds nothing (DEPENDENCIES.md §2), `attachment:ics` does.
pub const INVITATION_QUERY: &str =
    "mimetype:text/calendar or mimetype:application/ics or attachment:ics";

/// How long the [`InviteSource`] methods wait for the notmuch thread.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A read-write open that has not returned after this long is waiting for
/// another program's write lock (an uncontended open takes about 1 ms).
const LOCK_GRACE: Duration = Duration::from_millis(250);
/// Longest a tag waits for a locked database before the caller moves on.
const TAG_WAIT: Duration = Duration::from_secs(2);
/// Files indexed between two looks at the request queue.
const BATCH: u64 = 64;
/// Least time between two `Scanning` events.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// A directory modified this shortly before a scan may change again without
/// a visible mtime change (coarse timestamps): it is listed again next time.
const RACY_WINDOW_NS: i128 = 3_000_000_000;
/// Deepest folder nesting walked below the Maildir root.
const MAX_DEPTH: usize = 32;
/// How long dropping a `Notmuch` waits for its thread to finish.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);
/// The indexer's memory of directory mtimes, in the private database dir.
const STATE_FILE: &str = "rsvp-index-state.json";
const STATE_VERSION: u32 = 1;

/// Which notmuch database to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The user's database through their notmuch config file; `None`
    /// lets libnotmuch find it (`NOTMUCH_CONFIG`, then `~/.notmuch-config`).
    User { config: Option<PathBuf> },
    /// rsvp's private database in `database` (created on first index),
    /// indexing the Maildir `maildir`.
    Private { database: PathBuf, maildir: PathBuf },
}

/// Everything the adapter needs; built by `main.rs` from `[mail]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// Extra notmuch query AND-ed with [`INVITATION_QUERY`].
    pub query: Option<String>,
    /// Whether `tag` changes tags (`[mail] tags`); when false it does nothing.
    pub tags: bool,
    /// How long the [`InviteSource`] methods wait for an answer.
    pub timeout: Duration,
}

impl Settings {
    /// Settings with no extra query, tags on and [`DEFAULT_TIMEOUT`].
    pub fn new(mode: Mode) -> Settings {
        Settings {
            mode,
            query: None,
            tags: true,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The whole candidate query for an optional extra `[mail] query`.
pub fn candidate_query(extra: Option<&str>) -> String {
    match extra.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => format!("({INVITATION_QUERY}) and ({q})"),
        None => INVITATION_QUERY.to_string(),
    }
}

/// Why `query` cannot be AND-ed safely, if it cannot: a NUL (the crate
/// would panic) or parentheses that do not balance outside quotes (they
/// would change what the AND applies to).
pub fn query_problem(query: &str) -> Option<String> {
    if query.contains('\0') {
        return Some(format!("query {query:?} contains a NUL character"));
    }
    let mut depth: i64 = 0;
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return Some(format!(
                        "query {query:?} closes a parenthesis it never opened"
                    ));
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Some(format!("query {query:?} leaves a parenthesis open"));
    }
    if quoted {
        return Some(format!("query {query:?} leaves a quote open"));
    }
    None
}

/// The notmuch mail index. `Send + Sync`: the notmuch handles live on a
/// thread of its own.
pub struct Notmuch {
    requests: Sender<Request>,
    shared: Arc<Shared>,
    name: String,
    tags: bool,
    timeout: Duration,
    /// Disconnects when the thread ends.
    exited: Mutex<Receiver<()>>,
}

impl fmt::Debug for Notmuch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notmuch")
            .field("name", &self.name)
            .field("tags", &self.tags)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// State the notmuch thread shares with callers.
#[derive(Debug, Default)]
struct Shared {
    /// Set while a read-write open is in progress.
    opening_since: Mutex<Option<Instant>>,
}

impl Shared {
    fn opening(&self) -> MutexGuard<'_, Option<Instant>> {
        self.opening_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

type Reply<T> = Sender<Result<T, SourceError>>;

struct TagRequest {
    id: String,
    path: String,
    add: Vec<String>,
    remove: Vec<String>,
}

enum Request {
    Candidates(Option<String>, Reply<Found>),
    Tag(TagRequest, Reply<()>),
    Index(Sender<IndexProgress>),
    Shutdown,
}

impl Notmuch {
    /// Start the notmuch thread. Nothing is opened yet: the private
    /// database is created by the first index, and a missing database or
    /// config shows up as the error of the first call.
    pub fn open(settings: Settings) -> Result<Notmuch, SourceError> {
        let name = match &settings.mode {
            Mode::Private { database, .. } => database.display().to_string(),
            Mode::User { config: Some(c) } => format!("notmuch database of {}", c.display()),
            Mode::User { config: None } => {
                "notmuch database of $NOTMUCH_CONFIG or ~/.notmuch-config".to_string()
            }
        };
        let fail = |message: String| SourceError::Index {
            path: name.clone(),
            message,
        };
        match &settings.mode {
            Mode::Private { database, maildir } => {
                for (what, p) in [("database", database), ("maildir", maildir)] {
                    if !p.is_absolute() {
                        return Err(fail(format!("{what} {:?} is not absolute", p.display())));
                    }
                    if p.to_str().is_none_or(|s| s.contains('\0')) {
                        return Err(fail(format!("{what} {:?} is not valid UTF-8", p.display())));
                    }
                }
            }
            Mode::User { config: Some(c) } => {
                if c.to_str().is_none_or(|s| s.contains('\0')) {
                    return Err(fail(format!("config {:?} is not valid UTF-8", c.display())));
                }
            }
            Mode::User { config: None } => {}
        }
        if let Some(problem) = settings.query.as_deref().and_then(query_problem) {
            return Err(fail(problem));
        }
        let shared = Arc::new(Shared::default());
        let (requests, inbox) = mpsc::channel();
        let (exit_signal, exited) = mpsc::channel::<()>();
        let worker = Worker {
            target: Target {
                query: candidate_query(settings.query.as_deref()),
                mode: settings.mode,
                name: name.clone(),
                shared: Arc::clone(&shared),
            },
            requests: inbox,
            backlog: VecDeque::new(),
            stopping: false,
        };
        thread::Builder::new()
            .name("rsvp-notmuch".to_string())
            .spawn(move || {
                let _exit_signal = exit_signal;
                worker.run();
            })
            .map_err(|e| fail(format!("cannot start the notmuch thread: {e}")))?;
        Ok(Notmuch {
            requests,
            shared,
            name,
            tags: settings.tags,
            timeout: settings.timeout,
            exited: Mutex::new(exited),
        })
    }

    /// The database directory (private mode) or the config that names it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a read-write open has been waiting for another program's
    /// write lock for a noticeable time ("waiting for the notmuch database").
    pub fn is_waiting(&self) -> bool {
        self.shared
            .opening()
            .is_some_and(|since| since.elapsed() >= LOCK_GRACE)
    }

    /// [`InviteSource::candidates`] with an explicit wait: `Locked` when the
    /// notmuch thread is stuck behind another program's write lock.
    /// How long a caller waits for the database while another program
    /// writes to it (`[mail] lock_timeout_seconds`).
    pub fn lock_timeout(&self) -> Duration {
        self.timeout
    }

    pub fn candidates_timeout(&self, wait: Duration) -> Result<Vec<Candidate>, SourceError> {
        match self.candidates_since_timeout(None, wait)? {
            Found::Changed { candidates, .. } => Ok(candidates),
            Found::Unchanged => Ok(Vec::new()),
        }
    }

    /// [`InviteSource::candidates_since`] with an explicit wait.
    pub fn candidates_since_timeout(
        &self,
        since: Option<&str>,
        wait: Duration,
    ) -> Result<Found, SourceError> {
        let (reply, answer) = mpsc::channel();
        self.send(Request::Candidates(since.map(str::to_string), reply))?;
        self.wait(&answer, wait)
    }

    /// [`InviteSource::tag`] with an explicit wait. A request that times out
    /// stays queued and is applied once the lock is released.
    pub fn tag_timeout(
        &self,
        candidate: &Candidate,
        add: &[&str],
        remove: &[&str],
        wait: Duration,
    ) -> Result<(), SourceError> {
        if !self.tags || (add.is_empty() && remove.is_empty()) {
            return Ok(());
        }
        let refuse = |message: String| SourceError::Message {
            path: candidate.path.clone(),
            message,
        };
        if candidate.id.contains('\0') || candidate.path.contains('\0') {
            return Err(refuse("message id or path contains a NUL character".into()));
        }
        for tag in add.iter().chain(remove) {
            if tag.is_empty() || tag.contains('\0') {
                return Err(refuse(format!("bad tag {tag:?}")));
            }
        }
        let request = TagRequest {
            id: candidate.id.clone(),
            path: candidate.path.clone(),
            add: add.iter().map(|t| t.to_string()).collect(),
            remove: remove.iter().map(|t| t.to_string()).collect(),
        };
        let (reply, answer) = mpsc::channel();
        self.send(Request::Tag(request, reply))?;
        self.wait(&answer, wait)
    }

    fn send(&self, request: Request) -> Result<(), SourceError> {
        self.requests.send(request).map_err(|_| self.stopped())
    }

    fn stopped(&self) -> SourceError {
        SourceError::Index {
            path: self.name.clone(),
            message: "the notmuch thread has stopped".to_string(),
        }
    }

    fn wait<T>(
        &self,
        answer: &Receiver<Result<T, SourceError>>,
        wait: Duration,
    ) -> Result<T, SourceError> {
        match answer.recv_timeout(wait) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) if self.shared.opening().is_some() => {
                Err(SourceError::Locked(self.name.clone()))
            }
            Err(RecvTimeoutError::Timeout) => Err(SourceError::Index {
                path: self.name.clone(),
                message: format!("no answer from notmuch within {} ms", wait.as_millis()),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(self.stopped()),
        }
    }
}

impl Drop for Notmuch {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::Shutdown);
        if self.shared.opening().is_some() {
            // Stuck behind another program's lock: do not hold up the exit.
            return;
        }
        if let Ok(exited) = self.exited.lock() {
            let _ = exited.recv_timeout(SHUTDOWN_WAIT);
        }
    }
}

impl InviteSource for Notmuch {
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError> {
        self.candidates_timeout(self.timeout)
    }

    fn candidates_since(&self, since: Option<&str>) -> Result<Found, SourceError> {
        self.candidates_since_timeout(since, self.timeout)
    }

    fn restat(&self, path: &str) -> Option<FileStamp> {
        std::fs::metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|m| super::fsutil::stamp(&m))
    }

    fn read(&self, candidate: &Candidate) -> Result<Vec<u8>, SourceError> {
        let fail = |message: String| SourceError::Message {
            path: candidate.path.clone(),
            message,
        };
        if let Some(why) = &candidate.missing {
            return Err(fail(why.clone()));
        }
        // R9.8: oversized messages are refused whole (unread when their
        // stat says so).
        super::fsutil::read_at_most(Path::new(&candidate.path), MAX_MESSAGE_BYTES)
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail(format!("larger than {MAX_MESSAGE_BYTES} bytes")))
    }

    fn tag(&self, candidate: &Candidate, add: &[&str], remove: &[&str]) -> Result<(), SourceError> {
        // An answer never waits long behind another writer: a tag that
        // times out stays queued and is recorded once the lock is free.
        self.tag_timeout(candidate, add, remove, self.timeout.min(TAG_WAIT))
    }
}

impl MailIndex for Notmuch {
    fn start_index(&self) -> Receiver<IndexProgress> {
        let (progress, events) = mpsc::channel();
        if let Err(e) = self.send(Request::Index(progress.clone())) {
            let _ = progress.send(IndexProgress::Failed(e));
        }
        events
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// What the notmuch thread needs to open the database and query it.
struct Target {
    mode: Mode,
    query: String,
    name: String,
    shared: Arc<Shared>,
}

/// The notmuch thread: owns every notmuch handle.
struct Worker {
    target: Target,
    requests: Receiver<Request>,
    /// Requests that arrived during an indexing run and wait for its end.
    backlog: VecDeque<Request>,
    stopping: bool,
}

impl Worker {
    fn run(mut self) {
        loop {
            let request = match self.backlog.pop_front() {
                Some(r) => r,
                None if self.stopping => return,
                None => match self.requests.recv() {
                    Ok(r) => r,
                    Err(_) => return,
                },
            };
            match request {
                Request::Shutdown => return,
                Request::Candidates(since, reply) => {
                    let _ = reply.send(self.target.guarded(|t| t.candidates(since.as_deref())));
                }
                Request::Tag(tag, reply) => {
                    let result = self.target.guarded(|t| {
                        if let Mode::Private { database, .. } = &t.mode
                            && !database.join(".notmuch").join("xapian").is_dir()
                        {
                            // Nothing indexed yet: do not create the database to tag.
                            return Err(t.tag_error(&tag, TagError::NotFound));
                        }
                        let db = t.open_rw(None)?;
                        let tagged = apply_tag(&db, &tag).map_err(|e| t.tag_error(&tag, e));
                        let closed = db.close().map_err(|e| t.error(e));
                        tagged.and(closed)
                    });
                    let _ = reply.send(result);
                }
                Request::Index(progress) => {
                    let name = self.target.name.clone();
                    let result = guard(&name, || self.index(&progress));
                    let last = match result {
                        Ok(counts) => IndexProgress::Indexed(counts),
                        Err(e) => IndexProgress::Failed(e),
                    };
                    let _ = progress.send(last);
                }
            }
        }
    }

    /// Answer the requests that arrived while indexing: queries and tags at
    /// once (tags on the open read-write handle), the rest after the run.
    fn serve(&mut self, db: &Database) {
        loop {
            match self.requests.try_recv() {
                Ok(Request::Candidates(since, reply)) => {
                    let _ = reply.send(self.target.guarded(|t| t.candidates(since.as_deref())));
                }
                Ok(Request::Tag(tag, reply)) => {
                    let result = self
                        .target
                        .guarded(|t| apply_tag(db, &tag).map_err(|e| t.tag_error(&tag, e)));
                    let _ = reply.send(result);
                }
                Ok(Request::Shutdown) => {
                    self.stopping = true;
                    self.backlog.push_back(Request::Shutdown);
                }
                Ok(other) => self.backlog.push_back(other),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.stopping = true;
                    return;
                }
            }
        }
    }

    fn index(&mut self, progress: &Sender<IndexProgress>) -> Result<IndexCounts, SourceError> {
        let mut counts = match self.target.mode.clone() {
            Mode::User { .. } => IndexCounts::default(),
            Mode::Private { database, maildir } => {
                self.index_private(&database, &maildir, progress)?
            }
        };
        let unchanged = counts.added == 0 && counts.removed == 0;
        let (total, candidates) = self.target.counts(unchanged)?;
        counts.total = total;
        counts.candidates = candidates;
        Ok(counts)
    }
}

/// Beside the private database: its revision, the query and the counts
/// `rsvp index` prints (see `Target::counts`).
const COUNTS_FILE: &str = "rsvp-index-counts";

impl Target {
    /// Run one request, turning a panic inside the notmuch crate into an error.
    fn guarded<T>(
        &self,
        f: impl FnOnce(&Target) -> Result<T, SourceError>,
    ) -> Result<T, SourceError> {
        guard(&self.name, || f(self))
    }

    fn error(&self, e: notmuch::Error) -> SourceError {
        let mut message = one_line(&e.to_string());
        // A damaged database: say what to do about it.
        if message.contains("Xapian") {
            message.push_str(match &self.mode {
                Mode::Private { .. } => {
                    "; rsvp's private index is damaged: delete it and run `rsvp index` (your mail is not touched)"
                }
                Mode::User { .. } => {
                    "; your notmuch database is damaged or unreadable: check it with `notmuch count`, rebuild it with `notmuch new`"
                }
            });
        }
        SourceError::Index {
            path: self.name.clone(),
            message,
        }
    }

    fn tag_error(&self, tag: &TagRequest, e: TagError) -> SourceError {
        match e {
            TagError::NotFound => SourceError::Message {
                path: tag.path.clone(),
                message: format!("not in {} (index it first)", self.name),
            },
            TagError::Notmuch(e) => SourceError::Message {
                path: tag.path.clone(),
                message: format!("cannot tag in {}: {}", self.name, one_line(&e.to_string())),
            },
        }
    }

    /// A fresh read-only handle (never blocked by writers); `None` when the
    /// private database has not been created yet.
    fn open_ro(&self) -> Result<Option<Database>, SourceError> {
        let opened = match &self.mode {
            Mode::Private { database, .. } => {
                if !database.join(".notmuch").join("xapian").is_dir() {
                    return Ok(None);
                }
                Database::open_with_config(Some(database), DatabaseMode::ReadOnly, Some(""), None)
            }
            Mode::User { config } => Database::open_with_config(
                None::<&Path>,
                DatabaseMode::ReadOnly,
                config.as_deref(),
                None,
            ),
        };
        opened.map(Some).map_err(|e| self.error(e))
    }

    /// A read-write handle; blocks while another program holds the write
    /// lock, which shows as `Waiting` on `progress` and in [`Shared`].
    fn open_rw(&self, progress: Option<&Sender<IndexProgress>>) -> Result<Database, SourceError> {
        let _watch = Watch::start(&self.shared, progress);
        let opened = match &self.mode {
            Mode::Private { database, maildir } => open_private_rw(database, maildir),
            Mode::User { config } => Database::open_with_config(
                None::<&Path>,
                DatabaseMode::ReadWrite,
                config.as_deref(),
                None,
            )
            .map_err(PrivateError::Notmuch),
        };
        opened.map_err(|e| match e {
            PrivateError::Notmuch(e) => self.error(e),
            PrivateError::Io(e) => SourceError::Index {
                path: self.name.clone(),
                message: e.to_string(),
            },
        })
    }

    /// The candidates, unless the database is still at revision `since`
    /// (its UUID and lastmod: any new message or tag change moves it).
    fn candidates(&self, since: Option<&str>) -> Result<Found, SourceError> {
        let Some(db) = self.open_ro()? else {
            // Saying "nothing needs you" here would be a lie.
            return Err(SourceError::NotIndexed(self.name.clone()));
        };
        let revision = db.revision();
        let revision = format!("{}:{}", revision.uuid, revision.revision);
        if since == Some(revision.as_str()) {
            return Ok(Found::Unchanged);
        }
        let query = db.create_query(&self.query).map_err(|e| self.error(e))?;
        query.set_sort(Sort::NewestFirst);
        let messages = query.search_messages().map_err(|e| self.error(e))?;
        let mut found = Vec::new();
        let mut moved = scan::Moved::default();
        for message in messages {
            // A file name that is not UTF-8 panics inside the crate: skip
            // that message rather than lose the whole list.
            if let Ok(Some(candidate)) =
                panic::catch_unwind(AssertUnwindSafe(|| candidate_of(&message, &mut moved)))
            {
                found.push(candidate);
            }
        }
        Ok(Found::Changed {
            revision: Some(revision),
            candidates: found,
        })
    }

    /// (all messages, invitation candidates) on a fresh read-only handle.
    /// In private mode they are kept beside the database with its revision
    /// and the query: when this run indexed nothing (`unchanged`; only rsvp
    /// writes its private database, and a removal does not move the
    /// revision, so a run that removed something counts again) and the
    /// revision is the same, nothing is counted.
    fn counts(&self, unchanged: bool) -> Result<(u64, u64), SourceError> {
        let Some(db) = self.open_ro()? else {
            return Ok((0, 0));
        };
        let revision = db.revision();
        let key = format!("{}:{}\n{}\n", revision.uuid, revision.revision, self.query);
        let saved = match &self.mode {
            Mode::Private { database, .. } => Some(database.join(COUNTS_FILE)),
            Mode::User { .. } => None,
        };
        if unchanged
            && let Some(known) = saved
                .as_deref()
                .and_then(|f| std::fs::read_to_string(f).ok())
                .and_then(|text| {
                    let (a, b) = text.strip_prefix(&key)?.trim().split_once(' ')?;
                    Some((a.parse().ok()?, b.parse().ok()?))
                })
        {
            return Ok(known);
        }
        let count = |q: &str| -> Result<u64, SourceError> {
            let query = db.create_query(q).map_err(|e| self.error(e))?;
            query
                .count_messages()
                .map(u64::from)
                .map_err(|e| self.error(e))
        };
        let counts = (count("*")?, count(&self.query)?);
        if let Some(file) = saved {
            // Only time is lost when this cannot be written.
            let tmp = file.with_extension("tmp");
            if std::fs::write(&tmp, format!("{key}{} {}\n", counts.0, counts.1)).is_ok() {
                let _ = std::fs::rename(&tmp, &file);
            }
        }
        Ok(counts)
    }
}

fn guard<T>(name: &str, f: impl FnOnce() -> Result<T, SourceError>) -> Result<T, SourceError> {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(SourceError::Index {
            path: name.to_string(),
            message: "the notmuch binding failed (a file name that is not UTF-8?)".to_string(),
        })
    })
}

/// Marks a read-write open in progress; after [`LOCK_GRACE`] a watchdog
/// sends `Waiting` (the notmuch thread itself is blocked in libnotmuch).
struct Watch<'a> {
    shared: &'a Shared,
    _done: Option<Sender<()>>,
}

impl<'a> Watch<'a> {
    fn start(shared: &'a Shared, progress: Option<&Sender<IndexProgress>>) -> Watch<'a> {
        *shared.opening() = Some(Instant::now());
        let done = progress.map(|progress| {
            let (done, opened) = mpsc::channel::<()>();
            let progress = progress.clone();
            // Without the watchdog thread the open still works, unannounced.
            let _ = thread::Builder::new()
                .name("rsvp-notmuch-watch".to_string())
                .spawn(move || {
                    if let Err(RecvTimeoutError::Timeout) = opened.recv_timeout(LOCK_GRACE) {
                        let _ = progress.send(IndexProgress::Waiting);
                    }
                });
            done
        });
        Watch {
            shared,
            _done: done,
        }
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        *self.shared.opening() = None;
    }
}

enum PrivateError {
    Notmuch(notmuch::Error),
    Io(io::Error),
}

impl From<notmuch::Error> for PrivateError {
    fn from(e: notmuch::Error) -> Self {
        PrivateError::Notmuch(e)
    }
}

/// How many messages the private database indexes between commits
/// (`database.autocommit`, stored in the database). notmuch's default,
/// 8,000, holds that many messages' terms in memory: a first index of
/// 100,000 messages peaked at 163 MiB (`notmuch new` itself at 124 MiB).
/// Measured on 20,000 of them: `notmuch new` peaked at 35 MiB instead of
/// 123 MiB with 1,000 (13 s instead of 22 s); `rsvp index` at 48 MiB with
/// 1,000 and 40 MiB with 500 (10.2 and 10.4 s) instead of 149 MiB (12.9 s).
const AUTOCOMMIT: &str = "500";

/// Open (or create) the private database read-write with no config file,
/// its mail root set to `maildir` and its autocommit to [`AUTOCOMMIT`]
/// (DEPENDENCIES.md §2; `config_path()` is never called: it is unsound
/// with the config `""`). libnotmuch reads the autocommit when it opens a
/// database, so a database whose setting changes is opened again.
fn open_private_rw(database: &Path, maildir: &Path) -> Result<Database, PrivateError> {
    let root = maildir.to_str().unwrap_or_default();
    let open =
        || Database::open_with_config(Some(database), DatabaseMode::ReadWrite, Some(""), None);
    if !database.join(".notmuch").join("xapian").is_dir() {
        fs::create_dir_all(database).map_err(PrivateError::Io)?;
        let db = Database::create(database)?;
        db.config_set(ConfigKey::MailRoot, root)?;
        db.config_set(ConfigKey::Autocommit, AUTOCOMMIT)?;
        db.close()?;
        drop(db);
        return Ok(open()?);
    }
    let db = open()?;
    if db.config(ConfigKey::MailRoot).as_deref() != Some(root) {
        db.config_set(ConfigKey::MailRoot, root)?;
    }
    if db.config(ConfigKey::Autocommit).as_deref() != Some(AUTOCOMMIT) {
        db.config_set(ConfigKey::Autocommit, AUTOCOMMIT)?;
        db.close()?;
        drop(db);
        return Ok(open()?);
    }
    Ok(db)
}

/// The candidate for one message: its first file that exists. When none
/// does (a mail client moved it since the last `notmuch new`), the file is
/// found again by its Maildir unique name in `new/` and `cur/`; failing
/// that, the candidate says it is missing, so the listing can show it as
/// unreadable instead of dropping it.
fn candidate_of(message: &Message, moved: &mut scan::Moved) -> Option<Candidate> {
    let id = message.id().into_owned();
    let tags: Vec<String> = message.tags().collect();
    let files: Vec<PathBuf> = message.filenames().collect();
    let found = files.iter().find_map(|file| {
        let meta = fs::metadata(file).ok().filter(|m| m.is_file())?;
        Some((file.to_str()?.to_string(), meta))
    });
    let found = found.or_else(|| {
        files.iter().find_map(|file| {
            let now = moved.find(file)?;
            let meta = fs::metadata(&now).ok().filter(|m| m.is_file())?;
            Some((now.to_str()?.to_string(), meta))
        })
    });
    match found {
        Some((path, meta)) => Some(Candidate {
            id,
            path,
            stamp: fsutil::stamp(&meta),
            tags,
            missing: None,
        }),
        None => Some(Candidate {
            id,
            path: files.first()?.to_str()?.to_string(),
            stamp: Default::default(),
            tags,
            missing: Some("the message file is gone; run notmuch new".to_string()),
        }),
    }
}

enum TagError {
    NotFound,
    Notmuch(notmuch::Error),
}

impl From<notmuch::Error> for TagError {
    fn from(e: notmuch::Error) -> Self {
        TagError::Notmuch(e)
    }
}

/// Tag the message by id (it survives renames), else by file name.
fn apply_tag(db: &Database, tag: &TagRequest) -> Result<(), TagError> {
    let message = match db.find_message(&tag.id)? {
        Some(m) => m,
        None => db
            .find_message_by_filename(&tag.path)?
            .ok_or(TagError::NotFound)?,
    };
    message.freeze()?;
    for t in &tag.add {
        message.add_tag(t)?;
    }
    for t in &tag.remove {
        message.remove_tag(t)?;
    }
    message.thaw()?;
    Ok(())
}

mod private;
mod scan;
use scan::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_query_ands_the_extra_query_in_parentheses() {
        assert_eq!(candidate_query(None), INVITATION_QUERY);
        assert_eq!(candidate_query(Some("  ")), INVITATION_QUERY);
        assert_eq!(
            candidate_query(Some("not folder:Sent or tag:x")),
            format!("({INVITATION_QUERY}) and (not folder:Sent or tag:x)")
        );
    }

    #[test]
    fn query_problems_are_found_before_libnotmuch_sees_them() {
        assert_eq!(query_problem("not folder:Sent and not tag:deleted"), None);
        assert_eq!(query_problem("subject:\"a (b\" and (tag:x)"), None);
        assert!(query_problem("a\0b").is_some_and(|p| p.contains("NUL")));
        assert!(query_problem("tag:a) or (tag:b").is_some_and(|p| p.contains("never opened")));
        assert!(query_problem("(tag:a").is_some_and(|p| p.contains("open")));
        assert!(query_problem("subject:\"x").is_some_and(|p| p.contains("quote")));
    }

    #[test]
    fn is_within_matches_whole_components() {
        assert!(is_within("work/cur", "work"));
        assert!(is_within("work", "work"));
        assert!(!is_within("workshop/cur", "work"));
    }

    #[test]
    fn state_round_trips_and_dirty_or_foreign_state_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = State::dirty("/m");
        state.dirty = false;
        state.dirs.insert(
            "cur".into(),
            DirState {
                mtime: Some((5, 6)),
                files: ["a:2,S".to_string()].into_iter().collect(),
            },
        );
        state.save(dir.path()).expect("save");
        assert_eq!(State::load(dir.path(), "/m"), Some(state));
        assert_eq!(State::load(dir.path(), "/other"), None);
        State::dirty("/m").save(dir.path()).expect("save");
        assert_eq!(State::load(dir.path(), "/m"), None);
        fs::write(dir.path().join(STATE_FILE), b"{not json").expect("write");
        assert_eq!(State::load(dir.path(), "/m"), None);
    }

    #[test]
    fn one_line_collapses_libnotmuch_messages() {
        assert_eq!(one_line("Error: a\n  b\tc\n"), "Error: a b c");
        assert_eq!(
            one_line(
                "A Xapian exception occurred A Xapian exception occurred opening database: EOF"
            ),
            "A Xapian exception occurred opening database: EOF"
        );
        assert_eq!(one_line("a a"), "a");
        assert_eq!(one_line("no repeat here"), "no repeat here");
    }
}
