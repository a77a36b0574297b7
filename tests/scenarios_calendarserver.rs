//! Apple CalendarServer attendee-side cases
//! (`../shared/corpus/scenarios/calendarserver-itip`), as far as replayed:
//! `iTIPProcessing/test_sequenceComparison_*` through the domain's revision
//! comparison, and `iTIPProcessing/test_processRequest*` through
//! `apply::merge_request` (the attendee's stored copy after a REQUEST).
//! Counts go to the CI log.

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

/// (RECURRENCE-ID, SUMMARY, DTSTART, TRANSP) of one component.
type Key = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
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
/// number of components.
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
        let merged = apply::merge_request(&incoming, Some(&stored), &me, &opts);
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
                    )
                })
                .collect();
            v.sort();
            v
        };
        let strip = |v: Vec<Key>| {
            v.into_iter()
                .map(|(a, b, c, _)| (a, b, c))
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
