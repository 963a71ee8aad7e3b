//! `aws.ec2.vpn_connection`: a Site-to-Site VPN connection (two IPsec tunnels,
//! BGP routing) between a virtual private gateway and a customer gateway,
//! EC2 CreateVpnConnection / DescribeVpnConnections / DeleteVpnConnection.
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnConnection.html
//!
//! Its outputs feed the GCP side of an HA VPN: per tunnel the AWS outside IP
//! (for the external VPN gateway), the pre-shared key (for the VPN tunnel) and
//! the inside /30 addresses (for the Cloud Router interface and BGP peer).
//! Pre-shared keys are secrets: they are sensitive outputs and never appear
//! in a message or a progress line.

use super::vpn_gateway::gone_is_none;
use crate::ec2_vpc::{apply_tags, tag_map, tag_specification};
use crate::{classify, ec2_batch, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, ResourceType, TunnelOption, VpnConnection as SdkVpnConnection, VpnConnectionOptionsSpecification, VpnState,
    VpnTunnelOptionsSpecification,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tandem_provider::{
    prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter,
};
use tandem_schema::{Field, OutputDef, Type};

pub struct VpnConnection {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

/// VpnTunnelOptionsSpecification.TunnelInsideCidr: "A size /30 CIDR block
/// from the 169.254.0.0/16 range. The following CIDR blocks are reserved and
/// cannot be used: 169.254.0.0/30 ... 169.254.5.0/30, 169.254.169.252/30".
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpnTunnelOptionsSpecification.html
const RESERVED_INSIDE: &[&str] =
    &["169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"];

/// The network address of a valid tunnel inside CIDR, or what is wrong with it.
pub(crate) fn check_inside_cidr(cidr: &str) -> Result<Ipv4Addr, String> {
    let (addr, len) = cidr.split_once('/').ok_or_else(|| format!("{cidr:?} is not a CIDR block"))?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| format!("{cidr:?} is not an IPv4 CIDR block"))?;
    if len != "30" {
        return Err(format!("{cidr} is not a /30: a tunnel inside CIDR is a /30 from 169.254.0.0/16, e.g. 169.254.10.0/30"));
    }
    let o = addr.octets();
    if o[0] != 169 || o[1] != 254 {
        return Err(format!("{cidr} is not in 169.254.0.0/16"));
    }
    if !o[3].is_multiple_of(4) {
        return Err(format!("{cidr} is not a /30 network address (the last octet must be a multiple of 4)"));
    }
    if RESERVED_INSIDE.contains(&cidr) {
        return Err(format!("{cidr} is reserved by AWS (169.254.0.0/30 to 169.254.5.0/30 and 169.254.169.252/30 are)"));
    }
    Ok(addr)
}

/// The `n`th host of a /30 (1: the AWS side, 2: the customer side). In the
/// VPN configuration AWS generates, the virtual private gateway's inside
/// address is the first host of the tunnel's /30 and the customer gateway's the
/// second (e.g. 169.254.10.1 and 169.254.10.2 for 169.254.10.0/30).
/// https://docs.aws.amazon.com/vpn/latest/s2svpn/VPNTunnels.html
pub(crate) fn host(cidr: &str, n: u8) -> Option<String> {
    let a = check_inside_cidr(cidr).ok()?.octets();
    Some(Ipv4Addr::new(a[0], a[1], a[2], a[3] + n).to_string())
}

/// PreSharedKey: "Allowed characters are alphanumeric characters, periods (.),
/// and underscores (_). Must be between 8 and 64 characters in length and
/// cannot start with zero (0)." The message never repeats the key.
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpnTunnelOptionsSpecification.html
fn check_psk(psk: &str) -> Result<(), String> {
    if !(8..=64).contains(&psk.len()) {
        return Err("the pre-shared key must be 8 to 64 characters long".into());
    }
    if psk.starts_with('0') {
        return Err("the pre-shared key cannot start with 0".into());
    }
    if !psk.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
        return Err("the pre-shared key may hold only letters, digits, periods and underscores".into());
    }
    Ok(())
}

/// The tunnels in tandem's order: by inside CIDR, then by outside IP (a
/// tunnel may lack one while AWS provisions it), never by position.
/// DescribeVpnConnections answers TunnelOptions in no fixed order; mapping
/// them by position swapped tunnel 1 and 2 between reads, which planned a
/// replacement of the connection and re-keyed everything built from its
/// outputs (hashicorp/terraform-provider-aws#5809, #16928).
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TunnelOption.html
pub(crate) fn in_tunnel_order(tunnels: &[TunnelOption]) -> Vec<&TunnelOption> {
    let ip =
        |s: Option<&str>| s.and_then(|s| s.split('/').next()).and_then(|a| a.parse::<Ipv4Addr>().ok()).map(u32::from).unwrap_or(u32::MAX);
    let mut v: Vec<&TunnelOption> = tunnels.iter().collect();
    v.sort_by_key(|t| (ip(t.tunnel_inside_cidr()), ip(t.outside_ip_address())));
    v
}

