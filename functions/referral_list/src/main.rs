//! Lambda entry point of `referral-list`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(referral_list::WIRING, referral_list::handle).await
}
