//! The calendar as a listing sees it: the cached index of every calendar
//! file (UIDs, busy occurrences) brought up to date with one scan of each
//! collection, the log of busy times that changed since the rows were
//! saved, and the read-only views a listing classifies through (a UID
//! lookup that reads only the file the index names, tombstones read once).

use super::{BUSY_SPAN_DAYS, ParseCache, now_ns, window};
use crate::domain::identity::Identity;
use crate::domain::overlap::{self, Occurrence};
use crate::domain::ports::{CalendarStore, FileStamp, StoreError, StoredObject, Tombstones};
use crate::inbox::cache::{self, Busy, CalendarEntry, State};
use crate::inbox::item;
use crate::inbox::{Env, InboxError};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// The busy-time window of the calendar index: from the first of the month
/// of the overlap window's start, [`BUSY_SPAN_DAYS`] long.
fn busy_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let (from, _) = window(now);
    let first = NaiveDate::from_ymd_opt(from.year(), from.month(), 1)
        .unwrap_or(from.date_naive())
        .and_time(NaiveTime::MIN)
        .and_utc();
    (first, first + Duration::days(BUSY_SPAN_DAYS))
}

/// The UIDs and busy occurrences of one stored object (read fast when it
/// is a plain event); unreadable objects hold nothing and count as free.
fn index_object(
    obj: &StoredObject,
    me: &Identity,
    local: chrono_tz::Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (Vec<String>, Vec<Busy>) {
    let found = overlap::index_stored(&obj.data, me, local, from, to);
    let busy = found
        .busy
        .into_iter()
        .map(|b| Busy {
            uid: b.uid,
            summary: b.summary,
            start: b.start.timestamp(),
            end: b.end.timestamp(),
        })
        .collect();
    (found.uids, busy)
}

/// One scan of the calendar written to, then of each read-only busy
/// calendar (`None` for one that cannot be read: it costs its busy times
/// only).
pub(crate) struct Scans {
    main: Vec<(String, FileStamp)>,
    others: Vec<Option<Vec<(String, FileStamp)>>>,
}

impl Scans {
    /// A digest of every file's name and stamp.
    pub(super) fn digest(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.main.hash(&mut h);
        self.others.hash(&mut h);
        h.finish()
    }

    /// Whether a file changed so recently that it may change again unseen.
    pub(super) fn racy(&self, now_ns: i64) -> bool {
        self.main
            .iter()
            .chain(self.others.iter().flatten().flatten())
            .any(|(_, stamp)| stamp.is_racy(now_ns))
    }
}

pub(crate) fn scan_calendars(env: &Env<'_>) -> Result<Scans, InboxError> {
    Ok(Scans {
        main: env.store.scan()?,
        others: env.busy_calendars.iter().map(|s| s.scan().ok()).collect(),
    })
}

/// The scans of the calendars whose entries are up to date: the written
/// one, then each busy calendar (`None`: it could not be read).
pub(super) struct Updated {
    pub(super) main: Vec<(String, FileStamp)>,
    pub(super) others: Vec<Option<Vec<(String, FileStamp)>>>,
}

/// Bring the cached calendar entries up to date with one scan of each
/// collection (the calendar written to, then the read-only busy
/// calendars): only files whose identity changed (or whose busy window
/// moved) are read.
pub(super) fn update_calendar(
    env: &Env<'_>,
    cache: &mut ParseCache,
    scans: Scans,
) -> Result<Updated, InboxError> {
    let Scans {
        main: scanned,
        others: other_scans,
    } = scans;
    let mut entries = std::mem::take(&mut cache.state.calendar);
    let refreshed = refresh_store(env, env.store, &scanned, &mut entries, cache);
    cache.state.calendar = entries;
    refreshed?;
    let mut others = std::mem::take(&mut cache.state.others);
    if others.len() != env.busy_calendars.len() {
        others.resize_with(env.busy_calendars.len(), HashMap::new);
        cache.state.calendar_dirty = true;
    }
    let mut usable = Vec::with_capacity(others.len());
    for ((store, entries), scanned) in env
        .busy_calendars
        .iter()
        .zip(others.iter_mut())
        .zip(other_scans)
    {
        // A busy calendar that cannot be read costs its busy times only.
        usable.push(
            scanned.filter(|scanned| {
                refresh_store(env, store.as_ref(), scanned, entries, cache).is_ok()
            }),
        );
    }
    cache.state.others = others;
    Ok(Updated {
        main: scanned,
        others: usable,
    })
}

/// The index of the cached entries (borrowed: nothing is copied per event).
pub(super) fn index_of<'c>(
    env: &Env<'_>,
    cache: &'c ParseCache,
    updated: &'c Updated,
) -> CalendarIndex<'c> {
    let state = &cache.state;
    let mut index = CalendarIndex::of(&state.calendar, &updated.main, window(env.now));
    for (entries, scanned) in state.others.iter().zip(&updated.others) {
        if let Some(scanned) = scanned {
            index.add_busy(entries, scanned);
        }
    }
    index
}

