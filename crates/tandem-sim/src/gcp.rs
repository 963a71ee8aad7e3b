//! Compute Engine v1 REST, the first part tandem's GCP kinds need: networks,
//! subnetworks, and the Operation resources their mutations return (global
//! and regional get / wait). Served under `/compute/v1/projects/{project}/`,
//! as the REST reference describes it:
//! https://cloud.google.com/compute/docs/reference/rest/v1/networks
//! https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks
//! https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations
//! https://cloud.google.com/compute/docs/reference/rest/v1/regionOperations
//!
//! Operations go PENDING -> RUNNING -> DONE over the latency model's time
//! for service `compute` (kinds `network`, `subnetwork`); with no latency the
//! insert answers PENDING and the next read sees DONE. A resource being
//! inserted is not visible (404) until its operation is DONE; one being
//! deleted stays visible until then, as in GCP. Errors are Google's JSON
//! error bodies (code, message, errors[].reason, status).
//!
//! Eventual consistency (`/_tandem/consistency`, service `compute`): for
//! `not_found_ms` after an insert's operation is DONE, GET and list of the new
//! resource still answer 404 notFound / leave it out; references to it from
//! other inserts already resolve.

use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// GCP's error: HTTP status, errors[].reason, message.
#[derive(Debug, Clone, PartialEq)]
pub struct GcpError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl GcpError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        GcpError { code, reason, message: message.into() }
    }
    fn not_found(what: &str) -> Self {
        Self::new(404, "notFound", format!("The resource '{what}' was not found"))
    }
    fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid", message)
    }

    /// The body Google APIs answer errors with.
    pub fn body(&self) -> Value {
        error_body(self.code, self.reason, &self.message)
    }
}

/// Google's JSON error body: code, message, errors[].reason, status.
/// https://cloud.google.com/apis/design/errors#http_mapping
pub fn error_body(code: u16, reason: &str, message: &str) -> Value {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    };
    json!({ "error": { "code": code, "message": message, "errors": [{ "message": message, "domain": "global", "reason": reason }], "status": status } })
}

/// What the server does with an answer.
pub enum Reply {
    Json(u16, Value),
    /// `operations/{op}/wait`: sleep this long, then answer the operation.
    WaitThen(Duration, String),
}

struct Stored {
    value: Value,
    /// Visible from here on (the insert operation is DONE).
    ready_at: Instant,
    /// GET and list see it from here on (`ready_at` plus the consistency lag).
    readable_at: Instant,
    /// Gone from here on (the delete operation is DONE).
    gone_at: Option<Instant>,
    /// Until this instant, these fields read differently (a null removes the
    /// field): an attachment still UNPROVISIONED, without its pairing key.
    early: Option<(Instant, Map<String, Value>)>,
}

impl Stored {
    fn new(latency: &dyn LatencyModel, value: Value, ready_at: Instant) -> Self {
        Stored { value, ready_at, readable_at: ready_at + latency.not_found_after_create("compute"), gone_at: None, early: None }
    }

    /// The resource as a GET answers it at `now`.
    fn view(&self, now: Instant) -> Value {
        let mut v = self.value.clone();
        if let (Some((until, fields)), Some(o)) = (&self.early, v.as_object_mut()) {
            if now < *until {
                for (k, f) in fields {
                    if f.is_null() {
                        o.remove(k);
                    } else {
                        o.insert(k.clone(), f.clone());
                    }
                }
            }
        }
        v
    }

    fn early_state(&self, now: Instant) -> Option<&str> {
        self.early.as_ref().filter(|(until, _)| now < *until).and_then(|(_, f)| f.get("state")).and_then(Value::as_str)
    }
}

struct Operation {
    value: Value,
    started: Instant,
    done_at: Instant,
    end_time: String,
}

