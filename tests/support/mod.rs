//! Shared helpers for integration tests: a real loopback SMTP server
//! (`smtp_server.py`, aiosmtpd under `/usr/bin/python3`), a throw-away test
//! CA made with the `openssl` CLI, and the skip-or-fail rule for external
//! tools: when a tool is missing, a test fails if env `CI` is set, and
//! otherwise prints `SKIP: <reason>` to stderr and returns.
//!
//! Use from a test file with `mod support;`.
#![allow(dead_code)]

pub mod cli_sandbox;
pub mod engine;
pub mod memenv;
pub mod notmuch_lock;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Every file under `dir` (its subfolders too) whose extension is one of
/// `exts`, appended to `out` in name order.
pub fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, exts, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
        {
            out.push(path);
        }
    }
}

/// The interpreter that has aiosmtpd (the `python3` on PATH may not);
/// env `RSVP_TEST_PYTHON` overrides it (e.g. a virtualenv elsewhere).
pub fn python() -> String {
    std::env::var("RSVP_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_string())
}

/// How long `SmtpServer::start` waits for the server to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

fn server_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py")
}

/// A required tool is missing: panic under CI, otherwise explain and let
/// the caller return. Always returns `None` so callers can `?`/`return` it.
pub fn skip<T>(reason: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{reason} (env CI is set, so a missing test tool is a failure)");
    }
    eprintln!("SKIP: {reason}");
    None
}

/// Run `program args...` quietly; `Err` says why it is unusable.
fn probe(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(e) => Err(format!("cannot run `{program}`: {e}")),
    }
}

/// `Ok` if `/usr/bin/python3 -c 'import aiosmtpd'` works (checked once).
pub fn aiosmtpd_available() -> Result<(), String> {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    CHECK
        .get_or_init(|| {
            let python = python();
            probe(&python, &["-c", "import aiosmtpd"]).map_err(|e| {
                format!("aiosmtpd is not usable ({e}); install python3-aiosmtpd for {python}")
            })
        })
        .clone()
}

/// `Ok` if `openssl version` runs.
pub fn openssl_available() -> Result<(), String> {
    probe("openssl", &["version"]).map_err(|e| format!("openssl CLI is not usable ({e})"))
}

/// `Ok` if `msmtp --version` runs (found on PATH).
pub fn msmtp_available() -> Result<(), String> {
    probe("msmtp", &["--version"]).map_err(|e| format!("msmtp is not usable ({e})"))
}

/// How the test server protects its port.
#[derive(Debug, Clone, Default)]
pub enum ServerSecurity {
    /// Plain text; AUTH offered without TLS.
    #[default]
    Plain,
    /// STARTTLS offered and required before AUTH and MAIL.
    StartTls { cert: PathBuf, key: PathBuf },
    /// Implicit TLS from the first byte.
    Tls { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    pub security: ServerSecurity,
    /// Credentials the server accepts; AUTH is then required before MAIL.
    pub auth: Option<(String, String)>,
    /// Put the rejected password (plain and base64) into the 535 reply.
    pub echo_auth: bool,
    /// Answer DATA with this failure instead of 250: a bare code ("451",
    /// "550") or a full reply ("451 4.3.0 try later").
    pub fail: Option<String>,
    /// Listen on this port instead of any free one (0), e.g. the port a
    /// "connection refused" test used before the server came up.
    pub port: u16,
}

impl ServerOptions {
    pub fn plain() -> Self {
        Self::default()
    }
    pub fn with_auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }
    pub fn with_starttls(mut self, ca: &TestCa) -> Self {
        self.security = ServerSecurity::StartTls {
            cert: ca.cert.clone(),
            key: ca.key.clone(),
        };
        self
    }
    pub fn with_tls(mut self, ca: &TestCa) -> Self {
        self.security = ServerSecurity::Tls {
            cert: ca.cert.clone(),
            key: ca.key.clone(),
        };
        self
    }
    pub fn echoing_rejected_passwords(mut self) -> Self {
        self.echo_auth = true;
        self
    }
    pub fn failing(mut self, reply: &str) -> Self {
        self.fail = Some(reply.to_string());
        self
    }
    pub fn on_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
    /// Whether the session was encrypted (STARTTLS or implicit TLS).
    pub tls: bool,
    /// The message bytes after dot-unstuffing, as the server stored them.
    pub data: Vec<u8>,
}

