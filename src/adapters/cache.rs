//! The inbox's cache on disk: one file per name under a directory such as
//! `$XDG_CACHE_HOME/rsvp`, replaced atomically (temp file + rename) so a
//! reader never sees half a file. No fsync: losing the cache costs time,
//! never data. Each file ends with a checksum of its contents, so a file
//! torn by a crash before the system wrote it out reads as corrupt (and is
//! rebuilt), never as other data.

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
            Ok(mut data) => {
                let split = data.len().checked_sub(8);
                let sum = split
                    .and_then(|at| data.get(at..))
                    .and_then(|tail| <[u8; 8]>::try_from(tail).ok())
                    .map(u64::from_le_bytes);
                match (split, sum) {
                    (Some(at), Some(sum)) if data.get(..at).map(checksum) == Some(sum) => {
                        data.truncate(at);
                        Ok(Some(data))
                    }
                    _ => Err(format!(
                        "cache {}: corrupt (its checksum does not match)",
                        path.display()
                    )),
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cache {}: {e}", path.display())),
        }
    }

    fn save(&self, name: &str, data: &[u8]) -> Result<(), String> {
        let path = self.path(name)?;
        let fail = |e: std::io::Error| format!("cache {}: {e}", path.display());
        fs::create_dir_all(&self.dir).map_err(fail)?;
        let mut framed = Vec::with_capacity(data.len() + 8);
        framed.extend_from_slice(data);
        framed.extend_from_slice(&checksum(data).to_le_bytes());
        let tmp = fsutil::write_temp_unsynced(&self.dir, name, &framed, 0o600).map_err(fail)?;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            fail(e)
        })
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// A 64-bit checksum of `data` (not cryptographic: it tells a torn or
/// truncated file from a whole one).
fn checksum(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (data.len() as u64);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b))
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(23);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
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
