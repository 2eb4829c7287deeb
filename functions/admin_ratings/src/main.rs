//! Lambda entry point of `admin-ratings`: the endpoints of [`api::functions::admin_ratings`].

use api::functions::admin_ratings::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
