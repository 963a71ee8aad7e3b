//! `aws.connect.traffic_distribution_group_user`: an agent in a traffic
//! distribution group, so the group's agent distribution moves them between
//! the two regions (AssociateTrafficDistributionGroupUser /
//! ListTrafficDistributionGroupUsers / DisassociateTrafficDistributionGroupUser).
//! "To allow your agents to sign-in to both AWS Regions and process contacts
//! from either Region, you must first assign them to a traffic distribution
//! group"; "Always associate users to a traffic distribution group in the
//! source Region"; "Before you can associate agents to a traffic distribution
//! group, they must be present on both the source and replica instances."
//! https://docs.aws.amazon.com/connect/latest/adminguide/associate-agents-across-regions.html
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateTrafficDistributionGroupUser.html

use super::instance::{id_of};
use super::linked;
use crate::{classify, AwsContext};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{gone_is_none, 
    prop_str, wait_until, Ctx, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result, SpecResource, SpecView, WaitOutcome,
    Waiter,
};
use tandem_schema::{Field, OutputDef, Type};

pub struct TrafficDistributionGroupUser {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

/// The state id: `GROUP|INSTANCE_ID|USER_ID` (the group by id or ARN).
fn parse(id: &str) -> Result<(&str, &str, &str)> {
    let mut it = id.split('|');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(g), Some(i), Some(u), None) if !g.is_empty() && !i.is_empty() && !u.is_empty() => Ok((g, i, u)),
        _ => Err(ProviderError::invalid(format!("`{id}` is not GROUP_ID_OR_ARN|INSTANCE_ID|USER_ID"))),
    }
}

impl TrafficDistributionGroupUser {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.connect.traffic_distribution_group_user",
            doc: "An agent (user of the source instance) in a traffic distribution group: only agents in a group follow its agent distribution between the regions, so a failover moves them with the calls. Made in the group's (source) region, once the user is mirrored to the replica.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateTrafficDistributionGroupUser.html",
            regional: true,
            properties: vec![
                Field::new("traffic_distribution_group_id", Type::String)
                    .required()
                    .force_new()
                    .arn_or_id()
                    .refers_to(&["aws.connect.traffic_distribution_group"])
                    .doc("TrafficDistributionGroupId: the group's id or ARN."),
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc("InstanceId: the source instance's id."),
                Field::new("user_id", Type::String).required().force_new().arn_or_id().refers_to(&["aws.connect.user"]).doc("UserId: the user's id or ARN."),
            ],
            outputs: vec![OutputDef::new("user_id", "The associated user's id.")],
            name_field: None,
            import_id: "GROUP_ID_OR_ARN|INSTANCE_ID|USER_ID",
        };
        TrafficDistributionGroupUser { aws, schema }
    }

    /// Is the user in the group? (ListTrafficDistributionGroupUsers, paged.)
    async fn member(&self, client: &aws_sdk_connect::Client, group: &str, user: &str) -> Result<Option<bool>> {
        let mut next: Option<String> = None;
        loop {
            let page = client
                .list_traffic_distribution_group_users()
                .traffic_distribution_group_id(group)
                .set_next_token(next.take())
                .send()
                .await;
            let Some(page) = gone_is_none(page.map_err(|e| classify("ListTrafficDistributionGroupUsers", group, e)))? else { return Ok(None) };
            if page.traffic_distribution_group_user_summary_list().iter().any(|u| u.user_id() == Some(user)) {
                return Ok(Some(true));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(Some(false)),
            }
        }
    }
}

