//! Lambda entry point of `admin-ratings`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(admin_ratings::WIRING) },
        admin_ratings::handle,
    )
    .await
}
