//! The calendar collection as a vdir (one `.ics` file per object, as khal
//! and vdirsyncer use): lookup by the UID inside the files through a cached
//! index (trusted per file while the directory lists it under the same
//! name and inode, see `Check::Names`; a listing stats every file), safe
//! new names, atomic ETag-checked writes (R9.10, R9.12, T57, T61, T62).
//! Never parses file names and never writes outside the directory. With
//! [`Vdir::keep_names_in`], the names of a listing are saved beside the
//! inbox's cache and used again while the directory itself is unchanged
//! (see `listing`).

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::adapters::cache::FileCache;
use crate::adapters::fsutil;
use crate::domain::ports::{CalendarStore, FileStamp, RACY_WINDOW_NS, StoreError, StoredObject};

mod listing;
mod names;
use names::is_object_name;
pub use names::{is_safe_uid_name, random_href, safe_href, scan_uid};

/// How many names `create` tries before giving up.
const CREATE_ATTEMPTS: usize = 8;
/// How often a lookup re-scans when a file changed under it.
const FIND_ATTEMPTS: usize = 3;

/// A vdir calendar collection.
#[derive(Debug)]
pub struct Vdir {
    dir: PathBuf,
    index: Mutex<HashMap<String, IndexEntry>>,
    /// Stale temp files were removed this session (by the first scan, or
    /// before the first write): opening reads nothing, so a listing of a
    /// large calendar reads its directory once.
    swept: AtomicBool,
    /// Opened only to read (`open_read_only`): never swept.
    read_only: bool,
    /// A scan started ahead ([`CalendarStore::prefetch_scan`]), with when.
    prefetched: Mutex<Option<(Instant, std::thread::JoinHandle<io::Result<Scanned>>)>>,
    /// Where the names of the last listing are kept, to be used again while
    /// the directory is unchanged (see `listing`); `None`: always read it.
    names: Option<FileCache>,
    /// How many listings came from saved names (for tests and diagnostics).
    saved_listings: AtomicUsize,
    /// How long the directory must have been unchanged for its listing to
    /// be saved (see `listing`).
    settle_ns: i64,
}

/// The object files with their stamps, sorted by name, and the temp files
/// seen beside them.
type Scanned = (Vec<(String, FileStamp)>, Vec<PathBuf>, bool);

/// How old a prefetched scan may be when it is taken: it is taken by the
/// listing that started it, a few milliseconds later; anything older was
/// left behind (a listing that failed first) and is done again.
const PREFETCH_FRESH: Duration = Duration::from_secs(1);

/// What the index remembers about one file. The ctime is part of the key
/// because user space cannot set it: a tool that restores the mtime after
/// an edit (`rsync -t`, `touch -r`) still changes the ctime.
#[derive(Debug, Clone)]
struct IndexEntry {
    stamp: FileStamp,
    /// Re-read at the next lookup even if the metadata did not change.
    racy: bool,
    uid: Option<String>,
}

impl IndexEntry {
    fn matches(&self, stamp: &FileStamp) -> bool {
        !self.racy && self.stamp == *stamp
    }

    fn new(stamp: FileStamp, uid: Option<String>, now: SystemTime) -> IndexEntry {
        let now_ns = now.duration_since(UNIX_EPOCH).map_or(i64::MAX, |d| {
            i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
        });
        IndexEntry {
            stamp,
            racy: stamp.is_racy(now_ns),
            uid,
        }
    }
}

fn io_error(path: &Path, what: &str, e: &io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        message: format!("{what}: {e}"),
    }
}

