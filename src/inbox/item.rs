//! The one read model: [`Item`], one row of the inbox, from which the CLI's
//! text, the CLI's JSON and the TUI's list and detail all render. Pending,
//! recurring, my answer and what the row says are defined here, once.

use super::Shown;
use crate::domain::answers;
use crate::domain::classify::{self, Status};
use crate::domain::diff::Clock;
use crate::domain::ical::CalDate;
use crate::domain::identity::normalize_address;
use crate::domain::invite::{Invite, Method, PartStat};
use crate::domain::overlap::{self, Expansion};
use crate::domain::ports::Candidate;
use crate::domain::sanitize::terminal_line;
use crate::domain::tz;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// Most conflicts reported for one item.
pub const MAX_CONFLICTS: usize = 50;
/// Most upcoming occurrences offered for answering one alone.
pub const MAX_OCCURRENCES: usize = 24;
/// Most occurrence slots kept for one item (see [`Item::overlap_slots`]).
pub const MAX_SLOTS: usize = 400;

/// The (start, end) of `occurrences`, or one span over all of them when
/// there are more than [`MAX_SLOTS`].
fn slots(occurrences: &[overlap::Occurrence]) -> Vec<(i64, i64)> {
    let all = occurrences
        .iter()
        .map(|o| (o.start.timestamp(), o.end.timestamp()));
    if occurrences.len() <= MAX_SLOTS {
        return all.collect();
    }
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for (a, b) in all {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    vec![(lo, hi)]
}

/// Most other events shown in the day agenda.
pub const MAX_AGENDA: usize = 30;
/// How far back the day agenda looks for events that started before the
/// day and still run (longer ones are not shown).
const AGENDA_LOOKBACK_DAYS: i64 = 14;

/// The invitation's day in the user's zone, with the user's other events
/// that day from every calendar they keep (R9.7 window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agenda {
    pub day: NaiveDate,
    /// The invitation's own time that day.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The other events that day, by start, at most [`MAX_AGENDA`].
    pub events: Vec<AgendaEntry>,
}

/// One event of the day agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaEntry {
    pub uid: String,
    /// Terminal-safe, one line.
    pub summary: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// It overlaps the invitation.
    pub overlaps: bool,
}

/// A warning mark on an item (the text is in [`Item::warnings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The From address is neither the organizer nor its SENT-BY (R7.9, R9.1).
    SenderNotOrganizer,
    /// The organizer differs from the stored one (R3.2, T28).
    OrganizerChanged,
    /// The sender is not in the contacts and the UID is not in the calendar
    /// (R9.2, T59).
    Untrusted,
    /// Recurrence expansion was cut or refused (R9.7, T58).
    RecurrenceCapped,
}

impl Flag {
    /// The word of the JSON output (`flags`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::SenderNotOrganizer => "sender-not-organizer",
            Flag::OrganizerChanged => "organizer-changed",
            Flag::Untrusted => "untrusted",
            Flag::RecurrenceCapped => "recurrence-capped",
        }
    }
}

/// Another event of the calendar that overlaps one of the item's occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub uid: String,
    /// Terminal-safe, one line.
    pub summary: String,
    /// That event's occurrence.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One upcoming occurrence of a recurring invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Its RECURRENCE-ID as [`super::ResponseRequest::instance`] takes it.
    pub instance: String,
    /// How people see it: `Mon 2025-01-13 09:00 CET`.
    pub label: String,
    pub start: DateTime<Utc>,
}

