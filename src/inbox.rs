//! The use cases, reached by the command line and the TUI only through the
//! [`Inbox`] session (`session.rs`): listing (`list.rs`) into the one read
//! model [`Item`] (`item.rs`), answering (`respond.rs`: the send/store
//! ordering policy, R9.13, lives here and only here), applying, the outbox,
//! and the state kept between runs (`cache.rs`). The free functions below
//! (`load`, `show`, `respond`, `apply_message`, `flush`) work on an [`Env`]
//! of borrowed ports; the session builds that Env and adds the caches, the
//! mail source and the tag policy ([`answer_tags`], [`APPLIED_TAGS`],
//! [`DISMISSED_TAG`]).

mod cache;
pub mod item;
pub mod list;
mod respond;
mod session;

pub use item::{Agenda, AgendaEntry, Conflict, Flag, Item, Occurrence};
pub use list::{ListOptions, Listing, ParseCache, Unreadable, list};
pub use respond::{Responded, ResponseRequest, respond};
pub use session::{CacheCounts, Inbox, Ports, Settings};

/// The tag of a message the user dismissed (`x`): it no longer needs them.
pub const DISMISSED_TAG: &str = "rsvp/dismissed";

use crate::domain::classify::{self, Classification, Context, Status};
use crate::domain::diff::Clock;
use crate::domain::extract::{self, MessageMeta};
use crate::domain::ical;
use crate::domain::identity::Identity;
use crate::domain::invite::{Invite, Method};
use crate::domain::ports::{
    CalendarStore, Outbox, OutboxEntry, OutboxError, SourceError, StoreError, StoredObject,
    Tombstones, Transport, TransportError,
};
use crate::domain::{apply, tz};
use chrono::{DateTime, Utc};
use thiserror::Error;

/// `[calendar] server_scheduling` (R6.7): who sends the REPLY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// rsvp mails the reply and marks ORGANIZER SCHEDULE-AGENT=CLIENT ("off").
    Client,
    /// A CalDAV server schedules: change the calendar, never mail ("on").
    Server,
    /// The default ("auto"): rsvp mails the reply, and marks the stored
    /// ORGANIZER SCHEDULE-AGENT=CLIENT so that a scheduling server, if one
    /// syncs the calendar, does not answer a second time (R6.7 (a)). An
    /// answer is never left unsent unless the user said a server sends it
    /// (`on`) or asked for no mail (`reply --no-send`).
    Auto,
}

/// `[calendar] declined`: what a declined event becomes in the calendar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Declined {
    /// Kept, TRANSP:TRANSPARENT (it does not look busy).
    #[default]
    Transparent,
    /// Kept as it is.
    Keep,
    /// Not stored (removed when it was).
    Drop,
}

/// Whether rsvp mails the reply: always, unless the user said a scheduling
/// server sends it (`server_scheduling = "on"`).
pub fn mails_reply(env: &Env<'_>) -> bool {
    env.scheduling != Scheduling::Server
}

/// Everything the use cases need from outside, as ports and values.
pub struct Env<'a> {
    pub store: &'a dyn CalendarStore,
    /// Other calendars, read only: their events count as busy (conflicts,
    /// the day agenda); never written.
    pub busy_calendars: &'a [Box<dyn CalendarStore>],
    pub outbox: &'a dyn Outbox,
    pub tombstones: &'a dyn Tombstones,
    /// `None` when no transport is configured (dry runs need none).
    pub transport: Option<&'a dyn Transport>,
    pub identity: &'a Identity,
    pub groups: &'a [String],
    /// Envelope/From override (`[send] from`); else my attendee address.
    pub send_from: Option<&'a str>,
    /// Who sends scheduling messages for this calendar (R6.7).
    pub scheduling: Scheduling,
    /// What a declined event becomes in the calendar.
    pub declined: Declined,
    pub clock: Clock,
    pub now: DateTime<Utc>,
    /// Fresh random tokens (Message-IDs, outbox ids).
    pub token: &'a (dyn Fn() -> String + Sync),
}

#[derive(Debug, Clone, Error)]
pub enum InboxError {
    /// Bad input: not a message, not iCalendar, too large … (exit 4 for
    /// "not an invitation", the caller decides).
    #[error("{0}")]
    NotInvitation(String),
    /// Refused by the iTIP rules (exit 4).
    #[error("{0}")]
    Refused(String),
    /// A usage problem (exit 2), e.g. a malformed --instance.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The mail index (`SourceError::Locked`: another program writes to it).
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Other(String),
}

