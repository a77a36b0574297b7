//! The real `rsvp` binary in a real terminal: tmux (tested with 3.3a) runs
//! it in a detached session of fixed size, keys go in with `send-keys`, and
//! the screen comes back with `capture-pane -p`, polled until the expected
//! text appears (no sleeps as synchronisation).
//!
//! - `rsvp demo` opens on the bundled data and answers into its sandbox.
//! - Issue 3's end-to-end run: a Maildir indexed by real libnotmuch
//!   (`rsvp index`), a vdir holding the stored copy of an event that an
//!   update reschedules, and a real SMTP server on loopback (aiosmtpd): the
//!   detail shows the diff, `a` sends the reply, the calendar and the
//!   notmuch tags record it, and khal lists the event.
//! - The SMTP server down: the status line says why, the reply stays
//!   queued, and `R` delivers it once the server is up (at 80×24).
//! - Another program holding the notmuch write lock: `r` shows "waiting for
//!   the notmuch database" and the inbox recovers when the lock is released.
//!
//! Each test has its own tmux server (`tmux -L <unique>`, no config file),
//! killed by a drop guard, and its own HOME/XDG directories, TZ and TERM.
//! A missing tmux, notmuch, aiosmtpd or khal is a failure when env CI is
//! set, otherwise the test prints `SKIP: <reason>` and returns.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod support;
use support::notmuch_lock::LockHolder;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{ServerOptions, SmtpServer};

/// Longest wait for one expected screen or file.
const WAIT: Duration = Duration::from_secs(20);
/// How often the screen is captured while waiting.
const POLL: Duration = Duration::from_millis(50);

const ME: &str = "dana@example.org";
/// The UID of the event that `thunderbird-reschedule.eml` moves.
const BUDGET_UID: &str = "b7c1e2d4-3f5a-4e6b-9c8d-0a1b2c3d4e5f";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tmux")
        .join(name)
}

/// Undo iCalendar line folding.
fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "")
}

/// The screen as one line with runs of white space collapsed, so that text
/// wrapped over several lines (the status line at 80 columns) is found.
fn flat(screen: &str) -> String {
    screen.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `program --version` (or `-V`) runs; else skip (or fail under CI).
fn tool(program: &str, version_flag: &str, package: &str) -> bool {
    match Command::new(program)
        .arg(version_flag)
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => true,
        Ok(out) => support::skip::<()>(&format!(
            "`{program} {version_flag}` failed ({}); install the Debian package {package}",
            out.status
        ))
        .is_some(),
        Err(e) => support::skip::<()>(&format!(
            "{program} is missing ({e}); install the Debian package {package}"
        ))
        .is_some(),
    }
}

/// A private HOME with XDG directories, a Maildir and a vdir.
struct World {
    tmp: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::Builder::new()
            .prefix("rsvp-tmux-")
            .tempdir()
            .expect("temp dir");
        let w = World { tmp };
        for dir in [
            "home",
            "config/rsvp",
            "data",
            "state",
            "cache",
            "tmp",
            "Mail/cur",
            "Mail/new",
            "Mail/tmp",
            "calendar",
        ] {
            std::fs::create_dir_all(w.path().join(dir)).expect("create dir");
        }
        w
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn maildir(&self) -> PathBuf {
        self.path().join("Mail")
    }

    fn calendar(&self) -> PathBuf {
        self.path().join("calendar")
    }

    fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    /// rsvp's private notmuch database ($XDG_DATA_HOME/rsvp/notmuch).
    fn notmuch_db(&self) -> PathBuf {
        self.data_dir().join("rsvp/notmuch")
    }

    fn pending_outbox(&self) -> Vec<PathBuf> {
        let dir = self.data_dir().join("rsvp/outbox/pending");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// The environment of every program run in this world.
    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let p = self.path();
        vec![
            ("HOME", p.join("home")),
            ("XDG_CONFIG_HOME", p.join("config")),
            ("XDG_DATA_HOME", p.join("data")),
            ("XDG_STATE_HOME", p.join("state")),
            ("XDG_CACHE_HOME", p.join("cache")),
            ("TMPDIR", p.join("tmp")),
            ("TZ", PathBuf::from("Europe/Berlin")),
            ("TERM", PathBuf::from("xterm-256color")),
        ]
    }