#[derive(Default)]
pub struct Compute {
    /// (project, "global" or region, collection, name)
    resources: BTreeMap<(String, String, String, String), Stored>,
    /// (project, "global" or region, name)
    operations: BTreeMap<(String, String, String), Operation>,
    next_id: u64,
    /// (project, requestId) -> the operation it started (its key in `operations`).
    requests: BTreeMap<(String, String), (String, String, String)>,
    /// Routers with a change still being applied, until when.
    busy: BTreeMap<(String, String, String, String), Instant>,
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (RFC 1035).
/// https://cloud.google.com/compute/docs/naming-resources#resource-name-format
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

fn rfc3339(t: SystemTime) -> String {
    crate::ec2::iso8601(t)
}

/// The last path segment of a name or a URL (`.../global/networks/net` -> `net`).
fn last(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn parse_net(cidr: &str) -> Option<(u32, u8)> {
    let (ip, len) = cidr.split_once('/')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    Some((u32::from(ip), len))
}

fn overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    let len = a.1.min(b.1);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a.0 & mask == b.0 & mask
}

impl Compute {
    fn id(&mut self) -> String {
        self.next_id += 1;
        // uint64 ids, as strings (JSON cannot hold them exactly).
        (4_000_000_000_000_000_000u64 + self.next_id * 7919).to_string()
    }

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

    fn route(
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

    fn key(p: &str, scope: &str, coll: &str, name: &str) -> (String, String, String, String) {
        (p.to_string(), scope.to_string(), coll.to_string(), name.to_string())
    }

    fn path_of(p: &str, scope: &str, coll: &str, name: &str) -> String {
        if scope == "global" {
            format!("projects/{p}/global/{coll}/{name}")
        } else {
            format!("projects/{p}/regions/{scope}/{coll}/{name}")
        }
    }

    fn visible(&self, now: Instant, k: &(String, String, String, String)) -> Option<&Stored> {
        self.resources.get(k).filter(|s| s.ready_at <= now && s.gone_at.is_none_or(|g| g > now))
    }

    /// Drops what finished deleting.
    fn settle(&mut self, now: Instant) {
        self.resources.retain(|_, s| s.gone_at.is_none_or(|g| g > now));
    }

    /// GET: what a client reads, eventual consistency included.
    fn get(&mut self, now: Instant, p: &str, scope: &str, coll: &str, name: &str) -> Result<Value, GcpError> {
        self.settle(now);
        self.visible(now, &Self::key(p, scope, coll, name))
            .filter(|s| s.readable_at <= now)
            .map(|s| s.view(now))
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, coll, name)))
    }

    fn list(&mut self, now: Instant, p: &str, scope: &str, coll: &str, kind: &str, base: &str) -> Value {
        self.settle(now);
        let items: Vec<Value> = self
            .resources
            .iter()
            .filter(|((rp, rs, rc, _), st)| rp == p && rs == scope && rc == coll && st.readable_at <= now)
            .map(|(_, st)| st.view(now))
            .collect();
        let mut out = json!({ "kind": kind, "id": Self::path_of(p, scope, coll, "").trim_end_matches('/'), "selfLink": format!("{base}/compute/v1/{}", Self::path_of(p, scope, coll, "").trim_end_matches('/')) });
        if !items.is_empty() {
            out["items"] = json!(items);
        }
        out
    }

    /// A new Operation for a change to `target` (a resource path), done `after` from now.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        now: Instant,
        p: &str,
        scope: &str,
        kind: &str,
        op_type: &str,
        target: &str,
        target_id: &str,
        after: Duration,
        base: &str,
    ) -> Value {
        let name = format!(
            "operation-{}-{:x}",
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default(),
            self.next_id + 1
        );
        let id = self.id();
        let wall = SystemTime::now();
        let op_path = Self::path_of(p, scope, "operations", &name);
        let mut value = json!({
            "kind": "compute#operation", "id": id, "name": name, "operationType": op_type, "targetLink": format!("{base}/compute/v1/{target}"),
            "targetId": target_id, "status": "PENDING", "user": "tandem-sim", "progress": 0, "insertTime": rfc3339(wall), "startTime": rfc3339(wall),
            "selfLink": format!("{base}/compute/v1/{op_path}"), "description": kind,
        });
        if scope != "global" {
            value["region"] = json!(format!("{base}/compute/v1/projects/{p}/regions/{scope}"));
        }
        let end_time = rfc3339(wall + after);
        self.operations
            .insert((p.into(), scope.into(), name), Operation { value: value.clone(), started: now, done_at: now + after, end_time });
        value
    }

    fn op_view(op: &Operation, now: Instant) -> Value {
        let mut v = op.value.clone();
        let total = op.done_at.saturating_duration_since(op.started);
        let (status, progress) = if now >= op.done_at {
            ("DONE", 100)
        } else if now < op.started + total / 3 {
            ("PENDING", 0)
        } else {
            ("RUNNING", 50)
        };
        v["status"] = json!(status);
        v["progress"] = json!(progress);
        if status == "DONE" {
            v["endTime"] = json!(op.end_time);
        }
        v
    }

    fn operation(&mut self, now: Instant, p: &str, scope: &str, name: &str) -> Result<Value, GcpError> {
        self.operations
            .get(&(p.into(), scope.into(), name.into()))
            .map(|op| Self::op_view(op, now))
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, "operations", name)))
    }

    /// `wait` answers once the operation is DONE, or after at most 2 minutes
    /// with its current state.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations/wait
    fn wait(&mut self, now: Instant, p: &str, scope: &str, name: &str, rest: &str) -> Result<Reply, GcpError> {
        let op = self
            .operations
            .get(&(p.into(), scope.into(), name.into()))
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, "operations", name)))?;
        let left = op.done_at.saturating_duration_since(now).min(Duration::from_secs(120));
        Ok(Reply::WaitThen(
            left,
            rest.trim_end_matches("/wait").split('?').next().unwrap_or_default().trim_end_matches("/wait").to_string(),
        ))
    }

    fn name_of(input: &Map<String, Value>) -> Result<String, GcpError> {
        let name = input
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.name' not specified"))?;
        if !valid_name(name) {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.name': '{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'"
            )));
        }
        Ok(name.to_string())
    }

    fn exists(&self, k: &(String, String, String, String)) -> bool {
        self.resources.get(k).is_some_and(|s| s.gone_at.is_none())
    }

    fn insert_network(
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

    fn insert_subnetwork(
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

    #[allow(clippy::too_many_arguments)]
    fn delete_simple(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        base: &str,
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, scope, coll, name);
        let path = Self::path_of(p, scope, coll, name);
        let Some(st) = self.resources.get(&k).filter(|s| s.ready_at <= now && s.gone_at.is_none()) else {
            return Err(GcpError::not_found(&path));
        };
        let (id, network) = (st.value["id"].as_str().unwrap_or_default().to_string(), st.value["network"].as_str().map(str::to_string));
        let after = latency.deletion("compute", kind, if scope == "global" { "global" } else { scope });
        if let Some(st) = self.resources.get_mut(&k) {
            st.gone_at = Some(now + after);
        }
        if let Some(net) = network.filter(|_| coll == "subnetworks") {
            if let Some(n) = self.resources.get_mut(&Self::key(p, "global", "networks", last(&net))) {
                if let Some(a) = n.value["subnetworks"].as_array_mut() {
                    a.retain(|l| last(l.as_str().unwrap_or("")) != name);
                }
            }
        }
        Ok(self.start(now, p, scope, kind, "delete", &path, &id, after, base))
    }
}

