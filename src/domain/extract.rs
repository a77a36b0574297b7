//! From the raw bytes of a message (or a bare `.ics` file) to every
//! iCalendar object it carries, charset-decoded and unfolded, plus the
//! header facts later stages need (R7.1, R7.4, R7.5, R8.2, R9.8, R9.9).
//!
//! What this module deliberately does *not* do: parse the iCalendar, or judge
//! whether the `method=` parameter matches METHOD (R7.2). Classification does
//! that on the parts returned here.
//!
//! mail-parser decodes text/* bodies lossily (a fold that splits a UTF-8
//! sequence turns into U+FFFD), so calendar parts are decoded here from the
//! raw bytes between the part offsets: transfer encoding first, then
//! unfolding at byte level (T07), then the declared charset.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Address, Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::domain::sanitize::{header_text, is_safe_msg_id};

/// Largest raw input accepted, in bytes (R9.8, T10).
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
/// Largest calendar part kept, in decoded bytes (R9.8, T10).
pub const MAX_CALENDAR_BYTES: usize = 1024 * 1024;
/// How many message/rfc822 levels are opened (R9.8; mail-parser's own limit
/// for encoded nested messages is also 3).
pub const MAX_NESTED_MESSAGES: usize = 3;
/// Deepest multipart nesting accepted inside one message (R9.8, T11).
pub const MAX_MULTIPART_DEPTH: usize = 32;
/// Most MIME parts accepted in one message, nested messages included (R9.8).
pub const MAX_PARTS: usize = 1000;

/// A mailbox from a header: an optional display name (decoded, unsanitised)
/// and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name as the sender wrote it (hostile: sanitise before use).
    pub name: Option<String>,
    /// The address, as written.
    pub address: String,
}

/// Header facts of the outer message. All text is hostile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageMeta {
    /// From (R7.9: the originator comes from the calendar, not from here).
    pub from: Vec<Mailbox>,
    /// Sender.
    pub sender: Option<Mailbox>,
    /// Reply-To.
    pub reply_to: Vec<Mailbox>,
    /// To.
    pub to: Vec<Mailbox>,
    /// Cc.
    pub cc: Vec<Mailbox>,
    /// Delivered-To and X-Original-To addresses, in header order.
    pub delivered_to: Vec<String>,
    /// Message-ID without `<>`, only if it passes [`is_safe_msg_id`].
    pub message_id: Option<String>,
    /// References ids without `<>`, only those passing [`is_safe_msg_id`].
    pub references: Vec<String>,
    /// Subject, RFC 2047-decoded, unsanitised.
    pub subject: Option<String>,
    /// Date as unix seconds.
    pub date: Option<i64>,
}

/// One calendar object found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPart {
    /// Lower-case MIME type: "text/calendar", "application/ics", or the
    /// unusual type of a part picked by its `.ics` file name.
    pub content_type: String,
    /// Upper-case `method=` parameter, if present (R7.1: no parameter, no iMIP).
    pub method_param: Option<String>,
    /// Declared charset, lower case.
    pub charset: Option<String>,
    /// File name from Content-Disposition or Content-Type `name=`.
    pub filename: Option<String>,
    /// Charset-decoded, unfolded (R8.2) iCalendar text; line ends as found.
    pub text: String,
    /// What was odd about this part (bad bytes, unusual type, ...).
    pub warnings: Vec<String>,
}

/// Everything [`extract`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extracted {
    /// Headers of the outer message; `None` for a bare iCalendar file.
    pub meta: Option<MessageMeta>,
    /// Calendar parts in document order, duplicates removed (R7.1, T02).
    pub parts: Vec<CalendarPart>,
    /// Message-level notes: skipped parts, recovered structure, ...
    pub warnings: Vec<String>,
}

