use super::*;

#[test]
fn dates_and_times_are_read_only_in_the_three_forms() {
    let w = when(":20270310T090000Z").unwrap();
    assert!(w.form == Form::Utc && w.at.to_string() == "2027-03-10 09:00:00");
    assert!(when(":20270310T090000").is_some_and(|w| w.form == Form::Floating));
    assert!(when(";VALUE=DATE:20270310").is_some_and(|w| w.form == Form::Date));
    assert!(
        when(";TZID=Europe/Berlin:20270310T090000")
            .is_some_and(|w| w.form == Form::Zoned(Tz::Europe__Berlin))
    );
    assert!(when(";TZID=Mars/Olympus:20270310T090000").is_none());
    for refused in [
        ":20270310",                            // a date without VALUE=DATE
        ";VALUE=DATE:20270310T090000",          // a time with VALUE=DATE
        ";TZID=Europe/Berlin:20270310T090000Z", // a zone and a Z
        ";TZID=Europe/Berlin;X=1:20270310T090000",
        ";TZID=/x,y/America/Chicago:20270310T090000", // a list for calcard
        ";VALUE=DATE-TIME:20270310T090000",
        ":20270310T250000Z",
        ":20270310X090000Z",
        ":18991231T090000Z",
        ":2027031OT090000Z",
        ":+0270310T090000Z",
    ] {
        assert!(when(refused).is_none(), "{refused} was read");
    }
}

#[test]
fn only_the_escapes_every_reader_agrees_on_are_clean() {
    assert!(clean(":a\\, b\\; c\\n d\\N e\\\\ f\tg \"quoted\""));
    for dirty in [":a\\x", ":a\\", ":a\u{1b}b", ":a\rb", ":a\u{7f}"] {
        assert!(!clean(dirty), "{dirty:?} passed");
    }
}

#[test]
fn parameters_end_at_their_colon_only_when_plainly_written() {
    assert_eq!(params_end(":v"), Some(0));
    assert_eq!(params_end(";CN=Ann;PARTSTAT=ACCEPTED:mailto:a@x"), Some(25));
    assert_eq!(params_end(";CN=\"Doe, John: CEO\";X=a,b:v"), Some(26));
    for refused in [
        ";=ZETT:v",        // no name (calcard swallowed the next line)
        ";CN=Ann",         // no colon on the line
        ";cn=Ann:v",       // a name in lower case
        ";CN=:v",          // an empty value
        ";CN=\"\":v",      // an empty quoted value
        ";CN=\"Ann:v",     // an unterminated quote
        ";CN=\"A\"nn:v",   // text after the closing quote
        ";X=a=b:v",        // '=' in a bare value
        ";X=a^nb:v",       // RFC 6868's caret
        ";X=\"a\\\"b\":v", // a backslash in a quoted value
        "X:v",             // no ';' or ':' first
    ] {
        assert_eq!(params_end(refused), None, "{refused}");
    }
}

#[test]
fn folded_lines_are_joined_as_the_full_reading_unfolds_them() {
    let lines = logical_lines("A:1\r\n 2\r\n\t3\nB:4\n").unwrap();
    assert_eq!(lines, vec!["A:123", "B:4", ""]);
    assert!(logical_lines(" A:1\n").is_none());
}
