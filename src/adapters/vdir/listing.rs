//! Listing a vdir: its object files (name, inode, whether the directory
//! says it is a plain file) and its temp files, then one `statx` per object
//! file, relative to the directory, on every core.
//!
//! A directory's ctime changes whenever an entry is created, removed or
//! renamed in it, and no program can set it back. So while the directory's
//! identity (device, inode, mtime, ctime) is what it was at the last
//! listing, its entries are the same, and the names saved then serve
//! instead of reading the directory again (`getdents64` costs about a
//! fifth of a large calendar's scan). Each file is still stat'ed: an edit
//! in place changes no directory, only the file. A listing taken while the
//! directory had just changed (within the racy window, when another change
//! could leave the same timestamps) is not saved; nor is one with temp
//! files (they are to be swept, which changes the directory).

use super::is_object_name;
use crate::adapters::cache::FileCache;
use crate::adapters::fsutil;
#[cfg(doc)]
use crate::domain::ports::RACY_WINDOW_NS;
use crate::domain::ports::{CacheStore, FileStamp};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, StatxFlags};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One object file as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) ino: u64,
    /// The directory says it is a plain file (else it is a symlink, or of
    /// a type the file system does not report, and is stat'ed through).
    pub(super) plain: bool,
}

/// A directory's object files (sorted by name) and temp files.
#[derive(Debug)]
pub(super) struct Listing {
    /// The directory, open: files are stat'ed relative to it.
    pub(super) dir: File,
    pub(super) entries: Vec<Entry>,
    pub(super) temps: Vec<PathBuf>,
    /// The entries came from the names saved at an earlier listing.
    pub(super) from_saved: bool,
}

/// What identifies a directory's entries: any entry created, removed or
/// renamed changes its ctime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DirStamp {
    dev: u64,
    ino: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

/// The format of a saved listing; another is replaced quietly.
const MAGIC: &[u8; 16] = b"rsvp-vdir-names1";

/// List `dir`: from the names saved in `saved` while the directory is
/// unchanged since, else by reading it (and saving what was read when
/// that can be trusted later).
/// `settle_ns`: how long the directory must have been unchanged for a
/// listing to be saved ([`RACY_WINDOW_NS`] but in tests).
pub(super) fn list(dir: &Path, saved: Option<&FileCache>, settle_ns: i64) -> io::Result<Listing> {
    let file = File::open(dir)?;
    let meta = file.metadata()?;
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    let stamp = DirStamp {
        dev: meta.dev(),
        ino: meta.ino(),
        mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
        ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
    };
    let key = saved_name(dir);
    if let Some(cache) = saved
        && let Some(entries) = load(cache, &key, dir, stamp)
    {
        return Ok(Listing {
            dir: file,
            entries,
            temps: Vec::new(),
            from_saved: true,
        });
    }
    let (mut entries, temps) = read(&file, dir)?;
    // Sorted by name once here, so a listing from the saved names comes
    // sorted for free.
    entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(i64::MAX, |d| {
            i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
        });
    let settled = stamp.mtime_ns.max(stamp.ctime_ns).saturating_add(settle_ns) <= now_ns;
    if let Some(cache) = saved
        && settled
        && temps.is_empty()
    {
        // Losing it costs a directory read next time, nothing else.
        let _ = save(cache, &key, dir, stamp, &entries);
    }
    Ok(Listing {
        dir: file,
        entries,
        temps,
        from_saved: false,
    })
}

/// Read the directory: its object files and its temp files.
fn read(file: &File, dir: &Path) -> io::Result<(Vec<Entry>, Vec<PathBuf>)> {
    let mut entries = Vec::new();
    let mut temps = Vec::new();
    let mut reader = rustix::fs::Dir::read_from(file)?;
    while let Some(entry) = reader.read() {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        let kind = entry.file_type();
        if is_object_name(name) {
            // Directories, devices and the like are never objects.
            if matches!(
                kind,
                FileType::RegularFile | FileType::Symlink | FileType::Unknown
            ) {
                entries.push(Entry {
                    name: name.to_string(),
                    ino: entry.ino(),
                    plain: kind == FileType::RegularFile,
                });
            }
        } else if fsutil::is_temp_name(name) {
            temps.push(dir.join(name));
        }
    }
    Ok((entries, temps))
}

/// Every entry that is a plain file (following symlinks) with its stamp,
/// in order (see [`stamp_each`]); the names are moved, not copied.
pub(super) fn stamp_all(listing_dir: &File, entries: Vec<Entry>) -> Vec<(String, FileStamp)> {
    let stamps = stamp_each(listing_dir, &entries, |e| e);
    let mut out = Vec::with_capacity(entries.len());
    for (e, stamp) in entries.into_iter().zip(stamps) {
        if let Some(stamp) = stamp {
            out.push((e.name, stamp));
        }
    }
    out
}

