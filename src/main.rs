//! Composition root: parse the command line, load the configuration, build
//! the adapters and hand them to `cli`. The only file that names concrete
//! adapters.

use clap::Parser;
use rsvp::adapters::cache::{FileCache, MemoryCache};
use rsvp::adapters::contacts::Contacts;
use rsvp::adapters::maildir::MaildirSource;
use rsvp::adapters::memory::MemoryOutbox;
use rsvp::adapters::notmuch::{self as nm, Notmuch};
use rsvp::adapters::outbox::DirOutbox;
use rsvp::adapters::sendmail::SendmailTransport;
use rsvp::adapters::smtp::{self, SmtpSettings, SmtpTransport};
use rsvp::adapters::tombstones::{FileTombstones, MemoryTombstones};
use rsvp::adapters::vdir::Vdir;
use rsvp::cli::{self, Args, Command, Failure, exit};
use rsvp::config::{self, Config, Paths};
use rsvp::domain::diff::Clock;
use rsvp::domain::identity::Identity;
use rsvp::domain::ports::{CacheStore, MailIndex};
use rsvp::domain::ports::{
    CalendarStore, InviteSource, Outbox, Tombstones, Transport, TransportError,
};
use rsvp::domain::sanitize::terminal_line;
use rsvp::inbox::{Inbox, Ports, Settings};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

#[path = "main/check.rs"]
mod check;
#[path = "main/init.rs"]
mod init;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option number for the purge delay (`mi_option_e` in
/// mimalloc.h, v3 as libmimalloc-sys builds it; the Rust bindings do not
/// name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Give freed pages back after 100 ms instead of mimalloc v3's 1 s. With
/// arenas committed lazily (`.cargo/config.toml`), measured on a first
/// listing of the benchmark's mailbox (20,000 events): peak RSS 64 MiB at
/// 1 s, 61 MiB at 100 ms, 58 MiB at 0 ms; a warm listing took 56, 53 and
/// 60 ms (benches/README.md).
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: mi_option_set stores an integer in mimalloc's option table,
    // which mimalloc reads when it next decides to purge; the option exists
    // in this mimalloc. Called first in main, before any thread of ours.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 100);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let args = Args::parse();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let code = match run(args, &mut stdout, &mut stderr) {
        Ok(code) => code,
        Err(f) => {
            if !f.is_quiet() {
                eprintln!("rsvp: {}", f.message);
            }
            f.code
        }
    };
    ExitCode::from(code)
}

/// The local time zone: `$TZ`, else /etc/localtime, else UTC.
fn local_zone() -> chrono_tz::Tz {
    if let Ok(tz) = std::env::var("TZ")
        && let Ok(z) = chrono_tz::Tz::from_str(tz.trim_start_matches(':'))
    {
        return z;
    }
    if let Ok(target) = std::fs::read_link("/etc/localtime") {
        let s = target.to_string_lossy();
        if let Some((_, name)) = s.split_once("zoneinfo/")
            && let Ok(z) = chrono_tz::Tz::from_str(name)
        {
            return z;
        }
    }
    if let Ok(name) = std::fs::read_to_string("/etc/timezone")
        && let Ok(z) = chrono_tz::Tz::from_str(name.trim())
    {
        return z;
    }
    chrono_tz::UTC
}

fn token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

fn config_path(args: &Args, paths: Option<&Paths>) -> Result<PathBuf, Failure> {
    match (&args.config, paths) {
        (Some(p), _) => Ok(p.clone()),
        (None, Some(p)) => Ok(p.config_file.clone()),
        (None, None) => Err(Failure::new(
            exit::CONFIG,
            "no home directory: pass --config PATH",
        )),
    }
}

