//! The store port: a single-table key-value store shaped like DynamoDB.
//!
//! Every item has a partition key `pk` and sort key `sk`, and may carry two secondary index
//! keys (`gsi1`, `gsi2`), a TTL instant (`expires_at`), a version for optimistic concurrency,
//! a counter value (`count`, changed only by atomic [`TxOp::Add`]) and a JSON body.
//! Every list is a [`Query`] on the primary key or an index: there is no scan.
//! The key design is written down in `docs/dynamodb.md`.

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// Primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// Partition and sort key of an item in a secondary index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

impl IndexKey {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// One stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1: Option<IndexKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2: Option<IndexKey>,
    /// Epoch seconds after which the item is dead (DynamoDB TTL attribute `expires_at`).
    /// Stores delete lazily, so readers that care filter on it themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Written as given; [`Condition::VersionIs`] compares against the stored value.
    #[serde(default)]
    pub version: u64,
    /// Counter value, changed only by [`TxOp::Add`] (DynamoDB `ADD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default)]
    pub body: serde_json::Value,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            gsi1: None,
            gsi2: None,
            expires_at: None,
            version: 1,
            count: None,
            body,
        }
    }

    pub fn key(&self) -> Key {
        Key::new(self.pk.clone(), self.sk.clone())
    }

    pub fn with_gsi1(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.gsi1 = Some(IndexKey::new(pk, sk));
        self
    }

    pub fn with_gsi2(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.gsi2 = Some(IndexKey::new(pk, sk));
        self
    }

    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    pub fn with_expiry(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }

    /// The key of this item in `index`, if it is in that index.
    pub fn index_key(&self, index: Index) -> Option<IndexKey> {
        match index {
            Index::Primary => Some(IndexKey::new(self.pk.clone(), self.sk.clone())),
            Index::Gsi1 => self.gsi1.clone(),
            Index::Gsi2 => self.gsi2.clone(),
        }
    }

    /// Decodes the body into a domain type.
    /// Reads the body in place (no copy of the JSON tree).
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        T::deserialize(&self.body).map_err(|e| {
            StoreError::Corrupt(format!("item {}/{} does not decode: {e}", self.pk, self.sk))
        })
    }
}

/// Which key a query runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

/// A condition on the stored item, checked atomically with the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    None,
    /// No item has this key.
    NotExists,
    /// An item has this key.
    Exists,
    /// An item has this key and its version is exactly this.
    VersionIs(u64),
}

/// Sort-key range of a query (string order, as DynamoDB compares `S` keys: by UTF-8 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    All,
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    AtLeast(String),
    AtMost(String),
}

impl SkRange {
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SkRange::All => true,
            SkRange::BeginsWith(p) => sk.starts_with(p.as_str()),
            SkRange::Between(a, b) => sk >= a.as_str() && sk <= b.as_str(),
            SkRange::AtLeast(a) => sk >= a.as_str(),
            SkRange::AtMost(b) => sk <= b.as_str(),
        }
    }
}

/// Where a page ended: the keys of its last item. Opaque to clients (base64url JSON), the
/// same format in every adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isk: Option<String>,
}

impl Cursor {
    /// The cursor that resumes after `item` in `index`.
    pub fn after(item: &Item, index: Index) -> Self {
        Self::after_keys(&item.pk, &item.sk, &item.gsi1, &item.gsi2, index)
    }

    /// The cursor that resumes after the item with these keys in `index`.
    pub fn after_keys(
        pk: &str,
        sk: &str,
        gsi1: &Option<IndexKey>,
        gsi2: &Option<IndexKey>,
        index: Index,
    ) -> Self {
        let ik = match index {
            Index::Primary => None,
            Index::Gsi1 => gsi1.as_ref(),
            Index::Gsi2 => gsi2.as_ref(),
        };
        Self {
            pk: pk.to_string(),
            sk: sk.to_string(),
            ipk: ik.map(|k| k.pk.clone()),
            isk: ik.map(|k| k.sk.clone()),
        }
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str) -> Result<Self, StoreError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| StoreError::InvalidCursor)?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)
    }
}

/// A query: one partition of the table or of an index, a sort-key range, an order and a
/// page size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SkRange,
    /// Ascending sort key when true.
    pub forward: bool,
    /// Page size; `None` reads the whole partition range.
    pub limit: Option<usize>,
    pub after: Option<Cursor>,
}

