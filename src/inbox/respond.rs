//! Answering an invitation: outbox → calendar → send (R9.13).

use super::{Env, InboxError, Shown, Status, apply_options, deliver, show, write_object};
use crate::domain::extract::Mailbox;
use crate::domain::ical::{self, CalDate};
use crate::domain::invite::{Invite, PartStat};
use crate::domain::ports::{Envelope, OutboxEntry, ReplyKey, StoreError, TransportError};
use crate::domain::reply::{self, ReplyRequest, Scope, message};
use crate::domain::{apply, classify, sanitize};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct ResponseRequest<'a> {
    pub partstat: PartStat,
    pub comment: Option<&'a str>,
    /// RECURRENCE-ID text of one occurrence (`20250113T090000`,
    /// `20250113`, `20250113T080000Z`, `TZID=Europe/Berlin:20250113T090000`).
    pub instance: Option<&'a str>,
    pub dry_run: bool,
    /// Send again even when the same answer was already sent (R9.11).
    pub resend: bool,
    /// Answer in the calendar only and mail nothing (`reply --no-send`,
    /// Thunderbird's "don't send a response"; R6.8: never make replying
    /// impossible, never make it compulsory either).
    pub no_send: bool,
}

/// The outcome of `respond`.
#[derive(Debug, Clone)]
pub struct Responded {
    pub shown: Shown,
    /// The exact RFC 5322 message.
    pub message: Vec<u8>,
    pub envelope: Envelope,
    /// The calendar object written (None for dry runs).
    pub href: Option<String>,
    /// Whether the transport accepted it now.
    pub sent: bool,
    /// The transport error when it did not (the reply stays queued).
    pub send_error: Option<TransportError>,
    /// A scheduling server sends the reply (R6.7 (b)); rsvp mailed nothing.
    pub server_scheduled: bool,
    /// The user asked for no mail (`no_send`); only the calendar changed.
    pub not_mailed: bool,
    /// The same answer had already been sent earlier; nothing was sent now.
    pub already_sent: bool,
    pub outbox_id: Option<String>,
    /// The answer this one replaces (the calendar held another answer for
    /// the whole series): the reply says the answer changed.
    pub changed_from: Option<PartStat>,
    pub warnings: Vec<String>,
}

/// My earlier answer to the whole series when it differs from `partstat`.
fn previous_answer(shown: &Shown, scope: &Scope, partstat: PartStat) -> Option<PartStat> {
    if !matches!(scope, Scope::All) || shown.stored.is_none() {
        return None;
    }
    shown.class.partstat.filter(|p| {
        *p != partstat
            && matches!(
                p,
                PartStat::Accepted | PartStat::Declined | PartStat::Tentative
            )
    })
}

/// Parse `--instance` into a RECURRENCE-ID in the form of the event's DTSTART.
pub fn parse_instance(text: &str, invite: &Invite) -> Result<CalDate, InboxError> {
    let t = text.trim();
    let (tzid, value) = match t.split_once(':') {
        Some((p, v)) if p.to_ascii_uppercase().starts_with("TZID=") => {
            (p.get(5..).map(|s| s.trim_matches('"').to_string()), v)
        }
        Some((p, v)) if p.eq_ignore_ascii_case("VALUE=DATE") => (None, v),
        _ => (None, t),
    };
    let compact: String = value.chars().filter(|c| !matches!(c, '-' | ':')).collect();
    let compact = compact.replace(' ', "T");
    let parsed = CalDate::parse_text(&compact)
        .or_else(|| CalDate::parse_text(&format!("{compact}00")))
        .ok_or_else(|| {
            InboxError::Usage(format!(
                "--instance {text:?} is not a date or date-time (e.g. 20250113T090000)"
            ))
        })?;
    let template = invite
        .master()
        .and_then(|m| m.dtstart())
        .or_else(|| invite.overrides().first().and_then(|o| o.recurrence_id()));
    Ok(match (parsed, tzid, template) {
        (CalDate::Floating(local), Some(tzid), _) => CalDate::Zoned { tzid, local },
        (CalDate::Floating(local), None, Some(CalDate::Zoned { tzid, .. })) => {
            CalDate::Zoned { tzid, local }
        }
        (CalDate::Floating(local), None, Some(CalDate::Utc(_))) => CalDate::Utc(local),
        (CalDate::Floating(local), None, Some(CalDate::Date(_))) => CalDate::Date(local.date()),
        (other, _, _) => other,
    })
}

