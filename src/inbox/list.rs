//! The inbox listing: every candidate message from the mail index, grouped
//! by UID (the newest version by SEQUENCE, then DTSTAMP, is shown; older
//! ones are counted as superseded), classified against the calendar, with
//! warnings and overlaps.
//!
//! Cost, when nothing changed: one stat per candidate (the mail index is
//! asked only whether its revision moved), one scan of each calendar
//! directory, and the saved rows (`Rows` in `inbox/cache.rs`): nothing else is read.
//! When something changed: one query of the mail index if its revision
//! moved; only messages and calendar files whose identity changed are
//! read and parsed (the [`ParseCache`], saved between runs by the
//! [`super::Inbox`]); each saved row whose inputs are unchanged and whose
//! occurrences no changed busy time touches is taken again, the others are
//! classified anew; tombstones and the outbox are read once. Each
//! invitation's stored copy is found through the calendar index, never by
//! scanning the calendar again.
//!
//! A first listing (no saved rows) spreads its work over the cores: the
//! calendars are scanned and indexed on a thread of their own while the
//! mail index is asked and the messages are read, messages and calendar
//! files are parsed a batch at a time on every core, and so are the items
//! (stored copy, classification, conflicts), each batch's in order. The
//! ports are `Sync` for this; the mail source stays on the listing's
//! thread. A calendar file holding one plain event (no recurrence, no
//! attendee: most of a calendar) is indexed by one pass over its bytes
//! ([`crate::domain::overlap::plain`]), the rest by the full parser; both
//! give the same answer, which tests and a fuzz target compare.

use super::cache::{self, Digest, MessageEntry, Parsed, State};
use super::item::{self, Item};
use super::{Env, InboxError, Loaded, Shown, classify_parts, invalid_class, load_part};
use crate::domain::extract::{self, MessageMeta};
use crate::domain::invite::{Invite, Method};
use crate::domain::ports::{Candidate, Found, InviteSource, SourceError};
use crate::domain::sanitize::terminal_line;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

pub use super::item::{Conflict, Flag, MAX_CONFLICTS, is_pending};

mod build;
mod calendar;
mod parse_cache;
use build::{Job, Slot, build_row, sort_with};
use calendar::{Indexed, Snapshot, Updated, index_of, scan_calendars, update_calendar};
pub use parse_cache::ParseCache;

/// The overlap window: from the start of the day before `now` ...
pub const WINDOW_PAST_DAYS: i64 = 1;
/// ... to this many days after it (R9.7: expand within a window).
pub const WINDOW_FUTURE_DAYS: i64 = 366;
/// Busy times are expanded for whole months from the month of the window's
/// start, this many days long, so the calendar index stays valid for a
/// month instead of a day.
const BUSY_SPAN_DAYS: i64 = WINDOW_FUTURE_DAYS + WINDOW_PAST_DAYS + 40;

/// What to list.
#[derive(Clone, Copy)]
pub struct ListOptions<'a> {
    /// Everything, including answered (duplicate), outdated and past items.
    /// Otherwise only pending items whose last occurrence has not ended.
    pub all: bool,
    /// Whether a (normalised, lower-case) sender address is in the user's
    /// contacts (`[trust] contacts`); answer `true` when no list is configured.
    pub trusted: &'a (dyn Fn(&str) -> bool + Sync),
    /// Build only the item with this key, whole (its classification
    /// included), and leave the saved rows alone.
    pub detail: Option<&'a str>,
    /// Loads the saved parsed messages and calendar index when a listing
    /// needs them (the saved rows did not answer); `None`: start empty.
    pub load: Option<&'a dyn Fn(cache::Part) -> State>,
    /// Keep each rebuilt item's classification and day agenda
    /// ([`Item::shown`], [`Item::agenda`]); `false` for a listing printed
    /// as rows (`rsvp list`), which then never holds every invitation
    /// parsed at once.
    pub details: bool,
}

fn trust_everyone(_: &str) -> bool {
    true
}

