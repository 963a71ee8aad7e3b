//! AWS resource kinds for tandem, on the official SDK crates.
//!
//! One module per resource kind; each is a [`tandem_provider::ResourceKind`]
//! that knows its API and nothing of the graph. Clients come from one
//! [`AwsContext`] per process: the standard credential chain and endpoint
//! variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), one loaded
//! configuration per region.

/// One line per kind: declares the kind's module and registers the kind, so
/// adding a kind to a service touches the kind's file, this one line in the
/// service's list, and the kind's test (docs/engine.md, "Adding a kind").
/// `module => Type`, where `Type::new(Arc<AwsContext>)` makes the kind.
macro_rules! kinds {
    ($fn_vis:vis fn $list:ident; $($vis:vis $module:ident => $kind:ty),* $(,)?) => {
        $($vis mod $module;)*

        /// The kinds of this list, each with the shared client factory.
        $fn_vis fn $list(aws: std::sync::Arc<crate::AwsContext>) -> Vec<std::sync::Arc<dyn tandem_provider::ResourceKind>> {
            vec![$(std::sync::Arc::new(<$kind>::new(aws.clone()))),*]
        }
    };
}

mod cloudwatch;
mod connect;
mod ec2_batch;
mod error;
mod network;
mod tags;

kinds! {
    fn core_kinds;
    ec2_vpc => ec2_vpc::Vpc,
    ec2_subnet => ec2_subnet::Subnet,
    kinesis_stream => kinesis_stream::Stream,
    dynamodb_table => dynamodb_table::Table,
    dynamodb_global_table => dynamodb_global_table::GlobalTable,
    iam_role => iam_role::Role,
    lambda_function => lambda_function::Function,
    lambda_permission => lambda_permission::Permission,
    lambda_event_source_mapping => lambda_event_source_mapping::EventSourceMapping,
    events_rule => events_rule::Rule,
}

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::Credentials;
use std::collections::HashMap;
use std::sync::Arc;
use tandem_provider::{Registry, ResourceKind};
use tokio::sync::Mutex;

pub use connect::replica::allowed_replica_pair;
pub use error::classify;

/// Loaded AWS configurations, one per region, shared by every kind.
#[derive(Default)]
pub struct AwsContext {
    configs: Mutex<HashMap<String, SdkConfig>>,
    endpoint: Option<String>,
    credentials: Option<Credentials>,
}

impl AwsContext {
    /// Configuration from the environment: credentials chain, profiles, endpoint variables.
    pub fn from_env() -> Self {
        AwsContext::default()
    }

    /// Every client talks to `url` (a local sandbox), whatever the environment says.
    pub fn with_endpoint(url: impl Into<String>) -> Self {
        AwsContext { configs: Mutex::default(), endpoint: Some(url.into()), credentials: None }
    }

    /// Use these static credentials instead of the credential chain (local
    /// sandboxes and tests: `AwsContext::with_endpoint(url).with_static_credentials("testing", "testing")`).
    pub fn with_static_credentials(mut self, access_key_id: &str, secret_access_key: &str) -> Self {
        self.credentials = Some(Credentials::new(access_key_id, secret_access_key, None, None, "tandem-static"));
        self
    }

    pub async fn config(&self, region: &str) -> SdkConfig {
        let mut configs = self.configs.lock().await;
        if let Some(c) = configs.get(region) {
            return c.clone();
        }
        // The SDK retries throttling and 5xx itself (standard mode, jittered
        // exponential backoff); the engine adds its own layer for waiters.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(RetryConfig::standard().with_max_attempts(5));
        if let Some(url) = &self.endpoint {
            loader = loader.endpoint_url(url);
        }
        if let Some(c) = &self.credentials {
            loader = loader.credentials_provider(c.clone());
        }
        let config = loader.load().await;
        configs.insert(region.to_string(), config.clone());
        config
    }

    pub async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config(region).await)
    }
    pub async fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        aws_sdk_kinesis::Client::new(&self.config(region).await)
    }
    pub async fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.config(region).await)
    }
    pub async fn connect(&self, region: &str) -> aws_sdk_connect::Client {
        aws_sdk_connect::Client::new(&self.config(region).await)
    }
    pub async fn directconnect(&self, region: &str) -> aws_sdk_directconnect::Client {
        aws_sdk_directconnect::Client::new(&self.config(region).await)
    }
    pub async fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config(region).await)
    }
    /// IAM is global; its endpoint lives in us-east-1.
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config("us-east-1").await)
    }
    pub async fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.config(region).await)
    }
    pub async fn eventbridge(&self, region: &str) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.config(region).await)
    }
}

/// Every AWS kind this tandem has.
pub fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    core_kinds(aws.clone())
        .into_iter()
        .chain(connect::kinds(aws.clone()))
        .chain(network::kinds(aws.clone()))
        .chain(cloudwatch::kinds(aws))
        .collect()
}

pub fn register(registry: &mut Registry, aws: Arc<AwsContext>) {
    for k in kinds(aws) {
        registry.register(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let mut r = Registry::new();
        register(&mut r, Arc::new(AwsContext::from_env()));
        r
    }

    #[test]
    fn registers_every_kind() {
        let r = registry();
        let names: Vec<&str> = r.type_names().collect();
        for t in [
            "aws.dynamodb.table",
            "aws.ec2.subnet",
            "aws.ec2.vpc",
            "aws.kinesis.stream",
            "aws.connect.instance",
            "aws.connect.replica",
            "aws.connect.traffic_distribution_group",
            "aws.connect.phone_number",
            "aws.connect.hours_of_operation",
            "aws.connect.queue",
            "aws.connect.contact_flow",
            "aws.connect.routing_profile",
            "aws.connect.user",
        ] {
            assert!(names.contains(&t), "{t} is not registered: {names:?}");
        }
        for s in r.schemas() {
            // IAM is global: its kinds take no region.
            assert_eq!(s.regional, !s.type_name.starts_with("aws.iam."), "{}", s.type_name);
            assert!(s.api_reference.starts_with("https://docs.aws.amazon.com/"), "{}", s.type_name);
            if let Some(n) = s.name_field {
                let f = s.field(n).expect("the name field is a property");
                // Connect's instance objects can be renamed in place; elsewhere the name is the identity.
                let renamable =
                    ["aws.connect.hours_of_operation", "aws.connect.queue", "aws.connect.contact_flow", "aws.connect.routing_profile"];
                assert!(f.required && f.force_new != renamable.contains(&s.type_name), "{}", s.type_name);
            }
        }
    }

    #[test]
    fn force_new_where_the_api_cannot_change_in_place() {
        let r = registry();
        let force_new = |t: &str| -> Vec<&str> { r.schema(t).unwrap().properties.iter().filter(|f| f.force_new).map(|f| f.name).collect() };
        assert_eq!(force_new("aws.ec2.vpc"), ["cidr_block", "instance_tenancy"]);
        assert_eq!(force_new("aws.ec2.subnet"), ["vpc_id", "cidr_block", "availability_zone"]);
        assert_eq!(force_new("aws.kinesis.stream"), ["stream_name"]);
        assert_eq!(force_new("aws.dynamodb.table"), ["table_name", "attribute_definitions", "key_schema"]);
        let table = r.schema("aws.dynamodb.table").unwrap();
        assert!(table.field_at(&["key_schema", "key_type"]).is_some());
        let stream = r.schema("aws.kinesis.stream").unwrap();
        assert!(stream.field_at(&["stream_mode_details", "stream_mode"]).is_some());
    }
}
