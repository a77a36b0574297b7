//! Building the REPLY calendar (R1.x, R2.x) and the iMIP message around it.

pub mod message;

use super::diff::{Clock, same_instance};
use super::ical::{self, CalDate, CalendarBuilder};
use super::identity::MeMatch;
use super::invite::{Comp, Invite, PartStat};
use super::tz;
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarMethod,
    ICalendarParameter, ICalendarParameterName, ICalendarProperty, ICalendarUserTypes,
    ICalendarValue, Uri,
};
use chrono::{DateTime, Datelike, Timelike, Utc};
use thiserror::Error;

pub const PRODID: &str = "-//rsvp//rsvp 0.1//EN";

/// Which part of the event an answer is about (R2.1–R2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole event or series; for a naked recurrence, every instance I
    /// was invited to (T32).
    All,
    /// These occurrences (RECURRENCE-IDs).
    Instances(Vec<CalDate>),
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// R1.14.
    #[error("occurrence {0} is cancelled; a cancelled event is not answered")]
    Cancelled(String),
    #[error("{0} is not an occurrence of event {1}")]
    NoSuchInstance(String, String),
    /// Bug 1 of issue 7: the organizer did not invite me to this occurrence.
    #[error(
        "you are not invited to the occurrence {0} of event {1}: its attendee list does not include you"
    )]
    NotInvited(String, String),
    #[error("event {0} has no component to answer")]
    Empty(String),
    #[error("PARTSTAT {0} cannot be sent as an answer")]
    BadPartStat(String),
}

/// What to answer.
#[derive(Debug, Clone)]
pub struct ReplyRequest<'a> {
    pub invite: &'a Invite,
    pub me: &'a MeMatch,
    pub partstat: PartStat,
    pub scope: Scope,
    pub comment: Option<&'a str>,
    pub now: DateTime<Utc>,
    /// The address the mail is sent from when it differs from my ATTENDEE
    /// address (R7.8, T41).
    pub sent_by: Option<&'a str>,
    /// The copy in the calendar before this answer, if any: occurrences I
    /// answered apart from the series keep that answer (issue 7 item 4).
    pub stored: Option<&'a Invite>,
    /// Zone for floating times; RECURRENCE-IDs are matched as instants (R2.4).
    pub clock: Clock,
}

/// My answer in a component (any of my addresses, case-insensitively).
fn my_answer(c: Comp<'_>, me: &MeMatch) -> Option<PartStat> {
    c.attendees()
        .into_iter()
        .find(|a| a.email.is_some() && a.email == me.party.email)
        .map(|a| a.partstat)
}

/// Whether the stored override `o` holds an answer of mine given for that
/// occurrence apart from the series: an answer other than NEEDS-ACTION that
/// differs from my answer to the stored master (issue 7 item 4).
pub fn answered_apart(stored: &Invite, o: Comp<'_>, me: &MeMatch) -> bool {
    let Some(mine) = my_answer(o, me) else {
        return false;
    };
    let series = stored.master().and_then(|m| my_answer(m, me));
    mine != PartStat::NeedsAction && Some(mine) != series
}

/// The stored override for the occurrence at `rid` (read in `rid_cal`).
fn stored_override<'s>(
    stored: &'s Invite,
    rid: &CalDate,
    rid_cal: &ICalendar,
    clock: &Clock,
) -> Option<Comp<'s>> {
    stored.overrides().into_iter().find(|o| {
        o.recurrence_id()
            .is_some_and(|r| same_instance(&r, &stored.cal, rid, rid_cal, clock))
    })
}

