//! The iMIP message around a REPLY, written byte by byte (the domain may not
//! use a mail library for writing).
//!
//! Structure (R7.6, CalConnect best practice):
//!
//! ```text
//! multipart/mixed
//!   multipart/alternative
//!     text/plain; charset=UTF-8                   quoted-printable
//!     text/html; charset=UTF-8                    quoted-printable (omitted when empty)
//!     text/calendar; method=REPLY; charset=UTF-8  base64
//!   application/ics; name="invite.ics"            base64, attachment, same bytes
//! ```
//!
//! Header text from the calendar is hostile (R9.6, T56): Subject and display
//! names go through [`header_text`] and then RFC 2047 encoding, addresses are
//! validated, message ids copied from the invitation are checked with
//! [`is_safe_msg_id`]. Every line ends in CRLF and is at most 78 characters
//! (base64 lines 76); only a single address or message id longer than a line
//! can exceed that, up to RFC 5322's hard limit.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};

use crate::domain::extract::Mailbox;
use crate::domain::sanitize::{header_text, is_safe_msg_id, terminal_line};

/// Subject length limit, in characters, after sanitising (R9.6).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Display name length limit, in characters, after sanitising (R9.6).
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// Most message ids written to References (the first one plus the latest).
pub const MAX_REFERENCES: usize = 20;
/// Longest address accepted (RFC 5321 path limit).
pub const MAX_ADDRESS_LEN: usize = 254;

/// Preferred maximum header line length (RFC 5322 §2.1.1).
const MAX_LINE: usize = 78;
/// Bytes of UTF-8 per RFC 2047 encoded-word: 39 bytes give 52 base64
/// characters, 64 with the `=?UTF-8?B?` … `?=` frame, so "Subject: " plus one
/// word stays under 78.
const ENCODED_WORD_BYTES: usize = 39;
/// Quoted-printable and base64 body lines (RFC 2045).
const BODY_LINE: usize = 76;

/// Everything that goes into one outgoing iMIP message.
#[derive(Debug, Clone)]
pub struct ImipMessage<'a> {
    /// From: my attendee address (R7.8).
    pub from: &'a Mailbox,
    /// To: the organizer (R7.7).
    pub to: &'a [Mailbox],
    /// Raw subject; the builder sanitises it with [`header_text`].
    pub subject: &'a str,
    /// Date header.
    pub date: DateTime<FixedOffset>,
    /// Message-ID without `<>`; the same across retries (R7.11, R9.13).
    pub message_id: &'a str,
    /// The invitation's Message-ID, without `<>` (R7.11).
    pub in_reply_to: Option<&'a str>,
    /// The invitation's References, without `<>`. `in_reply_to` is appended
    /// when it is not already there (R7.11).
    pub references: &'a [String],
    /// The iTIP method, e.g. "REPLY".
    pub method: &'a str,
    /// Human-readable summary (R7.6, already sanitised for content).
    pub text_body: &'a str,
    /// HTML alternative; no HTML part is written when empty.
    pub html_body: &'a str,
    /// The calendar object, UTF-8 with CRLF line ends.
    pub ics: &'a [u8],
    /// File name of the application/ics copy, e.g. "invite.ics".
    pub attachment_name: &'a str,
    /// Add `Auto-Submitted: auto-replied` (R7.11, RFC 3834).
    pub auto_submitted: bool,
}

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// An address that cannot be written safely into a header.
    #[error("invalid e-mail address {address}: {reason}")]
    BadAddress {
        /// The address, quoted and escaped.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The message has nobody to go to.
    #[error("the {method} message has no recipient")]
    NoRecipients {
        /// The iTIP method.
        method: String,
    },
    /// Our own Message-ID is not a plain `local@domain`.
    #[error(
        "invalid Message-ID {id}: it must be printable ASCII local@domain without spaces or <>"
    )]
    BadMessageId {
        /// The id, quoted and escaped.
        id: String,
    },
    /// The method is not an iTIP method token.
    #[error("invalid iTIP method {method}: only letters and '-' are allowed")]
    BadMethod {
        /// The method, quoted and escaped.
        method: String,
    },
    /// The attachment file name could break the MIME header.
    #[error(
        "invalid attachment name {name}: use letters, digits, '.', '-', '_' and spaces, not starting with '.'"
    )]
    BadAttachmentName {
        /// The name, quoted and escaped.
        name: String,
    },
    /// The calendar must be UTF-8 because it is labelled charset=UTF-8.
    #[error("the calendar object of message <{message_id}> is not valid UTF-8 (at byte {offset})")]
    IcsNotUtf8 {
        /// Our Message-ID.
        message_id: String,
        /// First invalid byte.
        offset: usize,
    },
    /// No boundary could be found that is absent from the content.
    #[error("no MIME boundary absent from the content of message <{message_id}> was found")]
    NoBoundary {
        /// Our Message-ID.
        message_id: String,
    },
}

