//! The detail pane: the invitation in my time zone (and the event's when it
//! differs), what the engine allows, the diff against my calendar (old
//! struck through in red, new in green), conflicts, warnings, attendees with
//! their answers, recurrence in words with exceptions, the description.
//! Every string from the message goes through `sanitize` (R9.5).

use super::{Theme, status_words};
use crate::domain::classify::Status;
use crate::domain::describe::recurrence_words;
use crate::domain::diff::{self, Change, Clock};
use crate::domain::ical::CalDate;
use crate::domain::invite::{Comp, Invite, Method, Party};
use crate::domain::sanitize::{terminal_line, terminal_safe};
use crate::domain::tz;
use crate::keymap::Action;
use crate::tui::state::{Focus, Row, State};
use calcard::icalendar::ICalendarProperty;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// Width of the field labels (`When`, `Where` …).
const LABEL: usize = 10;
/// Most attendees and description lines shown.
const MAX_ATTENDEES: usize = 100;
const MAX_DESCRIPTION_LINES: usize = 200;

/// Draw the detail pane of the selected invitation, scrolled.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let focused = state.focus == Focus::Detail;
    let mut title = " Details ".to_string();
    if focused {
        let back = state
            .keymap
            .label(Action::Back)
            .map(|k| format!("· {k} back to the list "))
            .unwrap_or_default();
        title = format!(" Details (scroll with the movement keys) {back}");
    }
    let block = Block::new()
        .borders(Borders::TOP)
        .title(title)
        .border_style(if focused {
            theme.heading()
        } else {
            theme.dim()
        });
    let Some(row) = state.selected_row() else {
        frame.render_widget(block, area);
        return;
    };
    let lines = lines(row, state, theme);
    let inner_height = area.height.saturating_sub(1);
    // Keep some text on screen however far the user scrolled.
    let width = usize::from(area.width.max(1));
    let wrapped: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let max_scroll =
        (wrapped.min(usize::from(u16::MAX)) as u16).saturating_sub(inner_height.max(1));
    let scroll = state
        .detail_scroll
        .min(max_scroll.saturating_add(inner_height / 2));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

fn label_line(theme: &Theme, label: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.label())];
    spans.extend(value);
    Line::from(spans)
}

fn field(theme: &Theme, label: &str, value: String) -> Line<'static> {
    label_line(theme, label, vec![Span::raw(value)])
}

