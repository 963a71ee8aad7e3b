//! VPN connections through the official SDK: moto makes them, the sandbox
//! adds the tunnel options (outside IPs, inside CIDRs, pre-shared keys) and
//! telemetry: the same two tunnels on every call, in an order that varies,
//! as EC2's does.

mod common;

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{GatewayType, VpnConnectionOptionsSpecification, VpnTunnelOptionsSpecification};
use tandem_sim::{Sandbox, SandboxOptions};

async fn sandbox() -> Sandbox {
    tandem_sim::start(SandboxOptions { moto: true, ..Default::default() }).await.expect("sandbox with moto starts")
}

fn ec2(sb: &Sandbox) -> aws_sdk_ec2::Client {
    let conf = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_ec2::Client::from_conf(conf)
}

fn code<E: ProvideErrorMetadata, R>(e: &aws_sdk_ec2::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|s| s.code()).unwrap_or("<no service error>").to_string()
}

async fn gateways(c: &aws_sdk_ec2::Client, ip: &str) -> (String, String) {
    let cgw = c.create_customer_gateway().r#type(GatewayType::Ipsec1).public_ip(ip).bgp_asn(65000).send().await.unwrap();
    let vgw = c.create_vpn_gateway().r#type(GatewayType::Ipsec1).amazon_side_asn(64512).send().await.unwrap();
    (
        cgw.customer_gateway().unwrap().customer_gateway_id().unwrap().to_string(),
        vgw.vpn_gateway().unwrap().vpn_gateway_id().unwrap().to_string(),
    )
}

#[tokio::test]
async fn vpn_connection_has_two_stable_tunnels() {
    let sb = sandbox().await;
    let c = ec2(&sb);
    let (cgw, vgw) = gateways(&c, "34.1.2.3").await;
    let options = VpnConnectionOptionsSpecification::builder()
        .static_routes_only(false)
        .tunnel_options(
            VpnTunnelOptionsSpecification::builder().tunnel_inside_cidr("169.254.21.0/30").pre_shared_key("tandem_key.0001").build(),
        )
        .tunnel_options(VpnTunnelOptionsSpecification::builder().build())
        .build();
    let out =
        c.create_vpn_connection().r#type("ipsec.1").customer_gateway_id(&cgw).vpn_gateway_id(&vgw).options(options).send().await.unwrap();
    let vpn = out.vpn_connection().unwrap();
    let id = vpn.vpn_connection_id().unwrap().to_string();
    let tunnels = vpn.options().unwrap().tunnel_options();
    assert_eq!(tunnels.len(), 2);
    assert_eq!(tunnels[0].tunnel_inside_cidr(), Some("169.254.21.0/30"));
    assert_eq!(tunnels[0].pre_shared_key(), Some("tandem_key.0001"));
    let generated = tunnels[1].pre_shared_key().unwrap();
    assert_eq!(generated.len(), 32);
    assert_ne!(tunnels[0].outside_ip_address(), tunnels[1].outside_ip_address());
    assert_ne!(tunnels[0].tunnel_inside_cidr(), tunnels[1].tunnel_inside_cidr());
    assert_eq!(vpn.vgw_telemetry().len(), 2);
    let config = vpn.customer_gateway_configuration().unwrap();
    assert!(config.contains(tunnels[0].outside_ip_address().unwrap()) && config.contains(tunnels[1].outside_ip_address().unwrap()));
    assert!(config.contains("<ip_address>169.254.21.1</ip_address>"), "the config is plain XML to the SDK");
    assert!(config.contains("<ip_address>34.1.2.3</ip_address>"), "the customer gateway's own IP");
    assert!(config.contains("<asn>65000</asn>"), "the customer gateway's own ASN");

    // Describe: the same two tunnels every time, not always in the same order
    // (tunnel options and telemetry alike); each keeps its address and key.
    let mut orders = std::collections::BTreeSet::new();
    let mut telemetry_orders = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let d = c.describe_vpn_connections().vpn_connection_ids(&id).send().await.unwrap();
        let v = &d.vpn_connections()[0];
        let seen = v.options().unwrap().tunnel_options();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|t| tunnels.contains(t)), "{seen:?}");
        orders.insert(seen.iter().map(|t| t.outside_ip_address().unwrap().to_string()).collect::<Vec<_>>());
        telemetry_orders.insert(v.vgw_telemetry().iter().map(|t| t.outside_ip_address().unwrap().to_string()).collect::<Vec<_>>());
        assert_eq!(v.vpn_gateway_id(), Some(vgw.as_str()));
    }
    assert_eq!((orders.len(), telemetry_orders.len()), (2, 2), "both orders of both lists: {orders:?} {telemetry_orders:?}");

    // Another connection on the same VGW cannot reuse the inside CIDR.
    let (cgw2, _) = gateways(&c, "34.1.2.4").await;
    let dup = VpnConnectionOptionsSpecification::builder()
        .tunnel_options(VpnTunnelOptionsSpecification::builder().tunnel_inside_cidr("169.254.21.0/30").build())
        .build();
    let e =
        c.create_vpn_connection().r#type("ipsec.1").customer_gateway_id(&cgw2).vpn_gateway_id(&vgw).options(dup).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
    let other = c.create_vpn_connection().r#type("ipsec.1").customer_gateway_id(&cgw2).vpn_gateway_id(&vgw).send().await.unwrap();
    let other_tunnels = other.vpn_connection().unwrap().options().unwrap().tunnel_options();
    assert!(other_tunnels
        .iter()
        .all(|t| t.outside_ip_address() != tunnels[0].outside_ip_address() && t.outside_ip_address() != tunnels[1].outside_ip_address()));
    c.delete_vpn_connection().vpn_connection_id(&id).send().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn invalid_tunnel_options_are_refused_before_moto() {
    let sb = sandbox().await;
    let c = ec2(&sb);
    let (cgw, vgw) = gateways(&c, "34.1.2.5").await;
    let bad = [
        VpnTunnelOptionsSpecification::builder().tunnel_inside_cidr("169.254.169.252/30").build(),
        VpnTunnelOptionsSpecification::builder().tunnel_inside_cidr("10.0.0.0/30").build(),
        VpnTunnelOptionsSpecification::builder().tunnel_inside_cidr("169.254.22.0/29").build(),
        VpnTunnelOptionsSpecification::builder().pre_shared_key("0starts_with_zero").build(),
        VpnTunnelOptionsSpecification::builder().pre_shared_key("bad-chars!").build(),
    ];
    for t in bad {
        let opts = VpnConnectionOptionsSpecification::builder().tunnel_options(t).build();
        let e = c
            .create_vpn_connection()
            .r#type("ipsec.1")
            .customer_gateway_id(&cgw)
            .vpn_gateway_id(&vgw)
            .options(opts)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidParameterValue");
    }
    // Nothing reached moto.
    let d = c.describe_vpn_connections().send().await.unwrap();
    assert!(d.vpn_connections().is_empty());
    sb.shutdown().await;
}

/// boto3 (an independent client) sees the route propagation the sandbox
/// keeps on top of moto: tests/python/test_sim_ec2_routes.py.
#[tokio::test]
async fn boto3_sees_route_propagation() {
    let sb = sandbox().await;
    common::python_check("test_sim_ec2_routes", &sb.url()).await;
}
