//! `rsvp init`: write a commented starter configuration from what is on the
//! machine — the notmuch config (my addresses, the mail database), khal's
//! config (the calendar paths) and an msmtp config (the sendmail command) —
//! show it, and never overwrite an existing file.

use rsvp::cli::{Failure, exit};
use std::path::{Path, PathBuf};

/// What `init` found, each with where it came from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: Option<String>,
    pub addresses: Vec<String>,
    /// The notmuch config file and its database path.
    pub notmuch: Option<(PathBuf, Option<String>)>,
    /// khal's config file and its calendars (name, path), default first.
    pub khal: Option<(PathBuf, Vec<(String, String)>)>,
    /// The msmtp config file.
    pub msmtp: Option<PathBuf>,
}

/// Where the programs keep their configuration, from the environment.
pub struct Places {
    pub home: PathBuf,
    pub xdg_config: PathBuf,
    pub notmuch_config: Option<PathBuf>,
}

impl Places {
    pub fn from_env() -> Option<Places> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)?;
        let xdg_config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"));
        let notmuch_config = std::env::var_os("NOTMUCH_CONFIG")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        Some(Places {
            home,
            xdg_config,
            notmuch_config,
        })
    }
}

/// `rsvp init`: write `target` unless it exists, and print it.
pub fn init(target: &Path, out: &mut dyn std::io::Write) -> Result<u8, Failure> {
    if target.exists() {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "{} already exists; rsvp init never overwrites it (run `rsvp check` to test it)",
                target.display()
            ),
        ));
    }
    let places = Places::from_env().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            "no home directory (set HOME): pass --config PATH",
        )
    })?;
    let found = discover(&places);
    let text = render(&found, &places.home);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::new(
                exit::RUNTIME,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    // `create_new`: a file that appeared meanwhile is not overwritten either.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
    written.map_err(|e| {
        Failure::new(
            exit::RUNTIME,
            format!("cannot write {}: {e}", target.display()),
        )
    })?;
    let _ = writeln!(out, "# {}", target.display());
    let _ = out.write_all(text.as_bytes());
    let _ = writeln!(
        out,
        "# Written to {}. Edit it, then run `rsvp check`.",
        target.display()
    );
    Ok(exit::OK)
}

/// Read what the other programs' configurations say.
pub fn discover(places: &Places) -> Found {
    let mut found = Found::default();
    let notmuch_candidates = match &places.notmuch_config {
        Some(p) => vec![p.clone()],
        None => vec![
            places.xdg_config.join("notmuch/default/config"),
            places.home.join(".notmuch-config"),
        ],
    };
    if let Some((path, text)) = first_readable(&notmuch_candidates) {
        let ini = Ini::parse(&text);
        found.name = ini.get("user", "name").filter(|n| !n.is_empty());
        let mut addresses = Vec::new();
        if let Some(a) = ini.get("user", "primary_email") {
            addresses.push(a);
        }
        if let Some(others) = ini.get("user", "other_email") {
            addresses.extend(others.split(';').map(str::trim).map(str::to_string));
        }
        addresses.retain(|a| a.contains('@') && !a.chars().any(|c| c.is_whitespace() || c == '"'));
        addresses.dedup();
        found.addresses = addresses;
        found.notmuch = Some((path, ini.get("database", "path")));
    }
    let khal_candidates = [
        places.xdg_config.join("khal/config"),
        places.home.join(".khal/khal.conf"),
    ];
    if let Some((path, text)) = first_readable(&khal_candidates) {
        found.khal = Some((path, khal_calendars(&text)));
    }
    let msmtp_candidates = [
        places.home.join(".msmtprc"),
        places.xdg_config.join("msmtp/config"),
    ];
    found.msmtp = msmtp_candidates.into_iter().find(|p| p.is_file());
    found
}

fn first_readable(paths: &[PathBuf]) -> Option<(PathBuf, String)> {
    paths
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().map(|t| (p.clone(), t)))
}

