//! `aws.ec2.vpn_gateway`: a virtual private gateway, attached to a VPC
//! (EC2 CreateVpnGateway / DescribeVpnGateways / AttachVpnGateway /
//! DetachVpnGateway / DeleteVpnGateway).
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnGateway.html

use crate::ec2_vpc::{apply_tags, tag_map, tag_specification};
use crate::{classify, ec2_batch, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttachmentStatus, Filter, GatewayType, ResourceType, VpnGateway as SdkVpnGateway, VpnState};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    private_asn, prop_i64, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct VpnGateway {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

pub(crate) use crate::error::gone_is_none;

impl VpnGateway {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.ec2.vpn_gateway",
            doc: "A virtual private gateway (the AWS end of Site-to-Site VPN connections and Direct Connect gateway associations), attached to a VPC.",
            api_reference: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnGateway.html",
            regional: true,
            properties: vec![
                Field::new("amazon_side_asn", Type::Integer).force_new().computed().check(Check::DistinctAsn).doc("AmazonSideAsn: the private ASN of the Amazon side of a BGP session (64512-65534 or 4200000000-4294967294; default 64512)."),
                Field::new("vpc_id", Type::String).refers_to(&["aws.ec2.vpc"]).carries_traffic().doc("The VPC to attach the gateway to (AttachVpnGateway); changing it detaches and attaches again."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![
                OutputDef::new("id", "The virtual private gateway id (vgw-...)."),
                OutputDef::new("amazon_side_asn", "The ASN of the Amazon side of BGP sessions."),
            ],
            name_field: None,
            import_id: "the virtual private gateway id (vgw-...)",
        };
        VpnGateway { aws, schema }
    }

    async fn describe(client: &aws_sdk_ec2::Client, id: &str) -> Result<Option<SdkVpnGateway>> {
        let out = gone_is_none(
            client.describe_vpn_gateways().vpn_gateway_ids(id).send().await.map_err(|e| classify("DescribeVpnGateways", id, e)),
        )?;
        Ok(out.and_then(|o| o.vpn_gateways().first().cloned()).filter(|g| g.state() != Some(&VpnState::Deleted)))
    }

    /// The VPC the gateway is attached (or attaching) to.
    fn attached_vpc(g: &SdkVpnGateway) -> Option<String> {
        g.vpc_attachments()
            .iter()
            .find(|a| matches!(a.state(), Some(AttachmentStatus::Attached | AttachmentStatus::Attaching)))
            .and_then(|a| a.vpc_id())
            .map(str::to_string)
    }

    /// Wait until the attachment to `vpc` reaches `target` (`attached` / `detached`).
    /// A detached attachment may also simply vanish from the list.
    async fn wait_attachment(ctx: &Ctx, client: &aws_sdk_ec2::Client, id: &str, vpc: &str, target: AttachmentStatus) -> Result<()> {
        wait_until(ctx, &format!("attachment of {id} to {vpc}"), Waiter::default(), || async {
            let g = Self::describe(client, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))?;
            let state = g.vpc_attachments().iter().find(|a| a.vpc_id() == Some(vpc)).and_then(|a| a.state()).cloned();
            Ok(match state {
                Some(s) if s == target => WaitOutcome::Ready(()),
                None if target == AttachmentStatus::Detached => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not attached yet".into()),
            })
        })
        .await
    }

    async fn attach(ctx: &Ctx, client: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<()> {
        client
            .attach_vpn_gateway()
            .vpn_gateway_id(id)
            .vpc_id(vpc)
            .send()
            .await
            .map_err(|e| classify("AttachVpnGateway", &format!("{id} to {vpc}"), e))?;
        Self::wait_attachment(ctx, client, id, vpc, AttachmentStatus::Attached).await
    }

    /// DetachVpnGateway: "You must wait for the attachment's state to switch to
    /// detached before you can delete the VPC or attach a different VPC".
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachVpnGateway.html
    async fn detach(ctx: &Ctx, client: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<()> {
        match client.detach_vpn_gateway().vpn_gateway_id(id).vpc_id(vpc).send().await {
            Ok(_) => {}
            Err(e) => {
                let e = classify("DetachVpnGateway", &format!("{id} from {vpc}"), e);
                if e.class != ErrorClass::NotFound {
                    return Err(e);
                }
            }
        }
        Self::wait_attachment(ctx, client, id, vpc, AttachmentStatus::Detached).await
    }
}

#[async_trait]
impl ResourceKind for VpnGateway {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateVpnGateway",
            "ec2:DescribeVpnGateways",
            "ec2:AttachVpnGateway",
            "ec2:DetachVpnGateway",
            "ec2:DeleteVpnGateway",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        match prop_i64(props, "amazon_side_asn") {
            Some(asn) if !private_asn(asn) => {
                vec![Invalid::new("amazon_side_asn", format!("{asn} is not a private ASN: use 64512-65534 or 4200000000-4294967294"))]
            }
            _ => Vec::new(),
        }
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        // CreateVpnGateway takes no client token: a gateway a crashed run made
        // is found by the address tag it got at creation.
        let existing = client
            .describe_vpn_gateways()
            .filters(Filter::builder().name(format!("tag:{}", tags::ADDRESS_TAG)).values(&ctx.address).build())
            .filters(Filter::builder().name("state").values("pending").values("available").build())
            .send()
            .await
            .map_err(|e| classify("DescribeVpnGateways", &ctx.address, e))?;
        // The state checked here too, whatever the filter did (see customer_gateway).
        let live = |g: &&aws_sdk_ec2::types::VpnGateway| {
            matches!(g.state(), Some(aws_sdk_ec2::types::VpnState::Pending | aws_sdk_ec2::types::VpnState::Available))
        };
        let id = match existing.vpn_gateways().iter().filter(live).find_map(|g| g.vpn_gateway_id()) {
            Some(id) => {
                ctx.report(format!("found {id} from an earlier interrupted run"));
                id.to_string()
            }
            None => {
                let mut req = client.create_vpn_gateway().r#type(GatewayType::Ipsec1).tag_specifications(tag_specification(
                    ResourceType::VpnGateway,
                    &ctx.address,
                    &tags::desired(props),
                ));
                if let Some(asn) = prop_i64(props, "amazon_side_asn") {
                    req = req.amazon_side_asn(asn);
                }
                let out = req.send().await.map_err(|e| classify("CreateVpnGateway", &ctx.address, e))?;
                out.vpn_gateway()
                    .and_then(|g| g.vpn_gateway_id())
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateVpnGateway returned no gateway id"))?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        let wait = wait_until(ctx, "virtual private gateway", Waiter::default(), || async {
            Ok(match Self::describe(&client, &id).await?.as_ref().and_then(|g| g.state()) {
                Some(VpnState::Available) => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await;
        if let Err(e) = wait {
            return Err(e.with_partial(partial));
        }
        if let Some(vpc) = prop_str(props, "vpc_id") {
            let current = Self::describe(&client, &id).await?.and_then(|g| Self::attached_vpc(&g));
            if current.as_deref() != Some(vpc) {
                Self::attach(ctx, &client, &id, vpc).await.map_err(|e| e.with_partial(partial.clone()))?;
            }
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

    /// One DescribeVpnGateways for the group, by a `vpn-gateway-id` filter
    /// (a gateway that is gone is left out).
    async fn read_many(&self, items: &[(Ctx, String)]) -> ec2_batch::Answers {
        let (_, client) = match ec2_batch::client(&self.aws, items).await {
            Ok(c) => c,
            Err(answers) => return answers,
        };
        match described(&client, ec2_batch::ids(items), &items[0].0.address).await {
            Ok(gateways) => ec2_batch::in_order(items, gateways.iter().map(|(id, g)| (id.clone(), observe(id, g))).collect()),
            Err(e) => ec2_batch::failed(items, e),
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
        if let Some(other) = changed.iter().find(|f| !matches!(f.as_str(), "vpc_id" | "tags")) {
            return Err(ProviderError::invalid(format!("{other} of {id} cannot be changed in place")));
        }
        let now = Self::describe(&client, id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("{id} is gone; re-run plan to create it")))?;
        if changed.iter().any(|c| c == "vpc_id") {
            let current = Self::attached_vpc(&now);
            let want = prop_str(desired, "vpc_id");
            if current.as_deref() != want {
                if let Some(old) = &current {
                    Self::detach(ctx, &client, id, old).await?;
                }
                if let Some(new) = want {
                    Self::attach(ctx, &client, id, new).await?;
                }
            }
        }
        if changed.iter().any(|c| c == "tags") {
            apply_tags(&client, id, &tag_map(now.tags()), &tags::desired(desired)).await?;
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    /// A gateway must be detached before DeleteVpnGateway; the gateway then
    /// goes deleting -> deleted.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpnGateway.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.ec2(ctx.region()?).await;
        let Some(g) = Self::describe(&client, id).await? else { return Ok(()) };
        if let Some(vpc) = Self::attached_vpc(&g) {
            Self::detach(ctx, &client, id, &vpc).await?;
        }
        if let Err(e) = client.delete_vpn_gateway().vpn_gateway_id(id).send().await {
            let e = classify("DeleteVpnGateway", id, e);
            if e.class == ErrorClass::NotFound {
                return Ok(());
            }
            return Err(e);
        }
        wait_until(ctx, "virtual private gateway deletion", Waiter::default(), || async {
            Ok(match Self::describe(&client, id).await? {
                None => WaitOutcome::Ready(()),
                Some(g) => WaitOutcome::Pending(g.state().map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into())),
            })
        })
        .await
    }
}

/// A described virtual private gateway in the spec's shape.
fn observe(id: &str, g: &SdkVpnGateway) -> Observed {
    let mut p = Map::new();
    let mut outputs = BTreeMap::new();
    outputs.insert("id".into(), json!(id));
    if let Some(asn) = g.amazon_side_asn() {
        p.insert("amazon_side_asn".into(), json!(asn));
        outputs.insert("amazon_side_asn".into(), json!(asn));
    }
    if let Some(vpc) = VpnGateway::attached_vpc(g) {
        p.insert("vpc_id".into(), json!(vpc));
    }
    p.insert("tags".into(), tags::to_value(tag_map(g.tags())));
    Observed { id: id.to_string(), properties: p, outputs }
}

/// The gateways of `ids` that exist (not deleted), by a `vpn-gateway-id`
/// filter: one DescribeVpnGateways, which leaves out what is gone.
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpnGateways.html
pub(crate) async fn described(client: &aws_sdk_ec2::Client, ids: Vec<String>, what: &str) -> Result<BTreeMap<String, SdkVpnGateway>> {
    let filter = Filter::builder().name("vpn-gateway-id").set_values(Some(ids)).build();
    let out = client.describe_vpn_gateways().filters(filter).send().await.map_err(|e| classify("DescribeVpnGateways", what, e))?;
    Ok(out
        .vpn_gateways()
        .iter()
        .filter(|g| g.state() != Some(&VpnState::Deleted))
        .filter_map(|g| Some((g.vpn_gateway_id()?.to_string(), g.clone())))
        .collect())
}
