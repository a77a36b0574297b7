//! End to end with khal (Debian package, `/usr/bin/khal`, tested with
//! 0.10.5): events that the real `rsvp` binary accepted into a vdir are
//! read back by khal at the right local times. The reply goes through the
//! sendmail transport to a stub script that keeps the message, so these
//! tests need no SMTP server.
//!
//! When khal is missing a test prints `SKIP: <reason>` and returns, or
//! fails if env CI is set.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

#[path = "support/sandbox.rs"]
mod sandbox;
mod support;

use sandbox::{Sandbox, fixture, unfold};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `khal --version` runs; else skip (or fail under CI).
fn khal_available() -> bool {
    let ok = Command::new("khal")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        support::skip::<()>("khal is not usable (`khal --version` failed); install khal");
    }
    ok
}

/// A sandbox whose replies go to a stub sendmail that stores them in
/// `sent.eml`, plus a khal configuration for the sandbox vdir.
struct KhalWorld {
    sb: Sandbox,
    khal_config: PathBuf,
}

impl KhalWorld {
    fn new(khal_zone: &str) -> KhalWorld {
        let sb = Sandbox::new();
        let stub = sb.path().join("fake-sendmail");
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\ncat > '{}'\n",
                sb.path().join("sent.eml").display()
            ),
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        sb.write_config(&format!(
            "[send]\nmethod = \"sendmail\"\n\n[sendmail]\ncommand = \"'{}'\"\n",
            stub.display()
        ));
        // khal 0.10 needs [calendars] and reads [locale] formats; the zones
        // are explicit so that the expected times do not depend on the host.
        let khal_config = sb.path().join("khal.conf");
        std::fs::write(
            &khal_config,
            format!(
                "[calendars]\n[[rsvp]]\npath = {}\ntype = calendar\n\n\
                 [locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\n\
                 longdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\n\
                 longdatetimeformat = %Y-%m-%d %H:%M\n\
                 local_timezone = {khal_zone}\ndefault_timezone = {khal_zone}\n\n\
                 [sqlite]\npath = {}\n",
                sb.cal_dir().display(),
                sb.path().join("khal.db").display()
            ),
        )
        .unwrap();
        KhalWorld { sb, khal_config }
    }

    /// `rsvp reply <answer> --message <fixture> [extra]` must succeed and
    /// hand one reply to the stub.
    fn reply(&self, answer: &str, name: &str, extra: &[&str]) {
        let sent = self.sb.path().join("sent.eml");
        let _ = std::fs::remove_file(&sent);
        let out = self
            .sb
            .rsvp()
            .args(["reply", answer, "--message"])
            .arg(fixture(name))
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "rsvp reply: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let msg = std::fs::read_to_string(&sent).expect("the stub received the reply");
        assert!(msg.contains("method=REPLY"), "{msg}");
    }

    /// Lines of `khal list` from `date` for `range` (e.g. `1d`):
    /// `start|end|title|all-day`, without day headings.
    fn list(&self, date: &str, range: &str) -> Vec<String> {
        let home = self.sb.path().join("home");
        let out = Command::new("khal")
            .arg("-c")
            .arg(&self.khal_config)
            .args([
                "list",
                "--format",
                "{start}|{end}|{title}|{all-day}",
                "--day-format",
                "",
                date,
                range,
            ])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", self.sb.path().join("config"))
            .env("XDG_DATA_HOME", self.sb.path().join("data"))
            .env("XDG_CACHE_HOME", self.sb.path().join("cache"))
            .env("TZ", "Europe/Berlin")
            .stdin(Stdio::null())
            .output()
            .expect("run khal");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "khal list failed ({}): {stderr}{stdout}",
            out.status
        );
        assert!(
            !stderr.contains("Traceback") && !stderr.to_lowercase().contains("error"),
            "khal complained: {stderr}"
        );
        stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// AC5: khal lists a timed event rsvp accepted (Google invitation with a
/// VTIMEZONE) at its local time.
#[test]
fn ac5_khal_lists_accepted_event() {
    if !khal_available() {
        return;
    }
    let w = KhalWorld::new("Europe/Berlin");
    w.reply("accept", "google-request.eml", &[]);
    let obj = unfold(&w.sb.only_object());
    assert!(obj.contains("PARTSTAT=ACCEPTED"), "{obj}");
    assert_eq!(
        w.list("2030-03-12", "1d"),
        ["2030-03-12 10:00|2030-03-12 11:00|Quarterly planning|False"]
    );
    assert_eq!(w.list("2030-03-13", "1d"), Vec::<String>::new());
}

/// AC5: an all-day event (DTSTART;VALUE=DATE, exclusive DTEND) is one
/// all-day entry on its date only.
#[test]
fn ac5_khal_lists_accepted_all_day_event() {
    if !khal_available() {
        return;
    }
    let w = KhalWorld::new("Europe/Berlin");
    w.reply("accept", "apple-all-day.eml", &[]);
    assert_eq!(
        w.list("2030-04-14", "3d"),
        ["2030-04-15|2030-04-15|Team offsite|True"]
    );
}

/// AC5, R3.9: an Outlook event with TZID "W. Europe Standard Time" is
/// stored so that khal places it at 14:00 Berlin time, which is 08:00 in
/// New York (the zone definition is kept, not just the name).
#[test]
fn ac5_khal_lists_windows_tzid_event_at_the_right_instant() {
    if !khal_available() {
        return;
    }
    let w = KhalWorld::new("Europe/Berlin");
    w.reply("accept", "outlook-windows-tzid.eml", &[]);
    assert_eq!(
        w.list("2030-06-04", "1d"),
        ["2030-06-04 14:00|2030-06-04 15:00|Budgetrunde Q3|False"]
    );
    let ny = KhalWorld::new("America/New_York");
    ny.reply("accept", "outlook-windows-tzid.eml", &[]);
    assert_eq!(
        ny.list("2030-06-04", "1d"),
        ["2030-06-04 08:00|2030-06-04 09:00|Budgetrunde Q3|False"]
    );
}

/// AC5: an accepted weekly series with one declined occurrence (an
/// override written by rsvp) still shows six Monday meetings at 09:00.
#[test]
fn ac5_khal_expands_accepted_series_with_declined_instance() {
    if !khal_available() {
        return;
    }
    let w = KhalWorld::new("Europe/Berlin");
    w.reply("accept", "thunderbird-weekly-series.eml", &[]);
    w.reply(
        "decline",
        "thunderbird-weekly-series.eml",
        &["--instance", "20300114T090000"],
    );
    let obj = unfold(&w.sb.only_object());
    assert!(
        obj.contains("RECURRENCE-ID;TZID=Europe/Berlin:20300114T090000"),
        "{obj}"
    );
    let lines = w.list("2030-01-01", "60d");
    let expected: Vec<String> = ["07", "14", "21", "28"]
        .iter()
        .map(|d| format!("2030-01-{d} 09:00|2030-01-{d} 09:30|Weekly sync|False"))
        .chain(
            ["04", "11"]
                .iter()
                .map(|d| format!("2030-02-{d} 09:00|2030-02-{d} 09:30|Weekly sync|False")),
        )
        .collect();
    assert_eq!(lines, expected);
}
