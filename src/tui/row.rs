//! Building [`Row`]s from what the engine says about a message. Pure: the
//! caller passes `now` and the clock. When the listing use case lands, a
//! `from_item` beside [`from_shown`] maps its `Item` (which carries the same
//! `Shown` plus conflicts, superseded count and pending flag) onto `Row`.

use super::state::{Occurrence, Row};
use crate::domain::classify::{self, Status};
use crate::domain::diff::Clock;
use crate::domain::ical::CalDate;
use crate::domain::invite::Invite;
use crate::domain::sanitize::terminal_line;
use crate::domain::tz;
use crate::inbox::Shown;
use chrono::{DateTime, TimeZone, Utc};

/// Most upcoming occurrences offered by `i`.
pub const MAX_OCCURRENCES: usize = 24;

/// Whether a status asks something of the user: an answer (new,
/// reschedule, poll) or applying (update, cancel, removal).
pub fn needs_user(status: Status) -> bool {
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

/// A row for the message `path` (identified by `key`) classified as `shown`.
/// Conflicts and the superseded count come from the listing; they start
/// empty here.
pub fn from_shown(key: &str, path: &str, shown: Shown, clock: &Clock, now: DateTime<Utc>) -> Row {
    let invite = shown.invite();
    let uid = invite.map(|i| terminal_line(&i.uid)).unwrap_or_default();
    let summary = invite
        .and_then(Invite::summary)
        .map(|s| terminal_line(s.trim()))
        .filter(|s| !s.is_empty())
        .or_else(|| {
            shown
                .loaded
                .meta
                .as_ref()
                .and_then(|m| m.subject.as_deref())
                .map(|s| terminal_line(s.trim()))
        })
        .unwrap_or_else(|| "(no title)".to_string());
    let (start, all_day) = invite
        .and_then(|i| start_of(i, clock))
        .map_or((None, false), |(s, d)| (Some(s), d));
    let organizer = invite.and_then(Invite::organizer).map(|o| {
        let name =
            o.cn.as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .or(o.email.clone())
                .unwrap_or(o.value.clone());
        terminal_line(&name)
    });
    let recurring = invite
        .is_some_and(|i| i.master().is_some_and(|m| m.is_recurring()) || !i.overrides().is_empty());
    let occurrences = invite
        .filter(|_| recurring)
        .map(|i| occurrences(i, clock, now))
        .unwrap_or_default();
    let past = start.is_some_and(|s| s < now) && !recurring;
    Row {
        key: key.to_string(),
        path: path.to_string(),
        uid,
        status: shown.class.status,
        partstat: shown.class.partstat,
        summary,
        start,
        all_day,
        organizer,
        warnings: shown
            .class
            .warnings
            .iter()
            .map(|w| terminal_line(w))
            .collect(),
        pending: needs_user(shown.class.status) && !past,
        superseded: 0,
        recurring,
        occurrences,
        conflicts: Vec::new(),
        reply_refusal: shown.class.reply_refusal.as_deref().map(terminal_line),
        apply_refusal: shown.class.apply_refusal.as_deref().map(terminal_line),
        shown,
    }
}

/// The start of the invitation's first component and whether it is all-day.
fn start_of(invite: &Invite, clock: &Clock) -> Option<(DateTime<Utc>, bool)> {
    let start = invite.primary()?.dtstart()?;
    match start {
        CalDate::Date(d) => {
            let local = clock
                .local
                .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
                .earliest()?;
            Some((local.with_timezone(&Utc), true))
        }
        other => clock.instant(&other, &invite.cal).map(|t| (t, false)),
    }
}

/// Upcoming occurrences: the master's expansion (capped, R9.7) and the
/// overrides, keyed by their RECURRENCE-ID in the form of DTSTART.
fn occurrences(invite: &Invite, clock: &Clock, now: DateTime<Utc>) -> Vec<Occurrence> {
    let mut out: Vec<Occurrence> = Vec::new();
    let label = |t: DateTime<Utc>, date_only: bool| {
        let local = t.with_timezone(&clock.local);
        if date_only {
            local.format("%a %Y-%m-%d").to_string()
        } else {
            local.format("%a %Y-%m-%d %H:%M %Z").to_string()
        }
    };
    if let Some(master) = invite.master()
        && let Some(template) = master.dtstart()
    {
        let zone = template
            .tzid()
            .and_then(|t| tz::resolve_tzid(t, &invite.cal))
            .unwrap_or(clock.local);
        for (id, start) in classify::expand_starts(invite) {
            if id != master.id {
                continue;
            }
            // Floating and DATE starts come back as wall-clock labelled UTC.
            let (wall, instant) = match &template {
                CalDate::Zoned { .. } => (start.with_timezone(&zone).naive_local(), start),
                CalDate::Utc(_) => (start.naive_utc(), start),
                CalDate::Floating(_) | CalDate::Date(_) => {
                    let local = clock
                        .local
                        .from_local_datetime(&start.naive_utc())
                        .earliest()
                        .map_or(start, |t| t.with_timezone(&Utc));
                    (start.naive_utc(), local)
                }
            };
            if instant < now {
                continue;
            }
            out.push(Occurrence {
                instance: CalDate::with_form_of(wall, &template).display_key(),
                label: label(instant, template.is_date()),
                start: instant,
            });
            if out.len() >= MAX_OCCURRENCES {
                break;
            }
        }
    }
    for o in invite.overrides() {
        let Some(rid) = o.recurrence_id() else {
            continue;
        };
        let Some(rid_at) = clock.instant(&rid, &invite.cal).or_else(|| {
            clock
                .local
                .from_local_datetime(&rid.naive())
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }) else {
            continue;
        };
        let start = o
            .dtstart()
            .and_then(|s| clock.instant(&s, &invite.cal))
            .unwrap_or(rid_at);
        if start < now || o.is_cancelled() {
            continue;
        }
        let instance = rid.display_key();
        out.retain(|x| x.start != rid_at);
        let mut text = label(start, rid.is_date());
        if start != rid_at {
            text.push_str(&format!(" (moved from {})", label(rid_at, rid.is_date())));
        }
        out.push(Occurrence {
            instance,
            label: text,
            start,
        });
    }
    out.sort_by_key(|o| o.start);
    out.truncate(MAX_OCCURRENCES);
    out
}
