//! Cyrus Cassandane iMIP cases (`../shared/corpus/scenarios/cyrus-imip`),
//! replayed as the attendee `cassandane@example.com` through show and apply
//! (and a dry-run reply where one is possible). Each case asserts the
//! outcome its EXPECTED.md states, or says why rsvp deliberately differs
//! (Cyrus runs unattended from Sieve with options rsvp does not have; rsvp
//! never changes the calendar without the user, R9.2). Counts go to the CI log.

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

use std::path::{Path, PathBuf};

use rsvp::domain::invite::{Invite, PartStat};
use rsvp::inbox::{Applied, InboxError};
use support::engine::{self, stored};
use support::memenv::MemEnv;

const ME: &str = "cassandane@example.com";
const UUID: &str = "6de280c9-edff-4019-8ebd-cfebc73f8201";

/// How a case ends.
enum Outcome {
    /// As EXPECTED.md says.
    Pass,
    /// rsvp differs on purpose; the reason.
    Differs(&'static str),
}

struct Case {
    m: MemEnv,
    dir: PathBuf,
}

impl Case {
    fn raw(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(file)).expect("corpus file")
    }
    fn status(&self, file: &str) -> String {
        engine::show(&self.m, &self.raw(file))
            .map(|s| s.class.status.as_str().to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }
    fn apply(&self, file: &str) -> Result<Applied, InboxError> {
        engine::apply(&self.m, &self.raw(file)).map(|(_, a)| a)
    }
    fn stored(&self, uid: &str) -> Option<Invite> {
        stored(&self.m, uid)
    }
    fn count(&self) -> usize {
        use rsvp::domain::ports::CalendarStore;
        self.m.store.list().map(|v| v.len()).unwrap_or(0)
    }
    fn stored_text(&self) -> String {
        use rsvp::domain::ports::CalendarStore;
        self.m
            .store
            .list()
            .unwrap_or_default()
            .iter()
            .map(|o| String::from_utf8_lossy(&o.data).into_owned())
            .collect()
    }
}

fn stored_ok(a: &Result<Applied, InboxError>) -> bool {
    matches!(a, Ok(Applied::Stored { .. }))
}

fn my_partstat(inv: &Invite) -> Option<PartStat> {
    inv.components()
        .iter()
        .flat_map(|c| c.attendees())
        .find(|a| a.email.as_deref() == Some(ME))
        .map(|a| a.partstat)
}

fn run(name: &str, c: &Case) -> Outcome {
    match name {
        "imip_invite"
        | "imip_invite_base64"
        | "imip_invite_multipart"
        | "imip_invite_known_organizer" => {
            let file = if name == "imip_invite_known_organizer" {
                "02-imip-request.eml"
            } else {
                "01-imip-request.eml"
            };
            assert_eq!(c.status(file), "new", "{name}");
            // A dry-run answer is possible, then the invitation is stored
            // with my answer still open (R3.1).
            let done = engine::respond(&c.m, &c.raw(file), PartStat::Accepted, None, true)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!done.message.is_empty());
            assert!(stored_ok(&c.apply(file)), "{name}");
            let inv = c
                .stored(UUID)
                .unwrap_or_else(|| panic!("{name}: not stored"));
            assert_eq!(my_partstat(&inv), Some(PartStat::NeedsAction));
            Outcome::Pass
        }
        "imip_invite_funky_uid" => {
            let file = "01-imip-request.eml";
            let loaded = rsvp::inbox::load(&c.raw(file)).expect("load");
            let uid = loaded.invite.expect("valid").uid;
            assert_ne!(uid, UUID);
            assert!(uid.contains('\r'), "the UID is kept byte for byte: {uid:?}");
            // The attendees are the organizer and "A participant", not
            // cassandane: rsvp shows it as not for me and stores nothing.
            assert_eq!(c.status(file), "not-invited");
            assert!(c.apply(file).is_err());
            Outcome::Differs(
                "the message does not list cassandane@example.com; Cyrus files it anyway, rsvp does not store invitations that are not for the user (R6.6)",
            )
        }
        "imip_invite_unknown_organizer" => {
            assert_eq!(c.status("02-imip-request.eml"), "new");
            Outcome::Differs(
                "Cyrus drops invitations from organizers outside the address book (:organizers); rsvp shows every invitation and leaves trust to the user (the contacts check is a hint, R9.2)",
            )
        }
        "imip_invite_updatesonly" => {
            assert_eq!(c.status("01-imip-request.eml"), "new");
            assert_eq!(c.count(), 0, "showing stores nothing");
            Outcome::Differs(
                "Cyrus's :updatesonly never creates events; rsvp has no such mode, and it creates nothing until the user acts (here: nothing stored by show)",
            )
        }
        "imip_invite_calendarid" | "imip_update" => {
            assert!(stored_ok(&c.apply("01-imip-request.eml")));
            // imip_update's second message says method=CANCEL around
            // METHOD:REQUEST (as in the source): R7.2 refuses it; the user
            // may apply it with the calendar's own METHOD (issue 7).
            let raw2 = c.raw("02-imip-request.eml");
            let text = String::from_utf8_lossy(&raw2).into_owned();
            let raw2 = if text.contains("method=CANCEL") {
                let loaded = rsvp::inbox::load(&raw2).expect("load");
                assert!(loaded.invite.is_err(), "a method mismatch is not acted on");
                text.replace("method=CANCEL", "method=REQUEST").into_bytes()
            } else {
                raw2
            };
            let (shown, applied) =
                engine::apply(&c.m, &raw2).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(matches!(applied, Applied::Stored { .. }));
            assert!(matches!(
                shown.class.status.as_str(),
                "update" | "reschedule"
            ));
            let inv = c.stored(UUID).expect("stored");
            assert_eq!(inv.summary().as_deref(), Some("An Updated Event"));
            assert_eq!(c.count(), 1);
            if name == "imip_update" {
                let start = inv.master().unwrap().dtstart().unwrap();
                assert_eq!(start.naive().to_string(), "2021-09-24 14:00:00");
            }
            Outcome::Pass
        }
        "imip_cancel" | "imip_cancel_delete" => {
            assert!(stored_ok(&c.apply("01-imip-request.eml")));
            // The CANCEL lists me and has no STATUS: R4.4 reads that as
            // "you were removed"; either way the event ends cancelled.
            let status = c.status("02-imip-cancel.eml");
            assert!(
                matches!(status.as_str(), "cancel" | "uninvited"),
                "{status}"
            );
            assert!(c.apply("02-imip-cancel.eml").is_ok());
            let inv = c.stored(UUID).expect("kept");
            assert!(inv.components().iter().all(|x| x.is_cancelled()));
            if name == "imip_cancel" {
                Outcome::Pass
            } else {
                Outcome::Differs(
                    "Cyrus deletes with :deletecanceled; rsvp keeps the cancelled event as a tombstone (R4.3) so a late REQUEST cannot resurrect it",
                )
            }
        }
        "imip_add" => {
            assert!(stored_ok(&c.apply("01-imip-request.eml")));
            assert_eq!(c.status("02-imip-add.eml"), "invalid");
            assert!(c.apply("02-imip-add.eml").is_err());
            assert!(c.stored(UUID).expect("kept").overrides().is_empty());
            Outcome::Differs(
                "METHOD:ADD is not handled by rsvp (shown as such, never applied); the organizer's next REQUEST carries the instance",
            )
        }
        "imip_allow_public"
        | "imip_publish"
        | "imip_publish_legacy"
        | "imip_publish_no_organizer"
        | "imip_publish_no_organizer_legacy" => {
            let file = std::fs::read_dir(&c.dir)
                .expect("dir")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|f| f.ends_with(".eml"))
                .expect("a message");
            assert_eq!(c.status(&file), "publish", "{name}");
            assert!(engine::respond(&c.m, &c.raw(&file), PartStat::Accepted, None, true).is_err());
            assert!(stored_ok(&c.apply(&file)), "{name}");
            assert!(c.stored(UUID).is_some());
            Outcome::Pass
        }
        "imip_disallow_public" => {
            assert_eq!(c.status("01-imip-no-method.eml"), "publish");
            assert_eq!(c.count(), 0);
            Outcome::Differs(
                "Cyrus without :allowpublic refuses public events; rsvp shows them as an import the user may apply (nothing is stored automatically)",
            )
        }
        "imip_disallow_multiple_vcalendar" => {
            let loaded = rsvp::inbox::load(&c.raw("01-imip-no-method.eml")).expect("load");
            assert!(
                loaded.warnings.iter().any(|w| w.contains("more than one")),
                "{:?}",
                loaded.warnings
            );
            assert!(c.stored("abc").is_none());
            Outcome::Differs(
                "rsvp handles the first calendar object with a warning instead of rejecting the message; the second (UID abc) is never stored",
            )
        }
        "imip_move_event" => {
            assert!(stored_ok(&c.apply("01-imip-request.eml")));
            let second = c.apply("02-imip-request.eml");
            assert!(
                stored_ok(&second),
                "{second:?} {}",
                c.status("02-imip-request.eml")
            );
            let inv = c.stored(UUID).expect("stored");
            assert_eq!(inv.overrides().len(), 2, "both instances kept");
            assert_eq!(c.count(), 1);
            Outcome::Differs(
                "Cyrus keeps two objects for two naked instances; a vdir holds one object per UID, so rsvp merges them into one (R2.8)",
            )
        }
        "imip_strip_personal_data" => {
            assert!(stored_ok(&c.apply("01-imip-request.eml")));
            let text = c.stored_text();
            assert!(!text.contains("BEGIN:VALARM"), "{text}");
            assert!(text.contains("TRANSP:TRANSPARENT"), "{text}");
            assert!(!text.contains("COLOR:"), "{text}");
            Outcome::Pass
        }
        "imip_strip_x_lic_error" => {
            assert!(stored_ok(&c.apply("01-imip-request.eml")));
            let text = c.stored_text();
            assert!(!text.contains("X-LIC-ERROR"), "{text}");
            Outcome::Pass
        }
        "imip_reply"
        | "imip_reply_no_organizer"
        | "imip_reply_one_recurrence"
        | "imip_reply_with_alarm" => {
            let status = c.status("02-imip-reply.eml");
            assert!(
                matches!(status.as_str(), "reply" | "invalid"),
                "{name}: {status}"
            );
            assert!(c.apply("02-imip-reply.eml").is_err());
            assert_eq!(c.count(), 0);
            Outcome::Differs(
                "organizer side: rsvp is the attendee's tool; a REPLY is shown and never applied",
            )
        }
        other => panic!("cyrus case {other} has no replay; add it to run()"),
    }
}

#[test]
fn cyrus_imip_cases_replayed_as_the_attendee() {
    let Some(corpus) = engine::corpus() else {
        return;
    };
    let root = corpus.join("scenarios/cyrus-imip");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("cyrus-imip folder")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let (mut pass, mut differs) = (Vec::new(), Vec::new());
    for name in &names {
        let case = Case {
            m: MemEnv::new(&[ME]),
            dir: Path::new(&root).join(name),
        };
        match run(name, &case) {
            Outcome::Pass => pass.push(name.clone()),
            Outcome::Differs(why) => differs.push(format!("{name}: {why}")),
        }
    }
    report!(
        "cyrus-imip: {} cases replayed, {} as expected, {} deliberate differences",
        names.len(),
        pass.len(),
        differs.len()
    );
    for p in &pass {
        report!("  pass     {p}");
    }
    for d in &differs {
        report!("  differs  {d}");
    }
    assert_eq!(names.len(), 26, "the corpus has 26 cyrus-imip cases");
}
