//! Fault injection, region outages, accounting and the admin API, observed
//! through the official SDK (its retries included).
mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use tandem_sim::faults::{FaultKind, FaultRule, OutageMode};

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_counted() {
    let (sb, admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (id, _) = instance(&c, "throttle").await;
    admin.add_fault(&FaultRule::new(FaultKind::Throttle).service("connect").operation("DescribeInstance").count(2)).await.unwrap();
    admin.reset_calls().await.unwrap();
    // Standard retry mode: 3 attempts; two throttles then success.
    c.describe_instance().instance_id(&id).send().await.expect("succeeds after retries");
    assert_eq!(admin.count(Some("connect"), Some("DescribeInstance"), Some("us-east-1")).await.unwrap(), 3);
    let rules = admin.faults().await.unwrap();
    assert_eq!(rules[0].fired, 2);
    // The throttling error is Connect's own (429 ThrottlingException).
    admin.add_fault(&FaultRule::new(FaultKind::Throttle).service("connect").operation("ListInstances").count(1)).await.unwrap();
    let one_shot = connect_with(&sb, "us-east-1", 1, 5_000);
    let e = one_shot.list_instances().send().await.unwrap_err();
    assert_eq!(code(&e), "ThrottlingException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 429);
}

#[tokio::test]
async fn count_limited_server_errors() {
    let (sb, admin) = sandbox().await;
    let c = connect_with(&sb, "us-east-1", 1, 5_000);
    admin
        .add_fault(&FaultRule::new(FaultKind::ServerError).service("connect").operation("ListInstances").region("us-east-1").count(2))
        .await
        .unwrap();
    for _ in 0..2 {
        let e = c.list_instances().send().await.unwrap_err();
        assert_eq!(code(&e), "InternalServiceException");
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 500);
    }
    c.list_instances().send().await.expect("third call passes");
    // Other regions were never affected.
    admin.add_fault(&FaultRule::new(FaultKind::ServerError).service("connect").region("us-west-2").count(1)).await.unwrap();
    c.list_instances().send().await.unwrap();
}

#[tokio::test]
async fn region_outage_fails_every_connect_call_in_that_region() {
    let (sb, admin) = sandbox().await;
    let east = connect_with(&sb, "us-east-1", 1, 5_000);
    let west = connect_with(&sb, "us-west-2", 1, 5_000);
    admin.set_outage("us-east-1", "connect", OutageMode::Error).await.unwrap();
    let e = east.list_instances().send().await.unwrap_err();
    assert_eq!(code(&e), "InternalServiceException");
    let e = east.list_traffic_distribution_groups().send().await.unwrap_err();
    assert_eq!(code(&e), "InternalServiceException");
    west.list_instances().send().await.expect("the other region serves");
    admin.set_outage("us-east-1", "connect", OutageMode::Unreachable).await.unwrap();
    let e = east.list_instances().send().await.unwrap_err();
    assert!(e.as_service_error().is_none(), "unreachable: no answer at all, got {e:?}");
    admin.clear_outage("us-east-1").await.unwrap();
    east.list_instances().send().await.expect("recovered");
    // Outage calls are counted too.
    assert_eq!(admin.count(Some("connect"), Some("ListInstances"), Some("us-east-1")).await.unwrap(), 3);
}

#[tokio::test]
async fn reset_and_timeout_faults_drop_or_hold_the_connection() {
    let (sb, admin) = sandbox().await;
    let c = connect_with(&sb, "us-east-1", 1, 400);
    admin.add_fault(&FaultRule::new(FaultKind::Reset).operation("ListInstances").count(1)).await.unwrap();
    let e = c.list_instances().send().await.unwrap_err();
    assert!(
        matches!(e, aws_sdk_connect::error::SdkError::DispatchFailure(_) | aws_sdk_connect::error::SdkError::ResponseError(_)),
        "{e:?}"
    );
    admin.add_fault(&FaultRule::new(FaultKind::Timeout).operation("ListInstances").count(1).hold_ms(2_000)).await.unwrap();
    let started = std::time::Instant::now();
    let e = c.list_instances().send().await.unwrap_err();
    assert!(matches!(e, aws_sdk_connect::error::SdkError::TimeoutError(_)), "{e:?}");
    assert!(started.elapsed() < Duration::from_millis(1_500));
    c.list_instances().send().await.unwrap();
}

#[tokio::test]
async fn probability_one_always_fires_and_faults_can_be_removed() {
    let (sb, admin) = sandbox().await;
    let c = connect_with(&sb, "us-east-1", 1, 5_000);
    let id = admin.add_fault(&FaultRule::new(FaultKind::ServerError).service("connect").probability(1.0)).await.unwrap();
    for _ in 0..3 {
        assert!(c.list_instances().send().await.is_err());
    }
    admin.remove_fault(id).await.unwrap();
    c.list_instances().send().await.unwrap();
}

#[tokio::test]
async fn accounting_by_service_operation_region_and_reset_all() {
    let (sb, admin) = sandbox().await;
    let east = connect(&sb, "us-east-1");
    let west = connect(&sb, "us-west-2");
    instance(&east, "acct").await;
    east.list_instances().send().await.unwrap();
    west.list_instances().send().await.unwrap();
    west.list_instances().send().await.unwrap();
    let calls = admin.calls().await.unwrap();
    let get = |op: &str, region: &str| calls.iter().find(|c| c.operation == op && c.region == region).map(|c| c.count).unwrap_or(0);
    assert_eq!(get("CreateInstance", "us-east-1"), 1);
    assert_eq!(get("ListInstances", "us-east-1"), 1);
    assert_eq!(get("ListInstances", "us-west-2"), 2);
    assert!(calls.iter().all(|c| c.service == "connect"));
    admin.reset().await.unwrap();
    assert!(admin.calls().await.unwrap().is_empty());
    assert!(east.list_instances().send().await.unwrap().instance_summary_list().is_empty(), "reset removed the instance");
}

#[tokio::test]
async fn unserved_calls_without_upstream_get_a_clear_501() {
    let (sb, admin) = sandbox().await;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("{}/", sb.url()))
        .header("x-amz-target", "Kinesis_20131202.ListStreams")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-2/kinesis/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    let resp = http.request(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 501);
    let body: serde_json::Value = serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["__type"], "NotImplemented");
    assert!(body["message"].as_str().unwrap().contains("kinesis ListStreams"));
    assert_eq!(admin.count(Some("kinesis"), Some("ListStreams"), Some("eu-west-2")).await.unwrap(), 1);
    let health = admin.health().await.unwrap();
    assert_eq!(health["service"], "tandem-sim");
}

#[tokio::test]
async fn response_delays_slow_down_matching_calls_only() {
    let (sb, admin) = sandbox().await;
    admin.set_delays(&[tandem_sim::latency::ResponseDelay::new("connect", "ListInstances", 300)]).await.unwrap();
    let c = connect(&sb, "us-east-1");
    let t = std::time::Instant::now();
    c.list_instances().send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = std::time::Instant::now();
    c.list_traffic_distribution_groups().send().await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(300));
    // A delay longer than the client's timeout is a timeout.
    let short = connect_with(&sb, "us-east-1", 1, 100);
    let e = short.list_instances().send().await.unwrap_err();
    assert!(matches!(e, aws_sdk_connect::error::SdkError::TimeoutError(_)), "{e:?}");
}
