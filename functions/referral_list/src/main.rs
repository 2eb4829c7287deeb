//! Lambda entry point of `referral-list`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(referral_list::WIRING) },
        referral_list::handle,
    )
    .await
}
