//! The in-memory tables of the embedded store ([`Inner`]: the primary set, one map per
//! secondary index, and the open log): applying a change to every table, committing changes
//! (logged first, then applied), `ADD` counters, and whether a write's condition holds.

use super::log::{change_record, encode_line, Change, Log, RecordOut};
use super::stored::{Entry, IndexMap, Stored};
use domain::ports::store::{Condition, Index, IndexKey, Item, Key, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct Inner {
    pub(super) items: BTreeSet<Entry>,
    pub(super) gsi1: IndexMap,
    pub(super) gsi2: IndexMap,
    pub(super) log: Option<Log>,
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

    pub(super) fn apply(&mut self, change: Change) {
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
    pub(super) fn commit(&mut self, changes: Vec<Change>) -> Result<(), StoreError> {
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
    pub(super) fn added(
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
pub(super) fn holds(condition: &Condition, current: Option<&Stored>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) => current.is_some_and(|item| item.version == *v),
    }
}