/// A message (or bare .ics) read and understood.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub meta: Option<MessageMeta>,
    /// The iTIP object, or the reason it is invalid (status `invalid`).
    pub invite: Result<Invite, String>,
    pub warnings: Vec<String>,
    /// Invalid only because the MIME `method=` disagrees with the
    /// calendar's METHOD (R7.2): never acted on automatically, but the user
    /// may apply it with the calendar's own METHOD (`c`, `--force-method`).
    pub method_mismatch: bool,
}

/// Read the iTIP object from raw message bytes (R7.1–R7.3).
pub fn load(raw: &[u8]) -> Result<Loaded, InboxError> {
    load_part(raw).map(|(loaded, _)| loaded)
}

/// [`load`], taking a `method=` that disagrees with the calendar's METHOD
/// as the calendar's own METHOD: only at the user's explicit request.
pub fn load_own_method(raw: &[u8]) -> Result<Loaded, InboxError> {
    load_part_with(raw, true).map(|(loaded, _)| loaded)
}

/// Why a calendar part holds no usable invitation, and whether only the
/// MIME `method=` stood in the way.
pub(crate) struct PartError {
    pub reason: String,
    pub method_mismatch: bool,
}

/// The first invitation in one calendar part, with the part's parse
/// warnings: the same choice on every call, so a cached part gives back
/// the same object. `own_method`: a disagreeing `method=` yields to the
/// calendar's METHOD (explicit user request only, R7.2).
pub(crate) fn invite_from_part(
    text: &str,
    method_param: Option<&str>,
    own_method: bool,
) -> Result<(Invite, Vec<String>), PartError> {
    let parsed = ical::parse(text).map_err(|e| PartError {
        reason: format!("calendar part: {e}"),
        method_mismatch: false,
    })?;
    let mut warnings = parsed.warnings;
    let mut first_err: Option<PartError> = None;
    let mut found: Option<Invite> = None;
    for cal in parsed.calendars {
        let invites = if own_method {
            Invite::from_calendar_own_method(cal, method_param)
        } else {
            Invite::from_calendar(cal, method_param)
        };
        match invites {
            Ok(mut invites) if !invites.is_empty() => {
                if found.is_some() {
                    warnings.push("the message carries more than one calendar object; only the first is handled".into());
                    break;
                }
                if invites.len() > 1 {
                    warnings.push(format!(
                        "the calendar holds {} events; only the first is handled",
                        invites.len()
                    ));
                }
                found = Some(invites.remove(0));
            }
            Ok(_) => {}
            Err(e) => {
                first_err.get_or_insert(PartError {
                    reason: e.to_string(),
                    method_mismatch: e.can_use_own_method(),
                });
            }
        }
    }
    match found {
        Some(inv) => Ok((inv, warnings)),
        None => Err(first_err.unwrap_or_else(|| PartError {
            reason: "no event in the calendar data".into(),
            method_mismatch: false,
        })),
    }
}

/// A calendar part's text and its `method=` parameter.
pub(crate) type Part = (String, Option<String>);

/// [`load`], and the calendar part the object came from.
pub(crate) fn load_part(raw: &[u8]) -> Result<(Loaded, Option<Part>), InboxError> {
    load_part_with(raw, false)
}

