use super::*;

fn cal(text: &str) -> ICalendar {
    ICalendar::parse(text).expect("test calendar parses")
}

fn empty() -> ICalendar {
    cal("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
}

#[test]
fn r8_9_resolves_iana_and_quoted_names() {
    let c = empty();
    assert_eq!(resolve_tzid("Europe/Berlin", &c), Some(Tz::Europe__Berlin));
    assert_eq!(
        resolve_tzid("\"Europe/Berlin\"", &c),
        Some(Tz::Europe__Berlin)
    );
    assert_eq!(resolve_tzid("europe/berlin", &c), Some(Tz::Europe__Berlin));
    assert_eq!(
        resolve_tzid("America/Argentina/Buenos_Aires", &c),
        Some(Tz::America__Argentina__Buenos_Aires)
    );
    assert_eq!(resolve_tzid("UTC", &c), Some(Tz::UTC));
    assert_eq!(resolve_tzid("Etc/GMT+5", &c), Some(Tz::Etc__GMTPlus5));
    assert_eq!(resolve_tzid("UTC+11", &c), Some(Tz::Etc__GMTMinus11));
}

#[test]
fn resolves_windows_names() {
    let c = empty();
    assert_eq!(
        resolve_tzid("Pacific Standard Time", &c),
        Some(Tz::America__Los_Angeles)
    );
    assert_eq!(
        resolve_tzid("W. Europe Standard Time", &c),
        Some(Tz::Europe__Berlin)
    );
    assert_eq!(
        resolve_tzid("Romance Standard Time", &c),
        Some(Tz::Europe__Paris)
    );
    assert_eq!(
        resolve_tzid("Eastern Standard Time", &c),
        Some(Tz::America__New_York)
    );
}

#[test]
fn resolves_outlook_display_names() {
    let c = empty();
    assert_eq!(
        resolve_tzid(
            "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            &c
        ),
        Some(Tz::Europe__Berlin)
    );
    assert_eq!(
        resolve_tzid("(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", &c),
        Some(Tz::Europe__Paris)
    );
    // Not in calcard's table: a listed city still names the zone.
    assert_eq!(
        resolve_tzid("(UTC+01:00) Sarajevo, Skopje, Warsaw, Zagreb-ish", &c),
        Some(Tz::Europe__Sarajevo)
    );
    // Only the offset is recognisable: a fixed zone, the best we have.
    assert_eq!(
        resolve_tzid("(UTC+03:00) Nowhere Land", &c),
        Some(Tz::Etc__GMTMinus3)
    );
    assert_eq!(
        resolve_tzid("Pacific Time (US & Canada), Tijuana", &c),
        Some(Tz::America__Los_Angeles)
    );
}

#[test]
fn resolves_registry_prefixed_names() {
    let c = empty();
    assert_eq!(
        resolve_tzid("/mozilla.org/20050126_1/Europe/Berlin", &c),
        Some(Tz::Europe__Berlin)
    );
    assert_eq!(
        resolve_tzid("/citadel.org/20190914_1/Europe/Paris", &c),
        Some(Tz::Europe__Paris)
    );
    assert_eq!(
        resolve_tzid(
            "/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires",
            &c
        ),
        Some(Tz::America__Argentina__Buenos_Aires)
    );
    assert_eq!(
        resolve_tzid("/softwarestudio.org/Olson_20011030_5/America/Chicago", &c),
        Some(Tz::America__Chicago)
    );
    assert_eq!(
        resolve_tzid("/Europe/Stockholm", &c),
        Some(Tz::Europe__Stockholm)
    );
    assert_eq!(resolve_tzid("Europe_Berlin", &c), Some(Tz::Europe__Berlin));
    assert_eq!(
        resolve_tzid("America-Chicago", &c),
        Some(Tz::America__Chicago)
    );
}

#[test]
fn r3_9_unknown_names_do_not_resolve() {
    let c = empty();
    assert_eq!(resolve_tzid("Nowhere/Atlantis", &c), None);
    assert_eq!(resolve_tzid("foo", &c), None);
    assert_eq!(resolve_tzid("", &c), None);
    assert_eq!(resolve_tzid("\"\"", &c), None);
}

const LOTUS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Eastern Lotus\r\n\
BEGIN:STANDARD\r\nDTSTART:19501029T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n\
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:19500402T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n\
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=1SU;BYMONTH=4\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Eastern Lotus:20050425T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn resolves_custom_vtimezone_by_rules_in_the_years_used() {
    // Pre-2007 US rules, used in 2005: America/New_York had them then.
    assert_eq!(
        resolve_tzid("Eastern Lotus", &cal(LOTUS)),
        Some(Tz::America__New_York)
    );
    // The same rules used in 2025 match no US zone (they changed in 2007).
    let later = LOTUS.replace("20050425T090000", "20250425T090000");
    assert_ne!(
        resolve_tzid("Eastern Lotus", &cal(&later)),
        Some(Tz::America__New_York)
    );
}

#[test]
fn resolves_outlook_customized_time_zone() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Customized Time Zone:20250113T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(
        resolve_tzid("Customized Time Zone", &cal(text)),
        Some(Tz::Europe__Berlin)
    );
}

