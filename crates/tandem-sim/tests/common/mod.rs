//! Shared helpers: a sandbox per test and official SDK clients pointed at it.
#![allow(dead_code)]

use aws_sdk_connect::config::{BehaviorVersion, Credentials, Region};
use tandem_sim::{Sandbox, SandboxClient, SandboxOptions};

pub async fn sandbox() -> (Sandbox, SandboxClient) {
    let sb = tandem_sim::start(SandboxOptions::default()).await.expect("sandbox starts");
    let admin = SandboxClient::new(sb.url());
    (sb, admin)
}

pub fn connect(sb: &Sandbox, region: &str) -> aws_sdk_connect::Client {
    let conf = aws_sdk_connect::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_connect::Client::from_conf(conf)
}

/// A Connect client with a short operation timeout and few retries.
pub fn connect_with(sb: &Sandbox, region: &str, attempts: u32, timeout_ms: u64) -> aws_sdk_connect::Client {
    let conf = aws_sdk_connect::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .retry_config(aws_sdk_connect::config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .timeout_config(
            aws_sdk_connect::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_millis(timeout_ms))
                .build(),
        )
        .build();
    aws_sdk_connect::Client::from_conf(conf)
}

/// The service error code of an SDK error (`ResourceNotFoundException`), or its display.
pub fn code<E, R>(err: &aws_sdk_connect::error::SdkError<E, R>) -> String
where
    E: aws_sdk_connect::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err.as_service_error().and_then(|e| e.code()) {
        Some(c) => c.to_string(),
        None => format!("{err:?}"),
    }
}

/// Creates an ACTIVE instance (zero latency) and returns (id, arn).
pub async fn instance(c: &aws_sdk_connect::Client, alias: &str) -> (String, String) {
    instance_with(c, alias, aws_sdk_connect::types::DirectoryType::ConnectManaged).await
}

/// Creates an ACTIVE SAML instance, the kind Global Resiliency replicates.
pub async fn saml_instance(c: &aws_sdk_connect::Client, alias: &str) -> (String, String) {
    instance_with(c, alias, aws_sdk_connect::types::DirectoryType::Saml).await
}

pub async fn instance_with(c: &aws_sdk_connect::Client, alias: &str, idm: aws_sdk_connect::types::DirectoryType) -> (String, String) {
    let out = c
        .create_instance()
        .identity_management_type(idm)
        .instance_alias(alias)
        .inbound_calls_enabled(true)
        .outbound_calls_enabled(true)
        .send()
        .await
        .expect("create instance");
    (out.id().unwrap().to_string(), out.arn().unwrap().to_string())
}

/// A source instance in us-east-1 replicated to us-west-2; returns (id, source arn, default group id).
pub async fn replicated(sb: &Sandbox, alias: &str) -> (String, String, String) {
    let east = connect(sb, "us-east-1");
    let (id, arn) = saml_instance(&east, alias).await;
    east.replicate_instance()
        .instance_id(&id)
        .replica_region("us-west-2")
        .replica_alias(format!("{alias}-replica"))
        .send()
        .await
        .expect("replicate");
    let groups = east.list_traffic_distribution_groups().instance_id(&id).send().await.expect("list groups");
    let default = groups.traffic_distribution_group_summary_list()[0].id().unwrap().to_string();
    (id, arn, default)
}

pub const FLOW: &str = r#"{"Version":"2019-10-30","StartAction":"d1","Actions":[{"Identifier":"d1","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}"#;

/// The project venv (`$TANDEM_VENV`, else `.venv`), made by
/// scripts/python-env.sh when it is missing.
pub fn venv() -> std::path::PathBuf {
    tandem_test::ensure_venv();
    tandem_test::venv()
}

/// Runs tests/python/NAME.py (an independent client's checks) against the
/// sandbox at `url`; it must exit 0 and print `NAME: ok`.
pub async fn python_check(name: &str, url: &str) {
    let run = tokio::process::Command::new(venv().join("bin/python"))
        .arg(tandem_test::root().join(format!("tests/python/{name}.py")))
        .env("TANDEM_SANDBOX_URL", url)
        .env_remove("AWS_PROFILE")
        .output();
    let out =
        tokio::time::timeout(std::time::Duration::from_secs(180), run).await.expect("python finishes in 3 minutes").expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}.py failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("{name}: ok")), "{stdout}");
}
