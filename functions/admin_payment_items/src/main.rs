//! Lambda entry point of `admin-payment-items`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_payment_items::WIRING, admin_payment_items::handle).await
}
