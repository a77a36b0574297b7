//! The bundled demo data (`assets/demo/`), compiled into the binary so that
//! `rsvp demo` needs nothing installed: a small Maildir of invitations and a
//! vdir with the stored copies they refer to. A test checks this list
//! against the directory.

mod shift;

pub use shift::shift;

use std::io;
use std::path::Path;

/// The demo's clock: the data is written for this moment. `rsvp demo`
/// moves the data and this clock by whole weeks to the day it runs
/// ([`unpack_shifted`]).
pub const NOW_RFC3339: &str = "2026-11-24T09:00:00Z";

/// Dana, the demo user.
pub const NAME: &str = "Dana User";
pub const ADDRESSES: &[&str] = &["dana@example.org", "d.user@work.example"];

/// (path below `assets/demo/`, bytes).
pub const FILES: &[(&str, &[u8])] = &[
    (
        "maildir/cur/1794509113.M9P1.demo:2,S",
        include_bytes!("../assets/demo/maildir/cur/1794509113.M9P1.demo:2,S"),
    ),
    (
        "maildir/cur/1795119738.M4P1.demo:2,S",
        include_bytes!("../assets/demo/maildir/cur/1795119738.M4P1.demo:2,S"),
    ),
    (
        "maildir/cur/1795163475.M3P1.demo:2,S",
        include_bytes!("../assets/demo/maildir/cur/1795163475.M3P1.demo:2,S"),
    ),
    (
        "maildir/cur/1795244403.M12P1.demo:2,S",
        include_bytes!("../assets/demo/maildir/cur/1795244403.M12P1.demo:2,S"),
    ),
    (
        "maildir/cur/1795374898.M11P1.demo:2,S",
        include_bytes!("../assets/demo/maildir/cur/1795374898.M11P1.demo:2,S"),
    ),
    (
        "maildir/new/1795430001.M14P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795430001.M14P1.demo"),
    ),
    (
        "maildir/new/1795441930.M8P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795441930.M8P1.demo"),
    ),
    (
        "maildir/new/1795446133.M6P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795446133.M6P1.demo"),
    ),
    (
        "maildir/new/1795450328.M1P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795450328.M1P1.demo"),
    ),
    (
        "maildir/new/1795459212.M5P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795459212.M5P1.demo"),
    ),
    (
        "maildir/new/1795500905.M10P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795500905.M10P1.demo"),
    ),
    (
        "maildir/new/1795504533.M2P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795504533.M2P1.demo"),
    ),
    (
        "maildir/new/1795507124.M7P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795507124.M7P1.demo"),
    ),
    (
        "maildir/new/1795508414.M13P1.demo",
        include_bytes!("../assets/demo/maildir/new/1795508414.M13P1.demo"),
    ),
    (
        "calendar/040000008200E00074C5B7101A82E00800000000F0A3B2C1D45ADB010000000000000000100000004A5B6C7D8E9F0A1B2C3D4E5F60718293.ics",
        include_bytes!(
            "../assets/demo/calendar/040000008200E00074C5B7101A82E00800000000F0A3B2C1D45ADB010000000000000000100000004A5B6C7D8E9F0A1B2C3D4E5F60718293.ics"
        ),
    ),
    (
        "calendar/6b1f0e9c4a2d47e8b3c5d7f9a0e2c4b6.ics",
        include_bytes!("../assets/demo/calendar/6b1f0e9c4a2d47e8b3c5d7f9a0e2c4b6.ics"),
    ),
    (
        "calendar/B6N2M8Q4W0E6R2T8Y4U0I6O2P8A4S0D6F2G8.ics",
        include_bytes!("../assets/demo/calendar/B6N2M8Q4W0E6R2T8Y4U0I6O2P8A4S0D6F2G8.ics"),
    ),
    (
        "calendar/D47C2A91-5E3B-4F80-A6C1-8B9E0F2D3C45.ics",
        include_bytes!("../assets/demo/calendar/D47C2A91-5E3B-4F80-A6C1-8B9E0F2D3C45.ics"),
    ),
    (
        "calendar/K7Q2M9X4B1T6R8W3Z5N0P2J4L6H8F1D3V5C7.ics",
        include_bytes!("../assets/demo/calendar/K7Q2M9X4B1T6R8W3Z5N0P2J4L6H8F1D3V5C7.ics"),
    ),
    (
        "calendar/R4T8Y2U6I0O3P7A1S5D9F3G7H1J5K9L3Z7X1.ics",
        include_bytes!("../assets/demo/calendar/R4T8Y2U6I0O3P7A1S5D9F3G7H1J5K9L3Z7X1.ics"),
    ),
    (
        "calendar/b94d2e71-0c3a-4f6d-8e15-7a2c9f0b3d58.ics",
        include_bytes!("../assets/demo/calendar/b94d2e71-0c3a-4f6d-8e15-7a2c9f0b3d58.ics"),
    ),
    (
        "calendar/d83a5c7e9f1b42d6a0c8e4f2b6d9a1c3.ics",
        include_bytes!("../assets/demo/calendar/d83a5c7e9f1b42d6a0c8e4f2b6d9a1c3.ics"),
    ),
];

/// Write the demo data into `dir`: `dir/Mail/{cur,new,tmp}` and
/// `dir/calendar/`, dated as written (for [`NOW_RFC3339`]).
pub fn unpack(dir: &Path) -> io::Result<()> {
    unpack_shifted(dir, 0)
}

/// [`unpack`], with every date moved by `weeks` (for `NOW_RFC3339` plus
/// `weeks`): weekdays and recurrence rules stay right.
pub fn unpack_shifted(dir: &Path, weeks: i64) -> io::Result<()> {
    for sub in ["Mail/cur", "Mail/new", "Mail/tmp", "calendar"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    for (name, bytes) in FILES {
        let target = match name.strip_prefix("maildir/") {
            Some(rest) => dir.join("Mail").join(rest),
            None => dir.join(name),
        };
        std::fs::write(target, shift(bytes, weeks))?;
    }
    Ok(())
}
