//! Lambda entry point of `admin-vouchers`: the endpoints of [`api::functions::admin_vouchers`].

use api::functions::admin_vouchers::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
