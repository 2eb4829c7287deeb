//! Lambda entry point of `referral-patient-decision`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    aws_adapters::lambda::run_http(
        referral_patient_decision::WIRING,
        referral_patient_decision::handle,
    )
    .await
}
