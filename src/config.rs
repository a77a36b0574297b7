//! The TOML configuration file: typed sections, error messages that name
//! file, line and key, and `validate()` that reports every problem at once.
//! Never used by `domain`, `inbox` or `adapters`: `main.rs` copies values out.
//!
//! Adding a section is one field on [`Config`] plus its struct: unknown keys
//! and sections are rejected everywhere (`deny_unknown_fields`), and error
//! messages take the list of expected keys from serde, so they follow along.

use crate::keymap::Keymap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who I am: the addresses that identify my attendee entry. Without
    /// addresses, those of the notmuch config (`user.primary_email`,
    /// `user.other_email`) are used; see [`Config::fill_identity`].
    #[serde(default)]
    pub identity: Identity,
    /// The local calendar collection (a vdir).
    pub calendar: Option<Calendar>,
    /// How replies leave the machine.
    pub send: Option<Send>,
    /// SMTP settings, used when `send.method = "smtp"`.
    pub smtp: Option<Smtp>,
    /// Sendmail-compatible command, used when `send.method = "sendmail"`.
    pub sendmail: Option<Sendmail>,
    /// Who counts as a known sender (R9.2).
    pub trust: Option<Trust>,
    /// Where invitations come from: a notmuch database.
    pub mail: Option<Mail>,
    /// How the TUI behaves (`[ui]`).
    pub ui: Option<Ui>,
    /// `[keys]`: TUI key bindings, action name → key or list of keys.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyList>,
}

/// The keys of one action in `[keys]`: `"a"` or `["j", "Down"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyList(pub Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyList, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeyList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as \"a\" or a list of keys such as [\"j\", \"Down\"]")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    keys.push(k);
                }
                Ok(KeyList(keys))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `[trust]`: known senders. Invitations for events not yet in the calendar
/// from anyone else are marked untrusted (R9.2, T59).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// A directory of vCards (`*.vcf`); `~` and `$HOME` are expanded on load.
    pub contacts: Option<PathBuf>,
}

/// `[identity]`: the user's names and addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Display name used in the From header of replies.
    pub name: Option<String>,
    /// Every address that may appear as my ATTENDEE (at least one).
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// Name and addresses from a notmuch config file (`[user]` `name`,
/// `primary_email`, `other_email`, the latter `;`-separated).
pub fn notmuch_identity(text: &str) -> (Option<String>, Vec<String>) {
    let mut section = String::new();
    let mut name = None;
    let mut addresses: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.trim().to_ascii_lowercase();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if section != "user" {
            continue;
        }
        let value = value.trim();
        match key.trim() {
            "name" if !value.is_empty() => name = Some(value.to_string()),
            "primary_email" => addresses.insert(0, value.to_string()),
            "other_email" => addresses.extend(value.split(';').map(|a| a.trim().to_string())),
            _ => {}
        }
    }
    addresses.retain(|a| !a.is_empty());
    addresses.dedup();
    (name, addresses)
}

/// `[calendar]`: the vdir that holds my events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// Directory of the collection; `~` and `$HOME` are expanded on load.
    pub path: PathBuf,
    /// Whether a CalDAV server behind the vdir sends REPLYs itself (R6.7).
    #[serde(default)]
    pub server_scheduling: ServerScheduling,
    /// Other calendars (vdirs, read only) whose events count as busy for
    /// conflicts and the day agenda; unset: khal's calendars, when khal is
    /// configured. `~` and `$HOME` are expanded on load.
    #[serde(default)]
    pub busy: Option<Vec<PathBuf>>,
    /// What a declined event becomes in the calendar.
    #[serde(default)]
    pub declined: Declined,
}

/// `[calendar] declined`: how a declined event is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Declined {
    /// Kept, marked TRANSP:TRANSPARENT so it does not look busy.
    #[default]
    Transparent,
    /// Kept as it is (it may look busy in other calendar programs).
    Keep,
    /// Removed from the calendar.
    Drop,
}

/// `[ui]`: the TUI's behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    /// Ask before mailing an answer.
    #[serde(default)]
    pub confirm: bool,
    /// Shell command that shows the original message; `$1` is the file,
    /// `$2` the Message-ID. Default: `$PAGER "$1"`, else `less "$1"`.
    pub open_command: Option<String>,
}

