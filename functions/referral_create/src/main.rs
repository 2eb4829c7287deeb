//! Lambda entry point of `referral-create`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(referral_create::WIRING) },
        referral_create::handle,
    )
    .await
}
