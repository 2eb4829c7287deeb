//! Ports: the four traits through which the domain reaches the outside world.
//!
//! Every port has two adapters (see [`crate::adapters`]): the AWS one on the official SDK
//! and an embedded one for the local run. Ports speak domain types and small error enums,
//! never SDK types, so the same contract tests run against both adapters.

pub mod blobs;
pub mod clock;
pub mod counting;
pub mod mailer;
pub mod store;

pub use blobs::{BlobError, BlobStore, BlobUpload};
pub use clock::{Clock, FixedClock, SystemClock};
pub use counting::CountingStore;
pub use mailer::{Email, MailError, Mailer};
pub use store::{
    Body, Condition, Cursor, Index, IndexKey, Item, ItemKeys, Key, LazyItem, LazyPage, Page, Query,
    SkRange, Store, StoreError, TxOp,
};
