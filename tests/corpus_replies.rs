//! Issue 7 acceptance: `reply --dry-run` for every corpus REQUEST where I am
//! invited produces a REPLY whose every VEVENT lists me in the request and
//! matches an occurrence of it (R2.1, R2.4, R2.5). Counts go to the CI log.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

macro_rules! report {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

mod support;

use rsvp::domain::classify;
use rsvp::domain::diff::{Clock, same_instance};
use rsvp::domain::extract;
use rsvp::domain::invite::{Invite, Method, PartStat};
use support::engine::{self, reply_part, respond};
use support::memenv::MemEnv;

/// Every attendee of the request that could be me: individuals that are
/// not the organizer.
fn candidates(inv: &Invite) -> Vec<String> {
    let organizer = inv.organizer().and_then(|o| o.email);
    let mut v: Vec<String> = inv
        .components()
        .iter()
        .flat_map(|c| c.attendees())
        .filter(|a| a.is_individual())
        .filter_map(|a| a.email)
        .filter(|e| Some(e) != organizer.as_ref())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether the reply component at `rid` lists `me` in the request and is
/// one of its occurrences.
fn check(
    req: &Invite,
    rid: Option<&rsvp::domain::ical::CalDate>,
    reply: &Invite,
    me: &str,
) -> Result<(), String> {
    let clock = Clock {
        local: chrono_tz::Europe::Berlin,
    };
    let lists_me = |c: rsvp::domain::invite::Comp<'_>| {
        c.attendees().iter().any(|a| a.email.as_deref() == Some(me))
    };
    match rid {
        None => match req.master() {
            Some(m) if lists_me(m) => Ok(()),
            Some(_) => Err("the series is answered but its master does not list me".into()),
            None => Err("a master is answered but the request has none".into()),
        },
        Some(rid) => {
            let over = req.overrides().into_iter().find(|o| {
                o.recurrence_id()
                    .is_some_and(|r| same_instance(&r, &req.cal, rid, &reply.cal, &clock))
            });
            match over {
                Some(o) if lists_me(o) => Ok(()),
                Some(_) => Err(format!("occurrence {} does not list me", rid.display_key())),
                None if classify::is_instance_of(req, rid, &reply.cal, &clock)
                    && req.master().is_some_and(lists_me) =>
                {
                    Ok(())
                }
                None => Err(format!(
                    "{} is not an occurrence of the request",
                    rid.display_key()
                )),
            }
        }
    }
}

#[test]
fn corpus_every_reply_vevent_lists_me_and_matches_an_occurrence() {
    let Some(dir) = engine::corpus() else { return };
    let mut paths = Vec::new();
    for sub in ["eml", "ics", "scenarios"] {
        support::files(&dir.join(sub), &["eml", "ics"], &mut paths);
    }
    let (mut requests, mut replies, mut components, mut refused) = (0, 0, 0, 0);
    let mut problems: Vec<String> = Vec::new();
    for path in &paths {
        let raw = std::fs::read(path).expect("corpus file");
        let Ok(x) = extract::extract(&raw) else {
            continue;
        };
        // The object rsvp shows for this message (the first REQUEST).
        let Some(req) = x.parts.iter().find_map(|p| {
            engine::invites_in(&p.text, p.method_param.as_deref())
                .into_iter()
                .find(|i| i.method == Some(Method::Request))
        }) else {
            continue;
        };
        requests += 1;
        for me in candidates(&req) {
            let m = MemEnv::new(&[me.as_str()]);
            let Ok(shown) = engine::show(&m, &raw) else {
                continue;
            };
            if shown.invite().map(|i| &i.uid) != Some(&req.uid) || shown.class.me().is_none() {
                continue;
            }
            if shown.class.reply_refusal.is_some() {
                refused += 1;
                continue;
            }
            let done = match respond(&m, &raw, PartStat::Accepted, None, true) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(format!("{}: as {me}: {e}", path.display()));
                    continue;
                }
            };
            replies += 1;
            let (_, reply) = reply_part(&done.message);
            for c in reply.components() {
                components += 1;
                if let Err(e) = check(&req, c.recurrence_id().as_ref(), &reply, &me) {
                    problems.push(format!("{}: as {me}: {e}", path.display()));
                }
            }
        }
    }
    report!(
        "corpus replies: {requests} REQUEST objects, {replies} dry-run replies (one per invited attendee), {components} reply components checked, {refused} refused by classification, {} problems",
        problems.len()
    );
    for p in &problems {
        report!("  {p}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(replies > 100, "too few replies: {replies}");
}
