use super::*;
use crate::domain::classify::tests::{ev, inv};
use crate::domain::identity::{Role, find_me};

fn opts() -> Options {
    Options {
        schedule_agent_client: true,
        clock: Clock {
            local: chrono_tz::Europe::Berlin,
        },
        declined_transparent: true,
    }
}

fn me() -> Identity {
    Identity::new(None, &["me@x.example".to_string()])
}

fn stored_of(cal: ICalendar) -> Invite {
    Invite::from_calendar(cal, None).unwrap().remove(0)
}

fn text(cal: &ICalendar) -> String {
    ical::write(cal).replace("\r\n ", "")
}

const T0: &str = "20250101T100000Z";
const T1: &str = "20250102T100000Z";
const ME: &str = "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:me@x.example\r\n";
const ALARM: &str =
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:mine\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n";

/// T01 + T20 + T60: first stored copy.
#[test]
fn t01_new_invitation_stored() {
    let incoming = inv(
        "REQUEST",
        &ev(
            2,
            T0,
            "ATTENDEE;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:me@x.example\r\nBEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER:-PT5M\r\nATTENDEE:mailto:spam@evil.example\r\nEND:VALARM\r\n",
        ),
    );
    let out = text(&merge_request(&incoming, None, &me(), &opts()));
    assert!(
        !out.contains("METHOD"),
        "R8.10: no METHOD in a stored object"
    );
    assert!(out.contains("PARTSTAT=NEEDS-ACTION"), "R3.1: {out}");
    assert!(out.contains("X-RSVP-RECEIVED-SEQUENCE:2"));
    assert!(out.contains("X-RSVP-RECEIVED-DTSTAMP:20250101T100000Z"));
    assert!(
        out.contains("ORGANIZER;SCHEDULE-AGENT=CLIENT:mailto:org@x.example"),
        "T20: {out}"
    );
    assert!(
        !out.contains("VALARM"),
        "T60: foreign alarms are not stored"
    );
}

/// T24: a minor update keeps my answer and the description changes.
#[test]
fn t24_minor_update_keeps_partstat() {
    let stored = stored_of(merge_request(
        &inv("REQUEST", &ev(1, T0, &format!("{ME}DESCRIPTION:old\r\n"))),
        None,
        &me(),
        &opts(),
    ));
    let answered = stored_of(
        apply_answer(
            &stored,
            &me_match(&stored),
            &me(),
            PartStat::Accepted,
            &[None],
            &opts(),
        )
        .unwrap(),
    );
    let incoming = inv("REQUEST", &ev(1, T1, &format!("{ME}DESCRIPTION:new\r\n")));
    let out = text(&merge_request(&incoming, Some(&answered), &me(), &opts()));
    assert!(out.contains("DESCRIPTION:new"));
    assert!(out.contains("PARTSTAT=ACCEPTED"), "{out}");
    assert!(!out.contains("X-RSVP-PREVIOUS-PARTSTAT"));
}

fn me_match(inv: &Invite) -> MeMatch {
    match find_me(inv, &me(), &[], &[]) {
        Role::Attendee(m) => m,
        other => panic!("{other:?}"),
    }
}

/// T25: a reschedule resets my answer, remembers it, keeps VALARM and TRANSP.
#[test]
fn t25_reschedule_resets_and_keeps_local_data() {
    let first = merge_request(&inv("REQUEST", &ev(1, T0, ME)), None, &me(), &opts());
    let stored = stored_of(first);
    let mut accepted = apply_answer(
        &stored,
        &me_match(&stored),
        &me(),
        PartStat::Accepted,
        &[None],
        &opts(),
    )
    .unwrap();
    // The user added an alarm and TRANSP in khal.
    let ev_id = ical::scheduling_ids(&accepted)[0];
    let alarm_cal = ical::parse(&format!("BEGIN:VCALENDAR\r\n{ALARM}END:VCALENDAR\r\n"))
        .unwrap()
        .calendars
        .remove(0);
    let alarm = alarm_cal.components[1].clone();
    let new_id = accepted.components.len() as u32;
    accepted.components.push(alarm);
    accepted.components[ev_id as usize]
        .component_ids
        .push(new_id);
    accepted.components[ev_id as usize].entries.push(
        ICalendarEntry::new(ICalendarProperty::Transp)
            .with_value(calcard::icalendar::ICalendarTransparency::Transparent),
    );
    let stored = stored_of(accepted);

    let moved = ev(2, T1, ME).replace("20250106T080000Z", "20250106T070000Z");
    let out = text(&merge_request(
        &inv("REQUEST", &moved),
        Some(&stored),
        &me(),
        &opts(),
    ));
    assert!(out.contains("PARTSTAT=NEEDS-ACTION"), "{out}");
    assert!(out.contains("X-RSVP-PREVIOUS-PARTSTAT:ACCEPTED"));
    assert!(out.contains("DESCRIPTION:mine"), "VALARM kept: {out}");
    assert!(out.contains("TRANSP:TRANSPARENT"));
    assert!(out.contains("DTSTART:20250106T070000Z"));
    assert!(out.contains("X-RSVP-RECEIVED-SEQUENCE:2"));
}