impl Vdir {
    /// Open an existing collection directory and remove stale temp files
    /// left by a crashed rsvp (T62).
    pub fn open(dir: &Path) -> Result<Vdir, StoreError> {
        let meta = fs::metadata(dir).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                StoreError::Io {
                    path: dir.display().to_string(),
                    message: "the calendar directory does not exist".to_string(),
                }
            } else {
                io_error(dir, "cannot open the calendar directory", &e)
            }
        })?;
        if !meta.is_dir() {
            return Err(StoreError::Io {
                path: dir.display().to_string(),
                message: "not a directory (a vdir calendar is a directory of .ics files)"
                    .to_string(),
            });
        }
        Ok(Vdir {
            dir: dir.to_path_buf(),
            index: Mutex::new(HashMap::new()),
            swept: AtomicBool::new(false),
            read_only: false,
            prefetched: Mutex::new(None),
            names: None,
            saved_listings: AtomicUsize::new(0),
            settle_ns: RACY_WINDOW_NS,
        })
    }

    /// Open a collection only to read it (another calendar whose events
    /// count as busy): nothing in it is changed, not even stale temp files.
    pub fn open_read_only(dir: &Path) -> Result<Vdir, StoreError> {
        if !dir.is_dir() {
            return Err(StoreError::Io {
                path: dir.display().to_string(),
                message: "not a calendar directory (a vdir is a directory of .ics files)"
                    .to_string(),
            });
        }
        Ok(Vdir {
            dir: dir.to_path_buf(),
            index: Mutex::new(HashMap::new()),
            swept: AtomicBool::new(false),
            read_only: true,
            prefetched: Mutex::new(None),
            names: None,
            saved_listings: AtomicUsize::new(0),
            settle_ns: RACY_WINDOW_NS,
        })
    }

    /// Keep the names of each listing under `cache_dir` (one small file per
    /// calendar), so that the next session lists a directory that has not
    /// changed without reading it (its files are still stat'ed).
    #[must_use]
    pub fn keep_names_in(mut self, cache_dir: &Path) -> Vdir {
        self.names = Some(FileCache::new(cache_dir));
        self
    }

    /// Save a listing once the directory has been unchanged for `settle`
    /// instead of the racy window of 3 s (a test's directory cannot be
    /// made older: no one can set a ctime).
    #[doc(hidden)]
    #[must_use]
    pub fn settled_after(mut self, settle: Duration) -> Vdir {
        self.settle_ns = i64::try_from(settle.as_nanos()).unwrap_or(i64::MAX);
        self
    }

    /// How many listings of this session came from saved names instead of
    /// a reading of the directory.
    pub fn saved_listings(&self) -> usize {
        self.saved_listings.load(Ordering::Relaxed)
    }

    fn list_dir(&self) -> io::Result<listing::Listing> {
        let listed = listing::list(&self.dir, self.names.as_ref(), self.settle_ns)?;
        if listed.from_saved {
            self.saved_listings.fetch_add(1, Ordering::Relaxed);
        }
        // T62: this listing has seen the temp files (one from saved names
        // has none: it is used only while no entry was created since it
        // was saved, and it is saved only without temp files), so the
        // first write needs no reading of its own for the sweep.
        if !self.read_only && !self.swept.swap(true, Ordering::Relaxed) {
            fsutil::remove_stale(listed.temps.iter().cloned());
        }
        Ok(listed)
    }

    /// Remove stale temp files left by a crash (T62), once per session:
    /// with the first listing of the directory (a scan or a lookup, which
    /// read it anyway), else before the first write; readers ignore them,
    /// so a failure is not fatal.
    fn sweep(&self) {
        if !self.read_only && !self.swept.swap(true, Ordering::Relaxed) {
            let _ = fsutil::remove_stale_temps(&self.dir);
        }
    }

    /// The collection directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn lock_index(&self) -> MutexGuard<'_, HashMap<String, IndexEntry>> {
        // The index is only a cache of file contents: after a panic in another
        // thread its entries are still individually valid.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bring the index up to date with the directory.
    ///
    /// [`Check::Stat`] stats every file (on all cores) and re-reads those
    /// whose stamp changed: an edit in place that changes a UID is seen.
    /// [`Check::Names`] trusts an indexed file while the directory still
    /// lists it with the same inode (which a replacement by rename, as
    /// vdirsyncer and khal write, always changes) and stats only the rest.
    fn refresh(&self, check: Check) -> Result<(), StoreError> {
        let listed = self
            .list_dir()
            .map_err(|e| io_error(&self.dir, "cannot read the calendar directory", &e))?;
        let now = SystemTime::now();
        // Drop what the directory no longer lists, and pick the files to
        // stat: all, or those the index cannot vouch for.
        let to_stat: Vec<&listing::Entry> = {
            let mut index = self.lock_index();
            let mut indexed = 0;
            let to_stat = listed
                .entries
                .iter()
                .filter(|entry| {
                    let cached = index.get(&entry.name);
                    indexed += usize::from(cached.is_some());
                    !(check == Check::Names
                        && entry.plain
                        && cached.is_some_and(|c| !c.racy && c.stamp.ino == entry.ino))
                })
                .collect();
            // Some indexed file is no longer listed.
            if indexed < index.len() {
                let names: std::collections::HashSet<&str> =
                    listed.entries.iter().map(|e| e.name.as_str()).collect();
                index.retain(|name, _| names.contains(name.as_str()));
            }
            to_stat
        };
        let stamps = listing::stamp_each(&listed.dir, &to_stat, |e| e);
        let mut index = self.lock_index();
        for (entry, stamp) in to_stat.into_iter().zip(stamps) {
            let Some(stamp) = stamp else {
                index.remove(&entry.name);
                continue;
            };
            if index.get(&entry.name).is_some_and(|c| c.matches(&stamp)) {
                continue;
            }
            match fs::read(self.dir.join(&entry.name)) {
                Ok(data) => {
                    index.insert(
                        entry.name.clone(),
                        IndexEntry::new(stamp, scan_uid(&data), now),
                    );
                }
                // Unreadable files are skipped, not fatal.
                Err(_) => {
                    index.remove(&entry.name);
                }
            }
        }
        Ok(())
    }

    /// The indexed files that hold `uid`, sorted by name.
    fn names_with(&self, uid: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .lock_index()
            .iter()
            .filter(|(_, e)| e.uid.as_deref() == Some(uid))
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }

    /// The object holding `uid`, after a refresh of the index by `check`;
    /// the file found is read and must still hold the UID.
    fn find_checked(&self, uid: &str, check: Check) -> Result<Option<StoredObject>, StoreError> {
        if uid.is_empty() {
            return Ok(None);
        }
        for _ in 0..FIND_ATTEMPTS {
            self.refresh(check)?;
            let mut changed = false;
            // Several files with one UID break the vdir contract; the first
            // by name wins so the choice is at least stable.
            for name in self.names_with(uid) {
                match self.read_object(&name) {
                    Ok(obj) if scan_uid(&obj.data).as_deref() == Some(uid) => {
                        return Ok(Some(obj));
                    }
                    // Changed or removed since it was indexed: forget the
                    // entry so the next scan re-reads it, and look again.
                    _ => {
                        self.lock_index().remove(&name);
                        changed = true;
                    }
                }
            }
            if !changed {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// Open, stat and read one object file; the ETag comes from the opened
    /// file, taken before reading.
    fn read_object(&self, name: &str) -> io::Result<StoredObject> {
        object_from(File::open(self.dir.join(name))?, name)
    }

    /// [`CalendarStore::get`] of `href`, opened relative to `dir` (a
    /// handle on this collection's directory).
    fn get_at(
        &self,
        dir: std::os::fd::BorrowedFd<'_>,
        href: &str,
    ) -> Result<Option<StoredObject>, StoreError> {
        self.get_with(href, |name| {
            let fd = rustix::fs::openat(
                dir,
                name,
                rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )?;
            object_from(File::from(fd), name)
        })
    }

    /// The object `href` as `read` reads it: `None` for a name that is not
    /// an object's, or a file that is gone.
    fn get_with(
        &self,
        href: &str,
        read: impl FnOnce(&str) -> io::Result<StoredObject>,
    ) -> Result<Option<StoredObject>, StoreError> {
        if !is_object_name(href) {
            return Ok(None);
        }
        match read(href) {
            Ok(obj) => Ok(Some(obj)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(
                &self.dir.join(href),
                "cannot read the calendar object",
                &e,
            )),
        }
    }

    fn remember(&self, name: &str, meta: &Metadata, data: &[u8]) {
        let entry = IndexEntry::new(fsutil::stamp(meta), scan_uid(data), SystemTime::now());
        self.lock_index().insert(name.to_string(), entry);
    }

    /// Link `tmp` to `target` without overwriting an existing file.
    fn link_no_overwrite(tmp: &Path, target: &Path) -> io::Result<()> {
        match fs::hard_link(tmp, target) {
            Ok(()) => Ok(()),
            // Filesystems without hard links (vfat, some FUSE): check, then
            // rename. The window between the two is small and only matters
            // if another program creates the same name at the same moment.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::PermissionDenied | ErrorKind::Unsupported
                ) =>
            {
                match fs::symlink_metadata(target) {
                    Ok(_) => Err(io::Error::new(ErrorKind::AlreadyExists, "file exists")),
                    Err(n) if n.kind() == ErrorKind::NotFound => fs::rename(tmp, target),
                    Err(n) => Err(n),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Put the temp file `tmp` (written by us, metadata `ours`) in place of
    /// `target`, which must still be `existing`.
    ///
    /// Another program may replace the file between our ETag check and our
    /// rename (vdirsyncer: read, temp file, rename); a rename would silently
    /// destroy its write. So the two names are swapped atomically instead and
    /// the displaced file is checked: when it is not `existing`, the other
    /// program's file is swapped back and the write is reported as a
    /// conflict (R9.12, T61). Filesystems that cannot swap fall back to a
    /// plain rename.
    fn replace(
        &self,
        tmp: &Path,
        target: &Path,
        ours: &Metadata,
        existing: &StoredObject,
    ) -> Result<(), StoreError> {
        match fsutil::exchange(tmp, target) {
            Ok(()) => {}
            Err(e) if fsutil::is_exchange_unsupported(&e) => {
                return fs::rename(tmp, target).map_err(|e| {
                    let _ = fs::remove_file(tmp);
                    io_error(target, "cannot replace the calendar object", &e)
                });
            }
            Err(e) => {
                let _ = fs::remove_file(tmp);
                return Err(io_error(target, "cannot replace the calendar object", &e));
            }
        }
        // `tmp` now names the file we displaced.
        if is_same_object(tmp, existing) {
            let _ = fs::remove_file(tmp);
            return Ok(());
        }
        self.restore_displaced(tmp, target, ours, &existing.href)
    }

    /// Our file went in place of a write by another program, now at `tmp`:
    /// swap it back. If yet another write replaced ours in the meantime,
    /// that newest file stays and the displaced one is kept beside it as
    /// `<name>.conflict-<random>` (not an `.ics`, so no reader takes it for
    /// an object), so that no write is ever destroyed.
    fn restore_displaced(
        &self,
        tmp: &Path,
        target: &Path,
        ours: &Metadata,
        href: &str,
    ) -> Result<(), StoreError> {
        let conflict = || StoreError::Conflict {
            href: href.to_string(),
        };
        if let Err(e) = fsutil::exchange(tmp, target) {
            return Err(self.keep_conflict_copy(tmp, href, &e.to_string()));
        }
        // `tmp` now names what was at the target: ours, unless a third write
        // replaced it after our swap.
        match fs::symlink_metadata(tmp) {
            Ok(meta) if meta.ino() == ours.ino() && meta.dev() == ours.dev() => {
                let _ = fs::remove_file(tmp);
                Err(conflict())
            }
            _ => {
                // The target holds the older displaced write and `tmp` the
                // newest one: the newest goes back in place.
                if let Err(e) = fsutil::exchange(tmp, target) {
                    return Err(self.keep_conflict_copy(tmp, href, &e.to_string()));
                }
                Err(self.keep_conflict_copy(tmp, href, "written at the same moment as rsvp"))
            }
        }
    }

    /// Keep a displaced write as `<href>.conflict-<random>` and say where.
    fn keep_conflict_copy(&self, tmp: &Path, href: &str, why: &str) -> StoreError {
        let copy = self
            .dir
            .join(format!("{href}.conflict-{}", fsutil::random_hex()));
        let kept = fs::rename(tmp, &copy);
        StoreError::Io {
            path: self.dir.join(href).display().to_string(),
            message: match kept {
                Ok(()) => format!(
                    "another program changed the calendar object while rsvp replaced it \
                     ({why}); its version was kept as {}",
                    copy.display()
                ),
                Err(e) => format!(
                    "another program changed the calendar object while rsvp replaced it \
                     ({why}); its version is in {} ({e})",
                    tmp.display()
                ),
            },
        }
    }

    /// Refuse to store a UID with an ASCII control character (CTL): RFC 5545
    /// §3.1 and §3.3.11 allow none in a TEXT value but HTAB and the escaped
    /// newline `\n`, and a UID cannot be changed without becoming another
    /// event (R9.10).
    fn check_uid(&self, uid: Option<&str>) -> Result<(), StoreError> {
        let Some(uid) = uid else { return Ok(()) };
        let is_ctl = |c: &char| c.is_ascii_control() && !matches!(c, '\t' | '\n');
        match uid.chars().find(is_ctl) {
            Some(c) => Err(StoreError::Io {
                path: self.dir.display().to_string(),
                message: format!(
                    "refusing to store the event with UID {uid:?}: it contains the control \
                     character U+{:04X}, which iCalendar does not allow (RFC 5545 section 3.1)",
                    u32::from(c)
                ),
            }),
            None => Ok(()),
        }
    }

    /// Check that `existing` is still what is on disk: same ETag and same
    /// bytes (the bytes catch edits within one coarse mtime tick, T61).
    fn check_unchanged(&self, existing: &StoredObject) -> Result<(), StoreError> {
        match self.read_object(&existing.href) {
            Ok(current) if current.etag == existing.etag && current.data == existing.data => Ok(()),
            Ok(_) => Err(StoreError::Conflict {
                href: existing.href.clone(),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(StoreError::Gone {
                href: existing.href.clone(),
            }),
            Err(e) => Err(io_error(
                &self.dir.join(&existing.href),
                "cannot re-read the calendar object",
                &e,
            )),
        }
    }
}

/// List `dir` and stamp every object file (one stat each, on every core:
/// most of a warm listing's cost on a large calendar); whether the names
/// came from the saved listing.
fn scan_dir(dir: &Path, names: Option<&FileCache>, settle_ns: i64) -> io::Result<Scanned> {
    let listed = listing::list(dir, names, settle_ns)?;
    let out = listing::stamp_all(&listed.dir, listed.entries);
    Ok((out, listed.temps, listed.from_saved))
}

/// How [`Vdir::refresh`] checks the files it has indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Stat every file.
    Stat,
    /// Trust a file listed under the same name with the same inode: a
    /// file created, removed or replaced by rename (vdirsyncer, khal, most
    /// editors) is seen; a file edited in place to hold another UID is seen
    /// when it is looked up by its old UID (it is read and no longer
    /// matches) and by the next listing, which stats every file, but not
    /// by a lookup of the new UID alone.
    Names,
}

/// How many threads share a scan: the cores, at most 4.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
}

/// The stored object `name` from its open `file`: one stat (the ETag,
/// and a directory or device is refused), then the bytes.
fn object_from(mut file: File, name: &str) -> io::Result<StoredObject> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let data = fsutil::read_whole(&mut file, meta.len(), usize::MAX)?;
    Ok(StoredObject {
        href: name.to_string(),
        etag: fsutil::etag(&meta),
        data,
    })
}

/// `f` over chunks of `items`, their results joined in order, the chunks
/// spread over the cores (up to 4 threads, chunks of at least
/// `min_chunk`): one stat per calendar file is most of a large calendar's
/// cost. A chunk whose thread panicked is done again here.
fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    min_chunk: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let chunk = items.len().div_ceil(cores()).max(min_chunk).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk);
        let first = chunks.next();
        let handles: Vec<_> = chunks.map(|c| (c, scope.spawn(move || f(c)))).collect();
        let mut out = first.map(f).unwrap_or_default();
        for (c, h) in handles {
            out.extend(h.join().unwrap_or_else(|_| f(c)));
        }
        out
    })
}

