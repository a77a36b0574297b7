//! The commonest stored object, read without the full parser: one VEVENT
//! that does not repeat, with a UID, a SUMMARY, and a DTSTART and a DTEND
//! written in one form, in a calendar that may also hold time zones and
//! alarms. A first listing reads every file of the calendar for its UIDs
//! and busy times ([`super::index_stored`]); most files have this shape,
//! and the full reading (unfolding and charset decoding, calcard's parser,
//! the invite split, the expansion) costs far more than this one pass.
//!
//! Lines are unfolded as the full reading unfolds them; attendees and the
//! organizer may be there (quoted parameters included): an attendee frees
//! me only when it is me and has declined, so an event in which no
//! attendee line says "declined" is busy whoever the attendees are.
//!
//! The answer is the full reading's answer, or none. Anything outside the
//! narrow grammar below gives `None` and the caller reads the file fully:
//! parameters that are not plainly `;NAME=value[,value]` (a quoted value
//! without quotes, `\` or `^` inside, a bare one without `";:,=\^`)
//! ending in the `:` of their line, an escape other than `\n \N \, \; \\`,
//! a control character, parameters or an escape on UID, SUMMARY, STATUS
//! or TRANSP, a recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID), a
//! DURATION, an attendee line with "declined" in it, or more than
//! [`MAX_PLAIN_ATTENDEES`], a METHOD, a second event or any other
//! component, a STATUS or TRANSP value spelled otherwise than in RFC 5545,
//! a wall-clock time in a daylight-saving gap or overlap, a TZID that the
//! readers could resolve differently ([`tz::agreed_zone`]), a year outside
//! 1900–2200, or a file over [`MAX_PLAIN_BYTES`].
//!
//! The tests compare both readings on the corpus and on variants of every
//! shape; the fuzz target `calendar_index` compares them on arbitrary
//! input.

use crate::domain::tz;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use std::borrow::Cow;

/// Larger files are read fully.
pub const MAX_PLAIN_BYTES: usize = 64 * 1024;

/// What the full reading would find in a plain event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain<'a> {
    pub uid: Cow<'a, str>,
    /// As written (no escape in it), not yet made terminal-safe.
    pub summary: Cow<'a, str>,
    /// The one occurrence, start to end (an end before the start is the
    /// start); `None` when the event leaves me free (cancelled,
    /// transparent).
    pub busy: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// How a DTSTART or DTEND is written (a TZID as the zone every reader
/// agrees it names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Utc,
    Zoned(Tz),
    Floating,
    Date,
}

#[derive(Debug, Clone, Copy)]
struct When {
    form: Form,
    at: NaiveDateTime,
}

/// Where a line stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Outside,
    Calendar,
    Timezone,
    Observance,
    Event,
    Alarm,
    /// After END:VCALENDAR: only empty lines may follow.
    Done,
}

impl Level {
    fn parent(self) -> Level {
        match self {
            Level::Calendar | Level::Outside | Level::Done => Level::Done,
            Level::Timezone | Level::Event => Level::Calendar,
            Level::Observance => Level::Timezone,
            Level::Alarm => Level::Event,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Calendar => "VCALENDAR",
            Level::Timezone => "VTIMEZONE",
            Level::Event => "VEVENT",
            Level::Alarm => "VALARM",
            Level::Observance | Level::Outside | Level::Done => "",
        }
    }
}

/// The event properties read here.
#[derive(Default)]
struct Found<'a> {
    events: u32,
    attendees: usize,
    uid: Option<Cow<'a, str>>,
    summary: Option<Cow<'a, str>>,
    start: Option<When>,
    end: Option<When>,
    cancelled: Option<bool>,
    transparent: Option<bool>,
}