/// Bring `entries` (one collection's part of the index) up to date with one
/// scan of `store`; returns the scan.
fn refresh_store(
    env: &Env<'_>,
    store: &dyn CalendarStore,
    scanned: &[(String, FileStamp)],
    entries: &mut HashMap<String, CalendarEntry>,
    cache: &mut ParseCache,
) -> Result<(), InboxError> {
    let (from, to) = busy_window(env.now);
    let now_ns = now_ns(env.now);
    let mut seen: HashSet<&str> = HashSet::with_capacity(scanned.len());
    let mut todo: Vec<(&str, FileStamp)> = Vec::new();
    for (href, stamp) in scanned {
        seen.insert(href.as_str());
        let usable = entries.get(href).is_some_and(|e| {
            cache::fresh(e.stamp, e.racy, *stamp) && e.window_from == from.timestamp()
        });
        if !usable {
            todo.push((href.as_str(), *stamp));
        }
    }
    // Read and index the changed files a batch at a time, each batch on
    // every core (a first listing reads the whole calendar), holding only
    // one batch's bytes at once.
    for batch in todo.chunks(READ_BATCH) {
        let hrefs: Vec<&str> = batch.iter().map(|(h, _)| *h).collect();
        let objects = store.get_many(&hrefs);
        let (me, local) = (env.identity, env.clock.local);
        let indexed = on_every_core(&objects, |obj| match obj {
            Ok(Some(obj)) => Ok(Some(index_object(obj, me, local, from, to))),
            Ok(None) => Ok(None),
            Err(e) => Err(e.clone()),
        });
        for (&(href, stamp), result) in batch.iter().zip(indexed) {
            let Some((uids, busy)) = result? else {
                if let Some(old) = entries.remove(href) {
                    log_busy(&mut cache.state, &old.busy);
                }
                continue;
            };
            cache.calendar_reads += 1;
            log_busy(&mut cache.state, &busy);
            let entry = CalendarEntry {
                stamp: stamp.into(),
                racy: stamp.is_racy(now_ns),
                uids,
                window_from: from.timestamp(),
                busy,
            };
            if let Some(old) = entries.insert(href.to_string(), entry) {
                log_busy(&mut cache.state, &old.busy);
            }
            cache.state.calendar_dirty = true;
        }
    }
    let before = entries.len();
    let mut gone = Vec::new();
    entries.retain(|href, e| {
        let keep = seen.contains(href.as_str());
        if !keep {
            gone.extend(e.busy.iter().map(|b| (b.start, b.end)));
        }
        keep
    });
    if entries.len() != before {
        cache.state.calendar_dirty = true;
        log_spans(&mut cache.state, gone);
    }
    Ok(())
}

/// How many calendar files are read and indexed at once.
const READ_BATCH: usize = 512;

/// `f` over `items`, in order, split over the cores (at most 4 threads,
/// at least 64 items each). A thread that panicked yields `None` for its
/// items, which are then done again here.
pub(super) fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4);
    let chunk = items.len().div_ceil(threads).max(64);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk);
        let first = chunks.next();
        let handles: Vec<_> = chunks
            .map(|c| (c, scope.spawn(move || c.iter().map(f).collect::<Vec<R>>())))
            .collect();
        let mut out: Vec<R> = first.map(|c| c.iter().map(f).collect()).unwrap_or_default();
        for (c, h) in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                Err(_) => out.extend(c.iter().map(f)),
            }
        }
        out
    })
}

/// Most busy intervals remembered as changed; beyond, no saved row is
/// reused (the log restarts with the next saved rows).
const MAX_BUSY_LOG: usize = 20_000;

/// Remember busy times that changed (see [`State::busy_log`]).
fn log_busy(state: &mut State, busy: &[Busy]) {
    log_spans(state, busy.iter().map(|b| (b.start, b.end)).collect());
}

fn log_spans(state: &mut State, spans: Vec<(i64, i64)>) {
    if state.log_base == 0 || spans.is_empty() {
        return;
    }
    if state.busy_log.len() + spans.len() > MAX_BUSY_LOG {
        state.busy_log.clear();
        state.log_base = 0;
        return;
    }
    state.busy_log.extend(spans);
}

/// One calendar's cached entries and its scan.
type Source<'c> = (
    &'c HashMap<String, CalendarEntry>,
    &'c [(String, FileStamp)],
);

/// The calendar as one listing sees it: UID → file, and busy times, all
/// borrowed from the cache.
pub(crate) struct CalendarIndex<'c> {
    pub(super) by_uid: HashMap<&'c str, (&'c str, FileStamp)>,
    /// The entries and scans of every calendar (the written one first).
    sources: Vec<Source<'c>>,
    window: (DateTime<Utc>, DateTime<Utc>),
    /// Built on first use: a listing that takes every row again needs
    /// only the UIDs.
    busy: std::sync::OnceLock<BusyIndex<'c>>,
}

/// The busy times within the window, sorted by start.
struct BusyIndex<'c> {
    busy: Vec<&'c Busy>,
    occurrences: Vec<Occurrence>,
    /// The longest busy interval (for [`overlap::overlapping_within`]).
    longest: Duration,
}

