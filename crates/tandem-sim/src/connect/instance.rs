//! Instances, their attributes and storage configs, and ReplicateInstance.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::{arn, empty, epoch_now, new_id, page, parse_arn, ready, tags_of, Connect, RestRequest};
use crate::env::SimEnv;
use crate::error::ApiError;

/// Instance attribute types (InstanceAttributeType in the API Reference).
pub(crate) const ATTRIBUTE_TYPES: &[&str] = &[
    "INBOUND_CALLS",
    "OUTBOUND_CALLS",
    "CONTACTFLOW_LOGS",
    "CONTACT_LENS",
    "AUTO_RESOLVE_BEST_VOICES",
    "USE_CUSTOM_TTS_VOICES",
    "EARLY_MEDIA",
    "MULTI_PARTY_CONFERENCE",
    "HIGH_VOLUME_OUTBOUND",
    "ENHANCED_CONTACT_MONITORING",
    "ENHANCED_CHAT_MONITORING",
    "MULTI_PARTY_CHAT_CONFERENCE",
    "MESSAGE_STREAMING",
    "AUTO_MUTE_AGENT_ON_HOLD",
];

/// Global Resiliency pairs: source -> replica
/// (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html: "You can only create a replica in Asia Pacific (Osaka) Region if your source is Asia Pacific (Tokyo)", the other two pairs both ways).
pub(crate) const REPLICATION_PAIRS: &[(&str, &str)] = &[
    ("us-east-1", "us-west-2"),
    ("us-west-2", "us-east-1"),
    ("eu-central-1", "eu-west-2"),
    ("eu-west-2", "eu-central-1"),
    ("ap-northeast-1", "ap-northeast-3"),
];

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub association_id: String,
    pub resource_type: String,
    pub config: Value,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub alias: Option<String>,
    pub identity_management_type: String,
    pub created: f64,
    pub ready_at: Instant,
    pub attributes: BTreeMap<String, String>,
    pub storage: Vec<StorageConfig>,
    /// Set on a replica: the region it was replicated from.
    pub source_region: Option<String>,
    /// Set on a source: the region of its replica.
    pub replica_region: Option<String>,
    /// Set on a replica whose replication failed: ReplicationStatusReason.
    pub replication_failure: Option<String>,
    pub tags: Map<String, Value>,
}

impl Instance {
    pub fn status(&self, now: Instant) -> &'static str {
        match (ready(now, self.ready_at), &self.replication_failure) {
            (false, _) => "CREATION_IN_PROGRESS",
            (true, Some(_)) => "CREATION_FAILED",
            (true, None) => "ACTIVE",
        }
    }
    /// The attributes a new instance has.
    pub(crate) fn default_attributes(inbound: bool, outbound: bool) -> BTreeMap<String, String> {
        let mut attributes: BTreeMap<String, String> = ATTRIBUTE_TYPES.iter().map(|a| (a.to_string(), "false".to_string())).collect();
        attributes.insert("INBOUND_CALLS".into(), inbound.to_string());
        attributes.insert("OUTBOUND_CALLS".into(), outbound.to_string());
        attributes.insert("CONTACT_LENS".into(), "true".into());
        attributes.insert("AUTO_RESOLVE_BEST_VOICES".into(), "true".into());
        attributes.insert("EARLY_MEDIA".into(), "true".into());
        attributes
    }
    pub(crate) fn flag(&self, attr: &str) -> bool {
        self.attributes.get(attr).is_some_and(|v| v == "true")
    }
    fn summary(&self, env: &SimEnv) -> Value {
        let mut v = json!({
            "Id": self.id,
            "Arn": self.arn,
            "IdentityManagementType": self.identity_management_type,
            "CreatedTime": self.created,
            "ServiceRole": format!("arn:aws:iam::{}:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect", env.account),
            "InstanceStatus": self.status(env.now),
            "InboundCallsEnabled": self.flag("INBOUND_CALLS"),
            "OutboundCallsEnabled": self.flag("OUTBOUND_CALLS"),
        });
        if let Some(alias) = &self.alias {
            v["InstanceAlias"] = json!(alias);
            v["InstanceAccessUrl"] = json!(format!("https://{alias}.my.connect.aws"));
        }
        v
    }
}

