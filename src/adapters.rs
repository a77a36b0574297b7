//! Adapters: the outside world behind the ports of `domain::ports`.

pub mod cache;
pub mod contacts;
mod fsutil;
pub mod maildir;
pub mod maildrop;
pub mod memory;
pub mod notmuch;
pub mod outbox;
pub mod probe;
pub mod sendmail;
pub mod smtp;
pub mod tombstones;
pub mod vdir;
