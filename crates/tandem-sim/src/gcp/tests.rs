use super::store::rfc3339;
use super::{Compute, Reply};
use crate::env::{Instant0, TestLatency};
use serde_json::{json, Value};
use std::time::{Duration, Instant, UNIX_EPOCH};

fn call(c: &mut Compute, now: Instant, method: &str, rest: &str, body: Value) -> (u16, Value) {
    match c.handle(&Instant0, now, method, rest, body.to_string().as_bytes(), "http://h") {
        Reply::Json(s, v) => (s, v),
        Reply::WaitThen(_, p) => match c.handle(&Instant0, now, "GET", &p, b"", "http://h") {
            Reply::Json(s, v) => (s, v),
            Reply::WaitThen(..) => unreachable!("a get never waits"),
        },
    }
}

#[test]
fn network_and_subnetwork_lifecycle_with_operations() {
    let mut c = Compute::default();
    let t = Instant::now();
    let (s, op) = call(
        &mut c,
        t,
        "POST",
        "p/global/networks",
        json!({"name": "cc", "autoCreateSubnetworks": false, "routingConfig": {"routingMode": "GLOBAL"}}),
    );
    assert_eq!((s, op["status"].as_str()), (200, Some("PENDING")), "{op}");
    let (_, done) = call(&mut c, t, "GET", &format!("p/global/operations/{}", op["name"].as_str().unwrap()), json!(null));
    assert_eq!(done["status"], "DONE");
    let (_, net) = call(&mut c, t, "GET", "p/global/networks/cc", json!(null));
    assert_eq!(net["routingConfig"]["routingMode"], "GLOBAL");
    assert_eq!(
        call(&mut c, t, "POST", "p/global/networks", json!({"name": "cc", "autoCreateSubnetworks": false})).1["error"]["errors"][0]
            ["reason"],
        "alreadyExists"
    );
    let (s, _) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/subnetworks",
        json!({"name": "a", "network": net["selfLink"], "ipCidrRange": "10.2.0.0/20"}),
    );
    assert_eq!(s, 200);
    let (s, e) =
        call(&mut c, t, "POST", "p/regions/us-west1/subnetworks", json!({"name": "b", "network": "cc", "ipCidrRange": "10.2.8.0/24"}));
    assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (400, Some("invalid")), "{e}");
    let (s, e) = call(&mut c, t, "DELETE", "p/global/networks/cc", json!(null));
    assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (400, Some("resourceInUseByAnotherResource")), "{e}");
    let (_, sub) = call(&mut c, t, "GET", "p/regions/us-east4/subnetworks/a", json!(null));
    let (s, e) =
        call(&mut c, t, "PATCH", "p/regions/us-east4/subnetworks/a", json!({"privateIpGoogleAccess": true, "fingerprint": "stale"}));
    assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (412, Some("conditionNotMet")));
    let (s, _) = call(
        &mut c,
        t,
        "PATCH",
        "p/regions/us-east4/subnetworks/a",
        json!({"privateIpGoogleAccess": true, "fingerprint": sub["fingerprint"]}),
    );
    assert_eq!(s, 200);
    assert_eq!(call(&mut c, t, "GET", "p/regions/us-east4/subnetworks/a", json!(null)).1["privateIpGoogleAccess"], true);
    call(&mut c, t, "DELETE", "p/regions/us-east4/subnetworks/a", json!(null));
    assert_eq!(call(&mut c, t, "DELETE", "p/global/networks/cc", json!(null)).0, 200);
    assert_eq!(call(&mut c, t, "GET", "p/global/networks/cc", json!(null)).1["error"]["status"], "NOT_FOUND");
}

#[test]
fn names_and_inputs_are_checked() {
    let mut c = Compute::default();
    let t = Instant::now();
    for bad in ["Bad", "1net", "net-", &"a".repeat(64)] {
        let (s, e) = call(&mut c, t, "POST", "p/global/networks", json!({"name": bad, "autoCreateSubnetworks": false}));
        assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (400, Some("invalid")), "{bad}");
    }
    assert_eq!(call(&mut c, t, "POST", "p/global/networks", json!({"name": "legacy"})).0, 400);
    assert_eq!(call(&mut c, t, "POST", "p/global/networks", json!("not an object")).1["error"]["errors"][0]["reason"], "parseError");
    assert_eq!(call(&mut c, t, "GET", "p/global/images", json!(null)).0, 404);
    assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_700_000_000)), "2023-11-14T22:13:20.000Z");
}