impl ListOptions<'static> {
    /// Pending items only, with no contacts list.
    pub fn pending() -> ListOptions<'static> {
        ListOptions {
            all: false,
            trusted: &trust_everyone,
            detail: None,
            load: None,
            details: true,
        }
    }

    /// Everything, with no contacts list.
    pub fn everything() -> ListOptions<'static> {
        ListOptions {
            all: true,
            trusted: &trust_everyone,
            detail: None,
            load: None,
            details: true,
        }
    }
}

/// A candidate that could not be read (moved since the index saw it,
/// unreadable, too large): shown as such, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: String,
    /// Terminal-safe, one line.
    pub reason: String,
}

/// One listing: the items, and the candidates that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub items: Vec<Item>,
    pub unreadable: Vec<Unreadable>,
    /// Replies the mail server refused for good ("UID to address", terminal
    /// safe): never retried; the user drops them (issue 8 item 6).
    pub refused: Vec<String>,
    /// Served whole from the saved rows, checked: nothing the rows depend
    /// on changed since they were saved, so details of the same items
    /// built since are still true (the TUI keeps them).
    pub unchanged: bool,
}

impl Listing {
    /// "1 invitation could not be read: run notmuch new", when any.
    pub fn unreadable_note(&self) -> Option<String> {
        let n = self.unreadable.len();
        (n > 0).then(|| {
            let what = if n == 1 {
                "1 invitation could not be read".to_string()
            } else {
                format!("{n} invitations could not be read")
            };
            let hint = if self
                .unreadable
                .iter()
                .any(|u| u.reason.contains("notmuch new"))
            {
                ": run notmuch new"
            } else {
                ""
            };
            format!("{what}{hint}")
        })
    }
}

