//! Compute Engine types of the hashicorp/google provider. tandem's GCP
//! kinds take `project` and references as self links, and keep the id
//! `projects/P/...` the provider keeps too.

use super::*;

fn base(kind: &'static str, a: &Map<String, Value>) -> Mapped {
    let mut m = Mapped::new(kind, id(a));
    m.set("project", sv(a, "project")).set("name", sv(a, "name"));
    m.set("description", Some(json!(s(a, "description").unwrap_or_default())));
    m.out("self_link", sv(a, "self_link")).out("name", sv(a, "name"));
    m
}

pub fn network(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if a.get("auto_create_subnetworks") == Some(&json!(true)) {
        return skip("it is an auto mode network; tandem's gcp.compute.network is custom mode (subnetworks declared one by one)");
    }
    let mut m = base("gcp.compute.network", a);
    m.set("routing_mode", sv(a, "routing_mode")).set("mtu", iv(a, "mtu").filter(|v| v != &json!(0)));
    m.out("id", sv(a, "numeric_id"));
    unmodelled(&mut m, a, &[("enable_ula_internal_ipv6", "internal IPv6"), ("delete_default_routes_on_create", "default route deletion")]);
    Outcome::Kind(m)
}

pub fn subnetwork(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = base("gcp.compute.subnetwork", a);
    m.set("network", sv(a, "network"))
        .set("ip_cidr_range", sv(a, "ip_cidr_range"))
        .set("private_ip_google_access", b(a, "private_ip_google_access"));
    m.out("gateway_address", sv(a, "gateway_address")).out("ip_cidr_range", sv(a, "ip_cidr_range"));
    unmodelled(&mut m, a, &[("secondary_ip_range", "secondary ranges"), ("log_config", "flow logs"), ("ipv6_access_type", "IPv6")]);
    Outcome::Kind(m)
}

pub fn firewall(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if !blocks(a, "deny").is_empty() {
        return skip("it is a deny rule; tandem's gcp.compute.firewall declares allow rules");
    }
    let mut m = base("gcp.compute.firewall", a);
    m.set("network", sv(a, "network")).set("direction", sv(a, "direction")).set("priority", iv(a, "priority"));
    let allowed: Vec<Value> = blocks(a, "allow")
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("ip_protocol".into(), json!(s(r, "protocol")));
            let ports = strings(r, "ports");
            if !ports.is_empty() {
                o.insert("ports".into(), json!(ports));
            }
            Value::Object(o)
        })
        .collect();
    m.set("allowed", Some(json!(allowed)));
    for (k, tf) in [("source_ranges", "source_ranges"), ("destination_ranges", "destination_ranges"), ("target_tags", "target_tags")] {
        let l = strings(a, tf);
        if !l.is_empty() {
            m.set(k, Some(json!(l)));
        }
    }
    m.set("disabled", b(a, "disabled"));
    unmodelled(
        &mut m,
        a,
        &[
            ("source_tags", "source tags"),
            ("source_service_accounts", "service accounts"),
            ("target_service_accounts", "service accounts"),
            ("log_config", "firewall logging"),
        ],
    );
    Outcome::Kind(m)
}

pub fn router(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = base("gcp.compute.router", a);
    m.set("network", sv(a, "network"));
    if let Some(bgp) = block(a, "bgp") {
        m.set("asn", iv(bgp, "asn"))
            .set("advertise_mode", sv(bgp, "advertise_mode"))
            .set("keepalive_interval", iv(bgp, "keepalive_interval"));
        let groups = strings(bgp, "advertised_groups");
        if !groups.is_empty() {
            m.set("advertised_groups", Some(json!(groups)));
        }
        let ranges: Vec<Value> = blocks(bgp, "advertised_ip_ranges")
            .iter()
            .map(|r| {
                let mut o = Map::new();
                o.insert("range".into(), json!(s(r, "range")));
                if let Some(d) = s(r, "description") {
                    o.insert("description".into(), json!(d));
                }
                Value::Object(o)
            })
            .collect();
        if !ranges.is_empty() {
            m.set("advertised_ip_ranges", Some(json!(ranges)));
        }
        m.out("asn", iv(bgp, "asn"));
    }
    unmodelled(&mut m, a, &[("encrypted_interconnect_router", "encrypted interconnect")]);
    Outcome::Kind(m)
}

pub fn ha_vpn_gateway(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = base("gcp.compute.ha_vpn_gateway", a);
    m.set("network", sv(a, "network"));
    for i in blocks(a, "vpn_interfaces") {
        if let Some(n) = int(i, "id") {
            m.out(&format!("interface{n}_ip"), sv(i, "ip_address"));
        }
    }
    Outcome::Kind(m)
}

pub fn external_vpn_gateway(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = base("gcp.compute.external_vpn_gateway", a);
    m.set("redundancy_type", sv(a, "redundancy_type"));
    let ifaces: Vec<Value> =
        blocks(a, "interface").iter().map(|i| json!({ "id": int(i, "id").unwrap_or(0), "ip_address": s(i, "ip_address") })).collect();
    m.set("interfaces", Some(json!(ifaces)));
    Outcome::Kind(m)
}