fn reason(v: &Value) -> &str {
    v["error"]["errors"][0]["reason"].as_str().unwrap_or_default()
}

/// A network `net` and a router `r1` (ASN 65010) in us-east4.
fn with_net_and_router(c: &mut Compute, t: Instant) {
    assert_eq!(call(c, t, "POST", "p/global/networks", json!({"name": "net", "autoCreateSubnetworks": false})).0, 200);
    let (s, e) = call(c, t, "POST", "p/regions/us-east4/routers", json!({"name": "r1", "network": "net", "bgp": {"asn": 65010}}));
    assert_eq!(s, 200, "{e}");
}

#[test]
fn firewalls_defaults_rules_and_patch() {
    let mut c = Compute::default();
    let t = Instant::now();
    let (s, e) =
        call(&mut c, t, "POST", "p/global/firewalls", json!({"name": "fw", "network": "nope", "allowed": [{"IPProtocol": "tcp"}]}));
    assert_eq!((s, reason(&e)), (404, "notFound"));
    assert_eq!(call(&mut c, t, "POST", "p/global/networks", json!({"name": "net", "autoCreateSubnetworks": false})).0, 200);
    for bad in [
        json!({"name": "fw", "network": "net"}),
        json!({"name": "fw", "network": "net", "allowed": [{"IPProtocol": "tcp"}], "denied": [{"IPProtocol": "udp"}]}),
        json!({"name": "fw", "network": "net", "allowed": [{"IPProtocol": "tcp"}], "direction": "SIDEWAYS"}),
        json!({"name": "fw", "network": "net", "allowed": [{"IPProtocol": "tcp"}], "priority": 70000}),
    ] {
        let (s, e) = call(&mut c, t, "POST", "p/global/firewalls", bad.clone());
        assert_eq!((s, reason(&e)), (400, "invalid"), "{bad}");
    }
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/global/firewalls",
        json!({"name": "fw", "network": "net", "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "sourceRanges": ["10.0.0.0/8"]}),
    );
    assert_eq!(s, 200, "{e}");
    let (_, fw) = call(&mut c, t, "GET", "p/global/firewalls/fw", json!(null));
    assert_eq!(
        (fw["kind"].as_str(), fw["direction"].as_str(), fw["priority"].as_i64(), fw["disabled"].as_bool()),
        (Some("compute#firewall"), Some("INGRESS"), Some(1000), Some(false))
    );
    assert_eq!(fw["network"], "http://h/compute/v1/projects/p/global/networks/net");
    assert_eq!(fw["allowed"][0]["ports"][0], "443");
    assert_eq!(call(&mut c, t, "PATCH", "p/global/firewalls/fw", json!({"priority": 900, "disabled": true})).0, 200);
    let (_, fw) = call(&mut c, t, "GET", "p/global/firewalls/fw", json!(null));
    assert_eq!((fw["priority"].as_i64(), fw["disabled"].as_bool()), (Some(900), Some(true)));
    let (s, e) = call(&mut c, t, "PATCH", "p/global/firewalls/fw", json!({"network": "other"}));
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert_eq!(call(&mut c, t, "GET", "p/global/firewalls", json!(null)).1["kind"], "compute#firewallList");
    let (s, e) = call(&mut c, t, "DELETE", "p/global/networks/net", json!(null));
    assert_eq!((s, reason(&e)), (400, "resourceInUseByAnotherResource"));
    assert!(e["error"]["message"].as_str().unwrap().contains("global/firewalls/fw"), "{e}");
    assert_eq!(call(&mut c, t, "DELETE", "p/global/firewalls/fw", json!(null)).0, 200);
    assert_eq!(call(&mut c, t, "DELETE", "p/global/networks/net", json!(null)).0, 200);
}

#[test]
fn routers_asn_interfaces_peers_patch_and_update() {
    let mut c = Compute::default();
    let t = Instant::now();
    assert_eq!(call(&mut c, t, "POST", "p/global/networks", json!({"name": "net", "autoCreateSubnetworks": false})).0, 200);
    for asn in [64511, 65535, 100, 4_294_967_295u64] {
        let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/routers", json!({"name": "r1", "network": "net", "bgp": {"asn": asn}}));
        assert_eq!((s, reason(&e)), (400, "invalid"), "{asn}");
        assert!(e["error"]["message"].as_str().unwrap().contains("private ASN"), "{e}");
    }
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/routers", json!({"name": "r1", "network": "net", "bgp": {"asn": 65010}}));
    assert_eq!(s, 200, "{e}");
    let (_, r) = call(&mut c, t, "GET", "p/regions/us-east4/routers/r1", json!(null));
    assert_eq!((r["bgp"]["advertiseMode"].as_str(), r["bgp"]["keepaliveInterval"].as_i64()), (Some("DEFAULT"), Some(20)));
    assert_eq!((r["interfaces"].clone(), r["bgpPeers"].clone()), (json!([]), json!([])));
    assert_eq!(r["region"], "http://h/compute/v1/projects/p/regions/us-east4");
    assert!(r.get("fingerprint").is_none(), "the v1 Router has no fingerprint");
    let itf = json!([{"name": "if-0", "ipRange": "169.254.0.1/30"}]);
    for bad in ["10.0.0.0/30", "169.254.0.0/24", "169.254.0.1"] {
        let (s, e) = call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", json!({"interfaces": [{"name": "if-0", "ipRange": bad}]}));
        assert_eq!((s, reason(&e)), (400, "invalid"), "{bad}");
    }
    let (s, e) = call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", json!({"interfaces": [{"name": "a"}, {"name": "a"}]}));
    assert_eq!((s, reason(&e)), (400, "invalid"));
    let (s, e) =
        call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", json!({"interfaces": [{"name": "a", "linkedVpnTunnel": "missing"}]}));
    assert_eq!((s, reason(&e)), (404, "notFound"));
    let peer = |itf: &str| json!([{"name": "peer-0", "interfaceName": itf, "peerIpAddress": "169.254.0.2", "peerAsn": 65020}]);
    let (s, e) = call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", json!({"interfaces": itf, "bgpPeers": peer("if-9")}));
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(e["error"]["message"].as_str().unwrap().contains("no interface named 'if-9'"), "{e}");
    let (s, e) = call(
        &mut c,
        t,
        "PATCH",
        "p/regions/us-east4/routers/r1",
        json!({"interfaces": itf, "bgpPeers": peer("if-0"), "bgp": {"keepaliveInterval": 30}}),
    );
    assert_eq!(s, 200, "{e}");
    let (_, r) = call(&mut c, t, "GET", "p/regions/us-east4/routers/r1", json!(null));
    assert_eq!((r["bgp"]["asn"].as_i64(), r["bgp"]["keepaliveInterval"].as_i64()), (Some(65010), Some(30)));
    assert_eq!(r["bgpPeers"][0]["peerAsn"], 65020);
    let (_, st) = call(&mut c, t, "GET", "p/regions/us-east4/routers/r1/getRouterStatus", json!(null));
    assert_eq!(st["kind"], "compute#routerStatusResponse");
    assert_eq!(st["result"]["bgpPeerStatus"][0]["state"], "Established");
    assert_eq!(st["result"]["network"], r["network"]);
    assert_eq!(call(&mut c, t, "GET", "p/regions/us-east4/routers", json!(null)).1["items"][0]["name"], "r1");
    // update (PUT) replaces: what it leaves out is cleared.
    let mut whole = r.clone();
    whole.as_object_mut().unwrap().remove("bgpPeers");
    whole["interfaces"] = json!([]);
    let (s, e) = call(&mut c, t, "PUT", "p/regions/us-east4/routers/r1", whole);
    assert_eq!(s, 200, "{e}");
    let (_, r2) = call(&mut c, t, "GET", "p/regions/us-east4/routers/r1", json!(null));
    assert_eq!((r2["interfaces"].clone(), r2["bgpPeers"].clone(), r2["bgp"]["asn"].clone()), (json!([]), json!([]), json!(65010)));
    let (s, e) = call(&mut c, t, "DELETE", "p/global/networks/net", json!(null));
    assert_eq!((s, reason(&e)), (400, "resourceInUseByAnotherResource"));
}

#[test]
fn a_repeated_request_id_answers_the_first_operation() {
    let mut c = Compute::default();
    let t = Instant::now();
    let body = json!({"name": "cc", "autoCreateSubnetworks": false});
    let (s1, op1) = call(&mut c, t, "POST", "p/global/networks?requestId=8d5a0c2e-1&alt=json", body.clone());
    let (s2, op2) = call(&mut c, t, "POST", "p/global/networks?requestId=8d5a0c2e-1&alt=json", body.clone());
    assert_eq!((s1, s2), (200, 200), "{op2}");
    assert_eq!(op1["name"], op2["name"], "the retry gets the first request's operation");
    assert_eq!(op2["clientOperationId"], "8d5a0c2e-1");
    // Another request id is another request: the name is taken.
    let (s3, e) = call(&mut c, t, "POST", "p/global/networks?requestId=other", body);
    assert_eq!((s3, reason(&e)), (409, "alreadyExists"));
    let (_, r1) =
        call(&mut c, t, "POST", "p/regions/us-east4/routers?requestId=r-1", json!({"name": "r", "network": "cc", "bgp": {"asn": 65010}}));
    let (_, r2) =
        call(&mut c, t, "POST", "p/regions/us-east4/routers?requestId=r-1", json!({"name": "r", "network": "cc", "bgp": {"asn": 65010}}));
    assert_eq!((r1["name"].clone(), r2["region"].clone()), (r2["name"].clone(), r1["region"].clone()));
}

#[test]
fn a_router_refuses_changes_while_its_last_one_runs() {
    static SLOW: TestLatency = TestLatency::kind("router_update", Duration::from_secs(1));
    let mut c = Compute::default();
    let t = Instant::now();
    let send = |c: &mut Compute, at: Instant, method: &str, rest: &str, body: Value| match c.handle(
        &SLOW,
        at,
        method,
        rest,
        body.to_string().as_bytes(),
        "http://h",
    ) {
        Reply::Json(s, v) => (s, v),
        Reply::WaitThen(..) => unreachable!(),
    };
    send(&mut c, t, "POST", "p/global/networks", json!({"name": "net", "autoCreateSubnetworks": false}));
    send(&mut c, t, "POST", "p/regions/us-east4/routers", json!({"name": "r", "network": "net", "bgp": {"asn": 65010}}));
    let (s, op) = send(&mut c, t, "PATCH", "p/regions/us-east4/routers/r", json!({"description": "one"}));
    assert_eq!((s, op["status"].as_str()), (200, Some("PENDING")));
    let (s, e) = send(&mut c, t + Duration::from_millis(500), "PATCH", "p/regions/us-east4/routers/r", json!({"description": "two"}));
    assert_eq!((s, reason(&e)), (400, "resourceNotReady"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().ends_with("routers/r' is not ready"), "{e}");
    assert_eq!(
        send(&mut c, t + Duration::from_millis(1001), "PATCH", "p/regions/us-east4/routers/r", json!({"description": "two"})).0,
        200
    );
}

#[test]
fn ha_vpn_gateways_external_gateways_and_tunnels() {
    let mut c = Compute::default();
    let t = Instant::now();
    with_net_and_router(&mut c, t);
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/vpnGateways",
        json!({"name": "ha", "network": "http://x/compute/v1/projects/p/global/networks/net"}),
    );
    assert_eq!(s, 200, "{e}");
    call(&mut c, t, "POST", "p/regions/us-east4/vpnGateways", json!({"name": "ha2", "network": "net"}));
    let (_, gw) = call(&mut c, t, "GET", "p/regions/us-east4/vpnGateways/ha", json!(null));
    let (_, gw2) = call(&mut c, t, "GET", "p/regions/us-east4/vpnGateways/ha2", json!(null));
    let ips: Vec<&str> =
        [&gw, &gw2].iter().flat_map(|g| g["vpnInterfaces"].as_array().unwrap().iter().map(|i| i["ipAddress"].as_str().unwrap())).collect();
    assert_eq!(ips.len(), 4);
    assert_eq!(ips.iter().collect::<std::collections::BTreeSet<_>>().len(), 4, "{ips:?}");
    assert_eq!((gw["kind"].as_str(), gw["stackType"].as_str()), (Some("compute#vpnGateway"), Some("IPV4_ONLY")));

    let four = |n: usize| (0..n).map(|i| json!({"id": i, "ipAddress": format!("203.0.113.{}", i + 1)})).collect::<Vec<_>>();
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/global/externalVpnGateways",
        json!({"name": "peer", "redundancyType": "FOUR_IPS_REDUNDANCY", "interfaces": four(2)}),
    );
    assert_eq!((s, reason(&e)), (400, "invalid"));
    let (s, _) = call(
        &mut c,
        t,
        "POST",
        "p/global/externalVpnGateways",
        json!({"name": "peer", "redundancyType": "TWO_IPS_REDUNDANCY", "interfaces": [{"id": 0, "ipAddress": "1.2.3.4"}, {"id": 0, "ipAddress": "1.2.3.5"}]}),
    );
    assert_eq!(s, 400);
    let (s, _) = call(
        &mut c,
        t,
        "POST",
        "p/global/externalVpnGateways",
        json!({"name": "peer", "redundancyType": "SINGLE_IP_INTERNALLY_REDUNDANT", "interfaces": [{"id": 0, "ipAddress": "nope"}]}),
    );
    assert_eq!(s, 400);
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/global/externalVpnGateways",
        json!({"name": "peer", "redundancyType": "FOUR_IPS_REDUNDANCY", "interfaces": four(4)}),
    );
    assert_eq!(s, 200, "{e}");

    let tunnel = |name: &str, gi: u32, pi: u32| json!({"name": name, "sharedSecret": "s3cret!", "vpnGateway": "ha", "vpnGatewayInterface": gi, "peerExternalGateway": "peer", "peerExternalGatewayInterface": pi, "router": "r1"});
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/vpnTunnels",
        json!({"name": "t0", "vpnGateway": "ha", "router": "r1", "peerIp": "1.2.3.4"}),
    );
    assert_eq!((s, reason(&e)), (400, "required"));
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", tunnel("t0", 0, 4));
    assert_eq!((s, reason(&e)), (400, "invalid"), "interface 4 of a 4-interface gateway");
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", tunnel("t0", 0, 0));
    assert_eq!(s, 200, "{e}");
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", tunnel("t1", 0, 0));
    assert_eq!((s, reason(&e)), (400, "invalid"), "the same interface pair twice");
    assert_eq!(call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", tunnel("t1", 1, 3)).0, 200);
    let (_, tun) = call(&mut c, t, "GET", "p/regions/us-east4/vpnTunnels/t1", json!(null));
    assert!(tun.get("sharedSecret").is_none() && !tun.to_string().contains("s3cret"), "{tun}");
    assert!(tun["sharedSecretHash"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(
        (tun["peerIp"].as_str(), tun["ikeVersion"].as_i64(), tun["status"].as_str()),
        (Some("203.0.113.4"), Some(2), Some("ESTABLISHED"))
    );
    assert_eq!(tun["vpnGateway"], gw["selfLink"]);
    assert_eq!(tun["detailedStatus"], "Tunnel is up and running.");

    // The router links the tunnel; in-use deletes are refused.
    let (s, e) = call(
        &mut c,
        t,
        "PATCH",
        "p/regions/us-east4/routers/r1",
        json!({"interfaces": [{"name": "if-0", "ipRange": "169.254.0.1/30", "linkedVpnTunnel": "t0"}], "bgpPeers": [{"name": "p0", "interfaceName": "if-0", "peerIpAddress": "169.254.0.2", "peerAsn": 65020}]}),
    );
    assert_eq!(s, 200, "{e}");
    let (_, st) = call(&mut c, t, "GET", "p/regions/us-east4/routers/r1/getRouterStatus", json!(null));
    assert_eq!(
        st["result"]["bgpPeerStatus"][0]["linkedVpnTunnel"],
        call(&mut c, t, "GET", "p/regions/us-east4/vpnTunnels/t0", json!(null)).1["selfLink"]
    );
    for path in
        ["p/regions/us-east4/vpnGateways/ha", "p/global/externalVpnGateways/peer", "p/regions/us-east4/routers/r1", "p/global/networks/net"]
    {
        let (s, e) = call(&mut c, t, "DELETE", path, json!(null));
        assert_eq!((s, reason(&e)), (400, "resourceInUseByAnotherResource"), "{path}");
    }
    let (_, e) = call(&mut c, t, "DELETE", "p/regions/us-east4/vpnGateways/ha", json!(null));
    assert!(e["error"]["message"].as_str().unwrap().contains("is already being used by 'projects/p/regions/us-east4/vpnTunnels/t"), "{e}");
    assert_eq!(call(&mut c, t, "GET", "p/regions/us-east4/vpnTunnels", json!(null)).1["kind"], "compute#vpnTunnelList");
    assert_eq!(call(&mut c, t, "GET", "p/global/externalVpnGateways", json!(null)).1["items"][0]["kind"], "compute#externalVpnGateway");
    for path in ["vpnTunnels/t0", "vpnTunnels/t1", "vpnGateways/ha", "vpnGateways/ha2", "routers/r1"] {
        let (s, e) = call(&mut c, t, "DELETE", &format!("p/regions/us-east4/{path}"), json!(null));
        assert_eq!(s, 200, "{path}: {e}");
    }
    assert_eq!(call(&mut c, t, "DELETE", "p/global/externalVpnGateways/peer", json!(null)).0, 200);
    assert_eq!(call(&mut c, t, "DELETE", "p/global/networks/net", json!(null)).0, 200);
}

#[test]
fn partner_interconnect_attachments() {
    let mut c = Compute::default();
    let t = Instant::now();
    with_net_and_router(&mut c, t);
    let att =
        |router: &str| json!({"name": "vlan", "type": "PARTNER", "router": router, "edgeAvailabilityDomain": "AVAILABILITY_DOMAIN_2"});
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/interconnectAttachments", att("r1"));
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(e["error"]["message"].as_str().unwrap().contains("Partner Interconnect requires the Cloud Router ASN 16550"), "{e}");
    assert_eq!(
        call(&mut c, t, "POST", "p/regions/us-east4/routers", json!({"name": "rp", "network": "net", "bgp": {"asn": 16550}})).0,
        200
    );
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/interconnectAttachments",
        json!({"name": "vlan", "type": "DEDICATED", "router": "rp", "edgeAvailabilityDomain": "AVAILABILITY_DOMAIN_1"}),
    );
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(e["error"]["message"].as_str().unwrap().contains("only PARTNER"), "{e}");
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/interconnectAttachments",
        json!({"name": "vlan", "type": "PARTNER", "router": "rp", "edgeAvailabilityDomain": "AVAILABILITY_DOMAIN_3"}),
    );
    assert_eq!((s, reason(&e)), (400, "invalid"));
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/interconnectAttachments",
        json!({"name": "vlan", "type": "PARTNER", "router": "rp", "mtu": 9000}),
    );
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(e["error"]["message"].as_str().unwrap().contains("1440, 1460, 1500 and 8896"), "{e}");
    // No domain given: AVAILABILITY_DOMAIN_ANY, and the domain is input only.
    let (s, e) = call(
        &mut c,
        t,
        "POST",
        "p/regions/us-east4/interconnectAttachments",
        json!({"name": "any", "type": "PARTNER", "router": "rp", "mtu": 8896}),
    );
    assert_eq!(s, 200, "{e}");
    let (_, any) = call(&mut c, t, "GET", "p/regions/us-east4/interconnectAttachments/any", json!(null));
    assert!(any.get("edgeAvailabilityDomain").is_none(), "{any}");
    assert_eq!(any["mtu"], 8896);
    assert_eq!(call(&mut c, t, "DELETE", "p/regions/us-east4/interconnectAttachments/any", json!(null)).0, 200);
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-west1/interconnectAttachments", att("rp"));
    assert_eq!((s, reason(&e)), (404, "notFound"), "a router of another region");
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/interconnectAttachments", att("rp"));
    assert_eq!(s, 200, "{e}");
    let (_, a) = call(&mut c, t, "GET", "p/regions/us-east4/interconnectAttachments/vlan", json!(null));
    let key = a["pairingKey"].as_str().unwrap();
    assert!(key.ends_with("/us-east4/2") && key.len() > 40, "{key}");
    assert_eq!(
        (a["state"].as_str(), a["operationalStatus"].as_str(), a["adminEnabled"].as_bool(), a["mtu"].as_i64()),
        (Some("PENDING_PARTNER"), Some("OS_UNPROVISIONED"), Some(false), Some(1440))
    );
    assert_eq!(a["network"], "http://h/compute/v1/projects/p/global/networks/net");
    assert!(a.get("partnerAsn").is_none());
    assert_eq!(call(&mut c, t, "PATCH", "p/regions/us-east4/interconnectAttachments/vlan", json!({"mtu": 1460})).0, 200);
    assert_eq!(
        call(&mut c, t, "PATCH", "p/regions/us-east4/interconnectAttachments/vlan", json!({"adminEnabled": true, "mtu": 1500})).0,
        200
    );
    let (s, _) = call(&mut c, t, "PATCH", "p/regions/us-east4/interconnectAttachments/vlan", json!({"mtu": 9000}));
    assert_eq!(s, 400);
    let (s, _) = call(&mut c, t, "PATCH", "p/regions/us-east4/interconnectAttachments/vlan", json!({"router": "r1"}));
    assert_eq!(s, 400);
    let (_, a) = call(&mut c, t, "GET", "p/regions/us-east4/interconnectAttachments/vlan", json!(null));
    assert_eq!((a["adminEnabled"].as_bool(), a["mtu"].as_i64()), (Some(true), Some(1500)));
    let (s, e) = call(&mut c, t, "DELETE", "p/regions/us-east4/routers/rp", json!(null));
    assert_eq!((s, reason(&e)), (400, "resourceInUseByAnotherResource"));
    assert!(e["error"]["message"].as_str().unwrap().contains("interconnectAttachments/vlan"), "{e}");
    assert_eq!(call(&mut c, t, "DELETE", "p/regions/us-east4/interconnectAttachments/vlan", json!(null)).0, 200);
    assert_eq!(call(&mut c, t, "DELETE", "p/regions/us-east4/routers/rp", json!(null)).0, 200);
}

