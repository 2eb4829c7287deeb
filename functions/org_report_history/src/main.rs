//! Lambda entry point of `org-report-history`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(org_report_history::WIRING, org_report_history::handle).await
}
