//! Building the REPLY calendar (R1.x, R2.x) and the iMIP message around it.

pub mod message;

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
}

/// The occurrences a REPLY covers: (RECURRENCE-ID or None for the master,
/// the component the data comes from).
pub fn targets<'a>(
    invite: &'a Invite,
    scope: &Scope,
    is_instance: &dyn Fn(&CalDate) -> bool,
) -> Result<Vec<(Option<CalDate>, Comp<'a>)>, ReplyError> {
    let mut out = Vec::new();
    match scope {
        Scope::All => {
            if let Some(master) = invite.master() {
                if master.is_cancelled() {
                    return Err(ReplyError::Cancelled(
                        invite.summary().unwrap_or_else(|| invite.uid.clone()),
                    ));
                }
                out.push((None, master));
            }
            // Overrides are answered too (R2.1: do not rely on the organizer
            // propagating a master answer; T32: naked instances).
            for o in invite.overrides() {
                if !o.is_cancelled() {
                    out.push((o.recurrence_id(), o));
                }
            }
        }
        Scope::Instances(rids) => {
            for rid in rids {
                let over = invite.overrides().into_iter().find(|o| {
                    o.recurrence_id()
                        .as_ref()
                        .is_some_and(|r| r.value_text() == rid.value_text() || r == rid)
                });
                match over {
                    Some(o) => {
                        if o.is_cancelled() {
                            return Err(ReplyError::Cancelled(rid.display_key()));
                        }
                        out.push((o.recurrence_id(), o));
                    }
                    None => {
                        let master = invite.master().ok_or_else(|| {
                            ReplyError::NoSuchInstance(rid.display_key(), invite.uid.clone())
                        })?;
                        if !is_instance(rid) {
                            return Err(ReplyError::NoSuchInstance(
                                rid.display_key(),
                                invite.uid.clone(),
                            ));
                        }
                        if master.is_cancelled() {
                            return Err(ReplyError::Cancelled(rid.display_key()));
                        }
                        // R1.10: the RECURRENCE-ID takes the form of DTSTART.
                        let form = master
                            .dtstart()
                            .map(|s| CalDate::with_form_of(rid.naive(), &s))
                            .unwrap_or(rid.clone());
                        out.push((Some(form), master));
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
    for (rid, source) in targets(inv, &req.scope, is_instance)? {
        let comp = reply_component(req, rid.as_ref(), source);
        b.add_component(comp);
    }
    let mut cal = b.build();
    let from = req.now.timestamp() - 366 * 86400;
    let to = req.now.timestamp() + 2 * 366 * 86400;
    let warnings = tz::ensure_vtimezones(&mut cal, &inv.cal, from, to);
    Ok((cal, warnings))
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
