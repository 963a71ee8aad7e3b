//! Direct Connect through the official SDK (aws-sdk-directconnect) and boto3:
//! a hosted connection seeded by the admin API, confirmed, a Direct Connect
//! gateway associated with a virtual private gateway (made in moto through
//! the same endpoint), a private virtual interface, and the teardown order.

mod common;

use aws_sdk_directconnect::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_directconnect::error::ProvideErrorMetadata;
use aws_sdk_directconnect::types::{
    ConnectionState, DirectConnectGatewayAssociationState, DirectConnectGatewayState, NewPrivateVirtualInterface, VirtualInterfaceState,
};
use serde_json::json;
use tandem_sim::{Sandbox, SandboxClient, SandboxOptions};

async fn sandbox() -> (Sandbox, SandboxClient) {
    let sb = tandem_sim::start(SandboxOptions { moto: true, ..Default::default() }).await.expect("sandbox with moto starts");
    let admin = SandboxClient::new(sb.url());
    (sb, admin)
}

fn dx(sb: &Sandbox) -> aws_sdk_directconnect::Client {
    let conf = aws_sdk_directconnect::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_directconnect::Client::from_conf(conf)
}

fn ec2(sb: &Sandbox) -> aws_sdk_ec2::Client {
    let conf = aws_sdk_ec2::Config::builder()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_ec2::Client::from_conf(conf)
}

fn code<E: ProvideErrorMetadata, R>(e: &aws_sdk_directconnect::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|s| s.code()).unwrap_or("<no service error>").to_string()
}

#[tokio::test]
async fn hosted_connection_gateway_association_and_private_vif() {
    let (sb, admin) = sandbox().await;
    let c = dx(&sb);

    // The partner provisions a hosted connection: it waits in `ordering`.
    let seeded = admin
        .seed_hosted_connection(
            "us-east-1",
            &json!({"connectionName": "gcp-partner", "bandwidth": "1Gbps", "vlan": 201, "partnerName": "Equinix", "location": "EqDC2"}),
        )
        .await
        .unwrap();
    let conn_id = seeded["connectionId"].as_str().unwrap().to_string();
    let d = c.describe_connections().connection_id(&conn_id).send().await.unwrap();
    let conn = &d.connections()[0];
    assert_eq!(conn.connection_state(), Some(&ConnectionState::Ordering));
    assert_eq!(conn.vlan(), 201);
    assert_eq!(conn.partner_name(), Some("Equinix"));

    let r = c.confirm_connection().connection_id(&conn_id).send().await.unwrap();
    assert_eq!(r.connection_state(), Some(&ConnectionState::Pending));
    let d = c.describe_connections().send().await.unwrap();
    assert_eq!(d.connections()[0].connection_state(), Some(&ConnectionState::Available));
    let e = c.confirm_connection().connection_id(&conn_id).send().await.unwrap_err();
    assert_eq!(code(&e), "DirectConnectClientException");

    // Gateway: the Amazon side ASN must be private.
    let e = c.create_direct_connect_gateway().direct_connect_gateway_name("bad").amazon_side_asn(65535).send().await.unwrap_err();
    assert_eq!(code(&e), "DirectConnectClientException");
    let g = c.create_direct_connect_gateway().direct_connect_gateway_name("tandem-dxgw").amazon_side_asn(64512).send().await.unwrap();
    let g = g.direct_connect_gateway().unwrap();
    assert_eq!(g.direct_connect_gateway_state(), Some(&DirectConnectGatewayState::Pending));
    assert_eq!(g.amazon_side_asn(), Some(64512));
    let gw_id = g.direct_connect_gateway_id().unwrap().to_string();
    let d = c.describe_direct_connect_gateways().direct_connect_gateway_id(&gw_id).send().await.unwrap();
    assert_eq!(d.direct_connect_gateways()[0].direct_connect_gateway_state(), Some(&DirectConnectGatewayState::Available));

    // Association with a VGW that moto made.
    let vgw = ec2(&sb).create_vpn_gateway().r#type(aws_sdk_ec2::types::GatewayType::Ipsec1).send().await.unwrap();
    let vgw_id = vgw.vpn_gateway().unwrap().vpn_gateway_id().unwrap().to_string();
    let a =
        c.create_direct_connect_gateway_association().direct_connect_gateway_id(&gw_id).virtual_gateway_id(&vgw_id).send().await.unwrap();
    let a = a.direct_connect_gateway_association().unwrap();
    assert_eq!(a.association_state(), Some(&DirectConnectGatewayAssociationState::Associating));
    assert_eq!(a.associated_gateway().unwrap().id(), Some(vgw_id.as_str()));
    let assoc_id = a.association_id().unwrap().to_string();
    let d = c.describe_direct_connect_gateway_associations().direct_connect_gateway_id(&gw_id).send().await.unwrap();
    assert_eq!(d.direct_connect_gateway_associations()[0].association_state(), Some(&DirectConnectGatewayAssociationState::Associated));

    // The private virtual interface on the hosted connection, to the gateway.
    let spec = NewPrivateVirtualInterface::builder()
        .virtual_interface_name("tandem-gcp")
        .vlan(201)
        .asn(16550)
        .auth_key("bgp-secret-key")
        .amazon_address("169.254.30.1/30")
        .customer_address("169.254.30.2/30")
        .address_family(aws_sdk_directconnect::types::AddressFamily::IPv4)
        .direct_connect_gateway_id(&gw_id)
        .build()
        .unwrap();
    let v = c.create_private_virtual_interface().connection_id(&conn_id).new_private_virtual_interface(spec).send().await.unwrap();
    assert_eq!(v.virtual_interface_state(), Some(&VirtualInterfaceState::Pending));
    assert_eq!(v.amazon_side_asn(), Some(64512));
    assert_eq!(v.bgp_peers().len(), 1);
    let vif_id = v.virtual_interface_id().unwrap().to_string();
    let d = c.describe_virtual_interfaces().virtual_interface_id(&vif_id).send().await.unwrap();
    let vif = &d.virtual_interfaces()[0];
    assert_eq!(vif.virtual_interface_state(), Some(&VirtualInterfaceState::Available));
    assert_eq!(vif.direct_connect_gateway_id(), Some(gw_id.as_str()));
    assert_eq!(vif.customer_address(), Some("169.254.30.2/30"));

    // Teardown order: the gateway refuses while anything is attached.
    let e = c.delete_direct_connect_gateway().direct_connect_gateway_id(&gw_id).send().await.unwrap_err();
    assert_eq!(code(&e), "DirectConnectClientException");
    let r = c.delete_virtual_interface().virtual_interface_id(&vif_id).send().await.unwrap();
    assert_eq!(r.virtual_interface_state(), Some(&VirtualInterfaceState::Deleting));
    let r = c.delete_direct_connect_gateway_association().association_id(&assoc_id).send().await.unwrap();
    assert_eq!(
        r.direct_connect_gateway_association().unwrap().association_state(),
        Some(&DirectConnectGatewayAssociationState::Disassociating)
    );
    let d = c.describe_direct_connect_gateway_associations().association_id(&assoc_id).send().await.unwrap();
    assert_eq!(d.direct_connect_gateway_associations()[0].association_state(), Some(&DirectConnectGatewayAssociationState::Disassociated));
    let d = c.describe_virtual_interfaces().connection_id(&conn_id).send().await.unwrap();
    assert_eq!(d.virtual_interfaces()[0].virtual_interface_state(), Some(&VirtualInterfaceState::Deleted));
    let r = c.delete_direct_connect_gateway().direct_connect_gateway_id(&gw_id).send().await.unwrap();
    assert_eq!(r.direct_connect_gateway().unwrap().direct_connect_gateway_state(), Some(&DirectConnectGatewayState::Deleting));
    let d = c.describe_direct_connect_gateways().direct_connect_gateway_id(&gw_id).send().await.unwrap();
    assert_eq!(d.direct_connect_gateways()[0].direct_connect_gateway_state(), Some(&DirectConnectGatewayState::Deleted));
    sb.shutdown().await;
}

