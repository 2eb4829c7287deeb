//! Lambda entry point of `admin-payments`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(admin_payments::WIRING) },
        admin_payments::handle,
    )
    .await
}
