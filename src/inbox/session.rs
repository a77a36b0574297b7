//! The [`Inbox`] session: the one way the command line and the TUI reach
//! the use cases. It owns the ports, the mail source and the caches, and
//! keeps what each listed item is made of (its messages, for reading and
//! tagging), so the faces name items by key and never touch an adapter.

use super::cache::{self, State};
use super::list::{self, ListOptions, Listing, ParseCache};
use super::{
    APPLIED_TAGS, Applied, DISMISSED_TAG, Delivery, Env, InboxError, Item, Responded,
    ResponseRequest, Scheduling, answer_tags, apply_message_with, flush, load, occurrence_tags,
};
use crate::domain::diff::Clock;
use crate::domain::identity::Identity;
use crate::domain::ports::{
    CacheStore, CalendarStore, Candidate, FileStamp, IndexCounts, IndexProgress, InviteSource,
    MailIndex, Outbox, OutboxEntry, SourceError, Tombstones, Transport,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The adapters one session works with.
pub struct Ports {
    pub store: Box<dyn CalendarStore>,
    /// Other calendars the user keeps (`[calendar] busy`, khal's), read
    /// only, for conflicts and the day agenda.
    pub busy: Vec<Box<dyn CalendarStore>>,
    pub outbox: Box<dyn Outbox>,
    pub tombstones: Box<dyn Tombstones>,
    /// `None` when no transport is configured (dry runs need none).
    pub transport: Option<Box<dyn Transport>>,
    /// Where invitations come from (notmuch, a Maildir); `None` when only
    /// messages given on the command line are handled.
    pub source: Option<Box<dyn InviteSource>>,
    /// The mail index to bring up to date (`reindex`), when rsvp keeps one.
    pub index: Option<Box<dyn MailIndex>>,
    /// Where the parsed messages and the calendar index are kept between runs
    /// (saved a file per thread: see [`cache::save_changed_while`]).
    pub cache: Box<dyn CacheStore + Send + Sync>,
}

/// The user's settings and the session's clock, ids and log.
pub struct Settings {
    pub identity: Identity,
    pub groups: Vec<String>,
    /// Envelope/From override (`[send] from`); else my attendee address.
    pub send_from: Option<String>,
    pub scheduling: Scheduling,
    /// `[calendar] declined`.
    pub declined: super::Declined,
    pub clock: Clock,
    /// Whether a normalised sender address is in the contacts.
    pub trusted: Box<dyn Fn(&str) -> bool + Send + Sync>,
    /// The current time (fixed in the demo and in tests).
    pub now: Box<dyn Fn() -> DateTime<Utc>>,
    /// Fresh random tokens (Message-IDs, outbox ids).
    pub token: Box<dyn Fn() -> String + Send + Sync>,
    /// Where diagnostics go (stderr for the CLI, the log file for the TUI).
    pub log: Box<dyn Fn(&str) + Send + Sync>,
}

/// See [`Inbox::cache_counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub message_reads: usize,
    pub calendar_reads: usize,
    pub served_from_rows: usize,
    /// Saved rows taken again one by one (the others were rebuilt).
    pub rows_reused: usize,
    pub parses_loaded: bool,
}

/// What an item is made of.
#[derive(Debug, Clone)]
enum Origin {
    /// Messages of the mail source: the one shown, then older versions.
    Source(Vec<Candidate>),
    /// A message given on the command line, and the name it was given by.
    Given { raw: Vec<u8>, path: String },
}

/// One inbox session.
pub struct Inbox {
    ports: Ports,
    settings: Settings,
    /// Loaded from the cache store on first use.
    cache: Option<ParseCache>,
    /// The calendar store was told what the index knows ([`Inbox::prime_store`]).
    store_primed: bool,
    known: HashMap<String, Origin>,
    given: usize,
    /// More tag changes once an answer is recorded (`[mail] after_answer`).
    after_answer: (Vec<String>, Vec<String>),
}

impl Inbox {
    pub fn new(ports: Ports, settings: Settings) -> Inbox {
        Inbox {
            ports,
            settings,
            cache: None,
            store_primed: false,
            known: HashMap::new(),
            given: 0,
            after_answer: (Vec::new(), Vec::new()),
        }
    }

