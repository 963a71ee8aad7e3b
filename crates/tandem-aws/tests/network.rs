//! The AWS side of AWS <-> GCP connectivity against the tandem sandbox (in
//! front of moto): virtual private gateways, customer gateways, Site-to-Site
//! VPN connections (tunnel options come from the sandbox; moto has none) and
//! Direct Connect (served by the sandbox itself).

mod network_common;

use network_common::{changed, ctx, kind, props, sandbox, vpc};
use serde_json::{json, Value};
use std::net::Ipv4Addr;
use tandem_provider::ErrorClass;

#[tokio::test]
async fn vpn_gateway_create_attach_move_delete() {
    let env = sandbox().await;
    let vgw = kind(&env.aws, "aws.ec2.vpn_gateway");
    let vpc_a = vpc(&env.aws, "net.vpc_a", "10.20.0.0/16").await;
    let vpc_b = vpc(&env.aws, "net.vpc_b", "10.21.0.0/16").await;
    let c = ctx("net.vgw");

    // Only private ASNs, checked with no cloud call.
    assert_eq!(vgw.validate(Some("us-east-1"), &props(json!({"amazon_side_asn": 65000}))), vec![]);
    let bad = vgw.validate(Some("us-east-1"), &props(json!({"amazon_side_asn": 7224})));
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].field, "amazon_side_asn");
    assert!(vgw.validate(Some("us-east-1"), &props(json!({"amazon_side_asn": 4200000001_i64}))).is_empty());

    let p = props(json!({"amazon_side_asn": 64620, "vpc_id": vpc_a, "tags": {"Name": "cc"}}));
    let created = vgw.create(&c, &p).await.unwrap();
    let id = created.id.clone();
    assert!(id.starts_with("vgw-"), "{id}");
    assert_eq!(created.outputs["id"], json!(id));
    assert_eq!(created.outputs["amazon_side_asn"], json!(64620));
    let read = vgw.read(&c, &id).await.unwrap().expect("the gateway exists");
    assert_eq!(read.properties["amazon_side_asn"], json!(64620));
    assert_eq!(read.properties["vpc_id"], json!(vpc_a));
    assert_eq!(read.properties["tags"], json!({"Name": "cc"}));

    // A re-run whose state never recorded the create adopts the tagged gateway.
    assert_eq!(vgw.create(&c, &p).await.unwrap().id, id);

    // Moving to another VPC detaches (waiting for detached) and attaches.
    let desired = props(json!({"amazon_side_asn": 64620, "vpc_id": vpc_b, "tags": {"Name": "cc2", "team": "net"}}));
    let updated = vgw.update(&c, &id, &read.properties, &desired, &changed(&["vpc_id", "tags"])).await.unwrap();
    assert_eq!(updated.properties["vpc_id"], json!(vpc_b));
    assert_eq!(updated.properties["tags"], json!({"Name": "cc2", "team": "net"}));
    let g = env.aws.ec2("us-east-1").await.describe_vpn_gateways().vpn_gateway_ids(&id).send().await.unwrap();
    let states: Vec<(String, String)> = g.vpn_gateways()[0]
        .vpc_attachments()
        .iter()
        .map(|a| (a.vpc_id().unwrap_or_default().to_string(), a.state().map(|s| s.as_str().to_string()).unwrap_or_default()))
        .collect();
    assert!(states.contains(&(vpc_b.clone(), "attached".into())), "{states:?}");
    assert!(!states.contains(&(vpc_a.clone(), "attached".into())), "{states:?}");

    // The ASN cannot change in place.
    let e = vgw.update(&c, &id, &updated.properties, &desired, &changed(&["amazon_side_asn"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);

    // Delete detaches first, then waits for deleted.
    vgw.delete(&c, &id, &updated.properties).await.unwrap();
    assert!(vgw.read(&c, &id).await.unwrap().is_none());
    vgw.delete(&c, &id, &updated.properties).await.unwrap();
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn customer_gateway_create_read_tag_delete() {
    let env = sandbox().await;
    let cgw = kind(&env.aws, "aws.ec2.customer_gateway");
    let c = ctx("net.cgw0");
    assert!(!cgw.validate(None, &props(json!({"bgp_asn": 65010, "ip_address": "not-an-ip"}))).is_empty());
    let created = cgw
        .create(&c, &props(json!({"bgp_asn": 65010, "ip_address": "34.157.1.2", "device_name": "gcp-ha-vpn-if0", "tags": {"Name": "if0"}})))
        .await
        .unwrap();
    let id = created.id.clone();
    assert!(id.starts_with("cgw-"), "{id}");
    assert_eq!(created.outputs["id"], json!(id));
    let read = cgw.read(&c, &id).await.unwrap().expect("the gateway exists");
    assert_eq!(read.properties["bgp_asn"], json!(65010));
    assert_eq!(read.properties["ip_address"], json!("34.157.1.2"));
    assert_eq!(read.properties["type"], json!("ipsec.1"));
    assert_eq!(read.properties["tags"], json!({"Name": "if0"}));

    let updated = cgw
        .update(&c, &id, &read.properties, &props(json!({"bgp_asn": 65010, "ip_address": "34.157.1.2", "tags": {}})), &changed(&["tags"]))
        .await
        .unwrap();
    assert_eq!(updated.properties["tags"], json!({}));
    let e = cgw.update(&c, &id, &read.properties, &read.properties, &changed(&["ip_address"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);

    cgw.delete(&c, &id, &updated.properties).await.unwrap();
    assert!(cgw.read(&c, &id).await.unwrap().is_none());
    cgw.delete(&c, &id, &updated.properties).await.unwrap();
    // Made again at the same address (the next apply after a destroy): a new
    // gateway, not the deleted one that moto still lists under the tag.
    let again = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        cgw.create(&c, &props(json!({"bgp_asn": 65010, "ip_address": "34.157.1.2"}))),
    )
    .await
    .expect("not waiting on the deleted gateway")
    .unwrap();
    assert_ne!(again.id, id);
    cgw.delete(&c, &again.id, &again.properties).await.unwrap();
    env.sandbox.shutdown().await;
}

fn inside_cidr_ok(v: &Value) -> Ipv4Addr {
    let s = v.as_str().expect("an inside CIDR");
    let (a, len) = s.split_once('/').unwrap();
    assert_eq!(len, "30", "{s}");
    let a: Ipv4Addr = a.parse().unwrap();
    assert_eq!(&a.octets()[..2], &[169, 254], "{s}");
    assert_eq!(a.octets()[3] % 4, 0, "{s}");
    a
}

/// The canonical HA VPN topology: one customer gateway per GCP HA VPN
/// interface, one VPN connection (two tunnels) per customer gateway.
#[tokio::test]
async fn vpn_connections_for_ha_vpn_have_tunnel_outputs() {
    let env = sandbox().await;
    let vgw = kind(&env.aws, "aws.ec2.vpn_gateway");
    let cgw = kind(&env.aws, "aws.ec2.customer_gateway");
    let vpn = kind(&env.aws, "aws.ec2.vpn_connection");
    let vpc_id = vpc(&env.aws, "net.vpc", "10.30.0.0/16").await;
    let gw = vgw.create(&ctx("net.vgw"), &props(json!({"amazon_side_asn": 64512, "vpc_id": vpc_id}))).await.unwrap();
    let cg0 = cgw.create(&ctx("net.cgw[0]"), &props(json!({"bgp_asn": 65020, "ip_address": "34.157.10.1"}))).await.unwrap();
    let cg1 = cgw.create(&ctx("net.cgw[1]"), &props(json!({"bgp_asn": 65020, "ip_address": "35.220.10.2"}))).await.unwrap();

    let k1 = "tandemKey_one.1";
    let k2 = "tandemKey_two.2";
    // Validation: /30s in 169.254.0.0/16, not reserved, keys by AWS's rules, never echoed.
    let bad_key = "0leading_zero";
    let bad = vpn.validate(
        None,
        &props(json!({"customer_gateway_id": null, "vpn_gateway_id": null, "options": {"tunnel_options": [
            {"tunnel_inside_cidr": "169.254.1.0/30", "pre_shared_key": bad_key},
            {"tunnel_inside_cidr": "10.0.0.0/30"}]}})),
    );
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().all(|i| !i.message.contains(bad_key)), "{bad:?}");

    let p0 = props(json!({
        "customer_gateway_id": cg0.id, "vpn_gateway_id": gw.id, "type": "ipsec.1",
        "options": {"static_routes_only": false, "tunnel_options": [
            {"tunnel_inside_cidr": "169.254.10.0/30", "pre_shared_key": k1},
            {"tunnel_inside_cidr": "169.254.10.4/30", "pre_shared_key": k2}]},
        "tags": {"Name": "aws-gcp-0"}
    }));
    let c0 = vpn.create(&ctx("net.vpn[0]"), &p0).await.unwrap();
    assert!(c0.id.starts_with("vpn-"), "{}", c0.id);
    let o = &c0.outputs;
    assert_eq!(o["tunnel1_inside_cidr"], json!("169.254.10.0/30"));
    assert_eq!(o["tunnel2_inside_cidr"], json!("169.254.10.4/30"));
    assert_eq!(o["tunnel1_bgp_peer_ip"], json!("169.254.10.1"));
    assert_eq!(o["tunnel1_bgp_local_ip"], json!("169.254.10.2"));
    assert_eq!(o["tunnel2_bgp_peer_ip"], json!("169.254.10.5"));
    assert_eq!(o["tunnel2_bgp_local_ip"], json!("169.254.10.6"));
    assert_eq!(o["tunnel1_pre_shared_key"], json!(k1));
    assert_eq!(o["tunnel2_pre_shared_key"], json!(k2));
    assert_eq!(o["vgw_asn"], json!(64512));
    let ips: Vec<Ipv4Addr> =
        ["tunnel1_outside_ip", "tunnel2_outside_ip"].iter().map(|k| o[*k].as_str().expect(k).parse().expect(k)).collect();
    assert_ne!(ips[0], ips[1]);
    // Sensitive outputs are declared so.
    let schema = vpn.schema();
    assert!(schema.output("tunnel1_pre_shared_key").unwrap().sensitive && schema.output("tunnel2_pre_shared_key").unwrap().sensitive);
    assert!(!schema.output("tunnel1_outside_ip").unwrap().sensitive);

    let read = vpn.read(&ctx("net.vpn[0]"), &c0.id).await.unwrap().expect("the connection exists");
    assert_eq!(read.outputs, c0.outputs);
    assert_eq!(read.properties["customer_gateway_id"], json!(cg0.id));
    assert_eq!(read.properties["vpn_gateway_id"], json!(gw.id));
    assert_eq!(read.properties["type"], json!("ipsec.1"));
    assert_eq!(read.properties["options"]["tunnel_options"][0]["tunnel_inside_cidr"], json!("169.254.10.0/30"));
    assert_eq!(read.properties["tags"], json!({"Name": "aws-gcp-0"}));

    // The second connection lets AWS pick inside CIDRs and keys.
    let p1 = props(json!({"customer_gateway_id": cg1.id, "vpn_gateway_id": gw.id}));
    let c1 = vpn.create(&ctx("net.vpn[1]"), &p1).await.unwrap();
    let o1 = &c1.outputs;
    let mut outside: Vec<&Value> =
        vec![&o["tunnel1_outside_ip"], &o["tunnel2_outside_ip"], &o1["tunnel1_outside_ip"], &o1["tunnel2_outside_ip"]];
    outside.sort_by_key(|v| v.to_string());
    outside.dedup();
    assert_eq!(outside.len(), 4, "four distinct AWS tunnel outside IPs: {outside:?}");
    for n in 1..=2 {
        let net = inside_cidr_ok(&o1[format!("tunnel{n}_inside_cidr").as_str()]).octets();
        assert_eq!(o1[format!("tunnel{n}_bgp_peer_ip").as_str()], json!(Ipv4Addr::new(net[0], net[1], net[2], net[3] + 1).to_string()));
        assert_eq!(o1[format!("tunnel{n}_bgp_local_ip").as_str()], json!(Ipv4Addr::new(net[0], net[1], net[2], net[3] + 2).to_string()));
        assert!(o1[format!("tunnel{n}_pre_shared_key").as_str()].as_str().is_some_and(|k| k.len() >= 8));
    }

    // A tunnel CIDR already used on this gateway is refused by AWS; the error
    // text carries no key.
    let dup = props(json!({"customer_gateway_id": cg1.id, "vpn_gateway_id": gw.id, "options": {"tunnel_options": [
        {"tunnel_inside_cidr": "169.254.10.0/30", "pre_shared_key": "secretKey_dup.9"}]}}));
    let e = vpn.create(&ctx("net.vpn_dup"), &dup).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid, "{e}");
    for k in [k1, k2, "secretKey_dup.9"] {
        assert!(!e.message.contains(k) && !format!("{e:?}").contains(k), "a key leaked: {e}");
    }

    // Tags change in place; everything else is a replacement.
    let desired = props(json!({"customer_gateway_id": cg0.id, "vpn_gateway_id": gw.id, "tags": {"Name": "renamed"}}));
    let up = vpn.update(&ctx("net.vpn[0]"), &c0.id, &read.properties, &desired, &changed(&["tags"])).await.unwrap();
    assert_eq!(up.properties["tags"], json!({"Name": "renamed"}));
    let e = vpn.update(&ctx("net.vpn[0]"), &c0.id, &read.properties, &desired, &changed(&["options"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(!e.message.contains(k1));

    for (c, id) in [("net.vpn[0]", &c0.id), ("net.vpn[1]", &c1.id)] {
        vpn.delete(&ctx(c), id, &p1).await.unwrap();
        assert!(vpn.read(&ctx(c), id).await.unwrap().is_none());
    }
    for (c, id) in [("net.cgw[0]", &cg0.id), ("net.cgw[1]", &cg1.id)] {
        cgw.delete(&ctx(c), id, &p1).await.unwrap();
    }
    vgw.delete(&ctx("net.vgw"), &gw.id, &p1).await.unwrap();
    assert!(vgw.read(&ctx("net.vgw"), &gw.id).await.unwrap().is_none());
    env.sandbox.shutdown().await;
}

/// EC2 answers a connection's two tunnels in no fixed order (the sandbox
/// alternates it from one DescribeVpnConnections to the next); tandem pairs
/// each tunnel's outside IP, key and inside addresses by the tunnel's inside
/// CIDR, so its outputs, and the plan, never change from one read to the next.
#[tokio::test]
async fn tunnel_outputs_stay_put_whatever_order_ec2_answers() {
    let env = sandbox().await;
    let vgw = kind(&env.aws, "aws.ec2.vpn_gateway");
    let cgw = kind(&env.aws, "aws.ec2.customer_gateway");
    let vpn = kind(&env.aws, "aws.ec2.vpn_connection");
    let vpc_id = vpc(&env.aws, "order.vpc", "10.31.0.0/16").await;
    let gw = vgw.create(&ctx("order.vgw"), &props(json!({"vpc_id": vpc_id}))).await.unwrap();
    let cg = cgw.create(&ctx("order.cgw"), &props(json!({"bgp_asn": 65020, "ip_address": "34.157.20.1"}))).await.unwrap();
    // Listed with the higher CIDR first: the order of the spec's list means nothing either.
    let p =
        props(json!({"customer_gateway_id": cg.id, "vpn_gateway_id": gw.id, "options": {"static_routes_only": false, "tunnel_options": [
        {"tunnel_inside_cidr": "169.254.20.4/30", "pre_shared_key": "secondKey_4"},
        {"tunnel_inside_cidr": "169.254.20.0/30", "pre_shared_key": "firstKey_0"}]}}));
    let c = ctx("order.vpn");
    let made = vpn.create(&c, &p).await.unwrap();
    assert_eq!(made.outputs["tunnel1_inside_cidr"], json!("169.254.20.0/30"));
    assert_eq!(made.outputs["tunnel1_pre_shared_key"], json!("firstKey_0"), "the key of the tunnel with that CIDR");
    assert_eq!(made.outputs["tunnel1_bgp_peer_ip"], json!("169.254.20.1"));
    assert_eq!(made.outputs["tunnel2_pre_shared_key"], json!("secondKey_4"));

    // The raw answers do come in both orders (the SDK sees them as EC2 sends them).
    let ec2 = env.aws.ec2(network_common::REGION).await;
    let mut orders = std::collections::BTreeSet::new();
    let mut outside_by_cidr = std::collections::BTreeMap::new();
    for _ in 0..4 {
        let d = ec2.describe_vpn_connections().vpn_connection_ids(&made.id).send().await.unwrap();
        let t = d.vpn_connections()[0].options().unwrap().tunnel_options();
        orders.insert(t.iter().map(|x| x.tunnel_inside_cidr().unwrap().to_string()).collect::<Vec<_>>());
        for x in t {
            let ip = x.outside_ip_address().unwrap().to_string();
            assert_eq!(
                outside_by_cidr.entry(x.tunnel_inside_cidr().unwrap().to_string()).or_insert_with(|| ip.clone()),
                &ip,
                "a tunnel keeps its address"
            );
        }
    }
    assert_eq!(orders.len(), 2, "both orders seen: {orders:?}");
    assert_eq!(made.outputs["tunnel1_outside_ip"], json!(outside_by_cidr["169.254.20.0/30"]));

    // Fifty reads: the same outputs every time, and nothing to change.
    let schema = vpn.schema().clone();
    for i in 0..50 {
        let r = vpn.read(&c, &made.id).await.unwrap().expect("the connection exists");
        assert_eq!(r.outputs, made.outputs, "read {i}");
        // As the engine plans: the state's properties (what was applied) overlaid with what was read.
        let mut current = p.clone();
        current.extend(r.properties.clone());
        let fields = tandem_core::plan::diff_fields(&schema, &p, &Default::default(), &current, &p);
        assert!(fields.is_empty(), "read {i} plans a change: {fields:?}");
    }
    vpn.delete(&c, &made.id, &p).await.unwrap();
    cgw.delete(&ctx("order.cgw"), &cg.id, &p).await.unwrap();
    vgw.delete(&ctx("order.vgw"), &gw.id, &p).await.unwrap();
    env.sandbox.shutdown().await;
}

/// With the sandbox's consistency knob on for EC2, a Describe* naming a
/// resource just made answers Invalid*ID.NotFound for a while (and listings
/// leave it out): every network kind waits that out, and none creates twice.
#[tokio::test]
async fn creates_wait_out_describes_that_do_not_see_them_yet() {
    let env = sandbox().await;
    env.admin.set_consistency(&[tandem_sim::latency::ConsistencyRule { service: "ec2".into(), not_found_ms: 600 }]).await.unwrap();
    let vpc_id = vpc(&env.aws, "late.vpc", "10.32.0.0/16").await;
    let subnet = kind(&env.aws, "aws.ec2.subnet")
        .create(&ctx("late.subnet"), &props(json!({"vpc_id": vpc_id, "cidr_block": "10.32.1.0/24"})))
        .await
        .unwrap();
    assert!(subnet.id.starts_with("subnet-"));
    let gw = kind(&env.aws, "aws.ec2.vpn_gateway").create(&ctx("late.vgw"), &props(json!({"vpc_id": vpc_id}))).await.unwrap();
    let cg = kind(&env.aws, "aws.ec2.customer_gateway")
        .create(&ctx("late.cgw"), &props(json!({"bgp_asn": 65020, "ip_address": "34.157.30.1"})))
        .await
        .unwrap();
    let vpn = kind(&env.aws, "aws.ec2.vpn_connection")
        .create(&ctx("late.vpn"), &props(json!({"customer_gateway_id": cg.id, "vpn_gateway_id": gw.id})))
        .await
        .unwrap();
    assert!(vpn.outputs["tunnel1_outside_ip"].is_string(), "{vpn:?}");
    for (create, describe) in [
        ("CreateVpc", "DescribeVpcs"),
        ("CreateSubnet", "DescribeSubnets"),
        ("CreateVpnGateway", "DescribeVpnGateways"),
        ("CreateCustomerGateway", "DescribeCustomerGateways"),
        ("CreateVpnConnection", "DescribeVpnConnections"),
    ] {
        assert_eq!(env.admin.count(Some("ec2"), Some(create), None).await.unwrap(), 1, "one {create}");
        assert!(env.admin.count(Some("ec2"), Some(describe), None).await.unwrap() >= 2, "{describe} was polled");
    }
    env.sandbox.shutdown().await;
}

/// moto does not serve route propagation; tandem-sim does, checking the
/// table and gateway against moto (src/ec2_routes.rs in tandem-sim).
#[tokio::test]
async fn vpn_gateway_route_propagation_enable_read_disable() {
    let env = sandbox().await;
    let vgw = kind(&env.aws, "aws.ec2.vpn_gateway");
    let prop = kind(&env.aws, "aws.ec2.vpn_gateway_route_propagation");
    let vpc_id = vpc(&env.aws, "net.vpc", "10.40.0.0/16").await;
    let gw = vgw.create(&ctx("net.vgw"), &props(json!({"vpc_id": vpc_id}))).await.unwrap();
    let ec2 = env.aws.ec2(network_common::REGION).await;
    let tables = ec2
        .describe_route_tables()
        .filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&vpc_id).build())
        .send()
        .await
        .unwrap();
    let rtb = tables.route_tables()[0].route_table_id().unwrap().to_string();
    let c = ctx("net.propagation");
    // A gateway attached to another VPC cannot propagate into this table.
    let other_vpc = vpc(&env.aws, "net.vpc2", "10.41.0.0/16").await;
    let stray = vgw.create(&ctx("net.vgw2"), &props(json!({"vpc_id": other_vpc}))).await.unwrap();
    let e = prop.create(&c, &props(json!({"route_table_id": rtb, "gateway_id": stray.id}))).await.unwrap_err();
    assert!(e.message.contains("Gateway.NotAttached") || e.message.contains("not attached"), "{e:?}");
    let p = props(json!({"route_table_id": rtb, "gateway_id": gw.id}));
    let created = prop.create(&c, &p).await.unwrap();
    assert_eq!(created.id, format!("{rtb}/{}", gw.id));
    assert_eq!(prop.read(&c, &created.id).await.unwrap().unwrap().properties, p);
    prop.delete(&c, &created.id, &p).await.unwrap();
    assert!(prop.read(&c, &created.id).await.unwrap().is_none());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn route_propagation_ids_are_checked() {
    let env = sandbox().await;
    let prop = kind(&env.aws, "aws.ec2.vpn_gateway_route_propagation");
    let e = prop.read(&ctx("net.p"), "not-an-id").await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    env.sandbox.shutdown().await;
}

/// Direct Connect <-> Partner Interconnect, the AWS side: confirm the hosted
/// connection the partner provisioned, a Direct Connect gateway associated
/// with the virtual private gateway, and a private virtual interface on the
/// hosted connection.
#[tokio::test]
async fn direct_connect_gateway_association_and_private_vif() {
    let env = sandbox().await;
    // Asynchronous transitions, so every waiter really waits.
    let mut latency = env.admin.latency().await.unwrap();
    for k in ["connection", "gateway", "gateway-association", "virtual-interface"] {
        latency
            .rules
            .push(serde_json::from_value(json!({"service": "directconnect", "kind": k, "creation_ms": 300, "deletion_ms": 300})).unwrap());
    }
    env.admin.set_latency(&latency).await.unwrap();
    let seeded = env
        .admin
        .seed_hosted_connection(network_common::REGION, &json!({"connectionName": "gcp-partner-interconnect", "bandwidth": "1Gbps", "location": "EqDC2", "vlan": 101, "partnerName": "Equinix"}))
        .await
        .unwrap();
    let conn_id = seeded["connectionId"].as_str().expect("a connection id").to_string();

    // 1. Confirm the hosted connection.
    let confirm = kind(&env.aws, "aws.directconnect.hosted_connection_confirmation");
    let cc = ctx("net.dx_confirm");
    assert!(confirm.read(&cc, &conn_id).await.unwrap().is_none(), "not confirmed yet");
    let p = props(json!({"connection_id": conn_id}));
    let confirmed = confirm.create(&cc, &p).await.unwrap();
    assert_eq!(confirmed.id, conn_id);
    assert_eq!(confirmed.outputs["vlan"], json!(101));
    assert_eq!(confirmed.outputs["bandwidth"], json!("1Gbps"));
    // Confirming again (a re-run) only waits.
    assert_eq!(confirm.create(&cc, &p).await.unwrap().id, conn_id);
    let missing = confirm.create(&cc, &props(json!({"connection_id": "dxcon-nope1234"}))).await.unwrap_err();
    assert_eq!(missing.class, ErrorClass::NotFound, "{missing}");

    // 2. The Direct Connect gateway.
    let dxgw = kind(&env.aws, "aws.directconnect.gateway");
    let gc = ctx("net.dxgw");
    assert_eq!(dxgw.validate(None, &props(json!({"direct_connect_gateway_name": "x", "amazon_side_asn": 100}))).len(), 1);
    let gp = props(json!({"direct_connect_gateway_name": "cc-dxgw", "amazon_side_asn": 64700}));
    let gw = dxgw.create(&gc, &gp).await.unwrap();
    assert_eq!(gw.outputs["amazon_side_asn"], json!(64700));
    let read = dxgw.read(&gc, &gw.id).await.unwrap().expect("the gateway exists");
    assert_eq!(read.properties, gp);
    assert_eq!(dxgw.create(&gc, &gp).await.unwrap().id, gw.id, "a re-run adopts the gateway");
    assert!(dxgw.read(&gc, "5f0e0b52-0000-4000-8000-000000000000").await.unwrap().is_none());

    // 3. Its association with the virtual private gateway (attached to a VPC).
    let vgw = kind(&env.aws, "aws.ec2.vpn_gateway");
    let vpc_id = vpc(&env.aws, "net.vpc", "10.50.0.0/16").await;
    let vg = vgw.create(&ctx("net.vgw"), &props(json!({"vpc_id": vpc_id}))).await.unwrap();
    let assoc = kind(&env.aws, "aws.directconnect.gateway_association");
    let ac = ctx("net.dx_assoc");
    let ap = props(json!({"direct_connect_gateway_id": gw.id, "virtual_gateway_id": vg.id}));
    let a = assoc.create(&ac, &ap).await.unwrap();
    assert_eq!(assoc.read(&ac, &a.id).await.unwrap().expect("associated").properties, ap);
    assert_eq!(assoc.create(&ac, &ap).await.unwrap().id, a.id, "a re-run adopts the association");

    // 4. The private virtual interface on the hosted connection.
    let vif = kind(&env.aws, "aws.directconnect.private_virtual_interface");
    let vc = ctx("net.dx_vif");
    let key = "bgpSecret_123";
    assert_eq!(vif.validate(None, &props(json!({"virtual_interface_name": "Bad_Name", "amazon_address": "169.254.200.1/30"}))).len(), 2);
    let vp = props(json!({
        "connection_id": conn_id, "virtual_interface_name": "gcp-partner", "vlan": 101, "asn": 16550,
        "auth_key": key, "amazon_address": "169.254.200.1/30", "customer_address": "169.254.200.2/30",
        "address_family": "ipv4", "direct_connect_gateway_id": gw.id
    }));
    let v = vif.create(&vc, &vp).await.unwrap();
    assert!(v.id.starts_with("dxvif-"), "{}", v.id);
    assert_eq!(v.outputs["amazon_side_asn"], json!(64700));
    assert_eq!(v.outputs["amazon_address"], json!("169.254.200.1/30"));
    assert_eq!(v.outputs["customer_address"], json!("169.254.200.2/30"));
    assert_eq!(v.outputs["auth_key"], json!(key));
    assert!(vif.schema().output("auth_key").unwrap().sensitive && vif.schema().field("auth_key").unwrap().sensitive);
    let vr = vif.read(&vc, &v.id).await.unwrap().expect("the interface exists");
    assert_eq!(vr.properties, vp);
    assert_eq!(vif.create(&vc, &vp).await.unwrap().id, v.id, "a re-run adopts the interface");
    // A second interface on the hosted connection is refused; no key in the error.
    let mut vp2 = vp.clone();
    vp2.insert("virtual_interface_name".into(), json!("another"));
    let e = vif.create(&ctx("net.dx_vif2"), &vp2).await.unwrap_err();
    assert!(!e.message.contains(key) && !format!("{e:?}").contains(key), "{e}");
    // The gateway cannot go while the interface and association hold it.
    assert!(dxgw.delete(&gc, &gw.id, &gp).await.is_err());

    // Teardown in dependency order, each waiting until gone.
    vif.delete(&vc, &v.id, &vp).await.unwrap();
    assert!(vif.read(&vc, &v.id).await.unwrap().is_none());
    vif.delete(&vc, &v.id, &vp).await.unwrap();
    assoc.delete(&ac, &a.id, &ap).await.unwrap();
    assert!(assoc.read(&ac, &a.id).await.unwrap().is_none());
    assoc.delete(&ac, &a.id, &ap).await.unwrap();
    dxgw.delete(&gc, &gw.id, &gp).await.unwrap();
    assert!(dxgw.read(&gc, &gw.id).await.unwrap().is_none());
    dxgw.delete(&gc, &gw.id, &gp).await.unwrap();
    // The hosted connection is the partner's: "deleting" the confirmation leaves it.
    confirm.delete(&cc, &conn_id, &p).await.unwrap();
    assert!(confirm.read(&cc, &conn_id).await.unwrap().is_some());
    vgw.delete(&ctx("net.vgw"), &vg.id, &ap).await.unwrap();
    env.sandbox.shutdown().await;
}
