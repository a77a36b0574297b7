//! Per-field changes between the stored copy and an incoming version, and
//! the significant-change test (R3.8).

use super::ical::{self, CalDate};
use super::identity::Identity;
use super::invite::{Comp, Invite, Party};
use super::tz;
use calcard::icalendar::{ICalendarProperty, ICalendarRecurrenceRule};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

mod instances;
pub use instances::InstanceIndex;

/// One changed field, old → new (values already formatted for people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The iCalendar property name (`DTSTART`, `SUMMARY`, `ATTENDEE` …).
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Set when the change concerns one instance (its RECURRENCE-ID).
    pub recurrence_id: Option<String>,
    /// Counts for R3.8 (asks the attendee again).
    pub significant: bool,
    /// For long text (DESCRIPTION): a line diff, lines prefixed `-`, `+` or ` `.
    pub lines: Vec<String>,
}

impl Change {
    fn new(field: &str, old: Option<String>, new: Option<String>, significant: bool) -> Change {
        Change {
            field: field.to_string(),
            old,
            new,
            recurrence_id: None,
            significant,
            lines: Vec::new(),
        }
    }
}

/// How to show dates: the user's zone, plus the event's own when different.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub local: Tz,
}

impl Clock {
    /// `Mon 2025-01-06 09:00 CET`, with ` (08:00 Europe/London)` when the
    /// event's zone shows a different wall-clock time; `Mon 2025-01-06 (all day)`.
    pub fn format(&self, value: &CalDate, cal: &calcard::icalendar::ICalendar) -> String {
        match value {
            CalDate::Date(d) => format!("{} (all day)", d.format("%a %Y-%m-%d")),
            CalDate::Floating(t) => format!("{} (floating time)", t.format("%a %Y-%m-%d %H:%M")),
            _ => {
                let Some(instant) = tz::to_instant(value, cal, self.local) else {
                    return value.display_key();
                };
                let local = instant.with_timezone(&self.local);
                let mut s = local.format("%a %Y-%m-%d %H:%M %Z").to_string();
                if let CalDate::Zoned { tzid, local: wall } = value {
                    let same_zone = tz::resolve_tzid(tzid, cal) == Some(self.local);
                    if !same_zone {
                        // The TZID is the sender's text (R9.5).
                        let tzid = crate::domain::sanitize::terminal_line(tzid);
                        s.push_str(&format!(" ({} {tzid})", wall.format("%Y-%m-%d %H:%M")));
                    }
                } else if !is_utc_zone(self.local) {
                    s.push_str(&format!(" ({} UTC)", instant.format("%Y-%m-%d %H:%M")));
                }
                s
            }
        }
    }

    pub fn instant(
        &self,
        value: &CalDate,
        cal: &calcard::icalendar::ICalendar,
    ) -> Option<DateTime<Utc>> {
        tz::to_instant(value, cal, self.local)
    }

    /// `value` (read in `value_cal`) as the same instant written in the form
    /// of `template` (read in `template_cal`): its TZID, UTC, floating or
    /// DATE (R1.10, R2.4, bug 2 of issue 7: `--instance 20270209T083000Z`
    /// on a Europe/Berlin series is `TZID=Europe/Berlin:20270209T093000`).
    /// Floating and DATE values keep their wall-clock digits.
    pub fn in_form_of(
        &self,
        value: &CalDate,
        value_cal: &calcard::icalendar::ICalendar,
        template: &CalDate,
        template_cal: &calcard::icalendar::ICalendar,
    ) -> CalDate {
        let floating_in = matches!(value, CalDate::Floating(_) | CalDate::Date(_));
        let local = match (template, self.instant(value, value_cal)) {
            _ if floating_in => value.naive(),
            (CalDate::Date(_) | CalDate::Floating(_), Some(t)) => {
                t.with_timezone(&self.local).naive_local()
            }
            (CalDate::Utc(_), Some(t)) => t.naive_utc(),
            (CalDate::Zoned { tzid, .. }, Some(t)) => match tz::resolve_tzid(tzid, template_cal) {
                Some(zone) => t.with_timezone(&zone).naive_local(),
                None => value.naive(),
            },
            (_, None) => value.naive(),
        };
        CalDate::with_form_of(local, template)
    }
}

