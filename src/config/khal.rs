//! khal's calendars, read from its configuration file, so the events of
//! every calendar the user keeps count as busy when `[calendar] busy` is
//! not set. Only `path` (and `type = discover` globs ending in `*`) of the
//! `[calendars]` section are read; everything else is khal's business.

use super::expand_tilde;
use std::path::{Path, PathBuf};

/// khal's configuration file: `$XDG_CONFIG_HOME/khal/config`, else
/// `~/.config/khal/config`, else `~/.khal/khal.conf`; `None` when none exists.
pub fn config_file() -> Option<PathBuf> {
    let base = directories::BaseDirs::new()?;
    [
        base.config_dir().join("khal").join("config"),
        base.home_dir().join(".config").join("khal").join("config"),
        base.home_dir().join(".khal").join("khal.conf"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// One calendar of khal's `[calendars]` section: its `path`, and whether
/// it is a `type = discover` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub discover: bool,
}

/// The `[[name]]` subsections of `[calendars]` in khal's config text.
pub fn entries(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut in_calendars = false;
    let mut current: Option<Entry> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("[[") {
            out.extend(current.take().filter(|e| !e.path.is_empty()));
            if in_calendars {
                current = Some(Entry {
                    path: String::new(),
                    discover: false,
                });
            }
            continue;
        }
        if line.starts_with('[') {
            out.extend(current.take().filter(|e| !e.path.is_empty()));
            in_calendars = line.trim_matches(|c| c == '[' || c == ']').trim() == "calendars";
            continue;
        }
        let (Some(entry), Some((key, value))) = (current.as_mut(), line.split_once('=')) else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        match key.trim() {
            "path" => entry.path = value.to_string(),
            "type" => entry.discover = value == "discover",
            _ => {}
        }
    }
    out.extend(current.filter(|e| !e.path.is_empty()));
    out
}

/// The calendar directories of khal's config text, `~` expanded and
/// `discover` patterns ending in `*` expanded to their subdirectories;
/// directories that do not exist are left out.
pub fn calendars(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in entries(text) {
        let path = expand_tilde(&e.path);
        let text = path.to_string_lossy();
        match text.strip_suffix('*') {
            Some(parent) if e.discover => {
                let parent = Path::new(parent.trim_end_matches('/'));
                let Ok(dir) = std::fs::read_dir(parent) else {
                    continue;
                };
                let mut found: Vec<PathBuf> = dir
                    .filter_map(Result::ok)
                    .map(|d| d.path())
                    .filter(|p| p.is_dir())
                    .collect();
                found.sort();
                out.extend(found);
            }
            _ if path.is_dir() => out.push(path),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_calendars_section_gives_paths_and_discover_patterns() {
        let text = "[calendars]\n\n[[home]]\npath = ~/.calendars/home/\ncolor = dark green\n\n[[work]]\npath = \"/srv/cal/*\"\ntype = discover\n\n[locale]\ntimeformat = %H:%M\npath = /not/a/calendar\n";
        assert_eq!(
            entries(text),
            [
                Entry {
                    path: "~/.calendars/home/".into(),
                    discover: false
                },
                Entry {
                    path: "/srv/cal/*".into(),
                    discover: true
                },
            ]
        );
    }

    #[test]
    fn discover_patterns_expand_to_existing_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let text = format!(
            "[calendars]\n[[all]]\npath = {}/*\ntype = discover\n[[gone]]\npath = {}/missing\n",
            dir.path().display(),
            dir.path().display()
        );
        assert_eq!(
            calendars(&text),
            [dir.path().join("a"), dir.path().join("b")]
        );
    }
}
