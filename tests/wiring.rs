//! Each function's `WIRING` (domain::deps::Wiring) held to what the function does: a binary
//! links only the AWS clients its wiring names, so a function wired without a port it uses
//! would fail in AWS (its calls answer `NotWired`). Pinned three ways:
//! - every function's `main` builds its dependencies from its crate's `WIRING`;
//! - every route that hands out a file (`/export`, `/download`, `/link`) is served by a
//!   function wired with the blob store;
//! - the ports of each function are exactly the permissions `template.yaml` grants it: S3
//!   (a bucket policy or `s3:` actions) if and only if it has the blob store, `ses:SendEmail`
//!   if and only if it has the mailer.
//!
//! The API's Router gives every function the ports of its wiring, locally too
//! (`Deps::wired_as`), so
//! the scenario tests of exports and downloads fail as well when a wiring loses its port.

use crate::support::wiring_of;
use api::routes::ROUTES;
use serde_yaml::Value;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The package names of the crates under `functions/` (the directory name, dashed).
fn function_crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("functions"))
        .expect("functions/ is readable")
        .flatten()
        .filter(|d| d.path().join("Cargo.toml").is_file())
        .map(|d| d.file_name().to_string_lossy().replace('_', "-"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_function_main_builds_its_dependencies_from_its_wiring() {
    let crates = function_crates();
    // Every HTTP function of the route table has its crate (and the directory was read).
    for f in api::functions::ALL.iter() {
        assert!(
            crates.iter().any(|c| c == f.name()),
            "{} has no crate",
            f.name()
        );
    }
    for name in &crates {
        let wiring = wiring_of(name).unwrap_or_else(|| panic!("{name} has no WIRING here"));
        assert_eq!(
            wiring.name,
            name.as_str(),
            "the WIRING of {name} names another function"
        );
        let lib = name.replace('-', "_");
        let main = repo_root().join("functions").join(&lib).join("src/main.rs");
        let text = std::fs::read_to_string(&main).expect("main.rs");
        // An HTTP function serves its `FUNCTION` constant; an event-driven one its `WIRING`.
        let builds_from = if api::functions::ALL
            .iter()
            .any(|f| f.name() == name.as_str())
        {
            format!("api::functions::{lib}::FUNCTION")
        } else {
            format!("{lib}::WIRING")
        };
        assert!(
            text.contains(&builds_from),
            "{} does not build its dependencies from `{builds_from}`",
            main.display()
        );
        assert!(
            !text.contains("Wiring::store_only"),
            "{} builds its own wiring instead of its function's",
            main.display()
        );
    }
}

#[test]
fn routes_that_hand_out_files_are_served_with_the_blob_store() {
    let mut file_routes = 0;
    for route in ROUTES.iter() {
        let wiring =
            wiring_of(route.function).unwrap_or_else(|| panic!("{} has no WIRING", route.function));
        if ["/export", "/download", "/link"]
            .iter()
            .any(|end| route.path.ends_with(end))
        {
            file_routes += 1;
            assert!(
                wiring.has_blobs(),
                "{} {} hands out a file but {} is wired without the blob store",
                route.method,
                route.path,
                route.function
            );
        }
    }
    // 9 tab exports (the audit trail's among them), 2 downloads, 2 history links.
    assert_eq!(file_routes, 13);
    assert!(org_report_email_job::WIRING.has_blobs() && org_report_email_job::WIRING.has_mailer());
}

#[test]
fn each_function_has_the_ports_its_template_permissions_allow() {
    let path = repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).expect("template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("template.yaml is plain YAML");
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .expect("Resources");
    let mut seen = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap_or("?");
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{id} has no Metadata.BuildProperties.Binary"));
        let policies = resource
            .get("Properties")
            .and_then(|p| p.get("Policies"))
            .map(|p| serde_yaml::to_string(p).expect("policies"))
            .unwrap_or_default();
        let s3 = policies.contains("S3CrudPolicy")
            || policies.contains("S3ReadPolicy")
            || policies.contains("S3WritePolicy")
            || policies.contains("s3:");
        let ses = policies.contains("ses:SendEmail");
        let wiring = wiring_of(binary).unwrap_or_else(|| panic!("{binary} has no WIRING"));
        assert_eq!(
            wiring.has_blobs(),
            s3,
            "{binary}: wired with the blob store = {}, template grants S3 = {s3}",
            wiring.has_blobs()
        );
        assert_eq!(
            wiring.has_mailer(),
            ses,
            "{binary}: wired with the mailer = {}, template grants ses:SendEmail = {ses}",
            wiring.has_mailer()
        );
        seen.push(binary.to_string());
    }
    seen.sort();
    assert_eq!(seen, function_crates());
}

#[test]
fn the_admin_feed_export_needs_its_blob_store() {
    // What a wiring without the blob store does to an export: the error the function would
    // answer (as a 500, logged) instead of a link.
    let wired = |f: &str| wiring_of(f).expect("wired");
    assert!(wired("admin-feed").has_blobs());
    assert!(!wired("admin-thread").has_blobs() && !wired("referral-get").has_blobs());
    let without = domain::deps::NotWired {
        function: "admin-feed",
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let err = rt
        .block_on(domain::ports::BlobStore::start_upload(
            &without,
            "exports/admin/feed/x.csv",
            "text/csv",
        ))
        .err()
        .expect("not wired");
    assert_eq!(
        err.to_string(),
        "no blob store is wired into function admin-feed"
    );
}
