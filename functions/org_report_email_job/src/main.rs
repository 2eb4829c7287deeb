//! Lambda entry point of `org-report-email-job` (DynamoDB stream of the table, job items only;
//! and a schedule).

use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    domain::telemetry::init_logging();
    let deps = Arc::new(
        const { aws_adapters::AwsWiring::of(org_report_email_job::WIRING) }
            .deps()
            .await?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move {
            let tempdir = domain::org_reports::download::report_tempdir();
            Ok::<_, lambda_runtime::Error>(
                org_report_email_job::handle(&deps, event.payload, &tempdir).await?,
            )
        }
    }))
    .await
}
