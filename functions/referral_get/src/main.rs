//! Lambda entry point of `referral-get`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(referral_get::WIRING) },
        referral_get::handle,
    )
    .await
}
