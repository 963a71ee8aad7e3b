//! Cloud Routers: BGP settings, interfaces, BGP peers, patch and update,
//! and the router status of their BGP sessions.
//! https://cloud.google.com/compute/docs/reference/rest/v1/routers

use super::error::GcpError;
use super::fields::{enum_field, int_field, num, present, required};
use super::ipv4::{in_net, ipv4, parse_net};
use super::store::{last, valid_name};
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// Who may hold a router: a tunnel or an attachment naming it (see `NETWORK_USERS`).
pub(super) const ROUTER_USERS: &[(&str, &str)] = &[("vpnTunnels", "router"), ("interconnectAttachments", "router")];

/// "Any private ASN (64512-65534, 4200000000-4294967294) that you are not
/// already using", or 16550 for Partner Interconnect.
/// https://cloud.google.com/network-connectivity/docs/router/concepts/overview#bgp-asns
pub(super) fn router_asn_ok(asn: i64) -> bool {
    (64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn) || asn == 16550
}

impl Compute {
    /// The router's BGP settings, interfaces and peers (insert and patch).
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers
    pub(super) fn router_rules(&self, now: Instant, p: &str, region: &str, m: &mut Map<String, Value>) -> Result<(), GcpError> {
        let Some(Value::Object(mut bgp)) = present(m, "bgp").cloned() else {
            return Err(GcpError::new(400, "required", "Required field 'resource.bgp' not specified"));
        };
        let asn = num(Some(
            required(&bgp, "asn").map_err(|_| GcpError::new(400, "required", "Required field 'resource.bgp.asn' not specified"))?,
        ))
        .unwrap_or(-1);
        if !router_asn_ok(asn) {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.bgp.asn': '{asn}'. The Cloud Router ASN must be a private ASN (64512-65534 or 4200000000-4294967294), or 16550 for Partner Interconnect"
            )));
        }
        bgp.insert("asn".into(), json!(asn));
        enum_field(&mut bgp, "advertiseMode", Some("DEFAULT"), &["DEFAULT", "CUSTOM"])
            .map_err(|e| GcpError::invalid(e.message.replace("resource.", "resource.bgp.")))?;
        for g in bgp.get("advertisedGroups").and_then(Value::as_array).into_iter().flatten() {
            if g.as_str() != Some("ALL_SUBNETS") {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.bgp.advertisedGroups': {g}. Must be ALL_SUBNETS"
                )));
            }
        }
        for r in bgp.get("advertisedIpRanges").and_then(Value::as_array).into_iter().flatten() {
            let range = r.get("range").and_then(Value::as_str).unwrap_or_default();
            if parse_net(range).is_none() && ipv4(range).is_none() {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.bgp.advertisedIpRanges.range': '{range}'. Must be a CIDR range"
                )));
            }
        }
        int_field(&mut bgp, "keepaliveInterval", Some(20), 20..=60)
            .map_err(|e| GcpError::invalid(e.message.replace("resource.", "resource.bgp.")))?;
        m.insert("bgp".into(), Value::Object(bgp));

        // Interfaces: unique names, link-local /30 (or /29) ranges, a linked tunnel or attachment in this region.
        let mut interfaces = match present(m, "interfaces") {
            None => vec![],
            Some(Value::Array(a)) => a.clone(),
            Some(other) => return Err(GcpError::invalid(format!("Invalid value for field 'resource.interfaces': {other}"))),
        };
        let mut ranges: BTreeMap<String, Option<(u32, u8)>> = BTreeMap::new();
        for (i, itf) in interfaces.iter_mut().enumerate() {
            let Some(o) = itf.as_object_mut() else {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.interfaces[{i}]'")));
            };
            let name = o.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if !valid_name(&name) {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.interfaces[{i}].name': '{name}'")));
            }
            let range = match present(o, "ipRange") {
                None => None,
                Some(v) => {
                    let s = v.as_str().unwrap_or_default();
                    match parse_net(s) {
                        Some((ip, len)) if (len == 30 || len == 29) && ip >> 16 == 0xA9FE => Some((ip, len)),
                        _ => {
                            return Err(GcpError::invalid(format!(
                                "Invalid value for field 'resource.interfaces[{i}].ipRange': '{s}'. It must be a /30 (or /29) range inside the link-local range 169.254.0.0/16"
                            )))
                        }
                    }
                }
            };
            if ranges.insert(name.clone(), range).is_some() {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.interfaces[{i}].name': '{name}'. Interface names must be unique within a router"
                )));
            }
            let tunnel = present(o, "linkedVpnTunnel").and_then(Value::as_str).map(str::to_string);
            let attachment = present(o, "linkedInterconnectAttachment").and_then(Value::as_str).map(str::to_string);
            if tunnel.is_some() && attachment.is_some() {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.interfaces[{i}]': set linkedVpnTunnel or linkedInterconnectAttachment, not both"
                )));
            }
            if let Some(t) = tunnel {
                let v = self.lookup(now, p, region, "vpnTunnels", &format!("interfaces[{i}].linkedVpnTunnel"), &t)?;
                o.insert("linkedVpnTunnel".into(), v["selfLink"].clone());
            }
            if let Some(a) = attachment {
                let v =
                    self.lookup(now, p, region, "interconnectAttachments", &format!("interfaces[{i}].linkedInterconnectAttachment"), &a)?;
                o.insert("linkedInterconnectAttachment".into(), v["selfLink"].clone());
            }
        }
        m.insert("interfaces".into(), Value::Array(interfaces));

        // BGP peers: unique names, on an interface of this router, addresses within its range.
        let mut peers = match present(m, "bgpPeers") {
            None => vec![],
            Some(Value::Array(a)) => a.clone(),
            Some(other) => return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers': {other}"))),
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, peer) in peers.iter_mut().enumerate() {
            let Some(o) = peer.as_object_mut() else {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers[{i}]'")));
            };
            let name = o.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if !valid_name(&name) {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers[{i}].name': '{name}'")));
            }
            if !seen.insert(name.clone()) {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.bgpPeers[{i}].name': '{name}'. BGP peer names must be unique within a router"
                )));
            }
            let itf = o.get("interfaceName").and_then(Value::as_str).unwrap_or_default();
            let Some(range) = ranges.get(itf) else {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.bgpPeers[{i}].interfaceName': '{itf}'. The router has no interface named '{itf}'"
                )));
            };
            for (f, req) in [("peerIpAddress", true), ("ipAddress", false)] {
                match present(o, f) {
                    None if req => {
                        return Err(GcpError::new(400, "required", format!("Required field 'resource.bgpPeers[{i}].{f}' not specified")))
                    }
                    None => {}
                    Some(v) => {
                        let s = v.as_str().unwrap_or_default();
                        match ipv4(s) {
                            Some(ip) if range.is_none_or(|r| in_net(ip, r)) => {}
                            Some(_) => return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers[{i}].{f}': '{s}'. It must be inside the ipRange of interface '{itf}'"))),
                            None => return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers[{i}].{f}': '{s}'. Must be an IPv4 address"))),
                        }
                    }
                }
            }
            // The peer's own address is the interface's: Google fills it in from
            // the interface's ipRange, refuses another one, and refuses a peer
            // address with no address of its own (messages as Google returns them:
            // terraform-google-modules/terraform-google-vpn#45,
            // hashicorp/terraform-provider-google#7662).
            // https://cloud.google.com/compute/docs/reference/rest/v1/routers
            let own = range.map(|(ip, _)| std::net::Ipv4Addr::from(ip).to_string());
            match (present(o, "ipAddress").and_then(Value::as_str).map(str::to_string), own) {
                (Some(a), Some(b)) if a != b => {
                    return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers[{i}].ipAddress': '{a}'. BGP Peer \"{name}\" has IP address {a} different from interface IP address {b}")));
                }
                (None, Some(b)) => {
                    o.insert("ipAddress".into(), json!(b));
                }
                (None, None) => {
                    let peer_ip = present(o, "peerIpAddress").and_then(Value::as_str).unwrap_or_default();
                    return Err(GcpError::invalid(format!(
                        "Invalid value for field 'resource.bgpPeers[{i}]'. In BGP Peer \"{name}\", peer IP address {peer_ip} is specified, but IP address is not specified."
                    )));
                }
                _ => {}
            }
            match num(present(o, "peerAsn")) {
                None => {
                    return Err(GcpError::new(400, "required", format!("Required field 'resource.bgpPeers[{i}].peerAsn' not specified")))
                }
                Some(a) if !(1..=4_294_967_294).contains(&a) => {
                    return Err(GcpError::invalid(format!("Invalid value for field 'resource.bgpPeers[{i}].peerAsn': '{a}'")))
                }
                Some(_) => {}
            }
            enum_field(o, "advertiseMode", None, &["DEFAULT", "CUSTOM"])
                .map_err(|e| GcpError::invalid(e.message.replace("resource.", &format!("resource.bgpPeers[{i}]."))))?;
            int_field(o, "advertisedRoutePriority", None, 0..=65535)
                .map_err(|e| GcpError::invalid(e.message.replace("resource.", &format!("resource.bgpPeers[{i}]."))))?;
        }
        m.insert("bgpPeers".into(), Value::Array(peers));
        Ok(())
    }

    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers/insert
    pub(super) fn insert_router(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "routers", &m)?;
        self.link_network(now, p, &mut m)?;
        self.router_rules(now, p, region, &mut m)?;
        let fresh = self.fresh(p, region, "routers", "compute#router", &name, m, base);
        Ok(self.commit(latency, now, p, region, "routers", "router", &name, fresh, base))
    }

    /// PATCH (`replace` false) or update (PUT, `replace` true) a router.
    /// PATCH replaces the repeated fields it carries (interfaces, bgpPeers)
    /// whole and merges `bgp` field by field; update replaces the router, a
    /// missing field cleared. The v1 Router resource has no fingerprint, so
    /// neither guards against a concurrent read-modify-write; what GCP does
    /// refuse is a change while the router's previous operation still runs:
    /// 400 resourceNotReady. The change takes the latency model's
    /// `compute`/`router_update` creation time.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers/patch
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers/update
    #[allow(clippy::too_many_arguments)]
    pub(super) fn change_router(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        name: &str,
        input: Map<String, Value>,
        base: &str,
        replace: bool,
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, region, "routers", name);
        let path = Self::path_of(p, region, "routers", name);
        let Some(Value::Object(mut m)) = self.visible(now, &k).map(|s| s.value.clone()) else { return Err(GcpError::not_found(&path)) };
        if self.busy.get(&k).is_some_and(|until| *until > now) {
            return Err(GcpError::new(400, "resourceNotReady", format!("The resource '{path}' is not ready")));
        }
        if replace {
            for f in ["description", "interfaces", "bgpPeers"] {
                if !input.contains_key(f) {
                    m.insert(f.into(), if f == "description" { json!("") } else { json!([]) });
                }
            }
        }
        for (f, v) in input {
            match f.as_str() {
                "name" | "kind" | "id" | "selfLink" | "region" | "creationTimestamp" => {}
                "network" if v.as_str().map(last) == m["network"].as_str().map(last) => {}
                "description" | "interfaces" | "bgpPeers" => {
                    m.insert(f, v);
                }
                "bgp" if replace => {
                    m.insert(f, v);
                }
                "bgp" => match (m.get_mut("bgp"), v) {
                    (Some(Value::Object(cur)), Value::Object(new)) => cur.extend(new),
                    (_, v) => {
                        m.insert(f, v);
                    }
                },
                "encryptedInterconnectRouter" | "nats" | "md5AuthenticationKeys"
                    if v.as_array().is_none_or(|a| a.is_empty()) && !v.is_boolean() => {}
                "encryptedInterconnectRouter" if v == m.get(&f).cloned().unwrap_or(json!(false)) => {}
                _ => {
                    return Err(GcpError::invalid(format!(
                        "Invalid value for field 'resource.{f}': it cannot be changed by {}",
                        if replace { "update" } else { "patch" }
                    )))
                }
            }
        }
        self.router_rules(now, p, region, &mut m)?;
        let id = m["id"].as_str().unwrap_or_default().to_string();
        if let Some(st) = self.resources.get_mut(&k) {
            st.value = Value::Object(m);
        }
        let after = latency.creation("compute", "router_update", region);
        self.busy.insert(k, now + after);
        Ok(self.start(now, p, region, "router", if replace { "update" } else { "patch" }, &path, &id, after, base))
    }

    /// One BGP session per peer, all up (the sandbox has no real peers).
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus
    pub(super) fn router_status(&mut self, now: Instant, p: &str, region: &str, name: &str) -> Result<Value, GcpError> {
        let r = self.get(now, p, region, "routers", name)?;
        let peers: Vec<Value> = r["bgpPeers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|peer| {
                let itf = r["interfaces"].as_array().into_iter().flatten().find(|i| i["name"] == peer["interfaceName"]);
                let mut s =
                    json!({ "name": peer["name"], "status": "UP", "state": "Established", "uptime": "0 seconds", "uptimeSeconds": "0" });
                for (to, v) in [("ipAddress", &peer["ipAddress"]), ("peerIpAddress", &peer["peerIpAddress"])] {
                    if !v.is_null() {
                        s[to] = v.clone();
                    }
                }
                if let Some(t) = itf.and_then(|i| i.get("linkedVpnTunnel")) {
                    s["linkedVpnTunnel"] = t.clone();
                }
                s
            })
            .collect();
        Ok(json!({ "kind": "compute#routerStatusResponse", "result": { "network": r["network"], "bgpPeerStatus": peers } }))
    }
}
