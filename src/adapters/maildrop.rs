//! A transport that drops each message into a directory instead of sending
//! it (the demo's "sent" folder): `<dir>/<n>.eml`, written atomically.

use crate::domain::ports::{Envelope, Transport, TransportError};
use std::path::{Path, PathBuf};

pub struct Maildrop {
    dir: PathBuf,
}

impl Maildrop {
    pub fn open(dir: &Path) -> Result<Maildrop, TransportError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| TransportError::Config(format!("{}: {e}", dir.display())))?;
        Ok(Maildrop {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Transport for Maildrop {
    fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), TransportError> {
        let fail = |e: std::io::Error| TransportError::Temporary {
            server: self.dir.display().to_string(),
            message: e.to_string(),
        };
        let count = std::fs::read_dir(&self.dir).map_err(fail)?.count();
        let mut header = format!("X-Rsvp-Envelope-From: {}\r\n", envelope.from);
        for to in &envelope.to {
            header.push_str(&format!("X-Rsvp-Envelope-To: {to}\r\n"));
        }
        let mut data = header.into_bytes();
        data.extend_from_slice(message);
        for n in count + 1.. {
            let path = self.dir.join(format!("{n:04}.eml"));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(&data).map_err(fail)?;
                    f.sync_all().map_err(fail)?;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(e)),
            }
        }
        Err(TransportError::Config("no free file name".into()))
    }

    fn describe(&self) -> String {
        format!("files in {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_numbered_files() {
        let dir = tempfile::tempdir().unwrap();
        let drop = Maildrop::open(&dir.path().join("sent")).unwrap();
        let env = Envelope {
            from: "a@x.example".into(),
            to: vec!["b@y.example".into()],
        };
        drop.send(&env, b"Subject: one\r\n\r\nbody\r\n").unwrap();
        drop.send(&env, b"Subject: two\r\n\r\nbody\r\n").unwrap();
        let one = std::fs::read_to_string(dir.path().join("sent/0001.eml")).unwrap();
        assert!(one.starts_with(
            "X-Rsvp-Envelope-From: a@x.example\r\nX-Rsvp-Envelope-To: b@y.example\r\nSubject: one"
        ));
        assert!(dir.path().join("sent/0002.eml").exists());
    }
}
