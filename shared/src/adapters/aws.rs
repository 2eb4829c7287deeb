//! Builds the AWS adapters and the SDK clients they run on (DynamoDB, S3, SES v2): from the
//! environment in Lambda, one constructor per adapter so that a function links only the
//! clients its wiring names, or pointed at a local emulator (moto) in tests.

use crate::adapters::{dynamo::DynamoStore, s3::S3Blobs, ses::SesMailer};
use crate::deps::{env_required, ConfigError};
use crate::ports::{BlobStore, Mailer, Store};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use std::sync::Arc;

/// The three SDK clients of the AWS adapters, for tests and local tooling (`clients_for_endpoint`).
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_sesv2::Client,
}

/// The shared SDK configuration from the environment: region, credentials, and the endpoint
/// override `AWS_ENDPOINT_URL` that the SDK honours by itself.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

// The three constructors below are what a function's `Wiring` (crate::deps) names: a binary
// links the SDK client of a constructor only when its wiring refers to it.

/// The DynamoDB store on table `TABLE_NAME`.
pub fn dynamo_store_from_env(config: &SdkConfig) -> Result<Arc<dyn Store>, ConfigError> {
    let table = env_required("TABLE_NAME")?;
    Ok(Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(config),
        table,
    )))
}

/// The S3 blob store on bucket `BUCKET_NAME`. When an endpoint is overridden, S3 uses
/// path-style addressing, as emulators need.
pub fn s3_blobs_from_env(config: &SdkConfig) -> Result<Arc<dyn BlobStore>, ConfigError> {
    let bucket = env_required("BUCKET_NAME")?;
    let overridden = config.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(overridden)
        .build();
    Ok(Arc::new(S3Blobs::new(
        aws_sdk_s3::Client::from_conf(s3),
        bucket,
    )))
}

/// The SES v2 mailer sending from `SES_FROM`.
pub fn ses_mailer_from_env(config: &SdkConfig) -> Result<Arc<dyn Mailer>, ConfigError> {
    let from = env_required("SES_FROM")?;
    Ok(Arc::new(SesMailer::new(
        aws_sdk_sesv2::Client::new(config),
        from,
    )))
}

/// Clients for an emulator at `endpoint` (e.g. `http://127.0.0.1:5000`): static test
/// credentials, region `us-east-1`, S3 path-style. For tests and the local tooling.
pub fn clients_for_endpoint(endpoint: &str) -> AwsClients {
    let credentials = Credentials::new("testing", "testing", None, None, "static-test");
    let region = Region::new("us-east-1");
    let dynamodb = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.clone())
        .credentials_provider(credentials.clone())
        .endpoint_url(endpoint)
        .build();
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.clone())
        .credentials_provider(credentials.clone())
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    let ses = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .build();
    AwsClients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
        s3: aws_sdk_s3::Client::from_conf(s3),
        ses: aws_sdk_sesv2::Client::from_conf(ses),
    }
}
