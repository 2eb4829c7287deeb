//! Lambda entry point of `ingest-events` (EventBridge rule target).

use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    domain::telemetry::init_logging();
    let deps = Arc::new(
        const { aws_adapters::AwsWiring::of(ingest_events::WIRING) }
            .deps()
            .await?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move {
            // Lambda's request id is on every line already (the runtime's invocation span).
            let result = ingest_events::handle(&deps, event.payload).await;
            match &result {
                Ok(status) => tracing::info!(?status, "event ingested"),
                Err(e) => tracing::error!(error = %e, "event not ingested"),
            }
            result.map_err(|e| e.to_string())
        }
    }))
    .await
}
