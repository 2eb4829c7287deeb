//! Lambda entry point of `admin-payment-items`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(admin_payment_items::WIRING) },
        admin_payment_items::handle,
    )
    .await
}
