//! Lambda entry point of `admin-payments`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_payments::WIRING, admin_payments::handle).await
}
