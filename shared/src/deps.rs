//! Wiring: the one [`Deps`] value every handler receives, built once per process — from the
//! environment in AWS, from a data directory locally. Configuration fails fast: a missing
//! variable stops the function at start, never falls back silently.

use crate::ports::{BlobStore, Clock, Mailer, Store};
use std::sync::Arc;

/// Per-deployment settings (SPEC B2 and the links in emails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Base URL of the platform's web app, for links back to it (history page).
    pub platform_base_url: String,
    /// Referrals wait for the patient's approval before reaching the specialist (B2, B3).
    pub referral_patient_approval: bool,
    /// Accepted referrals show a booking prompt when the specialist has a practice (B2, B6).
    pub referral_booking_prompt: bool,
}

/// Everything a handler may reach.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} must be `true` or `false`")]
    NotBool(&'static str),
}

/// Reads a required environment variable.
pub fn env_required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// Reads a required `true`/`false` environment variable.
pub fn env_bool(name: &'static str) -> Result<bool, ConfigError> {
    match env_required(name)?.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::NotBool(name)),
    }
}

impl Settings {
    /// Settings from `PLATFORM_BASE_URL`, `REFERRAL_PATIENT_APPROVAL`, `REFERRAL_BOOKING_PROMPT`.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Ok(Settings {
            platform_base_url: env_required("PLATFORM_BASE_URL")?,
            referral_patient_approval: env_bool("REFERRAL_PATIENT_APPROVAL")?,
            referral_booking_prompt: env_bool("REFERRAL_BOOKING_PROMPT")?,
        })
    }
}

impl Deps {
    /// The AWS wiring: DynamoDB table `TABLE_NAME`, S3 bucket `BUCKET_NAME`, SES sender
    /// `SES_FROM`, plus [`Settings::from_env`].
    pub async fn from_aws_env() -> Result<Deps, ConfigError> {
        use crate::adapters::{dynamo::DynamoStore, s3::S3Blobs, ses::SesMailer};
        let table = env_required("TABLE_NAME")?;
        let bucket = env_required("BUCKET_NAME")?;
        let from = env_required("SES_FROM")?;
        let settings = Settings::from_env()?;
        let clients = crate::adapters::aws::aws_clients().await;
        Ok(Deps {
            store: Arc::new(DynamoStore::new(clients.dynamodb, table)),
            blobs: Arc::new(S3Blobs::new(clients.s3, bucket)),
            mailer: Arc::new(SesMailer::new(clients.ses, from)),
            clock: Arc::new(crate::ports::SystemClock),
            settings,
        })
    }
}
