//! AWS Direct Connect (awsJson1_1, `X-Amz-Target: OvertureService.<Op>`), the
//! part tandem provisions: hosted connections (seeded by the admin API, as a
//! partner would provision them), Direct Connect gateways, their associations
//! with virtual private gateways, and private virtual interfaces.
//!
//! Member names, states and errors follow the AWS Direct Connect API Reference
//! (https://docs.aws.amazon.com/directconnect/latest/APIReference/). Every
//! client error is `DirectConnectClientException` (HTTP 400), as the
//! reference lists for every operation.
//!
//! States are computed lazily from `env.now` (see `env`): a record keeps a
//! [`Phase`] (state before, state after, instant of the change). Answers to a
//! mutating call show the in-progress state; reads compute the current one.
//!
//! Scope: connections and virtual interfaces are regional (`env.region`);
//! Direct Connect gateways and their associations are global, as in AWS.
//! Pagination (`maxResults`/`nextToken`) is accepted and ignored: every answer
//! is one page. Virtual private gateways are not checked against EC2 (this
//! module does no I/O). `authKey` is a secret: it is returned where the API
//! returns it and never logged.

use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Map, Value};

use crate::env::SimEnv;
use crate::error::ApiError;

const SERVICE: &str = "directconnect";

/// "Virtual interfaces deleted fewer than 15 minutes before you make the
/// request are also returned." (API_DescribeVirtualInterfaces). The sandbox
/// applies the same retention to deleted gateways and disassociated
/// associations so that waiters can observe the final state.
const RETENTION: Duration = Duration::from_secs(15 * 60);

/// The operations `handle` serves.
pub const OPERATIONS: &[&str] = &[
    "DescribeConnections",
    "ConfirmConnection",
    "CreateDirectConnectGateway",
    "DescribeDirectConnectGateways",
    "DeleteDirectConnectGateway",
    "CreateDirectConnectGatewayAssociation",
    "DescribeDirectConnectGatewayAssociations",
    "DeleteDirectConnectGatewayAssociation",
    "CreatePrivateVirtualInterface",
    "AllocatePrivateVirtualInterface",
    "ConfirmPrivateVirtualInterface",
    "DescribeVirtualInterfaces",
    "DeleteVirtualInterface",
    "TagResource",
    "UntagResource",
    "DescribeTags",
];

fn client_err(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "DirectConnectClientException", message)
}

/// A state change computed from time: `before` until `at`, `after` from then on.
#[derive(Debug, Clone, Copy)]
struct Phase {
    before: &'static str,
    after: &'static str,
    at: Instant,
}

impl Phase {
    fn new(before: &'static str, after: &'static str, at: Instant) -> Self {
        Phase { before, after, at }
    }
    fn fixed(state: &'static str, now: Instant) -> Self {
        Phase { before: state, after: state, at: now }
    }
    fn state(&self, now: Instant) -> &'static str {
        if now >= self.at {
            self.after
        } else {
            self.before
        }
    }
    /// Terminal records stay visible for `RETENTION` after reaching their state.
    fn expired(&self, now: Instant, terminal: &[&str]) -> bool {
        terminal.contains(&self.after) && now >= self.at + RETENTION
    }
}

#[derive(Debug, Clone)]
struct Connection {
    id: String,
    owner: String,
    region: String,
    name: String,
    location: String,
    bandwidth: String,
    vlan: Option<i64>,
    partner_name: Option<String>,
    aws_device: String,
    phase: Phase,
    tags: Value,
}

#[derive(Debug, Clone)]
struct Gateway {
    id: String,
    name: String,
    asn: i64,
    owner: String,
    phase: Phase,
    tags: Value,
}

#[derive(Debug, Clone)]
struct Association {
    id: String,
    gateway_id: String,
    gateway_owner: String,
    vgw_id: String,
    vgw_region: String,
    vgw_owner: String,
    allowed_prefixes: Value,
    phase: Phase,
}

#[derive(Debug, Clone)]
struct VirtualInterface {
    id: String,
    owner: String,
    connection_id: String,
    connection_owner: String,
    region: String,
    location: String,
    aws_device: String,
    name: String,
    vlan: i64,
    asn: i64,
    amazon_side_asn: i64,
    auth_key: String,
    amazon_address: String,
    customer_address: String,
    address_family: String,
    mtu: i64,
    vgw_id: Option<String>,
    gateway_id: Option<String>,
    bgp_peer_id: String,
    phase: Phase,
    tags: Value,
}

#[derive(Default)]
pub struct DirectConnect {
    connections: Vec<Connection>,
    gateways: Vec<Gateway>,
    associations: Vec<Association>,
    vifs: Vec<VirtualInterface>,
    /// Counts allocated inside /30s (169.254.0.0/16) for interfaces without addresses.
    next_peering: u32,
}

// ---------- input helpers ----------

fn opt_str<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(client_err(format!("{key} must be a string"))),
    }
}

fn req_str<'a>(input: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    match opt_str(input, key)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(client_err(format!("{key} is required"))),
    }
}

fn opt_int(input: &Value, key: &str) -> Result<Option<i64>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| client_err(format!("{key} must be an integer"))),
    }
}

fn tags_of(input: &Value) -> Result<Value, ApiError> {
    match input.get("tags") {
        None | Some(Value::Null) => Ok(json!([])),
        Some(Value::Array(items)) => {
            let mut seen = Vec::new();
            for t in items {
                let key = t.get("key").and_then(Value::as_str).ok_or_else(|| client_err("tag key is required"))?;
                if seen.contains(&key) {
                    return Err(ApiError::new(400, "DuplicateTagKeysException", format!("duplicate tag key {key}")));
                }
                seen.push(key);
            }
            Ok(Value::Array(items.clone()))
        }
        Some(_) => Err(client_err("tags must be a list")),
    }
}

fn random_alnum(len: usize, lower_only: bool) -> String {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let set = if lower_only { LOWER } else { MIXED };
    let mut rng = rand::rng();
    (0..len).map(|_| set[rng.random_range(0..set.len())] as char).collect()
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_alnum(8, true))
}

/// "a.b.c.d/n" (IPv4 CIDR) or an IPv6 CIDR; only the shape is checked.
fn valid_cidr(s: &str, family: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else { return false };
    let Ok(len) = len.parse::<u8>() else { return false };
    match family {
        "ipv4" => len <= 32 && addr.parse::<std::net::Ipv4Addr>().is_ok(),
        _ => len <= 128 && addr.parse::<std::net::Ipv6Addr>().is_ok(),
    }
}

impl DirectConnect {
    pub fn handle(&mut self, env: &SimEnv, op: &str, input: &Value) -> Result<Value, ApiError> {
        let empty = json!({});
        let input = if input.is_null() { &empty } else { input };
        if !input.is_object() {
            return Err(client_err("the request body must be a JSON object"));
        }
        match op {
            "DescribeConnections" => self.describe_connections(env, input),
            "ConfirmConnection" => self.confirm_connection(env, input),
            "CreateDirectConnectGateway" => self.create_gateway(env, input),
            "DescribeDirectConnectGateways" => self.describe_gateways(env, input),
            "DeleteDirectConnectGateway" => self.delete_gateway(env, input),
            "CreateDirectConnectGatewayAssociation" => self.create_association(env, input),
            "DescribeDirectConnectGatewayAssociations" => self.describe_associations(env, input),
            "DeleteDirectConnectGatewayAssociation" => self.delete_association(env, input),
            "CreatePrivateVirtualInterface" => self.create_vif(env, input, false),
            "AllocatePrivateVirtualInterface" => self.create_vif(env, input, true),
            "ConfirmPrivateVirtualInterface" => self.confirm_vif(env, input),
            "DescribeVirtualInterfaces" => self.describe_vifs(env, input),
            "DeleteVirtualInterface" => self.delete_vif(env, input),
            "TagResource" => self.tag_resource(env, input),
            "UntagResource" => self.untag_resource(env, input),
            "DescribeTags" => self.describe_tags(env, input),
            _ => Err(ApiError::new(400, "UnknownOperationException", format!("the sandbox does not serve Direct Connect {op}"))),
        }
    }

