//! Fuzz target: `domain::extract` on a raw message (any bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(extracted) = rsvp::domain::extract::extract(data) {
        // Whatever was extracted must also load without panicking.
        let _ = extracted.warnings.len();
        let _ = rsvp::inbox::load(data);
    }
});