/// khal's calendars (name, path) in file order, the `default_calendar`
/// first; `discover` entries (globs) are skipped.
fn khal_calendars(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut default: Option<String> = None;
    let mut section = String::new();
    let mut calendar: Option<String> = None;
    let mut path: Option<String> = None;
    let mut kind: Option<String> = None;
    let flush = |calendar: &mut Option<String>,
                 path: &mut Option<String>,
                 kind: &mut Option<String>,
                 out: &mut Vec<(String, String)>| {
        if let (Some(c), Some(p)) = (calendar.take(), path.take())
            && kind.as_deref() != Some("discover")
        {
            out.push((c, p));
        }
        *kind = None;
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            flush(&mut calendar, &mut path, &mut kind, &mut out);
            if section == "calendars" {
                calendar = Some(name.trim().to_string());
            }
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            flush(&mut calendar, &mut path, &mut kind, &mut out);
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match (section.as_str(), key.trim()) {
            ("calendars", "path") if calendar.is_some() => path = Some(value),
            ("calendars", "type") if calendar.is_some() => kind = Some(value),
            ("default", "default_calendar") => default = Some(value),
            _ => {}
        }
    }
    flush(&mut calendar, &mut path, &mut kind, &mut out);
    if let Some(d) = default
        && let Some(pos) = out.iter().position(|(n, _)| *n == d)
    {
        let chosen = out.remove(pos);
        out.insert(0, chosen);
    }
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

/// A minimal INI reader for notmuch's config (`[section]`, `key=value`).
struct Ini {
    entries: Vec<(String, String, String)>,
}

impl Ini {
    fn parse(text: &str) -> Ini {
        let mut section = String::new();
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
            } else if let Some((k, v)) = line.split_once('=') {
                entries.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
            }
        }
        Ini { entries }
    }

    fn get(&self, section: &str, key: &str) -> Option<String> {
        self.entries
            .iter()
            .rev()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.clone())
    }
}

/// A TOML string literal (basic string, escaped).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `~/…` for paths under the home directory (the config expands it).
fn home_relative(path: &str, home: &Path) -> String {
    let expanded = rsvp::config::expand_tilde(path);
    match expanded.strip_prefix(home) {
        Ok(rest) if !rest.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => expanded.display().to_string(),
    }
}

