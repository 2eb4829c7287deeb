//! Lambda entry point of `ingest-http`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(ingest_http::WIRING) },
        ingest_http::handle,
    )
    .await
}
