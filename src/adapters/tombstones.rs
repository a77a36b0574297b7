//! Cancellations seen for events that were not in the calendar (R3.1,
//! R4.7), kept in one JSON file under the data directory.

use super::fsutil;
use crate::domain::ports::{StoreError, Tombstones};
use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// At most this many UIDs are remembered (oldest entries are not tracked
/// by age; the map is simply capped to keep the file small).
const MAX_ENTRIES: usize = 10_000;

pub struct FileTombstones {
    path: PathBuf,
}

impl FileTombstones {
    /// The file is `dir/tombstones.json`; `dir` is created on the first
    /// record, so reading commands leave no trace.
    pub fn open(dir: &Path) -> Result<FileTombstones, StoreError> {
        Ok(FileTombstones {
            path: dir.join("tombstones.json"),
        })
    }

    fn read(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Io {
                path: self.path.display().to_string(),
                message: format!("cannot parse: {e}"),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(StoreError::Io {
                path: self.path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }
}

impl Tombstones for FileTombstones {
    fn get(&self, uid: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.read()?.get(uid).copied())
    }

    fn all(&self) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        Ok(self.read()?.into_iter().collect())
    }

    fn record(&self, uid: &str, sequence: i64) -> Result<(), StoreError> {
        let mut map = self.read()?;
        let entry = map.entry(uid.to_string()).or_insert(sequence);
        *entry = (*entry).max(sequence);
        while map.len() > MAX_ENTRIES {
            let Some(first) = map.keys().next().cloned() else {
                break;
            };
            map.remove(&first);
        }
        let data = serde_json::to_vec_pretty(&map).map_err(|e| StoreError::Io {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        let io = |e: std::io::Error| StoreError::Io {
            path: self.path.display().to_string(),
            message: e.to_string(),
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io)?;
        let (tmp, _) =
            fsutil::write_temp(dir, "tombstones.json", &data, 0o600, None).map_err(io)?;
        fs::rename(&tmp, &self.path).map_err(io)?;
        fsutil::fsync_dir(dir).map_err(io)?;
        Ok(())
    }
}

/// In memory, for tests and the demo.
#[derive(Debug, Default)]
pub struct MemoryTombstones {
    map: std::sync::Mutex<BTreeMap<String, i64>>,
}

impl Tombstones for MemoryTombstones {
    fn get(&self, uid: &str) -> Result<Option<i64>, StoreError> {
        let map = self.map.lock().map_err(|_| StoreError::Io {
            path: "memory".into(),
            message: "lock poisoned".into(),
        })?;
        Ok(map.get(uid).copied())
    }

    fn all(&self) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let map = self.map.lock().map_err(|_| StoreError::Io {
            path: "memory".into(),
            message: "lock poisoned".into(),
        })?;
        Ok(map.iter().map(|(k, v)| (k.clone(), *v)).collect())
    }

    fn record(&self, uid: &str, sequence: i64) -> Result<(), StoreError> {
        let mut map = self.map.lock().map_err(|_| StoreError::Io {
            path: "memory".into(),
            message: "lock poisoned".into(),
        })?;
        let e = map.entry(uid.to_string()).or_insert(sequence);
        *e = (*e).max(sequence);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t34_tombstones_persist() {
        let dir = tempfile::tempdir().unwrap();
        let t = FileTombstones::open(dir.path()).unwrap();
        assert_eq!(t.get("a/b").unwrap(), None);
        t.record("a/b", 4).unwrap();
        t.record("a/b", 2).unwrap();
        let again = FileTombstones::open(dir.path()).unwrap();
        assert_eq!(again.get("a/b").unwrap(), Some(4));
    }
}
