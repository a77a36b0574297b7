//! The layering rules of ARCHITECTURE.md, checked on the sources as an
//! allowlist: each layer may use the crate modules and external crates listed
//! below (plus its own modules and `std`); anything else fails, naming
//! `file:line`, the rule and the line. (No `unwrap`/`expect`/`panic!`/... is
//! enforced by the compiler now: the clippy lints in Cargo.toml's `[lints]`.)
//!
//! ```text
//! layer     crate modules                       external crates
//! main      everything (wiring only)            everything
//! cli       domain, inbox, keymap, config       chrono, chrono_tz, calcard, mail_parser,
//!                                               thiserror, clap, serde, serde_json, anyhow
//! tui       domain, inbox, keymap, config       chrono, chrono_tz, calcard, mail_parser,
//!                                               thiserror, ratatui, crossterm, anyhow, tempfile
//! inbox     domain                              chrono, chrono_tz, calcard, mail_parser, thiserror,
//!                                               serde, bincode (the cache's encoding)
//! adapters  domain                              chrono, chrono_tz, calcard, mail_parser,
//!                                               thiserror, lettre, notmuch, serde, serde_json,
//!                                               tempfile, rand, rustix
//! domain    (none)                              chrono, chrono_tz, calcard, mail_parser, thiserror
//!           and from std no fs, net, process, env, stdin/stdout, SystemTime,
//!           Instant; no clock calls (`Utc::now`, `Local::now`, `chrono::Local`)
//! config    keymap                              serde, toml, directories
//! keymap    (none)                              (none)
//! demo      (none)                              (none)
//! lib.rs    (none: it only declares modules)    (none)
//! ```
//!
//! `cli` never uses `tui` and `tui` never `cli`; neither reaches `adapters`
//! (only `main` names concrete adapters). `inbox` and `adapters` never use
//! `config`, `keymap` or a UI. The crates of domain's types (chrono,
//! chrono_tz, calcard, mail_parser) may be named wherever domain types are
//! handled. `config`, `keymap` and `demo` are leaves: TOML -> typed config
//! (with the key table), the key table, and the bundled demo files. An
//! external crate is any `[dependencies]` entry of Cargo.toml; a new one is
//! forbidden everywhere but `main` until it is added here. A top-level module
//! without an entry in `LAYERS` fails too. Known breaches that a pending
//! rewrite removes are listed in `KNOWN_VIOLATIONS` (and fail once fixed, so
//! the list only shrinks).
//!
//! Module style is `foo.rs` + `foo/`: a `mod.rs` under `src/` fails.
//!
//! The scan (`architecture/scan.rs`) is lexical but careful: comments,
//! strings and char literals are blanked first, grouped `use a::{b, c::d}`
//! trees are expanded, `super::` and `self::` paths are resolved against the
//! file's module, and `#[cfg(test)]` items (inline `mod tests { ... }` or
//! out-of-line `mod tests;`) are skipped.
//! Limitation: a path whose first segment is a local module named like a
//! dependency (say a child `mod notmuch`) counts as that crate.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use std::collections::BTreeSet;
use std::path::Path;

#[path = "architecture/scan.rs"]
mod scan;

use scan::{
    layer_of, module_path, paths_in, resolve_in_crate, rust_files, strip_comments_and_strings,
    strip_test_items, test_only_files,
};

/// One broken rule at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    /// What was broken: "tui may not use crate::adapters".
    rule: String,
    /// What the layer may use instead, or why the rule exists.
    allowed: String,
    text: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} ({}): {}",
            self.file, self.line, self.rule, self.allowed, self.text
        )
    }
}

/// What one layer (a top-level module of `src/`, or `lib`/`main`) may use.
struct Layer {
    name: &'static str,
    /// Top-level crate modules besides its own; `ANY` for all.
    modules: &'static [&'static str],
    /// External crates (Cargo.toml `[dependencies]`, `-` as `_`); `ANY` for all.
    crates: &'static [&'static str],
    /// No I/O, clock or environment from `std` (`DOMAIN_FORBIDDEN_*`).
    pure: bool,
}

