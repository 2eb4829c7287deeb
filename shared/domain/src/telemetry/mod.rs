//! Logs and metrics: one line per event on stdout (CloudWatch Logs in AWS), the same in the
//! local server and in tests.
//!
//! A log line is one flat JSON object: `timestamp`, `level`, `message`, then the fields of the
//! spans the event is in (outermost first), then the event's own fields. Under Lambda the
//! runtime's invocation span (`lambda_runtime`'s `"Lambda runtime invoke"`) gives
//! `lambda_request_id` and `trace_id` (its `requestId` and `xrayTraceId`), and [`ColdStart`]
//! adds `cold_start`; the API's Router adds `request_id` (API Gateway's, `local-N` locally)
//! and its access line `function`, `method`, `route`, `role`, `status`, `latency_ms`.
//!
//! Lambda's logging controls are honoured as `lambda_runtime::tracing::init_default_subscriber`
//! reads them: `AWS_LAMBDA_LOG_LEVEL` before `RUST_LOG` ([`log_filter`]), and
//! `AWS_LAMBDA_LOG_FORMAT` `Text` for tracing's plain text lines ([`LogFormat`]). That
//! function itself is not used: it parses `RUST_LOG` with `EnvFilter` (root Cargo.toml) and
//! writes tracing's JSON, which nests the fields under `fields`.
//!
//! Metrics are CloudWatch Embedded Metric Format documents ([`emit_metrics`]), one JSON line
//! each, written through the same pipeline at every log level.
//!
//! What may be logged (SPEC Q3): ids, routes, statuses, counts, durations, error kinds.
//! Never message text or ciphertext, names, emails or comments: handlers log ids only, and
//! problems sent to callers never echo submitted values.

mod metrics;

pub use metrics::{
    emit_metrics, exported, ingested, job_finished, metric_document_json, metrics_namespace,
    Metric, Unit,
};
use serde_json::Value;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, JsonFields};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of metric events: each is written as its document alone, whatever the level
/// settings ([`emit_metrics`]).
pub const METRICS_TARGET: &str = "emf";

/// The name of `lambda_runtime`'s span around each invocation (`layers::trace::request_span`).
pub const LAMBDA_SPAN: &str = "Lambda runtime invoke";

/// The target of that span, enabled at every level setting so that every line of an
/// invocation carries its ids.
const LAMBDA_SPAN_TARGET: &str = "lambda_runtime::layers::trace";

/// The CloudWatch namespace of the metrics when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "TelehealthReporting";

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

/// The filter of [`init_logging`]: the level `AWS_LAMBDA_LOG_LEVEL` names when it is set (`TRACE`,
/// `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`, any case; Lambda's application log level), else
/// `RUST_LOG` when it is set and parses, else `info`. Metric documents and the ids of
/// Lambda's invocation span pass whatever the level.
///
/// `Targets`, not `EnvFilter`: `RUST_LOG` here is a list of `level` and `target=level`
/// directives, which `Targets` reads without the regex engine `EnvFilter` links into every
/// binary (root Cargo.toml). Span and field directives (`target[span{field=value}]=level`) are
/// not supported. A `RUST_LOG` that does not parse (e.g. `info,domain=loud`) falls back to
/// `info`, as it did with `EnvFilter`; so does an `AWS_LAMBDA_LOG_LEVEL` that names no level.
pub fn log_filter(lambda_log_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let lambda = lambda_log_level.map(str::trim).filter(|v| !v.is_empty());
    let targets = match lambda {
        Some(level) => Targets::new().with_default(lambda_level(level)),
        None => rust_log
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO)),
    };
    targets
        .with_target(METRICS_TARGET, LevelFilter::INFO)
        .with_target(LAMBDA_SPAN_TARGET, LevelFilter::INFO)
}

/// Lambda's application log level as a tracing level (`FATAL` is `ERROR`: tracing has no
/// higher level).
fn lambda_level(level: &str) -> LevelFilter {
    if level.eq_ignore_ascii_case("fatal") {
        return LevelFilter::ERROR;
    }
    level.parse().unwrap_or(LevelFilter::INFO)
}