/// A handle of this thread's own on the directory `listed` is open on
/// (opened through it, so it is the same directory even if its path was
/// renamed since): threads sharing one descriptor contend on its
/// reference count at every `statx`.
pub(super) fn own_handle(listed: &File) -> Option<OwnedFd> {
    rustix::fs::openat(
        listed,
        ".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// The stamp of each of `items` that is a plain file (following symlinks,
/// as vdirsyncer does), in order; `None` for one that is gone or is not
/// a file. Spread over the cores, each thread with its own handle on the
/// directory (one shared descriptor is a contended reference count).
pub(super) fn stamp_each<T: Sync>(
    listing_dir: &File,
    items: &[T],
    entry: impl Fn(&T) -> &Entry + Sync,
) -> Vec<Option<FileStamp>> {
    super::on_every_core(items, 1024, |chunk| {
        let own = own_handle(listing_dir);
        let fd = own
            .as_ref()
            .map_or_else(|| listing_dir.as_fd(), AsFd::as_fd);
        chunk.iter().map(|item| stamp_at(fd, entry(item))).collect()
    })
}

fn stamp_at(dir: std::os::fd::BorrowedFd<'_>, entry: &Entry) -> Option<FileStamp> {
    let flags = if entry.plain {
        AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC
    } else {
        AtFlags::STATX_DONT_SYNC
    };
    let mask = StatxFlags::TYPE
        | StatxFlags::SIZE
        | StatxFlags::MTIME
        | StatxFlags::CTIME
        | StatxFlags::INO;
    let st = rustix::fs::statx(dir, entry.name.as_str(), flags, mask).ok()?;
    if FileType::from_raw_mode(u32::from(st.stx_mode)) != FileType::RegularFile {
        return None;
    }
    let ns = |t: rustix::fs::StatxTimestamp| {
        t.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(t.tv_nsec))
    };
    Some(FileStamp {
        size: st.stx_size,
        mtime_ns: ns(st.stx_mtime),
        ctime_ns: ns(st.stx_ctime),
        ino: st.stx_ino,
    })
}

/// The cache file of `dir`'s saved names (by a hash of its path; the path
/// is inside too).
fn saved_name(dir: &Path) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.as_os_str().as_bytes().hash(&mut h);
    format!("vdir-names-{:016x}.bin", h.finish())
}

fn save(
    cache: &FileCache,
    key: &str,
    dir: &Path,
    stamp: DirStamp,
    entries: &[Entry],
) -> Result<(), String> {
    let path = dir.as_os_str().as_bytes();
    let mut out = Vec::with_capacity(64 + path.len() + entries.len() * 48);
    out.extend_from_slice(MAGIC);
    put_bytes(&mut out, path)?;
    for n in [stamp.dev, stamp.ino] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    for n in [stamp.mtime_ns, stamp.ctime_ns] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    let count = u32::try_from(entries.len()).map_err(|e| e.to_string())?;
    out.extend_from_slice(&count.to_le_bytes());
    for e in entries {
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.push(u8::from(e.plain));
        put_bytes(&mut out, e.name.as_bytes())?;
    }
    cache.save(key, &out)
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), String> {
    let len = u32::try_from(bytes.len()).map_err(|e| e.to_string())?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// The names saved for `dir` if it is unchanged since (`None`: none saved,
/// another directory's or format's, corrupt, or the directory changed).
fn load(cache: &FileCache, key: &str, dir: &Path, stamp: DirStamp) -> Option<Vec<Entry>> {
    let data = cache.load(key).ok()??;
    let mut r = Reader(&data);
    if r.take(MAGIC.len())? != MAGIC || r.bytes()? != dir.as_os_str().as_bytes() {
        return None;
    }
    let saved = DirStamp {
        dev: r.u64()?,
        ino: r.u64()?,
        mtime_ns: i64::from_le_bytes(r.array()?),
        ctime_ns: i64::from_le_bytes(r.array()?),
    };
    if saved != stamp {
        return None;
    }
    let count = usize::try_from(u32::from_le_bytes(r.array()?)).ok()?;
    let mut entries = Vec::with_capacity(count.min(data.len() / 13));
    for _ in 0..count {
        let ino = r.u64()?;
        let plain = match r.take(1)? {
            [0] => false,
            [1] => true,
            _ => return None,
        };
        let name = std::str::from_utf8(r.bytes()?).ok()?;
        if !is_object_name(name) {
            return None;
        }
        entries.push(Entry {
            name: name.to_string(),
            ino,
            plain,
        });
    }
    r.0.is_empty().then_some(entries)
}

/// Reads a saved listing front to back; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| <[u8; N]>::try_from(b).ok())
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(u32::from_le_bytes(self.array()?)).ok()?;
        self.take(n)
    }
}