    /// A message from the fixtures into the Maildir (`new/` or `cur/`).
    fn deliver(&self, fixture_name: &str, sub: &str, file: &str) -> PathBuf {
        let to = self.maildir().join(sub).join(file);
        std::fs::copy(fixture(fixture_name), &to).expect("copy fixture into the Maildir");
        to
    }

    /// The stored copy of "Budget review" (accepted at SEQUENCE 0).
    fn store_budget_review(&self) -> PathBuf {
        let name = format!("{BUDGET_UID}.ics");
        let to = self.calendar().join(&name);
        std::fs::copy(fixture(&format!("stored/{name}")), &to).expect("copy stored event");
        to
    }

    /// The invitations of the end-to-end run: a new one, a reschedule of
    /// the stored event, and an ordinary mail. Returns the reschedule.
    fn mailbox(&self) -> PathBuf {
        self.deliver("plain.eml", "cur", "1778140860.M1P1.tmux:2,S");
        self.deliver("google-new.eml", "new", "1778141700.M2P1.tmux");
        let update = self.deliver("thunderbird-reschedule.eml", "new", "1778251327.M3P1.tmux");
        self.store_budget_review();
        update
    }

    /// `$XDG_CONFIG_HOME/rsvp/config.toml` (found without `--config`),
    /// sending by SMTP in clear text to 127.0.0.1:`port`.
    fn write_config(&self, port: u16) {
        let text = format!(
            "[identity]\nname = \"Dana User\"\naddresses = [\"{ME}\"]\n\n\
             [calendar]\npath = \"{}\"\n\n\
             [mail]\nmaildir = \"{}\"\n\n\
             [send]\nmethod = \"smtp\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_seconds = 5\n",
            self.calendar().display(),
            self.maildir().display()
        );
        std::fs::write(self.path().join("config/rsvp/config.toml"), text).expect("write config");
    }

