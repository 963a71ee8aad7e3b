//! The controller's metrics reach CloudWatch (the sandbox's) in the shape the
//! dashboard reads: Tandem/Failover RegionHealthy per Region, Shifts per Group.

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use std::time::{Duration, SystemTime};
use tandem_failover::decide::History;
use tandem_failover::distribution::Distribution;
use tandem_failover::health::{Finding, RegionHealth};
use tandem_failover_runtime::metrics::{MetricsPublisher, NAMESPACE};
use tandem_failover_runtime::report::{Action, PassReport};
use tandem_failover_runtime::ClientOptions;

#[tokio::test]
async fn a_pass_publishes_health_and_shifts() {
    let sb = tandem_sim::start(tandem_sim::SandboxOptions::default()).await.unwrap();
    let opts = ClientOptions {
        endpoint_url: Some(sb.url()),
        static_credentials: Some(("testing".into(), "testing".into())),
        ..Default::default()
    };
    let cw = opts.cloudwatch("us-west-2").await;
    let publisher =
        MetricsPublisher::new(cw.clone(), "us-east-1", "us-west-2", "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g");
    let report = PassReport {
        at: 0,
        by_region: "us-west-2".into(),
        primary: RegionHealth::Unhealthy(vec![Finding::ApiUnreachable]),
        secondary: RegionHealth::Healthy,
        history: History::default(),
        record_version: Some(1),
        decision: None,
        lost_races: 0,
        action: Action::Shifted { to: Distribution::all_to("us-west-2", "us-east-1"), version: 1, via_region: "us-west-2".into() },
        live: None,
        retry: false,
    };
    publisher.publish(&report).await;
    let q = |id: &str, name: &str, dim: (&str, &str)| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(NAMESPACE)
                            .metric_name(name)
                            .dimensions(Dimension::builder().name(dim.0).value(dim.1).build())
                            .build(),
                    )
                    .period(60)
                    .stat("Sum")
                    .build(),
            )
            .build()
    };
    let now = SystemTime::now();
    let out = cw
        .get_metric_data()
        .metric_data_queries(q("east", "RegionHealthy", ("Region", "us-east-1")))
        .metric_data_queries(q("west", "RegionHealthy", ("Region", "us-west-2")))
        .metric_data_queries(q("shifts", "Shifts", ("Group", "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g")))
        .start_time((now - Duration::from_secs(600)).into())
        .end_time((now + Duration::from_secs(60)).into())
        .send()
        .await
        .unwrap();
    let sum = |id: &str| -> f64 {
        out.metric_data_results().iter().find(|r| r.id() == Some(id)).map(|r| r.values().iter().sum()).unwrap_or(-1.0)
    };
    assert_eq!(sum("east"), 0.0, "the unhealthy primary reports 0");
    assert_eq!(sum("west"), 1.0);
    assert_eq!(sum("shifts"), 1.0);
    sb.shutdown().await;
}