fn now_ns(now: DateTime<Utc>) -> i64 {
    now.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// The digest of one message read from `raw`.
fn digest_of(raw: &[u8]) -> Digest {
    match load_part(raw) {
        Err(e) => Digest::NotInvitation(e.to_string()),
        Ok((loaded, part)) => {
            let meta = loaded.meta.as_ref().map(cache::Meta::from);
            match (&loaded.invite, part) {
                (Ok(inv), Some((text, method_param))) => {
                    let reply_from = (inv.method == Some(Method::Reply)).then(|| {
                        loaded
                            .meta
                            .as_ref()
                            .and_then(|m| m.from.first())
                            .map(|f| f.address.to_lowercase())
                            .unwrap_or_default()
                    });
                    let (sequence, dtstamp) = revision(inv);
                    Digest::Invite(Box::new(Parsed {
                        meta,
                        text,
                        method_param,
                        warnings: loaded.warnings.clone(),
                        uid: inv.uid.clone(),
                        reply_from,
                        sequence,
                        dtstamp,
                    }))
                }
                (Err(reason), _) => Digest::Invalid {
                    meta: meta.map(Box::new),
                    reason: reason.clone(),
                    warnings: loaded.warnings.clone(),
                    method_mismatch: loaded.method_mismatch,
                },
                (Ok(_), None) => Digest::NotInvitation("no calendar part".into()),
            }
        }
    }
}

/// The message again from its digest (the calendar part parsed anew).
fn loaded_of(digest: &Digest) -> Option<Loaded> {
    match digest {
        Digest::NotInvitation(_) => None,
        Digest::Invalid {
            meta,
            reason,
            warnings,
            method_mismatch,
        } => Some(Loaded {
            meta: meta.as_deref().map(MessageMeta::from),
            invite: Err(reason.clone()),
            warnings: warnings.clone(),
            method_mismatch: *method_mismatch,
        }),
        Digest::Invite(p) => {
            let invite = super::invite_from_part(&p.text, p.method_param.as_deref(), false)
                .map(|(inv, _)| inv)
                .map_err(|e| e.reason);
            Some(Loaded {
                meta: p.meta.as_ref().map(MessageMeta::from),
                invite,
                warnings: p.warnings.clone(),
                method_mismatch: false,
            })
        }
    }
}

/// SEQUENCE, then the latest DTSTAMP (RFC 5546 §2.1.5).
fn revision(inv: &Invite) -> (i64, Option<i64>) {
    let stamp = inv
        .components()
        .iter()
        .filter_map(|c| c.dtstamp())
        .map(|d| d.naive().and_utc().timestamp())
        .max();
    (inv.sequence(), stamp)
}

/// Candidates with their digests, and those that could not be read.
type Read = (Vec<Candidate>, Vec<Unreadable>);

/// Every candidate's digest brought into the cache (read only when its
/// file changed); the candidates that have one, and the unreadable ones.
/// The mail source reads the changed messages a batch at a time; each
/// batch is parsed on every core (a first listing parses every
/// invitation), holding only one batch's bytes at once.
fn load_candidates(
    source: &dyn InviteSource,
    candidates: Vec<Candidate>,
    cache: &mut ParseCache,
    now: DateTime<Utc>,
) -> Result<Read, InboxError> {
    let now_ns = now_ns(now);
    let mut seen: HashSet<String> = HashSet::with_capacity(candidates.len());
    let mut out = Vec::with_capacity(candidates.len());
    let mut unreadable = Vec::new();
    // Read, not yet parsed: (index in `out`, the bytes).
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
    for c in candidates {
        if let Some(why) = &c.missing {
            unreadable.push(Unreadable {
                path: terminal_line(&c.path),
                reason: terminal_line(why),
            });
            continue;
        }
        seen.insert(c.path.clone());
        let cached = cache
            .state
            .messages
            .get(&c.path)
            .is_some_and(|e| cache::fresh(e.stamp, e.racy, c.stamp));
        if !cached {
            let raw = match source.read(&c) {
                Ok(raw) => raw,
                Err(SourceError::Message { message, .. }) => {
                    unreadable.push(Unreadable {
                        path: terminal_line(&c.path),
                        reason: terminal_line(&message),
                    });
                    cache.state.messages.remove(&c.path);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            cache.reads += 1;
            if raw.len() > extract::MAX_MESSAGE_BYTES {
                // R9.8: refused whole, and said (issue 8 item 9).
                unreadable.push(Unreadable {
                    path: terminal_line(&c.path),
                    reason: format!(
                        "larger than {} MB; not read",
                        extract::MAX_MESSAGE_BYTES / (1024 * 1024)
                    ),
                });
                cache.state.messages.remove(&c.path);
                continue;
            }
            batch.push((out.len(), raw));
        }
        out.push(c);
        if batch.len() >= PARSE_BATCH {
            parse_batch(&mut batch, &out, cache, now_ns);
        }
    }
    parse_batch(&mut batch, &out, cache, now_ns);
    let before = cache.state.messages.len();
    cache.state.messages.retain(|path, _| seen.contains(path));
    if cache.state.messages.len() != before {
        cache.state.messages_dirty = true;
    }
    Ok((out, unreadable))
}

/// How many messages are parsed at once.
const PARSE_BATCH: usize = 256;

/// Parse the messages read (`batch`: index in `candidates`, bytes) on
/// every core and keep their digests; empties `batch`.
fn parse_batch(
    batch: &mut Vec<(usize, Vec<u8>)>,
    candidates: &[Candidate],
    cache: &mut ParseCache,
    now_ns: i64,
) {
    if batch.is_empty() {
        return;
    }
    let digests = calendar::on_every_core(batch, |(_, raw)| digest_of(raw));
    for ((at, _), digest) in batch.drain(..).zip(digests) {
        let Some(c) = candidates.get(at) else {
            continue;
        };
        cache.state.messages.insert(
            c.path.clone(),
            MessageEntry {
                stamp: c.stamp.into(),
                racy: c.stamp.is_racy(now_ns),
                digest,
            },
        );
        cache.state.messages_dirty = true;
    }
}

/// One UID's messages, newest first, with their digests in the cache.
struct Group<'c> {
    versions: Vec<(Candidate, &'c Digest)>,
}

fn group_key(c: &Candidate, d: &Digest) -> Option<String> {
    match d {
        Digest::Invite(p) => Some(match &p.reply_from {
            // Replies from different attendees are different items.
            Some(from) => format!("r\n{}\n{from}", p.uid),
            None => format!("u\n{}", p.uid),
        }),
        Digest::Invalid { .. } => Some(format!("x\n{}", c.id)),
        Digest::NotInvitation(_) => None,
    }
}

fn rank(d: &Digest) -> Option<(i64, Option<i64>)> {
    match d {
        Digest::Invite(p) => Some((p.sequence, p.dtstamp)),
        _ => None,
    }
}

fn group(loaded: Vec<Candidate>, messages: &HashMap<String, MessageEntry>) -> Vec<Group<'_>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    for c in loaded {
        let Some(d) = messages.get(&c.path).map(|e| &e.digest) else {
            continue;
        };
        let Some(key) = group_key(&c, d) else {
            continue;
        };
        match index.get(&key) {
            Some(&i) => {
                if let Some(g) = groups.get_mut(i) {
                    g.versions.push((c, d));
                }
            }
            None => {
                index.insert(key, groups.len());
                groups.push(Group {
                    versions: vec![(c, d)],
                });
            }
        }
    }
    for g in &mut groups {
        g.versions.sort_by(|(ca, da), (cb, db)| {
            rank(db)
                .cmp(&rank(da))
                .then_with(|| cb.stamp.mtime_ns.cmp(&ca.stamp.mtime_ns))
                .then_with(|| ca.path.cmp(&cb.path))
        });
    }
    groups
}

/// `[from, to)` for overlaps: whole UTC days.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = (now - Duration::days(WINDOW_PAST_DAYS)).date_naive();
    let from = day.and_time(NaiveTime::MIN).and_utc();
    (
        from,
        from + Duration::days(WINDOW_FUTURE_DAYS + WINDOW_PAST_DAYS + 1),
    )
}

