//! Amazon Connect (restJson1), following the Amazon Connect API Reference
//! (https://docs.aws.amazon.com/connect/latest/APIReference/): URIs, JSON
//! member names, status codes and error names as the service model defines
//! them. One state spans all regions, because Global Resiliency links them.

mod instance;
mod mirror;
mod objects;
mod phone;
mod tdg;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::Method;
use serde_json::{json, Map, Value};

use crate::env::SimEnv;
use crate::error::ApiError;

pub use instance::Instance;
pub use phone::{AvailableNumber, PhoneNumber};
pub use tdg::TrafficDistributionGroup;

/// A restJson1 request: decoded path segments, query pairs, JSON body.
pub struct RestRequest {
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Value,
}

impl RestRequest {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn seg(&self, i: usize) -> &str {
        self.segments.get(i).map(|s| s.as_str()).unwrap_or("")
    }
    pub fn s(&self, name: &str) -> Option<String> {
        self.body.get(name).and_then(|v| v.as_str()).map(|s| s.to_string())
    }
}

/// The path split on `/`, each segment percent-decoded (ARNs arrive encoded).
pub fn segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// The operation a method + path names (None: not served here).
pub fn operation(method: &Method, segs: &[String]) -> Option<&'static str> {
    let s: Vec<&str> = segs.iter().map(|s| s.as_str()).collect();
    Some(match (method.as_str(), s.as_slice()) {
        ("PUT", ["instance"]) => "CreateInstance",
        ("GET", ["instance"]) => "ListInstances",
        ("GET", ["instance", _]) => "DescribeInstance",
        ("DELETE", ["instance", _]) => "DeleteInstance",
        ("POST", ["instance", _, "attribute", _]) => "UpdateInstanceAttribute",
        ("GET", ["instance", _, "attribute", _]) => "DescribeInstanceAttribute",
        ("GET", ["instance", _, "attributes"]) => "ListInstanceAttributes",
        ("PUT", ["instance", _, "storage-config"]) => "AssociateInstanceStorageConfig",
        ("GET", ["instance", _, "storage-configs"]) => "ListInstanceStorageConfigs",
        ("GET", ["instance", _, "storage-config", _]) => "DescribeInstanceStorageConfig",
        ("DELETE", ["instance", _, "storage-config", _]) => "DisassociateInstanceStorageConfig",
        ("POST", ["instance", _, "replicate"]) => "ReplicateInstance",
        ("PUT", ["traffic-distribution-group"]) => "CreateTrafficDistributionGroup",
        ("GET", ["traffic-distribution-group", _]) => "DescribeTrafficDistributionGroup",
        ("DELETE", ["traffic-distribution-group", _]) => "DeleteTrafficDistributionGroup",
        ("GET", ["traffic-distribution-groups"]) => "ListTrafficDistributionGroups",
        ("PUT", ["traffic-distribution-group", _, "user"]) => "AssociateTrafficDistributionGroupUser",
        ("DELETE", ["traffic-distribution-group", _, "user"]) => "DisassociateTrafficDistributionGroupUser",
        ("GET", ["traffic-distribution-group", _, "user"]) => "ListTrafficDistributionGroupUsers",
        ("PUT", ["traffic-distribution", _]) => "UpdateTrafficDistribution",
        ("GET", ["traffic-distribution", _]) => "GetTrafficDistribution",
        ("POST", ["phone-number", "search-available"]) => "SearchAvailablePhoneNumbers",
        ("POST", ["phone-number", "claim"]) => "ClaimPhoneNumber",
        ("POST", ["phone-number", "list"]) => "ListPhoneNumbersV2",
        ("GET", ["phone-number", _]) => "DescribePhoneNumber",
        ("DELETE", ["phone-number", _]) => "ReleasePhoneNumber",
        ("PUT", ["phone-number", _]) => "UpdatePhoneNumber",
        ("PUT", ["phone-number", _, "contact-flow"]) => "AssociatePhoneNumberContactFlow",
        ("DELETE", ["phone-number", _, "contact-flow"]) => "DisassociatePhoneNumberContactFlow",
        ("GET", ["flow-associations-summary", _]) => "ListFlowAssociations",
        _ => return objects::operation(method.as_str(), &s),
    })
}