/// A latency model with the attachment turnup and the consistency lag.
fn lagging(turnup: Duration, not_found: Duration) -> TestLatency {
    TestLatency { base: Duration::ZERO, kind: Some(("interconnect_attachment_turnup", turnup)), not_found: Some(("compute", not_found)) }
}

fn send(c: &mut Compute, m: &TestLatency, at: Instant, method: &str, rest: &str, body: Value) -> (u16, Value) {
    match c.handle(m, at, method, rest, body.to_string().as_bytes(), "http://h") {
        Reply::Json(s, v) => (s, v),
        Reply::WaitThen(..) => unreachable!(),
    }
}

#[test]
fn attachments_start_unprovisioned_without_a_pairing_key_and_refuse_delete_until_turned_up() {
    let m = lagging(Duration::from_secs(2), Duration::ZERO);
    let mut c = Compute::default();
    let t = Instant::now();
    send(&mut c, &m, t, "POST", "p/global/networks", json!({"name": "net", "autoCreateSubnetworks": false}));
    send(&mut c, &m, t, "POST", "p/regions/us-east4/routers", json!({"name": "rp", "network": "net", "bgp": {"asn": 16550}}));
    let (s, e) = send(
        &mut c,
        &m,
        t,
        "POST",
        "p/regions/us-east4/interconnectAttachments",
        json!({"name": "vlan", "type": "PARTNER", "router": "rp"}),
    );
    assert_eq!(s, 200, "{e}");
    let (_, a) = send(&mut c, &m, t + Duration::from_secs(1), "GET", "p/regions/us-east4/interconnectAttachments/vlan", json!(null));
    assert_eq!(a["state"], "UNPROVISIONED");
    assert!(a.get("pairingKey").is_none(), "{a}");
    let (_, l) = send(&mut c, &m, t + Duration::from_secs(1), "GET", "p/regions/us-east4/interconnectAttachments", json!(null));
    assert_eq!(l["items"][0]["state"], "UNPROVISIONED");
    let (s, e) = send(&mut c, &m, t + Duration::from_secs(1), "DELETE", "p/regions/us-east4/interconnectAttachments/vlan", json!(null));
    assert_eq!((s, reason(&e)), (400, "resourceNotReady"), "{e}");
    let (_, a) = send(&mut c, &m, t + Duration::from_secs(3), "GET", "p/regions/us-east4/interconnectAttachments/vlan", json!(null));
    assert_eq!(a["state"], "PENDING_PARTNER");
    assert!(a["pairingKey"].as_str().is_some_and(|k| k.ends_with("/us-east4/1")), "{a}");
    assert_eq!(
        send(&mut c, &m, t + Duration::from_secs(3), "DELETE", "p/regions/us-east4/interconnectAttachments/vlan", json!(null)).0,
        200
    );
}

