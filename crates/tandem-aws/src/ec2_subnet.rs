//! `aws.ec2.subnet`: a subnet in a VPC (EC2 CreateSubnet / DescribeSubnets /
//! ModifySubnetAttribute / DeleteSubnet).
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html

use crate::ec2_vpc::{apply_tags, tag_map, tag_specification};
use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, SubnetState};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    prop_str, wait_until, Ctx, ErrorClass, Found, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter, gone_is_none,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Subnet {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Subnet {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.ec2.subnet",
            doc: "A subnet of an Amazon VPC.",
            api_reference: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html",
            regional: true,
            properties: vec![
                Field::new("vpc_id", Type::String).required().force_new().carries_traffic().doc("The VPC (VpcId)."),
                Field::new("cidr_block", Type::String)
                    .required()
                    .force_new()
                    .check(Check::Ipv4Cidr)
                    .doc("The IPv4 range (CidrBlock), inside the VPC's."),
                Field::new("availability_zone", Type::String).force_new().computed().doc("AvailabilityZone; AWS picks one when absent."),
                Field::new("map_public_ip_on_launch", Type::Boolean).computed().doc("The MapPublicIpOnLaunch attribute."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![
                OutputDef::new("id", "The subnet id (subnet-...)."),
                OutputDef::new("arn", "The subnet ARN."),
                OutputDef::new("availability_zone", "The zone it is in."),
                OutputDef::new("vpc_id", "Its VPC."),
            ],
            name_field: None,
            import_id: "the subnet id (subnet-...)",
        };
        Subnet { aws, schema }
    }

    /// ModifySubnetAttribute changes one attribute per call.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySubnetAttribute.html
    async fn set_public_ip(&self, client: &aws_sdk_ec2::Client, id: &str, v: bool) -> Result<()> {
        client
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(v).build())
            .send()
            .await
            .map_err(|e| classify("ModifySubnetAttribute", id, e))?;
        Ok(())
    }
}

/// A described subnet in the spec's shape.
fn observe(region: &str, s: &aws_sdk_ec2::types::Subnet) -> Observed {
    let id = s.subnet_id().unwrap_or_default();
    let mut p = Map::new();
    p.insert("vpc_id".into(), json!(s.vpc_id().unwrap_or_default()));
    p.insert("cidr_block".into(), json!(s.cidr_block().unwrap_or_default()));
    p.insert("availability_zone".into(), json!(s.availability_zone().unwrap_or_default()));
    if let Some(b) = s.map_public_ip_on_launch() {
        p.insert("map_public_ip_on_launch".into(), json!(b));
    }
    p.insert("tags".into(), tags::to_value(tag_map(s.tags())));
    let arn = s
        .subnet_arn()
        .map(str::to_string)
        .unwrap_or_else(|| format!("arn:aws:ec2:{region}:{}:subnet/{id}", s.owner_id().unwrap_or_default()));
    let mut outputs = BTreeMap::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("arn".into(), json!(arn));
    outputs.insert("availability_zone".into(), json!(s.availability_zone().unwrap_or_default()));
    outputs.insert("vpc_id".into(), json!(s.vpc_id().unwrap_or_default()));
    Observed { id: id.to_string(), properties: p, outputs }
}

