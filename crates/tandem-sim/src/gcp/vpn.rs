//! HA VPN: the Google-side gateways, the peer (external) gateways and the
//! tunnels between them.
//! https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways
//! https://cloud.google.com/compute/docs/reference/rest/v1/externalVpnGateways
//! https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels

use super::error::GcpError;
use super::fields::{enum_field, int_field, num, present, required, required_str};
use super::ipv4::ipv4;
use super::store::last;
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// Who may hold an HA VPN gateway: a tunnel on it or peering with it.
pub(super) const VPN_GATEWAY_USERS: &[(&str, &str)] = &[("vpnTunnels", "vpnGateway"), ("vpnTunnels", "peerGcpGateway")];

/// Who may hold an external VPN gateway: a tunnel peering with it.
pub(super) const EXTERNAL_GATEWAY_USERS: &[(&str, &str)] = &[("vpnTunnels", "peerExternalGateway")];

/// A hex digest (FNV-1a, two lanes) standing in for GCP's sharedSecretHash:
/// the secret itself is never kept or answered.
pub(super) fn secret_hash(secret: &str) -> String {
    let lane = |seed: u64| secret.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{:016x}{:016x}", lane(0xcbf2_9ce4_8422_2325), lane(0x84222325_cbf29ce4))
}

impl Compute {
    /// HA VPN gateway: two interfaces with server-assigned public addresses.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways/insert
    pub(super) fn insert_vpn_gateway(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "vpnGateways", &m)?;
        self.link_network(now, p, &mut m)?;
        enum_field(&mut m, "stackType", Some("IPV4_ONLY"), &["IPV4_ONLY", "IPV4_IPV6"])?;
        let (id, path, mut m) = self.fresh(p, region, "vpnGateways", "compute#vpnGateway", &name, m, base);
        // Distinct per gateway: derived from the id counter.
        let n = self.next_id;
        let (x, y) = ((n / 254) % 256, n % 254 + 1);
        m.insert(
            "vpnInterfaces".into(),
            json!([{ "id": 0, "ipAddress": format!("35.242.{x}.{y}") }, { "id": 1, "ipAddress": format!("35.220.{x}.{y}") }]),
        );
        Ok(self.commit(latency, now, p, region, "vpnGateways", "vpn_gateway", &name, (id, path, m), base))
    }

    /// The peer side of HA VPN: 1, 2 or 4 interfaces by redundancy type.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/externalVpnGateways/insert
    pub(super) fn insert_external_vpn_gateway(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, "global", "externalVpnGateways", &m)?;
        required(&m, "redundancyType")?;
        let kind =
            enum_field(&mut m, "redundancyType", None, &["SINGLE_IP_INTERNALLY_REDUNDANT", "TWO_IPS_REDUNDANCY", "FOUR_IPS_REDUNDANCY"])?
                .unwrap_or_default();
        let want: i64 = match kind.as_str() {
            "SINGLE_IP_INTERNALLY_REDUNDANT" => 1,
            "TWO_IPS_REDUNDANCY" => 2,
            _ => 4,
        };
        let interfaces = present(&m, "interfaces").and_then(Value::as_array).cloned().unwrap_or_default();
        if interfaces.len() as i64 != want {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.interfaces': {kind} requires exactly {want} interface(s), got {}",
                interfaces.len()
            )));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut out = vec![];
        for (i, itf) in interfaces.iter().enumerate() {
            let id = num(itf.get("id")).unwrap_or(0);
            if !(0..want).contains(&id) || !ids.insert(id) {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.interfaces[{i}].id': '{id}'. Interface ids must be distinct, from 0 to {}",
                    want - 1
                )));
            }
            let ip = itf.get("ipAddress").and_then(Value::as_str).unwrap_or_default();
            if ipv4(ip).is_none() {
                return Err(GcpError::invalid(format!(
                    "Invalid value for field 'resource.interfaces[{i}].ipAddress': '{ip}'. Must be an IPv4 address"
                )));
            }
            let mut o = itf.clone();
            o["id"] = json!(id);
            out.push(o);
        }
        m.insert("interfaces".into(), Value::Array(out));
        let fresh = self.fresh(p, "global", "externalVpnGateways", "compute#externalVpnGateway", &name, m, base);
        Ok(self.commit(latency, now, p, "global", "externalVpnGateways", "external_vpn_gateway", &name, fresh, base))
    }

    /// HA VPN tunnel. The shared secret is kept only as a hash.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels/insert
    pub(super) fn insert_vpn_tunnel(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "vpnTunnels", &m)?;
        let secret = required_str(&m, "sharedSecret")?;
        m.remove("sharedSecret");
        m.insert("sharedSecretHash".into(), json!(secret_hash(&secret)));
        int_field(&mut m, "ikeVersion", Some(2), 1..=2)?;
        let gw = self.lookup(now, p, region, "vpnGateways", "vpnGateway", &required_str(&m, "vpnGateway")?)?;
        m.insert("vpnGateway".into(), gw["selfLink"].clone());
        let gw_itfs = gw["vpnInterfaces"].as_array().map_or(2, Vec::len) as i64;
        int_field(&mut m, "vpnGatewayInterface", Some(0), 0..=gw_itfs - 1)?;
        let router = self.lookup(now, p, region, "routers", "router", &required_str(&m, "router")?)?;
        if last(router["network"].as_str().unwrap_or_default()) != last(gw["network"].as_str().unwrap_or_default()) {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.router': '{}'. The router and the VPN gateway must be in the same network",
                router["name"].as_str().unwrap_or_default()
            )));
        }
        m.insert("router".into(), router["selfLink"].clone());
        // peerIp "can be set only for Classic VPN tunnels"; for an HA VPN tunnel
        // (vpnGateway set) Google refuses it and names the fields to use. GET
        // still answers peerIp: the peer interface's address, filled in by GCP.
        // https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels
        // (the message as Google returns it: hashicorp/terraform-provider-google#7639)
        if let Some(ip) = present(&m, "peerIp") {
            let ip = ip.as_str().unwrap_or_default();
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.peerIp': '{ip}'. Cannot specify peer IP for HA VPN tunnel creation, please specify peerExternalGateway or peerGcpGateway instead."
            )));
        }
        if let Some(ext) = present(&m, "peerExternalGateway").and_then(Value::as_str).map(str::to_string) {
            let ext = self.lookup(now, p, "global", "externalVpnGateways", "peerExternalGateway", &ext)?;
            let itfs = ext["interfaces"].as_array().cloned().unwrap_or_default();
            let i = int_field(&mut m, "peerExternalGatewayInterface", Some(0), 0..=itfs.len() as i64 - 1)?.unwrap_or_default();
            let ip = itfs.iter().find(|x| num(x.get("id")) == Some(i)).map(|x| x["ipAddress"].clone()).unwrap_or_default();
            m.insert("peerExternalGateway".into(), ext["selfLink"].clone());
            m.insert("peerIp".into(), ip);
        } else if let Some(peer) = present(&m, "peerGcpGateway").and_then(Value::as_str).map(str::to_string) {
            let peer = self.lookup(now, p, region, "vpnGateways", "peerGcpGateway", &peer)?;
            m.insert("peerGcpGateway".into(), peer["selfLink"].clone());
        } else {
            return Err(GcpError::new(
                400,
                "required",
                "Required field 'resource.peerExternalGateway' not specified: an HA VPN tunnel needs peerExternalGateway or peerGcpGateway",
            ));
        }
        // One tunnel per (gateway interface, peer gateway interface).
        let tuple = |v: &Map<String, Value>| {
            (
                v.get("vpnGateway").and_then(Value::as_str).map(|l| last(l).to_string()),
                num(v.get("vpnGatewayInterface")),
                v.get("peerExternalGateway").and_then(Value::as_str).map(|l| last(l).to_string()),
                num(v.get("peerExternalGatewayInterface")),
            )
        };
        let mine = tuple(&m);
        let clash = self.resources.iter().find(|((rp, rs, rc, _), st)| {
            rp == p && rs == region && rc == "vpnTunnels" && st.gone_at.is_none() && st.value.as_object().is_some_and(|o| tuple(o) == mine)
        });
        if let Some(((_, _, _, other), _)) = clash {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource': vpnTunnel '{other}' already uses interface {} of this VPN gateway with the same peer gateway interface",
                mine.1.unwrap_or_default()
            )));
        }
        m.insert("status".into(), json!("ESTABLISHED"));
        m.insert("detailedStatus".into(), json!("Tunnel is up and running."));
        let fresh = self.fresh(p, region, "vpnTunnels", "compute#vpnTunnel", &name, m, base);
        Ok(self.commit(latency, now, p, region, "vpnTunnels", "vpn_tunnel", &name, fresh, base))
    }
}