/// `$NOTMUCH_CONFIG`, when set.
fn notmuch_env() -> Option<PathBuf> {
    std::env::var_os("NOTMUCH_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn load_config(path: &Path) -> Result<Config, Failure> {
    let mut cfg = Config::load(path).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
    cfg.fill_identity(notmuch_env());
    let problems = cfg.validate();
    if let Some(first) = problems.first() {
        let more = if problems.len() > 1 {
            format!(" (and {} more; run `rsvp check`)", problems.len() - 1)
        } else {
            String::new()
        };
        return Err(Failure::new(
            exit::CONFIG,
            format!("config error: {}: {first}{more}", path.display()),
        ));
    }
    Ok(cfg)
}

/// The concrete adapters for one run, before they become an [`Inbox`].
struct Wiring {
    store: Box<dyn CalendarStore>,
    busy: Vec<Box<dyn CalendarStore>>,
    outbox: Box<dyn Outbox>,
    tombstones: Box<dyn Tombstones>,
    transport: Option<Box<dyn Transport>>,
    identity: Identity,
    send_from: Option<String>,
    scheduling: rsvp::inbox::Scheduling,
    /// `[mail] after_answer`: more tag changes once an answer is recorded.
    after_answer: Vec<String>,
    declined: rsvp::inbox::Declined,
}

/// What one session adds to the adapters: the mail, the cache, the clock.
struct Session {
    source: Option<Box<dyn InviteSource>>,
    index: Option<Box<dyn MailIndex>>,
    cache: Box<dyn CacheStore + Send + Sync>,
    clock: Clock,
    trusted: Box<dyn Fn(&str) -> bool + Send + Sync>,
    /// Fixed for the demo (its data is written for that moment).
    now: Option<chrono::DateTime<chrono::Utc>>,
    log: Box<dyn Fn(&str) + Send + Sync>,
}

impl Wiring {
    /// The inbox session over these adapters.
    fn into_inbox(self, session: Session) -> Inbox {
        let Session {
            source,
            index,
            cache,
            clock,
            trusted,
            now,
            log,
        } = session;
        let after_answer = self.after_answer;
        let mut inbox = Inbox::new(
            Ports {
                store: self.store,
                busy: self.busy,
                outbox: self.outbox,
                tombstones: self.tombstones,
                transport: self.transport,
                source,
                index,
                cache,
            },
            Settings {
                identity: self.identity,
                groups: Vec::new(),
                send_from: self.send_from,
                scheduling: self.scheduling,
                declined: self.declined,
                clock,
                trusted,
                now: Box::new(move || now.unwrap_or_else(chrono::Utc::now)),
                token: Box::new(token),
                log,
            },
        );
        inbox.set_after_answer(&after_answer);
        inbox
    }
}

/// The cache of parsed messages and of the calendar index.
fn cache_store(paths: Option<&Paths>) -> Box<dyn CacheStore + Send + Sync> {
    match paths {
        Some(p) => Box::new(FileCache::new(&p.cache_dir)),
        None => Box::new(MemoryCache::new()),
    }
}

/// Diagnostics of a command-line run go to stderr.
fn stderr_log() -> Box<dyn Fn(&str) + Send + Sync> {
    Box::new(|line: &str| eprintln!("rsvp: note: {}", terminal_line(line)))
}

/// The `[trust] contacts` check as a closure.
fn trust_of(contacts: Option<Contacts>) -> Box<dyn Fn(&str) -> bool + Send + Sync> {
    Box::new(move |a: &str| contacts.as_ref().is_none_or(|c| c.contains(a)))
}

fn build_transport(cfg: &Config) -> Result<Option<Box<dyn Transport>>, TransportError> {
    build_transport_with(cfg, fetch_password(cfg)?)
}

/// Run `[smtp] password_command` (before the TUI takes the terminal, so a
/// pinentry can ask).
fn fetch_password(cfg: &Config) -> Result<Option<String>, TransportError> {
    let smtp_used = cfg
        .send
        .as_ref()
        .is_some_and(|s| s.method == config::SendMethod::Smtp);
    match cfg.smtp.as_ref().and_then(|s| s.password_command.as_ref()) {
        Some(cmd) if smtp_used => Ok(Some(smtp::password_from_command(cmd)?)),
        _ => Ok(None),
    }
}

fn build_transport_with(
    cfg: &Config,
    password: Option<String>,
) -> Result<Option<Box<dyn Transport>>, TransportError> {
    let Some(send) = &cfg.send else {
        return Ok(None);
    };
    match send.method {
        config::SendMethod::Smtp => {
            let Some(s) = &cfg.smtp else {
                return Err(TransportError::Config(
                    "[send] method = \"smtp\" needs an [smtp] section".into(),
                ));
            };
            Ok(Some(Box::new(SmtpTransport::new(smtp_settings(
                s, password,
            ))?)))
        }
        config::SendMethod::Sendmail => {
            let Some(s) = &cfg.sendmail else {
                return Err(TransportError::Config(
                    "[send] method = \"sendmail\" needs a [sendmail] section".into(),
                ));
            };
            Ok(Some(Box::new(SendmailTransport::new(&s.command)?)))
        }
    }
}

/// The adapter's settings for `[smtp]`.
fn smtp_settings(s: &config::Smtp, password: Option<String>) -> SmtpSettings {
    SmtpSettings {
        host: s.host.clone(),
        port: s.effective_port(),
        security: match s.security {
            config::Security::Starttls => smtp::Security::StartTls,
            config::Security::Tls => smtp::Security::Tls,
            config::Security::None => smtp::Security::None,
        },
        username: s.username.clone(),
        password,
        ca_file: s.ca_file.clone(),
        timeout: std::time::Duration::from_secs(s.timeout_seconds.max(1)),
    }
}

/// The mail index of `[mail]`, or the user's notmuch database through
/// `$NOTMUCH_CONFIG` when there is no `[mail]` section; `None` when neither.
fn build_source(cfg: &Config, paths: Option<&Paths>) -> Result<Option<Notmuch>, Failure> {
    let settings = match &cfg.mail {
        Some(mail) => {
            let mode = match (&mail.maildir, &mail.notmuch_config) {
                (Some(maildir), _) => nm::Mode::Private {
                    database: paths.map(Paths::notmuch_dir).ok_or_else(|| {
                        Failure::new(
                            exit::RUNTIME,
                            "no data directory for the notmuch index (set HOME or XDG_DATA_HOME)",
                        )
                    })?,
                    maildir: maildir.clone(),
                },
                (None, Some(config)) => nm::Mode::User {
                    config: Some(config.clone()),
                },
                (None, None) => return Ok(None),
            };
            nm::Settings {
                query: mail.query.clone(),
                tags: mail.tags,
                timeout: std::time::Duration::from_secs(mail.lock_timeout_seconds),
                ..nm::Settings::new(mode)
            }
        }
        None => match std::env::var_os("NOTMUCH_CONFIG").filter(|v| !v.is_empty()) {
            Some(config) => nm::Settings::new(nm::Mode::User {
                config: Some(PathBuf::from(config)),
            }),
            None => return Ok(None),
        },
    };
    Notmuch::open(settings)
        .map(Some)
        .map_err(|e| Failure::new(exit::RUNTIME, terminal_line(&e.to_string())))
}

/// The other calendars whose events count as busy: `[calendar] busy`, else
/// khal's calendars (those that exist), never the calendar rsvp writes.
fn busy_calendars(
    calendar: &config::Calendar,
    paths: Option<&Paths>,
) -> Result<Vec<Box<dyn CalendarStore>>, Failure> {
    let kept = |v: Vdir| match paths {
        Some(p) => v.keep_names_in(&p.cache_dir),
        None => v,
    };
    let same = |p: &Path| {
        let canon = |q: &Path| std::fs::canonicalize(q).unwrap_or_else(|_| q.to_path_buf());
        canon(p) == canon(&calendar.path)
    };
    let mut out: Vec<Box<dyn CalendarStore>> = Vec::new();
    match &calendar.busy {
        Some(paths) => {
            for p in paths.iter().filter(|p| !same(p)) {
                let v = Vdir::open_read_only(p).map_err(|e| {
                    Failure::new(exit::CONFIG, format!("config error: [calendar] busy: {e}"))
                })?;
                out.push(Box::new(kept(v)));
            }
        }
        None => {
            let text = config::khal::config_file().and_then(|f| std::fs::read_to_string(f).ok());
            for p in text
                .as_deref()
                .map(config::khal::calendars)
                .unwrap_or_default()
            {
                if !same(&p)
                    && let Ok(v) = Vdir::open_read_only(&p)
                {
                    out.push(Box::new(kept(v)));
                }
            }
        }
    }
    Ok(out)
}

/// `writes`: whether the command may write the outbox (a dry run, `show`
/// and `render` leave no trace on disk).
fn wire(
    cfg: &Config,
    paths: Option<&Paths>,
    need_transport: bool,
    writes: bool,
) -> Result<Wiring, Failure> {
    let calendar = cfg.calendar.as_ref().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            "config error: [calendar] path is required for this command",
        )
    })?;
    let store =
        Vdir::open(&calendar.path).map_err(|e| Failure::new(exit::RUNTIME, e.to_string()))?;
    // The directory's names are kept beside the inbox's cache.
    let store = match paths {
        Some(p) => store.keep_names_in(&p.cache_dir),
        None => store,
    };
    let data_dir = paths.map(|p| p.data_dir.clone()).ok_or_else(|| {
        Failure::new(
            exit::RUNTIME,
            "no data directory (set HOME or XDG_DATA_HOME)",
        )
    })?;
    let outbox_dir = data_dir.join("outbox");
    let outbox: Box<dyn Outbox> = if writes || outbox_dir.exists() {
        Box::new(
            DirOutbox::open(&outbox_dir).map_err(|e| Failure::new(exit::RUNTIME, e.to_string()))?,
        )
    } else {
        Box::new(MemoryOutbox::new())
    };
    let tombstones: Box<dyn Tombstones> = match FileTombstones::open(&data_dir) {
        Ok(t) => Box::new(t),
        Err(_) => Box::new(MemoryTombstones::default()),
    };
    let transport = if need_transport {
        build_transport(cfg).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?
    } else {
        None
    };
    let scheduling = match calendar.server_scheduling {
        config::ServerScheduling::On => rsvp::inbox::Scheduling::Server,
        config::ServerScheduling::Off => rsvp::inbox::Scheduling::Client,
        config::ServerScheduling::Auto => rsvp::inbox::Scheduling::Auto,
    };
    Ok(Wiring {
        store: Box::new(store),
        busy: busy_calendars(calendar, paths)?,
        outbox,
        tombstones,
        transport,
        identity: Identity::new(cfg.identity.name.clone(), &cfg.identity.addresses),
        send_from: cfg.send.as_ref().and_then(|s| s.from.clone()),
        scheduling,
        after_answer: cfg
            .mail
            .as_ref()
            .map(|m| m.after_answer.clone())
            .unwrap_or_default(),
        declined: match calendar.declined {
            config::Declined::Transparent => rsvp::inbox::Declined::Transparent,
            config::Declined::Keep => rsvp::inbox::Declined::Keep,
            config::Declined::Drop => rsvp::inbox::Declined::Drop,
        },
    })
}

