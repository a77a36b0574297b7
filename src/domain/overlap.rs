//! Occurrences of an event as instants, and overlaps between events, with
//! recurrence expansion capped as R9.7 says: at most
//! [`crate::domain::classify::MAX_EXPANSION`] instances, kept only inside a time window, and
//! rules whose BY lists multiply into huge sets per period are not expanded.
//! Also what the calendar index keeps of one stored object
//! ([`index_stored`]): its UIDs and busy occurrences, read by [`plain`]
//! when the object is one plain event.

pub mod plain;

use super::classify::MAX_EXPANSION;
use super::extract;
use super::ical::{self, CalDate};
use super::identity::Identity;
use super::invite::{Comp, Invite, PartStat};
use super::sanitize::terminal_line;
use super::tz;
use calcard::icalendar::{
    ICalendarComponentType, ICalendarFrequency, ICalendarProperty, ICalendarRecurrenceRule,
    ICalendarTransparency, ICalendarValue, dates::TimeOrDelta,
};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// Times per period a rule may generate (BYHOUR × BYMINUTE × BYSECOND)
/// before it counts as a bomb and is not expanded (R9.7).
pub const MAX_TIMES_PER_PERIOD: usize = 1440;
/// Total length of a rule's BY lists before it is not expanded (R9.7).
pub const MAX_BY_VALUES: usize = 400;

/// One occurrence of a component, as instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The component (index in the calendar) that describes this occurrence:
    /// the master, or the override that replaces it.
    pub comp_id: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The occurrences of one object inside a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Occurrences that intersect the window, sorted by start.
    pub occurrences: Vec<Occurrence>,
    /// The end of the last occurrence, when it is known: `None` when a rule
    /// has no end (no COUNT, no UNTIL), was cut by the cap or not expanded.
    pub last_end: Option<DateTime<Utc>>,
    /// The cap on instances was reached or a rule was refused (R9.7, T58).
    pub capped: bool,
    /// Why the object is suspicious (SECONDLY/MINUTELY, huge BY lists), if it is.
    pub suspicious: Option<String>,
}

