//! The embedded [`Store`] adapter for the local run and unit tests: the whole table held in
//! memory (a primary ordered set of items found by their primary key, and one ordered map per
//! secondary index, whose entries share the item with the primary set through an `Arc`, so an
//! index query reads its items without looking each up by key) behind a read-write lock
//! (readers share it), made durable by an append-only JSON-lines log under a directory. An
//! item's keys are shared too, with every [`LazyItem`] a read hands over.
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
//! `Value` tree in between cost more than the decoding: `infra/profile.sh`).
//!
//! The semantics are exactly those of the port and of the DynamoDB adapter (conditions,
//! all-or-nothing transactions, `ADD` counters, query pages and cursors); the contract tests
//! run the same scenarios against both. Expired items are not deleted: like DynamoDB, whose
//! TTL deletes lazily, readers filter on `expires_at` themselves.

use async_trait::async_trait;
use domain::ports::store::{
    check_item, check_key, check_query, check_transaction, normalize_range, Body, Condition,
    Cursor, Index, IndexKey, Item, ItemKeys, Key, LazyItem, LazyPage, Page, Query, SkRange, Store,
    StoreError, TxOp,
};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Name of the log file inside the store directory.
pub const LOG_FILE: &str = "store.jsonl";

/// The log is compacted on open when it holds more than this many records...
const COMPACT_MIN_RECORDS: usize = 1024;
/// ...and more than this many times the number of live items.
const COMPACT_RATIO: usize = 2;
/// `put_many` hands the log this much serialized text per write call.
const WRITE_CHUNK: usize = 4 << 20;

/// The embedded store: see the module documentation.
pub struct EmbeddedStore {
    inner: RwLock<Inner>,
}

/// Position of an item in a secondary index: index key first, then the primary key (a tie
/// breaker, so equal index keys still have a stable order).
type IndexPos = (IndexKey, Key);

/// A secondary index: each position holds the item itself (shared with `items`), so a query
/// of an index reads its items without looking each one up by key again.
type IndexMap = BTreeMap<IndexPos, Arc<Stored>>;

#[derive(Default)]
struct Inner {
    items: BTreeSet<Entry>,
    gsi1: IndexMap,
    gsi2: IndexMap,
    log: Option<Log>,
}

/// An item of the primary map, ordered and found by its primary key.
#[derive(Clone)]
struct Entry(Arc<Stored>);

impl Borrow<Key> for Entry {
    fn borrow(&self) -> &Key {
        &self.0.keys.key
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.0.keys.key == other.0.keys.key
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.keys.key.cmp(&other.0.keys.key)
    }
}

/// An item as held in memory: see the module documentation. Its keys are shared with every
/// [`LazyItem`] a read hands over (a pointer copy, not six strings).
#[derive(Clone)]
struct Stored {
    keys: Arc<ItemKeys>,
    expires_at: Option<i64>,
    version: u64,
    count: Option<i64>,
    /// The body as compact JSON text, shared: a reader copies a pointer under the lock.
    body: Arc<str>,
}

impl Stored {
    fn from_item(item: Item) -> Stored {
        // The keys as the port gathers them; the body kept as its compact text.
        let LazyItem {
            keys,
            expires_at,
            version,
            count,
            body,
        } = LazyItem::from(item);
        let body: Arc<str> = match body {
            Body::Value(value) => value.to_string().into(),
            Body::Text(text) => text,
        };
        Stored {
            keys,
            expires_at,
            version,
            count,
            body,
        }
    }

    fn key(&self) -> &Key {
        &self.keys.key
    }

    fn to_item(&self) -> Result<Item, StoreError> {
        self.lazy().into_item()
    }

    /// The item with its body still text (the keys and the body pointer copies, no parse).
    fn lazy(&self) -> LazyItem {
        LazyItem {
            keys: Arc::clone(&self.keys),
            expires_at: self.expires_at,
            version: self.version,
            count: self.count,
            body: Body::Text(Arc::clone(&self.body)),
        }
    }

    fn index_key(&self, index: Index) -> Option<&IndexKey> {
        match index {
            Index::Primary => None,
            Index::Gsi1 => self.keys.gsi1.as_ref(),
            Index::Gsi2 => self.keys.gsi2.as_ref(),
        }
    }
}

/// The open log file (opened for append) and what is known about it.
struct Log {
    file: File,
    /// Bytes in the file: a failed write is rolled back to this length.
    len: u64,
    /// Records (puts and deletes, a transaction counts each of its writes) in the file.
    records: usize,
}

