//! The real binary in tmux: launch → first row, and `a` → the reply at a
//! loopback SMTP server (tests/support/smtp_server.py under /usr/bin/python3).

use super::{Bench, Row, rm, say, tool_ok, verdict};
use crate::measure::{Stats, cell, dur, stats};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the pane is captured while waiting (each capture itself takes
/// a few ms, which bounds the resolution).
const POLL: Duration = Duration::from_millis(2);
/// Longer than rsvp's racy window (3 s): files older than this are trusted by stamp.
const RACY_AGE: Duration = Duration::from_millis(3200);

pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn mtime_secs(p: &Path) -> Option<f64> {
    std::fs::metadata(p)
        .ok()?
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A loopback SMTP sink; killed on drop.
pub struct Smtp {
    child: Child,
    pub port: u16,
    pub spool: PathBuf,
}

impl Smtp {
    pub fn start(dir: &Path) -> Result<Smtp, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let spool = dir.join("smtp-spool");
        let _ = std::fs::remove_dir_all(&spool);
        std::fs::create_dir_all(&spool).map_err(|e| format!("{}: {e}", spool.display()))?;
        let port_file = dir.join("smtp-port");
        let _ = std::fs::remove_file(&port_file);
        let log = std::fs::File::create(dir.join("smtp.log")).map_err(|e| e.to_string())?;
        let child = Command::new("/usr/bin/python3")
            .arg(&script)
            .args(["--port", "0", "--port-file"])
            .arg(&port_file)
            .arg("--spool")
            .arg(&spool)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("/usr/bin/python3 {}: {e}", script.display()))?;
        let mut smtp = Smtp {
            child,
            port: 0,
            spool,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                smtp.port = port;
                return Ok(smtp);
            }
            if let Ok(Some(st)) = smtp.child.try_wait() {
                return Err(format!(
                    "smtp_server.py exited ({st}); see {}",
                    dir.join("smtp.log").display()
                ));
            }
            if Instant::now() > deadline {
                return Err("smtp_server.py did not write its port within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Arrival times (mtime of `N.json`, written once the message is
    /// accepted) of every message so far.
    pub fn arrivals(&self) -> Vec<f64> {
        let mut v: Vec<f64> = std::fs::read_dir(&self.spool)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .filter_map(|p| mtime_secs(&p))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// One tmux server running rsvp; killed on drop.
pub struct Pane {
    socket: String,
    dir: PathBuf,
}

pub struct Launch {
    pub pane: Pane,
    /// Wall clock (s since epoch) right before `exec rsvp`, from the pane.
    pub stamp_file: PathBuf,
}

impl Pane {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"])
            .env("TMUX_TMPDIR", &self.dir)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Start `bin` (no arguments: the inbox) in a 120×40 pane with `env`;
    /// the pane script writes the launch time just before `exec`.
    pub fn launch(
        dir: &Path,
        n: usize,
        bin: &Path,
        env: &[(String, String)],
    ) -> Result<Launch, String> {
        let socket = format!("rsvp-bench-{}-{n}", std::process::id());
        let stamp_file = dir.join(format!("launch-{n}"));
        let _ = std::fs::remove_file(&stamp_file);
        let mut script = String::from(
            "unset TMUX TMUX_PANE NOTMUCH_CONFIG NOTMUCH_DATABASE NO_COLOR RSVP_CONFIG\n",
        );
        for (k, v) in env {
            script.push_str(&format!("export {k}={}\n", quote(v)));
        }
        script.push_str(&format!(
            "date +%s.%N > {}\nexec {}\n",
            quote(&stamp_file.to_string_lossy()),
            quote(&bin.to_string_lossy())
        ));
        let script_path = dir.join(format!("pane-{n}.sh"));
        std::fs::write(&script_path, script).map_err(|e| e.to_string())?;
        let pane = Pane {
            socket,
            dir: dir.to_path_buf(),
        };
        let out = pane
            .cmd()
            .args(["new-session", "-d", "-s", "rsvp", "-x", "120", "-y", "40"])
            .arg(format!("sh {}", quote(&script_path.to_string_lossy())))
            .output()
            .map_err(|e| format!("tmux: {e}"))?;
        if !out.status.success() {
            return Err(format!("tmux new-session failed ({})", out.status));
        }
        Ok(Launch { pane, stamp_file })
    }

    pub fn screen(&self) -> String {
        self.cmd()
            .args(["capture-pane", "-p", "-t", "rsvp"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    pub fn key(&self, key: &str) -> bool {
        self.cmd()
            .args(["send-keys", "-t", "rsvp", key])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Poll until the list shows its first row (the selected row, `>`
    /// then a status word, below the `STATUS DATE` header); returns the
    /// wall-clock time it was seen and the screen.
    pub fn wait_first_row(&self, timeout: Duration) -> Result<(f64, String), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if first_row(&screen).is_some() {
                return Ok((now_secs(), screen));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no first row after {timeout:?}; the screen shows: {}",
                    screen.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// The selected row of the list, if the list is drawn.
pub fn first_row(screen: &str) -> Option<String> {
    let mut header = false;
    for line in screen.lines() {
        if line.contains("STATUS") && line.contains("TITLE") {
            header = true;
            continue;
        }
        if header && line.starts_with('>') && line.len() > 12 {
            return Some(line.trim_end().to_string());
        }
    }
    None
}

pub fn read_stamp(p: &Path) -> Option<f64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

impl Bench {
    /// Launch → first row and `a` → SMTP, in the same launches (last:
    /// answering changes the private database and the calendar copy).
    pub(crate) fn tui_figures(&mut self) {
        let first_fig = "TUI: launch → first row (tmux 120×40, warm cache)";
        let a_fig = "TUI: `a` on the first row right after launch → reply at SMTP";
        if !tool_ok("tmux", &["-V"]) {
            self.skip_row(first_fig, "tmux missing (Debian package tmux)");
            self.skip_row(a_fig, "tmux missing");
            return;
        }
        if self.too_slow.contains(&self.opts.events) {
            self.skip_row(first_fig, "the listing at this size timed out");
            self.skip_row(a_fig, "the listing at this size timed out");
            return;
        }
        let smtp = if tool_ok("/usr/bin/python3", &["-c", "import aiosmtpd"]) {
            match Smtp::start(&self.run) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.note(&format!("SMTP server: {e}"));
                    None
                }
            }
        } else {
            self.note("/usr/bin/python3 with aiosmtpd missing (Debian package python3-aiosmtpd)");
            None
        };
        // The TUI answers into a hard-linked copy of the calendar (rsvp
        // writes by rename, so the generated vdir stays as it is).
        let cal = self.run.join("cal-tui");
        rm(&cal);
        let linked = Command::new("cp")
            .arg("-al")
            .arg(self.calendar(self.opts.events))
            .arg(&cal)
            .status()
            .is_ok_and(|s| s.success());
        if !linked {
            self.skip_row(first_fig, "could not copy the calendar");
            return;
        }
        let text = self
            .config_text("private", self.opts.events, smtp.as_ref().map(|s| s.port))
            .replace(
                &format!("path = \"{}\"", self.calendar(self.opts.events).display()),
                &format!("path = \"{}\"", cal.display()),
            );
        if fs::write(self.run.join("config/rsvp/config.toml"), text).is_err() {
            self.skip_row(first_fig, "could not write the config");
            return;
        }
        let timeout = self.opts.timeout;
        // The copy changed every file's ctime: rsvp does not trust a file
        // changed within 3 s of reading it ("racy"), so the copy is left
        // to age past that before the cache is filled from it; otherwise
        // every launch below would read the whole calendar again.
        let copied = Instant::now();
        while copied.elapsed() < RACY_AGE {
            std::thread::sleep(Duration::from_millis(50));
        }
        // One untimed listing with this configuration fills the cache (a
        // TUI launch paints from the cache and may be ended before its own
        // listing has saved anything), then one untimed launch.
        let filled = self
            .command(&self.bin)
            .args(["list", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !filled {
            self.skip_row(first_fig, "the untimed listing that fills the cache failed");
            return;
        }
        let env = self.env();
        match Pane::launch(&self.run, 999, &self.bin, &env) {
            Ok(l) => match l.pane.wait_first_row(timeout) {
                Ok(_) => say("TUI warm-up launch showed its first row"),
                Err(e) => {
                    self.skip_row(first_fig, &format!("warm-up launch: {e}"));
                    return;
                }
            },
            Err(e) => {
                self.skip_row(first_fig, &e);
                return;
            }
        }
        let mut firsts = Vec::new();
        let mut sends = Vec::new();
        let mut problems = Vec::new();
        let mut limit = self.opts.runs;
        let mut k = 0;
        while k < limit {
            let launch = match Pane::launch(&self.run, k, &self.bin, &env) {
                Ok(l) => l,
                Err(e) => {
                    problems.push(e);
                    break;
                }
            };
            let seen = launch.pane.wait_first_row(timeout);
            let (seen_at, screen) = match seen {
                Ok(x) => x,
                Err(e) => {
                    problems.push(e);
                    break;
                }
            };
            let before = smtp.as_ref().map(|s| s.arrivals().len()).unwrap_or(0);
            let pressed = now_secs();
            launch.pane.key("a");
            let Some(started) = read_stamp(&launch.stamp_file) else {
                problems.push("the pane wrote no launch time".into());
                break;
            };
            let first = seen_at - started;
            firsts.push(first);
            let row = first_row(&screen).unwrap_or_default();
            say(&format!("TUI #{k}: first row after {} — {row}", dur(first)));
            if let Some(smtp) = &smtp {
                let deadline = Instant::now() + timeout;
                loop {
                    let got = smtp.arrivals();
                    if got.len() > before {
                        let t = got[before] - pressed;
                        say(&format!("TUI #{k}: reply at SMTP {} after `a`", dur(t)));
                        sends.push(t);
                        break;
                    }
                    if Instant::now() > deadline {
                        let s = launch.pane.screen();
                        let status: Vec<&str> = s.lines().rev().take(3).collect();
                        problems.push(format!(
                            "no reply at SMTP {} after `a`; status: {}",
                            dur(timeout.as_secs_f64()),
                            status
                                .join(" / ")
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" ")
                        ));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            let _ = writeln!(
                self.details,
                "- TUI run {k}: first row {} ({row}){}",
                dur(first),
                sends
                    .get(k)
                    .map(|t| format!(", `a` → SMTP {}", dur(*t)))
                    .unwrap_or_default()
            );
            if k == 0 && first > self.opts.slow_secs && self.opts.slow_runs < limit {
                limit = self.opts.slow_runs;
                self.note(&format!(
                    "TUI: first launch took more than {} s, so {limit} runs",
                    self.opts.slow_secs
                ));
            }
            k += 1;
            if problems.len() > 1 {
                break;
            }
        }
        let row = |fig: &str, xs: &[f64], problems: &[String]| -> Row {
            let st: Option<Stats> = stats(xs);
            Row {
                figure: fig.into(),
                rsvp: match (st, problems.first()) {
                    (Some(s), None) => cell(&s),
                    (Some(s), Some(p)) => format!("{} + {p}", cell(&s)),
                    (None, Some(p)) => p.clone(),
                    (None, None) => "not run".into(),
                },
                floor: "—".into(),
                ratio: "—".into(),
                target: "≤ 100 ms".into(),
                met: st
                    .map(|s| verdict(s.median, 0.1))
                    .unwrap_or_else(|| "—".into()),
            }
        };
        let r = row(first_fig, &firsts, &problems);
        self.rows.push(r);
        if smtp.is_some() {
            let r = row(a_fig, &sends, &problems);
            self.rows.push(r);
        } else {
            self.skip_row(a_fig, "no SMTP server (see notes)");
        }
    }
}
