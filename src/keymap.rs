//! Named actions, their default keys, user overrides from `[keys]`, and the
//! help text generated from the live table. Knows nothing about terminals:
//! `tui.rs` turns crossterm events into [`Key`]s.

use std::fmt;

/// Something the user can ask for with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Down,
    Up,
    First,
    Last,
    PageDown,
    PageUp,
    FocusDetail,
    Back,
    Accept,
    Decline,
    Tentative,
    AcceptWithComment,
    DeclineWithComment,
    TentativeWithComment,
    AnswerNoSend,
    ChooseOccurrence,
    Apply,
    Dismiss,
    Reindex,
    Filter,
    TogglePending,
    RetryOutbox,
    DropRefused,
    UndoDismiss,
    OpenMessage,
    Help,
    Quit,
}

impl Action {
    /// Every action, in the order the help lists them.
    pub const ALL: [Action; 27] = [
        Action::Down,
        Action::Up,
        Action::First,
        Action::Last,
        Action::PageDown,
        Action::PageUp,
        Action::FocusDetail,
        Action::Back,
        Action::Accept,
        Action::Decline,
        Action::Tentative,
        Action::AcceptWithComment,
        Action::DeclineWithComment,
        Action::TentativeWithComment,
        Action::AnswerNoSend,
        Action::ChooseOccurrence,
        Action::Apply,
        Action::Dismiss,
        Action::Reindex,
        Action::Filter,
        Action::TogglePending,
        Action::RetryOutbox,
        Action::DropRefused,
        Action::UndoDismiss,
        Action::OpenMessage,
        Action::Help,
        Action::Quit,
    ];

    /// The name used in `[keys]` (snake_case).
    pub fn name(self) -> &'static str {
        match self {
            Action::Down => "down",
            Action::Up => "up",
            Action::First => "first",
            Action::Last => "last",
            Action::PageDown => "page_down",
            Action::PageUp => "page_up",
            Action::FocusDetail => "focus_detail",
            Action::Back => "back",
            Action::Accept => "accept",
            Action::Decline => "decline",
            Action::Tentative => "tentative",
            Action::AcceptWithComment => "accept_with_comment",
            Action::DeclineWithComment => "decline_with_comment",
            Action::TentativeWithComment => "tentative_with_comment",
            Action::AnswerNoSend => "answer_no_send",
            Action::ChooseOccurrence => "choose_occurrence",
            Action::Apply => "apply",
            Action::Dismiss => "dismiss",
            Action::Reindex => "reindex",
            Action::Filter => "filter",
            Action::TogglePending => "toggle_pending",
            Action::RetryOutbox => "retry_outbox",
            Action::DropRefused => "drop_refused",
            Action::UndoDismiss => "undo_dismiss",
            Action::OpenMessage => "open_message",
            Action::Help => "help",
            Action::Quit => "quit",
        }
    }

    /// The action called `name` in `[keys]`.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// One line for the help screen.
    pub fn description(self) -> &'static str {
        match self {
            Action::Down => "next invitation (in the detail: scroll down)",
            Action::Up => "previous invitation (in the detail: scroll up)",
            Action::First => "first invitation",
            Action::Last => "last invitation",
            Action::PageDown => "scroll the detail down",
            Action::PageUp => "scroll the detail up",
            Action::FocusDetail => "focus the detail pane, or back to the list",
            Action::Back => "close the help or a prompt; back to the list",
            Action::Accept => "accept",
            Action::Decline => "decline",
            Action::Tentative => "answer tentatively",
            Action::AcceptWithComment => "accept with a comment",
            Action::DeclineWithComment => "decline with a comment",
            Action::TentativeWithComment => "tentative with a comment",
            Action::AnswerNoSend => "next answer (a/d/t) not mailed: calendar only",
            Action::ChooseOccurrence => "answer one occurrence or the whole series",
            Action::Apply => "apply a cancellation or update to the calendar",
            Action::Dismiss => "dismiss: mark as done without replying",
            Action::Reindex => "look for new mail (re-index)",
            Action::Filter => "filter the list by text",
            Action::TogglePending => "show pending only / everything",
            Action::RetryOutbox => "retry sending queued replies",
            Action::DropRefused => "drop the replies the mail server refused for good",
            Action::UndoDismiss => "undo a dismissal (the selected row, else the last one)",
            Action::OpenMessage => "open the original message ($PAGER or [ui] open_command)",
            Action::Help => "this help",
            Action::Quit => "quit",
        }
    }

    /// A short word for the hint line.
    pub fn hint(self) -> &'static str {
        match self {
            Action::Down => "down",
            Action::Up => "up",
            Action::First => "first",
            Action::Last => "last",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::FocusDetail => "detail",
            Action::Back => "back",
            Action::Accept => "accept",
            Action::Decline => "decline",
            Action::Tentative => "tentative",
            Action::AcceptWithComment => "accept+comment",
            Action::DeclineWithComment => "decline+comment",
            Action::TentativeWithComment => "tentative+comment",
            Action::AnswerNoSend => "no mail",
            Action::ChooseOccurrence => "occurrence",
            Action::Apply => "apply",
            Action::Dismiss => "dismiss",
            Action::Reindex => "re-index",
            Action::Filter => "filter",
            Action::TogglePending => "pending/all",
            Action::RetryOutbox => "retry outbox",
            Action::DropRefused => "drop refused",
            Action::UndoDismiss => "undo dismiss",
            Action::OpenMessage => "open message",
            Action::Help => "help",
            Action::Quit => "quit",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    /// A printable character; Shift is part of it (`A`, `?`).
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    F(u8),
}