const ANY: &str = "*";

/// The allowlist, one entry per layer (the module doc shows it as a table).
const LAYERS: &[Layer] = &[
    Layer {
        name: "main",
        modules: &[ANY],
        crates: &[ANY],
        pure: false,
    },
    Layer {
        name: "cli",
        modules: &["domain", "inbox", "keymap", "config"],
        crates: &[
            "chrono",
            "chrono_tz",
            "calcard",
            "mail_parser",
            "thiserror",
            "clap",
            "serde",
            "serde_json",
            "anyhow",
        ],
        pure: false,
    },
    Layer {
        name: "tui",
        modules: &["domain", "inbox", "keymap", "config"],
        crates: &[
            "chrono",
            "chrono_tz",
            "calcard",
            "mail_parser",
            "thiserror",
            "ratatui",
            "crossterm",
            "anyhow",
            "tempfile",
        ],
        pure: false,
    },
    Layer {
        name: "inbox",
        modules: &["domain"],
        // serde and bincode encode the cache (inbox/cache.rs); the bytes
        // reach the disk only through the CacheStore port.
        crates: &[
            "chrono",
            "chrono_tz",
            "calcard",
            "mail_parser",
            "thiserror",
            "serde",
            "bincode",
        ],
        pure: false,
    },
    Layer {
        name: "adapters",
        modules: &["domain"],
        crates: &[
            "chrono",
            "chrono_tz",
            "calcard",
            "mail_parser",
            "thiserror",
            "lettre",
            "notmuch",
            "serde",
            "serde_json",
            "tempfile",
            "rand",
            // renameat2(RENAME_EXCHANGE) for the vdir (fsutil.rs).
            "rustix",
        ],
        pure: false,
    },
    Layer {
        name: "domain",
        modules: &[],
        crates: &["chrono", "chrono_tz", "calcard", "mail_parser", "thiserror"],
        pure: true,
    },
    Layer {
        name: "config",
        modules: &["keymap"],
        crates: &["serde", "toml", "directories"],
        pure: false,
    },
    Layer {
        name: "keymap",
        modules: &[],
        crates: &[],
        pure: false,
    },
    Layer {
        name: "demo",
        modules: &[],
        crates: &[],
        pure: false,
    },
    Layer {
        name: "lib",
        modules: &[],
        crates: &[],
        pure: false,
    },
];

/// Breaches of the allowlist in today's code that a pending change removes:
/// (file, rule). Each entry must still occur (the test fails when it no
/// longer does, so that it is deleted here); the list must end up empty.
const KNOWN_VIOLATIONS: &[(&str, &str)] = &[];

fn layer_named(name: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.name == name)
}

/// `what` is allowed by `list` (which may be `[ANY]`).
fn allows(list: &[&str], what: &str) -> bool {
    list.iter().any(|x| *x == ANY || *x == what)
}

/// One line saying what a layer may use, for violation messages.
fn allowance(l: &Layer) -> String {
    let show = |list: &[&str]| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    format!(
        "{} may use crate modules: {}; crates: {}",
        l.name,
        show(l.modules),
        show(l.crates)
    )
}

/// `std` paths `domain` must not use (prefixes).
const DOMAIN_FORBIDDEN_STD: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::Stdin",
    "std::io::Stdout",
    "std::time::SystemTime",
    "std::time::Instant",
];

/// Calls that read the clock or the local zone (no clock in `domain`).
const DOMAIN_FORBIDDEN_CALLS: &[&str] = &[
    "Utc::now",
    "Local::now",
    "SystemTime::now",
    "Instant::now",
    "chrono::Local",
    "io::stdin",
    "io::stdout",
];

/// The external crates of a Cargo.toml: the keys of `[dependencies]` (and
/// `[dependencies.NAME]` tables), with `-` written `_` as in Rust paths.
fn dependencies_in(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']').trim();
            in_deps = header == "dependencies";
            if let Some(name) = header.strip_prefix("dependencies.") {
                deps.push(name.trim().replace('-', "_"));
            }
            continue;
        }
        if !in_deps || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            deps.push(key.trim().trim_matches('"').replace('-', "_"));
        }
    }
    deps
}

