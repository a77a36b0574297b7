//! The inbox listing use case (issue 3) on memory adapters: grouping by UID,
//! pending vs all, past events, trust (R9.2, T59), sender checks (R9.1),
//! conflicts with recurrence expansion capped (R9.7, T58), and the parse cache.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use rsvp::adapters::memory::MemorySource;
use rsvp::domain::classify::Status;
use rsvp::domain::invite::PartStat;
use rsvp::domain::ports::{CalendarStore, Candidate, InviteSource, SourceError};
use rsvp::inbox::{self, Flag, InboxError, Item, ListOptions, ParseCache, ResponseRequest};
use std::path::Path;
use support::memenv::MemEnv;

/// One invitation message; fields default to a plain new REQUEST.
#[derive(Clone)]
struct M {
    from: &'static str,
    method: &'static str,
    uid: &'static str,
    seq: i64,
    stamp: &'static str,
    start: String,
    end: String,
    summary: &'static str,
    organizer: &'static str,
    extra: String,
}

impl Default for M {
    fn default() -> M {
        M {
            from: "org@x.example",
            method: "REQUEST",
            uid: "u1",
            seq: 0,
            stamp: "20250101T100000Z",
            start: "DTSTART:20250110T080000Z".into(),
            end: "DTEND:20250110T090000Z".into(),
            summary: "Meeting",
            organizer: "org@x.example",
            extra: String::new(),
        }
    }
}

impl M {
    fn ics(&self, with_method: bool) -> String {
        let method = if with_method {
            format!("METHOD:{}\r\n", self.method)
        } else {
            String::new()
        };
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{method}BEGIN:VEVENT\r\nUID:{}\r\nSEQUENCE:{}\r\nDTSTAMP:{}\r\n{}\r\n{}\r\nSUMMARY:{}\r\nORGANIZER;CN=Org:mailto:{}\r\nATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:me@x.example\r\n{}END:VEVENT\r\nEND:VCALENDAR\r\n",
            self.uid,
            self.seq,
            self.stamp,
            self.start,
            self.end,
            self.summary,
            self.organizer,
            self.extra
        )
    }

    fn bytes(&self) -> Vec<u8> {
        format!(
            "From: Sender <{}>\r\nTo: me@x.example\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method={}; charset=UTF-8\r\n\r\n{}",
            self.from,
            self.summary,
            self.method,
            self.ics(true)
        )
        .into_bytes()
    }

    /// The same event as a stored calendar object (no METHOD).
    fn stored(&self, partstat: &str) -> Vec<u8> {
        self.ics(false)
            .replace("PARTSTAT=NEEDS-ACTION", &format!("PARTSTAT={partstat}"))
            .into_bytes()
    }
}

fn everything(m: &MemEnv, src: &MemorySource) -> Vec<Item> {
    let env = m.env();
    inbox::list(&env, src, &mut ParseCache::new(), ListOptions::everything()).unwrap()
}

fn pending(m: &MemEnv, src: &MemorySource) -> Vec<Item> {
    let env = m.env();
    inbox::list(&env, src, &mut ParseCache::new(), ListOptions::pending()).unwrap()
}

fn uids(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.uid.as_str()).collect()
}

fn me() -> MemEnv {
    MemEnv::new(&["me@x.example"])
}

/// RFC 5546 §2.1.5: the newest version (SEQUENCE, then DTSTAMP) is shown.
#[test]
fn grouping_shows_newest_and_counts_superseded() {
    let m = me();
    let src = std::sync::Arc::new(MemorySource::new());
    let v0 = M::default();
    let v1 = M {
        seq: 1,
        stamp: "20250101T110000Z",
        summary: "Moved",
        ..M::default()
    };
    let v1b = M {
        seq: 1,
        stamp: "20250101T120000Z",
        summary: "Moved again",
        ..M::default()
    };
    // Arrival order must not matter.
    src.add("/m/c", &v1b.bytes());
    src.add("/m/a", &v0.bytes());
    src.add("/m/b", &v1.bytes());
    src.add(
        "/m/other",
        &M {
            uid: "u2",
            ..M::default()
        }
        .bytes(),
    );
    let items = everything(&m, &src);
    assert_eq!(uids(&items), vec!["u1", "u2"]);
    let u1 = &items[0];
    assert_eq!(u1.message.path, "/m/c");
    assert_eq!(u1.summary, "Moved again");
    assert_eq!(u1.superseded, 2);
    let older: Vec<&str> = u1.older.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(older, vec!["/m/b", "/m/a"]);
    assert_eq!(u1.status, Status::New);
    assert_eq!(u1.partstat, Some(PartStat::NeedsAction));
    assert!(u1.pending);
    assert_eq!(items[1].superseded, 0);
    // The same through the session's `--id` lookup.
    let mut session = m.inbox(Some(src.clone()));
    let found = session.find_uid("u1").unwrap();
    assert_eq!(found.message.path, "/m/c");
    assert!(matches!(
        session.find_uid("nope"),
        Err(InboxError::Refused(_))
    ));
}