fn bool_member(body: &Value, name: &str) -> Result<bool, ApiError> {
    body.get(name).and_then(|v| v.as_bool()).ok_or_else(|| ApiError::invalid_request(format!("{name} is required and must be a boolean")))
}

impl Connect {
    /// The instance named by its id, as seen from `env.region`. Operations
    /// outside Global Resiliency take the id only: their InstanceId is "The
    /// identifier of the Amazon Connect instance" (shape InstanceId, at most
    /// 100 characters, no ARN form), unlike ReplicateInstance and the traffic
    /// distribution group operations (InstanceIdOrArn: "You can provide the
    /// InstanceId, or the entire ARN")
    /// (https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeInstance.html).
    pub(crate) fn instance_key(&self, env: &SimEnv, id: &str) -> Result<(String, String), ApiError> {
        if parse_arn(id).is_some() {
            return Err(ApiError::not_found(format!("Instance {id} not found: InstanceId takes the instance id, not its ARN")));
        }
        let key = (env.region.to_string(), id.to_string());
        if self.instances.contains_key(&key) {
            Ok(key)
        } else {
            Err(ApiError::not_found(format!("Instance {id} not found in {}", env.region)))
        }
    }

    /// The instance named by an id or ARN (InstanceIdOrArn), from `env.region`.
    pub(crate) fn instance_key_or_arn(&self, env: &SimEnv, id_or_arn: &str) -> Result<(String, String), ApiError> {
        match parse_arn(id_or_arn) {
            Some((region, resource)) => {
                let id = resource.strip_prefix("instance/").filter(|_| region == env.region);
                let id = id.ok_or_else(|| ApiError::not_found(format!("Instance {id_or_arn} not found in {}", env.region)))?;
                self.instance_key(env, id)
            }
            None => self.instance_key(env, id_or_arn),
        }
    }

    pub(crate) fn instance(&self, env: &SimEnv, id: &str) -> Result<&Instance, ApiError> {
        let key = self.instance_key(env, id)?;
        Ok(&self.instances[&key])
    }

