//! Moving the demo data in time by whole weeks, so that `rsvp demo` shows
//! invitations around the day it runs and weekdays (and BYDAY rules) stay
//! right: every date of the calendar data (DTSTART, DTEND, DTSTAMP,
//! RECURRENCE-ID, EXDATE, RDATE, RRULE's UNTIL, CREATED, LAST-MODIFIED and
//! rsvp's own X-RSVP-* stamps; not the rules of a VTIMEZONE), the dates
//! written in prose in the events' SUMMARY, DESCRIPTION, COMMENT and
//! LOCATION, in the `Date:` and `Subject:` headers and in the text of
//! every text/plain and text/html part ("on 7 December", "Friday 27 Nov
//! 2026", "23 and 30 December"). Parts are decoded (base64,
//! quoted-printable), moved and encoded again. Written for the bundled
//! data, without external crates.

/// Properties whose date values move.
const DATED: &[&str] = &[
    "DTSTART",
    "DTEND",
    "DUE",
    "DTSTAMP",
    "RECURRENCE-ID",
    "EXDATE",
    "RDATE",
    "RRULE",
    "CREATED",
    "LAST-MODIFIED",
];

/// `bytes` (a message or an .ics file) with every date moved by `weeks`.
pub fn shift(bytes: &[u8], weeks: i64) -> Vec<u8> {
    if weeks == 0 {
        return bytes.to_vec();
    }
    let text = String::from_utf8_lossy(bytes);
    if text.trim_start().starts_with("BEGIN:VCALENDAR") {
        return shift_ical(&text, weeks).into_bytes();
    }
    shift_message(&text, weeks).into_bytes()
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn shift_ymd(y: i64, m: i64, d: i64, weeks: i64) -> (i64, i64, i64) {
    civil_from_days(days_from_civil(y, m, d) + 7 * weeks)
}

/// Move every standalone `YYYYMMDD` (optionally followed by `THHMMSS[Z]`)
/// in a property value.
fn shift_tokens(value: &str, weeks: i64) -> String {
    let b = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    let mut last = 0;
    while i + 8 <= b.len() {
        let start_ok = i == 0 || !b.get(i - 1).is_some_and(|c| c.is_ascii_alphanumeric());
        let digits = b
            .get(i..i + 8)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit));
        let end_ok = b.get(i + 8).is_none_or(|c| !c.is_ascii_digit());
        if start_ok && digits && end_ok {
            let num = |r: std::ops::Range<usize>| {
                value
                    .get(r)
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0)
            };
            let (y, m, d) = (num(i..i + 4), num(i + 4..i + 6), num(i + 6..i + 8));
            if (1..=12).contains(&m) && (1..=31).contains(&d) {
                let (y, m, d) = shift_ymd(y, m, d, weeks);
                out.push_str(value.get(last..i).unwrap_or(""));
                out.push_str(&format!("{y:04}{m:02}{d:02}"));
                last = i + 8;
            }
            i += 8;
        } else {
            i += 1;
        }
    }
    out.push_str(value.get(last..).unwrap_or(""));
    out
}

