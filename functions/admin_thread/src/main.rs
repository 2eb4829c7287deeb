//! Lambda entry point of `admin-thread`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_thread::WIRING, admin_thread::handle).await
}