/// Why a message could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The input is over [`MAX_MESSAGE_BYTES`] (R9.8, T10).
    #[error("message is too large: {size} bytes, the limit is {limit} bytes (R9.8)")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A bare iCalendar file is over [`MAX_CALENDAR_BYTES`] (R9.8, T10).
    #[error("calendar file is too large: {size} bytes, the limit is {limit} bytes (R9.8)")]
    CalendarTooLarge {
        /// Decoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Neither an RFC 5322 message nor an iCalendar file.
    #[error("not an e-mail message or iCalendar file: {reason}")]
    NotAMessage {
        /// What was wrong.
        reason: String,
    },
    /// MIME nesting beyond [`MAX_MULTIPART_DEPTH`] or [`MAX_NESTED_MESSAGES`]
    /// (R9.8, T11).
    #[error(
        "MIME structure nested too deeply: {what} reach depth {depth}, the limit is {limit} (R9.8)"
    )]
    TooDeep {
        /// "multiparts" or "attached messages".
        what: &'static str,
        /// Depth found (at least `limit + 1`).
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_PARTS`] MIME parts (R9.8).
    #[error("message has too many MIME parts: more than {limit} (R9.8)")]
    TooManyParts {
        /// The limit.
        limit: usize,
    },
}

/// Extracts every calendar object from a raw message or a bare `.ics` file.
///
/// A bare file (after an optional BOM and whitespace it starts with
/// `BEGIN:VCALENDAR`, any case) gives `meta: None` and one part of type
/// "text/calendar" without `method_param`.
pub fn extract(raw: &[u8]) -> Result<Extracted, ExtractError> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(ExtractError::TooLarge {
            size: raw.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    if is_bare_icalendar(raw) {
        return extract_bare(raw, Vec::new());
    }
    if is_bare_component(raw) {
        // Not a message either: hand it on and let the iCalendar parser
        // report what is missing.
        let warning = "the file starts with a component other than BEGIN:VCALENDAR".to_owned();
        return extract_bare(raw, vec![warning]);
    }
    // Some captures start with blank (or space-only) lines before the headers.
    let raw = trim_leading_blank_lines(raw);
    if !looks_like_message(raw) {
        return Err(ExtractError::NotAMessage {
            reason: "the input does not start with a header field or BEGIN:VCALENDAR".into(),
        });
    }
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or_else(|| ExtractError::NotAMessage {
            reason: "no header fields found".into(),
        })?;

    let mut walk = Walk::default();
    walk.message(&message, 0)?;
    let Walk {
        candidates,
        mut warnings,
        ..
    } = walk;
    let parts = dedup(candidates, &mut warnings);
    Ok(Extracted {
        meta: Some(meta_of(&message)),
        parts,
        warnings,
    })
}

/// Removes every line break (CRLF or bare LF) that is followed by exactly one
/// space or tab, together with that one whitespace character (R8.2). Works on
/// bytes, so a fold that split a UTF-8 sequence joins it again (T07).
pub fn unfold_bytes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let fold_len = match (b, raw.get(i + 1), raw.get(i + 2)) {
            (b'\r', Some(b'\n'), Some(b' ' | b'\t')) => 3,
            (b'\n', Some(b' ' | b'\t'), _) => 2,
            _ => 0,
        };
        if fold_len > 0 {
            i += fold_len;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// Unfolds (R8.2) and charset-decodes calendar bytes into valid UTF-8 (R7.4,
/// R9.9), returning the text and warnings about anything that was repaired.
///
/// - No charset (or US-ASCII) and valid UTF-8: UTF-8. Invalid UTF-8: decoded
///   as windows-1252 with a warning (real Latin-1 `.ics` files exist).
/// - UTF-8 declared but invalid: U+FFFD replacement with a warning (T09).
/// - Other charsets through mail-parser's decoders (Latin-1, windows-125x,
///   ks_c_5601-1987, ...); UTF-16 and UTF-7 are decoded before unfolding.
/// - An unknown charset is treated like a missing one, with a warning.
/// - A leading byte-order mark is removed.
pub fn decode_ical_bytes(raw: &[u8], charset: Option<&str>) -> (String, Vec<String>) {
    let mut warnings = Vec::new();
    let (raw, had_bom) = match raw.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (raw, false),
    };
    let label = charset
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .filter(|c| !c.is_empty());
    let label = match label {
        // A UTF-8 byte-order mark outweighs a declared single-byte charset.
        Some(_) if had_bom => Some("utf-8".to_owned()),
        other => other,
    };

    let text = match label.as_deref() {
        None | Some("us-ascii" | "ascii" | "us_ascii") => {
            decode_utf8_or_cp1252(&unfold_bytes(raw), None, &mut warnings)
        }
        Some(l) if is_utf8_label(l) => {
            decode_utf8_or_cp1252(&unfold_bytes(raw), Some(l), &mut warnings)
        }
        Some(l) => match charset_decoder(l.as_bytes()) {
            Some(decode) if is_ascii_incompatible(l) => {
                let decoded = decode(raw);
                lossy_utf8(unfold_bytes(decoded.as_bytes()))
            }
            Some(decode) => {
                let decoded = decode(&unfold_bytes(raw));
                if decoded.contains('\u{FFFD}') {
                    warnings.push(format!(
                        "bytes not valid in charset \"{}\" were replaced by U+FFFD (R9.9)",
                        header_text(l, 40)
                    ));
                }
                decoded
            }
            None => {
                warnings.push(format!(
                    "unknown charset \"{}\"; decoded as UTF-8 (R7.4)",
                    header_text(l, 40)
                ));
                decode_utf8_or_cp1252(&unfold_bytes(raw), None, &mut warnings)
            }
        },
    };
    let text = match text.strip_prefix('\u{FEFF}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    (text, warnings)
}

fn is_utf8_label(label: &str) -> bool {
    matches!(
        label,
        "utf-8" | "utf8" | "utf_8" | "unicode-1-1-utf-8" | "x-unicode20utf8"
    )
}

/// Charsets whose line breaks are not the ASCII bytes CR and LF, so unfolding
/// must happen after decoding.
fn is_ascii_incompatible(label: &str) -> bool {
    label.starts_with("utf-16")
        || label.starts_with("utf_16")
        || label.starts_with("utf-32")
        || label.starts_with("utf-7")
        || label.starts_with("utf_7")
}

/// `declared_utf8` is the label when UTF-8 was declared.
fn decode_utf8_or_cp1252(
    bytes: &[u8],
    declared_utf8: Option<&str>,
    warnings: &mut Vec<String>,
) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    if declared_utf8.is_some() {
        warnings.push("invalid UTF-8 bytes were replaced by U+FFFD (R9.9)".into());
        return String::from_utf8_lossy(bytes).into_owned();
    }
    match charset_decoder(b"windows-1252") {
        Some(decode) => {
            warnings.push(
                "no charset declared and the bytes are not UTF-8; decoded as windows-1252 (R7.4, R9.9)"
                    .into(),
            );
            decode(bytes)
        }
        None => {
            warnings.push("invalid UTF-8 bytes were replaced by U+FFFD (R9.9)".into());
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

fn lossy_utf8(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// After an optional UTF-8 BOM and whitespace, the input starts with
/// `BEGIN:VCALENDAR` in any case.
fn is_bare_icalendar(raw: &[u8]) -> bool {
    starts_with_ignore_case(skip_bom_and_whitespace(raw), b"BEGIN:VCALENDAR")
}

/// A lone component such as `BEGIN:VEVENT` without the VCALENDAR around it.
fn is_bare_component(raw: &[u8]) -> bool {
    starts_with_ignore_case(skip_bom_and_whitespace(raw), b"BEGIN:V")
}

fn skip_bom_and_whitespace(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(raw.len());
    raw.get(start..).unwrap_or_default()
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack
        .get(..prefix.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(prefix))
}

/// `raw` without leading lines that hold only whitespace.
fn trim_leading_blank_lines(raw: &[u8]) -> &[u8] {
    let mut rest = raw;
    while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
        let line = rest.get(..newline).unwrap_or_default();
        if !line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        rest = rest.get(newline + 1..).unwrap_or_default();
    }
    rest
}

/// The first line is a header field (`Name:`), optionally after an mbox
/// `From ` line. mail-parser alone accepts any text as a "header".
fn looks_like_message(raw: &[u8]) -> bool {
    let mut lines = raw.split(|&b| b == b'\n');
    let mut first = lines.next().unwrap_or_default();
    if first.starts_with(b"From ") {
        first = lines.next().unwrap_or_default();
    }
    match first.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => first
            .get(..colon)
            .is_some_and(|name| name.iter().all(|&b| (b'!'..=b'~').contains(&b))),
        _ => false,
    }
}

fn extract_bare(raw: &[u8], mut warnings: Vec<String>) -> Result<Extracted, ExtractError> {
    let (text, decode_warnings) = decode_ical_bytes(raw, None);
    warnings.extend(decode_warnings);
    let text = text.trim_start().to_owned();
    if text.len() > MAX_CALENDAR_BYTES {
        return Err(ExtractError::CalendarTooLarge {
            size: text.len(),
            limit: MAX_CALENDAR_BYTES,
        });
    }
    Ok(Extracted {
        meta: None,
        parts: vec![CalendarPart {
            content_type: "text/calendar".into(),
            method_param: None,
            charset: None,
            filename: None,
            text,
            warnings,
        }],
        warnings: Vec::new(),
    })
}

/// Walks messages and their attached messages without recursion on MIME
/// nesting: mail-parser keeps all parts of one message in a flat list.
#[derive(Default)]
struct Walk {
    candidates: Vec<CalendarPart>,
    warnings: Vec<String>,
    parts_seen: usize,
}

impl Walk {
    /// `depth` counts attached-message levels above `message` (0 = outer).
    /// Recursion happens only for attached messages and for a multipart
    /// whose boundary had to be recovered, both bounded by
    /// [`MAX_NESTED_MESSAGES`].
    fn message(&mut self, message: &Message<'_>, depth: usize) -> Result<(), ExtractError> {
        if depth > MAX_NESTED_MESSAGES {
            return Err(ExtractError::TooDeep {
                what: "attached messages",
                depth,
                limit: MAX_NESTED_MESSAGES,
            });
        }
        check_multipart_depth(message)?;
        let raw: &[u8] = message.raw_message.as_ref();
        for part in &message.parts {
            self.parts_seen += 1;
            if self.parts_seen > MAX_PARTS {
                return Err(ExtractError::TooManyParts { limit: MAX_PARTS });
            }
            match &part.body {
                PartType::Message(nested) => self.message(nested, depth + 1)?,
                PartType::Multipart(_) => {}
                _ if is_multipart(part) => self.recover_multipart(part, raw, depth)?,
                _ => self.leaf(part, raw),
            }
        }
        Ok(())
    }

    /// A multipart whose declared boundary never occurs in its body (the
    /// CalConnect example does this). mail-parser then returns the whole body
    /// as text. If the body opens with a `--boundary` line, parse it again
    /// with that boundary.
    fn recover_multipart(
        &mut self,
        part: &MessagePart<'_>,
        raw: &[u8],
        depth: usize,
    ) -> Result<(), ExtractError> {
        let body = part_body(part, raw);
        let Some(boundary) = first_boundary_line(body) else {
            return Ok(());
        };
        self.warnings.push(format!(
            "the declared multipart boundary does not occur in the body; parsed with the boundary \"{}\" found there instead",
            header_text(&boundary, 80)
        ));
        let mut synthetic =
            format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n").into_bytes();
        synthetic.extend_from_slice(body);
        match MessageParser::default().parse(&synthetic) {
            Some(inner) => self.message(&inner, depth + 1),
            None => Ok(()),
        }
    }

    fn leaf(&mut self, part: &MessagePart<'_>, raw: &[u8]) {
        let Some((content_type, unusual)) = calendar_type(part) else {
            return;
        };
        let index = self.candidates.len() + 1;
        let mut warnings = Vec::new();
        if unusual {
            warnings.push(format!(
                "calendar file sent as \"{}\" instead of text/calendar (picked by its .ics file name)",
                header_text(&content_type, 60)
            ));
        }
        let body = part_body(part, raw);
        // Quoted-printable can triple the size; anything larger cannot decode
        // to an acceptable calendar, so do not even decode it.
        if body.len() > 3 * MAX_CALENDAR_BYTES + 64 * 1024 {
            self.warnings
                .push(too_large_warning(index, &content_type, body.len()));
            return;
        }
        let Some(bytes) = transfer_decode(part, body, &mut warnings) else {
            self.warnings.push(format!(
                "calendar part {index} ({content_type}) skipped: its transfer encoding could not be decoded"
            ));
            return;
        };
        if bytes.len() > MAX_CALENDAR_BYTES {
            self.warnings
                .push(too_large_warning(index, &content_type, bytes.len()));
            return;
        }
        let content = part.content_type();
        let charset = content
            .and_then(|ct| attribute_ci(ct, "charset"))
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty());
        let method_param = content
            .and_then(|ct| attribute_ci(ct, "method"))
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| !m.is_empty());
        let (text, decode_warnings) = decode_ical_bytes(&bytes, charset.as_deref());
        warnings.extend(decode_warnings);
        self.candidates.push(CalendarPart {
            content_type,
            method_param,
            charset,
            filename: part.attachment_name().map(str::to_owned),
            text,
            warnings,
        });
    }
}

fn too_large_warning(index: usize, content_type: &str, size: usize) -> String {
    format!(
        "calendar part {index} ({content_type}) skipped: {size} bytes is over the limit of {MAX_CALENDAR_BYTES} bytes (R9.8)"
    )
}

/// Rejects multipart nesting deeper than [`MAX_MULTIPART_DEPTH`]. Parents
/// come before their children in `parts`, so one forward pass suffices.
fn check_multipart_depth(message: &Message<'_>) -> Result<(), ExtractError> {
    let mut depth = vec![0usize; message.parts.len()];
    for (id, part) in message.parts.iter().enumerate() {
        if let PartType::Multipart(children) = &part.body {
            let child_depth = depth.get(id).copied().unwrap_or(0) + 1;
            if child_depth > MAX_MULTIPART_DEPTH {
                return Err(ExtractError::TooDeep {
                    what: "multiparts",
                    depth: child_depth,
                    limit: MAX_MULTIPART_DEPTH,
                });
            }
            for &child in children {
                if let Some(d) = depth.get_mut(child as usize)
                    && child as usize > id
                {
                    *d = child_depth;
                }
            }
        }
    }
    Ok(())
}

fn is_multipart(part: &MessagePart<'_>) -> bool {
    part.content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
}

/// The raw (still transfer-encoded) body of `part` inside `raw`.
fn part_body<'r>(part: &MessagePart<'_>, raw: &'r [u8]) -> &'r [u8] {
    let start = part.offset_body as usize;
    let end = (part.offset_end as usize).min(raw.len());
    raw.get(start..end).unwrap_or_default()
}

/// The first line of `body` that looks like `--boundary`, if its boundary is
/// made of RFC 2046 bchars.
fn first_boundary_line(body: &[u8]) -> Option<String> {
    let line = body
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))?;
    let boundary = line.strip_prefix(b"--")?;
    let boundary = std::str::from_utf8(boundary).ok()?.trim_end();
    let valid = !boundary.is_empty()
        && boundary.len() <= 70
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b));
    valid.then(|| boundary.to_owned())
}

/// Whether `part` carries a calendar: the lower-case MIME type and whether
/// that type is unusual (the part was picked by its `.ics` file name).
fn calendar_type(part: &MessagePart<'_>) -> Option<(String, bool)> {
    let (ctype, subtype) = match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        ),
        None => ("text".to_owned(), "plain".to_owned()),
    };
    if ctype == "multipart" || ctype == "message" {
        return None;
    }
    // The type is written into warnings and shown later: keep it tame.
    let full = header_text(&format!("{ctype}/{subtype}"), 100);
    if full == "text/calendar" || full == "application/ics" {
        return Some((full, false));
    }
    let by_name = part.attachment_name().is_some_and(|name| {
        let name = name.trim().as_bytes();
        name.len() >= 4
            && name
                .get(name.len() - 4..)
                .is_some_and(|ext| ext.eq_ignore_ascii_case(b".ics"))
    });
    by_name.then_some((full, true))
}

/// Case-insensitive parameter lookup.
fn attribute_ci<'a>(ct: &'a mail_parser::ContentType<'_>, name: &str) -> Option<&'a str> {
    ct.attributes()?
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value.as_ref())
}

/// Undoes the Content-Transfer-Encoding (R7.5: accept every encoding).
fn transfer_decode(
    part: &MessagePart<'_>,
    body: &[u8],
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    match part.encoding {
        Encoding::Base64 => base64_decode(body).or_else(|| {
            let cleaned: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                .collect();
            let decoded = base64_decode(&cleaned)?;
            warnings.push("stray characters in the base64 body were ignored".into());
            Some(decoded)
        }),
        Encoding::QuotedPrintable => Some(quoted_printable_decode(body).unwrap_or_else(|| {
            warnings.push("invalid quoted-printable sequences were kept literally".into());
            lenient_qp_decode(body)
        })),
        Encoding::None => {
            if !contains_ignore_case(body, b"BEGIN:VCALENDAR")
                && let Some(decoded) = mislabelled_base64(body)
            {
                warnings.push(
                    "the part is base64 although its transfer encoding says otherwise; decoded as base64"
                        .into(),
                );
                return Some(decoded);
            }
            Some(body.to_vec())
        }
    }
}

/// The CalConnect example labels base64 content as 7bit. Accept it when the
/// body is nothing but base64 and decodes to an iCalendar object.
fn mislabelled_base64(body: &[u8]) -> Option<Vec<u8>> {
    let looks_base64 = body.iter().any(|b| !b.is_ascii_whitespace())
        && body.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
        });
    if !looks_base64 {
        return None;
    }
    let decoded = base64_decode(body)?;
    is_bare_icalendar(&decoded).then_some(decoded)
}

/// Quoted-printable that keeps what it cannot decode.
fn lenient_qp_decode(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = |k: usize| body.get(i + k).and_then(|&c| (c as char).to_digit(16));
        if let (Some(h), Some(l)) = (hex(1), hex(2)) {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        // A soft line break: "=" then optional trailing blanks then a newline.
        let mut j = i + 1;
        while matches!(body.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match (body.get(j), body.get(j + 1)) {
            (Some(b'\r'), Some(b'\n')) => i = j + 2,
            (Some(b'\n'), _) => i = j + 1,
            _ => {
                out.push(b'=');
                i += 1;
            }
        }
    }
    out
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Drops parts that repeat an earlier one (R7.1, T02): the same text after
/// normalising line ends, or the same METHOD/UID/SEQUENCE/DTSTAMP (and
/// RECURRENCE-ID) lines. Of two copies the one with a `method=` parameter,
/// then the text/calendar one, wins; it takes the earlier position.
fn dedup(candidates: Vec<CalendarPart>, warnings: &mut Vec<String>) -> Vec<CalendarPart> {
    struct Kept {
        part: CalendarPart,
        normalized: String,
        key: Option<Vec<String>>,
    }
    let mut kept: Vec<Kept> = Vec::new();
    for (i, part) in candidates.into_iter().enumerate() {
        let normalized = normalize_text(&part.text);
        let key = identity_key(&part.text);
        let same = kept
            .iter()
            .position(|k| k.normalized == normalized)
            .map(|pos| (pos, true))
            .or_else(|| {
                let key = key.as_ref()?;
                kept.iter()
                    .position(|k| k.key.as_ref() == Some(key))
                    .map(|pos| (pos, false))
            });
        match same {
            None => kept.push(Kept {
                part,
                normalized,
                key,
            }),
            Some((pos, identical)) => {
                if !identical {
                    warnings.push(format!(
                        "calendar part {} ({}) has the same METHOD, UID, SEQUENCE and DTSTAMP as an earlier part but different content; only one copy is used",
                        i + 1,
                        part.content_type
                    ));
                }
                if let Some(k) = kept.get_mut(pos)
                    && rank(&part) > rank(&k.part)
                {
                    *k = Kept {
                        part,
                        normalized,
                        key,
                    };
                }
            }
        }
    }
    kept.into_iter().map(|k| k.part).collect()
}

fn rank(part: &CalendarPart) -> (bool, bool) {
    (
        part.method_param.is_some(),
        part.content_type == "text/calendar",
    )
}

fn normalize_text(text: &str) -> String {
    text.replace("\r\n", "\n").trim().to_owned()
}

/// The METHOD, UID, SEQUENCE, DTSTAMP and RECURRENCE-ID lines in order, with
/// upper-case names; `None` without any UID line.
fn identity_key(text: &str) -> Option<Vec<String>> {
    let mut key = Vec::new();
    let mut has_uid = false;
    for line in text.lines() {
        let line = line.trim();
        let name_end = line.find([':', ';']).unwrap_or(line.len());
        let name = line
            .get(..name_end)
            .unwrap_or_default()
            .to_ascii_uppercase();
        if matches!(
            name.as_str(),
            "METHOD" | "UID" | "SEQUENCE" | "DTSTAMP" | "RECURRENCE-ID"
        ) {
            has_uid |= name == "UID";
            key.push(format!(
                "{name}{}",
                line.get(name_end..).unwrap_or_default()
            ));
        }
    }
    has_uid.then_some(key)
}

fn meta_of(message: &Message<'_>) -> MessageMeta {
    let mut delivered_to = Vec::new();
    for header in ["Delivered-To", "X-Original-To"] {
        for value in message.header_values(header) {
            if let Some(text) = value.as_text() {
                let addr = text
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim();
                if !addr.is_empty() {
                    delivered_to.push(addr.to_owned());
                }
            }
        }
    }
    let references = match message.references() {
        mail_parser::HeaderValue::Text(id) => vec![id.to_string()],
        mail_parser::HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    };
    MessageMeta {
        from: mailboxes(message.from()),
        sender: mailboxes(message.sender()).into_iter().next(),
        reply_to: mailboxes(message.reply_to()),
        to: mailboxes(message.to()),
        cc: mailboxes(message.cc()),
        delivered_to,
        message_id: message
            .message_id()
            .map(str::trim)
            .filter(|id| is_safe_msg_id(id))
            .map(str::to_owned),
        references: references
            .into_iter()
            .map(|id| id.trim().to_owned())
            .filter(|id| is_safe_msg_id(id))
            .collect(),
        subject: message.subject().map(str::to_owned),
        date: message
            .date()
            .filter(|d| d.is_valid())
            .map(|d| d.to_timestamp()),
    }
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else {
        return Vec::new();
    };
    address
        .iter()
        .filter_map(|a| {
            let addr = a.address()?.trim();
            (!addr.is_empty()).then(|| Mailbox {
                name: a.name().map(str::to_owned).filter(|n| !n.trim().is_empty()),
                address: addr.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Own fixtures, compiled in so that the domain tests touch no files.
    fn fixture(name: &str) -> Vec<u8> {
        let bytes: &[u8] = match name {
            "google-request-split-utf8.eml" => {
                include_bytes!("../../tests/fixtures/extract/google-request-split-utf8.eml")
            }
            "outlook-alternative-qp.eml" => {
                include_bytes!("../../tests/fixtures/extract/outlook-alternative-qp.eml")
            }
            "apple-cancel-8bit-lf.eml" => {
                include_bytes!("../../tests/fixtures/extract/apple-cancel-8bit-lf.eml")
            }
            "thunderbird-windows1252-qp.eml" => {
                include_bytes!("../../tests/fixtures/extract/thunderbird-windows1252-qp.eml")
            }
            "forwarded-rfc822.eml" => {
                include_bytes!("../../tests/fixtures/extract/forwarded-rfc822.eml")
            }
            other => panic!("unknown fixture {other}"),
        };
        bytes.to_vec()
    }

    fn b64(bytes: &[u8]) -> String {
        crate::domain::reply::message::encode_base64(bytes)
    }

    /// A single-part message with the given Content-Type, transfer encoding and body.
    fn single_part(content_type: &str, cte: &str, body: &[u8]) -> Vec<u8> {
        let mut m = format!(
            "From: Org <org@example.com>\r\nTo: me@example.org\r\nSubject: x\r\n\
             Message-ID: <single@example.com>\r\nMIME-Version: 1.0\r\n\
             Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
        )
        .into_bytes();
        m.extend_from_slice(body);
        m
    }

    /// A multipart/mixed message from (headers, body) parts.
    fn mixed(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut m = b"From: org@example.com\r\nTo: me@example.org\r\nSubject: x\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
            .to_vec();
        for (headers, body) in parts {
            m.extend_from_slice(format!("--XX\r\n{headers}\r\n\r\n").as_bytes());
            m.extend_from_slice(body);
            m.extend_from_slice(b"\r\n");
        }
        m.extend_from_slice(b"--XX--\r\n");
        m
    }

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
        UID:abc-1\r\nSEQUENCE:1\r\nDTSTAMP:20261124T120000Z\r\nDTSTART:20261201T090000Z\r\n\
        SUMMARY:Plain summary\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in {text:?}"))
    }

    // ---- unfolding and decoding -------------------------------------------

    #[test]
    fn r8_2_unfold_removes_break_and_one_whitespace() {
        assert_eq!(unfold_bytes(b"A:b\r\n c\r\n"), b"A:bc\r\n");
        assert_eq!(unfold_bytes(b"A:b\n\tc\n"), b"A:bc\n");
        assert_eq!(unfold_bytes(b"A:b\r\n  c"), b"A:b c");
        assert_eq!(unfold_bytes(b"A:b\r\nC:d"), b"A:b\r\nC:d");
        assert_eq!(unfold_bytes(b"A:b\r\n"), b"A:b\r\n");
        assert_eq!(unfold_bytes(b"\r\n \r\n x"), b"x");
        assert_eq!(unfold_bytes(b""), b"");
    }

    #[test]
    fn t07_fold_inside_utf8_sequence_is_joined_before_decoding() {
        let (text, warnings) = decode_ical_bytes(b"SUMMARY:caf\xc3\r\n \xa9\r\n", Some("utf-8"));
        assert_eq!(text, "SUMMARY:caf\u{e9}\r\n");
        assert!(warnings.is_empty(), "{warnings:?}");
        let (text, _) = decode_ical_bytes(b"SUMMARY:\xe2\x80\n\t\x94\n", None);
        assert_eq!(text, "SUMMARY:\u{2014}\n");
    }

    #[test]
    fn t09_invalid_utf8_declared_utf8_is_replaced_with_warning() {
        let (text, warnings) = decode_ical_bytes(b"DESCRIPTION:a\xff\xfeb\r\n", Some("UTF-8"));
        assert_eq!(text, "DESCRIPTION:a\u{FFFD}\u{FFFD}b\r\n");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("U+FFFD"), "{warnings:?}");
    }

    #[test]
    fn r7_4_undeclared_non_utf8_is_decoded_as_windows_1252() {
        let (text, warnings) = decode_ical_bytes(b"SUMMARY:Caf\xe9 \x80\r\n", None);
        assert_eq!(text, "SUMMARY:Café €\r\n");
        assert!(warnings[0].contains("windows-1252"), "{warnings:?}");
        let (text, warnings) = decode_ical_bytes("SUMMARY:Café\r\n".as_bytes(), None);
        assert_eq!(text, "SUMMARY:Café\r\n");
        assert!(warnings.is_empty());
    }

    #[test]
    fn r7_4_declared_charsets_are_used() {
        let (text, w) = decode_ical_bytes(b"SUMMARY:Gr\xf6\xdfe\r\n", Some("ISO-8859-1"));
        assert_eq!((text.as_str(), w.len()), ("SUMMARY:Größe\r\n", 0));
        let (text, _) = decode_ical_bytes(
            b"SUMMARY:\xc0\xe4\xf0\xe8\xeb\xfc\r\n",
            Some("windows-1257"),
        );
        assert_eq!(text, "SUMMARY:Ąäščėü\r\n");
        // "회의" (meeting) in EUC-KR, which ks_c_5601-1987 labels in practice.
        let (text, w) = decode_ical_bytes(b"SUMMARY:\xc8\xb8\xc0\xc7\r\n", Some("ks_c_5601-1987"));
        assert_eq!((text.as_str(), w.len()), ("SUMMARY:회의\r\n", 0));
        let utf16: Vec<u8> = "SUMMARY:a\r\n b\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let (text, _) = decode_ical_bytes(&utf16, Some("utf-16le"));
        assert_eq!(text, "SUMMARY:ab\r\n");
    }

    #[test]
    fn r7_4_unknown_charset_falls_back_with_warning() {
        let (text, warnings) = decode_ical_bytes(b"SUMMARY:x\r\n", Some("x-made-up"));
        assert_eq!(text, "SUMMARY:x\r\n");
        assert!(warnings[0].contains("x-made-up"), "{warnings:?}");
    }

    #[test]
    fn bom_is_stripped() {
        let (text, _) = decode_ical_bytes(b"\xef\xbb\xbfBEGIN:VCALENDAR\r\n", Some("windows-1252"));
        assert_eq!(text, "BEGIN:VCALENDAR\r\n");
    }

    // ---- bare files and non-messages --------------------------------------

    #[test]
    fn bare_icalendar_file_is_accepted() {
        let mut raw = b"\xef\xbb\xbf \r\n".to_vec();
        raw.extend_from_slice(ICS.to_ascii_lowercase().as_bytes());
        let x = extract(&raw).unwrap();
        assert!(x.meta.is_none());
        assert_eq!(x.parts.len(), 1);
        let part = &x.parts[0];
        assert_eq!(part.content_type, "text/calendar");
        assert_eq!(part.method_param, None);
        assert!(
            part.text.starts_with("begin:vcalendar\r\n"),
            "{:?}",
            part.text
        );
    }

    #[test]
    fn bare_component_without_vcalendar_is_passed_on_with_warning() {
        let x = extract(b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n").unwrap();
        assert!(x.meta.is_none());
        assert_eq!(x.parts.len(), 1);
        assert!(!x.parts[0].warnings.is_empty());
    }

    #[test]
    fn not_a_message_is_an_error() {
        for raw in [
            &b""[..],
            b"just some words\nand more",
            b"   \n\n",
            b"\x00\x01\x02",
        ] {
            let err = extract(raw).unwrap_err();
            assert!(
                matches!(err, ExtractError::NotAMessage { .. }),
                "{raw:?}: {err:?}"
            );
        }
    }

    // ---- structures from real senders -------------------------------------

    #[test]
    fn t02_t07_google_structure_is_deduplicated_and_split_utf8_joined() {
        let x = extract(&fixture("google-request-split-utf8.eml")).unwrap();
        assert_eq!(x.parts.len(), 1, "{:?}", x.parts);
        let part = &x.parts[0];
        assert_eq!(part.content_type, "text/calendar");
        assert_eq!(part.method_param.as_deref(), Some("REQUEST"));
        assert_eq!(part.charset.as_deref(), Some("utf-8"));
        assert!(part.warnings.is_empty(), "{:?}", part.warnings);
        assert!(!part.text.contains('\u{FFFD}'));
        assert_eq!(
            line(&part.text, "SUMMARY"),
            "SUMMARY:Réunion d'équipe — planning café et budget"
        );
        assert!(line(&part.text, "ATTENDEE").contains(";RSVP=TRUE;CN=jane@example.org;"));
        assert!(x.warnings.is_empty(), "{:?}", x.warnings);

        let meta = x.meta.unwrap();
        assert_eq!(
            meta.subject.as_deref(),
            Some("Invitation: Réunion d'équipe")
        );
        assert_eq!(
            meta.message_id.as_deref(),
            Some("0000000000001234abcd@google.com")
        );
        assert_eq!(
            meta.delivered_to,
            ["jane@example.org", "jane+cal@example.org"]
        );
        assert_eq!(meta.from.len(), 1);
        assert_eq!(meta.from[0].address, "organizer@example.com");
        assert_eq!(meta.from[0].name.as_deref(), Some("Organizer Person"));
        assert_eq!(meta.reply_to[0].address, "organizer@example.com");
        assert_eq!(meta.date, Some(1795521600)); // 2026-11-24T12:00:00Z
    }

    #[test]
    fn t06_outlook_alternative_with_qp_and_upper_case_type() {
        let x = extract(&fixture("outlook-alternative-qp.eml")).unwrap();
        assert_eq!(x.parts.len(), 1);
        let part = &x.parts[0];
        assert_eq!(part.content_type, "text/calendar");
        assert_eq!(part.method_param.as_deref(), Some("REQUEST"));
        assert_eq!(
            line(&part.text, "SUMMARY"),
            "SUMMARY;LANGUAGE=de-DE:Größenplanung Q1"
        );
        assert_eq!(
            line(&part.text, "DESCRIPTION"),
            "DESCRIPTION;LANGUAGE=de-DE:Bitte um Rückmeldung bis Freitag. Die Tagesordnung folgt separat per E-Mail.\\n"
        );
        assert_eq!(
            line(&part.text, "RRULE"),
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10"
        );
        let meta = x.meta.unwrap();
        assert_eq!(meta.from[0].name.as_deref(), Some("Müller, Jürgen"));
        assert_eq!(meta.to.len(), 2);
        assert_eq!(meta.to[1].name.as_deref(), Some("Roe, Richard"));
        assert_eq!(meta.cc[0].address, "team@example.org");
        assert_eq!(meta.subject.as_deref(), Some("Größenplanung Q1"));
        // R9.6: the id with a space is dropped, the others kept in order.
        assert_eq!(meta.references, ["first@example.net", "second@example.net"]);
    }

    #[test]
    fn t08_apple_cancel_8bit_attachment_with_lf_line_ends() {
        let x = extract(&fixture("apple-cancel-8bit-lf.eml")).unwrap();
        assert_eq!(x.parts.len(), 1);
        let part = &x.parts[0];
        assert_eq!(part.method_param.as_deref(), Some("CANCEL"));
        assert_eq!(part.filename.as_deref(), Some("iCal-20261124-100000.ics"));
        assert_eq!(line(&part.text, "SUMMARY"), "SUMMARY:Weihnachtsfeier 🎄");
        assert!(part.text.starts_with("BEGIN:VCALENDAR\nVERSION:2.0\n"));
        assert!(part.text.trim_end().ends_with("END:VCALENDAR"));
    }

    #[test]
    fn t05_windows_1252_quoted_printable() {
        let x = extract(&fixture("thunderbird-windows1252-qp.eml")).unwrap();
        assert_eq!(x.parts.len(), 1);
        let part = &x.parts[0];
        assert_eq!(part.charset.as_deref(), Some("windows-1252"));
        assert_eq!(
            line(&part.text, "SUMMARY"),
            "SUMMARY:Café – Kuchen und Gespräche €ber das neue Projekt mit allen Beteiligten"
        );
    }

    #[test]
    fn r9_8_forwarded_message_and_ics_file_name() {
        let x = extract(&fixture("forwarded-rfc822.eml")).unwrap();
        assert_eq!(x.parts.len(), 2, "{:?}", x.parts);
        assert_eq!(x.parts[0].method_param.as_deref(), Some("CANCEL"));
        assert!(
            x.parts[0]
                .text
                .contains("UID:5F1D2E3C-AAAA-BBBB-CCCC-1234567890AB")
        );
        let octet = &x.parts[1];
        assert_eq!(octet.content_type, "application/octet-stream");
        assert_eq!(octet.filename.as_deref(), Some("meeting.ICS"));
        assert!(octet.text.contains("UID:octet-1"));
        assert!(
            octet
                .warnings
                .iter()
                .any(|w| w.contains("application/octet-stream"))
        );
        // The outer headers, not the forwarded ones.
        assert_eq!(
            x.meta.unwrap().message_id.as_deref(),
            Some("fwd-1@example.org")
        );
    }

    // ---- selection rules ---------------------------------------------------

    #[test]
    fn t01_single_part_text_calendar() {
        let x = extract(&single_part(
            "text/calendar; method=REQUEST; charset=UTF-8",
            "7bit",
            ICS.as_bytes(),
        ))
        .unwrap();
        assert_eq!(x.parts.len(), 1);
        assert_eq!(x.parts[0].text, ICS);
    }

    #[test]
    fn t04_no_method_parameter_is_reported_as_none() {
        let x = extract(&single_part(
            "text/calendar; charset=UTF-8",
            "7bit",
            ICS.as_bytes(),
        ))
        .unwrap();
        assert_eq!(x.parts[0].method_param, None);
    }

    #[test]
    fn t03_method_mismatch_is_reported_not_judged() {
        let ics = ICS.replace("METHOD:REQUEST", "METHOD:CANCEL");
        let x = extract(&single_part(
            "text/calendar; method=request",
            "7bit",
            ics.as_bytes(),
        ))
        .unwrap();
        assert_eq!(x.parts[0].method_param.as_deref(), Some("REQUEST"));
        assert!(x.parts[0].text.contains("METHOD:CANCEL"));
    }

    #[test]
    fn t06_transfer_encodings_give_identical_text() {
        let folded = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:cte-1\r\n\
            SUMMARY:A long summary that is folded here\r\n  and continues with \u{e9}t\u{e9}\r\n\
            END:VEVENT\r\nEND:VCALENDAR\r\n";
        let seven = extract(&single_part(
            "text/calendar; method=REQUEST; charset=utf-8",
            "8bit",
            folded.as_bytes(),
        ))
        .unwrap();
        let base64 = extract(&single_part(
            "text/calendar; method=REQUEST; charset=utf-8",
            "base64",
            b64(folded.as_bytes()).as_bytes(),
        ))
        .unwrap();
        // Soft line breaks inside the folded line, and one right before the fold.
        let qp = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:cte-1\r\n\
            SUMMARY:A long summary that is fol=\r\nded here=\r\n\r\n  and continues with =C3=A9t=\r\n=C3=A9\r\n\
            END:VEVENT\r\nEND:VCALENDAR\r\n";
        let qp = extract(&single_part(
            "text/calendar; method=REQUEST; charset=utf-8",
            "quoted-printable",
            qp.as_bytes(),
        ))
        .unwrap();
        let expected = "SUMMARY:A long summary that is folded here and continues with été";
        for x in [&seven, &base64, &qp] {
            assert_eq!(x.parts.len(), 1);
            assert_eq!(line(&x.parts[0].text, "SUMMARY"), expected);
            assert_eq!(x.parts[0].text.trim_end(), seven.parts[0].text.trim_end());
        }
    }

    #[test]
    fn t09_invalid_utf8_in_message_never_crashes() {
        let ics = ICS
            .replace("Plain summary", "bad \u{1}")
            .replace('\u{1}', "\u{FF}");
        let mut bytes = ics.into_bytes();
        for b in bytes.iter_mut() {
            if *b == 0xC3 {
                *b = 0xFF; // U+00FF is C3 BF in UTF-8: break it
            }
        }
        let x = extract(&single_part(
            "text/calendar; method=REQUEST; charset=UTF-8",
            "8bit",
            &bytes,
        ))
        .unwrap();
        assert!(x.parts[0].text.contains('\u{FFFD}'));
        assert!(!x.parts[0].warnings.is_empty());
    }

    #[test]
    fn t02_application_ics_first_then_text_calendar_keeps_text_calendar() {
        let raw = mixed(&[
            (
                "Content-Type: application/ics; name=\"invite.ics\"",
                ICS.as_bytes(),
            ),
            (
                "Content-Type: text/calendar; method=REQUEST",
                ICS.replace("\r\n", "\n").as_bytes(),
            ),
        ]);
        let x = extract(&raw).unwrap();
        assert_eq!(x.parts.len(), 1, "{:?}", x.parts);
        assert_eq!(x.parts[0].content_type, "text/calendar");
        assert_eq!(x.parts[0].method_param.as_deref(), Some("REQUEST"));
    }

    #[test]
    fn t02_byte_different_copy_is_dropped_by_uid_sequence_dtstamp() {
        let copy = ICS.replace("VERSION:2.0", "VERSION:2.0\r\nPRODID:-//Other//EN");
        let raw = mixed(&[
            (
                "Content-Type: text/calendar; method=REQUEST",
                ICS.as_bytes(),
            ),
            ("Content-Type: application/ics", copy.as_bytes()),
        ]);
        let x = extract(&raw).unwrap();
        assert_eq!(x.parts.len(), 1);
        assert_eq!(x.parts[0].text, ICS);
        assert_eq!(x.warnings.len(), 1, "{:?}", x.warnings);
    }

    #[test]
    fn r7_1_distinct_objects_are_all_kept_in_order() {
        let other = ICS
            .replace("UID:abc-1", "UID:abc-2")
            .replace("METHOD:REQUEST", "METHOD:CANCEL");
        let newer = ICS.replace("SEQUENCE:1", "SEQUENCE:2");
        let raw = mixed(&[
            ("Content-Type: text/plain", b"hello"),
            (
                "Content-Type: text/calendar; method=REQUEST",
                ICS.as_bytes(),
            ),
            (
                "Content-Type: text/calendar; method=CANCEL",
                other.as_bytes(),
            ),
            (
                "Content-Type: text/calendar; method=REQUEST",
                newer.as_bytes(),
            ),
            (
                "Content-Type: text/plain; name=\"notes.txt\"",
                b"BEGIN:VCALENDAR",
            ),
        ]);
        let x = extract(&raw).unwrap();
        let uids: Vec<_> = x
            .parts
            .iter()
            .map(|p| line(&p.text, "UID").to_owned())
            .collect();
        assert_eq!(uids, ["UID:abc-1", "UID:abc-2", "UID:abc-1"]);
        assert_eq!(line(&x.parts[2].text, "SEQUENCE"), "SEQUENCE:2");
    }

    #[test]
    fn r7_1_text_calendar_inside_nested_alternative_is_found() {
        let raw = format!(
            "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
             --o\r\nContent-Type: multipart/related; boundary=r\r\n\r\n\
             --r\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n\
             --a\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --a\r\nContent-Type: Text/Calendar; Method=\"Reply\"\r\n\r\n{ICS}\r\n--a--\r\n\
             --r--\r\n--o--\r\n"
        );
        let x = extract(raw.as_bytes()).unwrap();
        assert_eq!(x.parts.len(), 1);
        assert_eq!(x.parts[0].content_type, "text/calendar");
        assert_eq!(x.parts[0].method_param.as_deref(), Some("REPLY"));
    }

    #[test]
    fn calconnect_mismatched_boundary_and_mislabelled_base64_are_recovered() {
        let calendar = ICS.replace("\r\n", "\n");
        let raw = format!(
            "From: thomas@example.com\nContent-Type: multipart/mixed; boundary=\"declared\"\n\n\
             --actual\nContent-Type: text/plain\n\nInvitation\n\
             --actual\nContent-Type: application/ics; name=\"Invitation.ics\"\nContent-Transfer-Encoding: 7bit\n\n{}\n\
             --actual--\n",
            b64(calendar.as_bytes())
        );
        let x = extract(raw.as_bytes()).unwrap();
        assert_eq!(x.parts.len(), 1, "{x:?}");
        assert_eq!(x.parts[0].text, calendar);
        assert!(
            x.warnings.iter().any(|w| w.contains("boundary")),
            "{:?}",
            x.warnings
        );
        assert!(x.parts[0].warnings.iter().any(|w| w.contains("base64")));
    }

    // ---- limits (R9.8) -----------------------------------------------------

    #[test]
    fn t10_oversized_message_is_rejected() {
        let raw = vec![b'a'; MAX_MESSAGE_BYTES + 1];
        assert_eq!(
            extract(&raw).unwrap_err(),
            ExtractError::TooLarge {
                size: MAX_MESSAGE_BYTES + 1,
                limit: MAX_MESSAGE_BYTES
            }
        );
    }

    #[test]
    fn t10_oversized_calendar_part_is_skipped_with_warning() {
        let mut big = ICS.replace("END:VCALENDAR\r\n", "");
        let filler = format!("X-FILLER:{}\r\n", "y".repeat(70));
        while big.len() < 2 * 1024 * 1024 {
            big.push_str(&filler);
        }
        big.push_str("END:VCALENDAR\r\n");
        let raw = mixed(&[
            (
                "Content-Type: text/calendar; method=REQUEST",
                big.as_bytes(),
            ),
            (
                "Content-Type: text/calendar; method=REQUEST",
                ICS.replace("abc-1", "small").as_bytes(),
            ),
        ]);
        let x = extract(&raw).unwrap();
        assert_eq!(x.parts.len(), 1);
        assert!(x.parts[0].text.contains("UID:small"));
        assert!(
            x.warnings
                .iter()
                .any(|w| w.contains("skipped") && w.contains("limit")),
            "{:?}",
            x.warnings
        );
        let bare = extract(big.as_bytes()).unwrap_err();
        assert!(
            matches!(bare, ExtractError::CalendarTooLarge { .. }),
            "{bare:?}"
        );
    }

    #[test]
    fn t11_two_hundred_nested_multiparts_are_rejected_without_overflow() {
        let mut m = String::from(
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n",
        );
        for i in 1..200 {
            m.push_str(&format!(
                "--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n",
                i - 1
            ));
        }
        m.push_str(&format!(
            "--b199\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}"
        ));
        for i in (0..200).rev() {
            m.push_str(&format!("--b{i}--\r\n"));
        }
        let err = extract(m.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                ExtractError::TooDeep {
                    what: "multiparts",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("limit is 32"), "{err}");
    }

    #[test]
    fn t11_message_rfc822_chain_is_rejected() {
        let mut inner = format!(
            "From: x@y.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}"
        );
        for i in 0..50 {
            inner = format!("From: z{i}@y.example\r\nContent-Type: message/rfc822\r\n\r\n{inner}");
        }
        let err = extract(inner.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                ExtractError::TooDeep {
                    what: "attached messages",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn r9_8_shallow_message_rfc822_chain_is_read() {
        let mut inner = format!(
            "From: x@y.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}"
        );
        for i in 0..MAX_NESTED_MESSAGES {
            inner = format!("From: z{i}@y.example\r\nContent-Type: message/rfc822\r\n\r\n{inner}");
        }
        let x = extract(inner.as_bytes()).unwrap();
        assert_eq!(x.parts.len(), 1);
        assert_eq!(
            x.meta.unwrap().from[0].address,
            format!("z{}@y.example", MAX_NESTED_MESSAGES - 1)
        );
    }

    #[test]
    fn r9_8_too_many_parts_are_rejected() {
        let parts: Vec<(&str, &[u8])> = (0..MAX_PARTS + 1)
            .map(|_| ("Content-Type: text/plain", &b"x"[..]))
            .collect();
        let err = extract(&mixed(&parts)).unwrap_err();
        assert_eq!(err, ExtractError::TooManyParts { limit: MAX_PARTS });
    }

    #[test]
    fn r9_9_truncated_and_corrupted_messages_never_panic() {
        for name in [
            "google-request-split-utf8.eml",
            "outlook-alternative-qp.eml",
            "forwarded-rfc822.eml",
        ] {
            let raw = fixture(name);
            for cut in 0..raw.len() {
                let _ = extract(&raw[..cut]);
            }
            // Overwrite bytes with hostile values at a stride.
            for (i, bad) in [0u8, b'\r', b'\n', b'=', b'-', 0xFF]
                .into_iter()
                .enumerate()
            {
                let mut corrupted = raw.clone();
                for pos in (i..corrupted.len()).step_by(37) {
                    corrupted[pos] = bad;
                }
                if let Ok(x) = extract(&corrupted) {
                    assert!(x.parts.iter().all(|p| p.text.len() <= MAX_CALENDAR_BYTES));
                }
            }
        }
    }

    #[test]
    fn mbox_from_line_is_accepted() {
        let mut raw = b"From org@example.com Tue Nov 24 12:00:00 2026\n".to_vec();
        raw.extend_from_slice(&single_part(
            "text/calendar; method=REQUEST",
            "7bit",
            ICS.as_bytes(),
        ));
        let x = extract(&raw).unwrap();
        assert_eq!(x.parts.len(), 1);
    }

    // ---- headers -----------------------------------------------------------

    #[test]
    fn r9_6_unsafe_message_id_is_dropped() {
        let raw = b"From: a@b.example\r\nMessage-ID: <a b@c>\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
        let meta = extract(raw).unwrap().meta.unwrap();
        assert_eq!(meta.message_id, None);
        assert_eq!(meta.subject, None);
        assert_eq!(meta.date, None);
    }
}
