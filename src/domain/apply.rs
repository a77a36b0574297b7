//! The new stored object after an incoming REQUEST/CANCEL or after my
//! answer (R2.2, R2.8, R3.1, R3.7, R3.10, R4.3–R4.6, R6.7, R8.10).

use super::classify::{
    self, CancelScope, X_ANSWERED_APART, X_PREVIOUS_PARTSTAT, X_RECEIVED_DTSTAMP,
    X_RECEIVED_SEQUENCE,
};
use super::diff::{self, Clock};
use super::ical::{self, CalDate, CalendarBuilder};
use super::identity::{Identity, MeMatch};
use super::invite::{Comp, Invite, PartStat};
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameter,
    ICalendarProperty, ICalendarScheduleAgentValue, ICalendarStatus, ICalendarTransparency,
    ICalendarValue,
};
use chrono::{Duration, NaiveDateTime};
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ApplyError {
    #[error("event {0} has no master component to derive occurrence {1} from")]
    NoMaster(String, String),
    #[error("{0}")]
    Refused(String),
}

/// Marks a TRANSP:TRANSPARENT that rsvp set because I declined, so a later
/// answer takes it back (and never one the organizer set).
pub const X_DECLINED_TRANSP: &str = "X-RSVP-DECLINED-TRANSP";

/// Properties the attendee owns and that survive organizer updates (R2.8).
const LOCAL_PROPS: &[&str] = &[
    "TRANSP",
    "CATEGORIES",
    "COLOR",
    X_PREVIOUS_PARTSTAT,
    X_DECLINED_TRANSP,
];

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// R6.7 (a): mark ORGANIZER with SCHEDULE-AGENT=CLIENT so a CalDAV server
    /// behind vdirsyncer does not send a second reply.
    pub schedule_agent_client: bool,
    pub clock: Clock,
    /// `[calendar] declined = "transparent"`: a declined event is marked
    /// TRANSP:TRANSPARENT so calendars do not show it busy.
    pub declined_transparent: bool,
}

fn is_local(e: &ICalendarEntry) -> bool {
    LOCAL_PROPS
        .iter()
        .any(|p| e.name.as_str().eq_ignore_ascii_case(p))
}

fn root_entries(source: &ICalendar) -> Vec<ICalendarEntry> {
    let mut entries: Vec<ICalendarEntry> = source
        .components
        .first()
        .map(|r| r.entries.clone())
        .unwrap_or_default();
    // R8.10: a stored object has no METHOD.
    entries.retain(|e| e.name != ICalendarProperty::Method);
    if !entries.iter().any(|e| e.name == ICalendarProperty::Version) {
        entries.insert(
            0,
            ICalendarEntry::new(ICalendarProperty::Version).with_value("2.0"),
        );
    }
    if !entries.iter().any(|e| e.name == ICalendarProperty::Prodid) {
        entries.insert(
            0,
            ICalendarEntry::new(ICalendarProperty::Prodid).with_value(super::reply::PRODID),
        );
    }
    entries
}

/// Copy the VTIMEZONEs of `cals` (first definition of each TZID wins).
fn add_timezones(b: &mut CalendarBuilder, cals: &[&ICalendar]) {
    let mut seen: Vec<String> = Vec::new();
    for cal in cals {
        for id in ical::children(cal, 0) {
            let Some(c) = ical::component(cal, id) else {
                continue;
            };
            if c.component_type != ICalendarComponentType::VTimezone {
                continue;
            }
            let tzid = ical::text(c, &ICalendarProperty::Tzid).unwrap_or_default();
            if seen.contains(&tzid) {
                continue;
            }
            seen.push(tzid);
            b.add_from(cal, id, |c| c);
        }
    }
}

