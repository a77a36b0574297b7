//! Terminal-safe text of an invitation, shared by `show` and `render`.
//! Fields are made one-line with `terminal_line` for the layout, and the
//! whole text leaves through [`terminal_safe`] (R9.5, T55): a field that
//! forgets its sanitiser, a TZID or a parameter value cannot bypass it.

use crate::domain::classify::Classification;
use crate::domain::diff::{self, Change, Clock};
use crate::domain::ical::CalDate;
use crate::domain::invite::{Comp, Invite, Method};
use crate::domain::sanitize::{terminal_line, terminal_safe};
use calcard::icalendar::ICalendarProperty;

pub use crate::domain::describe::status_words;

/// Describe an invitation shown against the calendar, or say why it is
/// invalid.
pub fn describe_shown(shown: &crate::inbox::Shown, clock: &Clock) -> String {
    terminal_safe(&match shown.invite() {
        Some(inv) => describe(inv, Some(&shown.class), clock),
        None => format!(
            "invalid invitation: {}\n",
            shown
                .class
                .warnings
                .first()
                .map(|w| terminal_line(w))
                .unwrap_or_default()
        ),
    })
}

/// Describe `invite`; `class` adds status, diff and warnings.
pub fn describe(invite: &Invite, class: Option<&Classification>, clock: &Clock) -> String {
    terminal_safe(&describe_raw(invite, class, clock))
}

/// The text of [`describe`] before the final pass through `terminal_safe`.
fn describe_raw(invite: &Invite, class: Option<&Classification>, clock: &Clock) -> String {
    let mut out = String::new();
    let title = invite
        .summary()
        .map(|s| terminal_line(&s))
        .unwrap_or_else(|| "(no title)".into());
    let method = invite.method.map(Method::as_str).unwrap_or("no METHOD");
    out.push_str(&format!("{title}\n"));
    let mut line2 = method.to_string();
    if let Some(c) = class {
        line2.push_str(&format!(" · {}", status_words(c.status)));
        if let Some(ps) = c.partstat {
            line2.push_str(&format!(" · your answer: {}", ps.human()));
        }
    }
    out.push_str(&format!("{line2}\n\n"));

    let all_cancelled =
        !invite.components().is_empty() && invite.components().iter().all(|c| c.is_cancelled());
    if invite.method == Some(Method::Cancel) || all_cancelled {
        out.push_str("*** This event is CANCELLED ***\n\n");
    }
    if let Some(main) = invite.primary() {
        describe_component(&mut out, invite, main, clock, invite.is_naked());
    }
    // Exceptions and instance overrides.
    let overrides = invite.overrides();
    if !overrides.is_empty() && invite.master().is_some() {
        out.push_str("Exceptions:\n");
        for o in &overrides {
            out.push_str(&format!("  {}\n", override_line(invite, *o, clock)));
        }
    } else if invite.is_naked() && overrides.len() > 1 {
        out.push_str("Occurrences you are invited to:\n");
        for o in &overrides {
            out.push_str(&format!("  {}\n", override_line(invite, *o, clock)));
        }
    }
    if let Some(master) = invite.master() {
        let ex = master.exdates();
        if !ex.is_empty() {
            out.push_str("Cancelled occurrences:\n");
            for x in ex.iter().take(50) {
                out.push_str(&format!("  {}\n", clock.format(x, &invite.cal)));
            }
        }
    }
    if let Some(c) = class {
        if !c.changes.is_empty() {
            out.push_str("\nChanges against your calendar:\n");
            out.push_str(&changes_text(&c.changes));
        }
        // A bare calendar file (mailcap, aerc filters) has no sender: that
        // is a note, not a warning on every legitimate invitation.
        let bare = c
            .warnings
            .iter()
            .any(|w| w == crate::domain::classify::NO_SENDER_WARNING);
        let warnings: Vec<&String> = c
            .warnings
            .iter()
            .filter(|w| *w != crate::domain::classify::NO_SENDER_WARNING)
            .collect();
        if !warnings.is_empty() {
            out.push_str("\nWarnings:\n");
            for w in warnings {
                out.push_str(&format!("  ! {}\n", terminal_line(w)));
            }
        }
        if let Some(r) = &c.reply_refusal {
            out.push_str(&format!(
                "\nAnswering: not possible: {}\n",
                terminal_line(r)
            ));
        }
        if bare {
            out.push_str(
                "\nNote: a calendar file without its message: the sender was not checked.\n",
            );
        }
    }
    out
}

