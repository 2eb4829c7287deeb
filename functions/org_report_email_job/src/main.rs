//! Lambda entry point of `org-report-email-job` (DynamoDB stream of the table, job items only).

use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init_logging();
    let deps = Arc::new(shared::deps::Deps::from_aws_env(&org_report_email_job::WIRING).await?);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| {
            let deps = deps.clone();
            async move {
                let tempdir = shared::org_reports::download::report_tempdir();
                Ok::<_, lambda_runtime::Error>(
                    org_report_email_job::handle(&deps, event.payload, &tempdir).await,
                )
            }
        },
    ))
    .await
}
