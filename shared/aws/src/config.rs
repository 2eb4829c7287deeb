//! Builds the AWS adapters and the SDK clients they run on (DynamoDB, S3, SES v2): from the
//! environment in Lambda, one constructor per adapter so that a function links only the
//! clients its wiring names, or pointed at a local emulator (moto) in tests.

use crate::{dynamo::DynamoStore, s3::S3Blobs, ses::SesMailer};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::BehaviorVersion;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_types::region::Region;
use aws_types::sdk_config::SharedHttpClient;
use aws_types::SdkConfig;
use domain::deps::{env_required, ConfigError};
use domain::ports::{BlobStore, Mailer, Store};
use std::sync::Arc;

/// The three SDK clients of the AWS adapters, for tests and local tooling (`clients_for_endpoint`).
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_sesv2::Client,
}

/// The shared SDK configuration from the process environment; see [`sdk_config_from`].
pub fn sdk_config() -> Result<SdkConfig, ConfigError> {
    sdk_config_from(|name| std::env::var(name).ok())
}

/// The shared SDK configuration from the variables `env` answers (empty counts as unset):
///
/// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION` (Lambda sets both);
/// - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, when present,
///   `AWS_SESSION_TOKEN` (Lambda sets the execution role's temporary credentials there);
/// - endpoint override: `AWS_ENDPOINT_URL` for every client; the per-service overrides
///   (`AWS_ENDPOINT_URL_DYNAMODB`, `_S3`, `_SESV2`) are applied by each constructor below.
///
/// A missing region or key is a [`ConfigError`] naming the variable, so the function stops at
/// start instead of failing on its first request.
///
/// Why not `aws_config::defaults(..).load()`: that chain also reads profile files and asks
/// IMDS, the ECS endpoint and STS (web identity, SSO), none of which a Lambda uses, and it
/// links all of that plus the STS client into every binary (SPEC Q4, binary size). What it
/// did here is what this function does, plus the default retry (standard, 3 attempts),
/// timeouts and stalled-stream protection, which the clients apply by themselves for
/// `BehaviorVersion::latest()`.
pub fn sdk_config_from(
    env: impl Fn(&'static str) -> Option<String>,
) -> Result<SdkConfig, ConfigError> {
    let var = |name: &'static str| env(name).filter(|v| !v.is_empty());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or(ConfigError::Missing("AWS_REGION"))?;
    let key = var("AWS_ACCESS_KEY_ID").ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?;
    let secret =
        var("AWS_SECRET_ACCESS_KEY").ok_or(ConfigError::Missing("AWS_SECRET_ACCESS_KEY"))?;
    let credentials = Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "environment");
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client());
    config.set_endpoint_url(var("AWS_ENDPOINT_URL"));
    Ok(config.build())
}

/// The HTTP client of every SDK client here: the SDK's own default client (hyper, rustls,
/// the platform's root certificates, proxy settings from `HTTPS_PROXY`/`NO_PROXY`), built as
/// aws-smithy-runtime builds it for `default-https-client`, but with rustls on ring instead of
/// aws-lc-rs (root Cargo.toml: size). Certificates load when the first client uses it.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// A client's endpoint override: the service's own variable `name` (e.g.
/// `AWS_ENDPOINT_URL_S3`) when set, which wins over `AWS_ENDPOINT_URL` (in `config`), as in
/// the SDK's environment loader; `None` for the service's AWS endpoint.
fn endpoint(config: &SdkConfig, name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| config.endpoint_url().map(String::from))
}

// The three constructors below are what a function's `Wiring` (domain::deps) names: a binary
// links the SDK client of a constructor only when its wiring refers to it.

/// The DynamoDB store on table `TABLE_NAME` (endpoint override: `AWS_ENDPOINT_URL_DYNAMODB`,
/// else `AWS_ENDPOINT_URL`).
pub fn dynamo_store_from_env(config: &SdkConfig) -> Result<Arc<dyn Store>, ConfigError> {
    let table = env_required("TABLE_NAME")?;
    let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(config);
    dynamodb.set_endpoint_url(endpoint(config, "AWS_ENDPOINT_URL_DYNAMODB"));
    Ok(Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
        table,
    )))
}