/// Store the organizer's version of a component: received SEQUENCE and
/// DTSTAMP recorded (R3.10), SCHEDULE-AGENT=CLIENT (R6.7), foreign VALARMs
/// dropped (T60), my PARTSTAT decided by `my_partstat`.
fn prepare_component(
    incoming: Comp<'_>,
    me: &Identity,
    my_partstat: Option<(PartStat, Option<PartStat>)>,
    local: Option<Comp<'_>>,
    opts: &Options,
) -> ICalendarComponent {
    let mut c = incoming.c.clone();
    c.component_ids.clear();
    let seq = incoming.sequence();
    let stamp = incoming.dtstamp();
    c.entries.retain(|e| {
        !matches!(&e.name, ICalendarProperty::Other(n) if n == X_RECEIVED_SEQUENCE || n == X_RECEIVED_DTSTAMP || n == X_PREVIOUS_PARTSTAT)
    });
    // The sender's personal data is not the attendee's (Cyrus
    // imip_strip_personal_data: COLOR and colour-like CATEGORIES), and a
    // parser's error marker is not data (imip_strip_x_lic_error). The
    // attendee's own values come back from the stored copy below (R2.8).
    c.entries.retain(|e| {
        let name = e.name.as_str();
        !(name.eq_ignore_ascii_case("COLOR")
            || name.eq_ignore_ascii_case("X-LIC-ERROR")
            || (e.name == ICalendarProperty::Categories
                && e.values
                    .iter()
                    .all(|v| ical::value_text(v).is_some_and(|t| is_colour(&t)))))
    });
    for e in c.entries.iter_mut() {
        if e.name == ICalendarProperty::Organizer {
            super::reply::strip_schedule_params(e);
            if opts.schedule_agent_client {
                e.add_param(ICalendarParameter::schedule_agent(
                    ICalendarScheduleAgentValue::Client,
                ));
            }
        }
        if e.name == ICalendarProperty::Attendee {
            let party = super::invite::Party::from_entry(e, 0);
            if me.party_is_me(&party)
                && let Some((ps, _)) = my_partstat
            {
                ical::set_param(e, ICalendarParameter::partstat(ps.to_calcard()));
            }
        }
    }
    if let Some((_, Some(prev))) = my_partstat {
        c.entries.push(
            ICalendarEntry::new(ical::other_prop(X_PREVIOUS_PARTSTAT)).with_value(prev.as_str()),
        );
    }
    // Local data from the stored copy (R2.8).
    if let Some(local) = local {
        for e in &local.c.entries {
            if is_local(e) && e.name.as_str() != X_PREVIOUS_PARTSTAT {
                c.entries.retain(|x| x.name != e.name);
                c.entries.push(e.clone());
            }
        }
    }
    c.entries
        .push(ICalendarEntry::new(ical::other_prop(X_RECEIVED_SEQUENCE)).with_value(seq));
    if let Some(stamp) = stamp {
        c.entries
            .push(stamp.to_text_entry(ical::other_prop(X_RECEIVED_DTSTAMP)));
    }
    c
}