/// A running `smtp_server.py` on 127.0.0.1; killed on drop.
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Start a server on a free port. `None` (with a printed reason) when
    /// aiosmtpd is missing and CI is unset; panics if it is missing under CI
    /// or if the server fails to start.
    pub fn start(opts: &ServerOptions) -> Option<SmtpServer> {
        if let Err(reason) = aiosmtpd_available() {
            return skip(&reason);
        }
        let dir = tempfile::tempdir().expect("temp dir for the SMTP server");
        let spool = dir.path().join("spool");
        let port_file = dir.path().join("port");
        let log_path = dir.path().join("server.log");
        let log = File::create(&log_path).expect("server log file");

        let mut cmd = Command::new(python());
        cmd.arg(server_script())
            .arg("--port")
            .arg(opts.port.to_string())
            .arg("--port-file")
            .arg(&port_file)
            .arg("--spool")
            .arg(&spool);
        match &opts.security {
            ServerSecurity::Plain => {}
            ServerSecurity::StartTls { cert, key } => {
                cmd.arg("--starttls").arg(cert).arg(key);
            }
            ServerSecurity::Tls { cert, key } => {
                cmd.arg("--tls").arg(cert).arg(key);
            }
        }
        if let Some((user, password)) = &opts.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        if opts.echo_auth {
            cmd.arg("--echo-auth");
        }
        if let Some(fail) = &opts.fail {
            cmd.arg("--fail").arg(fail);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} {:?}: {e}", python(), server_script()));
        let mut server = SmtpServer {
            child,
            port: 0,
            dir,
        };

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            // The file is written by rename, so it is complete once present.
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse::<u16>()
            {
                server.port = port;
                return Some(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "SMTP test server exited ({status}) before listening:\n{}",
                    server.log()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "SMTP test server did not listen within {START_TIMEOUT:?}:\n{}",
                    server.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where accepted messages are stored (`N.eml` + `N.json`).
    pub fn spool_dir(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The server's stderr so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Every complete message so far, in arrival order. A message counts once
    /// its `N.json` exists (the server writes it after `N.eml`).
    pub fn received(&self) -> Vec<Received> {
        let spool = self.spool_dir();
        let mut numbered: Vec<(u64, PathBuf)> = match std::fs::read_dir(&spool) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|e| {
                    let path = e.path();
                    if path.extension()? != "json" {
                        return None;
                    }
                    let n = path.file_stem()?.to_str()?.parse().ok()?;
                    Some((n, path))
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        numbered.sort();
        numbered
            .into_iter()
            .map(|(n, json_path)| {
                let meta: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&json_path).expect("read spool json"))
                        .expect("spool json parses");
                let data = std::fs::read(spool.join(format!("{n}.eml"))).expect("read spool eml");
                Received {
                    mail_from: meta["mail_from"].as_str().unwrap_or_default().to_string(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    auth_user: meta["auth_user"].as_str().map(str::to_string),
                    tls: meta["tls"].as_bool().unwrap_or(false),
                    data,
                }
            })
            .collect()
    }

    /// Poll until at least `n` messages arrived; panics (with the server log)
    /// after `timeout`.
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= deadline {
                panic!(
                    "expected {n} message(s) within {timeout:?}, got {}; server log:\n{}",
                    got.len(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that nothing listened on a moment ago (for
/// "connection refused" tests).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A throw-away CA and a server certificate signed by it, valid for
/// `localhost`, `127.0.0.1` and `::1`. rustls rejects a bare self-signed
/// certificate used as a server certificate (`CaUsedAsEndEntity`), hence the
/// two levels and `basicConstraints=critical,CA:FALSE` on the leaf.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate (PEM): what clients trust (`ca_file`).
    pub ca_cert: PathBuf,
    /// The server certificate (PEM) and its key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// Generate into `dir` with the `openssl` CLI. `None` (with a printed
    /// reason) when openssl is missing and CI is unset.
    pub fn generate(dir: &Path) -> Option<TestCa> {
        if let Err(reason) = openssl_available() {
            return skip(&reason);
        }
        let ca_key = dir.join("ca.key");
        let ca_cert = dir.join("ca.pem");
        let key = dir.join("server.key");
        let csr = dir.join("server.csr");
        let cert = dir.join("server.pem");
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n\
             subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n",
        )
        .expect("write openssl extension file");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        run_openssl(
            &[
                &["req", "-x509", "-nodes", "-days", "3650"][..],
                &ec,
                &["-subj", "/CN=rsvp test CA"],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ],
            &[("-keyout", &ca_key), ("-out", &ca_cert)],
        );
        run_openssl(
            &[&["req", "-nodes"][..], &ec, &["-subj", "/CN=localhost"]],
            &[("-keyout", &key), ("-out", &csr)],
        );
        run_openssl(
            &[&["x509", "-req", "-days", "825", "-set_serial", "2"][..]],
            &[
                ("-in", &csr),
                ("-CA", &ca_cert),
                ("-CAkey", &ca_key),
                ("-extfile", &ext),
                ("-out", &cert),
            ],
        );
        Some(TestCa { ca_cert, cert, key })
    }
}

fn run_openssl(args: &[&[&str]], paths: &[(&str, &Path)]) {
    let mut cmd = Command::new("openssl");
    for group in args {
        cmd.args(*group);
    }
    for (flag, path) in paths {
        cmd.arg(flag).arg(path);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (checked available)");
    assert!(
        out.status.success(),
        "openssl {cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
