//! Lambda entry point of `referral-specialists`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(referral_specialists::WIRING, referral_specialists::handle).await
}