fn is_instance_fn<'a>(invite: &'a Invite, env: &'a Env<'_>) -> impl Fn(&CalDate) -> bool + 'a {
    move |rid: &CalDate| {
        invite.overrides().iter().any(|o| {
            o.recurrence_id().is_some_and(|r| {
                crate::domain::diff::same_instance(&r, &invite.cal, rid, &invite.cal, &env.clock)
            })
        }) || classify::is_instance_of(invite, rid, &invite.cal, &env.clock)
    }
}

/// Answer the invitation in `raw`.
pub fn respond(
    env: &Env<'_>,
    raw: &[u8],
    req: &ResponseRequest<'_>,
) -> Result<Responded, InboxError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match respond_once(env, raw, req) {
            // T61: the calendar changed under us: redo from a fresh read.
            Err(InboxError::Store(StoreError::Conflict { .. })) if attempt < 3 => continue,
            other => return other,
        }
    }
}

fn respond_once(
    env: &Env<'_>,
    raw: &[u8],
    req: &ResponseRequest<'_>,
) -> Result<Responded, InboxError> {
    let shown = show(env, raw)?;
    if let Some(reason) = &shown.class.reply_refusal {
        return Err(InboxError::Refused(reason.clone()));
    }
    let invite = shown
        .invite()
        .ok_or_else(|| InboxError::Refused("invalid invitation".into()))?
        .clone();
    let me =
        shown.class.me().cloned().ok_or_else(|| {
            InboxError::Refused("you are not an attendee of this invitation".into())
        })?;
    let is_instance = is_instance_fn(&invite, env);
    // The occurrence as an instant, written as the organizer writes it;
    // refused when it does not exist or does not list me (issue 7, bugs 1-3).
    let scope = match req.instance {
        Some(text) => Scope::Instances(vec![
            reply::resolve_instance(
                &invite,
                &me,
                &parse_instance(text, &invite)?,
                &env.clock,
                &is_instance,
            )
            .map_err(|e| InboxError::Refused(e.to_string()))?,
        ]),
        None => Scope::All,
    };
    // Addresses compare case-insensitively and are written as the
    // invitation has them (issue 7 bug 6).
    let from_addr = match env.send_from {
        Some(s) if !s.eq_ignore_ascii_case(&me.address) => s.to_string(),
        _ => me.address.clone(),
    };
    let sent_by = (!from_addr.eq_ignore_ascii_case(&me.address)).then_some(from_addr.as_str());
    let (cal, mut warnings) = reply::build_reply(
        &ReplyRequest {
            invite: &invite,
            me: &me,
            partstat: req.partstat,
            scope: scope.clone(),
            comment: req.comment,
            now: env.now,
            sent_by,
            stored: shown.stored.as_ref().map(|s| &s.1),
            clock: env.clock,
        },
        &is_instance,
    )
    .map_err(|e| InboxError::Refused(e.to_string()))?;
    reply::check_reply(&cal).map_err(InboxError::Other)?;
    let ics = ical::write(&cal).into_bytes();

    // Addresses (R7.7, R7.8).
    let organizer = invite
        .organizer()
        .ok_or_else(|| InboxError::Refused("the invitation has no ORGANIZER".into()))?;
    let to_addr = organizer.address.clone().ok_or_else(|| {
        InboxError::Refused(format!(
            "the organizer {:?} has no e-mail address",
            organizer.value
        ))
    })?;
    let to = Mailbox {
        name: organizer.cn.clone().map(|n| sanitize::header_text(&n, 100)),
        address: to_addr.clone(),
    };
    let from = Mailbox {
        name: env
            .identity
            .name
            .clone()
            .or_else(|| me.party.cn.clone())
            .map(|n| sanitize::header_text(&n, 100)),
        address: from_addr.clone(),
    };
    let summary = invite.summary().unwrap_or_else(|| "(no title)".into());
    let changed_from = previous_answer(&shown, &scope, req.partstat);
    let rids: Vec<String> = match &scope {
        Scope::All => Vec::new(),
        Scope::Instances(r) => r.iter().map(CalDate::display_key).collect(),
    };
    let key = ReplyKey {
        uid: invite.uid.clone(),
        recurrence_ids: rids.clone(),
        partstat: req.partstat.as_str().to_string(),
        sequence: invite.sequence(),
    };
    let domain = from_addr
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| "localhost".into());
    let existing = if req.dry_run {
        None
    } else {
        env.outbox.find(&key)?
    };
    let (id, message_bytes) = match &existing {
        // R9.13: a queued reply keeps its Message-ID on every retry.
        Some((entry, false)) => (entry.id.clone(), entry.message.clone()),
        _ => {
            let id = format!("{}-{}", env.now.format("%Y%m%dT%H%M%S"), (env.token)());
            let message_id = format!("{}@{}", id, domain);
            let (text, html) = reply::text_parts(
                &invite,
                &me.party.display(),
                req.partstat,
                changed_from,
                req.comment,
                &scope,
                &env.clock,
            );
            let mut references: Vec<String> = shown
                .loaded
                .meta
                .as_ref()
                .map(|m| m.references.clone())
                .unwrap_or_default();
            let in_reply_to = shown
                .loaded
                .meta
                .as_ref()
                .and_then(|m| m.message_id.clone());
            if let Some(m) = &in_reply_to {
                references.push(m.clone());
            }
            let date = env.now.with_timezone(&env.clock.local).fixed_offset();
            let bytes = message::build(&message::ImipMessage {
                from: &from,
                to: std::slice::from_ref(&to),
                subject: &reply::subject(req.partstat, &summary),
                date,
                message_id: &message_id,
                in_reply_to: in_reply_to.as_deref(),
                references: &references,
                method: "REPLY",
                text_body: &text,
                html_body: &html,
                ics: &ics,
                attachment_name: "invite.ics",
                auto_submitted: false,
            })
            .map_err(|e| InboxError::Other(format!("building the reply: {e}")))?;
            (id, bytes)
        }
    };
    let envelope = Envelope {
        from: from_addr.clone(),
        to: vec![to_addr.clone()],
    };
    let mut result = Responded {
        shown: shown.clone(),
        message: message_bytes.clone(),
        envelope: envelope.clone(),
        href: None,
        sent: false,
        send_error: None,
        already_sent: false,
        server_scheduled: false,
        not_mailed: false,
        outbox_id: None,
        changed_from,
        warnings: std::mem::take(&mut warnings),
    };
    if req.dry_run {
        return Ok(result);
    }
    if !super::mails_reply(env) || req.no_send {
        // R6.7 (b), T20: the server schedules; only the calendar changes.
        // `no_send`: the user chose to answer without mail.
        result.href = Some(write_answer(
            env,
            &shown,
            &invite,
            &me,
            req.partstat,
            &scope,
        )?);
        result.server_scheduled = !super::mails_reply(env);
        result.not_mailed = !result.server_scheduled;
        return Ok(result);
    }
    // T23, R9.11: "already answered" only while the calendar still holds
    // that answer; after accept → decline, a new accept is a new decision.
    if let Some((_, true)) = &existing
        && !req.resend
        && stored_answer_is(env, &shown, &invite, &me, &scope, req.partstat)
    {
        result.already_sent = true;
        return Ok(result);
    }
    let transport = env.transport.ok_or_else(|| {
        InboxError::Config(
            "no transport configured: add [send] with [smtp] or [sendmail] (or use --dry-run)"
                .into(),
        )
    })?;

    // 1. Durable outbox first (R9.13), staged: not sendable until the
    //    calendar write is recorded, so a crash between the two never
    //    leaves a reply the calendar does not hold (issue 8 item 1). A
    //    queued or staged entry for the same answer is reused: same
    //    Message-ID on every retry.
    let (entry, fresh) = match existing {
        Some((entry, false)) => (entry, false),
        _ => {
            let entry = OutboxEntry {
                id: id.clone(),
                envelope,
                key,
                message: message_bytes,
                last_error: None,
            };
            env.outbox.put_staged(&entry)?;
            (entry, true)
        }
    };
    result.outbox_id = Some(entry.id.clone());

    // 2. The calendar: merge the invitation, then my answer.
    let written = write_answer(env, &shown, &invite, &me, req.partstat, &scope);
    match written {
        Ok(href) => {
            result.href = Some(href);
            // 2b. The calendar holds the answer: now it may be sent.
            env.outbox.mark_ready(&entry.id)?;
            // R9.13: an older answer to the same occurrences that is still
            // queued was never delivered and is superseded by this one; if it
            // stayed, `outbox flush` would send it and override this answer
            // (or, for a reused entry, arrive after it).
            let mut unsent = env.outbox.pending()?;
            unsent.extend(env.outbox.staged()?);
            for old in unsent {
                if old.id != entry.id
                    && old.key.uid == entry.key.uid
                    && old.key.recurrence_ids == entry.key.recurrence_ids
                {
                    env.outbox.discard(&old.id)?;
                }
            }
        }
        Err(e) => {
            // A failed calendar write sends nothing (R9.13).
            if fresh {
                env.outbox.discard(&entry.id)?;
            }
            return Err(e);
        }
    }

    // 3. Send; the entry leaves the outbox only when accepted.
    let delivery = deliver(env, transport, &entry)?;
    match delivery.result {
        Ok(()) => result.sent = true,
        Err(e) => result.send_error = Some(e),
    }
    Ok(result)
}

