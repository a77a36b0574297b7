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
    #[error("message is too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A bare iCalendar file is over [`MAX_CALENDAR_BYTES`] (R9.8, T10).
    #[error("calendar file is too large: {size} bytes, the limit is {limit} bytes")]
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
    #[error("MIME structure nested too deeply: {what} reach depth {depth}, the limit is {limit}")]
    TooDeep {
        /// "multiparts" or "attached messages".
        what: &'static str,
        /// Depth found (at least `limit + 1`).
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_PARTS`] MIME parts (R9.8).
    #[error("message has too many MIME parts: more than {limit}")]
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
    // `raw[start..]` is not copied yet; line feeds are looked for from `from`.
    let mut start = 0;
    let mut from = 0;
    while let Some(off) = raw
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let lf = from + off;
        if matches!(raw.get(lf + 1), Some(b' ' | b'\t')) {
            // A CR right before the LF makes the break CRLF (one at
            // `start - 1` would be the previous fold's space or tab).
            let cut = if lf > start && raw.get(lf - 1) == Some(&b'\r') {
                lf - 1
            } else {
                lf
            };
            out.extend_from_slice(raw.get(start..cut).unwrap_or_default());
            start = lf + 2;
        }
        from = lf + 1;
    }
    out.extend_from_slice(raw.get(start..).unwrap_or_default());
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
                        "bytes not valid in charset \"{}\" were replaced by U+FFFD",
                        header_text(l, 40)
                    ));
                }
                decoded
            }
            None => {
                warnings.push(format!(
                    "unknown charset \"{}\"; decoded as UTF-8",
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
        warnings.push("invalid UTF-8 bytes were replaced by U+FFFD".into());
        return String::from_utf8_lossy(bytes).into_owned();
    }
    match charset_decoder(b"windows-1252") {
        Some(decode) => {
            warnings.push(
                "no charset declared and the bytes are not UTF-8; decoded as windows-1252".into(),
            );
            decode(bytes)
        }
        None => {
            warnings.push("invalid UTF-8 bytes were replaced by U+FFFD".into());
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
        "calendar part {index} ({content_type}) skipped: {size} bytes is over the limit of {MAX_CALENDAR_BYTES} bytes"
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
    // One part (nearly every message, every stored file) repeats nothing:
    // spare it the normalised copy and the key.
    if candidates.len() < 2 {
        return candidates;
    }
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
mod tests;