/// Expand `inv` (components of its UID for which `keep` holds) into
/// occurrences inside `[from, to)`. Floating times and dates are read in
/// `local`; TZIDs resolve as everywhere else (`tz`).
pub fn expand(
    inv: &Invite,
    local: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    keep: &dyn Fn(Comp<'_>) -> bool,
) -> Expansion {
    let comps: Vec<Comp<'_>> = inv
        .components()
        .into_iter()
        .filter(|c| c.c.component_type == ICalendarComponentType::VEvent)
        .collect();
    let mut out = Expansion::default();
    let mut unbounded = false;
    let mut refused = None;
    for c in &comps {
        for rule in rules(*c) {
            if rule.count.is_none() && rule.until.is_none() {
                unbounded = true;
            }
            if let Some(why) = rule_problem(&rule) {
                refused = Some(why);
            } else if matches!(
                rule.freq,
                ICalendarFrequency::Secondly | ICalendarFrequency::Minutely
            ) {
                out.suspicious = Some(
                    "the event repeats every second or minute (suspicious, expansion capped)"
                        .into(),
                );
            }
        }
    }
    let mut all: Vec<Occurrence> = Vec::new();
    if let Some(why) = refused {
        // Not expanded at all: each component counts once, at its own start.
        out.capped = true;
        out.suspicious = Some(why);
        for c in &comps {
            if let Some(o) = single(inv, *c, local) {
                all.push(o);
            }
        }
    } else {
        let expanded = inv
            .cal
            .expand_dates(calcard::common::timezone::Tz::UTC, MAX_EXPANSION);
        if expanded.events.len() >= MAX_EXPANSION {
            out.capped = true;
        }
        for e in expanded.events {
            let Some(c) = comps.iter().find(|c| c.id == e.comp_id) else {
                continue;
            };
            let start_naive = e.start.naive_local();
            let Some(start_form) = c.dtstart().or_else(|| c.recurrence_id()) else {
                continue;
            };
            let start_cd = CalDate::with_form_of(start_naive, &start_form);
            let Some(start) = tz::to_instant(&start_cd, &inv.cal, local) else {
                continue;
            };
            let end = match e.end {
                TimeOrDelta::Time(t) => {
                    let form = c.dtend().unwrap_or_else(|| start_form.clone());
                    tz::to_instant(
                        &CalDate::with_form_of(t.naive_local(), &form),
                        &inv.cal,
                        local,
                    )
                }
                TimeOrDelta::Delta(d) if start_form.is_date() || start_form.tzid().is_some() => {
                    // Nominal days keep the wall clock across DST changes.
                    start_naive.checked_add_signed(d).and_then(|n| {
                        tz::to_instant(&CalDate::with_form_of(n, &start_form), &inv.cal, local)
                    })
                }
                TimeOrDelta::Delta(d) => start.checked_add_signed(d),
            };
            let end = end.filter(|e| *e >= start).unwrap_or(start);
            all.push(Occurrence {
                comp_id: e.comp_id,
                start,
                end,
            });
        }
    }
    out.last_end = if unbounded || out.capped {
        None
    } else {
        all.iter().map(|o| o.end).max()
    };
    let mut kept: Vec<Occurrence> = all
        .into_iter()
        .filter(|o| in_window(o.start, o.end, from, to))
        .filter(|o| comps.iter().any(|c| c.id == o.comp_id && keep(*c)))
        .collect();
    kept.sort_by_key(|o| (o.start, o.end, o.comp_id));
    kept.dedup();
    out.occurrences = kept;
    out
}

/// Whether an occurrence from `start` to `end` counts inside `[from, to)`:
/// it intersects the window, or it is an instant inside it.
pub fn in_window(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> bool {
    start < to && (end > from || (end == start && start >= from))
}

/// The UIDs and busy occurrences of one stored object (a bare `.ics`, or a
/// message holding one), as the calendar index keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredIndex {
    pub uids: Vec<String>,
    pub busy: Vec<StoredBusy>,
}

/// One occurrence of a stored object that makes me busy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBusy {
    pub uid: String,
    /// Terminal-safe, one line (R9.5).
    pub summary: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// [`index_stored_fully`], by the fast reading when the object is a plain
/// event ([`plain`]: the same answer for the commonest shape).
pub fn index_stored(
    raw: &[u8],
    me: &Identity,
    local: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoredIndex {
    let Some(p) = plain::read(raw, local) else {
        return index_stored_fully(raw, me, local, from, to);
    };
    let uid = p.uid.into_owned();
    let busy = p
        .busy
        .filter(|(start, end)| in_window(*start, *end, from, to))
        .map(|(start, end)| StoredBusy {
            uid: uid.clone(),
            summary: terminal_line(&p.summary),
            start,
            end,
        });
    StoredIndex {
        uids: vec![uid],
        busy: busy.into_iter().collect(),
    }
}

/// The UIDs and busy occurrences within `[from, to)` of one stored object,
/// read whole: every calendar it holds, split by UID, each expanded (R9.7)
/// and kept when it makes me busy ([`is_busy`]). An unreadable object
/// holds nothing and counts as free.
pub fn index_stored_fully(
    raw: &[u8],
    me: &Identity,
    local: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoredIndex {
    let Ok(parsed) = ical::parse(&calendar_text(raw)) else {
        return StoredIndex::default();
    };
    let mut out = StoredIndex::default();
    for cal in parsed.calendars {
        let Ok(invites) = Invite::from_calendar(cal, None) else {
            continue;
        };
        for inv in invites {
            if !out.uids.contains(&inv.uid) {
                out.uids.push(inv.uid.clone());
            }
            let x = expand(&inv, local, from, to, &|c| is_busy(c, me));
            let fallback = inv.summary().unwrap_or_default();
            for occ in x.occurrences {
                let summary = ical::component(&inv.cal, occ.comp_id)
                    .and_then(|c| ical::text(c, &ICalendarProperty::Summary))
                    .unwrap_or_else(|| fallback.clone());
                out.busy.push(StoredBusy {
                    uid: inv.uid.clone(),
                    summary: terminal_line(&summary),
                    start: occ.start,
                    end: occ.end,
                });
            }
        }
    }
    out
}

/// The calendar's text from a stored object (a bare `.ics`, or a message
/// holding one): its first calendar part, else the bytes as text.
pub fn calendar_text(raw: &[u8]) -> String {
    extract::extract(raw)
        .ok()
        .and_then(|e| e.parts.into_iter().next())
        .map(|p| p.text)
        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned())
}

/// The one occurrence a component describes by itself (DTSTART to DTEND,
/// or DURATION, or a day for a DATE, or an instant).
pub fn single(inv: &Invite, c: Comp<'_>, local: Tz) -> Option<Occurrence> {
    let start_cd = c.dtstart()?;
    let start = tz::to_instant(&start_cd, &inv.cal, local)?;
    let end = match (c.dtend(), c.duration()) {
        (Some(e), _) => tz::to_instant(&e, &inv.cal, local),
        (None, Some(d)) => start.checked_add_signed(d),
        (None, None) if start_cd.is_date() => start.checked_add_signed(Duration::days(1)),
        (None, None) => Some(start),
    };
    let end = end.filter(|e| *e >= start).unwrap_or(start);
    Some(Occurrence {
        comp_id: c.id,
        start,
        end,
    })
}

fn rules(c: Comp<'_>) -> Vec<ICalendarRecurrenceRule> {
    c.c.properties(&ICalendarProperty::Rrule)
        .filter_map(|e| e.values.first())
        .filter_map(|v| match v {
            ICalendarValue::RecurrenceRule(r) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

/// Why a rule must not be expanded (R9.7: "large BYxxx lists"), if so.
pub fn rule_problem(r: &ICalendarRecurrenceRule) -> Option<String> {
    let times = r.byhour.len().max(1) * r.byminute.len().max(1) * r.bysecond.len().max(1);
    let total = r.bysecond.len()
        + r.byminute.len()
        + r.byhour.len()
        + r.byday.len()
        + r.bymonthday.len()
        + r.byyearday.len()
        + r.byweekno.len()
        + r.bymonth.len()
        + r.bysetpos.len();
    if times > MAX_TIMES_PER_PERIOD || total > MAX_BY_VALUES {
        Some(format!(
            "the recurrence rule is too large to expand ({times} times per period, {total} BY values); only the first occurrence is considered"
        ))
    } else {
        None
    }
}

/// Whether a stored component makes me busy: not cancelled, not
/// TRANSP:TRANSPARENT, and not declined by me.
pub fn is_busy(c: Comp<'_>, me: &Identity) -> bool {
    if c.is_cancelled() {
        return false;
    }
    let transparent =
        c.c.property(&ICalendarProperty::Transp)
            .and_then(|e| e.values.first())
            .is_some_and(|v| match v {
                ICalendarValue::Transparency(t) => *t == ICalendarTransparency::Transparent,
                ICalendarValue::Text(t) => t.trim().eq_ignore_ascii_case("TRANSPARENT"),
                _ => false,
            });
    if transparent {
        return false;
    }
    !c.attendees()
        .iter()
        .any(|a| me.party_is_me(a) && a.partstat == PartStat::Declined)
}

/// Indices into `others` (sorted by start) of the intervals that overlap any
/// of `mine`, leaving out those `skip` names; at most `max`, in order.
/// Touching intervals do not overlap.
pub fn overlapping(
    mine: &[Occurrence],
    others: &[Occurrence],
    skip: &dyn Fn(usize) -> bool,
    max: usize,
) -> Vec<usize> {
    overlapping_within(mine, others, longest(others), skip, max)
}

/// The longest of `others`: how far before an occurrence an overlapping
/// interval can start. Compute it once for many [`overlapping_within`].
pub fn longest(others: &[Occurrence]) -> Duration {
    others
        .iter()
        .map(|o| o.end - o.start)
        .max()
        .unwrap_or_else(Duration::zero)
}

/// [`overlapping`] with the longest interval of `others` given, so a
/// listing that checks many invitations against one calendar scans the
/// calendar once, not once per invitation.
pub fn overlapping_within(
    mine: &[Occurrence],
    others: &[Occurrence],
    longest: Duration,
    skip: &dyn Fn(usize) -> bool,
    max: usize,
) -> Vec<usize> {
    let mut hits: Vec<usize> = Vec::new();
    for m in mine {
        if m.end <= m.start {
            continue;
        }
        let earliest = m.start.checked_sub_signed(longest).unwrap_or(m.start);
        let lo = others.partition_point(|o| o.start < earliest);
        let hi = others.partition_point(|o| o.start < m.end);
        for (i, o) in others.iter().enumerate().take(hi).skip(lo) {
            if o.end > m.start && o.start < m.end && !hits.contains(&i) && !skip(i) {
                hits.push(i);
                if hits.len() >= max {
                    hits.sort_unstable();
                    return hits;
                }
            }
        }
    }
    hits.sort_unstable();
    hits
}

#[cfg(test)]
mod tests;