impl CalendarStore for Vdir {
    fn prefetch_scan(&self) {
        let dir = self.dir.clone();
        let names = self.names.clone();
        let settle_ns = self.settle_ns;
        let started = std::thread::Builder::new()
            .name("vdir-scan".into())
            .spawn(move || scan_dir(&dir, names.as_ref(), settle_ns));
        // No thread: the scan runs when it is asked for.
        if let Ok(handle) = started {
            *self.prefetched.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((Instant::now(), handle));
        }
    }

    fn scan(&self) -> Result<Vec<(String, FileStamp)>, StoreError> {
        let ahead = self
            .prefetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|(at, _)| at.elapsed() < PREFETCH_FRESH)
            .and_then(|(_, handle)| handle.join().ok());
        let (out, temps, from_saved) = ahead
            .unwrap_or_else(|| scan_dir(&self.dir, self.names.as_ref(), self.settle_ns))
            .map_err(|e| io_error(&self.dir, "cannot read the calendar directory", &e))?;
        if from_saved {
            self.saved_listings.fetch_add(1, Ordering::Relaxed);
        }
        // T62: the scan has seen the temp files; stale ones go now (at
        // start-up, with no second reading of the directory).
        if !self.read_only && !self.swept.swap(true, Ordering::Relaxed) {
            fsutil::remove_stale(temps.into_iter());
        }
        Ok(out)
    }

    fn prime(&self, known: &mut dyn Iterator<Item = (String, FileStamp, Vec<String>)>) {
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(i64::MAX, |d| {
                i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
            });
        let mut index = self.lock_index();
        index.reserve(known.size_hint().0);
        for (href, stamp, uids) in known {
            if stamp.is_racy(now_ns) || uids.len() != 1 {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(href) {
                slot.insert(IndexEntry {
                    stamp,
                    racy: false,
                    uid: uids.into_iter().next(),
                });
            }
        }
    }

    fn get(&self, href: &str) -> Result<Option<StoredObject>, StoreError> {
        self.get_with(href, |name| self.read_object(name))
    }

    /// Read on every core (a first listing reads the whole calendar), each
    /// thread opening the files relative to a handle of its own on the
    /// directory.
    fn get_many(&self, hrefs: &[&str]) -> Vec<Result<Option<StoredObject>, StoreError>> {
        let dir = rustix::fs::open(
            &self.dir,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map(File::from);
        on_every_core(hrefs, 256, |chunk| match &dir {
            Ok(dir) => {
                let own = listing::own_handle(dir);
                let fd = own.as_ref().map_or_else(|| dir.as_fd(), AsFd::as_fd);
                chunk.iter().map(|h| self.get_at(fd, h)).collect()
            }
            Err(_) => chunk.iter().map(|h| self.get(h)).collect(),
        })
    }

    fn find_by_uid(&self, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        if uid.is_empty() {
            return Ok(None);
        }
        // The lookup that precedes every write (answer, apply): trusting
        // names and inodes spares one stat per calendar file on the way to
        // the reply (see `Check::Names` for what that leaves unseen); the
        // file found is read, and an update checks its ETag and bytes again.
        self.find_checked(uid, Check::Names)
    }

    fn create(&self, uid: &str, data: &[u8]) -> Result<StoredObject, StoreError> {
        self.sweep();
        self.check_uid(Some(uid))?;
        self.check_uid(scan_uid(data).as_deref())?;
        // Someone else (another rsvp, vdirsyncer) created it since our lookup:
        // the caller must redo its work from a fresh read.
        if let Some(existing) = self.find_checked(uid, Check::Names)? {
            return Err(StoreError::Conflict {
                href: existing.href,
            });
        }
        let mut name = safe_href(uid, random_href);
        for _ in 0..CREATE_ATTEMPTS {
            let (tmp, meta) = match fsutil::write_temp(&self.dir, &name, data, 0o666, None) {
                Ok(written) => written,
                Err(e) if fsutil::is_name_too_long(&e) => {
                    name = random_href();
                    continue;
                }
                Err(e) => {
                    return Err(io_error(&self.dir, "cannot write a temp file", &e));
                }
            };
            let target = self.dir.join(&name);
            let linked = Self::link_no_overwrite(&tmp, &target);
            // After a successful rename fallback the temp file is already gone.
            let _ = fs::remove_file(&tmp);
            match linked {
                Ok(()) => {
                    fsutil::fsync_dir(&self.dir)
                        .map_err(|e| io_error(&self.dir, "cannot sync the directory", &e))?;
                    self.remember(&name, &meta, data);
                    return Ok(StoredObject {
                        href: name,
                        etag: fsutil::etag(&meta),
                        data: data.to_vec(),
                    });
                }
                // The name is taken or too long: a random one (R9.10).
                Err(e) if e.kind() == ErrorKind::AlreadyExists || fsutil::is_name_too_long(&e) => {
                    name = random_href();
                }
                Err(e) => return Err(io_error(&target, "cannot create the calendar object", &e)),
            }
        }
        Err(StoreError::Io {
            path: self.dir.display().to_string(),
            message: format!("no free file name found for UID {uid:?}"),
        })
    }

    fn update(&self, existing: &StoredObject, data: &[u8]) -> Result<StoredObject, StoreError> {
        self.sweep();
        self.check_uid(scan_uid(data).as_deref())?;
        let name = existing.href.as_str();
        if !is_object_name(name) {
            return Err(StoreError::Io {
                path: self.dir.display().to_string(),
                message: format!("refusing to write calendar object with unsafe name {name:?}"),
            });
        }
        let target = self.dir.join(name);
        let permissions = match fs::metadata(&target) {
            Ok(meta) => meta.permissions(),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(StoreError::Gone {
                    href: name.to_string(),
                });
            }
            Err(e) => return Err(io_error(&target, "cannot stat the calendar object", &e)),
        };
        let (tmp, meta) = fsutil::write_temp(&self.dir, name, data, 0o666, Some(permissions))
            .map_err(|e| io_error(&self.dir, "cannot write a temp file", &e))?;
        // R9.12 step 4: check the ETag again just before replacing.
        if let Err(e) = self.check_unchanged(existing) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.replace(&tmp, &target, &meta, existing)?;
        fsutil::fsync_dir(&self.dir)
            .map_err(|e| io_error(&self.dir, "cannot sync the directory", &e))?;
        self.remember(name, &meta, data);
        Ok(StoredObject {
            href: name.to_string(),
            etag: fsutil::etag(&meta),
            data: data.to_vec(),
        })
    }

    fn delete(&self, existing: &StoredObject) -> Result<(), StoreError> {
        self.sweep();
        let name = existing.href.as_str();
        if !is_object_name(name) {
            return Err(StoreError::Io {
                path: self.dir.display().to_string(),
                message: format!("refusing to delete calendar object with unsafe name {name:?}"),
            });
        }
        // R9.12: only the version that was read is removed.
        self.check_unchanged(existing)?;
        let target = self.dir.join(name);
        fs::remove_file(&target)
            .map_err(|e| io_error(&target, "cannot remove the calendar object", &e))?;
        self.lock_index().remove(name);
        fsutil::fsync_dir(&self.dir)
            .map_err(|e| io_error(&self.dir, "cannot sync the directory", &e))
    }

    fn list(&self) -> Result<Vec<StoredObject>, StoreError> {
        self.refresh(Check::Stat)?;
        let mut names: Vec<String> = self.lock_index().keys().cloned().collect();
        names.sort();
        Ok(names
            .iter()
            .filter_map(|name| self.read_object(name).ok())
            .collect())
    }
}

/// Whether the file at `path` is `existing`: same ETag and same bytes.
fn is_same_object(path: &Path, existing: &StoredObject) -> bool {
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    if fsutil::etag(&meta) != existing.etag || meta.len() != existing.data.len() as u64 {
        return false;
    }
    let mut data = Vec::with_capacity(existing.data.len());
    file.read_to_end(&mut data).is_ok() && data == existing.data
}