fn is_utc_zone(tz: Tz) -> bool {
    matches!(
        tz.name(),
        "UTC" | "Etc/UTC" | "Etc/Universal" | "Etc/Zulu" | "Universal" | "Zulu" | "Etc/GMT" | "GMT"
    )
}

/// Compare two versions of one object. `me` decides which attendee changes
/// concern the user (my own PARTSTAT in the organizer's copy is not news).
pub fn diff(old: &Invite, new: &Invite, me: &Identity, clock: &Clock) -> Vec<Change> {
    let mut out = Vec::new();
    match (old.master(), new.master()) {
        (Some(o), Some(n)) => diff_component(old, o, new, n, me, clock, None, &mut out),
        (None, Some(n)) => {
            let mut c = Change::new("RRULE", None, n.rrule_text(), true);
            c.field = "RECURRENCE".into();
            c.new = Some("the whole series".into());
            c.old = Some("single occurrences only".into());
            out.push(c);
        }
        _ => {}
    }
    // Overrides, paired by RECURRENCE-ID instant (R2.4).
    let old_over = old.overrides();
    let new_over = new.overrides();
    let old_index = InstanceIndex::new(old_over.iter().map(|o| o.recurrence_id()), &old.cal, clock);
    for n in &new_over {
        let Some(rid) = n.recurrence_id() else {
            continue;
        };
        let rid_txt = clock.format(&rid, &new.cal);
        let matching = old_index
            .find(&rid, &new.cal, clock)
            .and_then(|i| old_over.get(i));
        let mut changes = Vec::new();
        match matching {
            Some(o) => diff_component(
                old,
                *o,
                new,
                *n,
                me,
                clock,
                Some(rid_txt.clone()),
                &mut changes,
            ),
            None => {
                // A new override: compare with the instance the master gives.
                let start = n.dtstart();
                let moved = start
                    .as_ref()
                    .is_some_and(|s| !same_instance(s, &new.cal, &rid, &new.cal, clock));
                if moved {
                    changes.push(Change {
                        recurrence_id: Some(rid_txt.clone()),
                        ..Change::new(
                            "DTSTART",
                            Some(rid_txt.clone()),
                            start.map(|s| clock.format(&s, &new.cal)),
                            true,
                        )
                    });
                } else if old.master().is_some() {
                    // A new override without a time change (instance-only
                    // update, or one carried by a full update): show the
                    // fields it changes against the series.
                    if let Some(om) = old.master() {
                        diff_component(
                            old,
                            om,
                            new,
                            *n,
                            me,
                            clock,
                            Some(rid_txt.clone()),
                            &mut changes,
                        );
                        // Not moved: its DTSTART is the occurrence, not the
                        // master's first start; DTEND counts only when the
                        // length changed (R3.8).
                        let length = |c: Comp<'_>, cal| {
                            Some(effective_end(c, cal, clock)?.0 - start_key(c, cal, clock)?)
                        };
                        let same_length = length(om, &old.cal) == length(*n, &new.cal);
                        changes.retain(|c| {
                            !matches!(c.field.as_str(), "RRULE" | "EXDATE" | "RDATE" | "DTSTART")
                                && (c.field != "DTEND" || !same_length)
                        });
                    }
                }
                if n.is_cancelled() && !changes.iter().any(|c| c.field == "STATUS") {
                    changes.push(Change {
                        recurrence_id: Some(rid_txt.clone()),
                        ..Change::new("STATUS", None, Some("CANCELLED".into()), true)
                    });
                }
            }
        }
        for mut c in changes {
            c.recurrence_id = Some(rid_txt.clone());
            out.push(c);
        }
    }
    // Overrides dropped by a full update (R2.8). One rsvp made to hold my
    // answer to an occurrence was never the organizer's to drop.
    if new.master().is_some() {
        let new_index =
            InstanceIndex::new(new_over.iter().map(|n| n.recurrence_id()), &new.cal, clock);
        for o in &old_over {
            let Some(rid) = o.recurrence_id() else {
                continue;
            };
            if o.text(&ical::other_prop(super::classify::X_ANSWERED_APART))
                .is_some()
            {
                continue;
            }
            let still = new_index.find(&rid, &old.cal, clock).is_some();
            if !still {
                let rid_txt = clock.format(&rid, &old.cal);
                out.push(Change {
                    recurrence_id: Some(rid_txt.clone()),
                    ..Change::new(
                        "RECURRENCE-ID",
                        Some(format!("exception on {rid_txt}")),
                        None,
                        false,
                    )
                });
            }
        }
    }
    out
}