/// Resolve an occurrence the user named (`--instance`, in any form: the
/// event's zone, UTC, another zone, floating, DATE) to the occurrence of
/// `invite` at that instant (R2.4), with its RECURRENCE-ID written exactly
/// as the organizer writes it: an override's own RECURRENCE-ID, else the
/// series' DTSTART form (R1.10; bug 2 of issue 7). Refuses occurrences that
/// do not exist (EXDATE included, bug 3) and occurrences that do not list
/// me (bug 1).
pub fn resolve_instance(
    invite: &Invite,
    me: &MeMatch,
    rid: &CalDate,
    clock: &Clock,
    is_instance: &dyn Fn(&CalDate) -> bool,
) -> Result<CalDate, ReplyError> {
    if let Some(o) = stored_override(invite, rid, &invite.cal, clock) {
        let own = o.recurrence_id().unwrap_or_else(|| rid.clone());
        if !me.listed_in(o) {
            return Err(ReplyError::NotInvited(
                clock.format(&own, &invite.cal),
                invite.uid.clone(),
            ));
        }
        if o.is_cancelled() {
            return Err(ReplyError::Cancelled(clock.format(&own, &invite.cal)));
        }
        return Ok(own);
    }
    let not_found =
        || ReplyError::NoSuchInstance(clock.format(rid, &invite.cal), invite.uid.clone());
    let master = invite.master().ok_or_else(not_found)?;
    let form = match master.dtstart() {
        Some(start) => clock.in_form_of(rid, &invite.cal, &start, &invite.cal),
        None => rid.clone(),
    };
    if !is_instance(&form) {
        return Err(not_found());
    }
    if !me.listed_in(master) {
        return Err(ReplyError::NotInvited(
            clock.format(&form, &invite.cal),
            invite.uid.clone(),
        ));
    }
    if master.is_cancelled() {
        return Err(ReplyError::Cancelled(clock.format(&form, &invite.cal)));
    }
    Ok(form)
}

