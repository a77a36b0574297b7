//! A private world for driving the real `rsvp` binary: a temporary
//! directory holding the configuration (`$XDG_CONFIG_HOME/rsvp/config.toml`,
//! found without `--config`), the vdir, the data directory with the outbox,
//! and `HOME`, with `TZ=Europe/Berlin`.
//!
//! Include with `#[path = "support/sandbox.rs"] mod sandbox;` next to
//! `mod support;` (it is not part of `support`, so other test crates do not
//! compile it).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const ME: &str = "dana@example.org";
pub const SMTP_USER: &str = "dana";
pub const SMTP_PASSWORD: &str = "secret";

/// A file under `tests/fixtures/e2e/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

/// Undo iCalendar line folding (CRLF or LF followed by a space or tab).
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "")
}

/// How rsvp should reach the test SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpConf {
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: &'static str,
    /// `localhost` for TLS (the certificate names it), else `127.0.0.1`.
    pub host: &'static str,
    /// `(username, password_command)`.
    pub auth: Option<(String, String)>,
    pub ca_file: Option<PathBuf>,
}

impl SmtpConf {
    /// Clear text to 127.0.0.1 without AUTH.
    pub fn plain(port: u16) -> SmtpConf {
        SmtpConf {
            port,
            security: "none",
            host: "127.0.0.1",
            auth: None,
            ca_file: None,
        }
    }

    /// AUTH as [`SMTP_USER`] with the password printed by `echo <password>`.
    pub fn with_password(mut self, password: &str) -> SmtpConf {
        self.auth = Some((SMTP_USER.to_string(), format!("echo {password}")));
        self
    }

    /// STARTTLS to `localhost`, trusting `ca`.
    pub fn starttls(mut self, ca: &Path) -> SmtpConf {
        self.security = "starttls";
        self.host = "localhost";
        self.ca_file = Some(ca.to_path_buf());
        self
    }

    /// The `[send]` and `[smtp]` sections.
    pub fn toml(&self) -> String {
        let mut s = format!(
            "[send]\nmethod = \"smtp\"\n\n[smtp]\nhost = \"{}\"\nport = {}\nsecurity = \"{}\"\ntimeout_seconds = 20\n",
            self.host, self.port, self.security
        );
        if let Some((user, cmd)) = &self.auth {
            s.push_str(&format!(
                "username = \"{user}\"\npassword_command = \"{cmd}\"\n"
            ));
        }
        if let Some(ca) = &self.ca_file {
            s.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
        }
        s
    }
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A fresh sandbox with an empty vdir and no configuration yet.
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("sandbox temp dir");
        for sub in ["cal", "home", "config/rsvp", "data", "state", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("sandbox dirs");
        }
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cal_dir(&self) -> PathBuf {
        self.path().join("cal")
    }

    /// `$XDG_DATA_HOME/rsvp`.
    pub fn data_dir(&self) -> PathBuf {
        self.path().join("data/rsvp")
    }

    pub fn outbox_dir(&self, which: &str) -> PathBuf {
        self.data_dir().join("outbox").join(which)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("config/rsvp/config.toml")
    }

    /// Write the configuration: my identity, the vdir (no scheduling
    /// server, so replies always go by mail) and `send` verbatim.
    pub fn write_config(&self, send: &str) {
        let text = format!(
            "[identity]\nname = \"Dana User\"\naddresses = [\"{ME}\"]\n\n\
             [calendar]\npath = \"{}\"\nserver_scheduling = \"off\"\n\n{send}",
            self.cal_dir().display()
        );
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// The real binary with the environment pointed into the sandbox.
    pub fn rsvp(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("rsvp").expect("the rsvp binary is built");
        cmd.env("HOME", self.path().join("home"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_STATE_HOME", self.path().join("state"))
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env("TZ", "Europe/Berlin")
            .env_remove("RUST_BACKTRACE")
            .current_dir(self.path())
            .timeout(std::time::Duration::from_secs(120));
        cmd
    }

    /// Every name in the vdir, hidden and temporary files included, sorted.
    pub fn vdir_names(&self) -> Vec<String> {
        names(&self.cal_dir())
    }

    /// The text of the only object in the vdir; panics unless there is
    /// exactly one file (and nothing else, no temp files) in it.
    pub fn only_object(&self) -> String {
        let names = self.vdir_names();
        assert_eq!(
            names.len(),
            1,
            "expected exactly one file in the vdir: {names:?}"
        );
        assert!(names[0].ends_with(".ics"), "not an .ics: {names:?}");
        std::fs::read_to_string(self.cal_dir().join(&names[0])).expect("read vdir object")
    }

    /// Names in `outbox/pending` (`<id>.eml`, `<id>.json`), sorted.
    pub fn pending(&self) -> Vec<String> {
        names(&self.outbox_dir("pending"))
    }

    pub fn sent(&self) -> Vec<String> {
        names(&self.outbox_dir("sent"))
    }

    /// The Message-ID of the only queued reply, without `<>`.
    pub fn queued_message_id(&self) -> String {
        let emls: Vec<String> = self
            .pending()
            .into_iter()
            .filter(|n| n.ends_with(".eml"))
            .collect();
        assert_eq!(emls.len(), 1, "expected one queued reply: {emls:?}");
        let raw = std::fs::read(self.outbox_dir("pending").join(&emls[0])).expect("read queued");
        message_id(&raw)
    }
}

/// Sorted names in `dir`; empty when it does not exist.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// The Message-ID header of `raw`, without `<>`.
pub fn message_id(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("message parses");
    msg.message_id().expect("has a Message-ID").to_string()
}
