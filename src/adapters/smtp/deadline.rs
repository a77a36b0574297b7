//! One deadline for a whole SMTP exchange. lettre's timeout bounds each read,
//! so a server that sends one byte now and then can hold a send for ever;
//! lettre therefore talks to the server through a loopback relay that closes
//! both connections when the deadline passes. Knows nothing of SMTP.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Connect to `host:port` (every resolved address in turn) before `deadline`.
pub(super) fn connect(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(ErrorKind::NotFound, "the host name has no address");
    for addr in (host, port).to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(ErrorKind::TimedOut, "connection timed out"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                // SMTP is a dialogue of short lines: Nagle's algorithm would
                // hold each one back until the last is acknowledged.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Run `exchange`, which must open one TCP connection to the address it is
/// given, relaying that connection to `upstream` until `deadline`; then both
/// are closed, so the exchange ends at the deadline at the latest. Returns
/// the exchange's result and whether the deadline cut it off.
pub(super) fn run<T: Send>(
    upstream: TcpStream,
    deadline: Instant,
    exchange: impl FnOnce(SocketAddr) -> T + Send,
) -> io::Result<(T, bool)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let local = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let timed_out = AtomicBool::new(false);
    let open: Mutex<Vec<TcpStream>> = Mutex::new(vec![upstream.try_clone()?]);
    let close_all = || {
        for s in open.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    };
    let result = thread::scope(|scope| {
        let talker = scope.spawn(|| exchange(local));
        if let Some(client) = accept_one(&listener, deadline, || talker.is_finished())
            && client.set_nonblocking(false).is_ok()
            && client.set_nodelay(true).is_ok()
            && let Ok(client2) = client.try_clone()
            && let Ok(upstream2) = upstream.try_clone()
        {
            if let Ok(c) = client.try_clone() {
                open.lock().unwrap_or_else(|p| p.into_inner()).push(c);
            }
            let timed_out = &timed_out;
            let upstream = &upstream;
            scope.spawn(move || pump(&client, upstream, deadline, timed_out));
            scope.spawn(move || pump(&upstream2, &client2, deadline, timed_out));
        }
        let result = talker.join();
        // Done (or failed): end the relay so that its threads return.
        close_all();
        result
    });
    match result {
        Ok(value) => Ok((value, timed_out.load(Ordering::SeqCst))),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The one connection the exchange makes; None when it finished (or the
/// deadline passed) without connecting.
fn accept_one(
    listener: &TcpListener,
    deadline: Instant,
    finished: impl Fn() -> bool,
) -> Option<TcpStream> {
    let mut pause = Duration::from_micros(200);
    loop {
        match listener.accept() {
            Ok((stream, _)) => return Some(stream),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if finished() || Instant::now() >= deadline {
                    return None;
                }
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Err(_) => return None,
        }
    }
}

/// Copy `from` to `to` until end of stream, an error or the deadline; at
/// the deadline both connections are shut down and `timed_out` is set.
fn pump(from: &TcpStream, to: &TcpStream, deadline: Instant, timed_out: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    let cut = || {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out.store(true, Ordering::SeqCst);
            cut();
            return;
        }
        if from.set_read_timeout(Some(left)).is_err() || to.set_write_timeout(Some(left)).is_err() {
            cut();
            return;
        }
        let mut reader = from;
        let read = reader.read(&mut buf);
        // Acknowledge at once: with the usual delayed ACK, a sender whose
        // small last write waits for that ACK (Nagle: lettre's "\r\n.\r\n"
        // after the message, a server's EHLO lines) stalls 40 ms each time.
        // The kernel clears the flag as it goes, so it is set per read.
        #[cfg(target_os = "linux")]
        let _ = rustix::net::sockopt::set_tcp_quickack(from, true);
        match read {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                let mut writer = to;
                if writer.write_all(buf.get(..n).unwrap_or_default()).is_err() {
                    if Instant::now() >= deadline {
                        timed_out.store(true, Ordering::SeqCst);
                    }
                    cut();
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => {
                cut();
                return;
            }
        }
    }
}
