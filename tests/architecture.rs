//! The layering rules of ARCHITECTURE.md, checked on the sources.
//!
//! - `domain` is pure: no filesystem, network, processes, environment, clock,
//!   terminal, no other layer of the crate and none of the I/O or format crates.
//! - `adapters` never use `inbox`, `cli`, `tui`, `config` or `keymap`.
//! - `inbox` never uses `adapters`, `config`, `cli`, `tui` or `keymap`.
//! - `cli` never uses `tui`, and `tui` never uses `cli`.
//! - Nowhere outside `#[cfg(test)]` code: `.unwrap()`, `.expect(`, `panic!`,
//!   `unreachable!`, `todo!`, `unimplemented!`.
//!
//! The scan is lexical but careful: comments, strings and char literals are
//! blanked first, grouped `use a::{b, c::d}` trees are expanded, `super::` and
//! `self::` paths are resolved against the file's module, and `#[cfg(test)]`
//! items (inline `mod tests { ... }` or out-of-line `mod tests;`) are skipped.

// Test code: a panic is how a test fails (Cargo.toml [lints] deny these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::unreachable)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One broken rule at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    rule: String,
    text: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.rule, self.text
        )
    }
}

/// Crates of the dependency tree that `domain` must not use.
const DOMAIN_FORBIDDEN_CRATES: &[&str] = &[
    "ratatui",
    "crossterm",
    "lettre",
    "notmuch",
    "directories",
    "serde",
    "serde_json",
    "toml",
    "rand",
    "tempfile",
    "clap",
    "anyhow",
    "color_eyre",
];

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

/// Constructs that can panic; forbidden outside tests everywhere.
const PANICKY: &[&str] = &[
    ".unwrap()",
    ".expect(",
    "panic!",
    "unreachable!",
    "todo!",
    "unimplemented!",
];

/// Top-level crate modules each layer must not reach.
fn forbidden_modules(layer: &str) -> &'static [&'static str] {
    match layer {
        "domain" => &["adapters", "inbox", "cli", "tui", "config", "keymap"],
        "adapters" => &["inbox", "cli", "tui", "config", "keymap"],
        "inbox" => &["adapters", "config", "cli", "tui", "keymap"],
        "cli" => &["tui"],
        "tui" => &["cli"],
        _ => &[],
    }
}

