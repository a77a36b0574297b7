//! Private-mode indexing: bringing rsvp's own notmuch database up to date
//! with a Maildir, incrementally (only directories whose mtime changed are
//! listed), as `notmuch new` does.

use super::*;

impl Worker {
    /// Bring the private database up to date with the Maildir: list only
    /// directories whose mtime changed, index new files, then remove files
    /// that vanished (after all additions, so a message moved from `new/`
    /// to `cur/` keeps its tags), as `notmuch new` does.
    pub(super) fn index_private(
        &mut self,
        database: &Path,
        maildir: &Path,
        progress: &Sender<IndexProgress>,
    ) -> Result<IndexCounts, SourceError> {
        let name = self.target.name.clone();
        let fail = |message: String| SourceError::Index {
            path: name.clone(),
            message,
        };
        match fs::metadata(maildir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(fail(format!(
                    "maildir {} is not a directory",
                    maildir.display()
                )));
            }
            Err(e) => return Err(fail(format!("maildir {}: {e}", maildir.display()))),
        }
        let root = maildir.to_str().unwrap_or_default().to_string();
        // Nothing new (every directory's mtime as recorded, none added or
        // gone): no write lock, no state rewritten (issue 6: nothing new
        // costs what `notmuch new` costs).
        if let Ok(walked) = walk(maildir)
            && walked.unreadable.is_empty()
            && State::unchanged(database, &root, &walked.leaves)
        {
            return Ok(IndexCounts {
                managed: true,
                skipped: walked.skipped,
                ..IndexCounts::default()
            });
        }
        let db = self.target.open_rw(Some(progress))?;
        // Read the state only once the write lock is ours: it then matches
        // the database (another rsvp may have indexed while we waited).
        let state = State::load(database, &root);
        let full = state.is_none();
        let mut old = state.map(|s| s.dirs).unwrap_or_default();
        let mut strays = Vec::new();
        if full {
            // No trustworthy memory: rebuild it from the database itself.
            old = files_in_db(&db, maildir, &mut strays).map_err(|e| self.target.error(e))?;
        }
        State::dirty(&root).save(database).map_err(|e| {
            fail(format!(
                "cannot write {}: {e}",
                database.join(STATE_FILE).display()
            ))
        })?;

        let scan_start = now_ns();
        let walked =
            walk(maildir).map_err(|e| fail(format!("maildir {}: {e}", maildir.display())))?;
        let mut ticker = Ticker::new(progress);
        let mut counts = IndexCounts {
            managed: true,
            skipped: walked.skipped,
            ..IndexCounts::default()
        };
        let mut dirs = BTreeMap::new();
        let mut removals: Vec<PathBuf> = Vec::new();
        for leaf in walked.leaves {
            let previous = old.remove(&leaf.rel);
            if let Some(prev) = &previous
                && !full
                && prev.mtime == Some(leaf.mtime)
            {
                dirs.insert(leaf.rel, prev.clone());
                continue;
            }
            let Ok((names, skipped)) = list_messages(&leaf.abs) else {
                // Unreadable now: keep what we knew, look again next time.
                if let Some(mut prev) = previous {
                    prev.mtime = None;
                    dirs.insert(leaf.rel, prev);
                }
                continue;
            };
            counts.skipped += skipped;
            let known = previous.map(|d| d.files).unwrap_or_default();
            let mut files = BTreeSet::new();
            for file in names {
                counts.scanned += 1;
                if known.contains(&file) {
                    files.insert(file);
                    continue;
                }
                match add_file(&db, &leaf.abs.join(&file)).map_err(|e| self.target.error(e))? {
                    Added::New => counts.added += 1,
                    Added::Known => {}
                    Added::NotMail => counts.skipped += 1,
                    Added::Vanished => continue,
                }
                files.insert(file);
                if ticker.tick(&counts) {
                    self.serve(&db);
                    if self.stopping {
                        return Err(fail("indexing stopped: rsvp is closing".into()));
                    }
                }
            }
            removals.extend(known.difference(&files).map(|f| leaf.abs.join(f)));
            let racy = leaf.mtime_ns() >= scan_start - RACY_WINDOW_NS;
            dirs.insert(
                leaf.rel,
                DirState {
                    mtime: (!racy).then_some(leaf.mtime),
                    files,
                },
            );
        }
        // Directories gone since last time, except below unreadable folders.
        for (rel, gone) in old {
            if walked.unreadable.iter().any(|u| is_within(&rel, u)) {
                dirs.insert(rel, gone);
                continue;
            }
            let dir = maildir.join(&rel);
            removals.extend(gone.files.iter().map(|f| dir.join(f)));
        }
        removals.extend(strays);
        for path in removals {
            if remove_file(&db, &path).map_err(|e| self.target.error(e))? {
                counts.removed += 1;
            }
            if ticker.tick(&counts) {
                self.serve(&db);
                if self.stopping {
                    return Err(fail("indexing stopped: rsvp is closing".into()));
                }
            }
        }
        self.serve(&db);
        db.close().map_err(|e| self.target.error(e))?;
        drop(db);
        let clean = State {
            version: STATE_VERSION,
            maildir: root,
            dirty: false,
            dirs,
        };
        clean.save(database).map_err(|e| {
            fail(format!(
                "cannot write {}: {e}",
                database.join(STATE_FILE).display()
            ))
        })?;
        Ok(counts)
    }
}

