//! Logs: structured JSON lines on stdout (CloudWatch in AWS), filtered by `RUST_LOG`.
//!
//! What may be logged (SPEC Q3): ids, routes, statuses, counts, durations, error kinds.
//! Never message text or ciphertext, names, emails or comments: handlers log ids only, and
//! problems sent to callers never echo submitted values.

use std::sync::{Arc, Mutex, Once};

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

/// A shared in-memory log: what [`capture`] writes into.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The subscriber of [`init_logging`] (same JSON format, every level from `debug`), writing into
/// `buffer` on the current thread until the guard drops. For tests that search the logs (Q3).
pub fn capture(buffer: LogBuffer) -> tracing::subscriber::DefaultGuard {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_current_span(false)
        .with_target(false)
        .with_writer(move || buffer.clone())
        .finish();
    tracing::subscriber::set_default(subscriber)
}