/// One row of the inbox: the newest message for one UID (or a message
/// given on the command line).
///
/// Text fields are terminal-safe single lines (R9.5); the raw data is in
/// `shown`.
#[derive(Debug, Clone)]
pub struct Item {
    /// How the faces name this item to the Inbox: the message's id in the
    /// mail index (or its path, or `-` for standard input).
    pub key: String,
    /// The message file shown.
    pub path: String,
    /// Empty for a message whose calendar data is invalid.
    pub uid: String,
    pub status: Status,
    /// My current answer (the stored one when the event is in the calendar).
    pub partstat: Option<PartStat>,
    /// SUMMARY, else the message's Subject; empty when neither.
    pub summary: String,
    /// The first start (DTSTART of the series or of the instance); all-day
    /// events start at local midnight.
    pub start: Option<DateTime<Utc>>,
    /// `start` in the user's zone: `Mon 2025-01-06 09:00`, or
    /// `Mon 2025-01-06 all day`; empty when there is no start.
    pub start_text: String,
    pub all_day: bool,
    /// The organizer's name, else its address.
    pub organizer: Option<String>,
    /// `Name <address>` of the ORGANIZER.
    pub organizer_display: Option<String>,
    /// The organizer's address and name as JSON gives them.
    pub organizer_address: Option<String>,
    pub organizer_cn: Option<String>,
    /// The From address, normalised.
    pub sender: Option<String>,
    pub flags: Vec<Flag>,
    /// Everything worth saying: classification warnings, then the listing's.
    pub warnings: Vec<String>,
    /// The message shown.
    pub message: Candidate,
    /// Older versions of the same UID, newest first (tagged with it).
    pub older: Vec<Candidate>,
    /// `older.len()`.
    pub superseded: usize,
    /// Needs the user: an answer (new, reschedule, poll), applying (update,
    /// cancel, uninvited), or a reply still queued; not dismissed; and
    /// something is allowed.
    pub pending: bool,
    /// The last occurrence ended before `now` (unknown for endless series).
    pub past: bool,
    /// A reply to it waits in the outbox (the mail server has not taken it).
    pub queued: bool,
    /// The user dismissed it (`x`, tag `rsvp/dismissed`).
    pub dismissed: bool,
    pub recurring: bool,
    /// Upcoming occurrences one can answer alone.
    pub occurrences: Vec<Occurrence>,
    /// Overlapping busy events within the window, at most [`MAX_CONFLICTS`].
    pub conflicts: Vec<Conflict>,
    /// The day of the invitation's next occurrence (else its first) with
    /// the other events of that day; `None` for what takes no time slot
    /// (cancellations, replies, invalid data).
    pub agenda: Option<Agenda>,
    /// Why an answer would be refused (outdated, cancelled, not invited…).
    pub reply_refusal: Option<String>,
    /// Why applying it to the calendar would be refused.
    pub apply_refusal: Option<String>,
    /// A scheduling server sends the reply (`server_scheduling = "on"`);
    /// otherwise an answer is mailed to the organizer.
    pub server_sends_reply: bool,
    /// Invalid only because the MIME `method=` disagrees with the calendar's
    /// METHOD: the user may apply it as the calendar says (R7.2).
    pub method_mismatch: bool,
    /// My answers in the calendar when some occurrences were answered apart
    /// from the series: "1 occurrence declined · series needs an answer".
    pub answers: Option<String>,
    /// The iTIP METHOD and the UID as the calendar data says them (not
    /// made terminal-safe: for matching, never for display).
    pub method: Option<Method>,
    pub invite_uid: Option<String>,
    /// The message's Message-ID (for opening it in the mail client).
    pub message_id: Option<String>,
    /// LOCATION and every attendee's name and address, one per line: what
    /// the TUI's filter looks through besides the row's own text.
    pub search: String,
    /// When the item as built stops being true with the passing of time
    /// alone (an occurrence starts or ends, the event ends); `None` when
    /// nothing in it depends on the time of day.
    pub until: Option<DateTime<Utc>>,
    /// Its occurrences within the overlap window (start, end; unix
    /// seconds), when its conflicts are computed: a busy time that overlaps
    /// none of them cannot change the item. Runs of more than
    /// [`MAX_SLOTS`] are kept as one span from the first to the last.
    pub overlap_slots: Vec<(i64, i64)>,
    /// The message and classification behind the row. A listing served
    /// from the saved rows has none (nor an [`Item::agenda`]);
    /// [`super::Inbox::item`] always builds both.
    pub shown: Option<Box<Shown>>,
}

impl Item {
    /// The classification behind the row, when it was built with it.
    pub fn shown(&self) -> Option<&Shown> {
        self.shown.as_deref()
    }
}

/// A status that needs the user: an answer or applying to the calendar.
pub fn is_pending(status: Status) -> bool {
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

/// What the listing knows beyond the message itself.
pub(crate) struct Context<'a> {
    pub identity: &'a crate::domain::identity::Identity,
    pub clock: Clock,
    pub now: DateTime<Utc>,
    /// The overlap window and the calendar's busy occurrences in it,
    /// sorted by start.
    pub window: (DateTime<Utc>, DateTime<Utc>),
    pub busy: &'a [&'a super::cache::Busy],
    pub busy_occurrences: &'a [overlap::Occurrence],
    /// The longest of them (computed once per listing).
    pub busy_longest: chrono::Duration,
    pub trusted: &'a dyn Fn(&str) -> bool,
    /// Whether a reply to this UID is still in the outbox.
    pub queued: bool,
    /// `server_scheduling = "on"`: the server, not rsvp, sends replies.
    pub server_sends_reply: bool,
}

