//! Lambda entry point of `referral-create`: the endpoints of [`api::functions::referral_create`].

use api::functions::referral_create::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
