//! `aws.connect.phone_number`: a phone number claimed to a traffic
//! distribution group (or an instance), and the flow it starts in each
//! instance (SearchAvailablePhoneNumbers / ClaimPhoneNumber /
//! DescribePhoneNumber / UpdatePhoneNumber / AssociatePhoneNumberContactFlow /
//! DisassociatePhoneNumberContactFlow / TagResource / UntagResource /
//! ReleasePhoneNumber).
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_ClaimPhoneNumber.html

use super::instance::{arn_region, client_token, fresh_token, set_tags, tags_value};
use super::linked;
use crate::tags::ADDRESS_TAG;
use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_connect::types::ListFlowAssociationResourceType;
use aws_sdk_connect::types::{PhoneNumberCountryCode, PhoneNumberType, PhoneNumberWorkflowStatus};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tandem_provider::{only_in_place, required_id, delete_and_wait, gone_is_none, 
    await_visible, prop_str, wait_until, Ctx, ErrorClass, Finding, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    SpecResource, SpecView, WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

const NUMBER_TYPES: &[&str] = &["TOLL_FREE", "DID", "UIFN", "SHARED", "THIRD_PARTY_TF", "THIRD_PARTY_DID", "SHORT_CODE"];

/// One flow association: which flow the number starts in which instance.
#[derive(Debug, Clone, PartialEq)]
struct FlowAssociation {
    region: String,
    instance_id: String,
    contact_flow_id: String,
}

/// `contact_flows` as associations, each with the region it is made in: the
/// entry's `region`, else the region of an instance ARN, else the resource's.
fn flows(ctx: &Ctx, props: &Map<String, Value>) -> Result<Vec<FlowAssociation>> {
    let Some(list) = props.get("contact_flows").and_then(Value::as_array) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for f in list {
        let instance_id = f
            .get("instance_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::invalid("contact_flows[].instance_id is required"))?;
        let contact_flow_id = f
            .get("contact_flow_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::invalid("contact_flows[].contact_flow_id is required"))?;
        let region = match f.get("region").and_then(Value::as_str).or_else(|| arn_region(instance_id)) {
            Some(r) => r.to_string(),
            None => ctx.region()?.to_string(),
        };
        out.push(FlowAssociation { region, instance_id: instance_id.to_string(), contact_flow_id: contact_flow_id.to_string() });
    }
    Ok(out)
}

pub struct PhoneNumber {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl PhoneNumber {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.connect.phone_number",
            doc: "A phone number claimed to a traffic distribution group (or an instance), given explicitly or found with SearchAvailablePhoneNumbers, and the flow it starts. The number-to-flow association is mirrored to the replica by Global Resiliency (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources): associate it once, in the source region.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_ClaimPhoneNumber.html",
            regional: true,
            properties: vec![
                Field::new("target_arn", Type::String)
                    .required()
                    .refers_to(&["aws.connect.traffic_distribution_group", "aws.connect.instance"])
                    .doc("TargetArn: the traffic distribution group's ARN (claimed in its source region) or an instance's ARN; moved with UpdatePhoneNumber."),
                Field::new("phone_number", Type::String).force_new().computed().check(Check::E164).doc("PhoneNumber in E.164 form; when absent, the first number SearchAvailablePhoneNumbers offers."),
                Field::new("country_code", Type::String).force_new().computed().check(Check::Length(2, 2)).doc("PhoneNumberCountryCode (ISO 3166-1 alpha-2, US) for the search."),
                Field::new("phone_number_type", Type::enumeration(NUMBER_TYPES)).force_new().computed().doc("PhoneNumberType for the search."),
                Field::new("phone_number_prefix", Type::String).force_new().doc("PhoneNumberPrefix for the search (+1206)."),
                Field::new(
                    "contact_flows",
                    Type::list(Type::Object(vec![
                        Field::new("instance_id", Type::String)
                            .required()
                            .refers_to(&["aws.connect.instance"])
                            .doc("InstanceId: the source instance's id. Global Resiliency mirrors the association to the replica (\"Phone number to flow\" is a mirrored association): declare it once."),
                        Field::new("contact_flow_id", Type::String).required().doc("ContactFlowId: the flow the number starts in that instance."),
                        Field::new("region", Type::String).doc("The instance's region; defaults to the region of an instance ARN, else the resource's region."),
                    ])),
                )
                .doc("The flow the number starts (AssociatePhoneNumberContactFlow), once per instance; for a replicated instance the association is made in the source region and mirrored to the replica (tandem waits for the mirror)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The phone number id."), OutputDef::new("arn", "The phone number ARN."), OutputDef::new("phone_number", "The number, E.164.")],
            name_field: None,
            import_id: "the phone number id or ARN (in the region where it was claimed)",
        };
        PhoneNumber { aws, schema }
    }

    /// DescribePhoneNumber until PhoneNumberStatus is CLAIMED (IN_PROGRESS
    /// before; FAILED is final).
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_PhoneNumberStatus.html
    async fn wait_claimed(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, id: &str) -> Result<()> {
        wait_until(ctx, "phone number", Waiter::default(), || async {
            // NotFound right after the claim is eventual consistency: not yet.
            let Some(d) =
                gone_is_none(client.describe_phone_number().phone_number_id(id).send().await.map_err(|e| classify("DescribePhoneNumber", id, e)))?
            else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            let status = d.claimed_phone_number_summary().and_then(|s| s.phone_number_status());
            Ok(match status.and_then(|s| s.status()) {
                Some(PhoneNumberWorkflowStatus::Claimed) => WaitOutcome::Ready(()),
                Some(PhoneNumberWorkflowStatus::Failed) => {
                    WaitOutcome::Failed(format!("FAILED{}", status.and_then(|s| s.message()).map(|m| format!(": {m}")).unwrap_or_default()))
                }
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }

    /// A number a crashed run claimed for this resource: claimed to `target`
    /// and tagged with the resource's address.
    async fn adopt(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, target: &str) -> Result<Option<String>> {
        let mut next: Option<String> = None;
        loop {
            let page = client
                .list_phone_numbers_v2()
                .target_arn(target)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| classify("ListPhoneNumbersV2", target, e))?;
            for n in page.list_phone_numbers_summary_list() {
                let Some(id) = n.phone_number_id() else { continue };
                let d = gone_is_none(
                    client.describe_phone_number().phone_number_id(id).send().await.map_err(|e| classify("DescribePhoneNumber", id, e)),
                )?;
                let tagged = d
                    .as_ref()
                    .and_then(|d| d.claimed_phone_number_summary())
                    .and_then(|s| s.tags())
                    .and_then(|t| t.get(ADDRESS_TAG))
                    .is_some_and(|a| a == &ctx.address);
                if tagged {
                    return Ok(Some(id.to_string()));
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(None),
            }
        }
    }

    /// The first number SearchAvailablePhoneNumbers offers for the target.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_SearchAvailablePhoneNumbers.html
    async fn search(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, target: &str, props: &Map<String, Value>) -> Result<String> {
        let (Some(cc), Some(ty)) = (prop_str(props, "country_code"), prop_str(props, "phone_number_type")) else {
            return Err(ProviderError::invalid(format!(
                "{}: give phone_number, or country_code and phone_number_type to search for one",
                ctx.address
            )));
        };
        let out = client
            .search_available_phone_numbers()
            .target_arn(target)
            .phone_number_country_code(PhoneNumberCountryCode::from(cc))
            .phone_number_type(PhoneNumberType::from(ty))
            .set_phone_number_prefix(prop_str(props, "phone_number_prefix").map(str::to_string))
            .max_results(10)
            .send()
            .await
            .map_err(|e| classify("SearchAvailablePhoneNumbers", target, e))?;
        out.available_numbers_list().iter().find_map(|n| n.phone_number()).map(str::to_string).ok_or_else(|| {
            ProviderError::invalid(format!(
                "{}: no {ty} number in {cc}{} is available to claim",
                ctx.address,
                prop_str(props, "phone_number_prefix").map(|p| format!(" starting {p}")).unwrap_or_default()
            ))
        })
    }

    /// AssociatePhoneNumberContactFlow in each association's region. The number
    /// is given by ARN: in the replica region an id gives ResourceNotFoundException.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociatePhoneNumberContactFlow.html
    /// For a replicated instance, Global Resiliency mirrors the association
    /// ("Phone number to flow", create-replica-connect-instance.html#mirrored-resources):
    /// wait until the replica lists it.
    async fn associate(&self, ctx: &Ctx, arn: &str, list: &[FlowAssociation]) -> Result<()> {
        for f in list {
            let client = self.aws.connect(&f.region).await;
            client
                .associate_phone_number_contact_flow()
                .phone_number_id(arn)
                .instance_id(&f.instance_id)
                .contact_flow_id(&f.contact_flow_id)
                .send()
                .await
                .map_err(|e| classify("AssociatePhoneNumberContactFlow", &format!("{arn} in {} ({})", f.instance_id, f.region), e))?;
            let Some(peer) = linked::linked(&self.aws, &f.region, &f.instance_id).await?.filter(linked::Linked::mirroring) else {
                continue;
            };
            let pc = self.aws.connect(&peer.peer_region).await;
            wait_until(ctx, &format!("flow association in {}", peer.peer_region), Waiter::default(), || async {
                let out = pc
                    .list_flow_associations()
                    .instance_id(&f.instance_id)
                    .resource_type(ListFlowAssociationResourceType::VoicePhoneNumber)
                    .send()
                    .await;
                let out = out.map_err(|e| classify("ListFlowAssociations", &f.instance_id, e))?;
                let there = out
                    .flow_association_summary_list()
                    .iter()
                    .any(|a| a.resource_id() == Some(arn) && a.flow_id() == Some(f.contact_flow_id.as_str()));
                Ok(if there { WaitOutcome::Ready(()) } else { WaitOutcome::Pending("mirroring".into()) })
            })
            .await?;
        }
        Ok(())
    }

    /// DisassociatePhoneNumberContactFlow; an association already gone is fine.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociatePhoneNumberContactFlow.html
    async fn disassociate(&self, arn: &str, list: &[FlowAssociation]) -> Result<()> {
        for f in list {
            let client = self.aws.connect(&f.region).await;
            gone_is_none(
                client
                    .disassociate_phone_number_contact_flow()
                    .phone_number_id(arn)
                    .instance_id(&f.instance_id)
                    .send()
                    .await
                    .map_err(|e| classify("DisassociatePhoneNumberContactFlow", &format!("{arn} in {} ({})", f.instance_id, f.region), e)),
            )?;
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceKind for PhoneNumber {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "connect:SearchAvailablePhoneNumbers",
            "connect:ClaimPhoneNumber",
            "connect:DescribePhoneNumber",
            "connect:ListPhoneNumbersV2",
            "connect:UpdatePhoneNumber",
            "connect:ReleasePhoneNumber",
            "connect:AssociatePhoneNumberContactFlow",
            "connect:DisassociatePhoneNumberContactFlow",
            "connect:ListFlowAssociations",
            "connect:DescribeInstance",
            "connect:TagResource",
            "connect:UntagResource",
        ]
    }

    async fn preflight(&self, ctx: &Ctx, me: &SpecResource<'_>, _spec: &dyn SpecView) -> Vec<Finding> {
        super::preflight::phone_number(&self.aws, ctx, me).await
    }

    /// "You can call this API only in the same AWS Region where the ...
    /// traffic distribution group was created" (API_ClaimPhoneNumber.html).
    fn validate_in(&self, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Invalid> {
        let mut out = self.validate(me.region, me.props);
        if let Some(target) = me.referenced("target_arn").and_then(|a| spec.get(a)) {
            if target.region.is_some() && me.region.is_some() && target.region != me.region {
                out.push(Invalid::new(
                    "target_arn",
                    format!("a number is claimed in its target's region: `{}` is in {}", target.address, target.region.unwrap_or_default()),
                ));
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        // Numbers are claimed to a group only in the group's (source) region.
        let client = self.aws.connect(ctx.region()?).await;
        let target = prop_str(props, "target_arn").ok_or_else(|| ProviderError::invalid("target_arn is required"))?;
        let associations = flows(ctx, props)?;
        let adopted = self.adopt(ctx, &client, target).await?;
        let id = match adopted {
            Some(id) => {
                ctx.report(format!("phone number {id} was claimed for {} by an earlier interrupted run; adopting it", ctx.address));
                id
            }
            None => {
                let number = match prop_str(props, "phone_number") {
                    Some(n) => n.to_string(),
                    None => self.search(ctx, &client, target, props).await?,
                };
                let mut t: HashMap<String, String> = tags::desired(props).into_iter().collect();
                t.insert(ADDRESS_TAG.into(), ctx.address.clone());
                let input = json!({ "target": target, "number": number, "tags": props.get("tags") });
                let send = |token: String| {
                    client
                        .claim_phone_number()
                        .target_arn(target)
                        .phone_number(&number)
                        .set_tags(Some(t.clone()))
                        .client_token(token)
                        .send()
                };
                let out =
                    send(client_token(ctx, "ClaimPhoneNumber", &input)).await.map_err(|e| classify("ClaimPhoneNumber", &number, e))?;
                let mut id = required_id("aws.connect.phone_number", "ClaimPhoneNumber", out.phone_number_id())?;
                let seen = await_visible(ctx, "phone number", ctx.consistency, || async {
                    gone_is_none(
                        client
                            .describe_phone_number()
                            .phone_number_id(&id)
                            .send()
                            .await
                            .map_err(|e| classify("DescribePhoneNumber", &id, e)),
                    )
                })
                .await?;
                if seen.is_none() {
                    ctx.report(format!("phone number {id} from an earlier run is gone; claiming again"));
                    let out =
                        send(fresh_token(ctx, "ClaimPhoneNumber", &input)).await.map_err(|e| classify("ClaimPhoneNumber", &number, e))?;
                    id = required_id("aws.connect.phone_number", "ClaimPhoneNumber", out.phone_number_id())?;
                }
                id
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        self.wait_claimed(ctx, &client, &id).await.map_err(|e| e.with_partial(partial.clone()))?;
        let now = self.read(ctx, &id).await.map_err(|e| e.with_partial(partial.clone()))?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("phone number {id} vanished right after its claim")).with_partial(partial.clone())
        })?;
        let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default().to_string();
        self.associate(ctx, &arn, &associations).await.map_err(|e| e.with_partial(now.clone()))?;
        Ok(now)
    }

    /// DescribePhoneNumber. `phone_number_prefix` and `contact_flows` cannot be
    /// read back; the engine keeps what it last applied.
    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.connect(ctx.region()?).await;
        let Some(d) =
            gone_is_none(client.describe_phone_number().phone_number_id(id).send().await.map_err(|e| classify("DescribePhoneNumber", id, e)))?
        else {
            return Ok(None);
        };
        let Some(n) = d.claimed_phone_number_summary() else { return Ok(None) };
        let mut p = Map::new();
        if let Some(t) = n.target_arn() {
            p.insert("target_arn".into(), json!(t));
        }
        if let Some(v) = n.phone_number() {
            p.insert("phone_number".into(), json!(v));
        }
        if let Some(v) = n.phone_number_country_code() {
            p.insert("country_code".into(), json!(v.as_str()));
        }
        if let Some(v) = n.phone_number_type() {
            p.insert("phone_number_type".into(), json!(v.as_str()));
        }
        p.insert("tags".into(), tags_value(n.tags()));
        let nid = n.phone_number_id().unwrap_or(id).to_string();
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(nid));
        outputs.insert("arn".into(), json!(n.phone_number_arn().unwrap_or_default()));
        outputs.insert("phone_number".into(), json!(n.phone_number().unwrap_or_default()));
        Ok(Some(Observed { id: nid, properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let client = self.aws.connect(ctx.region()?).await;
        only_in_place(&format!("phone number {id}"), changed, &["target_arn", "contact_flows", "tags"])?;
        let now = self
            .read(ctx, id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("UpdatePhoneNumber {id}: the number is gone; re-run plan to claim one")))?;
        let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default().to_string();
        let has = |f: &str| changed.iter().any(|c| c == f);
        let want = flows(ctx, desired)?;
        let target = prop_str(desired, "target_arn").ok_or_else(|| ProviderError::invalid("target_arn is required"))?;
        if has("target_arn") && prop_str(&now.properties, "target_arn") != Some(target) {
            // UpdatePhoneNumber moves the number (keeping it, unlike a release and a
            // new claim); its flow associations do not move with it.
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdatePhoneNumber.html
            self.disassociate(&arn, &flows(ctx, prior)?).await?;
            let token = client_token(ctx, "UpdatePhoneNumber", &json!({ "id": now.id, "target": target }));
            client
                .update_phone_number()
                .phone_number_id(&now.id)
                .target_arn(target)
                .client_token(token)
                .send()
                .await
                .map_err(|e| classify("UpdatePhoneNumber", &now.id, e))?;
            self.wait_claimed(ctx, &client, &now.id).await?;
            self.associate(ctx, &arn, &want).await?;
        } else if has("contact_flows") || has("target_arn") {
            let had = flows(ctx, prior)?;
            let gone: Vec<FlowAssociation> =
                had.into_iter().filter(|h| !want.iter().any(|w| w.region == h.region && w.instance_id == h.instance_id)).collect();
            self.disassociate(&arn, &gone).await?;
            self.associate(ctx, &arn, &want).await?;
        }
        if has("tags") {
            set_tags(&client, &arn, &tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired)).await?;
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("phone number {id} is gone")))
    }

    /// Disassociate the flows, ReleasePhoneNumber (only in the region where the
    /// number was claimed), and wait until DescribePhoneNumber no longer finds it.
    /// A released number is in a 30-day cooldown: it cannot be claimed again.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ReleasePhoneNumber.html
    async fn delete(&self, ctx: &Ctx, id: &str, prior: &Map<String, Value>) -> Result<()> {
        let client = self.aws.connect(ctx.region()?).await;
        let Some(now) = self.read(ctx, id).await? else { return Ok(()) };
        let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default().to_string();
        self.disassociate(&arn, &flows(ctx, prior)?).await?;
        let token = client_token(ctx, "ReleasePhoneNumber", &json!({ "id": now.id }));
        let release = async {
            client
                .release_phone_number()
                .phone_number_id(&now.id)
                .client_token(token)
                .send()
                .await
                .map_err(|e| classify("ReleasePhoneNumber", &now.id, e))
        };
        delete_and_wait(ctx, "phone number release", release, || async {
            let d = client
                .describe_phone_number()
                .phone_number_id(&now.id)
                .send()
                .await
                .map_err(|e| classify("DescribePhoneNumber", &now.id, e))?;
            Ok(Some(
                d.claimed_phone_number_summary()
                    .and_then(|s| s.phone_number_status())
                    .and_then(|s| s.status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "releasing".into()),
            ))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_regions_come_from_the_entry_or_the_instance_arn() {
        let ctx = Ctx::quiet("number", Some("us-east-1"));
        let props = json!({ "contact_flows": [
            { "instance_id": "abc", "contact_flow_id": "f1" },
            { "instance_id": "arn:aws:connect:us-west-2:123456789012:instance/abc", "contact_flow_id": "f2" },
            { "instance_id": "abc", "contact_flow_id": "f3", "region": "us-west-2" }
        ]});
        let f = flows(&ctx, props.as_object().unwrap()).unwrap();
        assert_eq!(f.iter().map(|f| f.region.as_str()).collect::<Vec<_>>(), ["us-east-1", "us-west-2", "us-west-2"]);
        assert!(flows(&ctx, &Map::new()).unwrap().is_empty());
    }
}
