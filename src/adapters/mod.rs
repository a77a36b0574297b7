//! Adapters: the outside world behind the ports of `domain::ports`.

pub mod outbox;
pub mod sendmail;
pub mod smtp;
pub mod vdir;
