//! `aws.connect.instance`: an Amazon Connect instance (CreateInstance /
//! DescribeInstance / UpdateInstanceAttribute / DescribeInstanceAttribute /
//! Associate|Disassociate|ListInstanceStorageConfig(s) / TagResource /
//! UntagResource / DeleteInstance).
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateInstance.html
//!
//! Also the helpers the Global Resiliency kinds share: client tokens, tags by
//! ARN, ARN parsing.

use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_connect::types::{
    DirectoryType, InstanceAttributeType, InstanceStatus, InstanceStorageConfig, InstanceStorageResourceType, KinesisStreamConfig,
    StorageType,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tandem_provider::{
    await_visible, prop_str, wait_until, Ctx, ErrorClass, Found, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter, required_id, delete_and_wait, gone_is_none,
};
use tandem_schema::{Check, Field, OutputDef, Type};

/// A client token that a re-run of the same create (same resource, same
/// input) repeats, so Connect answers with what the first attempt made
/// instead of making a second one. A UUID, the form every Connect ClientToken
/// takes and ClaimPhoneNumber requires ("Pattern:
/// ^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$",
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_ClaimPhoneNumber.html),
/// derived from the address, operation and input (version 8: custom bits).
pub(super) fn client_token(ctx: &Ctx, operation: &str, input: &Value) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}\u{0}{operation}\u{0}{:?}\u{0}{input}", ctx.address, ctx.region).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The same token with a salt: for a second attempt after Connect answered the
/// first token with something that no longer exists (made, then deleted).
pub(super) fn fresh_token(ctx: &Ctx, operation: &str, input: &Value) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    client_token(ctx, operation, &json!({ "input": input, "salt": nanos.to_string() }))
}

