//! The trust list (R9.2, T59): the e-mail addresses of the user's contacts,
//! read from a directory of vCards (`*.vcf`, e.g. a vdirsyncer contacts
//! collection). Only EMAIL properties are read; matching ignores case.

use crate::domain::identity::normalize_address;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// How deep below the directory vCards are looked for (collections inside
/// an account directory).
pub const MAX_DEPTH: usize = 3;
/// vCard files larger than this are skipped (photos can be big; EMAIL is
/// usually near the top, but a huge file is not worth reading).
pub const MAX_VCARD_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ContactsError {
    #[error("contacts {path}: {message}")]
    Io { path: String, message: String },
}

/// Addresses of known people, lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    addresses: BTreeSet<String>,
}

impl Contacts {
    /// Every EMAIL of every `*.vcf` file at or below `dir`.
    pub fn load(dir: &Path) -> Result<Contacts, ContactsError> {
        let io = |p: &Path, e: std::io::Error| ContactsError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(dir).map_err(|e| io(dir, e))?;
        if !meta.is_dir() {
            return Err(ContactsError::Io {
                path: dir.display().to_string(),
                message: "not a directory".to_string(),
            });
        }
        let mut contacts = Contacts::default();
        let mut todo: Vec<(PathBuf, usize)> = vec![(dir.to_path_buf(), 0)];
        while let Some((d, depth)) = todo.pop() {
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) if depth == 0 => return Err(io(&d, e)),
                Err(_) => continue,
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let Ok(kind) = e.file_type() else { continue };
                let path = e.path();
                if kind.is_dir() {
                    if depth < MAX_DEPTH {
                        todo.push((path, depth + 1));
                    }
                    continue;
                }
                let is_vcf = Path::new(&name)
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("vcf"));
                if !is_vcf {
                    continue;
                }
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() || meta.len() > MAX_VCARD_BYTES {
                    continue;
                }
                if let Ok(raw) = std::fs::read(&path) {
                    contacts.extend(emails(&String::from_utf8_lossy(&raw)));
                }
            }
        }
        Ok(contacts)
    }

    /// A list from addresses (tests, the demo).
    pub fn from_addresses<I: IntoIterator<Item = S>, S: AsRef<str>>(addresses: I) -> Contacts {
        let mut c = Contacts::default();
        c.extend(
            addresses
                .into_iter()
                .filter_map(|a| normalize_address(a.as_ref())),
        );
        c
    }

    fn extend(&mut self, addresses: impl IntoIterator<Item = String>) {
        self.addresses.extend(addresses);
    }

    /// Whether `address` (any case, with or without `mailto:`) is a contact.
    pub fn contains(&self, address: &str) -> bool {
        normalize_address(address).is_some_and(|a| self.addresses.contains(&a))
    }

    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }
}

/// The EMAIL values of vCard text (several cards allowed), normalised.
pub fn emails(text: &str) -> Vec<String> {
    // Unfold (RFC 6350 §3.2): a line starting with a space or tab continues
    // the previous one.
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match (line.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(prev)) => prev.push_str(rest),
            _ => lines.push(line.to_string()),
        }
    }
    let mut out = Vec::new();
    for line in &lines {
        let Some((head, value)) = split_value(line) else {
            continue;
        };
        let name = head.split(';').next().unwrap_or("");
        // `item1.EMAIL` (Apple groups): the name is after the last dot.
        let name = name.rsplit('.').next().unwrap_or(name).trim();
        if !name.eq_ignore_ascii_case("EMAIL") {
            continue;
        }
        let value = value.replace("\\,", ",").replace("\\;", ";");
        if let Some(a) = normalize_address(value.trim())
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    out
}

/// Split `NAME;PARAMS:value` at the first colon outside double quotes.
fn split_value(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((line.get(..i)?, line.get(i + 1..)?)),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPLE: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice Example\r\nitem1.EMAIL;type=INTERNET;type=pref:Alice@Example.ORG\r\nitem1.X-ABLabel:_$!<Other>!$_\r\nEND:VCARD\r\n";
    const FOLDED: &str = "BEGIN:VCARD\nVERSION:4.0\nFN:Bob\nEMAIL;TYPE=\"work:x\";PREF=1:bob@wo\n rk.example\nemail:mailto:BOB@home.example\nNOTE:EMAIL:not-me@x.example\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nEMAIL:carol@x.example\nEND:VCARD\n";

    #[test]
    fn reads_email_lines_of_every_card() {
        assert_eq!(emails(APPLE), vec!["alice@example.org"]);
        assert_eq!(
            emails(FOLDED),
            vec!["bob@work.example", "bob@home.example", "carol@x.example"]
        );
        assert!(emails("EMAIL:not an address\r\nEMAIL;TYPE=x\r\n").is_empty());
    }

    #[test]
    fn loads_a_directory_tree_and_matches_ignoring_case() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let coll = tmp.path().join("default");
        std::fs::create_dir_all(&coll).expect("mkdir");
        std::fs::write(coll.join("a.vcf"), APPLE).expect("write");
        std::fs::write(tmp.path().join("b.VCF"), FOLDED).expect("write");
        std::fs::write(tmp.path().join("c.txt"), "EMAIL:eve@x.example\n").expect("write");
        std::fs::write(tmp.path().join(".d.vcf"), "EMAIL:eve@x.example\n").expect("write");
        let c = Contacts::load(tmp.path()).expect("load");
        assert_eq!(c.len(), 4);
        assert!(c.contains("ALICE@example.org"));
        assert!(c.contains("mailto:carol@X.example"));
        assert!(!c.contains("eve@x.example"));
        assert!(!c.contains("not-me@x.example"));
    }

    #[test]
    fn missing_directory_names_the_path() {
        let e = Contacts::load(Path::new("/nonexistent/rsvp-contacts")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/rsvp-contacts"), "{e}");
        let c = Contacts::from_addresses(["A@B.example"]);
        assert!(c.contains("a@b.example"));
    }
}
