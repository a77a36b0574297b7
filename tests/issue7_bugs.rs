//! Regression tests for the numbered bugs of issue 7 (replies an organizer's
//! server drops or misapplies) and the domain half of its item 4. Each test
//! is named after its bug; fixtures are written here (R-ids cite
//! docs/ITIP-RULES.md).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use calcard::icalendar::ICalendarProperty;
use rsvp::domain::classify::{self, Context, Status};
use rsvp::domain::diff::Clock;
use rsvp::domain::ical::{self, CalDate};
use rsvp::domain::identity::Identity;
use rsvp::domain::invite::{Invite, PartStat};
use rsvp::inbox::InboxError;
use support::engine::{self, reply_part, respond, stored, text_body};
use support::memenv::MemEnv;

fn cal(body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//issue7//EN\r\nMETHOD:REQUEST\r\n{body}END:VCALENDAR\r\n"
    )
}

fn mail(from: &str, to: &str, ics: &str) -> Vec<u8> {
    format!(
        "From: Organizer <{from}>\r\nTo: <{to}>\r\nSubject: Invitation\r\nMessage-ID: <i7-{n}@example.org>\r\nDate: Thu, 02 Jan 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n{ics}",
        n = ics.len()
    )
    .into_bytes()
}

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn rids(inv: &Invite) -> Vec<Option<String>> {
    inv.components()
        .iter()
        .map(|c| {
            c.c.property(&ICalendarProperty::RecurrenceId)
                .map(ical::entry_line)
        })
        .collect()
}

fn my_partstat(inv: &Invite, c: rsvp::domain::invite::Comp<'_>, me: &str) -> Option<PartStat> {
    let _ = inv;
    c.attendees()
        .into_iter()
        .find(|a| a.email.as_deref() == Some(me))
        .map(|a| a.partstat)
}

/// The sabre testRecurrenceInvite shape: a daily series that lists me and
/// an override whose attendee list does not.
fn not_invited_to_override() -> String {
    cal(
        "BEGIN:VEVENT\r\nUID:bug1\r\nSEQUENCE:0\r\nDTSTAMP:20250101T000000Z\r\nORGANIZER;CN=Strunk:mailto:strunk@example.org\r\nATTENDEE;CN=One;RSVP=TRUE:mailto:one@example.org\r\nATTENDEE;CN=Two:mailto:two@example.org\r\nDTSTART:20250716T120000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20250717T120000Z\r\nSUMMARY:Daily\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:bug1\r\nSEQUENCE:0\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID:20250718T120000Z\r\nORGANIZER;CN=Strunk:mailto:strunk@example.org\r\nATTENDEE;CN=Two:mailto:two@example.org\r\nATTENDEE;CN=Three:mailto:three@example.org\r\nDTSTART:20250718T120000Z\r\nDURATION:PT1H\r\nSUMMARY:Daily\r\nEND:VEVENT\r\n",
    )
}