/// Builds the complete message (headers and body) with CRLF line ends.
pub fn build(msg: &ImipMessage) -> Result<Vec<u8>, MessageError> {
    if !is_safe_msg_id(msg.message_id) {
        return Err(MessageError::BadMessageId {
            id: quote(msg.message_id),
        });
    }
    let method = checked_method(msg.method)?;
    check_attachment_name(msg.attachment_name)?;
    if let Err(e) = std::str::from_utf8(msg.ics) {
        return Err(MessageError::IcsNotUtf8 {
            message_id: msg.message_id.to_owned(),
            offset: e.valid_up_to(),
        });
    }
    if msg.to.is_empty() {
        return Err(MessageError::NoRecipients { method });
    }

    let mut head = String::new();
    head.push_str(&fold_header("From", &mailbox_words(msg.from, false)?));
    let mut to_words = Vec::new();
    for (i, mailbox) in msg.to.iter().enumerate() {
        to_words.extend(mailbox_words(mailbox, i + 1 < msg.to.len())?);
    }
    head.push_str(&fold_header("To", &to_words));
    head.push_str(&fold_header("Subject", &subject_words(msg.subject)));
    head.push_str(&format!("Date: {}\r\n", msg.date.to_rfc2822()));
    head.push_str(&fold_header(
        "Message-ID",
        &[format!("<{}>", msg.message_id)],
    ));
    let in_reply_to = msg.in_reply_to.filter(|id| is_safe_msg_id(id));
    if let Some(id) = in_reply_to {
        head.push_str(&fold_header("In-Reply-To", &[format!("<{id}>")]));
    }
    let references = references(msg.references, in_reply_to);
    if !references.is_empty() {
        let words: Vec<String> = references.iter().map(|id| format!("<{id}>")).collect();
        head.push_str(&fold_header("References", &words));
    }
    head.push_str("MIME-Version: 1.0\r\n");
    if msg.auto_submitted {
        head.push_str("Auto-Submitted: auto-replied\r\n");
    }

    let text = encode_quoted_printable(msg.text_body);
    let html = (!msg.html_body.is_empty()).then(|| encode_quoted_printable(msg.html_body));
    let ics = encode_base64(msg.ics);
    let contents: [&str; 4] = [&head, &text, html.as_deref().unwrap_or_default(), &ics];
    let mixed = boundary(msg.message_id, "mixed", &contents)?;
    let alternative = boundary(msg.message_id, "alt", &contents)?;

    let mut out = head;
    let _ = write!(
        out,
        "Content-Type: multipart/mixed;\r\n boundary=\"{mixed}\"\r\n\r\n\
         --{mixed}\r\n\
         Content-Type: multipart/alternative;\r\n boundary=\"{alternative}\"\r\n\r\n\
         --{alternative}\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n\
         {text}"
    );
    if let Some(html) = &html {
        let _ = write!(
            out,
            "--{alternative}\r\n\
             Content-Type: text/html; charset=UTF-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n\
             {html}"
        );
    }
    let name = msg.attachment_name;
    let _ = write!(
        out,
        "--{alternative}\r\n\
         Content-Type: text/calendar; method={method}; charset=UTF-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n\
         {ics}\
         --{alternative}--\r\n\
         --{mixed}\r\n\
         Content-Type: application/ics; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n\
         {ics}\
         --{mixed}--\r\n"
    );
    Ok(out.into_bytes())
}

