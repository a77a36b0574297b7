//! Names in a vdir (R9.10, R9.12, T57): which directory entries are
//! objects, the safe file name for a UID, and the UID inside an object
//! found by scanning its bytes (no full parse, never the file name).

use crate::adapters::fsutil;

/// Longest UID kept as a file name (R9.10); NAME_MAX is 255 bytes.
const MAX_UID_NAME_BYTES: usize = 200;

/// Whether a directory entry is an object file of the collection: an
/// `.ics` file that is not hidden (so never one of our temp files) and
/// contains no path separator (R9.12: ignore `.tmp` and extension-less files).
pub(super) fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\0'])
        && name.len() > 4
        && name
            .get(name.len() - 4..)
            .is_some_and(|ext| ext.eq_ignore_ascii_case(".ics"))
}

/// A random file name: 32 hex digits + `.ics`.
pub fn random_href() -> String {
    format!("{}.ics", fsutil::random_hex())
}

/// Whether `uid` may be used as the file name stem (R9.10, T57):
/// non-empty, at most 200 bytes, only `[A-Za-z0-9_.+-]`, no leading `.`,
/// and not a name reserved on other systems a vdir may be synced to.
pub fn is_safe_uid_name(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= MAX_UID_NAME_BYTES
        && !uid.starts_with('.')
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-'))
        && !is_reserved_name(uid)
}

/// DOS device names (`CON`, `NUL.txt`, `COM1` ...), which break a vdir
/// synced to or opened on Windows.
fn is_reserved_name(uid: &str) -> bool {
    let stem = uid.split('.').next().unwrap_or(uid).as_bytes();
    let is = |word: &[u8]| stem.eq_ignore_ascii_case(word);
    let numbered = |prefix: &[u8]| {
        stem.len() == 4
            && stem
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            && stem.get(3).is_some_and(u8::is_ascii_digit)
    };
    is(b"CON") || is(b"PRN") || is(b"AUX") || is(b"NUL") || numbered(b"COM") || numbered(b"LPT")
}

/// The file name for a new object with `uid`: `<uid>.ics` when the UID is
/// safe (see [`is_safe_uid_name`]), else `random()` (R9.10, T57).
pub fn safe_href(uid: &str, random: impl FnOnce() -> String) -> String {
    if is_safe_uid_name(uid) {
        format!("{uid}.ics")
    } else {
        random()
    }
}

/// The UID of the first VEVENT/VTODO/VJOURNAL in iCalendar bytes, found by
/// a cheap byte-level scan: lines are unfolded (CRLF or LF followed by SP or
/// HTAB), parameters (`UID;X=Y:value`, quoted values with `:`) are skipped,
/// and the value is TEXT-unescaped. A UID inside a nested component (an
/// RFC 9074 VALARM) is not the object's UID. None when there is none.
pub fn scan_uid(data: &[u8]) -> Option<String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    for line in unfolded_lines(data) {
        let Some((name, value)) = split_property(&line) else {
            continue;
        };
        if name.eq_ignore_ascii_case(b"BEGIN") {
            stack.push(value.trim_ascii().to_ascii_uppercase());
        } else if name.eq_ignore_ascii_case(b"END") {
            stack.pop();
        } else if name.eq_ignore_ascii_case(b"UID")
            && stack
                .last()
                .is_some_and(|c| matches!(c.as_slice(), b"VEVENT" | b"VTODO" | b"VJOURNAL"))
        {
            let uid = unescape_text(value);
            if !uid.is_empty() {
                return Some(String::from_utf8_lossy(&uid).into_owned());
            }
        }
    }
    None
}

/// Content lines with folding undone and line ends (CRLF or LF) removed.
fn unfolded_lines(data: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut raw = data.split(|&b| b == b'\n').peekable();
    std::iter::from_fn(move || {
        let first = raw.next()?;
        let mut line = first.strip_suffix(b"\r").unwrap_or(first).to_vec();
        while let Some(next) = raw.peek() {
            match next.first() {
                Some(b' ' | b'\t') => {
                    let cont = next.strip_suffix(b"\r").unwrap_or(next);
                    line.extend_from_slice(cont.get(1..).unwrap_or_default());
                    raw.next();
                }
                _ => break,
            }
        }
        Some(line)
    })
}

