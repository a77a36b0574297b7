use super::*;
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

const ICS: &str = "BEGIN:VCALENDAR\r\nPRODID:-//rsvp//EN\r\nVERSION:2.0\r\nMETHOD:REPLY\r\n\
    BEGIN:VEVENT\r\nUID:abc-1@example.com\r\nDTSTAMP:20261124T120000Z\r\nSEQUENCE:0\r\n\
    ORGANIZER;CN=\"Doe, Jane\":mailto:jane@example.org\r\n\
    ATTENDEE;PARTSTAT=ACCEPTED;CN=Bj\u{f6}rn:mailto:bjorn@example.com\r\n\
    SUMMARY:R\u{e9}union\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox {
        name: name.map(str::to_owned),
        address: address.to_owned(),
    }
}

struct Fixture {
    from: Mailbox,
    to: Vec<Mailbox>,
    references: Vec<String>,
}

fn fixture() -> Fixture {
    Fixture {
        from: mailbox(Some("Björn Ærøskøbing"), "bjorn@example.com"),
        to: vec![mailbox(Some("Doe, Jane"), "jane@example.org")],
        references: vec!["root@example.org".into(), "bad id@x".into()],
    }
}

fn message<'a>(f: &'a Fixture, subject: &'a str) -> ImipMessage<'a> {
    ImipMessage {
        from: &f.from,
        to: &f.to,
        subject,
        date: DateTime::parse_from_rfc3339("2026-11-24T13:00:00+01:00").unwrap(),
        message_id: "rsvp-0001@example.com",
        in_reply_to: Some("invite-42@example.org"),
        references: &f.references,
        method: "REPLY",
        text_body: "Björn has accepted: Réunion\n\nA long line that goes on and on and on and on and on and on and on and on and on.\n",
        html_body: "<p>Bj&ouml;rn has accepted: R&eacute;union</p>",
        ics: ICS.as_bytes(),
        attachment_name: "invite.ics",
        auto_submitted: false,
    }
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(raw)
        .expect("mail-parser reads the message")
}

fn content_type(part: &MessagePart) -> String {
    let ct = part.content_type().expect("content type");
    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase()
}

fn raw_body<'a>(raw: &'a [u8], part: &MessagePart) -> &'a [u8] {
    &raw[part.offset_body as usize..part.offset_end as usize]
}

/// R8.1-style checks on the whole message: CRLF only, short lines.
fn assert_lines_ok(raw: &[u8]) {
    let text = std::str::from_utf8(raw).expect("message is ASCII");
    assert!(text.is_ascii(), "8-bit data in the message");
    assert!(text.ends_with("\r\n"));
    for (i, line) in text.split("\r\n").enumerate() {
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare CR/LF in line {i}: {line:?}"
        );
        assert!(
            line.len() <= 78,
            "line {i} has {} chars: {line:?}",
            line.len()
        );
    }
}

fn header_lines(raw: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(raw).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    head.split("\r\n").map(str::to_owned).collect()
}

#[test]
fn r7_6_structure_and_identical_calendar_parts() {
    let f = fixture();
    let raw = build(&message(&f, "Accepted: Réunion")).unwrap();
    assert_lines_ok(&raw);
    let msg = parse(&raw);
    let types: Vec<String> = msg.parts.iter().map(content_type).collect();
    assert_eq!(
        types,
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/calendar",
            "application/ics"
        ]
    );
    assert_eq!(msg.parts[0].sub_parts(), Some(&[1, 5][..]));
    assert_eq!(msg.parts[1].sub_parts(), Some(&[2, 3, 4][..]));
    let cal = &msg.parts[4];
    let ct = cal.content_type().unwrap();
    assert_eq!(ct.attribute("method"), Some("REPLY"));
    assert_eq!(ct.attribute("charset"), Some("UTF-8"));
    let ics = &msg.parts[5];
    assert_eq!(
        ics.content_type().unwrap().attribute("name"),
        Some("invite.ics")
    );
    let disposition = ics.content_disposition().unwrap();
    assert!(disposition.is_attachment());
    assert_eq!(disposition.attribute("filename"), Some("invite.ics"));
    // Both calendar parts decode to exactly the input bytes.
    for part in [cal, ics] {
        assert_eq!(part.encoding, mail_parser::Encoding::Base64);
        let decoded = base64_decode(raw_body(&raw, part)).unwrap();
        assert_eq!(decoded, ICS.as_bytes());
    }
    assert_eq!(ics.contents(), ICS.as_bytes());
    // The text parts decode back to the input.
    let text = quoted_printable_decode(raw_body(&raw, &msg.parts[2])).unwrap();
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "Björn has accepted: Réunion\r\n\r\nA long line that goes on and on and on and on and on and on and on and on and on.\r\n"
    );
    assert!(matches!(&msg.parts[3].body, PartType::Html(h) if h.contains("Bj&ouml;rn")));
}