impl Query {
    pub fn partition(index: Index, pk: impl Into<String>) -> Self {
        Self {
            index,
            pk: pk.into(),
            sk: SkRange::All,
            forward: true,
            limit: None,
            after: None,
        }
    }

    pub fn range(mut self, sk: SkRange) -> Self {
        self.sk = sk;
        self
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.after = cursor;
        self
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Set exactly when further items match the query.
    pub next: Option<Cursor>,
    /// Items the store read to answer (for the read-efficiency benchmark).
    pub read: usize,
}

/// An item's body as a store hands it to [`Store::query_lazy`]: the JSON text the embedded
/// store keeps, or the JSON value an adapter already built (DynamoDB's attribute maps).
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(Arc<str>),
    Value(serde_json::Value),
}

/// An item whose body its reader decodes straight into its own type: from the stored text
/// there is no `serde_json::Value` tree in between (the tree costs more than the decoding).
/// What the long reads use: exports and their row streams.
#[derive(Debug, Clone, PartialEq)]
pub struct LazyItem {
    /// The item's keys, shared: the embedded store hands over its own copy (a pointer, not
    /// six strings, for every item a page returns).
    pub keys: Arc<ItemKeys>,
    pub expires_at: Option<i64>,
    pub version: u64,
    pub count: Option<i64>,
    pub body: Body,
}

/// An item's primary and index keys ([`LazyItem::keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKeys {
    pub key: Key,
    pub gsi1: Option<IndexKey>,
    pub gsi2: Option<IndexKey>,
}

impl LazyItem {
    /// The partition key.
    pub fn pk(&self) -> &str {
        &self.keys.key.pk
    }

    /// The sort key.
    pub fn sk(&self) -> &str {
        &self.keys.key.sk
    }

    /// Decodes the body into a domain type (the same result as [`Item::decode`]); a type that
    /// borrows (`&str`, `Cow<str>` with `#[serde(borrow)]`) borrows from the item.
    pub fn decode<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, StoreError> {
        let decoded = match &self.body {
            Body::Text(text) => serde_json::from_str(text),
            Body::Value(value) => T::deserialize(value),
        };
        decoded.map_err(|e| {
            StoreError::Corrupt(format!(
                "item {}/{} does not decode: {e}",
                self.pk(),
                self.sk()
            ))
        })
    }

    /// The cursor that resumes after this item in `index`.
    pub fn cursor_after(&self, index: Index) -> Cursor {
        let k = &*self.keys;
        Cursor::after_keys(&k.key.pk, &k.key.sk, &k.gsi1, &k.gsi2, index)
    }

    /// The item with its body parsed.
    pub fn into_item(self) -> Result<Item, StoreError> {
        let body = match self.body {
            Body::Value(value) => value,
            Body::Text(text) => serde_json::from_str(&text).map_err(|e| {
                StoreError::Corrupt(format!(
                    "item {}/{} body does not parse: {e}",
                    self.keys.key.pk, self.keys.key.sk
                ))
            })?,
        };
        let ItemKeys { key, gsi1, gsi2 } = Arc::unwrap_or_clone(self.keys);
        Ok(Item {
            pk: key.pk,
            sk: key.sk,
            gsi1,
            gsi2,
            expires_at: self.expires_at,
            version: self.version,
            count: self.count,
            body,
        })
    }
}

impl From<Item> for LazyItem {
    fn from(item: Item) -> Self {
        LazyItem {
            keys: Arc::new(ItemKeys {
                key: Key {
                    pk: item.pk,
                    sk: item.sk,
                },
                gsi1: item.gsi1,
                gsi2: item.gsi2,
            }),
            expires_at: item.expires_at,
            version: item.version,
            count: item.count,
            body: Body::Value(item.body),
        }
    }
}

/// One page of [`Store::query_lazy`]: a [`Page`] whose bodies are not parsed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct LazyPage {
    pub items: Vec<LazyItem>,
    pub next: Option<Cursor>,
    pub read: usize,
}

impl From<Page> for LazyPage {
    fn from(page: Page) -> Self {
        LazyPage {
            items: page.items.into_iter().map(LazyItem::from).collect(),
            next: page.next,
            read: page.read,
        }
    }
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Checks a condition without writing.
    Check {
        key: Key,
        condition: Condition,
    },
    /// Adds `delta` to the item's counter, creating the item at 0 when missing (DynamoDB
    /// `ADD`); index keys and expiry, when given, are set on the counter item too.
    Add {
        key: Key,
        delta: i64,
        gsi1: Option<IndexKey>,
        expires_at: Option<i64>,
    },
}