    /// Admin seeding: a hosted connection in state `ordering`, as a partner
    /// provisions it on its interconnect for the customer's account.
    /// Input: connectionName, bandwidth, vlan, partnerName, location, and
    /// optionally connectionId (dxcon-...), ownerAccount, tags.
    pub fn seed_hosted_connection(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = match opt_str(input, "connectionId")? {
            Some(id) => {
                let ok = id.strip_prefix("dxcon-").is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()));
                if !ok {
                    return Err(client_err(format!("connectionId {id} must look like dxcon-xxxxxxxx")));
                }
                if self.connections.iter().any(|c| c.id == id) {
                    return Err(client_err(format!("connection {id} already exists")));
                }
                id.to_string()
            }
            None => new_id("dxcon"),
        };
        let vlan = opt_int(input, "vlan")?.unwrap_or(100);
        if !(1..=4094).contains(&vlan) {
            return Err(client_err(format!("vlan {vlan} must be between 1 and 4094")));
        }
        let conn = Connection {
            id,
            owner: opt_str(input, "ownerAccount")?.unwrap_or(env.account).to_string(),
            region: opt_str(input, "region")?.unwrap_or(env.region).to_string(),
            name: opt_str(input, "connectionName")?.unwrap_or("hosted-connection").to_string(),
            location: opt_str(input, "location")?.unwrap_or("EqDC2").to_string(),
            bandwidth: opt_str(input, "bandwidth")?.unwrap_or("1Gbps").to_string(),
            vlan: Some(vlan),
            partner_name: Some(opt_str(input, "partnerName")?.unwrap_or("Equinix").to_string()),
            aws_device: format!("{}-{}", opt_str(input, "location")?.unwrap_or("EqDC2"), random_alnum(6, true)),
            phase: Phase::fixed("ordering", env.now),
            tags: tags_of(input)?,
        };
        let out = conn_json(&conn, "ordering");
        self.connections.push(conn);
        Ok(out)
    }

    // ---------- connections ----------

    fn visible(c: &Connection, env: &SimEnv) -> bool {
        c.owner == env.account && c.region == env.region
    }

    fn describe_connections(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = opt_str(input, "connectionId")?;
        let list: Vec<Value> = self
            .connections
            .iter()
            .filter(|c| Self::visible(c, env) && id.is_none_or(|id| c.id == id))
            .map(|c| conn_json(c, c.phase.state(env.now)))
            .collect();
        if let (Some(id), true) = (id, list.is_empty()) {
            return Err(client_err(format!("Connection {id} does not exist")));
        }
        Ok(json!({ "connections": list }))
    }

    /// API_ConfirmConnection: "Upon creation, the hosted connection is
    /// initially in the Ordering state, and remains in this state until the
    /// owner confirms creation of the hosted connection." Confirmed, it is
    /// `pending` ("approved and is being initialized") and then `available`.
    fn confirm_connection(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "connectionId")?;
        let conn = self
            .connections
            .iter_mut()
            .find(|c| c.id == id && c.owner == env.account && c.region == env.region)
            .ok_or_else(|| client_err(format!("Connection {id} does not exist")))?;
        let state = conn.phase.state(env.now);
        if state != "ordering" {
            return Err(client_err(format!("Connection {id} is in state {state}; only a connection in state ordering can be confirmed")));
        }
        conn.phase = Phase::new("pending", "available", env.ready_at(SERVICE, "connection"));
        Ok(json!({ "connectionState": "pending" }))
    }

    // ---------- gateways ----------

    fn gateway(&self, id: &str, now: Instant) -> Option<&Gateway> {
        self.gateways.iter().find(|g| g.id == id && !g.phase.expired(now, &["deleted"]))
    }

    /// API_CreateDirectConnectGateway: amazonSideAsn "must be in the private
    /// range of 64,512 to 65,534 or 4,200,000,000 to 4,294,967,294. The
    /// default is 64512."
    fn create_gateway(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let name = req_str(input, "directConnectGatewayName")?;
        if name.len() > 100 {
            return Err(client_err("directConnectGatewayName must be at most 100 characters"));
        }
        let asn = opt_int(input, "amazonSideAsn")?.unwrap_or(64512);
        if !((64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn)) {
            return Err(client_err(format!(
                "amazonSideAsn {asn} is not valid: it must be in the private range 64512-65534 or 4200000000-4294967294"
            )));
        }
        let gw = Gateway {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            asn,
            owner: env.account.to_string(),
            phase: Phase::new("pending", "available", env.ready_at(SERVICE, "gateway")),
            tags: tags_of(input)?,
        };
        let out = gateway_json(&gw, "pending");
        self.gateways.push(gw);
        Ok(json!({ "directConnectGateway": out }))
    }

    fn describe_gateways(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = opt_str(input, "directConnectGatewayId")?;
        let list: Vec<Value> = self
            .gateways
            .iter()
            .filter(|g| g.owner == env.account && !g.phase.expired(env.now, &["deleted"]))
            .filter(|g| id.is_none_or(|id| g.id == id))
            .map(|g| gateway_json(g, g.phase.state(env.now)))
            .collect();
        if let (Some(id), true) = (id, list.is_empty()) {
            return Err(client_err(format!("Direct Connect gateway {id} does not exist")));
        }
        Ok(json!({ "directConnectGateways": list }))
    }

    /// API_DeleteDirectConnectGateway: "You must first delete all virtual
    /// interfaces that are attached to the Direct Connect gateway and
    /// disassociate all virtual private gateways associated with the Direct
    /// Connect gateway."
    fn delete_gateway(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "directConnectGatewayId")?;
        let now = env.now;
        let gw = self
            .gateway(id, now)
            .filter(|g| g.owner == env.account)
            .ok_or_else(|| client_err(format!("Direct Connect gateway {id} does not exist")))?;
        let state = gw.phase.state(now);
        if state == "deleting" || state == "deleted" {
            return Err(client_err(format!("Direct Connect gateway {id} is in state {state}")));
        }
        if let Some(a) = self.associations.iter().find(|a| a.gateway_id == id && a.phase.state(now) != "disassociated") {
            return Err(client_err(format!(
                "Direct Connect gateway {id} is associated with {} ({}): disassociate it first",
                a.vgw_id,
                a.phase.state(now)
            )));
        }
        if let Some(v) =
            self.vifs.iter().find(|v| v.gateway_id.as_deref() == Some(id) && !matches!(v.phase.state(now), "deleted" | "rejected"))
        {
            return Err(client_err(format!("Direct Connect gateway {id} has virtual interface {} attached: delete it first", v.id)));
        }
        let gone = env.gone_at(SERVICE, "gateway");
        let gw = self.gateways.iter_mut().find(|g| g.id == id).expect("found above");
        gw.phase = Phase::new("deleting", "deleted", gone);
        Ok(json!({ "directConnectGateway": gateway_json(gw, "deleting") }))
    }

    // ---------- associations ----------

    /// API_CreateDirectConnectGatewayAssociation: "The virtual private gateway
    /// must be attached to a VPC and must not be associated with another
    /// Direct Connect gateway." (The VPC attachment is EC2's, not checked here.)
    fn create_association(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let gw_id = req_str(input, "directConnectGatewayId")?;
        let target = match (opt_str(input, "gatewayId")?, opt_str(input, "virtualGatewayId")?) {
            (Some(a), Some(b)) if a != b => return Err(client_err("gatewayId and virtualGatewayId name different gateways")),
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return Err(client_err("gatewayId or virtualGatewayId is required")),
        };
        let now = env.now;
        let gw = self
            .gateway(gw_id, now)
            .filter(|g| g.owner == env.account)
            .ok_or_else(|| client_err(format!("Direct Connect gateway {gw_id} does not exist")))?;
        let gw_state = gw.phase.state(now);
        if gw_state == "deleting" || gw_state == "deleted" {
            return Err(client_err(format!("Direct Connect gateway {gw_id} is in state {gw_state}")));
        }
        if !(target.starts_with("vgw-") || target.starts_with("tgw-")) {
            return Err(client_err(format!("{target} is not a virtual private gateway (vgw-) or transit gateway (tgw-) id")));
        }
        if let Some(a) = self.associations.iter().find(|a| a.vgw_id == target && a.phase.state(now) != "disassociated") {
            return Err(client_err(if a.gateway_id == gw_id {
                format!("{target} is already associated with Direct Connect gateway {gw_id}")
            } else {
                format!("{target} is already associated with another Direct Connect gateway ({})", a.gateway_id)
            }));
        }
        let prefixes = match input.get("addAllowedPrefixesToDirectConnectGateway") {
            None | Some(Value::Null) => json!([]),
            Some(Value::Array(items)) => {
                for p in items {
                    let cidr = p.get("cidr").and_then(Value::as_str).unwrap_or("");
                    if !valid_cidr(cidr, "ipv4") && !valid_cidr(cidr, "ipv6") {
                        return Err(client_err(format!("allowed prefix {cidr:?} is not a CIDR block")));
                    }
                }
                Value::Array(items.clone())
            }
            Some(_) => return Err(client_err("addAllowedPrefixesToDirectConnectGateway must be a list")),
        };
        let assoc = Association {
            id: uuid::Uuid::new_v4().to_string(),
            gateway_id: gw_id.to_string(),
            gateway_owner: gw.owner.clone(),
            vgw_id: target.to_string(),
            vgw_region: env.region.to_string(),
            vgw_owner: env.account.to_string(),
            allowed_prefixes: prefixes,
            phase: Phase::new("associating", "associated", env.ready_at(SERVICE, "gateway-association")),
        };
        let out = association_json(&assoc, "associating");
        self.associations.push(assoc);
        Ok(json!({ "directConnectGatewayAssociation": out }))
    }

    /// API_DescribeDirectConnectGatewayAssociations: "You must specify one of
    /// the following: A Direct Connect gateway ... A virtual private gateway
    /// ... A transit gateway ... A Direct Connect gateway and a virtual
    /// private gateway ..."; an association is also found by its
    /// `associationId`, and `associatedGatewayId` names a virtual private or
    /// transit gateway as `virtualGatewayId` does. With none of them:
    /// DirectConnectClientException. The filters combine (all must match).
    /// https://docs.aws.amazon.com/directconnect/latest/APIReference/API_DescribeDirectConnectGatewayAssociations.html
    fn describe_associations(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let assoc_id = opt_str(input, "associationId")?;
        let gw_id = opt_str(input, "directConnectGatewayId")?;
        let vgw = opt_str(input, "virtualGatewayId")?;
        let associated = opt_str(input, "associatedGatewayId")?;
        if assoc_id.is_none() && gw_id.is_none() && vgw.is_none() && associated.is_none() {
            return Err(client_err(
                "Specify a Direct Connect gateway (directConnectGatewayId), a virtual private or transit gateway (virtualGatewayId or associatedGatewayId), or an association (associationId)",
            ));
        }
        let list: Vec<Value> = self
            .associations
            .iter()
            .filter(|a| (a.gateway_owner == env.account || a.vgw_owner == env.account) && !a.phase.expired(env.now, &["disassociated"]))
            .filter(|a| assoc_id.is_none_or(|x| a.id == x))
            .filter(|a| gw_id.is_none_or(|x| a.gateway_id == x))
            .filter(|a| vgw.is_none_or(|x| a.vgw_id == x))
            .filter(|a| associated.is_none_or(|x| a.vgw_id == x))
            .map(|a| association_json(a, a.phase.state(env.now)))
            .collect();
        Ok(json!({ "directConnectGatewayAssociations": list }))
    }

    /// API_DeleteDirectConnectGatewayAssociation: by associationId, or by
    /// virtualGatewayId and directConnectGatewayId.
    fn delete_association(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let assoc_id = opt_str(input, "associationId")?;
        let gw_id = opt_str(input, "directConnectGatewayId")?;
        let vgw = opt_str(input, "virtualGatewayId")?;
        if assoc_id.is_none() && (gw_id.is_none() || vgw.is_none()) {
            return Err(client_err("associationId, or directConnectGatewayId and virtualGatewayId, are required"));
        }
        let now = env.now;
        let gone = env.gone_at(SERVICE, "gateway-association");
        let a = self
            .associations
            .iter_mut()
            .filter(|a| a.gateway_owner == env.account || a.vgw_owner == env.account)
            .filter(|a| assoc_id.is_none_or(|x| a.id == x))
            .filter(|a| gw_id.is_none_or(|x| a.gateway_id == x))
            .filter(|a| vgw.is_none_or(|x| a.vgw_id == x))
            .find(|a| a.phase.state(now) != "disassociated")
            .ok_or_else(|| client_err("the Direct Connect gateway association does not exist"))?;
        if a.phase.state(now) != "disassociating" {
            a.phase = Phase::new("disassociating", "disassociated", gone);
        }
        Ok(json!({ "directConnectGatewayAssociation": association_json(a, "disassociating") }))
    }

    // ---------- virtual interfaces ----------

    /// API_CreatePrivateVirtualInterface and API_AllocatePrivateVirtualInterface
    /// (NewPrivateVirtualInterface / NewPrivateVirtualInterfaceAllocation).
    /// Allocated interfaces are "in the Confirming state" until the owner
    /// calls ConfirmPrivateVirtualInterface.
    fn create_vif(&mut self, env: &SimEnv, input: &Value, allocate: bool) -> Result<Value, ApiError> {
        let conn_id = req_str(input, "connectionId")?;
        let member = if allocate { "newPrivateVirtualInterfaceAllocation" } else { "newPrivateVirtualInterface" };
        let spec = match input.get(member) {
            Some(v @ Value::Object(_)) => v,
            _ => return Err(client_err(format!("{member} is required"))),
        };
        let owner = if allocate {
            let o = req_str(input, "ownerAccount")?;
            if o.len() != 12 || !o.chars().all(|c| c.is_ascii_digit()) {
                return Err(client_err(format!("ownerAccount {o} is not a 12-digit AWS account id")));
            }
            o.to_string()
        } else {
            env.account.to_string()
        };
        let now = env.now;
        let conn = self
            .connections
            .iter()
            .find(|c| Self::visible(c, env) && c.id == conn_id)
            .ok_or_else(|| client_err(format!("Connection {conn_id} does not exist")))?
            .clone();
        let conn_state = conn.phase.state(now);
        if !matches!(conn_state, "pending" | "available" | "down") {
            return Err(client_err(format!(
                "Connection {conn_id} is in state {conn_state}; virtual interfaces can be created only on a confirmed connection"
            )));
        }

        // NewPrivateVirtualInterface.virtualInterfaceName: "The name has a
        // maximum of 100 characters. The following are valid characters:
        // a-z, 0-9 and a hyphen (-)."
        let name = req_str(spec, "virtualInterfaceName")?;
        if name.len() > 100 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(client_err(format!("virtualInterfaceName {name:?} is not valid: at most 100 characters among a-z, 0-9 and -")));
        }
        let vlan = opt_int(spec, "vlan")?.ok_or_else(|| client_err("vlan is required"))?;
        if !(1..=4094).contains(&vlan) {
            return Err(client_err(format!("vlan {vlan} must be between 1 and 4094")));
        }
        let live = |v: &&VirtualInterface| v.connection_id == conn_id && !matches!(v.phase.state(now), "deleted" | "rejected");
        if let Some(conn_vlan) = conn.vlan {
            // A hosted connection carries exactly one VLAN, hence one interface.
            if vlan != conn_vlan {
                return Err(client_err(format!("vlan {vlan} does not match the hosted connection's VLAN {conn_vlan}")));
            }
            if let Some(v) = self.vifs.iter().find(live) {
                return Err(client_err(format!("hosted connection {conn_id} already has virtual interface {}", v.id)));
            }
        } else if let Some(v) = self.vifs.iter().filter(live).find(|v| v.vlan == vlan) {
            return Err(client_err(format!("vlan {vlan} is already used by virtual interface {} on {conn_id}", v.id)));
        }

        // asn / asnLong: "If you provide a value in the same API call for both
        // asn and asnLong, the API will only accept the value for asnLong."
        let asn = match (opt_int(spec, "asnLong")?, opt_int(spec, "asn")?) {
            (Some(l), _) => {
                if !(1..=4_294_967_294).contains(&l) {
                    return Err(client_err(format!("asnLong {l} must be between 1 and 4294967294")));
                }
                l
            }
            (None, Some(a)) => {
                if !(1..=2_147_483_646).contains(&a) {
                    return Err(client_err(format!("asn {a} must be between 1 and 2147483646 (use asnLong for 4-byte ASNs)")));
                }
                a
            }
            (None, None) => return Err(client_err("asn or asnLong is required")),
        };
        let mtu = opt_int(spec, "mtu")?.unwrap_or(1500);
        if mtu != 1500 && mtu != 8500 {
            return Err(client_err(format!("mtu {mtu} is not supported: use 1500 or 8500")));
        }
        // authKey: "a minimum length of 6 characters and a maximum length of 80".
        let auth_key = match opt_str(spec, "authKey")? {
            Some(k) if (6..=80).contains(&k.chars().count()) => k.to_string(),
            Some(_) => return Err(client_err("authKey must be between 6 and 80 characters")),
            None => random_alnum(24, false),
        };
        let family = opt_str(spec, "addressFamily")?.unwrap_or("ipv4");
        if family != "ipv4" && family != "ipv6" {
            return Err(client_err(format!("addressFamily {family} is not valid: use ipv4 or ipv6")));
        }
        let (amazon_address, customer_address) = match (opt_str(spec, "amazonAddress")?, opt_str(spec, "customerAddress")?) {
            (Some(a), Some(c)) => {
                if family == "ipv6" {
                    return Err(client_err("amazonAddress and customerAddress cannot be specified for addressFamily ipv6"));
                }
                for addr in [a, c] {
                    if !valid_cidr(addr, "ipv4") {
                        return Err(client_err(format!("{addr:?} is not an IPv4 address in CIDR notation")));
                    }
                }
                if a == c {
                    return Err(client_err("amazonAddress and customerAddress must differ"));
                }
                (a.to_string(), c.to_string())
            }
            (None, None) => self.allocate_peering(family),
            _ => return Err(client_err("amazonAddress and customerAddress must be given together")),
        };

        let (vgw_id, gateway_id, amazon_side_asn) = if allocate {
            (None, None, 64512)
        } else {
            match (opt_str(spec, "virtualGatewayId")?, opt_str(spec, "directConnectGatewayId")?) {
                (Some(_), Some(_)) => return Err(client_err("specify either virtualGatewayId or directConnectGatewayId, not both")),
                (None, None) => return Err(client_err("virtualGatewayId or directConnectGatewayId is required")),
                (Some(vgw), None) => {
                    if !vgw.starts_with("vgw-") {
                        return Err(client_err(format!("{vgw} is not a virtual private gateway id")));
                    }
                    // The VGW's own ASN lives in EC2; the sandbox reports Amazon's default.
                    (Some(vgw.to_string()), None, 64512)
                }
                (None, Some(gw)) => (None, Some(gw.to_string()), self.usable_gateway(env, gw)?),
            }
        };

        let vif = VirtualInterface {
            id: new_id("dxvif"),
            owner,
            connection_id: conn.id.clone(),
            connection_owner: conn.owner.clone(),
            region: env.region.to_string(),
            location: conn.location.clone(),
            aws_device: conn.aws_device.clone(),
            name: name.to_string(),
            vlan,
            asn,
            amazon_side_asn,
            auth_key,
            amazon_address,
            customer_address,
            address_family: family.to_string(),
            mtu,
            vgw_id,
            gateway_id,
            bgp_peer_id: new_id("dxpeer"),
            phase: if allocate {
                Phase::fixed("confirming", now)
            } else {
                Phase::new("pending", "available", env.ready_at(SERVICE, "virtual-interface"))
            },
            tags: tags_of(spec)?,
        };
        let out = vif_json(&vif, vif.phase.before);
        self.vifs.push(vif);
        Ok(out)
    }

    /// The Direct Connect gateway an interface attaches to must exist and not
    /// be going away; returns its Amazon side ASN.
    fn usable_gateway(&self, env: &SimEnv, id: &str) -> Result<i64, ApiError> {
        let gw = self
            .gateway(id, env.now)
            .filter(|g| g.owner == env.account)
            .ok_or_else(|| client_err(format!("Direct Connect gateway {id} does not exist")))?;
        match gw.phase.state(env.now) {
            "deleting" | "deleted" => Err(client_err(format!("Direct Connect gateway {id} is in state {}", gw.phase.state(env.now)))),
            _ => Ok(gw.asn),
        }
    }

    fn allocate_peering(&mut self, family: &str) -> (String, String) {
        let n = self.next_peering;
        self.next_peering += 1;
        if family == "ipv6" {
            return (format!("2600:1f00:{n:x}::1/125"), format!("2600:1f00:{n:x}::2/125"));
        }
        // 169.254.100.0 upwards, one /30 each: .1 Amazon, .2 customer.
        let base = (100u32 << 8) + n * 4;
        let (c, d) = ((base >> 8) & 0xff, base & 0xff);
        (format!("169.254.{c}.{}/30", d + 1), format!("169.254.{c}.{}/30", d + 2))
    }

    /// API_ConfirmPrivateVirtualInterface: "Accepts ownership of a private
    /// virtual interface created by another AWS account. After the virtual
    /// interface owner makes this call, the virtual interface is created and
    /// attached to the specified virtual private gateway or Direct Connect
    /// gateway". Only an interface in `confirming` can be confirmed.
    fn confirm_vif(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "virtualInterfaceId")?;
        let (vgw, gw) = match (opt_str(input, "virtualGatewayId")?, opt_str(input, "directConnectGatewayId")?) {
            (Some(_), Some(_)) => return Err(client_err("specify either virtualGatewayId or directConnectGatewayId, not both")),
            (None, None) => return Err(client_err("virtualGatewayId or directConnectGatewayId is required")),
            (vgw, gw) => (vgw.map(str::to_string), gw.map(str::to_string)),
        };
        let amazon_side_asn = match &gw {
            Some(g) => self.usable_gateway(env, g)?,
            None => 64512,
        };
        let ready = env.ready_at(SERVICE, "virtual-interface");
        let vif = self
            .vifs
            .iter_mut()
            .find(|v| v.id == id && v.owner == env.account && v.region == env.region && !v.phase.expired(env.now, &["deleted", "rejected"]))
            .ok_or_else(|| client_err(format!("Virtual interface {id} does not exist")))?;
        let state = vif.phase.state(env.now);
        if state != "confirming" {
            return Err(client_err(format!(
                "Virtual interface {id} is in state {state}; only an interface in state confirming can be confirmed"
            )));
        }
        vif.vgw_id = vgw;
        vif.gateway_id = gw;
        vif.amazon_side_asn = amazon_side_asn;
        vif.phase = Phase::new("pending", "available", ready);
        Ok(json!({ "virtualInterfaceState": "pending" }))
    }

    fn describe_vifs(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let conn_id = opt_str(input, "connectionId")?;
        let id = opt_str(input, "virtualInterfaceId")?;
        let list: Vec<Value> = self
            .vifs
            .iter()
            .filter(|v| v.region == env.region && (v.owner == env.account || v.connection_owner == env.account))
            .filter(|v| !v.phase.expired(env.now, &["deleted", "rejected"]))
            .filter(|v| conn_id.is_none_or(|x| v.connection_id == x))
            .filter(|v| id.is_none_or(|x| v.id == x))
            .map(|v| vif_json(v, v.phase.state(env.now)))
            .collect();
        if let (Some(id), true) = (id, list.is_empty()) {
            return Err(client_err(format!("Virtual interface {id} does not exist")));
        }
        Ok(json!({ "virtualInterfaces": list }))
    }

    /// API_DeleteVirtualInterface. The state goes `deleting` -> `deleted`; "If
    /// a virtual interface in the Confirming state is deleted by the virtual
    /// interface owner, the virtual interface enters the Rejected state."
    fn delete_vif(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "virtualInterfaceId")?;
        let now = env.now;
        let gone = env.gone_at(SERVICE, "virtual-interface");
        let vif = self
            .vifs
            .iter_mut()
            .find(|v| v.id == id && v.region == env.region && (v.owner == env.account || v.connection_owner == env.account))
            .filter(|v| !v.phase.expired(now, &["deleted", "rejected"]))
            .ok_or_else(|| client_err(format!("Virtual interface {id} does not exist")))?;
        let state = vif.phase.state(now);
        let answer = match state {
            "deleted" | "rejected" => return Err(client_err(format!("Virtual interface {id} is already {state}"))),
            "deleting" => "deleting",
            "confirming" if vif.owner == env.account => {
                vif.phase = Phase::fixed("rejected", now);
                "rejected"
            }
            _ => {
                vif.phase = Phase::new("deleting", "deleted", gone);
                "deleting"
            }
        };
        Ok(json!({ "virtualInterfaceState": answer }))
    }

    // ---------- tags ----------

    /// The tag list of the resource an ARN names. ARNs (Service Authorization
    /// Reference, "Resource types defined by AWS Direct Connect"):
    /// `arn:aws:directconnect:<region>:<account>:dxcon/<id>`, `.../dxvif/<id>`,
    /// and, global, `arn:aws:directconnect::<account>:dx-gateway/<id>`.
    fn tags_of_arn(&mut self, env: &SimEnv, arn: &str) -> Result<&mut Value, ApiError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let bad = || client_err(format!("{arn} is not a Direct Connect resource ARN"));
        let [_, _, "directconnect", region, account, resource] = parts.as_slice() else { return Err(bad()) };
        let (kind, id) = resource.split_once('/').ok_or_else(bad)?;
        if *account != env.account {
            return Err(client_err(format!("{arn} does not belong to account {}", env.account)));
        }
        let now = env.now;
        let missing = || client_err(format!("resource {arn} does not exist"));
        match kind {
            "dxcon" => self
                .connections
                .iter_mut()
                .find(|c| c.id == id && c.region == *region && c.owner == env.account)
                .map(|c| &mut c.tags)
                .ok_or_else(missing),
            "dxvif" => self
                .vifs
                .iter_mut()
                .find(|v| v.id == id && v.region == *region && v.owner == env.account && !v.phase.expired(now, &["deleted", "rejected"]))
                .map(|v| &mut v.tags)
                .ok_or_else(missing),
            "dx-gateway" => self
                .gateways
                .iter_mut()
                .find(|g| g.id == id && g.owner == env.account && !g.phase.expired(now, &["deleted"]))
                .map(|g| &mut g.tags)
                .ok_or_else(missing),
            _ => Err(bad()),
        }
    }

    /// API_TagResource: "Each resource can have a maximum of 50 tags"; a key
    /// given twice is DuplicateTagKeysException; an existing key is updated.
    fn tag_resource(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let arn = req_str(input, "resourceArn")?.to_string();
        let new = match input.get("tags") {
            Some(Value::Array(a)) if !a.is_empty() => tags_of(input)?,
            _ => return Err(client_err("tags is required")),
        };
        let tags = self.tags_of_arn(env, &arn)?;
        let mut list = tags.as_array().cloned().unwrap_or_default();
        for t in new.as_array().into_iter().flatten() {
            let key = t.get("key").cloned();
            match list.iter_mut().find(|x| x.get("key") == key.as_ref()) {
                Some(x) => *x = t.clone(),
                None => list.push(t.clone()),
            }
        }
        if list.len() > 50 {
            return Err(ApiError::new(400, "TooManyTagsException", "a resource can have at most 50 tags"));
        }
        *tags = Value::Array(list);
        Ok(json!({}))
    }

    fn untag_resource(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let arn = req_str(input, "resourceArn")?.to_string();
        let keys: Vec<String> = match input.get("tagKeys") {
            Some(Value::Array(a)) => a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect(),
            _ => return Err(client_err("tagKeys is required")),
        };
        let tags = self.tags_of_arn(env, &arn)?;
        if let Some(list) = tags.as_array_mut() {
            list.retain(|t| !t.get("key").and_then(Value::as_str).is_some_and(|k| keys.iter().any(|x| x == k)));
        }
        Ok(json!({}))
    }

    fn describe_tags(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let arns: Vec<String> = match input.get("resourceArns") {
            Some(Value::Array(a)) if !a.is_empty() => a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect(),
            _ => return Err(client_err("resourceArns is required")),
        };
        let mut out = Vec::new();
        for arn in arns {
            let tags = self.tags_of_arn(env, &arn)?.clone();
            out.push(json!({ "resourceArn": arn, "tags": tags }));
        }
        Ok(json!({ "resourceTags": out }))
    }
}