fn run(
    args: Args,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<u8, Failure> {
    let paths = Paths::discover();
    let clock = Clock {
        local: local_zone(),
    };
    let path = config_path(&args, paths.as_ref());
    let command = args.command.unwrap_or(Command::Tui);
    match &command {
        Command::Demo => return demo(clock, paths.as_ref(), err),
        Command::Completions { shell } => return completions(*shell, out),
        Command::Man => return man(out),
        Command::Init => return init::init(&path?, out),
        _ => {}
    }

    // `render` is a display filter: it works without any configuration.
    if let Command::Render { path: input } = &command {
        let inbox = path
            .ok()
            .filter(|p| p.exists())
            .and_then(|p| load_config(&p).ok())
            .and_then(|cfg| wire(&cfg, paths.as_ref(), false, false).ok())
            .map(|w| {
                w.into_inbox(Session {
                    source: None,
                    index: None,
                    cache: cache_store(paths.as_ref()),
                    clock,
                    trusted: trust_of(None),
                    now: None,
                    log: stderr_log(),
                })
            });
        return match inbox {
            Some(mut inbox) => cli::run_render(Some(&mut inbox), input.as_deref(), &clock, out),
            None => cli::run_render(None, input.as_deref(), &clock, out),
        };
    }
    let path = path?;
    if let Command::Check = &command {
        return check::check(&path, paths.as_ref(), out);
    }
    let cfg = load_config(&path)?;
    if let Command::Index = &command {
        let source = build_source(&cfg, paths.as_ref())?.ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                format!(
                    "config error: {}: no [mail] section and NOTMUCH_CONFIG is not set: \
                     add [mail] with maildir = \"~/Mail\" or notmuch_config = \"~/.notmuch-config\"",
                    path.display()
                ),
            )
        })?;
        let wait = source.lock_timeout();
        // Indexing touches neither the calendar nor the outbox: the session
        // gets memory stand-ins for them when none is configured.
        let wiring = match wire(&cfg, paths.as_ref(), false, false) {
            Ok(w) => w,
            Err(_) => Wiring {
                store: Box::new(rsvp::adapters::memory::MemoryStore::new()),
                outbox: Box::new(MemoryOutbox::new()),
                tombstones: Box::new(MemoryTombstones::default()),
                transport: None,
                identity: Identity::new(cfg.identity.name.clone(), &cfg.identity.addresses),
                send_from: None,
                scheduling: rsvp::inbox::Scheduling::Client,
                busy: Vec::new(),
                declined: rsvp::inbox::Declined::default(),
                after_answer: Vec::new(),
            },
        };
        let notmuch = std::sync::Arc::new(source);
        let mut inbox = wiring.into_inbox(Session {
            source: Some(Box::new(notmuch.clone())),
            index: Some(Box::new(notmuch)),
            cache: cache_store(paths.as_ref()),
            clock,
            trusted: trust_of(None),
            now: None,
            log: stderr_log(),
        });
        return cli::run_index(&mut inbox, wait, out, err);
    }
    if let Command::Tui = command {
        return inbox_tui(cfg, paths, clock, err);
    }
    let need_transport = match &command {
        Command::Reply {
            dry_run, no_send, ..
        } => !dry_run && !no_send,
        Command::Outbox { action, .. } => {
            matches!(action, cli::OutboxAction::Flush | cli::OutboxAction::Drop)
        }
        _ => false,
    };
    let writes = match &command {
        Command::Reply { dry_run, .. } => !dry_run,
        Command::Show { .. } | Command::Render { .. } | Command::List { .. } => false,
        _ => true,
    };
    let source = match &command {
        Command::List { maildir, .. } => {
            Some(mail_source(&cfg, paths.as_ref(), maildir.as_deref())?)
        }
        Command::Show { id, maildir, .. } | Command::Reply { id, maildir, .. } => {
            id_source(&cfg, paths.as_ref(), id.is_some(), maildir.as_deref())?
        }
        // A reply delivered by `outbox flush` is recorded on its invitation
        // (tags); without a reachable mail index the flush still sends.
        Command::Outbox {
            action: cli::OutboxAction::Flush,
            ..
        } => build_source(&cfg, paths.as_ref())
            .ok()
            .flatten()
            .map(|n| Box::new(n) as Box<dyn InviteSource>),
        _ => None,
    };
    let trusted = match &command {
        Command::List { .. } | Command::Show { .. } | Command::Reply { .. } => {
            trust_of(contacts(&cfg, err))
        }
        _ => trust_of(None),
    };
    let mut inbox = wire(&cfg, paths.as_ref(), need_transport, writes)?.into_inbox(Session {
        source,
        index: None,
        cache: cache_store(paths.as_ref()),
        clock,
        trusted,
        now: None,
        log: stderr_log(),
    });
    let result = match command {
        Command::List { all, json, .. } => cli::list::run_list(&mut inbox, all, json, out, err),
        Command::Show {
            message, id, json, ..
        } => {
            let input = input_of(message.as_deref(), id.as_deref());
            cli::run_show(&mut inbox, &input, json, out)
        }
        Command::Reply {
            answer,
            message,
            id,
            comment,
            instance,
            dry_run,
            resend,
            no_send,
            ..
        } => {
            let input = input_of(message.as_deref(), id.as_deref());
            cli::run_reply(
                &mut inbox,
                answer,
                &input,
                comment.as_deref(),
                instance.as_deref(),
                dry_run,
                resend,
                no_send,
                out,
                err,
            )
        }
        Command::Apply {
            message,
            force_method,
        } => cli::run_apply(&mut inbox, &message, force_method, err),
        Command::Outbox { action, id } => cli::run_outbox(&mut inbox, action, id.as_deref(), out),
        Command::Render { .. }
        | Command::Check
        | Command::Index
        | Command::Demo
        | Command::Tui
        | Command::Init
        | Command::Completions { .. }
        | Command::Man => Ok(exit::OK),
    };
    // The process ends here: what the caches hold was saved when it
    // changed, and freeing it piece by piece took 24-28 ms after a first
    // listing of 20,000 events.
    inbox.leave_cache_to_exit();
    result
}