/// Split a content line into its name and its value, skipping parameters
/// (whose quoted values may contain `:` and `;`).
fn split_property(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let name_end = line.iter().position(|&b| b == b':' || b == b';')?;
    let name = line.get(..name_end)?;
    let mut in_quotes = false;
    for (i, &b) in line.iter().enumerate().skip(name_end) {
        match b {
            b'"' => in_quotes = !in_quotes,
            b':' if !in_quotes => return Some((name, line.get(i + 1..)?)),
            _ => {}
        }
    }
    None
}

/// Undo TEXT escaping: `\\`, `\,`, `\;`, `\n`/`\N`; anything else stays.
fn unescape_text(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(c @ (b'\\' | b',' | b';')) => out.push(c),
            Some(b'n' | b'N') => out.push(b'\n'),
            Some(c) => out.extend_from_slice(&[b'\\', c]),
            None => out.push(b'\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_uid_plain_crlf() {
        let data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:abc@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(scan_uid(data).as_deref(), Some("abc@example.com"));
    }

    #[test]
    fn scan_uid_folded_lf_and_tab() {
        let data = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:04000000820\n 0E00074C5B7101A\n\t82E00800000000\nEND:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(
            scan_uid(data).as_deref(),
            Some("040000008200E00074C5B7101A82E00800000000")
        );
    }

    #[test]
    fn scan_uid_with_params_and_quoted_colon() {
        let data = b"BEGIN:VEVENT\r\nuid;X-A=\"a:b;c\";X-B=y:the-uid\r\nEND:VEVENT\r\n";
        assert_eq!(scan_uid(data).as_deref(), Some("the-uid"));
    }

    #[test]
    fn scan_uid_unescapes_text() {
        let data = b"BEGIN:VEVENT\r\nUID:a\\,b\\;c\\\\d\\ne\\x\r\nEND:VEVENT\r\n";
        assert_eq!(scan_uid(data).as_deref(), Some("a,b;c\\d\ne\\x"));
    }

    #[test]
    fn scan_uid_ignores_vtimezone_and_valarm_uids() {
        let data = b"BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nUID:tz\r\nEND:VTIMEZONE\r\nBEGIN:VTODO\r\nBEGIN:VALARM\r\nUID:alarm\r\nEND:VALARM\r\nUID:todo\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        assert_eq!(scan_uid(data).as_deref(), Some("todo"));
    }

    #[test]
    fn scan_uid_first_component_wins_and_bom_is_skipped() {
        let data = b"\xEF\xBB\xBFBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:one\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:two\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(scan_uid(data).as_deref(), Some("one"));
    }

    #[test]
    fn scan_uid_none_for_garbage_and_empty() {
        assert_eq!(scan_uid(b"\x00\xff\xfe garbage\n\n:::;;;\"\n"), None);
        assert_eq!(scan_uid(b""), None);
        assert_eq!(scan_uid(b"BEGIN:VEVENT\r\nUID:\r\nEND:VEVENT\r\n"), None);
        assert_eq!(scan_uid(b"UID:outside\r\n"), None);
    }

    #[test]
    fn r9_10_safe_href_rules() {
        let random = || "RANDOM.ics".to_string();
        assert_eq!(safe_href("abc-1_2+x.y@z", random), "RANDOM.ics");
        assert_eq!(safe_href("abc-1_2+x.y", random), "abc-1_2+x.y.ics");
        for bad in [
            "",
            "../../.ssh/x",
            "a/b",
            ".hidden",
            "a\0b",
            "a\nb",
            "é",
            "CON",
            "nul.txt",
            "com1",
            "LPT9",
        ] {
            assert_eq!(safe_href(bad, random), "RANDOM.ics", "uid {bad:?}");
        }
        assert_eq!(safe_href("console", random), "console.ics");
        assert_eq!(
            safe_href(&"a".repeat(200), random),
            format!("{}.ics", "a".repeat(200))
        );
        assert_eq!(safe_href(&"a".repeat(201), random), "RANDOM.ics");
    }

    #[test]
    fn random_href_is_32_hex_ics() {
        let name = random_href();
        assert_eq!(name.len(), 36);
        assert!(name.ends_with(".ics"));
        assert!(name[..32].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(random_href(), name);
    }

    #[test]
    fn object_names() {
        assert!(is_object_name("a.ics"));
        assert!(is_object_name("A.ICS"));
        assert!(!is_object_name(".a.ics"));
        assert!(!is_object_name(".a.ics.123.tmp"));
        assert!(!is_object_name("a.ics.tmp"));
        assert!(!is_object_name("noext"));
        assert!(!is_object_name(".ics"));
        assert!(!is_object_name("../a.ics"));
    }
}