#[test]
fn r7_6_extract_reads_the_reply_back_as_one_object() {
    let f = fixture();
    let raw = build(&message(&f, "Accepted: Réunion")).unwrap();
    let x = crate::domain::extract::extract(&raw).unwrap();
    assert_eq!(x.parts.len(), 1, "T02 dedup of our own structure");
    assert_eq!(x.parts[0].method_param.as_deref(), Some("REPLY"));
    assert_eq!(x.parts[0].text, ICS);
    let meta = x.meta.unwrap();
    assert_eq!(meta.message_id.as_deref(), Some("rsvp-0001@example.com"));
}

#[test]
fn r7_11_headers() {
    let f = fixture();
    let mut m = message(&f, "Accepted: Réunion");
    m.auto_submitted = true;
    let raw = build(&m).unwrap();
    let msg = parse(&raw);
    assert_eq!(msg.subject(), Some("Accepted: Réunion"));
    assert_eq!(msg.message_id(), Some("rsvp-0001@example.com"));
    assert_eq!(msg.in_reply_to().as_text(), Some("invite-42@example.org"));
    // R9.6: the unsafe id is gone; the invitation's id is appended.
    assert_eq!(
        msg.references()
            .as_text_list()
            .map(|l| l.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec![
            "root@example.org".to_owned(),
            "invite-42@example.org".to_owned()
        ])
    );
    assert_eq!(msg.date().unwrap().to_timestamp(), 1795521600);
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Björn Ærøskøbing"));
    assert_eq!(from.address(), Some("bjorn@example.com"));
    let to = msg.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Doe, Jane"));
    assert_eq!(to.address(), Some("jane@example.org"));
    let lines = header_lines(&raw);
    assert!(lines.contains(&"MIME-Version: 1.0".to_owned()));
    assert!(lines.contains(&"Auto-Submitted: auto-replied".to_owned()));
    assert!(lines.contains(&"Date: Tue, 24 Nov 2026 13:00:00 +0100".to_owned()));
    assert!(
        lines.contains(&"To: \"Doe, Jane\" <jane@example.org>".to_owned()),
        "{lines:?}"
    );

    m.auto_submitted = false;
    m.in_reply_to = Some("a b@c>\r\nBcc: evil@x");
    let raw = build(&m).unwrap();
    let lines = header_lines(&raw);
    assert!(!lines.iter().any(|l| l.starts_with("Auto-Submitted")));
    assert!(!lines.iter().any(|l| l.starts_with("In-Reply-To")));
    assert!(
        !lines
            .iter()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc"))
    );
}

#[test]
fn t56_summary_with_newline_gives_one_subject_line() {
    let f = fixture();
    for subject in [
        "Accepted: Lunch\nBcc: evil@x",
        "Accepted: Lunch\r\nBcc: evil@x\r\n\r\nbody",
    ] {
        let raw = build(&message(&f, subject)).unwrap();
        assert_lines_ok(&raw);
        let lines = header_lines(&raw);
        let subjects = lines.iter().filter(|l| l.starts_with("Subject:")).count();
        assert_eq!(subjects, 1, "{lines:?}");
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(!text.to_ascii_lowercase().contains("\r\nbcc:"), "{text}");
        let msg = parse(&raw);
        assert!(msg.bcc().is_none());
        assert_eq!(
            msg.subject(),
            Some(header_text(subject, MAX_SUBJECT_CHARS).as_str())
        );
    }
}

#[test]
fn t56_encoded_word_trick_in_summary_stays_literal() {
    let f = fixture();
    let subject = "=?UTF-8?Q?=0A?=Bcc: evil@x";
    let raw = build(&message(&f, subject)).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(!text.to_ascii_lowercase().contains("\r\nbcc:"));
    assert!(
        !text.contains("=?UTF-8?Q?=0A?="),
        "the trick must be re-encoded"
    );
    let msg = parse(&raw);
    assert!(msg.bcc().is_none());
    assert_eq!(
        msg.subject(),
        Some(subject),
        "decodes to the literal text, no newline"
    );
}