/// The lines of the detail pane for `row`.
pub fn lines(row: &Row, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let clock = &state.clock;
    let mut out: Vec<Line<'static>> = Vec::new();
    out.push(Line::styled(row.summary.clone(), theme.label()));
    let method = match (&row.invite_uid, row.method) {
        (None, _) => "unreadable",
        (Some(_), Some(m)) => m.as_str(),
        (Some(_), None) => "no METHOD",
    };
    let mut head = vec![
        Span::raw(format!("{method} · ")),
        Span::styled(status_words(row.status), theme.badge(row.status)),
    ];
    if let Some(answers) = &row.answers {
        // Some occurrences answered apart from the series (issue 7 item 4).
        head.push(Span::raw(format!(" · {answers}")));
    } else if let Some(p) = row.partstat {
        head.push(Span::raw(if row.status == Status::Reschedule {
            " · your answer before the change: "
        } else {
            " · your answer: "
        }));
        head.push(Span::styled(p.human(), theme.partstat(p)));
    }
    if row.superseded > 0 {
        head.push(Span::styled(
            format!(
                " · {} older version{} hidden",
                row.superseded,
                if row.superseded == 1 { "" } else { "s" }
            ),
            theme.dim(),
        ));
    }
    out.push(Line::from(head));
    availability(row, state, theme, &mut out);

    let Some(shown) = row.shown() else {
        // Rows served from the saved listing: the worker loads the rest.
        out.push(Line::raw(""));
        out.push(Line::styled("loading the details…", theme.dim()));
        return out;
    };
    let Some(invite) = shown.invite() else {
        out.push(Line::raw(""));
        if let Err(reason) = &shown.loaded.invite {
            out.push(Line::styled(
                format!(
                    "This message cannot be read as an invitation: {}",
                    terminal_line(reason)
                ),
                theme.error(),
            ));
        }
        // Enough to find the message in the mail reader.
        let meta = shown.loaded.meta.as_ref();
        if let Some(subject) = meta.and_then(|m| m.subject.as_deref()) {
            out.push(field(theme, "Subject", terminal_line(subject)));
        }
        if let Some(from) = meta.and_then(|m| m.from.first()) {
            let who = match &from.name {
                Some(n) if !n.trim().is_empty() => format!("{} <{}>", n.trim(), from.address),
                _ => from.address.clone(),
            };
            out.push(field(theme, "From", terminal_line(&who)));
        }
        out.push(field(theme, "File", terminal_line(&row.path)));
        warnings(row, theme, &mut out);
        return out;
    };
    out.push(Line::raw(""));
    let all_cancelled =
        !invite.components().is_empty() && invite.components().iter().all(|c| c.is_cancelled());
    if invite.method == Some(Method::Cancel) || all_cancelled {
        out.push(Line::styled(
            "*** This event is CANCELLED ***",
            theme.error(),
        ));
    }
    // What changed and what clashes come first: they are why the user looks.
    // "Asks you again" (R3.8) only means something when an answer is possible.
    let answerable = row.reply_refusal.is_none();
    changes(&shown.class.changes, answerable, theme, &mut out);
    conflicts(row, clock, theme, &mut out);
    agenda(row, clock, theme, &mut out);
    if out.last().is_some_and(|l| l.width() > 0) {
        out.push(Line::raw(""));
    }
    if let Some(main) = invite.primary() {
        event_fields(invite, main, clock, theme, &mut out);
    }
    warnings(row, theme, &mut out);
    if let Some(main) = invite.primary() {
        attendees(row, main, theme, &mut out);
        if let Some(desc) = main
            .text(&ICalendarProperty::Description)
            .filter(|s| !s.trim().is_empty())
        {
            out.push(Line::raw(""));
            out.push(Line::styled("Description", theme.heading()));
            let safe = terminal_safe(desc.trim()).replace('\t', "    ");
            let all: Vec<&str> = safe.lines().collect();
            for l in all.iter().take(MAX_DESCRIPTION_LINES) {
                out.push(Line::raw(format!("  {l}")));
            }
            if all.len() > MAX_DESCRIPTION_LINES {
                out.push(Line::styled(
                    format!("  … {} more lines", all.len() - MAX_DESCRIPTION_LINES),
                    theme.dim(),
                ));
            }
        }
    }
    out
}

/// Where an answer goes, said before a key is pressed: mailed to the
/// organizer, sent by the calendar server, or (after `n`) not mailed.
fn reply_line(row: &Row, state: &State, theme: &Theme) -> Line<'static> {
    let no_send = state.keymap.label(Action::AnswerNoSend);
    let (text, hint) = if row.server_sends_reply {
        ("your calendar server sends the reply".to_string(), None)
    } else if state.no_send {
        (
            "not mailed: the next answer changes your calendar only".to_string(),
            None,
        )
    } else {
        let to = row
            .organizer_address
            .as_deref()
            .map(terminal_line)
            .unwrap_or_else(|| "the organizer".to_string());
        (
            format!("reply mailed to {to}"),
            no_send.map(|k| format!("  ({k}: don't mail it)")),
        )
    };
    let mut spans = vec![Span::styled("Answer: ", theme.label()), Span::raw(text)];
    if let Some(h) = hint {
        spans.push(Span::styled(h, theme.dim()));
    }
    Line::from(spans)
}

