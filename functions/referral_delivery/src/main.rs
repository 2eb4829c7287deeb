//! Lambda entry point of `referral-delivery` (DynamoDB stream of the table, delivery markers
//! only; and a schedule).

use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    domain::telemetry::init_logging();
    let deps = Arc::new(
        const { aws_adapters::AwsWiring::of(referral_delivery::WIRING) }
            .deps()
            .await?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move {
            Ok::<_, lambda_runtime::Error>(referral_delivery::handle(&deps, event.payload).await?)
        }
    }))
    .await
}
