//! The domain of the telehealth reporting and referral backend: events and their ingest, read
//! models, report builders, referrals, exporters, auth and the ports (traits) the adapters
//! implement (`aws-adapters` in AWS, `local-adapters` for the local run).

pub mod admin;
pub mod audit;
pub mod auth;
pub mod deps;
pub mod error;
pub mod events;
pub mod export;
pub mod ids;
pub mod org_reports;
pub mod ports;
pub mod readmodels;
pub mod referrals;
pub mod telemetry;
pub mod time;

pub use error::Error;

/// The allocator of every binary that links this crate (the functions, the local server, the
/// bench, the tests): mimalloc instead of the system's (glibc) malloc. The exporter reads the
/// store and builds rows on one thread while another writes the workbook and frees every
/// cell's text; glibc takes the allocating thread's arena lock for each such free, and
/// allocation was about 15% of an admin page's CPU under load. mimalloc keeps a heap per
/// thread and hands cross-thread frees back without a lock (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The crate's shape, held by tests: data flows one way (ingest and the read models never use
/// the features that read them), and the domain depends on no transport or cloud crate.
#[cfg(test)]
mod layering {
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn ingest_and_the_read_models_never_use_the_features() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src.join("events"), &mut files);
        sources(&src.join("readmodels"), &mut files);
        assert!(files.len() > 20, "{files:?}");
        let features = ["admin", "org_reports", "referrals"];
        let mut found = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for feature in features {
                    if code.contains(&format!("crate::{feature}")) {
                        found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "the write side uses a feature:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn the_domain_depends_on_no_transport_cloud_or_local_crate() {
        let manifest = include_str!("../Cargo.toml");
        let deps: Vec<&str> = manifest
            .split("[dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .expect("a [dependencies] table")
            .lines()
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|name| !name.is_empty() && !name.starts_with('#'))
            .collect();
        assert!(deps.contains(&"serde"), "{deps:?}");
        for name in &deps {
            let banned = name.starts_with("aws-")
                || name.starts_with("lambda")
                || [
                    "http",
                    "axum",
                    "tower",
                    "tower-http",
                    "hyper",
                    "local-adapters",
                    "api",
                ]
                .contains(name);
            assert!(!banned, "the domain depends on {name}");
        }
    }
}
