//! rsvp — a terminal inbox for calendar invitations that arrive by email.
//!
//! This is the architecture of record (`../shared/docs/ARCHITECTURE.md` is
//! the direction; where the two differ, these docs say what is).
//!
//! # Layers
//!
//! ```text
//! main.rs   composition root: parse the command line, load the config, build
//!           the adapters and ONE inbox::Inbox, hand it to cli:: or tui::.
//!           The only file that names concrete adapters.
//! cli/      one file per subcommand over the Inbox; stdout is data, stderr
//!           diagnostics; --json.
//! tui/      state (UI state; its rows are inbox::Item) · update (pure:
//!           state + Msg -> Effects) · worker (runs Effects through the Inbox
//!           on its own thread) · view (pure render).
//! inbox/    the Inbox session (session.rs): owns the ports, the mail source
//!           and the caches; list, item, find_uid, adhoc, respond, apply,
//!           dismiss, reindex, flush. One read model, Item (item.rs): pending,
//!           recurring, my answer are defined there once; the tag policy and
//!           the send/store ordering (R9.13, respond.rs) live here only.
//! adapters/ the outside world behind domain::ports: notmuch (index, query,
//!           tags), maildir, vdir (calendar store), smtp, sendmail, outbox
//!           (durable queue), tombstones, cache (files under
//!           $XDG_CACHE_HOME/rsvp), memory (tests and the demo).
//! domain/   pure: no filesystem, network, clock, terminal or environment.
//!           extract, ical, invite, identity, classify, diff, reply, apply,
//!           overlap, tz, sanitize, describe; ports.rs holds the traits.
//! config.rs TOML -> typed Config; keymap.rs named actions and key tables;
//! demo.rs   the bundled demo data.
//! ```
//!
//! Who may import what is checked by `tests/architecture.rs` (an allowlist
//! per layer): cli and tui reach the use cases only through `inbox` and
//! never name an adapter; inbox uses only domain; adapters only domain;
//! domain nothing of the crate. The compiler bans `unwrap`, `expect`,
//! `panic!` and indexing outside tests (`[lints]` in Cargo.toml).
//!
//! # The Inbox session
//!
//! `main.rs` builds one [`inbox::Inbox`] per run from [`inbox::Ports`]
//! (calendar store, the other calendars read only for busy times, outbox,
//! tombstones, transport, mail source, mail index, cache store) and
//! [`inbox::Settings`] (identity, zone, trust, declined, clock, ids, log). Faces name items by key (the mail index's message id, or `given:N`
//! for a message passed with `--message` or on standard input, see
//! [`inbox::Inbox::adhoc`]); the session remembers which message files make
//! up each item, to read and tag them.
//!
//! A listing costs one stat per candidate and one scan of each calendar
//! directory (one stat per file, on every core, started with the listing
//! on its own thread), plus one query of the mail index only when its
//! revision moved. A calendar directory whose own identity (its ctime
//! above all, which any file created, removed or renamed in it changes)
//! is what it was at the last listing is not read again: its names come
//! from `vdir-names-*.bin` beside the cache (`adapters/vdir/listing.rs`);
//! its files are still stat'ed, so an edit in place is seen. A listing
//! with no saved rows to start from indexes the calendar on its own
//! thread while the mail index answers, and builds its items on every
//! core (`inbox/list.rs`). Three things
//! are saved between runs
//! under `$XDG_CACHE_HOME/rsvp` (`inbox/cache.rs`), each file atomically
//! and with a checksum:
//!
//! - the rows of the last listing, with what each was computed from: the
//!   mail index's revision and the candidates' stamps, a digest of every
//!   calendar file's stamp, the tombstones, the queued replies, the
//!   contacts' answers and the moment a row changes with the time alone.
//!   When nothing changed, the listing IS those rows: no message, calendar
//!   file or saved parse is read. The rows carry no classification
//!   ([`inbox::Item::shown`] is `None`) and no day agenda;
//!   [`inbox::Inbox::item`] builds one item whole, and the TUI asks for
//!   the selected row's details in the background. `rsvp list` lists with
//!   [`inbox::Inbox::list_rows_then`], which drops each rebuilt item's
//!   classification as soon as its row is made, and prints the rows while
//!   the cache is saved (each changed file on a thread of its own);
//! - the parsed messages, by file identity (path, size, mtime and ctime in
//!   ns, inode);
//! - the calendar index (UID -> file, busy intervals), by calendar file
//!   identity, with a log of the busy intervals of every file read again
//!   since the rows were saved (a file with one plain event is indexed
//!   without the full parser: `domain::overlap::plain`). Its file starts with each file's name,
//!   stamp and UIDs, so an answer decodes only those.
//!
//! An answered, applied or dismissed row is dropped from the saved rows
//! by writing a short list of dropped keys beside them (the rows file is
//! not rewritten), before anything is sent.
//!
//! When something changed, only changed files are read (the messages by
//! the mail source one at a time, then parsed a batch at a time on every
//! core; calendar files read and indexed the same way), and each saved row
//! is taken again when its own messages, stored copy, tombstone, queue
//! state and contacts are unchanged and no logged busy interval touches
//! one of its occurrences; the others are rebuilt. A file changed within
//! the timestamp granularity before it was read is read again next time.
//! Losing or corrupting the cache costs time, never data. Tombstones and
//! the outbox are read once per listing. A candidate whose file is gone (a
//! mail client moved it since `notmuch new`) is found again by its Maildir
//! unique name, or listed as unreadable.
//!
//! # One answer, end to end
//!
//! 1. The mail index (notmuch) answers the candidate query; the listing
//!    groups messages by UID and shows the newest version (SEQUENCE, then
//!    DTSTAMP) as an [`inbox::Item`].
//! 2. `domain::extract` finds the calendar part; `ical` parses it leniently;
//!    `invite` models it; `identity` finds me among the attendees.
//! 3. `classify` compares it with the stored copy (found through the
//!    calendar index) and `diff` lists what changed. Before a write the
//!    vdir finds the UID's file through its own index, primed once per
//!    session from the saved calendar index (by the TUI right after it
//!    paints, else by the first write): it trusts a file the
//!    directory still lists under the same name and inode, and reads files
//!    created or replaced since (`adapters::vdir`); no file is stat'ed on
//!    the way to a reply.
//! 4. The user presses a / d / t (optionally with a comment, for the series
//!    or one occurrence): the TUI's worker, or `rsvp reply`, calls
//!    [`inbox::Inbox::respond`].
//! 5. `reply` builds the REPLY calendar and the iMIP message; `apply` builds
//!    the new stored object.
//! 6. `inbox::respond` puts the message in the durable outbox, staged
//!    (same Message-ID on every retry; answering again reuses it), writes
//!    the calendar atomically (temp file, fsync, rename-exchange, a
//!    concurrent write put back), marks the entry sendable, then sends: a
//!    crash at any point never leaves a reply the calendar does not hold,
//!    and delivery is at least once with one Message-ID. A failed send
//!    leaves the reply queued (temporary) or apart (refused for good).
//! 7. The session tags the item's messages (`rsvp/accepted` …) in the mail
//!    index.
//!
//! The TUI never blocks on this: at start it paints the rows saved last
//! time at once (an item answered since is not among them), primes the
//! calendar store for a first answer, waits a moment for a key, then lists;
//! the worker runs answers before the selected row's details and before
//! queued refreshes (which coalesce), and indexes new mail in the
//! background.

pub mod adapters;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod inbox;
pub mod keymap;
pub mod tui;