/// One change of the table: the full new state of an item, or its removal.
enum Change {
    Put(Item),
    Del(Key),
}

/// A log line, as written.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum RecordOut<'a> {
    Put(&'a Item),
    Del(&'a Key),
    Tx(Vec<RecordOut<'a>>),
}

/// A log line, as read back.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RecordIn {
    Put(Item),
    Del(Key),
    Tx(Vec<RecordIn>),
}

impl RecordIn {
    fn records(&self) -> usize {
        match self {
            RecordIn::Put(_) | RecordIn::Del(_) => 1,
            RecordIn::Tx(ops) => ops.iter().map(RecordIn::records).sum(),
        }
    }

    fn into_changes(self, out: &mut Vec<Change>) {
        match self {
            RecordIn::Put(item) => out.push(Change::Put(item)),
            RecordIn::Del(key) => out.push(Change::Del(key)),
            RecordIn::Tx(ops) => ops.into_iter().for_each(|op| op.into_changes(out)),
        }
    }
}

fn change_record(change: &Change) -> RecordOut<'_> {
    match change {
        Change::Put(item) => RecordOut::Put(item),
        Change::Del(key) => RecordOut::Del(key),
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

impl EmbeddedStore {
    /// A store kept in memory only (nothing is written to disk): for unit tests.
    pub fn in_memory() -> Self {
        Self {
            inner: RwLock::new(Inner::default()),
        }
    }

    /// Opens (creating it if needed) the store persisted under `dir`: replays the log, drops a
    /// torn last line, and compacts the log when it holds many more records than live items.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        let path = dir.join(LOG_FILE);
        let mut inner = Inner::default();
        let (good_len, records, torn) = if path.exists() {
            replay(&path, &mut inner)?
        } else {
            (0, 0, false)
        };
        if torn {
            tracing::warn!(path = %path.display(), "dropping a torn last line of the store log");
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| io_error("cannot open", &path, e))?;
            file.set_len(good_len)
                .map_err(|e| io_error("cannot truncate", &path, e))?;
        }
        let live = inner.items.len();
        let mut records = records;
        if records > COMPACT_MIN_RECORDS && records > COMPACT_RATIO * live {
            tracing::info!(records, live, path = %path.display(), "compacting the store log");
            write_snapshot(dir, &path, &inner.items)?;
            records = live;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("cannot open", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| io_error("cannot stat", &path, e))?
            .len();
        inner.log = Some(Log { file, len, records });
        Ok(Self {
            inner: RwLock::new(inner),
        })
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

/// Replays the log at `path` into `inner`. Returns the length of the well-formed prefix, the
/// number of records in it, and whether a torn last line follows it.
fn replay(path: &Path, inner: &mut Inner) -> Result<(u64, usize, bool), StoreError> {
    let file = File::open(path).map_err(|e| io_error("cannot open", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut good_len = 0u64;
    let mut records = 0usize;
    let mut changes = Vec::new();
    let mut bad: Option<(usize, String)> = None;
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if let Some((bad_line, err)) = bad.take() {
            // A bad line followed by more data is not a torn write: the log is damaged.
            return Err(StoreError::Corrupt(format!(
                "{} line {bad_line}: {err}",
                path.display()
            )));
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) && line.ends_with(b"\n") {
            good_len += n as u64;
            continue;
        }
        if !line.ends_with(b"\n") {
            bad = Some((line_no, "line not terminated".into()));
            continue;
        }
        match serde_json::from_slice::<RecordIn>(text) {
            Ok(record) => {
                records += record.records();
                record.into_changes(&mut changes);
                for change in changes.drain(..) {
                    inner.apply(change);
                }
                good_len += n as u64;
            }
            Err(e) => bad = Some((line_no, e.to_string())),
        }
    }
    Ok((good_len, records, bad.is_some()))
}

/// Rewrites the log as one put per live item (temp file, fsync, rename, fsync the directory).
fn write_snapshot(dir: &Path, path: &Path, items: &BTreeSet<Entry>) -> Result<(), StoreError> {
    let tmp = dir.join(format!("{LOG_FILE}.compact"));
    let file = File::create(&tmp).map_err(|e| io_error("cannot create", &tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for Entry(stored) in items {
        let item = stored.to_item()?;
        serde_json::to_writer(&mut out, &RecordOut::Put(&item))
            .map_err(|e| StoreError::Unavailable(format!("cannot write snapshot: {e}")))?;
        out.write_all(b"\n")
            .map_err(|e| io_error("cannot write", &tmp, e))?;
    }
    let file = out
        .into_inner()
        .map_err(|e| io_error("cannot write", &tmp, e.into_error()))?;
    file.sync_all()
        .map_err(|e| io_error("cannot sync", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("cannot rename", &tmp, e))?;
    // Make the rename itself durable; not every platform lets a directory be synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Log {
    /// Appends `bytes` (whole lines); on failure the file is cut back to its previous length
    /// so a half-written line never stays in front of later ones.
    fn append(&mut self, bytes: &[u8], records: usize) -> Result<(), StoreError> {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                self.records += records;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(StoreError::Unavailable(format!(
                    "cannot append to the store log: {e}"
                )))
            }
        }
    }
}

fn encode_line(record: &RecordOut<'_>, out: &mut Vec<u8>) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, record)
        .map_err(|e| StoreError::Invalid(format!("item does not serialize: {e}")))?;
    out.push(b'\n');
    Ok(())
}

impl Inner {
    fn index_set(&mut self, index: Index) -> Option<&mut IndexMap> {
        match index {
            Index::Primary => None,
            Index::Gsi1 => Some(&mut self.gsi1),
            Index::Gsi2 => Some(&mut self.gsi2),
        }
    }

    fn unindex(&mut self, key: Key, stored: &Stored) {
        let mut pos = (IndexKey::new("", ""), key);
        for index in [Index::Gsi1, Index::Gsi2] {
            if let Some(ik) = stored.index_key(index) {
                pos.0.clone_from(ik);
                if let Some(set) = self.index_set(index) {
                    set.remove(&pos);
                }
            }
        }
    }

    fn apply(&mut self, change: Change) {
        match change {
            Change::Put(item) => {
                let stored = Arc::new(Stored::from_item(item));
                let key = stored.key();
                if let Some(Entry(old)) = self.items.take(key) {
                    self.unindex(key.clone(), &old);
                }
                for index in [Index::Gsi1, Index::Gsi2] {
                    if let Some(ik) = stored.index_key(index) {
                        let pos = (ik.clone(), key.clone());
                        if let Some(set) = self.index_set(index) {
                            set.insert(pos, Arc::clone(&stored));
                        }
                    }
                }
                self.items.insert(Entry(stored));
            }
            Change::Del(key) => {
                if let Some(Entry(old)) = self.items.take(&key) {
                    self.unindex(key, &old);
                }
            }
        }
    }

    /// Logs `changes` as one line (a transaction when more than one), then applies them.
    fn commit(&mut self, changes: Vec<Change>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        if let Some(log) = self.log.as_mut() {
            let mut line = Vec::with_capacity(256);
            let record = if changes.len() == 1 {
                change_record(&changes[0])
            } else {
                RecordOut::Tx(changes.iter().map(change_record).collect())
            };
            encode_line(&record, &mut line)?;
            log.append(&line, changes.len())?;
        }
        for change in changes {
            self.apply(change);
        }
        Ok(())
    }

    /// The item an `ADD` leaves behind (created at 0 with version 0 and a null body).
    fn added(
        &self,
        key: &Key,
        delta: i64,
        gsi1: Option<&IndexKey>,
        expires_at: Option<i64>,
    ) -> Result<Item, StoreError> {
        let mut item = match self.items.get(key) {
            Some(Entry(stored)) => stored.to_item()?,
            None => Item {
                pk: key.pk.clone(),
                sk: key.sk.clone(),
                gsi1: None,
                gsi2: None,
                expires_at: None,
                version: 0,
                count: None,
                body: serde_json::Value::Null,
            },
        };
        let count = item.count.unwrap_or(0).checked_add(delta).ok_or_else(|| {
            StoreError::Invalid(format!("counter {}/{} overflows", key.pk, key.sk))
        })?;
        item.count = Some(count);
        if let Some(ik) = gsi1 {
            item.gsi1 = Some(ik.clone());
        }
        if let Some(at) = expires_at {
            item.expires_at = Some(at);
        }
        Ok(item)
    }
}

/// Whether `condition` holds for the stored item `current`.
fn holds(condition: &Condition, current: Option<&Stored>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) => current.is_some_and(|item| item.version == *v),
    }
}

/// The smallest string greater than every string that starts with `prefix`, if any.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Sort-key bounds of a range: lower bound (`None` = from the partition start) and upper
/// bound (`None` = to the partition end; `Some((s, true))` inclusive, `Some((s, false))`
/// exclusive).
fn sk_bounds(range: &SkRange) -> (Option<String>, Option<(String, bool)>) {
    match range {
        SkRange::All => (None, None),
        SkRange::BeginsWith(p) => (Some(p.clone()), prefix_successor(p).map(|s| (s, false))),
        SkRange::Between(a, b) => (Some(a.clone()), Some((b.clone(), true))),
        SkRange::AtLeast(a) => (Some(a.clone()), None),
        SkRange::AtMost(b) => (None, Some((b.clone(), true))),
    }
}

/// The string right after `s` in byte order.
fn just_after(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    out.push_str(s);
    out.push('\0');
    out
}

fn min_key() -> Key {
    Key::new("", "")
}

/// Whether `(lo, hi)` is a non-empty range that `BTreeMap::range` accepts.
fn nonempty<T: Ord>(lo: &Bound<T>, hi: &Bound<T>) -> bool {
    use Bound::{Excluded, Included, Unbounded};
    match (lo, hi) {
        (Unbounded, _) | (_, Unbounded) => true,
        (Included(a), Included(b)) => a <= b,
        (Included(a), Excluded(b)) | (Excluded(a), Included(b)) | (Excluded(a), Excluded(b)) => {
            a < b
        }
    }
}

/// An ordered run of matching items.
type Run<'a> = Box<dyn Iterator<Item = &'a Arc<Stored>> + 'a>;

/// A page as read under the lock: its items are copied in their stored form and parsed after
/// the lock is released, so concurrent readers hold it only for the copy.
#[derive(Default)]
struct RawPage {
    items: Vec<Arc<Stored>>,
    more: bool,
    read: usize,
}

impl RawPage {
    fn into_page(self, index: Index) -> Result<Page, StoreError> {
        let page = self.into_lazy_page(index);
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(LazyItem::into_item)
                .collect::<Result<Vec<_>, _>>()?,
            next: page.next,
            read: page.read,
        })
    }

    fn into_lazy_page(self, index: Index) -> LazyPage {
        let next = match self.items.last() {
            Some(stored) if self.more => {
                let k = &*stored.keys;
                Some(Cursor::after_keys(
                    &k.key.pk, &k.key.sk, &k.gsi1, &k.gsi2, index,
                ))
            }
            _ => None,
        };
        LazyPage {
            items: self.items.into_iter().map(|stored| stored.lazy()).collect(),
            next,
            read: self.read,
        }
    }
}

/// Reads one page off an ordered run of matching items.
fn page(run: Run<'_>, query: &Query) -> RawPage {
    let want = query.limit.unwrap_or(usize::MAX);
    let mut raw = RawPage::default();
    for stored in run {
        raw.read += 1;
        if raw.items.len() == want {
            raw.more = true;
            break;
        }
        raw.items.push(Arc::clone(stored));
    }
    raw
}

impl Inner {
    fn query(&self, query: &Query) -> Result<RawPage, StoreError> {
        check_query(query)?;
        let empty = RawPage::default();
        let Some(range) = normalize_range(&query.sk) else {
            return Ok(empty);
        };
        let (lo, hi) = sk_bounds(&range);
        let pk = &query.pk;
        match query.index {
            Index::Primary => {
                let mut lo = Bound::Included(Key::new(pk.clone(), lo.unwrap_or_default()));
                let mut hi = match hi {
                    None => Bound::Excluded(Key::new(just_after(pk), "")),
                    Some((b, true)) => Bound::Included(Key::new(pk.clone(), b)),
                    Some((b, false)) => Bound::Excluded(Key::new(pk.clone(), b)),
                };
                if let Some(c) = &query.after {
                    let at = Bound::Excluded(Key::new(c.pk.clone(), c.sk.clone()));
                    if query.forward {
                        lo = at;
                    } else {
                        hi = at;
                    }
                }
                if !nonempty(&lo, &hi) {
                    return Ok(empty);
                }
                let run = self.items.range::<Key, _>((lo, hi)).map(|e| &e.0);
                let run: Run<'_> = if query.forward {
                    Box::new(run)
                } else {
                    Box::new(run.rev())
                };
                Ok(page(run, query))
            }
            Index::Gsi1 | Index::Gsi2 => {
                let set = if query.index == Index::Gsi1 {
                    &self.gsi1
                } else {
                    &self.gsi2
                };
                let pos = |ipk: String, isk: String| (IndexKey::new(ipk, isk), min_key());
                let mut lo = Bound::Included(pos(pk.clone(), lo.unwrap_or_default()));
                let mut hi = match hi {
                    None => Bound::Excluded(pos(just_after(pk), String::new())),
                    Some((b, true)) => Bound::Excluded(pos(pk.clone(), just_after(&b))),
                    Some((b, false)) => Bound::Excluded(pos(pk.clone(), b)),
                };
                let at = query.after.as_ref().and_then(|c| match (&c.ipk, &c.isk) {
                    (Some(ipk), Some(isk)) => Some((
                        IndexKey::new(ipk.clone(), isk.clone()),
                        Key::new(c.pk.clone(), c.sk.clone()),
                    )),
                    _ => None,
                });
                if let Some(at) = at {
                    let at = Bound::Excluded(at);
                    if query.forward {
                        lo = at;
                    } else {
                        hi = at;
                    }
                }
                if !nonempty(&lo, &hi) {
                    return Ok(empty);
                }
                let run = set.range((lo, hi)).map(|(_, stored)| stored);
                let run: Run<'_> = if query.forward {
                    Box::new(run)
                } else {
                    Box::new(run.rev())
                };
                Ok(page(run, query))
            }
        }
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        // Copied under the lock, parsed after it.
        let found = self.read().items.get(key).cloned();
        found.map(|Entry(stored)| stored.to_item()).transpose()
    }

    async fn get_lazy(&self, key: &Key) -> Result<Option<LazyItem>, StoreError> {
        check_key(key)?;
        let found = self.read().items.get(key).cloned();
        Ok(found.map(|Entry(stored)| stored.lazy()))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        check_item(&item)?;
        let mut inner = self.lock();
        if !holds(&condition, inner.items.get(&item.key()).map(|e| &*e.0)) {
            return Err(StoreError::ConditionFailed { op: None });
        }
        inner.commit(vec![Change::Put(item)])
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        check_key(key)?;
        let mut inner = self.lock();
        let current = inner.items.get(key);
        if !holds(&condition, current.map(|e| &*e.0)) {
            return Err(StoreError::ConditionFailed { op: None });
        }
        if current.is_none() {
            return Ok(());
        }
        inner.commit(vec![Change::Del(key.clone())])
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        let mut inner = self.lock();
        for (i, op) in ops.iter().enumerate() {
            let condition = match op {
                TxOp::Put { condition, .. }
                | TxOp::Delete { condition, .. }
                | TxOp::Check { condition, .. } => condition,
                TxOp::Add { .. } => &Condition::None,
            };
            if !holds(condition, inner.items.get(&op.key()).map(|e| &*e.0)) {
                return Err(StoreError::ConditionFailed { op: Some(i) });
            }
        }
        let mut changes = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                TxOp::Put { item, .. } => changes.push(Change::Put(item)),
                TxOp::Delete { key, .. } => {
                    if inner.items.contains(&key) {
                        changes.push(Change::Del(key));
                    }
                }
                TxOp::Check { .. } => {}
                TxOp::Add {
                    key,
                    delta,
                    gsi1,
                    expires_at,
                } => changes.push(Change::Put(inner.added(
                    &key,
                    delta,
                    gsi1.as_ref(),
                    expires_at,
                )?)),
            }
        }
        inner.commit(changes)
    }

    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError> {
        check_key(key)?;
        let mut inner = self.lock();
        let item = inner.added(key, delta, None, None)?;
        let count = item.count.unwrap_or_default();
        inner.commit(vec![Change::Put(item)])?;
        Ok(count)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let raw = self.read().query(query)?;
        raw.into_page(query.index)
    }

    async fn query_lazy(&self, query: &Query) -> Result<LazyPage, StoreError> {
        let raw = self.read().query(query)?;
        Ok(raw.into_lazy_page(query.index))
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        items.iter().try_for_each(check_item)?;
        let mut inner = self.lock();
        if let Some(log) = inner.log.as_mut() {
            let start = log.len;
            let start_records = log.records;
            let mut buf = Vec::with_capacity(WRITE_CHUNK + 4096);
            let mut pending = 0usize;
            let mut written = Ok(());
            for item in &items {
                encode_line(&RecordOut::Put(item), &mut buf)?;
                pending += 1;
                if buf.len() >= WRITE_CHUNK {
                    written = log.append(&buf, pending);
                    buf.clear();
                    pending = 0;
                    if written.is_err() {
                        break;
                    }
                }
            }
            if written.is_ok() && !buf.is_empty() {
                written = log.append(&buf, pending);
            }
            if let Err(e) = written {
                // Nothing of the batch is applied, so nothing of it may stay in the log.
                let _ = log.file.set_len(start);
                log.len = start;
                log.records = start_records;
                return Err(e);
            }
        }
        for item in items {
            inner.apply(Change::Put(item));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_is_the_first_string_after_the_prefix() {
        assert_eq!(prefix_successor("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_successor(""), None);
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
    }

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
