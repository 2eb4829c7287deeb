//! Lambda entry point of `referral-withdraw`: the endpoints of [`api::functions::referral_withdraw`].

use api::functions::referral_withdraw::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
