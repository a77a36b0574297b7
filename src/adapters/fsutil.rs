//! Filesystem helpers shared by the storage adapters (`vdir`, `outbox`):
//! random names, durable temp-file writes, directory fsync and stale temp
//! clean-up. Holds no policy of its own.

use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A temp file older than this is a leftover of a crashed writer (T62).
/// Younger ones may belong to another rsvp process writing right now
/// (the TUI and a `rsvp reply` from mutt can run at the same time).
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// 32 random hex digits.
pub(crate) fn random_hex() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The name of a temp file for `name`: `.<name>.<random>.tmp`, hidden and
/// with the `.tmp` extension so that vdir readers ignore it (R9.12).
pub(crate) fn temp_name(name: &str) -> String {
    // Keep the temp name within NAME_MAX (255) even for long existing names.
    let stem = if name.len() > 200 { "rsvp" } else { name };
    format!(".{stem}.{}.tmp", random_hex())
}

/// Whether a directory entry name is a temp file written by us.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Write `data` to a new temp file next to `name` in `dir` and fsync it.
/// `mode` is the creation mode (the umask applies); `permissions`, when
/// given, is set exactly afterwards (to keep an existing file's mode).
/// Returns the temp path and its metadata after the fsync; a rename or hard
/// link keeps the inode and mtime, so this metadata gives the final ETag.
pub(crate) fn write_temp(
    dir: &Path,
    name: &str,
    data: &[u8],
    mode: u32,
    permissions: Option<Permissions>,
) -> io::Result<(PathBuf, Metadata)> {
    let path = dir.join(temp_name(name));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)?;
    let written = (|| {
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.write_all(data)?;
        file.sync_all()?;
        file.metadata()
    })();
    match written {
        Ok(meta) => Ok((path, meta)),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(e)
        }
    }
}

/// A new temp file next to `name` in `dir`, to be written by the caller
/// (who removes it on failure): its path and the open file.
pub(crate) fn create_temp(dir: &Path, name: &str, mode: u32) -> io::Result<(PathBuf, File)> {
    let path = dir.join(temp_name(name));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)?;
    Ok((path, file))
}

/// Make the directory entries of `dir` durable (after a rename or link).
/// Filesystems that cannot fsync a directory are tolerated.
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Atomically swap the directory entries `a` and `b` (Linux
/// `renameat2(RENAME_EXCHANGE)`): afterwards `b` names the file that was at
/// `a` and `a` the file that was at `b`, with no moment where either name is
/// missing. Unlike a rename, nothing is destroyed, so the caller can look at
/// what it displaced and put it back.
pub(crate) fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(io::Error::from)
}

/// Whether `exchange` failed because the filesystem or kernel cannot swap
/// (EINVAL, ENOSYS, EOPNOTSUPP): the caller falls back to a plain rename.
pub(crate) fn is_exchange_unsupported(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported)
        || e.raw_os_error() == Some(rustix::io::Errno::NOSYS.raw_os_error())
        || e.raw_os_error() == Some(rustix::io::Errno::OPNOTSUPP.raw_os_error())
}

/// Whether an error means "this file name is too long" (ENAMETOOLONG).
pub(crate) fn is_name_too_long(e: &io::Error) -> bool {
    e.kind() == ErrorKind::InvalidFilename
}

/// Whether `meta` was last modified more than [`STALE_TEMP_AGE`] ago.
pub(crate) fn is_old(meta: &Metadata, now: SystemTime) -> bool {
    match meta.modified() {
        Ok(modified) => now
            .duration_since(modified)
            .is_ok_and(|age| age > STALE_TEMP_AGE),
        Err(_) => false,
    }
}

/// Remove our stale temp files (`.<...>.tmp`, regular files, old enough)
/// from `dir`. Returns how many were removed; failures to remove one file
/// are ignored (readers ignore temp files anyway).
pub(crate) fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    let mut temps = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        if name.to_str().is_some_and(is_temp_name) {
            temps.push(entry.path());
        }
    }
    Ok(remove_stale(temps.into_iter()))
}

