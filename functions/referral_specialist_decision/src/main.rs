//! Lambda entry point of `referral-specialist-decision`: the endpoints of [`api::functions::referral_specialist_decision`].

use api::functions::referral_specialist_decision::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