#[async_trait]
impl ResourceKind for TrafficDistributionGroupUser {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "connect:AssociateTrafficDistributionGroupUser",
            "connect:DisassociateTrafficDistributionGroupUser",
            "connect:ListTrafficDistributionGroupUsers",
            "connect:DescribeUser",
            "connect:DescribeInstance",
        ]
    }

    fn validate_in(&self, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Invalid> {
        let mut out = Vec::new();
        if let Some(group) = me.referenced("traffic_distribution_group_id").and_then(|a| spec.get(a)) {
            if group.region.is_some() && me.region.is_some() && group.region != me.region {
                out.push(Invalid::new(
                    "traffic_distribution_group_id",
                    format!(
                        "users are associated with a group in its (source) region: `{}` is in {}",
                        group.address,
                        group.region.unwrap_or_default()
                    ),
                ));
            }
            if let (Some(gi), Some(mi)) = (group.referenced("instance_id"), me.referenced("instance_id")) {
                if gi != mi {
                    out.push(Invalid::new("instance_id", format!("the group `{}` belongs to `{gi}`, not `{mi}`", group.address)));
                }
            }
        }
        if let (Some(user), Some(mi)) = (me.referenced("user_id").and_then(|a| spec.get(a)), me.referenced("instance_id")) {
            if user.referenced("instance_id").is_some_and(|ui| ui != mi) {
                out.push(Invalid::new("user_id", format!("`{}` is a user of another instance than `{mi}`", user.address)));
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let region = ctx.region()?;
        let group = prop_str(props, "traffic_distribution_group_id")
            .ok_or_else(|| ProviderError::invalid("traffic_distribution_group_id is required"))?;
        let instance = prop_str(props, "instance_id").ok_or_else(|| ProviderError::invalid("instance_id is required"))?;
        let user = id_of(prop_str(props, "user_id").ok_or_else(|| ProviderError::invalid("user_id is required"))?);
        // The user must be in the replica first ("You cannot associate users
        // to a traffic distribution group when they are newly added to source
        // instance and not yet in the replica").
        if let Some(peer) = linked::linked(&self.aws, region, instance).await? {
            let pc = self.aws.connect(&peer.peer_region).await;
            wait_until(ctx, &format!("user {user} in {}", peer.peer_region), Waiter::default(), || async {
                let d = gone_is_none(
                    pc.describe_user().instance_id(instance).user_id(user).send().await.map_err(|e| classify("DescribeUser", user, e)),
                )?;
                Ok(if d.is_some() { WaitOutcome::Ready(()) } else { WaitOutcome::Pending("mirroring".into()) })
            })
            .await?;
        }
        let client = self.aws.connect(region).await;
        client
            .associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(group)
            .instance_id(instance)
            .user_id(user)
            .send()
            .await
            .map_err(|e| classify("AssociateTrafficDistributionGroupUser", &format!("{user} in {group}"), e))?;
        let id = format!("{group}|{instance}|{user}");
        // Visible to the list eventually: wait, never associate twice.
        wait_until(ctx, "group membership", Waiter::default(), || async {
            Ok(match self.member(&client, group, user).await? {
                Some(true) => WaitOutcome::Ready(()),
                _ => WaitOutcome::Pending("not listed yet".into()),
            })
        })
        .await?;
        self.read(ctx, &id).await?.ok_or_else(|| ProviderError::not_found(format!("{user} left {group} right after joining it")))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let (group, instance, user) = parse(id)?;
        let client = self.aws.connect(ctx.region()?).await;
        if self.member(&client, group, user).await? != Some(true) {
            return Ok(None);
        }
        let mut p = Map::new();
        p.insert("traffic_distribution_group_id".into(), json!(group));
        p.insert("instance_id".into(), json!(instance));
        p.insert("user_id".into(), json!(user));
        let mut outputs = BTreeMap::new();
        outputs.insert("user_id".into(), json!(user));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    // Every field is force_new: the contract's default update refuses.

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociateTrafficDistributionGroupUser.html
    async fn delete(&self, ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let (group, instance, user) = parse(id)?;
        let client = self.aws.connect(ctx.region()?).await;
        let out = client
            .disassociate_traffic_distribution_group_user()
            .traffic_distribution_group_id(group)
            .instance_id(instance)
            .user_id(user)
            .send()
            .await;
        gone_is_none(out.map_err(|e| classify("DisassociateTrafficDistributionGroupUser", &format!("{user} in {group}"), e))).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_group_instance_and_user() {
        assert_eq!(parse("g|i|u").unwrap(), ("g", "i", "u"));
        assert!(parse("arn:aws:connect:us-east-1:1:traffic-distribution-group/g|i|u").is_ok());
        assert!(parse("g|i").is_err());
        assert!(parse("g||u").is_err());
    }
}
