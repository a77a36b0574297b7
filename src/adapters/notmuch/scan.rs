//! The Maildir side of private-mode indexing: walking `cur/` and `new/`,
//! and the per-directory state that makes runs incremental.

use super::*;

/// The indexer's memory between runs (like the directory documents of
/// `notmuch new`): per message directory, its mtime and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) version: u32,
    /// The Maildir this memory describes.
    pub(super) maildir: String,
    /// Set while a run changes the database: a crash leaves it set, and the
    /// next run rebuilds its memory from the database.
    pub(super) dirty: bool,
    pub(super) dirs: BTreeMap<String, DirState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct DirState {
    /// (seconds, nanoseconds); `None`: list the directory again next time.
    pub(super) mtime: Option<(i64, i64)>,
    pub(super) files: BTreeSet<String>,
}

impl State {
    pub(super) fn dirty(maildir: &str) -> State {
        State {
            version: STATE_VERSION,
            maildir: maildir.to_string(),
            dirty: true,
            dirs: BTreeMap::new(),
        }
    }

    /// The memory of the last clean run over `maildir`, if there is one.
    pub(super) fn load(database: &Path, maildir: &str) -> Option<State> {
        let text = fs::read(database.join(STATE_FILE)).ok()?;
        let state: State = serde_json::from_slice(&text).ok()?;
        (state.version == STATE_VERSION && !state.dirty && state.maildir == maildir)
            .then_some(state)
    }

    pub(super) fn save(&self, database: &Path) -> io::Result<()> {
        // The summary goes first when the state turns dirty and last when
        // it is clean, so it never describes more than the state does.
        let summary = database.join(SUMMARY_FILE);
        if self.dirty {
            match fs::remove_file(&summary) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let data = serde_json::to_vec(self).map_err(io::Error::other)?;
        let (temp, _) = fsutil::write_temp(database, STATE_FILE, &data, 0o600, None)?;
        if let Err(e) = fs::rename(&temp, database.join(STATE_FILE)) {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        if !self.dirty {
            let mut text = format!("{SUMMARY_VERSION}\n{}\n", self.maildir);
            for (rel, dir) in &self.dirs {
                match dir.mtime {
                    Some((s, ns)) => text.push_str(&format!("{s} {ns} {rel}\n")),
                    // A directory to list again: no summary can skip it.
                    None => text.push_str(&format!("- - {rel}\n")),
                }
            }
            let (temp, _) =
                fsutil::write_temp(database, SUMMARY_FILE, text.as_bytes(), 0o600, None)?;
            if let Err(e) = fs::rename(&temp, &summary) {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        }
        fsutil::fsync_dir(database)
    }

    /// Whether the last clean run saw exactly these directories with these
    /// mtimes: then nothing changed and a run has nothing to do. Reads only
    /// the small summary beside the state (not the file lists).
    pub(super) fn unchanged(database: &Path, maildir: &str, leaves: &[Leaf]) -> bool {
        let Ok(text) = fs::read_to_string(database.join(SUMMARY_FILE)) else {
            return false;
        };
        let mut lines = text.lines();
        if lines.next() != Some(SUMMARY_VERSION) || lines.next() != Some(maildir) {
            return false;
        }
        let mut seen: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for line in lines {
            let mut parts = line.splitn(3, ' ');
            let (Some(s), Some(ns), Some(rel)) = (parts.next(), parts.next(), parts.next()) else {
                return false;
            };
            let (Ok(s), Ok(ns)) = (s.parse::<i64>(), ns.parse::<i64>()) else {
                return false;
            };
            seen.insert(rel, (s, ns));
        }
        seen.len() == leaves.len()
            && leaves
                .iter()
                .all(|l| seen.get(l.rel.as_str()) == Some(&l.mtime))
    }
}

/// The small summary of a clean state: per directory its mtime.
const SUMMARY_FILE: &str = "rsvp-index-dirs";
const SUMMARY_VERSION: &str = "rsvp-index-dirs 1";

/// A `cur` or `new` directory of the Maildir.
pub(super) struct Leaf {
    /// Relative to the Maildir root, e.g. `cur`, `.Sent/new`, `work/INBOX/cur`.
    pub(super) rel: String,
    pub(super) abs: PathBuf,
    pub(super) mtime: (i64, i64),
}

impl Leaf {
    pub(super) fn mtime_ns(&self) -> i128 {
        i128::from(self.mtime.0) * 1_000_000_000 + i128::from(self.mtime.1)
    }
}

pub(super) struct Walked {
    pub(super) leaves: Vec<Leaf>,
    /// Folders that could not be read (relative paths).
    pub(super) unreadable: Vec<String>,
    /// Entries skipped (folder names that are not UTF-8).
    pub(super) skipped: u64,
}

/// Every `cur`/`new` directory below `root` (Maildir and Maildir++ folders,
/// nested folders), skipping `tmp` and `.notmuch`, never following
/// symbolic links to directories.
pub(super) fn walk(root: &Path) -> io::Result<Walked> {
    let mut walked = Walked {
        leaves: Vec::new(),
        unreadable: Vec::new(),
        skipped: 0,
    };
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if rel.is_empty() => return Err(e),
            Err(_) => {
                walked.unreadable.push(rel);
                continue;
            }
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                walked.skipped += 1;
                continue;
            };
            if name == "tmp" || name == ".notmuch" {
                continue;
            }
            let child_rel = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            if name == "cur" || name == "new" {
                match fs::metadata(entry.path()) {
                    Ok(meta) => walked.leaves.push(Leaf {
                        rel: child_rel,
                        abs: entry.path(),
                        mtime: (meta.mtime(), meta.mtime_nsec()),
                    }),
                    Err(_) => walked.unreadable.push(child_rel),
                }
            } else if depth < MAX_DEPTH {
                stack.push((entry.path(), child_rel, depth + 1));
            }
        }
    }
    walked.leaves.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(walked)
}