/// Who sends scheduling messages for events stored in the calendar (R6.7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerScheduling {
    /// Mail the REPLY and mark the stored ORGANIZER with
    /// SCHEDULE-AGENT=CLIENT, so that a CalDAV server syncing the vdir (if
    /// any) does not send a second one. Never leaves an answer unsent.
    #[default]
    Auto,
    /// The server always schedules: change the store, never send iMIP.
    On,
    /// No scheduling server: always send the REPLY by mail.
    Off,
}

/// `[send]`: which transport carries replies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    /// `smtp` or `sendmail`.
    pub method: SendMethod,
    /// Envelope sender and From override; default: my matching attendee address.
    pub from: Option<String>,
}

/// The transport named by `send.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendMethod {
    /// Submit over SMTP with the `[smtp]` settings.
    Smtp,
    /// Pipe the message into the `[sendmail]` command.
    Sendmail,
}

/// `[smtp]`: a submission server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Server host name or address.
    pub host: String,
    /// Port; default depends on `security` (see [`Smtp::effective_port`]).
    pub port: Option<u16>,
    /// Transport security.
    #[serde(default)]
    pub security: Security,
    /// Login name; needs `password_command`.
    pub username: Option<String>,
    /// Shell command whose first output line is the password (never
    /// stored); killed after `smtp::PASSWORD_COMMAND_TIMEOUT` (60 s).
    pub password_command: Option<String>,
    /// Extra trusted CA certificate (PEM), added to the system store.
    pub ca_file: Option<PathBuf>,
    /// Bound of one whole exchange with the server (connect, TLS, AUTH,
    /// the message), in seconds; not of each read.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    30
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required, never optional).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: allowed only to a loopback host.
    None,
}

/// `[sendmail]`: a sendmail-compatible command such as msmtp.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sendmail {
    /// Command line; the message comes on standard input.
    pub command: String,
}

/// `[mail]`: the notmuch database invitations are found in. Exactly one of
/// `notmuch_config` and `maildir`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    /// The user's notmuch config: use their existing database, read it
    /// through that config, never rewrite it (`notmuch new` indexes).
    pub notmuch_config: Option<PathBuf>,
    /// A Maildir that rsvp indexes itself into a private notmuch database
    /// under the data dir; no notmuch config is read.
    pub maildir: Option<PathBuf>,
    /// A notmuch query AND-ed with the invitation query.
    pub query: Option<String>,
    /// Record what was done as notmuch tags (`rsvp/accepted` ...).
    #[serde(default = "default_tags")]
    pub tags: bool,
    /// More tag changes once an answer is recorded, e.g. `["-inbox",
    /// "-unread"]` to file answered invitations away.
    #[serde(default)]
    pub after_answer: Vec<String>,
    /// How long to wait for the notmuch database while another program
    /// writes to it, before giving up and saying so (default 30).
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout_seconds: u64,
}

fn default_lock_timeout() -> u64 {
    30
}

fn default_tags() -> bool {
    true
}

impl Smtp {
    /// The configured port, or 587 for STARTTLS, 465 for TLS and 25 for none.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        })
    }
}

