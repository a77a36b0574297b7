//! The terminal face: `run()` owns the terminal (init/restore on every exit
//! path and on panic), reads key presses, feeds `update`, draws `view`, and
//! hands effects to the worker. The layers:
//!
//! - `state` — UI state only; its rows are the inbox's read model (`inbox::Item`)
//! - `update` — `update(&mut State, Msg) -> Vec<Effect>`, no I/O
//! - `worker` — runs effects on a thread through the `inbox::Inbox`
//! - `view` — pure rendering
//!
//! Logs go to a file (under the XDG state dir), never to the terminal.

pub mod log;
pub mod state;
pub mod update;
pub mod view;
pub mod worker;

use crate::domain::diff::Clock;
use crate::keymap::{Key, KeyCode, Keymap};
use crossterm::event::{self, Event, KeyEvent, KeyEventKind, KeyModifiers};
use log::Log;
use state::State;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use update::{Effect, Msg};
use worker::{Factory, Worker};

/// How long the terminal waits for a key before looking at the worker.
const POLL: Duration = Duration::from_millis(50);
/// How long quitting waits for a job in flight (an SMTP send) to finish.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// How the TUI looks and behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// The live key table (defaults + `[keys]`).
    pub keymap: Keymap,
    /// The user's time zone.
    pub clock: Clock,
    /// Colours on; false when NO_COLOR is set.
    pub color: bool,
    /// `$VISUAL`/`$EDITOR` for long comments, if set.
    pub editor: Option<String>,
    /// The log file (e.g. `$XDG_STATE_HOME/rsvp/rsvp.log`); `None`: no log.
    pub log_file: Option<PathBuf>,
    /// The heading ("rsvp", "rsvp demo").
    pub title: String,
    /// `[ui] confirm`: ask before mailing an answer.
    pub confirm: bool,
    /// `[ui] open_command`, else `$PAGER`, else `less`: shows the original
    /// message; the file path is `$1` and the Message-ID `$2`.
    pub open_command: String,
}

impl Options {
    /// Options with colour and editor taken from the environment
    /// (`NO_COLOR`, `VISUAL`, `EDITOR`).
    pub fn from_env(keymap: Keymap, clock: Clock, log_file: Option<PathBuf>) -> Options {
        Options {
            keymap,
            clock,
            color: color_allowed(std::env::var_os("NO_COLOR").as_deref()),
            editor: ["VISUAL", "EDITOR"]
                .iter()
                .filter_map(|v| std::env::var(v).ok())
                .map(|e| e.trim().to_string())
                .find(|e| !e.is_empty()),
            log_file,
            title: "rsvp".to_string(),
            confirm: false,
            open_command: std::env::var("PAGER")
                .ok()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .map_or_else(|| "less \"$1\"".to_string(), |p| format!("{p} \"$1\"")),
        }
    }
}

/// NO_COLOR (no-color.org): colours are off when it is set and not empty.
pub fn color_allowed(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|v| v.is_empty())
}

/// The log file under a state directory.
pub fn log_file_in(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("rsvp.log")
}

/// The initial state for `options`.
pub fn initial_state(options: &Options) -> State {
    let mut state = State::new(options.keymap.clone(), options.clock);
    state.color = options.color;
    state.editor = options.editor.is_some();
    state.title = options.title.clone();
    state.confirm = options.confirm;
    state
}

/// A crossterm key press as a keymap key (`None` for keys rsvp ignores).
pub fn key_of(event: &KeyEvent) -> Option<Key> {
    use crossterm::event::KeyCode as C;
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    let code = match event.code {
        // Shift is already in the character ('A', '?').
        C::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::F(n) => KeyCode::F(n),
        _ => return None,
    };
    Some(Key { code, ctrl, alt })
}

/// Open the TUI until the user quits.
///
/// `factory` runs once on the worker thread and builds the
/// [`crate::inbox::Inbox`] the worker answers through. The terminal is
/// restored on every exit path and on panic (ratatui's hook, chained after
/// ours that logs the panic).
pub fn run(options: Options, factory: Factory) -> anyhow::Result<()> {
    let log = Arc::new(Log::open(options.log_file.as_deref()));
    log.line("info tui starting");
    install_panic_log(log.clone());
    let (tx, rx) = mpsc::channel::<Msg>();
    let worker = Worker::spawn(
        factory,
        move |m| {
            let _ = tx.send(m);
        },
        log.clone(),
    )?;
    let mut state = initial_state(&options);
    // try_init: raw mode, alternate screen, and a panic hook that restores
    // the terminal before chaining to the previous hook.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            worker.shutdown(Duration::ZERO);
            return Err(anyhow::anyhow!("cannot open the terminal: {e}"));
        }
    };
    let result = event_loop(&mut terminal, &mut state, &worker, &rx, &options, &log);
    ratatui::restore();
    if !worker.shutdown(SHUTDOWN_WAIT) {
        log.line("warning worker still busy at exit; queued replies stay in the outbox");
    }
    log.line("info tui stopped");
    result
}

