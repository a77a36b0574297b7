//! Apple CalendarServer attendee-side cases
//! (`../shared/corpus/scenarios/calendarserver-itip`), as far as replayed:
//! `iTIPProcessing/test_sequenceComparison_*` through the domain's revision
//! comparison, and `iTIPProcessing/test_processRequest*` through
//! `apply::merge_request` (the attendee's stored copy after a REQUEST).
//! Counts go to the CI log.

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

use std::cmp::Ordering;
use std::path::Path;

use rsvp::domain::apply::{self, Options};
use rsvp::domain::classify;
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::domain::invite::Invite;
use support::engine;

/// (RECURRENCE-ID, SUMMARY, DTSTART, TRANSP, EXDATEs, alarms) of one component.
type Key = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    usize,
);

fn case_dirs(root: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p: &std::path::PathBuf| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
    });
    v.sort();
    v
}

fn one(path: &Path) -> Invite {
    let text = std::fs::read_to_string(path).expect("corpus file");
    engine::invites_in(&text, None)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{}: no object", path.display()))
}

/// sequenceComparison: every case says "the message is new and should be
/// processed". rsvp agrees when the incoming revision is higher; at an equal
/// revision rsvp deliberately calls it a duplicate (nothing to apply) unless
/// its content differs (issue 7: then an update with a warning).
#[test]
fn calendarserver_sequence_comparison() {
    let Some(corpus) = engine::corpus() else {
        return;
    };
    let root = corpus.join("scenarios/calendarserver-itip/iTIPProcessing");
    let dirs = case_dirs(&root, "test_sequenceComparison_");
    let (mut pass, mut differs) = (0, Vec::new());
    for d in &dirs {
        let stored = one(&d.join("01-stored.ics"));
        let incoming = one(&d.join("02-incoming.ics"));
        match classify::revision_cmp(&incoming, &stored) {
            Ordering::Greater => pass += 1,
            Ordering::Equal => differs.push(format!(
                "{}: same SEQUENCE and DTSTAMP: a duplicate for rsvp unless the content differs",
                d.file_name().unwrap().to_string_lossy()
            )),
            Ordering::Less => panic!(
                "{}: rsvp would call a message CalendarServer processes older",
                d.display()
            ),
        }
    }
    report!(
        "calendarserver sequenceComparison: {} cases, {pass} as expected, {} deliberate differences",
        dirs.len(),
        differs.len()
    );
    for x in &differs {
        report!("  differs  {x}");
    }
    assert_eq!(dirs.len(), 10);
}

