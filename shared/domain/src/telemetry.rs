//! Logs: structured JSON lines on stdout (CloudWatch in AWS), filtered by `RUST_LOG`.
//!
//! What may be logged (SPEC Q3): ids, routes, statuses, counts, durations, error kinds.
//! Never message text or ciphertext, names, emails or comments: handlers log ids only, and
//! problems sent to callers never echo submitted values.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, Once, OnceLock};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

static INIT: Once = Once::new();

/// The file [`log_to_file`] appends every event of the process to; [`capture`] writes there
/// too. Behind a mutex so that each event lands as one whole line, whatever the thread.
static FILE_SINK: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// What [`log_to_file`] keeps: this workspace's library and local server from `debug` (as
/// [`capture`]), everything else from `info` (the default of [`init_logging`]).
fn file_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("domain", LevelFilter::DEBUG)
        .with_target("aws_adapters", LevelFilter::DEBUG)
        .with_target("local_adapters", LevelFilter::DEBUG)
        .with_target("local_server", LevelFilter::DEBUG)
}

/// The filter of [`init_logging`]: `RUST_LOG` when it is set and parses, else `info`.
///
/// `Targets`, not `EnvFilter`: `RUST_LOG` here is a list of `level` and `target=level`
/// directives, which `Targets` reads without the regex engine `EnvFilter` links into every
/// binary (root Cargo.toml). Span and field directives (`target[span{field=value}]=level`) are
/// not supported. A `RUST_LOG` that does not parse (e.g. `info,domain=loud`) falls back to
/// `info`, as it did with `EnvFilter`.
pub fn log_filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// Installs the JSON subscriber once per process, on stdout, filtered by [`log_filter`].
pub fn init_logging() {
    INIT.call_once(|| {
        let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
        let _ = tracing_subscriber::registry()
            .with(json_layer(std::io::stdout).with_filter(filter))
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
/// When [`log_to_file`] is on, the same events also go to its file, so a test that captures
/// does not take its logs out of the process-wide one.
pub fn capture(buffer: LogBuffer) -> tracing::subscriber::DefaultGuard {
    let subscriber = tracing_subscriber::registry()
        .with(
            json_layer(move || buffer.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::DEBUG),
        )
        .with(file_layer());
    tracing::subscriber::set_default(subscriber)
}

/// Sends every event of every thread of this process, from now on, to `path` (created, with
/// its directory; appended to), one JSON line each in the format of [`init_logging`]; see
/// [`file_filter`] for the levels. For a test binary, so that the logs of the whole run can be
/// searched afterwards (Q3). Fails when the file cannot be opened or another process-wide
/// subscriber is already installed.
pub fn log_to_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if FILE_SINK.set(Mutex::new(file)).is_err() {
        return Err(std::io::Error::other("the log file is already set"));
    }
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(file_layer()))
        .map_err(std::io::Error::other)
}

/// The JSON format every subscriber here shares.
fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .with_writer(writer)
}

/// The layer writing into [`FILE_SINK`], when [`log_to_file`] set it.
fn file_layer<S>() -> Option<impl Layer<S>>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let sink = FILE_SINK.get()?;
    Some(json_layer(move || FileLine(sink)).with_filter(file_filter()))
}

/// Writes one formatted event (the fmt layer hands over each in one `write_all`) to the file
/// under its lock.
struct FileLine(&'static Mutex<std::fs::File>);

impl Write for FileLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = self.0.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn rust_log_directives_set_the_levels() {
        let f = log_filter(Some("warn,domain=debug,domain::export=trace"));
        assert!(f.would_enable("domain::deps", &Level::DEBUG));
        assert!(!f.would_enable("domain::deps", &Level::TRACE));
        assert!(f.would_enable("domain::export::xlsx", &Level::TRACE));
        assert!(f.would_enable("hyper", &Level::WARN));
        assert!(!f.would_enable("hyper", &Level::INFO));
    }

    #[test]
    fn unset_empty_or_unparsable_rust_log_means_info() {
        for rust_log in [None, Some(""), Some("  "), Some("info,domain=loud")] {
            let f = log_filter(rust_log);
            assert!(f.would_enable("domain", &Level::INFO), "{rust_log:?}");
            assert!(!f.would_enable("domain", &Level::DEBUG), "{rust_log:?}");
        }
    }

    #[test]
    fn the_file_keeps_this_workspace_from_debug_and_the_rest_from_info() {
        let f = file_filter();
        assert!(f.would_enable("domain::http", &Level::DEBUG));
        assert!(f.would_enable("local_server", &Level::DEBUG));
        assert!(f.would_enable("local_adapters::embedded_store", &Level::DEBUG));
        assert!(!f.would_enable("hyper", &Level::DEBUG));
        assert!(f.would_enable("hyper", &Level::INFO));
    }
}
