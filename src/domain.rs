//! The pure core: no filesystem, network, clock, terminal or environment.
//! Everything that varies (now, the local zone, fresh ids) comes in as an
//! argument so results are deterministic.

pub mod answers;
pub mod apply;
pub mod classify;
pub mod describe;
pub mod diff;
pub mod extract;
pub mod ical;
pub mod identity;
pub mod invite;
pub mod overlap;
pub mod ports;
pub mod reply;
pub mod sanitize;
pub mod tz;
