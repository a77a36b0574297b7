use super::*;

const EXAMPLE: &str = include_str!("../../config.example.toml");

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/x/config.toml"))
}

fn err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

const MINIMAL: &str = "[identity]\naddresses = [\"dana@example.org\"]\n";

#[test]
fn example_parses_and_validates_clean() {
    let config = parse(EXAMPLE).expect("config.example.toml parses");
    assert_eq!(config.validate(), Vec::<String>::new());
    assert_eq!(config.identity.name.as_deref(), Some("Dana User"));
    assert_eq!(
        config.identity.addresses,
        vec!["dana@example.org", "d.user@work.example"]
    );
    let calendar = config.calendar.expect("example has [calendar]");
    assert!(calendar.path.is_absolute(), "{:?}", calendar.path);
    assert!(calendar.path.ends_with(".calendars/personal"));
    assert_eq!(calendar.server_scheduling, ServerScheduling::Auto);
    let send = config.send.expect("example has [send]");
    assert_eq!(send.method, SendMethod::Smtp);
    let smtp = config.smtp.expect("example has [smtp]");
    assert_eq!(smtp.host, "smtp.example.org");
    assert_eq!(smtp.effective_port(), 587);
    assert_eq!(smtp.security, Security::Starttls);
    assert_eq!(smtp.timeout_seconds, 30);
    assert_eq!(
        config.sendmail.map(|s| s.command),
        Some("msmtp --read-envelope-from -t".to_string())
    );
    let mail = config.mail.expect("example has [mail]");
    assert!(
        mail.maildir
            .as_ref()
            .is_some_and(|p| p.is_absolute() && p.ends_with("Mail")),
        "{mail:?}"
    );
    assert_eq!(mail.notmuch_config, None);
    assert_eq!(mail.query, None);
    assert!(mail.tags);
    let contacts = config
        .trust
        .and_then(|t| t.contacts)
        .expect("example has [trust]");
    assert!(contacts.is_absolute(), "{contacts:?}");
    assert!(contacts.ends_with(".contacts"), "{contacts:?}");
}

#[test]
fn example_documents_every_key() {
    // Every key of every section must appear in the example (commented or not).
    for key in [
        "[identity]",
        "name",
        "addresses",
        "[calendar]",
        "path",
        "server_scheduling",
        "[send]",
        "method",
        "from",
        "[smtp]",
        "host",
        "port",
        "security",
        "username",
        "password_command",
        "ca_file",
        "timeout_seconds",
        "[sendmail]",
        "command",
        "[mail]",
        "notmuch_config",
        "maildir",
        "query",
        "tags",
        "after_answer",
        "[trust]",
        "contacts",
        "[keys]",
    ] {
        assert!(EXAMPLE.contains(key), "config.example.toml lacks {key}");
    }
}

