//! The invitation model: one iTIP object (or one stored calendar object)
//! for a single UID, as a view over the parsed calcard calendar, which keeps
//! everything rsvp does not understand.

use super::ical::{self, CalDate};
use super::identity::address_as_written;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarMethod,
    ICalendarParameterName, ICalendarParameterValue, ICalendarParticipationRole,
    ICalendarParticipationStatus, ICalendarProperty, ICalendarStatus, ICalendarUserTypes,
    ICalendarValue,
};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Publish,
    Request,
    Reply,
    Add,
    Cancel,
    Refresh,
    Counter,
    DeclineCounter,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "PUBLISH" => Method::Publish,
            "REQUEST" => Method::Request,
            "REPLY" => Method::Reply,
            "ADD" => Method::Add,
            "CANCEL" => Method::Cancel,
            "REFRESH" => Method::Refresh,
            "COUNTER" => Method::Counter,
            "DECLINECOUNTER" => Method::DeclineCounter,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Reply => "REPLY",
            Method::Add => "ADD",
            Method::Cancel => "CANCEL",
            Method::Refresh => "REFRESH",
            Method::Counter => "COUNTER",
            Method::DeclineCounter => "DECLINECOUNTER",
        }
    }

    fn from_calcard(m: &ICalendarMethod) -> Method {
        match m {
            ICalendarMethod::Publish => Method::Publish,
            ICalendarMethod::Request => Method::Request,
            ICalendarMethod::Reply => Method::Reply,
            ICalendarMethod::Add => Method::Add,
            ICalendarMethod::Cancel => Method::Cancel,
            ICalendarMethod::Refresh => Method::Refresh,
            ICalendarMethod::Counter => Method::Counter,
            ICalendarMethod::Declinecounter => Method::DeclineCounter,
        }
    }
}

/// PARTSTAT; unknown values count as NEEDS-ACTION (R6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartStat {
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
    Delegated,
}

impl PartStat {
    pub fn as_str(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
            PartStat::Declined => "DECLINED",
            PartStat::Tentative => "TENTATIVE",
            PartStat::Delegated => "DELEGATED",
        }
    }

    pub fn parse(s: &str) -> PartStat {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACCEPTED" => PartStat::Accepted,
            "DECLINED" => PartStat::Declined,
            "TENTATIVE" => PartStat::Tentative,
            "DELEGATED" => PartStat::Delegated,
            _ => PartStat::NeedsAction,
        }
    }

    pub fn to_calcard(self) -> ICalendarParticipationStatus {
        match self {
            PartStat::NeedsAction => ICalendarParticipationStatus::NeedsAction,
            PartStat::Accepted => ICalendarParticipationStatus::Accepted,
            PartStat::Declined => ICalendarParticipationStatus::Declined,
            PartStat::Tentative => ICalendarParticipationStatus::Tentative,
            PartStat::Delegated => ICalendarParticipationStatus::Delegated,
        }
    }

    /// The word users see: "accepted", "needs action" ...
    pub fn human(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "needs action",
            PartStat::Accepted => "accepted",
            PartStat::Declined => "declined",
            PartStat::Tentative => "tentative",
            PartStat::Delegated => "delegated",
        }
    }
}

/// An ORGANIZER or ATTENDEE property, read leniently (R6.2, R6.3, R8.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The property value exactly as received (`mailto:…`, `urn:uuid:…`).
    pub value: String,
    /// The e-mail address to match and to write to: the mailto value or the
    /// EMAIL parameter, normalised (lower case, no scheme).
    pub email: Option<String>,
    /// The same address with its case as written (for mail headers and
    /// everything rsvp writes back, bug 6 of issue 7).
    pub address: Option<String>,
    /// The EMAIL parameter as written (R6.3). iCloud puts the person's
    /// address here and an `…@imip.me.com` token in the value: the EMAIL
    /// address is the one to show and to look up in contacts; replies still
    /// go to the value.
    pub email_param: Option<String>,
    pub cn: Option<String>,
    pub sent_by: Option<String>,
    pub partstat: PartStat,
    pub rsvp: bool,
    pub role: Option<String>,
    pub cutype: Option<String>,
    pub delegated_from: Vec<String>,
    pub delegated_to: Vec<String>,
    pub member: Vec<String>,
    /// Index of the property in its component's entries.
    pub index: usize,
}

