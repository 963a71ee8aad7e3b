//! `aws.connect.traffic_distribution_group`: a traffic distribution group of
//! a replicated Connect instance and the traffic distribution it applies
//! (CreateTrafficDistributionGroup / DescribeTrafficDistributionGroup /
//! UpdateTrafficDistribution / GetTrafficDistribution / TagResource /
//! UntagResource / DeleteTrafficDistributionGroup).
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateTrafficDistributionGroup.html
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateTrafficDistribution.html

use super::instance::{client_token, create_tags, fresh_token, set_tags, tags_value};
use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_connect::types::{
    AgentConfig, Distribution, SignInConfig, SignInDistribution, TelephonyConfig, TrafficDistributionGroupStatus,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{required_id, gone_is_none, 
    await_visible, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result, SpecResource,
    SpecView, WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

/// The three distribution properties, updated together by UpdateTrafficDistribution.
const DISTRIBUTIONS: &[&str] = &["telephony_config", "agent_config", "sign_in_config"];

fn percentages(doc: &'static str) -> Field {
    Field::new(
        "distributions",
        Type::list(Type::Object(vec![
            Field::new("region", Type::String).required().doc("Region: one of the two regions of the replicated instance."),
            Field::new("percentage", Type::Integer).required().check(Check::Range(0, 100)).doc("Percentage, in increments of 10."),
        ])),
    )
    .required()
    .unordered()
    .doc(doc)
}

pub struct TrafficDistributionGroup {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl TrafficDistributionGroup {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.connect.traffic_distribution_group",
            doc: "A traffic distribution group of a replicated Connect instance, made in the source region, and how it spreads calls and agents across the two regions. A manual failover left in place shows as drift.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateTrafficDistributionGroup.html",
            regional: true,
            properties: vec![
                Field::new("name", Type::String).required().force_new().check(Check::Length(1, 128)).doc("Name; defaults to the resource key."),
                Field::new("description", Type::String).force_new().check(Check::Length(1, 250)).doc("Description."),
                Field::new("instance_id", Type::String)
                    .required()
                    .force_new()
                    .arn_or_id()
                    .refers_to(&["aws.connect.instance"])
                    .doc("InstanceId: the id or ARN of the source instance, which must have been replicated (depend on its aws.connect.replica)."),
                Field::new("telephony_config", Type::Object(vec![percentages("Distributions: both regions, in 10% increments, summing to 100.")]))
                    .required()
                    .doc("TelephonyConfig: the share of calls each region gets."),
                Field::new("agent_config", Type::Object(vec![percentages("Distributions: both regions, in 10% increments, summing to 100.")]))
                    .computed()
                    .doc("AgentConfig: the share of agents each region gets. Shifting calls without agents strands callers."),
                Field::new(
                    "sign_in_config",
                    Type::Object(vec![Field::new(
                        "distributions",
                        Type::list(Type::Object(vec![
                            Field::new("region", Type::String).required().doc("Region."),
                            Field::new("enabled", Type::Boolean).required().doc("Enabled: agents may sign in through this region."),
                        ])),
                    )
                    .required()
                    .unordered()
                    .doc("Distributions.")]),
                )
                .computed()
                .doc("SignInConfig; only the default group may change it (others get InvalidRequestException)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The group id."), OutputDef::new("arn", "The group ARN.")],
            name_field: Some("name"),
            import_id: "the group id or ARN (in the source region)",
        };
        TrafficDistributionGroup { aws, schema }
    }

    /// DescribeTrafficDistributionGroup until Status is ACTIVE; CREATION_FAILED
    /// and UPDATE_FAILED are final.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_TrafficDistributionGroup.html
    async fn wait_active(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, id: &str) -> Result<()> {
        wait_until(ctx, "traffic distribution group", Waiter::default(), || async {
            // NotFound right after the create is eventual consistency: not yet.
            let Some(d) = gone_is_none(
                client
                    .describe_traffic_distribution_group()
                    .traffic_distribution_group_id(id)
                    .send()
                    .await
                    .map_err(|e| classify("DescribeTrafficDistributionGroup", id, e)),
            )?
            else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            Ok(match d.traffic_distribution_group().and_then(|g| g.status()) {
                Some(TrafficDistributionGroupStatus::Active) => WaitOutcome::Ready(()),
                // UPDATE_FAILED is a documented status the SDK's enum does not name (it reads as Unknown).
                Some(s) if matches!(s.as_str(), "CREATION_FAILED" | "UPDATE_FAILED") => WaitOutcome::Failed(s.as_str().to_string()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }

    /// UpdateTrafficDistribution with the desired configs, then wait for ACTIVE
    /// again (the group is UPDATE_IN_PROGRESS meanwhile). TelephonyConfig is
    /// required; AgentConfig and SignInConfig are sent when the spec sets them.
    async fn distribute(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, id: &str, props: &Map<String, Value>) -> Result<()> {
        let telephony = TelephonyConfig::builder()
            .set_distributions(Some(
                distributions(props, "telephony_config")?
                    .ok_or_else(|| ProviderError::invalid(format!("{}: telephony_config is required", ctx.address)))?,
            ))
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        let agents = match distributions(props, "agent_config")? {
            Some(d) => Some(AgentConfig::builder().set_distributions(Some(d)).build().map_err(|e| ProviderError::invalid(e.to_string()))?),
            None => None,
        };
        let sign_in = match props.get("sign_in_config").and_then(|s| s.get("distributions")).and_then(Value::as_array) {
            Some(list) => {
                let mut out = Vec::new();
                for d in list {
                    let region = d
                        .get("region")
                        .and_then(Value::as_str)
                        .ok_or_else(|| ProviderError::invalid("sign_in_config.distributions[].region is required"))?;
                    let enabled = d
                        .get("enabled")
                        .and_then(Value::as_bool)
                        .ok_or_else(|| ProviderError::invalid("sign_in_config.distributions[].enabled is required"))?;
                    out.push(
                        SignInDistribution::builder()
                            .region(region)
                            .enabled(enabled)
                            .build()
                            .map_err(|e| ProviderError::invalid(e.to_string()))?,
                    );
                }
                Some(SignInConfig::builder().set_distributions(Some(out)).build().map_err(|e| ProviderError::invalid(e.to_string()))?)
            }
            None => None,
        };
        client
            .update_traffic_distribution()
            .id(id)
            .telephony_config(telephony)
            .set_agent_config(agents)
            .set_sign_in_config(sign_in)
            .send()
            .await
            .map_err(|e| classify("UpdateTrafficDistribution", id, e))?;
        self.wait_active(ctx, client, id).await
    }
}

/// `PROP.distributions` as the API's list, checked as UpdateTrafficDistribution
/// checks it: two regions, each named once, percentages in 10% increments
/// summing to 100 (otherwise InvalidRequestException).
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateTrafficDistribution.html
fn distributions(props: &Map<String, Value>, prop: &str) -> Result<Option<Vec<Distribution>>> {
    let Some(list) = props.get(prop).and_then(|c| c.get("distributions")).and_then(Value::as_array) else { return Ok(None) };
    let mut out: Vec<Distribution> = Vec::new();
    let mut sum = 0;
    for d in list {
        let region = d
            .get("region")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::invalid(format!("{prop}.distributions[].region is required")))?;
        let pct = d
            .get("percentage")
            .and_then(Value::as_i64)
            .ok_or_else(|| ProviderError::invalid(format!("{prop}.distributions[].percentage is required")))?;
        if !(0..=100).contains(&pct) || pct % 10 != 0 {
            return Err(ProviderError::invalid(format!("{prop}: percentage {pct} for {region} must be 0 to 100 in increments of 10")));
        }
        if out.iter().any(|o| o.region() == region) {
            return Err(ProviderError::invalid(format!("{prop}: region {region} is named twice")));
        }
        sum += pct;
        out.push(Distribution::builder().region(region).percentage(pct as i32).build().map_err(|e| ProviderError::invalid(e.to_string()))?);
    }
    if out.len() != 2 {
        return Err(ProviderError::invalid(format!("{prop} must name both regions of the replicated instance, once each")));
    }
    if sum != 100 {
        return Err(ProviderError::invalid(format!("{prop}: percentages sum to {sum}, not 100")));
    }
    Ok(Some(out))
}

fn percentages_value(d: &[Distribution]) -> Value {
    json!({ "distributions": d.iter().map(|d| json!({ "region": d.region(), "percentage": d.percentage() })).collect::<Vec<_>>() })
}

#[async_trait]
impl ResourceKind for TrafficDistributionGroup {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "connect:CreateTrafficDistributionGroup",
            "connect:DescribeTrafficDistributionGroup",
            "connect:ListTrafficDistributionGroups",
            "connect:GetTrafficDistribution",
            "connect:UpdateTrafficDistribution",
            "connect:DeleteTrafficDistributionGroup",
            "connect:TagResource",
            "connect:UntagResource",
        ]
    }

    /// UpdateTrafficDistribution's rules, before any call: both regions once,
    /// 10% steps, summing to 100 (InvalidRequestException otherwise).
    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        for p in ["telephony_config", "agent_config"] {
            // Unknown values (references) are checked at apply.
            let known = props
                .get(p)
                .and_then(|c| c.get("distributions"))
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().all(|d| d.get("percentage").is_some_and(Value::is_i64)));
            if known {
                if let Err(e) = distributions(props, p) {
                    out.push(Invalid::new(p, e.message));
                }
            }
        }
        out
    }

    /// The group needs a replicated instance: "The ReplicateInstance API was
    /// not called before creating a traffic distribution group" is an
    /// InvalidRequestException; it is made in the source region, and its
    /// distributions name the two linked regions.
    /// https://docs.aws.amazon.com/connect/latest/adminguide/setup-traffic-distribution-groups.html
    fn validate_in(&self, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Invalid> {
        let mut out = self.validate(me.region, me.props);
        let Some(instance) = me.referenced("instance_id").and_then(|a| spec.get(a)) else { return out };
        if instance.region.is_some() && me.region.is_some() && instance.region != me.region {
            out.push(Invalid::new(
                "instance_id",
                format!("a traffic distribution group is made in its instance's (source) region, {}", instance.region.unwrap_or_default()),
            ));
        }
        let replicas: Vec<SpecResource<'_>> = spec
            .all()
            .into_iter()
            .filter(|r| r.type_name == "aws.connect.replica" && r.referenced("instance_id") == Some(instance.address))
            .collect();
        let Some(replica) = replicas.first() else {
            out.push(Invalid::new(
                "instance_id",
                format!("`{}` has no aws.connect.replica in this spec, and a traffic distribution group needs a replicated instance: declare its replica and add it to `depends_on`", instance.address),
            ));
            return out;
        };
        if !me.needs(replica.address) {
            out.push(Invalid::new(
                "instance_id",
                format!("the group can only be made once `{}` exists: add `depends_on: [{}]`", replica.address, replica.address),
            ));
        }
        if let (Some(a), Some(b)) = (instance.region, prop_str(replica.props, "replica_region")) {
            for p in ["telephony_config", "agent_config"] {
                let regions: Vec<&str> = me
                    .props
                    .get(p)
                    .and_then(|c| c.get("distributions"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.get("region").and_then(Value::as_str))
                    .collect();
                if let Some(other) = regions.iter().find(|r| **r != a && **r != b) {
                    out.push(Invalid::new(p, format!("{other} is not one of the linked regions {a} and {b}")));
                }
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        // Made in the source region of the replicated instance (the resource's region).
        let client = self.aws.connect(ctx.region()?).await;
        let name = prop_str(props, "name").unwrap_or(&ctx.name).to_string();
        let instance = prop_str(props, "instance_id").ok_or_else(|| ProviderError::invalid("instance_id is required"))?;
        // The API takes the instance's id or ARN ("You can provide the
        // InstanceId, or the entire ARN") and reads back the ARN (InstanceArn);
        // the field compares either form with the other.
        // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateTrafficDistributionGroup.html
        let description = prop_str(props, "description");
        // Check the distributions before anything is made.
        for p in ["telephony_config", "agent_config"] {
            distributions(props, p)?;
        }
        let input = json!({ "name": name, "instance": instance, "description": description, "tags": props.get("tags") });
        let send = |token: String| {
            client
                .create_traffic_distribution_group()
                .name(&name)
                .instance_id(instance)
                .set_description(description.map(str::to_string))
                .set_tags(create_tags(props))
                .client_token(token)
                .send()
        };
        // The same ClientToken after a crash returns the group the crashed run made.
        let out = send(client_token(ctx, "CreateTrafficDistributionGroup", &input))
            .await
            .map_err(|e| classify("CreateTrafficDistributionGroup", &name, e))?;
        let mut id = required_id("aws.connect.traffic_distribution_group", "CreateTrafficDistributionGroup", out.id())?;
        let seen = await_visible(ctx, "traffic distribution group", ctx.consistency, || async {
            gone_is_none(
                client
                    .describe_traffic_distribution_group()
                    .traffic_distribution_group_id(&id)
                    .send()
                    .await
                    .map_err(|e| classify("DescribeTrafficDistributionGroup", &id, e)),
            )
        })
        .await?;
        let gone = seen.is_none_or(|d| {
            d.traffic_distribution_group().and_then(|g| g.status()) == Some(&TrafficDistributionGroupStatus::PendingDeletion)
        });
        if gone {
            ctx.report(format!("group {id} from an earlier run is gone; creating a new one"));
            let out = send(fresh_token(ctx, "CreateTrafficDistributionGroup", &input))
                .await
                .map_err(|e| classify("CreateTrafficDistributionGroup", &name, e))?;
            id = required_id("aws.connect.traffic_distribution_group", "CreateTrafficDistributionGroup", out.id())?;
        }
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        self.wait_active(ctx, &client, &id).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.distribute(ctx, &client, &id, props).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &id)
            .await
            .map_err(|e| e.with_partial(partial.clone()))?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("group {id} vanished right after creation")).with_partial(partial))
    }

    /// DescribeTrafficDistributionGroup + GetTrafficDistribution (only ACTIVE
    /// groups answer the latter). A group PENDING_DELETION counts as gone.
    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.connect(ctx.region()?).await;
        let Some(d) = gone_is_none(
            client
                .describe_traffic_distribution_group()
                .traffic_distribution_group_id(id)
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficDistributionGroup", id, e)),
        )?
        else {
            return Ok(None);
        };
        let Some(g) = d.traffic_distribution_group() else { return Ok(None) };
        if matches!(g.status(), Some(TrafficDistributionGroupStatus::PendingDeletion)) {
            return Ok(None);
        }
        let mut p = Map::new();
        if let Some(n) = g.name() {
            p.insert("name".into(), json!(n));
        }
        if let Some(s) = g.description() {
            p.insert("description".into(), json!(s));
        }
        if let Some(i) = g.instance_arn() {
            p.insert("instance_id".into(), json!(i));
        }
        p.insert("tags".into(), tags_value(g.tags()));
        if g.status() == Some(&TrafficDistributionGroupStatus::Active) {
            let t = client.get_traffic_distribution().id(id).send().await.map_err(|e| classify("GetTrafficDistribution", id, e))?;
            if let Some(c) = t.telephony_config() {
                p.insert("telephony_config".into(), percentages_value(c.distributions()));
            }
            if let Some(c) = t.agent_config() {
                p.insert("agent_config".into(), percentages_value(c.distributions()));
            }
            if let Some(c) = t.sign_in_config() {
                p.insert("sign_in_config".into(), json!({ "distributions": c.distributions().iter().map(|d| json!({ "region": d.region(), "enabled": d.enabled() })).collect::<Vec<_>>() }));
            }
        }
        let gid = g.id().unwrap_or(id).to_string();
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(gid));
        outputs.insert("arn".into(), json!(g.arn().unwrap_or_default()));
        Ok(Some(Observed { id: gid, properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let client = self.aws.connect(ctx.region()?).await;
        if let Some(other) = changed.iter().find(|f| !DISTRIBUTIONS.contains(&f.as_str()) && f.as_str() != "tags") {
            return Err(ProviderError::invalid(format!("{other} of traffic distribution group {id} cannot be changed in place")));
        }
        let now = self.read(ctx, id).await?.ok_or_else(|| {
            ProviderError::not_found(format!("UpdateTrafficDistribution {id}: the group is gone; re-run plan to create it"))
        })?;
        // Claiming numbers and changing the distribution need an ACTIVE group.
        self.wait_active(ctx, &client, &now.id).await?;
        if changed.iter().any(|f| DISTRIBUTIONS.contains(&f.as_str())) {
            self.distribute(ctx, &client, &now.id, desired).await?;
        }
        if changed.iter().any(|f| f == "tags") {
            let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default().to_string();
            set_tags(&client, &arn, &tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired)).await?;
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("traffic distribution group {id} is gone")))
    }

    /// DeleteTrafficDistributionGroup (only in the group's region), then wait
    /// until it is gone. While phone numbers are claimed to the group it fails
    /// with ResourceInUseException, a Conflict: the numbers depend on the
    /// group, so the engine releases them first.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DeleteTrafficDistributionGroup.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.connect(ctx.region()?).await;
        match client.delete_traffic_distribution_group().traffic_distribution_group_id(id).send().await {
            Ok(_) => {}
            Err(e) => {
                let mut e = classify("DeleteTrafficDistributionGroup", id, e);
                match e.class {
                    ErrorClass::NotFound => return Ok(()),
                    ErrorClass::Conflict => {
                        e.message.push_str(" (release the phone numbers claimed to the group first)");
                        return Err(e);
                    }
                    _ => return Err(e),
                }
            }
        }
        wait_until(ctx, "traffic distribution group deletion", Waiter::default(), || async {
            let d = gone_is_none(
                client
                    .describe_traffic_distribution_group()
                    .traffic_distribution_group_id(id)
                    .send()
                    .await
                    .map_err(|e| classify("DescribeTrafficDistributionGroup", id, e)),
            )?;
            Ok(match d.as_ref().and_then(|d| d.traffic_distribution_group()).and_then(|g| g.status()) {
                None => WaitOutcome::Ready(()),
                Some(s @ TrafficDistributionGroupStatus::DeletionFailed) => WaitOutcome::Failed(s.as_str().to_string()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telephony(v: Value) -> Result<Option<Vec<Distribution>>> {
        let props = json!({ "telephony_config": { "distributions": v } });
        distributions(props.as_object().unwrap(), "telephony_config")
    }

    #[test]
    fn distributions_follow_the_api_rules() {
        let ok = telephony(json!([{"region": "us-east-1", "percentage": 50}, {"region": "us-west-2", "percentage": 50}])).unwrap().unwrap();
        assert_eq!(ok.len(), 2);
        assert!(telephony(json!([{"region": "us-east-1", "percentage": 55}, {"region": "us-west-2", "percentage": 45}])).is_err());
        assert!(telephony(json!([{"region": "us-east-1", "percentage": 60}, {"region": "us-west-2", "percentage": 50}])).is_err());
        assert!(telephony(json!([{"region": "us-east-1", "percentage": 100}])).is_err());
        assert!(telephony(json!([{"region": "us-east-1", "percentage": 50}, {"region": "us-east-1", "percentage": 50}])).is_err());
        assert!(distributions(&Map::new(), "agent_config").unwrap().is_none());
    }
}