/// A key press: a key and the Ctrl/Alt modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

/// The key names accepted in `[keys]`, for error messages.
const KEY_NAMES: &str = "a single character such as \"a\", \"A\" or \"?\", \"Space\", Enter, Esc, Tab, \
     BackTab, Backspace, Delete, Up, Down, Left, Right, Home, End, PageUp, PageDown, F1-F12, \
     optionally prefixed with Ctrl- and/or Alt-";

impl Key {
    /// A plain key.
    pub const fn new(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
        }
    }

    /// A printable character.
    pub const fn char(c: char) -> Key {
        Key::new(KeyCode::Char(c))
    }

    /// Ctrl + a character (stored in lower case, as terminals send it).
    pub fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c.to_ascii_lowercase()),
            ctrl: true,
            alt: false,
        }
    }

    /// Parse `a`, `A`, `?`, `Space`, `Enter`, `Ctrl-c`, `Alt-Down`, `F5` ...
    pub fn parse(text: &str) -> Result<Key, String> {
        let bad = || format!("{text:?} is not a key (expected {KEY_NAMES})");
        if text.is_empty() {
            return Err(bad());
        }
        let mut rest = text;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            let cut = if lower.starts_with("ctrl-") || lower.starts_with("ctrl+") {
                ctrl = true;
                5
            } else if lower.starts_with("alt-") || lower.starts_with("alt+") {
                alt = true;
                4
            } else {
                break;
            };
            rest = rest.get(cut..).ok_or_else(bad)?;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(bad()),
            (Some(c), None) if !c.is_control() && c != ' ' => {
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
            (Some(_), None) => return Err(bad()),
            _ => match rest.to_ascii_lowercase().as_str() {
                "space" => KeyCode::Char(' '),
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                other => match other.strip_prefix('f').map(str::parse::<u8>) {
                    Some(Ok(n)) if (1..=12).contains(&n) => KeyCode::F(n),
                    _ => return Err(bad()),
                },
            },
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("BackTab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Up => f.write_str("Up"),
            KeyCode::Down => f.write_str("Down"),
            KeyCode::Left => f.write_str("Left"),
            KeyCode::Right => f.write_str("Right"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PageUp"),
            KeyCode::PageDown => f.write_str("PageDown"),
            KeyCode::F(n) => write!(f, "F{n}"),
        }
    }
}

/// One line of the generated help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    pub action: Action,
    /// The keys, e.g. `j, Down`; empty when the action is unbound.
    pub keys: String,
    pub description: &'static str,
}

