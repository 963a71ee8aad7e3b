//! AWS side of the AWS <-> GCP connectivity: VPN gateways, customer
//! gateways, Site-to-Site VPN connections, route propagation and Direct
//! Connect. Each module adds its kind to [`kinds`].

use crate::AwsContext;
use std::sync::Arc;
use tandem_provider::ResourceKind;

pub(crate) fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    let _ = &aws;
    vec![]
}
