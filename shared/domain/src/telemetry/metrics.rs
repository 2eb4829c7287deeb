//! Metrics as CloudWatch Embedded Metric Format documents: one JSON line each, written through
//! the log pipeline under [`METRICS_TARGET`] at every level setting.

use super::{DEFAULT_METRICS_NAMESPACE, METRICS_TARGET};
use serde_json::Value;
use std::sync::OnceLock;

/// The unit of a metric, as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
        }
    }
}

/// One value of a metric document.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub value: Value,
}

impl Metric {
    pub fn count(name: &'static str, n: u64) -> Metric {
        Metric {
            name,
            unit: Unit::Count,
            value: Value::from(n),
        }
    }

    pub fn bytes(name: &'static str, n: u64) -> Metric {
        Metric {
            name,
            unit: Unit::Bytes,
            value: Value::from(n),
        }
    }

    /// A duration in whole milliseconds.
    pub fn millis(name: &'static str, d: std::time::Duration) -> Metric {
        Metric {
            name,
            unit: Unit::Milliseconds,
            value: Value::from(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

/// The CloudWatch namespace of every metric: `METRICS_NAMESPACE`, or
/// [`DEFAULT_METRICS_NAMESPACE`] when it is unset or empty.
pub fn metrics_namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("METRICS_NAMESPACE")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_string())
    })
}

/// Writes `metrics` with `dimensions` as one Embedded Metric Format document (see
/// [`metric_document_json`]). Written at any level setting: metrics do not depend on how much
/// is logged, and the document has no `level` for Lambda's log-level filter to drop it by.
///
/// A document of its own per measurement rather than the `metrics` facade with a recorder
/// flushed per invocation (`metrics_cloudwatch_embedded`): the local server has no
/// invocation to flush at, a document per request, export, job or batch is what CloudWatch
/// aggregates anyway, and the documents go through the log pipeline, so a test captures them
/// with the lines.
pub fn emit_metrics(dimensions: &[(&'static str, &str)], metrics: &[Metric]) {
    let timestamp = chrono::Utc::now().timestamp_millis();
    let document = metric_document_json(metrics_namespace(), timestamp, dimensions, metrics);
    tracing::info!(target: METRICS_TARGET, emf = document.as_str());
}

/// The metrics of one export: `RowsExported` and `BytesExported` by `channel` (`admin_csv`,
/// `report_download`, `report_email`) and `export` (the tab or the report type).
pub fn exported(channel: &'static str, export: &str, rows: u64, bytes: u64) {
    emit_metrics(
        &[("channel", channel), ("export", export)],
        &[
            Metric::count("RowsExported", rows),
            Metric::bytes("BytesExported", bytes),
        ],
    );
}

/// The metric of one finished job run: `JobDuration` by `job` and `outcome`.
pub fn job_finished(job: &'static str, outcome: &'static str, took: std::time::Duration) {
    emit_metrics(
        &[("job", job), ("outcome", outcome)],
        &[Metric::millis("JobDuration", took)],
    );
}

/// The metrics of one ingested batch: `EventsAccepted`, `EventsRefused`, `EventsDuplicate`,
/// without dimensions (HTTP and EventBridge ingest alike).
pub fn ingested(accepted: u64, refused: u64, duplicate: u64) {
    emit_metrics(
        &[],
        &[
            Metric::count("EventsAccepted", accepted),
            Metric::count("EventsRefused", refused),
            Metric::count("EventsDuplicate", duplicate),
        ],
    );
}

/// The Embedded Metric Format document: `_aws` (`Timestamp` in milliseconds since the epoch,
/// one `CloudWatchMetrics` directive: `Namespace`, one dimension set of `dimensions`' names,
/// each metric's `Name` and `Unit`), then each dimension's and each metric's value as a member
/// of the root. With no dimensions the set is empty (`[[]]`): the metrics are published
/// without dimensions.
pub fn metric_document_json(
    namespace: &str,
    timestamp_ms: i64,
    dimensions: &[(&'static str, &str)],
    metrics: &[Metric],
) -> String {
    let mut root = serde_json::Map::new();
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimensions.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
                "Metrics": metrics
                    .iter()
                    .map(|m| serde_json::json!({"Name": m.name, "Unit": m.unit.as_str()}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in dimensions {
        root.insert((*name).to_string(), Value::String((*value).to_string()));
    }
    for m in metrics {
        root.insert(m.name.to_string(), m.value.clone());
    }
    Value::Object(root).to_string()
}
