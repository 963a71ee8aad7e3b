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
    /// https://cloud.google.com/apis/design/errors#http_mapping
    pub fn body(&self) -> Value {
        let status = match self.code {
            400 => "INVALID_ARGUMENT",
            404 => "NOT_FOUND",
            409 => "ALREADY_EXISTS",
            412 => "FAILED_PRECONDITION",
            501 => "UNIMPLEMENTED",
            _ => "UNKNOWN",
        };
        json!({ "error": { "code": self.code, "message": self.message, "errors": [{ "message": self.message, "domain": "global", "reason": self.reason }], "status": status } })
    }
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
    /// Gone from here on (the delete operation is DONE).
    gone_at: Option<Instant>,
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
        match self.route(latency, now, method, rest, body, base) {
            Ok(r) => r,
            Err(e) => Reply::Json(e.code, e.body()),
        }
    }

    fn route(&mut self, latency: &dyn LatencyModel, now: Instant, method: &str, rest: &str, body: &[u8], base: &str) -> Result<Reply, GcpError> {
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
            ("DELETE", [p, "global", "networks", n]) => ok(self.delete_network(latency, now, p, n, base)?),
            ("PATCH", [p, "global", "networks", n]) => ok(self.patch(now, p, "global", "networks", n, input()?, base)?),
            ("GET", [p, "regions", r, "subnetworks"]) => ok(self.list(now, p, r, "subnetworks", "compute#subnetworkList", base)),
            ("POST", [p, "regions", r, "subnetworks"]) => ok(self.insert_subnetwork(latency, now, p, r, input()?, base)?),
            ("GET", [p, "regions", r, "subnetworks", n]) => ok(self.get(now, p, r, "subnetworks", n)?),
            ("DELETE", [p, "regions", r, "subnetworks", n]) => ok(self.delete_simple(latency, now, p, r, "subnetworks", "subnetwork", n, base)?),
            ("PATCH", [p, "regions", r, "subnetworks", n]) => ok(self.patch(now, p, r, "subnetworks", n, input()?, base)?),
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

    fn get(&mut self, now: Instant, p: &str, scope: &str, coll: &str, name: &str) -> Result<Value, GcpError> {
        self.settle(now);
        self.visible(now, &Self::key(p, scope, coll, name)).map(|s| s.value.clone()).ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, coll, name)))
    }

    fn list(&mut self, now: Instant, p: &str, scope: &str, coll: &str, kind: &str, base: &str) -> Value {
        self.settle(now);
        let items: Vec<Value> = self
            .resources
            .iter()
            .filter(|((rp, rs, rc, _), st)| rp == p && rs == scope && rc == coll && st.ready_at <= now)
            .map(|(_, st)| st.value.clone())
            .collect();
        let mut out = json!({ "kind": kind, "id": Self::path_of(p, scope, coll, "").trim_end_matches('/'), "selfLink": format!("{base}/compute/v1/{}", Self::path_of(p, scope, coll, "").trim_end_matches('/')) });
        if !items.is_empty() {
            out["items"] = json!(items);
        }
        out
    }

    /// A new Operation for a change to `target` (a resource path), done `after` from now.
    #[allow(clippy::too_many_arguments)]
    fn start(&mut self, now: Instant, p: &str, scope: &str, kind: &str, op_type: &str, target: &str, target_id: &str, after: Duration, base: &str) -> Value {
        let name = format!("operation-{}-{:x}", SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default(), self.next_id + 1);
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
        self.operations.insert((p.into(), scope.into(), name), Operation { value: value.clone(), started: now, done_at: now + after, end_time });
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
        self.operations.get(&(p.into(), scope.into(), name.into())).map(|op| Self::op_view(op, now)).ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, "operations", name)))
    }

    /// `wait` answers once the operation is DONE, or after at most 2 minutes
    /// with its current state.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations/wait
    fn wait(&mut self, now: Instant, p: &str, scope: &str, name: &str, rest: &str) -> Result<Reply, GcpError> {
        let op = self.operations.get(&(p.into(), scope.into(), name.into())).ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, "operations", name)))?;
        let left = op.done_at.saturating_duration_since(now).min(Duration::from_secs(120));
        Ok(Reply::WaitThen(left, rest.trim_end_matches("/wait").split('?').next().unwrap_or_default().trim_end_matches("/wait").to_string()))
    }

    fn name_of(input: &Map<String, Value>) -> Result<String, GcpError> {
        let name = input.get("name").and_then(Value::as_str).ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.name' not specified"))?;
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

    fn insert_network(&mut self, latency: &dyn LatencyModel, now: Instant, p: &str, input: Map<String, Value>, base: &str) -> Result<Value, GcpError> {
        let name = Self::name_of(&input)?;
        let k = Self::key(p, "global", "networks", &name);
        if self.exists(&k) {
            return Err(GcpError::new(409, "alreadyExists", format!("The resource '{}' already exists", Self::path_of(p, "global", "networks", &name))));
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
            return Err(GcpError::invalid(format!("Invalid value for field 'resource.routingConfig.routingMode': '{mode}'. Must be REGIONAL or GLOBAL")));
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
        self.resources.insert(k, Stored { value, ready_at: now + after, gone_at: None });
        Ok(self.start(now, p, "global", "network", "insert", &path, &id, after, base))
    }

    fn insert_subnetwork(&mut self, latency: &dyn LatencyModel, now: Instant, p: &str, region: &str, input: Map<String, Value>, base: &str) -> Result<Value, GcpError> {
        let name = Self::name_of(&input)?;
        let k = Self::key(p, region, "subnetworks", &name);
        if self.exists(&k) {
            return Err(GcpError::new(409, "alreadyExists", format!("The resource '{}' already exists", Self::path_of(p, region, "subnetworks", &name))));
        }
        let network = input.get("network").and_then(Value::as_str).ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.network' not specified"))?;
        let net = last(network).to_string();
        let net_key = Self::key(p, "global", "networks", &net);
        let net_link = match self.visible(now, &net_key) {
            Some(n) => n.value["selfLink"].clone(),
            None => return Err(GcpError::not_found(&Self::path_of(p, "global", "networks", &net))),
        };
        let cidr = input.get("ipCidrRange").and_then(Value::as_str).ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.ipCidrRange' not specified"))?;
        let Some((addr, len)) = parse_net(cidr) else { return Err(GcpError::invalid(format!("Invalid value for field 'resource.ipCidrRange': '{cidr}'. Invalid IPCidrRange: {cidr}"))) };
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
        self.resources.insert(k, Stored { value, ready_at: now + after, gone_at: None });
        if let Some(n) = self.resources.get_mut(&net_key) {
            let link = format!("{base}/compute/v1/{path}");
            match n.value["subnetworks"].as_array_mut() {
                Some(a) => a.push(json!(link)),
                None => n.value["subnetworks"] = json!([link]),
            }
        }
        Ok(self.start(now, p, region, "subnetwork", "insert", &path, &id, after, base))
    }

    /// A network in use by a subnetwork cannot be deleted.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/networks/delete
    fn delete_network(&mut self, latency: &dyn LatencyModel, now: Instant, p: &str, name: &str, base: &str) -> Result<Value, GcpError> {
        self.settle(now);
        let user = self.resources.iter().find(|((rp, _, rc, _), st)| rp == p && rc != "networks" && st.gone_at.is_none() && last(st.value["network"].as_str().unwrap_or("")) == name);
        if let Some(((_, rs, rc, rn), _)) = user {
            return Err(GcpError::new(
                400,
                "resourceInUseByAnotherResource",
                format!("The network resource '{}' is already being used by '{}'", Self::path_of(p, "global", "networks", name), Self::path_of(p, rs, rc, rn)),
            ));
        }
        self.delete_simple(latency, now, p, "global", "networks", "network", name, base)
    }

    #[allow(clippy::too_many_arguments)]
    fn delete_simple(&mut self, latency: &dyn LatencyModel, now: Instant, p: &str, scope: &str, coll: &str, kind: &str, name: &str, base: &str) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, scope, coll, name);
        let path = Self::path_of(p, scope, coll, name);
        let Some(st) = self.resources.get(&k).filter(|s| s.ready_at <= now && s.gone_at.is_none()) else { return Err(GcpError::not_found(&path)) };
        let (id, network) = (st.value["id"].as_str().unwrap_or_default().to_string(), st.value["network"].as_str().map(str::to_string));
        let after = latency.deletion("compute", kind, if scope == "global" { "global" } else { scope });
        if let Some(st) = self.resources.get_mut(&k) {
            st.gone_at = Some(now + after);
        }
        if let Some(net) = network {
            if let Some(n) = self.resources.get_mut(&Self::key(p, "global", "networks", last(&net))) {
                if let Some(a) = n.value["subnetworks"].as_array_mut() {
                    a.retain(|l| last(l.as_str().unwrap_or("")) != name);
                }
            }
        }
        Ok(self.start(now, p, scope, kind, "delete", &path, &id, after, base))
    }

    /// PATCH: the fields GCP lets change. A subnetwork patch must carry the
    /// current fingerprint (412 conditionNotMet otherwise).
    /// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
    /// https://cloud.google.com/compute/docs/reference/rest/v1/networks/patch
    #[allow(clippy::too_many_arguments)]
    fn patch(&mut self, now: Instant, p: &str, scope: &str, coll: &str, name: &str, input: Map<String, Value>, base: &str) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, scope, coll, name);
        let path = Self::path_of(p, scope, coll, name);
        if self.visible(now, &k).is_none() {
            return Err(GcpError::not_found(&path));
        }
        let next = self.next_id + 1;
        let st = self.resources.get_mut(&k).expect("visible");
        let allowed: &[&str] = if coll == "subnetworks" {
            let current = st.value["fingerprint"].as_str().unwrap_or_default();
            match input.get("fingerprint").and_then(Value::as_str) {
                Some(f) if f == current => {}
                Some(_) => return Err(GcpError::new(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint.")),
                None => return Err(GcpError::invalid("Invalid value for field 'resource.fingerprint': ''. A fingerprint is required to update the subnetwork")),
            }
            &["description", "privateIpGoogleAccess"]
        } else {
            &["description", "routingConfig", "mtu"]
        };
        for (f, v) in &input {
            if matches!(f.as_str(), "name" | "fingerprint" | "kind" | "id" | "selfLink") {
                continue;
            }
            if !allowed.contains(&f.as_str()) {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.{f}': it cannot be changed by patch")));
            }
            st.value[f] = v.clone();
        }
        if coll == "subnetworks" {
            st.value["fingerprint"] = json!(fingerprint(next));
        }
        let id = st.value["id"].as_str().unwrap_or_default().to_string();
        let kind = if coll == "subnetworks" { "subnetwork" } else { "network" };
        Ok(self.start(now, p, scope, kind, "patch", &path, &id, Duration::ZERO, base))
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
        let (s, op) = call(&mut c, t, "POST", "p/global/networks", json!({"name": "cc", "autoCreateSubnetworks": false, "routingConfig": {"routingMode": "GLOBAL"}}));
        assert_eq!((s, op["status"].as_str()), (200, Some("PENDING")), "{op}");
        let (_, done) = call(&mut c, t, "GET", &format!("p/global/operations/{}", op["name"].as_str().unwrap()), json!(null));
        assert_eq!(done["status"], "DONE");
        let (_, net) = call(&mut c, t, "GET", "p/global/networks/cc", json!(null));
        assert_eq!(net["routingConfig"]["routingMode"], "GLOBAL");
        assert_eq!(call(&mut c, t, "POST", "p/global/networks", json!({"name": "cc", "autoCreateSubnetworks": false})).1["error"]["errors"][0]["reason"], "alreadyExists");
        let (s, _) = call(&mut c, t, "POST", "p/regions/us-east4/subnetworks", json!({"name": "a", "network": net["selfLink"], "ipCidrRange": "10.2.0.0/20"}));
        assert_eq!(s, 200);
        let (s, e) = call(&mut c, t, "POST", "p/regions/us-west1/subnetworks", json!({"name": "b", "network": "cc", "ipCidrRange": "10.2.8.0/24"}));
        assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (400, Some("invalid")), "{e}");
        let (s, e) = call(&mut c, t, "DELETE", "p/global/networks/cc", json!(null));
        assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (400, Some("resourceInUseByAnotherResource")), "{e}");
        let (_, sub) = call(&mut c, t, "GET", "p/regions/us-east4/subnetworks/a", json!(null));
        let (s, e) = call(&mut c, t, "PATCH", "p/regions/us-east4/subnetworks/a", json!({"privateIpGoogleAccess": true, "fingerprint": "stale"}));
        assert_eq!((s, e["error"]["errors"][0]["reason"].as_str()), (412, Some("conditionNotMet")));
        let (s, _) = call(&mut c, t, "PATCH", "p/regions/us-east4/subnetworks/a", json!({"privateIpGoogleAccess": true, "fingerprint": sub["fingerprint"]}));
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
        assert_eq!(call(&mut c, t, "GET", "p/global/firewalls", json!(null)).0, 404);
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_700_000_000)), "2023-11-14T22:13:20.000Z");
    }
}