/// Idempotency records: (operation, region, token) -> (input, answer).
type TokenKey = (String, String, String);

#[derive(Default)]
pub struct Connect {
    /// (region, instance id) -> instance. A replica shares its source's id.
    pub(crate) instances: BTreeMap<(String, String), Instance>,
    pub(crate) groups: BTreeMap<String, TrafficDistributionGroup>,
    pub(crate) numbers: BTreeMap<String, PhoneNumber>,
    /// Seeded available numbers per region (unseeded regions offer a built-in pool).
    pub(crate) available: HashMap<String, Vec<AvailableNumber>>,
    /// Released numbers: in their cooldown of up to 180 days (not offered, not claimable).
    pub(crate) cooldown: HashSet<String>,
    tokens: HashMap<TokenKey, (Value, Value)>,
    /// Instance-scoped objects (hours, queues, flows, routing profiles, users,
    /// security profiles): (region, instance id, kind, id) -> description.
    pub(crate) objects: BTreeMap<(String, String, String, String), Value>,
    /// Tags by resource ARN, for resources kept as plain descriptions.
    pub(crate) tags: HashMap<String, Map<String, Value>>,
    /// Copies on their way to the other region of a replicated instance.
    pub(crate) mirrors: Vec<mirror::Mirror>,
    /// (region, id) -> until when reads of a just-made resource answer
    /// NotFound (the eventual-consistency knob).
    pub(crate) born: HashMap<(String, String), Instant>,
    /// Traffic distribution group id -> the users associated with it.
    pub(crate) group_users: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Replica region -> why the next ReplicateInstance into it fails (admin API).
    pub(crate) replication_failures: HashMap<String, String>,
}

/// Seconds since the epoch, as the SDKs read Connect timestamps.
pub(crate) fn epoch_now() -> f64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn arn(env: &SimEnv, region: &str, resource: &str) -> String {
    format!("arn:aws:connect:{region}:{}:{resource}", env.account)
}

/// `arn:aws:connect:REGION:ACCOUNT:RESOURCE` -> (region, resource).
pub(crate) fn parse_arn(s: &str) -> Option<(String, String)> {
    let mut it = s.splitn(6, ':');
    let (a, _partition, service, region, _account, resource) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    (a == "arn" && service == "connect").then(|| (region.to_string(), resource.to_string()))
}

pub(crate) fn ready(now: Instant, at: Instant) -> bool {
    now >= at
}

pub(crate) fn tags_of(body: &Value, member: &str) -> Map<String, Value> {
    body.get(member).and_then(|t| t.as_object()).cloned().unwrap_or_default()
}

pub(crate) fn page<T: Clone>(items: Vec<T>, req: &RestRequest, max_default: usize) -> (Vec<T>, Option<String>) {
    let start: usize = req.q("nextToken").or(req.body.get("NextToken").and_then(|v| v.as_str())).and_then(|t| t.parse().ok()).unwrap_or(0);
    let max = req
        .q("maxResults")
        .and_then(|m| m.parse().ok())
        .or(req.body.get("MaxResults").and_then(|v| v.as_u64()).map(|v| v as usize))
        .unwrap_or(max_default)
        .max(1);
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items.get(start..end).map(|s| s.to_vec()).unwrap_or_default(), next)
}