/// iCalendar text with its dates moved (folded lines are unfolded when
/// they change; VTIMEZONE rules stay).
fn shift_ical(text: &str, weeks: i64) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut logical: Vec<String> = Vec::new();
    for line in text.split(nl) {
        match logical.last_mut() {
            Some(prev) if line.starts_with(' ') || line.starts_with('\t') => {
                prev.push_str(nl);
                prev.push_str(line);
            }
            _ => logical.push(line.to_string()),
        }
    }
    let mut in_tz = 0usize;
    let mut out: Vec<String> = Vec::with_capacity(logical.len());
    for line in logical {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("BEGIN:VTIMEZONE") {
            in_tz += 1;
        } else if upper.starts_with("END:VTIMEZONE") {
            in_tz = in_tz.saturating_sub(1);
        }
        let name_end = upper.find([';', ':']).unwrap_or(upper.len());
        let name = upper.get(..name_end).unwrap_or("");
        let dated = DATED.contains(&name) || name.starts_with("X-RSVP-");
        let prose = PROSE.contains(&name);
        if in_tz > 0 || !(dated || prose) {
            out.push(line);
            continue;
        }
        let unfolded = line
            .replace(&format!("{nl} "), "")
            .replace(&format!("{nl}\t"), "");
        if prose {
            let shifted = shift_prose(&unfolded, weeks);
            if shifted == unfolded {
                out.push(line);
            } else {
                out.push(fold(&shifted, nl));
            }
            continue;
        }
        // The value starts after the first ':' outside a quoted parameter.
        let mut quoted = false;
        let colon = unfolded.char_indices().find_map(|(i, c)| {
            if c == '"' {
                quoted = !quoted;
            }
            (c == ':' && !quoted).then_some(i)
        });
        match colon {
            Some(at) => {
                let (head, value) = unfolded.split_at(at);
                out.push(format!("{head}{}", shift_tokens(value, weeks)));
            }
            None => out.push(line),
        }
    }
    out.join(nl)
}

/// Text properties whose prose dates move ([`shift_prose`]): what a
/// person reads of an event.
const PROSE: &[&str] = &["SUMMARY", "DESCRIPTION", "COMMENT", "LOCATION"];

/// A content line folded at 75 octets (RFC 5545 §3.1), never inside a
/// UTF-8 sequence.
fn fold(line: &str, nl: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 64 * 3);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str(nl);
            out.push(' ');
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out
}

/// English month names, in full; the first three letters are the short form.
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The date of the demo's clock ([`super::NOW_RFC3339`]): a date written
/// without its year is taken in the year nearest it.
fn clock_day() -> (i64, i64, i64) {
    let part = |r: std::ops::Range<usize>| {
        super::NOW_RFC3339
            .get(r)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1)
    };
    (part(0..4), part(5..7), part(8..10))
}

/// Separators of a list of days before one month: `23 and 30 December`,
/// `14–16 Dec`.
const DAY_LISTS: &[&str] = &[" and ", ", ", "\u{2013}", "-"];

/// The month name at the start of `text` (a whole word): its number
/// (1–12), its length and whether it was the short form.
fn month_at(text: &str) -> Option<(i64, usize, bool)> {
    for (i, full) in MONTH_NAMES.iter().enumerate() {
        let short = full.get(..3).unwrap_or(full);
        for (name, is_short) in [(*full, false), (short, true)] {
            let ends_word = text
                .get(name.len()..)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()));
            if text.starts_with(name) && ends_word {
                return Some((i64::try_from(i).ok()? + 1, name.len(), is_short));
            }
        }
    }
    None
}

/// A day of the month (one or two digits, a whole number) at the start
/// of `text`, with its length.
fn day_at(text: &str) -> Option<(i64, usize)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&len) {
        return None;
    }
    let day: i64 = text.get(..len)?.parse().ok()?;
    (1..=31).contains(&day).then_some((day, len))
}

/// The year of a date written without one: the one that puts it nearest
/// the demo's clock.
fn nearest_year(month: i64, day: i64) -> i64 {
    let (y, m, d) = clock_day();
    let clock = days_from_civil(y, m, d);
    (y - 1..=y + 1)
        .min_by_key(|&year| (days_from_civil(year, month, day) - clock).abs())
        .unwrap_or(y)
}

/// One date of prose found at the start of a text: its days (with the
/// separators between them), month and year, and how long it is.
struct ProseDate<'a> {
    days: Vec<i64>,
    seps: Vec<&'a str>,
    month: i64,
    short: bool,
    year: Option<i64>,
    /// What separates the day, the month and the year (` ` or `_`).
    gap: char,
    len: usize,
}