fn load_part_with(raw: &[u8], own_method: bool) -> Result<(Loaded, Option<Part>), InboxError> {
    let extracted =
        extract::extract(raw).map_err(|e| InboxError::NotInvitation(format!("message: {e}")))?;
    let mut warnings = extracted.warnings.clone();
    if extracted.parts.is_empty() {
        // A calendar part skipped as too large or undecodable (R9.8, T10)
        // says so instead of "no calendar part".
        let skipped: Vec<&str> = extracted
            .warnings
            .iter()
            .map(String::as_str)
            .filter(|w| w.starts_with("calendar part"))
            .collect();
        if !skipped.is_empty() {
            return Err(InboxError::NotInvitation(skipped.join("; ")));
        }
        return Err(InboxError::NotInvitation(
            "the message has no calendar part (text/calendar or application/ics)".into(),
        ));
    }
    // Prefer a part that declares a method (R7.1); then the first.
    let mut parts: Vec<&extract::CalendarPart> = extracted.parts.iter().collect();
    parts.sort_by_key(|p| p.method_param.is_none());
    let mut first_err: Option<PartError> = None;
    let mut found: Option<(Invite, String, Option<String>)> = None;
    for part in &parts {
        warnings.extend(part.warnings.iter().cloned());
        match invite_from_part(&part.text, part.method_param.as_deref(), own_method) {
            Ok((inv, part_warnings)) => {
                warnings.extend(part_warnings);
                found = Some((inv, part.text.clone(), part.method_param.clone()));
                break;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let mut method_mismatch = false;
    let (invite, part) = match found {
        Some((inv, text, method)) => (Ok(inv), Some((text, method))),
        None => {
            let e = first_err.unwrap_or_else(|| PartError {
                reason: "no event in the calendar data".into(),
                method_mismatch: false,
            });
            method_mismatch = e.method_mismatch;
            (Err(e.reason), None)
        }
    };
    if let Ok(inv) = &invite {
        warnings.extend(inv.warnings.iter().cloned());
    }
    warnings.dedup();
    Ok((
        Loaded {
            meta: extracted.meta,
            invite,
            warnings,
            method_mismatch,
        },
        part,
    ))
}

/// What a retry of the outbox that sent nothing says while `n` replies
/// refused for good stay in it (not "empty": they are listed, unsent, until
/// dropped); the command line and the TUI add how to drop them.
pub fn refused_stay_note(n: usize) -> String {
    if n == 1 {
        "nothing to send; 1 reply refused for good stays".to_string()
    } else {
        format!("nothing to send; {n} replies refused for good stay")
    }
}

/// The stored copy of `uid`, parsed.
pub fn stored(env: &Env<'_>, uid: &str) -> Result<Option<(StoredObject, Invite)>, InboxError> {
    let Some(obj) = env.store.find_by_uid(uid)? else {
        return Ok(None);
    };
    let text = crate::domain::overlap::calendar_text(&obj.data);
    let parsed = ical::parse(&text)
        .map_err(|e| InboxError::Other(format!("calendar object {}: {e}", obj.href)))?;
    for cal in parsed.calendars {
        if let Ok(invites) = Invite::from_calendar(cal, None)
            && let Some(inv) = invites.into_iter().find(|i| i.uid == uid)
        {
            return Ok(Some((obj, inv)));
        }
    }
    Err(InboxError::Other(format!(
        "calendar object {} does not hold UID {uid:?} as expected",
        obj.href
    )))
}

/// An invitation with its classification against the calendar.
#[derive(Debug, Clone)]
pub struct Shown {
    pub loaded: Loaded,
    pub class: Classification,
    pub stored: Option<(StoredObject, Invite)>,
}

impl Shown {
    pub fn invite(&self) -> Option<&Invite> {
        self.loaded.invite.as_ref().ok()
    }
}

/// The classification of something that is not a usable invitation.
pub(crate) fn invalid_class(reason: &str) -> Classification {
    Classification {
        status: Status::Invalid,
        role: crate::domain::identity::Role::Neither,
        partstat: None,
        rsvp_requested: false,
        changes: Vec::new(),
        warnings: vec![reason.to_string()],
        reply_refusal: Some(format!("invalid invitation: {reason}")),
        apply_refusal: Some(format!("invalid invitation: {reason}")),
    }
}

/// Read `raw` and classify it against the calendar.
pub fn show(env: &Env<'_>, raw: &[u8]) -> Result<Shown, InboxError> {
    show_loaded(env, load(raw)?)
}

/// Classify an already loaded message against the calendar (the listing
/// keeps parsed messages in a cache and classifies them again on refresh).
pub fn show_loaded(env: &Env<'_>, loaded: Loaded) -> Result<Shown, InboxError> {
    let (class, stored) = classify_parts(env, &loaded)?;
    Ok(Shown {
        loaded,
        class,
        stored,
    })
}

/// The classification of `loaded` and its stored copy, borrowing the
/// message (the listing keeps it when reading the stored copy fails).
pub(crate) fn classify_parts(
    env: &Env<'_>,
    loaded: &Loaded,
) -> Result<(Classification, Option<(StoredObject, Invite)>), InboxError> {
    let invite = match &loaded.invite {
        Ok(i) => i,
        Err(reason) => return Ok((invalid_class(reason), None)),
    };
    let stored = stored(env, &invite.uid)?;
    let tombstone = if stored.is_none() {
        env.tombstones.get(&invite.uid)?
    } else {
        None
    };
    let sender = loaded
        .meta
        .as_ref()
        .and_then(|m| m.from.first())
        .map(|f| f.address.clone());
    let delivered: Vec<String> = loaded
        .meta
        .as_ref()
        .map(|m| m.delivered_to.clone())
        .unwrap_or_default();
    let ctx = Context {
        me: env.identity,
        groups: env.groups,
        delivered_to: &delivered,
        sender: sender.as_deref(),
        tombstone,
        clock: env.clock,
    };
    let mut class = classify::classify(invite, stored.as_ref().map(|s| &s.1), &ctx);
    let mut warnings = loaded.warnings.clone();
    warnings.append(&mut class.warnings);
    // R3.9: a TZID with no VTIMEZONE is accepted only when it resolves.
    for tzid in tz::tzids_used(&invite.cal) {
        let has_def = invite.cal.timezones().any(|c| {
            ical::text(c, &calcard::icalendar::ICalendarProperty::Tzid).as_deref()
                == Some(tzid.as_str())
        });
        if !has_def {
            if tz::resolve_tzid(&tzid, &invite.cal).is_some() {
                warnings.push(format!(
                    "TZID {tzid:?} has no VTIMEZONE; using the tz database"
                ));
            } else {
                warnings.push(format!(
                    "unknown time zone {tzid:?} without VTIMEZONE; times may be wrong"
                ));
            }
        }
    }
    let mut seen = Vec::new();
    warnings.retain(|w| {
        if seen.contains(w) {
            false
        } else {
            seen.push(w.clone());
            true
        }
    });
    class.warnings = warnings;
    Ok((class, stored))
}

fn apply_options(env: &Env<'_>) -> apply::Options {
    apply::Options {
        schedule_agent_client: env.scheduling != Scheduling::Server,
        clock: env.clock,
        declined_transparent: env.declined == Declined::Transparent,
    }
}

/// Write `cal` as the object for `uid`: update the existing file (keeping
/// its name) or create a new one (R9.10, R9.12).
pub fn write_object(
    env: &Env<'_>,
    existing: Option<&StoredObject>,
    uid: &str,
    cal: &calcard::icalendar::ICalendar,
) -> Result<StoredObject, InboxError> {
    let data = ical::write(cal).into_bytes();
    match existing {
        Some(obj) => Ok(env.store.update(obj, &data)?),
        None => Ok(env.store.create(uid, &data)?),
    }
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Stored { href: String, created: bool },
    Tombstone,
    NothingToDo(String),
}

/// Bring the calendar up to date with a message without replying.
pub fn apply_message(env: &Env<'_>, raw: &[u8]) -> Result<(Shown, Applied), InboxError> {
    apply_message_with(env, raw, false)
}

/// [`apply_message`]; with `own_method`, a MIME `method=` that disagrees
/// with the calendar's METHOD yields to the calendar's (R7.2: only at the
/// user's explicit request, `c` or `rsvp apply --force-method`).
pub fn apply_message_with(
    env: &Env<'_>,
    raw: &[u8],
    own_method: bool,
) -> Result<(Shown, Applied), InboxError> {
    // T61: an ETag conflict is redone once from a fresh read.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let loaded = if own_method {
            load_own_method(raw)?
        } else {
            load(raw)?
        };
        let shown = show_loaded(env, loaded)?;
        match apply_shown(env, &shown) {
            Err(InboxError::Store(StoreError::Conflict { .. })) if attempt < 3 => continue,
            other => return other.map(|a| (shown, a)),
        }
    }
}

fn apply_shown(env: &Env<'_>, shown: &Shown) -> Result<Applied, InboxError> {
    // R3.4, T23: a second copy is a no-op, not a refusal.
    if shown.class.status == Status::Duplicate {
        return Ok(Applied::NothingToDo(
            "this version is already in your calendar".into(),
        ));
    }
    if let Some(reason) = &shown.class.apply_refusal {
        return Err(InboxError::Refused(reason.clone()));
    }
    let Some(invite) = shown.invite() else {
        return Err(InboxError::Refused("invalid invitation".into()));
    };
    let opts = apply_options(env);
    let stored = shown.stored.as_ref();
    match (shown.class.status, invite.method) {
        (Status::New | Status::Update | Status::Reschedule | Status::Poll, _)
        // R3.11: a REQUEST without attendees is shown and imported as a PUBLISH.
        | (Status::Publish, Some(Method::Publish | Method::Request) | None) => {
            let cal = apply::merge_request(invite, stored.map(|s| &s.1), env.identity, &opts);
            let obj = write_object(env, stored.map(|s| &s.0), &invite.uid, &cal)?;
            Ok(Applied::Stored {
                href: obj.href,
                created: stored.is_none(),
            })
        }
        (Status::Cancel(_), _) | (Status::Uninvited, _) if stored.is_some() => {
            let Some((obj, st)) = stored else {
                return Ok(Applied::NothingToDo(String::new()));
            };
            let uninvited = matches!(shown.class.status, Status::Uninvited);
            let cal = apply::apply_cancel(
                st,
                invite,
                scope_of(shown.class.status, invite),
                uninvited,
                &opts,
            )
            .map_err(|e| InboxError::Other(e.to_string()))?;
            let obj = write_object(env, Some(obj), &invite.uid, &cal)?;
            Ok(Applied::Stored {
                href: obj.href,
                created: false,
            })
        }
        (Status::Cancel(_) | Status::Uninvited, _) => {
            // R4.7: unknown UID: remember the cancellation.
            env.tombstones.record(&invite.uid, invite.sequence())?;
            Ok(Applied::Tombstone)
        }
        (status, _) => Err(InboxError::Refused(format!(
            "a message with status {} cannot be applied",
            status.as_str()
        ))),
    }
}

fn scope_of(status: Status, invite: &Invite) -> classify::CancelScope {
    match status {
        Status::Cancel(s) => s,
        _ if invite
            .components()
            .iter()
            .all(|c| c.recurrence_id().is_some()) =>
        {
            classify::CancelScope::Instances
        }
        _ => classify::CancelScope::Whole,
    }
}

/// The notmuch tags that record an answer (README "Tags"). rsvp never adds
/// `rsvp/pending`; a user's own hook may, and an answer removes it.
pub fn answer_tags(
    partstat: crate::domain::invite::PartStat,
) -> (&'static [&'static str], &'static [&'static str]) {
    use crate::domain::invite::PartStat;
    match partstat {
        PartStat::Accepted => (
            &["rsvp/accepted"],
            &["rsvp/pending", "rsvp/declined", "rsvp/tentative"],
        ),
        PartStat::Declined => (
            &["rsvp/declined"],
            &["rsvp/pending", "rsvp/accepted", "rsvp/tentative"],
        ),
        PartStat::Tentative => (
            &["rsvp/tentative"],
            &["rsvp/pending", "rsvp/accepted", "rsvp/declined"],
        ),
        _ => (&[], &[]),
    }
}

