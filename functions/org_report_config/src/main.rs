//! Lambda entry point of `org-report-config`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(org_report_config::WIRING, org_report_config::handle).await
}
