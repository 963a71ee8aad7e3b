//! Dispatch of the REST paths under `/compute/v1/projects/` to the
//! collections, and `requestId` idempotency around every mutation.

use super::attachments::{attachment_rules, ATTACHMENT_PATCH};
use super::error::GcpError;
use super::firewalls::{firewall_rules, FIREWALL_PATCH};
use super::lifecycle::no_rules;
use super::networks::{NETWORK_PATCH, NETWORK_USERS, SUBNETWORK_PATCH};
use super::routers::ROUTER_USERS;
use super::store::last;
use super::vpn::{EXTERNAL_GATEWAY_USERS, VPN_GATEWAY_USERS};
use super::{Compute, Reply};
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::time::Instant;

impl Compute {
    /// Requests under `/compute/v1/projects/`; `rest` is what follows it.
    pub fn handle(&mut self, latency: &dyn LatencyModel, now: Instant, method: &str, rest: &str, body: &[u8], base: &str) -> Reply {
        // `requestId` makes a mutation idempotent: "if you make a request
        // with the same request ID, the server ignores the second request
        // [and returns the operation of the first]" (60 minutes; here, for
        // the sandbox's life). A client that lost the answer retries safely.
        // https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#idempotency
        let request_id = (method != "GET")
            .then(|| rest.split_once('?').map(|(_, q)| q).unwrap_or(""))
            .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "requestId").map(|(_, v)| v.into_owned()))
            .filter(|id| !id.is_empty());
        let project = rest.split('/').next().unwrap_or_default().to_string();
        if let Some(key) = request_id.as_ref().map(|id| (project.clone(), id.clone())) {
            if let Some(op_key) = self.requests.get(&key) {
                if let Some(op) = self.operations.get(op_key) {
                    return Reply::Json(200, Self::op_view(op, now));
                }
            }
        }
        match self.route(latency, now, method, rest, body, base) {
            Ok(Reply::Json(200, mut op)) if op["kind"] == "compute#operation" => {
                if let (Some(id), Some(name)) = (request_id, op["name"].as_str().map(str::to_string)) {
                    let scope = op["region"].as_str().map(|r| last(r).to_string()).unwrap_or_else(|| "global".into());
                    // Operation.clientOperationId: "the value of requestId if you provided it".
                    op["clientOperationId"] = json!(id);
                    let key = (project.clone(), scope, name);
                    if let Some(stored) = self.operations.get_mut(&key) {
                        stored.value["clientOperationId"] = json!(id);
                    }
                    self.requests.insert((project, id), key);
                }
                Reply::Json(200, op)
            }
            Ok(r) => r,
            Err(e) => Reply::Json(e.code, e.body()),
        }
    }

    pub(super) fn route(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        method: &str,
        rest: &str,
        body: &[u8],
        base: &str,
    ) -> Result<Reply, GcpError> {
        let path = rest.split('?').next().unwrap_or("");
        let s: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let input = || -> Result<Map<String, Value>, GcpError> {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(GcpError::new(400, "parseError", "Parse Error: the request body must be a JSON object")),
            }
        };
        let ok = |v: Value| Ok(Reply::Json(200, v));
        match (method, s.as_slice()) {
            ("GET", [p, "global", "networks"]) => ok(self.list(now, p, "global", "networks", "compute#networkList", base)),
            ("POST", [p, "global", "networks"]) => ok(self.insert_network(latency, now, p, input()?, base)?),
            ("GET", [p, "global", "networks", n]) => ok(self.get(now, p, "global", "networks", n)?),
            ("DELETE", [p, "global", "networks", n]) => {
                ok(self.delete_unused(latency, now, p, "global", "networks", "network", n, base, NETWORK_USERS)?)
            }
            ("PATCH", [p, "global", "networks", n]) => {
                ok(self.patch_simple(now, p, "global", "networks", "network", n, input()?, base, NETWORK_PATCH, no_rules)?)
            }
            ("GET", [p, "regions", r, "subnetworks"]) => ok(self.list(now, p, r, "subnetworks", "compute#subnetworkList", base)),
            ("POST", [p, "regions", r, "subnetworks"]) => ok(self.insert_subnetwork(latency, now, p, r, input()?, base)?),
            ("GET", [p, "regions", r, "subnetworks", n]) => ok(self.get(now, p, r, "subnetworks", n)?),
            ("DELETE", [p, "regions", r, "subnetworks", n]) => {
                ok(self.delete_simple(latency, now, p, r, "subnetworks", "subnetwork", n, base)?)
            }
            ("PATCH", [p, "regions", r, "subnetworks", n]) => {
                ok(self.patch_simple(now, p, r, "subnetworks", "subnetwork", n, input()?, base, SUBNETWORK_PATCH, no_rules)?)
            }
            // https://cloud.google.com/compute/docs/reference/rest/v1/firewalls
            ("GET", [p, "global", "firewalls"]) => ok(self.list(now, p, "global", "firewalls", "compute#firewallList", base)),
            ("POST", [p, "global", "firewalls"]) => ok(self.insert_firewall(latency, now, p, input()?, base)?),
            ("GET", [p, "global", "firewalls", n]) => ok(self.get(now, p, "global", "firewalls", n)?),
            ("DELETE", [p, "global", "firewalls", n]) => {
                ok(self.delete_unused(latency, now, p, "global", "firewalls", "firewall", n, base, &[])?)
            }
            ("PATCH", [p, "global", "firewalls", n]) => {
                ok(self.patch_simple(now, p, "global", "firewalls", "firewall", n, input()?, base, FIREWALL_PATCH, firewall_rules)?)
            }
            // https://cloud.google.com/compute/docs/reference/rest/v1/routers
            ("GET", [p, "regions", r, "routers"]) => ok(self.list(now, p, r, "routers", "compute#routerList", base)),
            ("POST", [p, "regions", r, "routers"]) => ok(self.insert_router(latency, now, p, r, input()?, base)?),
            ("GET", [p, "regions", r, "routers", n]) => ok(self.get(now, p, r, "routers", n)?),
            ("DELETE", [p, "regions", r, "routers", n]) => {
                ok(self.delete_unused(latency, now, p, r, "routers", "router", n, base, ROUTER_USERS)?)
            }
            ("PATCH", [p, "regions", r, "routers", n]) => ok(self.change_router(latency, now, p, r, n, input()?, base, false)?),
            ("PUT", [p, "regions", r, "routers", n]) => ok(self.change_router(latency, now, p, r, n, input()?, base, true)?),
            // https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus
            ("GET", [p, "regions", r, "routers", n, "getRouterStatus"]) => ok(self.router_status(now, p, r, n)?),
            // https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways
            ("GET", [p, "regions", r, "vpnGateways"]) => ok(self.list(now, p, r, "vpnGateways", "compute#vpnGatewayList", base)),
            ("POST", [p, "regions", r, "vpnGateways"]) => ok(self.insert_vpn_gateway(latency, now, p, r, input()?, base)?),
            ("GET", [p, "regions", r, "vpnGateways", n]) => ok(self.get(now, p, r, "vpnGateways", n)?),
            ("DELETE", [p, "regions", r, "vpnGateways", n]) => {
                ok(self.delete_unused(latency, now, p, r, "vpnGateways", "vpn_gateway", n, base, VPN_GATEWAY_USERS)?)
            }
            // https://cloud.google.com/compute/docs/reference/rest/v1/externalVpnGateways
            ("GET", [p, "global", "externalVpnGateways"]) => {
                ok(self.list(now, p, "global", "externalVpnGateways", "compute#externalVpnGatewayList", base))
            }
            ("POST", [p, "global", "externalVpnGateways"]) => ok(self.insert_external_vpn_gateway(latency, now, p, input()?, base)?),
            ("GET", [p, "global", "externalVpnGateways", n]) => ok(self.get(now, p, "global", "externalVpnGateways", n)?),
            ("DELETE", [p, "global", "externalVpnGateways", n]) => ok(self.delete_unused(
                latency,
                now,
                p,
                "global",
                "externalVpnGateways",
                "external_vpn_gateway",
                n,
                base,
                EXTERNAL_GATEWAY_USERS,
            )?),
            // https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels
            ("GET", [p, "regions", r, "vpnTunnels"]) => ok(self.list(now, p, r, "vpnTunnels", "compute#vpnTunnelList", base)),
            ("POST", [p, "regions", r, "vpnTunnels"]) => ok(self.insert_vpn_tunnel(latency, now, p, r, input()?, base)?),
            ("GET", [p, "regions", r, "vpnTunnels", n]) => ok(self.get(now, p, r, "vpnTunnels", n)?),
            ("DELETE", [p, "regions", r, "vpnTunnels", n]) => {
                ok(self.delete_unused(latency, now, p, r, "vpnTunnels", "vpn_tunnel", n, base, &[])?)
            }
            // https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
            ("GET", [p, "regions", r, "interconnectAttachments"]) => {
                ok(self.list(now, p, r, "interconnectAttachments", "compute#interconnectAttachmentList", base))
            }
            ("POST", [p, "regions", r, "interconnectAttachments"]) => ok(self.insert_attachment(latency, now, p, r, input()?, base)?),
            ("GET", [p, "regions", r, "interconnectAttachments", n]) => ok(self.get(now, p, r, "interconnectAttachments", n)?),
            ("DELETE", [p, "regions", r, "interconnectAttachments", n]) => {
                ok(self.delete_unused(latency, now, p, r, "interconnectAttachments", "interconnect_attachment", n, base, &[])?)
            }
            ("PATCH", [p, "regions", r, "interconnectAttachments", n]) => ok(self.patch_simple(
                now,
                p,
                r,
                "interconnectAttachments",
                "interconnect_attachment",
                n,
                input()?,
                base,
                ATTACHMENT_PATCH,
                attachment_rules,
            )?),
            ("GET", [p, "global", "operations", o]) => ok(self.operation(now, p, "global", o)?),
            ("POST", [p, "global", "operations", o, "wait"]) => self.wait(now, p, "global", o, rest),
            ("GET", [p, "regions", r, "operations", o]) => ok(self.operation(now, p, r, o)?),
            ("POST", [p, "regions", r, "operations", o, "wait"]) => self.wait(now, p, r, o, rest),
            _ => Err(GcpError::new(404, "notFound", format!("{method} /compute/v1/projects/{rest} is not served by tandem sandbox"))),
        }
    }
}