#[test]
fn resolves_fixed_vtimezone_and_lic_location() {
    let fixed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:(no TZ description)\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\nEND:VCALENDAR\r\n";
    assert_eq!(
        resolve_tzid("(no TZ description)", &cal(fixed)),
        Some(Tz::Etc__GMTMinus8)
    );
    let lic = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:My Zone\r\n\
X-LIC-LOCATION:Europe/Vienna\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";
    assert_eq!(resolve_tzid("My Zone", &cal(lic)), Some(Tz::Europe__Vienna));
    // Outlook-display name with only an offset: the calendar's rules win.
    let outlook = LOTUS
        .replace("TZID:Eastern Lotus", "TZID:(UTC-05:00) Somewhere")
        .replace("TZID=Eastern Lotus", "TZID=\"(UTC-05:00) Somewhere\"");
    assert_eq!(
        resolve_tzid("(UTC-05:00) Somewhere", &cal(&outlook)),
        Some(Tz::America__New_York)
    );
}

#[test]
fn tzids_used_in_first_use_order_without_vtimezones() {
    let c = cal(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Inside/Only\r\n\
BEGIN:STANDARD\r\nDTSTART;TZID=Inside/Only:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n\
END:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=America/New_York:20250101T090000\r\n\
DTEND;TZID=Europe/Berlin:20250101T150000\r\nEXDATE;TZID=America/New_York:20250108T090000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=\"Pacific Standard Time\":20250115T090000\r\n\
DTSTART;TZID=Europe/Berlin:20250115T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    assert_eq!(
        tzids_used(&c),
        vec!["America/New_York", "Europe/Berlin", "Pacific Standard Time"]
    );
}

fn reply_using(tzid_param: &str) -> ICalendar {
    cal(&format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n\
UID:u1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID={tzid_param}:20250113T090000\r\n\
ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ))
}

const FROM_2024: i64 = 1_704_067_200;
const TO_2027: i64 = 1_798_761_600;

