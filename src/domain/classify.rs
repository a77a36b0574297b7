//! Classify an incoming iTIP object against the stored copy (R3.x, R4.x).

use super::diff::{self, Change, Clock};
use super::ical::{self, CalDate};
use super::identity::{self, Identity, MeMatch, Role};
use super::invite::{Comp, Invite, Method, PartStat};
use calcard::icalendar::{ICalendarParameterName, ICalendarProperty};

/// X-properties where rsvp keeps the organizer's SEQUENCE and DTSTAMP as
/// received (R3.10), and my answer before a reschedule (R3.7).
pub const X_RECEIVED_SEQUENCE: &str = "X-RSVP-RECEIVED-SEQUENCE";
pub const X_RECEIVED_DTSTAMP: &str = "X-RSVP-RECEIVED-DTSTAMP";
pub const X_PREVIOUS_PARTSTAT: &str = "X-RSVP-PREVIOUS-PARTSTAT";
/// Marks an override rsvp made from the master to hold my answer to one
/// occurrence (R2.2): the organizer never sent it, so an update without it
/// neither drops it nor counts as a change (issue 7 item 4).
pub const X_ANSWERED_APART: &str = "X-RSVP-ANSWERED-APART";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelScope {
    Whole,
    Instances,
    ThisAndFuture,
}

/// The words of the command-line contract (`show --json` "status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New,
    Update,
    Reschedule,
    /// R3.6: same revision, the organizer asks for my current answer.
    Poll,
    Outdated,
    Duplicate,
    Cancel(CancelScope),
    Cancelled,
    Uninvited,
    OrganizerChanged,
    NotInvited,
    Reply,
    Publish,
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Update => "update",
            Status::Reschedule => "reschedule",
            Status::Poll => "poll",
            Status::Outdated => "outdated",
            Status::Duplicate => "duplicate",
            Status::Cancel(_) => "cancel",
            Status::Cancelled => "cancelled",
            Status::Uninvited => "uninvited",
            Status::OrganizerChanged => "organizer-changed",
            Status::NotInvited => "not-invited",
            Status::Reply => "reply",
            Status::Publish => "publish",
            Status::Invalid => "invalid",
        }
    }

    pub fn cancel_scope(self) -> Option<&'static str> {
        match self {
            Status::Cancel(CancelScope::Whole) => Some("whole"),
            Status::Cancel(CancelScope::Instances) => Some("instance"),
            Status::Cancel(CancelScope::ThisAndFuture) => Some("this-and-future"),
            _ => None,
        }
    }
}

/// Facts about the message and the user that classification needs.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub me: &'a Identity,
    /// Group addresses I belong to (R6.6).
    pub groups: &'a [String],
    /// Delivered-To / X-Original-To (R6.5).
    pub delivered_to: &'a [String],
    /// The From address of the message; `None` for a bare .ics (unauthenticated).
    pub sender: Option<&'a str>,
    /// SEQUENCE of a CANCEL seen for this UID while it was not stored (R3.1, R4.7).
    pub tombstone: Option<i64>,
    pub clock: Clock,
}

#[derive(Debug, Clone)]
pub struct Classification {
    pub status: Status,
    pub role: Role,
    /// My current answer: the stored one when there is a stored copy.
    pub partstat: Option<PartStat>,
    /// Whether the organizer asked for an answer (RSVP=TRUE, R6.8) and I am
    /// a participant (R6.9).
    pub rsvp_requested: bool,
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    /// Why a reply would be refused (exit code 4); `None` when allowed.
    pub reply_refusal: Option<String>,
    /// Why `apply` would be refused (exit code 4); `None` when allowed.
    pub apply_refusal: Option<String>,
}

impl Classification {
    pub fn me(&self) -> Option<&MeMatch> {
        match &self.role {
            Role::Attendee(m) => Some(m),
            _ => None,
        }
    }
}