#[async_trait]
impl ResourceKind for Subnet {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:CreateSubnet", "ec2:DescribeSubnets", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet", "ec2:CreateTags", "ec2:DeleteTags"]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        let vpc = prop_str(props, "vpc_id").ok_or_else(|| ProviderError::invalid("vpc_id is required"))?;
        let cidr = prop_str(props, "cidr_block").ok_or_else(|| ProviderError::invalid("cidr_block is required"))?;
        let existing = made_earlier(&client, ctx, vpc).await?;
        let id = match existing {
            Some(id) => id,
            None => {
                let mut req = client.create_subnet().vpc_id(vpc).cidr_block(cidr).tag_specifications(tag_specification(
                    ResourceType::Subnet,
                    &ctx.address,
                    &tags::desired(props),
                ));
                if let Some(az) = prop_str(props, "availability_zone") {
                    req = req.availability_zone(az);
                }
                let out = req.send().await.map_err(|e| classify("CreateSubnet", &ctx.address, e))?;
                out.subnet()
                    .and_then(|s| s.subnet_id())
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateSubnet returned no id"))?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        wait_until(ctx, "subnet", Waiter::default(), || async {
            // Right after CreateSubnet, EC2 may still answer InvalidSubnetID.NotFound
            // (eventual consistency): not yet visible, not gone.
            let Some(s) = gone_is_none(
                client.describe_subnets().subnet_ids(&id).send().await.map_err(|e| classify("DescribeSubnets", &id, e)),
            )?
            else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            Ok(match s.subnets().first().and_then(|s| s.state()) {
                Some(SubnetState::Available) => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
        .map_err(|e| e.with_partial(partial.clone()))?;
        if let Some(b) = props.get("map_public_ip_on_launch").and_then(Value::as_bool) {
            self.set_public_ip(&client, &id, b).await.map_err(|e| e.with_partial(partial.clone()))?;
        }
        self.read(ctx, &id)
            .await
            .map_err(|e| e.with_partial(partial.clone()))?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{id} vanished right after creation")).with_partial(partial))
    }

    async fn find(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Found> {
        let client = self.aws.ec2(ctx.region()?).await;
        let Some(vpc) = prop_str(props, "vpc_id") else { return Ok(Found::CannotTell) };
        match made_earlier(&client, ctx, vpc).await? {
            Some(id) => Ok(self.read(ctx, &id).await?.into()),
            None => Ok(Found::Nothing),
        }
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.ec2(ctx.region()?).await;
        let Some(out) = gone_is_none(client.describe_subnets().subnet_ids(id).send().await.map_err(|e| classify("DescribeSubnets", id, e)))?
        else {
            return Ok(None);
        };
        Ok(out.subnets().first().map(|s| observe(ctx.region.as_deref().unwrap_or_default(), s)))
    }

    fn read_batch(&self) -> usize {
        crate::ec2_batch::READ_BATCH
    }

    /// One DescribeSubnets for the whole group, by a `subnet-id` filter (a
    /// subnet that is gone is left out of the answer rather than failing the
    /// call as an unknown id in SubnetIds does); tags come in the answer.
    async fn read_many(&self, items: &[(Ctx, String)]) -> Vec<Result<Option<Observed>>> {
        let (region, client) = match crate::ec2_batch::client(&self.aws, items).await {
            Ok(c) => c,
            Err(answers) => return answers,
        };
        let first = &items[0].0;
        let ids = crate::ec2_batch::ids(items);
        let mut found = BTreeMap::new();
        let mut pages = client
            .describe_subnets()
            .filters(Filter::builder().name("subnet-id").set_values(Some(ids)).build())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    for s in page.subnets() {
                        if let Some(id) = s.subnet_id() {
                            found.insert(id.to_string(), observe(&region, s));
                        }
                    }
                }
                Err(e) => return crate::ec2_batch::failed(items, classify("DescribeSubnets", &first.address, e)),
            }
        }
        crate::ec2_batch::in_order(items, found)
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
        for f in changed {
            match f.as_str() {
                "map_public_ip_on_launch" => {
                    let v = desired.get("map_public_ip_on_launch").and_then(Value::as_bool).unwrap_or(false);
                    self.set_public_ip(&client, id, v).await?;
                }
                "tags" => {
                    // The delta is taken from what the cloud has now, so tags added outside tandem go too.
                    let now = self
                        .read(ctx, id)
                        .await?
                        .ok_or_else(|| ProviderError::not_found(format!("{id} is gone; re-run plan to create it")))?;
                    apply_tags(&client, id, &tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired)).await?
                }
                other => return Err(ProviderError::invalid(format!("{other} cannot be changed in place"))),
            }
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.ec2(ctx.region()?).await;
        match client.delete_subnet().subnet_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = classify("DeleteSubnet", id, e);
                if e.class == ErrorClass::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// The subnet an earlier run made for this address, found by its address
/// tag: CreateSubnet takes no ClientToken.
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html
async fn made_earlier(client: &aws_sdk_ec2::Client, ctx: &Ctx, vpc: &str) -> Result<Option<String>> {
    let existing = client
        .describe_subnets()
        .filters(Filter::builder().name(format!("tag:{}", tags::ADDRESS_TAG)).values(&ctx.address).build())
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .map_err(|e| classify("DescribeSubnets", &ctx.address, e))?;
    Ok(existing.subnets().iter().find_map(|s| s.subnet_id()).map(str::to_string))
}
