//! Lambda entry point of `health`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(health::WIRING, health::handle).await
}
