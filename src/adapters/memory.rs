//! In-memory implementations of the ports, for tests and the demo: a
//! calendar store, an outbox, a recording transport, each able to fail on
//! demand, and a mail source. Same contracts as the real adapters (lookup by
//! the UID inside the data, ETag checks, id rules); nothing touches disk
//! except `MemorySource::from_dir`, which loads fixture files once.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::adapters::outbox::is_valid_id;
use crate::adapters::vdir::{safe_href, scan_uid};
use crate::domain::ports::{
    CalendarStore, Candidate, Envelope, InviteSource, Outbox, OutboxEntry, OutboxError, ReplyKey,
    SourceError, StoreError, StoredObject, Transport, TransportError,
};

/// Lock a mutex for a helper method: the state is plain data, so after a
/// panic elsewhere it is still usable.
fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A calendar collection in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<StoreState>,
}

#[derive(Debug, Default)]
struct StoreState {
    objects: BTreeMap<String, StoredObject>,
    /// Source of ETags and random names, so runs are deterministic.
    counter: u64,
    conflict_next_update: bool,
    fail_next_write: Option<StoreError>,
}

impl StoreState {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn new_etag(&mut self) -> String {
        format!("mem-{}", self.next())
    }

    fn random_href(&mut self) -> String {
        format!("{:032x}.ics", self.next())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, StoreState>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Io {
            path: "memory store".to_string(),
            message: "lock poisoned by a panic in another thread".to_string(),
        })
    }

    /// Put `data` under `href` as another program would (a new ETag, any
    /// existing object replaced): to seed the store or simulate an edit.
    pub fn insert(&self, href: &str, data: &[u8]) -> StoredObject {
        let mut state = relock(&self.state);
        let obj = StoredObject {
            href: href.to_string(),
            etag: state.new_etag(),
            data: data.to_vec(),
        };
        state.objects.insert(href.to_string(), obj.clone());
        obj
    }

    /// Remove the object under `href`, as another program would.
    pub fn remove(&self, href: &str) -> Option<StoredObject> {
        relock(&self.state).objects.remove(href)
    }

    /// The object under `href`, if any.
    pub fn get(&self, href: &str) -> Option<StoredObject> {
        relock(&self.state).objects.get(href).cloned()
    }

    /// Make the next `update` fail with `StoreError::Conflict`, as if
    /// another program had changed the object between read and write (T61).
    pub fn inject_conflict(&self) {
        relock(&self.state).conflict_next_update = true;
    }

    /// Make the next `create` or `update` fail with `error`.
    pub fn fail_next_write(&self, error: StoreError) {
        relock(&self.state).fail_next_write = Some(error);
    }
}

impl CalendarStore for MemoryStore {
    fn find_by_uid(&self, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        if uid.is_empty() {
            return Ok(None);
        }
        let state = self.lock()?;
        Ok(state
            .objects
            .values()
            .find(|o| scan_uid(&o.data).as_deref() == Some(uid))
            .cloned())
    }

    fn create(&self, uid: &str, data: &[u8]) -> Result<StoredObject, StoreError> {
        let mut state = self.lock()?;
        if let Some(error) = state.fail_next_write.take() {
            return Err(error);
        }
        if let Some(existing) = state
            .objects
            .values()
            .find(|o| !uid.is_empty() && scan_uid(&o.data).as_deref() == Some(uid))
        {
            return Err(StoreError::Conflict {
                href: existing.href.clone(),
            });
        }
        let mut href = safe_href(uid, || state.random_href());
        while state.objects.contains_key(&href) {
            href = state.random_href();
        }
        let obj = StoredObject {
            href: href.clone(),
            etag: state.new_etag(),
            data: data.to_vec(),
        };
        state.objects.insert(href, obj.clone());
        Ok(obj)
    }

    fn update(&self, existing: &StoredObject, data: &[u8]) -> Result<StoredObject, StoreError> {
        let mut state = self.lock()?;
        if let Some(error) = state.fail_next_write.take() {
            return Err(error);
        }
        if std::mem::take(&mut state.conflict_next_update) {
            return Err(StoreError::Conflict {
                href: existing.href.clone(),
            });
        }
        match state.objects.get(&existing.href) {
            None => {
                return Err(StoreError::Gone {
                    href: existing.href.clone(),
                });
            }
            Some(current) if current.etag != existing.etag => {
                return Err(StoreError::Conflict {
                    href: existing.href.clone(),
                });
            }
            Some(_) => {}
        }
        let obj = StoredObject {
            href: existing.href.clone(),
            etag: state.new_etag(),
            data: data.to_vec(),
        };
        state.objects.insert(existing.href.clone(), obj.clone());
        Ok(obj)
    }

