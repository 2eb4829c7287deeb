//! Lambda entry point of `admin-consultations`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(admin_consultations::WIRING, admin_consultations::handle).await
}
