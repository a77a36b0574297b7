//! The inbox listing, shared by `rsvp list` and the TUI: every candidate
//! message from the mail index, grouped by UID (the newest version by
//! SEQUENCE, then DTSTAMP, is shown; older ones are counted as superseded),
//! classified against the calendar, with warnings and overlaps.
//!
//! Parsed messages are kept in a [`ParseCache`] keyed by (path, mtime), so a
//! refresh reads only new and changed files; the calendar's busy times are
//! cached by (href, ETag).

use super::{Env, InboxError, Loaded, Shown, invalid_class, load, show_loaded};
use crate::domain::classify::Status;
use crate::domain::extract;
use crate::domain::ical::{self, CalDate};
use crate::domain::identity::normalize_address;
use crate::domain::invite::{Invite, Method, PartStat};
use crate::domain::overlap::{self, Expansion, Occurrence};
use crate::domain::ports::{Candidate, InviteSource, SourceError, StoredObject};
use crate::domain::sanitize::terminal_line;
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Most conflicts reported for one item.
pub const MAX_CONFLICTS: usize = 50;
/// The overlap window: from the start of the day before `now` ...
pub const WINDOW_PAST_DAYS: i64 = 1;
/// ... to this many days after it (R9.7: expand within a window).
pub const WINDOW_FUTURE_DAYS: i64 = 366;

/// What to list.
#[derive(Clone, Copy)]
pub struct ListOptions<'a> {
    /// Everything, including answered (duplicate), outdated and past items.
    /// Otherwise only pending items whose last occurrence has not ended.
    pub all: bool,
    /// Whether a (normalised, lower-case) sender address is in the user's
    /// contacts (`[trust] contacts`); answer `true` when no list is configured.
    pub trusted: &'a dyn Fn(&str) -> bool,
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
        }
    }

    /// Everything, with no contacts list.
    pub fn everything() -> ListOptions<'static> {
        ListOptions {
            all: true,
            trusted: &trust_everyone,
        }
    }
}

/// A warning mark on an item (the text is in [`Item::warnings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The From address is neither the organizer nor its SENT-BY (R7.9, R9.1).
    SenderNotOrganizer,
    /// The organizer differs from the stored one (R3.2, T28).
    OrganizerChanged,
    /// The sender is not in the contacts and the UID is not in the calendar
    /// (R9.2, T59).
    Untrusted,
    /// Recurrence expansion was cut or refused (R9.7, T58).
    RecurrenceCapped,
}

impl Flag {
    /// The word of the JSON output (`flags`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::SenderNotOrganizer => "sender-not-organizer",
            Flag::OrganizerChanged => "organizer-changed",
            Flag::Untrusted => "untrusted",
            Flag::RecurrenceCapped => "recurrence-capped",
        }
    }
}

/// Another event of the calendar that overlaps one of the item's occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub uid: String,
    /// Terminal-safe, one line.
    pub summary: String,
    /// That event's occurrence.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One row of the inbox: the newest message for one UID.
///
/// Text fields (`summary`, `organizer`, `warnings`, conflict summaries) are
/// already terminal-safe single lines (R9.5); the raw data is in `shown`.
#[derive(Debug, Clone)]
pub struct Item {
    /// Empty for a message whose calendar data is invalid.
    pub uid: String,
    pub status: Status,
    /// My current answer (the stored one when the event is in the calendar).
    pub partstat: Option<PartStat>,
    pub summary: String,
    /// The first start (DTSTART of the series or of the instance).
    pub start: Option<DateTime<Utc>>,
    /// `start` in the user's zone: `Mon 2025-01-06 09:00`, or
    /// `Mon 2025-01-06 all day`; empty when there is no start.
    pub start_text: String,
    pub all_day: bool,
    /// `Name <address>` of the ORGANIZER.
    pub organizer: Option<String>,
    /// The From address, normalised.
    pub sender: Option<String>,
    pub flags: Vec<Flag>,
    /// Everything worth saying: classification warnings, then the listing's.
    pub warnings: Vec<String>,
    /// The message shown.
    pub message: Candidate,
    /// Older versions of the same UID, newest first (for tagging).
    pub older: Vec<Candidate>,
    /// `older.len()`.
    pub superseded: usize,
    /// Needs an answer (new, reschedule, poll) or applying (update, cancel,
    /// uninvited), and something is allowed.
    pub pending: bool,
    /// The last occurrence ended before `now` (unknown for endless series).
    pub past: bool,
    /// Overlapping busy events within the window, at most [`MAX_CONFLICTS`].
    pub conflicts: Vec<Conflict>,
    pub recurring: bool,
    pub shown: Shown,
}

