//! The TUI's log: lines appended to a file (under the XDG state dir), never
//! to the terminal while it is in raw mode. A log that cannot be opened is
//! not fatal: logging is then off.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A shared, append-only log file.
#[derive(Debug)]
pub struct Log {
    file: Mutex<Option<File>>,
    path: Option<PathBuf>,
}

impl Log {
    /// Append to `path` (creating its directory); logging is off when `None`
    /// or when the file cannot be opened.
    pub fn open(path: Option<&Path>) -> Log {
        let file = path.and_then(|p| {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            OpenOptions::new().create(true).append(true).open(p).ok()
        });
        Log {
            path: file.as_ref().and(path.map(Path::to_path_buf)),
            file: Mutex::new(file),
        }
    }

    /// A log that writes nothing.
    pub fn off() -> Log {
        Log::open(None)
    }

    /// The file being written, if logging is on.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Append one line, prefixed with the UTC time. Lowercase, no trailing
    /// dot, never a secret or a message body.
    pub fn line(&self, text: &str) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        if let Some(f) = guard.as_mut() {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            let one_line: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let _ = writeln!(f, "{now} {one_line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_lines_without_control_characters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/rsvp.log");
        let log = Log::open(Some(&path));
        assert_eq!(log.path(), Some(path.as_path()));
        log.line("info one");
        log.line("error two\u{1b}[2J\nthree");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert!(lines[0].ends_with(" info one"));
        assert!(lines[1].ends_with(" error two [2J three"), "{text:?}");
        assert_eq!(Log::off().path(), None);
    }
}
