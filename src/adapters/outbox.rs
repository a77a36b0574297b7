//! The durable outbox of replies (R9.13) as three directories, `pending/`,
//! `sent/` and `failed/` (refused for good by the server, kept until the
//! user drops them). An entry is `<id>.eml` (the exact message bytes) plus
//! `<id>.json` (envelope, key, last error, creation time); the `.json` is
//! written last and is the commit marker. Never sends anything itself.

use std::fs::{self, DirBuilder};
use std::io::{self, ErrorKind};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::adapters::fsutil;
use crate::domain::ports::{Envelope, Outbox, OutboxEntry, OutboxError, ReplyKey, TransportError};

/// Longest accepted entry id, so `.<id>.json.<random>.tmp` fits NAME_MAX.
const MAX_ID_BYTES: usize = 200;
/// Format version written into every `.json`.
const FORMAT_VERSION: u32 = 1;

/// Where the current time comes from (injectable for tests).
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The outbox under one root directory.
pub struct DirOutbox {
    root: PathBuf,
    pending: PathBuf,
    sent: PathBuf,
    failed: PathBuf,
    clock: Clock,
}

impl std::fmt::Debug for DirOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirOutbox")
            .field("root", &self.root)
            .finish()
    }
}

/// The `.json` half of an entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntryMeta {
    version: u32,
    id: String,
    from: String,
    to: Vec<String>,
    key: KeyMeta,
    last_error: Option<String>,
    /// RFC 3339, UTC.
    created: String,
    #[serde(default)]
    attempts: u32,
    /// Sendable: the calendar write it answers for is recorded (issue 8
    /// item 1). Entries written before this field existed are ready.
    #[serde(default = "ready_by_default")]
    ready: bool,
}

fn ready_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyMeta {
    uid: String,
    recurrence_ids: Vec<String>,
    partstat: String,
    sequence: i64,
}

impl EntryMeta {
    fn key(&self) -> ReplyKey {
        ReplyKey {
            uid: self.key.uid.clone(),
            recurrence_ids: self.key.recurrence_ids.clone(),
            partstat: self.key.partstat.clone(),
            sequence: self.key.sequence,
        }
    }

    fn into_entry(self, message: Vec<u8>) -> OutboxEntry {
        let key = self.key();
        OutboxEntry {
            id: self.id,
            envelope: Envelope {
                from: self.from,
                to: self.to,
            },
            key,
            message,
            last_error: self.last_error,
        }
    }

    fn created_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.created)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

fn io_error(path: &Path, what: &str, e: &io::Error) -> OutboxError {
    OutboxError::Io {
        path: path.display().to_string(),
        message: format!("{what}: {e}"),
    }
}