impl Party {
    pub fn from_entry(entry: &ICalendarEntry, index: usize) -> Party {
        let value = entry
            .values
            .first()
            .and_then(ical::value_text)
            .unwrap_or_default();
        // Each address is read once; the normalised one is its lower case
        // (what [`super::identity::normalize_address`] gives).
        let email_param = ical::param(entry, &ICalendarParameterName::Email)
            .as_deref()
            .and_then(address_as_written);
        let address = address_as_written(&value).or_else(|| email_param.clone());
        let email = address.as_deref().map(str::to_lowercase);
        let partstat = match entry.parameter(&ICalendarParameterName::Partstat) {
            Some(ICalendarParameterValue::Partstat(p)) => match p {
                ICalendarParticipationStatus::Accepted => PartStat::Accepted,
                ICalendarParticipationStatus::Declined => PartStat::Declined,
                ICalendarParticipationStatus::Tentative => PartStat::Tentative,
                ICalendarParticipationStatus::Delegated => PartStat::Delegated,
                _ => PartStat::NeedsAction,
            },
            Some(other) => ical::param_text(other)
                .map(|t| PartStat::parse(&t))
                .unwrap_or(PartStat::NeedsAction),
            None => PartStat::NeedsAction,
        };
        let rsvp = match entry.parameter(&ICalendarParameterName::Rsvp) {
            Some(ICalendarParameterValue::Bool(b)) => *b,
            // RSVP=YES appears in RFC examples (R8.13).
            Some(other) => ical::param_text(other)
                .is_some_and(|t| matches!(t.to_ascii_uppercase().as_str(), "TRUE" | "YES" | "1")),
            None => false,
        };
        let role = entry
            .parameter(&ICalendarParameterName::Role)
            .and_then(|v| match v {
                ICalendarParameterValue::Role(r) => Some(role_str(r).to_string()),
                other => ical::param_text(other).map(|t| t.to_ascii_uppercase()),
            });
        let cutype = entry
            .parameter(&ICalendarParameterName::Cutype)
            .and_then(|v| match v {
                ICalendarParameterValue::Cutype(c) => Some(cutype_str(c).to_string()),
                other => ical::param_text(other).map(|t| t.to_ascii_uppercase()),
            });
        Party {
            value,
            email,
            address,
            email_param,
            cn: ical::param(entry, &ICalendarParameterName::Cn),
            sent_by: ical::param(entry, &ICalendarParameterName::SentBy),
            partstat,
            rsvp,
            role,
            cutype,
            delegated_from: ical::params(entry, &ICalendarParameterName::DelegatedFrom),
            delegated_to: ical::params(entry, &ICalendarParameterName::DelegatedTo),
            member: ical::params(entry, &ICalendarParameterName::Member),
            index,
        }
    }

    /// The address to show and to check against contacts: the EMAIL
    /// parameter when there is one (iCloud), else the address itself.
    pub fn display_address(&self) -> Option<String> {
        self.email_param
            .as_ref()
            .map(|e| e.to_lowercase())
            .or_else(|| self.email.clone())
    }

    /// "Dana User <dana@example.org>" or just the address/value.
    pub fn display(&self) -> String {
        let addr = self.display_address().unwrap_or_else(|| self.value.clone());
        match &self.cn {
            Some(cn) if !cn.trim().is_empty() && !cn.trim().eq_ignore_ascii_case(&addr) => {
                format!("{cn} <{addr}>")
            }
            _ => addr,
        }
    }

    pub fn is_individual(&self) -> bool {
        matches!(self.cutype.as_deref(), None | Some("INDIVIDUAL"))
    }
}