/// The shape of the lines: `AWS_LAMBDA_LOG_FORMAT` `Text` (any case) for tracing's plain text,
/// anything else (unset, `JSON`) for flat JSON. Metric documents are JSON in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    pub fn from_env(aws_lambda_log_format: Option<&str>) -> LogFormat {
        match aws_lambda_log_format {
            Some(f) if f.trim().eq_ignore_ascii_case("text") => LogFormat::Text,
            _ => LogFormat::Json,
        }
    }
}

/// Installs the subscriber once per process, on stdout: [`LogFormat`] and [`log_filter`] from
/// the environment.
pub fn init_logging() {
    INIT.call_once(|| {
        let var = |name: &str| std::env::var(name).ok();
        let filter = log_filter(
            var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
            var("RUST_LOG").as_deref(),
        );
        let format = LogFormat::from_env(var("AWS_LAMBDA_LOG_FORMAT").as_deref());
        let json = (format == LogFormat::Json)
            .then(|| json_layer(std::io::stdout).with_filter(filter.clone()));
        let text =
            (format == LogFormat::Text).then(|| text_layer(std::io::stdout).with_filter(filter));
        let _ = tracing_subscriber::registry()
            .with(ColdStart::default())
            .with(json)
            .with(text)
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
        .with(ColdStart::default())
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
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(ColdStart::default())
            .with(file_layer()),
    )
    .map_err(std::io::Error::other)
}

/// The flat JSON format every subscriber here shares ([`FlatJson`]).
fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
}

/// tracing's plain text lines (no colours), metric documents as they are ([`MetricsRaw`]).
fn text_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(MetricsRaw(format::Format::default().with_target(false)))
        .with_writer(writer)
}

/// Marks each of `lambda_runtime`'s invocation spans with whether it is the first of the
/// process (a cold start). One per subscriber, so each test's [`capture`] starts cold.
#[derive(Default)]
pub struct ColdStart {
    invoked: AtomicBool,
}

/// The mark [`ColdStart`] leaves in an invocation span's extensions.
struct Cold(bool);

impl<S> Layer<S> for ColdStart
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != LAMBDA_SPAN {
            return;
        }
        if let Some(span) = ctx.span(id) {
            let cold = !self.invoked.swap(true, Ordering::Relaxed);
            span.extensions_mut().insert(Cold(cold));
        }
    }
}

/// One flat JSON object per event (the module's header); a metric event as its document.
struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if let Some(document) = metric_document(event) {
            return writeln!(writer, "{document}");
        }
        let mut line = Line::default();
        line.set("timestamp", Value::String(timestamp()));
        line.set("level", Value::String(event.metadata().level().to_string()));
        line.set("message", Value::String(String::new()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let lambda = span.name() == LAMBDA_SPAN;
                if let Some(fields) = extensions.get::<FormattedFields<JsonFields>>() {
                    if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                        for (name, value) in fields {
                            let name = match (lambda, name.as_str()) {
                                (true, "requestId") => "lambda_request_id".to_string(),
                                (true, "xrayTraceId") => "trace_id".to_string(),
                                (true, "tenantId") => "tenant_id".to_string(),
                                _ => name,
                            };
                            line.set(&name, value);
                        }
                    }
                }
                if let Some(Cold(cold)) = extensions.get::<Cold>() {
                    line.set("cold_start", Value::Bool(*cold));
                }
            }
        }
        event.record(&mut line);
        let mut text = String::with_capacity(256);
        text.push('{');
        for (i, (name, value)) in line.0.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            let _ = write!(text, "{}:{}", Value::String(name.clone()), value);
        }
        text.push('}');
        writeln!(writer, "{text}")
    }
}

/// A text format that writes metric events as their documents (CloudWatch reads them only
/// as JSON lines) and every other event as `F` does.
struct MetricsRaw<F>(F);

impl<S, N, F> FormatEvent<S, N> for MetricsRaw<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        match metric_document(event) {
            Some(document) => writeln!(writer, "{document}"),
            None => self.0.format_event(ctx, writer, event),
        }
    }
}

/// The document of a metric event ([`emit_metrics`]), or `None` for any other event.
fn metric_document(event: &Event<'_>) -> Option<String> {
    if event.metadata().target() != METRICS_TARGET {
        return None;
    }
    let mut line = Line::default();
    event.record(&mut line);
    line.0.into_iter().find_map(|(name, value)| match value {
        Value::String(document) if name == "emf" => Some(document),
        _ => None,
    })
}