/// Every invitation that needs the user (or everything with `opts.all`),
/// pending first, then by start.
pub fn list(
    env: &Env<'_>,
    source: &dyn InviteSource,
    cache: &mut ParseCache,
    opts: ListOptions<'_>,
) -> Result<Vec<Item>, InboxError> {
    list_all(env, source, cache, opts).map(|l| l.items)
}

/// [`list`], with the candidates that could not be read.
///
/// Served from the saved rows (`Rows` in `inbox/cache.rs`) when nothing they were
/// computed from changed: then no message, no calendar file and no saved
/// parse is read, and the items come without their classification
/// ([`Item::shown`] is `None`; [`ListOptions::detail`] builds one whole).
pub fn list_all(
    env: &Env<'_>,
    source: &dyn InviteSource,
    cache: &mut ParseCache,
    opts: ListOptions<'_>,
) -> Result<Listing, InboxError> {
    if cache.rows.usable {
        return list_from(env, source, cache, opts, &mut None);
    }
    // No saved rows to serve from: this listing builds every item. Its
    // calendars are scanned and their index brought up to date on a thread
    // of its own while the mail index is asked and the changed messages
    // are read (the mail source stays on this thread: notmuch handles are
    // not `Send`).
    cache.ensure_loaded(opts.load);
    let mut side = cache.take_calendar();
    std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let updated = scan_calendars(env).and_then(|scans| {
                let (digest, racy) = (scans.digest(), scans.racy(now_ns(env.now)));
                update_calendar(env, &mut side, scans).map(|u| (u, digest, racy))
            });
            (updated, side)
        });
        let mut early = Some(Early { handle });
        let listed = list_from(env, source, cache, opts, &mut early);
        // Failed before it needed the calendar: keep what was indexed.
        if let Some(Ok((_, side))) = early.map(|e| e.handle.join()) {
            cache.put_calendar(side);
        }
        listed
    })
}

/// The calendars scanned and their index brought up to date on another
/// thread (see [`list_all`]): the index, the digest and raciness of the
/// scans, and the part of the cache it worked on.
struct Early<'s> {
    handle: std::thread::ScopedJoinHandle<'s, (Result<Scanned, InboxError>, ParseCache)>,
}

/// The calendars' index brought up to date, with the digest and
/// raciness of the scans it was brought up to date with.
type Scanned = (Updated, u64, bool);