/// A status that needs the user: an answer or applying to the calendar.
pub fn is_pending(status: Status) -> bool {
    matches!(
        status,
        Status::New
            | Status::Reschedule
            | Status::Poll
            | Status::Update
            | Status::Cancel(_)
            | Status::Uninvited
    )
}

type Parsed = Arc<Result<Loaded, String>>;

/// A busy occurrence of another event of the calendar.
#[derive(Debug, Clone)]
struct Busy {
    uid: String,
    summary: String,
    occ: Occurrence,
}

/// Busy times of one stored object, for the window starting at the date.
type CachedBusy = (DateTime<Utc>, Arc<Vec<Busy>>);

/// Parsed messages by (path, mtime) and busy times by (href, ETag).
#[derive(Debug, Default)]
pub struct ParseCache {
    messages: HashMap<(String, i64), Parsed>,
    busy: HashMap<(String, String), CachedBusy>,
    reads: usize,
}

impl ParseCache {
    pub fn new() -> ParseCache {
        ParseCache::default()
    }

    /// How many message files were read from the source so far.
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// How many messages are cached.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Forget everything (the next listing reads every file again).
    pub fn clear(&mut self) {
        *self = ParseCache::default();
    }
}

/// Every candidate that holds calendar data, read through the cache.
fn load_candidates(
    source: &dyn InviteSource,
    cache: &mut ParseCache,
) -> Result<Vec<(Candidate, Parsed)>, InboxError> {
    let candidates = source.candidates()?;
    let mut fresh: HashMap<(String, i64), Parsed> = HashMap::new();
    let mut out = Vec::new();
    for c in candidates {
        let key = (c.path.clone(), c.mtime);
        let parsed = match cache.messages.get(&key) {
            Some(p) => p.clone(),
            None => {
                let raw = match source.read(&c) {
                    Ok(raw) => raw,
                    // Gone or unreadable since the index saw it: not listed;
                    // tried again on the next refresh.
                    Err(SourceError::Message { .. }) => continue,
                    Err(e) => return Err(e.into()),
                };
                cache.reads += 1;
                Arc::new(load(&raw).map_err(|e| e.to_string()))
            }
        };
        fresh.insert(key, parsed.clone());
        if parsed.is_ok() {
            out.push((c, parsed));
        }
    }
    cache.messages = fresh;
    Ok(out)
}

/// SEQUENCE, then the latest DTSTAMP (RFC 5546 §2.1.5).
fn revision(inv: &Invite) -> (i64, Option<NaiveDateTime>) {
    let stamp = inv
        .components()
        .iter()
        .filter_map(|c| c.dtstamp())
        .map(|d| d.naive())
        .max();
    (inv.sequence(), stamp)
}

/// One UID's messages, newest first.
struct Group {
    versions: Vec<(Candidate, Parsed)>,
}

fn group_key(c: &Candidate, loaded: &Loaded) -> String {
    match &loaded.invite {
        // Replies from different attendees are different items.
        Ok(inv) if inv.method == Some(Method::Reply) => {
            let from = loaded
                .meta
                .as_ref()
                .and_then(|m| m.from.first())
                .map(|f| f.address.to_lowercase())
                .unwrap_or_default();
            format!("r\n{}\n{from}", inv.uid)
        }
        Ok(inv) => format!("u\n{}", inv.uid),
        Err(_) => format!("x\n{}", c.id),
    }
}