/// `2026-11-20T12:00:00.123Z`: UTC, milliseconds.
fn timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The fields of one line in order; a name set again keeps its place and takes the new value.
#[derive(Default)]
struct Line(Vec<(String, Value)>);

impl Line {
    fn set(&mut self, name: &str, value: Value) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Value::String(value.to_string()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.set(field.name(), Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field.name(), Value::String(format!("{value:?}")));
    }
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
        let f = log_filter(None, Some("warn,domain=debug,domain::export=trace"));
        assert!(f.would_enable("domain::deps", &Level::DEBUG));
        assert!(!f.would_enable("domain::deps", &Level::TRACE));
        assert!(f.would_enable("domain::export::xlsx", &Level::TRACE));
        assert!(f.would_enable("hyper", &Level::WARN));
        assert!(!f.would_enable("hyper", &Level::INFO));
    }

    #[test]
    fn unset_empty_or_unparsable_rust_log_means_info() {
        for rust_log in [None, Some(""), Some("  "), Some("info,domain=loud")] {
            let f = log_filter(None, rust_log);
            assert!(f.would_enable("domain", &Level::INFO), "{rust_log:?}");
            assert!(!f.would_enable("domain", &Level::DEBUG), "{rust_log:?}");
        }
    }

    #[test]
    fn lambda_s_log_level_comes_before_rust_log() {
        let f = log_filter(Some("WARN"), Some("debug"));
        assert!(f.would_enable("domain", &Level::WARN));
        assert!(!f.would_enable("domain", &Level::INFO));
        let f = log_filter(Some("debug"), None);
        assert!(f.would_enable("hyper", &Level::DEBUG));
        assert!(!f.would_enable("hyper", &Level::TRACE));
        let f = log_filter(Some("FATAL"), Some("trace"));
        assert!(f.would_enable("domain", &Level::ERROR));
        assert!(!f.would_enable("domain", &Level::WARN));
        // Unset or empty: RUST_LOG decides; naming no level: info.
        assert!(log_filter(Some(""), Some("debug")).would_enable("domain", &Level::DEBUG));
        let f = log_filter(Some("LOUD"), Some("debug"));
        assert!(f.would_enable("domain", &Level::INFO));
        assert!(!f.would_enable("domain", &Level::DEBUG));
    }

    #[test]
    fn metrics_and_the_invocation_span_pass_every_level() {
        for f in [
            log_filter(Some("ERROR"), None),
            log_filter(None, Some("error")),
            log_filter(None, Some("off")),
        ] {
            assert!(f.would_enable(METRICS_TARGET, &Level::INFO));
            assert!(f.would_enable(LAMBDA_SPAN_TARGET, &Level::INFO));
            assert!(!f.would_enable("domain", &Level::WARN));
        }
    }

    #[test]
    fn lambda_s_log_format_text_is_text_and_anything_else_json() {
        assert_eq!(LogFormat::from_env(Some("Text")), LogFormat::Text);
        assert_eq!(LogFormat::from_env(Some("TEXT")), LogFormat::Text);
        assert_eq!(LogFormat::from_env(Some("JSON")), LogFormat::Json);
        assert_eq!(LogFormat::from_env(None), LogFormat::Json);
    }

    fn lines(buffer: &LogBuffer) -> Vec<Value> {
        buffer
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// Fields flat, in order: timestamp, level, message, the spans' (the invocation's renamed,
    /// with the cold-start mark), the event's.
    #[test]
    fn lines_are_flat_json_with_the_invocation_s_ids() {
        let buffer = LogBuffer::default();
        let _guard = capture(buffer.clone());
        for (request, trace) in [("lambda-1", "Root=1-a"), ("lambda-2", "Root=1-b")] {
            let invocation = tracing::info_span!(
                target: "lambda_runtime::layers::trace",
                "Lambda runtime invoke",
                requestId = request,
                xrayTraceId = trace
            );
            let _in = invocation.enter();
            let request_span = tracing::error_span!("request", request_id = "api-1");
            let _in_request = request_span.enter();
            tracing::warn!(status = 403_u16, reason = %"no", ok = false, "request denied");
        }
        tracing::info!(rows = 3_u64, "outside");
        let text = buffer.text();
        let first = text.lines().next().expect("a line");
        let keys: Vec<&str> = [
            "timestamp",
            "level",
            "message",
            "lambda_request_id",
            "trace_id",
        ]
        .into_iter()
        .collect();
        let mut at = 0;
        for key in keys {
            let found = first[at..].find(&format!("\"{key}\"")).expect(key);
            at += found;
        }
        let lines = lines(&buffer);
        assert_eq!(lines.len(), 3, "{text}");
        for line in &lines {
            let stamp = line["timestamp"].as_str().expect("timestamp");
            assert!(
                chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
                "{stamp}"
            );
        }
        let without_time = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().expect("object").remove("timestamp");
            v
        };
        assert_eq!(
            without_time(&lines[0]),
            serde_json::json!({
                "level": "WARN", "message": "request denied",
                "lambda_request_id": "lambda-1", "trace_id": "Root=1-a", "cold_start": true,
                "request_id": "api-1", "status": 403, "reason": "no", "ok": false,
            })
        );
        assert_eq!(lines[1]["lambda_request_id"], "lambda-2");
        assert_eq!(lines[1]["cold_start"], false);
        assert_eq!(
            without_time(&lines[2]),
            serde_json::json!({"level": "INFO", "message": "outside", "rows": 3})
        );
    }

    #[test]
    fn metric_documents_are_written_alone() {
        let buffer = LogBuffer::default();
        let _guard = capture(buffer.clone());
        let span = tracing::error_span!("request", request_id = "api-1");
        let _in = span.enter();
        emit_metrics(
            &[("route", "GET /health")],
            &[
                Metric::count("Requests", 1),
                Metric::millis("Latency", std::time::Duration::from_micros(2_600)),
                Metric::bytes("BytesExported", 10),
            ],
        );
        let mut lines = lines(&buffer);
        assert_eq!(lines.len(), 1);
        let stamp = lines[0]["_aws"]["Timestamp"].take();
        assert!(
            stamp.as_i64().is_some_and(|t| t > 1_700_000_000_000),
            "{stamp}"
        );
        assert_eq!(
            lines[0],
            serde_json::json!({
                "_aws": {
                    "Timestamp": null,
                    "CloudWatchMetrics": [{
                        "Namespace": "TelehealthReporting",
                        "Dimensions": [["route"]],
                        "Metrics": [
                            {"Name": "Requests", "Unit": "Count"},
                            {"Name": "Latency", "Unit": "Milliseconds"},
                            {"Name": "BytesExported", "Unit": "Bytes"},
                        ],
                    }],
                },
                "route": "GET /health",
                "Requests": 1,
                "Latency": 2,
                "BytesExported": 10,
            })
        );
    }

    /// `AWS_LAMBDA_LOG_FORMAT=Text`: text lines with the spans' fields, metric documents still
    /// JSON lines of their own.
    #[test]
    fn text_lines_keep_metric_documents_json() {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(text_layer(move || writer.clone()));
        let _guard = tracing::subscriber::set_default(subscriber);
        let span = tracing::error_span!("request", request_id = "api-1");
        let _in = span.enter();
        tracing::info!(status = 200_u16, "request");
        emit_metrics(&[], &[Metric::count("EventsAccepted", 1)]);
        let text = buffer.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with(" INFO request{request_id=\"api-1\"}: request status=200"),
            "{text}"
        );
        let document: Value = serde_json::from_str(lines[1]).expect("a JSON document");
        assert_eq!(document["EventsAccepted"], 1);
    }

    #[test]
    fn a_document_without_dimensions_has_one_empty_set() {
        let doc: Value = serde_json::from_str(&metric_document_json(
            "Ns",
            5,
            &[],
            &[Metric::count("EventsAccepted", 2)],
        ))
        .expect("json");
        assert_eq!(
            doc,
            serde_json::json!({
                "_aws": {"Timestamp": 5, "CloudWatchMetrics": [{
                    "Namespace": "Ns", "Dimensions": [[]],
                    "Metrics": [{"Name": "EventsAccepted", "Unit": "Count"}],
                }]},
                "EventsAccepted": 2,
            })
        );
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