fn install_panic_log(log: Arc<Log>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        log.line(&format!("error panic: {info}"));
        previous(info);
    }));
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    worker: &Worker,
    rx: &mpsc::Receiver<Msg>,
    options: &Options,
    log: &Log,
) -> anyhow::Result<()> {
    let mut effects = update::init(state);
    let mut dirty = true;
    loop {
        while !effects.is_empty() {
            let mut follow = Vec::new();
            for effect in effects.drain(..) {
                if let Some(msg) = dispatch(terminal, worker, options, effect) {
                    follow.extend(update::update(state, msg));
                }
            }
            effects = follow;
            dirty = true;
        }
        if state.quit {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| view::render(state, f))?;
            dirty = false;
        }
        if event::poll(POLL)? {
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    if let Some(key) = key_of(&k) {
                        effects.extend(update::update(state, Msg::Key(key)));
                    }
                    dirty = true;
                }
                Event::Resize(w, h) => {
                    log.line(&format!("debug resized to {w}x{h}"));
                    terminal.autoresize()?;
                    dirty = true;
                }
                _ => {}
            }
        }
        while let Ok(msg) = rx.try_recv() {
            effects.extend(update::update(state, msg));
            dirty = true;
        }
    }
}

/// Hand an effect to whoever runs it; a message comes back when it is
/// answered right here (the editor) or the worker is gone.
fn dispatch(
    terminal: &mut ratatui::DefaultTerminal,
    worker: &Worker,
    options: &Options,
    effect: Effect,
) -> Option<Msg> {
    match effect {
        Effect::EditComment { text } => Some(Msg::Edited(match &options.editor {
            Some(editor) => edit_in_editor(terminal, editor, &text),
            None => Err("no $EDITOR or $VISUAL set".to_string()),
        })),
        Effect::OpenMessage { path, message_id } => Some(Msg::Opened(open_message(
            terminal,
            &options.open_command,
            &path,
            message_id.as_deref().unwrap_or(""),
        ))),
        other => worker.send(other).err().map(Msg::WorkerGone),
    }
}

/// Leave the TUI, run `$EDITOR` on a temporary file holding `text`, come
/// back and return the edited text.
fn edit_in_editor(
    terminal: &mut ratatui::DefaultTerminal,
    editor: &str,
    text: &str,
) -> Result<String, String> {
    let file = tempfile::Builder::new()
        .prefix("rsvp-comment-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    std::fs::write(file.path(), text).map_err(|e| format!("{}: {e}", file.path().display()))?;
    ratatui::restore();
    // The editor may carry arguments ("code -w"): let the shell split it,
    // and pass the file name as a separate argument, never interpolated.
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status();
    let back = reenter(terminal);
    let status = status.map_err(|e| format!("cannot run {editor:?}: {e}"))?;
    back?;
    if !status.success() {
        return Err(format!(
            "{editor:?} exited with {status}; comment unchanged"
        ));
    }
    std::fs::read_to_string(file.path()).map_err(|e| format!("{}: {e}", file.path().display()))
}

/// Leave the TUI, run the open command (`$1` the message file, `$2` its
/// Message-ID, never interpolated into the command), come back.
fn open_message(
    terminal: &mut ratatui::DefaultTerminal,
    command: &str,
    path: &str,
    message_id: &str,
) -> Result<(), String> {
    if path.is_empty() || path.starts_with("given:") {
        return Err("this message has no file".to_string());
    }
    ratatui::restore();
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .arg("sh")
        .arg(path)
        .arg(message_id)
        .status();
    let back = reenter(terminal);
    let status = status.map_err(|e| format!("cannot run {command:?}: {e}"))?;
    back?;
    if !status.success() {
        return Err(format!("{command:?} exited with {status}"));
    }
    Ok(())
}

fn reenter(terminal: &mut ratatui::DefaultTerminal) -> Result<(), String> {
    crossterm::terminal::enable_raw_mode().map_err(|e| e.to_string())?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)
        .map_err(|e| e.to_string())?;
    terminal.clear().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyCode as C;

    #[test]
    fn no_color_set_and_non_empty_turns_colours_off() {
        assert!(color_allowed(None));
        assert!(color_allowed(Some(std::ffi::OsStr::new(""))));
        assert!(!color_allowed(Some(std::ffi::OsStr::new("1"))));
    }

    #[test]
    fn crossterm_keys_map_to_keymap_keys() {
        let k = |code, m| key_of(&KeyEvent::new(code, m));
        assert_eq!(k(C::Char('a'), KeyModifiers::NONE), Some(Key::char('a')));
        assert_eq!(k(C::Char('A'), KeyModifiers::SHIFT), Some(Key::char('A')));
        assert_eq!(k(C::Char('C'), KeyModifiers::CONTROL), Some(Key::ctrl('c')));
        assert_eq!(
            k(C::Down, KeyModifiers::NONE),
            Some(Key::new(KeyCode::Down))
        );
        assert_eq!(k(C::CapsLock, KeyModifiers::NONE), None);
        let keymap = Keymap::defaults();
        assert_eq!(
            keymap.action(k(C::Char('c'), KeyModifiers::CONTROL).unwrap()),
            Some(crate::keymap::Action::Quit)
        );
    }
}