    /// The rsvp binary with this world's environment (for `rsvp index`).
    fn rsvp(&self) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("rsvp"));
        cmd.env_remove("NOTMUCH_CONFIG")
            .env_remove("NOTMUCH_DATABASE")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// `rsvp index`: must succeed; returns its standard output.
    fn index(&self) -> String {
        let out = self.rsvp().arg("index").output().expect("run rsvp index");
        assert!(
            out.status.success(),
            "rsvp index failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Files in the private notmuch database matching `query`, through the
    /// notmuch CLI (which reads no config file with `--config=''`).
    fn notmuch_files(&self, query: &str) -> Vec<String> {
        let out = Command::new("notmuch")
            .args(["--config=", "search", "--output=files", query])
            .env("NOTMUCH_DATABASE", self.notmuch_db())
            .stdin(Stdio::null())
            .output()
            .expect("run notmuch search");
        assert!(
            out.status.success(),
            "notmuch search {query}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        files.sort();
        files
    }
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// One tmux server with one session running a shell script; the server is
/// killed on drop (which also ends the programs in its pane).
struct Tmux {
    socket: String,
    /// `TMUX_TMPDIR`: the socket lives in the world's directory.
    dir: PathBuf,
}

impl Tmux {
    /// Run `command` (shell text) in a `width`×`height` pane with the
    /// world's environment exported first.
    fn start(world: &World, width: u16, height: u16, command: &str) -> Tmux {
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        let socket = format!("rsvp-test-{}-{n}", std::process::id());
        let mut script =
            String::from("unset TMUX TMUX_PANE NOTMUCH_CONFIG NOTMUCH_DATABASE NO_COLOR\n");
        for (k, v) in world.env() {
            script.push_str(&format!("export {k}={}\n", quote(&v.to_string_lossy())));
        }
        script.push_str(command);
        script.push('\n');
        let script_path = world.path().join(format!("run-{n}.sh"));
        std::fs::write(&script_path, script).expect("write the pane script");
        let tmux = Tmux {
            socket,
            dir: world.path().to_path_buf(),
        };
        let out = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "rsvp", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .arg(format!("sh {}", quote(&script_path.to_string_lossy())))
            .output()
            .expect("run tmux new-session");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"])
            .env("TMUX_TMPDIR", &self.dir)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .stdin(Stdio::null());
        cmd
    }

    /// Press keys (tmux key names: "a", "Enter", "Escape").
    fn keys(&self, keys: &[&str]) {
        let out = self
            .cmd()
            .args(["send-keys", "-t", "rsvp"])
            .args(keys)
            .output()
            .expect("run tmux send-keys");
        assert!(
            out.status.success(),
            "tmux send-keys {keys:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Type text literally.
    fn type_text(&self, text: &str) {
        let out = self
            .cmd()
            .args(["send-keys", "-t", "rsvp", "-l", text])
            .output()
            .expect("run tmux send-keys -l");
        assert!(out.status.success(), "tmux send-keys -l {text:?}");
    }

    /// The visible pane, wrapped lines joined.
    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-t", "rsvp"])
            .output()
            .expect("run tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Poll the screen until `ok` holds; panics with the last screen after
    /// [`WAIT`].
    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("waited {WAIT:?} for {what}; the screen shows:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Poll until every one of `texts` is on screen (wrapping ignored).
    fn wait_for(&self, texts: &[&str]) -> String {
        self.wait_until(&format!("{texts:?}"), |s| {
            let f = flat(s);
            texts.iter().all(|t| f.contains(t))
        })
    }

    /// Wait for the list with nothing loading or indexing in the background
    /// (the activity is at the right end of the status line, above the
    /// hint line).
    fn wait_idle_list(&self, texts: &[&str]) -> String {
        self.wait_until(&format!("the idle list with {texts:?}"), |s| {
            let lines: Vec<&str> = s.lines().collect();
            let bottom = flat(&lines[lines.len().saturating_sub(4)..].join("\n"));
            texts.iter().all(|t| flat(s).contains(t))
                && !bottom.contains("loading…")
                && !bottom.contains("looking for new mail")
                && !bottom.contains("indexing")
        })
    }

    /// Press `q` (again if rsvp asks for confirmation) and wait for the
    /// shell's `EXIT=<code>` line; returns the screen then.
    fn quit(&self) -> String {
        self.keys(&["q"]);
        let screen = self.wait_until("rsvp to exit or ask to confirm", |s| {
            s.contains("EXIT=") || flat(s).contains("again to quit")
        });
        if screen.contains("EXIT=") {
            return screen;
        }
        self.keys(&["q"]);
        self.wait_until("rsvp to exit", |s| s.contains("EXIT="))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// Single-quote for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The command line of the pane: rsvp, then its exit code, then the pane
/// stays open so the screen can still be read.
fn pane_command(args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("rsvp");
    format!(
        "{} {args}; echo EXIT=$?; sleep 600",
        quote(&bin.to_string_lossy())
    )
}

/// The row of the list that is selected (starts with `>`).
fn selected_row(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with('>'))
        .unwrap_or_default()
        .to_string()
}

/// The `text/calendar` part of a reply: (its Content-Type with parameters,
/// the decoded text unfolded), plus the content types of every part.
fn calendar_part(raw: &[u8]) -> (String, String, Vec<String>) {
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    let msg = MessageParser::default()
        .parse(raw)
        .expect("the reply parses as a message");
    let types: Vec<String> = msg
        .parts
        .iter()
        .map(|p| {
            p.content_type()
                .map(|ct| {
                    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
                        .to_ascii_lowercase()
                })
                .unwrap_or_default()
        })
        .collect();
    let part = msg
        .parts
        .iter()
        .find(|p| {
            p.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("text")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("calendar"))
            })
        })
        .expect("the reply has a text/calendar part");
    let ct = part.content_type().expect("content type");
    let mut header = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default());
    for a in ct.attributes().unwrap_or_default() {
        header.push_str(&format!("; {}={}", a.name, a.value));
    }
    let text = match &part.body {
        PartType::Text(t) => t.to_string(),
        PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("unexpected calendar body {other:?}"),
    };
    (header.to_ascii_lowercase(), unfold(&text), types)
}

/// The ATTENDEE line (unfolded) of `address` in iCalendar `text`.
fn attendee_line(text: &str, address: &str) -> String {
    let needle = format!("mailto:{address}").to_ascii_lowercase();
    text.lines()
        .find(|l| {
            l.to_ascii_uppercase().starts_with("ATTENDEE")
                && l.to_ascii_lowercase().trim_end().ends_with(&needle)
        })
        .unwrap_or_else(|| panic!("no ATTENDEE {address} in:\n{text}"))
        .to_string()
}

/// The value of the first `NAME:` property line.
fn property(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .trim()
        .to_string()
}

#[test]
fn demo_opens_and_answers() {
    if !tool("tmux", "-V", "tmux") {
        return;
    }
    let world = World::new();
    let tmux = Tmux::start(&world, 100, 30, &pane_command("demo"));
    // The demo indexes before the screen opens; its clock is fixed, so the
    // first row is the earliest pending invitation.
    let screen = tmux.wait_idle_list(&["rsvp demo", "pending", "Design review: onboarding flow"]);
    let first = selected_row(&screen);
    assert!(
        first.contains("NEW") && first.contains("Design review: onboarding flow"),
        "the first row is selected: {first:?}\n{screen}"
    );
    // The detail of the selected row is shown below the list.
    assert!(flat(&screen).contains("needs action Dana User <dana@example.org> (you)"));

    tmux.keys(&["a"]);
    tmux.wait_for(&[
        "accepted \"Design review: onboarding flow\": reply sent to priya.raman@example.com",
    ]);

    let screen = tmux.quit();
    assert!(screen.contains("EXIT=0"), "{screen}");
    // Logs go to a file under the XDG state dir, never to the terminal.
    let log = std::fs::read_to_string(world.path().join("state/rsvp/rsvp.log"))
        .expect("the TUI log under $XDG_STATE_HOME/rsvp");
    assert!(log.contains("tui stopped"), "{log}");
    let sent_dir = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("rsvp demo: sent replies are in "))
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("no sandbox path on exit:\n{screen}"));
    assert!(
        sent_dir.starts_with(world.path().join("tmp")),
        "the sandbox is made under $TMPDIR: {}",
        sent_dir.display()
    );
    let calendar_line = format!(
        "rsvp demo: the calendar is in {}",
        sent_dir.with_file_name("calendar").display()
    );
    assert!(screen.contains(&calendar_line), "{screen}");

    let sent: Vec<PathBuf> = std::fs::read_dir(&sent_dir)
        .expect("the sent directory exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(sent.len(), 1, "one reply dropped in {}", sent_dir.display());
    let raw = std::fs::read(&sent[0]).expect("read the reply");
    let (ctype, cal, _) = calendar_part(&raw);
    assert!(ctype.contains("method=reply"), "{ctype}");
    assert_eq!(property(&cal, "METHOD"), "REPLY");
    assert!(
        attendee_line(&cal, ME).contains("PARTSTAT=ACCEPTED"),
        "{cal}"
    );
    let uid = property(&cal, "UID");
    // Issue 9: the demo is dated around the day it runs (moved by whole
    // weeks), so the invitation answered is not one from the past.
    let stamp = property(&cal, "DTSTAMP");
    let year: i32 = stamp.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let month: u32 = stamp.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = stamp.get(6..8).and_then(|d| d.parse().ok()).unwrap_or(0);
    let sent_on = chrono::NaiveDate::from_ymd_opt(year, month, day)
        .unwrap_or_else(|| panic!("DTSTAMP {stamp:?}"));
    let today = chrono::Utc::now().date_naive();
    assert!(
        (sent_on - today).num_days().abs() <= 4,
        "the demo's clock is moved to today ({today}); the reply says {stamp}"
    );

    // The calendar of the sandbox now holds the event, accepted.
    let calendar = sent_dir.with_file_name("calendar");
    let holding: Vec<String> = std::fs::read_dir(&calendar)
        .expect("the sandbox calendar")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| unfold(&t))
        .filter(|t| t.lines().any(|l| l.trim() == format!("UID:{uid}")))
        .collect();
    assert_eq!(holding.len(), 1, "one calendar object with UID {uid}");
    assert!(
        attendee_line(&holding[0], ME).contains("PARTSTAT=ACCEPTED"),
        "{}",
        holding[0]
    );
    assert!(holding[0].contains("SUMMARY:Design review: onboarding flow"));
}

/// Issue 3's end-to-end acceptance run.
#[test]
fn e2e_reschedule_diff_accept_smtp_vdir_khal_and_notmuch_tag() {
    if !tool("tmux", "-V", "tmux") || !tool("notmuch", "--version", "notmuch") {
        return;
    }
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let world = World::new();
    let update = world.mailbox();
    world.write_config(server.port());
    assert_eq!(
        world.index(),
        "indexed 3 new, 0 removed, 3 messages, 2 candidates\n"
    );

    let tmux = Tmux::start(&world, 100, 30, &pane_command(""));
    tmux.wait_idle_list(&["rsvp · 2 pending", "Design review", "Budget review"]);

    // Filter down to the update; it is then the selected row.
    tmux.keys(&["/"]);
    tmux.type_text("Budget");
    tmux.keys(&["Enter"]);
    // Wait for the whole redraw, not only its first line.
    let screen = tmux.wait_until("the filtered list", |s| {
        s.contains("filter: Budget") && s.contains("Budget review") && !s.contains("Design review")
    });
    let row = selected_row(&screen);
    assert!(
        row.contains("RESCHED")
            && row.contains("Wed 2030-05-22 15:30")
            && row.contains("Budget review"),
        "{row:?}\n{screen}"
    );
    assert!(!screen.contains("Design review"), "filtered out:\n{screen}");

    // The detail shows the change against the stored copy: old → new.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(&[
        "Changes against your calendar",
        "+ Wed 2030-05-22 16:30 CEST",
        "your answer before the change: accepted",
    ]);
    let lines: Vec<&str> = screen.lines().map(str::trim).collect();
    for expected in [
        "Start *",
        "- Mon 2030-05-20 10:00 CEST",
        "+ Wed 2030-05-22 15:30 CEST",
        "End *",
        "- Mon 2030-05-20 11:00 CEST",
        "+ Wed 2030-05-22 16:30 CEST",
    ] {
        assert!(lines.contains(&expected), "{expected:?} in:\n{screen}");
    }
    let start = lines.iter().position(|l| *l == "Start *").unwrap_or(0);
    assert_eq!(
        lines.get(start + 1..start + 3),
        Some(&["- Mon 2030-05-20 10:00 CEST", "+ Wed 2030-05-22 15:30 CEST"][..]),
        "old above new:\n{screen}"
    );
    assert!(
        flat(&screen)
            .contains("rescheduled: please answer again · your answer before the change: accepted"),
        "{screen}"
    );

    tmux.keys(&["a"]);
    tmux.wait_for(&["accepted \"Budget review\": reply sent to marc.weber@example.net"]);

    // What the SMTP server received.
    let received = server.wait_for_messages(1, WAIT);
    assert_eq!(received.len(), 1, "exactly one message");
    let msg = &received[0];
    assert_eq!(msg.mail_from, ME);
    assert_eq!(msg.rcpt_tos, vec!["marc.weber@example.net".to_string()]);
    let head = String::from_utf8_lossy(&msg.data);
    let head = unfold(head.split("\r\n\r\n").next().unwrap_or_default());
    let to = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("to:"))
        .unwrap_or_else(|| panic!("no To header:\n{head}"));
    assert!(to.contains("marc.weber@example.net"), "{to}");
    assert!(
        head.lines().any(|l| l.starts_with("In-Reply-To:")
            && l.contains("4b2e8f1a-7c3d-4e59-a0b6-d1c2e3f4a5b6@example.net")),
        "threads with the invitation:\n{head}"
    );
    let (ctype, cal, types) = calendar_part(&msg.data);
    assert_eq!(
        types,
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/calendar",
            "application/ics"
        ],
        "R7.6 structure"
    );
    assert!(ctype.starts_with("text/calendar"), "{ctype}");
    assert!(ctype.contains("method=reply"), "{ctype}");
    assert_eq!(property(&cal, "METHOD"), "REPLY");
    assert_eq!(property(&cal, "UID"), BUDGET_UID);
    assert_eq!(property(&cal, "SEQUENCE"), "1");
    let me = attendee_line(&cal, ME);
    assert!(me.contains("PARTSTAT=ACCEPTED"), "{me}");
    assert!(
        cal.lines()
            .any(|l| l.starts_with("ORGANIZER") && l.ends_with(":mailto:marc.weber@example.net")),
        "{cal}"
    );

    // The vdir holds the new time, accepted.
    let stored = unfold(
        &std::fs::read_to_string(world.calendar().join(format!("{BUDGET_UID}.ics")))
            .expect("the stored event is still there"),
    );
    assert!(
        stored.contains("DTSTART;TZID=Europe/Berlin:20300522T153000"),
        "{stored}"
    );
    assert!(stored.contains("SEQUENCE:1"), "{stored}");
    assert!(stored.contains("X-RSVP-RECEIVED-SEQUENCE:1"), "{stored}");
    assert!(
        attendee_line(&stored, ME).contains("PARTSTAT=ACCEPTED"),
        "{stored}"
    );
    let objects = std::fs::read_dir(world.calendar())
        .expect("vdir")
        .flatten()
        .count();
    assert_eq!(objects, 1, "no second copy of the event");

    // The notmuch tag records the answer.
    assert_eq!(
        world.notmuch_files("tag:rsvp/accepted"),
        [update.to_string_lossy().into_owned()]
    );

    let screen = tmux.quit();
    assert!(screen.contains("EXIT=0"), "{screen}");

    // khal reads the updated vdir (skipped, with a message, without khal).
    if tool("khal", "--version", "khal") {
        assert_eq!(
            khal_list(&world, "2030-05-22"),
            ["2030-05-22 15:30|2030-05-22 16:30|Budget review|False"]
        );
        assert_eq!(khal_list(&world, "2030-05-20"), Vec::<String>::new());
    }
}

