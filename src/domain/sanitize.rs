//! Making hostile text harmless for the screen (R9.5) and for mail headers
//! (R9.6), and checking message ids copied from incoming mail (R9.6, R7.11).
//!
//! Everything in an invitation is chosen by its sender: SUMMARY, DESCRIPTION,
//! LOCATION, CN, file names, the From display name. These functions are the
//! only gate between such text and a terminal or an outgoing header.

use std::fmt::Write as _;

/// Longest message id accepted by [`is_safe_msg_id`], in bytes.
pub const MAX_MSG_ID_LEN: usize = 250;

/// True for the invisible bidirectional formatting characters that can make
/// text display in a different order than it is stored (R9.5): the embeddings
/// and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the marks
/// U+200E, U+200F and U+061C. The line and paragraph separators U+2028 and
/// U+2029 are included because some terminals treat them as line breaks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Makes `s` safe to print to a terminal, keeping `\n` and `\t` (R9.5, T55).
///
/// C0 controls, a lone CR and DEL become caret notation (`^[` for ESC, `^M`,
/// `^?`); C1 controls (U+0080–U+009F, where 0x9B is a one-byte CSI) and bidi
/// controls become `<U+XXXX>`. CRLF becomes `\n`. Nothing is silently dropped,
/// so removed bytes can never join harmless fragments into an escape sequence.
pub fn terminal_safe(s: &str) -> String {
    // Runs of ordinary characters are copied whole; only what needs
    // rewriting is looked at one by one.
    let mut out = String::with_capacity(s.len());
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' || c == '\t' || !needs_rewrite(c) {
            continue;
        }
        out.push_str(s.get(start..i).unwrap_or_default());
        start = i + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
            continue;
        }
        push_visible(&mut out, c);
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out
}

/// What [`push_visible`] does not pass through as it is.
fn needs_rewrite(c: char) -> bool {
    let code = u32::from(c);
    code < 0x20 || (0x7F..=0x9F).contains(&code) || (code >= 0x61C && is_bidi_control(c))
}

/// Like [`terminal_safe`], but the result is a single line: line breaks
/// (LF, CRLF, a lone CR) and tabs become one space each (R9.5).
pub fn terminal_line(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(' '),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(' ');
            }
            _ => push_visible(&mut out, c),
        }
    }
    out
}

/// A short one-line excerpt of untrusted text for an error message or a
/// status line (server replies, a command's stderr): each line made safe
/// with [`terminal_line`] and trimmed, empty lines dropped, the rest joined
/// with " / ", and the result cut to at most `max_chars` characters, ending
/// in "…" when something was cut (R9.5).
pub fn terminal_excerpt(s: &str, max_chars: usize) -> String {
    let joined = s
        .split(['\n', '\r'])
        .map(|l| terminal_line(l).trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    truncate_chars(&joined, max_chars)
}

/// Pushes `c`, or a visible stand-in when it is a control or bidi character.
fn push_visible(out: &mut String, c: char) {
    let code = u32::from(c);
    if code < 0x20 {
        // Caret notation: ESC (0x1B) is "^[", NUL is "^@", CR is "^M".
        out.push('^');
        out.push(char::from(b'@' + code as u8));
    } else if code == 0x7F {
        out.push_str("^?");
    } else if (0x80..=0x9F).contains(&code) || is_bidi_control(c) {
        let _ = write!(out, "<U+{code:04X}>");
    } else {
        out.push(c);
    }
}

/// Prepares text for a mail header such as Subject or a display name (R9.6,
/// T56): every control character (C0 including CR, LF and TAB, DEL, C1) and
/// every bidi control becomes a space, runs of whitespace collapse into one
/// space, the ends are trimmed, and the result is cut to at most `max_chars`
/// characters, ending in "…" when something was cut.
///
/// The result still needs RFC 2047 encoding when it is not plain ASCII; the
/// message builder does that.
pub fn header_text(s: &str, max_chars: usize) -> String {
    let mut collapsed = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_control() || is_bidi_control(c) || c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !collapsed.is_empty() {
            collapsed.push(' ');
        }
        pending_space = false;
        collapsed.push(c);
    }
    truncate_chars(&collapsed, max_chars)
}

/// Cuts `s` to at most `max_chars` characters, marking the cut with "…".
fn truncate_chars(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let kept: String = s.chars().take(max_chars - 1).collect();
    let mut out = kept.trim_end().to_owned();
    out.push('…');
    out
}

/// True when `s` is a message id (without the angle brackets) that may be
/// copied into In-Reply-To or References (R9.6, R7.11): printable ASCII with
/// no spaces, exactly one `@` with text on both sides, no `<`, `>` or other
/// RFC 5322 specials (a `[...]` literal is allowed on the right), and at most
/// [`MAX_MSG_ID_LEN`] bytes.
pub fn is_safe_msg_id(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_MSG_ID_LEN {
        return false;
    }
    let Some((left, right)) = s.split_once('@') else {
        return false;
    };
    if left.is_empty() || right.is_empty() || right.contains('@') {
        return false;
    }
    left.bytes().all(is_id_byte)
        && right
            .bytes()
            .all(|b| is_id_byte(b) || b == b'[' || b == b']')
}