/// A CATEGORIES value that is a colour (`#00f`, `#0000FF`, a CSS name).
fn is_colour(value: &str) -> bool {
    let v = value.trim();
    if let Some(hex) = v.strip_prefix('#') {
        return matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    const NAMES: &[&str] = &[
        "black", "white", "red", "green", "blue", "yellow", "orange", "purple", "pink", "brown",
        "gray", "grey", "cyan", "magenta", "violet", "teal", "navy", "maroon", "olive", "lime",
        "aqua", "fuchsia", "silver",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(v))
}

/// My current PARTSTAT in a stored component.
fn stored_partstat(c: Comp<'_>, me: &Identity) -> Option<PartStat> {
    c.attendees()
        .into_iter()
        .find(|a| me.party_is_me(a))
        .map(|a| a.partstat)
}

/// Merge an incoming REQUEST (or PUBLISH) into the stored copy, or make the
/// first stored copy of a new invitation (R2.8, R3.1, R3.5, R3.7).
pub fn merge_request(
    incoming: &Invite,
    stored: Option<&Invite>,
    me: &Identity,
    opts: &Options,
) -> ICalendar {
    let mut b = CalendarBuilder::new(root_entries(
        stored.map(|s| &s.cal).unwrap_or(&incoming.cal),
    ));
    let mut tz_sources: Vec<&ICalendar> = vec![&incoming.cal];
    if let Some(s) = stored {
        tz_sources.push(&s.cal);
    }
    add_timezones(&mut b, &tz_sources);

    // Whether anything at all changed: the same for every component, so
    // computed at most once (a full diff pairs every override; issue 8
    // item 11).
    let any_change = std::cell::OnceCell::new();
    let changed_at_all = || {
        *any_change.get_or_init(|| {
            stored.is_some_and(|s| !diff::diff(s, incoming, me, &opts.clock).is_empty())
        })
    };
    let partstat_for =
        |inc: Comp<'_>, local: Option<Comp<'_>>| -> Option<(PartStat, Option<PartStat>)> {
            let Some(local) = local else {
                // R3.1: a new invitation waits for the user.
                return Some((PartStat::NeedsAction, None));
            };
            let current = stored_partstat(local, me).unwrap_or(PartStat::NeedsAction);
            // R3.7/R3.8: a significant change asks again; the previous answer
            // is kept so the UI can say "previously accepted".
            let raised = inc.sequence() > classify::received_revision(local).0;
            let significant = stored.is_some_and(|s| {
                if inc.recurrence_id().is_some() && local.recurrence_id().is_none() {
                    // A new override: judged against the occurrence the
                    // stored master gives, not its first start (R3.8).
                    let changes = diff::diff(s, &instance_only(incoming, inc), me, &opts.clock);
                    return diff::needs_new_answer(&changes, raised);
                }
                let single_old = single(s, local);
                let single_new = single(incoming, inc);
                diff::needs_new_answer(
                    &diff::diff(&single_old, &single_new, me, &opts.clock),
                    raised,
                )
            });
            // Issue 7: a raised SEQUENCE that sets me back to NEEDS-ACTION
            // with RSVP=TRUE asks again (CalendarServer attendee_needs_action).
            let reasked = raised
                && inc
                    .attendees()
                    .iter()
                    .any(|a| me.party_is_me(a)
                        && a.partstat == PartStat::NeedsAction
                        && inc.has_explicit_partstat(a)
                        && a.rsvp)
                // A raised SEQUENCE with no change at all keeps the answer (T26).
                && changed_at_all();
            if (significant || reasked) && current != PartStat::NeedsAction {
                Some((PartStat::NeedsAction, Some(current)))
            } else {
                let prev = local
                    .text(&ical::other_prop(X_PREVIOUS_PARTSTAT))
                    .map(|p| PartStat::parse(&p));
                Some((current, prev))
            }
        };

    let full = incoming.master().is_some();
    // The stored overrides indexed once: pairing each incoming component is
    // a lookup, not a scan (issue 8 item 11).
    let stored_index = stored.map(|s| classify::StoredOverrides::new(s, &opts.clock));
    let local_for = |inc: Comp<'_>| {
        stored_index
            .as_ref()
            .and_then(|ix| ix.counterpart(inc, incoming, &opts.clock))
    };
    let alarm_source =
        |local: Option<Comp<'_>>| local.map(|l| l.c.component_ids.clone()).unwrap_or_default();

    if full || stored.is_none() {
        for inc in incoming.components() {
            let local = local_for(inc);
            // A new override inherits its local data from the stored master.
            let exact_local =
                local.filter(|l| l.recurrence_id().is_some() == inc.recurrence_id().is_some());
            let comp = prepare_component(inc, me, partstat_for(inc, local), local, opts);
            let id = b.add_component(comp);
            if let (Some(id), Some(s)) = (id, stored) {
                for child in alarm_source(exact_local.or(local)) {
                    b.add_child_tree(id, &s.cal, child);
                }
            }
        }
    } else if let Some(s) = stored {
        // R2.8: overrides only: update or add those instances, keep the rest.
        let incoming_over = incoming.components();
        for sc in s.components() {
            let replaced =
                incoming_over
                    .iter()
                    .find(|ic| match (ic.recurrence_id(), sc.recurrence_id()) {
                        (Some(a), Some(b)) => {
                            diff::same_instance(&a, &incoming.cal, &b, &s.cal, &opts.clock)
                        }
                        _ => false,
                    });
            if replaced.is_none() {
                // An override the organizer sends for an occurrence the
                // stored master excludes brings it back: its EXDATE goes
                // (CalendarServer processRequest_overrideOfEXDATE).
                let rids: Vec<CalDate> = incoming_over
                    .iter()
                    .filter_map(|c| c.recurrence_id())
                    .collect();
                b.add_from(&s.cal, sc.id, |c| {
                    drop_exdates(c, &s.cal, &rids, &incoming.cal, &opts.clock)
                });
            }
        }
        for inc in incoming_over {
            let local = local_for(inc);
            let comp = prepare_component(inc, me, partstat_for(inc, local), local, opts);
            let id = b.add_component(comp);
            if let Some(id) = id {
                for child in alarm_source(local) {
                    b.add_child_tree(id, &s.cal, child);
                }
            }
        }
    }
    let cal = b.build();
    match stored {
        Some(s) if full => keep_answered_apart(cal, s, me, opts),
        _ => cal,
    }
}

