//! The SMTP timeout bounds the whole exchange, not each read: a server that
//! drips one byte now and then, or says nothing at all, cannot hold a send
//! longer than the timeout (plus scheduling slack), and the error says
//! "timed out after N s". The misbehaving servers are tiny loopback threads.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rsvp::adapters::smtp::{Security, SmtpSettings, SmtpTransport};
use rsvp::domain::ports::{Envelope, Transport, TransportError};

/// The configured timeout in these tests.
const TIMEOUT: Duration = Duration::from_secs(1);
/// How long a misbehaving server keeps the connection at most, so that a
/// client without a whole-exchange bound still ends (and fails the test).
const SERVER_LIFETIME: Duration = Duration::from_secs(12);
/// Generous upper bound of a send that honours TIMEOUT on a loaded machine
/// (the bug: a 5 s timeout held rsvp for 62 s; silence took twice the timeout).
const BOUND: Duration = Duration::from_millis(1800);

/// A server on 127.0.0.1 that handles one connection with `behave`.
fn server(behave: fn(TcpStream, &AtomicBool)) -> (u16, Arc<AtomicBool>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            behave(stream, &flag);
        }
    });
    (port, stop, handle)
}

/// Sends a greeting one byte every 200 ms: every read succeeds within any
/// per-read timeout, the reply never completes.
fn drip(mut stream: TcpStream, stop: &AtomicBool) {
    let started = Instant::now();
    let text = b"220 slow.example ESMTP ".repeat(100);
    for b in text {
        if stop.load(Ordering::Relaxed) || started.elapsed() > SERVER_LIFETIME {
            return;
        }
        if stream.write_all(&[b]).is_err() {
            return;
        }
        // Simulates a slow server; not synchronisation.
        thread::sleep(Duration::from_millis(200));
    }
}

/// Accepts and never says anything; returns when the client closes.
fn silent(mut stream: TcpStream, stop: &AtomicBool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) && started.elapsed() < SERVER_LIFETIME {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

fn transport(port: u16) -> SmtpTransport {
    SmtpTransport::new(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        username: None,
        password: None,
        ca_file: None,
        timeout: TIMEOUT,
    })
    .unwrap()
}

fn send(t: &SmtpTransport) -> (Result<(), TransportError>, Duration) {
    let envelope = Envelope {
        from: "me@example.org".into(),
        to: vec!["org@example.org".into()],
    };
    let started = Instant::now();
    let result = t.send(&envelope, b"Subject: x\r\n\r\nbody\r\n");
    (result, started.elapsed())
}

/// Issue 8 item 4: a server dripping one byte every 200 ms is cut off at
/// the timeout; the reply stays queued (temporary) and the error says so.
#[test]
fn dripping_server_is_cut_off_at_the_timeout() {
    let (port, stop, handle) = server(drip);
    let (result, elapsed) = send(&transport(port));
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(elapsed < BOUND, "send took {elapsed:?}: {text}");
    assert!(err.is_retryable(), "{err:?}");
    assert!(text.contains("timed out after 1 s"), "{text}");
    assert!(text.contains("127.0.0.1:"), "{text}");
}

/// Issue 8 item 4: a silent server costs the timeout once (not twice) and
/// is reported as a timeout, not as "Resource temporarily unavailable".
#[test]
fn silent_server_times_out_once_with_a_clear_message() {
    let (port, stop, handle) = server(silent);
    let (result, elapsed) = send(&transport(port));
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(elapsed < BOUND, "send took {elapsed:?}: {text}");
    assert!(elapsed >= TIMEOUT, "gave up early after {elapsed:?}");
    assert!(text.contains("timed out after 1 s"), "{text}");
    assert!(!text.contains("os error"), "{text}");
}