/// Whether `sender` is the organizer or its SENT-BY (R7.9, R9.1).
fn sender_is_organizer(inv: &Invite, sender: &str) -> bool {
    let Some(org) = inv.organizer() else {
        return true;
    };
    org.email.as_deref() == Some(sender)
        || org
            .sent_by
            .as_deref()
            .and_then(normalize_address)
            .is_some_and(|s| s == sender)
}

/// `Mon 2025-01-06 09:00` in the user's zone, `Mon 2025-01-06 all day`.
fn local_text(value: &CalDate, instant: Option<DateTime<Utc>>, clock: &Clock) -> String {
    match (value, instant) {
        (CalDate::Date(d), _) => format!("{} all day", d.format("%a %Y-%m-%d")),
        (_, Some(t)) => t
            .with_timezone(&clock.local)
            .format("%a %Y-%m-%d %H:%M")
            .to_string(),
        (_, None) => terminal_line(&value.display_key()),
    }
}

/// The start of the invitation's first component: all-day events at local
/// midnight.
fn start_of(value: &CalDate, invite: &Invite, clock: &Clock) -> Option<DateTime<Utc>> {
    match value {
        CalDate::Date(d) => clock
            .local
            .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
        other => clock.instant(other, &invite.cal),
    }
}

/// Build the item for one classified message.
pub(crate) fn build(
    ctx: &Context<'_>,
    message: Candidate,
    older: Vec<Candidate>,
    shown: Shown,
) -> Item {
    let class = &shown.class;
    let inv = shown.invite();
    let sender = shown
        .loaded
        .meta
        .as_ref()
        .and_then(|m| m.from.first())
        .and_then(|f| normalize_address(&f.address));
    let mut flags = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let say = |w: &str, warnings: &mut Vec<String>| {
        let w = terminal_line(w);
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    };
    for w in &class.warnings {
        say(w, &mut warnings);
    }

    let primary = inv.and_then(|i| i.primary());
    let start_value = primary.and_then(|c| c.dtstart().or_else(|| c.recurrence_id()));
    let start = match (&start_value, inv) {
        (Some(v), Some(i)) => start_of(v, i, &ctx.clock),
        _ => None,
    };
    let start_text = start_value
        .as_ref()
        .map(|v| {
            local_text(
                v,
                inv.and_then(|i| ctx.clock.instant(v, &i.cal)),
                &ctx.clock,
            )
        })
        .unwrap_or_default();

    let mut expansion = Expansion::default();
    let mut conflicts = Vec::new();
    let mut overlap_slots = Vec::new();
    let mut day = None;
    if let Some(inv) = inv {
        // Sender checks (R7.9, R9.1): a CANCEL answers to the stored organizer.
        let authority = match (&inv.method, &shown.stored) {
            (Some(Method::Cancel), Some((_, stored))) => stored,
            _ => inv,
        };
        if inv.method != Some(Method::Reply)
            && sender
                .as_deref()
                .is_some_and(|s| !sender_is_organizer(authority, s))
        {
            flags.push(Flag::SenderNotOrganizer);
        }
        if class.status == Status::OrganizerChanged {
            flags.push(Flag::OrganizerChanged);
        }
        // R9.2, T59: unknown sender and unknown UID. A relay such as
        // iCloud's noreply address sends for the organizer named by its
        // EMAIL= parameter: that address counts for the contacts check.
        let organizer_known = inv
            .organizer()
            .and_then(|o| o.email_param.as_deref().and_then(normalize_address))
            .is_some_and(|a| (ctx.trusted)(&a));
        if shown.stored.is_none() && !organizer_known && !sender.as_deref().is_some_and(ctx.trusted)
        {
            flags.push(Flag::Untrusted);
            let why = match &sender {
                Some(s) => format!(
                    "untrusted: {s} is not in your contacts and this event is not in your calendar"
                ),
                None => {
                    "untrusted: the message has no sender and this event is not in your calendar"
                        .into()
                }
            };
            say(&why, &mut warnings);
        }
        let (from, to) = ctx.window;
        expansion = overlap::expand(inv, ctx.clock.local, from, to, &|c| !c.is_cancelled());
        if expansion.capped || expansion.suspicious.is_some() {
            flags.push(Flag::RecurrenceCapped);
            let why = expansion.suspicious.clone().unwrap_or_else(|| {
                format!(
                    "the recurrence was cut after {} occurrences",
                    classify::MAX_EXPANSION
                )
            });
            say(&why, &mut warnings);
        }
        let wants_conflicts = matches!(
            inv.method,
            None | Some(Method::Request) | Some(Method::Publish) | Some(Method::Add)
        ) && !matches!(class.status, Status::Cancelled | Status::Invalid);
        if wants_conflicts {
            overlap_slots = slots(&expansion.occurrences);
            let own = inv.uid.as_str();
            let skip = |i: usize| ctx.busy.get(i).is_none_or(|b| b.uid == own);
            conflicts = overlap::overlapping_within(
                &expansion.occurrences,
                ctx.busy_occurrences,
                ctx.busy_longest,
                &skip,
                MAX_CONFLICTS,
            )
            .into_iter()
            .filter_map(|i| ctx.busy.get(i))
            .filter_map(|b| {
                Some(Conflict {
                    uid: b.uid.clone(),
                    summary: b.summary.clone(),
                    start: DateTime::from_timestamp(b.start, 0)?,
                    end: DateTime::from_timestamp(b.end, 0)?,
                })
            })
            .collect();
            let slot = expansion
                .occurrences
                .iter()
                .find(|o| o.end > ctx.now)
                .or(expansion.occurrences.first());
            day = slot.and_then(|o| agenda(ctx, own, o));
        }
    }
    let past = expansion.last_end.is_some_and(|end| end < ctx.now);
    // What changes with the time alone: the event ending (`past`), the
    // agenda's slot ending, the next upcoming occurrence starting.
    let mut until: Option<DateTime<Utc>> = None;
    let mut later = |t: DateTime<Utc>| {
        if t > ctx.now {
            until = Some(until.map_or(t, |u| u.min(t)));
        }
    };
    if let Some(end) = expansion.last_end {
        later(end);
    }
    if let Some(a) = &day {
        later(a.end);
    }
    for o in &expansion.occurrences {
        later(o.end);
        if o.end > ctx.now {
            break;
        }
    }
    if shown.loaded.method_mismatch {
        say(
            "not applied automatically: press c (or rsvp apply --force-method) to apply it as its calendar's METHOD says",
            &mut warnings,
        );
    }
    // Issue 7: an invitation to an address I did not configure is most
    // likely mine under another name: say which, and where to add it.
    if class.status == Status::NotInvited
        && let Some(to) = shown.loaded.meta.as_ref().and_then(|m| {
            m.delivered_to
                .first()
                .cloned()
                .or_else(|| m.to.first().map(|t| t.address.clone()))
        })
    {
        say(
            &format!("not invited (sent to {to} — add it to [identity] addresses?)"),
            &mut warnings,
        );
    }
    let dismissed = message.tags.iter().any(|t| t == super::DISMISSED_TAG);
    // A reply that the mail server has not accepted yet keeps the item in
    // the list (answerable again, `R` retries), even though the calendar
    // already holds the answer (R9.13).
    if ctx.queued {
        say(
            "your reply is queued: the mail server has not accepted it yet",
            &mut warnings,
        );
    }
    // `[calendar] declined = "drop"` keeps no copy: the message's tag is
    // what remembers the answer.
    let declined_unkept = class.status == Status::New
        && shown.stored.is_none()
        && message.tags.iter().any(|t| t == "rsvp/declined");
    // Issue 7 item 4: answering one occurrence does not answer the series.
    let answers = shown
        .stored
        .as_ref()
        .map(|(_, stored)| answers::summarize(stored, ctx.identity, &ctx.clock))
        .filter(answers::AnswerSummary::is_mixed);
    let series_open = answers
        .as_ref()
        .is_some_and(|a| a.series == Some(PartStat::NeedsAction))
        && class.reply_refusal.is_none();
    let pending = (is_pending(class.status) || ctx.queued || series_open)
        && !dismissed
        && !declined_unkept
        && (class.reply_refusal.is_none() || class.apply_refusal.is_none());
    let recurring = inv.is_some_and(|i| {
        i.components().iter().any(|c| c.is_recurring()) || !i.overrides().is_empty()
    });
    let occurrences = inv
        .filter(|_| recurring)
        .map(|i| occurrences(i, &ctx.clock, ctx.now))
        .unwrap_or_default();
    if let Some(first) = occurrences.first() {
        later(first.start);
    }
    let search = inv
        .and_then(|i| i.primary())
        .map(|main| {
            let mut lines: Vec<String> = Vec::new();
            if let Some(l) = main.text(&calcard::icalendar::ICalendarProperty::Location) {
                lines.push(terminal_line(&l));
            }
            for a in main.attendees() {
                lines.extend(a.cn.as_deref().map(terminal_line));
                lines.extend(a.email.as_deref().map(terminal_line));
            }
            lines.join("\n")
        })
        .unwrap_or_default();
    let organizer = inv.and_then(|i| i.organizer());
    let summary = inv
        .and_then(|i| i.summary())
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
        .unwrap_or_default();
    Item {
        key: message.id.clone(),
        path: message.path.clone(),
        uid: inv.map(|i| terminal_line(&i.uid)).unwrap_or_default(),
        status: class.status,
        partstat: if declined_unkept {
            Some(PartStat::Declined)
        } else {
            class.partstat
        },
        summary,
        start,
        start_text,
        all_day: start_value.as_ref().is_some_and(|v| v.is_date()),
        organizer: organizer.as_ref().map(|o| {
            let name =
                o.cn.as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .or(o.email.clone())
                    .unwrap_or(o.value.clone());
            terminal_line(&name)
        }),
        organizer_display: organizer.as_ref().map(|o| terminal_line(&o.display())),
        organizer_address: organizer.as_ref().and_then(|o| o.display_address()),
        organizer_cn: organizer
            .as_ref()
            .and_then(|o| o.cn.as_deref().map(terminal_line)),
        sender,
        flags,
        warnings,
        superseded: older.len(),
        older,
        message,
        pending,
        past,
        queued: ctx.queued,
        dismissed,
        recurring,
        occurrences,
        conflicts,
        agenda: day,
        reply_refusal: class.reply_refusal.as_deref().map(terminal_line),
        apply_refusal: class.apply_refusal.as_deref().map(terminal_line),
        server_sends_reply: ctx.server_sends_reply,
        answers: answers.map(|a| terminal_line(&a.text())),
        method_mismatch: shown.loaded.method_mismatch,
        method: inv.and_then(|i| i.method),
        invite_uid: inv.map(|i| i.uid.clone()),
        message_id: shown
            .loaded
            .meta
            .as_ref()
            .and_then(|m| m.message_id.clone()),
        search,
        until,
        overlap_slots,
        shown: Some(Box::new(shown)),
    }
}

