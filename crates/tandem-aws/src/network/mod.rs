//! AWS side of the AWS <-> GCP connectivity: VPN gateways, customer
//! gateways, Site-to-Site VPN connections, route propagation and Direct
//! Connect. Each module adds its kind to [`kinds`].

mod customer_gateway;
mod dx_gateway;
mod dx_gateway_association;
mod dx_hosted_connection;
mod dx_private_virtual_interface;
mod route_propagation;
mod vpn_connection;
mod vpn_gateway;

use crate::AwsContext;
use std::sync::Arc;
use tandem_provider::ResourceKind;

pub(crate) fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    vec![
        Arc::new(vpn_gateway::VpnGateway::new(aws.clone())),
        Arc::new(customer_gateway::CustomerGateway::new(aws.clone())),
        Arc::new(vpn_connection::VpnConnection::new(aws.clone())),
        Arc::new(route_propagation::RoutePropagation::new(aws.clone())),
        Arc::new(dx_gateway::DxGateway::new(aws.clone())),
        Arc::new(dx_gateway_association::DxGatewayAssociation::new(aws.clone())),
        Arc::new(dx_private_virtual_interface::DxPrivateVirtualInterface::new(aws.clone())),
        Arc::new(dx_hosted_connection::DxHostedConnectionConfirmation::new(aws)),
    ]
}