/// The live key table: every action with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Action, Vec<Key>)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap::defaults()
    }
}

impl Keymap {
    /// The default bindings (README "Keys").
    pub fn defaults() -> Keymap {
        use KeyCode as K;
        let k = Key::new;
        let c = Key::char;
        let bindings = Action::ALL
            .into_iter()
            .map(|a| {
                let keys = match a {
                    Action::Down => vec![c('j'), k(K::Down)],
                    Action::Up => vec![c('k'), k(K::Up)],
                    Action::First => vec![c('g'), k(K::Home)],
                    Action::Last => vec![c('G'), k(K::End)],
                    Action::PageDown => vec![k(K::PageDown), Key::ctrl('f')],
                    Action::PageUp => vec![k(K::PageUp), Key::ctrl('b')],
                    Action::FocusDetail => vec![k(K::Enter), k(K::Tab)],
                    Action::Back => vec![k(K::Esc)],
                    Action::Accept => vec![c('a')],
                    Action::Decline => vec![c('d')],
                    Action::Tentative => vec![c('t')],
                    Action::AcceptWithComment => vec![c('A')],
                    Action::DeclineWithComment => vec![c('D')],
                    Action::TentativeWithComment => vec![c('T')],
                    Action::AnswerNoSend => vec![c('n')],
                    Action::ChooseOccurrence => vec![c('i')],
                    Action::Apply => vec![c('c')],
                    Action::Dismiss => vec![c('x')],
                    Action::Reindex => vec![c('r')],
                    Action::Filter => vec![c('/')],
                    Action::TogglePending => vec![c('p')],
                    Action::RetryOutbox => vec![c('R')],
                    Action::DropRefused => vec![c('X')],
                    Action::UndoDismiss => vec![c('u')],
                    Action::OpenMessage => vec![c('o')],
                    Action::Help => vec![c('?')],
                    Action::Quit => vec![c('q'), Key::ctrl('c')],
                };
                (a, keys)
            })
            .collect();
        Keymap { bindings }
    }

    /// The defaults with `overrides` (action name → key strings) replacing
    /// the keys of the named actions. A key given to an action takes it
    /// from the action it was a default of (as a `bind` in mutt or aerc
    /// does): a new default key never breaks a configuration that already
    /// used it. Returns every problem at once: unknown action names,
    /// unparsable keys, a key given to two actions, and `quit` left without
    /// a key.
    pub fn with_overrides<'a, I>(overrides: I) -> Result<Keymap, Vec<String>>
    where
        I: IntoIterator<Item = (&'a str, &'a [String])>,
    {
        let mut map = Keymap::defaults();
        let mut problems = Vec::new();
        // The actions the user gave keys to.
        let mut given: Vec<Action> = Vec::new();
        for (name, keys) in overrides {
            let Some(action) = Action::from_name(name) else {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                problems.push(format!(
                    "unknown action {name:?} (expected one of: {})",
                    names.join(", ")
                ));
                continue;
            };
            let mut parsed = Vec::new();
            for text in keys {
                match Key::parse(text) {
                    Ok(key) if parsed.contains(&key) => {
                        problems.push(format!("{name}: key {text:?} is listed twice"));
                    }
                    Ok(key) => parsed.push(key),
                    Err(e) => problems.push(format!("{name}: {e}")),
                }
            }
            if let Some(slot) = map.bindings.iter_mut().find(|(a, _)| *a == action) {
                slot.1 = parsed;
            }
            if !given.contains(&action) {
                given.push(action);
            }
        }
        // The keys given take precedence over the defaults of the others.
        let taken: Vec<Key> = map
            .bindings
            .iter()
            .filter(|(a, _)| given.contains(a))
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect();
        for (action, keys) in &mut map.bindings {
            if !given.contains(action) {
                keys.retain(|k| !taken.contains(k));
            }
        }
        if map.keys(Action::Quit).is_empty() {
            problems.push("quit: needs at least one key".to_string());
        }
        let mut seen: Vec<(Key, Action)> = Vec::new();
        for (action, keys) in &map.bindings {
            for key in keys {
                match seen.iter().find(|(k, _)| k == key) {
                    Some((_, other)) => problems.push(format!(
                        "key \"{key}\" is bound to both {other} and {action}; \
                         give one of them another key"
                    )),
                    None => seen.push((*key, *action)),
                }
            }
        }
        if problems.is_empty() {
            Ok(map)
        } else {
            Err(problems)
        }
    }

