//! Demo data for the local run: loaded once, on the first start, through the ingest path.

use crate::LocalApp;
use shared::auth::{Principal, Role};
use shared::ports::{Condition, Item, Key};

/// The subjects the server prints a ready token for, one per role.
#[derive(Debug, Clone)]
pub struct DemoSubjects {
    pub principals: Vec<Principal>,
}

impl DemoSubjects {
    /// Subjects when no demo data is loaded (`--no-demo`).
    pub fn fallback() -> Self {
        let p = |sub: &str, role, orgs: &[&str], clinics: &[&str]| Principal {
            sub: sub.to_string(),
            role,
            orgs: orgs.iter().map(|s| s.to_string()).collect(),
            clinics: clinics.iter().map(|s| s.to_string()).collect(),
        };
        DemoSubjects {
            principals: vec![
                p("admin-1", Role::PlatformAdmin, &[], &[]),
                p("prac-1", Role::Practitioner, &[], &[]),
                p("pat-1", Role::Patient, &[], &[]),
                p("acc-1", Role::OrgAdmin, &["org-1"], &[]),
                p("acc-2", Role::OrgCoordinator, &["org-1"], &[]),
                p("acc-3", Role::OrgReporter, &["org-1"], &[]),
                p("acc-4", Role::ClinicAdmin, &[], &["clinic-1"]),
                p("platform-ingest", Role::Service, &[], &[]),
            ],
        }
    }

    pub fn principals(&self) -> Vec<Principal> {
        self.principals.clone()
    }
}

fn marker_key() -> Key {
    Key::new("LOCAL#DEMO", "LOADED")
}

/// Loads the demo data unless this data directory already holds it.
pub async fn load_once(app: &LocalApp) -> Result<DemoSubjects, shared::ports::StoreError> {
    let store = &*app.deps.store;
    if store.get(&marker_key()).await?.is_none() {
        let config = shared::demo::DemoConfig {
            seed: 2026,
            scale: shared::demo::Scale::demo(),
            now: app.deps.clock.now(),
        };
        let started = std::time::Instant::now();
        eprintln!("loading demo data through ingest (first start only)...");
        let summary = shared::demo::load_demo(store, &config).await?;
        eprintln!(
            "demo data loaded: {} events in {:.1} s",
            summary.total_events(),
            started.elapsed().as_secs_f64()
        );
        store
            .put(
                Item::new(marker_key().pk, marker_key().sk, serde_json::json!({"seed": config.seed})),
                Condition::None,
            )
            .await?;
    }
    Ok(DemoSubjects::fallback())
}
