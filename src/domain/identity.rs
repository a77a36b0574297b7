//! Which attendee is me (R6.1–R6.10).

use super::invite::{Comp, Invite, Party};

/// My calendar user addresses (R6.1), normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: Option<String>,
    /// Normalised addresses, in configured order (the first is primary).
    pub addresses: Vec<String>,
}

impl Identity {
    pub fn new(name: Option<String>, addresses: &[String]) -> Identity {
        let mut norm: Vec<String> = Vec::new();
        for a in addresses {
            if let Some(n) = normalize_address(a)
                && !norm.contains(&n)
            {
                norm.push(n);
            }
        }
        Identity {
            name,
            addresses: norm,
        }
    }

    /// Case-insensitive match of a calendar address or e-mail (R6.2).
    pub fn is_me(&self, address: &str) -> bool {
        normalize_address(address).is_some_and(|n| self.addresses.contains(&n))
    }

    pub fn party_is_me(&self, party: &Party) -> bool {
        party
            .email
            .as_ref()
            .is_some_and(|e| self.addresses.contains(e))
    }
}

/// Normalise a calendar address for comparison and mailing (R6.2):
/// `MAILTO:` in any case stripped, percent-decoding, `?query` dropped,
/// lower-cased. A bare `user@host` is accepted. Anything that does not look
/// like one address (spaces, controls, no `@`) gives `None`.
pub fn normalize_address(value: &str) -> Option<String> {
    address_as_written(value).map(|a| a.to_lowercase())
}

/// The e-mail address in `value` (a `mailto:` URI, a bare or `<…>` address)
/// with its case kept: addresses are compared case-insensitively but written
/// exactly as the invitation had them (R1.8; iCloud's `2_GEZ…@imip.me.com`
/// tokens are case-sensitive in practice).
pub fn address_as_written(value: &str) -> Option<String> {
    let v = value.trim();
    let v = if v.len() >= 7
        && v.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        v.get(7..).unwrap_or("")
    } else {
        v
    };
    let v = v.split('?').next().unwrap_or("");
    let decoded;
    let v = if v.contains('%') {
        decoded = percent_decode(v);
        decoded.as_str()
    } else {
        v
    };
    let v = v.trim().trim_start_matches('<').trim_end_matches('>');
    if v.is_empty()
        || v.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | '"' | ',' | ';' | ':' | '\\' | '[' | ']'
                )
        })
    {
        return None;
    }
    let (local, domain) = v.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || local.contains('@') {
        return None;
    }
    Some(v.to_string())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// My role in an object (R6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per invitation; boxing buys nothing
pub enum Role {
    /// ORGANIZER is one of my addresses: never reply to my own REQUEST.
    Organizer,
    /// I am listed as an attendee.
    Attendee(MeMatch),
    /// I am neither (forwarded invitation, or not for me) (R6.6 item 3).
    Neither,
}

/// The attendee entry that is me, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeMatch {
    /// The ATTENDEE as it appears (value kept verbatim for the REPLY, R1.8).
    pub party: Party,
    /// My address to send from (R7.8).
    pub address: String,
    /// Set when I answer as a member of a group attendee (R6.6, T16).
    pub via_group: Option<String>,
}

impl MeMatch {
    /// Whether this component lists me: my ATTENDEE (compared
    /// case-insensitively) or the group I answer for (R2.1, R2.5; bug 1 of
    /// issue 7: a reply holds only components that list me).
    pub fn listed_in(&self, comp: Comp<'_>) -> bool {
        comp.attendees().iter().any(|a| match &self.via_group {
            Some(g) => a.value.eq_ignore_ascii_case(g) || a.email == self.party.email,
            None => a.email.is_some() && a.email == self.party.email,
        })
    }
}

