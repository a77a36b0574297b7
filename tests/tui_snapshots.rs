//! Screens of the TUI rendered on ratatui's `TestBackend` and compared with
//! committed insta snapshots, at 80×24 and 120×40, with a fixed `now`
//! (2025-01-02T12:00Z) and zone (Europe/Berlin). Colour is not in the
//! snapshots; `diff_colours_and_strike_through` asserts the styles of the
//! cells where colour carries meaning.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;
mod tui_support;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use rsvp::tui::state::State;
use rsvp::tui::update::{self, Answered, Delivery, Msg};
use rsvp::tui::view;
use tui_support::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn draw(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::render(state, f)).unwrap();
    t
}

/// Snapshot `state` at both sizes as `<name>_<w>x<h>`.
fn snap(name: &str, state: &State) {
    for (w, h) in SIZES {
        let t = draw(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

fn screen_text(t: &Terminal<TestBackend>) -> String {
    t.backend().to_string()
}

fn loaded() -> State {
    state_with(rows(&memenv()))
}

/// Select the row of fixture `name` with `j` presses.
fn select(state: &mut State, name: &str) {
    let _ = keys(state, "g");
    for _ in 0..20 {
        if state.selected_row().map(|r| r.key.as_str()) == Some(name) {
            return;
        }
        let _ = keys(state, "j");
    }
    panic!("{name} is not visible");
}

#[test]
fn list_with_a_new_invitation() {
    let s = loaded();
    snap("list", &s);
}

#[test]
fn detail_with_diff_of_a_rescheduled_event() {
    let mut s = loaded();
    select(&mut s, "outlook-reschedule.eml");
    let _ = keys(&mut s, "Enter");
    snap("detail_diff", &s);
    let text = screen_text(&draw(&s, 120, 40));
    assert!(text.contains("- Thu 2025-01-09 14:00 CET"), "{text}");
    assert!(text.contains("+ Fri 2025-01-10 15:00 CET"), "{text}");
}

#[test]
fn conflict_with_the_calendar() {
    let mut s = loaded();
    select(&mut s, "google-conflict.eml");
    snap("conflict", &s);
    let text = screen_text(&draw(&s, 120, 40));
    assert!(text.contains("Conflicts with your calendar (1)"), "{text}");
    assert!(
        text.contains("Mon 2025-01-06 10:30–11:30 CET  Dentist"),
        "{text}"
    );
}

#[test]
fn comment_prompt() {
    let mut s = loaded();
    let _ = keys(&mut s, "D");
    let _ = type_text(&mut s, "Travelling that week, sorry");
    snap("comment_prompt", &s);
}

#[test]
fn help_from_the_live_keymap() {
    let mut s = loaded();
    let _ = keys(&mut s, "?");
    snap("help", &s);
}

#[test]
fn error_status_after_a_failed_send() {
    let mut s = loaded();
    let effects = keys(&mut s, "a");
    let target = match effects.first() {
        Some(update::Effect::Respond { target, .. }) => target.clone(),
        other => panic!("{other:?}"),
    };
    snap("sending", &s);
    let _ = update::update(
        &mut s,
        Msg::Answered {
            target,
            result: Ok(Answered {
                changed_from: None,
                partstat: rsvp::domain::invite::PartStat::Accepted,
                delivery: Delivery::Queued {
                    reason: "cannot connect to smtp.example.org:587: Connection refused".into(),
                },
                warnings: Vec::new(),
            }),
        },
    );
    snap("error_status", &s);
}

#[test]
fn refused_keys_are_shown_disabled_before_they_are_pressed() {
    let mut s = loaded();
    select(&mut s, "thunderbird-cancel.eml");
    snap("refused_cancel", &s);
    let _ = keys(&mut s, "p");
    select(&mut s, "google-outdated.eml");
    snap("refused_outdated", &s);
}

#[test]
fn recurring_series_and_occurrence_choice() {
    let mut s = loaded();
    select(&mut s, "apple-recurring.eml");
    snap("recurring", &s);
    let _ = keys(&mut s, "i");
    snap("occurrence_chooser", &s);
}

#[test]
fn hostile_text_is_neutralised() {
    let mut s = loaded();
    select(&mut s, "hostile.eml");
    snap("hostile", &s);
    let text = screen_text(&draw(&s, 120, 40));
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text}"
    );
}

#[test]
fn empty_and_loading_lists() {
    let mut s = State::new(rsvp::keymap::Keymap::defaults(), clock());
    s.color = false;
    let _ = update::init(&mut s);
    snap("loading", &s);
    let _ = update::update(&mut s, Msg::Rows(Ok(listing(Vec::new()))));
    let _ = update::update(
        &mut s,
        Msg::Indexed(Ok(Some("indexed 0 new messages".into()))),
    );
    snap("empty", &s);
}

/// The expected foreground: `c`, or none at all under NO_COLOR.
fn fg(color: bool, c: Color) -> Color {
    if color { c } else { Color::Reset }
}

/// Where `needle` starts on the screen (column in cells, row).
fn find(t: &Terminal<TestBackend>, needle: &str) -> (u16, u16) {
    let buf = t.backend().buffer();
    let area = buf.area;
    (0..area.height)
        .find_map(|y| {
            let line: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.find(needle)
                .map(|x| (line[..x].chars().count() as u16, y))
        })
        .unwrap_or_else(|| panic!("{needle} not on screen:\n{}", t.backend()))
}

/// The answer keys of a row the engine refuses are dimmed and struck
/// through in the hint line before they are pressed; others are not.
#[test]
fn refused_answer_keys_are_struck_through_in_the_hints() {
    let mut s = loaded();
    let t = draw(&s, 80, 24);
    let (x, y) = find(&t, "a accept");
    assert!(y == 23, "the hint line is the last one");
    let style = t.backend().buffer()[(x, y)].style();
    assert!(!style.add_modifier.contains(Modifier::CROSSED_OUT));
    select(&mut s, "thunderbird-cancel.eml");
    let t = draw(&s, 80, 24);
    let buf = t.backend().buffer();
    for needle in ["a accept", "d decline", "t tentative"] {
        let (x, y) = find(&t, needle);
        let style = buf[(x, y)].style();
        assert!(
            style
                .add_modifier
                .contains(Modifier::CROSSED_OUT | Modifier::DIM),
            "{needle}: {style:?}"
        );
    }
    let (x, y) = find(&t, "c apply");
    assert!(
        !buf[(x, y)]
            .style()
            .add_modifier
            .contains(Modifier::CROSSED_OUT)
    );
}

/// Meaning carried by colour is also in the style of the cells: the old
/// value struck through in red, the new one green; without colour only the
/// strike-through and the `-`/`+` markers remain.
#[test]
fn diff_colours_and_strike_through() {
    for color in [true, false] {
        let mut s = loaded();
        s.color = color;
        select(&mut s, "outlook-reschedule.eml");
        let t = draw(&s, 120, 40);
        let buf = t.backend().buffer();
        let find = |needle: &str| {
            (0..40u16)
                .find_map(|y| {
                    let line: String = (0..120u16).map(|x| buf[(x, y)].symbol()).collect();
                    line.find(needle)
                        .map(|x| (line[..x].chars().count() as u16, y))
                })
                .unwrap_or_else(|| panic!("{needle} not on screen"))
        };
        let (x, y) = find("Thu 2025-01-09 14:00 CET");
        let old = buf[(x, y)].style();
        assert!(old.add_modifier.contains(Modifier::CROSSED_OUT));
        assert_eq!(old.fg.unwrap_or(Color::Reset), fg(color, Color::Red));
        let (x, y) = find("Fri 2025-01-10 15:00 CET");
        let new = buf[(x + 1, y)].style();
        assert!(!new.add_modifier.contains(Modifier::CROSSED_OUT));
        assert_eq!(new.fg.unwrap_or(Color::Reset), fg(color, Color::Green));
    }
}

/// Issue 9: rows say what they are: a reply waiting in the outbox is
/// QUEUED (not DONE), a dismissed invitation DISMISSED (not NEW).
#[test]
fn queued_and_dismissed_rows() {
    use rsvp::domain::invite::PartStat;
    use rsvp::domain::ports::TransportError;
    use rsvp::inbox::ResponseRequest;
    let m = memenv();
    let src = source();
    let mut inbox = inbox(&m, &src);
    inbox.list(true).unwrap();
    m.transport.fail_next(
        TransportError::Connection {
            server: "smtp.example.org:587".into(),
            message: "Connection refused".into(),
        },
        1,
    );
    let done = inbox
        .respond(
            "outlook-reschedule.eml",
            &ResponseRequest {
                partstat: PartStat::Accepted,
                comment: None,
                instance: None,
                dry_run: false,
                resend: false,
                no_send: false,
            },
        )
        .unwrap();
    assert!(!done.sent, "the reply stays queued");
    inbox.dismiss("google-new.eml").unwrap();
    let mut items = inbox.list(true).unwrap().items;
    items.sort_by_key(|r| MESSAGES.iter().position(|n| *n == r.key));
    let queued = items
        .iter()
        .find(|r| r.key == "outlook-reschedule.eml")
        .unwrap();
    assert!(queued.queued);
    let dismissed = items.iter().find(|r| r.key == "google-new.eml").unwrap();
    assert!(dismissed.dismissed && !dismissed.pending);
    let mut s = state_with(items);
    let _ = keys(&mut s, "p");
    let t = draw(&s, 120, 40);
    let text = screen_text(&t);
    assert!(text.contains("DISMISSED"), "{text}");
    assert!(text.contains("QUEUED"), "{text}");
    snap("queued_and_dismissed", &s);
}

/// A bare event for the second calendar.
fn other_event(uid: &str, summary: &str, start: &str, end: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

/// Issue 9: the day agenda beside the invitation holds the events of every
/// calendar the user keeps, the invitation placed among them and overlaps
/// marked; an overlap with an event in a second calendar is a conflict.
#[test]
fn day_agenda_over_every_calendar() {
    let m = memenv();
    m.other.insert(
        "physio.ics",
        &other_event(
            "physio@home",
            "Physio",
            "20250108T093000Z",
            "20250108T103000Z",
        ),
    );
    m.other.insert(
        "breakfast.ics",
        &other_event(
            "breakfast@home",
            "Breakfast with Lea",
            "20250108T070000Z",
            "20250108T080000Z",
        ),
    );
    m.other.insert(
        "friday.ics",
        &other_event(
            "friday@home",
            "Not that day",
            "20250110T090000Z",
            "20250110T100000Z",
        ),
    );
    let row = row_for(&m, "google-new.eml");
    let summaries: Vec<&str> = row.conflicts.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        summaries,
        ["Physio"],
        "the second calendar's event is a conflict"
    );
    let agenda = row.agenda.as_ref().expect("an agenda");
    let got: Vec<(&str, bool)> = agenda
        .events
        .iter()
        .map(|e| (e.summary.as_str(), e.overlaps))
        .collect();
    assert_eq!(got, [("Breakfast with Lea", false), ("Physio", true)]);
    let mut s = state_with(rows(&m));
    select(&mut s, "google-new.eml");
    let text = screen_text(&draw(&s, 120, 40));
    assert!(text.contains("Your day: Wed 2025-01-08"), "{text}");
    snap("day_agenda", &s);
}

/// Issue 9: `[ui] confirm` asks before mailing, naming the organizer.
#[test]
fn confirm_before_mailing() {
    let mut s = loaded();
    s.confirm = true;
    assert!(keys(&mut s, "a").is_empty(), "nothing is sent yet");
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("Send the reply?"), "{text}");
    assert!(text.contains("priya@example.com"), "{text}");
    snap("confirm_prompt", &s);
}
