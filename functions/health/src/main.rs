//! Lambda entry point of `health`: the endpoints of [`api::functions::health`].

use api::functions::health::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
