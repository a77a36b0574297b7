use super::*;

#[test]
fn dates_and_times_are_read_only_in_the_three_forms() {
    let w = when(":20270310T090000Z").unwrap();
    assert!(w.form == Form::Utc && w.at.to_string() == "2027-03-10 09:00:00");
    assert!(when(":20270310T090000").is_some_and(|w| w.form == Form::Floating));
    assert!(when(";VALUE=DATE:20270310").is_some_and(|w| w.form == Form::Date));
    assert!(
        when(";TZID=Europe/Berlin:20270310T090000")
            .is_some_and(|w| w.form == Form::Zoned("Europe/Berlin"))
    );
    for refused in [
        ":20270310",                            // a date without VALUE=DATE
        ";VALUE=DATE:20270310T090000",          // a time with VALUE=DATE
        ";TZID=Europe/Berlin:20270310T090000Z", // a zone and a Z
        ";TZID=Europe/Berlin;X=1:20270310T090000",
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
    assert!(clean(":a\\, b\\; c\\n d\\N e\\\\ f\tg"));
    for dirty in [":a\\x", ":a\\", ":\"q\"", ":a\u{1b}b", ":a\rb", ":a\u{7f}"] {
        assert!(!clean(dirty), "{dirty:?} passed");
    }
}