/// `rsvp completions SHELL`: the script, from the clap definitions.
fn completions(shell: cli::Shell, out: &mut dyn std::io::Write) -> Result<u8, Failure> {
    use clap::CommandFactory;
    use clap_complete::Shell as S;
    let shell = match shell {
        cli::Shell::Bash => S::Bash,
        cli::Shell::Zsh => S::Zsh,
        cli::Shell::Fish => S::Fish,
        cli::Shell::Elvish => S::Elvish,
        cli::Shell::PowerShell => S::PowerShell,
    };
    let mut cmd = Args::command();
    let mut buf: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut cmd, "rsvp", &mut buf);
    out.write_all(&buf).map_err(|e| Failure::output(&e))?;
    Ok(exit::OK)
}

/// `rsvp man`: the manual page (roff), from the clap definitions.
fn man(out: &mut dyn std::io::Write) -> Result<u8, Failure> {
    use clap::CommandFactory;
    let mut buf: Vec<u8> = Vec::new();
    clap_mangen::Man::new(Args::command())
        .render(&mut buf)
        .map_err(|e| Failure::new(exit::RUNTIME, format!("cannot render the manual: {e}")))?;
    out.write_all(&buf).map_err(|e| Failure::output(&e))?;
    Ok(exit::OK)
}