/// `arn:aws:connect:REGION:ACCOUNT:RESOURCE` -> REGION.
pub(super) fn arn_region(arn: &str) -> Option<&str> {
    let mut it = arn.splitn(6, ':');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some("arn"), Some(_), Some("connect"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

/// The last path segment of an ARN (`.../instance/ID` -> ID), or the id as given.
pub(super) fn id_of(id_or_arn: &str) -> &str {
    if id_or_arn.starts_with("arn:") {
        id_or_arn.rsplit('/').next().unwrap_or(id_or_arn)
    } else {
        id_or_arn
    }
}

pub(super) fn tags_value(t: Option<&HashMap<String, String>>) -> Value {
    tags::to_value(t.cloned().unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>())
}

/// The spec's tags plus tandem's own, for create calls.
pub(super) fn create_tags(props: &Map<String, Value>) -> Option<HashMap<String, String>> {
    let t: HashMap<String, String> = tags::desired(props).into_iter().collect();
    (!t.is_empty()).then_some(t)
}

/// TagResource / UntagResource by ARN, from `current` to `desired`.
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_TagResource.html
pub(super) async fn set_tags(
    client: &aws_sdk_connect::Client,
    arn: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<()> {
    let (set, remove) = tags::delta(current, desired);
    if !set.is_empty() {
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set.into_iter().collect()))
            .send()
            .await
            .map_err(|e| classify("TagResource", arn, e))?;
    }
    if !remove.is_empty() {
        client.untag_resource().resource_arn(arn).set_tag_keys(Some(remove)).send().await.map_err(|e| classify("UntagResource", arn, e))?;
    }
    Ok(())
}

/// The two storage configs tandem manages: property name -> resource type.
pub(super) const STORAGE: &[(&str, &str)] =
    &[("contact_trace_records_stream_arn", "CONTACT_TRACE_RECORDS"), ("agent_events_stream_arn", "AGENT_EVENTS")];

/// Instance attributes tandem manages: property name -> attribute type.
const ATTRIBUTES: &[(&str, &str)] =
    &[("inbound_calls_enabled", "INBOUND_CALLS"), ("outbound_calls_enabled", "OUTBOUND_CALLS"), ("contact_flow_logs", "CONTACTFLOW_LOGS")];

pub struct Instance {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Instance {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.connect.instance",
            doc: "An Amazon Connect instance, with its call attributes and the Kinesis streams its contact trace records and agent events go to.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateInstance.html",
            regional: true,
            properties: vec![
                Field::new("identity_management_type", Type::enumeration(&["SAML", "CONNECT_MANAGED", "EXISTING_DIRECTORY"])).required().force_new().doc("IdentityManagementType: how users are managed."),
                Field::new("instance_alias", Type::String).force_new().check(Check::Length(1, 45)).doc("InstanceAlias; required unless identity_management_type is EXISTING_DIRECTORY."),
                Field::new("directory_id", Type::String).force_new().check(Check::Length(12, 12)).doc("DirectoryId: the AWS Directory Service directory, with EXISTING_DIRECTORY only."),
                Field::new("inbound_calls_enabled", Type::Boolean).required().doc("InboundCallsEnabled; changed with UpdateInstanceAttribute INBOUND_CALLS."),
                Field::new("outbound_calls_enabled", Type::Boolean).required().doc("OutboundCallsEnabled; changed with UpdateInstanceAttribute OUTBOUND_CALLS."),
                Field::new("contact_flow_logs", Type::Boolean).computed().doc("The CONTACTFLOW_LOGS instance attribute: flow logs in CloudWatch."),
                Field::new("contact_trace_records_stream_arn", Type::String).refers_to(&["aws.kinesis.stream"]).doc("The Kinesis stream ARN for contact trace records (storage config CONTACT_TRACE_RECORDS, KINESIS_STREAM)."),
                Field::new("agent_events_stream_arn", Type::String).refers_to(&["aws.kinesis.stream"]).doc("The Kinesis stream ARN for agent events (storage config AGENT_EVENTS, KINESIS_STREAM)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The instance id."), OutputDef::new("arn", "The instance ARN.")],
            name_field: None,
            import_id: "the instance id or ARN",
        };
        Instance { aws, schema }
    }

    /// DescribeInstance until InstanceStatus is ACTIVE (CREATION_IN_PROGRESS before;
    /// CREATION_FAILED is final).
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeInstance.html
    async fn wait_active(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, id: &str) -> Result<()> {
        wait_until(ctx, "instance", Waiter::default(), || async {
            // NotFound right after the create is eventual consistency: not yet.
            let Some(d) = gone_is_none(client.describe_instance().instance_id(id).send().await.map_err(|e| classify("DescribeInstance", id, e)))?
            else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            Ok(match d.instance().and_then(|i| i.instance_status()) {
                Some(InstanceStatus::Active) => WaitOutcome::Ready(()),
                Some(InstanceStatus::CreationFailed) => WaitOutcome::Failed(format!(
                    "CREATION_FAILED{}",
                    d.instance().and_then(|i| i.status_reason()).and_then(|r| r.message()).map(|m| format!(": {m}")).unwrap_or_default()
                )),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }

    /// The id of the instance with this alias in the client's region (ListInstances).
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListInstances.html
    async fn by_alias(&self, client: &aws_sdk_connect::Client, alias: Option<&str>) -> Result<Option<String>> {
        let Some(alias) = alias else { return Ok(None) };
        let mut next: Option<String> = None;
        loop {
            let page = client.list_instances().set_next_token(next.take()).send().await.map_err(|e| classify("ListInstances", alias, e))?;
            if let Some(i) = page.instance_summary_list().iter().find(|i| i.instance_alias() == Some(alias)) {
                return Ok(i.id().map(str::to_string));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(None),
            }
        }
    }
}

pub(super) async fn set_attribute(client: &aws_sdk_connect::Client, id: &str, attribute: &str, value: bool) -> Result<()> {
    // https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateInstanceAttribute.html
    client
        .update_instance_attribute()
        .instance_id(id)
        .attribute_type(InstanceAttributeType::from(attribute))
        .value(value.to_string())
        .send()
        .await
        .map_err(|e| classify("UpdateInstanceAttribute", &format!("{id} {attribute}"), e))?;
    Ok(())
}

pub(super) async fn attribute(client: &aws_sdk_connect::Client, id: &str, attribute: &str) -> Result<Option<bool>> {
    let d = client
        .describe_instance_attribute()
        .instance_id(id)
        .attribute_type(InstanceAttributeType::from(attribute))
        .send()
        .await
        .map_err(|e| classify("DescribeInstanceAttribute", &format!("{id} {attribute}"), e))?;
    Ok(d.attribute().and_then(|a| a.value()).map(|v| v.eq_ignore_ascii_case("true")))
}

/// The Kinesis storage configs of one resource type: (association id, stream ARN).
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListInstanceStorageConfigs.html
pub(super) async fn storage(client: &aws_sdk_connect::Client, id: &str, resource_type: &str) -> Result<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_instance_storage_configs()
            .instance_id(id)
            .resource_type(InstanceStorageResourceType::from(resource_type))
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify("ListInstanceStorageConfigs", &format!("{id} {resource_type}"), e))?;
        for c in page.storage_configs() {
            out.push((c.association_id().unwrap_or_default().to_string(), c.kinesis_stream_config().map(|k| k.stream_arn().to_string())));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Replace the storage config of `resource_type` with `stream_arn` (none: remove it).
/// A resource type has one storage config: the old one is disassociated first.
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateInstanceStorageConfig.html
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociateInstanceStorageConfig.html
pub(super) async fn set_storage(
    ctx: &Ctx,
    client: &aws_sdk_connect::Client,
    id: &str,
    resource_type: &str,
    stream_arn: Option<&str>,
) -> Result<()> {
    let what = format!("{id} {resource_type}");
    let existing = storage(client, id, resource_type).await?;
    if existing.len() == 1 && existing[0].1.as_deref() == stream_arn {
        return Ok(());
    }
    for (association, _) in &existing {
        client
            .disassociate_instance_storage_config()
            .instance_id(id)
            .association_id(association)
            .resource_type(InstanceStorageResourceType::from(resource_type))
            .send()
            .await
            .map_err(|e| classify("DisassociateInstanceStorageConfig", &what, e))?;
    }
    if let Some(arn) = stream_arn {
        let kinesis = KinesisStreamConfig::builder().stream_arn(arn).build().map_err(|e| ProviderError::invalid(e.to_string()))?;
        let config = InstanceStorageConfig::builder()
            .storage_type(StorageType::KinesisStream)
            .kinesis_stream_config(kinesis)
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        let token = client_token(ctx, "AssociateInstanceStorageConfig", &json!({ "id": id, "type": resource_type, "arn": arn }));
        client
            .associate_instance_storage_config()
            .instance_id(id)
            .resource_type(InstanceStorageResourceType::from(resource_type))
            .storage_config(config)
            .client_token(token)
            .send()
            .await
            .map_err(|e| classify("AssociateInstanceStorageConfig", &what, e))?;
    }
    Ok(())
}

#[async_trait]
impl ResourceKind for Instance {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "connect:CreateInstance",
            "connect:DescribeInstance",
            "connect:ListInstances",
            "connect:DeleteInstance",
            "connect:UpdateInstanceAttribute",
            "connect:DescribeInstanceAttribute",
            "connect:AssociateInstanceStorageConfig",
            "connect:DisassociateInstanceStorageConfig",
            "connect:ListInstanceStorageConfigs",
            "connect:TagResource",
            "connect:UntagResource",
            "ds:CheckAlias",
            "ds:CreateAlias",
            "ds:CreateIdentityPoolDirectory",
            "ds:DeleteDirectory",
            "ds:DescribeDirectories",
            "ds:UnauthorizeApplication",
            "iam:CreateServiceLinkedRole",
            "iam:PutRolePolicy",
            "kinesis:DescribeStream",
        ]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.connect(ctx.region()?).await;
        let idm =
            prop_str(props, "identity_management_type").ok_or_else(|| ProviderError::invalid("identity_management_type is required"))?;
        let alias = prop_str(props, "instance_alias");
        let directory = prop_str(props, "directory_id");
        // InstanceAlias is required unless the users come from an existing directory,
        // which then needs DirectoryId.
        // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateInstance.html
        if idm == "EXISTING_DIRECTORY" && directory.is_none() {
            return Err(ProviderError::invalid(format!(
                "{}: directory_id is required with identity_management_type EXISTING_DIRECTORY",
                ctx.address
            )));
        }
        if idm != "EXISTING_DIRECTORY" && alias.is_none() {
            return Err(ProviderError::invalid(format!("{}: instance_alias is required with identity_management_type {idm}", ctx.address)));
        }
        let flag = |k: &str| props.get(k).and_then(Value::as_bool);
        let (inbound, outbound) = match (flag("inbound_calls_enabled"), flag("outbound_calls_enabled")) {
            (Some(i), Some(o)) => (i, o),
            _ => {
                return Err(ProviderError::invalid(format!(
                    "{}: inbound_calls_enabled and outbound_calls_enabled are required",
                    ctx.address
                )))
            }
        };
        let what = alias.unwrap_or(&ctx.address).to_string();
        let input = json!({ "idm": idm, "alias": alias, "directory": directory, "inbound": inbound, "outbound": outbound, "tags": props.get("tags") });
        let send = |token: String| {
            client
                .create_instance()
                .identity_management_type(DirectoryType::from(idm))
                .set_instance_alias(alias.map(str::to_string))
                .set_directory_id(directory.map(str::to_string))
                .inbound_calls_enabled(inbound)
                .outbound_calls_enabled(outbound)
                .set_tags(create_tags(props))
                .client_token(token)
                .send()
        };
        // The same token after a crash returns the instance the crashed run made.
        let mut id = match send(client_token(ctx, "CreateInstance", &input)).await {
            Ok(out) => required_id("aws.connect.instance", "CreateInstance", out.id())?,
            Err(e) => {
                let e = classify("CreateInstance", &what, e);
                // An alias is unique: an instance with it in this account and region
                // is what an interrupted run made (or an import); adopt it.
                match self.by_alias(&client, alias).await? {
                    Some(id) if e.class == ErrorClass::Invalid || e.class == ErrorClass::Conflict => {
                        ctx.report(format!("instance {what} exists already (an earlier interrupted run?); adopting {id}"));
                        id
                    }
                    _ => return Err(e),
                }
            }
        };
        let visible = await_visible(ctx, "instance", ctx.consistency, || async {
            gone_is_none(client.describe_instance().instance_id(&id).send().await.map_err(|e| classify("DescribeInstance", &id, e)))
        })
        .await?;
        if visible.is_none() {
            // The token's first answer was deleted since: make a new one.
            ctx.report(format!("instance {id} from an earlier run is gone; creating a new one"));
            let out = send(fresh_token(ctx, "CreateInstance", &input)).await.map_err(|e| classify("CreateInstance", &what, e))?;
            id = required_id("aws.connect.instance", "CreateInstance", out.id())?;
        }
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        self.wait_active(ctx, &client, &id).await.map_err(|e| e.with_partial(partial.clone()))?;
        let finish = async {
            if let Some(v) = flag("contact_flow_logs") {
                set_attribute(&client, &id, "CONTACTFLOW_LOGS", v).await?;
            }
            for (prop, resource_type) in STORAGE {
                if let Some(arn) = prop_str(props, prop) {
                    set_storage(ctx, &client, &id, resource_type, Some(arn)).await?;
                }
            }
            Ok::<(), ProviderError>(())
        };
        finish.await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &id).await.map_err(|e| e.with_partial(partial.clone()))?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("instance {id} vanished right after creation")).with_partial(partial)
        })
    }

    /// An alias is unique per account and region: an interrupted create's
    /// instance is the one with its alias (an instance without one cannot be
    /// told from others).
    async fn find(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Found> {
        let Some(alias) = prop_str(props, "instance_alias") else { return Ok(Found::CannotTell) };
        let client = self.aws.connect(ctx.region()?).await;
        match self.by_alias(&client, Some(alias)).await? {
            Some(id) => Ok(self.read(ctx, &id).await?.into()),
            None => Ok(Found::Nothing),
        }
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.connect(ctx.region()?).await;
        let id = id_of(id);
        let Some(d) = gone_is_none(client.describe_instance().instance_id(id).send().await.map_err(|e| classify("DescribeInstance", id, e)))?
        else {
            return Ok(None);
        };
        let Some(i) = d.instance() else { return Ok(None) };
        let mut p = Map::new();
        if let Some(t) = i.identity_management_type() {
            p.insert("identity_management_type".into(), json!(t.as_str()));
        }
        if let Some(a) = i.instance_alias() {
            p.insert("instance_alias".into(), json!(a));
        }
        if let Some(v) = i.inbound_calls_enabled() {
            p.insert("inbound_calls_enabled".into(), json!(v));
        }
        if let Some(v) = i.outbound_calls_enabled() {
            p.insert("outbound_calls_enabled".into(), json!(v));
        }
        // Attributes and storage configs can only be read once the instance is ACTIVE.
        if i.instance_status() == Some(&InstanceStatus::Active) {
            if let Some(v) = attribute(&client, id, "CONTACTFLOW_LOGS").await? {
                p.insert("contact_flow_logs".into(), json!(v));
            }
            for (prop, resource_type) in STORAGE {
                if let Some((_, Some(arn))) = storage(&client, id, resource_type).await?.into_iter().next() {
                    p.insert((*prop).into(), json!(arn));
                }
            }
        }
        p.insert("tags".into(), tags_value(i.tags()));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(i.id().unwrap_or(id)));
        outputs.insert("arn".into(), json!(i.arn().unwrap_or_default()));
        Ok(Some(Observed { id: i.id().unwrap_or(id).to_string(), properties: p, outputs }))
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
        let id = id_of(id).to_string();
        let now = self
            .read(ctx, &id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("UpdateInstance {id}: the instance is gone; re-run plan to create it")))?;
        let has = |f: &str| changed.iter().any(|c| c == f);
        for f in changed {
            let known = ATTRIBUTES.iter().any(|(p, _)| p == f) || STORAGE.iter().any(|(p, _)| p == f) || f == "tags";
            if !known {
                return Err(ProviderError::invalid(format!("{f} of instance {id} cannot be changed in place")));
            }
        }
        for (prop, attribute) in ATTRIBUTES {
            if has(prop) {
                // A removed contact_flow_logs goes back to the default, off.
                let want = desired.get(*prop).and_then(Value::as_bool).unwrap_or(false);
                if now.properties.get(*prop).and_then(Value::as_bool) != Some(want) {
                    set_attribute(&client, &id, attribute, want).await?;
                }
            }
        }
        for (prop, resource_type) in STORAGE {
            if has(prop) {
                set_storage(ctx, &client, &id, resource_type, prop_str(desired, prop)).await?;
            }
        }
        if has("tags") {
            let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default().to_string();
            set_tags(&client, &arn, &tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired)).await?;
        }
        self.read(ctx, &id).await?.ok_or_else(|| ProviderError::not_found(format!("instance {id} is gone")))
    }

    /// DeleteInstance, then DescribeInstance until ResourceNotFoundException. An
    /// instance with a replica refuses: the replica is deleted first (it depends
    /// on the instance, so the engine deletes it earlier).
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DeleteInstance.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.connect(ctx.region()?).await;
        let id = id_of(id).to_string();
        let delete = async { client.delete_instance().instance_id(&id).send().await.map_err(|e| classify("DeleteInstance", &id, e)) };
        delete_and_wait(ctx, "instance deletion", delete, || async {
            let d = client.describe_instance().instance_id(&id).send().await.map_err(|e| classify("DescribeInstance", &id, e))?;
            Ok(Some(d.instance().and_then(|i| i.instance_status()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into())))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_repeat_for_the_same_input_only() {
        let ctx = Ctx::quiet("primary", Some("us-east-1"));
        let a = client_token(&ctx, "CreateInstance", &json!({"alias": "x"}));
        assert_eq!(a, client_token(&ctx, "CreateInstance", &json!({"alias": "x"})));
        assert_ne!(a, client_token(&ctx, "CreateInstance", &json!({"alias": "y"})));
        assert_ne!(a, client_token(&Ctx::quiet("other", Some("us-east-1")), "CreateInstance", &json!({"alias": "x"})));
        // The UUID form ClaimPhoneNumber requires.
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{a}");
    }

    #[test]
    fn arns_and_ids() {
        let arn = "arn:aws:connect:us-west-2:123456789012:instance/abc-123";
        assert_eq!(arn_region(arn), Some("us-west-2"));
        assert_eq!(id_of(arn), "abc-123");
        assert_eq!(id_of("abc-123"), "abc-123");
        assert_eq!(arn_region("abc-123"), None);
        assert_eq!(arn_region("arn:aws:kinesis:us-east-1:1:stream/x"), None);
    }
}
