//! Wiring: the one [`Deps`] value every handler receives, built once per process — from the
//! environment in AWS, with the adapters the function's [`Wiring`] names (the others are
//! [`NotWired`]), from a data directory locally. Configuration fails fast: a missing variable
//! stops the function at start, never falls back silently.

use crate::ports::{BlobError, BlobStore, BlobUpload, Clock, Email, MailError, Mailer, Store};
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
    /// How long a referral may stay pending before it expires (B9), recorded on each referral
    /// when it is made.
    pub referral_expiry: chrono::Duration,
    /// The platform's response-time commitment in hours, for threads none of whose
    /// practitioners made one (A11).
    pub default_response_time_hours: u32,
}

/// The referral expiry time when a deployment names none (B9): 14 days.
pub const DEFAULT_REFERRAL_EXPIRY_DAYS: u32 = 14;

/// The longest referral expiry time a deployment may set, in days.
pub const MAX_REFERRAL_EXPIRY_DAYS: u32 = 365;

/// Reads a referral expiry time in whole days (1 to [`MAX_REFERRAL_EXPIRY_DAYS`]).
pub fn env_expiry_days(name: &'static str) -> Result<chrono::Duration, ConfigError> {
    match env_required(name)?.parse::<u32>() {
        Ok(days) if (1..=MAX_REFERRAL_EXPIRY_DAYS).contains(&days) => {
            Ok(chrono::Duration::days(i64::from(days)))
        }
        _ => Err(ConfigError::NotDays(name)),
    }
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
    #[error("environment variable {0} must be a whole number of days from 1 to 365")]
    NotDays(&'static str),
    #[error("environment variable {0} must be a whole number of hours from 1 to 720")]
    NotHours(&'static str),
}

/// Reads a required environment variable.
pub fn env_required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// Reads a required response time in whole hours (1 to 720, as a practitioner's commitment).
pub fn env_hours(name: &'static str) -> Result<u32, ConfigError> {
    use crate::events::catalogue::{MAX_RESPONSE_TIME_HOURS, MIN_RESPONSE_TIME_HOURS};
    env_required(name)?
        .parse::<u32>()
        .ok()
        .filter(|h| (MIN_RESPONSE_TIME_HOURS..=MAX_RESPONSE_TIME_HOURS).contains(h))
        .ok_or(ConfigError::NotHours(name))
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
    /// Settings from `PLATFORM_BASE_URL`, `REFERRAL_PATIENT_APPROVAL`, `REFERRAL_BOOKING_PROMPT`,
    /// `REFERRAL_EXPIRY_DAYS`, `DEFAULT_RESPONSE_TIME_HOURS`.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Ok(Settings {
            platform_base_url: env_required("PLATFORM_BASE_URL")?,
            referral_patient_approval: env_bool("REFERRAL_PATIENT_APPROVAL")?,
            referral_booking_prompt: env_bool("REFERRAL_BOOKING_PROMPT")?,
            referral_expiry: env_expiry_days("REFERRAL_EXPIRY_DAYS")?,
            default_response_time_hours: env_hours("DEFAULT_RESPONSE_TIME_HOURS")?,
        })
    }
}

/// Which ports a function is built with, besides the store every function has.
///
/// Every function crate declares `pub const WIRING: Wiring` in its `lib.rs`. In AWS its `main`
/// turns that constant into the adapters' constructors at compile time
/// (`aws_adapters::AwsWiring::of`): a port left out is not a runtime switch, the constructor
/// of its adapter is never referenced, so the binary does not link its SDK client at all (a
/// function that needs neither the S3 nor the SES client is about half the size). Every
/// function has the store (DynamoDB); the blob store (S3) goes to the functions that export,
/// download or presign report files, the mailer (SES) to the emailed-report job.
/// `tests/wiring.rs` holds each function's wiring to its routes and to the permissions
/// `template.yaml` grants it.
///
/// A port left out is answered by [`NotWired`]: every call fails with an error that names the
/// port and the function (`BlobError::NotWired`, `MailError::NotWired`), logged as a server
/// error, never a silent fake. The local server applies the same wiring to each function
/// ([`Deps::wired_as`]), so a missing port shows in local runs and tests too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wiring {
    /// The function's name (`admin-feed`), for logs and the not-wired errors.
    pub name: &'static str,
    blobs: bool,
    mailer: bool,
}

