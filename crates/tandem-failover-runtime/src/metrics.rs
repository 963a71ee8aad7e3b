//! The controller's own metrics, so the dashboard shows what it sees and
//! does: `Tandem/Failover` `RegionHealthy` (1 healthy or degraded, 0
//! unhealthy) per `Region`, and `Shifts` (1 on a pass that moved traffic)
//! per `Group`, published with PutMetricData after every pass. It is a
//! [`PassObserver`]: the controller hands it each report and knows nothing
//! of CloudWatch.

use crate::report::{Action, PassObserver, PassReport};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use tandem_failover::health::RegionHealth;

pub const NAMESPACE: &str = "Tandem/Failover";

pub struct MetricsPublisher {
    client: aws_sdk_cloudwatch::Client,
    primary_region: String,
    secondary_region: String,
    group_arn: String,
}

fn datum(name: &str, dim: (&str, &str), value: f64, unit: StandardUnit) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .dimensions(Dimension::builder().name(dim.0).value(dim.1).build())
        .value(value)
        .unit(unit)
        .build()
}

impl MetricsPublisher {
    /// `client` is a CloudWatch client in the controller's own region.
    pub fn new(client: aws_sdk_cloudwatch::Client, primary_region: &str, secondary_region: &str, group_arn: &str) -> Self {
        MetricsPublisher {
            client,
            primary_region: primary_region.to_string(),
            secondary_region: secondary_region.to_string(),
            group_arn: group_arn.to_string(),
        }
    }

    /// The data points for one pass.
    pub fn data(&self, report: &PassReport) -> Vec<MetricDatum> {
        let up = |h: &RegionHealth| if matches!(h, RegionHealth::Unhealthy(_)) { 0.0 } else { 1.0 };
        let shifted = if matches!(report.action, Action::Shifted { .. }) { 1.0 } else { 0.0 };
        vec![
            datum("RegionHealthy", ("Region", &self.primary_region), up(&report.primary), StandardUnit::None),
            datum("RegionHealthy", ("Region", &self.secondary_region), up(&report.secondary), StandardUnit::None),
            datum("Shifts", ("Group", &self.group_arn), shifted, StandardUnit::Count),
        ]
    }

    /// Publish; a failure is logged, never fails the pass (the controller
    /// must keep working when CloudWatch does not).
    pub async fn publish(&self, report: &PassReport) {
        let r = self.client.put_metric_data().namespace(NAMESPACE).set_metric_data(Some(self.data(report))).send().await;
        if let Err(e) = r {
            tracing::warn!("publishing the controller's metrics failed: {}", aws_sdk_cloudwatch::error::DisplayErrorContext(&e));
        }
    }
}

#[async_trait]
impl PassObserver for MetricsPublisher {
    async fn on_pass(&self, report: &PassReport) {
        self.publish(report).await;
    }
}
