//! Lambda entry point of `referral-get`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(referral_get::WIRING, referral_get::handle).await
}
