//! Lambda entry point of `admin-calls`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_calls::WIRING, admin_calls::handle).await
}