#[test]
fn r9_6_long_non_ascii_subject_is_folded_and_round_trips() {
    let f = fixture();
    let subject = "Accepted: Réunion d'équipe — 日本語のタイトル — ".repeat(6);
    let raw = build(&message(&f, &subject)).unwrap();
    assert_lines_ok(&raw);
    let lines = header_lines(&raw);
    let start = lines
        .iter()
        .position(|l| l.starts_with("Subject:"))
        .unwrap();
    let continuation = lines[start + 1..]
        .iter()
        .take_while(|l| l.starts_with(' '))
        .count();
    assert!(continuation >= 3, "{lines:?}");
    let expected = header_text(&subject, MAX_SUBJECT_CHARS);
    assert_eq!(parse(&raw).subject(), Some(expected.as_str()));
}

#[test]
fn r9_6_long_ascii_subject_is_folded_at_spaces() {
    let f = fixture();
    let subject =
        "Accepted: quarterly planning meeting with everyone from the team and guests ".repeat(2);
    let raw = build(&message(&f, &subject)).unwrap();
    assert_lines_ok(&raw);
    let lines = header_lines(&raw);
    let start = lines
        .iter()
        .position(|l| l.starts_with("Subject:"))
        .unwrap();
    assert!(lines[start + 1].starts_with(' '), "folded: {lines:?}");
    assert!(!lines[start].contains("=?UTF-8?") && !lines[start + 1].contains("=?UTF-8?"));
    assert_eq!(
        parse(&raw).subject(),
        Some(header_text(&subject, MAX_SUBJECT_CHARS).as_str())
    );
    // One unbreakable 100-character word is encoded instead of overflowing.
    let word = "x".repeat(100);
    let raw = build(&message(&f, &word)).unwrap();
    assert_lines_ok(&raw);
    assert_eq!(parse(&raw).subject(), Some(word.as_str()));
}

#[test]
fn r9_6_display_names_round_trip() {
    let cases = [
        "Doe, Jane",
        "Jane \"JD\" Doe \\ Co",
        "Zoë Ångström-Łukasiewicz",
        "=?UTF-8?B?ZXZpbA==?=",
        "A very long display name that certainly does not fit into a quoted string on one line",
    ];
    for name in cases {
        let f = Fixture {
            from: mailbox(Some(name), "me@example.com"),
            to: vec![
                mailbox(Some(name), "jane@example.org"),
                mailbox(None, "second@example.org"),
            ],
            references: Vec::new(),
        };
        let raw = build(&message(&f, "s")).unwrap();
        assert_lines_ok(&raw);
        let msg = parse(&raw);
        assert_eq!(
            msg.from().unwrap().first().unwrap().name(),
            Some(name),
            "{name}"
        );
        let to: Vec<_> = msg
            .to()
            .unwrap()
            .iter()
            .map(|a| (a.name().map(str::to_owned), a.address().map(str::to_owned)))
            .collect();
        assert_eq!(
            to,
            [
                (Some(name.to_owned()), Some("jane@example.org".to_owned())),
                (None, Some("second@example.org".to_owned()))
            ],
            "{name}"
        );
    }
}

#[test]
fn t56_display_name_with_line_break_is_cleaned() {
    let f = Fixture {
        from: mailbox(Some("Mallory\r\nBcc: evil@x"), "me@example.com"),
        to: vec![mailbox(Some("\u{202E}Jane\u{1b}[2J"), "jane@example.org")],
        references: Vec::new(),
    };
    let raw = build(&message(&f, "s")).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(!text.to_ascii_lowercase().contains("\r\nbcc:"));
    let msg = parse(&raw);
    assert_eq!(
        msg.from().unwrap().first().unwrap().name(),
        Some("Mallory Bcc: evil@x")
    );
    assert_eq!(msg.to().unwrap().first().unwrap().name(), Some("Jane [2J"));
}

