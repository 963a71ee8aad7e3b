//! `aws.directconnect.private_virtual_interface`: a private virtual interface
//! on a connection (here the hosted connection a Partner Interconnect partner
//! provisions), attached to a Direct Connect gateway
//! (CreatePrivateVirtualInterface / DescribeVirtualInterfaces /
//! DeleteVirtualInterface).
//! https://docs.aws.amazon.com/directconnect/latest/APIReference/API_CreatePrivateVirtualInterface.html
//!
//! The BGP auth key is a secret: a sensitive property and output, never in a
//! message.

use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_directconnect::types::{AddressFamily, NewPrivateVirtualInterface, VirtualInterface as SdkVif, VirtualInterfaceState as State};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    gone_is_none, prop_i64, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct DxPrivateVirtualInterface {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

fn gone(v: &SdkVif) -> bool {
    matches!(v.virtual_interface_state(), Some(State::Deleted | State::Rejected))
}

impl DxPrivateVirtualInterface {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.directconnect.private_virtual_interface",
            doc: "A private virtual interface on a (hosted) Direct Connect connection, attached to a Direct Connect gateway. Done when the interface is provisioned (available, or down while the far side's BGP is not up yet).",
            api_reference: "https://docs.aws.amazon.com/directconnect/latest/APIReference/API_CreatePrivateVirtualInterface.html",
            regional: true,
            properties: vec![
                Field::new("connection_id", Type::String).required().force_new().carries_traffic().doc("connectionId: the (hosted) connection, dxcon-... (usually a variable: the partner provisions it)."),
                Field::new("virtual_interface_name", Type::String).required().force_new().check(Check::Length(1, 100)).doc("newPrivateVirtualInterface.virtualInterfaceName: a-z, 0-9 and -, at most 100 characters."),
                Field::new("vlan", Type::Integer).required().force_new().check(Check::Range(1, 4094)).doc("vlan: for a hosted connection, the connection's VLAN."),
                Field::new("asn", Type::Integer).required().force_new().carries_traffic().check(Check::Range(1, 4_294_967_294)).doc("asn: the customer side BGP ASN (4-byte ASNs are sent as asnLong). For GCP Partner Interconnect, 16550."),
                Field::new("auth_key", Type::String).sensitive().force_new().computed().check(Check::Length(6, 80)).doc("authKey: the BGP MD5 key, 6-80 characters; AWS generates one when absent."),
                Field::new("amazon_address", Type::String).force_new().computed().doc("amazonAddress: the Amazon side peer address in CIDR notation (169.254.x.1/30)."),
                Field::new("customer_address", Type::String).force_new().computed().doc("customerAddress: the customer side peer address in CIDR notation."),
                Field::new("address_family", Type::enumeration(&["ipv4", "ipv6"])).force_new().computed().doc("addressFamily (default ipv4)."),
                Field::new("direct_connect_gateway_id", Type::String).required().force_new().refers_to(&["aws.directconnect.gateway"]).carries_traffic().doc("directConnectGatewayId."),
            ],
            outputs: vec![
                OutputDef::new("id", "The virtual interface id (dxvif-...)."),
                OutputDef::new("amazon_side_asn", "The ASN of the Amazon side of the BGP session."),
                OutputDef::new("amazon_address", "The Amazon side BGP peer address (CIDR notation)."),
                OutputDef::new("customer_address", "The customer side BGP peer address (CIDR notation)."),
                OutputDef::new("auth_key", "The BGP MD5 key.").sensitive(),
            ],
            name_field: None,
            import_id: "the virtual interface id (dxvif-...)",
        };
        DxPrivateVirtualInterface { aws, schema }
    }

    async fn describe(client: &aws_sdk_directconnect::Client, id: &str) -> Result<Option<SdkVif>> {
        let out = gone_is_none(
            client
                .describe_virtual_interfaces()
                .virtual_interface_id(id)
                .send()
                .await
                .map_err(|e| classify("DescribeVirtualInterfaces", id, e)),
        )?;
        Ok(out.and_then(|o| o.virtual_interfaces().iter().find(|v| v.virtual_interface_id() == Some(id)).cloned()).filter(|v| !gone(v)))
    }
}

