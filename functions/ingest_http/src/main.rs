//! Lambda entry point of `ingest-http`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(ingest_http::WIRING, ingest_http::handle).await
}