/// The project's external crates, from its Cargo.toml.
fn project_dependencies() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let manifest =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let deps = dependencies_in(&manifest);
    assert!(
        deps.iter().any(|d| d == "calcard"),
        "no [dependencies] found in {}: {deps:?}",
        path.display()
    );
    deps
}

/// The rules for one file (`rel` is relative to `src/`); `deps` are the
/// external crates of the project.
fn check_source(rel: &str, source: &str, deps: &[String]) -> Vec<Violation> {
    let layer_name = layer_of(rel);
    let module = module_path(rel);
    let file = format!("src/{rel}");
    let original_lines: Vec<&str> = source.lines().collect();
    let text_of = |line: usize| {
        original_lines
            .get(line.saturating_sub(1))
            .map_or(String::new(), |l| l.trim().to_string())
    };
    let Some(layer) = layer_named(&layer_name) else {
        return vec![Violation {
            file,
            line: 1,
            rule: format!("layer {layer_name} has no allowlist"),
            allowed: "add it to LAYERS in tests/architecture.rs".to_string(),
            text: text_of(1),
        }];
    };
    let code = strip_comments_and_strings(source);
    let (code, _) = strip_test_items(&code);
    let pure = "domain is pure: no I/O, clock or environment".to_string();
    // (line, rule, allowed)
    let mut found: BTreeSet<(usize, String, String)> = BTreeSet::new();

    for (path, line) in paths_in(&code) {
        if let Some(abs) = resolve_in_crate(&path, &module) {
            if let Some(top) = abs.first()
                && *top != layer.name
                && !allows(layer.modules, top)
            {
                found.insert((
                    line,
                    format!("{} may not use crate::{top}", layer.name),
                    allowance(layer),
                ));
            }
            continue;
        }
        let root = path.first().map(String::as_str).unwrap_or("");
        if deps.iter().any(|d| d == root) && !allows(layer.crates, root) {
            found.insert((
                line,
                format!("{} may not use the {root} crate", layer.name),
                allowance(layer),
            ));
        }
        if !layer.pure {
            continue;
        }
        let joined = path.join("::");
        let normalized = joined
            .strip_prefix("core::")
            .map_or(joined.clone(), |r| format!("std::{r}"));
        let mut std_hit = false;
        for forbidden in DOMAIN_FORBIDDEN_STD {
            if normalized == *forbidden || normalized.starts_with(&format!("{forbidden}::")) {
                found.insert((
                    line,
                    format!("{} may not use {forbidden}", layer.name),
                    pure.clone(),
                ));
                std_hit = true;
            }
        }
        for call in DOMAIN_FORBIDDEN_CALLS {
            if std_hit {
                break;
            }
            if joined == *call
                || joined.ends_with(&format!("::{call}"))
                || joined.starts_with(&format!("{call}::"))
            {
                found.insert((
                    line,
                    format!("{} may not use {call}", layer.name),
                    pure.clone(),
                ));
            }
        }
    }

    found
        .into_iter()
        .map(|(line, rule, allowed)| Violation {
            file: file.clone(),
            line,
            rule,
            allowed,
            text: text_of(line),
        })
        .collect()
}

/// Violations left after the known ones, and the known ones that no longer
/// occur.
fn apply_known(
    violations: Vec<Violation>,
    known: &[(&str, &str)],
) -> (Vec<Violation>, Vec<String>) {
    let stale = known
        .iter()
        .filter(|(file, rule)| {
            !violations
                .iter()
                .any(|v| v.file == *file && v.rule == *rule)
        })
        .map(|(file, rule)| format!("{file}: {rule}"))
        .collect();
    let left = violations
        .into_iter()
        .filter(|v| {
            !known
                .iter()
                .any(|(file, rule)| v.file == *file && v.rule == *rule)
        })
        .collect();
    (left, stale)
}