/// After a full update: my answers to single occurrences (overrides rsvp
/// made, [`X_ANSWERED_APART`]) that the update does not carry are made
/// again from the new master, as long as the occurrence still exists and
/// the series was not rescheduled (then every answer is asked again).
fn keep_answered_apart(
    mut cal: ICalendar,
    stored: &Invite,
    me: &Identity,
    opts: &Options,
) -> ICalendar {
    let apart: Vec<Comp<'_>> = stored
        .overrides()
        .into_iter()
        .filter(|o| o.text(&ical::other_prop(X_ANSWERED_APART)).is_some())
        .collect();
    if apart.is_empty() {
        return cal;
    }
    let Some(merged) = Invite::from_calendar(cal.clone(), None)
        .ok()
        .and_then(|v| v.into_iter().find(|i| i.uid == stored.uid))
    else {
        return cal;
    };
    let Some(master) = merged.master() else {
        return cal;
    };
    // Rescheduled: the master asks again (its previous answer is kept).
    if master
        .text(&ical::other_prop(X_PREVIOUS_PARTSTAT))
        .is_some()
    {
        return cal;
    }
    let mut add: Vec<ICalendarComponent> = Vec::new();
    for o in apart {
        let (Some(rid), Some(mine)) = (o.recurrence_id(), stored_partstat(o, me)) else {
            continue;
        };
        let carried = merged.overrides().iter().any(|m| {
            m.recurrence_id().is_some_and(|r| {
                diff::same_instance(&r, &merged.cal, &rid, &stored.cal, &opts.clock)
            })
        });
        if carried || !classify::is_instance_of(&merged, &rid, &stored.cal, &opts.clock) {
            continue;
        }
        let mut comp = master_to_recurrence(master, &rid);
        for e in comp.entries.iter_mut() {
            if e.name == ICalendarProperty::Attendee
                && me.party_is_me(&super::invite::Party::from_entry(e, 0))
            {
                ical::set_param(e, ICalendarParameter::partstat(mine.to_calcard()));
            }
        }
        comp.entries.retain(
            |e| !matches!(&e.name, ICalendarProperty::Other(n) if n == X_PREVIOUS_PARTSTAT),
        );
        ical::set_property(
            &mut comp,
            ICalendarEntry::new(ical::other_prop(X_ANSWERED_APART)).with_value("TRUE"),
        );
        add.push(comp);
    }
    for comp in add {
        let Ok(id) = u32::try_from(cal.components.len()) else {
            break;
        };
        cal.components.push(comp);
        if let Some(root) = cal.components.first_mut() {
            root.component_ids.push(id);
        }
    }
    cal
}