/// The mail source for `list`: `--maildir PATH`, else the notmuch
/// database of `[mail]` (or of `$NOTMUCH_CONFIG` without a `[mail]` section).
fn mail_source(
    cfg: &Config,
    paths: Option<&Paths>,
    maildir: Option<&Path>,
) -> Result<Box<dyn InviteSource>, Failure> {
    if let Some(source) = optional_source(maildir)? {
        return Ok(source);
    }
    match build_source(cfg, paths)? {
        Some(notmuch) => Ok(Box::new(notmuch)),
        None => Err(Failure::new(
            exit::CONFIG,
            "no mail source: add a [mail] section (maildir or notmuch_config) \
             or pass --maildir PATH (a Maildir with cur/ and new/)",
        )),
    }
}

/// The source for `show`/`reply`: needed only with `--id`.
fn id_source(
    cfg: &Config,
    paths: Option<&Paths>,
    by_id: bool,
    maildir: Option<&Path>,
) -> Result<Option<Box<dyn InviteSource>>, Failure> {
    match (by_id, maildir) {
        (_, Some(_)) => optional_source(maildir),
        (true, None) => Ok(build_source(cfg, paths)?.map(|n| Box::new(n) as Box<dyn InviteSource>)),
        (false, None) => Ok(None),
    }
}