/// atext (RFC 5322 §3.2.3) plus the dot.
fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No C0 (other than \n and \t), DEL, C1 or bidi control is left.
    fn assert_no_controls(s: &str, allow_newline_tab: bool) {
        for c in s.chars() {
            if allow_newline_tab && (c == '\n' || c == '\t') {
                continue;
            }
            assert!(
                !c.is_control() && !is_bidi_control(c),
                "control {:?} survived in {s:?}",
                c
            );
        }
    }

    #[test]
    fn t55_terminal_escapes_never_survive() {
        let summary = "Lunch\x1b[2J\x1b]52;c;ZXZpbA==\x07 \u{9B}31m evil\u{202E}txt.exe\r!";
        let safe = terminal_safe(summary);
        assert_no_controls(&safe, true);
        assert!(!safe.contains('\x1b'));
        assert!(!safe.contains('\u{9B}'));
        assert!(!safe.contains('\u{202E}'));
        assert!(!safe.contains('\r'));
        assert_eq!(
            safe,
            "Lunch^[[2J^[]52;c;ZXZpbA==^G <U+009B>31m evil<U+202E>txt.exe^M!"
        );
        let line = terminal_line(summary);
        assert_no_controls(&line, false);
        assert!(!line.contains('\n'));
    }

    #[test]
    fn r9_5_terminal_safe_keeps_newline_and_tab_and_text() {
        assert_eq!(terminal_safe("a\tb\nc é 日本"), "a\tb\nc é 日本");
        assert_eq!(terminal_safe("a\r\nb"), "a\nb");
        assert_eq!(terminal_safe("\0\x7f\u{85}"), "^@^?<U+0085>");
    }

    #[test]
    fn r9_5_all_bidi_controls_are_made_visible() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            assert!(!terminal_safe(&c.to_string()).contains(c));
        }
        for c in [
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            assert!(!terminal_line(&c.to_string()).contains(c));
            assert!(!header_text(&format!("a{c}b"), 10).contains(c));
        }
    }

    #[test]
    fn r9_5_terminal_line_is_one_line() {
        assert_eq!(terminal_line("a\nb\r\nc\rd\te"), "a b c d e");
        assert_eq!(terminal_line("x\x1b[1A"), "x^[[1A");
    }

    #[test]
    fn r9_5_terminal_excerpt_is_one_safe_line_of_bounded_length() {
        assert_eq!(
            terminal_excerpt("a\x1b[31mb\r\nc\n\n  d \u{202e}e\u{9b}", 100),
            "a^[[31mb / c / d <U+202E>e<U+009B>"
        );
        assert_eq!(terminal_excerpt("abcdef", 3), "ab…");
        assert_eq!(terminal_excerpt("abc", 3), "abc");
        assert_eq!(terminal_excerpt("\r\n \n", 10), "");
        assert_no_controls(&terminal_excerpt("x\u{2067}\t\u{7f}y", 50), false);
    }

    #[test]
    fn t56_header_text_removes_line_breaks_and_controls() {
        assert_eq!(header_text("Lunch\nBcc: evil@x", 200), "Lunch Bcc: evil@x");
        assert_eq!(
            header_text("  a\r\n\t b \u{85}c\u{202E}d  ", 200),
            "a b c d"
        );
        assert_eq!(header_text("\x1b[2Jx", 200), "[2Jx");
        let out = header_text("x\r\nBcc: y\u{2028}z", 200);
        assert_no_controls(&out, false);
        assert!(!out.contains('\n') && !out.contains('\r'));
    }

    #[test]
    fn r9_6_header_text_truncates_on_char_boundary() {
        assert_eq!(header_text("abcdef", 6), "abcdef");
        assert_eq!(header_text("abcdefg", 6), "abcde…");
        assert_eq!(header_text("ééééééé", 4), "ééé…");
        assert_eq!(header_text("ab cdef", 4), "ab…");
        assert_eq!(header_text("abc", 0), "");
        assert_eq!(header_text("", 10), "");
        assert!(header_text(&"日本語".repeat(100), 50).chars().count() <= 50);
    }

    #[test]
    fn r9_6_safe_msg_ids() {
        assert!(is_safe_msg_id("CAB123+x=y@mail.gmail.com"));
        assert!(is_safe_msg_id("a.b@[127.0.0.1]"));
        assert!(!is_safe_msg_id(""));
        assert!(!is_safe_msg_id("no-at-sign"));
        assert!(!is_safe_msg_id("a@b@c"));
        assert!(!is_safe_msg_id("@b"));
        assert!(!is_safe_msg_id("a@"));
        assert!(!is_safe_msg_id("a b@c"));
        assert!(!is_safe_msg_id("a@c>\r\nBcc: evil@x"));
        assert!(!is_safe_msg_id("<a@b>"));
        assert!(!is_safe_msg_id("a\"q@b"));
        assert!(!is_safe_msg_id("é@b"));
        assert!(!is_safe_msg_id(&format!(
            "{}@b",
            "a".repeat(MAX_MSG_ID_LEN)
        )));
    }
}
