//! Lambda entry point of `admin-ratings`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_ratings::WIRING, admin_ratings::handle).await
}
