//! The real `rsvp` binary in a throw-away world: HOME, XDG_* and the
//! calendar in a tempdir, TZ fixed to Europe/Berlin, and a sendmail sink
//! (`/bin/sh` writing each message to its own file) instead of a mail server.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// My addresses in every sandbox config and in the conformance fixtures.
pub const ME: &str = "dana@example.org";
pub const ALIAS: &str = "d.user@work.example";

pub struct Sandbox {
    pub dir: TempDir,
}

/// A config using `cal` as the calendar and the sink in `sent` for replies.
pub fn config_text(cal: &Path, sent: &Path) -> String {
    format!(
        "[identity]\nname = \"Dana User\"\naddresses = [\"{ME}\", \"{ALIAS}\"]\n\n\
         [calendar]\npath = \"{}\"\nserver_scheduling = \"off\"\n\n\
         [send]\nmethod = \"sendmail\"\n\n\
         [sendmail]\ncommand = \"sh -c 'cat > \\\"$(mktemp \\\"$0/XXXXXXXX.eml\\\")\\\"' {}\"\n",
        cal.display(),
        sent.display()
    )
}

impl Sandbox {
    /// Directories made, a valid config written.
    pub fn new() -> Sandbox {
        let s = Sandbox::empty();
        std::fs::write(s.config_path(), config_text(&s.cal_dir(), &s.sent_dir())).unwrap();
        s
    }

    /// Directories made, no config file.
    pub fn empty() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("rsvp-sandbox-")
            .tempdir()
            .unwrap();
        let s = Sandbox { dir };
        for d in [
            s.home(),
            s.cal_dir(),
            s.sent_dir(),
            s.xdg("config"),
            s.xdg("data"),
            s.xdg("state"),
            s.xdg("cache"),
        ] {
            std::fs::create_dir_all(d).unwrap();
        }
        s
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    fn xdg(&self, what: &str) -> PathBuf {
        self.root().join("xdg").join(what)
    }
    pub fn cal_dir(&self) -> PathBuf {
        self.root().join("calendar")
    }
    pub fn sent_dir(&self) -> PathBuf {
        self.root().join("sent")
    }
    pub fn config_path(&self) -> PathBuf {
        self.root().join("config.toml")
    }
    /// `$XDG_DATA_HOME/rsvp`: outbox and tombstones.
    pub fn data_dir(&self) -> PathBuf {
        self.xdg("data").join("rsvp")
    }

    /// `rsvp` with the sandbox environment and no arguments.
    pub fn bare(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rsvp"));
        cmd.env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.xdg("config"))
            .env("XDG_DATA_HOME", self.xdg("data"))
            .env("XDG_STATE_HOME", self.xdg("state"))
            .env("XDG_CACHE_HOME", self.xdg("cache"))
            .env("TZ", "Europe/Berlin")
            .env_remove("RSVP_CONFIG")
            .current_dir(self.root())
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// `rsvp --config <sandbox config> args…`.
    pub fn rsvp(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare();
        cmd.arg("--config").arg(self.config_path()).args(args);
        cmd
    }

    /// Every calendar file (name, bytes), sorted by name; dotfiles included.
    pub fn cal_files(&self) -> Vec<(String, Vec<u8>)> {
        files_in(&self.cal_dir())
    }

    /// Every message the sendmail sink received.
    pub fn sent(&self) -> Vec<Vec<u8>> {
        files_in(&self.sent_dir())
            .into_iter()
            .map(|(_, b)| b)
            .collect()
    }

    /// Queued replies: the `<id>.eml` files under
    /// `$XDG_DATA_HOME/rsvp/outbox/pending` (each has a `.json` beside it).
    pub fn pending(&self) -> Vec<(String, Vec<u8>)> {
        files_in(&self.data_dir().join("outbox").join("pending"))
            .into_iter()
            .filter(|(name, _)| name.ends_with(".eml"))
            .collect()
    }
}

pub fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// A conformance fixture, by file name.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The header block of a raw message (up to the first empty line), unfolded
/// lines kept as they are.
pub fn header_block(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    text.split("\n\n").next().unwrap_or("").to_string()
}

/// The decoded text/calendar part of a reply we produced (base64 body).
pub fn reply_ics(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let start = text
        .find("Content-Type: text/calendar")
        .expect("a text/calendar part");
    let rest = &text[start..];
    let body_start = rest.find("\n\n").expect("part body") + 2;
    let body: String = rest[body_start..]
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .concat();
    let bytes = base64_decode(body.trim()).expect("base64 calendar part");
    String::from_utf8(bytes).expect("UTF-8 calendar part")
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    mail_parser::decoders::base64::base64_decode(&clean)
}

/// The JSON printed by `show --json`.
pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "show --json printed no JSON ({e}): {}",
            String::from_utf8_lossy(out)
        )
    })
}

/// Non-empty lines of stderr.
pub fn stderr_lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}
