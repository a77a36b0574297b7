//! The inbox's cache on disk: one file per name under a directory such as
//! `$XDG_CACHE_HOME/rsvp`, replaced atomically (temp file + rename) so a
//! reader never sees half a file. No fsync: losing the cache costs time,
//! never data.

use super::fsutil;
use crate::domain::ports::CacheStore;
use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A cache directory, created on the first save.
#[derive(Debug)]
pub struct FileCache {
    dir: PathBuf,
}

impl FileCache {
    pub fn new(dir: &Path) -> FileCache {
        FileCache {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        let safe = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.');
        if safe {
            Ok(self.dir.join(name))
        } else {
            Err(format!("bad cache file name {name:?}"))
        }
    }
}

impl CacheStore for FileCache {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let path = self.path(name)?;
        match fs::read(&path) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cache {}: {e}", path.display())),
        }
    }

    fn save(&self, name: &str, data: &[u8]) -> Result<(), String> {
        let path = self.path(name)?;
        let fail = |e: std::io::Error| format!("cache {}: {e}", path.display());
        fs::create_dir_all(&self.dir).map_err(fail)?;
        let (tmp, _) = fsutil::write_temp(&self.dir, name, data, 0o600, None).map_err(fail)?;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            fail(e)
        })
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// A cache in memory (tests, the demo's worker, dry runs that must leave
/// nothing on disk).
#[derive(Debug, Default)]
pub struct MemoryCache {
    files: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryCache {
    pub fn new() -> MemoryCache {
        MemoryCache::default()
    }
}

impl CacheStore for MemoryCache {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let files = self
            .files
            .lock()
            .map_err(|_| "cache lock poisoned".to_string())?;
        Ok(files.get(name).cloned())
    }

    fn save(&self, name: &str, data: &[u8]) -> Result<(), String> {
        let mut files = self
            .files
            .lock()
            .map_err(|_| "cache lock poisoned".to_string())?;
        files.insert(name.to_string(), data.to_vec());
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".to_string()
    }
}