/// The organizer's revision of a component as received (R3.10).
pub fn received_revision(c: Comp<'_>) -> (i64, Option<CalDate>) {
    let seq =
        ical::integer(c.c, &ical::other_prop(X_RECEIVED_SEQUENCE)).unwrap_or_else(|| c.sequence());
    let stamp = ical::date(c.c, &ical::other_prop(X_RECEIVED_DTSTAMP)).or_else(|| c.dtstamp());
    (seq, stamp)
}

/// How the revision of `incoming` compares with `stored` (SEQUENCE, then
/// DTSTAMP, of the master or first component; stored values as received,
/// R3.10): `Greater` means newer.
pub fn revision_cmp(incoming: &Invite, stored: &Invite) -> std::cmp::Ordering {
    let inc = incoming
        .primary()
        .map(received_revision)
        .unwrap_or((0, None));
    let sto = stored.primary().map(received_revision).unwrap_or((0, None));
    cmp_revision(&inc, &sto)
}

/// Compare revisions: SEQUENCE, then DTSTAMP (RFC 5546 §2.1.5).
fn cmp_revision(a: &(i64, Option<CalDate>), b: &(i64, Option<CalDate>)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then_with(|| match (&a.1, &b.1) {
        (Some(x), Some(y)) => x.naive().cmp(&y.naive()),
        (Some(_), None) => std::cmp::Ordering::Greater,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (None, None) => std::cmp::Ordering::Equal,
    })
}

/// The stored component that corresponds to `c` (same RECURRENCE-ID; for an
/// instance without a stored override, the stored master).
pub fn counterpart<'s>(
    stored: &'s Invite,
    c: Comp<'_>,
    incoming: &Invite,
    clock: &Clock,
) -> Option<Comp<'s>> {
    StoredOverrides::new(stored, clock).counterpart(c, incoming, clock)
}

/// The stored overrides indexed by RECURRENCE-ID, so that pairing every
/// incoming component costs one lookup each, not a scan (R2.4).
pub struct StoredOverrides<'s> {
    stored: &'s Invite,
    overrides: Vec<Comp<'s>>,
    index: diff::InstanceIndex,
}

impl<'s> StoredOverrides<'s> {
    /// Index the overrides of `stored`.
    pub fn new(stored: &'s Invite, clock: &Clock) -> StoredOverrides<'s> {
        let overrides = stored.overrides();
        let index = diff::InstanceIndex::new(
            overrides.iter().map(|o| o.recurrence_id()),
            &stored.cal,
            clock,
        );
        StoredOverrides {
            stored,
            overrides,
            index,
        }
    }

    /// The stored override for the instance `rid` of `rid_cal`, if any.
    pub fn find(
        &self,
        rid: &CalDate,
        rid_cal: &calcard::icalendar::ICalendar,
        clock: &Clock,
    ) -> Option<Comp<'s>> {
        self.index
            .find(rid, rid_cal, clock)
            .and_then(|i| self.overrides.get(i).copied())
    }