/// Who may hold a resource: (collection, field holding its link).
/// A network in use cannot be deleted.
/// https://cloud.google.com/compute/docs/reference/rest/v1/networks/delete
const NETWORK_USERS: &[(&str, &str)] = &[
    ("subnetworks", "network"),
    ("firewalls", "network"),
    ("routers", "network"),
    ("vpnGateways", "network"),
    ("interconnectAttachments", "network"),
];
const ROUTER_USERS: &[(&str, &str)] = &[("vpnTunnels", "router"), ("interconnectAttachments", "router")];
const VPN_GATEWAY_USERS: &[(&str, &str)] = &[("vpnTunnels", "vpnGateway"), ("vpnTunnels", "peerGcpGateway")];
const EXTERNAL_GATEWAY_USERS: &[(&str, &str)] = &[("vpnTunnels", "peerExternalGateway")];
/// https://cloud.google.com/compute/docs/reference/rest/v1/networks/patch
const NETWORK_PATCH: &[&str] = &["description", "routingConfig", "mtu"];
/// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
const SUBNETWORK_PATCH: &[&str] = &["description", "privateIpGoogleAccess"];
/// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/patch
const FIREWALL_PATCH: &[&str] =
    &["description", "allowed", "denied", "sourceRanges", "destinationRanges", "priority", "targetTags", "disabled"];
