//! The lexical scanner of tests/architecture.rs: blanks comments and
//! literals, skips `#[cfg(test)]` items, expands `use` trees and finds every
//! `a::b` path with its line. No parser crate: the sources are read as text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layer of a file under `src/` (`domain`, `adapters`, ...), by its path.
pub fn layer_of(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or("");
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// The module path of a file under `src/`: `domain/reply/message.rs` ->
/// `[domain, reply, message]`; `lib.rs`, `main.rs` -> `[]`.
pub fn module_path(rel: &str) -> Vec<String> {
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
pub fn strip_comments_and_strings(src: &str) -> String {
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
pub fn strip_test_items(code: &str) -> (String, Vec<String>) {
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
pub fn paths_in(code: &str) -> Vec<(Vec<String>, usize)> {
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

/// `super::x`, `self::x`, `crate::x`, `rsvp::x` -> the absolute module path
/// inside the crate; `None` for any other root (std, a crate, a local name).
pub fn resolve_in_crate(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let first = path.first()?;
    match first.as_str() {
        // `rsvp::` is how main.rs (the binary crate) reaches the library.
        "crate" | "$crate" | "rsvp" => Some(path[1..].to_vec()),
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

/// All `.rs` files under `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
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
pub fn test_only_files(src: &Path, files: &[PathBuf]) -> BTreeSet<PathBuf> {
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
