//! `aws.ec2.vpc`: an Amazon VPC (EC2 CreateVpc / DescribeVpcs /
//! ModifyVpcAttribute / DeleteVpc).
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html

use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Tag, TagSpecification, Tenancy, VpcAttributeName, VpcState};
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    prop_str, wait_until, Ctx, ErrorClass, Found, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter, only_in_place, gone_is_none,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Vpc {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Vpc {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.ec2.vpc",
            doc: "An Amazon VPC.",
            api_reference: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html",
            regional: true,
            properties: vec![
                Field::new("cidr_block", Type::String)
                    .required()
                    .force_new()
                    .check(Check::Ipv4Cidr)
                    .check(Check::DistinctNetwork)
                    .doc("The IPv4 network range (CidrBlock)."),
                Field::new("instance_tenancy", Type::enumeration(&["default", "dedicated"])).force_new().computed().doc("InstanceTenancy."),
                Field::new("enable_dns_support", Type::Boolean).computed().doc("The enableDnsSupport attribute."),
                Field::new("enable_dns_hostnames", Type::Boolean).computed().doc("The enableDnsHostnames attribute."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![
                OutputDef::new("id", "The VPC id (vpc-...)."),
                OutputDef::new("arn", "The VPC ARN."),
                OutputDef::new("cidr_block", "The primary CIDR block."),
                OutputDef::new("owner_id", "The owning account."),
                OutputDef::new(
                    "main_route_table_id",
                    "The VPC's main route table (rtb-...): where a virtual private gateway propagates the routes it learns.",
                ),
            ],
            name_field: None,
            import_id: "the VPC id (vpc-...)",
        };
        Vpc { aws, schema }
    }

    /// ModifyVpcAttribute changes one attribute per call, and DNS hostnames
    /// need DNS support: support goes on before hostnames, off after them.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcAttribute.html
    async fn set_dns(&self, client: &aws_sdk_ec2::Client, id: &str, support: Option<bool>, hostnames: Option<bool>) -> Result<()> {
        if support == Some(true) {
            self.set_attribute(client, id, "enable_dns_support", true).await?;
        }
        if let Some(h) = hostnames {
            self.set_attribute(client, id, "enable_dns_hostnames", h).await?;
        }
        if support == Some(false) {
            self.set_attribute(client, id, "enable_dns_support", false).await?;
        }
        Ok(())
    }

    async fn set_attribute(&self, client: &aws_sdk_ec2::Client, id: &str, name: &str, value: bool) -> Result<()> {
        let v = AttributeBooleanValue::builder().value(value).build();
        let req = client.modify_vpc_attribute().vpc_id(id);
        let req = if name == "enable_dns_support" { req.enable_dns_support(v) } else { req.enable_dns_hostnames(v) };
        req.send().await.map_err(|e| classify("ModifyVpcAttribute", id, e))?;
        Ok(())
    }
}

pub(crate) fn tag_specification(rt: ResourceType, address: &str, desired: &BTreeMap<String, String>) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt).tags(Tag::builder().key(tags::ADDRESS_TAG).value(address).build());
    for (k, v) in desired {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

pub(crate) async fn apply_tags(
    client: &aws_sdk_ec2::Client,
    id: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<()> {
    let (set, remove) = tags::delta(current, desired);
    if !set.is_empty() {
        let mut req = client.create_tags().resources(id);
        for (k, v) in set {
            req = req.tags(Tag::builder().key(k).value(v).build());
        }
        req.send().await.map_err(|e| classify("CreateTags", id, e))?;
    }
    if !remove.is_empty() {
        let mut req = client.delete_tags().resources(id);
        for k in remove {
            req = req.tags(Tag::builder().key(k).build());
        }
        req.send().await.map_err(|e| classify("DeleteTags", id, e))?;
    }
    Ok(())
}

pub(crate) fn tag_map(t: &[Tag]) -> BTreeMap<String, String> {
    t.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

/// DescribeVpcAttribute calls a group's read has in flight at once (the
/// engine's default parallelism), so a group is not read one VPC at a time.
pub(crate) const ATTRIBUTE_READS_AT_ONCE: usize = 10;

/// Each VPC's main route table (made with the VPC; routes learned by a
/// virtual private gateway are propagated into it), for many VPCs in one call.
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRouteTables.html (filter association.main)
async fn main_route_tables(client: &aws_sdk_ec2::Client, vpc_ids: &[String], what: &str) -> Result<BTreeMap<String, String>> {
    let mut mains = BTreeMap::new();
    let mut pages = client
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").set_values(Some(vpc_ids.to_vec())).build())
        .filters(Filter::builder().name("association.main").values("true").build())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for t in page.map_err(|e| classify("DescribeRouteTables", what, e))?.route_tables() {
            if let (Some(vpc), Some(rtb)) = (t.vpc_id(), t.route_table_id()) {
                mains.entry(vpc.to_string()).or_insert_with(|| rtb.to_string());
            }
        }
    }
    Ok(mains)
}

/// A described VPC in the spec's shape, with the DNS attributes
/// DescribeVpcs does not return (one DescribeVpcAttribute per attribute),
/// each only when the caller wants it (`Ctx::wants`: a plan of a VPC whose
/// spec leaves them to AWS compares neither).
async fn observe(
    ctx: &Ctx,
    client: &aws_sdk_ec2::Client,
    region: &str,
    v: &aws_sdk_ec2::types::Vpc,
    main_rtb: Option<&str>,
) -> Result<Observed> {
    let id = v.vpc_id().unwrap_or_default();
    let mut p = Map::new();
    if let Some(c) = v.cidr_block() {
        p.insert("cidr_block".into(), json!(c));
    }
    if let Some(t) = v.instance_tenancy() {
        p.insert("instance_tenancy".into(), json!(t.as_str()));
    }
    for (name, attr) in
        [("enable_dns_support", VpcAttributeName::EnableDnsSupport), ("enable_dns_hostnames", VpcAttributeName::EnableDnsHostnames)]
    {
        if !ctx.wants(name) {
            continue;
        }
        let a =
            client.describe_vpc_attribute().vpc_id(id).attribute(attr).send().await.map_err(|e| classify("DescribeVpcAttribute", id, e))?;
        let val = if name == "enable_dns_support" { a.enable_dns_support() } else { a.enable_dns_hostnames() };
        if let Some(b) = val.and_then(|b| b.value()) {
            p.insert(name.into(), json!(b));
        }
    }
    p.insert("tags".into(), tags::to_value(tag_map(v.tags())));
    // DescribeVpcs returns no ARN; VPC ARNs are arn:aws:ec2:REGION:ACCOUNT:vpc/ID.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-resources-for-iam-policies
    let owner = v.owner_id().unwrap_or_default().to_string();
    let mut outputs = BTreeMap::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("arn".into(), json!(format!("arn:aws:ec2:{region}:{owner}:vpc/{id}")));
    outputs.insert("cidr_block".into(), json!(v.cidr_block().unwrap_or_default()));
    outputs.insert("owner_id".into(), json!(owner));
    if let Some(rtb) = main_rtb {
        outputs.insert("main_route_table_id".into(), json!(rtb));
    }
    Ok(Observed { id: id.to_string(), properties: p, outputs })
}

#[async_trait]
impl ResourceKind for Vpc {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateVpc",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcAttribute",
            "ec2:ModifyVpcAttribute",
            "ec2:DescribeRouteTables",
            "ec2:DeleteVpc",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        let cidr = prop_str(props, "cidr_block").ok_or_else(|| ProviderError::invalid("cidr_block is required"))?;
        let existing = made_earlier(&client, ctx, cidr).await?;
        let id = match existing {
            Some(id) => {
                ctx.report(format!("found {id} from an earlier interrupted run"));
                id.to_string()
            }
            None => {
                let mut req = client.create_vpc().cidr_block(cidr).tag_specifications(tag_specification(
                    ResourceType::Vpc,
                    &ctx.address,
                    &tags::desired(props),
                ));
                if let Some(t) = prop_str(props, "instance_tenancy") {
                    req = req.instance_tenancy(Tenancy::from(t));
                }
                let out = req.send().await.map_err(|e| classify("CreateVpc", &ctx.address, e))?;
                out.vpc()
                    .and_then(|v| v.vpc_id())
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateVpc returned no VPC id"))?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        let wait = wait_until(ctx, "VPC", Waiter::default(), || async {
            // Right after CreateVpc, EC2 may still answer InvalidVpcID.NotFound
            // (eventual consistency): not yet visible, not gone.
            // https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
            let Some(v) =
                gone_is_none(client.describe_vpcs().vpc_ids(&id).send().await.map_err(|e| classify("DescribeVpcs", &id, e)))?
            else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            Ok(match v.vpcs().first().and_then(|v| v.state()) {
                Some(VpcState::Available) => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await;
        if let Err(e) = wait {
            return Err(e.with_partial(partial));
        }
        let dns = |k: &str| props.get(k).and_then(Value::as_bool);
        self.set_dns(&client, &id, dns("enable_dns_support"), dns("enable_dns_hostnames"))
            .await
            .map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &id)
            .await
            .map_err(|e| e.with_partial(partial.clone()))?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{id} vanished right after creation")).with_partial(partial))
    }

    async fn find(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Found> {
        let client = self.aws.ec2(ctx.region()?).await;
        let Some(cidr) = prop_str(props, "cidr_block") else { return Ok(Found::CannotTell) };
        match made_earlier(&client, ctx, cidr).await? {
            Some(id) => Ok(self.read(ctx, &id).await?.into()),
            None => Ok(Found::Nothing),
        }
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.ec2(ctx.region()?).await;
        let out = match client.describe_vpcs().vpc_ids(id).send().await {
            Ok(o) => o,
            Err(e) => {
                let e = classify("DescribeVpcs", id, e);
                if e.class == ErrorClass::NotFound {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        let Some(v) = out.vpcs().first() else { return Ok(None) };
        let mains = main_route_tables(&client, &[id.to_string()], id).await?;
        observe(ctx, &client, ctx.region()?, v, mains.get(id).map(String::as_str)).await.map(Some)
    }

    fn read_batch(&self) -> usize {
        crate::ec2_batch::READ_BATCH
    }

    /// One DescribeVpcs and one DescribeRouteTables for the whole group (by
    /// `vpc-id` filters, which leave out a VPC that is gone instead of failing
    /// the call as an unknown id in VpcIds does); the DNS attributes still
    /// take a DescribeVpcAttribute each, the API's only way to read them
    /// (and only when wanted).
    async fn read_many(&self, items: &[(Ctx, String)]) -> Vec<Result<Option<Observed>>> {
        let (region, client) = match crate::ec2_batch::client(&self.aws, items).await {
            Ok(c) => c,
            Err(answers) => return answers,
        };
        let first = &items[0].0;
        let ids = crate::ec2_batch::ids(items);
        let found = async {
            let mut vpcs = BTreeMap::new();
            let mut pages = client
                .describe_vpcs()
                .filters(Filter::builder().name("vpc-id").set_values(Some(ids.clone())).build())
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for v in page.map_err(|e| classify("DescribeVpcs", &first.address, e))?.vpcs() {
                    if let Some(id) = v.vpc_id() {
                        vpcs.insert(id.to_string(), v.clone());
                    }
                }
            }
            let mains = main_route_tables(&client, &ids, &first.address).await?;
            Ok::<_, ProviderError>((vpcs, mains))
        }
        .await;
        let (vpcs, mains) = match found {
            Ok(f) => f,
            Err(e) => return crate::ec2_batch::failed(items, e),
        };
        let each: Vec<_> = items.iter().map(|(ctx, id)| (ctx.clone(), vpcs.get(id).cloned(), mains.get(id).cloned())).collect();
        futures::stream::iter(each)
            .map(|(ctx, vpc, main)| {
                let (client, region) = (client.clone(), region.clone());
                async move {
                    match vpc {
                        None => Ok(None),
                        Some(v) => observe(&ctx, &client, &region, &v, main.as_deref()).await.map(Some),
                    }
                }
            })
            .buffered(ATTRIBUTE_READS_AT_ONCE)
            .collect()
            .await
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
        only_in_place(id, changed, &["enable_dns_support", "enable_dns_hostnames", "tags"])?;
        let has = |f: &str| changed.iter().any(|c| c == f);
        // Absent means the AWS default: DNS support on, hostnames off.
        let support = has("enable_dns_support").then(|| desired.get("enable_dns_support").and_then(Value::as_bool).unwrap_or(true));
        let hostnames = has("enable_dns_hostnames").then(|| desired.get("enable_dns_hostnames").and_then(Value::as_bool).unwrap_or(false));
        self.set_dns(&client, id, support, hostnames).await?;
        if has("tags") {
            // The delta is taken from what the cloud has now, so tags added outside tandem go too.
            let now =
                self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone; re-run plan to create it")))?;
            apply_tags(&client, id, &tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired)).await?;
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    /// DeleteVpc is synchronous; it fails with DependencyViolation (a Conflict)
    /// while subnets, gateways or interfaces are left in the VPC.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.ec2(ctx.region()?).await;
        match client.delete_vpc().vpc_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = classify("DeleteVpc", id, e);
                if e.class == ErrorClass::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// The VPC an earlier run made for this address, found by the address tag it
/// got at creation: CreateVpc takes no ClientToken (unlike RunInstances).
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html
async fn made_earlier(client: &aws_sdk_ec2::Client, ctx: &Ctx, cidr: &str) -> Result<Option<String>> {
    let existing = client
        .describe_vpcs()
        .filters(Filter::builder().name(format!("tag:{}", tags::ADDRESS_TAG)).values(&ctx.address).build())
        .filters(Filter::builder().name("cidr-block").values(cidr).build())
        .send()
        .await
        .map_err(|e| classify("DescribeVpcs", &ctx.address, e))?;
    Ok(existing.vpcs().iter().find_map(|v| v.vpc_id()).map(str::to_string))
}
