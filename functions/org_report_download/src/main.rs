//! Lambda entry point of `org-report-download`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(org_report_download::WIRING, org_report_download::handle).await
}
