//! The corpus acceptance test: the whole inbox engine against the shared
//! real-world corpus (`../shared/corpus`, skipped with a message when absent).
//!
//! 1. Walk: every `.eml`/`.ics` goes through load → show (classify) → (dry-run
//!    reply and a real reply where I am invited, else apply) without a panic,
//!    and every reply re-extracts to one valid REPLY (R1.1, R1.3, R1.5, R1.8,
//!    R1.12). Counts are printed.
//! 2. Scenarios: every multi-step folder in `scenarios/` is replayed through
//!    `apply_message`/`respond` in one memory calendar, and the outcome its
//!    EXPECTED.md states for the attendee is asserted (one test per folder).
//! 3. sabre-vobject-itip and stalwart-itip: the attendee-side cases are
//!    replayed as far as their formats allow; everything else is walked.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

/// Counts go straight to stderr, past the test harness's capture, so the
/// CI log shows them.
macro_rules! report {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

mod support;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use calcard::icalendar::{ICalendarComponentType, ICalendarProperty};
use rsvp::domain::classify::{X_PREVIOUS_PARTSTAT, X_RECEIVED_SEQUENCE};
use rsvp::domain::diff::{Clock, same_instance};
use rsvp::domain::extract;
use rsvp::domain::ical::{self, CalDate};
use rsvp::domain::invite::{Comp, Invite, Method, PartStat};
use rsvp::domain::ports::CalendarStore;
use rsvp::inbox::{self, Applied, InboxError, Responded, ResponseRequest, Shown};
use support::files;
use support::memenv::MemEnv;

// ---------------------------------------------------------------------------
// Corpus access
// ---------------------------------------------------------------------------

fn corpus_dir() -> Option<PathBuf> {
    support::engine::corpus()
}

fn scenario_dir(name: &str) -> Option<PathBuf> {
    let dir = corpus_dir()?.join("scenarios").join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        report!("scenario {} not found; skipping", dir.display());
        None
    }
}

fn rel(path: &Path) -> String {
    let s = path.to_string_lossy();
    match s.find("corpus/") {
        Some(i) => s[i + "corpus/".len()..].to_string(),
        None => s.into_owned(),
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-text panic payload)".into())
}

fn clock() -> Clock {
    Clock {
        local: chrono_tz::Europe::Berlin,
    }
}

// ---------------------------------------------------------------------------
// Looking at calendars
// ---------------------------------------------------------------------------

/// Every object (one per UID) of every calendar in `text`.
fn invites_in(text: &str, method_param: Option<&str>) -> Vec<Invite> {
    let Ok(parsed) = ical::parse(text) else {
        return Vec::new();
    };
    parsed
        .calendars
        .into_iter()
        .flat_map(|cal| Invite::from_calendar(cal, method_param).unwrap_or_default())
        .collect()
}

/// The stored copy of `uid` in the memory calendar, parsed.
fn stored(m: &MemEnv, uid: &str) -> Option<Invite> {
    let objects = m.store.list().expect("memory store list");
    objects.iter().find_map(|o| {
        let text = String::from_utf8_lossy(&o.data);
        invites_in(&text, None).into_iter().find(|i| i.uid == uid)
    })
}

fn stored_bytes(m: &MemEnv) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = m
        .store
        .list()
        .expect("memory store list")
        .into_iter()
        .map(|o| (o.href, o.data))
        .collect();
    v.sort();
    v
}

/// My PARTSTAT in one component (matched by any of the identity's addresses).
fn partstat_in(m: &MemEnv, c: Comp<'_>) -> Option<PartStat> {
    c.attendees()
        .into_iter()
        .find(|a| m.identity.party_is_me(a))
        .map(|a| a.partstat)
}

fn master_partstat(m: &MemEnv, inv: &Invite) -> Option<PartStat> {
    partstat_in(m, inv.master().expect("a master component"))
}

fn override_at<'a>(inv: &'a Invite, rid: &CalDate, rid_cal: &Invite) -> Option<Comp<'a>> {
    inv.overrides().into_iter().find(|o| {
        o.recurrence_id()
            .is_some_and(|r| same_instance(&r, &inv.cal, rid, &rid_cal.cal, &clock()))
    })
}

fn utc(s: &str) -> CalDate {
    CalDate::parse_text(s).expect("a date-time text")
}

fn zoned(tzid: &str, local: &str) -> CalDate {
    match CalDate::parse_text(local) {
        Some(CalDate::Floating(t)) => CalDate::Zoned {
            tzid: tzid.into(),
            local: t,
        },
        other => panic!("not a local date-time: {local} ({other:?})"),
    }
}

/// Two date values denote the same instant (R2.4).
fn same_time(a: &CalDate, a_inv: &Invite, b: &CalDate) -> bool {
    same_instance(a, &a_inv.cal, b, &a_inv.cal, &clock())
}

fn text_prop(c: Comp<'_>, name: &str) -> Option<String> {
    c.text(&ical::other_prop(name))
}

fn received_sequence(c: Comp<'_>) -> Option<i64> {
    text_prop(c, X_RECEIVED_SEQUENCE).and_then(|s| s.trim().parse().ok())
}

// ---------------------------------------------------------------------------
// Checking a produced REPLY message
// ---------------------------------------------------------------------------

/// The message re-extracts to exactly one REPLY part whose calendar parses,
/// says METHOD:REPLY once (R1.1), has one ATTENDEE per component (R1.8), the
/// request's UID (R1.5) and no VALARM (R1.12).
fn check_reply_message(message: &[u8], uid: &str) -> Result<Invite, String> {
    let x = extract::extract(message).map_err(|e| format!("reply does not extract: {e}"))?;
    if x.parts.len() != 1 {
        return Err(format!("reply has {} calendar parts", x.parts.len()));
    }
    let part = &x.parts[0];
    if part.method_param.as_deref() != Some("REPLY") {
        return Err(format!(
            "reply part has method={:?} (R1.2)",
            part.method_param
        ));
    }
    let parsed = ical::parse(&part.text).map_err(|e| format!("reply does not parse: {e}"))?;
    if parsed.calendars.len() != 1 {
        return Err(format!("reply holds {} calendars", parsed.calendars.len()));
    }
    let cal = parsed.calendars.into_iter().next().expect("one calendar");
    let methods = cal
        .components
        .first()
        .map(|r| {
            r.entries
                .iter()
                .filter(|e| e.name == ICalendarProperty::Method)
                .count()
        })
        .unwrap_or(0);
    if methods != 1 {
        return Err(format!("reply has {methods} METHOD properties (R1.1)"));
    }
    if cal
        .components
        .iter()
        .any(|c| c.component_type == ICalendarComponentType::VAlarm)
    {
        return Err("reply contains a VALARM (R1.12)".into());
    }
    let mut invites = Invite::from_calendar(cal, Some("REPLY"))
        .map_err(|e| format!("reply is not one iTIP object: {e}"))?;
    if invites.len() != 1 {
        return Err(format!("reply holds {} UIDs", invites.len()));
    }
    let inv = invites.remove(0);
    if inv.method != Some(Method::Reply) {
        return Err(format!("reply method is {:?}", inv.method));
    }
    if inv.uid != uid {
        return Err(format!(
            "reply UID {:?} differs from {uid:?} (R1.5)",
            inv.uid
        ));
    }
    let comps = inv.components();
    if comps.is_empty() {
        return Err("reply has no component".into());
    }
    for c in &comps {
        let n = c.attendees().len();
        if n != 1 {
            return Err(format!("a reply component has {n} ATTENDEEs (R1.8)"));
        }
        if c.uid() != Some(uid) {
            return Err(format!("a reply component has UID {:?} (R1.5)", c.uid()));
        }
    }
    Ok(inv)
}

// ---------------------------------------------------------------------------
// 1. The walk
// ---------------------------------------------------------------------------

/// Who "I" am for an object: the To/Delivered-To address when it is an
/// attendee, else the first attendee that is neither the organizer nor a
/// room/resource.
fn pick_me(inv: &Invite, recipients: &[String]) -> Option<String> {
    let organizer = inv.organizer().and_then(|o| o.email);
    let attendees: Vec<String> = inv
        .components()
        .iter()
        .flat_map(|c| c.attendees())
        .filter(|a| !matches!(a.cutype.as_deref(), Some("ROOM") | Some("RESOURCE")))
        .filter_map(|a| a.email)
        .filter(|e| Some(e) != organizer.as_ref())
        .collect();
    recipients
        .iter()
        .map(|r| r.to_lowercase())
        .find(|r| attendees.contains(r))
        .or_else(|| attendees.first().cloned())
}

#[derive(Default)]
struct WalkReport {
    objects: usize,
    not_invitations: usize,
    statuses: BTreeMap<String, usize>,
    invalid_reasons: BTreeMap<String, usize>,
    replies: usize,
    sent: usize,
    applied: usize,
    problems: Vec<String>,
}

impl WalkReport {
    fn merge(&mut self, other: WalkReport) {
        self.objects += other.objects;
        self.not_invitations += other.not_invitations;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (k, v) in other.invalid_reasons {
            *self.invalid_reasons.entry(k).or_default() += v;
        }
        self.replies += other.replies;
        self.sent += other.sent;
        self.applied += other.applied;
        self.problems.extend(other.problems);
    }
}

/// A short, stable summary of an invalid reason (numbers and quoted values
/// removed so the histogram groups them).
fn reason_key(reason: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for ch in reason.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                if quoted {
                    out.push_str("\"…\"");
                }
            }
            _ if quoted => {}
            _ => out.push(ch),
        }
    }
    // Drop the UID and parenthesised values too.
    let mut words: Vec<&str> = Vec::new();
    let mut skip_paren = false;
    for w in out.split_whitespace() {
        if skip_paren {
            skip_paren = !w.ends_with(')');
            continue;
        }
        if w.starts_with('(') && !w.ends_with(')') {
            skip_paren = true;
            words.push("(…)");
        } else if words.last() == Some(&"UID") {
            words.push("…");
        } else {
            words.push(w);
        }
    }
    words.join(" ").chars().take(90).collect()
}