fn role_str(r: &ICalendarParticipationRole) -> &'static str {
    match r {
        ICalendarParticipationRole::Chair => "CHAIR",
        ICalendarParticipationRole::ReqParticipant => "REQ-PARTICIPANT",
        ICalendarParticipationRole::OptParticipant => "OPT-PARTICIPANT",
        ICalendarParticipationRole::NonParticipant => "NON-PARTICIPANT",
        _ => "REQ-PARTICIPANT",
    }
}

fn cutype_str(c: &ICalendarUserTypes) -> &'static str {
    match c {
        ICalendarUserTypes::Individual => "INDIVIDUAL",
        ICalendarUserTypes::Group => "GROUP",
        ICalendarUserTypes::Resource => "RESOURCE",
        ICalendarUserTypes::Room => "ROOM",
        ICalendarUserTypes::Unknown => "UNKNOWN",
    }
}

/// One scheduling component (VEVENT/VTODO) of an object.
#[derive(Debug, Clone, Copy)]
pub struct Comp<'a> {
    pub id: u32,
    pub c: &'a ICalendarComponent,
}

impl<'a> Comp<'a> {
    pub fn uid(&self) -> Option<&'a str> {
        self.c.uid()
    }

    pub fn recurrence_id(&self) -> Option<CalDate> {
        ical::date(self.c, &ICalendarProperty::RecurrenceId)
    }

    /// RANGE=THISANDFUTURE on the RECURRENCE-ID (R4.6). calcard reads it as
    /// a boolean parameter.
    pub fn this_and_future(&self) -> bool {
        self.c
            .property(&ICalendarProperty::RecurrenceId)
            .and_then(|e| e.parameter(&ICalendarParameterName::Range))
            .is_some_and(|v| match v {
                ICalendarParameterValue::Bool(b) => *b,
                other => {
                    ical::param_text(other).is_some_and(|t| t.eq_ignore_ascii_case("THISANDFUTURE"))
                }
            })
    }

    pub fn range_param(&self) -> Option<String> {
        self.c
            .property(&ICalendarProperty::RecurrenceId)
            .and_then(|e| ical::param(e, &ICalendarParameterName::Range))
    }

    /// SEQUENCE; missing means 0 (R8.12), negative values count as 0. Large
    /// values are kept as they are (bug 7 of issue 7: a timestamp-like
    /// SEQUENCE:1407317367304 must be echoed and compared, not clamped).
    pub fn sequence(&self) -> i64 {
        let seq = ical::integer(self.c, &ICalendarProperty::Sequence)
            .or_else(|| ical::integer(self.c, &ical::other_prop("X-MICROSOFT-CDO-APPT-SEQUENCE")))
            .unwrap_or(0);
        seq.max(0)
    }

    pub fn dtstamp(&self) -> Option<CalDate> {
        ical::date(self.c, &ICalendarProperty::Dtstamp)
    }

    pub fn text(&self, prop: &ICalendarProperty) -> Option<String> {
        ical::text(self.c, prop)
    }

    pub fn summary(&self) -> Option<String> {
        self.text(&ICalendarProperty::Summary)
    }

    pub fn dtstart(&self) -> Option<CalDate> {
        ical::date(self.c, &ICalendarProperty::Dtstart)
    }

    pub fn dtend(&self) -> Option<CalDate> {
        ical::date(self.c, &ICalendarProperty::Dtend)
            .or_else(|| ical::date(self.c, &ICalendarProperty::Due))
    }

    pub fn duration(&self) -> Option<chrono::Duration> {
        self.c
            .property(&ICalendarProperty::Duration)?
            .values
            .first()
            .and_then(|v| match v {
                ICalendarValue::Duration(d) => d.to_time_delta(),
                _ => None,
            })
    }

    pub fn status(&self) -> Option<ICalendarStatus> {
        self.c.status().cloned()
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.status(), Some(ICalendarStatus::Cancelled))
    }

    pub fn organizer(&self) -> Option<Party> {
        self.c
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == ICalendarProperty::Organizer)
            .map(|(i, e)| Party::from_entry(e, i))
    }

    pub fn attendees(&self) -> Vec<Party> {
        self.c
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == ICalendarProperty::Attendee)
            .map(|(i, e)| Party::from_entry(e, i))
            .collect()
    }

    /// Whether `party` (an attendee of this component) carries an explicit
    /// PARTSTAT parameter, as opposed to the NEEDS-ACTION default.
    pub fn has_explicit_partstat(&self, party: &Party) -> bool {
        self.c
            .entries
            .get(party.index)
            .is_some_and(|e| e.parameter(&ICalendarParameterName::Partstat).is_some())
    }

    pub fn is_recurring(&self) -> bool {
        self.c.has_property(&ICalendarProperty::Rrule)
            || self.c.has_property(&ICalendarProperty::Rdate)
    }

    /// All EXDATE values.
    pub fn exdates(&self) -> Vec<CalDate> {
        self.c
            .properties(&ICalendarProperty::Exdate)
            .flat_map(CalDate::all_from_entry)
            .collect()
    }

    pub fn rdates(&self) -> Vec<CalDate> {
        self.c
            .properties(&ICalendarProperty::Rdate)
            .flat_map(CalDate::all_from_entry)
            .collect()
    }

    /// The parsed RRULE, if any.
    pub fn rrule(&self) -> Option<calcard::icalendar::ICalendarRecurrenceRule> {
        self.c
            .property(&ICalendarProperty::Rrule)
            .and_then(|e| e.values.first())
            .and_then(|v| match v {
                ICalendarValue::RecurrenceRule(r) => Some((**r).clone()),
                _ => None,
            })
    }

    pub fn rrule_text(&self) -> Option<String> {
        self.c
            .property(&ICalendarProperty::Rrule)
            .map(ical::written_value)
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InviteError {
    #[error("the calendar holds no event or task")]
    Empty,
    /// R2.7, T29.
    #[error("the calendar mixes UIDs ({first} and {other}); an iTIP {method} must carry one UID")]
    MixedUids {
        method: String,
        first: String,
        other: String,
    },
    #[error("a component has no UID")]
    MissingUid,
    /// R2.7: components disagree on ORGANIZER.
    #[error("components of UID {uid} name different organizers ({a} and {b})")]
    MixedOrganizers { uid: String, a: String, b: String },
    /// R2.7: two components with the same RECURRENCE-ID.
    #[error("UID {uid} has two components for RECURRENCE-ID {rid}")]
    DuplicateRecurrenceId { uid: String, rid: String },
    /// R7.2, T03.
    #[error("the MIME method={param} disagrees with METHOD:{body} in the calendar")]
    MethodMismatch { param: String, body: String },
    #[error("unknown METHOD {0:?}")]
    UnknownMethod(String),
}

impl InviteError {
    /// R7.2: the message is not acted on automatically, but the user may
    /// apply it with the calendar's own METHOD
    /// ([`Invite::from_calendar_own_method`]).
    pub fn can_use_own_method(&self) -> bool {
        matches!(self, InviteError::MethodMismatch { .. })
    }
}

/// One calendar object for one UID: an incoming iTIP message or a stored
/// copy from the calendar.
#[derive(Debug, Clone)]
pub struct Invite {
    pub cal: ICalendar,
    pub method: Option<Method>,
    pub uid: String,
    pub warnings: Vec<String>,
}

impl Invite {
    /// Like [`Invite::from_calendar`], but a MIME `method=` that disagrees
    /// with the calendar's METHOD is overridden by the calendar's own METHOD
    /// instead of refused (R7.2). Only for an explicit user request, after
    /// the mismatch was shown (Yahoo sends cancellations as `method=CANCEL`
    /// around `METHOD:REQUEST`, issue 7); the objects carry a warning saying
    /// so. Without a mismatch this is `from_calendar`.
    pub fn from_calendar_own_method(
        cal: ICalendar,
        method_param: Option<&str>,
    ) -> Result<Vec<Invite>, InviteError> {
        // The method is checked first, so the calendar is never cloned.
        match Invite::method_of(&cal, method_param) {
            Err(InviteError::MethodMismatch { param, body }) => {
                let mut v = Invite::from_calendar(cal, None)?;
                for inv in v.iter_mut() {
                    inv.warnings.push(format!(
                        "the MIME method={param} disagrees with METHOD:{body}; handled as METHOD:{body} at your request"
                    ));
                }
                Ok(v)
            }
            _ => Invite::from_calendar(cal, method_param),
        }
    }

    /// Split a parsed calendar into objects, one per UID.
    ///
    /// For iTIP methods other than PUBLISH a calendar must carry a single UID
    /// (R2.7); PUBLISH and stored data may carry several and are split.
    /// `method_param` is the MIME `method=` parameter, when there was one (R7.2).
    pub fn from_calendar(
        cal: ICalendar,
        method_param: Option<&str>,
    ) -> Result<Vec<Invite>, InviteError> {
        let (method, warnings) = Invite::method_of(&cal, method_param)?;
        let ids = ical::scheduling_ids(&cal);
        if ids.is_empty() {
            return Err(InviteError::Empty);
        }
        let mut uids: Vec<String> = Vec::new();
        for id in &ids {
            let uid = ical::component(&cal, *id)
                .and_then(|c| c.uid())
                .map(str::to_string)
                .ok_or(InviteError::MissingUid)?;
            if !uids.contains(&uid) {
                uids.push(uid);
            }
        }
        if uids.len() > 1 && matches!(method, Some(m) if m != Method::Publish) {
            return Err(InviteError::MixedUids {
                method: method.map(Method::as_str).unwrap_or("object").to_string(),
                first: uids.first().cloned().unwrap_or_default(),
                other: uids.get(1).cloned().unwrap_or_default(),
            });
        }
        // One UID (the usual case): the calendar is the object as it is.
        if uids.len() == 1 {
            let invite = Invite {
                cal,
                method,
                uid: uids.swap_remove(0),
                warnings,
            };
            invite.validate()?;
            return Ok(vec![invite]);
        }
        let mut out = Vec::new();
        // Several (PUBLISH, stored data): one object per UID, each with the
        // calendar's other components (time zones) and its own.
        for uid in uids {
            let part = ical::filter_root(&cal, |_, c| match c.component_type {
                ICalendarComponentType::VEvent
                | ICalendarComponentType::VTodo
                | ICalendarComponentType::VJournal => c.uid() == Some(uid.as_str()),
                _ => true,
            });
            let invite = Invite {
                cal: part,
                method,
                uid,
                warnings: warnings.clone(),
            };
            invite.validate()?;
            out.push(invite);
        }
        Ok(out)
    }

    /// The iTIP method of `cal`, checked against the MIME `method=`
    /// parameter (R7.2), with the warnings that go with it.
    fn method_of(
        cal: &ICalendar,
        method_param: Option<&str>,
    ) -> Result<(Option<Method>, Vec<String>), InviteError> {
        let mut warnings = Vec::new();
        let body_method = cal.components.first().and_then(|root| {
            root.entries
                .iter()
                .find(|e| e.name == ICalendarProperty::Method)
                .and_then(|e| e.values.first())
                .and_then(|v| match v {
                    ICalendarValue::Method(m) => Some(Ok(Method::from_calcard(m))),
                    ICalendarValue::Text(t) => Some(Method::parse(t).ok_or_else(|| t.clone())),
                    _ => None,
                })
        });
        let body_method = match body_method {
            Some(Ok(m)) => Some(m),
            Some(Err(t)) => return Err(InviteError::UnknownMethod(t)),
            None => None,
        };
        let param_method = method_param.map(|p| (p.to_string(), Method::parse(p)));
        let method = match (body_method, param_method) {
            (Some(b), Some((_, Some(p)))) if b == p => Some(b),
            (Some(b), Some((raw, _))) => {
                return Err(InviteError::MethodMismatch {
                    param: raw.to_ascii_uppercase(),
                    body: b.as_str().to_string(),
                });
            }
            (Some(b), None) => Some(b),
            (None, Some((_, Some(p)))) => {
                // Seen in the corpus (Thunderbird tests): method only in the
                // MIME header. Tolerated with a warning (R7.2 note).
                warnings.push(format!(
                    "the calendar has no METHOD; using method={} from the MIME header",
                    p.as_str()
                ));
                Some(p)
            }
            (None, Some((raw, None))) => return Err(InviteError::UnknownMethod(raw)),
            (None, None) => None,
        };
        Ok((method, warnings))
    }

    fn validate(&self) -> Result<(), InviteError> {
        let comps = self.components();
        let mut organizer: Option<String> = None;
        let mut rids: Vec<CalDate> = Vec::new();
        let mut masters = 0;
        for comp in &comps {
            if let Some(o) = comp.organizer() {
                let key = o.email.clone().unwrap_or(o.value.clone());
                match &organizer {
                    Some(prev) if *prev != key => {
                        return Err(InviteError::MixedOrganizers {
                            uid: self.uid.clone(),
                            a: prev.clone(),
                            b: key,
                        });
                    }
                    _ => organizer = Some(key),
                }
            }
            match comp.recurrence_id() {
                Some(rid) => {
                    if rids.contains(&rid) {
                        return Err(InviteError::DuplicateRecurrenceId {
                            uid: self.uid.clone(),
                            rid: rid.display_key(),
                        });
                    }
                    rids.push(rid);
                }
                None => masters += 1,
            }
        }
        if masters > 1 {
            return Err(InviteError::DuplicateRecurrenceId {
                uid: self.uid.clone(),
                rid: "(master)".to_string(),
            });
        }
        Ok(())
    }

    /// The scheduling components of this UID, in document order.
    pub fn components(&self) -> Vec<Comp<'_>> {
        ical::scheduling_ids(&self.cal)
            .into_iter()
            .filter_map(|id| {
                ical::component(&self.cal, id)
                    .filter(|c| c.uid() == Some(self.uid.as_str()))
                    .map(|c| Comp { id, c })
            })
            .collect()
    }

    /// The component without RECURRENCE-ID, if any (absent for naked
    /// recurrences, R2.5).
    pub fn master(&self) -> Option<Comp<'_>> {
        self.components()
            .into_iter()
            .find(|c| c.recurrence_id().is_none())
    }

    pub fn overrides(&self) -> Vec<Comp<'_>> {
        self.components()
            .into_iter()
            .filter(|c| c.recurrence_id().is_some())
            .collect()
    }

    /// The component to show: the master, else the first override.
    pub fn primary(&self) -> Option<Comp<'_>> {
        self.master()
            .or_else(|| self.components().into_iter().next())
    }

    /// The override for `rid` (compared as instants by the caller's key; here
    /// by local value and form, see `classify::same_instance` for R2.4).
    pub fn component_for(&self, rid: Option<&CalDate>) -> Option<Comp<'_>> {
        match rid {
            None => self.master(),
            Some(rid) => self
                .components()
                .into_iter()
                .find(|c| c.recurrence_id().as_ref() == Some(rid)),
        }
    }

    pub fn summary(&self) -> Option<String> {
        self.primary().and_then(|c| c.summary())
    }

    pub fn organizer(&self) -> Option<Party> {
        self.components().iter().find_map(|c| c.organizer())
    }

    /// The highest SEQUENCE among components (the object's revision).
    pub fn sequence(&self) -> i64 {
        self.components()
            .iter()
            .map(|c| c.sequence())
            .max()
            .unwrap_or(0)
    }

    pub fn is_naked(&self) -> bool {
        self.master().is_none()
    }

    pub fn component_type(&self) -> Option<ICalendarComponentType> {
        self.components()
            .first()
            .map(|c| c.c.component_type.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(s: &str) -> ICalendar {
        ical::parse(s).unwrap().calendars.remove(0)
    }

    fn wrap(method: &str, body: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{method}{body}END:VCALENDAR\r\n"
        )
    }

    const EV: &str = "BEGIN:VEVENT\r\nUID:u1\r\nSEQUENCE:2\r\nDTSTAMP:20250101T120000Z\r\nDTSTART:20250106T090000Z\r\nORGANIZER;CN=Org:MAILTO:Org@Example.org\r\nATTENDEE;PARTSTAT=ACCEPTED;RSVP=YES:mailto:me@example.org\r\nEND:VEVENT\r\n";

    #[test]
    fn reads_parties_leniently() {
        let inv = Invite::from_calendar(cal(&wrap("METHOD:REQUEST\r\n", EV)), Some("request"))
            .unwrap()
            .remove(0);
        assert_eq!(inv.method, Some(Method::Request));
        assert_eq!(inv.uid, "u1");
        assert_eq!(inv.sequence(), 2);
        let org = inv.organizer().unwrap();
        assert_eq!(org.email.as_deref(), Some("org@example.org"));
        let att = &inv.master().unwrap().attendees()[0];
        assert_eq!(att.partstat, PartStat::Accepted);
        assert!(att.rsvp, "RSVP=YES is read as TRUE (R8.13)");
    }

    /// T03: method parameter and METHOD disagree.
    #[test]
    fn t03_method_mismatch_is_invalid() {
        let err = Invite::from_calendar(cal(&wrap("METHOD:CANCEL\r\n", EV)), Some("REQUEST"))
            .unwrap_err();
        assert!(matches!(err, InviteError::MethodMismatch { .. }));
        assert!(err.can_use_own_method());
    }

    /// Issue 7: a method= mismatch is applied with the calendar's own
    /// METHOD only on request, and says so.
    #[test]
    fn method_mismatch_can_be_applied_with_the_calendars_own_method() {
        let inv =
            Invite::from_calendar_own_method(cal(&wrap("METHOD:REQUEST\r\n", EV)), Some("CANCEL"))
                .unwrap()
                .remove(0);
        assert_eq!(inv.method, Some(Method::Request));
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("method=CANCEL disagrees with METHOD:REQUEST")),
            "{:?}",
            inv.warnings
        );
        let same =
            Invite::from_calendar_own_method(cal(&wrap("METHOD:REQUEST\r\n", EV)), Some("REQUEST"))
                .unwrap()
                .remove(0);
        assert!(same.warnings.is_empty());
    }

    #[test]
    fn method_only_in_header_is_tolerated_with_warning() {
        let inv = Invite::from_calendar(cal(&wrap("", EV)), Some("REQUEST"))
            .unwrap()
            .remove(0);
        assert_eq!(inv.method, Some(Method::Request));
        assert!(!inv.warnings.is_empty());
    }

    /// T29: a REQUEST mixing UIDs is rejected.
    #[test]
    fn t29_mixed_uids_rejected() {
        let two = format!("{EV}{}", EV.replace("UID:u1", "UID:u2"));
        let err = Invite::from_calendar(cal(&wrap("METHOD:REQUEST\r\n", &two)), None).unwrap_err();
        assert!(matches!(err, InviteError::MixedUids { .. }));
        // PUBLISH may carry several UIDs and is split.
        let many = Invite::from_calendar(cal(&wrap("METHOD:PUBLISH\r\n", &two)), None).unwrap();
        assert_eq!(many.len(), 2);
        assert_eq!(many[1].components().len(), 1);
        assert_eq!(many[1].uid, "u2");
    }

    #[test]
    fn duplicate_recurrence_ids_rejected() {
        let o = EV.replace("DTSTART", "RECURRENCE-ID:20250113T090000Z\r\nDTSTART");
        let err = Invite::from_calendar(cal(&wrap("METHOD:REQUEST\r\n", &format!("{o}{o}"))), None)
            .unwrap_err();
        assert!(matches!(err, InviteError::DuplicateRecurrenceId { .. }));
    }

    #[test]
    fn naked_recurrence_has_no_master() {
        let o1 = EV.replace("DTSTART", "RECURRENCE-ID:20250113T090000Z\r\nDTSTART");
        let o2 = EV.replace("DTSTART", "RECURRENCE-ID:20250120T090000Z\r\nDTSTART");
        let inv =
            Invite::from_calendar(cal(&wrap("METHOD:REQUEST\r\n", &format!("{o1}{o2}"))), None)
                .unwrap()
                .remove(0);
        assert!(inv.is_naked());
        assert_eq!(inv.overrides().len(), 2);
        assert!(inv.primary().is_some());
    }
}
