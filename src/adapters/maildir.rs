//! A plain Maildir as the mail source, for users without notmuch and for
//! tests: the messages in `cur/` and `new/` of the Maildir and of Maildirs
//! below it whose bytes mention a calendar part (`text/calendar`,
//! `application/ics` or an `.ics` file name). Tags are not stored.
//!
//! Files are scanned once per (path, mtime, size); a refresh only reads new
//! and changed files.

use crate::domain::extract::MAX_MESSAGE_BYTES;
use crate::domain::ports::{Candidate, InviteSource, SourceError};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How deep below the root Maildirs are looked for (`~/Mail/account/INBOX`).
pub const MAX_DEPTH: usize = 4;

/// The byte patterns that make a message a candidate (matched ignoring case).
const MARKERS: [&[u8]; 3] = [b"text/calendar", b"application/ics", b".ics"];

/// A Maildir tree read directly from disk.
#[derive(Debug)]
pub struct MaildirSource {
    root: PathBuf,
    /// path -> (mtime, size, is a candidate)
    scanned: Mutex<HashMap<PathBuf, (i64, u64, bool)>>,
}

impl MaildirSource {
    /// Use the Maildir (or tree of Maildirs) at `root`.
    pub fn open(root: &Path) -> Result<MaildirSource, SourceError> {
        let meta = std::fs::metadata(root).map_err(|e| SourceError::Maildir {
            path: root.display().to_string(),
            message: e.to_string(),
        })?;
        if !meta.is_dir() {
            return Err(SourceError::Maildir {
                path: root.display().to_string(),
                message: "not a directory".to_string(),
            });
        }
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Ok(MaildirSource {
            root,
            scanned: Mutex::new(HashMap::new()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Maildirs at and below the root (directories with `cur` or `new`).
    fn maildirs(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut todo = vec![(self.root.clone(), 0usize)];
        while let Some((dir, depth)) = todo.pop() {
            if dir.join("cur").is_dir() || dir.join("new").is_dir() {
                out.push(dir.clone());
            }
            if depth >= MAX_DEPTH {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                if matches!(name.to_str(), Some("cur" | "new" | "tmp")) {
                    continue;
                }
                // No symlinked directories: no loops, no escaping the root.
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push((e.path(), depth + 1));
                }
            }
        }
        out.sort();
        out
    }
}

/// Whether `hay` contains `needle`, ASCII case ignored.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The first 256 KiB of a file (headers and the first parts).
fn head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(256 * 1024).read_to_end(&mut data))
        .ok()?;
    Some(data)
}

/// Whether message bytes look like they carry calendar data.
pub fn looks_like_invitation(raw: &[u8]) -> bool {
    MARKERS.iter().any(|m| contains_ci(raw, m))
}

fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    meta.mtime()
}

impl InviteSource for MaildirSource {
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError> {
        let maildirs = self.maildirs();
        if maildirs.is_empty() {
            // A mistyped path would otherwise read as "no invitation".
            return Err(SourceError::Maildir {
                path: self.root.display().to_string(),
                message: format!(
                    "no Maildir (a folder with cur/ and new/) in it or {MAX_DEPTH} levels below"
                ),
            });
        }
        let mut previous = self
            .scanned
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default();
        let mut scanned = HashMap::new();
        let mut out = Vec::new();
        for maildir in maildirs {
            for sub in ["cur", "new"] {
                let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
                    continue;
                };
                for e in entries.flatten() {
                    if e.file_name().to_string_lossy().starts_with('.') {
                        continue;
                    }
                    let path = e.path();
                    let Ok(meta) = std::fs::metadata(&path) else {
                        continue;
                    };
                    if !meta.is_file() {
                        continue;
                    }
                    let too_large = meta.len() > MAX_MESSAGE_BYTES as u64;
                    let mtime = mtime_of(&meta);
                    let is_candidate = match previous.remove(&path) {
                        Some((m, len, c)) if m == mtime && len == meta.len() => c,
                        // A message over the limit is not read whole: its
                        // first part says whether it carries a calendar.
                        _ if too_large => {
                            head(&path).is_some_and(|raw| looks_like_invitation(&raw))
                        }
                        _ => std::fs::read(&path).is_ok_and(|raw| looks_like_invitation(&raw)),
                    };
                    scanned.insert(path.clone(), (mtime, meta.len(), is_candidate));
                    if is_candidate {
                        let text = path.display().to_string();
                        out.push(Candidate {
                            id: text.clone(),
                            path: text,
                            stamp: crate::adapters::fsutil::stamp(&meta),
                            tags: Vec::new(),
                            // Shown as unreadable with the reason (R9.8).
                            missing: too_large.then(|| {
                                format!(
                                    "larger than {} MB; not read",
                                    MAX_MESSAGE_BYTES / (1024 * 1024)
                                )
                            }),
                        });
                    }
                }
            }
        }
        if let Ok(mut m) = self.scanned.lock() {
            *m = scanned;
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read(&self, candidate: &Candidate) -> Result<Vec<u8>, SourceError> {
        let err = |message: String| SourceError::Message {
            path: candidate.path.clone(),
            message,
        };
        if let Some(why) = &candidate.missing {
            return Err(err(why.clone()));
        }
        let path = std::fs::canonicalize(&candidate.path).map_err(|e| err(e.to_string()))?;
        if !path.starts_with(&self.root) {
            return Err(err(format!(
                "not inside the Maildir {}",
                self.root.display()
            )));
        }
        super::fsutil::read_at_most(&path, MAX_MESSAGE_BYTES)
            .map_err(|e| err(e.to_string()))?
            .ok_or_else(|| err(format!("larger than {MAX_MESSAGE_BYTES} bytes")))
    }

    fn tag(&self, _: &Candidate, _: &[&str], _: &[&str]) -> Result<(), SourceError> {
        // A plain Maildir has no place for tags.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_match_ignoring_case() {
        assert!(looks_like_invitation(
            b"Content-Type: TEXT/Calendar; method=REQUEST"
        ));
        assert!(looks_like_invitation(b"name=\"invite.ICS\""));
        assert!(looks_like_invitation(b"Content-Type: application/ics"));
        assert!(!looks_like_invitation(b"Subject: lunch\r\n\r\nsee you"));
        assert!(!contains_ci(b"abc", b""));
    }

    fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(&p, data).expect("write");
        p
    }