/// One object through show → reply (dry run, then for real) or apply.
fn walk_object(raw: &[u8], inv: Option<&Invite>, recipients: &[String], report: &mut WalkReport) {
    let me = inv
        .and_then(|i| pick_me(i, recipients))
        .unwrap_or_else(|| "nobody@corpus.invalid".into());
    let m = MemEnv::new(&[me.as_str()]);
    let env = m.env();
    report.objects += 1;
    let shown = match inbox::show(&env, raw) {
        Ok(s) => s,
        Err(e) => {
            report
                .problems
                .push(format!("show failed after load succeeded: {e}"));
            return;
        }
    };
    let status = shown.class.status.as_str().to_string();
    *report.statuses.entry(status.clone()).or_default() += 1;
    if status == "invalid" {
        let reason = shown
            .loaded
            .invite
            .as_ref()
            .err()
            .cloned()
            .or_else(|| shown.class.reply_refusal.clone())
            .unwrap_or_default();
        *report
            .invalid_reasons
            .entry(reason_key(&reason))
            .or_default() += 1;
    }
    if shown.class.reply_refusal.is_none() {
        let Some(invite) = shown.invite() else {
            report
                .problems
                .push("reply allowed for an invalid object".into());
            return;
        };
        let uid = invite.uid.clone();
        let mut req = ResponseRequest {
            partstat: PartStat::Accepted,
            comment: Some("corpus walk"),
            instance: None,
            dry_run: true,
            resend: false,
            no_send: false,
        };
        match inbox::respond(&env, raw, &req) {
            Ok(done) => {
                report.replies += 1;
                if let Err(e) = check_reply_message(&done.message, &uid) {
                    report.problems.push(format!("as {me}: {e}"));
                }
            }
            Err(e) => {
                report.problems.push(format!(
                    "as {me}: status {status} allows a reply but respond says: {e}"
                ));
                return;
            }
        }
        // For real: the calendar gets my answer and the REPLY is sent.
        req.dry_run = false;
        match inbox::respond(&env, raw, &req) {
            Ok(done) if done.sent => {
                report.sent += 1;
                match stored(&m, &uid) {
                    Some(st) => {
                        // Components that do not list me stay without me
                        // (issue 7 bug 1, R2.5); every other one is accepted.
                        for c in st.components() {
                            let mine = partstat_in(&m, c);
                            if mine.is_some() && mine != Some(PartStat::Accepted) {
                                report.problems.push(format!(
                                    "as {me}: after accepting, a stored component has PARTSTAT {:?}",
                                    partstat_in(&m, c)
                                ));
                                break;
                            }
                        }
                    }
                    None => report
                        .problems
                        .push(format!("as {me}: accepted but UID {uid:?} is not stored")),
                }
            }
            Ok(done) => report
                .problems
                .push(format!("as {me}: reply not sent: {:?}", done.send_error)),
            Err(e) => report
                .problems
                .push(format!("as {me}: respond (not dry run) failed: {e}")),
        }
    } else if shown.class.apply_refusal.is_none() {
        match inbox::apply_message(&env, raw) {
            Ok(_) => report.applied += 1,
            Err(e) => report.problems.push(format!(
                "as {me}: status {status} allows apply but apply says: {e}"
            )),
        }
    }
}

/// One file: the object `load` picks through the raw bytes, and every other
/// object (other UIDs of a PUBLISH, other calendars) re-serialised alone.
fn walk_file(raw: &[u8], report: &mut WalkReport) {
    let loaded = match inbox::load(raw) {
        Ok(l) => l,
        Err(InboxError::NotInvitation(_)) => {
            report.not_invitations += 1;
            return;
        }
        Err(e) => {
            report.problems.push(format!("load: {e}"));
            return;
        }
    };
    let recipients: Vec<String> = loaded
        .meta
        .as_ref()
        .map(|m| {
            m.to.iter()
                .map(|t| t.address.clone())
                .chain(m.delivered_to.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    let first = loaded.invite.as_ref().ok();
    walk_object(raw, first, &recipients, report);

    let Ok(x) = extract::extract(raw) else {
        return;
    };
    let mut seen: Vec<String> = first.map(|i| vec![i.uid.clone()]).unwrap_or_default();
    for part in &x.parts {
        for inv in invites_in(&part.text, part.method_param.as_deref()) {
            if seen.contains(&inv.uid) {
                continue;
            }
            seen.push(inv.uid.clone());
            let alone = ical::write(&inv.cal);
            walk_object(alone.as_bytes(), Some(&inv), &recipients, report);
        }
    }
}

#[test]
fn corpus_walk_every_object_shows_replies_and_applies_without_panic() {
    let Some(dir) = corpus_dir() else { return };
    let mut paths = Vec::new();
    files(&dir.join("eml"), &["eml", "ics"], &mut paths);
    files(&dir.join("ics"), &["eml", "ics"], &mut paths);
    files(&dir.join("scenarios"), &["eml", "ics"], &mut paths);
    assert!(
        paths.len() > 100,
        "corpus looks incomplete: {} files",
        paths.len()
    );

    let mut total = WalkReport::default();
    let mut panics: Vec<String> = Vec::new();
    let mut broken: Vec<String> = Vec::new();
    for path in &paths {
        let raw = read(path);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut r = WalkReport::default();
            walk_file(&raw, &mut r);
            r
        }));
        match result {
            Ok(r) => {
                for p in &r.problems {
                    broken.push(format!("{}: {p}", rel(path)));
                }
                total.merge(r);
            }
            Err(payload) => panics.push(format!("{}: {}", rel(path), panic_text(&*payload))),
        }
    }

    report!(
        "corpus walk: {} files, {} objects",
        paths.len(),
        total.objects
    );
    report!(
        "  not an invitation (no calendar part): {}",
        total.not_invitations
    );
    report!("  statuses:");
    for (k, v) in &total.statuses {
        report!("    {k:<18} {v}");
    }
    report!(
        "  replies built (dry run, re-extracted and checked): {}; sent for real: {}",
        total.replies,
        total.sent
    );
    report!(
        "  applied without reply (cancel, publish, ...): {}",
        total.applied
    );
    report!("  invalid, by reason:");
    for (k, v) in &total.invalid_reasons {
        report!("    {v:>3}  {k}");
    }
    report!("  broken invariants: {}", broken.len());
    for b in &broken {
        report!("    {b}");
    }
    report!("  panics: {}", panics.len());
    for p in &panics {
        report!("    {p}");
    }
    assert!(
        panics.is_empty() && broken.is_empty(),
        "{} file(s) panicked, {} invariant(s) broken:\n{}",
        panics.len(),
        broken.len(),
        panics
            .iter()
            .chain(&broken)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        total.replies > 20,
        "too few replies built: {}",
        total.replies
    );
}

// ---------------------------------------------------------------------------
// 2. Scenario replay
// ---------------------------------------------------------------------------

/// The recipient ("me") of each scenario, as its EXPECTED.md and the
/// messages' To/Delivered-To name it.
const RECIPIENTS: &[(&str, &str)] = &[
    ("thunderbird-single-event", "receiver@example.com"),
    ("thunderbird-recurring-event", "receiver@example.com"),
    (
        "listarchive-exchange-instance-cancel",
        "openbmc@lists.ozlabs.org",
    ),
    (
        "listarchive-exchange-request-then-cancel",
        "openbmc@lists.ozlabs.org",
    ),
    (
        "listarchive-exchange-teams-series",
        "openbmc@lists.ozlabs.org",
    ),
    (
        "listarchive-google-updated-invitation",
        "openbmc@lists.ozlabs.org",
    ),
    (
        "lotus-notes-instance-updates",
        "iCalParticipant@coffeebean.com",
    ),
    (
        "lotus-notes-reschedule-series",
        "iCalParticipant@coffeebean.com",
    ),
    ("nylas-google-cancel", "karim@nilas.com"),
    ("nylas-icloud-cancel", "karim@nilas.com"),
];

/// Scenario folders with their own formats (section 3; calendarserver-itip
/// and cyrus-imip are replayed in tests/scenarios_calendarserver.rs and
/// tests/scenarios_cyrus.rs).
const OTHER_FORMATS: &[&str] = &[
    "sabre-vobject-itip",
    "stalwart-itip",
    "calendarserver-itip",
    "cyrus-imip",
];

/// One scenario folder replayed into one memory calendar.
struct Replay {
    m: MemEnv,
    dir: PathBuf,
    name: &'static str,
}

