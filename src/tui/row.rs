//! Building [`Row`]s from what the engine says about a message: from an
//! `inbox::Item` of the listing ([`from_item`]), or from one message shown
//! on its own ([`from_shown`]). Pure: the caller passes `now` and the clock.

use super::state::{Occurrence, Row};
use crate::domain::classify;
use crate::domain::diff::Clock;
use crate::domain::ical::CalDate;
use crate::domain::invite::Invite;
use crate::domain::sanitize::terminal_line;
use crate::domain::tz;
use crate::inbox::list::is_pending;
use crate::inbox::{Item, Shown};
use chrono::{DateTime, TimeZone, Utc};

/// Most upcoming occurrences offered by `i`.
pub const MAX_OCCURRENCES: usize = 24;

/// A row for an item of the listing: its conflicts, superseded count,
/// pending flag and warnings (listing ones included) are the listing's.
pub fn from_item(item: Item, clock: &Clock, now: DateTime<Utc>) -> Row {
    let mut row = from_shown(&item.message.id, &item.message.path, item.shown, clock, now);
    row.summary = item.summary;
    row.start = item.start.or(row.start);
    row.all_day = item.all_day;
    row.warnings = item.warnings;
    row.pending = item.pending;
    row.superseded = item.superseded;
    row.conflicts = item.conflicts;
    row.recurring = item.recurring || row.recurring;
    row
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
        pending: is_pending(shown.class.status) && !past,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryOutbox, MemoryStore, MemoryTransport};
    use crate::adapters::tombstones::MemoryTombstones;
    use crate::domain::classify::Status;
    use crate::domain::identity::Identity;
    use crate::inbox::{self, Env, Scheduling};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 2, 12, 0, 0).unwrap()
    }

    fn row(event: &str) -> Row {
        let organizer = if event.contains("ORGANIZER") {
            ""
        } else {
            "ORGANIZER:mailto:o@x.example\r\n"
        };
        let raw = format!(
            "From: o@x.example\r\nTo: me@x.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n\
             BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u1\r\n\
             DTSTAMP:20250101T000000Z\r\n{organizer}\
             ATTENDEE;RSVP=TRUE:mailto:me@x.example\r\n{event}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let (store, outbox, tombstones, transport) = (
            MemoryStore::new(),
            MemoryOutbox::new(),
            MemoryTombstones::default(),
            MemoryTransport::new(),
        );
        let identity = Identity::new(None, &["me@x.example".to_string()]);
        let token = || "t".to_string();
        let clock = Clock {
            local: chrono_tz::Europe::Berlin,
        };
        let env = Env {
            store: &store,
            outbox: &outbox,
            tombstones: &tombstones,
            transport: Some(&transport),
            identity: &identity,
            groups: &[],
            send_from: None,
            scheduling: Scheduling::Client,
            clock,
            now: now(),
            token: &token,
        };
        let shown = inbox::show(&env, raw.as_bytes()).unwrap();
        from_shown("k", "/m/k.eml", shown, &clock, now())
    }

    #[test]
    fn utc_series_offers_instances_in_utc_form_from_now_on() {
        let r = row("DTSTART:20241230T080000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:S\r\n");
        assert!(r.recurring);
        assert!(r.pending, "a series that goes on is not past");
        let got: Vec<(&str, &str)> = r
            .occurrences
            .iter()
            .map(|o| (o.instance.as_str(), o.label.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("20250106T080000Z", "Mon 2025-01-06 09:00 CET"),
                ("20250113T080000Z", "Mon 2025-01-13 09:00 CET"),
                ("20250120T080000Z", "Mon 2025-01-20 09:00 CET"),
            ]
        );
    }

    #[test]
    fn all_day_series_uses_dates() {
        let r = row("DTSTART;VALUE=DATE:20250110\r\nRRULE:FREQ=DAILY;COUNT=2\r\nSUMMARY:Off\r\n");
        assert!(r.all_day);
        assert_eq!(
            r.start,
            Some(Utc.with_ymd_and_hms(2025, 1, 9, 23, 0, 0).unwrap()),
            "local midnight"
        );
        let got: Vec<&str> = r.occurrences.iter().map(|o| o.instance.as_str()).collect();
        assert_eq!(got, ["VALUE=DATE:20250110", "VALUE=DATE:20250111"]);
        assert_eq!(r.occurrences[0].label, "Fri 2025-01-10");
    }

    /// R9.5: every text field is terminal-safe; a past single event is not pending.
    #[test]
    fn r9_5_text_is_sanitised_and_past_events_are_not_pending() {
        let r = row(
            "DTSTART:20241201T080000Z\r\nSUMMARY:Hi\u{1b}[2J\u{202e}x\r\nORGANIZER;CN=\"A\u{7}B\":mailto:o@x.example\r\n",
        );
        assert_eq!(r.summary, "Hi^[[2J<U+202E>x");
        let organizer = r.organizer.clone().unwrap_or_default();
        assert!(
            organizer.starts_with('A') && organizer.ends_with('B'),
            "{organizer:?}"
        );
        assert!(!organizer.contains(char::is_control), "{organizer:?}");
        assert_eq!(r.status, Status::New);
        assert!(!r.pending, "in the past");
        assert!(!r.recurring);
        assert!(r.occurrences.is_empty());
    }

    #[test]
    fn missing_title_falls_back_to_the_subject_or_a_placeholder() {
        let r = row("DTSTART:20250106T080000Z\r\n");
        assert_eq!(r.summary, "(no title)");
    }
}