fn optional_source(maildir: Option<&Path>) -> Result<Option<Box<dyn InviteSource>>, Failure> {
    match maildir {
        Some(p) => MaildirSource::open(p)
            .map(|s| Some(Box::new(s) as Box<dyn InviteSource>))
            .map_err(|e| Failure::new(exit::RUNTIME, e.to_string())),
        None => Ok(None),
    }
}

/// `--message` or `--id` (clap makes exactly one of them present).
fn input_of<'a>(message: Option<&'a str>, id: Option<&'a str>) -> cli::Input<'a> {
    match (message, id) {
        (Some(m), _) => cli::Input::Message(m),
        (None, Some(uid)) => cli::Input::Id(uid),
        (None, None) => cli::Input::Message("-"),
    }
}

/// The `[trust] contacts` list; `None` when not configured. An unreadable
/// directory marks every new sender untrusted, with a warning.
fn contacts(cfg: &Config, err: &mut dyn std::io::Write) -> Option<Contacts> {
    let dir = cfg.trust.as_ref()?.contacts.as_ref()?;
    match Contacts::load(dir) {
        Ok(c) => Some(c),
        Err(e) => {
            let _ = writeln!(
                err,
                "rsvp: warning: {e}; every sender of a new invitation is marked untrusted"
            );
            Some(Contacts::default())
        }
    }
}