/// The configuration text for what was found.
pub fn render(found: &Found, home: &Path) -> String {
    let mut t = String::new();
    t.push_str(
        "# rsvp configuration, written by `rsvp init` from what it found on this machine.\n\
         # Every setting is described in config.example.toml and the README\n\
         # (\"Configuration\"). Test it with `rsvp check`.\n\n",
    );
    t.push_str("[identity]\n");
    match &found.notmuch {
        Some((p, _)) => t.push_str(&format!(
            "# From {} (user.name, primary_email, other_email).\n",
            p.display()
        )),
        None => t.push_str("# No notmuch config was found: fill in your name and addresses.\n"),
    }
    match &found.name {
        Some(n) => t.push_str(&format!("name = {}\n", quoted(n))),
        None => t.push_str("# name = \"Your Name\"\n"),
    }
    t.push_str("# Every address that may appear as your ATTENDEE in an invitation.\n");
    let addresses: Vec<String> = found.addresses.iter().map(|a| quoted(a)).collect();
    t.push_str(&format!("addresses = [{}]\n\n", addresses.join(", ")));

    t.push_str("[calendar]\n");
    match &found.khal {
        Some((p, cals)) if !cals.is_empty() => {
            t.push_str(&format!(
                "# From {}: your calendar (a vdir, one .ics file per event).\n",
                p.display()
            ));
            let mut cals = cals.iter();
            if let Some((name, path)) = cals.next() {
                t.push_str(&format!(
                    "# khal calls it {}.\npath = {}\n",
                    quoted(name),
                    quoted(&home_relative(path, home))
                ));
            }
            for (name, path) in cals {
                t.push_str(&format!(
                    "# or khal's {}: path = {}\n",
                    quoted(name),
                    quoted(&home_relative(path, home))
                ));
            }
        }
        _ => t.push_str(
            "# No khal calendar was found: the directory of your vdir calendar.\n\
             path = \"~/.calendars/personal\"\n",
        ),
    }
    t.push_str(
        "# Who sends your answer: \"auto\" (the default) mails it; set \"on\" only if a\n\
         # CalDAV server with automatic scheduling answers for this calendar.\n\
         # server_scheduling = \"auto\"\n\n",
    );

    match &found.notmuch {
        Some((p, db)) => {
            t.push_str("[mail]\n# Your notmuch database, read through your notmuch config");
            if let Some(db) = db {
                t.push_str(&format!(" (database: {db})"));
            }
            t.push_str(&format!(
                ".\n# `notmuch new` keeps it up to date.\nnotmuch_config = {}\n\n",
                quoted(&home_relative(&p.display().to_string(), home))
            ));
        }
        None => t.push_str(
            "# No notmuch config was found. Where invitations come from: a Maildir that\n\
             # rsvp indexes itself (uncomment and edit).\n\
             # [mail]\n# maildir = \"~/Mail\"\n\n",
        ),
    }

    match &found.msmtp {
        Some(p) => t.push_str(&format!(
            "[send]\n# Replies go out through msmtp ({} was found).\nmethod = \"sendmail\"\n\n\
             [sendmail]\n# msmtp picks the account from the From address and reads the\n\
             # recipients from the message.\ncommand = \"msmtp --read-envelope-from -t\"\n",
            p.display()
        )),
        None => t.push_str(
            "# No msmtp config was found. How replies are sent (uncomment one):\n\
             # [send]\n# method = \"sendmail\"\n# [sendmail]\n# command = \"/usr/sbin/sendmail -t\"\n\
             #\n# [send]\n# method = \"smtp\"\n# [smtp]\n# host = \"smtp.example.org\"\n\
             # username = \"you@example.org\"\n# password_command = \"pass show mail\"\n",
        ),
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn khal_calendars_in_order_with_the_default_first_and_discover_skipped() {
        let text = "[calendars]\n[[work]]\npath = ~/.calendars/work/\ntype = calendar\n\
                    [[personal]]\npath = \"~/.calendars/personal\"\n\
                    [[all]]\npath = ~/.calendars/*\ntype = discover\n\
                    [default]\ndefault_calendar = personal\n";
        assert_eq!(
            khal_calendars(text),
            vec![
                ("personal".to_string(), "~/.calendars/personal".to_string()),
                ("work".to_string(), "~/.calendars/work/".to_string()),
            ]
        );
    }

    #[test]
    fn rendered_config_parses_and_quotes_hostile_names() {
        let found = Found {
            name: Some("Dana \"D\" User".into()),
            addresses: vec!["dana@example.org".into()],
            notmuch: Some((PathBuf::from("/h/.notmuch-config"), Some("/h/mail".into()))),
            khal: Some((
                PathBuf::from("/h/.config/khal/config"),
                vec![("p".into(), "/h/cal".into())],
            )),
            msmtp: Some(PathBuf::from("/h/.msmtprc")),
        };
        let text = render(&found, Path::new("/h"));
        let cfg = rsvp::config::Config::parse(&text, Path::new("init.toml")).unwrap();
        assert_eq!(cfg.identity.name.as_deref(), Some("Dana \"D\" User"));
        assert_eq!(cfg.identity.addresses, ["dana@example.org"]);
        assert!(cfg.sendmail.is_some());
        assert!(cfg.mail.is_some());
        // Nothing found: still valid TOML, and `check` names what is missing.
        let empty = render(&Found::default(), Path::new("/h"));
        let cfg = rsvp::config::Config::parse(&empty, Path::new("init.toml")).unwrap();
        assert!(cfg.validate().iter().any(|p| p.contains("addresses")));
    }
}