#[test]
fn sources_follow_the_layer_allowlist() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let deps = project_dependencies();
    let files = rust_files(&src);
    assert!(
        files.iter().any(|f| f.ends_with("domain.rs")),
        "no domain module found under {}",
        src.display()
    );
    let test_only = test_only_files(&src, &files);
    let mut violations = Vec::new();
    let mut scanned = 0;
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if file.file_name().is_some_and(|n| n == "mod.rs") {
            violations.push(Violation {
                file: format!("src/{rel}"),
                line: 1,
                rule: "module style: no mod.rs".to_string(),
                allowed: "use foo.rs beside foo/".to_string(),
                text: String::new(),
            });
        }
        if test_only.contains(file) {
            continue;
        }
        let source = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        violations.extend(check_source(&rel, &source, &deps));
        scanned += 1;
    }
    assert!(scanned > 20, "only {scanned} files scanned");
    let (violations, stale) = apply_known(violations, KNOWN_VIOLATIONS);
    let report: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "{} architecture violation(s) (see the allowlist in tests/architecture.rs \
         and ../shared/docs/ARCHITECTURE.md):\n{}",
        violations.len(),
        report.join("\n")
    );
    assert!(
        stale.is_empty(),
        "fixed, so delete from KNOWN_VIOLATIONS in tests/architecture.rs:\n{}",
        stale.join("\n")
    );
}

#[test]
fn allowlist_names_real_layers_modules_and_crates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let deps = project_dependencies();
    let mut top: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        top.insert(name.strip_suffix(".rs").unwrap_or(&name).to_string());
    }
    for l in LAYERS {
        assert!(
            top.contains(l.name),
            "LAYERS names {}: no src/{0}.rs",
            l.name
        );
        for m in l.modules {
            assert!(
                *m == ANY || (top.contains(*m) && !["lib", "main"].contains(m)),
                "{} may use crate::{m}, which is not a module",
                l.name
            );
        }
        for c in l.crates {
            assert!(
                *c == ANY || deps.iter().any(|d| d == c),
                "{} may use the {c} crate, which is not in Cargo.toml [dependencies]",
                l.name
            );
        }
    }
    for module in &top {
        assert!(
            layer_named(module).is_some(),
            "src/{module}: no entry in LAYERS"
        );
    }
}

// The checker itself: it must find what it is meant to find and nothing else.

fn rules(rel: &str, source: &str) -> Vec<String> {
    let deps: Vec<String> = [
        "mail_parser",
        "calcard",
        "chrono",
        "chrono_tz",
        "thiserror",
        "lettre",
        "serde",
        "serde_json",
        "toml",
        "clap",
        "anyhow",
        "tempfile",
        "ratatui",
        "crossterm",
        "notmuch",
        "directories",
        "rand",
    ]
    .map(String::from)
    .to_vec();
    check_source(rel, source, &deps)
        .into_iter()
        .map(|v| format!("{}: {}", v.line, v.rule))
        .collect()
}