#[test]
fn example_with_optional_keys_uncommented_validates() {
    // Lines like `# from = "..."` show optional keys; they must be valid too.
    let uncommented: String = EXAMPLE
        .lines()
        .map(|line| {
            let rest = line.strip_prefix("# ").unwrap_or(line);
            let is_key = rest
                .split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            if is_key { rest } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(uncommented, EXAMPLE.trim_end());
    let config = parse(&uncommented).expect("uncommented example parses");
    assert_eq!(config.validate(), Vec::<String>::new());
    assert!(config.send.and_then(|s| s.from).is_some());
    assert!(
        config
            .smtp
            .and_then(|s| s.ca_file)
            .is_some_and(|p| p.is_absolute())
    );
    assert_eq!(
        config.mail.and_then(|m| m.query).as_deref(),
        Some("not folder:Sent and not tag:deleted")
    );
}

#[test]
fn minimal_config_has_defaults() {
    let config = parse(MINIMAL).expect("minimal config parses");
    assert_eq!(config.validate(), Vec::<String>::new());
    assert!(config.calendar.is_none());
    assert!(config.send.is_none());
    assert!(config.smtp.is_none());
    assert!(config.sendmail.is_none());
    assert!(config.mail.is_none());
    assert!(config.trust.is_none());
}

#[test]
fn unknown_key_reports_file_line_and_key() {
    let text = "# rsvp\n\n[identity]\nname = \"Dana\"\n\n\nadress = [\"dana@example.org\"]\n";
    let e = err(text);
    assert_eq!(e.line, Some(7));
    assert_eq!(
        e.to_string(),
        "config error: /x/config.toml:7: unknown key `adress` in [identity] \
         (expected one of: name, addresses)"
    );
}

#[test]
fn unknown_section_is_an_error_until_it_exists() {
    let e = err(&format!("{MINIMAL}\n[colors]\nfoo = 1\n"));
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.starts_with("unknown section [colors]"), "{e}");
    assert!(
        e.message
            .contains("identity, calendar, send, smtp, sendmail, trust, mail, ui, keys"),
        "{e}"
    );
}

#[test]
fn unknown_key_at_top_level_and_in_other_sections() {
    let e = err(&format!("foo = 1\n{MINIMAL}"));
    assert_eq!(e.line, Some(1));
    assert!(
        e.message.starts_with("unknown key `foo` at top level"),
        "{e}"
    );

    let e = err(&format!("{MINIMAL}[smtp]\nhost = \"h\"\nhots = \"x\"\n"));
    assert_eq!(e.line, Some(5));
    assert!(e.message.starts_with("unknown key `hots` in [smtp]"), "{e}");
    assert!(e.message.contains("password_command"), "{e}");

    let e = err(&format!(
        "{MINIMAL}[calendar]\npath = \"/c\"\n[calendar.extra]\n"
    ));
    assert_eq!(e.line, Some(5));
    assert!(
        e.message.starts_with("unknown key `extra` in [calendar]"),
        "{e}"
    );
}

#[test]
fn unknown_key_in_inline_table() {
    let e = err("identity = { addresses = [\"a@b\"], nme = \"x\" }\n");
    assert_eq!(e.line, Some(1));
    assert!(
        e.message.starts_with("unknown key `nme` in [identity]"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_key_and_line() {
    let e = err(&format!("{MINIMAL}[smtp]\nhost = \"h\"\nport = \"587\"\n"));
    assert_eq!(e.line, Some(5));
    assert_eq!(
        e.message,
        "bad value for `port` in [smtp]: invalid type: string \"587\", expected u16"
    );

    let e = err(&format!("{MINIMAL}[smtp]\nhost = \"h\"\nport = 70000\n"));
    assert_eq!(e.line, Some(5));
    assert!(
        e.message.starts_with("bad value for `port` in [smtp]"),
        "{e}"
    );

    let e = err("[identity]\naddresses = \"dana@example.org\"\n");
    assert_eq!(e.line, Some(2));
    assert!(
        e.message
            .starts_with("bad value for `addresses` in [identity]"),
        "{e}"
    );
    assert!(e.message.contains("expected a sequence"), "{e}");
}

#[test]
fn wrong_type_inside_multiline_array() {
    let e = err("[identity]\naddresses = [\n  \"a@b\",\n  42,\n]\n");
    assert_eq!(e.line, Some(4));
    assert!(
        e.message
            .starts_with("bad value for `addresses` in [identity]"),
        "{e}"
    );
}

#[test]
fn bad_enum_value_lists_choices() {
    let e = err(&format!(
        "{MINIMAL}[calendar]\npath = \"/c\"\nserver_scheduling = \"maybe\"\n"
    ));
    assert_eq!(e.line, Some(5));
    assert_eq!(
        e.message,
        "bad value \"maybe\" for `server_scheduling` in [calendar] \
         (expected one of: auto, on, off)"
    );
    let e = err(&format!("{MINIMAL}[send]\nmethod = \"pigeon\"\n"));
    assert_eq!(e.line, Some(4));
    assert!(e.message.contains("smtp, sendmail"), "{e}");
}

#[test]
fn missing_section_and_missing_key() {
    // [identity] may be left out (the notmuch config can name me, issue 7);
    // validation then says what is missing.
    let c = parse("[smtp]\nhost = \"h\"\n").expect("parses");
    assert!(c.identity.addresses.is_empty());
    assert!(
        c.validate()
            .iter()
            .any(|p| p.starts_with("[identity] addresses is empty")),
        "{:?}",
        c.validate()
    );
    let e = err(&format!("{MINIMAL}[send]\nfrom = \"a@b\"\n"));
    assert_eq!(e.message, "missing key `method` in [send]");
}

#[test]
fn syntax_error_has_line() {
    let e = err(&format!("{MINIMAL}[smtp]\nhost = \n"));
    assert_eq!(e.line, Some(4));
    assert!(
        e.to_string()
            .starts_with("config error: /x/config.toml:4: ")
    );
}

#[test]
fn load_missing_file_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope").join("config.toml");
    let e = Config::load(&path).expect_err("missing file is an error");
    assert_eq!(e.line, None);
    let shown = e.to_string();
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(shown.contains("no such file"), "{shown}");
}

#[test]
fn load_reads_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, MINIMAL).expect("write");
    let config = Config::load(&path).expect("loads");
    assert_eq!(config.identity.addresses, vec!["dana@example.org"]);
    std::fs::write(&path, "[identity]\nadress = 1\n").expect("write");
    let e = Config::load(&path).expect_err("bad");
    assert_eq!(e.path, path);
    assert_eq!(e.line, Some(2));
}

fn problems(text: &str) -> Vec<String> {
    parse(text).expect("parses").validate()
}

fn has(problems: &[String], needle: &str) -> bool {
    problems.iter().any(|p| p.contains(needle))
}

#[test]
fn validate_reports_no_addresses() {
    let p = problems("[identity]\naddresses = []\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(has(&p, "addresses is empty"), "{p:?}");
}

#[test]
fn validate_reports_bad_addresses() {
    let p = problems(
        "[identity]\naddresses = [\"dana\", \"mailto:d@x.org\", \"mailté@x.org\", \"Dana <d@x.org>\", \"@x.org\", \"a@B.org\", \"A@b.org\"]\n",
    );
    assert!(has(&p, "\"dana\" is not an address"), "{p:?}");
    assert!(has(&p, "without \"mailto:\""), "{p:?}");
    assert!(
        has(&p, "\"Dana <d@x.org>\" is not a plain address"),
        "{p:?}"
    );
    assert!(has(&p, "\"@x.org\" is not an address"), "{p:?}");
    assert!(has(&p, "\"A@b.org\" is listed twice"), "{p:?}");
    assert_eq!(p.len(), 5, "{p:?}");
}

#[test]
fn validate_reports_missing_transport_sections() {
    let p = problems(&format!("{MINIMAL}[send]\nmethod = \"smtp\"\n"));
    assert_eq!(
        p,
        vec!["[send] method = \"smtp\" but there is no [smtp] section"]
    );
    let p = problems(&format!("{MINIMAL}[send]\nmethod = \"sendmail\"\n"));
    assert_eq!(
        p,
        vec!["[send] method = \"sendmail\" but there is no [sendmail] section"]
    );
    let p = problems(&format!(
        "{MINIMAL}[send]\nmethod = \"sendmail\"\nfrom = \"nobody\"\n[sendmail]\ncommand = \" \"\n"
    ));
    assert!(
        has(&p, "[send] from: \"nobody\" is not an address"),
        "{p:?}"
    );
    assert!(has(&p, "[sendmail] command is empty"), "{p:?}");
    assert_eq!(p.len(), 2, "{p:?}");
}

#[test]
fn validate_security_none_only_to_loopback() {
    for host in ["localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.2"] {
        let p = problems(&format!(
            "{MINIMAL}[smtp]\nhost = \"{host}\"\nsecurity = \"none\"\n"
        ));
        assert_eq!(p, Vec::<String>::new(), "{host}");
    }
    for host in ["smtp.example.org", "10.0.0.1", "localhost.evil.example"] {
        let p = problems(&format!(
            "{MINIMAL}[smtp]\nhost = \"{host}\"\nsecurity = \"none\"\n"
        ));
        assert_eq!(p.len(), 1, "{host}: {p:?}");
        assert!(has(&p, "only allowed to a loopback host"), "{p:?}");
        assert!(has(&p, host), "{p:?}");
    }
    let smtp: Smtp =
        toml::from_str("host = \"localhost\"\nsecurity = \"none\"\n").expect("smtp parses");
    assert_eq!(smtp.effective_port(), 25);
    let smtp: Smtp = toml::from_str("host = \"h\"\nsecurity = \"tls\"\n").expect("smtp parses");
    assert_eq!(smtp.effective_port(), 465);
    let smtp: Smtp = toml::from_str("host = \"h\"\nport = 2525\n").expect("smtp parses");
    assert_eq!(smtp.effective_port(), 2525);
}

#[test]
fn validate_reports_every_smtp_problem() {
    let p = problems(&format!(
        "{MINIMAL}[smtp]\nhost = \"\"\nport = 0\nusername = \"dana\"\nca_file = \"certs/ca.pem\"\ntimeout_seconds = 0\n"
    ));
    assert!(has(&p, "[smtp] host is empty"), "{p:?}");
    assert!(has(&p, "port 0"), "{p:?}");
    assert!(has(&p, "password_command is missing"), "{p:?}");
    assert!(has(&p, "ca_file \"certs/ca.pem\" is relative"), "{p:?}");
    assert!(has(&p, "timeout_seconds"), "{p:?}");
    assert_eq!(p.len(), 5, "{p:?}");
    let p = problems(&format!(
        "{MINIMAL}[smtp]\nhost = \"h\"\npassword_command = \"pass x\"\n"
    ));
    assert_eq!(
        p,
        vec!["[smtp] password_command is set but username is missing"]
    );
}

#[test]
fn validate_reports_relative_calendar_path() {
    let p = problems(&format!("{MINIMAL}[calendar]\npath = \"calendars/me\"\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        has(&p, "[calendar] path \"calendars/me\" is relative"),
        "{p:?}"
    );
    let p = problems(&format!("{MINIMAL}[calendar]\npath = \"\"\n"));
    assert_eq!(p, vec!["[calendar] path is empty"]);
}

#[test]
fn mail_section_parses_both_modes_with_defaults() {
    let config = parse(&format!(
        "{MINIMAL}[mail]\nnotmuch_config = \"/home/d/.notmuch-config\"\n"
    ))
    .expect("parses");
    assert_eq!(config.validate(), Vec::<String>::new());
    let mail = config.mail.expect("[mail]");
    assert_eq!(
        mail.notmuch_config,
        Some(PathBuf::from("/home/d/.notmuch-config"))
    );
    assert_eq!(mail.maildir, None);
    assert!(mail.tags, "tags default to true");

    let config = parse(&format!(
        "{MINIMAL}[mail]\nmaildir = \"/m\"\nquery = \"not folder:Sent\"\ntags = false\n"
    ))
    .expect("parses");
    assert_eq!(config.validate(), Vec::<String>::new());
    let mail = config.mail.expect("[mail]");
    assert_eq!(mail.maildir, Some(PathBuf::from("/m")));
    assert_eq!(mail.query.as_deref(), Some("not folder:Sent"));
    assert!(!mail.tags);
}

#[test]
fn validate_mail_needs_exactly_one_source() {
    let p = problems(&format!(
        "{MINIMAL}[mail]\nmaildir = \"/m\"\nnotmuch_config = \"/c\"\n"
    ));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(has(&p, "notmuch_config and maildir are both set"), "{p:?}");
    let p = problems(&format!("{MINIMAL}[mail]\nquery = \"tag:x\"\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(has(&p, "[mail] needs notmuch_config"), "{p:?}");
}

#[test]
fn validate_mail_paths_and_query() {
    let p = problems(&format!(
        "{MINIMAL}[mail]\nmaildir = \"Mail\"\nquery = \"  \"\n"
    ));
    assert!(has(&p, "[mail] maildir \"Mail\" is relative"), "{p:?}");
    assert!(has(&p, "[mail] query is empty"), "{p:?}");
    assert_eq!(p.len(), 2, "{p:?}");
    let p = problems(&format!(
        "{MINIMAL}[mail]\nnotmuch_config = \"\"\nquery = \"tag:a\\u0000\"\n"
    ));
    assert!(has(&p, "[mail] notmuch_config is empty"), "{p:?}");
    assert!(has(&p, "contains control characters"), "{p:?}");
    assert_eq!(p.len(), 2, "{p:?}");
    let e = err(&format!(
        "{MINIMAL}[mail]\nmaildir = \"/m\"\nmaildirs = 1\n"
    ));
    assert!(
        e.message.starts_with("unknown key `maildirs` in [mail]"),
        "{e}"
    );
}

#[test]
fn mail_paths_expand_tilde() {
    let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) else {
        eprintln!("no home directory; skipping");
        return;
    };
    let config = parse(&format!("{MINIMAL}[mail]\nmaildir = \"~/Mail\"\n")).expect("parses");
    assert_eq!(config.mail.and_then(|m| m.maildir), Some(home.join("Mail")));
    let config = parse(&format!(
        "{MINIMAL}[mail]\nnotmuch_config = \"$HOME/.notmuch-config\"\n"
    ))
    .expect("parses");
    assert_eq!(
        config.mail.and_then(|m| m.notmuch_config),
        Some(home.join(".notmuch-config"))
    );
}

#[test]
fn trust_contacts_is_optional_expanded_and_checked() {
    let config = parse(&format!("{MINIMAL}[trust]\n")).expect("parses");
    assert_eq!(config.trust, Some(Trust { contacts: None }));
    assert_eq!(config.validate(), Vec::<String>::new());
    let p = problems(&format!("{MINIMAL}[trust]\ncontacts = \"vcards\"\n"));
    assert_eq!(
        p,
        vec![
            "[trust] contacts \"vcards\" is relative: use an absolute path or one starting with ~/"
        ]
    );
    let p = problems(&format!("{MINIMAL}[trust]\ncontacts = \"\"\n"));
    assert_eq!(p, vec!["[trust] contacts is empty"]);
    let p = problems(&format!("{MINIMAL}[trust]\ncontacts = \"/srv/vcards\"\n"));
    assert_eq!(p, Vec::<String>::new());
    let e = err(&format!("{MINIMAL}[trust]\ncontact = \"/x\"\n"));
    assert_eq!(e.line, Some(4));
    assert_eq!(
        e.message,
        "unknown key `contact` in [trust] (expected one of: contacts)"
    );
    if let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) {
        let config =
            parse(&format!("{MINIMAL}[trust]\ncontacts = \"~/.contacts\"\n")).expect("parses");
        assert_eq!(
            config.trust.and_then(|t| t.contacts),
            Some(home.join(".contacts"))
        );
    }
}

#[test]
fn validate_reports_all_problems_at_once() {
    let p = problems(
        "[identity]\naddresses = []\n[calendar]\npath = \"rel\"\n[send]\nmethod = \"smtp\"\n",
    );
    assert_eq!(p.len(), 3, "{p:?}");
}

#[test]
fn tilde_expansion() {
    let home = Path::new("/home/dana");
    assert_eq!(
        expand_with_home("~", Some(home)),
        PathBuf::from("/home/dana")
    );
    assert_eq!(
        expand_with_home("~/.calendars/personal", Some(home)),
        PathBuf::from("/home/dana/.calendars/personal")
    );
    assert_eq!(
        expand_with_home("$HOME/cal", Some(home)),
        PathBuf::from("/home/dana/cal")
    );
    assert_eq!(
        expand_with_home("${HOME}/cal", Some(home)),
        PathBuf::from("/home/dana/cal")
    );
    assert_eq!(
        expand_with_home("~other/cal", Some(home)),
        PathBuf::from("~other/cal")
    );
    assert_eq!(
        expand_with_home("$HOMEWORK/x", Some(home)),
        PathBuf::from("$HOMEWORK/x")
    );
    assert_eq!(
        expand_with_home("/abs/~", Some(home)),
        PathBuf::from("/abs/~")
    );
    assert_eq!(expand_with_home("~/x", None), PathBuf::from("~/x"));
}

#[test]
fn tilde_expansion_uses_home() {
    let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) else {
        eprintln!("no home directory; skipping");
        return;
    };
    assert_eq!(expand_tilde("~/cal"), home.join("cal"));
    let config = parse(&format!("{MINIMAL}[calendar]\npath = \"~/cal\"\n")).expect("parses");
    assert_eq!(config.calendar.map(|c| c.path), Some(home.join("cal")));
}

#[test]
fn paths_follow_xdg() {
    let Some(paths) = Paths::discover() else {
        eprintln!("no home directory; skipping");
        return;
    };
    assert!(paths.config_file.ends_with("rsvp/config.toml"), "{paths:?}");
    assert!(paths.data_dir.ends_with("rsvp"), "{paths:?}");
    assert!(paths.state_dir.ends_with("rsvp"), "{paths:?}");
    assert!(paths.cache_dir.ends_with("rsvp"), "{paths:?}");
    assert_eq!(paths.outbox_dir(), paths.data_dir.join("outbox"));
    assert_eq!(paths.notmuch_dir(), paths.data_dir.join("notmuch"));
    let xdg_unset = [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ]
    .iter()
    .all(|v| std::env::var_os(v).is_none());
    if let (true, Some(home)) = (xdg_unset, std::env::var_os("HOME")) {
        let home = PathBuf::from(home);
        assert_eq!(paths.config_file, home.join(".config/rsvp/config.toml"));
        assert_eq!(paths.data_dir, home.join(".local/share/rsvp"));
        assert_eq!(paths.state_dir, home.join(".local/state/rsvp"));
        assert_eq!(paths.cache_dir, home.join(".cache/rsvp"));
    }
}

#[test]
fn keys_section_overrides_defaults() {
    let config = parse(&format!(
        "{MINIMAL}[keys]\naccept = \"y\"\ndown = [\"J\", \"Down\"]\ndismiss = []\n"
    ))
    .expect("parses");
    assert_eq!(config.validate(), Vec::<String>::new());
    let map = config.keymap().expect("valid keymap");
    use crate::keymap::{Action, Key};
    assert_eq!(map.action(Key::char('y')), Some(Action::Accept));
    assert_eq!(map.action(Key::char('J')), Some(Action::Down));
    assert_eq!(map.action(Key::char('j')), None);
    assert!(map.keys(Action::Dismiss).is_empty());
    assert_eq!(
        map.action(Key::char('q')),
        Some(Action::Quit),
        "others keep defaults"
    );
}

#[test]
fn keys_section_reports_bad_actions_keys_and_conflicts() {
    let config = parse(&format!(
        "{MINIMAL}[keys]\nacept = \"y\"\napply = \"Ctlr-a\"\ndecline = \"x\"\ndismiss = \"x\"\nquit = []\n"
    ))
    .expect("well-formed TOML parses; validate() checks the names");
    let problems = config.validate();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems[0].starts_with("[keys] unknown action \"acept\" (expected one of: down, up"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("[keys] apply: \"Ctlr-a\" is not a key"),
        "{problems:?}"
    );
    assert_eq!(problems[2], "[keys] quit: needs at least one key");
    assert_eq!(
        problems[3],
        "[keys] key \"x\" is bound to both decline and dismiss; give one of them another key"
    );
}

#[test]
fn keys_section_wrong_type_names_the_key_and_line() {
    let e = err(&format!("{MINIMAL}[keys]\naccept = 5\n"));
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("`accept` in [keys]"), "{e}");
    assert!(e.message.contains("expected a key such as \"a\""), "{e}");
    let e = err(&format!("{MINIMAL}[keys]\naccept = [\"a\", 1]\n"));
    assert!(e.message.contains("`accept` in [keys]"), "{e}");
}