/// The listing, once the saved rows are known: served from them when
/// every input is unchanged, else built (`early`: the calendar index
/// already on its way; taken when it is needed).
fn list_from(
    env: &Env<'_>,
    source: &dyn InviteSource,
    cache: &mut ParseCache,
    opts: ListOptions<'_>,
    early: &mut Option<Early<'_>>,
) -> Result<Listing, InboxError> {
    let now_ns = now_ns(env.now);
    let (revision, candidates) = candidates(source, cache)?;
    // With the calendar on its way (no saved rows to serve from), its
    // digest is known once it is joined.
    let (scans, calendar_digest) = match early {
        Some(_) => (None, 0),
        None => {
            let scans = scan_calendars(env)?;
            let digest = scans.digest();
            (Some(scans), digest)
        }
    };
    let tombstones = env.tombstones.all()?;
    let queued: HashSet<String> = env
        .outbox
        .pending()?
        .into_iter()
        .map(|e| e.key.uid)
        .collect();
    let refused = env
        .outbox
        .failed()?
        .iter()
        .map(|e| terminal_line(&format!("{} to {}", e.key.uid, e.envelope.to.join(", "))))
        .collect();
    let mut inputs = Inputs {
        candidates: digest(&candidates),
        calendar: calendar_digest,
        tombstones: digest(&sorted(tombstones.iter().map(|(k, v)| (k.clone(), *v)))),
        outbox: digest(&sorted(queued.iter().cloned())),
    };
    if opts.detail.is_none()
        && let Some((items, unreadable)) = from_rows(&cache.rows, &inputs, env.now, opts)
    {
        cache.served += 1;
        return Ok(Listing {
            items: items.into_iter().filter(|i| shows(i, opts.all)).collect(),
            unreadable,
            refused,
            unchanged: true,
        });
    }
    cache.ensure_loaded(opts.load);
    let candidates_racy = candidates
        .iter()
        .any(|c| c.missing.is_none() && c.stamp.is_racy(now_ns));
    let saved_candidates: Vec<cache::CandidateEntry> =
        candidates.iter().map(cache::CandidateEntry::from).collect();
    let (loaded, unreadable) = load_candidates(source, candidates, cache, env.now)?;
    let (updated, calendar_digest, scans_racy) =
        match (scans, early.take().map(|e| e.handle.join())) {
            (_, Some(Ok((result, side)))) => {
                cache.put_calendar(side);
                result?
            }
            // Scanned above; or the early thread panicked, and its part of
            // the cache went with it: scan and index here.
            (scans, _) => {
                let (scans, digest) = match scans {
                    Some(scans) => (scans, calendar_digest),
                    None => {
                        let scans = scan_calendars(env)?;
                        let digest = scans.digest();
                        (scans, digest)
                    }
                };
                let racy = scans.racy(now_ns);
                (update_calendar(env, cache, scans)?, digest, racy)
            }
        };
    inputs.calendar = calendar_digest;
    let racy = scans_racy || candidates_racy;
    let old_rows = std::mem::take(&mut cache.rows);
    let fingerprint = old_rows.fingerprint.clone();
    let cache_ro: &ParseCache = cache;
    let groups = group(loaded, &cache_ro.state.messages);
    let index = index_of(env, cache_ro, &updated);
    // A busy calendar that cannot be read now drops its busy times from
    // every row: nothing saved is reused then.
    let reuse = if updated.others.iter().all(Option::is_some) {
        Reuse::of(&old_rows, &cache_ro.state, env.now)
    } else {
        Reuse::none()
    };
    let tombstones = Snapshot(tombstones);
    let indexed = Indexed {
        inner: env.store,
        index: &index,
    };
    let listing_env = Env {
        store: &indexed,
        tombstones: &tombstones,
        ..*env
    };
    // First, in order: each group's inputs, and its saved row when that is
    // still true; the rest is built a batch at a time on every core (a
    // first listing builds every item: reading and parsing its stored copy,
    // classifying, finding its conflicts).
    let mut slots: Vec<Slot<'_>> = Vec::with_capacity(groups.len());
    let mut reused = 0usize;
    for g in groups {
        let versions_digest = digest(&g.versions.iter().map(|(c, _)| c).collect::<Vec<_>>());
        let racy_group = g.versions.iter().any(|(c, _)| c.stamp.is_racy(now_ns));
        let mut versions = g.versions.into_iter();
        let Some((message, digest)) = versions.next() else {
            continue;
        };
        if opts.detail.is_some_and(|k| k != message.id) {
            continue;
        }
        let uid = match digest {
            Digest::Invite(p) => Some(p.uid.as_str()),
            _ => None,
        };
        let stored = uid.and_then(|u| index.by_uid.get(u));
        let inputs = cache::RowInputs {
            racy: racy_group || stored.is_some_and(|(_, stamp)| stamp.is_racy(now_ns)),
            versions: versions_digest,
            stored: stored.map_or(0, |(href, stamp)| {
                crate::inbox::list::digest(&(href, stamp))
            }),
            tombstone: uid.and_then(|u| tombstones.0.get(u).copied()),
            queued: uid.is_some_and(|u| queued.contains(u)),
            ..cache::RowInputs::default()
        };
        if opts.detail.is_none()
            && let Some((row, item)) = reuse.row(&message.id, &inputs, opts)
        {
            reused += 1;
            slots.push(Slot::Done(Box::new((row.clone(), item))));
            continue;
        }
        slots.push(Slot::Build(Box::new(Job {
            message,
            older: versions.map(|(c, _)| c).collect(),
            digest,
            inputs,
        })));
    }
    let keep_details = opts.details || opts.detail.is_some();
    let trusted = opts.trusted;
    let build = |job: &Job<'_>| -> Option<Result<(cache::RowEntry, Item), InboxError>> {
        let loaded = loaded_of(job.digest)?;
        Some(build_row(
            &listing_env,
            &index,
            trusted,
            job,
            loaded,
            keep_details,
        ))
    };
    let (mut items, mut rows) = build::in_order(slots, build)?;
    drop(index);
    cache.reused += reused;
    if opts.detail.is_none() {
        let mut trust: Vec<(String, bool)> = rows
            .iter()
            .flat_map(|r| r.inputs.trust.iter().cloned())
            .collect();
        trust.sort();
        trust.dedup();
        let valid_until = rows
            .iter()
            .filter_map(cache::RowEntry::until)
            .fold(next_midnight(env.now), i64::min);
        // Sorted as the items are: each row moves with its item (they were
        // pushed in step), in place, so nothing is copied.
        sort_with(&mut items, &mut rows);
        let sorted_rows = rows;
        let generation = generation_of(env.now, &old_rows);
        cache.rows = cache::Rows {
            generation,
            revision,
            candidates: saved_candidates,
            candidates_digest: inputs.candidates,
            calendar_digest: inputs.calendar,
            tombstones_digest: inputs.tombstones,
            outbox_digest: inputs.outbox,
            computed_at: env.now.timestamp(),
            valid_until,
            racy,
            trust,
            unreadable: unreadable
                .iter()
                .map(|u| (u.path.clone(), u.reason.clone()))
                .collect(),
            items: sorted_rows,
            dirty: true,
            usable: true,
            ..cache::Rows::empty(&fingerprint)
        };
        // The busy log now counts from these rows.
        cache.state.busy_log.clear();
        cache.state.log_base = generation;
        cache.state.calendar_dirty = true;
    } else {
        sort(&mut items);
        cache.rows = old_rows;
    }
    Ok(Listing {
        items: items.into_iter().filter(|i| shows(i, opts.all)).collect(),
        unreadable,
        refused,
        unchanged: false,
    })
}