enum Added {
    /// A message new to the index.
    New,
    /// Already indexed, or another file of a message already indexed.
    Known,
    /// Not an email (libnotmuch refused it).
    NotMail,
    /// Gone between listing and indexing.
    Vanished,
}

fn add_file(db: &Database, path: &Path) -> Result<Added, notmuch::Error> {
    let Some(text) = path.to_str() else {
        return Ok(Added::NotMail);
    };
    if db.find_message_by_filename(&text)?.is_some() {
        return Ok(Added::Known);
    }
    match db.index_file(path, None) {
        // A second file of a known message (a rename, a copy) is not new.
        Ok(message) if message.count_files() > 1 => Ok(Added::Known),
        Ok(_) => Ok(Added::New),
        Err(notmuch::Error::NotmuchError(Status::FileNotEmail)) => Ok(Added::NotMail),
        Err(notmuch::Error::NotmuchError(Status::FileError)) if !path.exists() => {
            Ok(Added::Vanished)
        }
        Err(notmuch::Error::NotmuchError(Status::FileError)) => Ok(Added::NotMail),
        Err(e) => Err(e),
    }
}

/// Remove one file from the index; true when that removed its message.
fn remove_file(db: &Database, path: &Path) -> Result<bool, notmuch::Error> {
    let Some(text) = path.to_str() else {
        return Ok(false);
    };
    let Some(id) = db
        .find_message_by_filename(&text)?
        .map(|m| m.id().into_owned())
    else {
        return Ok(false);
    };
    db.remove_message(path)?;
    Ok(db.find_message(&id)?.is_none())
}

/// Every file the database holds, by directory relative to `maildir`;
/// files outside it go to `strays` (the mail root was changed).
fn files_in_db(
    db: &Database,
    maildir: &Path,
    strays: &mut Vec<PathBuf>,
) -> Result<BTreeMap<String, DirState>, notmuch::Error> {
    let mut dirs: BTreeMap<String, DirState> = BTreeMap::new();
    let messages = db.create_query("*")?.search_messages()?;
    for message in messages {
        for file in message.filenames() {
            let placed = file.strip_prefix(maildir).ok().and_then(|rel| {
                let name = rel.file_name()?.to_str()?.to_string();
                let dir = rel.parent()?.to_str()?.to_string();
                Some((dir, name))
            });
            match placed {
                Some((dir, name)) => {
                    dirs.entry(dir)
                        .or_insert_with(|| DirState {
                            mtime: None,
                            files: BTreeSet::new(),
                        })
                        .files
                        .insert(name);
                }
                None => strays.push(file),
            }
        }
    }
    Ok(dirs)
}

/// Sends `Scanning` now and then and says when to look at the request queue.
struct Ticker<'a> {
    progress: &'a Sender<IndexProgress>,
    since_serve: u64,
    last_sent: Instant,
}

impl<'a> Ticker<'a> {
    fn new(progress: &'a Sender<IndexProgress>) -> Self {
        Ticker {
            progress,
            since_serve: 0,
            last_sent: Instant::now(),
        }
    }

    /// One file done; true every [`BATCH`] files.
    fn tick(&mut self, counts: &IndexCounts) -> bool {
        if self.last_sent.elapsed() >= PROGRESS_EVERY {
            let _ = self.progress.send(IndexProgress::Scanning(*counts));
            self.last_sent = Instant::now();
        }
        self.since_serve += 1;
        if self.since_serve >= BATCH {
            self.since_serve = 0;
            return true;
        }
        false
    }
}