/// Pending by default; `all` adds answered (duplicate) and not-invited items.
#[test]
fn pending_hides_answered_and_all_shows_them() {
    let m = me();
    let env = m.env();
    let src = MemorySource::new();
    let answered = M {
        uid: "answered",
        ..M::default()
    };
    src.add("/m/answered", &answered.bytes());
    src.add("/m/new", &M::default().bytes());
    let not_me = String::from_utf8(
        M {
            uid: "notme",
            ..M::default()
        }
        .bytes(),
    )
    .unwrap()
    .replace("mailto:me@x.example", "mailto:someone@x.example");
    src.add("/m/notme", not_me.as_bytes());
    let req = ResponseRequest {
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        dry_run: false,
        resend: false,
        no_send: false,
    };
    inbox::respond(&env, &answered.bytes(), &req).unwrap();

    let items = pending(&m, &src);
    // Issue 7: not invited is listed with the pending ones, saying where
    // it was sent, so the user can add that address.
    assert_eq!(uids(&items), vec!["u1", "notme"]);
    let hint = &items[1].warnings;
    assert!(
        hint.iter()
            .any(|w| w == "not invited (sent to me@x.example — add it to [identity] addresses?)"),
        "{hint:?}"
    );
    let all = everything(&m, &src);
    assert_eq!(all.len(), 3);
    // Pending first.
    assert_eq!(all[0].uid, "u1");
    let a = all.iter().find(|i| i.uid == "answered").unwrap();
    assert_eq!(a.status, Status::Duplicate);
    assert_eq!(a.partstat, Some(PartStat::Accepted));
    assert!(!a.pending);
    let n = all.iter().find(|i| i.uid == "notme").unwrap();
    assert_eq!(n.status, Status::NotInvited);
    assert!(!n.pending);
}

/// A dismissed message (`x` in the inbox tags it rsvp/dismissed) is no
/// longer pending, also in a later session; `--all` still shows it.
#[test]
fn dismissed_message_is_not_pending() {
    let m = me();
    let src = MemorySource::new();
    let c = src.add("/m/new", &M::default().bytes());
    assert_eq!(uids(&pending(&m, &src)), vec!["u1"]);
    src.tag(&c, &["rsvp/dismissed"], &["rsvp/pending"]).unwrap();
    assert!(pending(&m, &src).is_empty());
    assert_eq!(everything(&m, &src).len(), 1);
}

/// Events whose last occurrence ended before now are hidden by default.
#[test]
fn past_events_hidden_unless_all() {
    let m = me(); // now = 2025-01-02T12:00Z
    let src = MemorySource::new();
    let past = M {
        uid: "past",
        start: "DTSTART:20241231T080000Z".into(),
        end: "DTEND:20241231T090000Z".into(),
        ..M::default()
    };
    let ended_series = M {
        uid: "ended-series",
        start: "DTSTART:20241201T080000Z".into(),
        end: "DTEND:20241201T090000Z".into(),
        extra: "RRULE:FREQ=WEEKLY;COUNT=3\r\n".into(),
        ..M::default()
    };
    let running_series = M {
        uid: "running-series",
        start: "DTSTART:20200106T080000Z".into(),
        end: "DTEND:20200106T090000Z".into(),
        extra: "RRULE:FREQ=WEEKLY\r\n".into(),
        ..M::default()
    };
    let ongoing = M {
        uid: "ongoing",
        start: "DTSTART:20250102T110000Z".into(),
        end: "DTEND:20250102T130000Z".into(),
        ..M::default()
    };
    for (p, msg) in [
        ("/m/1", &past),
        ("/m/2", &ended_series),
        ("/m/3", &running_series),
        ("/m/4", &ongoing),
    ] {
        src.add(p, &msg.bytes());
    }
    let items = pending(&m, &src);
    assert_eq!(uids(&items), vec!["running-series", "ongoing"]);
    assert!(items[0].recurring);
    let all = everything(&m, &src);
    assert_eq!(all.len(), 4);
    let past_item = all.iter().find(|i| i.uid == "past").unwrap();
    assert!(past_item.past && past_item.pending);
    assert!(all.iter().find(|i| i.uid == "ended-series").unwrap().past);
    assert!(!all.iter().find(|i| i.uid == "running-series").unwrap().past);
}