/// The date of prose at the start of `text`: `D Month[ YYYY]` or
/// `D Mon[ YYYY]`, after a list of days (`23 and 30 December`).
fn prose_date_at(text: &str) -> Option<ProseDate<'_>> {
    let (first, mut at) = day_at(text)?;
    let mut days = vec![first];
    let mut seps = Vec::new();
    loop {
        let rest = text.get(at..)?;
        // `_` is a space in a header's encoded word (`Tue_8_Dec_2026`).
        let gap = if rest.starts_with('_') { '_' } else { ' ' };
        if let Some((month, len, short)) = rest.strip_prefix(gap).and_then(month_at) {
            at += 1 + len;
            let after = text.get(at..).unwrap_or("");
            let year = after
                .strip_prefix(gap)
                .filter(|y| {
                    y.len() >= 4
                        && y.bytes().take(4).all(|b| b.is_ascii_digit())
                        && !y.as_bytes().get(4).is_some_and(u8::is_ascii_digit)
                })
                .and_then(|y| y.get(..4))
                .and_then(|y| y.parse::<i64>().ok());
            if year.is_some() {
                at += 5;
            }
            return Some(ProseDate {
                days,
                seps,
                month,
                short,
                year,
                gap,
                len: at,
            });
        }
        let (sep, (day, len)) = DAY_LISTS
            .iter()
            .find_map(|sep| Some((*sep, day_at(rest.strip_prefix(sep)?)?)))?;
        // Not a list of days but a time or a number (`14:00`, `3.5`).
        if rest
            .get(sep.len() + len..)
            .is_some_and(|r| r.starts_with([':', '.']))
        {
            return None;
        }
        days.push(day);
        seps.push(sep);
        at += sep.len() + len;
    }
}

impl ProseDate<'_> {
    /// The same date `weeks` later, written the same way: one month name
    /// after the days while they stay in one month (and year), else each
    /// day with its own.
    fn shifted(&self, weeks: i64) -> String {
        let year = self
            .year
            .unwrap_or_else(|| nearest_year(self.month, self.days.last().copied().unwrap_or(1)));
        let moved: Vec<(i64, i64, i64)> = self
            .days
            .iter()
            .map(|&d| shift_ymd(year, self.month, d, weeks))
            .collect();
        let name = |m: i64| {
            let full = MONTH_NAMES
                .get(usize::try_from(m - 1).unwrap_or(0))
                .copied()
                .unwrap_or("");
            if self.short {
                full.get(..3).unwrap_or(full)
            } else {
                full
            }
        };
        let gap = self.gap;
        let written = |(y, m, _): (i64, i64, i64)| match self.year {
            Some(_) => format!("{gap}{}{gap}{y:04}", name(m)),
            None => format!("{gap}{}", name(m)),
        };
        let one_month = moved.windows(2).all(|w| match w {
            [a, b] => (a.0, a.1) == (b.0, b.1),
            _ => true,
        });
        let mut out = String::new();
        for (i, &(y, m, d)) in moved.iter().enumerate() {
            if i > 0 {
                out.push_str(self.seps.get(i - 1).copied().unwrap_or(" "));
            }
            out.push_str(&d.to_string());
            if !one_month || i + 1 == moved.len() {
                out.push_str(&written((y, m, d)));
            }
        }
        out
    }
}

