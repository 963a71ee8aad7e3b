//! CloudWatch kinds: the alarms the failover controller reads as health and
//! the dashboard that shows both regions.

mod alarm;
mod dashboard;

use crate::AwsContext;
use std::sync::Arc;
use tandem_provider::ResourceKind;

pub(crate) fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    vec![Arc::new(alarm::Alarm::new(aws.clone())), Arc::new(dashboard::Dashboard::new(aws))]
}
