//! Lambda entry point of `admin-thread`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(admin_thread::WIRING) },
        admin_thread::handle,
    )
    .await
}
