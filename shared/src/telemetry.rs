//! Logs: structured JSON lines on stdout (CloudWatch in AWS), filtered by `RUST_LOG`.
//!
//! What may be logged (SPEC Q3): ids, routes, statuses, counts, durations, error kinds.
//! Never message text or ciphertext, names, emails or comments: handlers log ids only, and
//! problems sent to callers never echo submitted values.

use std::sync::Once;

static INIT: Once = Once::new();

/// Installs the JSON subscriber once per process.
pub fn init_logging() {
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(false)
            .with_target(false)
            .try_init();
    });
}