/// What the keys can do for this row, shown before any key is pressed.
fn availability(row: &Row, state: &State, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let keys = |actions: &[Action]| {
        actions
            .iter()
            .filter_map(|a| state.keymap.label(*a))
            .collect::<Vec<_>>()
            .join("/")
    };
    let answer_keys = keys(&[Action::Accept, Action::Decline, Action::Tentative]);
    let reply = state.refusal(row, Action::Accept);
    if let Some(reason) = &reply {
        out.push(Line::from(vec![
            Span::styled(format!("Answer ({answer_keys}) disabled: "), theme.error()),
            Span::raw(reason.clone()),
        ]));
    } else {
        out.push(reply_line(row, state, theme));
    }
    if let Some(reason) = state.refusal(row, Action::Apply) {
        let apply_key = keys(&[Action::Apply]);
        // An invitation that can be answered does not need "apply" explained.
        if reply.is_some() && Some(&reason) != reply.as_ref() {
            out.push(Line::from(vec![
                Span::styled(format!("Apply ({apply_key}) disabled: "), theme.error()),
                Span::raw(reason),
            ]));
        }
    }
    let applies = matches!(
        row.status,
        Status::Update | Status::Cancel(_) | Status::Uninvited
    );
    if applies && state.refusal(row, Action::Apply).is_none() {
        let apply_key = keys(&[Action::Apply]);
        if !apply_key.is_empty() {
            out.push(Line::from(vec![
                Span::styled(format!("Apply ({apply_key}) "), theme.label()),
                Span::raw(if matches!(row.status, Status::Update) {
                    "brings the event in your calendar up to date"
                } else {
                    "marks it cancelled in your calendar"
                }),
            ]));
        }
    }
    if reply.is_none() && row.recurring {
        let i = keys(&[Action::ChooseOccurrence]);
        let change = if i.is_empty() {
            String::new()
        } else {
            format!("  ({i}: choose)")
        };
        let scope = match state.scope_of(row) {
            Some(o) => format!("only the occurrence {}", o.label),
            None => "the whole series".to_string(),
        };
        out.push(Line::from(vec![
            Span::styled("Answering ", theme.label()),
            Span::raw(scope),
            Span::styled(change, theme.dim()),
        ]));
    }
}

fn event_fields(
    invite: &Invite,
    c: Comp<'_>,
    clock: &Clock,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    if let Some(start) = c.dtstart() {
        let (mine, theirs) = when(invite, c, &start, clock);
        let label = if invite.is_naked() { "First" } else { "When" };
        out.push(field(theme, label, mine));
        if let Some(t) = theirs {
            out.push(label_line(theme, "", vec![Span::styled(t, theme.dim())]));
        }
    }
    if let Some(rule) = c.rrule() {
        out.push(field(
            theme,
            "Repeats",
            recurrence_words(&rule, clock, invite),
        ));
    }
    exceptions(invite, clock, theme, out);
    if let Some(loc) = c
        .text(&ICalendarProperty::Location)
        .filter(|s| !s.trim().is_empty())
    {
        out.push(field(theme, "Where", terminal_line(loc.trim())));
    }
    if let Some(link) = diff::conference(c) {
        out.push(field(theme, "Join", terminal_line(&link)));
    }
    if let Some(org) = c.organizer() {
        out.push(field(theme, "Organizer", terminal_line(&org.display())));
    }
}