/// Whether any change asks the attendee again (R3.8).
pub fn is_significant(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.significant)
}

/// R3.8 as rsvp applies it: time, recurrence, status and the set of my
/// occurrences always ask again; a new LOCATION asks again only when the
/// organizer also raised SEQUENCE. A same-SEQUENCE location fix is an update
/// that keeps my answer, as Thunderbird, Google and Outlook do (RFC 5546
/// §2.1.4 does not list LOCATION among the properties that need a new
/// SEQUENCE).
pub fn needs_new_answer(changes: &[Change], sequence_raised: bool) -> bool {
    changes
        .iter()
        .any(|c| c.significant && (sequence_raised || c.field != "LOCATION"))
}

/// R2.4: RECURRENCE-IDs are compared as instants (DATE as dates).
pub fn same_instance(
    a: &CalDate,
    cal_a: &calcard::icalendar::ICalendar,
    b: &CalDate,
    cal_b: &calcard::icalendar::ICalendar,
    clock: &Clock,
) -> bool {
    match (a, b) {
        (CalDate::Date(x), CalDate::Date(y)) => x == y,
        (CalDate::Date(x), other) | (other, CalDate::Date(x)) => other.naive().date() == *x,
        (CalDate::Floating(x), CalDate::Floating(y)) => x == y,
        _ => match (clock.instant(a, cal_a), clock.instant(b, cal_b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn diff_component(
    old_inv: &Invite,
    o: Comp<'_>,
    new_inv: &Invite,
    n: Comp<'_>,
    me: &Identity,
    clock: &Clock,
    _rid: Option<String>,
    out: &mut Vec<Change>,
) {
    let oc = &old_inv.cal;
    let nc = &new_inv.cal;
    let text_field =
        |field: &str, prop: ICalendarProperty, significant: bool, out: &mut Vec<Change>| {
            let a = o
                .text(&prop)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let b = n
                .text(&prop)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            if a != b {
                out.push(Change::new(field, a, b, significant));
            }
        };
    text_field("SUMMARY", ICalendarProperty::Summary, false, out);

    // Start and end as instants (T26: UTC vs the same instant with a TZID is
    // no change; DTEND vs the equivalent DURATION is no change).
    let (os, ns) = (o.dtstart(), n.dtstart());
    let start_changed = match (&os, &ns) {
        (Some(a), Some(b)) => !same_instance(a, oc, b, nc, clock) || a.is_date() != b.is_date(),
        (None, None) => false,
        _ => true,
    };
    if start_changed {
        out.push(Change::new(
            "DTSTART",
            os.as_ref().map(|d| clock.format(d, oc)),
            ns.as_ref().map(|d| clock.format(d, nc)),
            true,
        ));
    }
    let (oe, ne) = (effective_end(o, oc, clock), effective_end(n, nc, clock));
    if oe.as_ref().map(|x| x.0) != ne.as_ref().map(|x| x.0) {
        out.push(Change::new("DTEND", oe.map(|x| x.1), ne.map(|x| x.1), true));
    }

    text_field("LOCATION", ICalendarProperty::Location, true, out);

    // DESCRIPTION with a line diff.
    let od = o.text(&ICalendarProperty::Description).unwrap_or_default();
    let nd = n.text(&ICalendarProperty::Description).unwrap_or_default();
    if od.trim() != nd.trim() {
        let mut c = Change::new(
            "DESCRIPTION",
            Some(od.clone()).filter(|s| !s.trim().is_empty()),
            Some(nd.clone()).filter(|s| !s.trim().is_empty()),
            false,
        );
        c.lines = line_diff(&od, &nd);
        out.push(c);
    }

    // ORGANIZER.
    let oo = o.organizer().and_then(|p| p.email.or(Some(p.value)));
    let no = n.organizer().and_then(|p| p.email.or(Some(p.value)));
    if oo != no {
        out.push(Change::new(
            "ORGANIZER",
            o.organizer().map(|p| p.display()),
            n.organizer().map(|p| p.display()),
            false,
        ));
    }

    // STATUS: a change between two values asks for a new answer; a STATUS
    // that only appears (or disappears) says what was implied, unless it is
    // CANCELLED.
    let ost = o.status().map(|s| format!("{s:?}").to_uppercase());
    let nst = n.status().map(|s| format!("{s:?}").to_uppercase());
    if ost != nst {
        let implied = match (&ost, &nst) {
            (None, Some(v)) | (Some(v), None) => v != "CANCELLED",
            _ => false,
        };
        out.push(Change::new("STATUS", ost, nst, !implied));
    }

    // Recurrence rule, normalised (T26: part order, INTERVAL=1).
    let orr = o.rrule();
    let nrr = n.rrule();
    if orr.as_ref().map(normalize_rrule) != nrr.as_ref().map(normalize_rrule) {
        out.push(Change::new("RRULE", o.rrule_text(), n.rrule_text(), true));
    }
    // EXDATE: removed values reinstate instances (significant); added ones
    // cancel instances (R2.6: normal organizer data, shown).
    set_change(
        "EXDATE",
        &o.exdates(),
        oc,
        &n.exdates(),
        nc,
        clock,
        false,
        true,
        out,
    );
    set_change(
        "RDATE",
        &o.rdates(),
        oc,
        &n.rdates(),
        nc,
        clock,
        true,
        false,
        out,
    );

    // Conference link.
    let (ol, nl) = (conference(o), conference(n));
    if ol != nl {
        out.push(Change::new("CONFERENCE", ol, nl, false));
    }

    // Attendees: added, removed, PARTSTAT of others.
    let oa = o.attendees();
    let na = n.attendees();
    let key = |p: &Party| p.email.clone().unwrap_or_else(|| p.value.to_lowercase());
    for a in &na {
        match oa.iter().find(|b| key(b) == key(a)) {
            None => out.push(Change::new(
                "ATTENDEE",
                None,
                Some(format!("{} ({})", a.display(), a.partstat.human())),
                me.party_is_me(a),
            )),
            Some(b) if b.partstat != a.partstat && !me.party_is_me(a) => out.push(Change::new(
                "ATTENDEE",
                Some(format!("{} ({})", b.display(), b.partstat.human())),
                Some(format!("{} ({})", a.display(), a.partstat.human())),
                false,
            )),
            _ => {}
        }
    }
    for b in &oa {
        if !na.iter().any(|a| key(a) == key(b)) {
            out.push(Change::new(
                "ATTENDEE",
                Some(format!("{} ({})", b.display(), b.partstat.human())),
                None,
                me.party_is_me(b),
            ));
        }
    }
}

fn normalize_rrule(r: &ICalendarRecurrenceRule) -> ICalendarRecurrenceRule {
    let mut r = r.clone();
    if r.interval == Some(1) {
        r.interval = None;
    }
    r.byday.sort();
    r.bymonthday.sort();
    r.bymonth.sort();
    r.byhour.sort();
    r.byminute.sort();
    r.bysecond.sort();
    r.byyearday.sort();
    r.byweekno.sort();
    r.bysetpos.sort();
    r
}

/// End as (instant or date, formatted). DTEND, else DTSTART + DURATION.
/// The start as a timestamp (a DATE as its midnight UTC, like `effective_end`).
fn start_key(c: Comp<'_>, cal: &calcard::icalendar::ICalendar, clock: &Clock) -> Option<i64> {
    match c.dtstart()? {
        CalDate::Date(d) => d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()),
        other => clock.instant(&other, cal).map(|t| t.timestamp()),
    }
}

fn effective_end(
    c: Comp<'_>,
    cal: &calcard::icalendar::ICalendar,
    clock: &Clock,
) -> Option<(i64, String)> {
    if let Some(end) = c.dtend() {
        let key = match &end {
            CalDate::Date(d) => d
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp())
                .unwrap_or(0),
            other => clock
                .instant(other, cal)
                .map(|t| t.timestamp())
                .unwrap_or(0),
        };
        return Some((key, clock.format(&end, cal)));
    }
    let start = c.dtstart()?;
    let dur = c.duration()?;
    match &start {
        CalDate::Date(d) => {
            let end = d.and_hms_opt(0, 0, 0)? + dur;
            Some((
                end.and_utc().timestamp(),
                clock.format(&CalDate::Date(end.date()), cal),
            ))
        }
        other => {
            let t = clock.instant(other, cal)? + dur;
            let shown = CalDate::with_form_of(
                match other {
                    CalDate::Utc(_) => t.naive_utc(),
                    _ => other.naive() + dur,
                },
                other,
            );
            Some((t.timestamp(), clock.format(&shown, cal)))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn set_change(
    field: &str,
    old: &[CalDate],
    oc: &calcard::icalendar::ICalendar,
    new: &[CalDate],
    nc: &calcard::icalendar::ICalendar,
    clock: &Clock,
    added_significant: bool,
    removed_significant: bool,
    out: &mut Vec<Change>,
) {
    // same_instance is symmetric, so either list can be the indexed one.
    let old_index = InstanceIndex::new(old.iter().cloned().map(Some), oc, clock);
    let new_index = InstanceIndex::new(new.iter().cloned().map(Some), nc, clock);
    for n in new {
        if old_index.find(n, nc, clock).is_none() {
            out.push(Change::new(
                field,
                None,
                Some(clock.format(n, nc)),
                added_significant,
            ));
        }
    }
    for o in old {
        if new_index.find(o, oc, clock).is_none() {
            out.push(Change::new(
                field,
                Some(clock.format(o, oc)),
                None,
                removed_significant,
            ));
        }
    }
}

/// The meeting link: CONFERENCE, the vendors' X- properties, or URL.
pub fn conference(c: Comp<'_>) -> Option<String> {
    for name in [
        "CONFERENCE",
        "X-GOOGLE-CONFERENCE",
        "X-MICROSOFT-SKYPETEAMSMEETINGURL",
        "X-MICROSOFT-ONLINEMEETINGCONFLINK",
    ] {
        let prop = if name == "CONFERENCE" {
            ICalendarProperty::Conference
        } else {
            ical::other_prop(name)
        };
        if let Some(v) = c.c.property(&prop).and_then(ical::entry_text)
            && !v.trim().is_empty()
        {
            return Some(v.trim().to_string());
        }
    }
    // Outlook, Zoom and Webex often put the link only in LOCATION or in
    // the description's text.
    for prop in [ICalendarProperty::Location, ICalendarProperty::Description] {
        if let Some(link) =
            c.c.property(&prop)
                .and_then(ical::entry_text)
                .and_then(|t| meeting_link(&t))
        {
            return Some(link);
        }
    }
    c.c.property(&ICalendarProperty::Url)
        .and_then(ical::entry_text)
        .filter(|u| !u.trim().is_empty())
}

/// Hosts of video meetings whose links become the Join row.
const MEETING_HOSTS: &[&str] = &[
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "zoom.us",
    "zoomgov.com",
    "webex.com",
];

/// The first https link in `text` to a known meeting host.
pub fn meeting_link(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')' | '[' | ']'))
        .filter(|w| {
            w.len() > 8
                && w.get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        })
        .map(|w| w.trim_end_matches(['.', ',', ';', ':', '!', '?']))
        .find(|w| {
            let host = w
                .get(8..)
                .unwrap_or("")
                .split(['/', '?', '#', ':'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            MEETING_HOSTS
                .iter()
                .any(|h| host == *h || host.ends_with(&format!(".{h}")))
        })
        .map(str::to_string)
}

/// A small LCS line diff (bounded: long texts fall back to old/new blocks).
pub fn line_diff(old: &str, new: &str) -> Vec<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() * b.len() > 250_000 {
        let mut out: Vec<String> = a.iter().map(|l| format!("-{l}")).collect();
        out.extend(b.iter().map(|l| format!("+{l}")));
        return out;
    }
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let v = if a.get(i) == b.get(j) {
                lcs.get(i + 1)
                    .and_then(|r| r.get(j + 1))
                    .copied()
                    .unwrap_or(0)
                    + 1
            } else {
                let down = lcs.get(i + 1).and_then(|r| r.get(j)).copied().unwrap_or(0);
                let right = lcs.get(i).and_then(|r| r.get(j + 1)).copied().unwrap_or(0);
                down.max(right)
            };
            if let Some(cell) = lcs.get_mut(i).and_then(|r| r.get_mut(j)) {
                *cell = v;
            }
        }
    }
    let at = |i: usize, j: usize| lcs.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        let (la, lb) = (a.get(i), b.get(j));
        if i < n && j < m && la == lb {
            out.push(format!(" {}", la.copied().unwrap_or("")));
            i += 1;
            j += 1;
        } else if i < n && (j >= m || at(i + 1, j) >= at(i, j + 1)) {
            out.push(format!("-{}", la.copied().unwrap_or("")));
            i += 1;
        } else {
            out.push(format!("+{}", lb.copied().unwrap_or("")));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(body: &str) -> Invite {
        let s = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\n{body}END:VCALENDAR\r\n"
        );
        Invite::from_calendar(ical::parse(&s).unwrap().calendars.remove(0), None)
            .unwrap()
            .remove(0)
    }

    fn ev(extra: &str) -> String {
        format!(
            "BEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20250101T000000Z\r\nORGANIZER:mailto:o@x.example\r\nATTENDEE:mailto:me@x.example\r\n{extra}END:VEVENT\r\n"
        )
    }

    fn clock() -> Clock {
        Clock {
            local: chrono_tz::Europe::Berlin,
        }
    }

    fn me() -> Identity {
        Identity::new(None, &["me@x.example".to_string()])
    }

    #[test]
    fn a_status_that_only_appears_asks_for_no_new_answer() {
        let a = inv(&ev("DTSTART:20250106T080000Z\r\n"));
        let b = inv(&ev("DTSTART:20250106T080000Z\r\nSTATUS:CONFIRMED\r\n"));
        let changes = diff(&a, &b, &me(), &clock());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(!is_significant(&changes), "{changes:?}");
        let c = inv(&ev("DTSTART:20250106T080000Z\r\nSTATUS:TENTATIVE\r\n"));
        assert!(is_significant(&diff(&b, &c, &me(), &clock())));
    }

    #[test]
    fn teams_zoom_and_webex_links_are_found_in_location_and_description() {
        let teams = inv(&ev(
            "X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/19%3a\r\n",
        ));
        assert_eq!(
            conference(teams.primary().unwrap()).as_deref(),
            Some("https://teams.microsoft.com/l/meetup-join/19%3a")
        );
        let zoom = inv(&ev("LOCATION:Zoom: https://acme.zoom.us/j/123?pwd=x.\r\n"));
        assert_eq!(
            conference(zoom.primary().unwrap()).as_deref(),
            Some("https://acme.zoom.us/j/123?pwd=x")
        );
        let webex = inv(&ev(
            "DESCRIPTION:Join: <https://acme.webex.com/meet/dana>\\nThanks\r\nURL:https://example.org/page\r\n",
        ));
        assert_eq!(
            conference(webex.primary().unwrap()).as_deref(),
            Some("https://acme.webex.com/meet/dana")
        );
        let none = inv(&ev("LOCATION:https://notzoom.us.evil.example/j/1\r\n"));
        assert_eq!(conference(none.primary().unwrap()), None);
        assert_eq!(meeting_link("see https://zoom.us.evil.example/x"), None);
    }

    /// T26: an equivalent DTSTART form, reordered RRULE and INTERVAL=1 are no change.
    #[test]
    fn t26_non_significant_forms() {
        let a = inv(&ev(
            "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5\r\n",
        ));
        let b = inv(&ev(
            "DTSTART;TZID=Europe/Berlin:20250106T090000\r\nDURATION:PT1H\r\nRRULE:COUNT=5;INTERVAL=1;FREQ=WEEKLY;BYDAY=MO\r\n",
        ));
        let changes = diff(&a, &b, &me(), &clock());
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn reschedule_is_significant_and_summary_is_not() {
        let a = inv(&ev("SUMMARY:Old\r\nDTSTART:20250106T080000Z\r\n"));
        let b = inv(&ev("SUMMARY:New\r\nDTSTART:20250106T090000Z\r\n"));
        let changes = diff(&a, &b, &me(), &clock());
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["SUMMARY", "DTSTART"]);
        assert!(is_significant(&changes));
        assert_eq!(
            changes[1].old.as_deref(),
            Some("Mon 2025-01-06 09:00 CET (2025-01-06 08:00 UTC)")
        );
        let only_summary = diff(
            &a,
            &inv(&ev("SUMMARY:New\r\nDTSTART:20250106T080000Z\r\n")),
            &me(),
            &clock(),
        );
        assert!(!is_significant(&only_summary));
    }

    #[test]
    fn attendee_changes_and_description_lines() {
        let a = inv(&ev(
            "DTSTART:20250106T080000Z\r\nDESCRIPTION:one\\ntwo\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:b@x.example\r\n",
        ));
        let b = inv(&ev(
            "DTSTART:20250106T080000Z\r\nDESCRIPTION:one\\nthree\r\nATTENDEE;PARTSTAT=DECLINED:mailto:b@x.example\r\nATTENDEE:mailto:c@x.example\r\n",
        ));
        let changes = diff(&a, &b, &me(), &clock());
        let d = changes.iter().find(|c| c.field == "DESCRIPTION").unwrap();
        assert_eq!(d.lines, [" one", "-two", "+three"]);
        assert_eq!(changes.iter().filter(|c| c.field == "ATTENDEE").count(), 2);
        assert!(!is_significant(&changes));
    }

    #[test]
    fn exdate_added_shown_removed_significant() {
        let a = inv(&ev(
            "DTSTART:20250106T080000Z\r\nRRULE:FREQ=WEEKLY\r\nEXDATE:20250113T080000Z\r\n",
        ));
        let b = inv(&ev(
            "DTSTART:20250106T080000Z\r\nRRULE:FREQ=WEEKLY\r\nEXDATE:20250120T080000Z\r\n",
        ));
        let changes = diff(&a, &b, &me(), &clock());
        assert_eq!(changes.len(), 2);
        assert!(
            is_significant(&changes),
            "a reinstated instance is significant"
        );
    }

    #[test]
    fn moved_instance_override() {
        let a = inv(&ev("DTSTART:20250106T080000Z\r\nRRULE:FREQ=WEEKLY\r\n"));
        let b = inv(&format!(
            "{}{}",
            ev("DTSTART:20250106T080000Z\r\nRRULE:FREQ=WEEKLY\r\n"),
            ev("RECURRENCE-ID:20250113T080000Z\r\nDTSTART:20250114T080000Z\r\n")
        ));
        let changes = diff(&a, &b, &me(), &clock());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "DTSTART");
        assert!(changes[0].recurrence_id.is_some());
    }

    #[test]
    fn r3_8_instance_only_message_compared_with_its_occurrence() {
        let series = inv(&ev(
            "DTSTART:20250106T080000Z\r\nDTEND:20250106T084500Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Ops\r\n",
        ));
        let instance = inv(&ev(
            "RECURRENCE-ID:20250210T080000Z\r\nDTSTART:20250210T080000Z\r\nDTEND:20250210T084500Z\r\nSUMMARY:Ops\r\nDESCRIPTION:New agenda\r\n",
        ));
        let changes = diff(&series, &instance, &me(), &clock());
        assert!(!is_significant(&changes), "{changes:?}");
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "DESCRIPTION");
        let longer = inv(&ev(
            "RECURRENCE-ID:20250210T080000Z\r\nDTSTART:20250210T080000Z\r\nDTEND:20250210T090000Z\r\nSUMMARY:Ops\r\n",
        ));
        let changes = diff(&series, &longer, &me(), &clock());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "DTEND");
        assert!(is_significant(&changes));
    }
}