#[async_trait]
impl ResourceKind for DxPrivateVirtualInterface {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["directconnect:CreatePrivateVirtualInterface", "directconnect:DescribeVirtualInterfaces", "directconnect:DeleteVirtualInterface"]
    }

    /// NewPrivateVirtualInterface: virtualInterfaceName "a maximum of 100
    /// characters. The following are valid characters: a-z, 0-9 and a hyphen
    /// (-)"; amazonAddress and customerAddress go together (IPv4 only).
    /// https://docs.aws.amazon.com/directconnect/latest/APIReference/API_NewPrivateVirtualInterface.html
    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        if let Some(n) = prop_str(props, "virtual_interface_name") {
            if !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                out.push(Invalid::new("virtual_interface_name", format!("{n:?} may hold only a-z, 0-9 and -")));
            }
        }
        let given = |k: &str| props.get(k).is_some_and(|v| !v.is_null());
        if given("amazon_address") != given("customer_address") {
            out.push(Invalid::new(
                if given("amazon_address") { "customer_address" } else { "amazon_address" },
                "amazon_address and customer_address are given together or not at all",
            ));
        }
        if prop_str(props, "address_family") == Some("ipv6") && given("amazon_address") {
            out.push(Invalid::new("amazon_address", "peer addresses cannot be given for address_family ipv6 (AWS allocates them)"));
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.directconnect(ctx.region()?).await;
        let conn = prop_str(props, "connection_id").ok_or_else(|| ProviderError::invalid("connection_id is required"))?;
        let name = prop_str(props, "virtual_interface_name").ok_or_else(|| ProviderError::invalid("virtual_interface_name is required"))?;
        let what = format!("{name} on {conn}");
        // No client token: a crashed run's interface is found by connection and name.
        let existing = client
            .describe_virtual_interfaces()
            .connection_id(conn)
            .send()
            .await
            .map_err(|e| classify("DescribeVirtualInterfaces", conn, e))?;
        let found = existing
            .virtual_interfaces()
            .iter()
            .filter(|v| !gone(v) && v.virtual_interface_state() != Some(&State::Deleting) && v.virtual_interface_name() == Some(name))
            .find_map(|v| v.virtual_interface_id());
        let id = match found {
            Some(id) => {
                ctx.report(format!("found {id} from an earlier interrupted run"));
                id.to_string()
            }
            None => {
                let vlan = prop_i64(props, "vlan").ok_or_else(|| ProviderError::invalid("vlan is required"))?;
                let asn = prop_i64(props, "asn").ok_or_else(|| ProviderError::invalid("asn is required"))?;
                let mut spec = NewPrivateVirtualInterface::builder()
                    .virtual_interface_name(name)
                    .vlan(i32::try_from(vlan).map_err(|_| ProviderError::invalid(format!("vlan {vlan} is out of range")))?);
                // asn is an Integer; "If you provide a value in the same API call
                // for both asn and asnLong, the API will only accept the value for asnLong."
                spec = match i32::try_from(asn) {
                    Ok(a) => spec.asn(a),
                    Err(_) => spec.asn_long(asn),
                };
                if let Some(k) = prop_str(props, "auth_key") {
                    spec = spec.auth_key(k);
                }
                if let Some(a) = prop_str(props, "amazon_address") {
                    spec = spec.amazon_address(a);
                }
                if let Some(c) = prop_str(props, "customer_address") {
                    spec = spec.customer_address(c);
                }
                if let Some(f) = prop_str(props, "address_family") {
                    spec = spec.address_family(AddressFamily::from(f));
                }
                if let Some(g) = prop_str(props, "direct_connect_gateway_id") {
                    spec = spec.direct_connect_gateway_id(g);
                }
                let spec = spec.build().map_err(|e| ProviderError::invalid(format!("{what}: {e}")))?;
                let out = client
                    .create_private_virtual_interface()
                    .connection_id(conn)
                    .new_private_virtual_interface(spec)
                    .send()
                    .await
                    .map_err(|e| classify("CreatePrivateVirtualInterface", &what, e))?;
                out.virtual_interface_id()
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreatePrivateVirtualInterface returned no id"))?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        // VirtualInterfaceState: "available: A virtual interface that is able to
        // forward traffic"; "down: A virtual interface that is BGP down". The
        // far side's BGP (GCP Cloud Router via the partner) may come up later,
        // so down counts as provisioned.
        // https://docs.aws.amazon.com/directconnect/latest/APIReference/API_VirtualInterface.html
        let wait = wait_until(ctx, "private virtual interface", Waiter::default(), || async {
            Ok(match Self::describe(&client, &id).await?.as_ref().and_then(|v| v.virtual_interface_state()) {
                Some(State::Available) => WaitOutcome::Ready(()),
                Some(State::Down) => {
                    ctx.report(format!("{id} is provisioned; BGP is down until the far side peers"));
                    WaitOutcome::Ready(())
                }
                Some(State::Deleting) => WaitOutcome::Failed("deleting".into()),
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
        let client = self.aws.directconnect(ctx.region()?).await;
        let Some(v) = Self::describe(&client, id).await? else { return Ok(None) };
        let mut p = Map::new();
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        let mut put = |k: &str, val: Option<&str>, output: bool| {
            if let Some(val) = val {
                p.insert(k.into(), json!(val));
                if output {
                    outputs.insert(k.into(), json!(val));
                }
            }
        };
        put("connection_id", v.connection_id(), false);
        put("virtual_interface_name", v.virtual_interface_name(), false);
        put("auth_key", v.auth_key(), true);
        put("amazon_address", v.amazon_address(), true);
        put("customer_address", v.customer_address(), true);
        put("address_family", v.address_family().map(|f| f.as_str()), false);
        put("direct_connect_gateway_id", v.direct_connect_gateway_id(), false);
        p.insert("vlan".into(), json!(v.vlan()));
        // "When using a 4-byte asnLong, the API response returns 0 for the legacy asn attribute."
        let asn = v.asn_long().filter(|a| *a > 0).unwrap_or(i64::from(v.asn()));
        p.insert("asn".into(), json!(asn));
        if let Some(a) = v.amazon_side_asn() {
            outputs.insert("amazon_side_asn".into(), json!(a));
        }
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        _ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        _desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        Err(ProviderError::invalid(format!("{} of {id} cannot be changed in place", changed.join(", "))))
    }

    /// DeleteVirtualInterface; the state goes deleting -> deleted.
    /// https://docs.aws.amazon.com/directconnect/latest/APIReference/API_DeleteVirtualInterface.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.directconnect(ctx.region()?).await;
        match Self::describe(&client, id).await? {
            None => return Ok(()),
            Some(v) if v.virtual_interface_state() == Some(&State::Deleting) => {}
            Some(_) => {
                if let Err(e) = client.delete_virtual_interface().virtual_interface_id(id).send().await {
                    let e = classify("DeleteVirtualInterface", id, e);
                    if e.class == ErrorClass::NotFound {
                        return Ok(());
                    }
                    return Err(e);
                }
            }
        }
        wait_until(ctx, "private virtual interface deletion", Waiter::default(), || async {
            Ok(match Self::describe(&client, id).await? {
                None => WaitOutcome::Ready(()),
                Some(v) => {
                    WaitOutcome::Pending(v.virtual_interface_state().map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into()))
                }
            })
        })
        .await
    }
}