    fn list(&self) -> Result<Vec<StoredObject>, StoreError> {
        Ok(self.lock()?.objects.values().cloned().collect())
    }

    fn delete(&self, existing: &StoredObject) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        match state.objects.get(&existing.href) {
            None => Err(StoreError::Gone {
                href: existing.href.clone(),
            }),
            Some(current) if current.etag != existing.etag => Err(StoreError::Conflict {
                href: existing.href.clone(),
            }),
            Some(_) => {
                state.objects.remove(&existing.href);
                Ok(())
            }
        }
    }
}

/// An outbox in memory.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    state: Mutex<OutboxState>,
}

#[derive(Debug, Default)]
struct OutboxState {
    /// In the order they were put; `true` once sent.
    entries: Vec<(OutboxEntry, bool)>,
    /// Ids put staged and not yet marked ready (not sendable).
    staged: std::collections::HashSet<String>,
    /// Ids the server refused for good (kept apart, never retried).
    refused: std::collections::HashSet<String>,
    fail_next_put: Option<OutboxError>,
}

impl MemoryOutbox {
    /// An empty outbox.
    pub fn new() -> MemoryOutbox {
        MemoryOutbox::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, OutboxState>, OutboxError> {
        self.state.lock().map_err(|_| OutboxError::Io {
            path: "memory outbox".to_string(),
            message: "lock poisoned by a panic in another thread".to_string(),
        })
    }

    /// Make the next `put` fail with `error` (nothing is stored).
    pub fn fail_next_put(&self, error: OutboxError) {
        relock(&self.state).fail_next_put = Some(error);
    }

    /// Entries accepted by the transport, in the order they were put.
    pub fn sent(&self) -> Vec<OutboxEntry> {
        relock(&self.state)
            .entries
            .iter()
            .filter(|(_, sent)| *sent)
            .map(|(e, _)| e.clone())
            .collect()
    }
}

impl Outbox for MemoryOutbox {
    fn put(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        let mut state = self.lock()?;
        if let Some(error) = state.fail_next_put.take() {
            return Err(error);
        }
        if !is_valid_id(&entry.id) {
            return Err(OutboxError::Io {
                path: "memory outbox".to_string(),
                message: format!(
                    "invalid outbox entry id {:?} (only A-Z a-z 0-9 . _ - allowed, no leading dot)",
                    entry.id
                ),
            });
        }
        if state.entries.iter().any(|(e, _)| e.id == entry.id) {
            return Err(OutboxError::Io {
                path: "memory outbox".to_string(),
                message: format!("an outbox entry with id {:?} already exists", entry.id),
            });
        }
        state.entries.push((entry.clone(), false));
        Ok(())
    }

    fn pending(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let state = self.lock()?;
        Ok(state
            .entries
            .iter()
            .filter(|(e, sent)| {
                !*sent && !state.staged.contains(&e.id) && !state.refused.contains(&e.id)
            })
            .map(|(e, _)| e.clone())
            .collect())
    }

    fn record_failure(&self, id: &str, error: &TransportError) -> Result<(), OutboxError> {
        self.record_error(id, &error.to_string())?;
        if error.is_permanent() {
            self.lock()?.refused.insert(id.to_string());
        }
        Ok(())
    }

    fn failed(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let state = self.lock()?;
        Ok(state
            .entries
            .iter()
            .filter(|(e, sent)| !*sent && state.refused.contains(&e.id))
            .map(|(e, _)| e.clone())
            .collect())
    }

    fn drop_entry(&self, id: &str) -> Result<(), OutboxError> {
        let mut state = self.lock()?;
        let before = state.entries.len();
        state.entries.retain(|(e, sent)| e.id != id || *sent);
        state.refused.remove(id);
        state.staged.remove(id);
        if state.entries.len() == before {
            return Err(OutboxError::NotFound { id: id.to_string() });
        }
        Ok(())
    }

    fn put_staged(&self, entry: &OutboxEntry) -> Result<(), OutboxError> {
        self.put(entry)?;
        self.lock()?.staged.insert(entry.id.clone());
        Ok(())
    }

    fn mark_ready(&self, id: &str) -> Result<(), OutboxError> {
        self.lock()?.staged.remove(id);
        Ok(())
    }

    fn staged(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let state = self.lock()?;
        Ok(state
            .entries
            .iter()
            .filter(|(e, sent)| !*sent && state.staged.contains(&e.id))
            .map(|(e, _)| e.clone())
            .collect())
    }