/// The layer of a file under `src/` (`domain`, `adapters`, ...), by its path.
fn layer_of(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or("");
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// The module path of a file under `src/`: `domain/reply/message.rs` ->
/// `[domain, reply, message]`; `lib.rs`, `main.rs` -> `[]`.
fn module_path(rel: &str) -> Vec<String> {
    let without_ext = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = without_ext.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

/// Blank out comments, string/char literals (keeping newlines and lengths),
/// so that what remains is code.
fn strip_comments_and_strings(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // Line comment (also doc comments).
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
            continue;
        }
        // Block comment, nested.
        if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth = depth.saturating_sub(1);
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            continue;
        }
        // Raw strings: r"..", r#".."#, br#".."#.
        let prev_is_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if !prev_is_ident && (c == 'r' || (c == 'b' && next == Some('r'))) {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let mut j = start;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                let hashes = j - start;
                for &ch in &chars[i..=j] {
                    out.push(blank(ch));
                }
                i = j + 1;
                while i < chars.len() {
                    if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
                        for _ in 0..=hashes {
                            out.push(' ');
                        }
                        i += 1 + hashes;
                        break;
                    }
                    out.push(blank(chars[i]));
                    i += 1;
                }
                continue;
            }
        }
        // Normal and byte strings.
        if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() {
                if chars[i] == '\\' {
                    out.push(' ');
                    if let Some(&e) = chars.get(i + 1) {
                        out.push(blank(e));
                    }
                    i += 2;
                    continue;
                }
                if chars[i] == '"' {
                    out.push(' ');
                    i += 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
            continue;
        }
        // Char literals versus lifetimes.
        if c == '\'' {
            if next == Some('\\') {
                // '\n', '\'', '\u{1F600}'
                let mut j = i + 3;
                while j < chars.len() && chars[j] != '\'' && j < i + 12 {
                    j += 1;
                }
                for _ in i..=j.min(chars.len() - 1) {
                    out.push(' ');
                }
                i = j + 1;
                continue;
            }
            if chars.get(i + 2) == Some(&'\'') {
                out.push_str("   ");
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether an attribute text (inside `#[...]`) enables the item only in tests.
fn is_test_cfg(attr: &str) -> bool {
    let compact: String = attr.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with("cfg(") && {
        let inner = &compact[4..];
        (inner.starts_with("test)") || inner.starts_with("all(test")) && !inner.starts_with("not(")
    }
}

/// Blank every item marked `#[cfg(test)]` in stripped code. Returns the code
/// and the names of out-of-line test modules (`#[cfg(test)] mod tests;`).
fn strip_test_items(code: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = code.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let mut test_modules = Vec::new();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '#' && chars[i + 1] == '[' {
            // Find the end of the attribute.
            let mut depth = 0usize;
            let mut j = i + 1;
            while j < chars.len() {
                match chars[j] {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let attr: String = chars[i + 2..j.min(chars.len())].iter().collect();
            if is_test_cfg(&attr) {
                // The item ends at the first `;` before any `{`, or at the
                // brace that closes the first `{`.
                let mut k = j + 1;
                let mut braces = 0usize;
                let mut item_text = String::new();
                while k < chars.len() {
                    let ch = chars[k];
                    if braces == 0 && ch == ';' {
                        break;
                    }
                    if ch == '{' {
                        braces += 1;
                    } else if ch == '}' {
                        braces = braces.saturating_sub(1);
                        if braces == 0 {
                            break;
                        }
                    }
                    if braces == 0 {
                        item_text.push(ch);
                    }
                    k += 1;
                }
                let words: Vec<&str> = item_text.split_whitespace().collect();
                if let Some(pos) = words.iter().position(|w| *w == "mod")
                    && !item_text.contains('{')
                    && let Some(name) = words.get(pos + 1)
                {
                    test_modules.push(name.trim_end_matches(';').to_string());
                }
                let end = k.min(chars.len() - 1);
                for slot in out.iter_mut().take(end + 1).skip(i) {
                    if *slot != '\n' {
                        *slot = ' ';
                    }
                }
                i = end + 1;
                continue;
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    (out.into_iter().collect(), test_modules)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Star,
    Semi,
    Other(char),
}

/// Tokens with their 1-based line numbers.
fn tokenize(code: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            toks.push((Tok::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            toks.push((Tok::Colons, line));
            i += 2;
        } else {
            toks.push((
                match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    '*' => Tok::Star,
                    ';' => Tok::Semi,
                    other => Tok::Other(other),
                },
                line,
            ));
            i += 1;
        }
    }
    toks
}

/// Expand a use tree starting at `toks[*i]` with `prefix`; pushes full paths.
fn expand_use(
    toks: &[(Tok, usize)],
    i: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    let mut path = prefix;
    loop {
        match toks.get(*i).map(|t| &t.0) {
            Some(Tok::Ident(id)) if id == "as" => {
                // `as name`: skip the alias.
                *i += 2;
                out.push(path);
                return;
            }
            Some(Tok::Ident(id)) => {
                if id != "self" || path.is_empty() {
                    path.push(id.clone());
                }
                *i += 1;
            }
            Some(Tok::Colons) => *i += 1,
            Some(Tok::Star) => {
                *i += 1;
                out.push(path);
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                loop {
                    match toks.get(*i).map(|t| &t.0) {
                        Some(Tok::Close) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Comma) => *i += 1,
                        None | Some(Tok::Semi) => return,
                        Some(_) => expand_use(toks, i, path.clone(), out),
                    }
                }
            }
            _ => {
                out.push(path);
                return;
            }
        }
    }
}

/// Every path mentioned in the code, with its line: `use` trees expanded,
/// plus `a::b::c` chains anywhere.
fn paths_in(code: &str) -> Vec<(Vec<String>, usize)> {
    let toks = tokenize(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Tok::Ident(id) = &toks[i].0
            && id == "use"
        {
            let line = toks[i].1;
            i += 1;
            let mut expanded = Vec::new();
            expand_use(&toks, &mut i, Vec::new(), &mut expanded);
            paths.extend(
                expanded
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .map(|p| (p, line)),
            );
            continue;
        }
        // A path chain: ident (:: ident)*, not preceded by `::`, `.`.
        if let Tok::Ident(first) = &toks[i].0 {
            // `a::b` continues a path; a leading `::std` starts one.
            let preceded = i > 0
                && match toks[i - 1].0 {
                    Tok::Other('.') => true,
                    Tok::Colons if i > 1 => match toks[i - 2].0 {
                        Tok::Ident(_) => true,
                        // `Vec<u8>::new` continues; `-> ::std` and `=> ::std` start.
                        Tok::Other('>') => {
                            !(i > 2 && matches!(toks[i - 3].0, Tok::Other('-') | Tok::Other('=')))
                        }
                        _ => false,
                    },
                    _ => false,
                };
            if !preceded {
                let line = toks[i].1;
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while j + 1 < toks.len() && toks[j].0 == Tok::Colons {
                    if let Tok::Ident(next) = &toks[j + 1].0 {
                        path.push(next.clone());
                        j += 2;
                    } else {
                        break;
                    }
                }
                if path.len() > 1 {
                    paths.push((path, line));
                }
                i = j;
                continue;
            }
        }
        i += 1;
    }
    paths
}

/// `super::x`, `self::x`, `crate::x` -> the absolute module path inside the crate.
fn resolve_in_crate(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let first = path.first()?;
    match first.as_str() {
        "crate" | "$crate" => Some(path[1..].to_vec()),
        "self" => {
            let mut abs = module.to_vec();
            abs.extend_from_slice(&path[1..]);
            Some(abs)
        }
        "super" => {
            let supers = path.iter().take_while(|p| *p == "super").count();
            let keep = module.len().checked_sub(supers)?;
            let mut abs = module[..keep].to_vec();
            abs.extend_from_slice(&path[supers..]);
            Some(abs)
        }
        _ => None,
    }
}

/// The rules for one file (`rel` is relative to `src/`).
fn check_source(rel: &str, source: &str) -> Vec<Violation> {
    let layer = layer_of(rel);
    let module = module_path(rel);
    let code = strip_comments_and_strings(source);
    let (code, _) = strip_test_items(&code);
    let original_lines: Vec<&str> = source.lines().collect();
    let text_of = |line: usize| {
        original_lines
            .get(line.saturating_sub(1))
            .map_or(String::new(), |l| l.trim().to_string())
    };
    let mut found: BTreeSet<(usize, String)> = BTreeSet::new();
    let file = format!("src/{rel}");

    for (path, line) in paths_in(&code) {
        let joined = path.join("::");
        if let Some(abs) = resolve_in_crate(&path, &module) {
            if let Some(top) = abs.first()
                && forbidden_modules(&layer).contains(&top.as_str())
            {
                found.insert((line, format!("{layer} must not use crate::{top}")));
            }
            continue;
        }
        if layer != "domain" {
            continue;
        }
        let root = path.first().map(String::as_str).unwrap_or("");
        if DOMAIN_FORBIDDEN_CRATES.contains(&root) {
            found.insert((line, format!("domain must not use the {root} crate")));
        }
        let mut std_hit = false;
        for forbidden in DOMAIN_FORBIDDEN_STD {
            let normalized = joined
                .strip_prefix("core::")
                .map_or(joined.clone(), |r| format!("std::{r}"));
            if normalized == *forbidden || normalized.starts_with(&format!("{forbidden}::")) {
                found.insert((line, format!("domain must not use {forbidden}")));
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
                    format!("domain must not use {call} (no clock, no terminal)"),
                ));
            }
        }
    }

    for (index, line) in code.lines().enumerate() {
        let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        for pattern in PANICKY {
            let hit = if pattern.ends_with('!') {
                // A macro name: not part of a longer identifier.
                compact.match_indices(pattern).any(|(pos, _)| {
                    pos == 0
                        || !compact[..pos]
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            } else {
                compact.contains(pattern)
            };
            if hit {
                found.insert((index + 1, format!("`{pattern}` outside tests")));
            }
        }
    }

    found
        .into_iter()
        .map(|(line, rule)| Violation {
            file: file.clone(),
            line,
            rule,
            text: text_of(line),
        })
        .collect()
}

/// All `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Files that are only test code: `#[cfg(test)] mod NAME;` in a parent.
fn test_only_files(src: &Path, files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut test_only = BTreeSet::new();
    for file in files {
        let Ok(source) = std::fs::read_to_string(file) else {
            continue;
        };
        let (_, modules) = strip_test_items(&strip_comments_and_strings(&source));
        let Ok(rel) = file.strip_prefix(src) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let dir = match rel.rsplit_once('/') {
            Some((d, "mod.rs")) => src.join(d),
            Some((d, name)) => src.join(d).join(name.trim_end_matches(".rs")),
            None if rel == "lib.rs" || rel == "main.rs" => src.to_path_buf(),
            None => src.join(rel.trim_end_matches(".rs")),
        };
        for module in modules {
            test_only.insert(dir.join(format!("{module}.rs")));
            test_only.insert(dir.join(&module).join("mod.rs"));
            // Everything below an out-of-line test module is test code too.
            for nested in rust_files(&dir.join(&module)) {
                test_only.insert(nested);
            }
        }
    }
    test_only
}

#[test]
fn sources_follow_the_layering_and_panic_rules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("domain/mod.rs") || f.ends_with("domain.rs")),
        "no domain module found under {}",
        src.display()
    );
    let test_only = test_only_files(&src, &files);
    let mut violations = Vec::new();
    let mut scanned = 0;
    for file in &files {
        if test_only.contains(file) {
            continue;
        }
        let source = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let rel = file
            .strip_prefix(&src)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        violations.extend(check_source(&rel, &source));
        scanned += 1;
    }
    assert!(scanned > 0);
    let report: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "{} architecture violation(s) (see ../shared/docs/ARCHITECTURE.md):\n{}",
        violations.len(),
        report.join("\n")
    );
}

// The checker itself: it must find what it is meant to find and nothing else.

fn rules(rel: &str, source: &str) -> Vec<String> {
    check_source(rel, source)
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
                  fn g() -> ::std::net::TcpStream { todo!() }\n";
    let found = rules("domain/reply/message.rs", source);
    for expected in [
        "1: domain must not use std::fs",
        "2: domain must not use std::env",
        "2: domain must not use std::io::stdin",
        "3: domain must not use crate::adapters",
        "4: domain must not use crate::config",
        "5: domain must not use the serde crate",
        "6: domain must not use std::process",
        "6: domain must not use Utc::now (no clock, no terminal)",
        "7: `todo!` outside tests",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "missing {expected:?} in {found:#?}"
        );
    }
    // `::std::net` has an empty first segment after `::`; the chain is std::net.
    assert!(
        found.iter().any(|f| f == "7: domain must not use std::net"),
        "{found:#?}"
    );
    let plain_io = rules(
        "domain/x.rs",
        "use std::io;\nfn f() { let _ = io::stdin(); }\n",
    );
    assert_eq!(
        plain_io,
        vec!["2: domain must not use io::stdin (no clock, no terminal)"]
    );
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
                  fn f<'a>(s: &'a str) -> Option<char> {\n\
                      let _ = \"std::env::var(\\\"HOME\\\") .unwrap() panic!\";\n\
                      let _ = r#\"std::fs \"quoted\" .expect(\"#;\n\
                      let _c = '\\''; let _d = '\"'; let _e = '{';\n\
                      s.chars().next().map(|c| c).or(Some(' ')).filter(|_| s.len() > 0).map(|c| c).and_then(|c| Some(c)).unwrap_or('x');\n\
                      None\n\
                  }\n";
    assert_eq!(rules("domain/diff.rs", source), Vec::<String>::new());
}