/// T30: a full update drops overrides not in the message, keeps alarms.
#[test]
fn t30_full_update_removes_overrides() {
    let series = format!(
        "{}{}",
        ev(1, T0, &format!("{ME}RRULE:FREQ=WEEKLY;COUNT=5\r\n{ALARM}")),
        ev(1, T0, ME).replace("DTSTART:", "RECURRENCE-ID:20250113T080000Z\r\nDTSTART:")
    );
    let stored = stored_of(
        ical::parse(&format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{series}END:VCALENDAR\r\n"
        ))
        .unwrap()
        .calendars
        .remove(0),
    );
    assert_eq!(stored.overrides().len(), 1);
    let incoming = inv(
        "REQUEST",
        &ev(2, T1, &format!("{ME}RRULE:FREQ=WEEKLY;COUNT=5\r\n")),
    );
    let out = stored_of(merge_request(&incoming, Some(&stored), &me(), &opts()));
    assert!(out.overrides().is_empty());
    assert!(text(&out.cal).contains("DESCRIPTION:mine"));
}

/// T31: an instance-only update adds the override, master untouched.
#[test]
fn t31_instance_only_update() {
    let stored = stored_of(merge_request(
        &inv(
            "REQUEST",
            &ev(1, T0, &format!("{ME}RRULE:FREQ=WEEKLY;COUNT=5\r\n")),
        ),
        None,
        &me(),
        &opts(),
    ));
    let master_before = text(&stored.cal);
    let inst = ev(2, T1, ME).replace(
        "DTSTART:20250106T080000Z",
        "RECURRENCE-ID:20250113T080000Z\r\nDTSTART:20250113T100000Z",
    );
    let out = stored_of(merge_request(
        &inv("REQUEST", &inst),
        Some(&stored),
        &me(),
        &opts(),
    ));
    assert_eq!(out.overrides().len(), 1);
    assert_eq!(out.master().unwrap().sequence(), 1);
    assert!(master_before.contains("RRULE:FREQ=WEEKLY;COUNT=5"));
    assert!(text(&out.cal).contains("DTSTART:20250113T100000Z"));
}

/// T31 + R3.8: an instance-only update that keeps the occurrence's time
/// (only SUMMARY changed) is not a reschedule: the occurrence's DTSTART is
/// compared with its RECURRENCE-ID, not with the master's first start, and
/// my answer is kept (Thunderbird corpus step 3a).
#[test]
fn t31_instance_only_update_same_time_keeps_partstat() {
    let series = ev(
        1,
        T0,
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@x.example\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\n",
    );
    let stored = stored_of(merge_request(
        &inv("REQUEST", &series),
        None,
        &me(),
        &opts(),
    ));
    let stored = stored_of(
        apply_answer(
            &stored,
            &me_match(&stored),
            &me(),
            PartStat::Accepted,
            &[None],
            &opts(),
        )
        .unwrap(),
    );
    let inst = ev(1, T1, ME)
        .replace(
            "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z",
            "RECURRENCE-ID:20250113T080000Z\r\nDTSTART:20250113T080000Z\r\nDTEND:20250113T090000Z",
        )
        .replace("SUMMARY:Sync", "SUMMARY:Sync (agenda changed)");
    let incoming = inv("REQUEST", &inst);
    let changes = crate::domain::diff::diff(&stored, &incoming, &me(), &opts().clock);
    assert!(
        changes
            .iter()
            .all(|c| c.field != "DTSTART" && c.field != "DTEND"),
        "{changes:?}"
    );
    assert!(
        !crate::domain::diff::is_significant(&changes),
        "{changes:?}"
    );
    let out = stored_of(merge_request(&incoming, Some(&stored), &me(), &opts()));
    let o = out.overrides();
    assert_eq!(o.len(), 1);
    let mine = o[0]
        .attendees()
        .into_iter()
        .find(|a| me().party_is_me(a))
        .unwrap();
    assert_eq!(mine.partstat, PartStat::Accepted, "{}", text(&out.cal));
}