impl<'c> CalendarIndex<'c> {
    fn of(
        entries: &'c HashMap<String, CalendarEntry>,
        scanned: &'c [(String, FileStamp)],
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> CalendarIndex<'c> {
        let mut by_uid = HashMap::with_capacity(scanned.len());
        // Sorted by name: several files with one UID break the vdir
        // contract; the first by name wins so the choice is stable.
        for (href, stamp) in scanned {
            let Some((href, e)) = entries.get_key_value(href) else {
                continue;
            };
            for uid in &e.uids {
                by_uid
                    .entry(uid.as_str())
                    .or_insert((href.as_str(), *stamp));
            }
        }
        CalendarIndex {
            by_uid,
            sources: vec![(entries, scanned)],
            window,
            busy: std::sync::OnceLock::new(),
        }
    }

    /// Add the busy times of a read-only calendar (its UIDs are not looked
    /// up: answers are written to the main calendar only).
    fn add_busy(
        &mut self,
        entries: &'c HashMap<String, CalendarEntry>,
        scanned: &'c [(String, FileStamp)],
    ) {
        self.sources.push((entries, scanned));
    }

    /// The busy times of every calendar within the window, sorted by start,
    /// with the overlap occurrences derived from them.
    fn busy(&self) -> &BusyIndex<'c> {
        self.busy.get_or_init(|| {
            let (from, to) = (self.window.0.timestamp(), self.window.1.timestamp());
            let mut busy: Vec<&'c Busy> = Vec::new();
            for (entries, scanned) in &self.sources {
                for (href, _) in scanned.iter() {
                    if let Some(e) = entries.get(href) {
                        busy.extend(e.busy.iter().filter(|b| b.end > from && b.start < to));
                    }
                }
            }
            busy.sort_by_key(|b| (b.start, b.end));
            let occurrences: Vec<Occurrence> = busy
                .iter()
                .filter_map(|b| {
                    Some(Occurrence {
                        comp_id: 0,
                        start: DateTime::from_timestamp(b.start, 0)?,
                        end: DateTime::from_timestamp(b.end, 0)?,
                    })
                })
                .collect();
            let longest = overlap::longest(&occurrences);
            BusyIndex {
                busy,
                occurrences,
                longest,
            }
        })
    }

    /// What building an item needs besides the message: the calendar's
    /// busy times from this index, and the settings of `env`.
    pub(super) fn context<'x>(
        &'x self,
        env: &'x Env<'_>,
        trusted: &'x dyn Fn(&str) -> bool,
        queued: bool,
    ) -> item::Context<'x> {
        let b = self.busy();
        item::Context {
            identity: env.identity,
            clock: env.clock,
            now: env.now,
            window: window(env.now),
            busy: &b.busy,
            busy_occurrences: &b.occurrences,
            busy_longest: b.longest,
            trusted,
            queued,
            server_sends_reply: !crate::inbox::mails_reply(env),
        }
    }
}

/// The calendar store seen through the index of one listing: a lookup by
/// UID reads only the file the index names (never a scan per invitation).
/// Read-only: the listing never writes.
pub(super) struct Indexed<'a, 'c> {
    pub(super) inner: &'a dyn CalendarStore,
    pub(super) index: &'a CalendarIndex<'c>,
}

impl CalendarStore for Indexed<'_, '_> {
    fn find_by_uid(&self, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        let Some((href, _)) = self.index.by_uid.get(uid) else {
            return Ok(None);
        };
        self.inner.get(href)
    }
    fn create(&self, uid: &str, _: &[u8]) -> Result<StoredObject, StoreError> {
        Err(StoreError::Io {
            path: uid.to_string(),
            message: "the listing does not write the calendar".into(),
        })
    }
    fn update(&self, existing: &StoredObject, _: &[u8]) -> Result<StoredObject, StoreError> {
        Err(StoreError::Io {
            path: existing.href.clone(),
            message: "the listing does not write the calendar".into(),
        })
    }
    fn list(&self) -> Result<Vec<StoredObject>, StoreError> {
        self.inner.list()
    }
    fn scan(&self) -> Result<Vec<(String, FileStamp)>, StoreError> {
        self.inner.scan()
    }
    fn get(&self, href: &str) -> Result<Option<StoredObject>, StoreError> {
        self.inner.get(href)
    }
    fn get_many(&self, hrefs: &[&str]) -> Vec<Result<Option<StoredObject>, StoreError>> {
        self.inner.get_many(hrefs)
    }
}

/// Tombstones read once for the whole listing.
pub(super) struct Snapshot(pub(super) HashMap<String, i64>);

impl Tombstones for Snapshot {
    fn get(&self, uid: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.0.get(uid).copied())
    }
    fn record(&self, uid: &str, _: i64) -> Result<(), StoreError> {
        Err(StoreError::Io {
            path: uid.to_string(),
            message: "the listing does not record tombstones".into(),
        })
    }
    fn all(&self) -> Result<HashMap<String, i64>, StoreError> {
        Ok(self.0.clone())
    }
}