/// `comp` without the EXDATE values that denote one of `rids` (R2.4).
fn drop_exdates(
    mut comp: ICalendarComponent,
    cal: &ICalendar,
    rids: &[CalDate],
    rid_cal: &ICalendar,
    clock: &Clock,
) -> ICalendarComponent {
    if rids.is_empty() || comp.property(&ICalendarProperty::RecurrenceId).is_some() {
        return comp;
    }
    for e in comp.entries.iter_mut() {
        if e.name != ICalendarProperty::Exdate {
            continue;
        }
        let whole = e.clone();
        e.values.retain(|v| {
            let mut one = whole.clone();
            one.values = vec![v.clone()];
            CalDate::from_entry(&one).is_none_or(|x| {
                !rids
                    .iter()
                    .any(|r| diff::same_instance(&x, cal, r, rid_cal, clock))
            })
        });
    }
    comp.entries
        .retain(|e| e.name != ICalendarProperty::Exdate || !e.values.is_empty());
    comp
}

/// A one-component object for comparing a single component pair.
fn single(inv: &Invite, c: Comp<'_>) -> Invite {
    let mut b = CalendarBuilder::new(root_entries(&inv.cal));
    add_timezones(&mut b, &[&inv.cal]);
    let mut comp = c.c.clone();
    comp.entries
        .retain(|e| e.name != ICalendarProperty::RecurrenceId);
    b.add_component(comp);
    Invite {
        cal: b.build(),
        method: None,
        uid: inv.uid.clone(),
        warnings: Vec::new(),
    }
}

/// An object holding only the override `c` of `inv` (RECURRENCE-ID kept).
fn instance_only(inv: &Invite, c: Comp<'_>) -> Invite {
    let mut b = CalendarBuilder::new(root_entries(&inv.cal));
    add_timezones(&mut b, &[&inv.cal]);
    b.add_component(c.c.clone());
    Invite {
        cal: b.build(),
        method: None,
        uid: inv.uid.clone(),
        warnings: Vec::new(),
    }
}

