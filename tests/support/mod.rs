//! Test harness shared by the scenario modules: temporary directories, unique names, the
//! moto server ([`moto`]), a tiny HTTP server for the embedded blob links ([`links`]), the
//! ways to reach the HTTP layer ([`app`]), the local server as a process of its own
//! ([`process`]) and builders of platform events ([`events`]).

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

pub mod app;
pub mod events;
pub mod links;
pub mod moto;
pub mod process;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The wiring of a function crate by its package name (`admin-feed`): the HTTP functions'
/// from [`api::functions::ALL`], the event-driven ones' from their crates.
pub fn wiring_of(function: &str) -> Option<domain::deps::Wiring> {
    match function {
        "ingest-events" => Some(ingest_events::WIRING),
        "org-report-email-job" => Some(org_report_email_job::WIRING),
        "referral-delivery" => Some(referral_delivery::WIRING),
        other => api::functions::ALL
            .iter()
            .find(|f| f.name() == other)
            .map(|f| f.wiring),
    }
}

/// A name no other test of any run uses: `prefix`, the process id, a counter and the time.
/// Lower-case letters, digits and `-` only (valid for buckets, tables and mail domains).
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

/// A directory under cargo's temporary directory for integration tests, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(unique(prefix));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The workspace root (the tests crate lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate has a parent directory")
        .to_path_buf()
}

/// A fresh embedded store, in memory.
pub fn embedded_store() -> std::sync::Arc<dyn domain::ports::Store> {
    std::sync::Arc::new(local_adapters::embedded_store::EmbeddedStore::in_memory())
}

/// A fresh DynamoDB store on moto (a table of its own).
pub async fn moto_store() -> std::sync::Arc<dyn domain::ports::Store> {
    std::sync::Arc::new(moto::dynamo_store().await)
}

/// Declares, for each scenario `async fn(Arc<dyn Store>)` named, a module of its name with the
/// tests `embedded` and `moto`, each giving the scenario a fresh store of that adapter.
macro_rules! on_each_store {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name($crate::support::embedded_store()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn moto() {
                    super::$name($crate::support::moto_store().await).await;
                }
            }
        )+
    };
}

pub(crate) use on_each_store;

/// A store whose writes (put, delete, transaction, add, batch put) fail while armed, as a
/// store out of reach would (`Unavailable`); reads go through. For the state a failed write
/// leaves.
pub struct FailingWrites {
    pub inner: std::sync::Arc<dyn domain::ports::Store>,
    pub armed: std::sync::atomic::AtomicBool,
}

impl FailingWrites {
    pub fn new(inner: std::sync::Arc<dyn domain::ports::Store>) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            inner,
            armed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Makes every write fail from now on (`true`) or go through again (`false`).
    pub fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), domain::ports::StoreError> {
        if self.armed.load(Ordering::SeqCst) {
            return Err(domain::ports::StoreError::Unavailable(
                "injected write failure".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl domain::ports::Store for FailingWrites {
    async fn get(
        &self,
        key: &domain::ports::Key,
    ) -> Result<Option<domain::ports::Item>, domain::ports::StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: domain::ports::Item,
        condition: domain::ports::Condition,
    ) -> Result<(), domain::ports::StoreError> {
        self.check()?;
        self.inner.put(item, condition).await
    }
    async fn delete(
        &self,
        key: &domain::ports::Key,
        condition: domain::ports::Condition,
    ) -> Result<(), domain::ports::StoreError> {
        self.check()?;
        self.inner.delete(key, condition).await
    }
    async fn transact(
        &self,
        ops: Vec<domain::ports::TxOp>,
    ) -> Result<(), domain::ports::StoreError> {
        self.check()?;
        self.inner.transact(ops).await
    }
    async fn add(
        &self,
        key: &domain::ports::Key,
        delta: i64,
    ) -> Result<i64, domain::ports::StoreError> {
        self.check()?;
        self.inner.add(key, delta).await
    }
    async fn query(
        &self,
        query: &domain::ports::Query,
    ) -> Result<domain::ports::Page, domain::ports::StoreError> {
        self.inner.query(query).await
    }
    async fn put_many(
        &self,
        items: Vec<domain::ports::Item>,
    ) -> Result<(), domain::ports::StoreError> {
        self.check()?;
        self.inner.put_many(items).await
    }
}