    /// `--maildir` with a path that is not a Maildir says so, naming it,
    /// instead of listing nothing.
    #[test]
    fn a_path_that_is_no_maildir_is_said_to_be_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let missing = tmp.path().join("nope");
        let e = MaildirSource::open(&missing).expect_err("missing");
        assert!(matches!(e, SourceError::Maildir { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("maildir {}: ", missing.display()))
        );
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").expect("write");
        let e = MaildirSource::open(&file).expect_err("file");
        assert_eq!(
            e.to_string(),
            format!("maildir {}: not a directory", file.display())
        );
        // A directory with no Maildir in it or below.
        std::fs::create_dir_all(tmp.path().join("notes/misc")).expect("mkdir");
        let src = MaildirSource::open(&tmp.path().join("notes")).expect("open");
        let e = src.candidates().expect_err("no maildir");
        assert!(
            e.to_string()
                .contains("no Maildir (a folder with cur/ and new/)"),
            "{e}"
        );
        // One empty Maildir below it is a Maildir with nothing in it.
        std::fs::create_dir_all(tmp.path().join("notes/misc/INBOX/new")).expect("mkdir");
        assert!(src.candidates().expect("empty maildir").is_empty());
    }

    #[test]
    fn walks_cur_and_new_of_nested_maildirs_and_skips_others() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(
            &root.join("new"),
            "1.host",
            b"Content-Type: text/calendar\r\n\r\nx",
        );
        write(&root.join("cur"), "2.host:2,S", b"Subject: plain\r\n\r\nno");
        write(
            &root.join("tmp"),
            "3.host",
            b"Content-Type: text/calendar\r\n",
        );
        write(
            &root.join("cur"),
            ".hidden",
            b"Content-Type: text/calendar\r\n",
        );
        write(
            &root.join("work/INBOX/cur"),
            "4.host:2,",
            b"attachment; filename=\"a.ics\"",
        );
        let src = MaildirSource::open(root).expect("open");
        let c = src.candidates().expect("candidates");
        let names: Vec<String> = c
            .iter()
            .map(|c| c.path.rsplit('/').next().unwrap_or("").to_string())
            .collect();
        assert_eq!(names, vec!["1.host", "4.host:2,"], "{c:?}");
        assert!(c.iter().all(|c| c.id == c.path && c.stamp.mtime() > 0));
        let raw = src.read(&c[0]).expect("read");
        assert!(raw.starts_with(b"Content-Type"));
        // Tags are accepted and ignored.
        src.tag(&c[0], &["rsvp/accepted"], &["rsvp/pending"])
            .expect("tag");
        assert!(src.candidates().expect("again")[0].tags.is_empty());
        // A path outside the root is refused.
        let outside = Candidate {
            id: "x".into(),
            path: "/etc/passwd".into(),
            stamp: Default::default(),
            tags: vec![],
            missing: None,
        };
        assert!(matches!(
            src.read(&outside),
            Err(SourceError::Message { .. })
        ));
    }

    #[test]
    fn missing_root_is_an_index_error_naming_the_path() {
        let e = MaildirSource::open(Path::new("/nonexistent/rsvp-maildir")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/rsvp-maildir"), "{e}");
    }
}
