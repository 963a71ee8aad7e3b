//! Amazon Connect resource kinds, one module per kind. Global Resiliency
//! (replica, traffic distribution groups, agents in groups) and the
//! instance-scoped objects Global Resiliency mirrors between the two regions
//! (`object`, `linked`).
//!
//! [`kinds`] registers each kind with one line; `preflight` is not a kind
//! but the account checks (Global Resiliency access, SAML, numbers) that
//! `tandem preflight` runs.

mod contact_flow;
mod hours_of_operation;
mod instance;
mod linked;
mod object;
mod phone_number;
mod preflight;
mod queue;
pub mod replica;
mod routing_profile;
mod traffic_distribution_group;
mod traffic_distribution_group_user;
mod user;

use crate::AwsContext;
use std::sync::Arc;
use tandem_provider::ResourceKind;

pub(crate) fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    vec![
        Arc::new(instance::Instance::new(aws.clone())),
        Arc::new(replica::Replica::new(aws.clone())),
        Arc::new(traffic_distribution_group::TrafficDistributionGroup::new(aws.clone())),
        Arc::new(traffic_distribution_group_user::TrafficDistributionGroupUser::new(aws.clone())),
        Arc::new(phone_number::PhoneNumber::new(aws.clone())),
        Arc::new(object::Object::<hours_of_operation::HoursOfOperation>::new(aws.clone())),
        Arc::new(object::Object::<queue::Queue>::new(aws.clone())),
        Arc::new(object::Object::<contact_flow::ContactFlow>::new(aws.clone())),
        Arc::new(object::Object::<routing_profile::RoutingProfile>::new(aws.clone())),
        Arc::new(object::Object::<user::User>::new(aws.clone())),
    ]
}
