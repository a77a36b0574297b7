//! `rsvp check`'s SMTP probe: the exchange of a send without a message.

use super::{SmtpSettings, SmtpTransport, deadline};
use crate::adapters::probe::{ProbeFailure, ProbeStep, connect};
use crate::domain::ports::{Transport, TransportError};
use crate::domain::sanitize::terminal_excerpt;

/// Probe the server as a send would, but send no mail (`rsvp check`):
/// resolve the host, connect, then greeting, EHLO, STARTTLS or TLS, AUTH
/// when credentials are set, NOOP and QUIT. Returns the description.
pub fn probe(settings: SmtpSettings) -> Result<String, ProbeFailure> {
    let transport = SmtpTransport::new(settings.clone())
        .map_err(|e| ProbeFailure::new(ProbeStep::Session, e))?;
    let host = settings.host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    connect(host, settings.port, settings.timeout)?;
    let session = |e: TransportError| ProbeFailure::new(ProbeStep::Session, e);
    // The same bounded exchange as a send (connect, TLS, AUTH), then NOOP
    // and QUIT instead of a message.
    let deadline = std::time::Instant::now() + transport.timeout;
    let upstream =
        deadline::connect(&transport.connect_host, transport.port, deadline).map_err(|e| {
            session(TransportError::Connection {
                server: transport.server.clone(),
                message: terminal_excerpt(&e.to_string(), 300),
            })
        })?;
    let (result, timed_out) = deadline::run(upstream, deadline, |relay| {
        transport.lettre_via(relay).test_connection()
    })
    .map_err(|e| {
        session(TransportError::Temporary {
            server: transport.server.clone(),
            message: format!("cannot set up the connection: {e}"),
        })
    })?;
    match result {
        Ok(true) => Ok(transport.describe()),
        Ok(false) => Err(session(TransportError::Connection {
            server: transport.server.clone(),
            message: "the server closed the session after login".to_string(),
        })),
        Err(_) if timed_out => Err(session(TransportError::Temporary {
            server: transport.server.clone(),
            message: transport.timed_out(),
        })),
        Err(e) => {
            let error = transport.error(&e);
            let step = if matches!(error, TransportError::Auth { .. }) {
                ProbeStep::Auth
            } else {
                ProbeStep::Session
            };
            Err(ProbeFailure::new(step, error))
        }
    }
}