fn override_line(invite: &Invite, o: Comp<'_>, clock: &Clock) -> String {
    let rid = o
        .recurrence_id()
        .map(|r| clock.format(&r, &invite.cal))
        .unwrap_or_default();
    let mut s = rid.clone();
    if o.is_cancelled() {
        s.push_str(": cancelled");
    } else if let Some(start) = o.dtstart() {
        let start_txt = clock.format(&start, &invite.cal);
        if start_txt != rid {
            s.push_str(&format!(": moved to {start_txt}"));
        }
    }
    if let Some(sum) = o.summary()
        && invite.master().and_then(|m| m.summary()).as_deref() != Some(sum.as_str())
    {
        s.push_str(&format!(" \u{2014} {}", terminal_line(&sum)));
    }
    s
}

fn describe_component(out: &mut String, invite: &Invite, c: Comp<'_>, clock: &Clock, naked: bool) {
    let field = |out: &mut String, name: &str, value: &str| {
        out.push_str(&format!("{name:<10} {value}\n"));
    };
    if let Some(start) = c.dtstart() {
        let mut when = clock.format(&start, &invite.cal);
        if let Some(end) = c.dtend() {
            let end_txt = match (&start, &end) {
                (CalDate::Date(s), CalDate::Date(e)) => {
                    let days = (*e - *s).num_days();
                    if days > 1 {
                        format!(
                            " to {} ({days} days)",
                            (*e - chrono::Duration::days(1)).format("%a %Y-%m-%d")
                        )
                    } else {
                        String::new()
                    }
                }
                _ => format!(" \u{2013} {}", clock.format(&end, &invite.cal)),
            };
            when.push_str(&end_txt);
        } else if let Some(d) = c.duration() {
            when.push_str(&format!(" for {}", human_duration(d)));
        }
        field(out, if naked { "First:" } else { "When:" }, &when);
    }
    if let Some(rule) = c.rrule() {
        field(out, "Repeats:", &recurrence_words(&rule, clock, invite));
    }
    if let Some(loc) = c
        .text(&ICalendarProperty::Location)
        .filter(|s| !s.trim().is_empty())
    {
        field(out, "Where:", &terminal_line(&loc));
    }
    if let Some(link) = diff::conference(c) {
        field(out, "Join:", &terminal_line(&link));
    }
    if let Some(org) = c.organizer() {
        field(out, "Organizer:", &terminal_line(&org.display()));
    }
    let atts = c.attendees();
    if !atts.is_empty() {
        out.push_str("Attendees:\n");
        for a in atts.iter().take(100) {
            out.push_str(&format!(
                "  {:<13} {}\n",
                a.partstat.human(),
                terminal_line(&a.display())
            ));
        }
        if atts.len() > 100 {
            out.push_str(&format!("  … and {} more\n", atts.len() - 100));
        }
    }
    if let Some(desc) = c
        .text(&ICalendarProperty::Description)
        .filter(|s| !s.trim().is_empty())
    {
        out.push('\n');
        let safe = terminal_safe(desc.trim());
        for line in safe.lines().take(200) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push('\n');
}

fn human_duration(d: chrono::Duration) -> String {
    let mins = d.num_minutes();
    if mins == 0 {
        format!("{} s", d.num_seconds())
    } else if mins % (60 * 24) == 0 {
        format!("{} day(s)", mins / (60 * 24))
    } else if mins % 60 == 0 {
        format!("{} h", mins / 60)
    } else {
        format!("{} min", mins)
    }
}

pub use crate::domain::describe::recurrence_words;

/// The diff as text lines (old → new).
pub fn changes_text(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        let scope = c
            .recurrence_id
            .as_ref()
            .map(|r| format!(" (occurrence {})", terminal_line(r)))
            .unwrap_or_default();
        let mark = if c.significant { "*" } else { " " };
        if !c.lines.is_empty() {
            out.push_str(&format!(" {mark}{}{scope}:\n", c.field));
            for l in c.lines.iter().take(100) {
                out.push_str(&format!("      {}\n", terminal_line(l)));
            }
            continue;
        }
        let old = c
            .old
            .as_deref()
            .map(terminal_line)
            .unwrap_or_else(|| "(none)".into());
        let new = c
            .new
            .as_deref()
            .map(terminal_line)
            .unwrap_or_else(|| "(none)".into());
        out.push_str(&format!(
            " {mark}{}{scope}: {old} \u{2192} {new}\n",
            c.field
        ));
    }
    out
}