/// T36 (store): declining one occurrence makes an override; master unchanged.
#[test]
fn t36_decline_instance_override_created() {
    let stored = stored_of(merge_request(
        &inv(
            "REQUEST",
            &ev(1, T0, &format!("{ME}RRULE:FREQ=WEEKLY;COUNT=5\r\n")),
        ),
        None,
        &me(),
        &opts(),
    ));
    let rid = CalDate::Utc(
        chrono::NaiveDate::from_ymd_opt(2025, 1, 13)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap(),
    );
    let out = stored_of(
        apply_answer(
            &stored,
            &me_match(&stored),
            &me(),
            PartStat::Declined,
            &[Some(rid)],
            &opts(),
        )
        .unwrap(),
    );
    let over = out.overrides();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].attendees()[0].partstat, PartStat::Declined);
    assert!(!over[0].c.has_property(&ICalendarProperty::Rrule));
    assert_eq!(
        out.master().unwrap().attendees()[0].partstat,
        PartStat::NeedsAction
    );
    assert!(text(&out.cal).contains("DTSTART:20250113T080000Z"));
}

/// T42: whole cancel marks every component CANCELLED and keeps the tombstone.
#[test]
fn t42_cancel_whole() {
    let stored = stored_of(merge_request(
        &inv("REQUEST", &ev(1, T0, ME)),
        None,
        &me(),
        &opts(),
    ));
    let cancel = inv("CANCEL", &ev(2, T1, "STATUS:CANCELLED\r\n"));
    let out =
        stored_of(apply_cancel(&stored, &cancel, CancelScope::Whole, false, &opts()).unwrap());
    assert!(out.components().iter().all(|c| c.is_cancelled()));
    assert!(text(&out.cal).contains("X-RSVP-RECEIVED-SEQUENCE:2"));
}

/// T43: an instance cancel adds an EXDATE in DTSTART's form.
#[test]
fn t43_cancel_instance_exdate_in_dtstart_form() {
    let series = ev(1, T0, &format!("{ME}RRULE:FREQ=WEEKLY;COUNT=5\r\n")).replace(
        "DTSTART:20250106T080000Z\r\nDTEND:20250106T090000Z",
        "DTSTART;TZID=Europe/Berlin:20250106T090000\r\nDTEND;TZID=Europe/Berlin:20250106T100000",
    );
    let stored = stored_of(merge_request(
        &inv("REQUEST", &series),
        None,
        &me(),
        &opts(),
    ));
    let cancel = inv(
        "CANCEL",
        &ev(2, T1, "STATUS:CANCELLED\r\n")
            .replace("DTSTART:", "RECURRENCE-ID:20250120T080000Z\r\nDTSTART:"),
    );
    let out =
        stored_of(apply_cancel(&stored, &cancel, CancelScope::Instances, false, &opts()).unwrap());
    let t = text(&out.cal);
    assert!(
        t.contains("EXDATE;TZID=Europe/Berlin:20250120T090000"),
        "{t}"
    );
    assert!(!out.master().unwrap().is_cancelled());
}

