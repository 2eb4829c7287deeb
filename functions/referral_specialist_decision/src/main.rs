//! Lambda entry point of `referral-specialist-decision`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        referral_specialist_decision::WIRING,
        referral_specialist_decision::handle,
    )
    .await
}
