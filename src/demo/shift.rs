//! Moving the demo data in time by whole weeks, so that `rsvp demo` shows
//! invitations around the day it runs and weekdays (and BYDAY rules) stay
//! right: every date of the calendar data (DTSTART, DTEND, DTSTAMP,
//! RECURRENCE-ID, EXDATE, RDATE, RRULE's UNTIL, CREATED, LAST-MODIFIED and
//! rsvp's own X-RSVP-* stamps; not the rules of a VTIMEZONE), also inside
//! base64 calendar parts, and the dates of the `Date:` and `Subject:`
//! headers. Written for the bundled data, without external crates.

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

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
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
        if in_tz > 0 || !dated {
            out.push(line);
            continue;
        }
        let unfolded = line
            .replace(&format!("{nl} "), "")
            .replace(&format!("{nl}\t"), "");
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

/// `D Mon YYYY` dates in header text (`Date:`, `Subject:`).
fn shift_prose(text: &str, weeks: i64) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    for i in 0..words.len().saturating_sub(2) {
        let (Some(d), Some(mon), Some(y)) = (words.get(i), words.get(i + 1), words.get(i + 2))
        else {
            continue;
        };
        let y_digits: String = y.chars().take_while(char::is_ascii_digit).collect();
        let (Ok(day), Some(month), Ok(year)) = (
            d.parse::<i64>(),
            MONTHS.iter().position(|m| m == mon),
            y_digits.parse::<i64>(),
        ) else {
            continue;
        };
        if y_digits.len() != 4 || !(1..=31).contains(&day) {
            continue;
        }
        let month = i64::try_from(month).unwrap_or(0) + 1;
        let (ny, nm, nd) = shift_ymd(year, month, day, weeks);
        let rest = y.get(y_digits.len()..).unwrap_or("");
        if let Some(a) = out.get_mut(i) {
            *a = nd.to_string();
        }
        if let Some(b) = out.get_mut(i + 1) {
            *b = MONTHS
                .get(usize::try_from(nm - 1).unwrap_or(0))
                .unwrap_or(mon)
                .to_string();
        }
        if let Some(c) = out.get_mut(i + 2) {
            *c = format!("{ny:04}{rest}");
        }
    }
    out.join(" ")
}

/// A whole message: headers, raw calendar parts, base64 calendar parts.
fn shift_message(text: &str, weeks: i64) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split(nl).collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    let mut top = true;
    while i < lines.len() {
        // A header block (the message's, or a part's after a boundary).
        let mut base64 = false;
        while let Some(line) = lines.get(i) {
            i += 1;
            if line.is_empty() {
                out.push(String::new());
                break;
            }
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-transfer-encoding:") && lower.contains("base64") {
                base64 = true;
            }
            if top && (lower.starts_with("date:") || lower.starts_with("subject:")) {
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
        if base64 {
            let joined: String = body.concat();
            match decode(joined.trim()).map(|b| String::from_utf8_lossy(&b).into_owned()) {
                Some(decoded) if decoded.contains("BEGIN:VCALENDAR") => {
                    let shifted = shift_ical(&decoded, weeks);
                    let encoded = encode(shifted.as_bytes());
                    let width: Vec<String> = encoded
                        .as_bytes()
                        .chunks(76)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    out.extend(width);
                    // Keep the blank line(s) before the boundary.
                    let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
                    out.extend(std::iter::repeat_n(String::new(), trailing));
                }
                _ => out.extend(body.iter().map(|l| l.to_string())),
            }
        } else {
            let joined = body.join(nl);
            if joined.contains("BEGIN:VCALENDAR") {
                out.extend(shift_ical(&joined, weeks).split(nl).map(str::to_string));
            } else {
                out.extend(body.iter().map(|l| l.to_string()));
            }
        }
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
