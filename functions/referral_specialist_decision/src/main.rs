//! Lambda entry point of `referral-specialist-decision`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(
        "referral-specialist-decision",
        referral_specialist_decision::handle,
    )
    .await
}