/// Pending first, then by start; start text is in the user's zone.
#[test]
fn sorted_pending_first_then_by_start_with_local_text() {
    let m = me();
    let src = MemorySource::new();
    let late = M {
        uid: "late",
        start: "DTSTART:20250301T080000Z".into(),
        end: "DTEND:20250301T090000Z".into(),
        ..M::default()
    };
    let early = M {
        uid: "early",
        start: "DTSTART;TZID=Europe/Berlin:20250201T090000".into(),
        end: "DTEND;TZID=Europe/Berlin:20250201T100000".into(),
        ..M::default()
    };
    let allday = M {
        uid: "allday",
        start: "DTSTART;VALUE=DATE:20250215".into(),
        end: "DTEND;VALUE=DATE:20250216".into(),
        ..M::default()
    };
    let reply = M {
        uid: "reply",
        method: "REPLY",
        start: "DTSTART:20250105T080000Z".into(),
        end: "DTEND:20250105T090000Z".into(),
        ..M::default()
    };
    src.add("/m/late", &late.bytes());
    src.add("/m/early", &early.bytes());
    src.add("/m/allday", &allday.bytes());
    src.add("/m/reply", &reply.bytes());
    let all = everything(&m, &src);
    assert_eq!(uids(&all), vec!["early", "allday", "late", "reply"]);
    assert_eq!(all[0].start_text, "Sat 2025-02-01 09:00");
    assert_eq!(
        all[0].start.map(|t| t.to_rfc3339()).as_deref(),
        Some("2025-02-01T08:00:00+00:00")
    );
    assert!(all[1].all_day);
    assert_eq!(all[1].start_text, "Sat 2025-02-15 all day");
    assert_eq!(all[2].start_text, "Sat 2025-03-01 09:00");
    assert_eq!(all[3].status, Status::Reply);
    assert!(!all[3].pending);
}

/// T59 (R9.2): an unknown sender with a new UID is marked untrusted, and
/// listing adds nothing to the calendar.
#[test]
fn t59_untrusted_sender_with_new_uid() {
    let m = me();
    let src = MemorySource::new();
    let stranger = M {
        uid: "from-stranger",
        from: "stranger@spam.example",
        organizer: "stranger@spam.example",
        ..M::default()
    };
    let friend = M {
        uid: "from-friend",
        from: "Friend@Known.example",
        organizer: "friend@known.example",
        ..M::default()
    };
    // Known UID: an update of an event already in the calendar.
    let known = M {
        uid: "known-uid",
        from: "other@spam.example",
        organizer: "other@spam.example",
        ..M::default()
    };
    m.store.insert("known.ics", &known.stored("ACCEPTED"));
    let known_update = M {
        seq: 1,
        summary: "Renamed",
        ..known.clone()
    };
    src.add("/m/s", &stranger.bytes());
    src.add("/m/f", &friend.bytes());
    src.add("/m/k", &known_update.bytes());
    let env = m.env();
    let contacts = ["friend@known.example"];
    let trusted = |a: &str| contacts.contains(&a);
    let opts = ListOptions {
        trusted: &trusted,
        ..ListOptions::everything()
    };
    let items = inbox::list(&env, &src, &mut ParseCache::new(), opts).unwrap();
    let get = |uid: &str| items.iter().find(|i| i.uid == uid).unwrap();
    let s = get("from-stranger");
    assert_eq!(s.flags, vec![Flag::Untrusted]);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("stranger@spam.example is not in your contacts")),
        "{:?}",
        s.warnings
    );
    assert_eq!(s.sender.as_deref(), Some("stranger@spam.example"));
    assert!(get("from-friend").flags.is_empty());
    assert!(
        get("known-uid").flags.is_empty(),
        "UID already in the calendar"
    );
    // Nothing was stored by listing (T59: no change without user action).
    assert_eq!(m.store.list().unwrap().len(), 1);
    // Without a contacts list nobody is marked.
    let items = everything(&m, &src);
    assert!(items.iter().all(|i| i.flags.is_empty()));
}

/// R9.1: From is not the organizer; R3.2: the organizer changed.
#[test]
fn sender_not_organizer_and_organizer_changed_are_flagged() {
    let m = me();
    let src = MemorySource::new();
    let spoof = M {
        uid: "spoof",
        from: "mallory@evil.example",
        organizer: "ceo@x.example",
        ..M::default()
    };
    let stored = M {
        uid: "hijack",
        ..M::default()
    };
    m.store.insert("hijack.ics", &stored.stored("ACCEPTED"));
    let hijack = M {
        uid: "hijack",
        seq: 1,
        from: "new@evil.example",
        organizer: "new@evil.example",
        ..M::default()
    };
    src.add("/m/spoof", &spoof.bytes());
    src.add("/m/hijack", &hijack.bytes());
    let items = everything(&m, &src);
    let spoofed = items.iter().find(|i| i.uid == "spoof").unwrap();
    assert_eq!(spoofed.flags, vec![Flag::SenderNotOrganizer]);
    assert!(
        spoofed
            .warnings
            .iter()
            .any(|w| w.contains("mallory@evil.example is not the organizer"))
    );
    let h = items.iter().find(|i| i.uid == "hijack").unwrap();
    assert_eq!(h.status, Status::OrganizerChanged);
    assert!(h.flags.contains(&Flag::OrganizerChanged), "{:?}", h.flags);
    assert!(!h.pending, "an organizer change is refused, not pending");
    assert_eq!(
        h.organizer_display.as_deref(),
        Some("Org <new@evil.example>")
    );
}

