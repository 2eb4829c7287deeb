//! An item as the embedded store holds it in memory ([`Stored`]: its keys and its body as
//! compact JSON text, both shared), the primary set's entry ([`Entry`], ordered and found by
//! the primary key) and the positions of a secondary index ([`IndexPos`], [`IndexMap`]).

use domain::ports::store::{Body, Index, IndexKey, Item, ItemKeys, Key, LazyItem, StoreError};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Position of an item in a secondary index: index key first, then the primary key (a tie
/// breaker, so equal index keys still have a stable order).
pub(super) type IndexPos = (IndexKey, Key);

/// A secondary index: each position holds the item itself (shared with `items`), so a query
/// of an index reads its items without looking each one up by key again.
pub(super) type IndexMap = BTreeMap<IndexPos, Arc<Stored>>;

/// An item of the primary map, ordered and found by its primary key.
#[derive(Clone)]
pub(super) struct Entry(pub(super) Arc<Stored>);

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
pub(super) struct Stored {
    pub(super) keys: Arc<ItemKeys>,
    pub(super) expires_at: Option<i64>,
    pub(super) version: u64,
    pub(super) count: Option<i64>,
    /// The body as compact JSON text, shared: a reader copies a pointer under the lock.
    pub(super) body: Arc<str>,
}

impl Stored {
    pub(super) fn from_item(item: Item) -> Stored {
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

    pub(super) fn key(&self) -> &Key {
        &self.keys.key
    }

    pub(super) fn to_item(&self) -> Result<Item, StoreError> {
        self.lazy().into_item()
    }

    /// The item with its body still text (the keys and the body pointer copies, no parse).
    pub(super) fn lazy(&self) -> LazyItem {
        LazyItem {
            keys: Arc::clone(&self.keys),
            expires_at: self.expires_at,
            version: self.version,
            count: self.count,
            body: Body::Text(Arc::clone(&self.body)),
        }
    }

    pub(super) fn index_key(&self, index: Index) -> Option<&IndexKey> {
        match index {
            Index::Primary => None,
            Index::Gsi1 => self.keys.gsi1.as_ref(),
            Index::Gsi2 => self.keys.gsi2.as_ref(),
        }
    }
}
