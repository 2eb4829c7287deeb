//! Demo data for the local run: loaded once, on the first start, through the ingest path.
//!
//! A load can be interrupted (the process killed, the machine stopped): the data directory
//! then holds part of the events. The demo's event ids are fixed while its times lead up to
//! the instant it is generated for, so a load generated anew would reuse the ids for other
//! content, which ingest refuses. Hence the configuration of the load (seed, volume and that
//! instant) is recorded in the store before its first event, and a start that finds it without
//! the completion marker generates the same events again: those that landed are duplicates,
//! the rest land, and the load ends exactly as an uninterrupted one.

use crate::LocalApp;
use domain::auth::Principal;
use domain::ports::{Condition, Item, Key, Store, StoreError};
use local_adapters::demo::{load_demo, DemoConfig, Scale};

/// The subjects the server prints a ready token for, one per role.
#[derive(Debug, Clone)]
pub struct DemoSubjects {
    pub principals: Vec<Principal>,
}

impl DemoSubjects {
    /// The demo's subjects, one per role (they exist in the demo data with that role).
    pub fn demo() -> Self {
        DemoSubjects {
            principals: local_adapters::demo::demo_principals(),
        }
    }

    pub fn principals(&self) -> Vec<Principal> {
        self.principals.clone()
    }
}

/// The configuration of the demo load, written before its first event.
pub fn started_key() -> Key {
    Key::new("LOCAL#DEMO", "STARTED")
}

/// Written once the whole demo load has landed.
pub fn loaded_key() -> Key {
    Key::new("LOCAL#DEMO", "LOADED")
}

/// Loads the demo data unless this data directory already holds it, and finishes a load an
/// earlier start began (with that start's configuration, whatever `scale` says now). `scale`
/// is [`Scale::demo`] for the local run, or a [`Scale::bench`] to try the API at benchmark
/// volume (`serve --bench-rows N`).
pub async fn load_once(app: &LocalApp, scale: Scale) -> Result<DemoSubjects, StoreError> {
    let store = &*app.deps.store;
    if store.get(&loaded_key()).await?.is_some() {
        return Ok(DemoSubjects::demo());
    }
    let config = match started(store).await? {
        Some(config) => {
            eprintln!("resuming the demo load an earlier start began (the same events)...");
            config
        }
        None => {
            let config = DemoConfig {
                scale,
                ..DemoConfig::demo(app.deps.clock.now())
            };
            record_start(store, &config).await?;
            eprintln!("loading demo data through ingest (first start only)...");
            config
        }
    };
    let started = std::time::Instant::now();
    let summary = load_demo(store, &config).await?;
    eprintln!(
        "demo data loaded: {} events ({} threads, {} messages, {} consultation rows) in {:.1} s",
        summary.total_events(),
        summary.threads,
        summary.count("message.sent"),
        summary.consultation_rows,
        started.elapsed().as_secs_f64()
    );
    let loaded = loaded_key();
    store
        .put(
            Item::new(
                loaded.pk,
                loaded.sk,
                serde_json::json!({"seed": config.seed}),
            ),
            Condition::None,
        )
        .await?;
    Ok(DemoSubjects::demo())
}

/// The configuration of a load that was started here, if one was.
pub async fn started(store: &dyn Store) -> Result<Option<DemoConfig>, StoreError> {
    store
        .get(&started_key())
        .await?
        .map(|item| item.decode())
        .transpose()
}

async fn record_start(store: &dyn Store, config: &DemoConfig) -> Result<(), StoreError> {
    let key = started_key();
    let body = serde_json::to_value(config)
        .map_err(|e| StoreError::Invalid(format!("demo configuration: {e}")))?;
    store
        .put(Item::new(key.pk, key.sk, body), Condition::NotExists)
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::DataDir;
    use domain::ports::FixedClock;
    use std::sync::Arc;

    fn small() -> Scale {
        Scale {
            organisations: 1,
            practitioners: 5,
            patients: 2,
            threads: 3,
            vouchers: 1,
            room_calls: 2,
            consultation_rows: 10,
            ..Scale::demo()
        }
    }

    /// A start that finds a load begun and not finished generates the recorded load again (not
    /// one for its own clock or volume), and the store ends as after one uninterrupted load.
    #[tokio::test]
    async fn an_unfinished_load_is_finished_with_its_recorded_configuration() {
        let dir = std::env::temp_dir().join(format!(
            "demo-resume-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let first: chrono::DateTime<chrono::Utc> = "2026-11-20T12:00:00Z".parse().unwrap();
        let app = LocalApp::open(
            &DataDir::new(&dir),
            "http://127.0.0.1:1",
            Arc::new(FixedClock::new(first)),
        )
        .unwrap();
        let config = DemoConfig {
            scale: small(),
            ..DemoConfig::demo(first)
        };
        // What an interrupted start leaves: its configuration and the first batch's first half.
        record_start(&*app.deps.store, &config).await.unwrap();
        let mut generator = local_adapters::demo::DemoGenerator::new(&config);
        let batch = generator.next().unwrap();
        domain::events::ingest::ingest_batch(&*app.deps.store, first, &batch[..batch.len() / 2])
            .await
            .unwrap();
        drop(app);

        let later = first + chrono::Duration::hours(30);
        let app = LocalApp::open(
            &DataDir::new(&dir),
            "http://127.0.0.1:1",
            Arc::new(FixedClock::new(later)),
        )
        .unwrap();
        load_once(&app, Scale::demo()).await.unwrap();
        let store = &*app.deps.store;
        assert!(store.get(&loaded_key()).await.unwrap().is_some());
        assert_eq!(started(store).await.unwrap(), Some(config.clone()));

        let clean = local_adapters::embedded_store::EmbeddedStore::in_memory();
        let summary = load_demo(&clean, &config).await.unwrap();
        let again = load_demo(store, &config).await.unwrap();
        assert_eq!(
            again.loaded.map(|l| (l.accepted, l.duplicates)),
            Some((0, summary.events)),
            "every event of the recorded load is there, none of another"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