impl Replay {
    fn start(name: &'static str) -> Option<Replay> {
        let dir = scenario_dir(name)?;
        let me = RECIPIENTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, me)| *me)
            .unwrap_or_else(|| panic!("no recipient for scenario {name}"));
        Some(Replay {
            m: MemEnv::new(&[me]),
            dir,
            name,
        })
    }

    fn raw(&self, file: &str) -> Vec<u8> {
        read(&self.dir.join(file))
    }

    fn show(&self, file: &str) -> Shown {
        inbox::show(&self.m.env(), &self.raw(file))
            .unwrap_or_else(|e| panic!("{}/{file}: show: {e}", self.name))
    }

    fn status(&self, file: &str) -> String {
        self.show(file).class.status.as_str().to_string()
    }

    /// Apply a step that must be applied; returns what was shown first.
    fn apply(&self, file: &str) -> Shown {
        match inbox::apply_message(&self.m.env(), &self.raw(file)) {
            Ok((shown, Applied::Stored { .. } | Applied::Tombstone)) => shown,
            Ok((_, other)) => panic!("{}/{file}: not applied: {other:?}", self.name),
            Err(e) => panic!("{}/{file}: apply refused: {e}", self.name),
        }
    }

    /// A step that must be refused and leave the calendar byte-for-byte
    /// unchanged (R3.3, R4.2, T21, T47).
    fn refused(&self, file: &str) -> String {
        let before = stored_bytes(&self.m);
        let out = inbox::apply_message(&self.m.env(), &self.raw(file));
        assert_eq!(
            stored_bytes(&self.m),
            before,
            "{}/{file} changed the calendar",
            self.name
        );
        match out {
            Err(InboxError::Refused(reason)) => reason,
            other => panic!("{}/{file}: expected a refusal, got {other:?}", self.name),
        }
    }

    /// Answer for real (the REPLY goes to the memory transport).
    fn answer(&self, file: &str, partstat: PartStat, instance: Option<&str>) -> Responded {
        let before = self.m.transport.sent().len();
        let req = ResponseRequest {
            partstat,
            comment: None,
            instance,
            dry_run: false,
            resend: false,
            no_send: false,
        };
        let done = inbox::respond(&self.m.env(), &self.raw(file), &req)
            .unwrap_or_else(|e| panic!("{}/{file}: respond: {e}", self.name));
        assert!(
            done.sent,
            "{}/{file}: reply not sent: {:?}",
            self.name, done.send_error
        );
        assert_eq!(
            self.m.transport.sent().len(),
            before + 1,
            "one REPLY per answer"
        );
        done
    }

    fn sent(&self) -> usize {
        self.m.transport.sent().len()
    }

    fn stored(&self, uid: &str) -> Invite {
        stored(&self.m, uid).unwrap_or_else(|| panic!("{}: UID {uid} is not stored", self.name))
    }

    fn uid(&self, file: &str) -> String {
        let loaded = inbox::load(&self.raw(file)).expect("load");
        loaded.invite.expect("a valid object").uid
    }

    /// The REPLY just produced, checked (R1.x) and parsed.
    fn reply(&self, done: &Responded, uid: &str) -> Invite {
        check_reply_message(&done.message, uid)
            .unwrap_or_else(|e| panic!("{}: bad REPLY: {e}", self.name))
    }
}

fn all_cancelled(inv: &Invite) -> bool {
    let comps = inv.components();
    !comps.is_empty() && comps.iter().all(|c| c.is_cancelled())
}

fn summary(c: Comp<'_>) -> String {
    c.summary().unwrap_or_default()
}

fn has_change(shown: &Shown, field: &str) -> bool {
    shown.class.changes.iter().any(|c| c.field == field)
}

/// The occurrence starts of a stored object, sorted: the master's expansion
/// (R9.7 capped) minus the occurrences an override replaces (matched by
/// RECURRENCE-ID, R2.4), plus each override's own DTSTART.
fn occurrences(inv: &Invite) -> Vec<chrono::DateTime<chrono::Utc>> {
    let ck = clock();
    let replaced: Vec<_> = inv
        .overrides()
        .iter()
        .filter_map(|o| ck.instant(&o.recurrence_id()?, &inv.cal))
        .collect();
    let master = inv.master().map(|m| m.id);
    let mut v: Vec<_> = rsvp::domain::classify::expand_starts(inv)
        .into_iter()
        .filter(|(id, t)| Some(*id) == master && !replaced.contains(t))
        .map(|(_, t)| t)
        .collect();
    v.extend(
        inv.overrides()
            .iter()
            .filter_map(|o| ck.instant(&o.dtstart()?, &inv.cal)),
    );
    v.sort();
    v
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    match utc(s) {
        CalDate::Utc(t) => t.and_utc(),
        other => panic!("not UTC: {other:?}"),
    }
}

#[test]
fn scenario_table_covers_every_folder() {
    let Some(dir) = corpus_dir() else { return };
    let mut names: Vec<String> = std::fs::read_dir(dir.join("scenarios"))
        .expect("scenarios folder")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in &names {
        assert!(
            RECIPIENTS.iter().any(|(r, _)| r == n) || OTHER_FORMATS.contains(&n.as_str()),
            "scenario folder {n} has no replay test"
        );
    }
    assert_eq!(names.len(), RECIPIENTS.len() + OTHER_FORMATS.len());
}

/// Thunderbird single event: 1 new → answer; 2a same SEQUENCE, newer DTSTAMP;
/// 2b SEQUENCE 2 moved; 3 cancel (R3.1, R3.5, R3.7, R3.8, R4.3, R4.7, T34).
#[test]
fn scenario_thunderbird_single_event() {
    let uid = "02e79b96";
    // Step 1, answered: one REPLY with only me, ACCEPTED (T35).
    let Some(r) = Replay::start("thunderbird-single-event") else {
        return;
    };
    assert_eq!(r.status("01-request.eml"), "new");
    let done = r.answer("01-request.eml", PartStat::Accepted, None);
    let reply = r.reply(&done, uid);
    let att = &reply.components()[0].attendees()[0];
    assert_eq!(att.email.as_deref(), Some("receiver@example.com"));
    assert_eq!(att.partstat, PartStat::Accepted);
    assert_eq!(
        master_partstat(&r.m, &r.stored(uid)),
        Some(PartStat::Accepted)
    );

    // 2a: title/description/location replaced, times kept, no reply sent,
    // PARTSTAT kept (EXPECTED.md): a same-SEQUENCE location change is an
    // update (diff::needs_new_answer), shown as a significant field change.
    let shown = r.apply("02a-request-minor-update.eml");
    assert_eq!(shown.class.status.as_str(), "update");
    assert!(
        shown
            .class
            .changes
            .iter()
            .any(|c| c.field == "LOCATION" && c.significant)
    );
    assert!(!has_change(&shown, "DTSTART") && !has_change(&shown, "DTEND"));
    let st = r.stored(uid);
    let m = st.master().unwrap();
    assert_eq!(summary(m), "Updated Event");
    assert_eq!(
        m.text(&ICalendarProperty::Location).as_deref(),
        Some("Updated location")
    );
    assert_eq!(m.dtstart(), Some(utc("20220316T110000Z")));
    assert_eq!(m.dtend(), Some(utc("20220316T113000Z")));
    assert_eq!(
        partstat_in(&r.m, m),
        Some(PartStat::Accepted),
        "PARTSTAT kept"
    );
    assert_eq!(text_prop(m, X_PREVIOUS_PARTSTAT), None);
    assert_eq!(r.sent(), 1, "applying an update sends nothing");

    // 2b (after 1): major update: asked again, new times, SEQUENCE 2; the
    // new answer goes out with SEQUENCE 2 (R1.9).
    let Some(r) = Replay::start("thunderbird-single-event") else {
        return;
    };
    r.answer("01-request.eml", PartStat::Accepted, None);
    let shown = r.apply("02b-request-major-update.eml");
    assert_eq!(shown.class.status.as_str(), "reschedule");
    let st = r.stored(uid);
    let m = st.master().unwrap();
    assert_eq!(m.dtstart(), Some(utc("20220316T050000Z")));
    assert_eq!(m.dtend(), Some(utc("20220316T053000Z")));
    assert_eq!(received_sequence(m), Some(2));
    assert_eq!(partstat_in(&r.m, m), Some(PartStat::NeedsAction));
    assert_eq!(
        text_prop(m, X_PREVIOUS_PARTSTAT).as_deref(),
        Some("ACCEPTED")
    );
    let done = r.answer("02b-request-major-update.eml", PartStat::Accepted, None);
    assert_eq!(r.reply(&done, uid).components()[0].sequence(), 2);
    assert_eq!(
        master_partstat(&r.m, &r.stored(uid)),
        Some(PartStat::Accepted)
    );
    // The CANCEL (SEQUENCE 1) is older than the stored SEQUENCE 2 (R4.2, T47).
    assert_eq!(r.status("03-cancel.eml"), "outdated");
    r.refused("03-cancel.eml");

    // 3 on the stored event: cancelled, nothing sent (R4.3, R4.8).
    let Some(r) = Replay::start("thunderbird-single-event") else {
        return;
    };
    r.answer("01-request.eml", PartStat::Accepted, None);
    let shown = r.apply("03-cancel.eml");
    assert_eq!(shown.class.status.cancel_scope(), Some("whole"));
    assert!(shown.class.reply_refusal.is_some());
    assert!(all_cancelled(&r.stored(uid)));
    assert_eq!(r.sent(), 1);

    // 3 without a prior invitation: no answer possible, nothing stored, a
    // tombstone; the late REQUEST is then ignored (R4.7, T34).
    let Some(r) = Replay::start("thunderbird-single-event") else {
        return;
    };
    let shown = r.show("03-cancel.eml");
    assert_eq!(shown.class.status.as_str(), "cancel");
    assert!(shown.class.reply_refusal.is_some());
    r.apply("03-cancel.eml");
    assert!(stored_bytes(&r.m).is_empty());
    assert_eq!(r.status("01-request.eml"), "outdated");
    r.refused("01-request.eml");
}