impl Connect {
    pub fn handle(&mut self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<Value, ApiError> {
        self.settle(env.now);
        self.hide_newborn(env, op, req)?;
        match op {
            "CreateInstance" => self.create_instance(env, req),
            "ListInstances" => self.list_instances(env, req),
            "DescribeInstance" => self.describe_instance(env, req),
            "DeleteInstance" => self.delete_instance(env, req),
            "UpdateInstanceAttribute" => self.update_instance_attribute(env, req),
            "DescribeInstanceAttribute" => self.describe_instance_attribute(env, req),
            "ListInstanceAttributes" => self.list_instance_attributes(env, req),
            "AssociateInstanceStorageConfig" => self.associate_storage(env, req),
            "ListInstanceStorageConfigs" => self.list_storage(env, req),
            "DescribeInstanceStorageConfig" => self.describe_storage(env, req),
            "DisassociateInstanceStorageConfig" => self.disassociate_storage(env, req),
            "ReplicateInstance" => self.replicate_instance(env, req),
            "CreateTrafficDistributionGroup" => self.create_tdg(env, req),
            "DescribeTrafficDistributionGroup" => self.describe_tdg(env, req),
            "DeleteTrafficDistributionGroup" => self.delete_tdg(env, req),
            "ListTrafficDistributionGroups" => self.list_tdgs(env, req),
            "AssociateTrafficDistributionGroupUser" => self.associate_group_user(env, req),
            "DisassociateTrafficDistributionGroupUser" => self.disassociate_group_user(env, req),
            "ListTrafficDistributionGroupUsers" => self.list_group_users(env, req),
            "UpdateTrafficDistribution" => self.update_distribution(env, req),
            "GetTrafficDistribution" => self.get_distribution(env, req),
            "SearchAvailablePhoneNumbers" => self.search_available(env, req),
            "ClaimPhoneNumber" => self.claim_number(env, req),
            "ListPhoneNumbersV2" => self.list_numbers(env, req),
            "DescribePhoneNumber" => self.describe_number(env, req),
            "ReleasePhoneNumber" => self.release_number(env, req),
            "UpdatePhoneNumber" => self.update_number(env, req),
            "AssociatePhoneNumberContactFlow" => self.associate_flow(env, req),
            "DisassociatePhoneNumberContactFlow" => self.disassociate_flow(env, req),
            "ListFlowAssociations" => self.list_flow_associations(env, req),
            _ => self.handle_object(env, op, req),
        }
    }

    /// Eventual consistency: a Describe of something made less than the
    /// configured window ago answers ResourceNotFoundException.
    fn hide_newborn(&self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<(), ApiError> {
        let seg = match op {
            "DescribeInstance" | "DescribeTrafficDistributionGroup" | "GetTrafficDistribution" | "DescribePhoneNumber" => req.seg(1),
            "DescribeHoursOfOperation" | "DescribeQueue" | "DescribeContactFlow" | "DescribeRoutingProfile" | "DescribeUser" => req.seg(2),
            _ => return Ok(()),
        };
        let id = seg.rsplit('/').next().unwrap_or(seg);
        match self.born.get(&(env.region.to_string(), id.to_string())) {
            Some(visible) if !ready(env.now, *visible) => {
                Err(ApiError::not_found(format!("{id} not found (made a moment ago; reads are eventually consistent)")))
            }
            _ => Ok(()),
        }
    }

    /// Note a create, for [`Self::hide_newborn`].
    pub(crate) fn newborn(&mut self, env: &SimEnv, region: &str, id: &str) {
        let visible = env.visible_at("connect");
        if visible > env.now {
            self.born.insert((region.to_string(), id.to_string()), visible);
        }
    }

    /// Runs `f` once per client token: a repeated token with the same input
    /// returns the first answer; with another input, `conflict` is returned.
    pub(crate) fn idempotent(
        &mut self,
        env: &SimEnv,
        op: &str,
        token: Option<String>,
        input: &Value,
        conflict: impl FnOnce() -> ApiError,
        f: impl FnOnce(&mut Self) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let Some(token) = token else { return f(self) };
        let key = (op.to_string(), env.region.to_string(), token);
        if let Some((seen, answer)) = self.tokens.get(&key) {
            return if seen == input { Ok(answer.clone()) } else { Err(conflict()) };
        }
        let answer = f(self)?;
        self.tokens.insert(key, (input.clone(), answer.clone()));
        Ok(answer)
    }

    pub fn seed_numbers(&mut self, region: &str, numbers: Vec<AvailableNumber>) {
        self.available.entry(region.to_string()).or_default().extend(numbers);
    }
}

/// Empty answer body of operations with no output members.
pub(crate) fn empty() -> Value {
    json!({})
}