/// Whether `id` can be used as a file name stem: non-empty, at most 200
/// bytes, only `[A-Za-z0-9._-]`, no leading `.` (so never `..`, never a
/// hidden temp file, never a path).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl DirOutbox {
    /// Open (creating with mode 0700 if needed) the outbox under `root`,
    /// remove stale temp files and half-written entries, and finish a
    /// `mark_sent` that was interrupted.
    pub fn open(root: &Path) -> Result<DirOutbox, OutboxError> {
        Self::open_with_clock(root, Box::new(Utc::now))
    }

    /// [`DirOutbox::open`] with the clock that stamps new entries.
    pub fn open_with_clock(root: &Path, clock: Clock) -> Result<DirOutbox, OutboxError> {
        let outbox = DirOutbox {
            root: root.to_path_buf(),
            pending: root.join("pending"),
            sent: root.join("sent"),
            failed: root.join("failed"),
            clock,
        };
        for dir in [&outbox.pending, &outbox.sent, &outbox.failed] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io_error(dir, "cannot create the outbox directory", &e))?;
        }
        outbox.recover()?;
        Ok(outbox)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Entries already accepted by the transport, oldest first.
    pub fn sent(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let mut out = Vec::new();
        for meta in self.committed(&self.sent)? {
            let message = fs::read(self.sent.join(format!("{}.eml", meta.id))).unwrap_or_default();
            out.push(meta.into_entry(message));
        }
        Ok(out)
    }

    fn recover(&self) -> Result<(), OutboxError> {
        for dir in [&self.pending, &self.sent, &self.failed] {
            fsutil::remove_stale_temps(dir)
                .map_err(|e| io_error(dir, "cannot read the outbox directory", &e))?;
        }
        let now = std::time::SystemTime::now();
        let entries = fs::read_dir(&self.pending)
            .map_err(|e| io_error(&self.pending, "cannot read the outbox directory", &e))?;
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".json").filter(|id| is_valid_id(id)) {
                // mark_sent (or a permanent failure) moved the .eml and died
                // before moving the .json: finish the move.
                let eml_pending = self.pending.join(format!("{id}.eml"));
                if !eml_pending.exists() {
                    for to in [&self.sent, &self.failed] {
                        if to.join(format!("{id}.eml")).exists() {
                            self.move_to(&format!("{id}.json"), to)?;
                            break;
                        }
                    }
                }
            } else if let Some(id) = name.strip_suffix(".eml").filter(|id| is_valid_id(id)) {
                // put wrote the .eml and died before the .json (the commit
                // marker): never committed, remove it once it is old enough
                // not to belong to a put running right now.
                let json = self.pending.join(format!("{id}.json"));
                let old = fs::symlink_metadata(entry.path())
                    .is_ok_and(|m| m.is_file() && fsutil::is_old(&m, now));
                if old && !json.exists() {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Write `data` to `dir/name` atomically: temp file, fsync, rename,
    /// directory fsync.
    fn write_atomic(&self, dir: &Path, name: &str, data: &[u8]) -> Result<(), OutboxError> {
        let target = dir.join(name);
        let (tmp, _) = fsutil::write_temp(dir, name, data, 0o600, None)
            .map_err(|e| io_error(&target, "cannot write", &e))?;
        if let Err(e) = fs::rename(&tmp, &target) {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(&target, "cannot write", &e));
        }
        fsutil::fsync_dir(dir).map_err(|e| io_error(dir, "cannot sync the directory", &e))
    }

    /// Move `pending/<name>` to `sent/<name>` durably.
    fn move_file(&self, name: &str) -> Result<(), OutboxError> {
        self.move_to(name, &self.sent)
    }

    /// Move `pending/<name>` to `<dir>/<name>` durably.
    fn move_to(&self, name: &str, dir: &Path) -> Result<(), OutboxError> {
        let from = self.pending.join(name);
        let to = dir.join(name);
        fs::rename(&from, &to)
            .map_err(|e| io_error(&from, &format!("cannot move to {}", dir.display()), &e))?;
        fsutil::fsync_dir(dir).map_err(|e| io_error(dir, "cannot sync the directory", &e))?;
        fsutil::fsync_dir(&self.pending)
            .map_err(|e| io_error(&self.pending, "cannot sync the directory", &e))
    }

    fn check_id(&self, id: &str) -> Result<(), OutboxError> {
        if is_valid_id(id) {
            Ok(())
        } else {
            Err(OutboxError::Io {
                path: self.root.display().to_string(),
                message: format!(
                    "invalid outbox entry id {id:?} (only A-Z a-z 0-9 . _ - allowed, no leading dot)"
                ),
            })
        }
    }

    fn read_meta(path: &Path) -> Option<EntryMeta> {
        let bytes = fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The committed entries (readable `.json` whose id matches its name)
    /// of `dir`, oldest first by creation time, then by id.
    fn committed(&self, dir: &Path) -> Result<Vec<EntryMeta>, OutboxError> {
        let entries =
            fs::read_dir(dir).map_err(|e| io_error(dir, "cannot read the outbox directory", &e))?;
        let mut metas = Vec::new();
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if !is_valid_id(id) {
                continue;
            }
            if let Some(meta) = Self::read_meta(&entry.path()).filter(|m| m.id == id) {
                metas.push(meta);
            }
        }
        metas.sort_by(|a, b| (a.created_at(), &a.id).cmp(&(b.created_at(), &b.id)));
        Ok(metas)
    }

    fn write_meta(&self, dir: &Path, meta: &EntryMeta) -> Result<(), OutboxError> {
        let json = serde_json::to_vec_pretty(meta).map_err(|e| OutboxError::Io {
            path: dir.join(format!("{}.json", meta.id)).display().to_string(),
            message: format!("cannot encode the entry: {e}"),
        })?;
        self.write_atomic(dir, &format!("{}.json", meta.id), &json)
    }
}

impl DirOutbox {
    fn put_with(&self, entry: &OutboxEntry, ready: bool) -> Result<(), OutboxError> {
        let id = entry.id.as_str();
        self.check_id(id)?;
        let json_name = format!("{id}.json");
        let exists = [
            self.pending.join(&json_name),
            self.sent.join(&json_name),
            self.sent.join(format!("{id}.eml")),
            self.failed.join(&json_name),
        ]
        .iter()
        .any(|p| p.exists());
        if exists {
            return Err(OutboxError::Io {
                path: self.root.display().to_string(),
                message: format!("an outbox entry with id {id:?} already exists"),
            });
        }
        let meta = EntryMeta {
            version: FORMAT_VERSION,
            id: id.to_string(),
            from: entry.envelope.from.clone(),
            to: entry.envelope.to.clone(),
            key: KeyMeta {
                uid: entry.key.uid.clone(),
                recurrence_ids: entry.key.recurrence_ids.clone(),
                partstat: entry.key.partstat.clone(),
                sequence: entry.key.sequence,
            },
            last_error: entry.last_error.clone(),
            created: (self.clock)().to_rfc3339_opts(SecondsFormat::Nanos, true),
            attempts: 0,
            ready,
        };
        // The message first, the .json (commit marker) last.
        self.write_atomic(&self.pending, &format!("{id}.eml"), &entry.message)?;
        self.write_meta(&self.pending, &meta)
    }

    /// Committed entries of `pending/` that are (not) ready.
    fn pending_where(&self, ready: bool) -> Result<Vec<OutboxEntry>, OutboxError> {
        let mut out = Vec::new();
        for meta in self.committed(&self.pending)? {
            if meta.ready != ready {
                continue;
            }
            // No .eml beside it: a mark_sent in progress (or a damaged entry).
            let Ok(message) = fs::read(self.pending.join(format!("{}.eml", meta.id))) else {
                continue;
            };
            out.push(meta.into_entry(message));
        }
        Ok(out)
    }
}