/// Thunderbird recurring event: series answer, series updates, one
/// occurrence changed, series cancel (R2.1, R2.2, R2.5, R2.8, R3.8, R4.3).
#[test]
fn scenario_thunderbird_recurring_event() {
    let uid = "02e79b96";
    let rid = utc("20220317T110000Z");
    // 1: one REPLY for the whole series (no RECURRENCE-ID), 3 occurrences.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    let done = r.answer("01-request-series.eml", PartStat::Accepted, None);
    let reply = r.reply(&done, uid);
    assert_eq!(reply.components().len(), 1);
    assert!(reply.components()[0].recurrence_id().is_none());
    let st = r.stored(uid);
    assert_eq!(occurrences(&st).len(), 3);
    assert_eq!(master_partstat(&r.m, &st), Some(PartStat::Accepted));

    // 2a: same SEQUENCE, times kept, 3 occurrences; LOCATION changed at the
    // same SEQUENCE: an update that keeps the answer (EXPECTED.md).
    let shown = r.apply("02a-request-series-minor-update.eml");
    assert_eq!(shown.class.status.as_str(), "update");
    let st = r.stored(uid);
    assert_eq!(summary(st.master().unwrap()), "Updated Event");
    assert_eq!(
        occurrences(&st),
        vec![
            at("20220316T110000Z"),
            at("20220317T110000Z"),
            at("20220318T110000Z")
        ]
    );
    assert_eq!(r.sent(), 1);

    // 2b (after 1): all 3 occurrences move to 05:00Z; asked again.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    r.answer("01-request-series.eml", PartStat::Accepted, None);
    assert_eq!(
        r.apply("02b-request-series-major-update.eml")
            .class
            .status
            .as_str(),
        "reschedule"
    );
    let st = r.stored(uid);
    assert_eq!(
        occurrences(&st),
        vec![
            at("20220316T050000Z"),
            at("20220317T050000Z"),
            at("20220318T050000Z")
        ]
    );
    assert_eq!(master_partstat(&r.m, &st), Some(PartStat::NeedsAction));

    // 3a (after 1): only the 17th changes; the series keeps 3 occurrences;
    // the occurrence's time did not change, so no time change is reported.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    r.answer("01-request-series.eml", PartStat::Accepted, None);
    let incoming = inbox::load(&r.raw("03a-request-exception-minor.eml"))
        .unwrap()
        .invite
        .unwrap();
    let shown = r.apply("03a-request-exception-minor.eml");
    assert!(
        !has_change(&shown, "DTSTART") && !has_change(&shown, "DTEND"),
        "{:?}",
        shown.class.changes
    );
    let st = r.stored(uid);
    assert_eq!(st.overrides().len(), 1);
    let o = override_at(&st, &rid, &incoming).expect("override for 2022-03-17");
    assert_eq!(summary(o), "Exception title");
    assert_eq!(o.dtstart(), Some(utc("20220317T110000Z")));
    assert_eq!(summary(st.master().unwrap()), "Repeat Event");
    assert_eq!(master_partstat(&r.m, &st), Some(PartStat::Accepted));
    assert_eq!(occurrences(&st).len(), 3);

    // 3b (after 1): the 17th moves to 05:00Z and asks for a new answer for
    // that occurrence only; answering it sends a REPLY with its RECURRENCE-ID.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    r.answer("01-request-series.eml", PartStat::Accepted, None);
    let incoming = inbox::load(&r.raw("03b-request-exception-major.eml"))
        .unwrap()
        .invite
        .unwrap();
    assert_eq!(
        r.apply("03b-request-exception-major.eml")
            .class
            .status
            .as_str(),
        "reschedule"
    );
    let st = r.stored(uid);
    let o = override_at(&st, &rid, &incoming).expect("override for 2022-03-17");
    assert_eq!(o.dtstart(), Some(utc("20220317T050000Z")));
    assert_eq!(partstat_in(&r.m, o), Some(PartStat::NeedsAction));
    assert_eq!(master_partstat(&r.m, &st), Some(PartStat::Accepted));
    assert_eq!(
        occurrences(&st),
        vec![
            at("20220316T110000Z"),
            at("20220317T050000Z"),
            at("20220318T110000Z")
        ]
    );
    let done = r.answer(
        "03b-request-exception-major.eml",
        PartStat::Accepted,
        Some("20220317T110000Z"),
    );
    let reply = r.reply(&done, uid);
    let rc = reply.components();
    assert_eq!(rc.len(), 1);
    assert!(
        rc[0]
            .recurrence_id()
            .is_some_and(|x| same_time(&x, &reply, &rid))
    );
    assert_eq!(rc[0].sequence(), 2);

    // 4 (after 1): the series is cancelled, nothing sent.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    r.answer("01-request-series.eml", PartStat::Accepted, None);
    let shown = r.apply("04-cancel-series.eml");
    assert_eq!(shown.class.status.cancel_scope(), Some("whole"));
    assert!(all_cancelled(&r.stored(uid)));
    assert_eq!(r.sent(), 1);

    // 3b with nothing stored: kept as one occurrence without a master (R2.5);
    // the series CANCEL then cancels it as well.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    assert_eq!(
        r.apply("03b-request-exception-major.eml")
            .class
            .status
            .as_str(),
        "new"
    );
    let st = r.stored(uid);
    assert!(st.master().is_none());
    assert_eq!(st.overrides().len(), 1);
    r.apply("04-cancel-series.eml");
    assert!(all_cancelled(&r.stored(uid)));

    // 4 with nothing stored: no answer possible, nothing stored.
    let Some(r) = Replay::start("thunderbird-recurring-event") else {
        return;
    };
    assert!(r.show("04-cancel-series.eml").class.reply_refusal.is_some());
    r.apply("04-cancel-series.eml");
    assert!(stored_bytes(&r.m).is_empty());
}

const PST: &str = "Pacific Standard Time";

/// Exchange Online: a series, then a CANCEL of the 2019-12-24 occurrence at
/// a higher SEQUENCE with more attendees (R4.5, T43).
#[test]
fn scenario_listarchive_exchange_instance_cancel() {
    let Some(r) = Replay::start("listarchive-exchange-instance-cancel") else {
        return;
    };
    let uid = r.uid("01-request-series.eml");
    assert_eq!(r.status("01-request-series.eml"), "new");
    r.answer("01-request-series.eml", PartStat::Accepted, None);
    let before = occurrences(&r.stored(&uid));

    let shown = r.apply("02-cancel-single-instance.eml");
    assert_eq!(shown.class.status.cancel_scope(), Some("instance"));
    let st = r.stored(&uid);
    let m = st.master().unwrap();
    assert!(!m.is_cancelled(), "the series stays");
    let gone = zoned(PST, "20191224T093000");
    let ex = m.exdates();
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert!(same_time(&ex[0], &st, &gone), "{ex:?}");
    assert_eq!(
        ex[0].tzid(),
        Some(PST),
        "T43: EXDATE in the form of DTSTART"
    );
    assert_eq!(
        master_partstat(&r.m, &st),
        Some(PartStat::Accepted),
        "not a series change"
    );
    let after = occurrences(&st);
    let gone_at = clock().instant(&gone, &st.cal).unwrap();
    assert!(before.contains(&gone_at));
    assert_eq!(
        after,
        before
            .iter()
            .copied()
            .filter(|t| *t != gone_at)
            .collect::<Vec<_>>(),
        "only 2019-12-24 is removed"
    );
}

/// Exchange Online: a series request, then a CANCEL of the whole series
/// that carries an EXDATE (R4.3).
#[test]
fn scenario_listarchive_exchange_request_then_cancel() {
    let Some(r) = Replay::start("listarchive-exchange-request-then-cancel") else {
        return;
    };
    let uid = r.uid("01-request.eml");
    r.answer("01-request.eml", PartStat::Accepted, None);
    let shown = r.apply("02-cancel.eml");
    assert_eq!(shown.class.status.cancel_scope(), Some("whole"));
    assert!(shown.class.reply_refusal.is_some(), "R4.8");
    assert!(all_cancelled(&r.stored(&uid)));
    assert_eq!(r.sent(), 1);
}

/// Exchange Online Teams series: 02 reschedule, 03 override matched by
/// RECURRENCE-ID though DTSTART moved, 04 cancels only that occurrence,
/// 05 cancels the series, 06 (Yahoo, method mismatch, stale) is refused
/// (R2.4, R3.7, R4.2, R4.3, R4.5, R7.2).
#[test]
fn scenario_listarchive_exchange_teams_series() {
    let Some(r) = Replay::start("listarchive-exchange-teams-series") else {
        return;
    };
    let uid = r.uid("01-request-series.eml");
    assert_eq!(r.status("01-request-series.eml"), "new");
    r.answer("01-request-series.eml", PartStat::Accepted, None);

    // 02: the series is replaced and I am asked again.
    let shown = r.apply("02-request-series-update.eml");
    assert_eq!(shown.class.status.as_str(), "reschedule");
    let st = r.stored(&uid);
    let m = st.master().unwrap();
    let rule = m.rrule_text().unwrap_or_default();
    assert!(
        rule.contains("INTERVAL=4") && rule.contains("BYDAY=TU"),
        "{rule}"
    );
    assert_eq!(m.dtstart(), Some(zoned(PST, "20190709T093000")));
    assert_eq!(partstat_in(&r.m, m), Some(PartStat::NeedsAction));
    assert_eq!(
        text_prop(m, X_PREVIOUS_PARTSTAT).as_deref(),
        Some("ACCEPTED")
    );

    // 03: an override for the 2019-07-09 occurrence, moved to 07-23 21:00.
    let first = zoned(PST, "20190709T093000");
    r.apply("03-request-single-instance.eml");
    let st = r.stored(&uid);
    assert_eq!(st.overrides().len(), 1);
    let o = override_at(&st, &first, &st).expect("override matched by RECURRENCE-ID");
    assert_eq!(o.dtstart(), Some(zoned(PST, "20190723T210000")));
    assert!(summary(o).contains("PST PM"), "{}", summary(o));
    assert_eq!(st.master().unwrap().dtstart(), Some(first.clone()));
    // The same message again is a duplicate of that override, not a new one.
    assert_eq!(r.status("03-request-single-instance.eml"), "duplicate");
    assert_eq!(r.stored(&uid).overrides().len(), 1);

    // 04: only 2019-09-03 goes; the series and the override stay.
    let shown = r.apply("04-cancel-single-instance.eml");
    assert_eq!(shown.class.status.cancel_scope(), Some("instance"));
    let st = r.stored(&uid);
    let m = st.master().unwrap();
    assert!(!m.is_cancelled());
    assert!(
        m.exdates()
            .iter()
            .any(|x| same_time(x, &st, &zoned(PST, "20190903T093000")))
    );
    assert!(!override_at(&st, &first, &st).unwrap().is_cancelled());
    assert!(!occurrences(&st).is_empty());

    // 05: the whole series, override included.
    let shown = r.apply("05-cancel-series.eml");
    assert_eq!(shown.class.status.cancel_scope(), Some("whole"));
    let st = r.stored(&uid);
    assert!(all_cancelled(&st), "nothing of this UID stays active");

    // 06: method mismatch and stale: refused, calendar unchanged.
    let status = r.status("06-yahoo-cancel-method-mismatch.eml");
    assert!(status == "invalid" || status == "outdated", "{status}");
    r.refused("06-yahoo-cancel-method-mismatch.eml");
    assert_eq!(r.sent(), 1, "no reply to any of the updates or cancels");
}