/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments/patch
const ATTACHMENT_PATCH: &[&str] = &["description", "adminEnabled", "mtu", "labels"];

/// An integer sent as a JSON number or (int64/uint64 in proto JSON) a string.
fn num(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

fn present<'a>(m: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    m.get(field).filter(|v| !v.is_null())
}

fn required<'a>(m: &'a Map<String, Value>, field: &str) -> Result<&'a Value, GcpError> {
    present(m, field).ok_or_else(|| GcpError::new(400, "required", format!("Required field 'resource.{field}' not specified")))
}

fn required_str(m: &Map<String, Value>, field: &str) -> Result<String, GcpError> {
    match required(m, field)? {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::String(_) => Err(GcpError::new(400, "required", format!("Required field 'resource.{field}' not specified"))),
        other => Err(GcpError::invalid(format!("Invalid value for field 'resource.{field}': {other}. Must be a string"))),
    }
}

/// An integer field: `default` when absent, else it must lie in `range`.
fn int_field(
    m: &mut Map<String, Value>,
    field: &str,
    default: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, GcpError> {
    let v = match present(m, field) {
        None => default,
        Some(v) => Some(num(Some(v)).filter(|n| range.contains(n)).ok_or_else(|| {
            GcpError::invalid(format!(
                "Invalid value for field 'resource.{field}': {v}. Must be between {} and {}",
                range.start(),
                range.end()
            ))
        })?),
    };
    if let Some(n) = v {
        m.insert(field.into(), json!(n));
    }
    Ok(v)
}

/// An enum field: `default` when absent, else one of `values`.
fn enum_field(m: &mut Map<String, Value>, field: &str, default: Option<&str>, values: &[&str]) -> Result<Option<String>, GcpError> {
    let v = match present(m, field) {
        None => default.map(str::to_string),
        Some(Value::String(s)) if values.contains(&s.as_str()) => Some(s.clone()),
        Some(other) => {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.{field}': {other}. Must be one of [{}]",
                values.join(", ")
            )))
        }
    };
    if let Some(s) = &v {
        m.insert(field.into(), json!(s));
    }
    Ok(v)
}

fn bool_field(m: &mut Map<String, Value>, field: &str, default: bool) -> Result<bool, GcpError> {
    let v = match present(m, field) {
        None => default,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(GcpError::invalid(format!("Invalid value for field 'resource.{field}': {other}. Must be a boolean"))),
    };
    m.insert(field.into(), json!(v));
    Ok(v)
}

fn ipv4(s: &str) -> Option<u32> {
    s.parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

fn in_net(ip: u32, (net, len): (u32, u8)) -> bool {
    overlaps((ip, 32), (net, len))
}

/// A hex digest (FNV-1a, two lanes) standing in for GCP's sharedSecretHash:
/// the secret itself is never kept or answered.
fn secret_hash(secret: &str) -> String {
    let lane = |seed: u64| secret.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{:016x}{:016x}", lane(0xcbf2_9ce4_8422_2325), lane(0x84222325_cbf29ce4))
}

/// Firewall rule fields (insert and the merged result of a patch).
/// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls
fn firewall_rules(m: &mut Map<String, Value>) -> Result<(), GcpError> {
    enum_field(m, "direction", Some("INGRESS"), &["INGRESS", "EGRESS"])?;
    int_field(m, "priority", Some(1000), 0..=65535)?;
    let nonempty = |f: &str| m.get(f).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if nonempty("allowed") == nonempty("denied") {
        return Err(GcpError::invalid(
            "Invalid value for field 'resource': exactly one of 'allowed' or 'denied' must be specified (and non-empty)",
        ));
    }
    for f in ["allowed", "denied"] {
        for (i, rule) in m.get(f).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if !rule.get("IPProtocol").is_some_and(Value::is_string) {
                return Err(GcpError::new(400, "required", format!("Required field 'resource.{f}[{i}].IPProtocol' not specified")));
            }
        }
    }
    for f in ["sourceRanges", "destinationRanges"] {
        for r in m.get(f).and_then(Value::as_array).into_iter().flatten() {
            let s = r.as_str().unwrap_or_default();
            if parse_net(s).is_none() && ipv4(s).is_none() {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.{f}': '{s}'. Must be a CIDR address range")));
            }
        }
    }
    bool_field(m, "disabled", false)?;
    Ok(())
}

