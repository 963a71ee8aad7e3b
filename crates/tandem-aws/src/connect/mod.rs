//! Amazon Connect resource kinds, one module per kind, and the DynamoDB
//! global table the contact center keeps agent state in.
//!
//! Each module adds its kind to [`kinds`]; nothing else in the crate needs to
//! change when a kind is added.

mod instance;
mod phone_number;
pub mod replica;
mod traffic_distribution_group;

use crate::AwsContext;
use std::sync::Arc;
use tandem_provider::ResourceKind;

pub(crate) fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    vec![
        Arc::new(instance::Instance::new(aws.clone())),
        Arc::new(replica::Replica::new(aws.clone())),
        Arc::new(traffic_distribution_group::TrafficDistributionGroup::new(aws.clone())),
        Arc::new(phone_number::PhoneNumber::new(aws.clone())),
    ]
}