impl VpnConnection {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let tunnel = Type::Object(vec![
            Field::new("tunnel_inside_cidr", Type::String).computed().doc("TunnelInsideCidr: a /30 from 169.254.0.0/16 (not 169.254.0.0/30-169.254.5.0/30 or 169.254.169.252/30); AWS picks one when absent."),
            Field::new("pre_shared_key", Type::String).sensitive().computed().doc("PreSharedKey: 8-64 letters, digits, periods or underscores, not starting with 0; AWS generates one when absent."),
        ]);
        let schema = KindSchema {
            type_name: "aws.ec2.vpn_connection",
            doc: "A Site-to-Site VPN connection: two IPsec tunnels from a virtual private gateway to a customer gateway, with BGP (static_routes_only false) by default.",
            api_reference: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnConnection.html",
            regional: true,
            properties: vec![
                Field::new("customer_gateway_id", Type::String).required().force_new().refers_to(&["aws.ec2.customer_gateway"]).carries_traffic().doc("CustomerGatewayId."),
                Field::new("vpn_gateway_id", Type::String).required().force_new().refers_to(&["aws.ec2.vpn_gateway"]).carries_traffic().doc("VpnGatewayId: the virtual private gateway."),
                Field::new("type", Type::enumeration(&["ipsec.1"])).force_new().computed().doc("Type: ipsec.1."),
                Field::new(
                    "options",
                    Type::Object(vec![
                        Field::new("static_routes_only", Type::Boolean).computed().doc("StaticRoutesOnly: false (the default here) routes with BGP."),
                        Field::new("tunnel_options", Type::list(tunnel))
                            .computed()
                            .unordered()
                            .doc("TunnelOptions: at most two, one per tunnel. EC2 answers the tunnels in no fixed order, so their order here means nothing; tunnel 1 of the outputs is the tunnel with the lower inside CIDR."),
                    ]),
                )
                .force_new()
                .computed()
                .doc("Options (VpnConnectionOptionsSpecification)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: Self::outputs(),
            name_field: None,
            import_id: "the VPN connection id (vpn-...)",
        };
        VpnConnection { aws, schema }
    }

    fn outputs() -> Vec<OutputDef> {
        vec![
            OutputDef::new("id", "The VPN connection id (vpn-...)."),
            OutputDef::new("vgw_asn", "The ASN of the virtual private gateway (the AWS side of every BGP session)."),
            OutputDef::new(
                "tunnel1_outside_ip",
                "Tunnel 1 (the tunnel with the lower inside CIDR, whatever order EC2 answers in): the AWS outside (public) IP.",
            ),
            OutputDef::new("tunnel1_inside_cidr", "Tunnel 1: the inside /30 (169.254.0.0/16)."),
            OutputDef::new("tunnel1_pre_shared_key", "Tunnel 1: the IKE pre-shared key.").sensitive(),
            OutputDef::new(
                "tunnel1_bgp_peer_ip",
                "Tunnel 1: the AWS inside address (first host of the /30): the BGP peer seen from the customer side.",
            ),
            OutputDef::new(
                "tunnel1_bgp_local_ip",
                "Tunnel 1: the customer inside address (second host of the /30): the customer router's interface address.",
            ),
            OutputDef::new("tunnel2_outside_ip", "Tunnel 2 (the tunnel with the higher inside CIDR): the AWS outside (public) IP."),
            OutputDef::new("tunnel2_inside_cidr", "Tunnel 2: the inside /30 (169.254.0.0/16)."),
            OutputDef::new("tunnel2_pre_shared_key", "Tunnel 2: the IKE pre-shared key.").sensitive(),
            OutputDef::new("tunnel2_bgp_peer_ip", "Tunnel 2: the AWS inside address (first host of the /30)."),
            OutputDef::new("tunnel2_bgp_local_ip", "Tunnel 2: the customer inside address (second host of the /30)."),
        ]
    }

    fn tunnel_specs(props: &Map<String, Value>) -> Vec<&Map<String, Value>> {
        props
            .get("options")
            .and_then(|o| o.get("tunnel_options"))
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default()
    }

    async fn describe(client: &aws_sdk_ec2::Client, id: &str) -> Result<Option<SdkVpnConnection>> {
        let out = gone_is_none(
            client.describe_vpn_connections().vpn_connection_ids(id).send().await.map_err(|e| classify("DescribeVpnConnections", id, e)),
        )?;
        Ok(out.and_then(|o| o.vpn_connections().first().cloned()).filter(|c| c.state() != Some(&VpnState::Deleted)))
    }
}

#[async_trait]
impl ResourceKind for VpnConnection {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateVpnConnection",
            "ec2:DescribeVpnConnections",
            "ec2:DeleteVpnConnection",
            "ec2:DescribeVpnGateways",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        let tunnels = Self::tunnel_specs(props);
        if tunnels.len() > 2 {
            out.push(Invalid::new(
                "options",
                format!("{} tunnel_options given: a VPN connection has two tunnels, so at most two", tunnels.len()),
            ));
        }
        // AWS makes both tunnels whatever is declared and reports both; with
        // one declared, every plan would see the other as a change.
        if tunnels.len() == 1 {
            out.push(Invalid::new(
                "options",
                "one tunnel_options entry given: a VPN connection always has two tunnels and AWS reports both, so declare both (each with its own tunnel_inside_cidr), or none to let AWS choose",
            ));
        }
        let mut seen = Vec::new();
        for (i, t) in tunnels.iter().enumerate() {
            if let Some(cidr) = prop_str(t, "tunnel_inside_cidr") {
                if let Err(m) = check_inside_cidr(cidr) {
                    out.push(Invalid::new("options", format!("tunnel_options[{i}].tunnel_inside_cidr: {m}")));
                } else if seen.contains(&cidr) {
                    out.push(Invalid::new(
                        "options",
                        format!("tunnel_options[{i}].tunnel_inside_cidr: {cidr} is used by another tunnel; each tunnel needs its own /30"),
                    ));
                }
                seen.push(cidr);
            }
            if let Some(psk) = prop_str(t, "pre_shared_key") {
                if let Err(m) = check_psk(psk) {
                    out.push(Invalid::new("options", format!("tunnel_options[{i}].pre_shared_key: {m}")));
                }
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        let cgw = prop_str(props, "customer_gateway_id").ok_or_else(|| ProviderError::invalid("customer_gateway_id is required"))?;
        let vgw = prop_str(props, "vpn_gateway_id").ok_or_else(|| ProviderError::invalid("vpn_gateway_id is required"))?;
        if let Some(bad) = self.validate(ctx.region.as_deref(), props).into_iter().next() {
            return Err(ProviderError::invalid(format!("{}: {}", bad.field, bad.message)));
        }
        // CreateVpnConnection takes no client token: what a crashed run made is
        // found by the address tag (and the same two gateways).
        let existing = client
            .describe_vpn_connections()
            .filters(Filter::builder().name(format!("tag:{}", tags::ADDRESS_TAG)).values(&ctx.address).build())
            .filters(Filter::builder().name("customer-gateway-id").values(cgw).build())
            .filters(Filter::builder().name("vpn-gateway-id").values(vgw).build())
            .send()
            .await
            .map_err(|e| classify("DescribeVpnConnections", &ctx.address, e))?;
        let found = existing
            .vpn_connections()
            .iter()
            .filter(|c| matches!(c.state(), Some(VpnState::Pending | VpnState::Available)))
            .find_map(|c| c.vpn_connection_id());
        let id = match found {
            Some(id) => {
                ctx.report(format!("found {id} from an earlier interrupted run"));
                id.to_string()
            }
            None => {
                let static_only = props.get("options").and_then(|o| o.get("static_routes_only")).and_then(Value::as_bool).unwrap_or(false);
                let mut opts = VpnConnectionOptionsSpecification::builder().static_routes_only(static_only);
                for t in Self::tunnel_specs(props) {
                    let mut spec = VpnTunnelOptionsSpecification::builder();
                    if let Some(c) = prop_str(t, "tunnel_inside_cidr") {
                        spec = spec.tunnel_inside_cidr(c);
                    }
                    if let Some(k) = prop_str(t, "pre_shared_key") {
                        spec = spec.pre_shared_key(k);
                    }
                    opts = opts.tunnel_options(spec.build());
                }
                let out = client
                    .create_vpn_connection()
                    .r#type("ipsec.1")
                    .customer_gateway_id(cgw)
                    .vpn_gateway_id(vgw)
                    .options(opts.build())
                    .tag_specifications(tag_specification(ResourceType::VpnConnection, &ctx.address, &tags::desired(props)))
                    .send()
                    .await
                    // The SDK error carries only the service's code and message, never the request.
                    .map_err(|e| classify("CreateVpnConnection", &ctx.address, e))?;
                out.vpn_connection()
                    .and_then(|c| c.vpn_connection_id())
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateVpnConnection returned no id"))?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        let wait = wait_until(ctx, "VPN connection", Waiter::default(), || async {
            Ok(match Self::describe(&client, &id).await?.as_ref().and_then(|c| c.state()) {
                Some(VpnState::Available) => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await;
        if let Err(e) = wait {
            return Err(e.with_partial(partial));
        }
        self.read(ctx, &id)
            .await
            .map_err(|e| e.with_partial(partial.clone()))?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{id} vanished right after creation")).with_partial(partial))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.ec2(ctx.region()?).await;
        let Some(c) = Self::describe(&client, id).await? else { return Ok(None) };
        let asns = gateway_asns(&client, [&c], id).await?;
        Ok(Some(observe(id, &c, &asns)))
    }

    fn read_batch(&self) -> usize {
        ec2_batch::READ_BATCH
    }

    /// One DescribeVpnConnections for the group by their ids, and one
    /// DescribeVpnGateways for their gateways' ASNs. An unknown id fails
    /// the whole call (InvalidVpnConnectionID.NotFound; AWS keeps deleted
    /// connections listed for a while, so this is rare): the group is then
    /// read one by one.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpnConnections.html
    async fn read_many(&self, items: &[(Ctx, String)]) -> ec2_batch::Answers {
        let (_, client) = match ec2_batch::client(&self.aws, items).await {
            Ok(c) => c,
            Err(answers) => return answers,
        };
        let what = &items[0].0.address;
        let out = match client.describe_vpn_connections().set_vpn_connection_ids(Some(ec2_batch::ids(items))).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = classify("DescribeVpnConnections", what, e);
                return if e.class == ErrorClass::NotFound { Vec::new() } else { ec2_batch::failed(items, e) };
            }
        };
        let live: Vec<&SdkVpnConnection> = out.vpn_connections().iter().filter(|c| c.state() != Some(&VpnState::Deleted)).collect();
        let asns = match gateway_asns(&client, live.iter().copied(), what).await {
            Ok(a) => a,
            Err(e) => return ec2_batch::failed(items, e),
        };
        let found =
            live.iter().filter_map(|c| Some((c.vpn_connection_id()?.to_string(), observe(c.vpn_connection_id()?, c, &asns)))).collect();
        ec2_batch::in_order(items, found)
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        if let Some(other) = changed.iter().find(|f| f.as_str() != "tags") {
            return Err(ProviderError::invalid(format!("{other} of {id} cannot be changed in place")));
        }
        let now = Self::describe(&client, id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("{id} is gone; re-run plan to create it")))?;
        apply_tags(&client, id, &tag_map(now.tags()), &tags::desired(desired)).await?;
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    /// DeleteVpnConnection; the connection goes deleting -> deleted.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpnConnection.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.ec2(ctx.region()?).await;
        if let Err(e) = client.delete_vpn_connection().vpn_connection_id(id).send().await {
            let e = classify("DeleteVpnConnection", id, e);
            if e.class == ErrorClass::NotFound {
                return Ok(());
            }
            return Err(e);
        }
        wait_until(ctx, "VPN connection deletion", Waiter::default(), || async {
            Ok(match Self::describe(&client, id).await? {
                None => WaitOutcome::Ready(()),
                Some(c) => WaitOutcome::Pending(c.state().map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into())),
            })
        })
        .await
    }
}

/// A described VPN connection in the spec's shape; `asns`: the Amazon side
/// ASN of each virtual private gateway (see [`gateway_asns`]).
fn observe(id: &str, c: &SdkVpnConnection, asns: &BTreeMap<String, i64>) -> Observed {
    let mut p = Map::new();
    let mut outputs = BTreeMap::new();
    outputs.insert("id".into(), json!(id));
    if let Some(v) = c.customer_gateway_id() {
        p.insert("customer_gateway_id".into(), json!(v));
    }
    if let Some(v) = c.vpn_gateway_id() {
        p.insert("vpn_gateway_id".into(), json!(v));
        // The AWS side ASN of the tunnels' BGP sessions is the gateway's.
        if let Some(asn) = asns.get(v) {
            outputs.insert("vgw_asn".into(), json!(asn));
        }
    }
    if let Some(t) = c.r#type() {
        p.insert("type".into(), json!(t.as_str()));
    }
    let mut options = Map::new();
    if let Some(o) = c.options() {
        if let Some(s) = o.static_routes_only() {
            options.insert("static_routes_only".into(), json!(s));
        }
        let mut tunnels = Vec::new();
        for (i, t) in in_tunnel_order(o.tunnel_options()).into_iter().take(2).enumerate() {
            let n = i + 1;
            let mut spec = Map::new();
            if let Some(ip) = t.outside_ip_address() {
                outputs.insert(format!("tunnel{n}_outside_ip"), json!(ip));
            }
            if let Some(cidr) = t.tunnel_inside_cidr() {
                spec.insert("tunnel_inside_cidr".into(), json!(cidr));
                outputs.insert(format!("tunnel{n}_inside_cidr"), json!(cidr));
                if let (Some(aws), Some(customer)) = (host(cidr, 1), host(cidr, 2)) {
                    outputs.insert(format!("tunnel{n}_bgp_peer_ip"), json!(aws));
                    outputs.insert(format!("tunnel{n}_bgp_local_ip"), json!(customer));
                }
            }
            if let Some(k) = t.pre_shared_key() {
                spec.insert("pre_shared_key".into(), json!(k));
                outputs.insert(format!("tunnel{n}_pre_shared_key"), json!(k));
            }
            tunnels.push(Value::Object(spec));
        }
        if !tunnels.is_empty() {
            options.insert("tunnel_options".into(), Value::Array(tunnels));
        }
    }
    p.insert("options".into(), Value::Object(options));
    p.insert("tags".into(), tags::to_value(tag_map(c.tags())));
    Observed { id: id.to_string(), properties: p, outputs }
}

/// The Amazon side ASN of the virtual private gateways of `connections`
/// (one DescribeVpnGateways, none when no connection has one).
async fn gateway_asns<'a>(
    client: &aws_sdk_ec2::Client,
    connections: impl IntoIterator<Item = &'a SdkVpnConnection>,
    what: &str,
) -> Result<BTreeMap<String, i64>> {
    let ids: std::collections::BTreeSet<String> = connections.into_iter().filter_map(|c| c.vpn_gateway_id().map(str::to_string)).collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let gateways = super::vpn_gateway::described(client, ids.into_iter().collect(), what).await?;
    Ok(gateways.into_iter().filter_map(|(id, g)| Some((id, g.amazon_side_asn()?))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_cidr_rules() {
        assert!(check_inside_cidr("169.254.10.0/30").is_ok());
        for bad in ["169.254.10.0/29", "10.0.0.0/30", "169.254.10.2/30", "169.254.1.0/30", "169.254.169.252/30", "nonsense"] {
            assert!(check_inside_cidr(bad).is_err(), "{bad}");
        }
        assert_eq!(host("169.254.10.0/30", 1).as_deref(), Some("169.254.10.1"));
        assert_eq!(host("169.254.10.0/30", 2).as_deref(), Some("169.254.10.2"));
    }

    #[test]
    fn tunnels_are_ordered_by_inside_cidr_then_outside_ip() {
        let t = |cidr: Option<&str>, ip: &str| {
            TunnelOption::builder().set_tunnel_inside_cidr(cidr.map(str::to_string)).outside_ip_address(ip).build()
        };
        let a = t(Some("169.254.10.4/30"), "3.1.1.1");
        let b = t(Some("169.254.10.0/30"), "3.9.9.9");
        let order = |x: &[TunnelOption]| {
            in_tunnel_order(x).iter().map(|t| t.outside_ip_address().unwrap_or_default().to_string()).collect::<Vec<_>>()
        };
        assert_eq!(order(&[a.clone(), b.clone()]), ["3.9.9.9", "3.1.1.1"]);
        assert_eq!(order(&[b, a]), ["3.9.9.9", "3.1.1.1"]);
        // 169.254.9.x sorts before 169.254.10.x (numerically, not as text).
        let c = t(Some("169.254.9.0/30"), "3.5.5.5");
        let d = t(Some("169.254.10.0/30"), "3.4.4.4");
        assert_eq!(order(&[d, c]), ["3.5.5.5", "3.4.4.4"]);
        // Without inside CIDRs, by outside IP.
        assert_eq!(order(&[t(None, "52.1.1.10"), t(None, "52.1.1.9")]), ["52.1.1.9", "52.1.1.10"]);
    }

    #[test]
    fn psk_rules_never_echo_the_key() {
        assert!(check_psk("my_key.12345").is_ok());
        for bad in ["short", "0starts_with_zero", "has-dash-inside", &"x".repeat(65)] {
            let m = check_psk(bad).unwrap_err();
            assert!(!m.contains(bad), "{m}");
        }
    }
}