    /// [`counterpart`] with the index: the override with the same
    /// RECURRENCE-ID, else the master.
    pub fn counterpart(&self, c: Comp<'_>, incoming: &Invite, clock: &Clock) -> Option<Comp<'s>> {
        match c.recurrence_id() {
            None => self.stored.master(),
            Some(rid) => self
                .find(&rid, &incoming.cal, clock)
                .or_else(|| self.stored.master()),
        }
    }
}

/// Whether every component of the stored object is cancelled.
pub fn stored_is_cancelled(stored: &Invite) -> bool {
    let comps = stored.components();
    !comps.is_empty() && comps.iter().all(|c| c.is_cancelled())
}

fn my_partstat(inv: &Invite, me: &MeMatch) -> Option<PartStat> {
    let comp = inv.master().or_else(|| inv.primary())?;
    comp.attendees()
        .into_iter()
        .find(|a| a.email == me.party.email)
        .map(|a| a.partstat)
}

fn my_rsvp(inv: &Invite, me: &MeMatch) -> bool {
    inv.components()
        .iter()
        .flat_map(|c| c.attendees())
        .any(|a| a.email == me.party.email && a.rsvp)
}

/// The warning for a bare calendar file (no message, so no sender): the
/// faces may say it as a note instead (R7.9).
pub const NO_SENDER_WARNING: &str =
    "no sender to check (bare calendar file): the organizer is not authenticated";

/// Sender check (R7.9, R9.1): the From address must be the organizer or its
/// SENT-BY. Returns a warning when it is not.
fn sender_warning(inv: &Invite, sender: Option<&str>) -> Option<String> {
    let org = inv.organizer()?;
    let Some(sender) = sender else {
        return Some(NO_SENDER_WARNING.into());
    };
    let Some(sender_n) = identity::normalize_address(sender) else {
        return Some(format!(
            "the sender address {sender:?} cannot be parsed; treated as untrusted"
        ));
    };
    let ok = org.email.as_deref() == Some(sender_n.as_str())
        || org
            .sent_by
            .as_deref()
            .and_then(identity::normalize_address)
            .is_some_and(|s| s == sender_n);
    if ok {
        None
    } else {
        Some(format!(
            "sender {sender_n} is not the organizer {}",
            org.email.unwrap_or(org.value)
        ))
    }
}

/// Classify `incoming` against `stored` (the copy in the calendar, if any).
pub fn classify(incoming: &Invite, stored: Option<&Invite>, ctx: &Context<'_>) -> Classification {
    let mut warnings = incoming.warnings.clone();
    let role = identity::find_me(incoming, ctx.me, ctx.delivered_to, ctx.groups);
    let mut out = Classification {
        status: Status::Invalid,
        role: role.clone(),
        partstat: None,
        rsvp_requested: false,
        changes: Vec::new(),
        warnings: Vec::new(),
        reply_refusal: None,
        apply_refusal: None,
    };
    if let (Some(stored), Role::Attendee(me)) = (stored, &role) {
        out.partstat = stored_partstat(stored, me, ctx);
    } else if let Role::Attendee(me) = &role {
        out.partstat = my_partstat(incoming, me);
    }
    if let (Some(stored), true) = (
        stored,
        matches!(
            incoming.method,
            Some(Method::Request) | Some(Method::Cancel) | Some(Method::Publish)
        ),
    ) {
        out.changes = diff::diff(stored, incoming, ctx.me, &ctx.clock);
    }

    let not_invitation =
        |m: &str| format!("this is {m}, not an invitation: there is nothing to answer");
    match incoming.method {
        None => {
            // T04: no METHOD means no scheduling transaction (R7.1).
            warnings.push("no METHOD: not a scheduling message; it can only be imported".into());
            out.status = Status::Publish;
            out.reply_refusal = Some(not_invitation("a calendar file without METHOD"));
            // Issue 7 (CalendarServer sequenceComparison): a METHOD-less copy
            // never overwrites the same or a newer stored event.
            if let Some(stored) = stored
                && revision_order(incoming, stored, ctx) != std::cmp::Ordering::Greater
            {
                out.status = Status::Outdated;
                out.apply_refusal =
                    Some("the calendar already holds this or a newer version".into());
            }
        }
        Some(Method::Publish) => {
            out.status = Status::Publish;
            out.reply_refusal = Some(not_invitation("a PUBLISH"));
            if let Some(stored) = stored
                && revision_order(incoming, stored, ctx) != std::cmp::Ordering::Greater
            {
                out.status = Status::Outdated;
                out.apply_refusal =
                    Some("the calendar already holds this or a newer version".into());
            }
        }
        Some(Method::Reply) => {
            out.status = Status::Reply;
            out.reply_refusal = Some(not_invitation("a REPLY from an attendee"));
            out.apply_refusal = Some("applying replies as organizer is not supported yet".into());
        }
        Some(Method::Request) => classify_request(incoming, stored, ctx, &mut out, &mut warnings),
        Some(Method::Cancel) => classify_cancel(incoming, stored, ctx, &mut out, &mut warnings),
        Some(m @ (Method::Add | Method::Refresh | Method::Counter | Method::DeclineCounter)) => {
            out.status = Status::Invalid;
            warnings.push(format!("METHOD:{} is not handled by rsvp", m.as_str()));
            out.reply_refusal = Some(format!("a {} cannot be answered with rsvp", m.as_str()));
            out.apply_refusal = out.reply_refusal.clone();
        }
    }
    warnings.extend(recurrence_warnings(incoming));
    if out.apply_refusal.is_none()
        && out.reply_refusal.is_some()
        && matches!(out.status, Status::Invalid)
    {
        out.apply_refusal = out.reply_refusal.clone();
    }
    warnings.dedup();
    out.warnings = warnings;
    out
}

fn stored_partstat(stored: &Invite, me: &MeMatch, ctx: &Context<'_>) -> Option<PartStat> {
    // The stored copy may list me under another of my addresses.
    let comp = stored.master().or_else(|| stored.primary())?;
    comp.attendees()
        .into_iter()
        .find(|a| a.email == me.party.email || ctx.me.party_is_me(a))
        .map(|a| a.partstat)
}

fn revision_order(incoming: &Invite, stored: &Invite, _ctx: &Context<'_>) -> std::cmp::Ordering {
    let inc = incoming
        .primary()
        .map(received_revision)
        .unwrap_or((0, None));
    let sto = stored.primary().map(received_revision).unwrap_or((0, None));
    cmp_revision(&inc, &sto)
}

fn organizer_key(inv: &Invite) -> Option<String> {
    inv.organizer()
        .map(|o| o.email.unwrap_or(o.value.to_lowercase()))
}

/// Every address the ORGANIZER goes by: its URI and its EMAIL parameter
/// (R6.3). iCloud writes an iMIP token URI with the real address in EMAIL=
/// in its REQUEST, and the real address as URI in its CANCEL.
fn organizer_addresses(inv: &Invite) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in inv.components() {
        for e in
            c.c.entries
                .iter()
                .filter(|e| e.name == ICalendarProperty::Organizer)
        {
            let value = e
                .values
                .first()
                .and_then(ical::value_text)
                .unwrap_or_default();
            let uri = identity::normalize_address(&value).unwrap_or_else(|| value.to_lowercase());
            let email = ical::param(e, &ICalendarParameterName::Email)
                .as_deref()
                .and_then(identity::normalize_address);
            for a in std::iter::once(uri).chain(email) {
                if !a.is_empty() && !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// R3.2/R4.1: both name an organizer and they share no address.
fn organizer_differs(stored: &Invite, incoming: &Invite) -> bool {
    let a = organizer_addresses(stored);
    let b = organizer_addresses(incoming);
    !a.is_empty() && !b.is_empty() && !a.iter().any(|x| b.contains(x))
}

fn classify_request(
    incoming: &Invite,
    stored: Option<&Invite>,
    ctx: &Context<'_>,
    out: &mut Classification,
    warnings: &mut Vec<String>,
) {
    if incoming.organizer().is_none() {
        out.status = Status::Invalid;
        out.reply_refusal = Some("the invitation has no ORGANIZER to answer to".into());
        out.apply_refusal = out.reply_refusal.clone();
        return;
    }
    if let Some(w) = sender_warning(incoming, ctx.sender) {
        warnings.push(w);
    }
    let me = match &out.role {
        Role::Organizer => {
            // T18: my own event: never reply to myself.
            out.status = Status::NotInvited;
            warnings.push("you are the organizer of this event".into());
            out.reply_refusal =
                Some("you are the organizer of this event; there is nothing to answer".into());
            out.apply_refusal = Some("you are the organizer of this event".into());
            return;
        }
        Role::Neither => {
            let attendees = incoming
                .components()
                .iter()
                .map(|c| c.attendees().len())
                .sum::<usize>();
            if attendees == 0 {
                // R3.11: a REQUEST without attendees is shown as a PUBLISH.
                out.status = Status::Publish;
                warnings.push("the invitation lists no attendees".into());
                out.reply_refusal =
                    Some("the invitation lists no attendees; there is nobody to answer as".into());
                // Imported like a PUBLISH: only over an older stored copy.
                if let Some(stored) = stored
                    && revision_order(incoming, stored, ctx) != std::cmp::Ordering::Greater
                {
                    out.status = Status::Outdated;
                    out.apply_refusal =
                        Some("the calendar already holds this or a newer version".into());
                }
            } else {
                out.status = Status::NotInvited;
                out.reply_refusal = Some(format!(
                    "none of your addresses ({}) is an attendee of this invitation",
                    ctx.me.addresses.join(", ")
                ));
                out.apply_refusal = out.reply_refusal.clone();
            }
            return;
        }
        Role::Attendee(me) => me.clone(),
    };
    let role_np = me.party.role.as_deref() == Some("NON-PARTICIPANT");
    out.rsvp_requested = my_rsvp(incoming, &me) && !role_np;
    if role_np {
        warnings.push(
            "you are listed for information only (NON-PARTICIPANT); no answer is expected".into(),
        );
    }
    if incoming.components().iter().all(|c| c.is_cancelled()) {
        out.status = Status::Cancelled;
        out.reply_refusal = Some("the invitation itself is marked cancelled".into());
        return;
    }

    let Some(stored) = stored else {
        // R3.1 with the tombstone exception (T34).
        if let Some(t) = ctx.tombstone
            && t >= incoming.sequence()
        {
            out.status = Status::Outdated;
            out.reply_refusal = Some(format!(
                "a cancellation (SEQUENCE {t}) for this event was already received"
            ));
            out.apply_refusal = out.reply_refusal.clone();
            return;
        }
        out.status = Status::New;
        return;
    };

    // R3.2: an organizer change is never applied silently (T28).
    if organizer_differs(stored, incoming) {
        out.status = Status::OrganizerChanged;
        let msg = format!(
            "the organizer changed from {} to {}; this may be a hijack",
            organizer_key(stored).unwrap_or_default(),
            organizer_key(incoming).unwrap_or_default()
        );
        warnings.push(msg.clone());
        out.reply_refusal = Some(msg.clone());
        out.apply_refusal = Some(msg);
        return;
    }

    // Per component key (R3.3–R3.7).
    let mut any_newer = false;
    let mut any_seq_up = false;
    let mut all_older = true;
    let mut all_equal = true;
    let stored_overrides = StoredOverrides::new(stored, &ctx.clock);
    for c in incoming.components() {
        let inc = (c.sequence(), c.dtstamp());
        let sto = match stored_overrides.counterpart(c, incoming, &ctx.clock) {
            Some(s) => received_revision(s),
            None => (0, None),
        };
        match cmp_revision(&inc, &sto) {
            std::cmp::Ordering::Less => all_equal = false,
            std::cmp::Ordering::Equal => all_older = false,
            std::cmp::Ordering::Greater => {
                all_older = false;
                all_equal = false;
                any_newer = true;
                if inc.0 > sto.0 {
                    any_seq_up = true;
                }
            }
        }
        // R2.9 / T33: an override for an instance the stored series does
        // not have, at the same SEQUENCE: out of sync.
        // A stored object without a master (naked instances, T32) has no
        // series to be out of sync with: a new instance is simply added.
        if let Some(rid) = c.recurrence_id().filter(|_| stored.master().is_some()) {
            let known = stored_overrides
                .find(&rid, &incoming.cal, &ctx.clock)
                .is_some()
                || is_instance_of(stored, &rid, &incoming.cal, &ctx.clock)
                // An occurrence the stored copy excludes (EXDATE) is still
                // one of the series: the organizer brings it back
                // (CalendarServer processRequest_overrideOfEXDATE).
                || stored.master().is_some_and(|m| {
                    m.exdates().iter().any(|x| {
                        diff::same_instance(x, &stored.cal, &rid, &incoming.cal, &ctx.clock)
                    })
                });
            if !known && inc.0 == sto.0 {
                warnings.push(format!(
                    "the occurrence {} is not part of the stored series at the same SEQUENCE: the calendars are out of sync; ask the organizer to resend (REFRESH)",
                    ctx.clock.format(&rid, &incoming.cal)
                ));
                out.apply_refusal =
                    Some("the update does not match the stored series; not merged".into());
            } else if !known {
                warnings.push(
                    "updates were missed: this occurrence was not in the stored series".into(),
                );
            }
        }
    }
    let stored_cancelled = stored_is_cancelled(stored);
    if all_older && !all_equal {
        out.status = Status::Outdated;
        out.reply_refusal =
            Some("a newer version of this invitation is already in your calendar".into());
        out.apply_refusal = out.reply_refusal.clone();
        return;
    }
    if stored_cancelled && !any_newer {
        out.status = Status::Cancelled;
        out.reply_refusal = Some("the event is cancelled in your calendar".into());
        out.apply_refusal = Some("the event was cancelled by a later message".into());
        return;
    }
    // Issue 7 (CalendarServer attendee_needs_action): a REQUEST that raises
    // SEQUENCE and sets me back to NEEDS-ACTION with RSVP=TRUE asks again.
    // A raised SEQUENCE with no change at all keeps the answer (T26).
    let reasked = any_seq_up
        && !out.changes.is_empty()
        && asks_me_again(incoming, &me)
        && out.partstat.is_some_and(|p| p != PartStat::NeedsAction);
    let significant =
        diff::needs_new_answer(&out.changes, any_seq_up) || stored_cancelled || reasked;
    // Issue 7: same SEQUENCE and DTSTAMP but different content is not a
    // duplicate: shown with a warning, applied only when the user says so.
    let same_revision_changed = all_equal && !out.changes.is_empty();
    if same_revision_changed {
        warnings.push(
            "this message has the same SEQUENCE and DTSTAMP as your copy but different content; check the changes before applying".into(),
        );
    }
    let all_equal = all_equal && !same_revision_changed;
    let rsvp_added = my_rsvp(incoming, &me) && !stored_rsvp(stored, &me);
    out.status = if all_equal {
        if rsvp_added {
            Status::Poll
        } else {
            Status::Duplicate
        }
    } else if significant {
        Status::Reschedule
    } else if out.changes.is_empty() && my_rsvp(incoming, &me) && !any_seq_up {
        // R3.6: same revision number, nothing changed, the organizer asks.
        Status::Poll
    } else {
        Status::Update
    };
    if matches!(out.status, Status::Duplicate) {
        out.apply_refusal = Some("this exact version is already in your calendar".into());
    }
    // R9.1 item 2: a change to an event already in the calendar must come
    // from its organizer (or SENT-BY); otherwise anyone who knows the UID
    // could move the user's meeting. New invitations only get a warning:
    // nothing reaches the calendar without the user (R9.2).
    if matches!(
        out.status,
        Status::Update | Status::Reschedule | Status::Poll
    ) && ctx.sender.is_some()
        && let Some(w) = sender_warning(stored, ctx.sender)
    {
        let msg = format!("refusing a change to this event that its organizer did not send: {w}");
        out.apply_refusal = Some(msg.clone());
        out.reply_refusal = Some(msg);
    }
}

/// My ATTENDEE in the incoming master (or first component) says
/// PARTSTAT=NEEDS-ACTION (written, not the default) with RSVP=TRUE: the
/// organizer asks for an answer.
pub fn asks_me_again(incoming: &Invite, me: &MeMatch) -> bool {
    incoming
        .master()
        .or_else(|| incoming.primary())
        .is_some_and(|c| {
            c.attendees().into_iter().any(|a| {
                a.email.is_some()
                    && a.email == me.party.email
                    && a.partstat == PartStat::NeedsAction
                    && c.has_explicit_partstat(&a)
                    && a.rsvp
            })
        })
}

fn stored_rsvp(stored: &Invite, me: &MeMatch) -> bool {
    stored
        .components()
        .iter()
        .flat_map(|c| c.attendees())
        .any(|a| a.email == me.party.email && a.rsvp)
}

/// Whether `rid` is an occurrence of the stored series (capped expansion, R9.7).
pub fn is_instance_of(
    stored: &Invite,
    rid: &CalDate,
    rid_cal: &calcard::icalendar::ICalendar,
    clock: &Clock,
) -> bool {
    let Some(master) = stored.master() else {
        return false;
    };
    // Bug 3 of issue 7: an EXDATE removes an occurrence, the first one
    // (DTSTART) included (RFC 5545 §3.8.5.1).
    if master
        .exdates()
        .iter()
        .any(|x| diff::same_instance(x, &stored.cal, rid, rid_cal, clock))
    {
        return false;
    }
    if master
        .dtstart()
        .is_some_and(|s| diff::same_instance(&s, &stored.cal, rid, rid_cal, clock))
    {
        return true;
    }
    let want = clock.instant(rid, rid_cal);
    let floating = matches!(rid, CalDate::Floating(_) | CalDate::Date(_));
    expand_starts(stored)
        .into_iter()
        .filter(|(id, _)| *id == master.id)
        .any(|(_, start)| {
            if rid.is_date() {
                start.date_naive() == rid.naive().date()
            } else if floating {
                start.naive_utc() == rid.naive()
            } else {
                Some(start) == want
            }
        })
}

/// Occurrence starts of every component, expanded with a cap (R9.7).
/// calcard is asked with UTC as the default zone: it reads a UTC DTSTART in
/// the default zone otherwise. Floating and DATE starts therefore come back
/// as their wall-clock value labelled UTC.
pub fn expand_starts(inv: &Invite) -> Vec<(u32, chrono::DateTime<chrono::Utc>)> {
    inv.cal
        .expand_dates(calcard::common::timezone::Tz::UTC, MAX_EXPANSION)
        .events
        .into_iter()
        .map(|e| (e.comp_id, e.start.with_timezone(&chrono::Utc)))
        .collect()
}

/// The occurrence starts of the master, in its DTSTART's form (TZID, UTC,
/// floating or DATE), EXDATEs removed, sorted; capped (R9.7). A
/// non-recurring master gives its DTSTART.
pub fn master_occurrences(inv: &Invite, clock: &Clock) -> Vec<CalDate> {
    let Some(master) = inv.master() else {
        return Vec::new();
    };
    let Some(start) = master.dtstart() else {
        return Vec::new();
    };
    let exdates = master.exdates();
    let floating = matches!(start, CalDate::Floating(_) | CalDate::Date(_));
    let mut v: Vec<CalDate> = if master.is_recurring() {
        expand_starts(inv)
            .into_iter()
            .filter(|(id, _)| *id == master.id)
            .map(|(_, t)| {
                if floating {
                    CalDate::with_form_of(t.naive_utc(), &start)
                } else {
                    clock.in_form_of(&CalDate::Utc(t.naive_utc()), &inv.cal, &start, &inv.cal)
                }
            })
            .collect()
    } else {
        vec![start.clone()]
    };
    v.retain(|d| {
        !exdates
            .iter()
            .any(|x| diff::same_instance(x, &inv.cal, d, &inv.cal, clock))
    });
    v.sort_by_key(|d| d.naive());
    v.dedup();
    v
}

/// R9.7, T58: rules that would flood a calendar are flagged; expansion is
/// capped at [`MAX_EXPANSION`] whatever the rule says.
pub fn recurrence_warnings(inv: &Invite) -> Vec<String> {
    use calcard::icalendar::{ICalendarFrequency, ICalendarValue};
    let mut out = Vec::new();
    for c in inv.components() {
        let rules =
            c.c.entries
                .iter()
                .filter(|e| e.name == ICalendarProperty::Rrule)
                .flat_map(|e| e.values.iter());
        for v in rules {
            let ICalendarValue::RecurrenceRule(r) = v else {
                continue;
            };
            let unit = match r.freq {
                ICalendarFrequency::Secondly => Some("second"),
                ICalendarFrequency::Minutely => Some("minute"),
                _ => None,
            };
            if let Some(unit) = unit {
                out.push(format!(
                    "suspicious recurrence: the event repeats every {unit}; only the first {MAX_EXPANSION} occurrences are considered"
                ));
            }
            if let Some(n) = r.count.filter(|n| *n as usize > MAX_EXPANSION) {
                out.push(format!(
                    "suspicious recurrence: COUNT={n}; only the first {MAX_EXPANSION} occurrences are considered"
                ));
            }
        }
    }
    out.dedup();
    out
}

/// The cap on recurrence expansion (R9.7; sabre uses 3500).
pub const MAX_EXPANSION: usize = 3500;

fn classify_cancel(
    incoming: &Invite,
    stored: Option<&Invite>,
    ctx: &Context<'_>,
    out: &mut Classification,
    warnings: &mut Vec<String>,
) {
    out.reply_refusal = Some("a cancellation needs no answer".into());
    let comps = incoming.components();
    let scope = if comps.iter().any(|c| {
        c.range_param()
            .is_some_and(|r| r.eq_ignore_ascii_case("THISANDPRIOR"))
    }) {
        out.status = Status::Invalid;
        warnings.push("RANGE=THISANDPRIOR is deprecated and not supported".into());
        out.apply_refusal = Some("RANGE=THISANDPRIOR is not supported".into());
        return;
    } else if comps.iter().any(|c| c.this_and_future()) {
        CancelScope::ThisAndFuture
    } else if comps.iter().all(|c| c.recurrence_id().is_some()) {
        CancelScope::Instances
    } else {
        CancelScope::Whole
    };
    // R4.4: no STATUS and my ATTENDEE listed: I was removed.
    let no_status = comps.iter().all(|c| c.status().is_none());
    let uninvited = no_status && matches!(out.role, Role::Attendee(_));
    out.status = if uninvited {
        Status::Uninvited
    } else {
        Status::Cancel(scope)
    };

    // R4.1: only the organizer may cancel; check against the stored copy.
    let authority = stored.unwrap_or(incoming);
    if let Some(w) = sender_warning(authority, ctx.sender) {
        if ctx.sender.is_some() {
            // T46: a spoofed cancellation changes nothing.
            out.apply_refusal = Some(format!(
                "refusing a cancellation not sent by the organizer: {w}"
            ));
        }
        warnings.push(w);
    }
    let Some(stored) = stored else {
        // R4.7: unknown UID: nothing to change; a tombstone is recorded.
        warnings.push("this event is not in your calendar".into());
        return;
    };
    if organizer_differs(stored, incoming) {
        out.status = Status::OrganizerChanged;
        let msg = format!(
            "the cancellation names organizer {} but the event belongs to {}",
            organizer_key(incoming).unwrap_or_default(),
            organizer_key(stored).unwrap_or_default()
        );
        warnings.push(msg.clone());
        out.apply_refusal = Some(msg);
        return;
    }
    // R4.2: apply when SEQUENCE >= the stored one (T47).
    let inc = incoming.sequence();
    let mut stale = false;
    let mut already = true;
    let stored_overrides = StoredOverrides::new(stored, &ctx.clock);
    for c in &comps {
        let target = stored_overrides.counterpart(*c, incoming, &ctx.clock);
        let sto = target.map(received_revision).unwrap_or((0, None));
        if inc < sto.0 {
            stale = true;
        }
        let target_cancelled = match (c.recurrence_id(), target) {
            (None, _) => stored_is_cancelled(stored),
            (Some(_), Some(t)) if t.recurrence_id().is_some() => t.is_cancelled(),
            (Some(rid), Some(master)) => {
                master.is_cancelled()
                    || master.exdates().iter().any(|x| {
                        diff::same_instance(x, &stored.cal, &rid, &incoming.cal, &ctx.clock)
                    })
            }
            (Some(_), None) => true,
        };
        if !target_cancelled {
            already = false;
        }
    }
    if stale {
        out.status = Status::Outdated;
        out.apply_refusal =
            Some("the cancellation is older than the version in your calendar".into());
    } else if already {
        out.status = Status::Cancelled;
        out.apply_refusal = Some("this cancellation is already applied".into());
    }
}

#[cfg(test)]
pub(crate) mod tests;