// ---------- JSON shapes (Connection, DirectConnectGateway, ...) ----------

fn conn_json(c: &Connection, state: &str) -> Value {
    let mut m = Map::new();
    m.insert("ownerAccount".into(), json!(c.owner));
    m.insert("connectionId".into(), json!(c.id));
    m.insert("connectionName".into(), json!(c.name));
    m.insert("connectionState".into(), json!(state));
    m.insert("region".into(), json!(c.region));
    m.insert("location".into(), json!(c.location));
    m.insert("bandwidth".into(), json!(c.bandwidth));
    if let Some(vlan) = c.vlan {
        m.insert("vlan".into(), json!(vlan));
    }
    if let Some(p) = &c.partner_name {
        m.insert("partnerName".into(), json!(p));
    }
    m.insert("awsDevice".into(), json!(c.aws_device));
    m.insert("awsDeviceV2".into(), json!(c.aws_device));
    m.insert("awsLogicalDeviceId".into(), json!(c.aws_device));
    m.insert("jumboFrameCapable".into(), json!(true));
    m.insert("hasLogicalRedundancy".into(), json!("no"));
    m.insert("macSecCapable".into(), json!(false));
    m.insert("tags".into(), c.tags.clone());
    Value::Object(m)
}

fn gateway_json(g: &Gateway, state: &str) -> Value {
    json!({
        "directConnectGatewayId": g.id,
        "directConnectGatewayName": g.name,
        "amazonSideAsn": g.asn,
        "ownerAccount": g.owner,
        "directConnectGatewayState": state,
        "tags": g.tags,
    })
}

