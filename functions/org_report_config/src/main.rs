//! Lambda entry point of `org-report-config`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(org_report_config::WIRING) },
        org_report_config::handle,
    )
    .await
}
