//! The data source of the real inbox: `inbox::list` over the mail index
//! (notmuch, or a plain Maildir), indexing with progress, and the tags that
//! record what was done. Lives on the worker thread.

use super::row;
use super::state::{Progress, Row};
use super::update::Target;
use super::worker::{DataSource, Mark};
use crate::domain::ports::{Candidate, IndexProgress, InviteSource, MailIndex};
use crate::inbox::{self, Env, ListOptions, ParseCache};
use std::collections::HashMap;

/// The tags to add and remove for what was done: the answer and apply
/// tags of the inbox (shared with `reply --id`), and `+rsvp/dismissed
/// -rsvp/pending` for a dismissal.
pub fn tags_for(mark: Mark) -> (&'static [&'static str], &'static [&'static str]) {
    match mark {
        Mark::Answered(partstat) => inbox::answer_tags(partstat),
        Mark::Applied => inbox::APPLIED_TAGS,
        Mark::Dismissed => (&["rsvp/dismissed"], &["rsvp/pending"]),
    }
}

/// Rows from `inbox::list` over a mail source, with an optional index to
/// bring up to date and the user's trusted senders.
pub struct Listing {
    source: Box<dyn InviteSource>,
    index: Option<Box<dyn MailIndex>>,
    trusted: Box<dyn Fn(&str) -> bool>,
    cache: ParseCache,
    /// The messages behind each row (the one shown, then older versions),
    /// by row key, from the listings so far: what a mark tags.
    messages: HashMap<String, Vec<Candidate>>,
}

impl Listing {
    /// List `source`; `index` re-indexes it (notmuch); `trusted` says whether
    /// a normalised sender address is in the contacts (`|_| true` without
    /// `[trust] contacts`).
    pub fn new(
        source: Box<dyn InviteSource>,
        index: Option<Box<dyn MailIndex>>,
        trusted: Box<dyn Fn(&str) -> bool>,
    ) -> Listing {
        Listing {
            source,
            index,
            trusted,
            cache: ParseCache::new(),
            messages: HashMap::new(),
        }
    }
}

impl DataSource for Listing {
    fn rows(&mut self, env: &Env<'_>, all: bool) -> Result<Vec<Row>, String> {
        let items = inbox::list(
            env,
            self.source.as_ref(),
            &mut self.cache,
            ListOptions {
                all,
                trusted: &*self.trusted,
            },
        )
        .map_err(|e| e.to_string())?;
        for item in &items {
            let mut all = vec![item.message.clone()];
            all.extend(item.older.iter().cloned());
            self.messages.insert(item.message.id.clone(), all);
        }
        Ok(items
            .into_iter()
            .map(|i| row::from_item(i, &env.clock, env.now))
            .collect())
    }

    fn read(&mut self, target: &Target) -> Result<Vec<u8>, String> {
        match self.messages.get(&target.key).and_then(|m| m.first()) {
            Some(c) => self.source.read(c).map_err(|e| e.to_string()),
            None => std::fs::read(&target.path)
                .map_err(|e| format!("cannot read message {}: {e}", target.path)),
        }
    }

    fn reindex(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<Option<String>, String> {
        let Some(index) = &self.index else {
            return Ok(None);
        };
        let counts = index
            .index(&mut |event| match event {
                IndexProgress::Waiting => {
                    progress(Progress::Waiting("the notmuch database".into()))
                }
                IndexProgress::Scanning(c) => progress(Progress::Indexing {
                    done: usize::try_from(c.scanned).unwrap_or(usize::MAX),
                    total: None,
                }),
                IndexProgress::Indexed(_) | IndexProgress::Failed(_) => {}
            })
            .map_err(|e| e.to_string())?;
        Ok((counts.added > 0 || counts.removed > 0).then(|| {
            format!(
                "new mail indexed: {} added, {} removed",
                counts.added, counts.removed
            )
        }))
    }

    fn mark(&mut self, target: &Target, mark: Mark) -> Result<(), String> {
        let (add, remove) = tags_for(mark);
        let Some(messages) = self.messages.get(&target.key) else {
            return Err(format!(
                "message {} is not in the last listing",
                target.path
            ));
        };
        // The older versions of the same invitation are done too.
        let mut first_error = None;
        for c in messages {
            if let Err(e) = self.source.tag(c, add, remove) {
                first_error.get_or_insert(e.to_string());
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