fn group(loaded: Vec<(Candidate, Parsed)>) -> Vec<Group> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (c, p) in loaded {
        let Ok(l) = p.as_ref() else { continue };
        let key = group_key(&c, l);
        match index.get(&key) {
            Some(&i) => {
                if let Some(g) = groups.get_mut(i) {
                    g.versions.push((c, p));
                }
            }
            None => {
                index.insert(key, groups.len());
                groups.push(Group {
                    versions: vec![(c, p)],
                });
            }
        }
    }
    for g in &mut groups {
        g.versions.sort_by(|(ca, pa), (cb, pb)| {
            let ra = pa
                .as_ref()
                .as_ref()
                .ok()
                .and_then(|l| l.invite.as_ref().ok());
            let rb = pb
                .as_ref()
                .as_ref()
                .ok()
                .and_then(|l| l.invite.as_ref().ok());
            let ra = ra.map(revision);
            let rb = rb.map(revision);
            rb.cmp(&ra)
                .then_with(|| cb.mtime.cmp(&ca.mtime))
                .then_with(|| ca.path.cmp(&cb.path))
        });
    }
    groups
}

/// The newest message for `uid` (REQUEST/CANCEL/PUBLISH before replies).
pub fn newest_for_uid(
    source: &dyn InviteSource,
    cache: &mut ParseCache,
    uid: &str,
) -> Result<Option<Candidate>, InboxError> {
    let groups = group(load_candidates(source, cache)?);
    let mut best: Option<(bool, Candidate)> = None;
    for g in groups {
        let Some((c, p)) = g.versions.into_iter().next() else {
            continue;
        };
        let Some(inv) = p
            .as_ref()
            .as_ref()
            .ok()
            .and_then(|l| l.invite.as_ref().ok())
        else {
            continue;
        };
        if inv.uid != uid {
            continue;
        }
        let is_reply = inv.method == Some(Method::Reply);
        if best.as_ref().is_none_or(|(r, _)| *r && !is_reply) {
            best = Some((is_reply, c));
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// `[from, to)` for overlaps: whole UTC days, so cached expansions stay
/// valid for a day.
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
    let groups = group(load_candidates(source, cache)?);
    let (from, to) = window(env.now);
    let busy = busy_times(env, cache, from, to)?;
    let mut items = Vec::new();
    for g in groups {
        let mut versions = g.versions.into_iter();
        let Some((message, parsed)) = versions.next() else {
            continue;
        };
        let Ok(loaded) = parsed.as_ref() else {
            continue;
        };
        let older: Vec<Candidate> = versions.map(|(c, _)| c).collect();
        let shown = classify_loaded(env, loaded.clone())?;
        let item = build_item(env, message, older, shown, &busy, opts.trusted);
        if opts.all || (item.pending && !item.past) {
            items.push(item);
        }
    }
    items.sort_by(|a, b| {
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
    });
    Ok(items)
}

/// `show_loaded`, but a broken stored copy makes this one item invalid
/// instead of failing the whole listing; I/O errors still fail.
fn classify_loaded(env: &Env<'_>, loaded: Loaded) -> Result<Shown, InboxError> {
    match show_loaded(env, loaded.clone()) {
        Ok(s) => Ok(s),
        Err(InboxError::Other(reason)) => Ok(Shown {
            class: invalid_class(&reason),
            loaded,
            stored: None,
        }),
        Err(e) => Err(e),
    }
}

/// Build the item for one classified message (the TUI builds items for
/// fixture messages with this; `list` does the same with cached busy times).
pub fn item_from_shown(
    env: &Env<'_>,
    message: Candidate,
    older: Vec<Candidate>,
    shown: Shown,
    trusted: &dyn Fn(&str) -> bool,
) -> Result<Item, InboxError> {
    let (from, to) = window(env.now);
    let mut scratch = ParseCache::new();
    let busy = busy_times(env, &mut scratch, from, to)?;
    Ok(build_item(env, message, older, shown, &busy, trusted))
}

struct BusyTimes {
    entries: Vec<Busy>,
    occurrences: Vec<Occurrence>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn busy_times(
    env: &Env<'_>,
    cache: &mut ParseCache,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BusyTimes, InboxError> {
    let objects = env.store.list()?;
    let mut fresh = HashMap::new();
    let mut entries: Vec<Busy> = Vec::new();
    for obj in objects {
        let key = (obj.href.clone(), obj.etag.clone());
        let busy = match cache.busy.get(&key) {
            Some((f, b)) if *f == from => b.clone(),
            _ => Arc::new(busy_of(env, &obj, from, to)),
        };
        entries.extend(busy.iter().cloned());
        fresh.insert(key, (from, busy));
    }
    cache.busy = fresh;
    entries.sort_by_key(|b| (b.occ.start, b.occ.end));
    let occurrences = entries.iter().map(|b| b.occ).collect();
    Ok(BusyTimes {
        entries,
        occurrences,
        from,
        to,
    })
}

/// The busy occurrences of one stored object; unreadable objects count as free.
fn busy_of(env: &Env<'_>, obj: &StoredObject, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Busy> {
    let text = extract::extract(&obj.data)
        .ok()
        .and_then(|e| e.parts.into_iter().next())
        .map(|p| p.text)
        .unwrap_or_else(|| String::from_utf8_lossy(&obj.data).into_owned());
    let Ok(parsed) = ical::parse(&text) else {
        return Vec::new();
    };
    let me = env.identity;
    let mut out = Vec::new();
    for cal in parsed.calendars {
        let Ok(invites) = Invite::from_calendar(cal, None) else {
            continue;
        };
        for inv in invites {
            let x = overlap::expand(&inv, env.clock.local, from, to, &|c| {
                overlap::is_busy(c, me)
            });
            let fallback = inv.summary().unwrap_or_default();
            for occ in x.occurrences {
                let summary = ical::component(&inv.cal, occ.comp_id)
                    .and_then(|c| ical::text(c, &calcard::icalendar::ICalendarProperty::Summary))
                    .unwrap_or_else(|| fallback.clone());
                out.push(Busy {
                    uid: inv.uid.clone(),
                    summary: terminal_line(&summary),
                    occ,
                });
            }
        }
    }
    out
}

/// `Mon 2025-01-06 09:00` in the user's zone, `Mon 2025-01-06 all day`.
fn local_text(value: &CalDate, instant: Option<DateTime<Utc>>, env: &Env<'_>) -> String {
    match (value, instant) {
        (CalDate::Date(d), _) => format!("{} all day", d.format("%a %Y-%m-%d")),
        (_, Some(t)) => t
            .with_timezone(&env.clock.local)
            .format("%a %Y-%m-%d %H:%M")
            .to_string(),
        (_, None) => terminal_line(&value.display_key()),
    }
}

/// Whether `sender` is the organizer or its SENT-BY (R7.9, R9.1).
fn sender_is_organizer(inv: &Invite, sender: &str) -> bool {
    let Some(org) = inv.organizer() else {
        return true;
    };
    org.email.as_deref() == Some(sender)
        || org
            .sent_by
            .as_deref()
            .and_then(normalize_address)
            .is_some_and(|s| s == sender)
}

fn build_item(
    env: &Env<'_>,
    message: Candidate,
    older: Vec<Candidate>,
    shown: Shown,
    busy: &BusyTimes,
    trusted: &dyn Fn(&str) -> bool,
) -> Item {
    let class = &shown.class;
    let inv = shown.invite();
    let sender = shown
        .loaded
        .meta
        .as_ref()
        .and_then(|m| m.from.first())
        .and_then(|f| normalize_address(&f.address));
    let mut flags = Vec::new();
    let mut warnings: Vec<String> = class.warnings.iter().map(|w| terminal_line(w)).collect();
    let say = |w: String, warnings: &mut Vec<String>| {
        let w = terminal_line(&w);
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    };

    let primary = inv.and_then(|i| i.primary());
    let start_value = primary.and_then(|c| c.dtstart().or_else(|| c.recurrence_id()));
    let start = match (&start_value, inv) {
        (Some(v), Some(i)) => env.clock.instant(v, &i.cal),
        _ => None,
    };
    let start_text = start_value
        .as_ref()
        .map(|v| local_text(v, start, env))
        .unwrap_or_default();

    let mut expansion = Expansion::default();
    let mut conflicts = Vec::new();
    if let Some(inv) = inv {
        // Sender checks (R7.9, R9.1): a CANCEL answers to the stored organizer.
        let authority = match (&inv.method, &shown.stored) {
            (Some(Method::Cancel), Some((_, stored))) => stored,
            _ => inv,
        };
        if inv.method != Some(Method::Reply)
            && sender
                .as_deref()
                .is_some_and(|s| !sender_is_organizer(authority, s))
        {
            flags.push(Flag::SenderNotOrganizer);
        }
        if class.status == Status::OrganizerChanged {
            flags.push(Flag::OrganizerChanged);
        }
        // R9.2, T59: unknown sender and unknown UID.
        if shown.stored.is_none() && !sender.as_deref().is_some_and(trusted) {
            flags.push(Flag::Untrusted);
            say(
                match &sender {
                    Some(s) => format!(
                        "untrusted: {s} is not in your contacts and this event is not in your calendar"
                    ),
                    None => "untrusted: the message has no sender and this event is not in your calendar".into(),
                },
                &mut warnings,
            );
        }
        expansion = overlap::expand(inv, env.clock.local, busy.from, busy.to, &|c| {
            !c.is_cancelled()
        });
        if expansion.capped || expansion.suspicious.is_some() {
            flags.push(Flag::RecurrenceCapped);
            if let Some(why) = &expansion.suspicious {
                say(why.clone(), &mut warnings);
            } else {
                say(
                    format!(
                        "the recurrence was cut after {} occurrences (R9.7)",
                        crate::domain::classify::MAX_EXPANSION
                    ),
                    &mut warnings,
                );
            }
        }
        let wants_conflicts = matches!(
            inv.method,
            None | Some(Method::Request) | Some(Method::Publish) | Some(Method::Add)
        ) && !matches!(class.status, Status::Cancelled | Status::Invalid);
        if wants_conflicts {
            let own = inv.uid.as_str();
            let skip = |i: usize| busy.entries.get(i).is_none_or(|b| b.uid == own);
            conflicts = overlap::overlapping(
                &expansion.occurrences,
                &busy.occurrences,
                &skip,
                MAX_CONFLICTS,
            )
            .into_iter()
            .filter_map(|i| busy.entries.get(i))
            .map(|b| Conflict {
                uid: b.uid.clone(),
                summary: b.summary.clone(),
                start: b.occ.start,
                end: b.occ.end,
            })
            .collect();
        }
    }
    let past = expansion.last_end.is_some_and(|end| end < env.now);
    // A message the user dismissed (`x`, tag rsvp/dismissed) no longer
    // needs them, in this session or the next.
    let dismissed = message.tags.iter().any(|t| t == "rsvp/dismissed");
    // A reply that the mail server has not accepted yet keeps the item in
    // the list (answerable again, `R` retries), even though the calendar
    // already holds the answer (R9.13).
    let queued = inv.is_some_and(|i| {
        env.outbox
            .pending()
            .is_ok_and(|p| p.iter().any(|e| e.key.uid == i.uid))
    });
    if queued {
        warnings.push("your reply is queued: the mail server has not accepted it yet".to_string());
    }
    let pending = (is_pending(class.status) || queued)
        && !dismissed
        && (class.reply_refusal.is_none() || class.apply_refusal.is_none());
    let recurring = inv.is_some_and(|i| {
        i.components().iter().any(|c| c.is_recurring()) || !i.overrides().is_empty()
    });
    Item {
        uid: inv.map(|i| i.uid.clone()).unwrap_or_default(),
        status: class.status,
        partstat: class.partstat,
        summary: inv
            .and_then(|i| i.summary())
            .map(|s| terminal_line(&s))
            .unwrap_or_default(),
        start,
        start_text,
        all_day: start_value.as_ref().is_some_and(|v| v.is_date()),
        organizer: inv
            .and_then(|i| i.organizer())
            .map(|o| terminal_line(&o.display())),
        sender,
        flags,
        warnings,
        superseded: older.len(),
        older,
        message,
        pending,
        past,
        conflicts,
        recurring,
        shown,
    }
}