/// The local day of `slot` with the busy events of every calendar that
/// day (a binary search in the busy list sorted by start), marked where
/// they overlap `slot`; the invitation's own UID is left out.
fn agenda(ctx: &Context<'_>, own: &str, slot: &overlap::Occurrence) -> Option<Agenda> {
    let zone = ctx.clock.local;
    let day = slot.start.with_timezone(&zone).date_naive();
    let midnight = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    let (d0, d1) = (midnight(day)?, midnight(day.succ_opt()?)?);
    let look_from = (d0 - Duration::days(AGENDA_LOOKBACK_DAYS)).timestamp();
    let first = ctx.busy.partition_point(|b| b.start < look_from);
    let last = ctx.busy.partition_point(|b| b.start < d1.timestamp());
    let mut events: Vec<AgendaEntry> = Vec::new();
    for b in ctx.busy.get(first..last).unwrap_or_default() {
        if b.end <= d0.timestamp() || b.uid == own {
            continue;
        }
        let (Some(start), Some(end)) = (
            DateTime::from_timestamp(b.start, 0),
            DateTime::from_timestamp(b.end, 0),
        ) else {
            continue;
        };
        // The same event in two calendars is one event.
        if events.iter().any(|e| e.uid == b.uid && e.start == start) {
            continue;
        }
        events.push(AgendaEntry {
            uid: b.uid.clone(),
            summary: b.summary.clone(),
            start,
            end,
            overlaps: start < slot.end && end > slot.start,
        });
        if events.len() >= MAX_AGENDA {
            break;
        }
    }
    Some(Agenda {
        day,
        start: slot.start,
        end: slot.end,
        events,
    })
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