#[tokio::test]
async fn errors_are_direct_connect_client_exceptions() {
    let (sb, _admin) = sandbox().await;
    let c = dx(&sb);
    let e = c.describe_connections().connection_id("dxcon-nothere").send().await.unwrap_err();
    assert_eq!(code(&e), "DirectConnectClientException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    let e = c.delete_virtual_interface().virtual_interface_id("dxvif-nothere").send().await.unwrap_err();
    assert_eq!(code(&e), "DirectConnectClientException");
    let spec =
        NewPrivateVirtualInterface::builder().virtual_interface_name("x").vlan(1).asn(65000).virtual_gateway_id("vgw-1").build().unwrap();
    let e =
        c.create_private_virtual_interface().connection_id("dxcon-nothere").new_private_virtual_interface(spec).send().await.unwrap_err();
    assert_eq!(code(&e), "DirectConnectClientException");
    sb.shutdown().await;
}

#[tokio::test]
async fn gateways_are_found_again_by_tag() {
    let (sb, _admin) = sandbox().await;
    let c = dx(&sb);
    let tag = aws_sdk_directconnect::types::Tag::builder().key("tandem:id").value("network/dxgw").build().unwrap();
    let g = c.create_direct_connect_gateway().direct_connect_gateway_name("tagged").send().await.unwrap();
    let id = g.direct_connect_gateway().unwrap().direct_connect_gateway_id().unwrap().to_string();
    let arn = format!("arn:aws:directconnect::{}:dx-gateway/{id}", g.direct_connect_gateway().unwrap().owner_account().unwrap());
    c.tag_resource().resource_arn(&arn).tags(tag).send().await.unwrap();
    let d = c.describe_tags().resource_arns(&arn).send().await.unwrap();
    let tags = d.resource_tags()[0].tags();
    assert_eq!(tags.len(), 1);
    assert_eq!((tags[0].key(), tags[0].value()), ("tandem:id", Some("network/dxgw")));
    c.untag_resource().resource_arn(&arn).tag_keys("tandem:id").send().await.unwrap();
    let d = c.describe_tags().resource_arns(&arn).send().await.unwrap();
    assert!(d.resource_tags()[0].tags().is_empty());
    sb.shutdown().await;
}

/// boto3 (an independent client) accepts the sandbox's Direct Connect answers.
#[tokio::test]
async fn boto3_accepts_the_direct_connect_flow() {
    let (sb, _admin) = sandbox().await;
    common::python_check("test_sim_directconnect", &sb.url()).await;
    sb.shutdown().await;
}
