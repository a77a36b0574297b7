//! Running one process with a timeout, its wall time and peak RSS (from
//! `wait4`), and the statistics of several runs.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Ok,
    /// Exit code (or 128 + signal) and the end of stderr.
    Failed(i32, String),
    TimedOut,
    /// Could not start (missing program).
    NotStarted(String),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub wall: Duration,
    /// Peak resident set of the child (and the children it waited for), KiB.
    pub maxrss_kib: i64,
    pub status: Status,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }
    pub fn secs(&self) -> f64 {
        self.wall.as_secs_f64()
    }
}

/// Run `cmd` (stdin from /dev/null; stdout and stderr as the caller set
/// them, else discarded) in its own process group; kill the group after
/// `timeout`. `stderr_file`, when given, is where stderr went (read for the
/// failure text).
pub fn run(cmd: &mut Command, timeout: Duration, stderr_file: Option<&std::path::Path>) -> Outcome {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null()).process_group(0);
    let start = Instant::now();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                wall: Duration::ZERO,
                maxrss_kib: 0,
                status: Status::NotStarted(format!("{:?}: {e}", cmd.get_program())),
            };
        }
    };
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain old data; wait4 fills it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let end = Instant::now();
        let _ = tx.send((r, end, status, usage.ru_maxrss));
    });
    let (timed_out, got) = match rx.recv_timeout(timeout) {
        Ok(got) => (false, Some(got)),
        Err(_) => {
            // SAFETY: signalling our own process group.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            (true, rx.recv().ok())
        }
    };
    drop(child);
    let Some((r, end, status, maxrss)) = got else {
        return Outcome {
            wall: start.elapsed(),
            maxrss_kib: 0,
            status: Status::NotStarted("wait4 thread lost".into()),
        };
    };
    let wall = end - start;
    let status = if timed_out {
        Status::TimedOut
    } else if r < 0 {
        Status::Failed(-1, "wait4 failed".into())
    } else if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Status::Ok
    } else {
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        };
        let tail = stderr_file
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|s| {
                let s = s.trim();
                s[s.len().saturating_sub(300)..].replace('\n', " / ")
            })
            .unwrap_or_default();
        Status::Failed(code, tail)
    };
    Outcome {
        wall,
        maxrss_kib: maxrss,
        status,
    }
}

/// Median, min and max of some seconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

pub fn stats(xs: &[f64]) -> Option<Stats> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Stats {
        median,
        min: v[0],
        max: v[n - 1],
        n,
    })
}

/// `1.23 s` / `45.6 ms`.
pub fn dur(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

pub fn cell(st: &Stats) -> String {
    if st.n == 1 {
        format!("{} (n=1)", dur(st.median))
    } else {
        format!(
            "{} ({}–{}, n={})",
            dur(st.median),
            dur(st.min),
            dur(st.max),
            st.n
        )
    }
}

pub fn mib(kib: i64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
