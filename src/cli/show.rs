//! `rsvp show`: an invitation classified against the calendar (text or JSON).

use super::{Failure, Input, Out, exit, json_text, present, write_out};
use crate::domain::classify::Classification;
use crate::domain::diff::Clock;
use crate::inbox::{self, Inbox};
use serde_json::{Value, json};

/// The JSON object of `show --json` (README contract).
pub fn show_json(shown: &inbox::Shown, clock: &Clock) -> Value {
    let class: &Classification = &shown.class;
    let inv = shown.invite();
    let primary = inv.and_then(|i| i.primary());
    let fmt_date = |d: Option<crate::domain::ical::CalDate>| -> Value {
        match (d, inv) {
            (Some(d), Some(i)) => {
                let instant = clock.instant(&d, &i.cal);
                json!({
                    "value": d.display_key(),
                    "all_day": d.is_date(),
                    "utc": instant.map(|t| t.to_rfc3339()),
                    "local": instant.map(|t| t.with_timezone(&clock.local).to_rfc3339()),
                    "text": clock.format(&d, &i.cal),
                })
            }
            _ => Value::Null,
        }
    };
    let organizer = inv.and_then(|i| i.organizer());
    json!({
        "method": inv.and_then(|i| i.method).map(|m| m.as_str()),
        "uid": inv.map(|i| i.uid.clone()),
        "status": class.status.as_str(),
        "cancel_scope": class.status.cancel_scope(),
        "summary": inv.and_then(|i| i.summary()),
        "organizer": organizer.as_ref().map(|o| json!({
            "address": o.email, "name": o.cn, "value": o.value,
        })),
        "me": class.me().map(|m| json!({
            "address": m.address, "attendee": m.party.value, "group": m.via_group,
        })),
        "partstat": class.partstat.map(|p| p.as_str()),
        "rsvp": class.rsvp_requested,
        "sequence": inv.map(|i| i.sequence()),
        "start": fmt_date(primary.and_then(|c| c.dtstart())),
        "end": fmt_date(primary.and_then(|c| c.dtend())),
        "recurring": primary.map(|c| c.is_recurring()).unwrap_or(false),
        "in_calendar": shown.stored.as_ref().map(|s| s.0.href.clone()),
        "changes": class.changes.iter().map(|c| json!({
            "field": c.field, "old": c.old, "new": c.new,
            "recurrence_id": c.recurrence_id, "significant": c.significant,
        })).collect::<Vec<_>>(),
        "can_reply": class.reply_refusal.is_none(),
        "reply_refused": class.reply_refusal,
        "can_apply": class.apply_refusal.is_none(),
        "apply_refused": class.apply_refusal,
        "warnings": class.warnings,
    })
}

pub fn run_show(
    inbox: &mut Inbox,
    input: &Input<'_>,
    as_json: bool,
    out: Out<'_>,
) -> Result<u8, Failure> {
    let item = input.item(inbox)?;
    let clock = inbox.clock();
    if as_json {
        let v = show_json(super::shown_of(&item)?, &clock);
        write_out(out, &format!("{}\n", json_text(&v)))?;
    } else {
        write_out(
            out,
            &present::describe_shown(super::shown_of(&item)?, &clock),
        )?;
    }
    Ok(exit::OK)
}