/// T55 (R9.5): item text is terminal-safe.
#[test]
fn t55_item_text_is_terminal_safe() {
    let m = me();
    let src = MemorySource::new();
    let hostile = M {
        summary: "Pay \u{1b}[2J now \u{9b}31m \u{202e}yap",
        ..M::default()
    };
    src.add("/m/h", &hostile.bytes());
    let items = everything(&m, &src);
    let s = &items[0].summary;
    assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
    assert!(!s.contains('\u{202e}'), "{s:?}");
    assert!(s.starts_with("Pay "), "{s:?}");
}

fn busy_event(uid: &str, start: &str, end: &str, extra: &str, partstat: &str) -> Vec<u8> {
    M {
        uid: Box::leak(uid.to_string().into_boxed_str()),
        summary: "Busy",
        start: start.into(),
        end: end.into(),
        extra: extra.into(),
        ..M::default()
    }
    .stored(partstat)
}

/// Overlaps with busy events; cancelled, transparent, declined and the
/// item's own stored copy do not count.
#[test]
fn conflicts_ignore_free_declined_cancelled_and_self() {
    let m = me();
    let (s, e) = ("DTSTART:20250110T083000Z", "DTEND:20250110T100000Z");
    m.store
        .insert("busy.ics", &busy_event("busy", s, e, "", "ACCEPTED"));
    m.store.insert(
        "cancelled.ics",
        &busy_event("cancelled", s, e, "STATUS:CANCELLED\r\n", "ACCEPTED"),
    );
    m.store.insert(
        "free.ics",
        &busy_event("free", s, e, "TRANSP:TRANSPARENT\r\n", "ACCEPTED"),
    );
    m.store.insert(
        "declined.ics",
        &busy_event("declined", s, e, "", "DECLINED"),
    );
    m.store.insert(
        "touching.ics",
        &busy_event(
            "touching",
            "DTSTART:20250110T090000Z",
            "DTEND:20250110T093000Z",
            "",
            "ACCEPTED",
        ),
    );
    // The item's own stored copy (an update) is not a conflict.
    m.store.insert("u1.ics", &M::default().stored("ACCEPTED"));
    let src = MemorySource::new();
    src.add(
        "/m/update",
        &M {
            seq: 1,
            stamp: "20250101T110000Z",
            ..M::default()
        }
        .bytes(),
    );
    let items = everything(&m, &src);
    let c: Vec<&str> = items[0].conflicts.iter().map(|c| c.uid.as_str()).collect();
    assert_eq!(c, vec!["busy"]);
    assert_eq!(items[0].conflicts[0].summary, "Busy");
    assert_eq!(
        items[0].conflicts[0].start.to_rfc3339(),
        "2025-01-10T08:30:00+00:00"
    );
}

/// A weekly stored series overlaps a single invitation; a daily invitation
/// overlaps a single stored event (recurrence expansion, R9.7).
#[test]
fn conflicts_with_recurring_events() {
    let m = me();
    // Mondays 10:00-11:00 Berlin since June 2024, no end.
    m.store.insert(
        "weekly.ics",
        &busy_event(
            "weekly",
            "DTSTART;TZID=Europe/Berlin:20240603T100000",
            "DTEND;TZID=Europe/Berlin:20240603T110000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO\r\n",
            "ACCEPTED",
        ),
    );
    m.store.insert(
        "dentist.ics",
        &busy_event(
            "dentist",
            "DTSTART:20250122T073000Z",
            "DTEND:20250122T083000Z",
            "",
            "ACCEPTED",
        ),
    );
    let src = MemorySource::new();
    let single = M {
        uid: "single",
        start: "DTSTART;TZID=Europe/Berlin:20250113T103000".into(),
        end: "DTEND;TZID=Europe/Berlin:20250113T113000".into(),
        ..M::default()
    };
    let daily = M {
        uid: "daily",
        start: "DTSTART:20250120T080000Z".into(),
        end: "DTEND:20250120T081500Z".into(),
        extra: "RRULE:FREQ=DAILY;COUNT=5\r\n".into(),
        ..M::default()
    };
    src.add("/m/single", &single.bytes());
    src.add("/m/daily", &daily.bytes());
    let items = everything(&m, &src);
    let single = items.iter().find(|i| i.uid == "single").unwrap();
    assert_eq!(single.conflicts.len(), 1, "{:?}", single.conflicts);
    assert_eq!(single.conflicts[0].uid, "weekly");
    assert_eq!(
        single.conflicts[0].start.to_rfc3339(),
        "2025-01-13T09:00:00+00:00"
    );
    let daily = items.iter().find(|i| i.uid == "daily").unwrap();
    assert!(daily.recurring);
    let c: Vec<String> = daily
        .conflicts
        .iter()
        .map(|c| format!("{} {}", c.uid, c.start.to_rfc3339()))
        .collect();
    // 2025-01-20 is a Monday: 08:00Z is 09:00 Berlin, not inside 10-11.
    assert_eq!(c, vec!["dentist 2025-01-22T07:30:00+00:00"]);
}