/// Find me in `invite` (R6.4–R6.6, R6.10). `delivered_to` is the envelope
/// recipient(s) of the message, used when several attendees match (R6.5).
/// `groups` are group addresses I belong to (R6.6).
pub fn find_me(invite: &Invite, me: &Identity, delivered_to: &[String], groups: &[String]) -> Role {
    if invite.organizer().is_some_and(|o| me.party_is_me(&o)) {
        return Role::Organizer;
    }
    // Collect candidates across components (a naked instance may list me
    // only in some overrides).
    let comps: Vec<Comp<'_>> = invite.components();
    let mut candidates: Vec<Party> = Vec::new();
    for comp in &comps {
        for att in comp.attendees() {
            if me.party_is_me(&att)
                && att.cutype.as_deref() != Some("ROOM")
                && att.cutype.as_deref() != Some("RESOURCE")
                && !candidates.iter().any(|c| c.email == att.email)
            {
                candidates.push(att);
            }
        }
    }
    if !candidates.is_empty() {
        let delivered: Vec<String> = delivered_to
            .iter()
            .filter_map(|d| normalize_address(d))
            .collect();
        let chosen = candidates
            .iter()
            .find(|c| c.email.as_ref().is_some_and(|e| delivered.contains(e)))
            .or_else(|| candidates.iter().find(|c| c.is_individual()))
            .or_else(|| candidates.first())
            .cloned();
        if let Some(party) = chosen {
            // Bug 6: written as the invitation has it, compared case-insensitively.
            let address = party
                .address
                .clone()
                .or_else(|| party.email.clone())
                .unwrap_or_default();
            return Role::Attendee(MeMatch {
                party,
                address,
                via_group: None,
            });
        }
    }
    // Group membership (R6.6 item 2, T16).
    let groups: Vec<String> = groups.iter().filter_map(|g| normalize_address(g)).collect();
    for comp in &comps {
        for att in comp.attendees() {
            let is_group = matches!(att.cutype.as_deref(), Some("GROUP") | Some("UNKNOWN"));
            if is_group && att.email.as_ref().is_some_and(|e| groups.contains(e)) {
                let address = me.addresses.first().cloned().unwrap_or_default();
                return Role::Attendee(MeMatch {
                    via_group: Some(att.value.clone()),
                    party: att,
                    address,
                });
            }
        }
    }
    Role::Neither
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ical;

    fn invite(attendees: &str, organizer: &str) -> Invite {
        let s = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250101T100000Z\r\nORGANIZER{organizer}\r\n{attendees}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        Invite::from_calendar(ical::parse(&s).unwrap().calendars.remove(0), None)
            .unwrap()
            .remove(0)
    }

    fn me(addrs: &[&str]) -> Identity {
        Identity::new(
            None,
            &addrs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    /// T13: MAILTO: upper case and mixed-case address.
    #[test]
    fn t13_mailto_case_insensitive() {
        let inv = invite(
            "ATTENDEE:MAILTO:Alice@Example.COM\r\n",
            ":mailto:o@x.example",
        );
        match find_me(&inv, &me(&["alice@example.com"]), &[], &[]) {
            Role::Attendee(m) => {
                assert_eq!(m.party.value, "MAILTO:Alice@Example.COM");
                // Issue 7 bug 6: written as the invitation had it.
                assert_eq!(m.address, "Alice@Example.COM");
            }
            other => panic!("not recognised: {other:?}"),
        }
    }

    /// T14: invited under an alias.
    #[test]
    fn t14_alias() {
        let inv = invite("ATTENDEE:mailto:alias@x.example\r\n", ":mailto:o@y.example");
        let Role::Attendee(m) = find_me(&inv, &me(&["a@x.example", "alias@x.example"]), &[], &[])
        else {
            panic!("alias not recognised")
        };
        assert_eq!(m.address, "alias@x.example");
    }

    /// T15: both addresses invited; Delivered-To decides.
    #[test]
    fn t15_two_matching_attendees_delivered_to_decides() {
        let inv = invite(
            "ATTENDEE:mailto:a@x.example\r\nATTENDEE:mailto:alias@x.example\r\n",
            ":mailto:o@y.example",
        );
        let Role::Attendee(m) = find_me(
            &inv,
            &me(&["a@x.example", "alias@x.example"]),
            &["Alias@X.example".to_string()],
            &[],
        ) else {
            panic!("not recognised")
        };
        assert_eq!(m.address, "alias@x.example");
    }

    /// T16: member of a group attendee.
    #[test]
    fn t16_group_member() {
        let inv = invite(
            "ATTENDEE;CUTYPE=GROUP:mailto:team@x.example\r\n",
            ":mailto:o@y.example",
        );
        let Role::Attendee(m) = find_me(
            &inv,
            &me(&["me@x.example"]),
            &[],
            &["team@x.example".into()],
        ) else {
            panic!("group membership not recognised")
        };
        assert_eq!(m.via_group.as_deref(), Some("mailto:team@x.example"));
        assert_eq!(m.address, "me@x.example");
    }

    /// T18: I organised it.
    #[test]
    fn t18_self_organized() {
        let inv = invite(
            "ATTENDEE;ROLE=CHAIR:mailto:me@x.example\r\n",
            ":mailto:Me@X.example",
        );
        assert_eq!(
            find_me(&inv, &me(&["me@x.example"]), &[], &[]),
            Role::Organizer
        );
    }

    /// T19: EMAIL parameter on a non-mailto address.
    #[test]
    fn t19_email_param() {
        let inv = invite(
            "ATTENDEE;EMAIL=me@x.example:urn:uuid:1234\r\n",
            ";EMAIL=org@y.example:urn:uuid:9",
        );
        let Role::Attendee(m) = find_me(&inv, &me(&["me@x.example"]), &[], &[]) else {
            panic!("EMAIL= not used")
        };
        assert_eq!(m.party.value, "urn:uuid:1234");
        assert_eq!(
            inv.organizer().unwrap().email.as_deref(),
            Some("org@y.example")
        );
    }

    /// R6.10: a ROOM is never me.
    #[test]
    fn room_is_not_me() {
        let inv = invite(
            "ATTENDEE;CUTYPE=ROOM:mailto:me@x.example\r\n",
            ":mailto:o@y.example",
        );
        assert_eq!(
            find_me(&inv, &me(&["me@x.example"]), &[], &[]),
            Role::Neither
        );
    }

    #[test]
    fn normalize_rules() {
        assert_eq!(
            normalize_address("MAILTO:A%2Eb@C.org?subject=x").as_deref(),
            Some("a.b@c.org")
        );
        assert_eq!(normalize_address("MAILTO:A%40b@C.org"), None);
        assert_eq!(normalize_address("user@host").as_deref(), Some("user@host"));
        assert_eq!(normalize_address("no-at-sign"), None);
        assert_eq!(normalize_address("a b@c"), None);
        assert_eq!(
            normalize_address("alice@example.org(<mallory@evil.example>"),
            None
        );
    }
}
