//! The failover controller's runtime: the calls around the pure core
//! (`tandem-failover`).
//!
//! The controller talks to the world through three traits, so it runs the
//! same against AWS, the sandbox, or scripted fakes in tests:
//!
//! - [`HealthProbe`]: one region's health check ([`ConnectProbe`]:
//!   `DescribeInstance` + an [`AlarmSource`]) -> [`tandem_failover::Probe`];
//! - [`Actuator`]: reads and sets the traffic distribution group
//!   ([`ConnectActuator`]: `GetTrafficDistribution` / `UpdateTrafficDistribution`,
//!   telephony AND agents, the group always addressed by ARN, own region first);
//! - [`RecordStore`]: the shared [`tandem_failover::DecisionRecord`]
//!   ([`DynamoRecordStore`]: one DynamoDB item written with a conditional `PutItem`).
//!
//! Around them: [`controller`] (one pass: probe, observe, decide, act; the
//! `watch` loop with backoff on failed passes), [`report`] (what a pass did,
//! and [`PassObserver`]s that see it, such as the CloudWatch [`metrics`]),
//! [`settings`] (the controller's resources read from an applied state, and
//! its assembly, shared by the CLI and the Lambda function), [`drill`] and
//! [`deployed`] (inject an outage, measure failover and recovery).

pub mod actuator;
pub mod backoff;
pub mod controller;
pub mod deployed;
pub mod drill;
pub mod metrics;
pub mod probe;
pub mod record_store;
pub mod report;
pub mod settings;

pub use actuator::{Actuator, ConnectActuator};
pub use backoff::Backoff;
pub use controller::{Controller, ControllerConfig, ForcedDown, Parts};
pub use deployed::{run_deployed_drill, AgentStateProbe, AlarmInjector};
pub use drill::{run_drill, DrillOptions, DrillPhase, DrillReport, FaultInjector, ForcedHealth};
pub use probe::{AlarmSource, CloudWatchAlarms, ConnectProbe, DeclaredAlarm, HealthProbe, NoAlarms};
pub use record_store::{DynamoRecordStore, RecordStore, WriteOutcome};
pub use report::{health_text, Action, PassObserver, PassReport};
pub use settings::{assemble, Deployment, Overrides};

use std::time::Duration;

/// What went wrong in a runtime call, with the operation and region named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("{operation} in {region} failed: {message}")]
    Aws { operation: &'static str, region: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, RuntimeError>;

/// The error code and message of an SDK error (`InternalServiceException: ...`).
pub(crate) fn sdk_message<E, R>(err: &aws_sdk_connect::error::SdkError<E, R>) -> String
where
    E: aws_sdk_connect::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => format!("{}: {}", e.code().unwrap_or("error"), e.message().unwrap_or("no message")),
        None => {
            let mut msg = err.to_string();
            let mut src = std::error::Error::source(err);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            msg
        }
    }
}

/// How the runtime builds its SDK clients: the standard chain (env,
/// profiles, SSO, IMDS; `AWS_ENDPOINT_URL`) with a bounded time per call and
/// few, fast retries (a controller must not hang on a dead region).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per-attempt timeout of every call.
    pub api_timeout: Duration,
    /// Attempts per call (1 = no retry).
    pub max_attempts: u32,
    /// An explicit endpoint (a local sandbox); `None` = the environment's.
    pub endpoint_url: Option<String>,
    /// Static credentials (access key id, secret) instead of the chain (sandboxes).
    pub static_credentials: Option<(String, String)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions { api_timeout: Duration::from_secs(5), max_attempts: 2, endpoint_url: None, static_credentials: None }
    }
}

impl ClientOptions {
    /// The shared SDK configuration for `region`.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(self.max_attempts.max(1))
                    .with_initial_backoff(Duration::from_millis(50)),
            )
            .timeout_config(aws_config::timeout::TimeoutConfig::builder().operation_attempt_timeout(self.api_timeout).build());
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((id, secret)) = &self.static_credentials {
            loader = loader.credentials_provider(aws_sdk_connect::config::Credentials::new(
                id.clone(),
                secret.clone(),
                None,
                None,
                "tandem-static",
            ));
        }
        loader.load().await
    }

    pub async fn connect(&self, region: &str) -> aws_sdk_connect::Client {
        aws_sdk_connect::Client::new(&self.sdk_config(region).await)
    }

    pub async fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config(region).await)
    }

    pub async fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config(region).await)
    }

    pub async fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        aws_sdk_kinesis::Client::new(&self.sdk_config(region).await)
    }
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
