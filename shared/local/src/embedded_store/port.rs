//! The [`Store`] port implemented by the embedded store: checks of each request, conditions
//! and transactions under the write lock, reads copied under the shared lock.

use super::log::{encode_line, Change, RecordOut, WRITE_CHUNK};
use super::stored::Entry;
use super::tables::holds;
use super::EmbeddedStore;
use async_trait::async_trait;
use domain::ports::store::{
    check_item, check_key, check_transaction, Condition, Item, Key, LazyItem, LazyPage, Page,
    Query, Store, StoreError, TxOp,
};

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