/// Dates in prose (headers and the text of a message) moved by `weeks`:
/// `D Month[ YYYY]` and `D Mon[ YYYY]`, also after a list of days (`23
/// and 30 December`, `14–16 Dec`). A date without its year is taken in
/// the year nearest the demo's clock. Written for the bundled messages.
fn shift_prose(text: &str, weeks: i64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        // A word starts after a non-alphanumeric, or after iCalendar's
        // `\\n` (a line break in a text value).
        let starts_word = i == 0
            || !b.get(i - 1).is_some_and(u8::is_ascii_alphanumeric)
            || (i >= 2 && b.get(i - 2..i) == Some(b"\\n".as_slice()));
        let found = if starts_word && b.get(i).is_some_and(u8::is_ascii_digit) {
            text.get(i..).and_then(prose_date_at)
        } else {
            None
        };
        match found {
            Some(date) => {
                out.push_str(text.get(last..i).unwrap_or(""));
                out.push_str(&date.shifted(weeks));
                i += date.len;
                last = i;
            }
            // Past the whole number (its other digits start no date).
            None if b.get(i).is_some_and(u8::is_ascii_digit) => {
                i += b
                    .get(i..)
                    .map_or(1, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
            }
            None => i += 1,
        }
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

/// Quoted-printable text (RFC 2045 §6.7) decoded: soft line breaks
/// joined, `=XX` made bytes.
fn decode_qp(lines: &[&str], nl: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (*line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (c, hex) {
                (b'=', Some(v)) => {
                    out.push(v);
                    i += 3;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        if !soft && n + 1 < lines.len() {
            out.extend_from_slice(nl.as_bytes());
        }
    }
    out
}

/// `bytes` as quoted-printable lines of at most 76 characters, the line
/// breaks of the text kept as hard breaks.
fn encode_qp(bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    for text in bytes.split(|&c| c == b'\n') {
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let mut line = String::new();
        for (i, &c) in text.iter().enumerate() {
            let last = i + 1 == text.len();
            let token = match c {
                b'=' => format!("={c:02X}"),
                b' ' | b'\t' if last => format!("={c:02X}"),
                b' ' | b'\t' | 33..=126 => char::from(c).to_string(),
                _ => format!("={c:02X}"),
            };
            // Room for the token and the `=` of a soft break.
            if line.len() + token.len() > 75 {
                line.push('=');
                lines.push(std::mem::take(&mut line));
            }
            line.push_str(&token);
        }
        lines.push(line);
    }
    lines
}

/// How a part's body is encoded, and whether it is text to read.
#[derive(Default)]
struct PartHead {
    base64: bool,
    qp: bool,
    /// `text/plain` or `text/html` (also a part without a type).
    text: bool,
    typed: bool,
}

impl PartHead {
    fn see(&mut self, lower: &str) {
        if let Some(cte) = lower.strip_prefix("content-transfer-encoding:") {
            self.base64 |= cte.contains("base64");
            self.qp |= cte.contains("quoted-printable");
        }
        if let Some(ct) = lower.strip_prefix("content-type:") {
            self.typed = true;
            let ct = ct.trim_start();
            self.text = ct.starts_with("text/plain") || ct.starts_with("text/html");
        }
    }

    fn is_text(&self) -> bool {
        self.text || !self.typed
    }
}

/// A whole message: its `Date:` and `Subject:`, its calendar parts (raw,
/// quoted-printable or base64) and the dates in the prose of its text
/// parts ([`shift_prose`]), each part re-encoded as it was.
fn shift_message(text: &str, weeks: i64) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split(nl).collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    let mut top = true;
    while i < lines.len() {
        // A header block (the message's, or a part's after a boundary).
        let mut head = PartHead::default();
        // In `Date:` or `Subject:` (also on their folded lines).
        let mut dated = false;
        while let Some(line) = lines.get(i) {
            i += 1;
            if line.is_empty() {
                out.push(String::new());
                break;
            }
            let lower = line.to_ascii_lowercase();
            head.see(&lower);
            if !line.starts_with([' ', '\t']) {
                dated = top && (lower.starts_with("date:") || lower.starts_with("subject:"));
            }
            if dated {
                out.push(shift_prose(line, weeks));
            } else {
                out.push(line.to_string());
            }
        }
        top = false;
        // The body, up to the next boundary line.
        let start = i;
        while let Some(line) = lines.get(i) {
            if line.starts_with("--") && !line.contains(' ') {
                break;
            }
            i += 1;
        }
        let body = lines.get(start..i).unwrap_or(&[]);
        // The blank line(s) before the boundary stay as they are.
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let content = body.get(..body.len() - trailing).unwrap_or(&[]);
        if head.base64 {
            let joined: String = content.concat();
            let decoded = decode(joined.trim()).map(|b| String::from_utf8_lossy(&b).into_owned());
            let shifted = match decoded {
                Some(d) if d.contains("BEGIN:VCALENDAR") => Some(shift_ical(&d, weeks)),
                Some(d) if head.is_text() => Some(shift_prose(&d, weeks)),
                _ => None,
            };
            match shifted {
                Some(s) => out.extend(
                    encode(s.as_bytes())
                        .as_bytes()
                        .chunks(76)
                        .map(|c| String::from_utf8_lossy(c).into_owned()),
                ),
                None => out.extend(content.iter().map(|l| l.to_string())),
            }
        } else if head.qp {
            let decoded = String::from_utf8_lossy(&decode_qp(content, nl)).into_owned();
            let shifted = if decoded.contains("BEGIN:VCALENDAR") {
                Some(shift_ical(&decoded, weeks))
            } else {
                head.is_text().then(|| shift_prose(&decoded, weeks))
            };
            match shifted {
                Some(s) => out.extend(encode_qp(s.as_bytes())),
                None => out.extend(content.iter().map(|l| l.to_string())),
            }
        } else {
            let joined = content.join(nl);
            if joined.contains("BEGIN:VCALENDAR") {
                out.extend(shift_ical(&joined, weeks).split(nl).map(str::to_string));
            } else if head.is_text() && !content.is_empty() {
                out.extend(shift_prose(&joined, weeks).split(nl).map(str::to_string));
            } else {
                out.extend(content.iter().map(|l| l.to_string()));
            }
        }
        out.extend(std::iter::repeat_n(String::new(), trailing));
        // The boundary line itself; the part's headers follow it.
        if let Some(line) = lines.get(i) {
            out.push(line.to_string());
            i += 1;
        }
    }
    out.join(nl)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                let idx = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in input.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|&x| x == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_and_weeks_keep_the_weekday() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 24)),
            (2026, 11, 24)
        );
        assert_eq!(shift_ymd(2026, 11, 24, 2), (2026, 12, 8));
        assert_eq!(shift_ymd(2026, 12, 29, 1), (2027, 1, 5));
        assert_eq!(shift_ymd(2028, 2, 22, 1), (2028, 2, 29));
        assert_eq!(shift_ymd(2026, 11, 24, -52), (2025, 11, 25));
    }

    #[test]
    fn ical_dates_move_but_not_timezone_rules_or_uids() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:20261124T090000-x\r\nDTSTART;TZID=Europe/Berlin:20261124T090000\r\nRRULE:FREQ=WEEKLY;UNTIL=20261231T225959Z\r\nEXDATE;TZID=Europe/Berlin:20261201T090000,\r\n 20261208T090000\r\nDTSTART;VALUE=DATE:20261130\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let out = shift_ical(ics, 1);
        assert!(out.contains("DTSTART:19701025T030000"), "{out}");
        assert!(out.contains("UID:20261124T090000-x"), "{out}");
        assert!(
            out.contains("DTSTART;TZID=Europe/Berlin:20261201T090000"),
            "{out}"
        );
        assert!(out.contains("UNTIL=20270107T225959Z"), "{out}");
        assert!(
            out.contains("EXDATE;TZID=Europe/Berlin:20261208T090000,20261215T090000"),
            "{out}"
        );
        assert!(out.contains("DTSTART;VALUE=DATE:20261207"), "{out}");
    }

    #[test]
    fn the_clock_day_is_the_demo_clocks_date() {
        assert_eq!(clock_day(), (2026, 11, 24));
    }

    #[test]
    fn dates_in_prose_move_and_keep_their_form() {
        let cases = [
            ("on 7 December: most", "on 14 December: most"),
            ("Friday 27 Nov 2026 ⋅ 14:00", "Friday 4 Dec 2026 ⋅ 14:00"),
            ("until 31 March 2027; not", "until 7 April 2027; not"),
            ("review: 19 Nov API", "review: 26 Nov API"),
            // A list of days whose days leave the month: each gets its own.
            (
                "not on 23 and 30 December;",
                "not on 30 December and 6 January;",
            ),
            ("(14–16 Dec 2026)", "(21–23 Dec 2026)"),
            ("on 28 Dec 2026.", "on 4 Jan 2027."),
            // Without a year: the year nearest the demo's clock (Jan 2027).
            ("on 3 January", "on 10 January"),
            // Not dates: times, numbers, words that begin like a month.
            (
                "16 December moved to 14:00 – 14:30",
                "23 December moved to 14:00 – 14:30",
            ),
            ("Weekly — December", "Weekly — December"),
            (
                "Room 12 Decks, 2026-11-24, 400 Mayfair",
                "Room 12 Decks, 2026-11-24, 400 Mayfair",
            ),
            (
                "Date: Tue, 24 Nov 2026 09:00:00 +0000",
                "Date: Tue, 1 Dec 2026 09:00:00 +0000",
            ),
            (
                "=?utf-8?Q?_(Thu_3_Dec_2026_19:00)?=",
                "=?utf-8?Q?_(Thu_10_Dec_2026_19:00)?=",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(shift_prose(text, 1), want, "{text}");
        }
        assert_eq!(shift_prose("on 3 January 2027", -1), "on 27 December 2026");
        assert_eq!(shift_prose("5 Jan", -1), "29 Dec");
    }

    #[test]
    fn prose_in_event_text_moves_and_long_lines_fold() {
        let desc = format!(
            "DESCRIPTION:{}review of the 19 November API outage.\\n16 December too",
            "x".repeat(70)
        );
        let ics = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Incident review: 19 Nov API outage\r\nUID:19 Nov\r\n{}\r\nLOCATION:Room 4\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            fold(&desc, "\r\n")
        );
        let out = shift_ical(&ics, 1);
        assert!(
            out.contains("SUMMARY:Incident review: 26 Nov API outage\r\n"),
            "{out}"
        );
        assert!(out.contains("UID:19 Nov\r\n"), "{out}");
        assert!(out.contains("LOCATION:Room 4\r\n"), "{out}");
        assert!(
            out.lines().all(|l| l.trim_end_matches('\r').len() <= 75),
            "{out}"
        );
        let unfolded = out.replace("\r\n ", "");
        assert!(
            unfolded.contains("review of the 26 November API outage.\\n23 December too"),
            "{unfolded}"
        );
    }

    #[test]
    fn quoted_printable_round_trips_in_short_lines() {
        let texts = [
            "plain",
            "a=b and 100% ⋅ café — 😀",
            "trailing space \r\nand tab\t\r\n\r\nend",
            &"long line of words ".repeat(20),
            &"=é".repeat(60),
        ];
        for text in texts {
            let lines = encode_qp(text.as_bytes());
            assert!(lines.iter().all(|l| l.len() <= 76), "{lines:?}");
            assert!(
                lines
                    .iter()
                    .all(|l| !l.ends_with(' ') && !l.ends_with('\t')),
                "{lines:?}"
            );
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let back = decode_qp(&refs, "\r\n");
            assert_eq!(String::from_utf8(back).unwrap(), text);
        }
        // A soft break inside a date (as Google writes HTML) is joined.
        assert_eq!(
            decode_qp(&["<p>Friday 27 No=", "v 2026 =E2=8B=85 14:00</p>"], "\r\n"),
            "<p>Friday 27 Nov 2026 ⋅ 14:00</p>".as_bytes()
        );
    }

    #[test]
    fn headers_and_base64_parts_move() {
        let cal = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261124T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let msg = format!(
            "Date: Tue, 24 Nov 2026 09:00:00 +0000\r\nSubject: Invitation @ Thu 26 Nov 2026 14:00\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/calendar\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            encode(cal.as_bytes())
        );
        let out = String::from_utf8(shift(msg.as_bytes(), 1)).unwrap();
        assert!(
            out.contains("Date: Tue, 1 Dec 2026 09:00:00 +0000"),
            "{out}"
        );
        assert!(
            out.contains("Subject: Invitation @ Thu 3 Dec 2026 14:00"),
            "{out}"
        );
        let body = out.split("base64\r\n\r\n").nth(1).unwrap();
        let b64: String = body.lines().take_while(|l| !l.starts_with("--")).collect();
        let decoded = String::from_utf8(decode(&b64).unwrap()).unwrap();
        assert!(decoded.contains("DTSTART:20261201T090000Z"), "{decoded}");
        assert!(out.ends_with("--b--\r\n"), "{out}");
    }
}
