//! Fuzz target: the text of `rsvp render` and `rsvp show` (and the JSON of
//! `show --json`) must satisfy the terminal invariant: no C0 control but
//! `\t` and `\n`, no DEL, no C1 control, no bidi control (R9.5, T55); the
//! JSON streamed by `write_json` (what `list --json` prints) must be the
//! same bytes as `json_text`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use rsvp::cli::{json_text, present, show_json, write_json};
use rsvp::inbox;

fuzz_target!(|data: &[u8]| {
    let m = common::MemEnv::new(&common::attendee_addresses(data));
    let env = m.env();
    if let Ok(loaded) = inbox::load(data)
        && let Ok(invite) = &loaded.invite
    {
        let text = present::describe(invite, None, &env.clock);
        common::assert_terminal_safe("render", &text);
    }
    if let Ok(shown) = inbox::show(&env, data) {
        let text = present::describe_shown(&shown, &env.clock);
        common::assert_terminal_safe("show", &text);
        let value = show_json(&shown, &env.clock);
        let json = json_text(&value);
        common::assert_terminal_safe("show --json", &json);
        let mut streamed: Vec<u8> = Vec::new();
        if write_json(&mut streamed, &value).is_err() {
            panic!("write_json failed on a Vec");
        }
        assert_eq!(streamed, format!("{json}\n").into_bytes(), "streamed JSON");
    }
});