/// The saved rows a listing may take again one by one: those whose inputs
/// are unchanged and whose occurrences no changed busy time touches.
struct Reuse<'a> {
    rows: HashMap<&'a str, &'a cache::RowEntry>,
    /// The changed busy intervals' starts, sorted, and for each prefix the
    /// latest end: whether one overlaps a slot is two binary searches.
    starts: Vec<i64>,
    latest_end: Vec<i64>,
    now: i64,
}

impl<'a> Reuse<'a> {
    fn of(rows: &'a cache::Rows, state: &'a State, now: DateTime<Utc>) -> Reuse<'a> {
        let same_day = DateTime::from_timestamp(rows.computed_at, 0)
            .is_some_and(|t| t.date_naive() == now.date_naive());
        let usable = rows.usable
            && state.log_base != 0
            && state.log_base == rows.generation
            && rows.computed_at <= now.timestamp()
            && same_day;
        let mut log = state.busy_log.clone();
        log.sort_unstable();
        let mut latest = i64::MIN;
        let latest_end = log
            .iter()
            .map(|&(_, e)| {
                latest = latest.max(e);
                latest
            })
            .collect();
        Reuse {
            rows: if usable {
                rows.items.iter().map(|r| (r.key(), r)).collect()
            } else {
                HashMap::new()
            },
            starts: log.iter().map(|&(s, _)| s).collect(),
            latest_end,
            now: now.timestamp(),
        }
    }

    /// Nothing to reuse.
    fn none() -> Reuse<'a> {
        Reuse {
            rows: HashMap::new(),
            starts: Vec::new(),
            latest_end: Vec::new(),
            now: 0,
        }
    }

    /// Whether a changed busy interval overlaps `[a, b)`.
    fn touched(&self, a: i64, b: i64) -> bool {
        // The intervals starting before `b`; one of them ends after `a`?
        let before = self.starts.partition_point(|&s| s < b);
        before
            .checked_sub(1)
            .and_then(|i| self.latest_end.get(i))
            .is_some_and(|&e| e > a)
    }

    /// The saved row for `key` and its item, when still true.
    fn row(
        &self,
        key: &str,
        inputs: &cache::RowInputs,
        opts: ListOptions<'_>,
    ) -> Option<(&'a cache::RowEntry, Item)> {
        let r = *self.rows.get(key)?;
        let was = &r.inputs;
        let same = !was.racy
            && was.versions == inputs.versions
            && was.stored == inputs.stored
            && was.tombstone == inputs.tombstone
            && was.queued == inputs.queued
            && r.until().is_none_or(|u| self.now < u)
            && was.trust.iter().all(|(a, t)| (opts.trusted)(a) == *t)
            && !was.slots.iter().any(|&(a, b)| self.touched(a, b));
        if !same {
            return None;
        }
        Some((r, r.item()?))
    }
}