/// `raw` read as a plain event (see the module docs), or `None`: then only
/// the full reading can say. Floating times and dates are read in `local`.
pub fn read(raw: &[u8], local: Tz) -> Option<Plain<'_>> {
    if raw.len() > MAX_PLAIN_BYTES {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    let mut level = Level::Outside;
    let mut observance = "";
    let mut found = Found::default();
    for line in logical_lines(text)? {
        if level == Level::Done {
            if line.is_empty() {
                continue;
            }
            return None;
        }
        let split = line.bytes().position(|b| b == b';' || b == b':')?;
        let (name, rest) = line.split_at(split);
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return None;
        }
        match name {
            "BEGIN" => {
                let what = rest.strip_prefix(':')?;
                level = match (level, what) {
                    (Level::Outside, "VCALENDAR") => Level::Calendar,
                    (Level::Calendar, "VTIMEZONE") => Level::Timezone,
                    (Level::Calendar, "VEVENT") => {
                        found.events += 1;
                        Level::Event
                    }
                    (Level::Timezone, "STANDARD" | "DAYLIGHT") => {
                        observance = if what == "STANDARD" {
                            "STANDARD"
                        } else {
                            "DAYLIGHT"
                        };
                        Level::Observance
                    }
                    (Level::Event, "VALARM") => Level::Alarm,
                    _ => return None,
                };
            }
            "END" => {
                let what = rest.strip_prefix(':')?;
                let closes = match level {
                    Level::Observance => observance,
                    other => other.name(),
                };
                if closes.is_empty() || what != closes {
                    return None;
                }
                level = level.parent();
            }
            _ => {
                let value = rest.get(params_end(rest)? + 1..)?;
                if !clean(value) {
                    return None;
                }
                match level {
                    Level::Outside | Level::Done => return None,
                    Level::Calendar if name == "METHOD" => return None,
                    Level::Event => event_property(name, &line, &mut found)?,
                    _ => {}
                }
            }
        }
    }
    if level != Level::Done || found.events != 1 {
        return None;
    }
    let (start, end) = (found.start?, found.end?);
    match (start.form, end.form) {
        (a, b) if a == b => {}
        _ => return None,
    }
    let instant = |w: When| match w.form {
        Form::Utc => Some(w.at.and_utc()),
        Form::Zoned(zone) => tz::single_instant(zone, w.at),
        Form::Floating | Form::Date => tz::local_to_utc(local, w.at),
    };
    let (start, end) = (instant(start)?, instant(end)?);
    let free = found.cancelled == Some(true) || found.transparent == Some(true);
    Some(Plain {
        uid: found.uid?,
        summary: found.summary?,
        busy: (!free).then_some((start, end.max(start))),
    })
}

/// The file's logical lines, without their line ends: a line that starts
/// with a space or a tab continues the one before it, as
/// [`crate::domain::extract::unfold_bytes`] joins them for the full
/// reading. `None` when the file starts with a continuation.
fn logical_lines(text: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut out: Vec<Cow<'_, str>> = Vec::with_capacity(64);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match line.strip_prefix([' ', '\t']) {
            Some(more) => out.last_mut()?.to_mut().push_str(more),
            None => out.push(Cow::Borrowed(line)),
        }
    }
    Some(out)
}

/// Most attendees an event read here may have (the full reading refuses
/// a component with more than [`crate::domain::ical::MAX_ATTENDEES`]).
pub const MAX_PLAIN_ATTENDEES: usize = 200;

/// Read one property of the event (`line`, whole) into `found`; `None`
/// when only the full reading can say.
#[allow(clippy::ptr_arg)] // the Cow says whether a value can stay borrowed from the file
fn event_property<'a>(name: &str, line: &Cow<'a, str>, found: &mut Found<'a>) -> Option<()> {
    let rest = line.get(name.len()..)?;
    match name {
        "UID" => {
            bare_value(rest)?;
            set(&mut found.uid, value_of(line, name.len() + 1)?)?;
        }
        "SUMMARY" => {
            if bare_value(rest)?.contains([',', ';']) {
                return None;
            }
            set(&mut found.summary, value_of(line, name.len() + 1)?)?;
        }
        "DTSTART" => set(&mut found.start, when(rest)?)?,
        "DTEND" => set(&mut found.end, when(rest)?)?,
        "STATUS" => {
            let cancelled = match rest.strip_prefix(':')? {
                "CONFIRMED" | "TENTATIVE" => false,
                "CANCELLED" => true,
                _ => return None,
            };
            set(&mut found.cancelled, cancelled)?;
        }
        "TRANSP" => {
            let transparent = match rest.strip_prefix(':')? {
                "OPAQUE" => false,
                "TRANSPARENT" => true,
                _ => return None,
            };
            set(&mut found.transparent, transparent)?;
        }
        // An attendee frees me only when it is me and has declined: an
        // event none of whose attendees says "declined" (in any case,
        // anywhere) is busy whoever they are.
        "ATTENDEE" => {
            found.attendees += 1;
            if found.attendees > MAX_PLAIN_ATTENDEES
                || line.to_ascii_lowercase().contains("declined")
            {
                return None;
            }
        }
        "RRULE" | "RDATE" | "EXDATE" | "EXRULE" | "RECURRENCE-ID" | "DURATION" | "DUE" => {
            return None;
        }
        _ => {}
    }
    Some(())
}