/// Interconnect attachment fields that a patch may change.
/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
/// For collections whose patchable fields need no check beyond their names.
fn no_rules(_: &mut Map<String, Value>) -> Result<(), GcpError> {
    Ok(())
}

/// InterconnectAttachment.mtu: "Valid values are 1440, 1460, 1500, and 8896.
/// If not specified, the value will default to 1440."
/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
pub const ATTACHMENT_MTUS: &[i64] = &[1440, 1460, 1500, 8896];

fn attachment_rules(m: &mut Map<String, Value>) -> Result<(), GcpError> {
    bool_field(m, "adminEnabled", false)?;
    let mtu = int_field(m, "mtu", Some(1440), 0..=65535)?.unwrap_or(1440);
    if !ATTACHMENT_MTUS.contains(&mtu) {
        return Err(GcpError::invalid(format!(
            "Invalid value for field 'resource.mtu': '{mtu}'. Valid values are 1440, 1460, 1500 and 8896"
        )));
    }
    Ok(())
}

/// "Any private ASN (64512-65534, 4200000000-4294967294) that you are not
/// already using", or 16550 for Partner Interconnect.
/// https://cloud.google.com/network-connectivity/docs/router/concepts/overview#bgp-asns
fn router_asn_ok(asn: i64) -> bool {
    (64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn) || asn == 16550
}

impl Compute {
    /// A fresh, unused name for an insert (409 alreadyExists otherwise).
    fn new_name(&self, p: &str, scope: &str, coll: &str, input: &Map<String, Value>) -> Result<String, GcpError> {
        let name = Self::name_of(input)?;
        if self.exists(&Self::key(p, scope, coll, &name)) {
            return Err(GcpError::new(
                409,
                "alreadyExists",
                format!("The resource '{}' already exists", Self::path_of(p, scope, coll, &name)),
            ));
        }
        Ok(name)
    }