/// Set my PARTSTAT in the stored object for the answered occurrences
/// (`None` = the master). An occurrence without an override gets one, made
/// from the master (R2.2); the master's PARTSTAT is then left alone.
pub fn apply_answer(
    stored: &Invite,
    me: &MeMatch,
    identity: &Identity,
    partstat: PartStat,
    targets: &[Option<CalDate>],
    opts: &Options,
) -> Result<ICalendar, ApplyError> {
    let mut cal = stored.cal.clone();
    let set_in = |comp: &mut ICalendarComponent| {
        comp.entries.retain(
            |e| !matches!(&e.name, ICalendarProperty::Other(n) if n == X_PREVIOUS_PARTSTAT),
        );
        let mut found = false;
        for e in comp.entries.iter_mut() {
            if e.name == ICalendarProperty::Attendee {
                let p = super::invite::Party::from_entry(e, 0);
                if identity.party_is_me(&p) || p.email == me.party.email {
                    ical::set_param(e, ICalendarParameter::partstat(partstat.to_calcard()));
                    found = true;
                }
            }
        }
        mark_transparency(comp, partstat, opts.declined_transparent);
        if !found {
            // A group answer (T16) or my address missing: add my own entry.
            let mut e = ICalendarEntry::new(ICalendarProperty::Attendee).with_value(
                calcard::icalendar::Uri::Location(format!("mailto:{}", me.address)),
            );
            e.add_param(ICalendarParameter::partstat(partstat.to_calcard()));
            if let Some(g) = &me.via_group {
                e.add_param(ICalendarParameter::member(
                    calcard::icalendar::Uri::Location(g.clone()),
                ));
            }
            comp.entries.push(e);
        }
    };
    let all_series = targets.iter().any(|t| t.is_none());
    let mut new_overrides: Vec<ICalendarComponent> = Vec::new();
    for target in targets {
        match target {
            None => {
                // The series: the master and every override that lists me
                // (R2.1). An override without me stays without me (bug 1 of
                // issue 7), and one I answered apart from the series keeps
                // that answer (issue 7 item 4).
                for c in stored.components() {
                    let listed =
                        me.listed_in(c) || c.attendees().iter().any(|a| identity.party_is_me(a));
                    let apart =
                        c.recurrence_id().is_some() && super::reply::answered_apart(stored, c, me);
                    if listed
                        && !apart
                        && let Some(comp) = cal.components.get_mut(c.id as usize)
                    {
                        set_in(comp);
                    }
                }
            }
            Some(rid) => {
                let existing = stored.overrides().into_iter().find(|o| {
                    o.recurrence_id().is_some_and(|r| {
                        diff::same_instance(&r, &stored.cal, rid, &stored.cal, &opts.clock)
                    })
                });
                match existing {
                    Some(o) if !me.listed_in(o) && stored.master().is_some() => {
                        return Err(ApplyError::Refused(format!(
                            "event {}: you are not invited to the occurrence {}",
                            stored.uid,
                            rid.display_key()
                        )));
                    }
                    Some(o) => {
                        if let Some(comp) = cal.components.get_mut(o.id as usize) {
                            set_in(comp);
                        }
                    }
                    None if !all_series => {
                        let master = stored.master().ok_or_else(|| {
                            ApplyError::NoMaster(stored.uid.clone(), rid.display_key())
                        })?;
                        let mut comp = master_to_recurrence(master, rid);
                        set_in(&mut comp);
                        ical::set_property(
                            &mut comp,
                            ICalendarEntry::new(ical::other_prop(X_ANSWERED_APART))
                                .with_value("TRUE"),
                        );
                        new_overrides.push(comp);
                    }
                    None => {}
                }
            }
        }
    }
    for comp in new_overrides {
        let id = u32::try_from(cal.components.len())
            .map_err(|_| ApplyError::Refused("calendar too large".into()))?;
        cal.components.push(comp);
        if let Some(root) = cal.components.first_mut() {
            root.component_ids.push(id);
        }
    }
    if opts.schedule_agent_client {
        // R6.7 (a): this tool mails the answer, so a server that syncs the
        // calendar must not send one too; also for an event that was in the
        // calendar before the invitation (same value on every ORGANIZER).
        for comp in cal.components.iter_mut() {
            for e in comp.entries.iter_mut() {
                if e.name == ICalendarProperty::Organizer {
                    super::reply::strip_schedule_params(e);
                    e.add_param(ICalendarParameter::schedule_agent(
                        ICalendarScheduleAgentValue::Client,
                    ));
                }
            }
        }
    }
    Ok(cal)
}

/// A declined event does not look busy (`declined_transparent`); another
/// answer takes back a TRANSPARENT that rsvp set, never the organizer's.
fn mark_transparency(comp: &mut ICalendarComponent, partstat: PartStat, transparent: bool) {
    let marked = comp
        .entries
        .iter()
        .any(|e| matches!(&e.name, ICalendarProperty::Other(n) if n == X_DECLINED_TRANSP));
    if partstat == PartStat::Declined && transparent {
        let already = comp.entries.iter().any(|e| {
            e.name == ICalendarProperty::Transp
                && ical::entry_text(e).is_some_and(|v| v.eq_ignore_ascii_case("TRANSPARENT"))
        });
        if !already {
            ical::set_property(
                comp,
                ICalendarEntry::new(ICalendarProperty::Transp)
                    .with_value(ICalendarTransparency::Transparent),
            );
            ical::set_property(
                comp,
                ICalendarEntry::new(ical::other_prop(X_DECLINED_TRANSP)).with_value("TRUE"),
            );
        }
    } else if marked && partstat != PartStat::Declined {
        comp.entries.retain(|e| {
            e.name != ICalendarProperty::Transp
                && !matches!(&e.name, ICalendarProperty::Other(n) if n == X_DECLINED_TRANSP)
        });
    }
}