impl TxOp {
    pub fn put(item: Item, condition: Condition) -> Self {
        TxOp::Put { item, condition }
    }

    pub fn add(key: Key, delta: i64) -> Self {
        TxOp::Add {
            key,
            delta,
            gsi1: None,
            expires_at: None,
        }
    }

    pub fn key(&self) -> Key {
        match self {
            TxOp::Put { item, .. } => item.key(),
            TxOp::Delete { key, .. } | TxOp::Check { key, .. } | TxOp::Add { key, .. } => {
                key.clone()
            }
        }
    }
}

/// Largest number of writes in one transaction (DynamoDB's limit).
pub const MAX_TX_OPS: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A condition did not hold; `op` is the index of the failing write in a transaction.
    #[error("condition failed (op {op:?})")]
    ConditionFailed { op: Option<usize> },
    /// Another transaction touched the same items at the same time; a retry may succeed.
    #[error("transaction conflict")]
    Conflict,
    #[error("invalid cursor")]
    InvalidCursor,
    /// The request itself is not valid for the store (too many ops, one key twice, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("stored item does not decode: {0}")]
    Corrupt(String),
    /// The service could not be reached or failed; a retry may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Conflict | StoreError::Unavailable(_))
    }
}

/// The store port. Adapters: [`crate::adapters::dynamo::DynamoStore`],
/// [`crate::adapters::embedded_store::EmbeddedStore`].
#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The same item as [`Store::get`], its body left for the reader to decode
    /// ([`LazyItem::decode`]), as [`Store::query_lazy`] does for pages.
    async fn get_lazy(&self, key: &Key) -> Result<Option<LazyItem>, StoreError> {
        Ok(self.get(key).await?.map(LazyItem::from))
    }

    /// The items at `keys`, in their order (`None` where nothing is stored), all read as
    /// [`Store::get`] reads one. A key may come more than once. Adapters that can fetch many
    /// in one round trip do (DynamoDB `BatchGetItem`, 100 keys a request); this default reads
    /// them one by one.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    /// Writes one item if `condition` holds.
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;

    /// Deletes one item if `condition` holds; deleting a missing item with
    /// [`Condition::None`] is not an error.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;

    /// Writes all or nothing. At most [`MAX_TX_OPS`] ops, each on a distinct key.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;

    /// Adds `delta` to a counter and returns its new value.
    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError>;

    /// One page of a query, in sort-key order. Index sort keys must be unique within their
    /// partition (key designs append the item id): DynamoDB does not order ties.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// The same page as [`Store::query`], the bodies left for the reader to decode into its
    /// own types ([`LazyItem::decode`]). Adapters that hold JSON text (the embedded store)
    /// hand it over unparsed; the others wrap what `query` returns.
    async fn query_lazy(&self, query: &Query) -> Result<LazyPage, StoreError> {
        Ok(self.query(query).await?.into())
    }

    /// Unconditional bulk write (demo data, benchmarks). Not atomic as a whole.
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError>;
}

/// Reads every page of a query, bodies unparsed ([`Store::query_lazy`]).
pub async fn query_all_lazy(store: &dyn Store, query: &Query) -> Result<Vec<LazyItem>, StoreError> {
    let mut out = Vec::new();
    let mut q = query.clone();
    loop {
        let page = store.query_lazy(&q).await?;
        out.extend(page.items);
        match page.next {
            Some(c) => q.after = Some(c),
            None => return Ok(out),
        }
    }
}

/// Reads every page of a query (the pages of [`query_all_lazy`], bodies parsed).
pub async fn query_all(store: &dyn Store, query: &Query) -> Result<Vec<Item>, StoreError> {
    query_all_lazy(store, query)
        .await?
        .into_iter()
        .map(LazyItem::into_item)
        .collect()
}

// ---- request checks: the same in every adapter, as DynamoDB applies them ----

/// Checks the shape of a transaction the same way in every adapter: at most [`MAX_TX_OPS`]
/// ops, each on a distinct key.
pub fn check_transaction(ops: &[TxOp]) -> Result<(), StoreError> {
    check_ops(ops)?;
    if ops.len() > MAX_TX_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction holds at most {MAX_TX_OPS} writes, not {}",
            ops.len()
        )));
    }
    let mut seen = HashSet::with_capacity(ops.len());
    for op in ops {
        let key = op.key();
        if !seen.insert(key.clone()) {
            return Err(StoreError::Invalid(format!(
                "key {}/{} appears twice in one transaction",
                key.pk, key.sk
            )));
        }
    }
    Ok(())
}

