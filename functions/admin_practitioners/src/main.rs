//! Lambda entry point of `admin-practitioners`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http("admin-practitioners", admin_practitioners::handle).await
}
