//! Lambda entry point of `org-report-summary`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(org_report_summary::WIRING, org_report_summary::handle).await
}