#[test]
fn get_right_after_an_insert_may_answer_not_found() {
    let m = lagging(Duration::ZERO, Duration::from_secs(2));
    let mut c = Compute::default();
    let t = Instant::now();
    let (s, op) = send(&mut c, &m, t, "POST", "p/global/networks", json!({"name": "net", "autoCreateSubnetworks": false}));
    assert_eq!(s, 200);
    let op = format!("p/global/operations/{}", op["name"].as_str().unwrap());
    assert_eq!(send(&mut c, &m, t, "GET", &op, json!(null)).1["status"], "DONE");
    let (s, e) = send(&mut c, &m, t + Duration::from_secs(1), "GET", "p/global/networks/net", json!(null));
    assert_eq!((s, reason(&e)), (404, "notFound"));
    assert!(send(&mut c, &m, t + Duration::from_secs(1), "GET", "p/global/networks", json!(null)).1.get("items").is_none());
    // Already usable by reference, and still not insertable twice.
    assert_eq!(
        send(
            &mut c,
            &m,
            t + Duration::from_secs(1),
            "POST",
            "p/regions/us-east4/routers",
            json!({"name": "r", "network": "net", "bgp": {"asn": 65010}})
        )
        .0,
        200
    );
    assert_eq!(
        reason(
            &send(
                &mut c,
                &m,
                t + Duration::from_secs(1),
                "POST",
                "p/global/networks",
                json!({"name": "net", "autoCreateSubnetworks": false})
            )
            .1
        ),
        "alreadyExists"
    );
    assert_eq!(send(&mut c, &m, t + Duration::from_secs(2), "GET", "p/global/networks/net", json!(null)).0, 200);
}

