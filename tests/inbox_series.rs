//! Issue 7 item 4 at the inbox level: answering one occurrence does not
//! answer the series. The series stays pending ("1 occurrence declined ·
//! series needs an answer"), the tags say what was answered, and a later
//! series answer keeps the occurrence's own answer and does not answer
//! that occurrence again (the organizer's own overrides are part of the
//! series and are answered with it).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;
mod tui_support;

use rsvp::domain::invite::PartStat;
use rsvp::domain::ports::CalendarStore;
use rsvp::inbox::{Item, ResponseRequest};
use tui_support::*;

const SERIES: &str = "apple-recurring.eml";

fn answer<'a>(partstat: PartStat, instance: Option<&'a str>) -> ResponseRequest<'a> {
    ResponseRequest {
        partstat,
        comment: None,
        instance,
        dry_run: false,
        resend: false,
        no_send: false,
    }
}

fn series(items: &[Item]) -> Option<&Item> {
    items.iter().find(|i| i.key == SERIES)
}

#[test]
fn bug4_answering_one_occurrence_keeps_the_series_pending_and_its_answer() {
    let m = memenv();
    let src = source();
    let mut inbox = inbox(&m, &src);
    let before = inbox.list(false).unwrap().items;
    let item = series(&before).expect("the series is pending");
    let occurrence = item
        .occurrences
        .first()
        .expect("an occurrence")
        .instance
        .clone();

    // `i` + `d` on one date.
    inbox
        .respond(SERIES, &answer(PartStat::Declined, Some(&occurrence)))
        .unwrap();
    let pending = inbox.list(false).unwrap().items;
    let item = series(&pending).expect("the series is still pending");
    assert!(item.pending);
    assert_eq!(
        item.answers.as_deref(),
        Some("1 occurrence declined · series needs an answer")
    );
    let tags = src.tags(SERIES);
    assert!(
        tags.contains(&"rsvp/declined-occurrence".to_string()),
        "{tags:?}"
    );
    assert!(!tags.contains(&"rsvp/declined".to_string()), "{tags:?}");

    // Accept the series: the occurrence stays declined, the reply is for
    // the master only.
    let sent_before = m.transport.sent().len();
    inbox
        .respond(SERIES, &answer(PartStat::Accepted, None))
        .unwrap();
    let sent = m.transport.sent();
    assert_eq!(sent.len(), sent_before + 1);
    let parts = rsvp::domain::extract::extract(&sent.last().unwrap().1)
        .unwrap()
        .parts;
    let ics = &parts[0].text;
    assert!(
        !ics.contains(&format!("RECURRENCE-ID;{occurrence}")),
        "the declined occurrence is not answered again: {ics}"
    );
    assert!(ics.contains("PARTSTAT=ACCEPTED"), "{ics}");
    let uid = item.uid.clone();
    let stored = m.store.find_by_uid(&uid).unwrap().expect("stored");
    let text = String::from_utf8_lossy(&stored.data).replace("\r\n ", "");
    assert!(
        text.contains("PARTSTAT=DECLINED"),
        "the occurrence keeps its answer: {text}"
    );

    let all = inbox.list(true).unwrap().items;
    let item = series(&all).expect("listed");
    assert_eq!(
        item.answers.as_deref(),
        Some("1 occurrence declined · series accepted")
    );
    assert!(!item.pending, "the series is answered");
    assert!(src.tags(SERIES).contains(&"rsvp/accepted".to_string()));
}