/// Google "Updated invitation" with the same SEQUENCE and a later DTSTAMP
/// replaces the first one (RFC 5546 §2.1.5, R3.5).
#[test]
fn scenario_listarchive_google_updated_invitation() {
    let Some(r) = Replay::start("listarchive-google-updated-invitation") else {
        return;
    };
    let uid = "3k4b3urjjcs9pef2euo9aa87sv@google.com";
    assert_eq!(r.status("01-invitation.eml"), "new");
    r.answer("01-invitation.eml", PartStat::Accepted, None);
    // EXPECTED.md allows a minor update; the end moved, which R3.8 counts
    // as significant, so rsvp asks again (the old answer is kept aside).
    let shown = r.apply("02-updated-invitation.eml");
    assert_eq!(shown.class.status.as_str(), "reschedule");
    let st = r.stored(uid);
    assert_eq!(st.components().len(), 1);
    let m = st.master().unwrap();
    assert_eq!(m.dtend(), Some(utc("20200205T063000Z")));
    assert_eq!(
        text_prop(m, rsvp::domain::classify::X_RECEIVED_DTSTAMP).as_deref(),
        Some("20200130T234010Z")
    );
    assert_eq!(partstat_in(&r.m, m), Some(PartStat::NeedsAction));
    assert_eq!(
        text_prop(m, X_PREVIOUS_PARTSTAT).as_deref(),
        Some("ACCEPTED")
    );
    // Step 1 again is now older (same SEQUENCE, older DTSTAMP: R3.3, T22).
    assert_eq!(r.status("01-invitation.eml"), "outdated");
    r.refused("01-invitation.eml");
}

/// Lotus Notes: two occurrences moved (RECURRENCE-ID in UTC against a
/// TZID=Eastern series), then two whole-series replacements (R2.4, R2.8, T30).
#[test]
fn scenario_lotus_notes_instance_updates() {
    let Some(r) = Replay::start("lotus-notes-instance-updates") else {
        return;
    };
    let uid = "6BA1ECA4D58B306C85256FDB0071B664-Lotus_Notes_Generated";
    r.answer("01-request.ics", PartStat::Accepted, None);
    assert_eq!(occurrences(&r.stored(uid)).len(), 5);

    let shown = r.apply("02-request-instance-0426-moved.ics");
    assert!(shown.class.apply_refusal.is_none());
    r.apply("03-request-instance-0428-moved.ics");
    let st = r.stored(uid);
    assert_eq!(st.overrides().len(), 2);
    for (rid, start) in [
        ("20050426T130000Z", "20050426T100000"),
        ("20050428T130000Z", "20050428T110000"),
    ] {
        // 13:00Z is 09:00 EDT, the series' own occurrence.
        let rid = utc(rid);
        let m = st.master().unwrap();
        let occ = CalDate::with_form_of(
            rid.naive() - chrono::Duration::hours(4),
            &m.dtstart().unwrap(),
        );
        assert!(
            same_time(&occ, &st, &rid),
            "{occ:?} is the occurrence at {rid:?}"
        );
        let o = override_at(&st, &rid, &st).expect("override for the moved occurrence");
        assert_eq!(o.dtstart(), Some(zoned("Eastern", start)));
    }
    assert_eq!(occurrences(&st).len(), 5, "moved, not added");

    // 04 and 05 replace the whole object: no override survives.
    assert_eq!(
        r.apply("04-request-series-shortened.ics")
            .class
            .status
            .as_str(),
        "reschedule"
    );
    let st = r.stored(uid);
    assert!(st.overrides().is_empty());
    assert_eq!(received_sequence(st.master().unwrap()), Some(2));
    r.apply("05-request-series-reset.ics");
    let st = r.stored(uid);
    assert!(st.overrides().is_empty());
    let m = st.master().unwrap();
    assert_eq!(received_sequence(m), Some(3));
    assert_eq!(m.dtstart(), Some(zoned("Eastern", "20050425T090000")));
    assert_eq!(m.dtend(), Some(zoned("Eastern", "20050425T091500")));
    let mut days: Vec<_> = occurrences(&st);
    days.dedup();
    assert_eq!(
        days,
        vec![
            at("20050425T130000Z"),
            at("20050426T130000Z"),
            at("20050427T130000Z"),
            at("20050428T130000Z"),
            at("20050429T130000Z"),
        ],
        "five occurrences at 09:00 Eastern"
    );
}

/// Lotus Notes: a daily RRULE series rescheduled by one hour and re-expressed
/// as an RDATE list at a higher SEQUENCE (R3.7).
#[test]
fn scenario_lotus_notes_reschedule_series() {
    let Some(r) = Replay::start("lotus-notes-reschedule-series") else {
        return;
    };
    let uid = "E88157FE01BE8A5C85256FDB006EBCC3-Lotus_Notes_Generated";
    r.answer("01-request.ics", PartStat::Accepted, None);
    let shown = r.apply("02-request-rescheduled.ics");
    assert_eq!(shown.class.status.as_str(), "reschedule");
    let st = r.stored(uid);
    assert_eq!(st.components().len(), 1);
    let m = st.master().unwrap();
    assert!(m.rrule_text().is_none(), "the RRULE is gone");
    assert_eq!(m.dtstart(), Some(zoned("Eastern", "20050411T100000")));
    assert_eq!(
        partstat_in(&r.m, m),
        Some(PartStat::NeedsAction),
        "asked again"
    );
    // No duplicates from the RRULE to RDATE switch: one component, no RRULE
    // left. (The data lists DTSTART again as an RDATE; an instant that
    // appears twice is one occurrence, RFC 5545 §3.8.5.2.)
    let mut occ = occurrences(&st);
    occ.dedup();
    assert_eq!(
        occ,
        (11..=15)
            .map(|d| at(&format!("200504{d}T140000Z")))
            .collect::<Vec<_>>(),
        "the same five days at 10:00 Eastern"
    );
}

/// Google via nylas: REQUEST then CANCEL with STATUS:CANCELLED (R4.3).
#[test]
fn scenario_nylas_google_cancel() {
    let Some(r) = Replay::start("nylas-google-cancel") else {
        return;
    };
    let uid = "c74p2nmutcd0kt69ku7rs8vu2g@google.com";
    r.answer("01-request.ics", PartStat::Accepted, None);
    assert!(!all_cancelled(&r.stored(uid)));
    let shown = r.apply("02-cancel.ics");
    assert_eq!(shown.class.status.cancel_scope(), Some("whole"));
    assert!(all_cancelled(&r.stored(uid)));
}

/// iCloud via nylas: the CANCEL has no STATUS and its ORGANIZER URI is the
/// address the REQUEST gave only in EMAIL= (R4.4, R6.3).
#[test]
fn scenario_nylas_icloud_cancel() {
    let Some(r) = Replay::start("nylas-icloud-cancel") else {
        return;
    };
    let uid = "5919D444-7C99-4687-A526-FC5D10091318";
    r.answer("01-request.ics", PartStat::Accepted, None);
    let status = r.status("02-cancel.ics");
    assert!(status == "cancel" || status == "uninvited", "{status}");
    r.apply("02-cancel.ics");
    assert!(
        all_cancelled(&r.stored(uid)),
        "cancelled without STATUS:CANCELLED"
    );
}

// ---------------------------------------------------------------------------
// 3a. sabre/vobject iTIP broker cases
// ---------------------------------------------------------------------------

/// sabre's minimal objects often lack METHOD; its expected messages carry
/// `**ANY**` wildcards. Make them iTIP messages the engine can read.
fn sabre_as_request(text: &str) -> String {
    let text = text.replace("**ANY**", "20140101T000000Z");
    if text.contains("\nMETHOD:") {
        text
    } else {
        text.replacen("BEGIN:VCALENDAR\n", "BEGIN:VCALENDAR\nMETHOD:REQUEST\n", 1)
    }
}

/// The `N. ... method = `X`; ... recipient = `mailto:Y`; ... message body = `F``
/// lines of a sabre EXPECTED.md: (method, recipient, file).
fn sabre_expected_messages(expected_md: &str) -> Vec<(String, Option<String>, String)> {
    let field = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name} = `"))? + name.len() + 4;
        let rest = line.get(start..)?;
        Some(rest.get(..rest.find('`')?)?.to_string())
    };
    expected_md
        .lines()
        .filter_map(|l| {
            Some((
                field(l, "method")?,
                field(l, "recipient").map(|r| r.trim_start_matches("mailto:").to_string()),
                field(l, "message body")?,
            ))
        })
        .collect()
}

