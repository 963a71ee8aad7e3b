//! VPC networks and their subnetworks.
//! https://cloud.google.com/compute/docs/reference/rest/v1/networks
//! https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks

use super::error::GcpError;
use super::ipv4::{overlaps, parse_net};
use super::store::{fingerprint, last, rfc3339, Stored};
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::time::{Instant, SystemTime};

/// Who may hold a resource: (collection, field holding its link).
/// A network in use cannot be deleted.
/// https://cloud.google.com/compute/docs/reference/rest/v1/networks/delete
pub(super) const NETWORK_USERS: &[(&str, &str)] = &[
    ("subnetworks", "network"),
    ("firewalls", "network"),
    ("routers", "network"),
    ("vpnGateways", "network"),
    ("interconnectAttachments", "network"),
];

/// https://cloud.google.com/compute/docs/reference/rest/v1/networks/patch
pub(super) const NETWORK_PATCH: &[&str] = &["description", "routingConfig", "mtu"];

/// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
pub(super) const SUBNETWORK_PATCH: &[&str] = &["description", "privateIpGoogleAccess"];

impl Compute {
    pub(super) fn insert_network(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        input: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = Self::name_of(&input)?;
        let k = Self::key(p, "global", "networks", &name);
        if self.exists(&k) {
            return Err(GcpError::new(
                409,
                "alreadyExists",
                format!("The resource '{}' already exists", Self::path_of(p, "global", "networks", &name)),
            ));
        }
        // Legacy networks (no autoCreateSubnetworks) are deprecated; tandem makes VPC networks.
        // https://cloud.google.com/compute/docs/reference/rest/v1/networks/insert
        let auto = match input.get("autoCreateSubnetworks") {
            Some(Value::Bool(b)) => *b,
            None => return Err(GcpError::invalid("Invalid value for field 'resource.autoCreateSubnetworks': legacy networks are not supported; set it to false (custom mode) or true (auto mode)")),
            Some(other) => return Err(GcpError::invalid(format!("Invalid value for field 'resource.autoCreateSubnetworks': {other}"))),
        };
        let mode = input.get("routingConfig").and_then(|r| r.get("routingMode")).and_then(Value::as_str).unwrap_or("REGIONAL");
        if mode != "REGIONAL" && mode != "GLOBAL" {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.routingConfig.routingMode': '{mode}'. Must be REGIONAL or GLOBAL"
            )));
        }
        let mtu = input.get("mtu").and_then(Value::as_i64).unwrap_or(1460);
        if !(1300..=8896).contains(&mtu) {
            return Err(GcpError::invalid(format!("Invalid value for field 'resource.mtu': '{mtu}'. Must be between 1300 and 8896")));
        }
        let id = self.id();
        let path = Self::path_of(p, "global", "networks", &name);
        let value = json!({
            "kind": "compute#network", "id": id, "creationTimestamp": rfc3339(SystemTime::now()), "name": name,
            "description": input.get("description").cloned().unwrap_or(json!("")),
            "selfLink": format!("{base}/compute/v1/{path}"), "selfLinkWithId": format!("{base}/compute/v1/projects/{p}/global/networks/{id}"),
            "autoCreateSubnetworks": auto, "routingConfig": { "routingMode": mode }, "mtu": mtu,
            "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
        });
        let after = latency.creation("compute", "network", "global");
        self.resources.insert(k, Stored::new(latency, value, now + after));
        Ok(self.start(now, p, "global", "network", "insert", &path, &id, after, base))
    }

    pub(super) fn insert_subnetwork(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        input: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = Self::name_of(&input)?;
        let k = Self::key(p, region, "subnetworks", &name);
        if self.exists(&k) {
            return Err(GcpError::new(
                409,
                "alreadyExists",
                format!("The resource '{}' already exists", Self::path_of(p, region, "subnetworks", &name)),
            ));
        }
        let network = input
            .get("network")
            .and_then(Value::as_str)
            .ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.network' not specified"))?;
        let net = last(network).to_string();
        let net_key = Self::key(p, "global", "networks", &net);
        let net_link = match self.visible(now, &net_key) {
            Some(n) => n.value["selfLink"].clone(),
            None => return Err(GcpError::not_found(&Self::path_of(p, "global", "networks", &net))),
        };
        let cidr = input
            .get("ipCidrRange")
            .and_then(Value::as_str)
            .ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.ipCidrRange' not specified"))?;
        let Some((addr, len)) = parse_net(cidr) else {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.ipCidrRange': '{cidr}'. Invalid IPCidrRange: {cidr}"
            )));
        };
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        if addr & mask != addr || len > 29 {
            return Err(GcpError::invalid(format!("Invalid value for field 'resource.ipCidrRange': '{cidr}'. Invalid IPCidrRange: {cidr} (the address must be the network's first and the prefix at most /29)")));
        }
        // "Primary and secondary ranges can't overlap with any other ranges in the same VPC network."
        // https://cloud.google.com/vpc/docs/subnets#valid-ranges
        for ((rp, rs, rc, rn), st) in &self.resources {
            if rp == p && rc == "subnetworks" && st.gone_at.is_none() && last(st.value["network"].as_str().unwrap_or("")) == net {
                if let Some(other) = st.value["ipCidrRange"].as_str().and_then(parse_net) {
                    if overlaps((addr, len), other) {
                        return Err(GcpError::invalid(format!(
                            "Invalid IPCidrRange: {cidr} conflicts with existing subnetwork '{rn}' in region '{rs}'."
                        )));
                    }
                }
            }
        }
        let id = self.id();
        let path = Self::path_of(p, region, "subnetworks", &name);
        let gateway = std::net::Ipv4Addr::from(addr + 1).to_string();
        let value = json!({
            "kind": "compute#subnetwork", "id": id, "creationTimestamp": rfc3339(SystemTime::now()), "name": name,
            "description": input.get("description").cloned().unwrap_or(json!("")), "network": net_link, "ipCidrRange": cidr, "gatewayAddress": gateway,
            "region": format!("{base}/compute/v1/projects/{p}/regions/{region}"), "selfLink": format!("{base}/compute/v1/{path}"),
            "privateIpGoogleAccess": input.get("privateIpGoogleAccess").and_then(Value::as_bool).unwrap_or(false),
            "fingerprint": fingerprint(self.next_id), "stackType": "IPV4_ONLY", "purpose": "PRIVATE",
        });
        let after = latency.creation("compute", "subnetwork", region);
        self.resources.insert(k, Stored::new(latency, value, now + after));
        if let Some(n) = self.resources.get_mut(&net_key) {
            let link = format!("{base}/compute/v1/{path}");
            match n.value["subnetworks"].as_array_mut() {
                Some(a) => a.push(json!(link)),
                None => n.value["subnetworks"] = json!([link]),
            }
        }
        Ok(self.start(now, p, region, "subnetwork", "insert", &path, &id, after, base))
    }
}
