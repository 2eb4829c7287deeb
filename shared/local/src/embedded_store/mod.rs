//! The embedded [`Store`](domain::ports::store::Store) adapter for the local run and unit
//! tests: the whole table held in memory (a primary ordered set of items found by their
//! primary key, and one ordered map per secondary index, whose entries share the item with the
//! primary set through an `Arc`, so an index query reads its items without looking each up by
//! key) behind a read-write lock (readers share it), made durable by an append-only JSON-lines
//! log under a directory. An item's keys are shared too, with every
//! [`LazyItem`](domain::ports::store::LazyItem) a read hands over.
//!
//! Every acknowledged write is one line of the log (a transaction is one line, so it is
//! replayed all or nothing); the log is replayed when the store opens, a torn last line (a
//! crash in the middle of a write) is dropped, and the log is compacted (rewritten as a
//! snapshot of the live items) on open when it holds many more records than live items.
//! One process at a time may open a directory.
//!
//! In memory an item's body is kept as its compact JSON text (shared, so a reader copies a
//! pointer under the lock): a parsed `serde_json::Value` costs several times its text (maps of
//! owned strings), which decides whether the million-row benchmark volume fits in memory at
//! all. `query` parses the bodies after the lock is released; `query_lazy` hands the text over
//! and the reader decodes it straight into its own types, the cheapest read there is (the
//! `Value` tree in between costs more than the decoding: `infra/profile.sh` measures it).
//!
//! The semantics are exactly those of the port and of the DynamoDB adapter (conditions,
//! all-or-nothing transactions, `ADD` counters, query pages and cursors); the contract tests
//! run the same scenarios against both. Expired items are not deleted: like DynamoDB, whose
//! TTL deletes lazily, readers filter on `expires_at` themselves.
//!
//! The modules: `stored` (an item as held in memory and its index positions), `tables` (the
//! primary set and the index maps, changes applied and committed), `log` (the log, its replay
//! and compaction, and [`EmbeddedStore::open`]), `query` (ranges and pages) and `port` (the
//! [`Store`](domain::ports::store::Store) implementation).

mod log;
mod port;
mod query;
mod stored;
mod tables;

pub use log::LOG_FILE;

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use tables::Inner;

/// The embedded store: see the module documentation.
pub struct EmbeddedStore {
    inner: RwLock<Inner>,
}

impl EmbeddedStore {
    /// A store kept in memory only (nothing is written to disk): for unit tests.
    pub fn in_memory() -> Self {
        Self {
            inner: RwLock::new(Inner::default()),
        }
    }

    /// Number of live items (all partitions).
    pub fn len(&self) -> usize {
        self.read().items.len()
    }

    /// True when the store holds no item.
    pub fn is_empty(&self) -> bool {
        self.read().items.is_empty()
    }

    /// The maps for writing (one writer at a time, no reader meanwhile).
    fn lock(&self) -> RwLockWriteGuard<'_, Inner> {
        // Every mutation is validated and logged before it touches the maps, so a panic in
        // another thread cannot leave them half-changed: a poisoned lock is still consistent.
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The maps for reading: readers share the lock.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::store::{Index, Item, Query, SkRange, Store};

    #[tokio::test]
    async fn begins_with_handles_a_prefix_of_the_last_code_point() {
        let store = EmbeddedStore::in_memory();
        let items = vec![
            Item::new("p", "a\u{10FFFF}x", serde_json::Value::Null),
            Item::new("p", "a\u{10FFFF}", serde_json::Value::Null),
            Item::new("p", "b", serde_json::Value::Null),
        ];
        store.put_many(items).await.expect("put_many");
        let q = Query::partition(Index::Primary, "p")
            .range(SkRange::BeginsWith("a\u{10FFFF}".into()))
            .backward();
        let page = store.query(&q).await.expect("query");
        let sks: Vec<_> = page.items.iter().map(|i| i.sk.as_str()).collect();
        assert_eq!(sks, ["a\u{10FFFF}x", "a\u{10FFFF}"]);
    }
}