/// T58 (R9.7): an endless SECONDLY invitation and a MINUTELY bomb in the
/// calendar are expanded with a cap, flagged, and listing stays quick.
#[test]
fn t58_rrule_bomb_is_capped_and_flagged() {
    let m = me();
    m.store.insert(
        "bomb.ics",
        &busy_event(
            "calendar-bomb",
            "DTSTART:20250106T000000Z",
            "DTEND:20250106T000100Z",
            "RRULE:FREQ=MINUTELY;COUNT=100000000\r\n",
            "ACCEPTED",
        ),
    );
    m.store.insert(
        "coffee.ics",
        &busy_event(
            "coffee",
            "DTSTART:20250106T081000Z",
            "DTEND:20250106T082000Z",
            "",
            "ACCEPTED",
        ),
    );
    let src = MemorySource::new();
    let bomb = M {
        uid: "bomb",
        start: "DTSTART:20250106T080000Z".into(),
        end: "DTEND:20250106T080001Z".into(),
        extra: "RRULE:FREQ=SECONDLY\r\n".into(),
        ..M::default()
    };
    src.add("/m/bomb", &bomb.bytes());
    let started = std::time::Instant::now();
    let items = everything(&m, &src);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let b = &items[0];
    assert!(b.flags.contains(&Flag::RecurrenceCapped), "{:?}", b.flags);
    assert!(
        b.warnings.iter().any(|w| w.contains("every second")),
        "{:?}",
        b.warnings
    );
    assert!(!b.past, "a capped series has no known end");
    assert!(b.conflicts.len() <= inbox::list::MAX_CONFLICTS);
    let c: Vec<&str> = b.conflicts.iter().map(|c| c.uid.as_str()).collect();
    assert!(c.contains(&"coffee"), "{c:?}");
    // The calendar bomb is cut at MAX_EXPANSION minutes (~2.4 days from its
    // start), so it cannot flood the conflicts of a later invitation.
    src.add(
        "/m/later",
        &M {
            uid: "later",
            start: "DTSTART:20250120T080000Z".into(),
            end: "DTEND:20250120T090000Z".into(),
            ..M::default()
        }
        .bytes(),
    );
    let items = everything(&m, &src);
    let later = items.iter().find(|i| i.uid == "later").unwrap();
    assert!(later.conflicts.is_empty(), "{:?}", later.conflicts);
}

/// A source that counts candidate scans and can report a locked index.
struct Locked;

impl InviteSource for Locked {
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError> {
        Err(SourceError::Locked("/mail/.notmuch".into()))
    }
    fn read(&self, _: &Candidate) -> Result<Vec<u8>, SourceError> {
        unreachable!("no candidates")
    }
    fn tag(&self, _: &Candidate, _: &[&str], _: &[&str]) -> Result<(), SourceError> {
        Ok(())
    }
}

#[test]
fn locked_source_is_reported_as_such() {
    let m = me();
    let env = m.env();
    let e = inbox::list(
        &env,
        &Locked,
        &mut ParseCache::new(),
        ListOptions::pending(),
    )
    .unwrap_err();
    assert!(
        matches!(e, InboxError::Source(SourceError::Locked(_))),
        "{e:?}"
    );
}