#[test]
fn ui_and_calendar_busy_and_declined_are_read() {
    let c = parse(&format!(
        "{MINIMAL}[calendar]\npath = \"/c/main\"\nbusy = [\"/c/work\", \"rel/x\"]\ndeclined = \"drop\"\n[ui]\nconfirm = true\nopen_command = \"less \\\"$1\\\"\"\n"
    ))
    .unwrap();
    let cal = c.calendar.clone().unwrap();
    assert_eq!(cal.declined, Declined::Drop);
    assert_eq!(
        cal.busy,
        Some(vec![PathBuf::from("/c/work"), PathBuf::from("rel/x")])
    );
    let ui = c.ui.clone().unwrap();
    assert!(ui.confirm);
    assert_eq!(ui.open_command.as_deref(), Some("less \"$1\""));
    assert_eq!(
        c.validate(),
        ["[calendar] busy \"rel/x\" is relative: use an absolute path or one starting with ~/"]
    );
    let e = err(&format!(
        "{MINIMAL}[calendar]\npath = \"/c\"\ndeclined = \"hide\"\n"
    ));
    assert!(e.message.contains("declined"), "{e}");
    let default = parse(&format!("{MINIMAL}[calendar]\npath = \"/c\"\n")).unwrap();
    assert_eq!(default.calendar.unwrap().declined, Declined::Transparent);
}