/// The message file names in a `cur`/`new` directory (hidden files and
/// non-files left out) and how many were skipped for not being UTF-8.
pub(super) fn list_messages(dir: &Path) -> io::Result<(Vec<String>, u64)> {
    let mut names = Vec::new();
    let mut skipped = 0;
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let is_file = match entry.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_symlink() => fs::metadata(entry.path()).is_ok_and(|m| m.is_file()),
            _ => false,
        };
        if !is_file {
            continue;
        }
        match entry.file_name().to_str() {
            Some(name) if name.starts_with('.') => {}
            Some(name) => names.push(name.to_string()),
            None => skipped += 1,
        }
    }
    names.sort();
    Ok((names, skipped))
}

/// Whether relative path `rel` is `dir` or inside it.
pub(super) fn is_within(rel: &str, dir: &str) -> bool {
    rel == dir
        || rel
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

pub(super) fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// libnotmuch messages may span lines; error messages are one line.
/// libnotmuch's message on one line, a sentence it repeats at the start
/// said once ("A Xapian exception occurred A Xapian exception occurred
/// opening database: …").
pub(super) fn one_line(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    for n in (1..=words.len() / 2).rev() {
        if words.get(..n) == words.get(n..2 * n) {
            return words.get(n..).unwrap_or_default().join(" ");
        }
    }
    words.join(" ")
}

/// Finds message files that a mail client moved between `new/` and `cur/`
/// (or renamed by changing their flags) since they were indexed: a Maildir
/// message keeps its unique name, the part of the file name before `:2,`.
/// Each directory is listed at most once per listing, and only when some
/// file is missing.
#[derive(Debug, Default)]
pub(super) struct Moved {
    /// Maildir directory -> unique name -> current path.
    dirs: HashMap<PathBuf, HashMap<String, PathBuf>>,
}

/// The unique part of a Maildir file name (before the `:2,` info).
pub(super) fn unique_name(file_name: &str) -> &str {
    file_name.split_once(':').map_or(file_name, |(u, _)| u)
}

impl Moved {
    /// Where the message once at `old` is now, if it moved inside its Maildir.
    pub(super) fn find(&mut self, old: &Path) -> Option<PathBuf> {
        let name = old.file_name()?.to_str()?;
        let sub = old.parent()?;
        if !matches!(sub.file_name()?.to_str()?, "cur" | "new") {
            return None;
        }
        let maildir = sub.parent()?.to_path_buf();
        let unique = unique_name(name).to_string();
        let names = self.dirs.entry(maildir.clone()).or_insert_with(|| {
            let mut names = HashMap::new();
            for sub in ["new", "cur"] {
                let Ok(entries) = fs::read_dir(maildir.join(sub)) else {
                    continue;
                };
                for e in entries.flatten() {
                    if let Some(n) = e.file_name().to_str() {
                        names.insert(unique_name(n).to_string(), e.path());
                    }
                }
            }
            names
        });
        names.get(&unique).cloned()
    }
}