/// `Mon 2025-01-06 09:00–10:00 CET` in my zone, and the event's own wall
/// clock when its zone differs.
fn when(invite: &Invite, c: Comp<'_>, start: &CalDate, clock: &Clock) -> (String, Option<String>) {
    let cal = &invite.cal;
    let end = c.dtend().or_else(|| {
        let d = c.duration()?;
        Some(CalDate::with_form_of(start.naive() + d, start))
    });
    match start {
        CalDate::Date(s) => {
            let days = match &end {
                Some(CalDate::Date(e)) => (*e - *s).num_days(),
                _ => 1,
            };
            let text = if days > 1 {
                format!(
                    "{} – {} ({days} days)",
                    s.format("%a %Y-%m-%d"),
                    (*s + chrono::Duration::days(days - 1)).format("%a %Y-%m-%d")
                )
            } else {
                format!("{} (all day)", s.format("%a %Y-%m-%d"))
            };
            (text, None)
        }
        CalDate::Floating(_) => (
            format!(
                "{} (floating: the same wall-clock time in every zone)",
                span_text(start.naive(), end.as_ref().map(CalDate::naive), None)
            ),
            None,
        ),
        _ => {
            let Some(s) = clock.instant(start, cal) else {
                return (clock.format(start, cal), None);
            };
            let e = end.as_ref().and_then(|e| clock.instant(e, cal));
            let local = |t: DateTime<Utc>| t.with_timezone(&clock.local).naive_local();
            let zone_name = s.with_timezone(&clock.local).format("%Z").to_string();
            let mine = span_text(local(s), e.map(local), Some(&zone_name));
            let event_zone: Option<Tz> = start.tzid().and_then(|t| tz::resolve_tzid(t, cal));
            let theirs = match (event_zone, start.tzid()) {
                (Some(z), Some(name)) if z != clock.local => {
                    let wall = |t: DateTime<Utc>| t.with_timezone(&z).naive_local();
                    let text = span_text(wall(s), e.map(wall), None);
                    (text != span_text(local(s), e.map(local), None))
                        .then(|| format!("{text} in the event's zone ({})", terminal_line(name)))
                }
                _ => None,
            };
            (mine, theirs)
        }
    }
}

fn span_text(
    start: chrono::NaiveDateTime,
    end: Option<chrono::NaiveDateTime>,
    zone: Option<&str>,
) -> String {
    let zone = zone.map(|z| format!(" {z}")).unwrap_or_default();
    match end {
        Some(e) if e.date() == start.date() => format!(
            "{}–{}{zone}",
            start.format("%a %Y-%m-%d %H:%M"),
            e.format("%H:%M")
        ),
        Some(e) => format!(
            "{} – {}{zone}",
            start.format("%a %Y-%m-%d %H:%M"),
            e.format("%a %Y-%m-%d %H:%M")
        ),
        None => format!("{}{zone}", start.format("%a %Y-%m-%d %H:%M")),
    }
}

/// Moved and cancelled occurrences of a series (overrides and EXDATE).
fn exceptions(invite: &Invite, clock: &Clock, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let mut items: Vec<String> = Vec::new();
    let master_summary = invite.master().and_then(|m| m.summary());
    for o in invite.overrides() {
        let Some(rid) = o.recurrence_id() else {
            continue;
        };
        let rid_text = clock.format(&rid, &invite.cal);
        let mut s = rid_text.clone();
        if o.is_cancelled() {
            s.push_str(": cancelled");
        } else if let Some(start) = o.dtstart() {
            let start_text = clock.format(&start, &invite.cal);
            if start_text != rid_text {
                s.push_str(&format!(": moved to {start_text}"));
            } else if invite.master().is_some() {
                s.push_str(": changed");
            }
        }
        if let Some(sum) = o.summary()
            && master_summary.as_deref() != Some(sum.as_str())
        {
            s.push_str(&format!(" — {}", terminal_line(&sum)));
        }
        items.push(s);
    }
    if let Some(master) = invite.master() {
        for x in master.exdates().iter().take(50) {
            items.push(format!("{}: cancelled", clock.format(x, &invite.cal)));
        }
    }
    if items.is_empty() {
        return;
    }
    let label = if invite.is_naked() {
        "Occurrences you are invited to"
    } else {
        "Exceptions"
    };
    out.push(Line::styled(label.to_string(), theme.label()));
    for i in items {
        out.push(Line::raw(format!("  {i}")));
    }
}

/// A field name for people.
fn field_name(field: &str) -> &str {
    match field {
        "SUMMARY" => "Title",
        "DTSTART" => "Start",
        "DTEND" => "End",
        "LOCATION" => "Where",
        "DESCRIPTION" => "Description",
        "ORGANIZER" => "Organizer",
        "STATUS" => "Status",
        "RRULE" => "Repeats",
        "RECURRENCE" => "Recurrence",
        "EXDATE" => "Cancelled occurrence",
        "RDATE" => "Extra occurrence",
        "RECURRENCE-ID" => "Exception",
        "CONFERENCE" => "Join",
        "ATTENDEE" => "Attendee",
        other => other,
    }
}