/// Remove those of `temps` (our temp file names) that are regular files
/// old enough to be left by a crash; returns how many went.
pub(crate) fn remove_stale(temps: impl Iterator<Item = PathBuf>) -> usize {
    let now = SystemTime::now();
    let mut removed = 0;
    for path in temps {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_file() && is_old(&meta, now) && fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// vdirsyncer-style ETag of a file: `<mtime_ns>;<inode>` (R9.12).
/// The identity of a file for caches (size, mtime, ctime, inode).
pub(crate) fn stamp(meta: &Metadata) -> crate::domain::ports::FileStamp {
    let ns = |secs: i64, nsec: i64| secs.saturating_mul(1_000_000_000).saturating_add(nsec);
    crate::domain::ports::FileStamp {
        size: meta.len(),
        mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
        ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        ino: meta.ino(),
    }
}

pub(crate) fn etag(meta: &Metadata) -> String {
    let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    format!("{mtime_ns};{}", meta.ino())
}

/// All of the file at `path` when it holds at most `limit` bytes; `None`
/// when it is larger, whether its stat says so (it is then not read) or it
/// grew past the limit while being read (R9.8: refused whole).
pub(crate) fn read_at_most(path: &Path, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Ok(None);
    }
    let data = read_whole(&mut file, size, limit)?;
    Ok((data.len() <= limit).then_some(data))
}

/// All of `file`, which had `size` bytes when it was stat'ed: read until
/// the end (it may have grown or shrunk since), or until more than `limit`
/// bytes were read (the caller refuses those). One read for a file that
/// did not change, and one more to see its end: `read_to_end` stats the
/// file again and seeks to size its buffer (on a `File`), or grows it from
/// 32 bytes, one read per doubling (on a `Take`); a listing reads every
/// invitation and every calendar file this way.
pub(crate) fn read_whole(file: &mut File, size: u64, limit: usize) -> io::Result<Vec<u8>> {
    let cap = limit.saturating_add(1);
    let first = usize::try_from(size).unwrap_or(usize::MAX).min(limit);
    let mut buf = vec![0u8; first.saturating_add(1)];
    let mut len = 0;
    while len < cap {
        if len == buf.len() {
            buf.resize(len.saturating_mul(2).max(4096).min(cap), 0);
        }
        let Some(spare) = buf.get_mut(len..) else {
            break;
        };
        match file.read(spare) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::{read_at_most, read_whole};
    use std::io::Write;

    /// A file read by the size it was stat'ed at is read whole even when
    /// it grew or shrank since (an editor or vdirsyncer writing it), an
    /// empty one is empty, and reading stops one byte past the limit.
    #[test]
    fn a_file_is_read_whole_whatever_size_it_was_stated_at() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ics");
        let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&body)
            .unwrap();
        for stated in [0u64, 1, 4095, 4096, 19_999, 20_000, 20_001, 1 << 20] {
            let mut f = std::fs::File::open(&path).unwrap();
            let read = read_whole(&mut f, stated, usize::MAX).unwrap();
            assert_eq!(read, body, "stated {stated}");
            for limit in [0usize, 1, 4096, 19_999] {
                let mut f = std::fs::File::open(&path).unwrap();
                let read = read_whole(&mut f, stated, limit).unwrap();
                assert_eq!(read.len(), limit + 1, "stated {stated}, limit {limit}");
                assert_eq!(read[..], body[..=limit]);
            }
            let mut f = std::fs::File::open(&path).unwrap();
            assert_eq!(read_whole(&mut f, stated, 20_000).unwrap(), body);
        }
        std::fs::write(&path, b"").unwrap();
        let mut f = std::fs::File::open(&path).unwrap();
        assert!(read_whole(&mut f, 10, usize::MAX).unwrap().is_empty());
    }

    /// A file within the limit is read whole; one byte over is refused.
    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        std::fs::write(&path, vec![b'x'; 1000]).unwrap();
        assert_eq!(
            read_at_most(&path, 1000).unwrap().map(|d| d.len()),
            Some(1000)
        );
        assert_eq!(read_at_most(&path, 999).unwrap(), None);
        assert!(read_at_most(&dir.path().join("gone"), 10).is_err());
    }
}