/// A configuration file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong, naming the key and quoting the bad value.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "config error: {}:{}: {}",
                self.path.display(),
                line,
                self.message
            ),
            None => write!(f, "config error: {}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Read and parse the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: None,
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "no such file: run `rsvp init` to write one from your notmuch, khal and \
                 msmtp settings, `rsvp demo` to try rsvp on sample data, or pass --config PATH"
                    .to_string()
            } else {
                format!("cannot read: {e}")
            },
        })?;
        Config::parse(&text, path)
    }

    /// Parse configuration text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: e.span().map(|span| line_of(text, span.start)),
            message: describe_error(text, &e),
        })?;
        if let Some(calendar) = config.calendar.as_mut() {
            calendar.path = expand_tilde(&calendar.path.to_string_lossy());
            for p in calendar.busy.iter_mut().flatten() {
                *p = expand_tilde(&p.to_string_lossy());
            }
        }
        if let Some(smtp) = config.smtp.as_mut()
            && let Some(ca) = smtp.ca_file.as_mut()
        {
            *ca = expand_tilde(&ca.to_string_lossy());
        }
        if let Some(contacts) = config.trust.as_mut().and_then(|t| t.contacts.as_mut()) {
            *contacts = expand_tilde(&contacts.to_string_lossy());
        }
        if let Some(mail) = config.mail.as_mut() {
            for path in [&mut mail.notmuch_config, &mut mail.maildir]
                .into_iter()
                .flatten()
            {
                *path = expand_tilde(&path.to_string_lossy());
            }
        }
        Ok(config)
    }

    /// The notmuch config whose `[user]` names me: `[mail] notmuch_config`,
    /// else `notmuch_env` ($NOTMUCH_CONFIG), else `~/.notmuch-config`.
    pub fn notmuch_config_path(&self, notmuch_env: Option<PathBuf>) -> Option<PathBuf> {
        self.mail
            .as_ref()
            .and_then(|m| m.notmuch_config.clone())
            .or(notmuch_env)
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".notmuch-config")))
    }

    /// Without `[identity] addresses`, take mine from the notmuch config
    /// (issue 7: what a notmuch user has already said once). Returns the
    /// file used, if any.
    pub fn fill_identity(&mut self, notmuch_env: Option<PathBuf>) -> Option<PathBuf> {
        if !self.identity.addresses.is_empty() {
            return None;
        }
        let path = self.notmuch_config_path(notmuch_env)?;
        let text = std::fs::read_to_string(&path).ok()?;
        let (name, addresses) = notmuch_identity(&text);
        if addresses.is_empty() {
            return None;
        }
        self.identity.addresses = addresses;
        if self.identity.name.is_none() {
            self.identity.name = name;
        }
        Some(path)
    }

    /// Every problem with an otherwise well-formed configuration; empty when fine.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();

        if self.identity.addresses.is_empty() {
            problems.push(
                "[identity] addresses is empty: list at least one address of yours (or set user.primary_email in your notmuch config)".to_string(),
            );
        }
        let mut seen: Vec<String> = Vec::new();
        for address in &self.identity.addresses {
            if let Some(problem) = address_problem(address) {
                problems.push(format!("[identity] addresses: {problem}"));
            }
            let lower = address.trim().to_lowercase();
            if seen.contains(&lower) {
                problems.push(format!(
                    "[identity] addresses: {:?} is listed twice",
                    address
                ));
            } else {
                seen.push(lower);
            }
        }
        if let Some(name) = &self.identity.name
            && name.chars().any(char::is_control)
        {
            problems.push(format!(
                "[identity] name {name:?} contains control characters"
            ));
        }

        if let Some(calendar) = &self.calendar {
            if calendar.path.as_os_str().is_empty() {
                problems.push("[calendar] path is empty".to_string());
            } else if !calendar.path.is_absolute() {
                problems.push(format!(
                    "[calendar] path {:?} is relative: use an absolute path or one starting with ~/",
                    calendar.path.display().to_string()
                ));
            }
            for p in calendar.busy.iter().flatten() {
                if !p.is_absolute() {
                    problems.push(format!(
                        "[calendar] busy {:?} is relative: use an absolute path or one starting with ~/",
                        p.display().to_string()
                    ));
                }
            }
        }

        if let Some(send) = &self.send {
            if let Some(from) = &send.from
                && let Some(problem) = address_problem(from)
            {
                problems.push(format!("[send] from: {problem}"));
            }
            match send.method {
                SendMethod::Smtp if self.smtp.is_none() => problems
                    .push("[send] method = \"smtp\" but there is no [smtp] section".to_string()),
                SendMethod::Sendmail if self.sendmail.is_none() => problems.push(
                    "[send] method = \"sendmail\" but there is no [sendmail] section".to_string(),
                ),
                _ => {}
            }
        }

        if let Some(smtp) = &self.smtp {
            let host = smtp.host.trim();
            if host.is_empty() {
                problems.push("[smtp] host is empty".to_string());
            } else if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
                problems.push(format!("[smtp] host {:?} contains spaces", smtp.host));
            }
            if smtp.security == Security::None && !host.is_empty() && !is_loopback(host) {
                problems.push(format!(
                    "[smtp] security = \"none\" sends your password and mail in clear text; \
                     it is only allowed to a loopback host, not {:?} (use \"starttls\" or \"tls\")",
                    smtp.host
                ));
            }
            if smtp.port == Some(0) {
                problems.push("[smtp] port 0 is not a valid port".to_string());
            }
            match (&smtp.username, &smtp.password_command) {
                (Some(user), None) => problems.push(format!(
                    "[smtp] username {user:?} is set but password_command is missing"
                )),
                (None, Some(_)) => problems
                    .push("[smtp] password_command is set but username is missing".to_string()),
                _ => {}
            }
            if let Some(user) = &smtp.username
                && user.trim().is_empty()
            {
                problems.push("[smtp] username is empty".to_string());
            }
            if let Some(cmd) = &smtp.password_command
                && cmd.trim().is_empty()
            {
                problems.push("[smtp] password_command is empty".to_string());
            }
            if let Some(ca) = &smtp.ca_file
                && !ca.is_absolute()
            {
                problems.push(format!(
                    "[smtp] ca_file {:?} is relative: use an absolute path or one starting with ~/",
                    ca.display().to_string()
                ));
            }
            if smtp.timeout_seconds == 0 {
                problems.push("[smtp] timeout_seconds must be at least 1".to_string());
            }
        }

        if let Some(sendmail) = &self.sendmail
            && sendmail.command.trim().is_empty()
        {
            problems.push("[sendmail] command is empty".to_string());
        }

        if let Some(contacts) = self.trust.as_ref().and_then(|t| t.contacts.as_ref()) {
            if contacts.as_os_str().is_empty() {
                problems.push("[trust] contacts is empty".to_string());
            } else if !contacts.is_absolute() {
                problems.push(format!(
                    "[trust] contacts {:?} is relative: use an absolute path or one starting with ~/",
                    contacts.display().to_string()
                ));
            }
        }

        if let Some(mail) = &self.mail {
            mail_problems(mail, &mut problems);
        }

        if let Err(keys) = self.keymap() {
            problems.extend(keys.into_iter().map(|p| format!("[keys] {p}")));
        }

        problems
    }

    /// The TUI key table: the defaults with `[keys]` applied; every problem
    /// (unknown action, bad key, a key bound twice) when it does not validate.
    pub fn keymap(&self) -> Result<Keymap, Vec<String>> {
        Keymap::with_overrides(
            self.keys
                .iter()
                .map(|(action, keys)| (action.as_str(), keys.0.as_slice())),
        )
    }
}