impl Wiring {
    /// The store only (DynamoDB); no blob store, no mailer.
    pub const fn store_only(name: &'static str) -> Wiring {
        Wiring {
            name,
            blobs: false,
            mailer: false,
        }
    }

    /// Adds the blob store (S3 bucket `BUCKET_NAME` in AWS).
    pub const fn with_blobs(self) -> Wiring {
        Wiring {
            blobs: true,
            ..self
        }
    }

    /// Adds the mailer (SES v2, sender `SES_FROM` in AWS).
    pub const fn with_mailer(self) -> Wiring {
        Wiring {
            mailer: true,
            ..self
        }
    }

    pub const fn has_blobs(&self) -> bool {
        self.blobs
    }

    pub const fn has_mailer(&self) -> bool {
        self.mailer
    }
}

/// The adapter of a port a function's [`Wiring`] leaves out: every call answers
/// `NotWired(function)`, which the handlers report as a server error (500) and log. It never
/// pretends to store or send anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotWired {
    /// The function that was built without the port.
    pub function: &'static str,
}

#[async_trait::async_trait]
impl BlobStore for NotWired {
    async fn put(&self, _: &str, _: bytes::Bytes, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotWired(self.function))
    }
    async fn get(&self, _: &str) -> Result<bytes::Bytes, BlobError> {
        Err(BlobError::NotWired(self.function))
    }
    async fn start_upload(&self, _: &str, _: &str) -> Result<Box<dyn BlobUpload>, BlobError> {
        Err(BlobError::NotWired(self.function))
    }
    async fn presign_get(
        &self,
        _: &str,
        _: std::time::Duration,
        _: &str,
    ) -> Result<String, BlobError> {
        Err(BlobError::NotWired(self.function))
    }
    async fn delete(&self, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotWired(self.function))
    }
    async fn incomplete_uploads(&self) -> Result<Vec<String>, BlobError> {
        Err(BlobError::NotWired(self.function))
    }
}

#[async_trait::async_trait]
impl Mailer for NotWired {
    async fn send(&self, _: &Email) -> Result<String, MailError> {
        Err(MailError::NotWired(self.function))
    }
}

impl Deps {
    /// These dependencies as `wiring`'s function gets them in AWS: the ports it leaves out
    /// are replaced by [`NotWired`]. The local server runs each function through this.
    pub fn wired_as(&self, wiring: &Wiring) -> Deps {
        let not_wired = Arc::new(NotWired {
            function: wiring.name,
        });
        Deps {
            store: self.store.clone(),
            blobs: if wiring.has_blobs() {
                self.blobs.clone()
            } else {
                not_wired.clone()
            },
            mailer: if wiring.has_mailer() {
                self.mailer.clone()
            } else {
                not_wired
            },
            clock: self.clock.clone(),
            settings: self.settings.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ports_left_out_answer_an_error_naming_the_function() {
        let nw = NotWired {
            function: "referral-get",
        };
        assert_eq!(
            BlobStore::get(&nw, "a/b").await,
            Err(BlobError::NotWired("referral-get"))
        );
        let err = nw
            .presign_get("a/b", std::time::Duration::from_secs(60), "f.csv")
            .await
            .expect_err("not wired");
        assert_eq!(
            err.to_string(),
            "no blob store is wired into function referral-get"
        );
        assert!(nw.start_upload("a/b", "text/csv").await.is_err());
        let email = Email {
            to: "a@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
        };
        let err = nw.send(&email).await.expect_err("not wired");
        assert_eq!(err, MailError::NotWired("referral-get"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn wiring_adds_only_the_ports_asked_for() {
        const W: Wiring = Wiring::store_only("x");
        assert!(!W.has_blobs() && !W.has_mailer());
        assert!(W.with_blobs().has_blobs() && !W.with_blobs().has_mailer());
        let both = W.with_blobs().with_mailer();
        assert!(both.has_blobs() && both.has_mailer());
        assert_eq!(both.name, "x");
    }
}