/// A generation number for new rows: never 0, never the last one.
fn generation_of(now: DateTime<Utc>, last: &cache::Rows) -> u64 {
    let n = u64::try_from(now_ns(now)).unwrap_or(1).max(1);
    if n == last.generation {
        n.wrapping_add(1).max(1)
    } else {
        n
    }
}

/// The saved rows as they were, unchecked (see [`super::Inbox::saved`]).
pub(crate) fn saved(cache: &ParseCache, all: bool) -> Option<Listing> {
    let rows = &cache.rows;
    if !rows.usable {
        return None;
    }
    let mut items = Vec::with_capacity(rows.items.len());
    for r in &rows.items {
        let item = r.item()?;
        if shows(&item, all) {
            items.push(item);
        }
    }
    Some(Listing {
        items,
        unreadable: unreadable_of(rows),
        refused: Vec::new(),
        // Painted unchecked: nothing is known to be unchanged.
        unchanged: false,
    })
}

fn unreadable_of(rows: &cache::Rows) -> Vec<Unreadable> {
    rows.unreadable
        .iter()
        .map(|(path, reason)| Unreadable {
            path: path.clone(),
            reason: reason.clone(),
        })
        .collect()
}

/// Whether a listing shows `item`: everything with `all`, else what needs
/// the user and has not ended. Not invited (sent to an address that is
/// not configured as mine) is listed with the pending ones, so the user
/// can add the address.
fn shows(item: &Item, all: bool) -> bool {
    let not_invited = item.status == crate::domain::classify::Status::NotInvited && !item.dismissed;
    all || ((item.pending || not_invited) && !item.past)
}

/// Digests of what a listing is computed from besides the messages.
struct Inputs {
    candidates: u64,
    calendar: u64,
    tombstones: u64,
    outbox: u64,
}

fn digest<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

fn sorted<T: Ord>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = values.collect();
    v.sort();
    v
}