    fn record_error(&self, id: &str, error: &str) -> Result<(), OutboxError> {
        let mut state = self.lock()?;
        match state
            .entries
            .iter_mut()
            .find(|(e, sent)| e.id == id && !*sent)
        {
            Some((e, _)) => {
                e.last_error = Some(error.to_string());
                Ok(())
            }
            None => Err(OutboxError::NotFound { id: id.to_string() }),
        }
    }

    fn mark_sent(&self, id: &str) -> Result<(), OutboxError> {
        let mut state = self.lock()?;
        match state.entries.iter_mut().find(|(e, _)| e.id == id) {
            Some((_, sent)) => {
                *sent = true;
                Ok(())
            }
            None => Err(OutboxError::NotFound { id: id.to_string() }),
        }
    }

    fn discard(&self, id: &str) -> Result<(), OutboxError> {
        let mut state = self.lock()?;
        state.entries.retain(|(e, sent)| e.id != id || *sent);
        Ok(())
    }

    fn find(&self, key: &ReplyKey) -> Result<Option<(OutboxEntry, bool)>, OutboxError> {
        let state = self.lock()?;
        // An unsent answer first, else the latest sent one (as DirOutbox).
        let pending = state
            .entries
            .iter()
            .find(|(e, sent)| !*sent && &e.key == key);
        let found = pending.or_else(|| {
            state
                .entries
                .iter()
                .rev()
                .find(|(e, sent)| *sent && &e.key == key)
        });
        Ok(found.cloned())
    }
}

/// A transport that records what it is given and can fail on demand.
#[derive(Debug, Default)]
pub struct MemoryTransport {
    state: Mutex<TransportState>,
}

#[derive(Debug, Default)]
struct TransportState {
    sent: Vec<(Envelope, Vec<u8>)>,
    /// Fail with this error for this many more sends.
    failure: Option<(TransportError, usize)>,
    attempts: usize,
}

impl MemoryTransport {
    /// A transport that accepts everything.
    pub fn new() -> MemoryTransport {
        MemoryTransport::default()
    }

    /// Fail the next `times` sends with `error` (nothing is recorded for
    /// them); later sends succeed again.
    pub fn fail_next(&self, error: TransportError, times: usize) {
        relock(&self.state).failure = (times > 0).then_some((error, times));
    }

    /// The messages accepted so far, in order.
    pub fn sent(&self) -> Vec<(Envelope, Vec<u8>)> {
        relock(&self.state).sent.clone()
    }

    /// How many sends were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        relock(&self.state).attempts
    }
}

impl Transport for MemoryTransport {
    fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), TransportError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| TransportError::Config("memory transport lock poisoned".to_string()))?;
        state.attempts += 1;
        if let Some((error, left)) = state.failure.take() {
            if left > 1 {
                state.failure = Some((error.clone(), left - 1));
            }
            return Err(error);
        }
        state.sent.push((envelope.clone(), message.to_vec()));
        Ok(())
    }

    fn describe(&self) -> String {
        "in-memory transport (messages are recorded, nothing is sent)".to_string()
    }
}

/// Mail messages in memory, as the inbox listing reads them (tests, demo):
/// added from bytes or loaded from a directory of `.eml` files. Every
/// change gets a new mtime, reads are counted and tags are recorded.
#[derive(Debug, Default)]
pub struct MemorySource {
    state: Mutex<SourceState>,
}

#[derive(Debug, Default)]
struct SourceState {
    /// By path.
    messages: BTreeMap<String, MemoryMessage>,
    /// Source of mtimes, so a changed message always looks changed.
    clock: i64,
    reads: usize,
}

#[derive(Debug, Clone)]
struct MemoryMessage {
    data: Vec<u8>,
    mtime: i64,
    tags: Vec<String>,
}