/// The S3 blob store on bucket `BUCKET_NAME`. When an endpoint is overridden
/// (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`), S3 uses path-style addressing, as emulators
/// need.
pub fn s3_blobs_from_env(config: &SdkConfig) -> Result<Arc<dyn BlobStore>, ConfigError> {
    let bucket = env_required("BUCKET_NAME")?;
    let endpoint = endpoint(config, "AWS_ENDPOINT_URL_S3");
    let mut s3 = aws_sdk_s3::config::Builder::from(config).force_path_style(endpoint.is_some());
    s3.set_endpoint_url(endpoint);
    let s3 = s3.build();
    Ok(Arc::new(S3Blobs::new(
        aws_sdk_s3::Client::from_conf(s3),
        bucket,
    )))
}

/// The SES v2 mailer sending from `SES_FROM` (endpoint override: `AWS_ENDPOINT_URL_SESV2`, else
/// `AWS_ENDPOINT_URL`).
pub fn ses_mailer_from_env(config: &SdkConfig) -> Result<Arc<dyn Mailer>, ConfigError> {
    let from = env_required("SES_FROM")?;
    let mut ses = aws_sdk_sesv2::config::Builder::from(config);
    ses.set_endpoint_url(endpoint(config, "AWS_ENDPOINT_URL_SESV2"));
    Ok(Arc::new(SesMailer::new(
        aws_sdk_sesv2::Client::from_conf(ses.build()),
        from,
    )))
}

/// Clients for an emulator at `endpoint` (e.g. `http://127.0.0.1:5000`): static test
/// credentials, region `us-east-1`, S3 path-style. For tests and the local tooling.
pub fn clients_for_endpoint(endpoint: &str) -> AwsClients {
    let credentials = Credentials::new("testing", "testing", None, None, "static-test");
    let region = Region::new("us-east-1");
    let http = https_client();
    let dynamodb = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http.clone())
        .region(region.clone())
        .credentials_provider(credentials.clone())
        .endpoint_url(endpoint)
        .build();
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http.clone())
        .region(region.clone())
        .credentials_provider(credentials.clone())
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    let ses = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http.clone())
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::ProvideCredentials;
    use std::collections::HashMap;

    fn from(vars: &[(&'static str, &str)]) -> Result<SdkConfig, ConfigError> {
        let vars: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        sdk_config_from(|name| vars.get(name).cloned())
    }

    const LAMBDA: [(&str, &str); 5] = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    #[tokio::test]
    async fn lambda_environment_gives_region_and_the_role_credentials() {
        let config = from(&LAMBDA).expect("complete environment");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), None);
        assert!(config.http_client().is_some());
        let credentials = config
            .credentials_provider()
            .expect("credentials provider")
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn default_region_and_no_session_token_are_accepted_and_the_endpoint_is_honoured() {
        let config = from(&[
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_REGION", ""),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ])
        .expect("complete environment");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
    }

    #[test]
    fn a_missing_region_or_key_is_named() {
        for (left_out, named) in [
            (&["AWS_REGION", "AWS_DEFAULT_REGION"][..], "AWS_REGION"),
            (&["AWS_ACCESS_KEY_ID"][..], "AWS_ACCESS_KEY_ID"),
            (&["AWS_SECRET_ACCESS_KEY"][..], "AWS_SECRET_ACCESS_KEY"),
        ] {
            let vars: Vec<_> = LAMBDA
                .iter()
                .copied()
                .filter(|(k, _)| !left_out.contains(k))
                .collect();
            assert_eq!(from(&vars).err(), Some(ConfigError::Missing(named)));
            // Empty counts as unset.
            let empty: Vec<_> = LAMBDA
                .iter()
                .map(|&(k, v)| (k, if left_out.contains(&k) { "" } else { v }))
                .collect();
            assert_eq!(from(&empty).err(), Some(ConfigError::Missing(named)));
        }
    }
}
