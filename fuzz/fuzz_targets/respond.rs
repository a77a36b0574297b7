//! Fuzz target: parse → classify → reply → apply on in-memory adapters
//! (`inbox::show`, `inbox::respond`, `inbox::apply_message`), with the
//! header invariants checked on every message built.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use rsvp::domain::invite::PartStat;
use rsvp::inbox::{self, ResponseRequest};

fuzz_target!(|data: &[u8]| {
    let m = common::MemEnv::new(&common::attendee_addresses(data));
    let env = m.env();
    let Ok(shown) = inbox::show(&env, data) else {
        return;
    };
    let _ = shown.class.status;
    for (partstat, comment) in [
        (PartStat::Accepted, None),
        (PartStat::Declined, Some("not me\r\nBcc: x@evil.example\u{202e}")),
    ] {
        let req = ResponseRequest {
            partstat,
            comment,
            instance: None,
            dry_run: false,
            resend: true,
            no_send: false,
        };
        if let Ok(done) = inbox::respond(&env, data, &req) {
            common::assert_message_well_formed(&done.message);
        }
    }
    // An update of the stored copy by the same message (COUNTER/CANCEL...).
    let _ = inbox::apply_message(&env, data);
    for (_, message) in m.transport.sent() {
        common::assert_message_well_formed(&message);
    }
});