/// What rsvp does with an attendee-side sabre reply case.
#[derive(Debug, Clone, Copy)]
enum SabreReply {
    /// Each expected REPLY component is reproduced by answering with its
    /// PARTSTAT (for its RECURRENCE-ID): UID, SEQUENCE, ORGANIZER, my
    /// ATTENDEE and PARTSTAT, RECURRENCE-ID and DTSTART compared.
    Same,
    /// rsvp refuses to answer (as sabre sends nothing).
    Refused(&'static str),
    /// Different by design; the case is only walked.
    Walk(&'static str),
}

const SABRE_REPLY_CASES: &[(&str, SabreReply)] = &[
    ("BrokerAttendeeReplyTest/testAccepted", SabreReply::Same),
    (
        "BrokerAttendeeReplyTest/testAcceptedAllDay",
        SabreReply::Same,
    ),
    (
        "BrokerAttendeeReplyTest/testAcceptedWithTz",
        SabreReply::Same,
    ),
    ("BrokerAttendeeReplyTest/testDeclined", SabreReply::Same),
    (
        "BrokerAttendeeReplyTest/testCreateReplyByException",
        SabreReply::Same,
    ),
    (
        "BrokerAttendeeReplyTest/testCreateReplyByExceptionAllDay",
        SabreReply::Same,
    ),
    (
        "BrokerAttendeeReplyTest/testCreateReplyByExceptionTz",
        SabreReply::Same,
    ),
    (
        "BrokerAttendeeReplyTest/testNewEventWithReply",
        SabreReply::Same,
    ),
    (
        "BrokerAttendeeReplyTest/testReplyNoMasterEvent",
        SabreReply::Same,
    ),
    (
        "BrokerDeleteEventTest/testAttendeeDeleteWithDtend",
        SabreReply::Same,
    ),
    (
        "BrokerDeleteEventTest/testAttendeeReplyWithDuration",
        SabreReply::Same,
    ),
    (
        "BrokerAttendeeReplyTest/testDeclinedCancelledEvent",
        SabreReply::Refused("R1.14: no reply to a cancelled event"),
    ),
    (
        "BrokerDeleteEventTest/testAttendeeDeleteCancelledEvent",
        SabreReply::Refused("R1.14: no reply to a cancelled event"),
    ),
    (
        "BrokerAttendeeReplyTest/testNoRelevantAttendee",
        SabreReply::Refused("R6.6: I am not an attendee"),
    ),
    (
        "BrokerAttendeeReplyTest/testPartyCrasher",
        SabreReply::Refused("R6.6: not listed in the occurrence; rsvp does not crash parties"),
    ),
    (
        "BrokerAttendeeReplyTest/testAddExdateWithoutPreviousExdate",
        SabreReply::Walk("the decline is the attendee's own EXDATE in its stored copy"),
    ),
    (
        "BrokerAttendeeReplyTest/testNoChangeForceSend",
        SabreReply::Walk("rsvp never sends PARTSTAT=NEEDS-ACTION"),
    ),
    (
        "BrokerAttendeeReplyTest/testRecurringReply",
        SabreReply::Walk("`RRULE;FREQ=DAILY` has no value: one occurrence, no instances to answer"),
    ),
    (
        "BrokerAttendeeReplyTest/testRecurringAllDay",
        SabreReply::Walk("`RRULE;FREQ=DAILY` has no value: one occurrence, no instances to answer"),
    ),
    (
        "BrokerAttendeeReplyTest/testNoChange",
        SabreReply::Walk("sabre diffs local edits; rsvp replies on request only"),
    ),
    (
        "BrokerAttendeeReplyTest/testDontCreateReplyWhenEventWasDeclined",
        SabreReply::Walk("sabre diffs local edits; rsvp replies on request only"),
    ),
    (
        "BrokerAttendeeReplyTest/testScheduleAgentOnOrganizer",
        SabreReply::Walk("SCHEDULE-AGENT=CLIENT set by the user's own client"),
    ),
];

/// Compare one REPLY component we built with sabre's expected one.
fn compare_reply(ours: &Invite, expected: &Invite, exp: Comp<'_>) -> Result<(), String> {
    let oc = ours.components();
    let [o] = oc.as_slice() else {
        return Err(format!("{} components, expected one", oc.len()));
    };
    if ours.uid != expected.uid {
        return Err(format!("UID {} vs {}", ours.uid, expected.uid));
    }
    if o.sequence() != exp.sequence() {
        return Err(format!(
            "SEQUENCE {} vs {} (R1.9)",
            o.sequence(),
            exp.sequence()
        ));
    }
    let (oa, ea) = (&o.attendees()[0], &exp.attendees()[0]);
    if oa.email != ea.email || oa.partstat != ea.partstat {
        return Err(format!(
            "ATTENDEE {:?} {:?} vs {:?} {:?}",
            oa.email, oa.partstat, ea.email, ea.partstat
        ));
    }
    let (oo, eo) = (
        o.organizer().and_then(|p| p.email),
        exp.organizer().and_then(|p| p.email),
    );
    if oo != eo {
        return Err(format!("ORGANIZER {oo:?} vs {eo:?}"));
    }
    let same = |a: Option<CalDate>, b: Option<CalDate>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.is_date() == b.is_date() && same_instance(&a, &ours.cal, &b, &expected.cal, &clock())
        }
        _ => false,
    };
    if !same(o.recurrence_id(), exp.recurrence_id()) {
        return Err(format!(
            "RECURRENCE-ID {:?} vs {:?} (R1.10)",
            o.recurrence_id(),
            exp.recurrence_id()
        ));
    }
    if exp.dtstart().is_some() && !same(o.dtstart(), exp.dtstart()) {
        return Err(format!("DTSTART {:?} vs {:?}", o.dtstart(), exp.dtstart()));
    }
    Ok(())
}

/// sabre BrokerAttendeeReplyTest/BrokerDeleteEventTest (attendee side):
/// replies rebuilt from the stored invitation and compared with sabre's.
fn sabre_reply_case(dir: &Path, how: SabreReply) -> Result<usize, String> {
    let old = dir.join("01-old.ics");
    let input = if old.is_file() {
        old
    } else {
        dir.join("02-new.ics")
    };
    let raw = sabre_as_request(&String::from_utf8_lossy(&read(&input)));
    let m = MemEnv::new(&["one@example.org"]);
    let env = m.env();
    let shown = inbox::show(&env, raw.as_bytes()).map_err(|e| e.to_string())?;
    match how {
        SabreReply::Walk(_) => Ok(0),
        SabreReply::Refused(why) => match &shown.class.reply_refusal {
            Some(_) => Ok(1),
            None => Err(format!("a reply is allowed, expected a refusal ({why})")),
        },
        SabreReply::Same => {
            let exp_text = sabre_as_request(&String::from_utf8_lossy(&read(
                &dir.join("03-expected-message-1.ics"),
            )));
            let expected = invites_in(&exp_text, None)
                .into_iter()
                .next()
                .ok_or("expected message unreadable")?;
            let mut n = 0;
            for exp in expected.components() {
                let partstat = exp
                    .attendees()
                    .first()
                    .map(|a| a.partstat)
                    .ok_or("no ATTENDEE")?;
                let instance = exp.recurrence_id().map(|r| r.display_key());
                let req = ResponseRequest {
                    partstat,
                    comment: None,
                    instance: instance.as_deref(),
                    dry_run: true,
                    resend: false,
                    no_send: false,
                };
                let done = inbox::respond(&env, raw.as_bytes(), &req)
                    .map_err(|e| format!("respond {partstat:?} {instance:?}: {e}"))?;
                let ours = check_reply_message(&done.message, &expected.uid)?;
                compare_reply(&ours, &expected, exp)
                    .map_err(|e| format!("{partstat:?} {instance:?}: {e}"))?;
                n += 1;
            }
            Ok(n)
        }
    }
}

/// sabre BrokerProcessMessageTest (an attendee's calendar receiving iTIP):
/// CANCEL cases asserted; REQUEST without ORGANIZER differs by design.
fn sabre_process_message(dir: &Path, case: &str) -> Result<String, String> {
    let m = MemEnv::new(&["one@example.org"]);
    let env = m.env();
    if let Ok(existing) = std::fs::read(dir.join("01-existing.ics")) {
        m.store.insert("existing.ics", &existing);
    }
    let before = stored_bytes(&m);
    let raw = read(&dir.join("02-incoming-itip.ics"));
    let shown = inbox::show(&env, &raw).map_err(|e| e.to_string())?;
    let applied = inbox::apply_message(&env, &raw);
    let status = shown.class.status.as_str();
    match case {
        "testCancel" => {
            let st = stored(&m, "foobar").ok_or("not stored")?;
            let c = st.master().ok_or("no master")?;
            if !c.is_cancelled() || received_sequence(c) != Some(2) {
                return Err(format!(
                    "not cancelled at SEQUENCE 2 ({status}, {applied:?})"
                ));
            }
            Ok("asserted: STATUS:CANCELLED, SEQUENCE 2 recorded (R4.3, R4.2)".into())
        }
        "testCancelNoExistingEvent" => {
            if !matches!(applied, Ok((_, Applied::Tombstone))) || !stored_bytes(&m).is_empty() {
                return Err(format!("expected only a tombstone, got {applied:?}"));
            }
            Ok("asserted: nothing stored, tombstone (R4.7)".into())
        }
        "testRequestNew" | "testRequestUpdate" => {
            if status != "invalid" || applied.is_ok() || stored_bytes(&m) != before {
                return Err(format!("status {status}, {applied:?}"));
            }
            Ok(
                "differs by design: a REQUEST without ORGANIZER is invalid (RFC 5546 \
                §3.2.2 requires it), refused and nothing changes"
                    .into(),
            )
        }
        "testUnsupportedComponent" | "testUnsupportedMethod" => {
            if shown.class.reply_refusal.is_none() {
                return Err(format!("status {status} allows a reply"));
            }
            Ok(format!(
                "asserted: no reply possible (status {status}); rsvp imports it as a \
                 PUBLISH where sabre ignores it"
            ))
        }
        _ => Ok(format!("walked: status {status}")),
    }
}

