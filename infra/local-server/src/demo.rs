//! Demo data for the local run: loaded once, on the first start, through the ingest path.

use crate::LocalApp;
use domain::auth::Principal;
use domain::ports::{Condition, Item, Key};

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

fn marker_key() -> Key {
    Key::new("LOCAL#DEMO", "LOADED")
}

/// Loads the demo data unless this data directory already holds it. `scale` is
/// [`local_adapters::demo::Scale::demo`] for the local run, or a [`local_adapters::demo::Scale::bench`] to try the
/// API at benchmark volume (`serve --bench-rows N`).
pub async fn load_once(
    app: &LocalApp,
    scale: local_adapters::demo::Scale,
) -> Result<DemoSubjects, domain::ports::StoreError> {
    let store = &*app.deps.store;
    if store.get(&marker_key()).await?.is_none() {
        let config = local_adapters::demo::DemoConfig {
            scale,
            ..local_adapters::demo::DemoConfig::demo(app.deps.clock.now())
        };
        let started = std::time::Instant::now();
        eprintln!("loading demo data through ingest (first start only)...");
        let summary = local_adapters::demo::load_demo(store, &config).await?;
        eprintln!(
            "demo data loaded: {} events ({} threads, {} messages, {} consultation rows) in {:.1} s",
            summary.total_events(),
            summary.threads,
            summary.count("message.sent"),
            summary.consultation_rows,
            started.elapsed().as_secs_f64()
        );
        store
            .put(
                Item::new(
                    marker_key().pk,
                    marker_key().sk,
                    serde_json::json!({"seed": config.seed}),
                ),
                Condition::None,
            )
            .await?;
    }
    Ok(DemoSubjects::demo())
}