/// R2.2 (Cyrus `master_to_recurrence`): an override for one occurrence,
/// copied from the master without RRULE/RDATE/EXDATE, with that
/// occurrence's DTSTART/DTEND. Alarms are not copied (local data stays on
/// the master).
fn master_to_recurrence(master: Comp<'_>, rid: &CalDate) -> ICalendarComponent {
    let mut c = master.c.clone();
    c.component_ids.clear();
    let start = master.dtstart();
    let form = start
        .as_ref()
        .map(|s| CalDate::with_form_of(rid.naive(), s))
        .unwrap_or(rid.clone());
    let shift: Duration = start
        .as_ref()
        .map(|s| rid.naive() - s.naive())
        .unwrap_or_default();
    let mut entries = Vec::new();
    for e in &c.entries {
        match e.name {
            ICalendarProperty::Rrule
            | ICalendarProperty::Rdate
            | ICalendarProperty::Exdate
            | ICalendarProperty::Exrule => {}
            ICalendarProperty::Dtstart => entries.push(form.to_entry(ICalendarProperty::Dtstart)),
            ICalendarProperty::Dtend | ICalendarProperty::Due => {
                if let Some(end) = CalDate::from_entry(e) {
                    entries.push(
                        CalDate::with_form_of(end.naive() + shift, &end).to_entry(e.name.clone()),
                    );
                }
            }
            _ => entries.push(e.clone()),
        }
    }
    // RECURRENCE-ID right after UID for readability.
    let pos = entries
        .iter()
        .position(|e| e.name == ICalendarProperty::Uid)
        .map(|p| p + 1)
        .unwrap_or(0);
    entries.insert(
        pos.min(entries.len()),
        form.to_entry(ICalendarProperty::RecurrenceId),
    );
    c.entries = entries;
    c
}

/// Apply a CANCEL (R4.3–R4.6): whole events are kept, marked CANCELLED
/// (a tombstone, R4.3); single occurrences get an EXDATE in DTSTART's form
/// or their override cancelled; THISANDFUTURE ends the RRULE with UNTIL.
pub fn apply_cancel(
    stored: &Invite,
    cancel: &Invite,
    scope: CancelScope,
    uninvited: bool,
    opts: &Options,
) -> Result<ICalendar, ApplyError> {
    let mut cal = stored.cal.clone();
    let cancel_seq = cancel.sequence();
    let cancel_stamp = cancel.primary().and_then(|c| c.dtstamp());
    // A cancelled event rings no more: its alarms go (khal showed
    // "CANCELLED … ⏰").
    let alarms: Vec<u32> = cal
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| c.component_type == ICalendarComponentType::VAlarm)
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    let mark = |comp: &mut ICalendarComponent| {
        comp.component_ids.retain(|id| !alarms.contains(id));
        ical::set_property(
            comp,
            ICalendarEntry::new(ICalendarProperty::Status).with_value(ICalendarStatus::Cancelled),
        );
        ical::set_property(
            comp,
            ICalendarEntry::new(ical::other_prop(X_RECEIVED_SEQUENCE)).with_value(cancel_seq),
        );
        if let Some(s) = &cancel_stamp {
            ical::set_property(comp, s.to_text_entry(ical::other_prop(X_RECEIVED_DTSTAMP)));
        }
    };
    let whole = matches!(scope, CancelScope::Whole)
        || uninvited
            && cancel
                .components()
                .iter()
                .all(|c| c.recurrence_id().is_none());
    if whole {
        for c in stored.components() {
            if let Some(comp) = cal.components.get_mut(c.id as usize) {
                mark(comp);
            }
        }
        return Ok(cal);
    }
    for cc in cancel.components() {
        let Some(rid) = cc.recurrence_id() else {
            continue;
        };
        let this_and_future = cc.this_and_future();
        // Overrides at (or, for THISANDFUTURE, after) the RECURRENCE-ID,
        // judged by their original RECURRENCE-ID (R4.6).
        let rid_at = opts.clock.instant(&rid, &cancel.cal);
        for o in stored.overrides() {
            let Some(orid) = o.recurrence_id() else {
                continue;
            };
            let same = diff::same_instance(&orid, &stored.cal, &rid, &cancel.cal, &opts.clock);
            let later = this_and_future
                && match (opts.clock.instant(&orid, &stored.cal), rid_at) {
                    (Some(a), Some(b)) => a >= b,
                    _ => orid.naive() >= rid.naive(),
                };
            if (same || later)
                && let Some(comp) = cal.components.get_mut(o.id as usize)
            {
                mark(comp);
            }
        }
        let Some(master) = stored.master() else {
            continue;
        };
        let Some(dtstart) = master.dtstart() else {
            continue;
        };
        let local_rid = local_in_form(&rid, &cancel.cal, &dtstart, &stored.cal, &opts.clock);
        let Some(mcomp) = cal.components.get_mut(master.id as usize) else {
            continue;
        };
        if this_and_future {
            let first = diff::same_instance(&dtstart, &stored.cal, &rid, &cancel.cal, &opts.clock);
            if first {
                mark(mcomp);
                continue;
            }
            end_rrule_before(mcomp, &dtstart, local_rid, &stored.cal, &opts.clock);
            ical::set_property(
                mcomp,
                ICalendarEntry::new(ical::other_prop(X_RECEIVED_SEQUENCE)).with_value(cancel_seq),
            );
        } else {
            let has_override = stored.overrides().iter().any(|o| {
                o.recurrence_id().is_some_and(|r| {
                    diff::same_instance(&r, &stored.cal, &rid, &cancel.cal, &opts.clock)
                })
            });
            if !has_override {
                // R4.5: EXDATE in the form of DTSTART (T43).
                let ex = CalDate::with_form_of(local_rid, &dtstart);
                let already = master
                    .exdates()
                    .iter()
                    .any(|x| diff::same_instance(x, &stored.cal, &ex, &stored.cal, &opts.clock));
                if !already {
                    mcomp.entries.push(ex.to_entry(ICalendarProperty::Exdate));
                }
            }
            ical::set_property(
                mcomp,
                ICalendarEntry::new(ical::other_prop(X_RECEIVED_SEQUENCE)).with_value(cancel_seq),
            );
        }
    }
    Ok(cal)
}