/// The problems of a `[mail]` section.
fn mail_problems(mail: &Mail, problems: &mut Vec<String>) {
    for change in &mail.after_answer {
        let tag = change
            .strip_prefix('+')
            .or_else(|| change.strip_prefix('-'))
            .unwrap_or("");
        if tag.is_empty()
            || tag
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '(' || c == ')')
        {
            problems.push(format!(
                "[mail] after_answer: {change:?} is not a tag change: write \"+tag\" to add \
                 or \"-tag\" to remove a tag, e.g. [\"-inbox\", \"-unread\"]"
            ));
        }
    }
    match (&mail.notmuch_config, &mail.maildir) {
        (Some(_), Some(_)) => problems.push(
            "[mail] notmuch_config and maildir are both set: use notmuch_config for your own \
             notmuch database, or maildir for a private index of a Maildir, not both"
                .to_string(),
        ),
        (None, None) => problems.push(
            "[mail] needs notmuch_config (your notmuch database) or maildir \
             (a Maildir that rsvp indexes itself)"
                .to_string(),
        ),
        _ => {}
    }
    for (key, path) in [
        ("notmuch_config", &mail.notmuch_config),
        ("maildir", &mail.maildir),
    ] {
        let Some(path) = path else { continue };
        if path.as_os_str().is_empty() {
            problems.push(format!("[mail] {key} is empty"));
        } else if !path.is_absolute() {
            problems.push(format!(
                "[mail] {key} {:?} is relative: use an absolute path or one starting with ~/",
                path.display().to_string()
            ));
        }
    }
    if !(1..=3600).contains(&mail.lock_timeout_seconds) {
        problems.push(format!(
            "[mail] lock_timeout_seconds must be between 1 and 3600, not {}",
            mail.lock_timeout_seconds
        ));
    }
    if let Some(query) = &mail.query {
        if query.trim().is_empty() {
            problems.push("[mail] query is empty: remove it or write a notmuch query".to_string());
        } else if query.chars().any(char::is_control) {
            problems.push(format!(
                "[mail] query {query:?} contains control characters"
            ));
        }
    }
}

