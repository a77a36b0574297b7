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
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A cache directory, created on the first save.
#[derive(Debug, Clone)]
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
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.save_streamed(name, len, &mut |w| w.write_all(data))
    }

    /// Streamed into the temp file through a buffer, the checksum taken on
    /// the way: the file is never held whole in memory.
    fn save_streamed(
        &self,
        name: &str,
        len: u64,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), String> {
        let path = self.path(name)?;
        let fail = |e: std::io::Error| format!("cache {}: {e}", path.display());
        fs::create_dir_all(&self.dir).map_err(fail)?;
        let (tmp, file) = fsutil::create_temp(&self.dir, name, 0o600).map_err(fail)?;
        let written = (|| {
            // The encoder writes a field at a time: the buffer comes first,
            // so the file and the checksum see 64 KiB at a time.
            let mut buffered = std::io::BufWriter::with_capacity(
                64 * 1024,
                Summing {
                    inner: file,
                    sum: Checksum::new(len),
                    len: 0,
                },
            );
            write(&mut buffered)?;
            let mut out = buffered.into_inner().map_err(|e| e.into_error())?;
            if out.len != len {
                return Err(std::io::Error::other(format!(
                    "{} bytes encoded, {len} announced",
                    out.len
                )));
            }
            let sum = out.sum.finish();
            out.inner.write_all(&sum.to_le_bytes())
        })();
        match written.and_then(|()| fs::rename(&tmp, &path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(fail(e))
            }
        }
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// A 64-bit checksum of `data` (not cryptographic: it tells a torn or
/// truncated file from a whole one).
fn checksum(data: &[u8]) -> u64 {
    let mut sum = Checksum::new(u64::try_from(data.len()).unwrap_or(u64::MAX));
    sum.update(data);
    sum.finish()
}

/// [`checksum`] taken piece by piece (the length is known in advance):
/// FNV-style over little-endian 8-byte words, then the tail bytes.
struct Checksum {
    h: u64,
    /// Bytes of a word not yet complete.
    pending: [u8; 8],
    filled: usize,
}

impl Checksum {
    fn new(len: u64) -> Checksum {
        Checksum {
            h: 0xcbf2_9ce4_8422_2325 ^ len,
            pending: [0; 8],
            filled: 0,
        }
    }

    fn word(h: u64, w: [u8; 8]) -> u64 {
        (h ^ u64::from_le_bytes(w))
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(23)
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let take = (8 - self.filled).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(slot) = self.pending.get_mut(self.filled..self.filled + take) {
                slot.copy_from_slice(head);
            }
            self.filled += take;
            data = rest;
            if self.filled < 8 {
                return;
            }
            self.h = Self::word(self.h, self.pending);
            self.filled = 0;
        }
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.h = Self::word(self.h, b);
        }
        let tail = words.remainder();
        if let Some(slot) = self.pending.get_mut(..tail.len()) {
            slot.copy_from_slice(tail);
        }
        self.filled = tail.len();
    }

    fn finish(self) -> u64 {
        let mut h = self.h;
        for &b in self.pending.get(..self.filled).unwrap_or_default() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^ (h >> 29)
    }
}

/// A writer that sums what goes through it.
struct Summing<W: Write> {
    inner: W,
    sum: Checksum,
    len: u64,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or_default();
        self.sum.update(done);
        self.len += u64::try_from(done.len()).unwrap_or(u64::MAX);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum taken piece by piece equals the one taken at once,
    /// wherever the pieces are cut; a streamed save reads back whole.
    #[test]
    fn streamed_checksum_and_save_equal_the_whole() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = checksum(&data);
        for cut in [0, 1, 3, 7, 8, 9, 15, 16, 17, 500, 999, 1000] {
            for second in [cut, (cut + 5).min(1000), 1000] {
                let mut sum = Checksum::new(1000);
                sum.update(&data[..cut]);
                sum.update(&data[cut..second]);
                sum.update(&data[second..]);
                assert_eq!(sum.finish(), whole, "cut at {cut} and {second}");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let store = FileCache::new(dir.path());
        // Saved `piece` bytes at a time, then read back.
        let round_trip = |name: &str, data: &[u8], piece: usize| {
            let len = u64::try_from(data.len()).unwrap();
            store
                .save_streamed(name, len, &mut |w| {
                    for p in data.chunks(piece) {
                        w.write_all(p)?;
                    }
                    Ok(())
                })
                .unwrap();
            store.load(name).unwrap()
        };
        assert_eq!(round_trip("x.bin", &data, 33), Some(data.clone()));
        // Larger than the write buffer, written a few bytes at a time: the
        // checksum sees it in the buffer's pieces, and the file reads back.
        let big: Vec<u8> = (0..200_003u32).map(|i| (i * 13 % 253) as u8).collect();
        assert_eq!(round_trip("big.bin", &big, 5), Some(big));
        std::fs::remove_file(dir.path().join("big.bin")).unwrap();
        // A length that does not match what is written fails and leaves
        // the saved file as it was.
        let err = store
            .save_streamed("x.bin", 5, &mut |w| w.write_all(b"abc"))
            .unwrap_err();
        assert!(err.contains("3 bytes encoded, 5 announced"), "{err}");
        assert_eq!(store.load("x.bin").unwrap(), Some(data));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );
    }
}