#[test]
fn ha_vpn_tunnels_refuse_peer_ip_and_bgp_peers_take_the_interface_address() {
    let mut c = Compute::default();
    let t = Instant::now();
    with_net_and_router(&mut c, t);
    call(&mut c, t, "POST", "p/regions/us-east4/vpnGateways", json!({"name": "ha", "network": "net"}));
    call(
        &mut c,
        t,
        "POST",
        "p/global/externalVpnGateways",
        json!({"name": "peer", "redundancyType": "SINGLE_IP_INTERNALLY_REDUNDANT", "interfaces": [{"id": 0, "ipAddress": "203.0.113.1"}]}),
    );
    let base = json!({"name": "t0", "sharedSecret": "s3cret", "vpnGateway": "ha", "router": "r1"});
    let mut with_ip = base.clone();
    with_ip["peerIp"] = json!("203.0.113.1");
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", with_ip);
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(e["error"]["message"].as_str().unwrap().contains("Cannot specify peer IP for HA VPN tunnel creation"), "{e}");
    let (s, e) = call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", base.clone());
    assert_eq!((s, reason(&e)), (400, "required"), "{e}");
    let mut ok = base.clone();
    ok["peerExternalGateway"] = json!("peer");
    assert_eq!(call(&mut c, t, "POST", "p/regions/us-east4/vpnTunnels", ok).0, 200);
    assert_eq!(call(&mut c, t, "GET", "p/regions/us-east4/vpnTunnels/t0", json!(null)).1["peerIp"], "203.0.113.1", "GCP fills peerIp in");

    let itf = json!([{"name": "if-0", "ipRange": "169.254.0.1/30", "linkedVpnTunnel": "t0"}]);
    let peer = |extra: Value| {
        let mut p = json!({"name": "p0", "interfaceName": "if-0", "peerIpAddress": "169.254.0.2", "peerAsn": 65020});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({"interfaces": itf, "bgpPeers": [p]})
    };
    let (s, e) = call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", peer(json!({"ipAddress": "169.254.0.3"})));
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(
        e["error"]["message"].as_str().unwrap().contains("has IP address 169.254.0.3 different from interface IP address 169.254.0.1"),
        "{e}"
    );
    assert_eq!(call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", peer(json!({}))).0, 200);
    assert_eq!(
        call(&mut c, t, "GET", "p/regions/us-east4/routers/r1", json!(null)).1["bgpPeers"][0]["ipAddress"],
        "169.254.0.1",
        "taken from the interface"
    );
    let bare = json!({"interfaces": [{"name": "if-1"}], "bgpPeers": [{"name": "p1", "interfaceName": "if-1", "peerIpAddress": "169.254.9.2", "peerAsn": 65020}]});
    let (s, e) = call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", bare);
    assert_eq!((s, reason(&e)), (400, "invalid"));
    assert!(
        e["error"]["message"].as_str().unwrap().contains("peer IP address 169.254.9.2 is specified, but IP address is not specified"),
        "{e}"
    );
}
