//! The commonest stored object, read without the full parser: one VEVENT
//! that does not repeat, with a UID, a SUMMARY, and a DTSTART and a DTEND
//! written in one form, in a calendar that may also hold time zones and
//! alarms. A first listing reads every file of the calendar for its UIDs
//! and busy times ([`super::index_stored`]); most files have this shape,
//! and the full reading (unfolding and charset decoding, calcard's parser,
//! the invite split, the expansion) costs far more than this one pass.
//!
//! The answer is the full reading's answer, or none. Anything outside the
//! narrow grammar below gives `None` and the caller reads the file fully:
//! a fold or an escape inside a property read here, a quote anywhere (a
//! parameter's quoted text may hide `:` and `;`), a line whose parameters
//! are not plainly `;NAME=value` or do not end in a `:` on that line, an
//! escape other than
//! `\n \N \, \; \\`, a control character, a recurrence (RRULE, RDATE,
//! EXDATE, RECURRENCE-ID), a DURATION, an ATTENDEE (whose PARTSTAT may
//! free me), a METHOD, a second event or any other component, a STATUS or
//! TRANSP value spelled otherwise than in RFC 5545, a wall-clock time in a
//! daylight-saving gap or overlap, a TZID that the readers could resolve
//! differently ([`tz::agreed_zone`]), a year outside 1900–2200, or a file
//! over [`MAX_PLAIN_BYTES`].
//!
//! The tests compare both readings on the corpus and on variants of every
//! shape; the fuzz target `calendar_index` compares them on arbitrary
//! input.

use crate::domain::tz;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

/// Larger files are read fully.
pub const MAX_PLAIN_BYTES: usize = 64 * 1024;

/// What the full reading would find in a plain event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain<'a> {
    pub uid: &'a str,
    /// As written (no escape in it), not yet made terminal-safe.
    pub summary: &'a str,
    /// The one occurrence, start to end (an end before the start is the
    /// start); `None` when the event leaves me free (cancelled,
    /// transparent).
    pub busy: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// How a DTSTART or DTEND is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form<'a> {
    Utc,
    Zoned(&'a str),
    Floating,
    Date,
}

#[derive(Clone, Copy)]
struct When<'a> {
    form: Form<'a>,
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
    uid: Option<&'a str>,
    summary: Option<&'a str>,
    start: Option<When<'a>>,
    end: Option<When<'a>>,
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
    // Whether a folded continuation may follow: only after a property not
    // read here (it joins that property's text, which is ignored).
    let mut ignored = false;
    let mut found = Found::default();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if level == Level::Done {
            if line.is_empty() {
                continue;
            }
            return None;
        }
        if line.starts_with([' ', '\t']) {
            if !ignored || !clean(line) {
                return None;
            }
            continue;
        }
        ignored = false;
        let split = line.find([';', ':'])?;
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
                        observance = what;
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
                if !clean(rest) || !params_ok(rest) {
                    return None;
                }
                match level {
                    Level::Outside | Level::Done => return None,
                    Level::Calendar if name == "METHOD" => return None,
                    Level::Event => {
                        if !event_property(name, rest, &mut found)? {
                            ignored = true;
                        }
                    }
                    _ => ignored = true,
                }
            }
        }
    }
    if level != Level::Done || found.events != 1 {
        return None;
    }
    let (start, end) = (found.start?, found.end?);
    let zone = match (start.form, end.form) {
        (Form::Zoned(a), Form::Zoned(b)) if a == b => Some(tz::agreed_zone(a)?),
        (a, b) if a == b => None,
        _ => return None,
    };
    let instant = |w: When<'_>| match w.form {
        Form::Utc => Some(w.at.and_utc()),
        Form::Zoned(_) => zone.and_then(|z| tz::single_instant(z, w.at)),
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

/// Read one property of the event into `found`: `Some(true)` when it is
/// one this module reads, `Some(false)` when it does not matter, `None`
/// when only the full reading can say.
fn event_property<'a>(name: &str, rest: &'a str, found: &mut Found<'a>) -> Option<bool> {
    match name {
        "UID" => {
            let v = bare_value(rest)?;
            set(&mut found.uid, v)?;
        }
        "SUMMARY" => {
            let v = bare_value(rest)?;
            if v.contains([',', ';']) {
                return None;
            }
            set(&mut found.summary, v)?;
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
        "RRULE" | "RDATE" | "EXDATE" | "EXRULE" | "RECURRENCE-ID" | "ATTENDEE" | "DURATION"
        | "DUE" => return None,
        _ => return Some(false),
    }
    Some(true)
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
fn when(rest: &str) -> Option<When<'_>> {
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
            if tzid.contains([';', '=']) || value.len() != 15 {
                return None;
            }
            Form::Zoned(tzid)
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

/// A property's parameters are well formed and end on its first line:
/// `;NAME=value` each (a name in upper case, a value with none of `;:=`),
/// then `:`. A line without its `:` makes calcard read on into the next
/// line (the fuzz target found a DTSTART swallowed so).
fn params_ok(rest: &str) -> bool {
    let Some((params, _)) = rest.split_once(':') else {
        return false;
    };
    if params.is_empty() {
        return true;
    }
    let Some(params) = params.strip_prefix(';') else {
        return false;
    };
    params.split(';').all(|p| {
        p.split_once('=').is_some_and(|(name, value)| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
                && !value.is_empty()
                && !value.contains('=')
        })
    })
}

/// No quote, no control character but tab, and only the escapes every
/// reader agrees on.
fn clean(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | 0x7f => return false,
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
