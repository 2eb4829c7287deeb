//! The AWS adapters of the ports (official SDK crates): [`dynamo::DynamoStore`] (DynamoDB),
//! [`s3::S3Blobs`] (S3), [`ses::SesMailer`] (SES v2), the SDK configuration they are built
//! from ([`config`]), and [`AwsWiring`], which builds a function's [`Deps`] from the Lambda
//! environment with only the clients its [`Wiring`] names; and the Lambda side of the functions
//! fed by the table's stream ([`stream`]).

pub mod config;
pub mod dynamo;
pub mod s3;
pub mod ses;
pub mod stream;

use aws_types::SdkConfig;
use domain::deps::{ConfigError, Deps, NotWired, Settings, Wiring};
use domain::ports::{BlobStore, Mailer, SystemClock};
use std::sync::Arc;

/// Builds one adapter of a port from the environment and the shared SDK configuration.
pub type FromEnv<T> = fn(&SdkConfig) -> Result<Arc<T>, ConfigError>;

/// A function's [`Wiring`] with the constructors of the adapters it names, chosen at compile
/// time: `const AWS: AwsWiring = AwsWiring::of(WIRING);` in a function's `main` references
/// only the constructors of the wired ports, so a binary without the blob store or the mailer
/// does not link the S3 or SES client.
#[derive(Debug, Clone, Copy)]
pub struct AwsWiring {
    pub wiring: Wiring,
    blobs: Option<FromEnv<dyn BlobStore>>,
    mailer: Option<FromEnv<dyn Mailer>>,
}

impl AwsWiring {
    /// The constructors of `wiring`'s ports (evaluate it in a `const`).
    pub const fn of(wiring: Wiring) -> AwsWiring {
        AwsWiring {
            wiring,
            blobs: if wiring.has_blobs() {
                Some(config::s3_blobs_from_env)
            } else {
                None
            },
            mailer: if wiring.has_mailer() {
                Some(config::ses_mailer_from_env)
            } else {
                None
            },
        }
    }

    /// The function's dependencies in AWS: DynamoDB table `TABLE_NAME`, and when wired, S3
    /// bucket `BUCKET_NAME` and SES sender `SES_FROM`, plus [`Settings::from_env`] and the
    /// region and credentials ([`config::sdk_config`]). Only the variables of the wired ports
    /// are required.
    pub async fn deps(&self) -> Result<Deps, ConfigError> {
        let settings = Settings::from_env()?;
        let config = config::sdk_config()?;
        let store = config::dynamo_store_from_env(&config)?;
        let not_wired = Arc::new(NotWired {
            function: self.wiring.name,
        });
        let blobs: Arc<dyn BlobStore> = match self.blobs {
            Some(build) => build(&config)?,
            None => not_wired.clone(),
        };
        let mailer: Arc<dyn Mailer> = match self.mailer {
            Some(build) => build(&config)?,
            None => not_wired,
        };
        Ok(Deps {
            store,
            blobs,
            mailer,
            clock: Arc::new(SystemClock),
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_wired_ports_have_constructors() {
        const STORE_ONLY: AwsWiring = AwsWiring::of(Wiring::store_only("x"));
        assert!(STORE_ONLY.blobs.is_none() && STORE_ONLY.mailer.is_none());
        const BLOBS: AwsWiring = AwsWiring::of(Wiring::store_only("x").with_blobs());
        assert!(BLOBS.blobs.is_some() && BLOBS.mailer.is_none());
        const BOTH: AwsWiring = AwsWiring::of(Wiring::store_only("x").with_blobs().with_mailer());
        assert!(BOTH.blobs.is_some() && BOTH.mailer.is_some());
        assert_eq!(BOTH.wiring.name, "x");
    }
}