    /// The action bound to `key`, if any.
    pub fn action(&self, key: Key) -> Option<Action> {
        self.bindings
            .iter()
            .find(|(_, keys)| keys.contains(&key))
            .map(|(a, _)| *a)
    }

    /// The keys of `action` (may be empty when the user unbound it).
    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[])
    }

    /// The first key of `action` as text, for hints; `None` when unbound.
    pub fn label(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(Key::to_string)
    }

    /// The help, one line per action, from the live bindings.
    pub fn help(&self) -> Vec<HelpLine> {
        self.bindings
            .iter()
            .map(|(action, keys)| HelpLine {
                action: *action,
                keys: keys
                    .iter()
                    .map(Key::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                description: action.description(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over(pairs: &[(&str, &[&str])]) -> Result<Keymap, Vec<String>> {
        let owned: Vec<(String, Vec<String>)> = pairs
            .iter()
            .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
            .collect();
        Keymap::with_overrides(owned.iter().map(|(a, k)| (a.as_str(), k.as_slice())))
    }

    #[test]
    fn defaults_match_the_issue() {
        let m = Keymap::defaults();
        let a = |s: &str| m.action(Key::parse(s).unwrap());
        assert_eq!(a("j"), Some(Action::Down));
        assert_eq!(a("Down"), Some(Action::Down));
        assert_eq!(a("k"), Some(Action::Up));
        assert_eq!(a("Up"), Some(Action::Up));
        assert_eq!(a("Enter"), Some(Action::FocusDetail));
        assert_eq!(a("a"), Some(Action::Accept));
        assert_eq!(a("d"), Some(Action::Decline));
        assert_eq!(a("t"), Some(Action::Tentative));
        assert_eq!(a("A"), Some(Action::AcceptWithComment));
        assert_eq!(a("D"), Some(Action::DeclineWithComment));
        assert_eq!(a("T"), Some(Action::TentativeWithComment));
        assert_eq!(a("i"), Some(Action::ChooseOccurrence));
        assert_eq!(a("c"), Some(Action::Apply));
        assert_eq!(a("x"), Some(Action::Dismiss));
        assert_eq!(a("r"), Some(Action::Reindex));
        assert_eq!(a("/"), Some(Action::Filter));
        assert_eq!(a("p"), Some(Action::TogglePending));
        assert_eq!(a("?"), Some(Action::Help));
        assert_eq!(a("q"), Some(Action::Quit));
        assert_eq!(a("R"), Some(Action::RetryOutbox));
        assert_eq!(a("Ctrl-c"), Some(Action::Quit));
        assert_eq!(a("z"), None);
    }

    #[test]
    fn defaults_have_no_conflicts_and_every_action_a_key() {
        let m = over(&[]).expect("defaults validate");
        for action in Action::ALL {
            assert!(!m.keys(action).is_empty(), "{action} has no default key");
        }
    }

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
        assert_eq!(Action::from_name("Accept"), None);
    }

    #[test]
    fn key_strings_parse_and_display() {
        for (text, shown) in [
            ("a", "a"),
            ("A", "A"),
            ("?", "?"),
            ("/", "/"),
            ("-", "-"),
            ("Space", "Space"),
            ("enter", "Enter"),
            ("ESC", "Esc"),
            ("PgDn", "PageDown"),
            ("Ctrl-C", "Ctrl-c"),
            ("ctrl+x", "Ctrl-x"),
            ("Alt-Down", "Alt-Down"),
            ("Ctrl-Alt-k", "Ctrl-Alt-k"),
            ("F5", "F5"),
            ("é", "é"),
        ] {
            let key = Key::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(key.to_string(), shown, "{text}");
            assert_eq!(Key::parse(shown), Ok(key), "{shown} round-trips");
        }
    }

    #[test]
    fn bad_key_strings_are_refused_with_the_value_quoted() {
        for text in [
            "", "Ctrl-", "ab", "Ctlr-a", "F13", "F0", " ", "\u{1b}", "Shift-a",
        ] {
            let e = Key::parse(text).expect_err(text);
            assert!(e.starts_with(&format!("{text:?} is not a key")), "{e}");
        }
    }

    #[test]
    fn override_replaces_the_keys_of_one_action() {
        let m = over(&[("accept", &["y"]), ("down", &["J", "Down"])]).unwrap();
        assert_eq!(m.action(Key::char('y')), Some(Action::Accept));
        assert_eq!(m.action(Key::char('a')), None, "the default is replaced");
        assert_eq!(m.action(Key::char('J')), Some(Action::Down));
        assert_eq!(m.action(Key::char('j')), None);
        assert_eq!(m.label(Action::Accept).as_deref(), Some("y"));
    }

    #[test]
    fn an_action_may_be_unbound_but_not_quit() {
        let m = over(&[("dismiss", &[])]).unwrap();
        assert!(m.keys(Action::Dismiss).is_empty());
        assert_eq!(m.label(Action::Dismiss), None);
        let e = over(&[("quit", &[])]).unwrap_err();
        assert_eq!(e, vec!["quit: needs at least one key".to_string()]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = over(&[
            ("acept", &["y"]),
            ("accept", &["Ctlr-a", "y", "y"]),
            ("decline", &["x"]),
            ("dismiss", &["x", "z"]),
        ])
        .unwrap_err();
        assert_eq!(e.len(), 4, "{e:#?}");
        assert!(e[0].starts_with("unknown action \"acept\" (expected one of: down, up,"));
        assert!(e[1].starts_with("accept: \"Ctlr-a\" is not a key"));
        assert_eq!(e[2], "accept: key \"y\" is listed twice");
        assert_eq!(
            e[3],
            "key \"x\" is bound to both decline and dismiss; give one of them another key"
        );
    }

    /// A key given to an action is taken from the action it was a default
    /// of (as mutt's and aerc's `bind` do), so a configuration that binds a
    /// key a later version makes a default keeps working; only two actions
    /// the user gave the same key conflict.
    #[test]
    fn a_key_given_takes_it_from_another_actions_defaults() {
        let m = over(&[("reindex", &["n"]), ("decline", &["x", "d"])]).unwrap();
        assert_eq!(m.action(Key::char('n')), Some(Action::Reindex));
        assert!(
            m.keys(Action::AnswerNoSend).is_empty(),
            "n was its only key"
        );
        assert_eq!(m.action(Key::char('x')), Some(Action::Decline));
        assert!(m.keys(Action::Dismiss).is_empty());
        assert_eq!(
            m.action(Key::char('r')),
            None,
            "reindex's default is replaced"
        );
        let help = m.help();
        let no_send = help
            .iter()
            .find(|h| h.action == Action::AnswerNoSend)
            .unwrap();
        assert_eq!(no_send.keys, "");
        // Quit keeps Ctrl-c when q is given away; losing both is refused.
        let m = over(&[("filter", &["q"])]).unwrap();
        assert_eq!(m.keys(Action::Quit), [Key::ctrl('c')]);
        let e = over(&[("filter", &["q", "Ctrl-c"])]).unwrap_err();
        assert_eq!(e, ["quit: needs at least one key"]);
    }

    #[test]
    fn help_follows_the_live_bindings() {
        let m = over(&[("accept", &["y", "Enter"]), ("focus_detail", &["Tab"])]).unwrap();
        let help = m.help();
        assert_eq!(help.len(), Action::ALL.len());
        let accept = help.iter().find(|h| h.action == Action::Accept).unwrap();
        assert_eq!(accept.keys, "y, Enter");
        assert_eq!(accept.description, "accept");
        let quit = help.iter().find(|h| h.action == Action::Quit).unwrap();
        assert_eq!(quit.keys, "q, Ctrl-c");
    }
}
