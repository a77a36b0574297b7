//! The inbox benchmark (issue 6): `cargo bench --bench inbox`.
//!
//! Measures the release binary from outside, through its command line and
//! the TUI in tmux, against notmuch and the floor
//! (`notmuch search --output=files 'mimetype:text/calendar' | xargs cat`),
//! and prints one table: figure | rsvp | floor | ratio | target | met?.
//! See `benches/README.md` for what each row measures, the environment
//! variables and the recorded numbers.

// wait4(2) for a child's peak RSS and kill(2) of its process group have no
// safe std API; the crate itself denies unsafe code (Cargo.toml [lints]).
#![allow(unsafe_code)]
// A measuring harness, like test code: a panic is how it fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

mod corpus;
mod measure;
mod tui;

use measure::{Outcome, Status, cell, dur, mib, stats};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

struct Opts {
    messages: usize,
    invites: usize,
    events: usize,
    /// Calendar sizes of the growth rows (the invitations stay the same).
    growth: Vec<usize>,
    runs: usize,
    /// Runs of a figure whose first rsvp run took longer than `slow_secs`.
    slow_runs: usize,
    slow_secs: f64,
    index_runs: usize,
    timeout: Duration,
    skip: Vec<String>,
}

impl Opts {
    fn from_env() -> Opts {
        let events = env_usize("RSVP_BENCH_EVENTS", 20_000);
        let growth = std::env::var("RSVP_BENCH_GROWTH")
            .ok()
            .map(|v| {
                v.split(',')
                    .filter_map(|s| s.trim().replace('_', "").parse().ok())
                    .collect()
            })
            .unwrap_or_else(|| vec![2_000, 20_000, 100_000]);
        let runs = env_usize("RSVP_BENCH_RUNS", 5).max(1);
        Opts {
            messages: env_usize("RSVP_BENCH_MESSAGES", 100_000),
            invites: env_usize("RSVP_BENCH_INVITES", 2_000),
            events,
            growth,
            runs,
            slow_runs: env_usize("RSVP_BENCH_SLOW_RUNS", 3).clamp(1, runs),
            slow_secs: env_usize("RSVP_BENCH_SLOW_SECS", 20) as f64,
            index_runs: env_usize("RSVP_BENCH_INDEX_RUNS", runs).max(1),
            timeout: Duration::from_secs(env_usize("RSVP_BENCH_TIMEOUT", 300) as u64),
            skip: std::env::var("RSVP_BENCH_SKIP")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
    fn skips(&self, group: &str) -> bool {
        self.skip.iter().any(|s| s == group)
    }
}

/// One line of the table.
struct Row {
    figure: String,
    rsvp: String,
    floor: String,
    ratio: String,
    target: String,
    met: String,
}

/// One timed run of one side of a figure; the argument is the run number.
type Runner<'a> = &'a mut dyn FnMut(&Bench, usize) -> Outcome;

/// The A and B runs of one figure, interleaved A B A B.
#[derive(Default)]
struct Pairs {
    a: Vec<Outcome>,
    b: Vec<Outcome>,
}

impl Pairs {
    fn ok_a(&self) -> Vec<f64> {
        self.a
            .iter()
            .filter(|o| o.ok())
            .map(Outcome::secs)
            .collect()
    }
    fn ok_b(&self) -> Vec<f64> {
        self.b
            .iter()
            .filter(|o| o.ok())
            .map(Outcome::secs)
            .collect()
    }
    fn maxrss_a(&self) -> i64 {
        self.a.iter().map(|o| o.maxrss_kib).max().unwrap_or(0)
    }
    fn maxrss_b(&self) -> i64 {
        self.b.iter().map(|o| o.maxrss_kib).max().unwrap_or(0)
    }
    /// The first failure of side A, described.
    fn a_problem(&self, timeout: Duration) -> Option<String> {
        problem(&self.a, timeout)
    }
    fn b_problem(&self, timeout: Duration) -> Option<String> {
        problem(&self.b, timeout)
    }
}

fn problem(v: &[Outcome], timeout: Duration) -> Option<String> {
    v.iter().find_map(|o| match &o.status {
        Status::Ok => None,
        Status::TimedOut => Some(format!("TIMEOUT (> {})", dur(timeout.as_secs_f64()))),
        Status::Failed(code, msg) => Some(format!("FAILED (exit {code}): {msg}")),
        Status::NotStarted(msg) => Some(format!("NOT RUN: {msg}")),
    })
}

struct Bench {
    opts: Opts,
    bin: PathBuf,
    /// target/bench-data/m<M>-i<I>
    data: PathBuf,
    /// target/bench-data/m<M>-i<I>/run: HOME, XDG dirs, databases (wiped per invocation).
    run: PathBuf,
    rows: Vec<Row>,
    details: String,
    notes: Vec<String>,
    have_notmuch: bool,
    /// GNU time is there: peak RSS comes from `/usr/bin/time -f %M`.
    have_time: bool,
    /// Warm-list medians by calendar size, for the growth rows.
    warm_by_events: Vec<(usize, f64)>,
    /// Calendar sizes whose listing timed out.
    too_slow: Vec<usize>,
}

fn main() {
    let opts = Opts::from_env();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rsvp"));
    // target/<profile>/rsvp → target/bench-data
    let target = bin
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"));
    let data = target
        .join("bench-data")
        .join(format!("m{}-i{}", opts.messages, opts.invites));
    let run = data.join("run");
    let mut b = Bench {
        have_notmuch: tool_ok("notmuch", &["--version"]),
        have_time: tool_ok("/usr/bin/time", &["-f", "%M", "true"]),
        opts,
        bin,
        data,
        run,
        rows: Vec::new(),
        details: String::new(),
        notes: Vec::new(),
        warm_by_events: Vec::new(),
        too_slow: Vec::new(),
    };
    if let Err(e) = b.go() {
        eprintln!("bench: {e}");
        b.notes.push(format!("aborted: {e}"));
    }
    b.report();
}

/// Median time (of 7) to do `each` to every file of `dir` by name,
/// relative to an `O_PATH` handle on the directory, spread over every
/// core.
fn on_every_file(dir: &Path, each: &(dyn Fn(&rustix::fd::OwnedFd, &str) + Sync)) -> f64 {
    use rustix::fs::{Mode, OFlags};
    let names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let share = names.len().div_ceil(cores).max(1);
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for chunk in names.chunks(share) {
                    scope.spawn(move || {
                        let fd =
                            rustix::fs::open(dir, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
                                .unwrap();
                        for n in chunk {
                            each(&fd, n);
                        }
                    });
                }
            });
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// One `statx` per file of `dir`: what a warm listing must do to see a
/// file edited in place, without anything else it does.
fn stat_every_file(dir: &Path) -> f64 {
    use rustix::fs::{AtFlags, StatxFlags};
    on_every_file(dir, &|fd, n| {
        let st = rustix::fs::statx(
            fd,
            n,
            AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC,
            StatxFlags::TYPE
                | StatxFlags::SIZE
                | StatxFlags::MTIME
                | StatxFlags::CTIME
                | StatxFlags::INO,
        );
        std::hint::black_box(st.ok());
    })
}

/// Open, read whole and close every file of `dir` (the page cache warm, as
/// for the floor): what a listing with no saved calendar index must do at
/// the least, without parsing anything.
fn read_every_file(dir: &Path) -> f64 {
    use rustix::fs::{Mode, OFlags};
    on_every_file(dir, &|fd, n| {
        let Ok(f) = rustix::fs::openat(fd, n, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        else {
            return;
        };
        let mut buf = [0u8; 64 * 1024];
        while let Ok(k) = rustix::io::read(&f, &mut buf) {
            if k == 0 {
                break;
            }
            std::hint::black_box(&buf);
        }
    })
}

fn tool_ok(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn say(msg: &str) {
    eprintln!("[{}] {msg}", chrono::Local::now().format("%H:%M:%S"));
}

fn rm(p: &Path) {
    let _ = fs::remove_dir_all(p);
}

impl Bench {
    fn go(&mut self) -> Result<(), String> {
        self.generate()?;
        rm(&self.run);
        for d in ["home", "config/rsvp", "data", "state", "cache", "tmp"] {
            fs::create_dir_all(self.run.join(d)).map_err(|e| e.to_string())?;
        }
        self.write_configs()?;
        self.warm_page_cache();
        if !self.have_notmuch {
            self.notes
                .push("notmuch (CLI) is missing: every notmuch/floor column is skipped; install the Debian package notmuch".into());
        }
        if !self.have_time {
            self.notes.push(
                "/usr/bin/time (Debian package time) is missing: peak RSS is wait4's, which \
                 never shows less than this harness's own size at the time of the spawn"
                    .into(),
            );
        }
        if self.opts.skips("index") {
            self.note("index rows skipped (RSVP_BENCH_SKIP=index); databases built untimed");
            self.index_untimed();
        } else {
            self.index_figures();
        }
        if !self.opts.skips("list") {
            self.list_figures(self.opts.events, true);
            self.list_user_db();
        }
        if !self.opts.skips("growth") {
            self.growth_figures();
        }
        if !self.opts.skips("tui") {
            self.tui_figures();
        }
        Ok(())
    }

    /// Read every generated file once, so that no figure pays for the
    /// disk: all figures run with the page cache warm.
    fn warm_page_cache(&self) {
        let t = Instant::now();
        let mut dirs = vec![self.mail().join("cur"), self.mail().join("new")];
        let mut sizes = self.opts.growth.clone();
        sizes.push(self.opts.events);
        dirs.extend(sizes.into_iter().map(|e| self.calendar(e)));
        let mut bytes = 0u64;
        for d in dirs {
            for e in fs::read_dir(&d).into_iter().flatten().flatten() {
                bytes += fs::read(e.path()).map(|b| b.len() as u64).unwrap_or(0);
            }
        }
        say(&format!(
            "page cache warmed: read {} MiB in {:.1} s",
            bytes >> 20,
            t.elapsed().as_secs_f64()
        ));
    }

    fn note(&mut self, s: &str) {
        say(s);
        self.notes.push(s.to_string());
    }

    fn mail(&self) -> PathBuf {
        self.data.join("Mail")
    }

    fn calendar(&self, events: usize) -> PathBuf {
        self.data
            .parent()
            .unwrap_or(&self.data)
            .join(format!("cal-e{}-i{}", events, self.opts.invites))
    }

    /// Generate what is missing or from another generator version.
    fn generate(&mut self) -> Result<(), String> {
        let stamp = format!("gen {} seed {:x}\n", corpus::VERSION, corpus::SEED);
        let mark = self.data.join(".generated");
        if fs::read_to_string(&mark).ok().as_deref() != Some(stamp.as_str()) {
            say(&format!(
                "generating {} messages ({} invitations) in {}",
                self.opts.messages,
                self.opts.invites,
                self.mail().display()
            ));
            rm(&self.data);
            let t = Instant::now();
            let w = corpus::maildir(&self.mail(), self.opts.messages, self.opts.invites)
                .map_err(|e| format!("generate the Maildir: {e}"))?;
            fs::write(&mark, &stamp).map_err(|e| e.to_string())?;
            say(&format!("  {w:?} in {:.1} s", t.elapsed().as_secs_f64()));
        }
        let mut sizes = self.opts.growth.clone();
        sizes.push(self.opts.events);
        sizes.sort_unstable();
        sizes.dedup();
        for e in sizes {
            let dir = self.calendar(e);
            let mark = dir.join(".generated");
            if fs::read_to_string(&mark).ok().as_deref() != Some(stamp.as_str()) {
                say(&format!(
                    "generating {e} stored events in {}",
                    dir.display()
                ));
                rm(&dir);
                corpus::vdir(&dir, e, self.opts.invites)
                    .map_err(|e| format!("generate the vdir: {e}"))?;
                fs::write(&mark, &stamp).map_err(|e| e.to_string())?;
            }
        }
        // Leftovers of an interrupted "100 new" figure.
        remove_batches(&self.mail());
        Ok(())
    }

    fn user_config_path(&self) -> PathBuf {
        self.run.join("notmuch-config")
    }

    fn rsvp_config(&self, mode: &str, events: usize) -> PathBuf {
        self.run.join(format!("rsvp-{mode}-e{events}.toml"))
    }

    fn config_text(&self, mode: &str, events: usize, smtp_port: Option<u16>) -> String {
        let mail = match mode {
            "private" => format!("maildir = \"{}\"", self.mail().display()),
            _ => format!("notmuch_config = \"{}\"", self.user_config_path().display()),
        };
        let send = match smtp_port {
            Some(port) => format!(
                "[send]\nmethod = \"smtp\"\n\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\n\
                 security = \"none\"\ntimeout_seconds = 20\n"
            ),
            None => "[send]\nmethod = \"sendmail\"\n\n[sendmail]\ncommand = \"cat\"\n".into(),
        };
        format!(
            "[identity]\nname = \"Dana User\"\naddresses = [\"{}\"]\n\n\
             [calendar]\npath = \"{}\"\nserver_scheduling = \"off\"\n\n[mail]\n{mail}\n\n{send}",
            corpus::ME,
            self.calendar(events).display()
        )
    }

    fn write_configs(&self) -> Result<(), String> {
        let nm = format!(
            "[database]\npath={}\nmail_root={}\n\n[user]\nname=Dana User\nprimary_email={}\n\n\
             [new]\ntags=unread;inbox\nignore=\n\n[search]\nexclude_tags=deleted;spam\n\n\
             [maildir]\nsynchronize_flags=true\n",
            self.run.join("notmuch-db").display(),
            self.mail().display(),
            corpus::ME
        );
        fs::write(self.user_config_path(), nm).map_err(|e| e.to_string())?;
        let mut sizes = self.opts.growth.clone();
        sizes.push(self.opts.events);
        for e in sizes {
            for mode in ["private", "user"] {
                fs::write(self.rsvp_config(mode, e), self.config_text(mode, e, None))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// HOME, XDG_* and TZ inside the run directory.
    fn env(&self) -> Vec<(String, String)> {
        let p = |s: &str| self.run.join(s).to_string_lossy().into_owned();
        vec![
            ("HOME".into(), p("home")),
            ("XDG_CONFIG_HOME".into(), p("config")),
            ("XDG_DATA_HOME".into(), p("data")),
            ("XDG_STATE_HOME".into(), p("state")),
            ("XDG_CACHE_HOME".into(), p("cache")),
            ("TMPDIR".into(), p("tmp")),
            ("TZ".into(), "Europe/Berlin".into()),
            ("TERM".into(), "xterm-256color".into()),
        ]
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_remove("NOTMUCH_CONFIG")
            .env_remove("NOTMUCH_DATABASE")
            .env_remove("RSVP_CONFIG")
            .env_remove("NO_COLOR")
            .current_dir(&self.run);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    fn out_file(&self, name: &str) -> PathBuf {
        self.run.join(format!("out-{name}"))
    }

    /// One timed run of `cmd`, stdout and stderr to files named after `tag`.
    fn timed(&self, cmd: Command, tag: &str, timeout: Duration) -> Outcome {
        let err = self.out_file(&format!("{tag}.err"));
        let rss = self.out_file(&format!("{tag}.rss"));
        let _ = fs::remove_file(&rss);
        let mut cmd = if self.have_time {
            with_time(&cmd, &rss)
        } else {
            cmd
        };
        match (fs::File::create(self.out_file(tag)), fs::File::create(&err)) {
            (Ok(o), Ok(e)) => {
                cmd.stdout(o).stderr(e);
            }
            _ => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let mut o = measure::run(&mut cmd, timeout, Some(&err));
        if let Some(kib) = fs::read_to_string(&rss)
            .ok()
            .and_then(|t| t.lines().rev().find_map(|l| l.trim().parse::<i64>().ok()))
        {
            o.maxrss_kib = kib;
        }
        o
    }

    fn rsvp(&self, args: &[&str], config: Option<&Path>) -> Command {
        let mut c = self.command(&self.bin);
        if let Some(cfg) = config {
            c.arg("--config").arg(cfg);
        }
        c.args(args);
        c
    }

    fn notmuch_new(&self) -> Command {
        let mut c = self.command(Path::new("notmuch"));
        c.env("NOTMUCH_CONFIG", self.user_config_path()).arg("new");
        c
    }

    /// The floor over the private database (`private`) or the user's.
    fn floor(&self, private: bool) -> Command {
        let mut c = self.command(Path::new("sh"));
        if private {
            c.env("NOTMUCH_DATABASE", self.run.join("data/rsvp/notmuch"))
                .args([
                    "-c",
                    "notmuch --config= search --output=files 'mimetype:text/calendar' | xargs cat",
                ]);
        } else {
            c.env("NOTMUCH_CONFIG", self.user_config_path()).args([
                "-c",
                "notmuch search --output=files 'mimetype:text/calendar' | xargs cat",
            ]);
        }
        c
    }

    /// Run A and B interleaved. Fewer runs when the first A is slow; stop
    /// at the first A that fails or times out.
    fn pairs(
        &mut self,
        label: &str,
        runs: usize,
        a: Runner<'_>,
        mut b: Option<Runner<'_>>,
    ) -> Pairs {
        let mut p = Pairs::default();
        let mut limit = runs;
        let mut k = 0;
        while k < limit {
            let oa = a(self, k);
            say(&format!(
                "{label} #{k} rsvp: {} {:?} rss {}",
                dur(oa.secs()),
                oa.status,
                mib(oa.maxrss_kib)
            ));
            let a_ok = oa.ok();
            let slow = oa.secs() > self.opts.slow_secs;
            p.a.push(oa);
            if let Some(b) = b.as_mut() {
                let ob = b(self, k);
                say(&format!(
                    "{label} #{k} other: {} {:?} rss {}",
                    dur(ob.secs()),
                    ob.status,
                    mib(ob.maxrss_kib)
                ));
                p.b.push(ob);
            }
            if !a_ok {
                break;
            }
            if k == 0 && slow && self.opts.slow_runs < limit {
                limit = self.opts.slow_runs;
                let note = format!(
                    "{label}: first rsvp run took more than {} s, so {limit} runs instead of {runs}",
                    self.opts.slow_secs
                );
                self.note(&note);
            }
            k += 1;
        }
        let _ = writeln!(self.details, "- {label}:");
        for (k, oa) in p.a.iter().enumerate() {
            let ob = p.b.get(k);
            let _ = writeln!(
                self.details,
                "  - pair {k}: rsvp {} ({}){}{}",
                dur(oa.secs()),
                mib(oa.maxrss_kib),
                ob.map(|o| format!(", other {} ({})", dur(o.secs()), mib(o.maxrss_kib)))
                    .unwrap_or_default(),
                match ob {
                    Some(o) if o.ok() && oa.ok() && o.secs() > 0.0 =>
                        format!(", ratio {:.2}x", oa.secs() / o.secs()),
                    _ => String::new(),
                }
            );
        }
        p
    }

    /// A time row comparing A with B.
    fn time_row(
        &mut self,
        figure: &str,
        p: &Pairs,
        target: &str,
        limit: Option<&dyn Fn(f64) -> f64>,
    ) {
        let t = self.opts.timeout;
        let sa = stats(&p.ok_a());
        let sb = stats(&p.ok_b());
        let rsvp = match (p.a_problem(t), sa) {
            (Some(problem), Some(s)) => format!("{} + {problem}", cell(&s)),
            (Some(problem), None) => problem,
            (None, Some(s)) => cell(&s),
            (None, None) => "not run".into(),
        };
        let floor = match (p.b_problem(t), sb) {
            (_, Some(s)) => cell(&s),
            (Some(problem), None) => problem,
            (None, None) if !self.have_notmuch => "skipped: notmuch missing".into(),
            (None, None) => "—".into(),
        };
        let timed_out = p.a.iter().any(|o| o.status == Status::TimedOut);
        let (ratio, verdict) = match (sa, sb) {
            (Some(a), Some(b)) if !timed_out => {
                let pr: Vec<f64> =
                    p.a.iter()
                        .zip(&p.b)
                        .filter(|(x, y)| x.ok() && y.ok() && y.secs() > 0.0)
                        .map(|(x, y)| x.secs() / y.secs())
                        .collect();
                let range = stats(&pr)
                    .map(|s| format!(" (pairs {:.2}–{:.2})", s.min, s.max))
                    .unwrap_or_default();
                (
                    format!("{:.2}x{range}", a.median / b.median),
                    limit.map(|f| verdict(a.median, f(b.median))),
                )
            }
            (_, Some(b)) if timed_out => (
                format!("> {:.0}x", t.as_secs_f64() / b.median),
                limit.map(|_| "no (timed out)".to_string()),
            ),
            _ => ("—".into(), None),
        };
        self.rows.push(Row {
            figure: figure.into(),
            rsvp,
            floor,
            ratio,
            target: target.into(),
            met: verdict.unwrap_or_else(|| "—".into()),
        });
    }

    fn rss_row(&mut self, figure: &str, a: i64, b: Option<i64>) {
        self.rows.push(Row {
            figure: figure.into(),
            rsvp: mib(a),
            floor: b.map(mib).unwrap_or_else(|| "—".into()),
            ratio: b
                .filter(|&b| b > 0)
                .map(|b| format!("{:.2}x", a as f64 / b as f64))
                .unwrap_or_else(|| "—".into()),
            target: "≤ 64 MiB".into(),
            met: if a == 0 {
                "—".into()
            } else if a <= 64 * 1024 {
                "yes".into()
            } else {
                format!("no (+{})", mib(a - 64 * 1024))
            },
        });
    }

    fn skip_row(&mut self, figure: &str, why: &str) {
        say(&format!("{figure}: skipped: {why}"));
        self.rows.push(Row {
            figure: figure.into(),
            rsvp: format!("skipped: {why}"),
            floor: "—".into(),
            ratio: "—".into(),
            target: "—".into(),
            met: "—".into(),
        });
    }

    fn private_db(&self) -> PathBuf {
        self.run.join("data/rsvp/notmuch")
    }

    fn index_untimed(&mut self) {
        let cfg = self.rsvp_config("private", self.opts.events);
        let t = Duration::from_secs(3600);
        let o = self.timed(self.rsvp(&["index"], Some(&cfg)), "index-untimed", t);
        say(&format!("rsvp index (untimed): {:?}", o.status));
        if self.have_notmuch {
            // The user's database may be gone (an aborted run removes it
            // before rebuilding it); `notmuch new` needs its directory.
            let _ = fs::create_dir_all(self.run.join("notmuch-db"));
            let o = self.timed(self.notmuch_new(), "notmuch-untimed", t);
            say(&format!("notmuch new (untimed): {:?}", o.status));
        }
    }

    fn index_figures(&mut self) {
        let cfg = self.rsvp_config("private", self.opts.events);
        let nm = self.have_notmuch;
        // Indexing from scratch gets a longer timeout than a listing.
        let long = self.opts.timeout * 3;
        let mut nm_first_fn = |s: &Bench, _: usize| {
            rm(&s.run.join("notmuch-db"));
            let _ = fs::create_dir_all(s.run.join("notmuch-db"));
            s.timed(s.notmuch_new(), "notmuch-first", long)
        };
        let mut nm_first = nm.then_some(&mut nm_first_fn);
        let first = self.pairs(
            "index, first run",
            self.opts.index_runs,
            &mut |s, _| {
                rm(&s.private_db());
                s.timed(s.rsvp(&["index"], Some(&cfg)), "index-first", long)
            },
            nm_first.as_mut().map(|f| f as Runner<'_>),
        );
        if let Ok(text) = fs::read_to_string(self.out_file("index-first")) {
            self.note(&format!("rsvp index (first) printed: {}", text.trim()));
        }
        self.time_row(
            "index, first run: `rsvp index` vs `notmuch new` (private DB vs user DB, same Maildir)",
            &first,
            "≤ 1.1x",
            Some(&|b| 1.1 * b),
        );
        let (ra, rb) = (first.maxrss_a(), first.maxrss_b());
        self.rss_row(
            "peak RSS, `rsvp index` first run (other: `notmuch new`)",
            ra,
            nm.then_some(rb),
        );
        if first.ok_a().is_empty() {
            self.skip_row("index, nothing new", "the first index did not finish");
            return;
        }
        let t = self.opts.timeout;
        let mut nm_none_fn = |s: &Bench, _: usize| s.timed(s.notmuch_new(), "notmuch-none", t);
        let mut nm_none = nm.then_some(&mut nm_none_fn);
        let mut nm_100_fn = |s: &Bench, _: usize| s.timed(s.notmuch_new(), "notmuch-100", t);
        let mut nm_100 = nm.then_some(&mut nm_100_fn);
        let none = self.pairs(
            "index, nothing new",
            self.opts.runs,
            &mut |s, _| s.timed(s.rsvp(&["index"], Some(&cfg)), "index-none", t),
            nm_none.as_mut().map(|f| f as Runner<'_>),
        );
        self.time_row(
            "index, nothing new (private DB vs user DB)",
            &none,
            "≤ notmuch new + 10 ms",
            Some(&|b| b + 0.010),
        );
        let mail = self.mail();
        let new100 = self.pairs(
            "index, 100 new messages",
            self.opts.runs,
            &mut |s, k| {
                if let Err(e) = corpus::new_batch(&mail, k, 100) {
                    say(&format!("new batch: {e}"));
                }
                s.timed(s.rsvp(&["index"], Some(&cfg)), "index-100", t)
            },
            nm_100.as_mut().map(|f| f as Runner<'_>),
        );
        self.time_row(
            "index, 100 new messages (5 invitations) since the last run",
            &new100,
            "none set (≤ 1.1x shown)",
            Some(&|b| 1.1 * b),
        );
        let rss = none.maxrss_a().max(new100.maxrss_a());
        self.rss_row(
            "peak RSS, `rsvp index` nothing new / 100 new",
            rss,
            nm.then_some(none.maxrss_b().max(new100.maxrss_b())),
        );
        remove_batches(&mail);
        self.index_untimed();
    }

    /// Cold and warm `rsvp list --json` (private DB) against the floor.
    fn list_figures(&mut self, events: usize, main: bool) {
        let cfg = self.rsvp_config("private", events);
        let t = self.opts.timeout;
        let nm = self.have_notmuch;
        let tag = format!("list-e{events}");
        let mut floor_fn = |s: &Bench, _: usize| s.timed(s.floor(true), "floor", t);
        let mut floor_b = nm.then_some(&mut floor_fn);
        let cold = self.pairs(
            &format!("list cold, {events} events"),
            self.opts.runs,
            &mut |s, _| {
                rm(&s.run.join("cache/rsvp"));
                s.timed(s.rsvp(&["list", "--json"], Some(&cfg)), &tag, t)
            },
            floor_b.as_mut().map(|f| f as Runner<'_>),
        );
        if let Some(n) = json_len(&self.out_file(&tag)) {
            let floor = fs::metadata(self.out_file("floor"))
                .map(|m| m.len())
                .unwrap_or(0);
            self.note(&format!(
                "list --json at {events} events printed {n} items; the floor read {} KiB of messages",
                floor / 1024
            ));
        }
        self.time_row(
            &format!("list --json, cold cache, {events} events"),
            &cold,
            "≤ 2x floor",
            Some(&|b| 2.0 * b),
        );
        // What reading the calendar once costs on its own, before any
        // parsing: a cold listing cannot do less.
        if let Some(f) = stats(&cold.ok_b()) {
            let read = read_every_file(&self.calendar(events));
            self.rows.push(Row {
                figure: format!(
                    "floor of the cold listing: the floor, then one read of every calendar file ({events}), all cores"
                ),
                rsvp: format!("{} + {}", dur(f.median), dur(read)),
                floor: dur(f.median),
                ratio: format!("{:.2}x", (f.median + read) / f.median),
                target: "(what reading the calendar alone adds)".into(),
                met: "—".into(),
            });
        }
        if cold.a.iter().any(|o| o.status == Status::TimedOut) {
            self.too_slow.push(events);
            self.skip_row(
                &format!("list --json, warm cache, {events} events"),
                "the cold run timed out",
            );
            return;
        }
        // The last cold run left the cache warm.
        let warm = self.pairs(
            &format!("list warm, {events} events"),
            self.opts.runs,
            &mut |s, _| s.timed(s.rsvp(&["list", "--json"], Some(&cfg)), &tag, t),
            floor_b.as_mut().map(|f| f as Runner<'_>),
        );
        self.time_row(
            &format!("list --json, warm cache, {events} events"),
            &warm,
            "≤ 1.0x floor",
            Some(&|b| b),
        );
        if let Some(s) = stats(&warm.ok_a()) {
            self.warm_by_events.push((events, s.median));
        }
        if main {
            let rss = cold.maxrss_a().max(warm.maxrss_a());
            self.rss_row(
                &format!("peak RSS, `rsvp list --json` ({events} events; other: the floor's sh)"),
                rss,
                None,
            );
        }
    }

    /// Warm listing through the user's notmuch database (NOTMUCH_CONFIG-style
    /// `[mail] notmuch_config`), floor over the same database.
    fn list_user_db(&mut self) {
        if !self.have_notmuch {
            self.skip_row("list --json via the user's notmuch DB", "notmuch missing");
            return;
        }
        if self.too_slow.contains(&self.opts.events) {
            self.skip_row(
                "list --json via the user's notmuch DB",
                "the private-DB listing at this size timed out",
            );
            return;
        }
        let events = self.opts.events;
        let cfg = self.rsvp_config("user", events);
        let t = self.opts.timeout;
        // One untimed run fills the cache for this configuration.
        let _ = self.timed(self.rsvp(&["list", "--json"], Some(&cfg)), "list-user", t);
        let warm = self.pairs(
            &format!("list warm via user DB, {events} events"),
            self.opts.runs,
            &mut |s, _| s.timed(s.rsvp(&["list", "--json"], Some(&cfg)), "list-user", t),
            Some(&mut |s: &Bench, _| s.timed(s.floor(false), "floor-user", t)),
        );
        self.time_row(
            &format!("list --json, warm, user's notmuch DB (notmuch_config), {events} events"),
            &warm,
            "≤ 1.0x floor",
            Some(&|b| b),
        );
    }

    fn growth_figures(&mut self) {
        let mut sizes = self.opts.growth.clone();
        sizes.sort_unstable();
        sizes.dedup();
        for &e in &sizes {
            if self.warm_by_events.iter().any(|(x, _)| *x == e) {
                continue;
            }
            if let Some(&slow) = self.too_slow.iter().find(|&&x| x <= e) {
                self.skip_row(
                    &format!("list --json, {e} events"),
                    &format!("the listing at {slow} events already timed out"),
                );
                continue;
            }
            self.list_figures(e, false);
        }
        for w in sizes.windows(2) {
            let (small, big) = (w[0], w[1]);
            let find = |e: usize| {
                self.warm_by_events
                    .iter()
                    .find(|(x, _)| *x == e)
                    .map(|x| x.1)
            };
            let factor = big as f64 / small as f64;
            let allowed = 1.5f64.powf(factor.log10());
            let figure =
                format!("growth: warm list at {big} vs {small} events ({factor:.0}x the calendar)");
            let target = format!("≤ {allowed:.2}x (1.5x per 10x)");
            match (find(small), find(big)) {
                (Some(a), Some(b)) => {
                    self.rows.push(Row {
                        figure,
                        rsvp: dur(b),
                        floor: format!("{} (at {small})", dur(a)),
                        ratio: format!("{:.2}x", b / a),
                        target,
                        met: verdict(b / a, allowed),
                    });
                    // What one stat per calendar file costs on its own:
                    // the growth it alone brings to the smaller listing.
                    let (ss, sb) = (
                        stat_every_file(&self.calendar(small)),
                        stat_every_file(&self.calendar(big)),
                    );
                    self.rows.push(Row {
                        figure: format!("floor of that growth: one statx per calendar file, all cores, {big} vs {small} files"),
                        rsvp: format!("{} vs {}", dur(sb), dur(ss)),
                        floor: format!("{} (list at {small})", dur(a)),
                        ratio: format!("{:.2}x", (a + sb - ss) / a),
                        target: "(what the stats alone add)".into(),
                        met: "—".into(),
                    });
                }
                (Some(a), None) if self.too_slow.contains(&big) => self.rows.push(Row {
                    figure,
                    rsvp: format!("TIMEOUT (> {})", dur(self.opts.timeout.as_secs_f64())),
                    floor: format!("{} (at {small})", dur(a)),
                    ratio: format!("> {:.2}x", self.opts.timeout.as_secs_f64() / a),
                    target,
                    met: "no (timed out)".into(),
                }),
                _ => self.skip_row(&figure, "a warm listing is missing"),
            }
        }
    }

    fn report(&self) {
        let mut s = String::new();
        let o = &self.opts;
        let _ = writeln!(
            s,
            "\n## rsvp inbox benchmark: {} messages, {} invitations, {} stored events (growth {:?})\n",
            o.messages, o.invites, o.events, o.growth
        );
        let _ = writeln!(
            s,
            "| figure | rsvp | floor / other | ratio | target | met? |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.figure,
                r.rsvp.replace('|', "/"),
                r.floor.replace('|', "/"),
                r.ratio,
                r.target,
                r.met
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nNotes:\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        let _ = writeln!(s, "\nRuns (A B interleaved, in order):\n\n{}", self.details);
        println!("{s}");
        let file = self.data.join(format!(
            "results-e{}-{}.md",
            o.events,
            chrono::Local::now().format("%Y%m%dT%H%M%S")
        ));
        if fs::create_dir_all(&self.data).is_ok() && fs::write(&file, &s).is_ok() {
            eprintln!("bench: results also in {}", file.display());
        }
    }
}

/// "yes", or by how much `value` misses `limit`.
fn verdict(value: f64, limit: f64) -> String {
    if value <= limit {
        "yes".into()
    } else if limit > 0.0 {
        format!("no ({:.2}x the limit)", value / limit)
    } else {
        "no".into()
    }
}

/// `cmd` run under `/usr/bin/time -f %M -o rss`. The peak RSS that
/// `wait4` reports for a direct child also counts the pages it shared with
/// this process at fork (Linux records the old mm's high-water mark at
/// exec), so small figures would show the harness's own size; a child of
/// `time` is forked from a 2 MiB process instead.
fn with_time(cmd: &Command, rss: &Path) -> Command {
    let mut w = Command::new("/usr/bin/time");
    w.args(["-f", "%M", "-o"])
        .arg(rss)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        w.current_dir(d);
    }
    w
}

fn json_len(p: &Path) -> Option<usize> {
    let text = fs::read(p).ok()?;
    match serde_json::from_slice::<serde_json::Value>(&text).ok()? {
        serde_json::Value::Array(v) => Some(v.len()),
        _ => None,
    }
}

fn remove_batches(mail: &Path) {
    if let Ok(rd) = fs::read_dir(mail.join("new")) {
        for e in rd.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(corpus::BATCH_PREFIX)
            {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}