/// The next UTC midnight after `now` (unix seconds): the overlap window
/// moves then.
fn next_midnight(now: DateTime<Utc>) -> i64 {
    now.date_naive()
        .succ_opt()
        .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp())
        .unwrap_or(i64::MIN)
}

/// The candidates and the mail index's revision: the saved list when the
/// index has not changed since (each file stamped again), else a query.
fn candidates(
    source: &dyn InviteSource,
    cache: &ParseCache,
) -> Result<(Option<String>, Vec<Candidate>), InboxError> {
    let rows = &cache.rows;
    let since = rows.revision.as_deref().filter(|_| rows.usable);
    match source.candidates_since(since)? {
        Found::Changed {
            revision,
            candidates,
        } => Ok((revision, candidates)),
        Found::Unchanged => {
            let mut out = Vec::with_capacity(rows.candidates.len());
            for saved in &rows.candidates {
                let mut c = Candidate::from(saved);
                // Moved or gone since: the query finds it again (or says so).
                let Some(stamp) = c
                    .missing
                    .is_none()
                    .then(|| source.restat(&c.path))
                    .flatten()
                else {
                    return Ok((since.map(str::to_string), source.candidates()?));
                };
                c.stamp = stamp;
                out.push(c);
            }
            Ok((since.map(str::to_string), out))
        }
    }
}

/// The saved rows, when every input is as it was and none of them has
/// changed with the time since.
fn from_rows(
    rows: &cache::Rows,
    inputs: &Inputs,
    now: DateTime<Utc>,
    opts: ListOptions<'_>,
) -> Option<(Vec<Item>, Vec<Unreadable>)> {
    let now = now.timestamp();
    let same = rows.usable
        && !rows.racy
        && rows.candidates_digest == inputs.candidates
        && rows.calendar_digest == inputs.calendar
        && rows.tombstones_digest == inputs.tombstones
        && rows.outbox_digest == inputs.outbox
        && rows.computed_at <= now
        && now < rows.valid_until
        && rows.trust.iter().all(|(a, t)| (opts.trusted)(a) == *t);
    if !same {
        return None;
    }
    let mut items = Vec::with_capacity(rows.items.len());
    for r in &rows.items {
        items.push(r.item()?);
    }
    Some((items, unreadable_of(rows)))
}

/// Pending first, then by start.
fn sort(items: &mut [Item]) {
    items.sort_by(order);
}

/// The order of a listing: pending first, then by start, UID and path.
fn order(a: &Item, b: &Item) -> std::cmp::Ordering {
    b.pending
        .cmp(&a.pending)
        .then_with(|| match (a.start, b.start) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
        .then_with(|| a.uid.cmp(&b.uid))
        .then_with(|| a.message.path.cmp(&b.message.path))
}

/// The item for one message given on its own (`--message`, standard
/// input): classified against the calendar with the calendar's busy times.
pub(crate) fn adhoc_item(
    env: &Env<'_>,
    cache: &mut ParseCache,
    message: Candidate,
    loaded: Loaded,
    trusted: &dyn Fn(&str) -> bool,
) -> Result<Item, InboxError> {
    let updated = update_calendar(env, cache, scan_calendars(env)?)?;
    let index = index_of(env, cache, &updated);
    let shown = classify_loaded(env, loaded)?;
    let queued = shown.invite().is_some_and(|i| {
        env.outbox
            .pending()
            .is_ok_and(|p| p.iter().any(|e| e.key.uid == i.uid))
    });
    let ctx = index.context(env, trusted, queued);
    Ok(item::build(&ctx, message, Vec::new(), shown))
}

/// `show_loaded`, but a broken stored copy makes this one item invalid
/// instead of failing the whole listing; I/O errors still fail.
fn classify_loaded(env: &Env<'_>, loaded: Loaded) -> Result<Shown, InboxError> {
    match classify_parts(env, &loaded) {
        Ok((class, stored)) => Ok(Shown {
            loaded,
            class,
            stored,
        }),
        Err(InboxError::Other(reason)) => Ok(Shown {
            class: invalid_class(&reason),
            loaded,
            stored: None,
        }),
        Err(e) => Err(e),
    }
}