#[test]
fn r1_4_generates_vtimezone_for_windows_tzid() {
    let mut out = reply_using("Pacific Standard Time");
    let warnings = ensure_vtimezones(&mut out, &empty(), FROM_2024, TO_2027);
    assert_eq!(warnings, Vec::<String>::new());
    let text = out.to_string();
    assert!(
        text.contains("DTSTART;TZID=\"Pacific Standard Time\":20250113T090000"),
        "{text}"
    );
    assert!(
        text.contains("\r\nTZID:Pacific Standard Time\r\n"),
        "{text}"
    );
    assert!(text.contains("TZOFFSETTO:-0700"), "{text}");
    assert!(text.contains("TZOFFSETTO:-0800"), "{text}");
    let vtz = text.find("BEGIN:VTIMEZONE").expect("has VTIMEZONE");
    let vev = text.find("BEGIN:VEVENT").expect("has VEVENT");
    assert!(vtz < vev, "VTIMEZONE must come first:\n{text}");
    // It re-parses, and the written TZID resolves through the VTIMEZONE too.
    let again = cal(&text);
    assert_eq!(defined_tzids(&again), vec!["Pacific Standard Time"]);
    assert_eq!(tzids_used(&again), vec!["Pacific Standard Time"]);
    assert_eq!(
        resolve_tzid("Pacific Standard Time", &again),
        Some(Tz::America__Los_Angeles)
    );
    // Idempotent: a second call adds nothing.
    let mut twice = again.clone();
    assert!(ensure_vtimezones(&mut twice, &empty(), FROM_2024, TO_2027).is_empty());
    assert_eq!(twice.to_string(), text);
}

#[test]
fn t39_quoted_tzid_with_commas_round_trips() {
    let tzid = "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris";
    let mut out = reply_using(&format!("\"{tzid}\""));
    let warnings = ensure_vtimezones(&mut out, &empty(), FROM_2024, TO_2027);
    assert_eq!(warnings, Vec::<String>::new());
    let text = out.to_string();
    let unfolded = text.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!("DTSTART;TZID=\"{tzid}\":20250113T090000")),
        "{text}"
    );
    assert!(
        unfolded.contains("\r\nTZID:(UTC+01:00) Brussels\\, Copenhagen\\, Madrid\\, Paris\r\n"),
        "{text}"
    );
    let again = cal(&text);
    assert_eq!(defined_tzids(&again), vec![tzid]);
    assert_eq!(tzids_used(&again), vec![tzid]);
    assert_eq!(again.to_string(), text, "round trip is byte-stable");
}

#[test]
fn r1_4_copies_source_vtimezone_verbatim() {
    let source = cal(LOTUS);
    let mut out = reply_using("Eastern Lotus");
    let warnings = ensure_vtimezones(&mut out, &source, FROM_2024, TO_2027);
    assert!(warnings.is_empty(), "{warnings:?}");
    let text = out.to_string();
    assert!(text.contains("RRULE:FREQ=YEARLY;"), "{text}");
    assert!(text.contains("DTSTART:19501029T020000"), "{text}");
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
    assert!(
        text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"),
        "{text}"
    );
}

#[test]
fn r3_9_unresolvable_tzid_gives_a_warning() {
    let mut out = reply_using("Nowhere/Atlantis");
    let before = out.clone();
    let warnings = ensure_vtimezones(&mut out, &empty(), FROM_2024, TO_2027);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("\"Nowhere/Atlantis\""), "{warnings:?}");
    assert_eq!(out, before);
}

#[test]
fn existing_vtimezones_are_moved_before_events() {
    // copy_timezones() puts VTIMEZONEs after the first child; we fix the order.
    let source = cal(LOTUS);
    let mut out = reply_using("Eastern Lotus");
    out.copy_timezones(&source);
    let warnings = ensure_vtimezones(&mut out, &source, FROM_2024, TO_2027);
    assert!(warnings.is_empty(), "{warnings:?}");
    let text = out.to_string();
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1, "{text}");
    assert!(
        text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"),
        "{text}"
    );
}

#[test]
fn several_tzids_each_get_one() {
    let mut out = cal(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n\
DTSTART;TZID=Europe/Berlin:20250113T090000\r\nDTEND;TZID=W. Europe Standard Time:20250113T100000\r\n\
RECURRENCE-ID;TZID=Europe/Berlin:20250113T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    assert!(ensure_vtimezones(&mut out, &empty(), FROM_2024, TO_2027).is_empty());
    let text = out.to_string();
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 2, "{text}");
    assert!(text.contains("TZID:Europe/Berlin\r\n"), "{text}");
    assert!(text.contains("TZID:W. Europe Standard Time\r\n"), "{text}");
    assert!(
        text.rfind("END:VTIMEZONE") < text.find("BEGIN:VEVENT"),
        "{text}"
    );
}