    pub(crate) fn instance_or_arn(&self, env: &SimEnv, id_or_arn: &str) -> Result<&Instance, ApiError> {
        let key = self.instance_key_or_arn(env, id_or_arn)?;
        Ok(&self.instances[&key])
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateInstance.html
    pub(crate) fn create_instance(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let b = &req.body;
        let idm = req.s("IdentityManagementType").ok_or_else(|| ApiError::invalid_request("IdentityManagementType is required"))?;
        if !["SAML", "CONNECT_MANAGED", "EXISTING_DIRECTORY"].contains(&idm.as_str()) {
            return Err(ApiError::invalid_request(format!(
                "IdentityManagementType {idm} is not one of SAML, CONNECT_MANAGED, EXISTING_DIRECTORY"
            )));
        }
        let inbound = bool_member(b, "InboundCallsEnabled")?;
        let outbound = bool_member(b, "OutboundCallsEnabled")?;
        let alias = req.s("InstanceAlias");
        if idm == "EXISTING_DIRECTORY" {
            if req.s("DirectoryId").is_none() {
                return Err(ApiError::invalid_request("DirectoryId is required with EXISTING_DIRECTORY"));
            }
        } else if alias.is_none() {
            return Err(ApiError::invalid_request("InstanceAlias is required unless IdentityManagementType is EXISTING_DIRECTORY"));
        }
        if let Some(a) = &alias {
            // DirectoryAlias: ^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$, 1..45 chars.
            let ok = (1..=45).contains(&a.len())
                && !a.starts_with("d-")
                && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && a.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && a.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
            if !ok {
                return Err(ApiError::invalid_request(format!("InstanceAlias {a:?} is not a valid alias")));
            }
            if self.instances.values().any(|i| i.alias.as_deref() == Some(a)) {
                return Err(ApiError::invalid_request(format!("An instance with alias {a} already exists")));
            }
        }
        let token = req.s("ClientToken");
        let input = b.clone();
        self.idempotent(
            env,
            "CreateInstance",
            token,
            &input,
            || ApiError::invalid_request("ClientToken was used with different parameters"),
            |c| {
                let id = new_id();
                let arn = arn(env, env.region, &format!("instance/{id}"));
                let attributes = Instance::default_attributes(inbound, outbound);
                let inst = Instance {
                    id: id.clone(),
                    arn: arn.clone(),
                    region: env.region.to_string(),
                    alias: alias.clone(),
                    identity_management_type: idm.clone(),
                    created: epoch_now(),
                    ready_at: env.ready_at("connect", "instance"),
                    attributes,
                    storage: Vec::new(),
                    source_region: None,
                    replica_region: None,
                    replication_failure: None,
                    tags: tags_of(&input, "Tags"),
                };
                c.instances.insert((env.region.to_string(), id.clone()), inst);
                c.seed_instance_objects(env.account, env.region, &id);
                c.newborn(env, env.region, &id);
                Ok(json!({ "Id": id, "Arn": arn }))
            },
        )
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeInstance.html
    pub(crate) fn describe_instance(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let inst = self.instance(env, req.seg(1))?;
        let mut v = inst.summary(env);
        v["Tags"] = Value::Object(inst.tags.clone());
        let mut out = json!({ "Instance": v });
        let (source, replica) = match (&inst.source_region, &inst.replica_region) {
            (Some(src), _) => (Some(src.clone()), Some(inst.region.clone())),
            (None, Some(rep)) => (Some(inst.region.clone()), Some(rep.clone())),
            _ => (None, None),
        };
        if let (Some(source), Some(replica)) = (source, replica) {
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicationStatusSummary.html
            let replica_inst = &self.instances[&(replica.clone(), inst.id.clone())];
            let mut summary = json!({ "Region": replica });
            match (&replica_inst.replication_failure, ready(env.now, replica_inst.ready_at)) {
                (_, false) => summary["ReplicationStatus"] = json!("INSTANCE_REPLICATION_IN_PROGRESS"),
                (Some(reason), true) => {
                    summary["ReplicationStatus"] = json!("INSTANCE_REPLICATION_FAILED");
                    summary["ReplicationStatusReason"] = json!(reason);
                }
                (None, true) => summary["ReplicationStatus"] = json!("INSTANCE_REPLICATION_COMPLETE"),
            }
            let src_alias = self.instances[&(source.clone(), inst.id.clone())].alias.clone().unwrap_or_default();
            out["ReplicationConfiguration"] = json!({
                "ReplicationStatusSummaryList": [summary],
                "SourceRegion": source,
                "GlobalSignInEndpoint": format!("https://{src_alias}.awsapps.com/connect/login"),
            });
        }
        Ok(out)
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListInstances.html
    pub(crate) fn list_instances(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let all: Vec<Value> = self.instances.values().filter(|i| i.region == env.region).map(|i| i.summary(env)).collect();
        let (items, next) = page(all, req, 10);
        let mut out = json!({ "InstanceSummaryList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DeleteInstance.html
    /// A replicated instance must lose its replica first (and a replica is
    /// deleted in its own region).
    pub(crate) fn delete_instance(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let key = self.instance_key(env, req.seg(1))?;
        let inst = &self.instances[&key];
        if inst.replica_region.is_some() {
            return Err(ApiError::invalid_request("The instance has a replica; delete the replica instance in its Region first"));
        }
        let id = inst.id.clone();
        if let Some(src) = inst.source_region.clone() {
            // "The default traffic distribution group is deleted as part of the
            // process for deleting a replica" (API_DeleteTrafficDistributionGroup.html);
            // the pair is unlinked and copies on their way are dropped.
            if let Some(s) = self.instances.get_mut(&(src.clone(), id.clone())) {
                s.replica_region = None;
            }
            let src_arn = self.instances.get(&(src, id.clone())).map(|s| s.arn.clone()).unwrap_or_default();
            let gone: Vec<String> = self.groups.values().filter(|g| g.instance_arn == src_arn).map(|g| g.id.clone()).collect();
            self.groups.retain(|_, g| g.instance_arn != src_arn);
            for g in gone {
                self.group_users.remove(&g);
            }
            self.mirrors.retain(|m| m.instance != id);
        } else {
            let arn = inst.arn.clone();
            self.groups.retain(|_, g| g.instance_arn != arn);
            self.numbers.retain(|_, n| n.target_arn != arn);
        }
        self.instances.remove(&key);
        self.objects.retain(|(r, i, _, _), _| !(r == &key.0 && i == &id));
        Ok(empty())
    }

    fn attribute_type(req: &RestRequest) -> Result<String, ApiError> {
        let t = req.seg(3).to_string();
        if ATTRIBUTE_TYPES.contains(&t.as_str()) {
            Ok(t)
        } else {
            Err(ApiError::invalid_parameter(format!("AttributeType {t} is not valid")))
        }
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateInstanceAttribute.html
    pub(crate) fn update_instance_attribute(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let key = self.instance_key(env, req.seg(1))?;
        let t = Self::attribute_type(req)?;
        let value = req.s("Value").ok_or_else(|| ApiError::invalid_parameter("Value is required"))?;
        if value != "true" && value != "false" {
            return Err(ApiError::invalid_parameter(format!("Value {value:?} for {t} must be true or false")));
        }
        self.instances.get_mut(&key).expect("checked").attributes.insert(t, value);
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeInstanceAttribute.html
    pub(crate) fn describe_instance_attribute(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let inst = self.instance(env, req.seg(1))?;
        let t = Self::attribute_type(req)?;
        Ok(json!({ "Attribute": { "AttributeType": t, "Value": inst.attributes.get(&t).cloned().unwrap_or_else(|| "false".into()) } }))
    }

    pub(crate) fn list_instance_attributes(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let inst = self.instance(env, req.seg(1))?;
        let all: Vec<Value> = inst.attributes.iter().map(|(k, v)| json!({ "AttributeType": k, "Value": v })).collect();
        let (items, next) = page(all, req, 14);
        let mut out = json!({ "Attributes": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    fn resource_type(t: Option<&str>) -> Result<String, ApiError> {
        const TYPES: &[&str] = &[
            "CHAT_TRANSCRIPTS",
            "CALL_RECORDINGS",
            "SCHEDULED_REPORTS",
            "MEDIA_STREAMS",
            "CONTACT_TRACE_RECORDS",
            "AGENT_EVENTS",
            "REAL_TIME_CONTACT_ANALYSIS_SEGMENTS",
            "ATTACHMENTS",
            "CONTACT_EVALUATIONS",
            "SCREEN_RECORDINGS",
            "REAL_TIME_CONTACT_ANALYSIS_CHAT_SEGMENTS",
            "REAL_TIME_CONTACT_ANALYSIS_VOICE_SEGMENTS",
            "EMAIL_MESSAGES",
        ];
        let t = t.ok_or_else(|| ApiError::invalid_request("ResourceType is required"))?;
        if TYPES.contains(&t) {
            Ok(t.to_string())
        } else {
            Err(ApiError::invalid_request(format!("ResourceType {t} is not valid")))
        }
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateInstanceStorageConfig.html
    /// CONTACT_TRACE_RECORDS and AGENT_EVENTS stream only to Kinesis
    /// (StorageType KINESIS_STREAM with KinesisStreamConfig.StreamArn).
    pub(crate) fn associate_storage(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let key = self.instance_key(env, req.seg(1))?;
        let rt = Self::resource_type(req.body.get("ResourceType").and_then(|v| v.as_str()))?;
        let cfg = req.body.get("StorageConfig").cloned().ok_or_else(|| ApiError::invalid_request("StorageConfig is required"))?;
        let st = cfg
            .get("StorageType")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ApiError::invalid_parameter("StorageConfig.StorageType is required"))?;
        let member = match st {
            "S3" => "S3Config",
            "KINESIS_VIDEO_STREAM" => "KinesisVideoStreamConfig",
            "KINESIS_STREAM" => "KinesisStreamConfig",
            "KINESIS_FIREHOSE" => "KinesisFirehoseConfig",
            other => return Err(ApiError::invalid_parameter(format!("StorageType {other} is not valid"))),
        };
        if cfg.get(member).is_none() {
            return Err(ApiError::invalid_parameter(format!("StorageType {st} needs {member}")));
        }
        if matches!(rt.as_str(), "CONTACT_TRACE_RECORDS" | "AGENT_EVENTS") {
            if st != "KINESIS_STREAM" && !(rt == "CONTACT_TRACE_RECORDS" && st == "KINESIS_FIREHOSE") {
                return Err(ApiError::invalid_parameter(format!("{rt} can only be stored in KINESIS_STREAM")));
            }
            if st == "KINESIS_STREAM" {
                let stream = cfg[member].get("StreamArn").and_then(|v| v.as_str()).unwrap_or("");
                if !stream.starts_with("arn:aws:kinesis:") || !stream.contains(":stream/") {
                    return Err(ApiError::invalid_parameter(format!(
                        "KinesisStreamConfig.StreamArn {stream:?} is not a Kinesis stream ARN"
                    )));
                }
            }
        }
        let inst = self.instances.get_mut(&key).expect("checked");
        if matches!(rt.as_str(), "CONTACT_TRACE_RECORDS" | "AGENT_EVENTS") && inst.storage.iter().any(|s| s.resource_type == rt) {
            return Err(ApiError::conflict(format!("{rt} already has a storage config")));
        }
        let association_id = uuid::Uuid::new_v4().simple().to_string();
        let mut config = cfg.clone();
        config["AssociationId"] = json!(association_id);
        inst.storage.push(StorageConfig { association_id: association_id.clone(), resource_type: rt, config });
        Ok(json!({ "AssociationId": association_id }))
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListInstanceStorageConfigs.html
    pub(crate) fn list_storage(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let inst = self.instance(env, req.seg(1))?;
        let rt = Self::resource_type(req.q("resourceType"))?;
        let all: Vec<Value> = inst.storage.iter().filter(|s| s.resource_type == rt).map(|s| s.config.clone()).collect();
        let (items, next) = page(all, req, 10);
        let mut out = json!({ "StorageConfigs": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    pub(crate) fn describe_storage(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let inst = self.instance(env, req.seg(1))?;
        let rt = Self::resource_type(req.q("resourceType"))?;
        let s = inst
            .storage
            .iter()
            .find(|s| s.association_id == req.seg(3) && s.resource_type == rt)
            .ok_or_else(|| ApiError::not_found(format!("Storage config {} not found", req.seg(3))))?;
        Ok(json!({ "StorageConfig": s.config }))
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociateInstanceStorageConfig.html
    pub(crate) fn disassociate_storage(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let key = self.instance_key(env, req.seg(1))?;
        let rt = Self::resource_type(req.q("resourceType"))?;
        let inst = self.instances.get_mut(&key).expect("checked");
        let before = inst.storage.len();
        inst.storage.retain(|s| !(s.association_id == req.seg(3) && s.resource_type == rt));
        if inst.storage.len() == before {
            return Err(ApiError::not_found(format!("Storage config {} not found", req.seg(3))));
        }
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicateInstance.html
    /// https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html:
    /// "A ReplicateInstance API call fails with an InvalidRequestException" when
    /// the replica Region is the source's, the instance was already
    /// replicated, has no alias, is not ACTIVE, or "does not have SAML
    /// enabled"; allowed pairs only; the replica keeps the source's instance
    /// id; a default traffic distribution group is created; the configuration
    /// is copied and then kept in sync (see `mirror`); "All phone numbers on
    /// the source instance that aren't already associated to number groups
    /// are automatically added to the default traffic distribution group."
    pub(crate) fn replicate_instance(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let key = self.instance_key_or_arn(env, req.seg(1))?;
        let replica_region = req.s("ReplicaRegion").ok_or_else(|| ApiError::invalid_request("ReplicaRegion is required"))?;
        let replica_alias = req.s("ReplicaAlias").ok_or_else(|| ApiError::invalid_request("ReplicaAlias is required"))?;
        let token = req.s("ClientToken");
        let input = json!({ "InstanceId": key.1, "ReplicaRegion": replica_region, "ReplicaAlias": replica_alias });
        self.idempotent(env, "ReplicateInstance", token, &input, || ApiError::conflict("ClientToken was used with different parameters"), |c| {
            let src = &c.instances[&key];
            if replica_region == env.region {
                return Err(ApiError::invalid_request(format!("The replica Region must differ from the instance's Region ({})", env.region)));
            }
            if !REPLICATION_PAIRS.contains(&(env.region, replica_region.as_str())) {
                return Err(ApiError::invalid_request(format!(
                    "Replication from {} to {replica_region} is not supported; supported pairs: us-east-1<->us-west-2, eu-central-1<->eu-west-2, ap-northeast-1->ap-northeast-3",
                    env.region
                )));
            }
            if src.source_region.is_some() {
                return Err(ApiError::invalid_request("The instance is itself a replica and cannot be replicated"));
            }
            if src.replica_region.is_some() {
                return Err(ApiError::invalid_request("The instance was already replicated as part of a different ReplicateInstance API call"));
            }
            if src.alias.is_none() {
                return Err(ApiError::invalid_request("The instance does not have an alias"));
            }
            if src.status(env.now) != "ACTIVE" {
                return Err(ApiError::invalid_request(format!("The instance is not in ACTIVE status (it is {})", src.status(env.now))));
            }
            if src.identity_management_type != "SAML" {
                return Err(ApiError::invalid_request(format!(
                    "The instance does not have SAML enabled (IdentityManagementType is {}); only SAML instances can be replicated",
                    src.identity_management_type
                )));
            }
            if c.instances.values().any(|i| i.alias.as_deref() == Some(replica_alias.as_str())) {
                return Err(ApiError::conflict(format!("An instance with alias {replica_alias} already exists")));
            }
            let src = src.clone();
            let replica_arn = format!("arn:aws:connect:{replica_region}:{}:instance/{}", env.account, src.id);
            let replica_ready = env.ready_at("connect", "replica");
            let failure = c.replication_failures.remove(&replica_region);
            let replica = Instance {
                arn: replica_arn.clone(),
                region: replica_region.clone(),
                alias: Some(replica_alias.clone()),
                created: epoch_now(),
                ready_at: replica_ready,
                storage: Vec::new(),
                // Instance attributes are not mirrored: the replica starts with the defaults.
                attributes: Instance::default_attributes(src.flag("INBOUND_CALLS"), src.flag("OUTBOUND_CALLS")),
                source_region: Some(src.region.clone()),
                replica_region: None,
                replication_failure: failure.clone(),
                ..src.clone()
            };
            c.instances.insert((replica_region.clone(), src.id.clone()), replica);
            c.instances.get_mut(&key).expect("checked").replica_region = Some(replica_region.clone());
            c.newborn(env, &replica_region, &src.id);
            if failure.is_some() {
                return Ok(json!({ "Id": src.id, "Arn": replica_arn }));
            }
            // The configuration lands in the replica when it is ready.
            let objects: Vec<(String, String)> = c.objects.keys().filter(|(r, i, _, _)| *r == src.region && *i == src.id).map(|(_, _, k, id)| (k.clone(), id.clone())).collect();
            for (kind, id) in objects {
                c.mirror_object(env, &src.id, &kind, &id);
            }
            let numbers: Vec<(String, String)> = c.numbers.values().filter(|n| n.region == src.region).filter_map(|n| n.flows.get(&src.region).filter(|(i, _)| *i == src.id).map(|(_, f)| (n.id.clone(), f.clone()))).collect();
            let group_arn = c.create_default_group(env, &src, replica_ready);
            for n in c.numbers.values_mut().filter(|n| n.target_arn == src.arn) {
                if let Some(g) = &group_arn {
                    n.target_arn = g.clone();
                    n.other_region = Some(replica_region.clone());
                    n.instance_id = None;
                }
            }
            for (number, flow) in numbers {
                c.mirror(env, &src.id, super::mirror::Mirrored::NumberFlow { number, flow: Some(flow) });
            }
            Ok(json!({ "Id": src.id, "Arn": replica_arn }))
        })
    }
}