    /// The visible resource that `r` (a name or URL) names in `scope`; a URL
    /// naming another region is 400 invalid, an absent one 404 notFound.
    #[allow(clippy::too_many_arguments)]
    fn lookup(&self, now: Instant, p: &str, scope: &str, coll: &str, field: &str, r: &str) -> Result<Value, GcpError> {
        if scope != "global" {
            if let Some(i) = r.find("/regions/") {
                let region = r[i + "/regions/".len()..].split('/').next().unwrap_or_default();
                if region != scope {
                    return Err(GcpError::invalid(format!(
                        "Invalid value for field 'resource.{field}': '{r}'. It must be in region '{scope}'"
                    )));
                }
            }
        }
        let name = last(r);
        self.visible(now, &Self::key(p, scope, coll, name))
            .map(|s| s.value.clone())
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, coll, name)))
    }

    /// The client's fields plus the server's common ones.
    #[allow(clippy::too_many_arguments)]
    fn fresh(
        &mut self,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> (String, String, Map<String, Value>) {
        let id = self.id();
        let path = Self::path_of(p, scope, coll, name);
        if present(&m, "description").is_none() {
            m.insert("description".into(), json!(""));
        }
        m.insert("kind".into(), json!(kind));
        m.insert("id".into(), json!(id));
        m.insert("creationTimestamp".into(), json!(rfc3339(SystemTime::now())));
        m.insert("name".into(), json!(name));
        m.insert("selfLink".into(), json!(format!("{base}/compute/v1/{path}")));
        if scope != "global" {
            m.insert("region".into(), json!(format!("{base}/compute/v1/projects/{p}/regions/{scope}")));
        }
        (id, path, m)
    }

    /// Stores a new resource (visible once its insert operation is DONE) and answers the operation.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        fresh: (String, String, Map<String, Value>),
        base: &str,
    ) -> Value {
        let (id, path, m) = fresh;
        let after = latency.creation("compute", kind, scope);
        self.resources.insert(Self::key(p, scope, coll, name), Stored::new(latency, Value::Object(m), now + after));
        self.start(now, p, scope, kind, "insert", &path, &id, after, base)
    }

    /// Deletes unless a resource in `users` (collection, field) links to it:
    /// 400 resourceInUseByAnotherResource, as GCP answers.
    #[allow(clippy::too_many_arguments)]
    fn delete_unused(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        base: &str,
        users: &[(&str, &str)],
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let path = Self::path_of(p, scope, coll, name);
        let suffix = format!("/{path}");
        let user = self.resources.iter().find(|((rp, _, rc, _), st)| {
            rp == p
                && st.gone_at.is_none()
                && users.iter().any(|(uc, uf)| rc == uc && st.value[*uf].as_str().is_some_and(|l| l.ends_with(&suffix) || l == path))
        });
        if let Some(((_, rs, rc, rn), _)) = user {
            let word = coll.trim_end_matches('s');
            return Err(GcpError::new(
                400,
                "resourceInUseByAnotherResource",
                format!("The {word} resource '{path}' is already being used by '{}'", Self::path_of(p, rs, rc, rn)),
            ));
        }
        // An attachment still turning up (UNPROVISIONED) takes no delete yet:
        // the google provider waits for it to leave that state first.
        if self.resources.get(&Self::key(p, scope, coll, name)).and_then(|s| s.early_state(now)) == Some("UNPROVISIONED") {
            return Err(GcpError::new(400, "resourceNotReady", format!("The resource '{path}' is not ready")));
        }
        self.delete_simple(latency, now, p, scope, coll, kind, name, base)
    }

    /// PATCH: `allowed` fields merge in, then the whole resource is checked
    /// again by `rules`. A resource that has a fingerprint (subnetworks)
    /// takes a patch only with the current one: 412 conditionNotMet when
    /// stale, 400 when missing; the fingerprint changes with the patch.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
    #[allow(clippy::too_many_arguments)]
    fn patch_simple(
        &mut self,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        input: Map<String, Value>,
        base: &str,
        allowed: &[&str],
        rules: fn(&mut Map<String, Value>) -> Result<(), GcpError>,
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, scope, coll, name);
        let path = Self::path_of(p, scope, coll, name);
        let Some(Value::Object(mut m)) = self.visible(now, &k).map(|s| s.value.clone()) else { return Err(GcpError::not_found(&path)) };
        if let Some(current) = m.get("fingerprint").and_then(Value::as_str) {
            match input.get("fingerprint").and_then(Value::as_str) {
                Some(f) if f == current => {}
                Some(_) => {
                    return Err(GcpError::new(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint."))
                }
                None => {
                    return Err(GcpError::invalid(format!(
                        "Invalid value for field 'resource.fingerprint': ''. A fingerprint is required to update the {kind}"
                    )))
                }
            }
            m.insert("fingerprint".into(), json!(fingerprint(self.next_id + 1)));
        }
        for (f, v) in input {
            if matches!(f.as_str(), "name" | "kind" | "id" | "selfLink" | "fingerprint" | "labelFingerprint") {
                continue;
            }
            if !allowed.contains(&f.as_str()) {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.{f}': it cannot be changed by patch")));
            }
            m.insert(f, v);
        }
        rules(&mut m)?;
        let id = m["id"].as_str().unwrap_or_default().to_string();
        if let Some(st) = self.resources.get_mut(&k) {
            st.value = Value::Object(m);
        }
        Ok(self.start(now, p, scope, kind, "patch", &path, &id, Duration::ZERO, base))
    }

    /// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/insert
    fn insert_firewall(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, "global", "firewalls", &m)?;
        let network = required_str(&m, "network")?;
        let net = self.lookup(now, p, "global", "networks", "network", &network)?;
        m.insert("network".into(), net["selfLink"].clone());
        firewall_rules(&mut m)?;
        let fresh = self.fresh(p, "global", "firewalls", "compute#firewall", &name, m, base);
        Ok(self.commit(latency, now, p, "global", "firewalls", "firewall", &name, fresh, base))
    }

    /// The router's BGP settings, interfaces and peers (insert and patch).
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers
    fn router_rules(&self, now: Instant, p: &str, region: &str, m: &mut Map<String, Value>) -> Result<(), GcpError> {
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
    fn insert_router(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "routers", &m)?;
        let network = required_str(&m, "network")?;
        let net = self.lookup(now, p, "global", "networks", "network", &network)?;
        m.insert("network".into(), net["selfLink"].clone());
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
    fn change_router(
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
    fn router_status(&mut self, now: Instant, p: &str, region: &str, name: &str) -> Result<Value, GcpError> {
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

    /// HA VPN gateway: two interfaces with server-assigned public addresses.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways/insert
    fn insert_vpn_gateway(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "vpnGateways", &m)?;
        let network = required_str(&m, "network")?;
        let net = self.lookup(now, p, "global", "networks", "network", &network)?;
        m.insert("network".into(), net["selfLink"].clone());
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
    fn insert_external_vpn_gateway(
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
    fn insert_vpn_tunnel(
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

    /// Partner Interconnect VLAN attachment: waits for the partner
    /// (PENDING_PARTNER) with a pairing key to hand them.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments/insert
    fn insert_attachment(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "interconnectAttachments", &m)?;
        let t = present(&m, "type").and_then(Value::as_str).unwrap_or("DEDICATED");
        if t != "PARTNER" {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.type': '{t}'. The tandem sandbox serves only PARTNER interconnect attachments (DEDICATED needs a physical interconnect)"
            )));
        }
        let router = self.lookup(now, p, region, "routers", "router", &required_str(&m, "router")?)?;
        let asn = num(router["bgp"].get("asn")).unwrap_or_default();
        if asn != 16550 {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.router': '{}'. The router's ASN is {asn}: Partner Interconnect requires the Cloud Router ASN 16550",
                router["name"].as_str().unwrap_or_default()
            )));
        }
        m.insert("router".into(), router["selfLink"].clone());
        // edgeAvailabilityDomain: "Input only ... can take one of the following
        // values: AVAILABILITY_DOMAIN_ANY, AVAILABILITY_DOMAIN_1,
        // AVAILABILITY_DOMAIN_2 ... If not specified, the value will default to
        // AVAILABILITY_DOMAIN_ANY." Input only: not part of what GET answers;
        // the chosen domain shows as the pairing key's last segment.
        let domain = enum_field(
            &mut m,
            "edgeAvailabilityDomain",
            Some("AVAILABILITY_DOMAIN_ANY"),
            &["AVAILABILITY_DOMAIN_ANY", "AVAILABILITY_DOMAIN_1", "AVAILABILITY_DOMAIN_2"],
        )?
        .unwrap_or_default();
        m.remove("edgeAvailabilityDomain");
        attachment_rules(&mut m)?;
        m.remove("partnerAsn");
        let (id, path, mut m) = self.fresh(p, region, "interconnectAttachments", "compute#interconnectAttachment", &name, m, base);
        let (a, b) = (fingerprint(self.next_id), fingerprint(self.next_id ^ 0x5a5a));
        let uuid = format!("{}-{}-4{}-a{}-{}", &a[..8], &a[8..12], &a[13..16], &b[..3], &b[4..16]);
        let zone = if domain == "AVAILABILITY_DOMAIN_2" { 2 } else { 1 };
        m.insert("pairingKey".into(), json!(format!("{uuid}/{region}/{zone}")));
        m.insert("state".into(), json!("PENDING_PARTNER"));
        m.insert("operationalStatus".into(), json!("OS_UNPROVISIONED"));
        m.insert("network".into(), router["network"].clone());
        m.insert("stackType".into(), json!("IPV4_ONLY"));
        let op = self.commit(latency, now, p, region, "interconnectAttachments", "interconnect_attachment", &name, (id, path, m), base);
        // "UNPROVISIONED: The attachment is not ready to use yet, because
        // turnup is not complete." A new PARTNER attachment may sit there for a
        // while after its insert is DONE (latency kind
        // `interconnect_attachment_turnup`), without its pairing key yet; the
        // google provider waits for it to leave UNPROVISIONED after create and
        // before delete (waitForAttachmentToBeProvisioned).
        // https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
        let turnup = latency.creation("compute", "interconnect_attachment_turnup", region);
        if !turnup.is_zero() {
            if let Some(st) = self.resources.get_mut(&Self::key(p, region, "interconnectAttachments", &name)) {
                let fields = json!({ "state": "UNPROVISIONED", "pairingKey": null });
                st.early = Some((st.ready_at + turnup, fields.as_object().cloned().unwrap_or_default()));
            }
        }
        Ok(op)
    }
}

