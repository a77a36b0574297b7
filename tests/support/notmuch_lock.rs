//! Another process holding a notmuch database's write lock, for tests of
//! the "waiting for the notmuch database" state: `notmuch tag --batch`
//! opens the database read-write and holds the lock until its stdin closes.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

pub struct LockHolder {
    child: Child,
}

impl LockHolder {
    /// Start the holder on the private database `database` (the directory
    /// holding `.notmuch/`) and wait until /proc/locks shows the lock.
    pub fn start(database: &Path) -> LockHolder {
        let child = Command::new("notmuch")
            .args(["--config=", "tag", "--batch"])
            .env("NOTMUCH_DATABASE", database)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn notmuch tag --batch");
        let holder = LockHolder { child };
        let flintlock = database.join(".notmuch/xapian/flintlock");
        let deadline = Instant::now() + WAIT;
        while !write_locked(&flintlock) {
            assert!(
                Instant::now() < deadline,
                "notmuch tag --batch did not take the write lock within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        holder
    }

    /// Close its stdin: it finishes, closes the database and exits.
    pub fn release(mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    assert!(status.success(), "notmuch tag --batch: {status}");
                    return;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                other => panic!("notmuch tag --batch did not exit: {other:?}"),
            }
        }
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        // Only when a failed assertion left it running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether /proc/locks shows a write lock on `file` (Xapian's lock is an
/// OFD or POSIX lock on `flintlock`).
pub fn write_locked(file: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(file) else {
        return false;
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return false;
    };
    let inode = format!(":{} ", meta.ino());
    locks
        .lines()
        .any(|l| l.contains(" WRITE ") && l.contains(&inode))
}
