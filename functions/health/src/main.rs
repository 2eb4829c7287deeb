//! Lambda entry point of `health`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(health::WIRING) },
        health::handle,
    )
    .await
}
