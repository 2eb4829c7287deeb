//! Lambda entry point of `referral-create`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(referral_create::WIRING, referral_create::handle).await
}
