//! A store wrapper that counts the items its reads touch: every page's `read` and one per
//! `GetItem` (the count the admin pages return in `x-items-read`). The benchmark harness and
//! the read-count tests measure the reports' reads through it (SPEC Q4).

use super::store::{Condition, Item, Key, LazyPage, Page, Query, Store, StoreError, TxOp};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};

/// A store that counts the items its reads touched.
pub struct CountingStore<'a> {
    inner: &'a dyn Store,
    read: AtomicU64,
}

impl<'a> CountingStore<'a> {
    pub fn new(inner: &'a dyn Store) -> Self {
        Self {
            inner,
            read: AtomicU64::new(0),
        }
    }

    /// Items read since the last call.
    pub fn take(&self) -> u64 {
        self.read.swap(0, Ordering::Relaxed)
    }

    fn add(&self, n: usize) {
        self.read.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[async_trait]
impl Store for CountingStore<'_> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.add(1);
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.add(keys.len());
        self.inner.get_many(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.inner.transact(ops).await
    }

    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError> {
        self.inner.add(key, delta).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let page = self.inner.query(query).await?;
        self.add(page.read);
        Ok(page)
    }

    async fn query_lazy(&self, query: &Query) -> Result<LazyPage, StoreError> {
        let page = self.inner.query_lazy(query).await?;
        self.add(page.read);
        Ok(page)
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.inner.put_many(items).await
    }
}
