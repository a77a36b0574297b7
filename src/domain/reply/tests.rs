use super::*;
use crate::domain::identity::{Identity, Role, find_me};
use chrono::TimeZone;

fn inv(body: &str) -> Invite {
    let s = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\n{body}END:VCALENDAR\r\n"
    );
    Invite::from_calendar(ical::parse(&s).unwrap().calendars.remove(0), None)
        .unwrap()
        .remove(0)
}

const BERLIN_TZ: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn series() -> Invite {
    inv(&format!(
        "{BERLIN_TZ}BEGIN:VEVENT\r\nUID:s1\r\nSEQUENCE:3\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20250106T090000\r\nDTEND;TZID=Europe/Berlin:20250106T100000\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:Weekly\r\nORGANIZER;CN=\"Doe, Jane\";SCHEDULE-STATUS=1.1:mailto:jane@x.example\r\nATTENDEE;CN=Me;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;SCHEDULE-STATUS=2.0:mailto:me@x.example\r\nATTENDEE;CN=Bob:mailto:bob@x.example\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
    ))
}

fn me_of(inv: &Invite) -> MeMatch {
    match find_me(
        inv,
        &Identity::new(None, &["me@x.example".into()]),
        &[],
        &[],
    ) {
        Role::Attendee(m) => m,
        other => panic!("{other:?}"),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 2, 12, 0, 0).unwrap()
}

fn req<'a>(
    inv: &'a Invite,
    me: &'a MeMatch,
    ps: PartStat,
    scope: Scope,
    comment: Option<&'a str>,
) -> ReplyRequest<'a> {
    ReplyRequest {
        invite: inv,
        me,
        partstat: ps,
        scope,
        comment,
        now: now(),
        sent_by: None,
        stored: None,
        clock: crate::domain::diff::Clock {
            local: chrono_tz::Europe::Berlin,
        },
    }
}

/// T35: accept a simple invitation.
#[test]
fn t35_accept_simple() {
    let inv = series();
    let me = me_of(&inv);
    let (cal, warnings) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    assert!(warnings.is_empty());
    let text = ical::write(&cal);
    assert!(text.contains("METHOD:REPLY\r\n"));
    assert!(text.contains("VERSION:2.0\r\n"));
    assert!(text.contains("PRODID:"));
    assert!(text.contains("UID:s1\r\n"));
    assert!(text.contains("SEQUENCE:3\r\n"));
    assert!(text.contains("DTSTAMP:20250102T120000Z\r\n"));
    assert_eq!(text.matches("ATTENDEE").count(), 1, "{text}");
    assert!(
        text.contains("ATTENDEE;CN=Me;PARTSTAT=ACCEPTED:mailto:me@x.example\r\n"),
        "{text}"
    );
    assert!(!text.contains("RSVP"));
    assert!(!text.contains("SCHEDULE-"));
    assert!(!text.contains("VALARM"));
    assert!(!text[text.find("BEGIN:VEVENT").unwrap()..].contains("RRULE"));
    assert!(
        text.contains("ORGANIZER;CN=\"Doe, Jane\":mailto:jane@x.example"),
        "{text}"
    );
    // R1.4: the VTIMEZONE comes along, before the VEVENT.
    let tz = text.find("BEGIN:VTIMEZONE").unwrap();
    let ev = text.find("BEGIN:VEVENT").unwrap();
    assert!(tz < ev);
    check_reply(&cal).unwrap();
}

/// R1.7, R1.13: Thunderbird's ORGANIZER carries RSVP, PARTSTAT and ROLE;
/// the REPLY keeps only its value, CN and SENT-BY, and passes the self-check.
#[test]
fn r1_7_thunderbird_organizer_params_dropped() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:tb1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T090000Z\r\nORGANIZER;RSVP=TRUE;CN=Jo Park;PARTSTAT=ACCEPTED;ROLE=CHAIR;SENT-BY=\"mailto:a@x.example\";SCHEDULE-AGENT=CLIENT:mailto:jo@x.example\r\nATTENDEE;RSVP=TRUE;CN=Me;PARTSTAT=NEEDS-ACTION:mailto:me@x.example\r\nEND:VEVENT\r\n",
    );
    let me = me_of(&inv);
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    check_reply(&cal).unwrap();
    let text = ical::write(&cal);
    let org = text
        .lines()
        .find(|l| l.starts_with("ORGANIZER"))
        .unwrap_or_default();
    assert!(org.contains("CN=\"Jo Park\""), "{text}");
    assert!(org.contains("SENT-BY="), "{text}");
    assert!(org.ends_with(":mailto:jo@x.example"), "{text}");
    for gone in ["RSVP", "PARTSTAT", "ROLE", "SCHEDULE-"] {
        assert!(!org.contains(gone), "{gone} in {org}");
    }
}