fn tui_options(
    cfg: Option<&Config>,
    clock: Clock,
    paths: Option<&Paths>,
    title: &str,
) -> Result<rsvp::tui::Options, Failure> {
    let keymap = match cfg {
        Some(cfg) => cfg.keymap().map_err(|problems| {
            Failure::new(
                exit::CONFIG,
                format!("config error: [keys]: {}", problems.join("; ")),
            )
        })?,
        None => rsvp::keymap::Keymap::defaults(),
    };
    let log = paths.map(|p| rsvp::tui::log_file_in(&p.state_dir));
    let mut options = rsvp::tui::Options::from_env(keymap, clock, log);
    options.title = title.to_string();
    if let Some(ui) = cfg.and_then(|c| c.ui.as_ref()) {
        options.confirm = ui.confirm;
        if let Some(cmd) = ui.open_command.as_deref().filter(|c| !c.trim().is_empty()) {
            options.open_command = cmd.to_string();
        }
    }
    Ok(options)
}

fn run_tui(
    options: rsvp::tui::Options,
    factory: rsvp::tui::worker::Factory,
) -> Result<u8, Failure> {
    rsvp::tui::run(options, factory)
        .map(|()| exit::OK)
        .map_err(|e| Failure::new(exit::RUNTIME, terminal_line(&format!("{e:#}"))))
}

/// `rsvp` / `rsvp tui`: the inbox over the configured mail source.
fn inbox_tui(
    cfg: Config,
    paths: Option<Paths>,
    clock: Clock,
    err: &mut dyn std::io::Write,
) -> Result<u8, Failure> {
    // Everything that can fail or prompt happens before raw mode.
    let notmuch = build_source(&cfg, paths.as_ref())?.ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            "no mail source: add [mail] with maildir = \"~/Mail\" or notmuch_config = \"~/.notmuch-config\"",
        )
    })?;
    let password = fetch_password(&cfg).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
    let options = tui_options(Some(&cfg), clock, paths.as_ref(), "rsvp")?;
    wire(&cfg, paths.as_ref(), false, true)?;
    let contacts = contacts(&cfg, err);
    let notmuch = std::sync::Arc::new(notmuch);
    let log_file = options.log_file.clone();
    let factory: rsvp::tui::worker::Factory = Box::new(move || {
        let mut wiring = wire(&cfg, paths.as_ref(), false, true).map_err(|f| f.message)?;
        wiring.transport = build_transport_with(&cfg, password).map_err(|e| e.to_string())?;
        let log = rsvp::tui::log::Log::open(log_file.as_deref());
        Ok(wiring.into_inbox(Session {
            source: Some(Box::new(notmuch.clone())),
            index: Some(Box::new(notmuch)),
            cache: cache_store(paths.as_ref()),
            clock,
            trusted: trust_of(contacts),
            now: None,
            log: Box::new(move |line: &str| log.line(&format!("info {line}"))),
        }))
    });
    run_tui(options, factory)
}