/// The part of `line` from byte `at` on, borrowed from the file when the
/// line is.
fn value_of<'a>(line: &Cow<'a, str>, at: usize) -> Option<Cow<'a, str>> {
    Some(match line {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(at..)?),
        Cow::Owned(o) => Cow::Owned(o.get(at..)?.to_string()),
    })
}

/// Set once: a second value gives `None`.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// A value with no parameters, no escape, not empty and not padded.
fn bare_value(rest: &str) -> Option<&str> {
    let v = rest.strip_prefix(':')?;
    (!v.is_empty() && !v.contains('\\') && v.trim() == v).then_some(v)
}

/// A DTSTART or DTEND: `:YYYYMMDDTHHMMSS[Z]`, `;TZID=name:YYYYMMDDTHHMMSS`
/// or `;VALUE=DATE:YYYYMMDD`.
fn when(rest: &str) -> Option<When> {
    let (params, value) = rest.split_once(':')?;
    let form = match params {
        "" => match value.len() {
            15 => Form::Floating,
            16 if value.ends_with('Z') => Form::Utc,
            _ => return None,
        },
        ";VALUE=DATE" if value.len() == 8 => Form::Date,
        p => {
            let tzid = p.strip_prefix(";TZID=")?;
            // A comma makes a list of the value for calcard, whose first
            // item only is the TZID (the fuzz target found
            // `/softwarestud,io.org/Tzfile/America/Chicago`).
            if tzid.contains([';', '=', ',']) || value.len() != 15 {
                return None;
            }
            Form::Zoned(tz::agreed_zone(tzid)?)
        }
    };
    let b = value.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    if !(1900..=2200).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, num(4, 2)?, num(6, 2)?)?;
    let time = if form == Form::Date {
        NaiveTime::MIN
    } else {
        if b.get(8) != Some(&b'T') {
            return None;
        }
        NaiveTime::from_hms_opt(num(9, 2)?, num(11, 2)?, num(13, 2)?)?
    };
    Some(When {
        form,
        at: date.and_time(time),
    })
}

/// Where the parameters of a property end (the index in `rest` of the
/// `:` before its value), when they are plainly well formed: each
/// `;NAME=value[,value...]`, a name in upper case, a value either quoted
/// (not empty, no quote, control, `\\` or `^` inside) or bare (not empty,
/// none of `";:,=\\^` nor a control). A line whose parameters are
/// otherwise, or lack their `:`, makes calcard read on into the next line
/// (the fuzz target found a DTSTART swallowed so).
fn params_end(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut i = 0;
    loop {
        match *b.get(i)? {
            b':' => return Some(i),
            b';' => i += 1,
            _ => return None,
        }
        let name = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-')
        {
            i += 1;
        }
        if i == name || b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        loop {
            let value = i;
            if b.get(i) == Some(&b'"') {
                i += 1;
                while let Some(&c) = b.get(i) {
                    if c == b'"' {
                        break;
                    }
                    if c < 0x20 || c == 0x7f || c == b'\\' || c == b'^' {
                        return None;
                    }
                    i += 1;
                }
                if b.get(i) != Some(&b'"') || i == value + 1 {
                    return None;
                }
                i += 1;
            } else {
                while let Some(&c) = b.get(i) {
                    if matches!(c, b';' | b':' | b',') {
                        break;
                    }
                    if c < 0x20 || c == 0x7f || matches!(c, b'"' | b'=' | b'\\' | b'^') {
                        return None;
                    }
                    i += 1;
                }
                if i == value {
                    return None;
                }
            }
            if b.get(i) != Some(&b',') {
                break;
            }
            i += 1;
        }
    }
}

/// No control character but tab, and only the escapes every reader agrees
/// on.
fn clean(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            0x7f => return false,
            b'\\' => {
                if !matches!(b.get(i + 1), Some(b'n' | b'N' | b',' | b';' | b'\\')) {
                    return false;
                }
                i += 1;
            }
            c if c < 0x20 && c != b'\t' => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests;