/// Checks a query the same way in every adapter: a page size of at least 1, and a cursor
/// that lies in the queried partition and sort-key range (DynamoDB refuses a start key
/// outside the query's key condition) with every key it carries within DynamoDB's sizes.
pub fn check_query(query: &Query) -> Result<(), StoreError> {
    if query.limit == Some(0) {
        return Err(StoreError::Invalid("a page holds at least one item".into()));
    }
    if query.pk.is_empty() {
        return Err(StoreError::Invalid("empty partition key".into()));
    }
    if let Some(c) = &query.after {
        let (pk, sk) = match query.index {
            Index::Primary => (Some(&c.pk), Some(&c.sk)),
            Index::Gsi1 | Index::Gsi2 => (c.ipk.as_ref(), c.isk.as_ref()),
        };
        let inside = pk == Some(&query.pk) && sk.is_some_and(|sk| query.sk.contains(sk));
        // Every key a cursor carries goes to DynamoDB as the start key: one it would refuse
        // (empty, or over its sizes) is not a cursor any page handed out.
        let index_keys_fit = match (&c.ipk, &c.isk) {
            (None, None) => true,
            (Some(ipk), Some(isk)) => check_key_parts("cursor", ipk, isk).is_ok(),
            _ => false,
        };
        if !inside || check_key_parts("cursor", &c.pk, &c.sk).is_err() || !index_keys_fit {
            return Err(StoreError::InvalidCursor);
        }
    }
    Ok(())
}

/// The range as both adapters run it: `None` when it cannot match anything (`Between(a, b)`
/// with `a > b`, which DynamoDB would refuse, or an upper bound of `""`), and without empty
/// strings (DynamoDB refuses them in key conditions; no stored sort key is empty).
pub fn normalize_range(range: &SkRange) -> Option<SkRange> {
    Some(match range {
        SkRange::BeginsWith(p) | SkRange::AtLeast(p) if p.is_empty() => SkRange::All,
        SkRange::AtMost(b) if b.is_empty() => return None,
        SkRange::Between(a, b) if a > b || b.is_empty() => return None,
        SkRange::Between(a, b) if a.is_empty() => SkRange::AtMost(b.clone()),
        other => other.clone(),
    })
}

/// Largest partition key, in bytes (DynamoDB's limit).
const MAX_PK_BYTES: usize = 2048;
/// Largest sort key, in bytes (DynamoDB's limit).
const MAX_SK_BYTES: usize = 1024;

fn check_key_parts(what: &str, pk: &str, sk: &str) -> Result<(), StoreError> {
    if pk.is_empty() || sk.is_empty() {
        return Err(StoreError::Invalid(format!("{what}: empty key")));
    }
    if pk.len() > MAX_PK_BYTES || sk.len() > MAX_SK_BYTES {
        return Err(StoreError::Invalid(format!(
            "{what}: key longer than {MAX_PK_BYTES}/{MAX_SK_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks a primary key as DynamoDB would: non-empty parts within the size limits.
pub fn check_key(key: &Key) -> Result<(), StoreError> {
    check_key_parts("primary key", &key.pk, &key.sk)
}

/// Checks the keys of an item (primary and index keys) as DynamoDB would.
pub fn check_item(item: &Item) -> Result<(), StoreError> {
    check_key_parts("primary key", &item.pk, &item.sk)?;
    if let Some(k) = &item.gsi1 {
        check_key_parts("gsi1 key", &k.pk, &k.sk)?;
    }
    if let Some(k) = &item.gsi2 {
        check_key_parts("gsi2 key", &k.pk, &k.sk)?;
    }
    Ok(())
}

/// Checks the keys of every op of a transaction.
pub fn check_ops(ops: &[TxOp]) -> Result<(), StoreError> {
    for op in ops {
        match op {
            TxOp::Put { item, .. } => check_item(item)?,
            TxOp::Add { key, gsi1, .. } => {
                check_key(key)?;
                if let Some(k) = gsi1 {
                    check_key_parts("gsi1 key", &k.pk, &k.sk)?;
                }
            }
            TxOp::Delete { key, .. } | TxOp::Check { key, .. } => check_key(key)?,
        }
    }
    Ok(())
}
