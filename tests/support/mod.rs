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
