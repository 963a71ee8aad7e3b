//! `gcp.compute.router_peer`: one interface of a Cloud Router and the BGP
//! peer on it (one per HA VPN tunnel, one per interconnect attachment).
//!
//! A Cloud Router keeps its interfaces and peers in two lists inside the
//! router resource, so several peers of one router are edits of the same
//! object, often wanted at the same time (the four tunnels of an HA VPN are
//! independent in the graph). The v1 Router has no fingerprint to make a
//! write conditional, so each edit takes the router's lock in this process
//! ([`GcpContext::router_lock`]), reads the router, changes only its own
//! entries, writes the whole router back with routers.update (PUT: the only
//! way to empty a list), waits for the operation, and reads again to check
//! its entries survived; if another writer (another process, the console)
//! replaced them meanwhile, the edit is redone. A router busy with another
//! operation answers resourceNotReady, which is retried.
//! https://cloud.google.com/compute/docs/reference/rest/v1/routers/update
//! https://cloud.google.com/network-connectivity/docs/router/how-to/configure-bgp-sessions

use crate::api::{Coll, Path};
use crate::mapping::check_common;
use crate::GcpContext;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_provider::{prop_i64, prop_str, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

/// How often an edit that another writer undid is redone before giving up.
const ATTEMPTS: u32 = 10;

pub struct RouterPeer {
    gcp: Arc<GcpContext>,
    schema: KindSchema,
}

/// `projects/P/regions/R/routers/ROUTER/bgpPeers/NAME`.
struct PeerId {
    router: Path,
    name: String,
}

impl PeerId {
    fn render(&self) -> String {
        format!("{}/bgpPeers/{}", self.router.render(Coll::Routers), self.name)
    }
    fn parse(id: &str) -> Result<PeerId> {
        let (router, name) = id.rsplit_once("/bgpPeers/").ok_or_else(|| {
            ProviderError::invalid(format!(
                "{id:?} is not a router peer id; expected projects/PROJECT/regions/REGION/routers/ROUTER/bgpPeers/NAME"
            ))
        })?;
        Ok(PeerId { router: Path::parse(Coll::Routers, router)?, name: name.to_string() })
    }
}

fn last(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

impl RouterPeer {
    pub fn new(gcp: Arc<GcpContext>) -> Self {
        let schema = KindSchema {
            type_name: "gcp.compute.router_peer",
            doc: "A Cloud Router interface and the BGP peer on it: for HA VPN, one per tunnel, with the AWS tunnel's inside /30 (the router takes the customer-side address, the peer is the AWS side) and the AWS ASN. Peers of one router may be applied at once: edits of one router are serialized (the v1 Router has no fingerprint), each rewrites the router with routers.update and is redone if another writer undid it.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/routers/update",
            regional: true,
            properties: vec![
                Field::new("project", Type::String).required().force_new().doc("The Google Cloud project id."),
                Field::new("router", Type::String).required().force_new().refers_to(&["gcp.compute.router"]).carries_traffic().doc("The Cloud Router's self_link."),
                Field::new("name", Type::String).required().force_new().doc("The BGP peer's name, unique in the router; defaults to the resource's key."),
                Field::new("interface_name", Type::String).force_new().computed().doc("The router interface's name; defaults to the peer's name."),
                Field::new("ip_range", Type::String).force_new().doc("The interface's address with its prefix, a /30 in 169.254.0.0/16 (for an AWS tunnel: the customer-side inside address, e.g. 169.254.10.2/30). Interconnect attachments get theirs from Google."),
                Field::new("linked_vpn_tunnel", Type::String).force_new().refers_to(&["gcp.compute.vpn_tunnel"]).carries_traffic().doc("The VPN tunnel's self_link (for HA VPN)."),
                Field::new("linked_interconnect_attachment", Type::String).force_new().refers_to(&["gcp.compute.interconnect_attachment"]).carries_traffic().doc("The interconnect attachment's self_link (for Partner Interconnect)."),
                Field::new("peer_ip_address", Type::String).carries_traffic().doc("The peer's BGP address (for an AWS tunnel: the AWS-side inside address, e.g. 169.254.10.1)."),
                Field::new("peer_asn", Type::Integer).required().carries_traffic().check(Check::Range(1, 4_294_967_294)).doc("The peer's ASN (the virtual private gateway's amazon_side_asn)."),
                Field::new("advertised_route_priority", Type::Integer).computed().check(Check::Range(0, 65535)).doc("The MED of routes advertised to this peer (lower is preferred)."),
            ],
            outputs: vec![
                OutputDef::new("ip_address", "The router's own BGP address on this interface."),
                OutputDef::new("name", "The BGP peer's name."),
            ],
            name_field: Some("name"),
            import_id: "projects/PROJECT/regions/REGION/routers/ROUTER/bgpPeers/NAME",
        };
        RouterPeer { gcp, schema }
    }

    fn id_for(ctx: &Ctx, props: &Map<String, Value>) -> Result<PeerId> {
        let project = prop_str(props, "project").ok_or_else(|| ProviderError::invalid("project is required"))?;
        let router = prop_str(props, "router").ok_or_else(|| ProviderError::invalid("router is required"))?;
        let name = prop_str(props, "name").unwrap_or(&ctx.name);
        Ok(PeerId {
            router: Path { project: project.into(), region: Some(ctx.region()?.to_string()), name: last(router).to_string() },
            name: name.to_string(),
        })
    }

    /// Under the router's lock: read the router, let `edit` change its
    /// JSON, write it back, and check with `applied` on a fresh read that the
    /// change is there (redone when another writer undid it). `edit` answers
    /// false when there is nothing to write.
    async fn edit_router<F, A>(&self, ctx: &Ctx, id: &PeerId, mut edit: F, applied: A) -> Result<()>
    where
        F: FnMut(&mut Map<String, Value>) -> Result<bool> + Send,
        A: Fn(&Value) -> bool + Send + Sync,
    {
        let lock = self.gcp.router_lock(&id.router.render(Coll::Routers));
        let _held = lock.lock().await;
        for attempt in 0..ATTEMPTS {
            let Some(Value::Object(mut router)) = self.gcp.get(ctx, Coll::Routers, &id.router).await? else {
                return Err(ProviderError::not_found(format!("the router {} does not exist", id.router.render(Coll::Routers))));
            };
            if !edit(&mut router)? {
                return Ok(());
            }
            self.gcp.update_router(ctx, &id.router, Value::Object(router)).await?;
            match self.gcp.get(ctx, Coll::Routers, &id.router).await? {
                Some(now) if applied(&now) => return Ok(()),
                Some(_) => {
                    ctx.report(format!("{} was changed by someone else meanwhile; editing it again", id.router.render(Coll::Routers)));
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt + 1))).await;
                }
                None => {
                    return Err(ProviderError::not_found(format!("the router {} was deleted meanwhile", id.router.render(Coll::Routers))))
                }
            }
        }
        Err(ProviderError::new(
            ErrorClass::Conflict,
            format!("{} kept being changed by another writer; {ATTEMPTS} edits did not stick", id.router.render(Coll::Routers)),
        ))
    }

    fn interface_name(props: &Map<String, Value>, peer: &str) -> String {
        prop_str(props, "interface_name").unwrap_or(peer).to_string()
    }

    /// The router's interface and peer entries as the API shapes them.
    fn entries(props: &Map<String, Value>, id: &PeerId) -> (Value, Value) {
        let iface_name = Self::interface_name(props, &id.name);
        let mut iface = Map::new();
        iface.insert("name".into(), json!(iface_name));
        for (from, to) in [
            ("ip_range", "ipRange"),
            ("linked_vpn_tunnel", "linkedVpnTunnel"),
            ("linked_interconnect_attachment", "linkedInterconnectAttachment"),
        ] {
            if let Some(v) = prop_str(props, from) {
                iface.insert(to.into(), json!(v));
            }
        }
        let mut peer = Map::new();
        peer.insert("name".into(), json!(id.name));
        peer.insert("interfaceName".into(), json!(iface_name));
        if let Some(ip) = prop_str(props, "ip_range").and_then(|r| r.split('/').next()) {
            peer.insert("ipAddress".into(), json!(ip));
        }
        if let Some(ip) = prop_str(props, "peer_ip_address") {
            peer.insert("peerIpAddress".into(), json!(ip));
        }
        if let Some(asn) = prop_i64(props, "peer_asn") {
            peer.insert("peerAsn".into(), json!(asn));
        }
        if let Some(p) = prop_i64(props, "advertised_route_priority") {
            peer.insert("advertisedRoutePriority".into(), json!(p));
        }
        (Value::Object(iface), Value::Object(peer))
    }
}