/// Merge the invitation into the calendar and set my answer; returns the
/// file name written.
fn write_answer(
    env: &Env<'_>,
    shown: &Shown,
    invite: &Invite,
    me: &crate::domain::identity::MeMatch,
    partstat: PartStat,
    scope: &Scope,
) -> Result<String, InboxError> {
    let opts = apply_options(env);
    let stored = shown.stored.as_ref();
    // `[calendar] declined = "drop"`: a series I decline is not kept.
    if env.declined == super::Declined::Drop
        && partstat == PartStat::Declined
        && matches!(scope, Scope::All)
    {
        if let Some((obj, _)) = stored {
            env.store.delete(obj)?;
        }
        return Ok("the declined event is not kept".to_string());
    }
    let merged = match (shown.class.status, stored) {
        (Status::Duplicate | Status::Poll, Some((_, s))) => s.cal.clone(),
        _ => apply::merge_request(invite, stored.map(|s| &s.1), env.identity, &opts),
    };
    let merged_inv = Invite::from_calendar(merged, None)
        .ok()
        .and_then(|v| v.into_iter().find(|i| i.uid == invite.uid))
        .ok_or_else(|| {
            InboxError::Other(format!(
                "event {}: the merged calendar object is unreadable",
                invite.uid
            ))
        })?;
    let targets: Vec<Option<CalDate>> = match scope {
        Scope::All => vec![None],
        Scope::Instances(r) => r.iter().cloned().map(Some).collect(),
    };
    let answered = apply::apply_answer(&merged_inv, me, env.identity, partstat, &targets, &opts)
        .map_err(|e| InboxError::Other(e.to_string()))?;
    let obj = write_object(env, stored.map(|s| &s.0), &invite.uid, &answered)?;
    Ok(obj.href)
}

/// Whether the stored copy already holds `partstat` as my answer for every
/// occurrence in `scope` (an occurrence without override: the master's).
fn stored_answer_is(
    env: &Env<'_>,
    shown: &Shown,
    invite: &Invite,
    me: &crate::domain::identity::MeMatch,
    scope: &Scope,
    partstat: PartStat,
) -> bool {
    let Some((_, stored)) = shown.stored.as_ref() else {
        return false;
    };
    let mine = |c: crate::domain::invite::Comp<'_>| {
        c.attendees()
            .into_iter()
            .find(|a| a.email == me.party.email || env.identity.party_is_me(a))
            .map(|a| a.partstat)
    };
    match scope {
        Scope::All => stored.master().or_else(|| stored.primary()).and_then(mine) == Some(partstat),
        Scope::Instances(rids) => rids.iter().all(|rid| {
            stored
                .overrides()
                .into_iter()
                .find(|o| {
                    o.recurrence_id().is_some_and(|r| {
                        crate::domain::diff::same_instance(
                            &r,
                            &stored.cal,
                            rid,
                            &invite.cal,
                            &env.clock,
                        )
                    })
                })
                .or_else(|| stored.master())
                .and_then(mine)
                == Some(partstat)
        }),
    }
}