fn association_json(a: &Association, state: &str) -> Value {
    let kind = if a.vgw_id.starts_with("tgw-") { "transitGateway" } else { "virtualPrivateGateway" };
    json!({
        "directConnectGatewayId": a.gateway_id,
        "directConnectGatewayOwnerAccount": a.gateway_owner,
        "associationState": state,
        "associatedGateway": { "id": a.vgw_id, "type": kind, "ownerAccount": a.vgw_owner, "region": a.vgw_region },
        "associationId": a.id,
        "allowedPrefixesToDirectConnectGateway": a.allowed_prefixes,
        "virtualGatewayId": a.vgw_id,
        "virtualGatewayRegion": a.vgw_region,
        "virtualGatewayOwnerAccount": a.vgw_owner,
    })
}

fn vif_json(v: &VirtualInterface, state: &str) -> Value {
    // DescribeVirtualInterfaces: "When using a 4-byte asnLong, the API
    // response returns 0 for the legacy asn attribute".
    let legacy_asn = if v.asn <= 2_147_483_647 { v.asn } else { 0 };
    let peer_state = match state {
        "confirming" | "pending" | "verifying" => "pending",
        "available" | "down" | "testing" => "available",
        "deleting" => "deleting",
        _ => "deleted",
    };
    let mut m = Map::new();
    m.insert("ownerAccount".into(), json!(v.owner));
    m.insert("virtualInterfaceId".into(), json!(v.id));
    m.insert("location".into(), json!(v.location));
    m.insert("connectionId".into(), json!(v.connection_id));
    m.insert("virtualInterfaceType".into(), json!("private"));
    m.insert("virtualInterfaceName".into(), json!(v.name));
    m.insert("vlan".into(), json!(v.vlan));
    m.insert("asn".into(), json!(legacy_asn));
    m.insert("asnLong".into(), json!(v.asn));
    m.insert("amazonSideAsn".into(), json!(v.amazon_side_asn));
    m.insert("authKey".into(), json!(v.auth_key));
    m.insert("amazonAddress".into(), json!(v.amazon_address));
    m.insert("customerAddress".into(), json!(v.customer_address));
    m.insert("addressFamily".into(), json!(v.address_family));
    m.insert("virtualInterfaceState".into(), json!(state));
    m.insert("mtu".into(), json!(v.mtu));
    m.insert("jumboFrameCapable".into(), json!(true));
    if let Some(vgw) = &v.vgw_id {
        m.insert("virtualGatewayId".into(), json!(vgw));
    }
    if let Some(gw) = &v.gateway_id {
        m.insert("directConnectGatewayId".into(), json!(gw));
    }
    m.insert("routeFilterPrefixes".into(), json!([]));
    m.insert(
        "bgpPeers".into(),
        json!([{
            "bgpPeerId": v.bgp_peer_id,
            "asn": legacy_asn,
            "asnLong": v.asn,
            "authKey": v.auth_key,
            "addressFamily": v.address_family,
            "amazonAddress": v.amazon_address,
            "customerAddress": v.customer_address,
            "bgpPeerState": peer_state,
            // No customer router speaks BGP in the sandbox.
            "bgpStatus": "down",
            "awsDeviceV2": v.aws_device,
            "awsLogicalDeviceId": v.aws_device,
        }]),
    );
    m.insert("region".into(), json!(v.region));
    m.insert("awsDeviceV2".into(), json!(v.aws_device));
    m.insert("awsLogicalDeviceId".into(), json!(v.aws_device));
    m.insert("tags".into(), v.tags.clone());
    m.insert("siteLinkEnabled".into(), json!(false));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::LatencyModel;

    struct Fixed(Duration);
    impl LatencyModel for Fixed {
        fn creation(&self, _: &str, _: &str, _: &str) -> Duration {
            self.0
        }
        fn deletion(&self, _: &str, _: &str, _: &str) -> Duration {
            self.0
        }
    }

    const SEC: Duration = Duration::from_secs(1);
    static LAT: Fixed = Fixed(Duration::from_secs(10));

    fn env_at(t0: Instant, secs: u64) -> SimEnv<'static> {
        SimEnv { region: "us-east-1", account: "111122223333", now: t0 + SEC * secs as u32, latency: &LAT }
    }

    fn code(r: Result<Value, ApiError>) -> String {
        let e = r.expect_err("expected an error");
        assert_eq!(e.status, 400);
        e.code
    }

    fn seeded(dx: &mut DirectConnect, env: &SimEnv) -> String {
        let c = dx
            .seed_hosted_connection(
                env,
                &json!({"connectionName": "gcp-partner", "bandwidth": "1Gbps", "vlan": 201, "partnerName": "Equinix", "location": "EqDC2"}),
            )
            .unwrap();
        assert_eq!(c["connectionState"], "ordering");
        assert_eq!(c["vlan"], 201);
        c["connectionId"].as_str().unwrap().to_string()
    }

    #[test]
    fn hosted_connection_ordering_pending_available() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let id = seeded(&mut dx, &env_at(t0, 0));
        assert!(id.starts_with("dxcon-"));
        let d = dx.handle(&env_at(t0, 1), "DescribeConnections", &json!({})).unwrap();
        assert_eq!(d["connections"][0]["connectionState"], "ordering");
        assert_eq!(d["connections"][0]["partnerName"], "Equinix");
        // No interface before the connection is confirmed.
        let vif = json!({"connectionId": id, "newPrivateVirtualInterface": {"virtualInterfaceName": "vif-a", "vlan": 201, "asn": 65010, "virtualGatewayId": "vgw-1"}});
        assert_eq!(code(dx.handle(&env_at(t0, 1), "CreatePrivateVirtualInterface", &vif)), "DirectConnectClientException");
        let r = dx.handle(&env_at(t0, 2), "ConfirmConnection", &json!({"connectionId": id})).unwrap();
        assert_eq!(r, json!({"connectionState": "pending"}));
        let d = dx.handle(&env_at(t0, 5), "DescribeConnections", &json!({"connectionId": id})).unwrap();
        assert_eq!(d["connections"][0]["connectionState"], "pending");
        let d = dx.handle(&env_at(t0, 12), "DescribeConnections", &json!({"connectionId": id})).unwrap();
        assert_eq!(d["connections"][0]["connectionState"], "available");
        // Confirming twice is refused.
        assert_eq!(code(dx.handle(&env_at(t0, 13), "ConfirmConnection", &json!({"connectionId": id}))), "DirectConnectClientException");
        // Unknown ids and other regions.
        assert!(dx.handle(&env_at(t0, 13), "DescribeConnections", &json!({"connectionId": "dxcon-nope"})).is_err());
        let west = SimEnv { region: "us-west-2", ..env_at(t0, 13) };
        assert_eq!(dx.handle(&west, "DescribeConnections", &json!({})).unwrap()["connections"], json!([]));
    }

    #[test]
    fn seed_validates_and_accepts_given_id() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let env = env_at(t0, 0);
        let c = dx.seed_hosted_connection(&env, &json!({"connectionId": "dxcon-abc12345", "vlan": 10})).unwrap();
        assert_eq!(c["connectionId"], "dxcon-abc12345");
        assert!(dx.seed_hosted_connection(&env, &json!({"connectionId": "dxcon-abc12345"})).is_err());
        assert!(dx.seed_hosted_connection(&env, &json!({"connectionId": "bogus"})).is_err());
        assert!(dx.seed_hosted_connection(&env, &json!({"vlan": 5000})).is_err());
    }

    #[test]
    fn gateway_asn_rules_and_lifecycle() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let env = env_at(t0, 0);
        for bad in [64511i64, 65535, 1, 4_199_999_999, 4_294_967_295] {
            let r = dx.handle(&env, "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "g", "amazonSideAsn": bad}));
            assert_eq!(code(r), "DirectConnectClientException", "asn {bad}");
        }
        assert!(dx.handle(&env, "CreateDirectConnectGateway", &json!({})).is_err());
        for good in [64512i64, 65534, 4_200_000_000, 4_294_967_294] {
            dx.handle(&env, "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "g", "amazonSideAsn": good})).unwrap();
        }
        let g = dx.handle(&env, "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "tandem-dxgw"})).unwrap();
        let g = &g["directConnectGateway"];
        assert_eq!(g["directConnectGatewayState"], "pending");
        assert_eq!(g["amazonSideAsn"], 64512);
        assert_eq!(g["ownerAccount"], "111122223333");
        let id = g["directConnectGatewayId"].as_str().unwrap().to_string();
        let d = dx.handle(&env_at(t0, 3), "DescribeDirectConnectGateways", &json!({"directConnectGatewayId": id})).unwrap();
        assert_eq!(d["directConnectGateways"][0]["directConnectGatewayState"], "pending");
        let d = dx.handle(&env_at(t0, 10), "DescribeDirectConnectGateways", &json!({"directConnectGatewayId": id})).unwrap();
        assert_eq!(d["directConnectGateways"][0]["directConnectGatewayState"], "available");
        assert_eq!(
            dx.handle(&env_at(t0, 10), "DescribeDirectConnectGateways", &json!({})).unwrap()["directConnectGateways"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        let r = dx.handle(&env_at(t0, 11), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": id})).unwrap();
        assert_eq!(r["directConnectGateway"]["directConnectGatewayState"], "deleting");
        assert!(dx.handle(&env_at(t0, 12), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": id})).is_err());
        let d = dx.handle(&env_at(t0, 30), "DescribeDirectConnectGateways", &json!({"directConnectGatewayId": id})).unwrap();
        assert_eq!(d["directConnectGateways"][0]["directConnectGatewayState"], "deleted");
        // Gone after the retention window.
        assert!(dx.handle(&env_at(t0, 30 + 15 * 60), "DescribeDirectConnectGateways", &json!({"directConnectGatewayId": id})).is_err());
    }

    #[test]
    fn association_lifecycle_and_delete_refused_while_attached() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let env = env_at(t0, 0);
        let g = dx.handle(&env, "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "gw", "amazonSideAsn": 64600})).unwrap();
        let gw = g["directConnectGateway"]["directConnectGatewayId"].as_str().unwrap().to_string();
        assert!(dx.handle(&env, "CreateDirectConnectGatewayAssociation", &json!({"directConnectGatewayId": gw})).is_err());
        assert!(dx
            .handle(&env, "CreateDirectConnectGatewayAssociation", &json!({"directConnectGatewayId": "nope", "virtualGatewayId": "vgw-1"}))
            .is_err());
        let a = dx
            .handle(&env, "CreateDirectConnectGatewayAssociation", &json!({"directConnectGatewayId": gw, "virtualGatewayId": "vgw-0abc"}))
            .unwrap();
        let a = &a["directConnectGatewayAssociation"];
        assert_eq!(a["associationState"], "associating");
        assert_eq!(a["virtualGatewayId"], "vgw-0abc");
        assert_eq!(a["virtualGatewayRegion"], "us-east-1");
        assert_eq!(a["associatedGateway"]["type"], "virtualPrivateGateway");
        let assoc_id = a["associationId"].as_str().unwrap().to_string();
        // The same VGW cannot be associated twice (with this or another gateway).
        let g2 = dx.handle(&env, "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "gw2"})).unwrap();
        let gw2 = g2["directConnectGateway"]["directConnectGatewayId"].as_str().unwrap().to_string();
        assert!(dx
            .handle(&env, "CreateDirectConnectGatewayAssociation", &json!({"directConnectGatewayId": gw2, "virtualGatewayId": "vgw-0abc"}))
            .is_err());
        assert!(dx
            .handle(&env, "CreateDirectConnectGatewayAssociation", &json!({"directConnectGatewayId": gw, "gatewayId": "vgw-0abc"}))
            .is_err());

        let d = dx.handle(&env_at(t0, 10), "DescribeDirectConnectGatewayAssociations", &json!({"directConnectGatewayId": gw})).unwrap();
        assert_eq!(d["directConnectGatewayAssociations"][0]["associationState"], "associated");
        assert_eq!(
            code(dx.handle(&env_at(t0, 10), "DescribeDirectConnectGatewayAssociations", &json!({}))),
            "DirectConnectClientException",
            "one of the lookups is required"
        );
        let both = dx
            .handle(
                &env_at(t0, 10),
                "DescribeDirectConnectGatewayAssociations",
                &json!({"directConnectGatewayId": gw, "virtualGatewayId": "vgw-0abc"}),
            )
            .unwrap();
        assert_eq!(both["directConnectGatewayAssociations"].as_array().unwrap().len(), 1);
        let other = dx
            .handle(
                &env_at(t0, 10),
                "DescribeDirectConnectGatewayAssociations",
                &json!({"directConnectGatewayId": gw, "virtualGatewayId": "vgw-0ffff"}),
            )
            .unwrap();
        assert_eq!(other["directConnectGatewayAssociations"], json!([]));
        let by_associated =
            dx.handle(&env_at(t0, 10), "DescribeDirectConnectGatewayAssociations", &json!({"associatedGatewayId": "vgw-0abc"})).unwrap();
        assert_eq!(by_associated["directConnectGatewayAssociations"].as_array().unwrap().len(), 1);
        let d = dx.handle(&env_at(t0, 10), "DescribeDirectConnectGatewayAssociations", &json!({"virtualGatewayId": "vgw-0abc"})).unwrap();
        assert_eq!(d["directConnectGatewayAssociations"].as_array().unwrap().len(), 1);

        let r = dx.handle(&env_at(t0, 11), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": gw}));
        assert_eq!(code(r), "DirectConnectClientException");

        let r = dx.handle(&env_at(t0, 12), "DeleteDirectConnectGatewayAssociation", &json!({"associationId": assoc_id})).unwrap();
        assert_eq!(r["directConnectGatewayAssociation"]["associationState"], "disassociating");
        // Still disassociating: the gateway cannot go yet.
        assert!(dx.handle(&env_at(t0, 13), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": gw})).is_err());
        let d = dx.handle(&env_at(t0, 22), "DescribeDirectConnectGatewayAssociations", &json!({"associationId": assoc_id})).unwrap();
        assert_eq!(d["directConnectGatewayAssociations"][0]["associationState"], "disassociated");
        assert!(dx.handle(&env_at(t0, 23), "DeleteDirectConnectGatewayAssociation", &json!({"associationId": assoc_id})).is_err());
        // By gateway + VGW, after re-associating.
        dx.handle(
            &env_at(t0, 23),
            "CreateDirectConnectGatewayAssociation",
            &json!({"directConnectGatewayId": gw, "virtualGatewayId": "vgw-0abc"}),
        )
        .unwrap();
        assert!(dx.handle(&env_at(t0, 24), "DeleteDirectConnectGatewayAssociation", &json!({"directConnectGatewayId": gw})).is_err());
        dx.handle(
            &env_at(t0, 24),
            "DeleteDirectConnectGatewayAssociation",
            &json!({"directConnectGatewayId": gw, "virtualGatewayId": "vgw-0abc"}),
        )
        .unwrap();
        let r = dx.handle(&env_at(t0, 40), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": gw})).unwrap();
        assert_eq!(r["directConnectGateway"]["directConnectGatewayState"], "deleting");
    }

    fn confirmed_connection(dx: &mut DirectConnect, t0: Instant) -> String {
        let id = seeded(dx, &env_at(t0, 0));
        dx.handle(&env_at(t0, 0), "ConfirmConnection", &json!({"connectionId": id})).unwrap();
        id
    }

    #[test]
    fn private_vif_on_dx_gateway_lifecycle() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let conn = confirmed_connection(&mut dx, t0);
        let g = dx
            .handle(&env_at(t0, 0), "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "gw", "amazonSideAsn": 64700}))
            .unwrap();
        let gw = g["directConnectGateway"]["directConnectGatewayId"].as_str().unwrap().to_string();
        let req = json!({"connectionId": conn, "newPrivateVirtualInterface": {
            "virtualInterfaceName": "tandem-gcp", "vlan": 201, "asn": 16550, "authKey": "s3cretkey!",
            "amazonAddress": "169.254.20.1/30", "customerAddress": "169.254.20.2/30", "addressFamily": "ipv4",
            "directConnectGatewayId": gw, "tags": [{"key": "app", "value": "tandem"}]}});
        let v = dx.handle(&env_at(t0, 1), "CreatePrivateVirtualInterface", &req).unwrap();
        assert_eq!(v["virtualInterfaceState"], "pending");
        assert_eq!(v["virtualInterfaceType"], "private");
        assert_eq!(v["directConnectGatewayId"], gw.as_str());
        assert_eq!(v["amazonSideAsn"], 64700);
        assert_eq!(v["asn"], 16550);
        assert_eq!(v["asnLong"], 16550);
        assert_eq!(v["authKey"], "s3cretkey!");
        assert_eq!(v["bgpPeers"][0]["customerAddress"], "169.254.20.2/30");
        assert_eq!(v["mtu"], 1500);
        assert_eq!(v["location"], "EqDC2");
        let id = v["virtualInterfaceId"].as_str().unwrap().to_string();
        assert!(id.starts_with("dxvif-"));
        // A hosted connection carries one interface.
        assert!(dx.handle(&env_at(t0, 2), "CreatePrivateVirtualInterface", &req).is_err());
        // The gateway cannot be deleted while the interface is attached.
        assert!(dx.handle(&env_at(t0, 3), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": gw})).is_err());

        let d = dx.handle(&env_at(t0, 5), "DescribeVirtualInterfaces", &json!({"virtualInterfaceId": id})).unwrap();
        assert_eq!(d["virtualInterfaces"][0]["virtualInterfaceState"], "pending");
        let d = dx.handle(&env_at(t0, 11), "DescribeVirtualInterfaces", &json!({"connectionId": conn})).unwrap();
        assert_eq!(d["virtualInterfaces"][0]["virtualInterfaceState"], "available");
        assert_eq!(d["virtualInterfaces"][0]["bgpPeers"][0]["bgpPeerState"], "available");

        let r = dx.handle(&env_at(t0, 12), "DeleteVirtualInterface", &json!({"virtualInterfaceId": id})).unwrap();
        assert_eq!(r, json!({"virtualInterfaceState": "deleting"}));
        let d = dx.handle(&env_at(t0, 13), "DescribeVirtualInterfaces", &json!({})).unwrap();
        assert_eq!(d["virtualInterfaces"][0]["virtualInterfaceState"], "deleting");
        let d = dx.handle(&env_at(t0, 30), "DescribeVirtualInterfaces", &json!({})).unwrap();
        assert_eq!(d["virtualInterfaces"][0]["virtualInterfaceState"], "deleted");
        assert!(dx.handle(&env_at(t0, 31), "DeleteVirtualInterface", &json!({"virtualInterfaceId": id})).is_err());
        // Deleted interfaces stay listed for 15 minutes, then disappear.
        let d = dx.handle(&env_at(t0, 30 + 15 * 60), "DescribeVirtualInterfaces", &json!({})).unwrap();
        assert_eq!(d["virtualInterfaces"], json!([]));
        // Now the gateway can go, and the connection takes a new interface.
        dx.handle(&env_at(t0, 31), "DeleteDirectConnectGateway", &json!({"directConnectGatewayId": gw})).unwrap();
        let req2 = json!({"connectionId": conn, "newPrivateVirtualInterface": {"virtualInterfaceName": "again", "vlan": 201, "asnLong": 4_200_000_001u64, "virtualGatewayId": "vgw-9"}});
        let v = dx.handle(&env_at(t0, 32), "CreatePrivateVirtualInterface", &req2).unwrap();
        assert_eq!(v["asn"], 0);
        assert_eq!(v["asnLong"], 4_200_000_001u64);
        assert_eq!(v["virtualGatewayId"], "vgw-9");
        // Generated addresses and key.
        assert!(v["amazonAddress"].as_str().unwrap().starts_with("169.254."));
        assert_ne!(v["amazonAddress"], v["customerAddress"]);
        assert!(v["authKey"].as_str().unwrap().len() >= 6);
    }

    #[test]
    fn private_vif_validation() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let conn = confirmed_connection(&mut dx, t0);
        let env = env_at(t0, 1);
        let base = json!({"virtualInterfaceName": "ok-name", "vlan": 201, "asn": 65000, "virtualGatewayId": "vgw-1"});
        let with = |k: &str, v: Value| {
            let mut s = base.clone();
            if v.is_null() {
                s.as_object_mut().unwrap().remove(k);
            } else {
                s[k] = v;
            }
            json!({"connectionId": conn, "newPrivateVirtualInterface": s})
        };
        let bad = [
            with("virtualInterfaceName", json!("Bad_Name")),
            with("virtualInterfaceName", Value::Null),
            with("vlan", json!(202)),
            with("vlan", Value::Null),
            with("asn", json!(3_000_000_000u64)),
            with("asn", Value::Null),
            with("mtu", json!(9001)),
            with("authKey", json!("short")),
            with("addressFamily", json!("ipx")),
            with("amazonAddress", json!("169.254.1.1/30")),
            with("directConnectGatewayId", json!("nope")),
            with("virtualGatewayId", Value::Null),
        ];
        for (i, req) in bad.iter().enumerate() {
            let r = dx.handle(&env, "CreatePrivateVirtualInterface", req);
            assert_eq!(code(r), "DirectConnectClientException", "case {i}");
        }
        assert!(dx
            .handle(&env, "CreatePrivateVirtualInterface", &json!({"connectionId": "dxcon-none", "newPrivateVirtualInterface": base}))
            .is_err());
        assert!(dx.handle(&env, "CreatePrivateVirtualInterface", &json!({"connectionId": conn})).is_err());
        assert!(dx.handle(&env, "CreatePrivateVirtualInterface", &with("mtu", json!(8500))).is_ok());
        assert_eq!(code(dx.handle(&env, "Bogus", &json!({}))), "UnknownOperationException");
    }

    #[test]
    fn allocated_vif_is_confirmed_by_its_owner() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let conn = confirmed_connection(&mut dx, t0);
        let env = env_at(t0, 1);
        let req = json!({"connectionId": conn, "ownerAccount": "111122223333", "newPrivateVirtualInterfaceAllocation": {"virtualInterfaceName": "hosted-vif", "vlan": 201, "asn": 65001}});
        let v = dx.handle(&env, "AllocatePrivateVirtualInterface", &req).unwrap();
        assert_eq!(v["virtualInterfaceState"], "confirming");
        let id = v["virtualInterfaceId"].as_str().unwrap().to_string();
        // Still confirming later: nothing happens without the owner.
        let d = dx.handle(&env_at(t0, 100), "DescribeVirtualInterfaces", &json!({"virtualInterfaceId": id})).unwrap();
        assert_eq!(d["virtualInterfaces"][0]["virtualInterfaceState"], "confirming");
        assert!(dx.handle(&env_at(t0, 100), "ConfirmPrivateVirtualInterface", &json!({"virtualInterfaceId": id})).is_err());
        let r = dx
            .handle(&env_at(t0, 100), "ConfirmPrivateVirtualInterface", &json!({"virtualInterfaceId": id, "virtualGatewayId": "vgw-7"}))
            .unwrap();
        assert_eq!(r, json!({"virtualInterfaceState": "pending"}));
        assert!(dx
            .handle(&env_at(t0, 101), "ConfirmPrivateVirtualInterface", &json!({"virtualInterfaceId": id, "virtualGatewayId": "vgw-7"}))
            .is_err());
        let d = dx.handle(&env_at(t0, 110), "DescribeVirtualInterfaces", &json!({"virtualInterfaceId": id})).unwrap();
        assert_eq!(d["virtualInterfaces"][0]["virtualInterfaceState"], "available");
        assert_eq!(d["virtualInterfaces"][0]["virtualGatewayId"], "vgw-7");
        assert!(dx.handle(&env, "AllocatePrivateVirtualInterface", &json!({"connectionId": conn, "ownerAccount": "12", "newPrivateVirtualInterfaceAllocation": {"virtualInterfaceName": "x", "vlan": 201, "asn": 1}})).is_err());
    }

    #[test]
    fn deleting_a_confirming_vif_rejects_it() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let conn = confirmed_connection(&mut dx, t0);
        let env = env_at(t0, 1);
        let req = json!({"connectionId": conn, "ownerAccount": "111122223333", "newPrivateVirtualInterfaceAllocation": {"virtualInterfaceName": "hosted-vif", "vlan": 201, "asn": 65001}});
        let id = dx.handle(&env, "AllocatePrivateVirtualInterface", &req).unwrap()["virtualInterfaceId"].as_str().unwrap().to_string();
        let r = dx.handle(&env, "DeleteVirtualInterface", &json!({"virtualInterfaceId": id})).unwrap();
        assert_eq!(r["virtualInterfaceState"], "rejected");
        // The VLAN is free again.
        dx.handle(&env, "AllocatePrivateVirtualInterface", &req).unwrap();
    }

    #[test]
    fn tags_by_arn() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let env = env_at(t0, 0);
        let g = dx
            .handle(
                &env,
                "CreateDirectConnectGateway",
                &json!({"directConnectGatewayName": "gw", "tags": [{"key": "tandem:id", "value": "net/dxgw"}]}),
            )
            .unwrap();
        let id = g["directConnectGateway"]["directConnectGatewayId"].as_str().unwrap().to_string();
        let arn = format!("arn:aws:directconnect::111122223333:dx-gateway/{id}");
        let d = dx.handle(&env, "DescribeTags", &json!({"resourceArns": [arn]})).unwrap();
        assert_eq!(d["resourceTags"][0]["tags"], json!([{"key": "tandem:id", "value": "net/dxgw"}]));
        dx.handle(
            &env,
            "TagResource",
            &json!({"resourceArn": arn, "tags": [{"key": "tandem:id", "value": "v2"}, {"key": "b", "value": "c"}]}),
        )
        .unwrap();
        dx.handle(&env, "UntagResource", &json!({"resourceArn": arn, "tagKeys": ["b"]})).unwrap();
        let d = dx.handle(&env, "DescribeTags", &json!({"resourceArns": [arn]})).unwrap();
        assert_eq!(d["resourceTags"][0]["tags"], json!([{"key": "tandem:id", "value": "v2"}]));
        let dup = json!({"resourceArn": arn, "tags": [{"key": "x", "value": "1"}, {"key": "x", "value": "2"}]});
        assert_eq!(code(dx.handle(&env, "TagResource", &dup)), "DuplicateTagKeysException");
        let conn = seeded(&mut dx, &env);
        let carn = format!("arn:aws:directconnect:us-east-1:111122223333:dxcon/{conn}");
        dx.handle(&env, "TagResource", &json!({"resourceArn": carn, "tags": [{"key": "k"}]})).unwrap();
        assert!(dx
            .handle(&env, "DescribeTags", &json!({"resourceArns": ["arn:aws:directconnect:us-east-1:111122223333:dxvif/dxvif-none"]}))
            .is_err());
        assert!(dx.handle(&env, "DescribeTags", &json!({"resourceArns": ["arn:aws:s3:::bucket"]})).is_err());
        assert!(dx
            .handle(&env, "DescribeTags", &json!({"resourceArns": [format!("arn:aws:directconnect::999999999999:dx-gateway/{id}")]}))
            .is_err());
    }

    #[test]
    fn zero_latency_settles_on_next_read() {
        let t0 = Instant::now();
        let mut dx = DirectConnect::default();
        let zero = crate::env::Instant0;
        let env = SimEnv { region: "us-east-1", account: "111122223333", now: t0, latency: &zero };
        let g = dx.handle(&env, "CreateDirectConnectGateway", &json!({"directConnectGatewayName": "gw"})).unwrap();
        assert_eq!(g["directConnectGateway"]["directConnectGatewayState"], "pending");
        let later = SimEnv { now: t0 + Duration::from_millis(1), ..env };
        let d = dx.handle(&later, "DescribeDirectConnectGateways", &json!({})).unwrap();
        assert_eq!(d["directConnectGateways"][0]["directConnectGatewayState"], "available");
    }
}