/// The diff against the stored copy: `- old` struck through in red, `+ new`
/// in green; the markers keep it readable without colour.
fn changes(changes: &[Change], answerable: bool, theme: &Theme, out: &mut Vec<Line<'static>>) {
    if changes.is_empty() {
        return;
    }
    out.push(Line::styled(
        "Changes against your calendar",
        theme.heading(),
    ));
    for c in changes {
        let mut head = vec![Span::styled(
            format!("  {}", field_name(&c.field)),
            theme.label(),
        )];
        if let Some(r) = &c.recurrence_id {
            head.push(Span::raw(format!(" (occurrence {})", terminal_line(r))));
        }
        if c.significant && answerable {
            head.push(Span::styled(" *", theme.warning()));
        }
        out.push(Line::from(head));
        if !c.lines.is_empty() {
            for l in c.lines.iter().take(MAX_DESCRIPTION_LINES) {
                let safe = terminal_line(l);
                let line = match safe.chars().next() {
                    Some('-') => {
                        Line::from(vec![Span::raw("    "), Span::styled(safe, theme.old())])
                    }
                    Some('+') => Line::from(vec![
                        Span::raw("    "),
                        Span::styled(safe, theme.new_value()),
                    ]),
                    _ => Line::raw(format!("    {safe}")),
                };
                out.push(line);
            }
            continue;
        }
        if let Some(old) = &c.old {
            out.push(Line::from(vec![
                Span::styled(
                    "    - ",
                    theme
                        .old()
                        .remove_modifier(ratatui::style::Modifier::CROSSED_OUT),
                ),
                Span::styled(terminal_line(old), theme.old()),
            ]));
        }
        if let Some(new) = &c.new {
            out.push(Line::from(vec![
                Span::styled("    + ", theme.new_value()),
                Span::styled(terminal_line(new), theme.new_value()),
            ]));
        }
    }
    if answerable && changes.iter().any(|c| c.significant) {
        out.push(Line::styled(
            "  * a change that asks you to answer again",
            theme.dim(),
        ));
    }
}

fn conflicts(row: &Row, clock: &Clock, theme: &Theme, out: &mut Vec<Line<'static>>) {
    if row.conflicts.is_empty() {
        return;
    }
    if out.last().is_some_and(|l| l.width() > 0) {
        out.push(Line::raw(""));
    }
    out.push(Line::styled(
        format!("Conflicts with your calendar ({})", row.conflicts.len()),
        theme.warning().add_modifier(ratatui::style::Modifier::BOLD),
    ));
    for c in &row.conflicts {
        let local = |t: DateTime<Utc>| t.with_timezone(&clock.local).naive_local();
        let zone = c.start.with_timezone(&clock.local).format("%Z").to_string();
        out.push(Line::from(vec![
            Span::styled("  × ", theme.warning()),
            Span::raw(format!(
                "{}  {}",
                span_text(local(c.start), Some(local(c.end)), Some(&zone)),
                c.summary
            )),
        ]));
    }
}