/// The tags that record an answer to one occurrence: the series still
/// needs its own answer, so `rsvp/pending` stays.
pub fn occurrence_tags(
    partstat: crate::domain::invite::PartStat,
) -> (&'static [&'static str], &'static [&'static str]) {
    use crate::domain::invite::PartStat;
    match partstat {
        PartStat::Accepted => (&["rsvp/accepted-occurrence"], &[]),
        PartStat::Declined => (&["rsvp/declined-occurrence"], &[]),
        PartStat::Tentative => (&["rsvp/tentative-occurrence"], &[]),
        _ => (&[], &[]),
    }
}

/// The tags that record an applied update or cancellation.
pub const APPLIED_TAGS: (&[&str], &[&str]) = (&["rsvp/applied"], &["rsvp/pending"]);

/// Result of trying to deliver one queued reply.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub to: Vec<String>,
    pub result: Result<(), TransportError>,
}

/// Send every pending reply; each leaves the outbox only when accepted.
pub fn flush(env: &Env<'_>) -> Result<Vec<Delivery>, InboxError> {
    let transport = env.transport.ok_or_else(|| {
        InboxError::Config("no transport configured: add [send] with [smtp] or [sendmail]".into())
    })?;
    let mut out = Vec::new();
    for entry in env.outbox.pending()? {
        out.push(deliver(env, transport, &entry)?);
    }
    Ok(out)
}

/// Send one outbox entry, recording the outcome.
pub fn deliver(
    env: &Env<'_>,
    transport: &dyn Transport,
    entry: &OutboxEntry,
) -> Result<Delivery, InboxError> {
    let result = transport.send(&entry.envelope, &entry.message);
    match &result {
        Ok(()) => env.outbox.mark_sent(&entry.id)?,
        Err(e) => env.outbox.record_failure(&entry.id, e)?,
    }
    Ok(Delivery {
        id: entry.id.clone(),
        to: entry.envelope.to.clone(),
        result,
    })
}