/// The cache re-reads only new and changed files; vanished ones are dropped;
/// non-invitations are remembered too.
#[test]
fn cache_rereads_only_changed_files() {
    let m = me();
    let env = m.env();
    let src = MemorySource::new();
    src.add("/m/a", &M::default().bytes());
    src.add(
        "/m/b",
        &M {
            uid: "u2",
            ..M::default()
        }
        .bytes(),
    );
    src.add(
        "/m/plain",
        b"From: a@x.example\r\nSubject: hi\r\n\r\nno calendar",
    );
    let mut cache = ParseCache::new();
    let list =
        |cache: &mut ParseCache| inbox::list(&env, &src, cache, ListOptions::everything()).unwrap();
    assert_eq!(list(&mut cache).len(), 2);
    assert_eq!(src.reads(), 3);
    assert_eq!(cache.reads(), 3);
    assert_eq!(cache.len(), 3);
    assert_eq!(list(&mut cache).len(), 2);
    assert_eq!(src.reads(), 3, "nothing changed, nothing read");
    // Change one file (new mtime): only it is read again.
    src.add(
        "/m/b",
        &M {
            uid: "u2",
            summary: "Changed",
            ..M::default()
        }
        .bytes(),
    );
    let items = list(&mut cache);
    assert_eq!(src.reads(), 4);
    assert_eq!(
        items.iter().find(|i| i.uid == "u2").unwrap().summary,
        "Changed"
    );
    // A new file is read; a removed one leaves the cache.
    src.add(
        "/m/c",
        &M {
            uid: "u3",
            ..M::default()
        }
        .bytes(),
    );
    assert!(src.remove("/m/a"));
    let items = list(&mut cache);
    assert_eq!(src.reads(), 5);
    assert_eq!(uids(&items), vec!["u2", "u3"]);
    assert_eq!(cache.len(), 3);
    // The calendar changing is seen without re-reading messages.
    m.store.insert(
        "u2.ics",
        &M {
            uid: "u2",
            summary: "Changed",
            ..M::default()
        }
        .stored("NEEDS-ACTION"),
    );
    let items = list(&mut cache);
    assert_eq!(src.reads(), 5);
    assert_eq!(
        items.iter().find(|i| i.uid == "u2").unwrap().status,
        Status::Duplicate
    );
    cache.clear();
    list(&mut cache);
    assert_eq!(src.reads(), 8);
}

/// A message with broken calendar data is an `invalid` item (only in --all).
#[test]
fn invalid_calendar_is_listed_only_with_all() {
    let m = me();
    let src = MemorySource::new();
    src.add(
        "/m/bad",
        b"From: a@x.example\r\nSubject: Broken invite\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
    );
    assert!(pending(&m, &src).is_empty());
    let all = everything(&m, &src);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, Status::Invalid);
    assert_eq!(all[0].uid, "");
    assert!(!all[0].warnings.is_empty());
    // Issue 9: it says what it is: subject, sender and file.
    assert_eq!(all[0].summary, "Broken invite");
    assert_eq!(all[0].sender.as_deref(), Some("a@x.example"));
    let line = rsvp::cli::list::item_line(&all[0]);
    assert!(line.contains("Broken invite"), "{line}");
    assert!(line.ends_with("from a@x.example (/m/bad)"), "{line}");
}

/// A message given on the command line (`Inbox::adhoc`) is the same item
/// as the listing makes of it: one read model.
#[test]
fn a_given_message_is_the_same_item_as_the_listed_one() {
    let m = me();
    let src = MemorySource::new();
    let msg = M {
        from: "x@y.example",
        ..M::default()
    };
    src.add("/m/x", &msg.bytes());
    let mut session = m.inbox(None);
    let item = session.adhoc(msg.bytes(), "/m/x").unwrap();
    let listed = everything(&m, &src);
    assert_eq!(item.uid, listed[0].uid);
    assert_eq!(item.status, listed[0].status);
    assert_eq!(item.start, listed[0].start);
    assert!(item.flags.contains(&Flag::SenderNotOrganizer));
    assert_eq!(item.flags, listed[0].flags);
    assert_eq!(item.warnings, listed[0].warnings);
}

/// Realistic fixtures (Google, Outlook with a Windows zone and an update,
/// Apple CANCEL, Thunderbird series, a hostile spoof, a plain mail).
#[test]
fn fixture_directory_through_memory_source() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/list");
    let src = MemorySource::from_dir(&dir).unwrap();
    assert_eq!(src.candidates().unwrap().len(), 7);
    let m = me();
    let items = everything(&m, &src);
    let st: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i.status.as_str(), i.summary.as_str()))
        .collect();
    assert_eq!(items.len(), 5, "{st:?}");
    let outlook = items
        .iter()
        .find(|i| i.uid.starts_with("040000008200E00074C5B7101A82E008"))
        .unwrap();
    assert_eq!(outlook.superseded, 1);
    assert!(outlook.message.path.ends_with("outlook-update.eml"));
    // W. Europe Standard Time 15:00 in February is 14:00 UTC.
    assert_eq!(
        outlook.start.map(|t| t.to_rfc3339()).as_deref(),
        Some("2031-02-05T14:00:00+00:00")
    );
    let tb = items.iter().find(|i| i.summary == "Weekly sync").unwrap();
    assert!(tb.recurring);
    let cancel = items
        .iter()
        .find(|i| matches!(i.status, Status::Cancel(_)))
        .unwrap();
    assert!(cancel.pending && cancel.all_day);
    let hostile = items
        .iter()
        .find(|i| i.uid == "../../.ssh/authorized_keys")
        .unwrap();
    assert!(hostile.flags.contains(&Flag::SenderNotOrganizer));
    assert!(!hostile.summary.contains('\u{1b}'));
    // Tags are recorded by the memory source.
    src.tag(&cancel.message, &["rsvp/applied"], &["rsvp/pending"])
        .unwrap();
    assert_eq!(src.tags(&cancel.message.path), vec!["rsvp/applied"]);
}

