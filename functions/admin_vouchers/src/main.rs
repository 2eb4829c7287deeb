//! Lambda entry point of `admin-vouchers`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_vouchers::WIRING, admin_vouchers::handle).await
}
