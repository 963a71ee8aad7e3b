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
//! `Phase` (`support::phase`: state before, state after, instant of the change). Answers to a
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
use crate::support::phase::Phase;

mod associations;
mod connections;
mod gateways;
mod input;
mod tags;
mod vifs;

use connections::*;
use input::*;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::TestLatency;

    const SEC: Duration = Duration::from_secs(1);
    static LAT: TestLatency = TestLatency::fixed(Duration::from_secs(10));

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
