//! Lambda entry point of `admin-thread`: the endpoints of [`api::functions::admin_thread`].

use api::functions::admin_thread::FUNCTION;
use aws_adapters::AwsWiring;

#[tokio::main]
async fn main() -> Result<(), api::lambda::Error> {
    domain::telemetry::init_logging();
    let deps = const { AwsWiring::of(FUNCTION.wiring) }.deps().await?;
    api::lambda::run(&FUNCTION, deps).await
}
