//! rsvp — a terminal inbox for calendar invitations that arrive by email.
//!
//! Layers (see `../shared/docs/ARCHITECTURE.md`): `domain` is pure, `adapters`
//! talk to the outside world, `inbox` holds the use cases shared by the
//! command line (`cli`) and the TUI.

pub mod adapters;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod inbox;
pub mod keymap;
pub mod tui;