/// The wall-clock time of `rid` in the form of `template` (DTSTART).
fn local_in_form(
    rid: &CalDate,
    rid_cal: &ICalendar,
    template: &CalDate,
    cal: &ICalendar,
    clock: &Clock,
) -> NaiveDateTime {
    match (template, clock.instant(rid, rid_cal)) {
        (CalDate::Date(_), _) | (CalDate::Floating(_), _) => rid.naive(),
        (CalDate::Utc(_), Some(t)) => t.naive_utc(),
        (CalDate::Zoned { tzid, .. }, Some(t)) => match super::tz::resolve_tzid(tzid, cal) {
            Some(tz) => t.with_timezone(&tz).naive_local(),
            None => rid.naive(),
        },
        _ => rid.naive(),
    }
}

/// R4.6: UNTIL just before the cancelled occurrence; COUNT removed; RDATEs
/// from that point removed.
fn end_rrule_before(
    comp: &mut ICalendarComponent,
    dtstart: &CalDate,
    local_rid: NaiveDateTime,
    cal: &ICalendar,
    clock: &Clock,
) {
    let until = match dtstart {
        CalDate::Date(_) => CalDate::Date(local_rid.date() - Duration::days(1)),
        CalDate::Floating(_) => CalDate::Floating(local_rid - Duration::seconds(1)),
        _ => {
            let probe = CalDate::with_form_of(local_rid, dtstart);
            match clock.instant(&probe, cal) {
                Some(t) => CalDate::Utc((t - Duration::seconds(1)).naive_utc()),
                None => CalDate::Utc(local_rid - Duration::seconds(1)),
            }
        }
    };
    for e in comp.entries.iter_mut() {
        if e.name == ICalendarProperty::Rrule
            && let Some(ICalendarValue::RecurrenceRule(rule)) = e.values.first_mut()
        {
            rule.count = None;
            rule.until = Some(until.to_partial());
        }
    }
    let cutoff = local_rid;
    comp.entries.retain(|e| {
        if e.name != ICalendarProperty::Rdate {
            return true;
        }
        CalDate::all_from_entry(e)
            .iter()
            .all(|d| d.naive() < cutoff)
    });
}

#[cfg(test)]
mod tests;