/// Why `address` is not a plain `local@domain` address, if it is not.
fn address_problem(address: &str) -> Option<String> {
    let trimmed = address.trim();
    if trimmed.is_empty() {
        return Some("an address is empty".to_string());
    }
    if trimmed
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        return Some(format!(
            "{address:?}: write the address without \"mailto:\""
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | '"'))
    {
        return Some(format!(
            "{address:?} is not a plain address (no spaces, names or <>)"
        ));
    }
    match trimmed.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => None,
        _ => Some(format!(
            "{address:?} is not an address (expected name@domain)"
        )),
    }
}

/// Whether `host` names this machine over the loopback interface.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// 1-based line number of byte offset `pos` in `text`.
fn line_of(text: &str, pos: usize) -> usize {
    let end = pos.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// Where an error span sits in the TOML text: the table and the key.
#[derive(Debug, Default, PartialEq, Eq)]
struct Location {
    /// Dotted table path in effect (`None` at top level).
    table: Option<String>,
    /// The key whose value the position is in, if any.
    key: Option<String>,
    /// The position is on a `[table]` header line.
    on_header: bool,
    /// The header path of that line, when `on_header`.
    header: Option<String>,
}

/// The table header path of `line` if it is a `[a.b]` line.
fn header_of(line: &str) -> Option<String> {
    let t = line.trim();
    if t.starts_with("[[") {
        let inner = t.strip_prefix("[[")?.split("]]").next()?;
        return Some(normalize_key_path(inner));
    }
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(normalize_key_path(inner.get(..end)?))
}

/// `a . "b"` -> `a.b`.
fn normalize_key_path(path: &str) -> String {
    path.split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

/// The last `key =` on `prefix` (text before a value), if any.
fn last_key_before(prefix: &str) -> Option<String> {
    let eq = prefix.rfind('=')?;
    let before = prefix.get(..eq)?.trim_end();
    let start = before.rfind(['{', ',', '[']).map_or(0, |i| i + 1);
    let key = normalize_key_path(before.get(start..)?.trim());
    if key.is_empty() || key.contains(char::is_whitespace) {
        None
    } else {
        Some(key)
    }
}

/// Find the table and key around byte offset `pos` of `text`, roughly.
///
/// NOTE: a heuristic over lines, good for the usual `[table]` + `key = value`
/// layout (and one level of inline table), which is what the example uses.
fn locate(text: &str, pos: usize) -> Location {
    let pos = pos.min(text.len());
    let line_start = text
        .get(..pos)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let before_lines = text.get(..line_start).unwrap_or("");
    let current_line = text
        .get(line_start..)
        .and_then(|t| t.split('\n').next())
        .unwrap_or("");
    let prefix = text.get(line_start..pos).unwrap_or("");

    let mut loc = Location::default();
    if let Some(header) = header_of(current_line)
        && !prefix.contains(']')
    {
        loc.on_header = true;
        loc.header = Some(header);
        return loc;
    }

    // The key: on this line before the position, else on an earlier line of
    // the same table (a multi-line array).
    loc.key = last_key_before(prefix);
    let mut table: Option<String> = None;
    let mut key_from_earlier: Option<String> = None;
    for line in before_lines.lines().rev() {
        if let Some(header) = header_of(line) {
            table = Some(header);
            break;
        }
        if loc.key.is_none() && key_from_earlier.is_none() {
            let code = line.split('#').next().unwrap_or("");
            if let Some(eq) = code.find('=') {
                key_from_earlier = last_key_before(code.get(..=eq).unwrap_or(""));
            }
        }
    }
    if loc.key.is_none() {
        loc.key = key_from_earlier;
    }

    // Inside an inline table: `name = { ... }` on this line.
    if let Some(brace) = prefix.rfind('{')
        && let Some(outer) = last_key_before(prefix.get(..brace).unwrap_or(""))
    {
        table = Some(match table {
            Some(t) => format!("{t}.{outer}"),
            None => outer,
        });
    }
    loc.table = table;
    loc
}

/// The backquoted words of a serde message, in order.
fn backquoted(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// Turn a toml/serde error into a message naming the table and key.
fn describe_error(text: &str, error: &toml::de::Error) -> String {
    let raw = error.message().replace('\n', "; ");
    let Some(span) = error.span() else {
        return raw;
    };
    let loc = locate(text, span.start);
    let table_name = |t: &Option<String>| match t {
        Some(t) => format!("in [{t}]"),
        None => "at top level".to_string(),
    };

    if let Some(rest) = raw.strip_prefix("unknown field ") {
        let words = backquoted(rest);
        let (field, expected) = match words.split_first() {
            Some((f, e)) => (f.clone(), e.join(", ")),
            None => (String::new(), String::new()),
        };
        let expected = if expected.is_empty() {
            String::new()
        } else {
            format!(" (expected one of: {expected})")
        };
        if loc.on_header {
            let header = loc.header.unwrap_or_default();
            return match header.rsplit_once('.') {
                Some((parent, _)) => {
                    format!("unknown key `{field}` in [{parent}]{expected}")
                }
                None => format!("unknown section [{header}]{expected}"),
            };
        }
        return format!("unknown key `{field}` {}{expected}", table_name(&loc.table));
    }

    if let Some(rest) = raw.strip_prefix("missing field ") {
        let field = backquoted(rest).into_iter().next().unwrap_or_default();
        if span.is_empty() {
            return format!("missing section [{field}]");
        }
        let table = if loc.on_header { loc.header } else { loc.table };
        return match table {
            Some(t) => format!("missing key `{field}` in [{t}]"),
            None => format!("missing section [{field}]"),
        };
    }

    let Some(key) = loc.key else {
        return raw;
    };
    if let Some(rest) = raw.strip_prefix("unknown variant ") {
        let words = backquoted(rest);
        if let Some((found, expected)) = words.split_first() {
            return format!(
                "bad value {found:?} for `{key}` {} (expected one of: {})",
                table_name(&loc.table),
                expected.join(", ")
            );
        }
    }
    format!("bad value for `{key}` {}: {raw}", table_name(&loc.table))
}

/// The standard locations of rsvp's files (XDG on Linux).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `$XDG_CONFIG_HOME/rsvp/config.toml`.
    pub config_file: PathBuf,
    /// `$XDG_DATA_HOME/rsvp`: the outbox and other durable data.
    pub data_dir: PathBuf,
    /// `$XDG_STATE_HOME/rsvp`: logs.
    pub state_dir: PathBuf,
    /// `$XDG_CACHE_HOME/rsvp`: anything that can be rebuilt.
    pub cache_dir: PathBuf,
}

impl Paths {
    /// The standard paths, or `None` when no home directory is known.
    pub fn discover() -> Option<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "rsvp")?;
        Some(Paths {
            config_file: dirs.config_dir().join("config.toml"),
            data_dir: dirs.data_dir().to_path_buf(),
            // NOTE: only Linux has a state dir; elsewhere use the local data dir.
            state_dir: dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf(),
            cache_dir: dirs.cache_dir().to_path_buf(),
        })
    }

    /// Where queued replies live: `data_dir/outbox`.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// The private notmuch database of `[mail] maildir`: `data_dir/notmuch`.
    pub fn notmuch_dir(&self) -> PathBuf {
        self.data_dir.join("notmuch")
    }
}

/// Expand a leading `~`, `~/`, `$HOME` or `${HOME}` to the home directory.
/// Other paths (and `~user`) are returned unchanged.
pub fn expand_tilde(p: &str) -> PathBuf {
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    expand_with_home(p, home.as_deref())
}

fn expand_with_home(p: &str, home: Option<&Path>) -> PathBuf {
    let Some(home) = home else {
        return PathBuf::from(p);
    };
    for prefix in ["~", "$HOME", "${HOME}"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            if rest.is_empty() {
                return home.to_path_buf();
            }
            if let Some(rest) = rest.strip_prefix('/') {
                return home.join(rest.trim_start_matches('/'));
            }
        }
    }
    PathBuf::from(p)
}

pub mod khal;

#[cfg(test)]
mod tests;
