//! Lambda entry point of `admin-payments`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http("admin-payments", admin_payments::handle).await
}
