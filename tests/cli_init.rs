//! Issue 9, first run: `rsvp init` writes a starter configuration from the
//! notmuch, khal and msmtp configs it finds (a temp HOME here), shows it,
//! never overwrites; what it writes passes `rsvp check`. Without a config
//! file every command points at `rsvp init` and `rsvp demo`. Also the
//! generated shell completions and manual page. Real binary
//! (`support::cli_sandbox`); notmuch and msmtp are needed for the check
//! (skip, or fail when env CI is set).

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use support::cli_sandbox::Sandbox;

/// `$XDG_CONFIG_HOME/rsvp/config.toml` of the sandbox.
fn default_config(s: &Sandbox) -> PathBuf {
    s.root().join("xdg/config/rsvp/config.toml")
}

fn tool(name: &str) -> Option<()> {
    match Command::new(name)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Some(()),
        _ => support::skip(&format!(
            "{name} is missing; install the Debian package {name}"
        )),
    }
}

/// A home with a notmuch config and database, a khal config naming two
/// calendars (the default second) and an ~/.msmtprc.
fn notmuch_khal_msmtp_home(s: &Sandbox) {
    let home = s.home();
    let mail = home.join("mail");
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(mail.join(d)).unwrap();
    }
    std::fs::write(
        home.join(".notmuch-config"),
        format!(
            "[database]\npath={}\n\n[user]\nname=Dana User\nprimary_email=dana@example.org\n\
             other_email=d.user@work.example;\n\n[new]\ntags=unread;inbox;\n",
            mail.display()
        ),
    )
    .unwrap();
    let out = Command::new("notmuch")
        .arg("new")
        .env("HOME", &home)
        .env_remove("NOTMUCH_CONFIG")
        .env("XDG_CONFIG_HOME", s.root().join("xdg/config"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "notmuch new: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for cal in ["work", "personal"] {
        std::fs::create_dir_all(home.join(".calendars").join(cal)).unwrap();
    }
    let khal = s.root().join("xdg/config/khal");
    std::fs::create_dir_all(&khal).unwrap();
    std::fs::write(
        khal.join("config"),
        "[calendars]\n\n[[work]]\npath = ~/.calendars/work/\ntype = calendar\n\n\
         [[personal]]\npath = ~/.calendars/personal/\n\n[default]\ndefault_calendar = personal\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".msmtprc"),
        "account default\nhost 127.0.0.1\nport 2525\nfrom dana@example.org\n",
    )
    .unwrap();
}

#[test]
fn init_writes_a_config_from_notmuch_khal_and_msmtp_that_check_accepts() {
    if tool("notmuch").is_none() || tool("msmtp").is_none() {
        return;
    }
    let s = Sandbox::empty();
    notmuch_khal_msmtp_home(&s);
    let out = s.bare().arg("init").assert().success();
    let shown = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let written = std::fs::read_to_string(default_config(&s)).unwrap();
    assert!(
        shown.contains(&written),
        "init shows what it wrote:\n{shown}"
    );
    for expected in [
        "name = \"Dana User\"",
        "addresses = [\"dana@example.org\", \"d.user@work.example\"]",
        "path = \"~/.calendars/personal\"",
        "# or khal's \"work\": path = \"~/.calendars/work\"",
        "notmuch_config = \"~/.notmuch-config\"",
        "method = \"sendmail\"",
        "command = \"msmtp --read-envelope-from -t\"",
    ] {
        assert!(
            written.contains(expected),
            "{expected:?} missing in:\n{written}"
        );
    }
    let out = s.bare().arg("check").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(text.lines().last(), Some("ok"), "{text}");
    assert!(text.contains("transport: sendmail command"), "{text}");
    assert!(text.contains("mail: "), "{text}");

    // Never overwritten: a second run fails and leaves the file alone.
    std::fs::write(default_config(&s), "# mine\n").unwrap();
    let out = s.bare().arg("init").assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(default_config(&s)).unwrap(),
        "# mine\n"
    );
}

/// Nothing to find: a config is still written, and `check` names what to fill in.
#[test]
fn init_in_an_empty_home_writes_a_skeleton_that_check_explains() {
    let s = Sandbox::empty();
    s.bare()
        .arg("init")
        .env_remove("NOTMUCH_CONFIG")
        .assert()
        .success();
    let written = std::fs::read_to_string(default_config(&s)).unwrap();
    assert!(written.contains("addresses = []"), "{written}");
    let out = s.bare().arg("check").assert().code(3);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("[identity] addresses is empty"), "{text}");
}

/// `--config PATH` names where init writes.
#[test]
fn init_writes_where_config_points() {
    let s = Sandbox::empty();
    let target = s.root().join("elsewhere/rsvp.toml");
    s.bare()
        .arg("--config")
        .arg(&target)
        .arg("init")
        .assert()
        .success();
    assert!(target.is_file());
    assert!(!default_config(&s).exists());
}

/// Without a config file, commands point at `rsvp init` and `rsvp demo`,
/// also when NOTMUCH_CONFIG is set; never at a file `cargo install` does
/// not install.
#[test]
fn no_config_message_names_init_and_demo() {
    let s = Sandbox::empty();
    for args in [&["list"][..], &["check"][..], &["outbox"][..]] {
        let out = s
            .bare()
            .args(args)
            .env("NOTMUCH_CONFIG", s.home().join(".notmuch-config"))
            .assert()
            .code(3);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            err.contains("rsvp init") && err.contains("rsvp demo"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("config.example.toml"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    let s = Sandbox::empty();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef rsvp"),
        ("fish", "complete -c rsvp"),
    ] {
        let out = s.bare().args(["completions", shell]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("no-send"), "{shell}: reply's flags are there");
    }
    s.bare().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_is_roff_from_the_clap_definitions() {
    let s = Sandbox::empty();
    let out = s.bare().arg("man").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.starts_with(".ie") || text.contains(".TH rsvp"),
        "{text}"
    );
    assert!(text.contains(".TH rsvp"), "{text}");
    for sub in ["reply", "check", "init", "completions"] {
        assert!(text.contains(sub), "{sub} missing in the man page");
    }
}