/// Bug 1 (R2.1, R2.5): a series reply holds only the components that list
/// me; `--instance` on an occurrence I am not invited to is refused with
/// the reason; the stored copy keeps that override without me.
#[test]
fn bug1_reply_holds_only_components_that_list_me() {
    let m = MemEnv::new(&["one@example.org"]);
    let raw = mail(
        "strunk@example.org",
        "one@example.org",
        &not_invited_to_override(),
    );
    let done = respond(&m, &raw, PartStat::Accepted, None, true).expect("series reply");
    let (text, reply) = reply_part(&done.message);
    assert_eq!(rids(&reply), vec![None], "only the master:\n{text}");
    assert!(!text.contains("20250718"), "{text}");

    let refused = respond(&m, &raw, PartStat::Accepted, Some("20250718T120000Z"), true);
    match refused {
        Err(InboxError::Refused(reason)) => {
            assert!(reason.contains("not invited"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    respond(&m, &raw, PartStat::Accepted, None, false).expect("real answer");
    let st = stored(&m, "bug1").expect("stored");
    let over = st.overrides();
    assert_eq!(over.len(), 1);
    assert_eq!(
        my_partstat(&st, over[0], "one@example.org"),
        None,
        "the override still does not list me"
    );
    assert_eq!(
        my_partstat(&st, st.master().unwrap(), "one@example.org"),
        Some(PartStat::Accepted)
    );
}

/// The same case from the sabre/vobject corpus (BrokerNewEventTest/
/// testRecurrenceInvite*), answered as every attendee it names: each REPLY
/// component lists me and exists in the request.
#[test]
fn bug1_sabre_recurrence_invites_answered_by_each_attendee() {
    let Some(dir) = engine::corpus() else { return };
    let mut checked = 0;
    for case in [
        "testRecurrenceInvite",
        "testRecurrenceInvite2",
        "testRecurrenceInvite3",
    ] {
        let path = dir
            .join("scenarios/sabre-vobject-itip/BrokerNewEventTest")
            .join(case)
            .join("02-new.ics");
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let text = text.replacen("BEGIN:VEVENT", "METHOD:REQUEST\nBEGIN:VEVENT", 1);
        let req = engine::invites_in(&text, None).remove(0);
        let mut people: Vec<String> = req
            .components()
            .iter()
            .flat_map(|c| c.attendees())
            .filter_map(|a| a.email)
            .collect();
        people.sort();
        people.dedup();
        for me in &people {
            let m = MemEnv::new(&[me.as_str()]);
            let done = respond(&m, text.as_bytes(), PartStat::Accepted, None, true)
                .unwrap_or_else(|e| panic!("{case} as {me}: {e}"));
            let (_, reply) = reply_part(&done.message);
            for c in reply.components() {
                let rid = c.recurrence_id();
                let source = req
                    .component_for(rid.as_ref())
                    .expect("a request component");
                assert!(
                    source
                        .attendees()
                        .iter()
                        .any(|a| a.email.as_deref() == Some(me.as_str())),
                    "{case} as {me}: reply component {rid:?} does not list me in the request"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "checked {checked} reply components");
}

fn berlin_series() -> String {
    cal(&format!(
        "{BERLIN}BEGIN:VEVENT\r\nUID:bug2\r\nSEQUENCE:1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20270202T093000\r\nDTEND;TZID=Europe/Berlin:20270202T103000\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Weekly\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE;RSVP=TRUE:mailto:me@example.com\r\nEND:VEVENT\r\n"
    ))
}

/// Bug 2 (R2.4, R1.10): `--instance` in UTC or another zone names the
/// occurrence at that instant, and the RECURRENCE-ID is written in the
/// series' own form (here its DTSTART's TZID).
#[test]
fn bug2_instance_in_utc_or_another_zone_writes_the_series_recurrence_id() {
    let m = MemEnv::new(&["me@example.com"]);
    let raw = mail("org@example.org", "me@example.com", &berlin_series());
    let want = "RECURRENCE-ID;TZID=Europe/Berlin:20270209T093000";
    for given in [
        "20270209T083000Z",
        "TZID=America/New_York:20270209T033000",
        "TZID=Europe/Berlin:20270209T093000",
        "20270209T093000",
    ] {
        let done = respond(&m, &raw, PartStat::Declined, Some(given), true)
            .unwrap_or_else(|e| panic!("--instance {given}: {e}"));
        let (text, reply) = reply_part(&done.message);
        assert_eq!(
            rids(&reply),
            vec![Some(want.to_string())],
            "{given}:\n{text}"
        );
        assert!(
            text.contains("DTSTART;TZID=Europe/Berlin:20270209T093000\r\n"),
            "{text}"
        );
    }
    // Not an occurrence at that instant: the wrong-digits form is refused.
    let wrong = respond(&m, &raw, PartStat::Declined, Some("20270209T093000Z"), true);
    assert!(matches!(wrong, Err(InboxError::Refused(_))), "{wrong:?}");

    // A UTC series answered with a Berlin time: written in UTC.
    let utc = cal(
        "BEGIN:VEVENT\r\nUID:bug2u\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20270202T083000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE:mailto:me@example.com\r\nEND:VEVENT\r\n",
    );
    let raw = mail("org@example.org", "me@example.com", &utc);
    let done = respond(
        &m,
        &raw,
        PartStat::Accepted,
        Some("TZID=Europe/Berlin:20270209T093000"),
        true,
    )
    .expect("utc series");
    let (_, reply) = reply_part(&done.message);
    assert_eq!(
        rids(&reply),
        vec![Some("RECURRENCE-ID:20270209T083000Z".to_string())]
    );

    // An all-day series: a DATE RECURRENCE-ID.
    let allday = cal(
        "BEGIN:VEVENT\r\nUID:bug2d\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;VALUE=DATE:20270202\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE:mailto:me@example.com\r\nEND:VEVENT\r\n",
    );
    let raw = mail("org@example.org", "me@example.com", &allday);
    let done = respond(&m, &raw, PartStat::Accepted, Some("20270209"), true).expect("date");
    let (_, reply) = reply_part(&done.message);
    assert_eq!(
        rids(&reply),
        vec![Some("RECURRENCE-ID;VALUE=DATE:20270209".to_string())]
    );
}

/// Bug 3: an EXDATE on the first occurrence (DTSTART) removes it: it
/// cannot be answered, and the reply text's "When:" is the first real
/// occurrence (ics/microsoft/ical4j__windows-live-request2.ics).
#[test]
fn bug3_exdate_on_the_first_occurrence_is_not_an_occurrence() {
    let Some(dir) = engine::corpus() else { return };
    let raw = std::fs::read(dir.join("ics/microsoft/ical4j__windows-live-request2.ics"))
        .expect("corpus file");
    let m = MemEnv::new(&["roxana.dragavei@web.de"]);
    let gone = respond(
        &m,
        &raw,
        PartStat::Accepted,
        Some("TZID=Pacific Standard Time:20140221T150000"),
        true,
    );
    match gone {
        Err(InboxError::Refused(reason)) => {
            assert!(reason.contains("not an occurrence"), "{reason}")
        }
        other => panic!("the EXDATE'd first occurrence was answered: {other:?}"),
    }
    // The next weekday is an occurrence.
    let next = respond(
        &m,
        &raw,
        PartStat::Accepted,
        Some("TZID=Pacific Standard Time:20140224T150000"),
        true,
    )
    .expect("Monday 24th is an occurrence");
    let (text, _) = reply_part(&next.message);
    assert!(
        text.contains("RECURRENCE-ID;TZID=\"Pacific Standard Time\":20140224T150000"),
        "{text}"
    );
    let series = respond(&m, &raw, PartStat::Accepted, None, true).expect("series");
    let body = text_body(&series.message);
    // 15:00 in Pacific time is midnight in the user's Berlin.
    assert!(
        body.contains("When: Tue 2014-02-25 00:00 CET (2014-02-24 15:00 Pacific Standard Time)"),
        "{body}"
    );
    assert!(!body.contains("2014-02-21"), "{body}");

    // The domain predicate says the same.
    let inv = engine::invites_in(&String::from_utf8_lossy(&raw), None).remove(0);
    let clock = Clock {
        local: chrono_tz::Europe::Berlin,
    };
    let first = inv.master().unwrap().dtstart().unwrap();
    assert!(!classify::is_instance_of(&inv, &first, &inv.cal, &clock));
    assert_eq!(
        classify::master_occurrences(&inv, &clock)
            .first()
            .map(CalDate::display_key),
        Some("TZID=Pacific Standard Time:20140224T150000".to_string())
    );
}

/// Bug 5 (R7.6): the text part names the answered occurrence in words, in
/// the user's and the event's zone, with its own (moved) time.
#[test]
fn bug5_occurrence_reply_text_names_the_occurrence_and_its_own_time() {
    let m = MemEnv::new(&["me@example.com"]);
    let ics = cal(&format!(
        "{BERLIN}BEGIN:VEVENT\r\nUID:bug5\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261215T093000\r\nDTEND;TZID=Europe/Berlin:20261215T103000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Standup\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE:mailto:me@example.com\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:bug5\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261222T093000\r\nDTSTART;TZID=Europe/Berlin:20261222T140000\r\nDTEND;TZID=Europe/Berlin:20261222T150000\r\nSUMMARY:Standup\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE:mailto:me@example.com\r\nEND:VEVENT\r\n"
    ));
    let raw = mail("org@example.org", "me@example.com", &ics);
    let done = respond(
        &m,
        &raw,
        PartStat::Declined,
        Some("TZID=Europe/Berlin:20261222T093000"),
        true,
    )
    .expect("occurrence reply");
    let body = text_body(&done.message);
    assert!(
        body.contains("for the occurrence of Tue 2026-12-22 09:30 CET"),
        "{body}"
    );
    assert!(!body.contains("TZID="), "{body}");
    assert!(body.contains("When: Tue 2026-12-22 14:00 CET"), "{body}");
    assert!(!body.contains("2026-12-15"), "{body}");
}

/// Bug 6 (R1.8): addresses are compared case-insensitively and written as
/// the invitation had them (iCloud's imip.me.com tokens are case-sensitive).
#[test]
fn bug6_addresses_keep_the_case_the_invitation_had() {
    let m = MemEnv::new(&["me@example.com"]);
    let org = "2_GEZDGMBXGQ3TAMJVGQ@imip.me.com";
    let ics = cal(&format!(
        "BEGIN:VEVENT\r\nUID:bug6\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20270202T083000Z\r\nDURATION:PT1H\r\nSUMMARY:iCloud\r\nORGANIZER;CN=Pat;EMAIL=Pat.Person@icloud.com:mailto:{org}\r\nATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:Me@Example.COM\r\nEND:VEVENT\r\n"
    ));
    let raw = mail("noreply@email.apple.com", "me@example.com", &ics);
    let done = respond(&m, &raw, PartStat::Accepted, None, true).expect("reply");
    assert_eq!(done.envelope.to, vec![org.to_string()]);
    assert_eq!(done.envelope.from, "Me@Example.COM");
    let msg = String::from_utf8_lossy(&done.message);
    assert!(msg.contains(&format!("<{org}>")), "{msg}");
    assert!(msg.contains("<Me@Example.COM>"), "{msg}");
    let (text, _) = reply_part(&done.message);
    assert!(text.contains(&format!("mailto:{org}")), "{text}");
    assert!(
        !text.contains("SENT-BY"),
        "same address, other case: {text}"
    );

    // The organizer model exposes the EMAIL= address for display and the
    // contacts check; the reply still goes to the ORGANIZER value.
    let inv = engine::invites_in(&ics, None).remove(0);
    let o = inv.organizer().unwrap();
    assert_eq!(
        o.display_address().as_deref(),
        Some("pat.person@icloud.com")
    );
    assert_eq!(o.email_param.as_deref(), Some("Pat.Person@icloud.com"));
    assert_eq!(o.address.as_deref(), Some(org));
    assert_eq!(o.display(), "Pat <pat.person@icloud.com>");
}

/// Bug 7 (R1.9): a large SEQUENCE is echoed, not clamped, and compared
/// correctly.
#[test]
fn bug7_large_sequence_is_echoed_and_compared() {
    let m = MemEnv::new(&["me@example.com"]);
    let ics = |seq: &str| {
        cal(&format!(
            "BEGIN:VEVENT\r\nUID:bug7\r\nSEQUENCE:{seq}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20270202T083000Z\r\nDURATION:PT1H\r\nSUMMARY:Big\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE;RSVP=TRUE:mailto:me@example.com\r\nEND:VEVENT\r\n"
        ))
    };
    let raw = mail("org@example.org", "me@example.com", &ics("1407317367304"));
    let done = respond(&m, &raw, PartStat::Accepted, None, false).expect("reply");
    let (text, _) = reply_part(&done.message);
    assert!(text.contains("SEQUENCE:1407317367304\r\n"), "{text}");
    assert!(!text.contains("4294967295"), "{text}");

    let me = Identity::new(None, &["me@example.com".to_string()]);
    let ctx = Context {
        me: &me,
        groups: &[],
        delivered_to: &[],
        sender: Some("org@example.org"),
        tombstone: None,
        clock: Clock {
            local: chrono_tz::Europe::Berlin,
        },
    };
    let stored_copy = stored(&m, "bug7").expect("stored");
    let newer = engine::invites_in(&ics("1407317367305"), None).remove(0);
    let older = engine::invites_in(&ics("1407317367303"), None).remove(0);
    assert_ne!(
        classify::classify(&newer, Some(&stored_copy), &ctx).status,
        Status::Outdated
    );
    assert_eq!(
        classify::classify(&older, Some(&stored_copy), &ctx).status,
        Status::Outdated
    );
}

/// Bug 8 (R1.4): a generated VTIMEZONE covers the event's first DTSTART
/// (and RECURRENCE-IDs) through its last occurrence, not a window around
/// today.
#[test]
fn bug8_generated_vtimezone_covers_an_event_that_starts_before_today() {
    // No VTIMEZONE in the invitation: rsvp generates one. `now` is 2025.
    let m = MemEnv::new(&["me@example.com"]);
    let ics = cal(
        "BEGIN:VEVENT\r\nUID:bug8\r\nDTSTAMP:20190101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20190107T090000\r\nDTEND;TZID=Europe/Berlin:20190107T100000\r\nRRULE:FREQ=WEEKLY;UNTIL=20290101T000000Z\r\nSUMMARY:Long series\r\nORGANIZER:mailto:org@example.org\r\nATTENDEE:mailto:me@example.com\r\nEND:VEVENT\r\n",
    );
    let raw = mail("org@example.org", "me@example.com", &ics);
    let done = respond(&m, &raw, PartStat::Accepted, None, true).expect("reply");
    let (text, _) = reply_part(&done.message);
    let vtz = text
        .split("BEGIN:VTIMEZONE")
        .nth(1)
        .and_then(|s| s.split("END:VTIMEZONE").next())
        .unwrap_or_else(|| panic!("no VTIMEZONE:\n{text}"));
    let years: Vec<i32> = vtz
        .lines()
        .filter_map(|l| l.strip_prefix("DTSTART:"))
        .filter_map(|v| v.get(..4)?.parse().ok())
        .collect();
    let first = years.iter().min().copied().unwrap_or(9999);
    let last = years.iter().max().copied().unwrap_or(0);
    // Either explicit transitions or a yearly RRULE started in time.
    let has_rrule = vtz.contains("RRULE:");
    assert!(first <= 2019, "starts {first}: {vtz}");
    assert!(has_rrule || last >= 2028, "ends {last}: {vtz}");
}

/// Issue 7 item 4 (domain half): a series answer keeps an earlier answer
/// to one occurrence, and the series REPLY carries only the master.
#[test]
fn item4_series_answer_keeps_earlier_occurrence_answers() {
    let m = MemEnv::new(&["me@example.com"]);
    let raw = mail("org@example.org", "me@example.com", &berlin_series());
    respond(
        &m,
        &raw,
        PartStat::Declined,
        Some("TZID=Europe/Berlin:20270209T093000"),
        false,
    )
    .expect("decline one");
    let done = respond(&m, &raw, PartStat::Accepted, None, false).expect("accept series");
    let (text, reply) = reply_part(&done.message);
    assert_eq!(rids(&reply), vec![None], "{text}");
    let st = stored(&m, "bug2").expect("stored");
    assert_eq!(
        my_partstat(&st, st.master().unwrap(), "me@example.com"),
        Some(PartStat::Accepted)
    );
    let over = st.overrides();
    assert_eq!(over.len(), 1);
    assert_eq!(
        my_partstat(&st, over[0], "me@example.com"),
        Some(PartStat::Declined),
        "the declined occurrence stays declined"
    );
    let summary = rsvp::domain::answers::summarize(&st, &m.identity, &Clock { local: m.local });
    assert_eq!(summary.series, Some(PartStat::Accepted));
    assert_eq!(summary.occurrences.len(), 1);
    assert_eq!(summary.text(), "1 occurrence declined · series accepted");

    // The organizer's next full update (a new description, SEQUENCE 2)
    // does not carry my occurrence: it keeps its answer all the same.
    let update = berlin_series()
        .replace("SEQUENCE:1", "SEQUENCE:2")
        .replace("SUMMARY:Weekly", "SUMMARY:Weekly\r\nDESCRIPTION:agenda");
    let (shown, _) = engine::apply(&m, &mail("org@example.org", "me@example.com", &update))
        .expect("update applied");
    assert_eq!(
        shown.class.status,
        Status::Update,
        "{:?}",
        shown.class.changes
    );
    let st = stored(&m, "bug2").expect("stored");
    assert_eq!(
        my_partstat(&st, st.master().unwrap(), "me@example.com"),
        Some(PartStat::Accepted)
    );
    assert_eq!(st.overrides().len(), 1);
    assert_eq!(
        my_partstat(&st, st.overrides()[0], "me@example.com"),
        Some(PartStat::Declined),
        "a full update keeps my answer to one occurrence"
    );
    assert_eq!(
        st.overrides()[0]
            .text(&ICalendarProperty::Description)
            .as_deref(),
        Some("agenda"),
        "made again from the new master"
    );

    // Answering that occurrence again (from the latest message) moves it.
    respond(
        &m,
        &mail("org@example.org", "me@example.com", &update),
        PartStat::Accepted,
        Some("20270209T083000Z"),
        false,
    )
    .expect("accept the occurrence");
    let st = stored(&m, "bug2").expect("stored");
    assert_eq!(
        my_partstat(&st, st.overrides()[0], "me@example.com"),
        Some(PartStat::Accepted)
    );
}
