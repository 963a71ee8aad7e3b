//! The sandbox in front of moto (`--moto`): unserved calls are forwarded
//! unchanged, DynamoDB answers get replicas, Direct Connect is served locally.
mod common;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateReplicationGroupMemberAction, KeySchemaElement, KeyType, ReplicationGroupUpdate,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tandem_sim::{SandboxClient, SandboxOptions};

use common::venv;

fn dynamodb(url: &str, region: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(url)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

#[tokio::test]
async fn forwards_to_moto_and_adds_dynamodb_replicas() {
    let sb = tandem_sim::start(SandboxOptions { moto: true, venv: Some(venv()), ..Default::default() }).await.expect("sandbox with moto");
    assert!(sb.upstream().is_some());
    let admin = SandboxClient::new(sb.url());
    let ddb = dynamodb(&sb.url(), "us-east-1");
    ddb.create_table()
        .table_name("agent-state")
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewAndOldImages).build().unwrap(),
        )
        .send()
        .await
        .expect("CreateTable forwarded to moto");
    let tables = ddb.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), ["agent-state".to_string()]);
    ddb.update_table()
        .table_name("agent-state")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .create(CreateReplicationGroupMemberAction::builder().region_name("us-west-2").build().unwrap())
                .build(),
        )
        .send()
        .await
        .expect("replica update served by the sandbox");
    let d = ddb.describe_table().table_name("agent-state").send().await.unwrap();
    let replicas: Vec<&str> = d.table().unwrap().replicas().iter().filter_map(|r| r.region_name()).collect();
    assert_eq!(replicas, vec!["us-west-2"]);
    // Unknown table: moto's own error comes back unchanged.
    let e = ddb.describe_table().table_name("nope").send().await.unwrap_err();
    assert_eq!(
        e.as_service_error().and_then(|e| aws_sdk_dynamodb::error::ProvideErrorMetadata::code(e)),
        Some("ResourceNotFoundException")
    );
    assert_eq!(admin.count(Some("dynamodb"), Some("CreateTable"), Some("us-east-1")).await.unwrap(), 1);
    assert!(admin.count(Some("dynamodb"), Some("DescribeTable"), None).await.unwrap() >= 2);
    // A throttle injected on a forwarded service uses that service's error and is retried.
    admin
        .add_fault(
            &tandem_sim::faults::FaultRule::new(tandem_sim::faults::FaultKind::Throttle)
                .service("dynamodb")
                .operation("ListTables")
                .count(1),
        )
        .await
        .unwrap();
    ddb.list_tables().send().await.expect("retried past the throttle");
    assert_eq!(admin.count(Some("dynamodb"), Some("ListTables"), None).await.unwrap(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn direct_connect_is_served_locally_with_seeded_hosted_connections() {
    let (sb, admin) = common::sandbox().await;
    let seeded = admin
        .seed_hosted_connection("us-east-1", &serde_json::json!({ "connectionName": "partner-hosted", "bandwidth": "1Gbps", "location": "EqDC2", "vlan": 101, "partnerName": "Equinix" }))
        .await;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("{}/", sb.url()))
        .header("x-amz-target", "OvertureService.DescribeConnections")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/directconnect/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    let resp = http.request(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let conns = body["connections"].as_array().expect("connections list");
    match seeded {
        Ok(c) => {
            assert_eq!(conns.len(), 1, "{body}");
            assert_eq!(conns[0]["connectionId"], c["connectionId"]);
        }
        Err(e) => panic!("seeding failed: {e:#}"),
    }
    assert_eq!(admin.count(Some("directconnect"), Some("DescribeConnections"), Some("us-east-1")).await.unwrap(), 1);
}
