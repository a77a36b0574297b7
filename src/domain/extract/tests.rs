use super::*;

/// Own fixtures, compiled in so that the domain tests touch no files.
fn fixture(name: &str) -> Vec<u8> {
    let bytes: &[u8] = match name {
        "google-request-split-utf8.eml" => {
            include_bytes!("../../../tests/fixtures/extract/google-request-split-utf8.eml")
        }
        "outlook-alternative-qp.eml" => {
            include_bytes!("../../../tests/fixtures/extract/outlook-alternative-qp.eml")
        }
        "apple-cancel-8bit-lf.eml" => {
            include_bytes!("../../../tests/fixtures/extract/apple-cancel-8bit-lf.eml")
        }
        "thunderbird-windows1252-qp.eml" => {
            include_bytes!("../../../tests/fixtures/extract/thunderbird-windows1252-qp.eml")
        }
        "forwarded-rfc822.eml" => {
            include_bytes!("../../../tests/fixtures/extract/forwarded-rfc822.eml")
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

/// R8.2 read literally, a byte at a time: what `unfold_bytes` must give.
fn unfold_reference(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let fold = match (b, raw.get(i + 1), raw.get(i + 2)) {
            (b'\r', Some(b'\n'), Some(b' ' | b'\t')) => 3,
            (b'\n', Some(b' ' | b'\t'), _) => 2,
            _ => 0,
        };
        if fold == 0 {
            out.push(b);
            i += 1;
        } else {
            i += fold;
        }
    }
    out
}

#[test]
fn r8_2_unfold_agrees_with_the_rule_read_a_byte_at_a_time() {
    // Every string of up to 7 bytes over the bytes that matter, then
    // longer pseudo-random ones.
    const ALPHABET: &[u8] = b"\r\n \ta\xc3";
    let mut checked = 0;
    for len in 0..=7u32 {
        for mut n in 0..ALPHABET.len().pow(len) {
            let mut raw = Vec::new();
            for _ in 0..len {
                raw.push(ALPHABET[n % ALPHABET.len()]);
                n /= ALPHABET.len();
            }
            assert_eq!(unfold_bytes(&raw), unfold_reference(&raw), "{raw:?}");
            checked += 1;
        }
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..2_000 {
        let mut raw = Vec::new();
        for _ in 0..(seed % 300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            raw.push(ALPHABET[(seed % ALPHABET.len() as u64) as usize]);
        }
        assert_eq!(unfold_bytes(&raw), unfold_reference(&raw), "{raw:?}");
        checked += 1;
    }
    assert!(checked > 300_000);
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
    let mut m =
        String::from("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
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
    let mut inner =
        format!("From: x@y.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}");
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
    let mut inner =
        format!("From: x@y.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}");
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