/// Base64 (RFC 2045) with lines of 76 characters, each ending in CRLF.
/// Empty input gives an empty string.
pub fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The index is masked to 0..64, so the fallback is never used.
    let sextet = |n: u32, shift: u32| {
        ALPHABET
            .get(((n >> shift) & 63) as usize)
            .map_or('A', |&b| char::from(b))
    };
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 57 * 2 + 4);
    // 57 input bytes make one 76-character line.
    for line in bytes.chunks(BODY_LINE / 4 * 3) {
        for chunk in line.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
                << (8 * (3 - chunk.len()));
            out.push(sextet(n, 18));
            out.push(sextet(n, 12));
            out.push(if chunk.len() > 1 { sextet(n, 6) } else { '=' });
            out.push(if chunk.len() > 2 { sextet(n, 0) } else { '=' });
        }
        out.push_str("\r\n");
    }
    out
}

/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text: line ends become CRLF,
/// lines are at most 76 characters with soft breaks, trailing blanks, `=`,
/// controls and non-ASCII are encoded, and so are a leading `.` and `From `
/// so that no transport can alter the line. The result ends in CRLF.
fn encode_quoted_printable(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normalized.len() * 3 / 2);
    for line in normalized.split('\n') {
        let bytes = line.as_bytes();
        let mut current = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = match b {
                b'=' => false,
                b' ' | b'\t' => !last,
                b'.' if i == 0 => false,
                b'F' if i == 0 && line.starts_with("From ") => false,
                33..=126 => true,
                _ => false,
            };
            let token_len = if literal { 1 } else { 3 };
            // Keep room for the soft-break "=" unless this ends the line.
            let limit = if last { BODY_LINE } else { BODY_LINE - 1 };
            if current + token_len > limit {
                out.push_str("=\r\n");
                current = 0;
            }
            if literal {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "={b:02X}");
            }
            current += token_len;
        }
        out.push_str("\r\n");
    }
    out
}

/// Writes `Name: w1 w2 ...`, folding before a word when the line would
/// exceed [`MAX_LINE`]. A word is never split; a word too long for any line
/// gets a line of its own.
fn fold_header(name: &str, words: &[String]) -> String {
    let mut out = format!("{name}:");
    let mut line_len = out.len();
    for (i, word) in words.iter().enumerate() {
        if i > 0 && line_len + 1 + word.len() > MAX_LINE {
            out.push_str("\r\n ");
            line_len = 1;
        } else {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push_str("\r\n");
    out
}

/// The Subject as header words (R7.10, R9.6, T56): sanitised, then either
/// plain ASCII words or RFC 2047 encoded-words. Encoded-words are used for
/// non-ASCII text, for text that itself looks like an encoded-word (`=?`),
/// and for a word too long to fold.
fn subject_words(subject: &str) -> Vec<String> {
    let clean = header_text(subject, MAX_SUBJECT_CHARS);
    let plain = clean.is_ascii()
        && !clean.contains("=?")
        && clean
            .split(' ')
            .all(|w| w.len() < MAX_LINE - "Subject: ".len());
    if plain {
        clean
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        encoded_words(&clean)
    }
}

/// RFC 2047 B encoded-words, each holding whole characters.
fn encoded_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chunk_start = 0;
    let mut chunk_end = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if end - chunk_start > ENCODED_WORD_BYTES && chunk_end > chunk_start {
            words.push(encoded_word(
                text.get(chunk_start..chunk_end).unwrap_or_default(),
            ));
            chunk_start = chunk_end;
        }
        chunk_end = end;
    }
    if chunk_end > chunk_start {
        words.push(encoded_word(
            text.get(chunk_start..chunk_end).unwrap_or_default(),
        ));
    }
    words
}

fn encoded_word(chunk: &str) -> String {
    let b64 = encode_base64(chunk.as_bytes());
    format!("=?UTF-8?B?{}?=", b64.trim_end())
}

