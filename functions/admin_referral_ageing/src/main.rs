//! Lambda entry point of `admin-referral-ageing`: the endpoints of [`api::functions::admin_referral_ageing`].

use api::functions::admin_referral_ageing::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
