//! Amazon Connect resource kinds, one module per kind. Global Resiliency
//! (replica, traffic distribution groups, agents in groups) and the
//! instance-scoped objects Global Resiliency mirrors between the two regions
//! (`object`, `linked`).
//!
//! Each kind is one line of the list below (its module and its
//! registration); nothing else in the crate changes when a kind is added. An
//! instance-scoped object kind is an [`object::ObjectApi`] wrapped in
//! [`object::Object`], which does the mirroring between regions.
//! `preflight` is not a kind but the account checks (Global Resiliency
//! access, SAML, numbers) that `tandem preflight` runs.

mod linked;
mod object;
mod preflight;

kinds! {
    pub(crate) fn kinds;
    instance => instance::Instance,
    pub replica => replica::Replica,
    traffic_distribution_group => traffic_distribution_group::TrafficDistributionGroup,
    traffic_distribution_group_user => traffic_distribution_group_user::TrafficDistributionGroupUser,
    phone_number => phone_number::PhoneNumber,
    hours_of_operation => object::Object<hours_of_operation::HoursOfOperation>,
    queue => object::Object<queue::Queue>,
    contact_flow => object::Object<contact_flow::ContactFlow>,
    routing_profile => object::Object<routing_profile::RoutingProfile>,
    user => object::Object<user::User>,
}