#[test]
fn checker_finds_forbidden_uses_in_domain() {
    let source = "use std::fs;\n\
                  use std::{collections::HashMap, env, io::{self, stdin}};\n\
                  use crate::adapters::vdir;\n\
                  use super::super::super::config::Config;\n\
                  use serde::Deserialize;\n\
                  fn f() { let _ = std::process::Command::new(\"x\"); let _ = chrono::Utc::now(); }\n\
                  fn g() -> ::std::net::TcpStream { loop {} }\n";
    let found = rules("domain/reply/message.rs", source);
    for expected in [
        "1: domain may not use std::fs",
        "2: domain may not use std::env",
        "2: domain may not use std::io::stdin",
        "3: domain may not use crate::adapters",
        "4: domain may not use crate::config",
        "5: domain may not use the serde crate",
        "6: domain may not use std::process",
        "6: domain may not use Utc::now",
        // `::std::net` has an empty first segment after `::`; the chain is std::net.
        "7: domain may not use std::net",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "missing {expected:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), 9, "{found:#?}");
    let plain_io = rules(
        "domain/x.rs",
        "use std::io;\nfn f() { let _ = io::stdin(); }\n",
    );
    assert_eq!(plain_io, vec!["2: domain may not use io::stdin"]);
}

#[test]
fn checker_allows_what_domain_may_use() {
    let source = "//! Uses std::fs in a comment only.\n\
                  use std::collections::BTreeMap;\n\
                  use calcard::icalendar::ICalendar;\n\
                  use chrono::{DateTime, Utc};\n\
                  use crate::domain::ports::{Outbox, Transport};\n\
                  use super::ical;\n\
                  /* nested /* std::process */ still comment */\n\
                  #[derive(Debug, thiserror::Error)]\n\
                  fn f<'a>(s: &'a str) -> Option<char> {\n\
                      let _ = \"std::env::var(\\\"HOME\\\") lettre::Message\";\n\
                      let _ = r#\"std::fs \"quoted\" serde::Deserialize\"#;\n\
                      let _c = '\\''; let _d = '\"'; let _e = '{';\n\
                      let _ = mail_parser::MessageParser::default(); let _ = chrono_tz::Tz::UTC;\n\
                      s.chars().next().map(|c| c).or(Some(' ')).filter(|_| s.len() > 0).map(|c| c).and_then(|c| Some(c)).unwrap_or('x');\n\
                      Self::g(); Vec::<u8>::new(); None\n\
                  }\n";
    assert_eq!(rules("domain/diff.rs", source), Vec::<String>::new());
}

#[test]
fn checker_skips_test_code() {
    let source = "pub fn f() -> u8 { 1 }\n\
                  #[cfg(test)]\n\
                  mod tests {\n\
                      use std::fs;\n\
                      use crate::adapters::memory::MemoryStore;\n\
                      #[test]\n\
                      fn t() { assert!(std::fs::read(\"a\").is_err()); let _ = '}'; }\n\
                  }\n\
                  pub fn after() { let _ = std::env::var(\"X\"); }\n";
    assert_eq!(
        rules("domain/tz.rs", source),
        vec!["9: domain may not use std::env"]
    );
    let (_, modules) = strip_test_items("#[cfg(test)]\nmod more_tests;\nfn x() {}\n");
    assert_eq!(modules, vec!["more_tests"]);
    let (code, _) = strip_test_items("#[cfg(not(test))]\nfn real() { crate::adapters::x() }\n");
    assert!(
        code.contains("crate::adapters"),
        "cfg(not(test)) is real code"
    );
}

#[test]
fn checker_applies_the_allowlist_of_each_layer() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "adapters/smtp.rs",
            "use crate::config::Smtp;\nuse crate::domain::ports::Transport;\nuse lettre::SmtpTransport;\nuse ratatui::Frame;\n",
            &[
                "1: adapters may not use crate::config",
                "4: adapters may not use the ratatui crate",
            ],
        ),
        (
            "adapters/vdir.rs",
            "use std::fs;\nuse super::fsutil;\nfn f() -> std::io::Result<()> { std::fs::write(\"a\", b\"\")?; Ok(()) }\n",
            &[],
        ),
        (
            "inbox.rs",
            "use crate::{adapters::vdir::Vdir, domain::invite};\nuse lettre::Message;\n",
            &[
                "1: inbox may not use crate::adapters",
                "2: inbox may not use the lettre crate",
            ],
        ),
        (
            "inbox/list.rs",
            "use super::super::keymap::Keymap;\nuse crate::cli::Args;\n",
            &[
                "1: inbox may not use crate::keymap",
                "2: inbox may not use crate::cli",
            ],
        ),
        (
            "cli/list.rs",
            "fn f() { crate::tui::run(); crate::inbox::list(); crate::adapters::vdir::Vdir::open(); }\n",
            &[
                "1: cli may not use crate::adapters",
                "1: cli may not use crate::tui",
            ],
        ),
        (
            "cli/show.rs",
            "use crate::config::Config;\nuse crate::keymap::Keymap;\nuse super::present;\n#[derive(clap::Parser, serde::Serialize)]\nstruct A;\nfn f() { let _ = serde_json::json!({}); }\n",
            &[],
        ),
        (
            "tui/view/list.rs",
            "use super::super::super::cli::Args;\nuse super::super::state::State;\nuse ratatui::Frame;\n",
            &["1: tui may not use crate::cli"],
        ),
        (
            "tui/worker.rs",
            "use crate::adapters::memory::MemoryStore;\nuse notmuch::Database;\n",
            &[
                "1: tui may not use crate::adapters",
                "2: tui may not use the notmuch crate",
            ],
        ),
        (
            "config.rs",
            "use crate::keymap::Keymap;\nuse crate::inbox::Env;\nuse serde::Deserialize;\nuse ratatui::style::Color;\n",
            &[
                "2: config may not use crate::inbox",
                "4: config may not use the ratatui crate",
            ],
        ),
        (
            "keymap.rs",
            "use std::fmt;\nuse crossterm::event::KeyCode;\n",
            &["2: keymap may not use the crossterm crate"],
        ),
        (
            "demo.rs",
            "use std::io;\nuse crate::domain::invite;\n",
            &["2: demo may not use crate::domain"],
        ),
        (
            "lib.rs",
            "pub mod adapters;\npub mod domain;\npub use crate::domain::invite;\n",
            &["3: lib may not use crate::domain"],
        ),
        // main.rs wires everything.
        (
            "main.rs",
            "use rsvp::adapters::smtp;\nuse rsvp::{cli, tui, config};\nuse std::fs;\nuse notmuch::Database;\nfn main() {}\n",
            &[],
        ),
        // A new top-level module needs an entry.
        (
            "mailer.rs",
            "fn f() {}\n",
            &["1: layer mailer has no allowlist"],
        ),
    ];
    for (rel, source, expected) in cases {
        assert_eq!(&rules(rel, source), expected, "for {rel}");
    }
}