/// The invitation's day among the user's other events (every calendar),
/// overlaps marked `×`, the invitation itself `▶`.
fn agenda(row: &Row, clock: &Clock, theme: &Theme, out: &mut Vec<Line<'static>>) {
    // A free day needs no section.
    let Some(day) = row.agenda.as_ref().filter(|d| !d.events.is_empty()) else {
        return;
    };
    if out.last().is_some_and(|l| l.width() > 0) {
        out.push(Line::raw(""));
    }
    out.push(Line::styled(
        format!("Your day: {}", day.day.format("%a %Y-%m-%d")),
        theme.heading(),
    ));
    // Times within the day; "…" where an event runs over midnight.
    let span = |start: DateTime<Utc>, end: DateTime<Utc>| {
        let s = start.with_timezone(&clock.local).naive_local();
        let e = end.with_timezone(&clock.local).naive_local();
        let next = day.day.succ_opt().unwrap_or(day.day);
        let starts_before = s.date() < day.day || s.time() == chrono::NaiveTime::MIN;
        let ends_after = e.date() > next || (e.date() == next && e.time() > chrono::NaiveTime::MIN);
        let ends_at_midnight = e.date() == next && e.time() == chrono::NaiveTime::MIN;
        if starts_before && (ends_after || ends_at_midnight) {
            return "all day".to_string();
        }
        let from = if s.date() < day.day {
            "…".to_string()
        } else {
            s.format("%H:%M").to_string()
        };
        let to = if ends_after {
            "…".to_string()
        } else if ends_at_midnight {
            "24:00".to_string()
        } else {
            e.format("%H:%M").to_string()
        };
        format!("{from}–{to}")
    };
    let mine = Line::from(vec![
        Span::styled("  ▶ ", theme.label()),
        Span::styled(
            format!(
                "{:<13}{} (this invitation)",
                span(day.start, day.end),
                row.summary
            ),
            theme.label(),
        ),
    ]);
    let mut placed = false;
    for e in &day.events {
        if !placed && e.start > day.start {
            out.push(mine.clone());
            placed = true;
        }
        let (mark, style) = if e.overlaps {
            ("  × ", theme.warning())
        } else {
            ("    ", theme.dim())
        };
        out.push(Line::from(vec![
            Span::styled(mark, theme.warning()),
            Span::styled(format!("{:<13}{}", span(e.start, e.end), e.summary), style),
        ]));
    }
    if !placed {
        out.push(mine);
    }
}

fn warnings(row: &Row, theme: &Theme, out: &mut Vec<Line<'static>>) {
    if row.warnings.is_empty() {
        return;
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Warnings",
        theme.warning().add_modifier(ratatui::style::Modifier::BOLD),
    ));
    for w in &row.warnings {
        out.push(Line::from(vec![
            Span::styled("  ! ", theme.warning()),
            Span::raw(w.clone()),
        ]));
    }
}

fn attendees(row: &Row, c: Comp<'_>, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let atts = c.attendees();
    if atts.is_empty() {
        return;
    }
    let class = row.shown().map(|s| &s.class);
    let me = class.and_then(|c| c.me()).map(|m| m.party.email.clone());
    out.push(Line::raw(""));
    out.push(Line::styled(
        format!("Attendees ({})", atts.len()),
        theme.heading(),
    ));
    for a in atts.iter().take(MAX_ATTENDEES) {
        let is_me = me.as_ref().is_some_and(|m| m.is_some() && *m == a.email);
        // My own answer is the one in my calendar, not the organizer's copy.
        let partstat = match (is_me, class.and_then(|c| c.partstat)) {
            (true, Some(mine)) => mine,
            _ => a.partstat,
        };
        let mut spans = vec![
            Span::raw("  "),
            Span::styled(
                format!("{:<13}", partstat.human()),
                theme.partstat(partstat),
            ),
            Span::raw(terminal_line(&person(a))),
        ];
        if is_me {
            spans.push(Span::styled(" (you)", theme.label()));
        }
        if a.role.as_deref() == Some("OPT-PARTICIPANT") {
            spans.push(Span::styled(" (optional)", theme.dim()));
        }
        out.push(Line::from(spans));
    }
    if atts.len() > MAX_ATTENDEES {
        out.push(Line::styled(
            format!("  … and {} more", atts.len() - MAX_ATTENDEES),
            theme.dim(),
        ));
    }
}

/// `Name <address>`, or just the address when the name is the address.
fn person(p: &Party) -> String {
    match (&p.cn, &p.email) {
        (Some(cn), Some(email)) if cn.trim().eq_ignore_ascii_case(email) => email.clone(),
        _ => p.display(),
    }
}
