//! Lambda entry point of `admin-practitioners`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_practitioners::WIRING, admin_practitioners::handle).await
}
