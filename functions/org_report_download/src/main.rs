//! Lambda entry point of `org-report-download`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        const { aws_adapters::AwsWiring::of(org_report_download::WIRING) },
        org_report_download::handle,
    )
    .await
}
