//! The integration-test binary: declares the scenario modules, and sends every event any of
//! them logs to one file that infra/test.sh searches after the suite (SPEC Q3).
mod admin;
mod admin_counts;
mod admin_demo;
mod admin_feed_kinds;
mod admin_feed_waiting;
mod admin_http;
mod admin_ingest;
mod admin_readmodels;
mod audit_trail;
mod authorisation;
mod bad_input;
mod contract;
mod crash_recovery;
mod demo;
mod email_jobs_always_end;
mod events;
mod events_bounds;
mod events_segments;
mod input_limits;
mod local_server;
mod logs;
mod openapi;
mod org_report_places;
mod org_report_schedules;
mod org_reports;
mod org_reports_email;
mod org_reports_xlsx;
mod org_tiles_stats;
mod people_search;
mod referral_ageing;
mod referrals;
mod referrals_decline;
mod referrals_http;
mod referrals_lifecycle;
mod referrals_note;
mod safe_exports;
mod support;
mod template;
mod template_iam;
mod template_iam_calls;
mod template_ops;
mod wiring;

/// Installs, before any test starts, the process-wide JSON log file
/// `<target>/tmp/test-logs/integration-<pid>.jsonl` (`domain::telemetry::log_to_file`): every
/// event of every test, whatever its thread, lands there, and `scan-test-logs` (tests/bin)
/// searches it for names, emails and message text. Without it the scan has nothing to read
/// and fails, so a failure here stops the run at once.
#[ctor::ctor]
fn log_the_whole_run() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("test-logs")
        .join(format!("integration-{}.jsonl", std::process::id()));
    if let Err(e) = domain::telemetry::log_to_file(&path) {
        eprintln!("cannot log the test run to {}: {e}", path.display());
        std::process::exit(2);
    }
}