/// T36: decline one occurrence of a TZID series.
#[test]
fn t36_decline_one_instance_tz() {
    let inv = series();
    let me = me_of(&inv);
    let rid = CalDate::Zoned {
        tzid: "Europe/Berlin".into(),
        local: chrono::NaiveDate::from_ymd_opt(2025, 1, 13)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
    };
    let (cal, _) = build_reply(
        &req(
            &inv,
            &me,
            PartStat::Declined,
            Scope::Instances(vec![rid]),
            None,
        ),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    assert!(
        text.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250113T090000\r\n"),
        "{text}"
    );
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20250113T090000\r\n"));
    assert!(text.contains("DTEND;TZID=Europe/Berlin:20250113T100000\r\n"));
    assert!(text.contains("PARTSTAT=DECLINED"));
    assert!(text.contains("BEGIN:VTIMEZONE"));
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
}

/// T37: all-day series instance.
#[test]
fn t37_allday_instance() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:d1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;VALUE=DATE:20250106\r\nDTEND;VALUE=DATE:20250107\r\nRRULE:FREQ=WEEKLY\r\nORGANIZER:mailto:o@x.example\r\nATTENDEE:mailto:me@x.example\r\nEND:VEVENT\r\n",
    );
    let me = me_of(&inv);
    let rid = CalDate::Date(chrono::NaiveDate::from_ymd_opt(2025, 1, 13).unwrap());
    let (cal, _) = build_reply(
        &req(
            &inv,
            &me,
            PartStat::Declined,
            Scope::Instances(vec![rid]),
            None,
        ),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    assert!(
        text.contains("RECURRENCE-ID;VALUE=DATE:20250113\r\n"),
        "{text}"
    );
}

/// T38: tentative with a hostile comment.
#[test]
fn t38_tentative_with_comment() {
    let inv = series();
    let me = me_of(&inv);
    let comment = "Late, maybe; bring a\\b, \"x\"\nnext line \u{1F600} \u{1F600} \u{1F600} \u{1F600} \u{1F600} \u{1F600} \u{1F600} \u{1F600} padding to force folding";
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Tentative, Scope::All, Some(comment)),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    assert!(text.contains("PARTSTAT=TENTATIVE"));
    let unfolded = text.replace("\r\n ", "");
    assert!(
        unfolded.contains("COMMENT:Late\\, maybe\\; bring a\\\\b\\, \"x\"\\nnext line \u{1F600}"),
        "{unfolded}"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line over 75 octets: {line:?}");
    }
    // Reparses to the same comment.
    let back = ical::parse(&unfolded).unwrap().calendars.remove(0);
    let ev = ical::component(&back, ical::scheduling_ids(&back)[0]).unwrap();
    assert_eq!(
        ical::text(ev, &ICalendarProperty::Comment).unwrap(),
        comment
    );
}

/// T39: quoting of CN and Outlook TZIDs.
#[test]
fn t39_param_quoting() {
    let tzid = "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris";
    let inv = inv(&format!(
        "BEGIN:VTIMEZONE\r\nTZID:{}\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:q1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=\"{tzid}\":20250106T090000\r\nORGANIZER;CN=\"Doe, Jane\":mailto:jane@x.example\r\nATTENDEE:mailto:me@x.example\r\nEND:VEVENT\r\n",
        tzid.replace(',', "\\,")
    ));
    let me = me_of(&inv);
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    let unfolded = text.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!("DTSTART;TZID=\"{tzid}\":20250106T090000")),
        "{unfolded}"
    );
    assert!(unfolded.contains("CN=\"Doe, Jane\""));
    assert!(
        unfolded.contains("TZID:(UTC+01:00) Brussels\\, Copenhagen\\, Madrid\\, Paris"),
        "{unfolded}"
    );
    // Byte-stable round trip.
    let again = ical::write(&ical::parse(&unfolded).unwrap().calendars.remove(0));
    assert_eq!(again, text);
}

/// T41: sending from another address adds SENT-BY, quoted.
#[test]
fn t41_sent_by() {
    let inv = series();
    let me = me_of(&inv);
    let mut r = req(&inv, &me, PartStat::Accepted, Scope::All, None);
    r.sent_by = Some("assistant@x.example");
    let (cal, _) = build_reply(&r, &|_| true).unwrap();
    let text = ical::write(&cal).replace("\r\n ", "");
    assert!(
        text.contains("SENT-BY=\"mailto:assistant@x.example\""),
        "{text}"
    );
}

/// T32: naked recurrence: one VEVENT per received instance, no master.
#[test]
fn t32_naked_recurrence_accept_all() {
    let mk = |rid: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:n1\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID:{rid}\r\nDTSTART:{rid}\r\nORGANIZER:mailto:o@x.example\r\nATTENDEE:mailto:me@x.example\r\nEND:VEVENT\r\n"
        )
    };
    let inv = inv(&format!(
        "{}{}",
        mk("20250113T090000Z"),
        mk("20250120T090000Z")
    ));
    let me = me_of(&inv);
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
    assert_eq!(text.matches("RECURRENCE-ID:").count(), 2);
}