/// `rsvp demo`: the inbox on the bundled data, in a fresh sandbox.
fn demo(clock: Clock, paths: Option<&Paths>, err: &mut dyn std::io::Write) -> Result<u8, Failure> {
    let dir = tempfile::Builder::new()
        .prefix("rsvp-demo-")
        .tempdir()
        .map_err(|e| {
            Failure::new(
                exit::RUNTIME,
                format!("cannot create the demo sandbox: {e}"),
            )
        })?
        .keep();
    // The data is written for NOW_RFC3339; move it (and the demo's clock)
    // by whole weeks to today, so its invitations are current and every
    // weekday and weekly rule stays as written.
    let base = chrono::DateTime::parse_from_rfc3339(rsvp::demo::NOW_RFC3339)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| Failure::new(exit::RUNTIME, format!("demo clock: {e}")))?;
    let days = (chrono::Utc::now() - base).num_days();
    let weeks = (days + 3).div_euclid(7);
    let now = Some(base + chrono::Duration::weeks(weeks));
    rsvp::demo::unpack_shifted(&dir, weeks).map_err(|e| {
        Failure::new(
            exit::RUNTIME,
            format!("demo sandbox {}: {e}", dir.display()),
        )
    })?;
    let settings = nm::Settings::new(nm::Mode::Private {
        database: dir.join("notmuch"),
        maildir: dir.join("Mail"),
    });
    let notmuch = Notmuch::open(settings)
        .map_err(|e| Failure::new(exit::RUNTIME, terminal_line(&e.to_string())))?;
    let _ = writeln!(
        err,
        "rsvp demo: indexing the sample mail in {}",
        dir.display()
    );
    use rsvp::domain::ports::MailIndex;
    notmuch
        .index(&mut |_| {})
        .map_err(|e| Failure::new(exit::RUNTIME, terminal_line(&e.to_string())))?;
    let options = tui_options(None, clock, paths, "rsvp demo")?;
    let notmuch = std::sync::Arc::new(notmuch);
    let sandbox = dir.clone();
    let factory: rsvp::tui::worker::Factory = Box::new(move || {
        let store = Vdir::open(&sandbox.join("calendar")).map_err(|e| e.to_string())?;
        let outbox = DirOutbox::open(&sandbox.join("outbox")).map_err(|e| e.to_string())?;
        let tombstones = FileTombstones::open(&sandbox).map_err(|e| e.to_string())?;
        let drop = rsvp::adapters::maildrop::Maildrop::open(&sandbox.join("sent"))
            .map_err(|e| e.to_string())?;
        let addresses: Vec<String> = rsvp::demo::ADDRESSES
            .iter()
            .map(|a| a.to_string())
            .collect();
        let wiring = Wiring {
            store: Box::new(store),
            busy: Vec::new(),
            outbox: Box::new(outbox),
            tombstones: Box::new(tombstones),
            transport: Some(Box::new(drop)),
            identity: Identity::new(Some(rsvp::demo::NAME.to_string()), &addresses),
            send_from: None,
            scheduling: rsvp::inbox::Scheduling::Client,
            after_answer: Vec::new(),
            declined: rsvp::inbox::Declined::default(),
        };
        Ok(wiring.into_inbox(Session {
            source: Some(Box::new(notmuch.clone())),
            index: Some(Box::new(notmuch)),
            cache: Box::new(FileCache::new(&sandbox.join("cache"))),
            clock,
            trusted: trust_of(None),
            now,
            log: Box::new(|_: &str| {}),
        }))
    });
    let code = run_tui(options, factory)?;
    let _ = writeln!(
        err,
        "rsvp demo: sent replies are in {}",
        dir.join("sent").display()
    );
    let _ = writeln!(
        err,
        "rsvp demo: the calendar is in {}",
        dir.join("calendar").display()
    );
    let _ = writeln!(
        err,
        "rsvp demo: the sample mail is in {}",
        dir.join("Mail").display()
    );
    Ok(code)
}
