//! Lambda entry point of `admin-feed`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_feed::WIRING, admin_feed::handle).await
}