/// T44: THISANDFUTURE ends the rule with UNTIL before instance 4.
#[test]
fn t44_cancel_this_and_future() {
    let master = ev(1, T0, &format!("{ME}RRULE:FREQ=WEEKLY;COUNT=10\r\n"));
    let o3 = ev(1, T0, ME).replace(
        "DTSTART:20250106T080000Z",
        "RECURRENCE-ID:20250120T080000Z\r\nDTSTART:20250120T100000Z",
    );
    let o6 = ev(1, T0, ME).replace(
        "DTSTART:20250106T080000Z",
        "RECURRENCE-ID:20250210T080000Z\r\nDTSTART:20250210T100000Z",
    );
    let stored = stored_of(
        ical::parse(&format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{master}{o3}{o6}END:VCALENDAR\r\n"
        ))
        .unwrap()
        .calendars
        .remove(0),
    );
    let cancel = inv(
        "CANCEL",
        &ev(2, T1, "STATUS:CANCELLED\r\n").replace(
            "DTSTART:",
            "RECURRENCE-ID;RANGE=THISANDFUTURE:20250127T080000Z\r\nDTSTART:",
        ),
    );
    let out = stored_of(
        apply_cancel(&stored, &cancel, CancelScope::ThisAndFuture, false, &opts()).unwrap(),
    );
    let t = text(&out.cal);
    assert!(t.contains("UNTIL=20250127T075959Z"), "{t}");
    assert!(!t.contains("COUNT="));
    let overrides = out.overrides();
    let o6 = overrides
        .iter()
        .find(|o| {
            o.recurrence_id().unwrap().naive().date()
                == chrono::NaiveDate::from_ymd_opt(2025, 2, 10).unwrap()
        })
        .unwrap();
    assert!(o6.is_cancelled());
    let o3 = overrides
        .iter()
        .find(|o| {
            o.recurrence_id().unwrap().naive().date()
                == chrono::NaiveDate::from_ymd_opt(2025, 1, 20).unwrap()
        })
        .unwrap();
    assert!(!o3.is_cancelled());
    let live = crate::domain::classify::expand_starts(&out)
        .into_iter()
        .filter(|(id, _)| {
            out.components()
                .iter()
                .any(|c| c.id == *id && !c.is_cancelled())
        })
        .count();
    assert_eq!(live, 3, "expansion gives 3 instances");
}

/// T45: an uninvitation marks my copy cancelled.
#[test]
fn t45_uninvite_marks_cancelled() {
    let stored = stored_of(merge_request(
        &inv("REQUEST", &ev(1, T0, ME)),
        None,
        &me(),
        &opts(),
    ));
    let cancel = inv("CANCEL", &ev(2, T1, "ATTENDEE:mailto:me@x.example\r\n"));
    let out = stored_of(apply_cancel(&stored, &cancel, CancelScope::Whole, true, &opts()).unwrap());
    assert!(out.components().iter().all(|c| c.is_cancelled()));
}

/// Issue 9: a declined event is TRANSP:TRANSPARENT (it does not look busy);
/// a later accept takes that back, but never the organizer's TRANSPARENT.
#[test]
fn declined_events_are_transparent_until_accepted_again() {
    let stored = stored_of(merge_request(
        &inv("REQUEST", &ev(1, T0, ME)),
        None,
        &me(),
        &opts(),
    ));
    let answer = |s: &Invite, p: PartStat, o: &Options| {
        stored_of(apply_answer(s, &me_match(s), &me(), p, &[None], o).unwrap())
    };
    let declined = answer(&stored, PartStat::Declined, &opts());
    let t = text(&declined.cal);
    assert!(t.contains("TRANSP:TRANSPARENT"), "{t}");
    assert!(t.contains("X-RSVP-DECLINED-TRANSP:TRUE"), "{t}");
    let accepted = answer(&declined, PartStat::Accepted, &opts());
    let t = text(&accepted.cal);
    assert!(!t.contains("TRANSP:"), "{t}");
    assert!(!t.contains("X-RSVP-DECLINED-TRANSP"), "{t}");
    let keep = Options {
        declined_transparent: false,
        ..opts()
    };
    assert!(!text(&answer(&stored, PartStat::Declined, &keep).cal).contains("TRANSP"));
    let organizers = stored_of(merge_request(
        &inv(
            "REQUEST",
            &ev(1, T0, &format!("{ME}TRANSP:TRANSPARENT\r\n")),
        ),
        None,
        &me(),
        &opts(),
    ));
    let declined = answer(&organizers, PartStat::Declined, &opts());
    let accepted = answer(&declined, PartStat::Accepted, &opts());
    assert!(
        text(&accepted.cal).contains("TRANSP:TRANSPARENT"),
        "the organizer's TRANSP stays"
    );
}