impl Outbox for DirOutbox {
    fn put(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        self.put_with(entry, true)
    }

    fn put_staged(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        self.put_with(entry, false)
    }

    fn mark_ready(&self, id: &str) -> Result<(), OutboxError> {
        self.check_id(id)?;
        let path = self.pending.join(format!("{id}.json"));
        let mut meta =
            Self::read_meta(&path).ok_or_else(|| OutboxError::NotFound { id: id.to_string() })?;
        if meta.ready {
            return Ok(());
        }
        meta.ready = true;
        self.write_meta(&self.pending, &meta)
    }

    fn staged(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        self.pending_where(false)
    }

    fn pending(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        self.pending_where(true)
    }

    fn record_error(&self, id: &str, error: &str) -> Result<(), OutboxError> {
        self.check_id(id)?;
        let path = self.pending.join(format!("{id}.json"));
        let mut meta = match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<EntryMeta>(&bytes).map_err(|e| OutboxError::Io {
                    path: path.display().to_string(),
                    message: format!("cannot parse the entry: {e}"),
                })?
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(OutboxError::NotFound { id: id.to_string() });
            }
            Err(e) => return Err(io_error(&path, "cannot read", &e)),
        };
        meta.last_error = Some(error.to_string());
        meta.attempts = meta.attempts.saturating_add(1);
        self.write_meta(&self.pending, &meta)
    }

    fn mark_sent(&self, id: &str) -> Result<(), OutboxError> {
        self.check_id(id)?;
        let json = format!("{id}.json");
        let eml = format!("{id}.eml");
        if !self.pending.join(&json).exists() {
            // Already moved (a retry after a crash, or another process).
            if self.sent.join(&json).exists() {
                return Ok(());
            }
            return Err(OutboxError::NotFound { id: id.to_string() });
        }
        if self.pending.join(&eml).exists() {
            self.move_file(&eml)?;
        }
        match self.move_file(&json) {
            Err(_) if self.sent.join(&json).exists() => Ok(()),
            other => other,
        }
    }

    fn discard(&self, id: &str) -> Result<(), OutboxError> {
        self.check_id(id)?;
        // The .json is the commit marker: remove it first, then the message.
        for name in [format!("{id}.json"), format!("{id}.eml")] {
            let path = self.pending.join(&name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, "cannot remove", &e)),
            }
        }
        Ok(())
    }

    fn record_failure(&self, id: &str, error: &TransportError) -> Result<(), OutboxError> {
        self.record_error(id, &error.to_string())?;
        if !error.is_permanent() {
            return Ok(());
        }
        // The message first, the .json (commit marker) last, as mark_sent.
        let eml = format!("{id}.eml");
        if self.pending.join(&eml).exists() {
            self.move_to(&eml, &self.failed)?;
        }
        self.move_to(&format!("{id}.json"), &self.failed)
    }

    fn failed(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let mut out = Vec::new();
        for meta in self.committed(&self.failed)? {
            let message =
                fs::read(self.failed.join(format!("{}.eml", meta.id))).unwrap_or_default();
            out.push(meta.into_entry(message));
        }
        Ok(out)
    }

    fn drop_entry(&self, id: &str) -> Result<(), OutboxError> {
        if !is_valid_id(id) {
            return Err(OutboxError::NotFound { id: id.to_string() });
        }
        let mut found = false;
        for dir in [&self.pending, &self.failed] {
            // The .json is the commit marker: remove it first.
            for name in [format!("{id}.json"), format!("{id}.eml")] {
                let path = dir.join(&name);
                match fs::remove_file(&path) {
                    Ok(()) => found = true,
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error(&path, "cannot remove", &e)),
                }
            }
        }
        if found {
            Ok(())
        } else {
            Err(OutboxError::NotFound { id: id.to_string() })
        }
    }

    fn find(&self, key: &ReplyKey) -> Result<Option<(OutboxEntry, bool)>, OutboxError> {
        // An unsent answer is the one that matters (staged or ready); else
        // the latest sent one.
        let mut unsent = self.pending()?;
        unsent.extend(self.staged()?);
        if let Some(entry) = unsent.into_iter().find(|e| &e.key == key) {
            return Ok(Some((entry, false)));
        }
        let Some(meta) = self
            .committed(&self.sent)?
            .into_iter()
            .rev()
            .find(|m| &m.key() == key)
        else {
            return Ok(None);
        };
        let message = fs::read(self.sent.join(format!("{}.eml", meta.id))).unwrap_or_default();
        Ok(Some((meta.into_entry(message), true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids() {
        for ok in [
            "a",
            "20250301T101500Z-3f2a.rsvp",
            "A_b-c.d",
            &"x".repeat(200),
        ] {
            assert!(is_valid_id(ok), "{ok:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "../x",
            "a\0b",
            "a b",
            "a\nb",
            "é",
            &"x".repeat(201),
        ] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
    }
}