/// sabre's organizer-side expected messages (BrokerNewEventTest,
/// BrokerUpdateEventTest, EvolutionTest) delivered to their recipient: a
/// REQUEST is a new invitation I can answer with a valid REPLY (as that
/// recipient); a CANCEL needs no answer and is `uninvited` when it has no
/// STATUS (R4.4), `cancel` otherwise.
fn sabre_deliver(dir: &Path) -> Result<usize, String> {
    let md = std::fs::read_to_string(dir.join("EXPECTED.md")).map_err(|e| e.to_string())?;
    let mut n = 0;
    for (method, recipient, file) in sabre_expected_messages(&md) {
        let path = dir.join(&file);
        if !path.is_file() {
            continue;
        }
        let raw = sabre_as_request(&String::from_utf8_lossy(&read(&path)));
        // No recipient named: the message's first attendee.
        let recipient = recipient.or_else(|| {
            let inv = invites_in(&raw, None).into_iter().next()?;
            pick_me(&inv, &[])
        });
        let Some(recipient) = recipient else { continue };
        let m = MemEnv::new(&[recipient.as_str()]);
        let env = m.env();
        let shown = inbox::show(&env, raw.as_bytes()).map_err(|e| format!("{file}: {e}"))?;
        let status = shown.class.status.as_str();
        match method.as_str() {
            "REQUEST" => {
                if status != "new" || shown.class.reply_refusal.is_some() {
                    return Err(format!(
                        "{file} to {recipient}: status {status}, {:?}",
                        shown.class.reply_refusal
                    ));
                }
                let req = ResponseRequest {
                    partstat: PartStat::Accepted,
                    comment: None,
                    instance: None,
                    dry_run: true,
                    resend: false,
                    no_send: false,
                };
                let done = inbox::respond(&env, raw.as_bytes(), &req)
                    .map_err(|e| format!("{file} to {recipient}: {e}"))?;
                let reply = check_reply_message(&done.message, "foobar")
                    .or_else(|_| {
                        let uid = shown.invite().map(|i| i.uid.clone()).unwrap_or_default();
                        check_reply_message(&done.message, &uid)
                    })
                    .map_err(|e| format!("{file} to {recipient}: {e}"))?;
                for c in reply.components() {
                    if c.attendees()[0].email.as_deref() != Some(recipient.as_str()) {
                        return Err(format!("{file}: the REPLY is not from {recipient}"));
                    }
                }
                inbox::apply_message(&env, raw.as_bytes())
                    .map_err(|e| format!("{file}: apply: {e}"))?;
            }
            "CANCEL" => {
                let want = if raw.contains("STATUS:CANCELLED") {
                    "cancel"
                } else {
                    "uninvited"
                };
                if status != want || shown.class.reply_refusal.is_none() {
                    return Err(format!(
                        "{file} to {recipient}: status {status}, expected {want}"
                    ));
                }
            }
            _ => continue,
        }
        n += 1;
    }
    Ok(n)
}

#[test]
fn sabre_vobject_itip_attendee_side() {
    let Some(root) = scenario_dir("sabre-vobject-itip") else {
        return;
    };
    let mut cases: Vec<PathBuf> = Vec::new();
    for class in std::fs::read_dir(&root).expect("sabre folder").flatten() {
        if class.path().is_dir() {
            for case in std::fs::read_dir(class.path())
                .expect("class folder")
                .flatten()
            {
                cases.push(case.path());
            }
        }
    }
    cases.sort();
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    let (mut replies, mut refused, mut delivered, mut other) = (0, 0, 0, 0);
    let (mut differs, mut walked) = (0, 0);
    for dir in &cases {
        let class = dir
            .parent()
            .and_then(|p| p.file_name())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let key = format!("{class}/{case}");
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<String, String> {
            if let Some((_, how)) = SABRE_REPLY_CASES.iter().find(|(k, _)| *k == key) {
                let n = sabre_reply_case(dir, *how)?;
                return Ok(match how {
                    SabreReply::Same => format!("asserted: {n} REPLY component(s) as sabre's"),
                    SabreReply::Refused(why) => format!("asserted: no reply ({why})"),
                    SabreReply::Walk(why) => format!("walked only: {why}"),
                });
            }
            match class.as_str() {
                "BrokerProcessMessageTest" => sabre_process_message(dir, &case),
                "BrokerNewEventTest" | "BrokerUpdateEventTest" | "EvolutionTest" => {
                    let n = sabre_deliver(dir)?;
                    Ok(if n > 0 {
                        format!("asserted: {n} organizer message(s) received by their attendee")
                    } else {
                        "walked only: no message to an attendee".into()
                    })
                }
                _ => Ok("walked only: organizer-side (REPLY processing, change detection)".into()),
            }
        }));
        let text = match outcome {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                failures.push(format!("{key}: {e}"));
                format!("FAILED: {e}")
            }
            Err(p) => {
                failures.push(format!("{key}: panic: {}", panic_text(&*p)));
                "PANIC".into()
            }
        };
        if text.starts_with("asserted: ") && text.contains("REPLY component") {
            replies += 1;
        } else if text.starts_with("asserted: no reply") {
            refused += 1;
        } else if text.contains("received by their attendee") {
            delivered += 1;
        } else if text.starts_with("asserted") {
            other += 1;
        } else if text.starts_with("differs") {
            differs += 1;
        } else if text.starts_with("walked") {
            walked += 1;
        }
        lines.push(format!("  {key:<70} {text}"));
    }
    report!("sabre-vobject-itip: {} cases", cases.len());
    for l in &lines {
        report!("{l}");
    }
    report!(
        "  asserted: {replies} replies compared with sabre's, {refused} refusals, {delivered} \
         organizer messages received by their attendee, {other} other calendar outcomes; \
         differs by design (asserted as rsvp's rule): {differs}; walked only: {walked}; \
         failures: {}",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "sabre cases failed:\n{}",
        failures.join("\n")
    );
    assert!(replies >= 10 && delivered >= 5, "too little was asserted");
}

// ---------------------------------------------------------------------------
// 3b. Stalwart iTIP scripts
// ---------------------------------------------------------------------------

/// One iTIP message of a Stalwart script: sender, recipients, iCalendar.
#[derive(Debug, Clone)]
struct StalwartMessage {
    from: String,
    to: Vec<String>,
    ical: String,
}

/// One `> command args` block with its payload lines and the comment
/// naming the step.
struct StalwartStep {
    step: String,
    command: String,
    args: Vec<String>,
    payload: Vec<String>,
}

fn stalwart_steps(text: &str) -> Vec<StalwartStep> {
    let mut steps = Vec::new();
    let mut comment = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(c) = line.strip_prefix('#') {
            comment = c.trim().to_string();
        } else if let Some(cmd) = line.strip_prefix("> ") {
            let mut words = cmd.split_whitespace().map(str::to_string);
            let command = words.next().unwrap_or_default();
            let mut payload = Vec::new();
            while let Some(l) = lines.peek() {
                if l.trim().is_empty() {
                    break;
                }
                payload.push(lines.next().unwrap_or_default().to_string());
            }
            steps.push(StalwartStep {
                step: comment.clone(),
                command,
                args: words.collect(),
                payload,
            });
        }
    }
    steps
}

/// The iTIP messages of an `expect` payload (none when it names an error).
fn stalwart_messages(payload: &[String]) -> Vec<StalwartMessage> {
    let mut out = Vec::new();
    for chunk in payload.split(|l| l.starts_with("=====")) {
        let header = |name: &str| {
            chunk
                .iter()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .map(|v| v.trim().to_string())
        };
        let Some(start) = chunk.iter().position(|l| l.starts_with("BEGIN:VCALENDAR")) else {
            continue;
        };
        let (Some(from), Some(to)) = (header("from"), header("to")) else {
            continue;
        };
        out.push(StalwartMessage {
            from,
            to: to.split(',').map(|t| t.trim().to_string()).collect(),
            ical: chunk[start..].join("\r\n") + "\r\n",
        });
    }
    out
}