/// Issue 9: an applied cancellation drops the event's alarms (khal showed
/// "CANCELLED … ⏰").
#[test]
fn a_cancelled_event_loses_its_alarms() {
    let mut first = merge_request(&inv("REQUEST", &ev(1, T0, ME)), None, &me(), &opts());
    let ev_id = ical::scheduling_ids(&first)[0];
    let alarm_cal = ical::parse(&format!("BEGIN:VCALENDAR\r\n{ALARM}END:VCALENDAR\r\n"))
        .unwrap()
        .calendars
        .remove(0);
    let new_id = first.components.len() as u32;
    first.components.push(alarm_cal.components[1].clone());
    first.components[ev_id as usize].component_ids.push(new_id);
    let stored = stored_of(first);
    assert!(text(&stored.cal).contains("BEGIN:VALARM"));
    let cancel = inv("CANCEL", &ev(2, T1, "STATUS:CANCELLED\r\n"));
    let out =
        stored_of(apply_cancel(&stored, &cancel, CancelScope::Whole, false, &opts()).unwrap());
    let t = text(&out.cal);
    assert!(out.components().iter().all(|c| c.is_cancelled()), "{t}");
    assert!(!t.contains("VALARM"), "{t}");
}

fn series_ev(seq: i64, rid: Option<&str>, extra: &str) -> String {
    let head = match rid {
        Some(r) => format!("RECURRENCE-ID:{r}\r\nDTSTART:{r}\r\nDURATION:PT1H\r\n"),
        None => "DTSTART:20250106T080000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=5\r\n".into(),
    };
    format!(
        "BEGIN:VEVENT\r\nUID:s7\r\nSEQUENCE:{seq}\r\nDTSTAMP:2025010{seq}T000000Z\r\n{head}SUMMARY:Series\r\nORGANIZER:mailto:org@x.example\r\n{extra}END:VEVENT\r\n"
    )
}

/// Issue 7: a full update keeps every override it carries and the
/// attendee-owned data (VALARM, TRANSP) of the overrides already stored.
#[test]
fn issue7_full_update_keeps_overrides_and_their_local_data() {
    let r1 = "20250107T080000Z";
    let r2 = "20250108T080000Z";
    let stored = stored_of(merge_request(
        &inv(
            "REQUEST",
            &format!(
                "{}{}{}",
                series_ev(1, None, ME),
                series_ev(1, Some(r1), ME),
                series_ev(1, Some(r2), ME)
            ),
        ),
        None,
        &me(),
        &opts(),
    ));
    // The user's own data on both overrides.
    let mut text0 = ical::write(&stored.cal);
    for r in [r1, r2] {
        text0 = text0.replace(
            &format!("RECURRENCE-ID:{r}\r\n"),
            &format!("RECURRENCE-ID:{r}\r\nTRANSP:TRANSPARENT\r\n"),
        );
    }
    let with_alarms = text0.replace("END:VEVENT\r\n", &format!("{ALARM}END:VEVENT\r\n"));
    let stored = stored_of(ical::parse(&with_alarms).unwrap().calendars.remove(0));
    assert_eq!(stored.overrides().len(), 2);

    let incoming = inv(
        "REQUEST",
        &format!(
            "{}{}{}",
            series_ev(2, None, &format!("{ME}DESCRIPTION:agenda\r\n")),
            series_ev(2, Some(r1), &format!("{ME}DESCRIPTION:agenda\r\n")),
            series_ev(2, Some(r2), &format!("{ME}DESCRIPTION:agenda\r\n"))
        ),
    );
    let out = stored_of(merge_request(&incoming, Some(&stored), &me(), &opts()));
    let written = text(&out.cal);
    assert_eq!(out.overrides().len(), 2, "{written}");
    for o in out.overrides() {
        assert_eq!(
            o.text(&ICalendarProperty::Transp).as_deref(),
            Some("TRANSPARENT"),
            "{written}"
        );
        assert_eq!(
            ical::children(&out.cal, o.id).len(),
            1,
            "the override keeps its alarm: {written}"
        );
    }
    assert_eq!(written.matches("BEGIN:VALARM").count(), 3, "{written}");
}
