//! `aws.ec2.customer_gateway`: the far end of a Site-to-Site VPN connection
//! (here: one interface of a GCP HA VPN gateway), EC2 CreateCustomerGateway /
//! DescribeCustomerGateways / DeleteCustomerGateway.
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateCustomerGateway.html

use super::vpn_gateway::gone_is_none;
use crate::ec2_vpc::{apply_tags, tag_map, tag_specification};
use crate::{classify, ec2_batch, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_ec2::types::{CustomerGateway as SdkCustomerGateway, Filter, GatewayType, ResourceType};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tandem_provider::{
    prop_i64, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome,
    Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct CustomerGateway {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl CustomerGateway {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.ec2.customer_gateway",
            doc: "A customer gateway: the public IP and BGP ASN of the device at the other end of a Site-to-Site VPN connection (for GCP, one interface of an HA VPN gateway and the Cloud Router's ASN).",
            api_reference: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateCustomerGateway.html",
            regional: true,
            properties: vec![
                // BgpAsn / BgpAsnExtended: 1-2147483647, or 2147483648-4294967294 (extended).
                Field::new("bgp_asn", Type::Integer).required().force_new().carries_traffic().check(Check::Range(1, 4_294_967_294)).doc("BgpAsn: the device's BGP ASN (values above 2147483647 are sent as BgpAsnExtended)."),
                Field::new("ip_address", Type::String).required().force_new().carries_traffic().doc("IpAddress: the device's public IPv4 address (the GCP HA VPN interface IP)."),
                Field::new("type", Type::enumeration(&["ipsec.1"])).force_new().computed().doc("Type: the only VPN type, ipsec.1."),
                Field::new("device_name", Type::String).force_new().check(Check::Length(1, 255)).doc("DeviceName."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The customer gateway id (cgw-...).")],
            name_field: None,
            import_id: "the customer gateway id (cgw-...)",
        };
        CustomerGateway { aws, schema }
    }

    async fn describe(client: &aws_sdk_ec2::Client, id: &str) -> Result<Option<SdkCustomerGateway>> {
        let out = gone_is_none(
            client
                .describe_customer_gateways()
                .customer_gateway_ids(id)
                .send()
                .await
                .map_err(|e| classify("DescribeCustomerGateways", id, e)),
        )?;
        Ok(out.and_then(|o| o.customer_gateways().first().cloned()).filter(|g| g.state() != Some("deleted")))
    }
}

#[async_trait]
impl ResourceKind for CustomerGateway {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:CreateCustomerGateway", "ec2:DescribeCustomerGateways", "ec2:DeleteCustomerGateway", "ec2:CreateTags", "ec2:DeleteTags"]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        if let Some(ip) = prop_str(props, "ip_address") {
            if ip.parse::<Ipv4Addr>().is_err() {
                out.push(Invalid::new(
                    "ip_address",
                    format!("{ip:?} is not an IPv4 address (the customer gateway device's public IP, e.g. 34.157.1.2)"),
                ));
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        let asn = prop_i64(props, "bgp_asn").ok_or_else(|| ProviderError::invalid("bgp_asn is required"))?;
        let ip = prop_str(props, "ip_address").ok_or_else(|| ProviderError::invalid("ip_address is required"))?;
        // "An identical request returns information about the existing customer
        // gateway" (CreateCustomerGateway), but a tag-found gateway from a crashed
        // run is preferred so tags and device name are what this resource set.
        let existing = client
            .describe_customer_gateways()
            .filters(Filter::builder().name(format!("tag:{}", tags::ADDRESS_TAG)).values(&ctx.address).build())
            .filters(Filter::builder().name("state").values("pending").values("available").build())
            .send()
            .await
            .map_err(|e| classify("DescribeCustomerGateways", &ctx.address, e))?;
        // The state is checked here too: not every EC2 implementation honours
        // the `state` filter (moto lists deleted gateways), and adopting a
        // deleted gateway would wait for it forever.
        let usable = |g: &&SdkCustomerGateway| g.ip_address() == Some(ip) && matches!(g.state(), Some("pending" | "available"));
        let id = match existing.customer_gateways().iter().filter(usable).find_map(|g| g.customer_gateway_id()) {
            Some(id) => {
                ctx.report(format!("found {id} from an earlier interrupted run"));
                id.to_string()
            }
            None => {
                let mut req = client
                    .create_customer_gateway()
                    .r#type(GatewayType::Ipsec1)
                    .ip_address(ip)
                    .tag_specifications(tag_specification(ResourceType::CustomerGateway, &ctx.address, &tags::desired(props)));
                // BgpAsn is an Integer (up to 2147483647); larger ASNs go in BgpAsnExtended.
                req = match i32::try_from(asn) {
                    Ok(a) => req.bgp_asn(a),
                    Err(_) => req.bgp_asn_extended(asn),
                };
                if let Some(d) = prop_str(props, "device_name") {
                    req = req.device_name(d);
                }
                let out = req.send().await.map_err(|e| classify("CreateCustomerGateway", &ctx.address, e))?;
                out.customer_gateway()
                    .and_then(|g| g.customer_gateway_id())
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateCustomerGateway returned no id"))?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        let wait = wait_until(ctx, "customer gateway", Waiter::default(), || async {
            Ok(match Self::describe(&client, &id).await?.as_ref().and_then(|g| g.state()) {
                Some("available") => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.to_string()),
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
        Ok(Self::describe(&client, id).await?.map(|g| observe(id, &g)))
    }

    fn read_batch(&self) -> usize {
        ec2_batch::READ_BATCH
    }

    /// One DescribeCustomerGateways for the group, by a
    /// `customer-gateway-id` filter (a gateway that is gone is left out).
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeCustomerGateways.html
    async fn read_many(&self, items: &[(Ctx, String)]) -> ec2_batch::Answers {
        let (_, client) = match ec2_batch::client(&self.aws, items).await {
            Ok(c) => c,
            Err(answers) => return answers,
        };
        let filter = Filter::builder().name("customer-gateway-id").set_values(Some(ec2_batch::ids(items))).build();
        match client.describe_customer_gateways().filters(filter).send().await {
            Ok(out) => {
                let found = out
                    .customer_gateways()
                    .iter()
                    .filter(|g| g.state() != Some("deleted"))
                    .filter_map(|g| g.customer_gateway_id().map(|id| (id.to_string(), observe(id, g))))
                    .collect();
                ec2_batch::in_order(items, found)
            }
            Err(e) => ec2_batch::failed(items, classify("DescribeCustomerGateways", &items[0].0.address, e)),
        }
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

    /// DeleteCustomerGateway fails while a VPN connection still uses the
    /// gateway; the gateway goes deleting -> deleted.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteCustomerGateway.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.ec2(ctx.region()?).await;
        if let Err(e) = client.delete_customer_gateway().customer_gateway_id(id).send().await {
            let e = classify("DeleteCustomerGateway", id, e);
            if e.class == ErrorClass::NotFound {
                return Ok(());
            }
            return Err(e);
        }
        wait_until(ctx, "customer gateway deletion", Waiter::default(), || async {
            Ok(match Self::describe(&client, id).await? {
                None => WaitOutcome::Ready(()),
                Some(g) => WaitOutcome::Pending(g.state().unwrap_or("deleting").to_string()),
            })
        })
        .await
    }
}

/// A described customer gateway in the spec's shape.
fn observe(id: &str, g: &SdkCustomerGateway) -> Observed {
    let mut p = Map::new();
    // BgpAsn and BgpAsnExtended come back as strings.
    if let Some(asn) = g.bgp_asn_extended().or(g.bgp_asn()).and_then(|a| a.parse::<i64>().ok()) {
        p.insert("bgp_asn".into(), json!(asn));
    }
    if let Some(ip) = g.ip_address() {
        p.insert("ip_address".into(), json!(ip));
    }
    if let Some(t) = g.r#type() {
        p.insert("type".into(), json!(t));
    }
    if let Some(d) = g.device_name() {
        p.insert("device_name".into(), json!(d));
    }
    p.insert("tags".into(), tags::to_value(tag_map(g.tags())));
    let mut outputs = BTreeMap::new();
    outputs.insert("id".into(), json!(id));
    Observed { id: id.to_string(), properties: p, outputs }
}