/// A message as mail: the runner normalises DTSTAMP to `0`, `1`, …; each
/// delivery gets a later real DTSTAMP instead, as a live organizer would.
fn stalwart_mail(msg: &StalwartMessage, to: &str, serial: u32) -> Vec<u8> {
    let stamp = format!(
        "DTSTAMP:20250101T{:02}{:02}00Z",
        serial / 60 % 24,
        serial % 60
    );
    let ical: String = msg
        .ical
        .split("\r\n")
        .map(|l| match l.strip_prefix("DTSTAMP:") {
            Some(v) if v.len() < 4 && v.chars().all(|c| c.is_ascii_digit()) => stamp.clone(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let method = ical
        .lines()
        .find_map(|l| l.strip_prefix("METHOD:"))
        .unwrap_or("PUBLISH")
        .trim()
        .to_string();
    format!(
        "From: <{}>\r\nTo: <{to}>\r\nSubject: iTIP\r\nMessage-ID: <s{serial}@stalwart.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/calendar; method={method}; charset=UTF-8\r\n\r\n{ical}",
        msg.from
    )
    .into_bytes()
}

/// Compare what the organizer controls in an attendee's stored copy with a
/// Stalwart `get` payload: the same components (by RECURRENCE-ID), and in
/// each the same DTSTART instant, SEQUENCE and cancelled state.
fn stalwart_compare(ours: &Invite, expected: &Invite) -> Result<(), String> {
    let ck = clock();
    let (oc, ec) = (ours.components(), expected.components());
    if oc.len() != ec.len() {
        return Err(format!(
            "{} components stored, {} expected",
            oc.len(),
            ec.len()
        ));
    }
    for e in &ec {
        let o = match e.recurrence_id() {
            None => ours.master(),
            Some(rid) => override_at(ours, &rid, expected),
        }
        .ok_or_else(|| format!("no component for {:?}", e.recurrence_id()))?;
        let same_start = match (o.dtstart(), e.dtstart()) {
            (Some(a), Some(b)) => same_instance(&a, &ours.cal, &b, &expected.cal, &ck),
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same_start {
            return Err(format!("DTSTART {:?} vs {:?}", o.dtstart(), e.dtstart()));
        }
        // A cancelled component keeps the CANCEL's SEQUENCE elsewhere
        // (X-RSVP-RECEIVED-SEQUENCE); Stalwart normalises it away.
        if !e.is_cancelled() && o.sequence() != e.sequence() {
            return Err(format!("SEQUENCE {} vs {}", o.sequence(), e.sequence()));
        }
        if o.is_cancelled() != e.is_cancelled() {
            return Err(format!(
                "cancelled {} vs {} at {:?}",
                o.is_cancelled(),
                e.is_cancelled(),
                e.recurrence_id()
            ));
        }
    }
    Ok(())
}

#[derive(Default)]
struct StalwartReport {
    deliveries: usize,
    statuses: BTreeMap<String, usize>,
    asserted: usize,
    replies_checked: usize,
    gets_compared: usize,
    gets_skipped: usize,
    walked: usize,
    failures: Vec<String>,
}

/// Deliver one message to one recipient and check what concerns an
/// attendee; organizer-side methods (REPLY, REFRESH) are only walked.
/// Returns whether this account's copy now differs from Stalwart's by
/// design (an ADD that rsvp refuses).
fn stalwart_deliver(
    m: &MemEnv,
    raw: &[u8],
    to: &str,
    expect_error: bool,
    where_: &str,
    r: &mut StalwartReport,
) -> bool {
    let env = m.env();
    r.deliveries += 1;
    let shown = match inbox::show(&env, raw) {
        Ok(s) => s,
        Err(e) => {
            r.failures.push(format!("{where_}: show: {e}"));
            return false;
        }
    };
    let status = shown.class.status.as_str();
    *r.statuses.entry(status.to_string()).or_default() += 1;
    let method = shown.invite().and_then(|i| i.method);
    let listed = shown.invite().is_some_and(|i| {
        i.organizer().and_then(|o| o.email).as_deref() != Some(to)
            && i.components()
                .iter()
                .flat_map(|c| c.attendees())
                .any(|a| a.email.as_deref() == Some(to))
    });
    let before = stored_bytes(m);
    let applied = inbox::apply_message(&env, raw);
    let mut fail = |msg: String| r.failures.push(format!("{where_}: status {status}: {msg}"));
    match (method, listed) {
        _ if expect_error => {
            // The script expects a rejection (e.g. NotOrganizerNorAttendee).
            if applied.is_ok() || stored_bytes(m) != before {
                fail(format!("expected a rejection, got {applied:?}"));
            }
        }
        (Some(Method::Request), true) => {
            if !matches!(
                status,
                "new" | "update" | "reschedule" | "poll" | "duplicate"
            ) {
                fail("a REQUEST to an attendee".into());
            } else if status != "duplicate" && applied.is_err() {
                fail(format!("not applied: {applied:?}"));
            }
            if shown.class.reply_refusal.is_none() {
                let req = ResponseRequest {
                    partstat: PartStat::Accepted,
                    comment: None,
                    instance: None,
                    dry_run: true,
                    resend: false,
                    no_send: false,
                };
                let uid = shown.invite().map(|i| i.uid.clone()).unwrap_or_default();
                match inbox::respond(&env, raw, &req)
                    .map_err(|e| e.to_string())
                    .and_then(|d| check_reply_message(&d.message, &uid))
                {
                    Ok(_) => r.replies_checked += 1,
                    Err(e) => fail(format!("reply: {e}")),
                }
            }
        }
        (Some(Method::Cancel), true) => {
            if !matches!(status, "cancel" | "uninvited" | "cancelled") || applied.is_err() {
                fail(format!("a CANCEL to an attendee: {applied:?}"));
            }
        }
        (Some(Method::Add), _) => {
            // R3.12: ADD is not supported; refused, nothing changes.
            if status != "invalid" || applied.is_ok() || stored_bytes(m) != before {
                fail(format!("ADD must be refused: {applied:?}"));
            }
            r.asserted += 1;
            return true;
        }
        _ => {
            r.walked += 1;
            return false;
        }
    }
    r.asserted += 1;
    false
}

#[test]
fn stalwart_itip_scripts_delivered_to_attendees() {
    let Some(dir) = scenario_dir("stalwart-itip") else {
        return;
    };
    let mut scripts = Vec::new();
    files(&dir, &["txt"], &mut scripts);
    assert!(!scripts.is_empty());
    let mut serial = 0u32;
    let mut report = StalwartReport::default();
    let mut panics = Vec::new();
    for script in &scripts {
        let text = std::fs::read_to_string(script).expect("script");
        let name = script.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut r = StalwartReport::default();
            let mut envs: BTreeMap<String, MemEnv> = BTreeMap::new();
            // Accounts that changed their own copy (not replayed) or that
            // refused an ADD: their `get` states are not compared.
            let mut dirty: Vec<String> = Vec::new();
            let mut pending: Option<Vec<StalwartMessage>> = Some(Vec::new());
            for step in stalwart_steps(&text) {
                let account = step.args.first().cloned().unwrap_or_default();
                match step.command.as_str() {
                    "reset" => {
                        envs.clear();
                        dirty.clear();
                        pending = Some(Vec::new());
                    }
                    "expect" => pending = Some(stalwart_messages(&step.payload)),
                    "itip" => {
                        pending = Some(vec![StalwartMessage {
                            from: account,
                            to: step.args.get(1).cloned().into_iter().collect(),
                            ical: step.payload.join("\r\n") + "\r\n",
                        }])
                    }
                    "put" | "delete" | "delete-force-send" => {
                        dirty.push(account);
                        pending = None;
                    }
                    "send" => {
                        let Some(msgs) = pending.take() else {
                            r.walked += 1;
                            continue;
                        };
                        let expect_error = step.payload.first().is_some_and(|l| {
                            !l.contains(':') && l.chars().all(|c| c.is_ascii_alphanumeric())
                        });
                        for msg in &msgs {
                            for to in &msg.to {
                                serial += 1;
                                let raw = stalwart_mail(msg, to, serial);
                                let m = envs
                                    .entry(to.clone())
                                    .or_insert_with(|| MemEnv::new(&[to.as_str()]));
                                let where_ = format!("{name} [{}] {} -> {to}", step.step, msg.from);
                                if stalwart_deliver(m, &raw, to, expect_error, &where_, &mut r) {
                                    dirty.push(to.clone());
                                }
                            }
                        }
                    }
                    "get" => {
                        let payload = step.payload.join("\r\n") + "\r\n";
                        let expected = invites_in(&payload, None).into_iter().next();
                        let ours = envs.get(&account).and_then(|m| {
                            let uid = expected.as_ref()?.uid.clone();
                            stored(m, &uid)
                        });
                        let is_organizer = expected.as_ref().is_some_and(|e| {
                            e.organizer().and_then(|o| o.email).as_deref() == Some(account.as_str())
                        });
                        match (expected, ours) {
                            (Some(e), Some(o)) if !dirty.contains(&account) && !is_organizer => {
                                r.gets_compared += 1;
                                if let Err(err) = stalwart_compare(&o, &e) {
                                    r.failures.push(format!(
                                        "{name} [{}] get {account}: {err}",
                                        step.step
                                    ));
                                }
                            }
                            _ => r.gets_skipped += 1,
                        }
                    }
                    _ => {}
                }
            }
            r
        }));
        match outcome {
            Ok(r) => {
                report.deliveries += r.deliveries;
                for (k, v) in r.statuses {
                    *report.statuses.entry(k).or_default() += v;
                }
                report.asserted += r.asserted;
                report.replies_checked += r.replies_checked;
                report.gets_compared += r.gets_compared;
                report.gets_skipped += r.gets_skipped;
                report.walked += r.walked;
                report.failures.extend(r.failures);
            }
            Err(p) => panics.push(format!("{name}: {}", panic_text(&*p))),
        }
    }
    report!(
        "stalwart-itip: {} scripts, {} deliveries",
        scripts.len(),
        report.deliveries
    );
    report!("  statuses:");
    for (k, v) in &report.statuses {
        report!("    {k:<18} {v}");
    }
    report!(
        "  asserted: {} deliveries to attendees (REQUEST/CANCEL/ADD/expected rejections), \
         {} dry-run replies checked, {} attendee `get` states compared (DTSTART, SEQUENCE, \
         cancelled, components)",
        report.asserted,
        report.replies_checked,
        report.gets_compared
    );
    report!(
        "  walked only: {} organizer-side deliveries or unreplayable sends (REPLY, REFRESH, \
         results of `put`/`delete` not written in the script), {} `get` not compared \
         (organizer copies, attendees' own edits, copies after a refused ADD)",
        report.walked,
        report.gets_skipped
    );
    report!(
        "  failures: {}, panics: {}",
        report.failures.len(),
        panics.len()
    );
    for f in report.failures.iter().chain(&panics) {
        report!("    {f}");
    }
    assert!(
        report.failures.is_empty() && panics.is_empty(),
        "stalwart scripts:\n{}",
        report
            .failures
            .iter()
            .chain(&panics)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        report.asserted >= 30,
        "too little asserted: {}",
        report.asserted
    );
}