/// A mailbox as header words: display name (quoted string or encoded-words)
/// then `<address>`, or the bare address without a name. `comma` appends
/// the list separator to the last word.
fn mailbox_words(mailbox: &Mailbox, comma: bool) -> Result<Vec<String>, MessageError> {
    check_address(&mailbox.address)?;
    let name = mailbox
        .name
        .as_deref()
        .map(|n| header_text(n, MAX_DISPLAY_NAME_CHARS))
        .filter(|n| !n.is_empty());
    let mut words = match name {
        None => vec![mailbox.address.clone()],
        Some(name) => {
            let mut words = display_name_words(&name);
            words.push(format!("<{}>", mailbox.address));
            words
        }
    };
    if comma && let Some(last) = words.last_mut() {
        last.push(',');
    }
    Ok(words)
}

/// A quoted string for short ASCII names (`"Doe, Jane"`), encoded-words
/// otherwise (R9.6).
fn display_name_words(name: &str) -> Vec<String> {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    if name.is_ascii() && !name.contains("=?") && quoted.len() <= 64 {
        vec![quoted]
    } else {
        encoded_words(name)
    }
}

/// An address that can go into a header verbatim: one `@` with text on both
/// sides, printable ASCII, no whitespace or RFC 5322 specials.
fn check_address(address: &str) -> Result<(), MessageError> {
    let bad = |reason| {
        Err(MessageError::BadAddress {
            address: quote(address),
            reason,
        })
    };
    if address.is_empty() {
        return bad("it is empty");
    }
    if address.len() > MAX_ADDRESS_LEN {
        return bad("it is longer than 254 characters");
    }
    if address.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("it contains spaces or control characters");
    }
    if !address.is_ascii() {
        return bad("non-ASCII addresses (SMTPUTF8) are not supported");
    }
    if address.contains(['<', '>', '"', '(', ')', ',', ';', ':', '\\', '[', ']']) {
        return bad("it contains one of < > \" ( ) , ; : \\ [ ]");
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => bad("it must contain exactly one '@' with text on both sides"),
    }
}

/// The iTIP method as an upper-case token.
fn checked_method(method: &str) -> Result<String, MessageError> {
    let ok = !method.is_empty()
        && method.len() <= 20
        && method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-');
    if ok {
        Ok(method.to_ascii_uppercase())
    } else {
        Err(MessageError::BadMethod {
            method: quote(method),
        })
    }
}

fn check_attachment_name(name: &str) -> Result<(), MessageError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b' '));
    if ok {
        Ok(())
    } else {
        Err(MessageError::BadAttachmentName { name: quote(name) })
    }
}

/// References (R7.11, R9.6): the safe ids of the invitation's References,
/// without repeats, then its Message-ID; at most [`MAX_REFERENCES`], keeping
/// the first (the thread root) and the latest.
fn references(references: &[String], in_reply_to: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let candidates = references.iter().map(String::as_str).chain(in_reply_to);
    for id in candidates {
        let id = id.trim();
        if is_safe_msg_id(id) && !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.len() > MAX_REFERENCES {
        let tail = ids.split_off(ids.len() - (MAX_REFERENCES - 1));
        ids.truncate(1);
        ids.extend(tail);
    }
    ids
}

/// A boundary derived from the Message-ID (the domain has no randomness)
/// that occurs in none of `contents`. It starts with "=_", which neither
/// quoted-printable nor base64 output can contain, so the first candidate
/// is normally taken; the check makes that a guarantee.
fn boundary(message_id: &str, tag: &str, contents: &[&str]) -> Result<String, MessageError> {
    let hash = fnv1a(message_id.as_bytes());
    for attempt in 0..100u32 {
        let candidate = format!("=_rsvp_{hash:016x}_{tag}{attempt}");
        if !contents.iter().any(|c| c.contains(&candidate)) {
            return Ok(candidate);
        }
    }
    Err(MessageError::NoBoundary {
        message_id: message_id.to_owned(),
    })
}

/// 64-bit FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A hostile value made fit for an error message: escaped, one line, short.
fn quote(value: &str) -> String {
    let escaped: String = value.chars().take(120).collect();
    terminal_line(&format!("{:?}", escaped))
}

#[cfg(test)]
mod tests;