    /// Tag changes (`+tag`, `-tag`) made besides the answer's own tags
    /// whenever an answer is recorded, e.g. `-inbox` to file it away.
    pub fn set_after_answer(&mut self, changes: &[String]) {
        let pick = |sign: char| -> Vec<String> {
            changes
                .iter()
                .filter_map(|c| c.strip_prefix(sign))
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        };
        self.after_answer = (pick('+'), pick('-'));
    }

    /// Record `partstat` as the answer on the messages of `key`. One
    /// occurrence answered leaves the series open (issue 7 item 4): the tag
    /// says what was answered, the message stays pending and is not filed
    /// away by `after_answer`.
    fn tag_answer(
        &self,
        key: &str,
        partstat: crate::domain::invite::PartStat,
        occurrence: bool,
    ) -> Result<(), InboxError> {
        if occurrence {
            let (add, remove) = occurrence_tags(partstat);
            return self.tag(key, add, remove);
        }
        let (add, remove) = answer_tags(partstat);
        let mut add: Vec<&str> = add.to_vec();
        let mut remove: Vec<&str> = remove.to_vec();
        add.extend(self.after_answer.0.iter().map(String::as_str));
        remove.extend(self.after_answer.1.iter().map(String::as_str));
        self.tag(key, &add, &remove)
    }

    /// The user's time zone.
    pub fn clock(&self) -> Clock {
        self.settings.clock
    }

    /// The current time of the session.
    pub fn now(&self) -> DateTime<Utc> {
        (self.settings.now)()
    }

    /// What the session's listings cost so far: message files read,
    /// calendar files read, listings served from the saved rows, saved
    /// rows reused one by one, and whether the saved parses were loaded.
    pub fn cache_counts(&self) -> CacheCounts {
        self.cache
            .as_ref()
            .map_or_else(CacheCounts::default, |c| CacheCounts {
                message_reads: c.reads(),
                calendar_reads: c.calendar_reads(),
                served_from_rows: c.served_from_rows(),
                rows_reused: c.rows_reused(),
                parses_loaded: c.loaded.any(),
            })
    }

    /// Whether there is a mail source to list.
    pub fn has_source(&self) -> bool {
        self.ports.source.is_some()
    }