/// `khal list <date> 1d` on the world's vdir, as `start|end|title|all-day`
/// lines (the configuration of tests/khal.rs).
fn khal_list(world: &World, date: &str) -> Vec<String> {
    let conf = world.path().join("khal.conf");
    std::fs::write(
        &conf,
        format!(
            "[calendars]\n[[rsvp]]\npath = {}\ntype = calendar\n\n\
             [locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\n\
             longdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\n\
             longdatetimeformat = %Y-%m-%d %H:%M\n\
             local_timezone = Europe/Berlin\ndefault_timezone = Europe/Berlin\n\n\
             [sqlite]\npath = {}\n",
            world.calendar().display(),
            world.path().join("khal.db").display()
        ),
    )
    .expect("write khal.conf");
    let mut cmd = Command::new("khal");
    cmd.arg("-c")
        .arg(&conf)
        .args([
            "list",
            "--format",
            "{start}|{end}|{title}|{all-day}",
            "--day-format",
            "",
            date,
            "1d",
        ])
        .stdin(Stdio::null());
    for (k, v) in world.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run khal");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "khal list failed: {stderr}");
    assert!(!stderr.contains("Traceback"), "khal complained: {stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Issue 3: "A second run with the SMTP server down asserts the status line
/// error, the queued reply, and delivery after `R` once the server is up."
/// At 80×24, where the error must still show its reason; the TUI indexes
/// the Maildir itself (no `rsvp index` first).
#[test]
fn smtp_down_queues_and_r_delivers_once_the_server_is_up_at_80x24() {
    if !tool("tmux", "-V", "tmux") {
        return;
    }
    if let Err(reason) = support::aiosmtpd_available() {
        support::skip::<()>(&reason);
        return;
    }
    let port = support::free_port();
    let world = World::new();
    world.mailbox();
    world.write_config(port);

    let tmux = Tmux::start(&world, 80, 24, &pane_command(""));
    let screen = tmux.wait_idle_list(&["rsvp · 2 pending", "Design review", "Budget review"]);
    assert!(
        selected_row(&screen).contains("Design review"),
        "the earliest invitation is selected:\n{screen}"
    );

    tmux.keys(&["a"]);
    // The status line is drawn over a few writes: wait for all of it.
    let want_server = format!("cannot connect to 127.0.0.1:{port}");
    let screen = tmux.wait_until("the whole error status", |s| {
        let f = flat(s);
        f.contains("error: reply not sent")
            && f.contains(want_server.as_str())
            && f.contains("stays queued")
            && f.contains("press R to retry")
    });
    let status = flat(&screen);
    for expected in [
        &format!("cannot connect to 127.0.0.1:{port}") as &str,
        "stays queued",
        "press R to retry",
    ] {
        assert!(
            status.contains(expected),
            "{expected:?} on screen:\n{screen}"
        );
    }
    // The calendar holds the answer (R9.13), but the reply is still queued:
    // the invitation stays in the pending list, answerable again.
    tmux.wait_for(&["rsvp · 2 pending"]);
    let queued = world.pending_outbox();
    assert_eq!(queued.len(), 1, "one reply queued: {queued:?}");
    let (_, cal, _) = calendar_part(&std::fs::read(&queued[0]).expect("read queued reply"));
    assert!(
        attendee_line(&cal, ME).contains("PARTSTAT=ACCEPTED"),
        "{cal}"
    );

    let Some(server) = SmtpServer::start(&ServerOptions::plain().on_port(port)) else {
        return;
    };
    tmux.keys(&["R"]);
    tmux.wait_for(&["sent 1 queued reply"]);
    // Delivered: now it leaves the pending list.
    tmux.wait_for(&["rsvp · 1 pending"]);
    let received = server.wait_for_messages(1, WAIT);
    assert_eq!(received.len(), 1, "delivered once");
    assert_eq!(
        received[0].rcpt_tos,
        vec!["priya.shah@example.com".to_string()]
    );
    let (_, cal, _) = calendar_part(&received[0].data);
    assert_eq!(
        property(&cal, "UID"),
        "1q8w3e5r7t9y2u4i6o8p0a2s4d@google.com"
    );
    assert!(
        attendee_line(&cal, ME).contains("PARTSTAT=ACCEPTED"),
        "{cal}"
    );
    assert_eq!(
        world.pending_outbox(),
        Vec::<PathBuf>::new(),
        "the outbox is empty"
    );

    // A second R finds nothing left to send.
    tmux.keys(&["R"]);
    tmux.wait_for(&["the outbox is empty: nothing to send"]);
    assert_eq!(server.received().len(), 1);
    let screen = tmux.quit();
    assert!(screen.contains("EXIT=0"), "{screen}");
}

#[test]
fn locked_database_shows_waiting_on_reindex_and_recovers() {
    if !tool("tmux", "-V", "tmux") || !tool("notmuch", "--version", "notmuch") {
        return;
    }
    let world = World::new();
    world.mailbox();
    world.write_config(support::free_port());
    assert!(world.index().starts_with("indexed 3 new"));

    let tmux = Tmux::start(&world, 100, 30, &pane_command(""));
    tmux.wait_idle_list(&["rsvp · 2 pending", "Design review", "Budget review"]);

    // New mail arrives while another program writes to the database.
    world.deliver("apple-late.eml", "new", "1778317544.M4P1.tmux");
    let holder = LockHolder::start(&world.notmuch_db());
    tmux.keys(&["r"]);
    let screen = tmux.wait_for(&["waiting for the notmuch database"]);
    assert!(
        !screen.contains("Sprint retro"),
        "not indexed yet:\n{screen}"
    );
    // The screen is not frozen: moving works while indexing waits.
    tmux.keys(&["j"]);
    let screen = tmux.wait_until("the selection to move", |s| {
        selected_row(s).contains("Budget review")
    });
    assert!(
        flat(&screen).contains("waiting for the notmuch database"),
        "{screen}"
    );

    holder.release();
    let screen = tmux.wait_until("the new mail after the lock is released", |s| {
        let f = flat(s);
        f.contains("Sprint retro")
            && f.contains("rsvp · 3 pending")
            && !f.contains("waiting for the notmuch database")
    });
    assert!(
        flat(&screen).contains("new mail indexed: 1 added, 0 removed"),
        "{screen}"
    );
    assert!(
        selected_row(&screen).contains("Budget review"),
        "the selection stays on its invitation:\n{screen}"
    );
    let screen = tmux.quit();
    assert!(screen.contains("EXIT=0"), "{screen}");
}

/// Issue 9, the answer must go out: the default configuration
/// (`server_scheduling` unset, "auto"), a plain vdir holding the event as a
/// server or khal left it (no SCHEDULE-AGENT, no rsvp bookkeeping) and a
/// reschedule of it. The detail says where the answer goes before a key is
/// pressed, `a` mails the reply (it used to claim a server would, and mail
/// nothing), and `n` then `a` answers another invitation without mail and
/// says so.
#[test]
fn default_auto_mails_on_a_and_n_answers_without_mail() {
    if !tool("tmux", "-V", "tmux") || !tool("notmuch", "--version", "notmuch") {
        return;
    }
    let Some(server) = SmtpServer::start(&ServerOptions::plain()) else {
        return;
    };
    let world = World::new();
    world.mailbox();
    let stored_path = world.calendar().join(format!("{BUDGET_UID}.ics"));
    let plain: String = std::fs::read_to_string(&stored_path)
        .unwrap()
        .replace(";SCHEDULE-AGENT=CLIENT", "")
        .lines()
        .filter(|l| !l.starts_with("X-RSVP-"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    assert!(!plain.contains("SCHEDULE-AGENT") && !plain.contains("X-RSVP"));
    std::fs::write(&stored_path, plain).unwrap();
    world.write_config(server.port());
    let config = std::fs::read_to_string(world.path().join("config/rsvp/config.toml")).unwrap();
    assert!(!config.contains("server_scheduling"), "the default");
    world.index();

    let tmux = Tmux::start(&world, 100, 30, &pane_command(""));
    tmux.wait_idle_list(&["rsvp · 2 pending", "Design review", "Budget review"]);
    tmux.keys(&["/"]);
    tmux.type_text("Budget");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_until("the filtered list", |s| {
        s.contains("filter: Budget") && s.contains("Budget review") && !s.contains("Design review")
    });
    assert!(
        flat(&screen).contains("Answer: reply mailed to marc.weber@example.net"),
        "said before a key is pressed:\n{screen}"
    );
    tmux.keys(&["a"]);
    tmux.wait_for(&["accepted \"Budget review\": reply sent to marc.weber@example.net"]);
    let received = server.wait_for_messages(1, WAIT);
    assert_eq!(received.len(), 1, "the reply went out");
    assert_eq!(received[0].rcpt_tos, ["marc.weber@example.net"]);
    let stored = unfold(&std::fs::read_to_string(&stored_path).unwrap());
    assert!(
        attendee_line(&stored, ME).contains("PARTSTAT=ACCEPTED"),
        "{stored}"
    );
    assert!(
        stored.contains("SCHEDULE-AGENT=CLIENT"),
        "a server must not answer twice:\n{stored}"
    );

    // `n`, then `a`: the calendar changes, nothing is mailed, and it says so.
    tmux.keys(&["/"]);
    tmux.keys(&["C-u"]);
    tmux.type_text("Design");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the other invitation", |s| {
        s.contains("filter: Design") && selected_row(s).contains("Design review")
    });
    tmux.keys(&["n"]);
    let screen = tmux.wait_for(&["not mailing: press"]);
    assert!(
        flat(&screen).contains("Answer: not mailed"),
        "the detail says it:\n{screen}"
    );
    tmux.keys(&["a"]);
    let screen = tmux.wait_for(&["calendar updated; not mailed"]);
    assert!(
        flat(&screen).contains("accepted \"Design review\""),
        "{screen}"
    );
    assert_eq!(server.received().len(), 1, "nothing more was mailed");
    assert!(world.pending_outbox().is_empty(), "nothing queued either");
    assert_eq!(world.notmuch_files("tag:rsvp/accepted").len(), 2);

    let screen = tmux.quit();
    assert!(screen.contains("EXIT=0"), "{screen}");
}