#[test]
fn r9_6_bad_addresses_are_rejected_by_name() {
    for address in [
        "",
        "a b@c.example",
        "a@b@c",
        "<x@y.example>",
        "x@y\r\nBcc: z@w",
        "noat",
        "@x",
        "x@",
        "x(y)@z",
        "jörg@example.de",
    ] {
        let f = Fixture {
            from: mailbox(None, "me@example.com"),
            to: vec![mailbox(Some("X"), address)],
            references: Vec::new(),
        };
        let err = build(&message(&f, "s")).unwrap_err();
        assert!(
            matches!(err, MessageError::BadAddress { .. }),
            "{address:?}: {err:?}"
        );
        let shown = err.to_string();
        assert!(!shown.contains('\r') && !shown.contains('\n'), "{shown}");
        if address.len() > 3 && !address.contains('\r') {
            assert!(shown.contains(address), "{shown}");
        }
    }
    let f = Fixture {
        from: mailbox(None, "me@example.com"),
        to: Vec::new(),
        references: Vec::new(),
    };
    assert!(matches!(
        build(&message(&f, "s")),
        Err(MessageError::NoRecipients { .. })
    ));
}

#[test]
fn invalid_inputs_are_errors() {
    let f = fixture();
    let mut m = message(&f, "s");
    m.message_id = "no spaces allowed@x";
    assert!(matches!(build(&m), Err(MessageError::BadMessageId { .. })));
    let mut m = message(&f, "s");
    m.method = "REPLY\r\nX: y";
    assert!(matches!(build(&m), Err(MessageError::BadMethod { .. })));
    let mut m = message(&f, "s");
    m.attachment_name = "../x\".ics";
    assert!(matches!(
        build(&m),
        Err(MessageError::BadAttachmentName { .. })
    ));
    let mut m = message(&f, "s");
    m.ics = b"BEGIN:VCALENDAR\r\nSUMMARY:\xff\r\n";
    assert_eq!(
        build(&m),
        Err(MessageError::IcsNotUtf8 {
            message_id: "rsvp-0001@example.com".into(),
            offset: 25
        })
    );
}

#[test]
fn boundaries_are_deterministic_and_absent_from_content() {
    let f = fixture();
    let a = build(&message(&f, "s")).unwrap();
    assert_eq!(
        a,
        build(&message(&f, "s")).unwrap(),
        "same input, same bytes (R9.13)"
    );
    let mut other = message(&f, "s");
    other.message_id = "rsvp-0002@example.com";
    let b = build(&other).unwrap();
    let boundary_of = |raw: &[u8]| {
        let text = String::from_utf8(raw.to_vec()).unwrap();
        let start = text.find("boundary=\"").unwrap() + 10;
        text[start..start + text[start..].find('"').unwrap()].to_owned()
    };
    assert_ne!(boundary_of(&a), boundary_of(&b));

    // Content that quotes our own boundary cannot break the structure.
    let hostile = format!(
        "--{}\r\nContent-Type: text/html\r\n\r\n<script>",
        boundary_of(&a)
    );
    let mut m = message(&f, &hostile);
    m.text_body = &hostile;
    m.html_body = "";
    let raw = build(&m).unwrap();
    let msg = parse(&raw);
    let types: Vec<String> = msg.parts.iter().map(content_type).collect();
    assert_eq!(
        types,
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/calendar",
            "application/ics"
        ]
    );
}

#[test]
fn base64_encoding() {
    assert_eq!(encode_base64(b""), "");
    assert_eq!(encode_base64(b"f"), "Zg==\r\n");
    assert_eq!(encode_base64(b"fo"), "Zm8=\r\n");
    assert_eq!(encode_base64(b"foo"), "Zm9v\r\n");
    assert_eq!(encode_base64(b"foobar"), "Zm9vYmFy\r\n");
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let encoded = encode_base64(&data);
    for line in encoded.trim_end().split("\r\n") {
        assert!(line.len() <= 76);
    }
    assert_eq!(encoded.split("\r\n").next().unwrap().len(), 76);
    assert_eq!(base64_decode(encoded.as_bytes()).unwrap(), data);
}

#[test]
fn quoted_printable_encoding() {
    let text = format!(
        "trailing space \nFrom here\n.dot\n= equals\ttab\n{}\u{e9}{}\nlast",
        "a".repeat(74),
        "b".repeat(200)
    );
    let encoded = encode_quoted_printable(&text);
    for line in encoded.split("\r\n") {
        assert!(line.len() <= 76, "{line:?}");
        assert!(!line.ends_with(' ') && !line.ends_with('\t'));
        assert!(!line.starts_with("From ") && !line.starts_with('.'));
    }
    let decoded = quoted_printable_decode(encoded.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        text.replace('\n', "\r\n") + "\r\n"
    );
}