    /// The use-case environment, with the current time.
    pub fn env(&self) -> Env<'_> {
        Env {
            store: self.ports.store.as_ref(),
            busy_calendars: &self.ports.busy,
            outbox: self.ports.outbox.as_ref(),
            tombstones: self.ports.tombstones.as_ref(),
            transport: self.ports.transport.as_deref(),
            identity: &self.settings.identity,
            groups: &self.settings.groups,
            send_from: self.settings.send_from.as_deref(),
            scheduling: self.settings.scheduling,
            declined: self.settings.declined,
            clock: self.settings.clock,
            now: self.now(),
            token: self.settings.token.as_ref(),
        }
    }

    /// What the cached data depends on besides the files themselves.
    fn fingerprint(&self) -> String {
        let mut addresses: Vec<String> = self.settings.identity.addresses.clone();
        addresses.sort();
        format!(
            "{} {} {}",
            env!("CARGO_PKG_VERSION"),
            self.settings.clock.local.name(),
            addresses.join(",")
        )
    }

    /// What the saved rows depend on besides their inputs: the cache's
    /// fingerprint and the settings that change a classification.
    fn rows_fingerprint(&self) -> String {
        let mut groups = self.settings.groups.clone();
        groups.sort();
        format!(
            "{} {} {:?} {:?} {}",
            self.fingerprint(),
            groups.join(","),
            self.settings.scheduling,
            self.settings.declined,
            self.ports.busy.len()
        )
    }

    /// The session's cache: the saved rows at once; the parsed messages and
    /// the calendar index when a listing needs them ([`Inbox::load_state`]).
    fn take_cache(&mut self) -> ParseCache {
        match self.cache.take() {
            Some(c) => c,
            None => {
                let fingerprint = self.rows_fingerprint();
                let log = &self.settings.log;
                ParseCache::with_rows(cache::Rows::load(
                    self.ports.cache.as_ref(),
                    &fingerprint,
                    &|l| log(l),
                ))
            }
        }
    }

    /// One part of the saved parsed messages and calendar index.
    fn load_state(&self, part: cache::Part) -> State {
        let log = &self.settings.log;
        State::load_only(self.ports.cache.as_ref(), &self.fingerprint(), part, &|l| {
            log(l)
        })
    }

    /// The cache with its calendar part loaded (what is not a listing
    /// needs the calendar index, not the parsed messages).
    fn take_calendar_cache(&mut self) -> ParseCache {
        let mut cache = self.take_cache();
        cache.ensure(cache::Part::Calendar, Some(&|p| self.load_state(p)));
        cache
    }

    fn put_cache(&mut self, cache: ParseCache) {
        self.put_cache_while(cache, || ());
    }

    /// Keep `cache`, saving what changed of it while `meanwhile` runs.
    fn put_cache_while<R>(&mut self, mut cache: ParseCache, meanwhile: impl FnOnce() -> R) -> R {
        let log = &self.settings.log;
        let out = cache::save_changed_while(
            &mut cache.state,
            &mut cache.rows,
            self.ports.cache.as_ref(),
            &|l| log(l),
            meanwhile,
        );
        self.cache = Some(cache);
        out
    }

    /// For a process about to exit: the in-memory caches are left to the
    /// operating system instead of being freed one allocation at a time
    /// (hundreds of thousands after a first listing). Nothing is lost:
    /// each part was saved when it changed. The session works on, from
    /// the saved cache, if it is used again.
    pub fn leave_cache_to_exit(&mut self) {
        if let Some(cache) = self.cache.take() {
            std::mem::forget(cache);
        }
    }

    /// Every invitation that needs the user (or everything with `all`).
    pub fn list(&mut self, all: bool) -> Result<Listing, InboxError> {
        self.list_with(all, None, true)
    }

    /// [`Inbox::list`] as rows: no item keeps its classification or day
    /// agenda ([`Item::shown`] is `None`, as for rows served from the
    /// cache), so a first listing never holds every invitation parsed at
    /// once. For faces that print the rows (`rsvp list`).
    pub fn list_rows(&mut self, all: bool) -> Result<Listing, InboxError> {
        self.list_with(all, None, false)
    }

    fn list_with(
        &mut self,
        all: bool,
        detail: Option<&str>,
        details: bool,
    ) -> Result<Listing, InboxError> {
        let (cache, result) = self.list_unsaved(all, detail, details);
        self.put_cache(cache);
        let listing = result?;
        self.remember(&listing);
        Ok(listing)
    }

    /// [`Inbox::list_rows`], the listing given to `show` while what it
    /// changed of the cache is saved on another thread: after a first
    /// listing the three cache files take about as long to write as the
    /// rows to print. Nothing is left unsaved when this returns.
    pub fn list_rows_then<R>(
        &mut self,
        all: bool,
        show: impl FnOnce(&Listing) -> R,
    ) -> Result<R, InboxError> {
        let (cache, result) = self.list_unsaved(all, None, false);
        let listing = match result {
            Ok(listing) => listing,
            Err(e) => {
                self.put_cache(cache);
                return Err(e);
            }
        };
        let shown = self.put_cache_while(cache, || show(&listing));
        self.remember(&listing);
        Ok(shown)
    }

    /// One listing, its cache not yet saved.
    fn list_unsaved(
        &mut self,
        all: bool,
        detail: Option<&str>,
        details: bool,
    ) -> (ParseCache, Result<Listing, InboxError>) {
        // The calendar scans run while the saved rows load and the mail
        // index is asked (a listing without a mail source fails first).
        if self.ports.source.is_some() {
            self.ports.store.prefetch_scan();
            for busy in &self.ports.busy {
                busy.prefetch_scan();
            }
        }
        let mut cache = self.take_cache();
        let result = match &self.ports.source {
            None => Err(InboxError::Config(
                "no mail source: add [mail] with maildir = \"~/Mail\" or notmuch_config = \"~/.notmuch-config\"".into(),
            )),
            Some(source) => list::list_all(
                &self.env(),
                source.as_ref(),
                &mut cache,
                ListOptions {
                    all,
                    trusted: self.settings.trusted.as_ref(),
                    detail,
                    load: Some(&|p| self.load_state(p)),
                    details,
                },
            ),
        };
        (cache, result)
    }

    /// The rows the last listing saved, as they were: not checked against
    /// the mail or the calendar (the TUI paints them at once, then lists).
    /// `None` when none were saved for these settings.
    pub fn saved(&mut self, all: bool) -> Option<Listing> {
        let cache = self.take_cache();
        let listing = list::saved(&cache, all);
        self.cache = Some(cache);
        let listing = listing?;
        self.remember(&listing);
        Some(listing)
    }

    /// What each listed item is made of, for reading and tagging it.
    fn remember(&mut self, listing: &Listing) {
        for item in &listing.items {
            let mut messages = vec![item.message.clone()];
            messages.extend(item.older.iter().cloned());
            self.known
                .insert(item.key.clone(), Origin::Source(messages));
        }
    }

    /// The item `key` as it is now (from a fresh listing, or the message
    /// given on the command line).
    pub fn item(&mut self, key: &str) -> Result<Item, InboxError> {
        if let Some(Origin::Given { raw, path }) = self.known.get(key).cloned() {
            return self.given_item_at(key, &path, &raw);
        }
        self.list_with(true, Some(key), true)?
            .items
            .into_iter()
            .find(|i| i.key == key)
            .ok_or_else(|| InboxError::Refused(format!("no invitation {key:?} in the mail source")))
    }

    /// The newest invitation for `uid` in the mail source (`--id`): a
    /// REQUEST, CANCEL or PUBLISH before replies.
    pub fn find_uid(&mut self, uid: &str) -> Result<Item, InboxError> {
        let items = self.list(true)?.items;
        let mut best: Option<Item> = None;
        for item in items {
            if item.invite_uid.as_deref() != Some(uid) {
                continue;
            }
            let is_reply = item.method == Some(crate::domain::invite::Method::Reply);
            let better = match &best {
                None => true,
                Some(b) => b.method == Some(crate::domain::invite::Method::Reply) && !is_reply,
            };
            if better {
                best = Some(item);
            }
        }
        // The listing may come from the saved rows: the item whole.
        let best = match best {
            Some(b) if b.shown.is_none() => Some(self.item(&b.key)?),
            other => other,
        };
        best.ok_or_else(|| {
            InboxError::Refused(format!(
                "no invitation with UID {:?} in the mail source",
                crate::domain::sanitize::terminal_line(uid)
            ))
        })
    }

    /// A message given on the command line (`--message PATH`, standard
    /// input), as an item of this session; `path` names it (`-` for stdin).
    pub fn adhoc(&mut self, raw: Vec<u8>, path: &str) -> Result<Item, InboxError> {
        self.given += 1;
        let key = format!("given:{}", self.given);
        let item = self.given_item_at(&key, path, &raw)?;
        self.known.insert(
            key,
            Origin::Given {
                raw,
                path: path.to_string(),
            },
        );
        Ok(item)
    }

    fn given_item_at(&mut self, key: &str, path: &str, raw: &[u8]) -> Result<Item, InboxError> {
        let loaded = load(raw)?;
        let message = Candidate {
            id: key.to_string(),
            path: path.to_string(),
            stamp: FileStamp::default(),
            tags: Vec::new(),
            missing: None,
        };
        let mut cache = self.take_calendar_cache();
        let result = list::adhoc_item(
            &self.env(),
            &mut cache,
            message,
            loaded,
            self.settings.trusted.as_ref(),
        );
        self.put_cache(cache);
        result
    }

    /// The raw message of an item.
    pub fn raw(&self, key: &str) -> Result<Vec<u8>, InboxError> {
        match self.known.get(key) {
            Some(Origin::Given { raw, .. }) => Ok(raw.clone()),
            Some(Origin::Source(messages)) => {
                let (Some(source), Some(first)) = (&self.ports.source, messages.first()) else {
                    return Err(unknown(key));
                };
                Ok(source.read(first)?)
            }
            None => Err(unknown(key)),
        }
    }

    /// Make a first answer quick: index the calendar store from the saved
    /// calendar index now (what the first answer or apply would do first).
    /// For a face with time to spare, such as the TUI between painting the
    /// saved rows and the user's first key.
    pub fn prepare_answers(&mut self) {
        self.prime_store();
    }

    /// Whether [`Inbox::prepare_answers`] (or a first answer) has run.
    #[doc(hidden)]
    pub fn answers_prepared(&self) -> bool {
        self.store_primed
    }

    /// Tell the calendar store what the calendar index knows (each file's
    /// stamp and UIDs), once per session, so finding a UID before a write
    /// reads no file that has not changed. Nothing is scanned here: the
    /// store checks every file's stamp itself and reads the ones that
    /// differ. When no listing has loaded the index, only its heads (no
    /// busy times) are decoded.
    fn prime_store(&mut self) {
        if self.store_primed {
            return;
        }
        self.store_primed = true;
        let cache = self.take_cache();
        if cache.loaded.calendar {
            let mut known = cache
                .state
                .calendar
                .iter()
                .filter(|(_, e)| !e.racy)
                .map(|(href, e)| (href.clone(), cache::stamp_of(e.stamp), e.uids.clone()));
            self.ports.store.prime(&mut known);
        } else {
            let log = &self.settings.log;
            let heads =
                cache::calendar_heads(self.ports.cache.as_ref(), &self.fingerprint(), &|l| log(l));
            self.ports.store.prime(&mut heads.into_iter());
        }
        self.cache = Some(cache);
    }

    /// Answer the item `key` (outbox → calendar → send, R9.13) and record
    /// the answer on its messages (tags).
    pub fn respond(
        &mut self,
        key: &str,
        req: &ResponseRequest<'_>,
    ) -> Result<Responded, InboxError> {
        let raw = self.raw(key)?;
        if !req.dry_run {
            // First: a start that follows must not paint the row as it was,
            // even if this process is gone right after the send.
            self.forget_row(key);
            self.prime_store();
        }
        let mut done = super::respond(&self.env(), &raw, req)?;
        // The calendar holds the answer once `href` is set (R9.13): record
        // it even if sending failed, since the reply is queued.
        if !req.dry_run
            && (done.href.is_some() || done.already_sent)
            && let Err(e) = self.tag_answer(key, req.partstat, req.instance.is_some())
        {
            done.warnings.push(tag_warning(&e));
        }
        Ok(done)
    }

    /// Bring the calendar up to date with the item `key` without replying.
    /// `own_method`: the user asked to apply a message whose MIME `method=`
    /// disagrees with its calendar as the calendar's METHOD says (R7.2).
    pub fn apply(
        &mut self,
        key: &str,
        own_method: bool,
    ) -> Result<(super::Shown, Applied, Vec<String>), InboxError> {
        let raw = self.raw(key)?;
        self.forget_row(key);
        self.prime_store();
        let (shown, applied) = apply_message_with(&self.env(), &raw, own_method)?;
        let mut warnings = Vec::new();
        let (add, remove) = APPLIED_TAGS;
        if let Err(e) = self.tag(key, add, remove) {
            warnings.push(tag_warning(&e));
        }
        Ok((shown, applied, warnings))
    }

    /// Mark the item `key` as needing nothing more (tag `rsvp/dismissed`).
    pub fn dismiss(&mut self, key: &str) -> Result<(), InboxError> {
        self.forget_row(key);
        self.tag(key, &[DISMISSED_TAG], &["rsvp/pending"])
    }

    /// Take a dismissal back: the item needs the user again if it did.
    pub fn undismiss(&mut self, key: &str) -> Result<(), InboxError> {
        self.forget_row(key);
        self.tag(key, &[], &[DISMISSED_TAG])
    }

    /// The saved row of `key` no longer says what is true (it was just
    /// answered, applied or dismissed): drop it, so the rows painted at the
    /// next start do not offer it again as it was, and never serve the
    /// saved rows whole again (the next listing rebuilds that row).
    fn forget_row(&mut self, key: &str) {
        let mut cache = self.take_cache();
        let log = &self.settings.log;
        cache
            .rows
            .forget(key, self.ports.cache.as_ref(), &|l| log(l));
        self.cache = Some(cache);
    }

    /// Tag every message of the item (the older versions are done too).
    fn tag(&self, key: &str, add: &[&str], remove: &[&str]) -> Result<(), InboxError> {
        let Some(Origin::Source(messages)) = self.known.get(key) else {
            // A message given on the command line has no tags.
            return Ok(());
        };
        let Some(source) = &self.ports.source else {
            return Ok(());
        };
        let mut first_error: Option<SourceError> = None;
        for c in messages {
            if let Err(e) = source.tag(c, add, remove) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Index new mail (when rsvp keeps the index), reporting progress;
    /// `None` when there is no index to update.
    pub fn reindex(
        &mut self,
        progress: &mut dyn FnMut(&IndexProgress),
    ) -> Result<Option<IndexCounts>, InboxError> {
        match &self.ports.index {
            None => Ok(None),
            Some(index) => Ok(Some(index.index(progress)?)),
        }
    }

    /// Start indexing new mail in the background: the events arrive on the
    /// returned channel; `None` when there is no index.
    pub fn start_reindex(&self) -> Option<std::sync::mpsc::Receiver<IndexProgress>> {
        self.ports.index.as_ref().map(|i| i.start_index())
    }

    /// One line naming the mail index, when there is one.
    pub fn index_name(&self) -> Option<String> {
        self.ports.index.as_ref().map(|i| i.describe())
    }

    /// Send every queued reply; each leaves the outbox only when accepted.
    /// A reply delivered now records its answer on the invitation's
    /// messages in the mail source (README "Tags"), as an answer sent at
    /// once does.
    pub fn flush(&mut self) -> Result<Vec<Delivery>, InboxError> {
        let queued = self.ports.outbox.pending()?;
        let deliveries = flush(&self.env())?;
        let delivered: Vec<OutboxEntry> = queued
            .into_iter()
            .filter(|e| deliveries.iter().any(|d| d.id == e.id && d.result.is_ok()))
            .collect();
        if !delivered.is_empty()
            && self.ports.source.is_some()
            && let Err(e) = self.tag_delivered(&delivered)
        {
            (self.settings.log)(&format!("could not tag the answered invitations: {e}"));
        }
        Ok(deliveries)
    }

    /// Tag the invitations (REQUESTs) of each delivered reply's UID.
    fn tag_delivered(&mut self, delivered: &[OutboxEntry]) -> Result<(), InboxError> {
        use crate::domain::invite::{Method, PartStat};
        let items = self.list(true)?.items;
        let mut first_error: Option<InboxError> = None;
        for entry in delivered {
            let partstat = PartStat::parse(&entry.key.partstat);
            for item in &items {
                let is_invitation = item.invite_uid.as_deref() == Some(entry.key.uid.as_str())
                    && matches!(item.method, Some(Method::Request) | None);
                let occurrence = !entry.key.recurrence_ids.is_empty();
                if is_invitation && let Err(e) = self.tag_answer(&item.key, partstat, occurrence) {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The replies not yet accepted by the mail server, oldest first.
    pub fn queued(&self) -> Result<Vec<OutboxEntry>, InboxError> {
        Ok(self.ports.outbox.pending()?)
    }

    /// Replies whose calendar write never happened (rsvp stopped between
    /// queuing and writing): never sent; answering again finishes them.
    pub fn unfinished(&self) -> Result<Vec<OutboxEntry>, InboxError> {
        Ok(self.ports.outbox.staged()?)
    }

    /// The replies the mail server refused for good (never sent again).
    pub fn refused(&self) -> Result<Vec<OutboxEntry>, InboxError> {
        Ok(self.ports.outbox.failed()?)
    }

    /// Remove one queued or refused reply from the outbox.
    pub fn drop_queued(&mut self, id: &str) -> Result<(), InboxError> {
        Ok(self.ports.outbox.drop_entry(id)?)
    }
}

/// What a failed tag means for the user.
fn tag_warning(e: &InboxError) -> String {
    match e {
        // The request stays queued in the mail index (notmuch applies it
        // once the other writer is done).
        InboxError::Source(SourceError::Locked(_)) => {
            "the notmuch database is busy; the tags are recorded once it is free".to_string()
        }
        other => format!("could not tag the message: {other}"),
    }
}

fn unknown(key: &str) -> InboxError {
    InboxError::Refused(format!(
        "message {} is not in the last listing",
        crate::domain::sanitize::terminal_line(key)
    ))
}
