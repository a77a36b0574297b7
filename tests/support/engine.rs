//! The one place where issue-7 tests reach `rsvp::inbox` (show, apply,
//! respond) over a [`MemEnv`], so the tests follow the inbox API with a
//! change here only. Everything else they check goes through the domain.

use super::memenv::MemEnv;
use rsvp::domain::extract;
use rsvp::domain::ical;
use rsvp::domain::invite::{Invite, PartStat};
use rsvp::domain::ports::CalendarStore;
use rsvp::inbox::{self, Applied, InboxError, Responded, ResponseRequest, Shown};

pub fn show(m: &MemEnv, raw: &[u8]) -> Result<Shown, InboxError> {
    inbox::show(&m.env(), raw)
}

pub fn apply(m: &MemEnv, raw: &[u8]) -> Result<(Shown, Applied), InboxError> {
    inbox::apply_message(&m.env(), raw)
}

pub fn respond(
    m: &MemEnv,
    raw: &[u8],
    partstat: PartStat,
    instance: Option<&str>,
    dry_run: bool,
) -> Result<Responded, InboxError> {
    let req = ResponseRequest {
        partstat,
        comment: None,
        instance,
        dry_run,
        resend: false,
        no_send: false,
    };
    inbox::respond(&m.env(), raw, &req)
}

/// Every object of a calendar text, one per UID.
pub fn invites_in(text: &str, method_param: Option<&str>) -> Vec<Invite> {
    let Ok(parsed) = ical::parse(text) else {
        return Vec::new();
    };
    parsed
        .calendars
        .into_iter()
        .flat_map(|cal| Invite::from_calendar(cal, method_param).unwrap_or_default())
        .collect()
}

/// The stored copy of `uid`, parsed.
pub fn stored(m: &MemEnv, uid: &str) -> Option<Invite> {
    let objects = m.store.list().ok()?;
    objects.iter().find_map(|o| {
        let text = String::from_utf8_lossy(&o.data);
        invites_in(&text, None).into_iter().find(|i| i.uid == uid)
    })
}

/// The calendar part of a produced REPLY message: (text, parsed).
pub fn reply_part(message: &[u8]) -> (String, Invite) {
    let x = extract::extract(message).expect("the reply extracts");
    assert_eq!(x.parts.len(), 1, "one calendar part");
    let text = x.parts[0].text.clone();
    let mut v = invites_in(&text, Some("REPLY"));
    assert_eq!(v.len(), 1, "one object in the reply:\n{text}");
    (text, v.remove(0))
}

/// The decoded text/plain part of a message (quoted-printable undone).
pub fn text_body(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(message)
        .expect("a parsable message");
    parsed
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default()
}

/// The corpus folder, or `None` (a failure under CI) when it is missing.
pub fn corpus() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        super::skip(&format!("corpus not found at {}", dir.display()))
    }
}
