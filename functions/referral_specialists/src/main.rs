//! Lambda entry point of `referral-specialists`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(referral_specialists::WIRING) },
        referral_specialists::handle,
    )
    .await
}