/// T16: answer as a group member.
#[test]
fn t16_group_member_reply() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:g1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T090000Z\r\nORGANIZER:mailto:o@x.example\r\nATTENDEE;CUTYPE=GROUP:mailto:team@x.example\r\nEND:VEVENT\r\n",
    );
    let Role::Attendee(me) = find_me(
        &inv,
        &Identity::new(None, &["me@x.example".into()]),
        &[],
        &["team@x.example".into()],
    ) else {
        panic!()
    };
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal).replace("\r\n ", "");
    assert!(text.contains("ATTENDEE;CUTYPE=INDIVIDUAL;MEMBER=\"mailto:team@x.example\";PARTSTAT=ACCEPTED:mailto:me@x.example"), "{text}");
}

/// T19: the REPLY keeps a urn:uuid ATTENDEE value.
#[test]
fn t19_reply_keeps_urn_value() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T090000Z\r\nORGANIZER;EMAIL=org@y.example:urn:uuid:9\r\nATTENDEE;EMAIL=me@x.example:urn:uuid:1234\r\nEND:VEVENT\r\n",
    );
    let me = me_of(&inv);
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    assert!(ical::write(&cal).contains(":urn:uuid:1234\r\n"));
}

/// A missing VTIMEZONE for a Windows TZID is generated (R1.4).
#[test]
fn windows_tzid_gets_generated_vtimezone() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:w1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Pacific Standard Time:20250106T090000\r\nORGANIZER:mailto:o@x.example\r\nATTENDEE:mailto:me@x.example\r\nEND:VEVENT\r\n",
    );
    let me = me_of(&inv);
    let (cal, warnings) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Pacific Standard Time\r\n"),
        "{text}"
    );
}

#[test]
fn invalid_instance_refused() {
    let inv = series();
    let me = me_of(&inv);
    let rid = CalDate::Utc(
        chrono::NaiveDate::from_ymd_opt(2025, 1, 8)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
    );
    let err = build_reply(
        &req(
            &inv,
            &me,
            PartStat::Accepted,
            Scope::Instances(vec![rid]),
            None,
        ),
        &|_| false,
    )
    .unwrap_err();
    assert!(matches!(err, ReplyError::NoSuchInstance(..)));
}

#[test]
fn subject_words() {
    assert_eq!(subject(PartStat::Accepted, "X"), "Accepted: X");
    assert_eq!(subject(PartStat::Declined, "X"), "Declined: X");
    assert_eq!(subject(PartStat::Tentative, "X"), "Tentative: X");
}

/// R1.7, R1.13: Thunderbird puts RSVP=FALSE;PARTSTAT=ACCEPTED;ROLE=CHAIR on
/// the ORGANIZER; the REPLY copies only its value, CN and SENT-BY, so the
/// self-check accepts it (it used to refuse every Thunderbird invitation).
#[test]
fn r1_7_organizer_attendee_params_are_not_copied() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:tb1\r\nSEQUENCE:0\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T080000Z\r\nSUMMARY:TB\r\nORGANIZER;RSVP=FALSE;CN=Tom;PARTSTAT=ACCEPTED;ROLE=CHAIR;SENT-BY=\"mailto:a@x.example\";SCHEDULE-AGENT=CLIENT:mailto:tom@x.example\r\nATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:me@x.example\r\nEND:VEVENT\r\n",
    );
    let me = me_of(&inv);
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    check_reply(&cal).unwrap();
    let text = ical::write(&cal);
    let org = text
        .lines()
        .find(|l| l.starts_with("ORGANIZER"))
        .expect("ORGANIZER");
    assert!(org.contains("CN=Tom"), "{org}");
    assert!(org.contains("SENT-BY="), "{org}");
    assert!(org.ends_with(":mailto:tom@x.example"), "{org}");
    for gone in ["RSVP", "PARTSTAT", "ROLE", "SCHEDULE-"] {
        assert!(!org.contains(gone), "{gone} copied: {org}");
    }
}

/// R8.4, T55: control characters and bidi overrides in the organizer's
/// SUMMARY are not copied into the REPLY.
#[test]
fn t55_hostile_summary_not_copied_into_reply() {
    let inv = inv(
        "BEGIN:VEVENT\r\nUID:h1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T090000Z\r\nSUMMARY:Pay\u{1b}[2Jroll\u{202e}gpj\u{7}\r\nORGANIZER:mailto:o@x.example\r\nATTENDEE:mailto:me@x.example\r\nEND:VEVENT\r\n",
    );
    let me = me_of(&inv);
    let (cal, _) = build_reply(
        &req(&inv, &me, PartStat::Accepted, Scope::All, None),
        &|_| true,
    )
    .unwrap();
    let text = ical::write(&cal);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("SUMMARY:Pay [2Jroll gpj"), "{text}");
}