/// Issue 9: a second calendar's events are busy times: an overlap with one
/// is a conflict, and its files are indexed once, then kept by identity.
#[test]
fn busy_calendars_give_conflicts_and_are_indexed_once() {
    let m = me();
    let other: Box<dyn rsvp::domain::ports::CalendarStore> = Box::new(m.other.clone());
    let busy = [other];
    let env = inbox::Env {
        busy_calendars: &busy,
        ..m.env()
    };
    let src = MemorySource::new();
    src.add("/m/a", &M::default().bytes());
    let invite = inbox::list(
        &env,
        &src,
        &mut ParseCache::new(),
        ListOptions::everything(),
    )
    .unwrap()
    .remove(0);
    let start = invite.start.expect("a start");
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    m.other.insert(
        "gym.ics",
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:gym@home\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Gym\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            at(start),
            at(start + chrono::Duration::minutes(30))
        )
        .as_bytes(),
    );
    let mut cache = ParseCache::new();
    let items = inbox::list(&env, &src, &mut cache, ListOptions::everything()).unwrap();
    let conflicts: Vec<&str> = items[0]
        .conflicts
        .iter()
        .map(|c| c.summary.as_str())
        .collect();
    assert_eq!(conflicts, ["Gym"]);
    let agenda = items[0].agenda.as_ref().expect("an agenda");
    assert!(
        agenda
            .events
            .iter()
            .any(|e| e.summary == "Gym" && e.overlaps)
    );
    let reads = cache.calendar_reads();
    assert_eq!(reads, 1, "the one file of the second calendar");
    let _ = inbox::list(&env, &src, &mut cache, ListOptions::everything()).unwrap();
    assert_eq!(
        cache.calendar_reads(),
        reads,
        "unchanged files are not read again"
    );
}

/// Issue 7: iCloud sends from noreply@email.apple.com with
/// `ORGANIZER;EMAIL=person@icloud.com:mailto:2_…@imip.me.com`. The EMAIL=
/// address is shown and counts for the contacts check; the reply still
/// goes to the ORGANIZER value, in its own case.
#[test]
fn icloud_organizer_email_param_is_shown_and_trusted_and_replies_go_to_the_relay() {
    let m = me();
    let env = m.env();
    let src = MemorySource::new();
    let msg = String::from_utf8(
        M {
            from: "noreply@email.apple.com",
            uid: "icloud-1",
            ..M::default()
        }
        .bytes(),
    )
    .unwrap()
    .replace(
        "ORGANIZER;CN=Org:mailto:org@x.example",
        "ORGANIZER;CN=Org;EMAIL=person@icloud.example:mailto:2_GEZDGMBXGI2TC@imip.me.com",
    );
    src.add("/m/icloud", msg.as_bytes());
    let contacts = |a: &str| a == "person@icloud.example";
    let items = inbox::list(
        &env,
        &src,
        &mut ParseCache::new(),
        ListOptions {
            trusted: &contacts,
            ..ListOptions::everything()
        },
    )
    .unwrap();
    let item = &items[0];
    assert!(!item.flags.contains(&Flag::Untrusted), "{:?}", item.flags);
    assert_eq!(
        item.organizer_display.as_deref(),
        Some("Org <person@icloud.example>")
    );
    assert_eq!(
        item.organizer_address.as_deref(),
        Some("person@icloud.example")
    );
    let req = ResponseRequest {
        partstat: PartStat::Accepted,
        comment: None,
        instance: None,
        dry_run: true,
        resend: false,
        no_send: false,
    };
    let done = inbox::respond(&env, msg.as_bytes(), &req).unwrap();
    assert_eq!(done.envelope.to, ["2_GEZDGMBXGI2TC@imip.me.com"]);
}

