//! Lambda entry point of `org-report-email`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::lambda::run_http(org_report_email::WIRING, org_report_email::handle).await
}