/// Whether the router has the peer `name` (with every field of `want`, when given).
fn has_peer(router: &Value, name: &str, want: Option<&Value>) -> bool {
    router["bgpPeers"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == json!(name) && want.and_then(Value::as_object).is_none_or(|w| w.iter().all(|(k, v)| p.get(k) == Some(v))))
}

fn list<'a>(router: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let v = router.entry(key.to_string()).or_insert_with(|| json!([]));
    if !v.is_array() {
        *v = json!([]);
    }
    v.as_array_mut().expect("made an array above")
}

#[async_trait]
impl ResourceKind for RouterPeer {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    /// A peer is an edit of its router (get, then update the whole router).
    fn permissions(&self) -> &'static [&'static str] {
        &["compute.routers.get", "compute.routers.update", "compute.regionOperations.get"]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = check_common(&self.schema, props);
        if let Some(r) = prop_str(props, "ip_range") {
            // Cloud Router BGP addresses are link-local /30s (or /29).
            // https://cloud.google.com/network-connectivity/docs/router/concepts/overview#bgp-ips
            let ok = r.parse::<ipnet::Ipv4Net>().is_ok_and(|n| {
                let o = n.addr().octets();
                o[0] == 169 && o[1] == 254 && n.prefix_len() == 30 && n.addr() != n.network() && n.addr() != n.broadcast()
            });
            if !ok {
                out.push(Invalid::new(
                    "ip_range",
                    format!("{r:?} must be a host address of a /30 in 169.254.0.0/16 with its prefix, e.g. 169.254.10.2/30"),
                ));
            }
        }
        if let (Some(r), Some(peer)) =
            (prop_str(props, "ip_range").and_then(|r| r.parse::<ipnet::Ipv4Net>().ok()), prop_str(props, "peer_ip_address"))
        {
            match peer.parse::<std::net::Ipv4Addr>() {
                Ok(p) if r.trunc().contains(&p) && p != r.addr() => {}
                Ok(_) => out.push(Invalid::new("peer_ip_address", format!("{peer} must be the other host of {r}'s /30"))),
                Err(_) => out.push(Invalid::new("peer_ip_address", format!("{peer:?} is not an IPv4 address"))),
            }
        }
        // A BGP peer's address needs the router's own address on the interface:
        // Google refuses "peer IP address ... is specified, but IP address is
        // not specified" (hashicorp/terraform-provider-google#7662).
        // https://cloud.google.com/compute/docs/reference/rest/v1/routers
        // (A null ip_range is one not known before apply: only a missing one is wrong.)
        if prop_str(props, "peer_ip_address").is_some() && !props.contains_key("ip_range") {
            out.push(Invalid::new("peer_ip_address", "peer_ip_address needs ip_range, the router's own address on this interface (for an AWS tunnel: ${aws_vpn.tunnelN_bgp_local_ip}/30)"));
        }
        if props.get("linked_vpn_tunnel").is_some_and(|v| !v.is_null())
            && props.get("linked_interconnect_attachment").is_some_and(|v| !v.is_null())
        {
            out.push(Invalid::new(
                "linked_interconnect_attachment",
                "an interface links either a VPN tunnel or an interconnect attachment, not both",
            ));
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let id = Self::id_for(ctx, props)?;
        let (iface, peer) = Self::entries(props, &id);
        let iface_name = Self::interface_name(props, &id.name);
        self.edit_router(
            ctx,
            &id,
            |router| {
                if list(router, "bgpPeers").iter().any(|p| p["name"] == json!(id.name)) {
                    return Err(ProviderError::new(
                        ErrorClass::Conflict,
                        format!("{} exists already; adopt it with `tandem import {} {}`", id.render(), ctx.address, id.render()),
                    ));
                }
                let ifaces = list(router, "interfaces");
                ifaces.retain(|i| i["name"] != json!(iface_name));
                ifaces.push(iface.clone());
                list(router, "bgpPeers").push(peer.clone());
                Ok(true)
            },
            |now| has_peer(now, &id.name, Some(&peer)),
        )
        .await?;
        self.read(ctx, &id.render())
            .await?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{} vanished right after creation", id.render())))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let pid = PeerId::parse(id)?;
        let Some(router) = self.gcp.get(ctx, Coll::Routers, &pid.router).await? else { return Ok(None) };
        let Some(peer) = router["bgpPeers"].as_array().into_iter().flatten().find(|p| p["name"] == json!(pid.name)) else {
            return Ok(None);
        };
        let iface_name = peer["interfaceName"].as_str().unwrap_or_default();
        let iface =
            router["interfaces"].as_array().into_iter().flatten().find(|i| i["name"] == json!(iface_name)).cloned().unwrap_or(Value::Null);
        let mut p = Map::new();
        p.insert("project".into(), json!(pid.router.project));
        p.insert("router".into(), router["selfLink"].clone());
        p.insert("name".into(), json!(pid.name));
        p.insert("interface_name".into(), json!(iface_name));
        for (to, from) in [
            ("ip_range", "ipRange"),
            ("linked_vpn_tunnel", "linkedVpnTunnel"),
            ("linked_interconnect_attachment", "linkedInterconnectAttachment"),
        ] {
            if let Some(v) = iface[from].as_str() {
                p.insert(to.into(), json!(v));
            }
        }
        for (to, from) in
            [("peer_ip_address", "peerIpAddress"), ("peer_asn", "peerAsn"), ("advertised_route_priority", "advertisedRoutePriority")]
        {
            if !peer[from].is_null() {
                p.insert(to.into(), peer[from].clone());
            }
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("ip_address".into(), peer["ipAddress"].clone());
        outputs.insert("name".into(), json!(pid.name));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        _changed: &[String],
    ) -> Result<Observed> {
        let pid = PeerId::parse(id)?;
        let (_, peer) = Self::entries(desired, &pid);
        self.edit_router(
            ctx,
            &pid,
            |router| {
                let peers = list(router, "bgpPeers");
                let Some(slot) = peers.iter_mut().find(|p| p["name"] == json!(pid.name)) else {
                    return Err(ProviderError::not_found(format!("{id} is gone; plan again to create it")));
                };
                // Fields the spec does not set (status, MD5 settings made
                // elsewhere) stay as the router has them.
                if let (Some(slot), Value::Object(new)) = (slot.as_object_mut(), &peer) {
                    for (k, v) in new {
                        slot.insert(k.clone(), v.clone());
                    }
                }
                Ok(true)
            },
            |now| has_peer(now, &pid.name, Some(&peer)),
        )
        .await?;
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, prior: &Map<String, Value>) -> Result<()> {
        let pid = PeerId::parse(id)?;
        let iface_name = Self::interface_name(prior, &pid.name);
        let r = self
            .edit_router(
                ctx,
                &pid,
                |router| {
                    let peers = list(router, "bgpPeers");
                    let before = peers.len();
                    let iface = peers
                        .iter()
                        .find(|p| p["name"] == json!(pid.name))
                        .and_then(|p| p["interfaceName"].as_str())
                        .unwrap_or(&iface_name)
                        .to_string();
                    peers.retain(|p| p["name"] != json!(pid.name));
                    let removed_peer = peers.len() != before;
                    let ifaces = list(router, "interfaces");
                    let before = ifaces.len();
                    ifaces.retain(|i| i["name"] != json!(iface));
                    Ok(removed_peer || ifaces.len() != before)
                },
                |now| !has_peer(now, &pid.name, None),
            )
            .await;
        match r {
            // The router going first takes its peers with it.
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id = PeerId::parse("projects/p/regions/us-east4/routers/r/bgpPeers/aws-1").unwrap();
        assert_eq!((id.router.name.as_str(), id.name.as_str()), ("r", "aws-1"));
        assert_eq!(id.render(), "projects/p/regions/us-east4/routers/r/bgpPeers/aws-1");
        assert!(PeerId::parse("projects/p/regions/us-east4/routers/r").is_err());
    }

    #[test]
    fn validation_names_the_field_and_the_fix() {
        let k = RouterPeer::new(Arc::new(GcpContext::default()));
        let props = |v: Value| v.as_object().unwrap().clone();
        let ok = props(
            json!({"project": "p", "router": "https://compute.googleapis.com/compute/v1/projects/p/regions/r/routers/r", "name": "aws-1", "ip_range": "169.254.10.2/30", "peer_ip_address": "169.254.10.1", "peer_asn": 64512}),
        );
        assert!(k.validate(Some("us-east4"), &ok).is_empty());
        for (bad, field) in [
            (json!({"ip_range": "10.0.0.2/30"}), "ip_range"),
            (json!({"ip_range": "169.254.10.0/30"}), "ip_range"),
            (json!({"ip_range": "169.254.10.2/29"}), "ip_range"),
            (json!({"ip_range": "169.254.10.2/30", "peer_ip_address": "169.254.11.1"}), "peer_ip_address"),
            (json!({"name": "Bad_Name"}), "name"),
            (json!({"router": "contact-center-vpn"}), "router"),
        ] {
            let got = k.validate(None, &props(bad.clone()));
            assert_eq!(got.first().map(|i| i.field.as_str()), Some(field), "{bad}: {got:?}");
        }
    }
}