/// An opaque fingerprint that changes with every modification.
fn fingerprint(n: u64) -> String {
    format!("{:016x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Instant0;

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
            let (s, e) =
                call(&mut c, t, "POST", "p/regions/us-east4/routers", json!({"name": "r1", "network": "net", "bgp": {"asn": asn}}));
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
            let (s, e) =
                call(&mut c, t, "PATCH", "p/regions/us-east4/routers/r1", json!({"interfaces": [{"name": "if-0", "ipRange": bad}]}));
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
        let (_, r1) = call(
            &mut c,
            t,
            "POST",
            "p/regions/us-east4/routers?requestId=r-1",
            json!({"name": "r", "network": "cc", "bgp": {"asn": 65010}}),
        );
        let (_, r2) = call(
            &mut c,
            t,
            "POST",
            "p/regions/us-east4/routers?requestId=r-1",
            json!({"name": "r", "network": "cc", "bgp": {"asn": 65010}}),
        );
        assert_eq!((r1["name"].clone(), r2["region"].clone()), (r2["name"].clone(), r1["region"].clone()));
    }

    #[test]
    fn a_router_refuses_changes_while_its_last_one_runs() {
        struct Slow;
        impl LatencyModel for Slow {
            fn creation(&self, _: &str, kind: &str, _: &str) -> Duration {
                if kind == "router_update" {
                    Duration::from_secs(1)
                } else {
                    Duration::ZERO
                }
            }
            fn deletion(&self, _: &str, _: &str, _: &str) -> Duration {
                Duration::ZERO
            }
        }
        let mut c = Compute::default();
        let t = Instant::now();
        let send = |c: &mut Compute, at: Instant, method: &str, rest: &str, body: Value| match c.handle(
            &Slow,
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
        let ips: Vec<&str> = [&gw, &gw2]
            .iter()
            .flat_map(|g| g["vpnInterfaces"].as_array().unwrap().iter().map(|i| i["ipAddress"].as_str().unwrap()))
            .collect();
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
        for path in [
            "p/regions/us-east4/vpnGateways/ha",
            "p/global/externalVpnGateways/peer",
            "p/regions/us-east4/routers/r1",
            "p/global/networks/net",
        ] {
            let (s, e) = call(&mut c, t, "DELETE", path, json!(null));
            assert_eq!((s, reason(&e)), (400, "resourceInUseByAnotherResource"), "{path}");
        }
        let (_, e) = call(&mut c, t, "DELETE", "p/regions/us-east4/vpnGateways/ha", json!(null));
        assert!(
            e["error"]["message"].as_str().unwrap().contains("is already being used by 'projects/p/regions/us-east4/vpnTunnels/t"),
            "{e}"
        );
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
    struct Lagging {
        turnup: Duration,
        not_found: Duration,
    }
    impl LatencyModel for Lagging {
        fn creation(&self, _: &str, kind: &str, _: &str) -> Duration {
            if kind == "interconnect_attachment_turnup" {
                self.turnup
            } else {
                Duration::ZERO
            }
        }
        fn deletion(&self, _: &str, _: &str, _: &str) -> Duration {
            Duration::ZERO
        }
        fn not_found_after_create(&self, service: &str) -> Duration {
            if service == "compute" {
                self.not_found
            } else {
                Duration::ZERO
            }
        }
    }

    fn send(c: &mut Compute, m: &Lagging, at: Instant, method: &str, rest: &str, body: Value) -> (u16, Value) {
        match c.handle(m, at, method, rest, body.to_string().as_bytes(), "http://h") {
            Reply::Json(s, v) => (s, v),
            Reply::WaitThen(..) => unreachable!(),
        }
    }

    #[test]
    fn attachments_start_unprovisioned_without_a_pairing_key_and_refuse_delete_until_turned_up() {
        let m = Lagging { turnup: Duration::from_secs(2), not_found: Duration::ZERO };
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
        let m = Lagging { turnup: Duration::ZERO, not_found: Duration::from_secs(2) };
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
        assert_eq!(
            call(&mut c, t, "GET", "p/regions/us-east4/vpnTunnels/t0", json!(null)).1["peerIp"],
            "203.0.113.1",
            "GCP fills peerIp in"
        );

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
}
