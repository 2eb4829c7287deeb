//! Lambda entry point of `admin-practitioners`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(admin_practitioners::WIRING) },
        admin_practitioners::handle,
    )
    .await
}