fn dt(text: &str) -> (PartialDateTime, Option<String>, ICalendar) {
    let c = cal(&format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n{text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ));
    let entry = c
        .components
        .iter()
        .flat_map(|c| c.entries.iter())
        .find(|e| e.name == ICalendarProperty::Dtstart)
        .expect("DTSTART")
        .clone();
    let tzid = entry.tz_id().map(str::to_string);
    let value = match entry.values.first() {
        Some(ICalendarValue::PartialDateTime(v)) => (**v).clone(),
        other => panic!("not a date-time: {other:?}"),
    };
    (value, tzid, c)
}

fn instant(text: &str, fallback: Tz) -> Option<String> {
    let (value, tzid, c) = dt(text);
    partial_to_instant(&value, tzid.as_deref(), &c, fallback).map(|t| t.to_rfc3339())
}

#[test]
fn r8_8_to_instant() {
    let berlin = Tz::Europe__Berlin;
    assert_eq!(
        instant("DTSTART:20250113T090000Z", berlin).as_deref(),
        Some("2025-01-13T09:00:00+00:00")
    );
    assert_eq!(
        instant("DTSTART;TZID=Pacific Standard Time:20250713T090000", berlin).as_deref(),
        Some("2025-07-13T16:00:00+00:00")
    );
    // Floating: the fallback zone.
    assert_eq!(
        instant("DTSTART:20250113T090000", berlin).as_deref(),
        Some("2025-01-13T08:00:00+00:00")
    );
    // DATE: midnight in the fallback zone.
    assert_eq!(
        instant("DTSTART;VALUE=DATE:20250113", berlin).as_deref(),
        Some("2025-01-12T23:00:00+00:00")
    );
    // Unknown TZID: no guess.
    assert_eq!(
        instant("DTSTART;TZID=Nowhere/Atlantis:20250113T090000", berlin),
        None
    );
}

#[test]
fn r8_8_ambiguous_and_gap_times() {
    let berlin = Tz::Europe__Berlin;
    // 02:30 happens twice on 2025-10-26: the first (CEST, +02:00).
    assert_eq!(
        instant("DTSTART;TZID=Europe/Berlin:20251026T023000", Tz::UTC).as_deref(),
        Some("2025-10-26T00:30:00+00:00")
    );
    // 02:30 does not exist on 2025-03-30: the offset before the gap (+01:00).
    assert_eq!(
        instant("DTSTART;TZID=Europe/Berlin:20250330T023000", berlin).as_deref(),
        Some("2025-03-30T01:30:00+00:00")
    );
}

/// Names are remembered per thread: the answer is the same the first
/// time, again, and after more names than are remembered; an unknown name
/// stays unknown.
#[test]
fn a_remembered_zone_name_resolves_as_the_first_time() {
    let cal = empty();
    let berlin = Some(Tz::Europe__Berlin);
    for _ in 0..3 {
        assert_eq!(resolve_tzid("W. Europe Standard Time", &cal), berlin);
        assert_eq!(resolve_tzid("No Such Zone At All", &cal), None);
    }
    for i in 0..(MEMO_NAMES + 10) {
        let _ = resolve_tzid(&format!("Zone number {i}"), &cal);
    }
    assert_eq!(resolve_tzid("W. Europe Standard Time", &cal), berlin);
    assert_eq!(
        resolve_tzid("Europe/Lisbon", &cal),
        Some(Tz::Europe__Lisbon)
    );
    assert_eq!(resolve_tzid("No Such Zone At All", &cal), None);
}