#[test]
fn checker_reports_file_line_rule_and_text() {
    let deps = vec!["ratatui".to_string()];
    let v = check_source(
        "inbox/respond.rs",
        "fn a() {}\n\n    let t = crate::tui::state::State::new();\n",
        &deps,
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].to_string(),
        "src/inbox/respond.rs:3: inbox may not use crate::tui \
         (inbox may use crate modules: domain; crates: chrono, chrono_tz, calcard, \
         mail_parser, thiserror, serde, bincode): let t = crate::tui::state::State::new();"
    );
    // Only Cargo.toml's dependencies are crates: a local `ratatui_like::x` or
    // a type path is not.
    assert!(check_source("keymap.rs", "fn f() { Key::new(); x::y(); }\n", &deps).is_empty());
    assert_eq!(
        check_source("keymap.rs", "use ratatui;\n", &deps).len(),
        1,
        "a bare `use crate_name;` counts"
    );
}

#[test]
fn known_violations_are_subtracted_and_must_still_occur() {
    let v = |file: &str, rule: &str| Violation {
        file: file.to_string(),
        line: 7,
        rule: rule.to_string(),
        allowed: String::new(),
        text: String::new(),
    };
    let found = vec![
        v("src/tui/a.rs", "tui may not use crate::adapters"),
        v("src/tui/a.rs", "tui may not use crate::adapters"),
        v("src/cli/b.rs", "cli may not use crate::adapters"),
    ];
    let known = [
        ("src/tui/a.rs", "tui may not use crate::adapters"),
        ("src/tui/gone.rs", "tui may not use crate::adapters"),
    ];
    let (left, stale) = apply_known(found, &known);
    assert_eq!(
        left,
        vec![v("src/cli/b.rs", "cli may not use crate::adapters")]
    );
    assert_eq!(
        stale,
        vec!["src/tui/gone.rs: tui may not use crate::adapters"]
    );
}

#[test]
fn dependencies_are_read_from_the_manifest() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\n# note\nmail-parser = { version = \"1\" }\nchrono = \"0.4\"\n\n[dependencies.chrono-tz]\nversion = \"0.10\"\n\n[dev-dependencies]\ninsta = \"1\"\n";
    assert_eq!(
        dependencies_in(manifest),
        vec!["mail_parser", "chrono", "chrono_tz"]
    );
}