/// `Inbox::item`: an item by key, as it is now, for a listed message and
/// for one given on the command line (which keeps the name it was given).
#[test]
fn an_item_by_key_is_the_current_one_for_both_origins() {
    let m = me();
    let src = std::sync::Arc::new(MemorySource::new());
    src.add("/m/x", &M::default().bytes());
    let mut session = m.inbox(Some(src.clone()));
    let listed = session.list(true).unwrap().items;
    assert_eq!(listed.len(), 1);
    let again = session.item(&listed[0].key).unwrap();
    assert_eq!(again.uid, listed[0].uid);
    assert_eq!(again.path, "/m/x");

    let given = session.adhoc(M::default().bytes(), "/tmp/inv.eml").unwrap();
    let again = session.item(&given.key).unwrap();
    assert_eq!(again.key, given.key);
    assert_eq!(again.path, "/tmp/inv.eml", "the name it was given by");

    assert!(matches!(
        session.item("no-such-key"),
        Err(InboxError::Refused(_))
    ));
}

/// Issue 6: the calendar index reads a calendar file only when its
/// identity changed, never once per invitation or per listing.
#[test]
fn the_calendar_index_reads_only_changed_calendar_files() {
    let m = me();
    let env = m.env();
    let src = MemorySource::new();
    for uid in ["u1", "u2", "u3"] {
        src.add(
            &format!("/m/{uid}"),
            &M {
                uid,
                ..M::default()
            }
            .bytes(),
        );
    }
    let event = |summary: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:busy\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250110T080000Z\r\nDTEND:20250110T090000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    m.store.insert("busy.ics", event("One").as_bytes());
    m.store.insert(
        "other.ics",
        event("Two").replace("UID:busy", "UID:other").as_bytes(),
    );
    let mut cache = ParseCache::new();
    let list =
        |cache: &mut ParseCache| inbox::list(&env, &src, cache, ListOptions::everything()).unwrap();
    let items = list(&mut cache);
    assert_eq!(items.len(), 3);
    assert_eq!(
        cache.calendar_reads(),
        2,
        "each calendar file once, not per invitation"
    );
    assert_eq!(items[0].conflicts.len(), 2);
    list(&mut cache);
    assert_eq!(cache.calendar_reads(), 2, "nothing changed, nothing read");
    m.store
        .insert("busy.ics", event("One, moved room").as_bytes());
    let items = list(&mut cache);
    assert_eq!(cache.calendar_reads(), 3, "only the changed file is read");
    assert!(
        items[0]
            .conflicts
            .iter()
            .any(|c| c.summary == "One, moved room")
    );
}

/// A source whose index is locked until `unlock`.
struct LockedUntil {
    inner: MemorySource,
    locked: std::cell::Cell<bool>,
}

impl InviteSource for LockedUntil {
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError> {
        if self.locked.get() {
            return Err(SourceError::Locked("/mail/.notmuch".into()));
        }
        self.inner.candidates()
    }
    fn read(&self, c: &Candidate) -> Result<Vec<u8>, SourceError> {
        self.inner.read(c)
    }
    fn tag(&self, c: &Candidate, add: &[&str], remove: &[&str]) -> Result<(), SourceError> {
        self.inner.tag(c, add, remove)
    }
}

/// Issue 6: a first listing indexes the calendar on a thread of its own
/// while the mail index is asked. When the mail index fails, what was
/// indexed meanwhile is kept: the next listing reads no calendar file
/// again, and its items are the same as from a fresh cache.
#[test]
fn a_first_listing_keeps_the_calendar_it_indexed_when_the_mail_index_fails() {
    let m = me();
    let env = m.env();
    let src = LockedUntil {
        inner: MemorySource::new(),
        locked: std::cell::Cell::new(true),
    };
    src.inner.add("/m/u1", &M::default().bytes());
    m.store.insert(
        "busy.ics",
        &busy_event(
            "busy",
            "DTSTART:20250110T083000Z",
            "DTEND:20250110T093000Z",
            "",
            "ACCEPTED",
        ),
    );
    let mut cache = ParseCache::new();
    let e = inbox::list(&env, &src, &mut cache, ListOptions::everything()).unwrap_err();
    assert!(
        matches!(e, InboxError::Source(SourceError::Locked(_))),
        "{e:?}"
    );
    assert_eq!(
        cache.calendar_reads(),
        1,
        "indexed while the index answered"
    );
    src.locked.set(false);
    let items = inbox::list(&env, &src, &mut cache, ListOptions::everything()).unwrap();
    assert_eq!(cache.calendar_reads(), 1, "not read again");
    let fresh = everything(&m, &src.inner);
    assert_eq!(uids(&items), vec!["u1"]);
    assert_eq!(uids(&fresh), vec!["u1"]);
    let conflicts = |i: &[Item]| {
        i.iter()
            .flat_map(|i| i.conflicts.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(conflicts(&items).len(), 1, "the busy event, indexed early");
    assert_eq!(conflicts(&items), conflicts(&fresh));
}
