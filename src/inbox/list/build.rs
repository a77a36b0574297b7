//! Building a listing's items on every core: the groups whose saved row
//! still holds are taken as they are, the others are built (stored copy
//! read and parsed, classification, conflicts) a batch at a time on every
//! core, and the results come back in the groups' order; then items and
//! rows are sorted together, in place.

use super::calendar::{self, CalendarIndex};
use super::{classify_loaded, order};
use crate::domain::ports::Candidate;
use crate::inbox::cache::{self, Digest};
use crate::inbox::item::{self, Item};
use crate::inbox::{Env, InboxError, Loaded};

/// How many items are built at once, each batch on every core. A thread
/// per batch gives its allocator's memory back when it ends: one thread
/// for the whole listing peaked 2–4 MiB higher at 20,000 events.
const BUILD_BATCH: usize = 256;

/// One group of a listing: its saved row taken again, or an item to build.
pub(super) enum Slot<'c> {
    Done(Box<(cache::RowEntry, Item)>),
    Build(Box<Job<'c>>),
}

/// An item to build: the newest message of its UID, the older ones, and
/// what its row is built from.
pub(super) struct Job<'c> {
    pub(super) message: Candidate,
    pub(super) older: Vec<Candidate>,
    pub(super) digest: &'c Digest,
    pub(super) inputs: cache::RowInputs,
}

/// Build one item and its saved row (runs on any core).
pub(super) fn build_row(
    env: &Env<'_>,
    index: &CalendarIndex<'_>,
    trusted: &(dyn Fn(&str) -> bool + Sync),
    job: &Job<'_>,
    loaded: Loaded,
    keep_details: bool,
) -> Result<(cache::RowEntry, Item), InboxError> {
    let shown = classify_loaded(env, loaded)?;
    // The contacts' answers the row depends on, to check them next time.
    let asked: std::cell::RefCell<Vec<(String, bool)>> = std::cell::RefCell::new(Vec::new());
    let asking = |a: &str| {
        let answer = trusted(a);
        asked.borrow_mut().push((a.to_string(), answer));
        answer
    };
    let ctx = index.context(env, &asking, job.inputs.queued);
    let mut item = item::build(&ctx, job.message.clone(), job.older.clone(), shown);
    if !keep_details {
        item.shown = None;
        item.agenda = None;
    }
    let mut trust = asked.into_inner();
    trust.sort();
    trust.dedup();
    let slots = item.overlap_slots.clone();
    let row = cache::RowEntry::of(
        &item,
        cache::RowInputs {
            trust,
            slots,
            ..job.inputs.clone()
        },
    );
    Ok((row, item))
}

/// The slots' items and rows, in the slots' order: each `Build` slot made
/// by `build` (`None`: not an item), a batch at a time on every core.
pub(super) fn in_order<'c>(
    slots: Vec<Slot<'c>>,
    build: impl Fn(&Job<'c>) -> Option<Result<(cache::RowEntry, Item), InboxError>> + Sync,
) -> Result<(Vec<Item>, Vec<cache::RowEntry>), InboxError> {
    let mut items = Vec::with_capacity(slots.len());
    let mut rows: Vec<cache::RowEntry> = Vec::with_capacity(slots.len());
    let mut pending: Vec<Box<Job<'c>>> = Vec::new();
    let mut slots = slots.into_iter().peekable();
    while let Some(slot) = slots.next() {
        match slot {
            Slot::Done(done) => {
                let (row, item) = *done;
                rows.push(row);
                items.push(item);
            }
            Slot::Build(job) => pending.push(job),
        }
        let flush = pending.len() >= BUILD_BATCH
            || (!pending.is_empty() && !matches!(slots.peek(), Some(Slot::Build(_))));
        if flush {
            for built in calendar::on_every_core(&pending, |j| build(j))
                .into_iter()
                .flatten()
            {
                let (row, item) = built?;
                rows.push(row);
                items.push(item);
            }
            pending.clear();
        }
    }
    Ok((items, rows))
}

/// Sort `items` and, in step, `rows` (the row of each item at its index).
pub(super) fn sort_with(items: &mut [Item], rows: &mut [cache::RowEntry]) {
    sort_in_step(items, rows, order);
}

/// Sort `keys` stably by `cmp` and apply the same moves to `other` (of the
/// same length), in place: nothing is cloned.
fn sort_in_step<K, O>(keys: &mut [K], other: &mut [O], cmp: impl Fn(&K, &K) -> std::cmp::Ordering) {
    let mut to: Vec<usize> = (0..keys.len()).collect();
    to.sort_by(|&a, &b| match (keys.get(a), keys.get(b)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => std::cmp::Ordering::Equal,
    });
    // Position k takes the element now at `to[k]`: follow each cycle,
    // marking each position done as it is filled.
    for start in 0..to.len() {
        let mut at = start;
        while let Some(&from) = to.get(at) {
            if let Some(done) = to.get_mut(at) {
                *done = at;
            }
            if from == start || from == at {
                break;
            }
            keys.swap(at, from);
            if from < other.len() && at < other.len() {
                other.swap(at, from);
            }
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_in_step;

    /// The rows saved with a listing must stay in the items' order (a warm
    /// listing prints them as saved): the in-place moves give what a stable
    /// sort of the pairs gives, ties and cycles of every length included.
    #[test]
    fn sorting_in_step_moves_each_row_with_its_item() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for len in [0usize, 1, 2, 3, 7, 64, 300] {
            let mut keys: Vec<u32> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 10) as u32
                })
                .collect();
            let mut rows: Vec<String> = (0..len).map(|i| format!("row {i}")).collect();
            let mut expected: Vec<(u32, String)> =
                keys.iter().copied().zip(rows.iter().cloned()).collect();
            expected.sort_by_key(|p| std::cmp::Reverse(p.0));
            sort_in_step(&mut keys, &mut rows, |a, b| b.cmp(a));
            let got: Vec<(u32, String)> = keys.into_iter().zip(rows).collect();
            assert_eq!(got, expected, "{len} items");
        }
    }
}