impl MemorySource {
    /// No messages.
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Every `*.eml` file directly inside `dir`, under its full path.
    pub fn from_dir(dir: &std::path::Path) -> Result<MemorySource, SourceError> {
        let err = |e: std::io::Error| SourceError::Index {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        let source = MemorySource::new();
        let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map_err(err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("eml")))
            .collect();
        paths.sort();
        for p in paths {
            let data = std::fs::read(&p).map_err(|e| SourceError::Message {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            source.add(&p.display().to_string(), &data);
        }
        Ok(source)
    }

    /// Add or replace the message at `path` (a new mtime either way).
    pub fn add(&self, path: &str, data: &[u8]) -> Candidate {
        let mut state = relock(&self.state);
        state.clock += 1;
        let mtime = state.clock;
        let tags = state
            .messages
            .get(path)
            .map(|m| m.tags.clone())
            .unwrap_or_default();
        state.messages.insert(
            path.to_string(),
            MemoryMessage {
                data: data.to_vec(),
                mtime,
                tags: tags.clone(),
            },
        );
        Candidate {
            id: path.to_string(),
            path: path.to_string(),
            stamp: memory_stamp(mtime, data.len()),
            tags,
            missing: None,
        }
    }

    /// Remove the message at `path`.
    pub fn remove(&self, path: &str) -> bool {
        relock(&self.state).messages.remove(path).is_some()
    }

    /// How many times `read` returned a message.
    pub fn reads(&self) -> usize {
        relock(&self.state).reads
    }

    /// The tags of the message at `path`.
    pub fn tags(&self, path: &str) -> Vec<String> {
        relock(&self.state)
            .messages
            .get(path)
            .map(|m| m.tags.clone())
            .unwrap_or_default()
    }
}

/// A memory message's identity: its change counter stands in for the mtime
/// (in whole seconds, so it is never "racy").
fn memory_stamp(counter: i64, len: usize) -> crate::domain::ports::FileStamp {
    crate::domain::ports::FileStamp {
        size: len as u64,
        mtime_ns: counter.saturating_mul(1_000_000_000),
        ctime_ns: 0,
        ino: 0,
    }
}

impl InviteSource for MemorySource {
    fn candidates(&self) -> Result<Vec<Candidate>, SourceError> {
        Ok(relock(&self.state)
            .messages
            .iter()
            .map(|(path, m)| Candidate {
                id: path.clone(),
                path: path.clone(),
                stamp: memory_stamp(m.mtime, m.data.len()),
                tags: m.tags.clone(),
                missing: None,
            })
            .collect())
    }

    fn read(&self, candidate: &Candidate) -> Result<Vec<u8>, SourceError> {
        let mut state = relock(&self.state);
        let data = state
            .messages
            .get(&candidate.path)
            .map(|m| m.data.clone())
            .ok_or_else(|| SourceError::Message {
                path: candidate.path.clone(),
                message: "no such message".to_string(),
            })?;
        state.reads += 1;
        Ok(data)
    }

    fn tag(&self, candidate: &Candidate, add: &[&str], remove: &[&str]) -> Result<(), SourceError> {
        let mut state = relock(&self.state);
        let m = state
            .messages
            .get_mut(&candidate.path)
            .ok_or_else(|| SourceError::Message {
                path: candidate.path.clone(),
                message: "no such message".to_string(),
            })?;
        m.tags.retain(|t| !remove.contains(&t.as_str()));
        for t in add {
            if !m.tags.iter().any(|x| x == t) {
                m.tags.push((*t).to_string());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(uid: &str, summary: &str) -> Vec<u8> {
        format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
            .into_bytes()
    }

    fn entry(id: &str, uid: &str, partstat: &str) -> OutboxEntry {
        OutboxEntry {
            id: id.to_string(),
            envelope: Envelope {
                from: "bob@example.org".to_string(),
                to: vec!["alice@example.com".to_string()],
            },
            key: ReplyKey {
                uid: uid.to_string(),
                recurrence_ids: Vec::new(),
                partstat: partstat.to_string(),
                sequence: 0,
            },
            message: b"Subject: x\r\n\r\nbody".to_vec(),
            last_error: None,
        }
    }

    #[test]
    fn t57_store_safe_names_and_lookup_by_content() {
        let store = MemoryStore::new();
        let safe = store.create("abc", &event("abc", "x")).unwrap();
        assert_eq!(safe.href, "abc.ics");
        let hostile = store.create("../../x", &event("../../x", "x")).unwrap();
        assert_eq!(hostile.href.len(), 36);
        assert!(!hostile.href.contains('/'));
        assert_eq!(
            store.find_by_uid("../../x").unwrap().unwrap().href,
            hostile.href
        );
        // The name "abc.ics" holds another UID now: lookup goes by content.
        store.insert("abc.ics", &event("other", "y"));
        assert_eq!(store.find_by_uid("abc").unwrap(), None);
        let again = store.create("abc", &event("abc", "z")).unwrap();
        assert_ne!(again.href, "abc.ics");
        assert_eq!(store.list().unwrap().len(), 3);
    }

    #[test]
    fn t61_store_etag_conflict_gone_and_injected_conflict() {
        let store = MemoryStore::new();
        let created = store.create("u", &event("u", "1")).unwrap();
        assert_eq!(
            store.create("u", &event("u", "again")).unwrap_err(),
            StoreError::Conflict {
                href: created.href.clone()
            }
        );
        let updated = store.update(&created, &event("u", "2")).unwrap();
        assert_eq!(updated.href, created.href);
        assert_ne!(updated.etag, created.etag);
        // A stale read.
        assert_eq!(
            store.update(&created, &event("u", "3")).unwrap_err(),
            StoreError::Conflict {
                href: created.href.clone()
            }
        );
        // An injected conflict fires once.
        store.inject_conflict();
        assert!(matches!(
            store.update(&updated, &event("u", "3")),
            Err(StoreError::Conflict { .. })
        ));
        let third = store.update(&updated, &event("u", "3")).unwrap();
        assert_eq!(store.get(&created.href).unwrap(), third);
        // Removed by someone else.
        store.remove(&created.href);
        assert_eq!(
            store.update(&third, &event("u", "4")).unwrap_err(),
            StoreError::Gone {
                href: created.href.clone()
            }
        );
        // An injected I/O failure.
        let io = StoreError::Io {
            path: "memory".into(),
            message: "disk full".into(),
        };
        store.fail_next_write(io.clone());
        assert_eq!(store.create("v", &event("v", "1")).unwrap_err(), io);
        assert!(store.create("v", &event("v", "1")).is_ok());
    }

    #[test]
    fn r9_13_outbox_roundtrip_and_injected_failure() {
        let outbox = MemoryOutbox::new();
        let a = entry("a", "u1", "ACCEPTED");
        let b = entry("b", "u2", "DECLINED");
        outbox.put(&a).unwrap();
        outbox.put(&b).unwrap();
        assert!(outbox.put(&a).is_err(), "duplicate id");
        assert!(outbox.put(&entry("../x", "u", "ACCEPTED")).is_err());
        assert_eq!(outbox.pending().unwrap(), vec![a.clone(), b.clone()]);

        outbox.record_error("a", "451 later").unwrap();
        assert_eq!(
            outbox.pending().unwrap()[0].last_error.as_deref(),
            Some("451 later")
        );
        outbox.mark_sent("a").unwrap();
        assert_eq!(outbox.pending().unwrap(), vec![b.clone()]);
        assert_eq!(outbox.sent().len(), 1);
        let (found, sent) = outbox.find(&a.key).unwrap().unwrap();
        assert!(sent);
        assert_eq!(found.id, "a");
        assert_eq!(outbox.find(&b.key).unwrap(), Some((b.clone(), false)));
        assert_eq!(
            outbox.record_error("a", "x").unwrap_err(),
            OutboxError::NotFound { id: "a".into() }
        );
        assert_eq!(
            outbox.mark_sent("zz").unwrap_err(),
            OutboxError::NotFound { id: "zz".into() }
        );

        let err = OutboxError::Io {
            path: "memory".into(),
            message: "disk full".into(),
        };
        outbox.fail_next_put(err.clone());
        assert_eq!(outbox.put(&entry("c", "u3", "ACCEPTED")).unwrap_err(), err);
        assert_eq!(outbox.pending().unwrap().len(), 1, "nothing stored");
    }

    #[test]
    fn transport_records_and_fails_n_times() {
        let transport = MemoryTransport::new();
        let env = Envelope {
            from: "b@x".into(),
            to: vec!["a@y".into()],
        };
        let err = TransportError::Temporary {
            server: "smtp.example.com".into(),
            message: "451 4.3.0 try later".into(),
        };
        transport.fail_next(err.clone(), 2);
        assert_eq!(transport.send(&env, b"m1").unwrap_err(), err);
        assert_eq!(transport.send(&env, b"m1").unwrap_err(), err);
        transport.send(&env, b"m1").unwrap();
        assert_eq!(transport.sent(), vec![(env.clone(), b"m1".to_vec())]);
        assert_eq!(transport.attempts(), 3);
        transport.fail_next(err, 0);
        transport.send(&env, b"m2").unwrap();
        assert_eq!(transport.sent().len(), 2);
        assert!(!transport.describe().is_empty());
    }

    #[test]
    fn poisoned_locks_become_errors_not_panics() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let s = store.clone();
        let _ = std::thread::spawn(move || {
            let _guard = s.state.lock();
            panic!("poison the lock");
        })
        .join();
        assert!(matches!(store.list(), Err(StoreError::Io { .. })));

        let transport = std::sync::Arc::new(MemoryTransport::new());
        let t = transport.clone();
        let _ = std::thread::spawn(move || {
            let _guard = t.state.lock();
            panic!("poison the lock");
        })
        .join();
        let env = Envelope {
            from: "b@x".into(),
            to: vec![],
        };
        assert!(matches!(
            transport.send(&env, b"m"),
            Err(TransportError::Config(_))
        ));
    }
}