/// processRequest*: the attendee's copy after the REQUEST keeps the
/// organizer's new data and the attendee's own (TRANSP, R2.8). Compared
/// with `03-expected.ics` per component: SUMMARY, DTSTART, TRANSP, the
/// EXDATEs, the number of alarms and of components.
#[test]
fn calendarserver_process_request() {
    let Some(corpus) = engine::corpus() else {
        return;
    };
    let root = corpus.join("scenarios/calendarserver-itip/iTIPProcessing");
    let dirs = case_dirs(&root, "test_processRequest");
    let me = Identity::new(None, &["user02@example.com".to_string()]);
    let opts = Options {
        schedule_agent_client: false,
        clock: Clock {
            local: chrono_tz::UTC,
        },
        // The expected results are CalendarServer's: no TRANSP of ours.
        declined_transparent: false,
    };
    let (mut pass, mut differs) = (0, Vec::new());
    for d in &dirs {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let stored = one(&d.join("01-stored.ics"));
        let incoming = one(&d.join("02-incoming.ics"));
        let Ok(expected_text) = std::fs::read_to_string(d.join("03-expected.ics")) else {
            continue;
        };
        let expected = engine::invites_in(&expected_text, None).remove(0);
        // Classification lets the user apply it (CalendarServer processes
        // every one of these).
        let ctx = classify::Context {
            me: &me,
            groups: &[],
            delivered_to: &[],
            sender: None,
            tombstone: None,
            clock: opts.clock,
        };
        // A duplicate (nothing changed) is not applied: the calendar keeps
        // the stored copy, which must then be what CalendarServer stores.
        let class = classify::classify(&incoming, Some(&stored), &ctx);
        let duplicate = class.status == classify::Status::Duplicate;
        assert!(
            class.apply_refusal.is_none() || duplicate,
            "{name}: {} refused: {:?}",
            class.status.as_str(),
            class.apply_refusal
        );
        let merged = if duplicate {
            stored.cal.clone()
        } else {
            apply::merge_request(&incoming, Some(&stored), &me, &opts)
        };
        let merged = Invite::from_calendar(merged, None)
            .expect("merged")
            .remove(0);
        let key = |inv: &Invite| -> Vec<Key> {
            let mut v: Vec<_> = inv
                .components()
                .iter()
                .map(|c| {
                    (
                        c.recurrence_id().map(|r| r.display_key()),
                        c.summary(),
                        c.dtstart().map(|s| s.display_key()),
                        c.text(&calcard::icalendar::ICalendarProperty::Transp),
                        c.exdates().iter().map(|x| x.display_key()).collect(),
                        rsvp::domain::ical::children(&inv.cal, c.id).len(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let strip = |v: Vec<Key>| {
            v.into_iter()
                .map(|(a, b, c, _, e, n)| (a, b, c, e, n))
                .collect::<Vec<_>>()
        };
        let ours = key(&merged);
        let theirs = key(&expected);
        if ours == theirs {
            pass += 1;
        } else if strip(ours.clone()) == strip(theirs.clone())
            && ours.iter().all(|k| k.3.is_none())
            && theirs.iter().all(|k| k.3.as_deref() == Some("TRANSPARENT"))
        {
            differs.push(format!(
                "{name}: CalendarServer marks an unanswered invitation TRANSP:TRANSPARENT (server policy); rsvp keeps the organizer's TRANSP and lets the user's answer decide"
            ));
        } else {
            panic!("{name}: rsvp {ours:?} vs expected {theirs:?}");
        }
    }
    report!(
        "calendarserver processRequest: {} cases, {pass} as expected, {} deliberate differences",
        dirs.len(),
        differs.len()
    );
    for x in &differs {
        report!("  differs  {x}");
    }
    assert!(dirs.len() >= 5);
    assert!(pass >= 1, "no processRequest case matches");
}

fn expected_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("EXPECTED.md"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("- "))
        .map(str::to_string)
        .collect()
}

fn case_name(d: &Path) -> String {
    d.file_name().unwrap().to_string_lossy().into_owned()
}

/// `None` for the master, `Some(rid text)` for an instance, from an
/// EXPECTED.md phrase.
fn instance_of_phrase(p: &str) -> Option<Option<String>> {
    if p.contains("the master component") {
        Some(None)
    } else {
        p.split("RECURRENCE-ID ")
            .nth(1)
            .map(|r| Some(r.split([':', ' ', ',']).next().unwrap_or("").to_string()))
    }
}

/// What rsvp decides for the attendee-side `attendee_needs_action` and
/// `what_is_different` cases, and what CalendarServer expects.
struct Outcomes {
    pass: Vec<String>,
    differs: Vec<String>,
    unexplained: Vec<String>,
}

/// attendee_needs_action: which components rsvp would ask me about again
/// (my ACCEPTED reset to NEEDS-ACTION by `apply::merge_request`) against
/// the instances CalendarServer says need a new response.
#[test]
fn calendarserver_attendee_needs_action() {
    let Some(corpus) = engine::corpus() else {
        return;
    };
    let root = corpus.join("scenarios/calendarserver-itip/ICalDiff");
    let dirs = case_dirs(&root, "test_attendee_needs_action_");
    let me = Identity::new(None, &["user2@example.com".to_string()]);
    let opts = Options {
        schedule_agent_client: false,
        clock: Clock {
            local: chrono_tz::UTC,
        },
        // The expected results are CalendarServer's: no TRANSP of ours.
        declined_transparent: false,
    };
    let mut out = Outcomes {
        pass: Vec::new(),
        differs: Vec::new(),
        unexplained: Vec::new(),
    };
    for d in &dirs {
        let name = case_name(d);
        let stored_text = std::fs::read_to_string(d.join("01-stored.ics"))
            .expect("stored")
            .replace(
                "ATTENDEE:mailto:user2@example.com",
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:user2@example.com",
            );
        let stored = engine::invites_in(&stored_text, None).remove(0);
        let incoming = one(&d.join("02-incoming.ics"));
        let merged = apply::merge_request(&incoming, Some(&stored), &me, &opts);
        let merged = Invite::from_calendar(merged, None)
            .expect("merged")
            .remove(0);
        let mut ours: Vec<Option<String>> = merged
            .components()
            .iter()
            .filter(|c| {
                c.attendees().iter().any(|a| {
                    me.party_is_me(a) && a.partstat == rsvp::domain::invite::PartStat::NeedsAction
                })
            })
            .map(|c| c.recurrence_id().map(|r| r.value_text()))
            .collect();
        ours.sort();
        let lines = expected_lines(d);
        let mut theirs: Vec<Option<String>> = lines
            .iter()
            .filter(|l| l.contains("instances needing a new response"))
            .flat_map(|l| {
                l.split(": ")
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(": ")
                    .split("; ")
                    .filter_map(instance_of_phrase)
                    .collect::<Vec<_>>()
            })
            .collect();
        theirs.sort();
        if ours == theirs {
            out.pass.push(name);
        } else if let Some(why) = NEEDS_ACTION_DIFFERENCES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| *w)
        {
            out.differs.push(format!("{name}: {why}"));
        } else {
            out.unexplained.push(format!(
                "{name}: rsvp asks again for {ours:?}, CalendarServer for {theirs:?}"
            ));
        }
    }
    report!(
        "calendarserver attendee_needs_action: {} cases, {} as expected, {} deliberate differences",
        dirs.len(),
        out.pass.len(),
        out.differs.len()
    );
    for x in &out.differs {
        report!("  differs  {x}");
    }
    assert!(out.unexplained.is_empty(), "{}", out.unexplained.join("\n"));
    assert_eq!(dirs.len(), 9);
}

/// Cases where rsvp asks again and CalendarServer does not, or the other
/// way round, on purpose.
const NEEDS_ACTION_DIFFERENCES: &[(&str, &str)] = &[(
    "test_attendee_needs_action_10",
    "the RRULE grows from 5 to 10 occurrences: rsvp asks about the series again, because the user never agreed to the added dates (R3.8: a changed recurrence is significant)",
)];

/// what_is_different: the properties rsvp's diff reports per instance
/// against the ones CalendarServer lists, as attendee user2 (whose own
/// answer in the organizer's copy is not news to them, diff.rs).
#[test]
fn calendarserver_what_is_different() {
    let Some(corpus) = engine::corpus() else {
        return;
    };
    let root = corpus.join("scenarios/calendarserver-itip/ICalDiff");
    let dirs = case_dirs(&root, "test_what_is_different_");
    let me = Identity::new(None, &["user2@example.com".to_string()]);
    let clock = Clock {
        local: chrono_tz::UTC,
    };
    let mut out = Outcomes {
        pass: Vec::new(),
        differs: Vec::new(),
        unexplained: Vec::new(),
    };
    for d in &dirs {
        let name = case_name(d);
        let old = one(&d.join("01-stored.ics"));
        let new = one(&d.join("02-incoming.ics"));
        let changes = rsvp::domain::diff::diff(&old, &new, &me, &clock);
        let mut ours: Vec<(Option<String>, String)> = changes
            .iter()
            .map(|c| (c.recurrence_id.clone(), c.field.clone()))
            .collect();
        // Changes rsvp shows but does not ask again for.
        let significant = changes.iter().any(|c| c.significant);
        ours.sort();
        ours.dedup();
        let mut theirs: Vec<(Option<String>, String)> = Vec::new();
        for l in expected_lines(d) {
            let Some((head, props)) = l.split_once(": properties ") else {
                continue;
            };
            let Some(inst) = instance_of_phrase(head) else {
                continue;
            };
            // rsvp labels an instance with its time in words (Clock::format).
            let inst = inst.map(|r| {
                rsvp::domain::ical::CalDate::parse_text(&r)
                    .map(|d| clock.format(&d, &new.cal))
                    .unwrap_or(r)
            });
            for p in props.split(", ") {
                let p = p.split(' ').next().unwrap_or("").to_string();
                theirs.push((inst.clone(), p));
            }
        }
        theirs.sort();
        theirs.dedup();
        if ours == theirs {
            out.pass.push(name);
        } else if let Some(why) = DIFF_DIFFERENCES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| *w)
        {
            // None of these differences asks the user again.
            assert!(!significant, "{name}: {changes:?}");
            out.differs.push(format!("{name}: {why}"));
        } else {
            out.unexplained.push(format!(
                "{name}: rsvp reports {ours:?}, CalendarServer {theirs:?}"
            ));
        }
    }
    report!(
        "calendarserver what_is_different: {} cases, {} as expected, {} deliberate differences",
        dirs.len(),
        out.pass.len(),
        out.differs.len()
    );
    for x in &out.differs {
        report!("  differs  {x}");
    }
    assert!(out.unexplained.is_empty(), "{}", out.unexplained.join("\n"));
    assert_eq!(dirs.len(), 23);
}

const MY_PARTSTAT: &str = "the only change is my own PARTSTAT (user2 is me in this replay) in the organizer's copy: rsvp keeps the answer as I gave it and does not list it as a change (diff.rs)";

const DIFF_DIFFERENCES: &[(&str, &str)] = &[
    ("test_what_is_different_6", MY_PARTSTAT),
    ("test_what_is_different_18", MY_PARTSTAT),
    ("test_what_is_different_19", MY_PARTSTAT),
    (
        "test_what_is_different_10",
        "RSVP=TRUE added to me: rsvp reports that as a poll (the status, R3.6/T27), not as a field change",
    ),
    (
        "test_what_is_different_30",
        "an override equal to the series was removed; rsvp lists the removed RECURRENCE-ID (not significant, no new answer asked) so the user sees what the organizer dropped",
    ),
];