/// The occurrences a REPLY covers: (RECURRENCE-ID or None for the master,
/// the component the data comes from). Only components that list me are
/// answered (R2.1, R2.5; bug 1 of issue 7).
pub fn targets<'a>(
    req: &ReplyRequest<'a>,
    is_instance: &dyn Fn(&CalDate) -> bool,
) -> Result<Vec<(Option<CalDate>, Comp<'a>)>, ReplyError> {
    let invite = req.invite;
    let me = req.me;
    let clock = &req.clock;
    let mut out = Vec::new();
    match &req.scope {
        Scope::All => {
            if let Some(master) = invite.master().filter(|m| me.listed_in(*m)) {
                if master.is_cancelled() {
                    return Err(ReplyError::Cancelled(
                        invite.summary().unwrap_or_else(|| invite.uid.clone()),
                    ));
                }
                out.push((None, master));
            }
            // Overrides that list me are answered too (R2.1: do not rely on
            // the organizer propagating a master answer; T32: naked
            // instances), except occurrences I answered apart from the
            // series, unless the organizer asks again (issue 7 item 4).
            for o in invite.overrides() {
                if o.is_cancelled() || !me.listed_in(o) {
                    continue;
                }
                let kept = match (req.stored, o.recurrence_id()) {
                    (Some(stored), Some(rid)) if invite.master().is_some() => {
                        stored_override(stored, &rid, &invite.cal, clock).is_some_and(|so| {
                            answered_apart(stored, so, me)
                                && super::classify::received_revision(so).0 >= o.sequence()
                        })
                    }
                    _ => false,
                };
                if !kept {
                    out.push((o.recurrence_id(), o));
                }
            }
        }
        Scope::Instances(rids) => {
            for rid in rids {
                let rid = resolve_instance(invite, me, rid, clock, is_instance)?;
                match stored_override(invite, &rid, &invite.cal, clock) {
                    Some(o) => out.push((o.recurrence_id(), o)),
                    None => {
                        let master = invite.master().ok_or_else(|| {
                            ReplyError::NoSuchInstance(rid.display_key(), invite.uid.clone())
                        })?;
                        out.push((Some(rid), master));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        return Err(ReplyError::Empty(invite.uid.clone()));
    }
    Ok(out)
}

/// Build the REPLY calendar: METHOD:REPLY, one VEVENT per answered
/// component with exactly my ATTENDEE (R1.1–R1.13), VTIMEZONEs for every
/// TZID used (R1.4). `is_instance` validates RECURRENCE-IDs that have no
/// override (R5.5-style check with capped expansion).
pub fn build_reply(
    req: &ReplyRequest<'_>,
    is_instance: &dyn Fn(&CalDate) -> bool,
) -> Result<(ICalendar, Vec<String>), ReplyError> {
    if !matches!(
        req.partstat,
        PartStat::Accepted | PartStat::Declined | PartStat::Tentative
    ) {
        return Err(ReplyError::BadPartStat(req.partstat.as_str().to_string()));
    }
    let inv = req.invite;
    let mut b = CalendarBuilder::new(vec![
        ICalendarEntry::new(ICalendarProperty::Prodid).with_value(PRODID),
        ICalendarEntry::new(ICalendarProperty::Version).with_value("2.0"),
        ICalendarEntry::new(ICalendarProperty::Method).with_value(ICalendarMethod::Reply),
    ]);
    for (rid, source) in targets(req, is_instance)? {
        let comp = reply_component(req, rid.as_ref(), source);
        b.add_component(comp);
    }
    let mut cal = b.build();
    let (from, to) = timezone_window(inv, &req.clock, req.now);
    let warnings = tz::ensure_vtimezones(&mut cal, &inv.cal, from, to);
    Ok((cal, warnings))
}

/// The span (unix seconds) a generated VTIMEZONE must cover: from the
/// event's first DTSTART or RECURRENCE-ID through its last occurrence
/// (expansion capped by R9.7), with a day's margin each side (bug 8 of
/// issue 7: a window around today missed events that start earlier). An
/// event without readable dates gets a window around `now`.
pub fn timezone_window(inv: &Invite, clock: &Clock, now: DateTime<Utc>) -> (i64, i64) {
    let mut instants: Vec<i64> = Vec::new();
    for c in inv.components() {
        for d in [c.dtstart(), c.recurrence_id(), c.dtend()]
            .into_iter()
            .flatten()
        {
            if let Some(t) = clock.instant(&d, &inv.cal) {
                instants.push(t.timestamp());
            }
        }
    }
    let span = inv
        .components()
        .iter()
        .filter_map(|c| c.duration().map(|d| d.num_seconds()))
        .max()
        .unwrap_or(0)
        .max(0);
    if inv.components().iter().any(|c| c.is_recurring()) {
        instants.extend(
            super::classify::expand_starts(inv)
                .into_iter()
                .map(|(_, t)| t.timestamp() + span),
        );
    }
    match (instants.iter().min(), instants.iter().max()) {
        (Some(lo), Some(hi)) => (lo - 2 * 86400, hi + 2 * 86400),
        _ => (
            now.timestamp() - 366 * 86400,
            now.timestamp() + 2 * 366 * 86400,
        ),
    }
}

fn reply_component(
    req: &ReplyRequest<'_>,
    rid: Option<&CalDate>,
    source: Comp<'_>,
) -> ICalendarComponent {
    let mut c = ICalendarComponent::new(source.c.component_type.clone());
    let copy = |c: &mut ICalendarComponent, prop: &ICalendarProperty| {
        if let Some(e) = source.c.property(prop) {
            c.entries.push(e.clone());
        }
    };
    copy(&mut c, &ICalendarProperty::Uid);
    c.entries
        .push(ICalendarEntry::new(ICalendarProperty::Dtstamp).with_value(utc_partial(req.now)));
    // R1.9: always emit SEQUENCE, the replied component's value.
    c.entries
        .push(ICalendarEntry::new(ICalendarProperty::Sequence).with_value(source.sequence()));
    match (rid, source.recurrence_id()) {
        (Some(_), Some(_)) => copy(&mut c, &ICalendarProperty::RecurrenceId),
        (Some(rid), None) => {
            // An occurrence without override: RECURRENCE-ID in DTSTART's form,
            // DTSTART/DTEND for that occurrence (R1.10, R1.11).
            c.entries
                .push(rid.to_entry(ICalendarProperty::RecurrenceId));
            if let Some(start) = source.dtstart() {
                let shift = rid.naive() - start.naive();
                c.entries.push(
                    CalDate::with_form_of(rid.naive(), &start).to_entry(ICalendarProperty::Dtstart),
                );
                if let Some(end) = ical::date(source.c, &ICalendarProperty::Dtend) {
                    c.entries.push(
                        CalDate::with_form_of(end.naive() + shift, &end)
                            .to_entry(ICalendarProperty::Dtend),
                    );
                } else {
                    copy(&mut c, &ICalendarProperty::Duration);
                }
            }
        }
        _ => {}
    }
    if !c.has_property(&ICalendarProperty::Dtstart) {
        for p in [
            ICalendarProperty::Dtstart,
            ICalendarProperty::Dtend,
            ICalendarProperty::Duration,
            ICalendarProperty::Due,
        ] {
            copy(&mut c, &p);
        }
    }
    // SUMMARY verbatim (R1.11), except control characters, which TEXT
    // forbids (R8.4): a hostile organizer's ESC/BEL does not travel on.
    if let Some(e) = source.c.property(&ICalendarProperty::Summary) {
        let mut e = e.clone();
        for v in e.values.iter_mut() {
            if let ICalendarValue::Text(t) = v {
                *t = clean_text(t);
            }
        }
        c.entries.push(e);
    }
    // R1.7: ORGANIZER copied with its value, CN and SENT-BY (and the
    // harmless DIR, LANGUAGE, EMAIL); attendee-only parameters that some
    // clients put on it (Thunderbird: RSVP=FALSE;PARTSTAT=ACCEPTED;ROLE=CHAIR)
    // and SCHEDULE-* (R1.13) are dropped, or check_reply refuses the REPLY.
    if let Some(org) = source.c.property(&ICalendarProperty::Organizer) {
        let mut org = org.clone();
        org.params.retain(|p| {
            matches!(
                p.name,
                ICalendarParameterName::Cn
                    | ICalendarParameterName::SentBy
                    | ICalendarParameterName::Dir
                    | ICalendarParameterName::Language
                    | ICalendarParameterName::Email
            )
        });
        c.entries.push(org);
    }
    c.entries.push(my_attendee(req, source));
    if let Some(comment) = req.comment.map(str::trim).filter(|s| !s.is_empty()) {
        c.entries
            .push(ICalendarEntry::new(ICalendarProperty::Comment).with_value(clean_text(comment)));
    }
    c
}

/// R1.8: exactly my ATTENDEE, value verbatim, CN kept, RSVP and SCHEDULE-*
/// dropped, DELEGATED-FROM kept (R6.11), SENT-BY when sending from another
/// address (R7.8), CUTYPE/MEMBER for a group answer (R6.6, T16).
fn my_attendee(req: &ReplyRequest<'_>, source: Comp<'_>) -> ICalendarEntry {
    let me = req.me;
    // The entry for me in this component, else the one found when matching.
    let found = source
        .attendees()
        .into_iter()
        .find(|a| a.email == me.party.email && me.via_group.is_none());
    let party = found.unwrap_or_else(|| me.party.clone());
    let value = if me.via_group.is_some() {
        format!("mailto:{}", me.address)
    } else {
        party.value.clone()
    };
    let mut e = ICalendarEntry::new(ICalendarProperty::Attendee).with_value(Uri::Location(value));
    if me.via_group.is_some() {
        e.add_param(ICalendarParameter::cutype(ICalendarUserTypes::Individual));
        if let Some(g) = &me.via_group {
            e.add_param(ICalendarParameter::member(Uri::Location(g.clone())));
        }
    } else if let Some(cn) = party.cn.as_deref().filter(|s| !s.is_empty()) {
        e.add_param(ICalendarParameter::cn(clean_param(cn)));
    }
    e.add_param(ICalendarParameter::partstat(req.partstat.to_calcard()));
    for d in &party.delegated_from {
        e.add_param(ICalendarParameter::delegated_from(Uri::Location(d.clone())));
    }
    if let Some(s) = req.sent_by {
        e.add_param(ICalendarParameter::sent_by(Uri::Location(format!(
            "mailto:{s}"
        ))));
    }
    e
}

/// The human parts of a reply (R7.6): who answered what, naming the
/// answered occurrences in words with their own (possibly moved) times in
/// the user's and the event's zone (bug 5 of issue 7), and the series'
/// first real occurrence (EXDATEs honoured, bug 3) for a series answer.
pub fn text_parts(
    invite: &Invite,
    who: &str,
    partstat: PartStat,
    changed_from: Option<PartStat>,
    comment: Option<&str>,
    scope: &Scope,
    clock: &Clock,
) -> (String, String) {
    use super::sanitize;
    let verb = |p: PartStat| match p {
        PartStat::Accepted => "accepted",
        PartStat::Declined => "declined",
        PartStat::Tentative => "tentatively accepted",
        _ => "answered",
    };
    let summary = sanitize::terminal_line(&invite.summary().unwrap_or_else(|| "(no title)".into()));
    let who = sanitize::terminal_line(who);
    // A second answer says it replaces the first (issue 9).
    let mut text = match changed_from {
        Some(old) => format!(
            "{who} has changed the answer to the invitation \"{summary}\": now {} (before: {})",
            verb(partstat),
            verb(old)
        ),
        None => format!("{who} has {} the invitation \"{summary}\"", verb(partstat)),
    };
    let mut whens: Vec<String> = Vec::new();
    match scope {
        Scope::All => {
            let first = super::classify::master_occurrences(invite, clock)
                .into_iter()
                .next()
                .or_else(|| invite.primary().and_then(|c| c.dtstart()));
            if let Some(start) = first {
                whens.push(clock.format(&start, &invite.cal));
            }
        }
        Scope::Instances(rids) => {
            let words: Vec<String> = rids
                .iter()
                .map(|rid| clock.format(rid, &invite.cal))
                .collect();
            let one = if words.len() == 1 {
                "the occurrence"
            } else {
                "the occurrences"
            };
            text.push_str(&format!(" for {one} of {}", words.join(", ")));
            for rid in rids {
                // An override may have moved the occurrence.
                let start = stored_override(invite, rid, &invite.cal, clock)
                    .and_then(|o| o.dtstart())
                    .unwrap_or_else(|| rid.clone());
                whens.push(clock.format(&start, &invite.cal));
            }
        }
    }
    text.push_str(".\n");
    if !whens.is_empty() {
        text.push_str(&format!("\nWhen: {}\n", whens.join("; ")));
    }
    if let Some(c) = comment.map(str::trim).filter(|c| !c.is_empty()) {
        text.push_str(&format!("\nComment: {}\n", sanitize::terminal_safe(c)));
    }
    text.push_str("\n-- \nSent by rsvp\n");
    let html = format!(
        "<!DOCTYPE html>\n<html><body><pre>{}</pre></body></html>\n",
        html_escape(&text)
    );
    (text, html)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn strip_schedule_params(e: &mut ICalendarEntry) {
    ical::remove_params(
        e,
        &[
            ICalendarParameterName::ScheduleAgent,
            ICalendarParameterName::ScheduleStatus,
            ICalendarParameterName::ScheduleForceSend,
        ],
    );
}

/// TEXT forbids control characters (R8.4); keep newlines and tabs.
fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c.is_control() && c != '\n' && c != '\t') || super::sanitize::is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A parameter value can hold neither DQUOTE nor controls (R8.6).
fn clean_param(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '"' {
                '\''
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

pub fn utc_partial(t: DateTime<Utc>) -> PartialDateTime {
    PartialDateTime {
        year: u16::try_from(t.year()).ok(),
        month: u8::try_from(t.month()).ok(),
        day: u8::try_from(t.day()).ok(),
        hour: u8::try_from(t.hour()).ok(),
        minute: u8::try_from(t.minute()).ok(),
        second: u8::try_from(t.second()).ok(),
        tz_hour: Some(0),
        tz_minute: Some(0),
        tz_minus: false,
    }
}

/// Subject line for a reply (R7.10); the message builder sanitises it (R9.6).
pub fn subject(partstat: PartStat, summary: &str) -> String {
    let word = match partstat {
        PartStat::Accepted => "Accepted",
        PartStat::Declined => "Declined",
        PartStat::Tentative => "Tentative",
        PartStat::NeedsAction | PartStat::Delegated => "Reply",
    };
    format!("{word}: {summary}")
}

/// Whether a written calendar uses only VEVENTs with my single ATTENDEE
/// (a self-check used by tests and by `reply` before sending).
pub fn check_reply(cal: &ICalendar) -> Result<(), String> {
    for id in ical::scheduling_ids(cal) {
        let Some(c) = ical::component(cal, id) else {
            continue;
        };
        let n = c
            .entries
            .iter()
            .filter(|e| e.name == ICalendarProperty::Attendee)
            .count();
        if n != 1 {
            return Err(format!("a REPLY component has {n} ATTENDEEs"));
        }
        if cal
            .components
            .iter()
            .any(|c| c.component_type == ICalendarComponentType::VAlarm)
        {
            return Err("a REPLY must not contain VALARM".into());
        }
        for e in &c.entries {
            if e.params.iter().any(|p| {
                matches!(
                    p.name,
                    ICalendarParameterName::ScheduleAgent
                        | ICalendarParameterName::ScheduleStatus
                        | ICalendarParameterName::ScheduleForceSend
                        | ICalendarParameterName::Rsvp
                )
            }) {
                return Err("a REPLY must not carry RSVP or SCHEDULE-* parameters".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
