//! Builds the AWS SDK clients the AWS adapters run on (DynamoDB, S3, SES v2): from the
//! environment in Lambda, or pointed at a local emulator (moto) in tests.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

/// The three SDK clients of the AWS adapters.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_sesv2::Client,
}

/// Clients configured from the environment (region, credentials, and the endpoint override
/// `AWS_ENDPOINT_URL` that the SDK honours by itself). When an endpoint is overridden, S3
/// uses path-style addressing, as emulators need.
pub async fn aws_clients() -> AwsClients {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let overridden = config.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(overridden)
        .build();
    AwsClients {
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        s3: aws_sdk_s3::Client::from_conf(s3),
        ses: aws_sdk_sesv2::Client::new(&config),
    }
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