#[test]
fn checker_skips_test_code() {
    let source = "pub fn f() -> u8 { 1 }\n\
                  #[cfg(test)]\n\
                  mod tests {\n\
                      use std::fs;\n\
                      #[test]\n\
                      fn t() { let x: Option<u8> = None; x.unwrap(); assert!(std::fs::read(\"a\").is_err()); panic!(\"{}\", '}'); }\n\
                  }\n\
                  pub fn after() -> Option<u8> { None.expect(\"boom\") }\n";
    assert_eq!(
        rules("domain/tz.rs", source),
        vec!["8: `.expect(` outside tests"]
    );
    let (_, modules) = strip_test_items("#[cfg(test)]\nmod more_tests;\nfn x() {}\n");
    assert_eq!(modules, vec!["more_tests"]);
    let (code, _) = strip_test_items("#[cfg(not(test))]\nfn real() { a.unwrap() }\n");
    assert!(code.contains("a.unwrap()"), "cfg(not(test)) is real code");
}

#[test]
fn checker_applies_layer_rules() {
    assert_eq!(
        rules(
            "adapters/smtp.rs",
            "use crate::config::Smtp;\nuse crate::domain::ports::Transport;\nuse lettre::SmtpTransport;\n"
        ),
        vec!["1: adapters must not use crate::config"]
    );
    assert_eq!(
        rules(
            "inbox.rs",
            "use crate::{adapters::vdir::Vdir, domain::invite};\n"
        ),
        vec!["1: inbox must not use crate::adapters"]
    );
    assert_eq!(
        rules(
            "cli/list.rs",
            "fn f() { crate::tui::run(); crate::inbox::list(); }\n"
        ),
        vec!["1: cli must not use crate::tui"]
    );
    assert_eq!(
        rules("tui/view/list.rs", "use super::super::super::cli::Args;\n"),
        vec!["1: tui must not use crate::cli"]
    );
    // main.rs wires everything; config may use what it likes; std::fs is fine outside domain.
    assert_eq!(
        rules(
            "main.rs",
            "use rsvp::adapters::smtp;\nuse std::fs;\nfn main() {}\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        rules(
            "adapters/vdir.rs",
            "use std::fs;\nfn f() -> std::io::Result<()> { std::fs::write(\"a\", b\"\")?; Ok(()) }\n"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn checker_reports_file_line_and_text() {
    let v = check_source("domain/x.rs", "fn a() {}\n\n    let y = x.unwrap();\n");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].to_string(),
        "src/domain/x.rs:3: `.unwrap()` outside tests: let y = x.unwrap();"
    );
    // Identifiers that merely end in a macro name are not the macro.
    assert!(check_source("domain/x.rs", "fn f() { dont_panic!(); my_todo!(); }\n").is_empty());
    // `unwrap_or` and `expect_err` are not `.unwrap()` and `.expect(`.
    assert!(
        check_source(
            "domain/x.rs",
            "fn f(x: Option<u8>) -> u8 { x.unwrap_or(1) }\n"
        )
        .is_empty()
    );
}