pub fn vpn_tunnel(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if s(a, "vpn_gateway").is_none() || s(a, "peer_external_gateway").is_none() {
        return skip("it is a Classic VPN tunnel or goes to another GCP gateway; tandem's gcp.compute.vpn_tunnel joins an HA VPN gateway to an external VPN gateway");
    }
    let mut m = base("gcp.compute.vpn_tunnel", a);
    m.set("vpn_gateway", sv(a, "vpn_gateway")).set("vpn_gateway_interface", iv(a, "vpn_gateway_interface"));
    m.set("peer_external_gateway", sv(a, "peer_external_gateway"))
        .set("peer_external_gateway_interface", iv(a, "peer_external_gateway_interface"));
    m.set("router", sv(a, "router")).set("shared_secret", sv(a, "shared_secret")).set("ike_version", iv(a, "ike_version"));
    m.secrets.push("shared_secret".into());
    m.out("peer_ip", sv(a, "peer_ip")).out("detailed_status", sv(a, "detailed_status"));
    Outcome::Kind(m)
}

/// Interfaces are declared with the BGP peer on them (gcp.compute.router_peer).
pub fn router_interface(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    Outcome::Carried(interface_key(
        &s(a, "project").unwrap_or_default(),
        &s(a, "region").unwrap_or_default(),
        &s(a, "router").unwrap_or_default(),
        &s(a, "name").unwrap_or_default(),
    ))
}

pub fn interface_key(project: &str, region: &str, router: &str, name: &str) -> String {
    format!("projects/{project}/regions/{region}/routers/{router}/interfaces/{name}")
}

fn last(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

pub fn router_peer(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let (project, region, router, name) = (
        s(a, "project").unwrap_or_default(),
        s(a, "region").unwrap_or_default(),
        s(a, "router").unwrap_or_default(),
        s(a, "name").unwrap_or_default(),
    );
    let router = last(&router).to_string();
    let Some(link) = src.lookups.routers.get(&(project.clone(), region.clone(), router.clone())) else {
        return skip(format!("its router {router} is not in the state; tandem refers to the router by its self link"));
    };
    let iface_name = s(a, "interface").unwrap_or_default();
    let Some(iface) = src.lookups.router_interfaces.get(&(project.clone(), region.clone(), router.clone(), iface_name.clone())) else {
        return skip(format!("its interface {iface_name} is not in the state; tandem declares the interface with the peer"));
    };
    let mut m = Mapped::new("gcp.compute.router_peer", format!("projects/{project}/regions/{region}/routers/{router}/bgpPeers/{name}"));
    m.carries.push(interface_key(&project, &region, &router, &iface_name));
    m.set("project", Some(json!(project)))
        .set("router", Some(json!(link)))
        .set("name", Some(json!(name)))
        .set("interface_name", Some(json!(iface_name)));
    m.set("ip_range", sv(iface, "ip_range"));
    if let Some(t) = s(iface, "vpn_tunnel") {
        let link =
            if t.contains('/') { t } else { src.lookups.tunnels.get(&(project.clone(), region.clone(), t.clone())).cloned().unwrap_or(t) };
        m.set("linked_vpn_tunnel", Some(json!(link)));
    }
    m.set("linked_interconnect_attachment", sv(iface, "interconnect_attachment"));
    m.set("peer_ip_address", sv(a, "peer_ip_address"))
        .set("peer_asn", iv(a, "peer_asn"))
        .set("advertised_route_priority", iv(a, "advertised_route_priority"));
    m.out("ip_address", sv(a, "ip_address")).out("name", Some(json!(name)));
    if a.get("enable") == Some(&json!(false)) {
        m.note("`enable` = false (the session is shut down) is not managed by tandem: it stays as it is in the cloud");
    }
    if s(a, "advertise_mode").is_some_and(|m| m != "DEFAULT") {
        m.note("`advertise_mode` CUSTOM and its ranges are not managed by tandem on a peer: they stay as they are in the cloud");
    }
    if !blocks(a, "md5_authentication_key").is_empty() {
        // The key itself is a secret: named, never shown.
        m.note("`md5_authentication_key` (MD5 authentication of the session) is not managed by tandem: it stays as it is in the cloud");
    }
    if block(a, "bfd").and_then(|b| s(b, "session_initialization_mode")).is_some_and(|m| m != "DISABLED") {
        m.note("`bfd` is not managed by tandem: it stays as it is in the cloud");
    }
    Outcome::Kind(m)
}

pub fn interconnect_attachment(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if s(a, "type").is_some_and(|t| t != "PARTNER") {
        return skip("it is not a PARTNER attachment; tandem's gcp.compute.interconnect_attachment is Partner Interconnect");
    }
    let mut m = base("gcp.compute.interconnect_attachment", a);
    m.set("router", sv(a, "router")).set("type", sv(a, "type")).set("edge_availability_domain", sv(a, "edge_availability_domain"));
    m.set("admin_enabled", b(a, "admin_enabled")).set("mtu", iv(a, "mtu"));
    m.out("pairing_key", sv(a, "pairing_key")).out("state", sv(a, "state"));
    if s(a, "encryption").is_some_and(|e| e != "NONE") {
        unmodelled(&mut m, a, &[("encryption", "HA VPN over interconnect encryption"), ("ipsec_internal_addresses", "IPsec addresses")]);
    }
    Outcome::Kind(m)
}
