//! Traffic distribution groups and traffic distribution (Global Resiliency).
//! https://docs.aws.amazon.com/connect/latest/adminguide/setup-traffic-distribution-groups.html

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::instance::Instance;
use super::{arn, empty, new_id, page, parse_arn, ready, tags_of, Connect, RestRequest};
use crate::env::SimEnv;
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct TrafficDistributionGroup {
    pub id: String,
    pub arn: String,
    /// Where it was created: the source Region of the replicated instance.
    pub region: String,
    /// The other linked Region (the replica's).
    pub replica_region: String,
    pub name: String,
    pub description: Option<String>,
    pub instance_arn: String,
    pub is_default: bool,
    pub ready_at: Instant,
    pub update_ready_at: Option<Instant>,
    pub deleting_until: Option<Instant>,
    pub telephony: Vec<(String, i64)>,
    pub agents: Vec<(String, i64)>,
    pub sign_in: Vec<(String, bool)>,
    pub tags: Map<String, Value>,
}

impl TrafficDistributionGroup {
    pub fn status(&self, now: Instant) -> &'static str {
        if self.deleting_until.is_some() {
            "PENDING_DELETION"
        } else if !ready(now, self.ready_at) {
            "CREATION_IN_PROGRESS"
        } else if self.update_ready_at.is_some_and(|t| !ready(now, t)) {
            "UPDATE_IN_PROGRESS"
        } else {
            "ACTIVE"
        }
    }
    fn gone(&self, now: Instant) -> bool {
        self.deleting_until.is_some_and(|t| ready(now, t))
    }
    fn describe(&self, now: Instant) -> Value {
        let mut v = json!({
            "Id": self.id, "Arn": self.arn, "Name": self.name, "InstanceArn": self.instance_arn,
            "Status": self.status(now), "Tags": self.tags, "IsDefault": self.is_default,
        });
        if let Some(d) = &self.description {
            v["Description"] = json!(d);
        }
        v
    }
    fn regions(&self) -> [&str; 2] {
        [&self.region, &self.replica_region]
    }
}

fn distribution(list: &[(String, i64)]) -> Value {
    json!({ "Distributions": list.iter().map(|(r, p)| json!({ "Region": r, "Percentage": p })).collect::<Vec<_>>() })
}

/// Validates a TelephonyConfig / AgentConfig: both linked Regions named once,
/// percentages in 10% steps, summing to 100
/// (https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateTrafficDistribution.html,
/// https://docs.aws.amazon.com/connect/latest/adminguide/setup-traffic-distribution-groups.html).
fn parse_percentages(member: &str, v: &Value, regions: [&str; 2]) -> Result<Vec<(String, i64)>, ApiError> {
    let list = v
        .get("Distributions")
        .and_then(|d| d.as_array())
        .ok_or_else(|| ApiError::invalid_request(format!("{member}.Distributions is required")))?;
    let mut out: Vec<(String, i64)> = Vec::new();
    for d in list {
        let region = d
            .get("Region")
            .and_then(|r| r.as_str())
            .ok_or_else(|| ApiError::invalid_request(format!("{member}: every distribution needs a Region")))?;
        let pct = d
            .get("Percentage")
            .and_then(|p| p.as_i64())
            .ok_or_else(|| ApiError::invalid_request(format!("{member}: every distribution needs a Percentage")))?;
        if !regions.contains(&region) {
            return Err(ApiError::invalid_request(format!(
                "{member}: Region {region} is not one of the group's Regions {} and {}",
                regions[0], regions[1]
            )));
        }
        if out.iter().any(|(r, _)| r == region) {
            return Err(ApiError::invalid_request(format!("{member}: Region {region} is named twice")));
        }
        if !(0..=100).contains(&pct) || pct % 10 != 0 {
            return Err(ApiError::invalid_request(format!("{member}: Percentage {pct} for {region} must be 0 to 100 in increments of 10")));
        }
        out.push((region.to_string(), pct));
    }
    if out.len() != 2 {
        return Err(ApiError::invalid_request(format!("{member} must name both Regions {} and {}", regions[0], regions[1])));
    }
    let sum: i64 = out.iter().map(|(_, p)| p).sum();
    if sum != 100 {
        return Err(ApiError::invalid_request(format!("{member} percentages sum to {sum}, not 100")));
    }
    Ok(out)
}

impl Connect {
    /// The default group ReplicateInstance makes; returns its ARN.
    pub(crate) fn create_default_group(&mut self, env: &SimEnv, src: &Instance, replica_ready: Instant) -> Option<String> {
        let replica_region = src
            .replica_region
            .clone()
            .or_else(|| self.instances.get(&(src.region.clone(), src.id.clone())).and_then(|i| i.replica_region.clone()))?;
        let id = new_id();
        let group = TrafficDistributionGroup {
            arn: arn(env, &src.region, &format!("traffic-distribution-group/{id}")),
            id: id.clone(),
            region: src.region.clone(),
            replica_region: replica_region.clone(),
            name: format!("{}-default", src.alias.clone().unwrap_or_else(|| src.id.clone())),
            description: Some("Default traffic distribution group".into()),
            instance_arn: src.arn.clone(),
            is_default: true,
            ready_at: replica_ready.max(env.ready_at("connect", "traffic-distribution-group")),
            update_ready_at: None,
            deleting_until: None,
            telephony: vec![(src.region.clone(), 100), (replica_region.clone(), 0)],
            agents: vec![(src.region.clone(), 100), (replica_region.clone(), 0)],
            sign_in: vec![(src.region.clone(), true), (replica_region, true)],
            tags: Map::new(),
        };
        let arn = group.arn.clone();
        self.groups.insert(id, group);
        Some(arn)
    }

    fn purge_deleted_groups(&mut self, now: Instant) {
        self.groups.retain(|_, g| !g.gone(now));
    }

    /// The group named by id or ARN from `env.region`: in the group's own
    /// Region the id or the ARN; from the other linked Region only the ARN
    /// (https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateTrafficDistribution.html:
    /// "The identifier of the traffic distribution group. This can be the ID
    /// or the ARN if the API is being called in the Region where the traffic
    /// distribution group was created. The ARN must be provided if the call is
    /// from the replicated Region.").
    pub(crate) fn group_id(&mut self, env: &SimEnv, id_or_arn: &str) -> Result<String, ApiError> {
        self.purge_deleted_groups(env.now);
        let not_found = || ApiError::not_found(format!("Traffic distribution group {id_or_arn} not found in {}", env.region));
        match parse_arn(id_or_arn) {
            Some((_, resource)) => {
                let id = resource.strip_prefix("traffic-distribution-group/").ok_or_else(not_found)?;
                let g = self.groups.get(id).ok_or_else(not_found)?;
                if g.arn == id_or_arn && g.regions().contains(&env.region) {
                    Ok(id.to_string())
                } else {
                    Err(not_found())
                }
            }
            None => match self.groups.get(id_or_arn) {
                Some(g) if g.region == env.region => Ok(id_or_arn.to_string()),
                _ => Err(not_found()),
            },
        }
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateTrafficDistributionGroup.html
    /// Needs an instance that has been replicated, called in its source Region.
    pub(crate) fn create_tdg(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let name = req.s("Name").ok_or_else(|| ApiError::invalid_request("Name is required"))?;
        let valid_name = (1..=128).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        if !valid_name {
            return Err(ApiError::invalid_request(format!(
                "Name {name:?} must match (^[\\p{{L}}\\p{{Z}}\\p{{N}}\\-_.:=@'|]*$), 1-128 characters"
            )));
        }
        let instance_ref = req.s("InstanceId").ok_or_else(|| ApiError::invalid_request("InstanceId is required"))?;
        let key = self.instance_key_or_arn(env, &instance_ref)?;
        let token = req.s("ClientToken");
        let input = req.body.clone();
        self.idempotent(
            env,
            "CreateTrafficDistributionGroup",
            token,
            &input,
            || ApiError::conflict("ClientToken was used with different parameters"),
            |c| {
                let inst = c.instances[&key].clone();
                if inst.source_region.is_some() {
                    return Err(ApiError::invalid_request(
                        "Traffic distribution groups are created in the source Region of the replicated instance",
                    ));
                }
                let Some(replica_region) = inst.replica_region.clone() else {
                    return Err(ApiError::invalid_request(
                        "The ReplicateInstance API was not called before creating a traffic distribution group",
                    ));
                };
                let replica = &c.instances[&(replica_region.clone(), inst.id.clone())];
                if replica.status(env.now) != "ACTIVE" {
                    return Err(ApiError::new(
                        409,
                        "ResourceNotReadyException",
                        format!("The replica instance is {}, not ACTIVE", replica.status(env.now)),
                    ));
                }
                c.purge_deleted_groups(env.now);
                if c.groups.values().any(|g| g.instance_arn == inst.arn && g.name == name) {
                    return Err(ApiError::conflict(format!("A traffic distribution group named {name} already exists")));
                }
                if c.groups.values().filter(|g| g.instance_arn == inst.arn).count() >= 10 {
                    return Err(ApiError::new(
                        402,
                        "ServiceQuotaExceededException",
                        "The quota of traffic distribution groups per instance has been reached",
                    ));
                }
                let id = new_id();
                let arn = arn(env, env.region, &format!("traffic-distribution-group/{id}"));
                let group = TrafficDistributionGroup {
                    id: id.clone(),
                    arn: arn.clone(),
                    region: env.region.to_string(),
                    replica_region: replica_region.clone(),
                    name: name.clone(),
                    description: req.s("Description"),
                    instance_arn: inst.arn.clone(),
                    is_default: false,
                    ready_at: env.ready_at("connect", "traffic-distribution-group"),
                    update_ready_at: None,
                    deleting_until: None,
                    telephony: vec![(env.region.to_string(), 100), (replica_region.clone(), 0)],
                    agents: vec![(env.region.to_string(), 100), (replica_region.clone(), 0)],
                    sign_in: vec![(env.region.to_string(), true), (replica_region, true)],
                    tags: tags_of(&req.body, "Tags"),
                };
                c.groups.insert(id.clone(), group);
                c.newborn(env, env.region, &id);
                Ok(json!({ "Id": id, "Arn": arn }))
            },
        )
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeTrafficDistributionGroup.html
    pub(crate) fn describe_tdg(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.group_id(env, req.seg(1))?;
        Ok(json!({ "TrafficDistributionGroup": self.groups[&id].describe(env.now) }))
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListTrafficDistributionGroups.html
    pub(crate) fn list_tdgs(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        self.purge_deleted_groups(env.now);
        let filter = match req.q("instanceId") {
            Some(i) => Some(self.instance_key_or_arn(env, i)?.1),
            None => None,
        };
        let all: Vec<Value> = self
            .groups
            .values()
            .filter(|g| g.regions().contains(&env.region))
            .filter(|g| filter.as_deref().is_none_or(|id| g.instance_arn.ends_with(&format!("instance/{id}"))))
            .map(|g| {
                json!({ "Id": g.id, "Arn": g.arn, "Name": g.name, "InstanceArn": g.instance_arn, "Status": g.status(env.now), "IsDefault": g.is_default })
            })
            .collect();
        let (items, next) = page(all, req, 10);
        let mut out = json!({ "TrafficDistributionGroupSummaryList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DeleteTrafficDistributionGroup.html
    /// Only in the Region where the group was created; not the default group;
    /// ResourceInUseException while phone numbers are claimed to it.
    pub(crate) fn delete_tdg(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.group_id(env, req.seg(1))?;
        let g = &self.groups[&id];
        if g.region != env.region {
            return Err(ApiError::invalid_request(format!(
                "The traffic distribution group can only be deleted in {}, where it was created",
                g.region
            )));
        }
        if g.is_default {
            return Err(ApiError::invalid_request("The default traffic distribution group cannot be deleted"));
        }
        let claimed = self.numbers.values().filter(|n| n.target_arn == g.arn).count();
        if claimed > 0 {
            return Err(ApiError::in_use(format!(
                "{claimed} phone number(s) are claimed to the traffic distribution group; release them first"
            )));
        }
        let until = env.gone_at("connect", "traffic-distribution-group");
        self.group_users.remove(&id);
        let g = self.groups.get_mut(&id).expect("checked");
        g.deleting_until = Some(until);
        if ready(env.now, until) {
            self.groups.remove(&id);
        }
        Ok(empty())
    }

    /// UpdateTrafficDistribution "will fail with an InvalidRequestException"
    /// unless the group exists and is ACTIVE
    /// (https://docs.aws.amazon.com/connect/latest/adminguide/update-agents-across-regions.html).
    /// A change while the previous one is still UPDATE_IN_PROGRESS conflicts
    /// with it (ResourceConflictException, in the operation's error list).
    fn active_group(&mut self, env: &SimEnv, id_or_arn: &str) -> Result<String, ApiError> {
        let id = self.group_id(env, id_or_arn)?;
        match self.groups[&id].status(env.now) {
            "ACTIVE" => Ok(id),
            "UPDATE_IN_PROGRESS" => {
                Err(ApiError::conflict("The traffic distribution group is UPDATE_IN_PROGRESS: the previous change is still being applied"))
            }
            status => Err(ApiError::invalid_request(format!("The traffic distribution group is {status}, not ACTIVE"))),
        }
    }

    /// The group of a user association, named in its own (source) Region:
    /// "This API can be called only in the Region where the traffic
    /// distribution group is created", and "Assigning an agent to a traffic
    /// distribution group without an ACTIVE status results in
    /// ResourceNotFoundException"
    /// (https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateTrafficDistributionGroupUser.html,
    /// https://docs.aws.amazon.com/connect/latest/adminguide/associate-agents-across-regions.html).
    fn user_group(&mut self, env: &SimEnv, id_or_arn: &str) -> Result<String, ApiError> {
        let id = self.group_id(env, id_or_arn)?;
        let g = &self.groups[&id];
        if g.region != env.region {
            return Err(ApiError::invalid_request(format!(
                "Users are associated with the traffic distribution group in {}, where it was created",
                g.region
            )));
        }
        let status = g.status(env.now);
        if status != "ACTIVE" {
            return Err(ApiError::not_found(format!("The traffic distribution group is {status}, not ACTIVE")));
        }
        Ok(id)
    }

    /// The user (by id or ARN) of the group's source instance, which must
    /// also be in the replica: "You cannot associate users to a traffic
    /// distribution group when they are newly added to source instance and
    /// not yet in the replica"
    /// (create-replica-connect-instance.html#configure-replica-instance).
    fn group_user_id(&self, env: &SimEnv, group: &str, instance_ref: &str, user_ref: &str) -> Result<String, ApiError> {
        let g = &self.groups[group];
        let inst = self.instance(env, instance_ref)?;
        if inst.arn != g.instance_arn {
            return Err(ApiError::not_found(format!(
                "Instance {instance_ref} is not the source instance of traffic distribution group {}",
                g.id
            )));
        }
        let user = self
            .object_id(env.region, &inst.id, "user", user_ref)
            .map_err(|_| ApiError::not_found(format!("User {user_ref} is not a user of the source instance {}", inst.id)))?;
        if self.object_id(&g.replica_region, &inst.id, "user", &user).is_err() {
            return Err(ApiError::not_found(format!(
                "User {user} is not in the replica in {} yet (mirroring takes a moment); try again",
                g.replica_region
            )));
        }
        Ok(user)
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateTrafficDistributionGroupUser.html
    pub(crate) fn associate_group_user(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.user_group(env, req.seg(1))?;
        let instance = req.s("InstanceId").ok_or_else(|| ApiError::invalid_request("InstanceId is required"))?;
        let user = req.s("UserId").ok_or_else(|| ApiError::invalid_request("UserId is required"))?;
        let user = self.group_user_id(env, &id, &instance, &user)?;
        self.group_users.entry(id).or_default().insert(user);
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociateTrafficDistributionGroupUser.html
    /// (`UserId` and `InstanceId` travel in the query string).
    pub(crate) fn disassociate_group_user(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.user_group(env, req.seg(1))?;
        let instance = req.q("InstanceId").ok_or_else(|| ApiError::invalid_request("InstanceId is required"))?.to_string();
        let user = req.q("UserId").ok_or_else(|| ApiError::invalid_request("UserId is required"))?.to_string();
        let inst = self.instance(env, &instance)?;
        let user = user.rsplit('/').next().unwrap_or(&user).to_string();
        if inst.arn != self.groups[&id].instance_arn {
            return Err(ApiError::not_found(format!("Instance {instance} is not the source instance of the traffic distribution group")));
        }
        let removed = self.group_users.get_mut(&id).is_some_and(|u| u.remove(&user));
        if !removed {
            return Err(ApiError::not_found(format!("User {user} is not associated with the traffic distribution group")));
        }
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListTrafficDistributionGroupUsers.html
    pub(crate) fn list_group_users(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.group_id(env, req.seg(1))?;
        let all: Vec<Value> = self.group_users.get(&id).into_iter().flatten().map(|u| json!({ "UserId": u })).collect();
        let (items, next) = page(all, req, 10);
        let mut out = json!({ "TrafficDistributionGroupUserSummaryList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// Where each associated agent works now: the group's AgentConfig applied
    /// to its associated users (in id order), the only users it moves
    /// ("To allow your agents to sign-in to both AWS Regions and process
    /// contacts from either Region, you must first assign them to a traffic
    /// distribution group", associate-agents-across-regions.html). Not an AWS
    /// API: the sandbox's admin view (`GET /_tandem/connect/agents`).
    pub fn agent_regions(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .values()
            .map(|g| {
                let users: Vec<&String> = self.group_users.get(&g.id).into_iter().flatten().collect();
                let n = users.len() as i64;
                let first = g.agents.first().cloned().unwrap_or((g.region.clone(), 100));
                let second = g.agents.get(1).map(|(r, _)| r.clone()).unwrap_or_else(|| g.replica_region.clone());
                let in_first = (n * first.1 + 50) / 100;
                let agents: Vec<Value> = users
                    .iter()
                    .enumerate()
                    .map(|(i, u)| {
                        let region = if (i as i64) < in_first { &first.0 } else { &second };
                        let name = self
                            .objects
                            .iter()
                            .find(|((r, _, k, id), _)| *r == g.region && k == "user" && id == *u)
                            .map(|(_, v)| v["Username"].clone())
                            .unwrap_or(Value::Null);
                        json!({ "UserId": u, "Username": name, "Region": region })
                    })
                    .collect();
                json!({ "Id": g.id, "Arn": g.arn, "IsDefault": g.is_default, "AgentConfig": distribution(&g.agents), "Agents": agents })
            })
            .collect();
        json!({ "groups": groups })
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateTrafficDistribution.html
    pub(crate) fn update_distribution(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.active_group(env, req.seg(1))?;
        let g = &self.groups[&id];
        let regions = g.regions();
        let telephony = req
            .body
            .get("TelephonyConfig")
            .ok_or_else(|| ApiError::invalid_request("TelephonyConfig is required"))
            .and_then(|t| parse_percentages("TelephonyConfig", t, regions))?;
        let agents = match req.body.get("AgentConfig") {
            Some(a) => Some(parse_percentages("AgentConfig", a, regions)?),
            None => None,
        };
        let sign_in = match req.body.get("SignInConfig") {
            Some(s) => {
                let list = s
                    .get("Distributions")
                    .and_then(|d| d.as_array())
                    .ok_or_else(|| ApiError::invalid_request("SignInConfig.Distributions is required"))?;
                let mut out = Vec::new();
                for d in list {
                    let region = d.get("Region").and_then(|r| r.as_str()).unwrap_or("");
                    let enabled = d
                        .get("Enabled")
                        .and_then(|e| e.as_bool())
                        .ok_or_else(|| ApiError::invalid_request("SignInConfig: Enabled is required"))?;
                    if !regions.contains(&region) {
                        return Err(ApiError::invalid_request(format!(
                            "SignInConfig: Region {region:?} is not one of the group's Regions"
                        )));
                    }
                    out.push((region.to_string(), enabled));
                }
                // "If you call UpdateTrafficDistribution with a modified
                // SignInConfig and a non-default TrafficDistributionGroup, an
                // InvalidRequestException is returned."
                let modified = out.iter().any(|(r, e)| g.sign_in.iter().any(|(gr, ge)| gr == r && ge != e));
                if modified && !g.is_default {
                    return Err(ApiError::invalid_request("SignInConfig can only be modified on the default traffic distribution group"));
                }
                let mut merged = g.sign_in.clone();
                for (r, e) in &out {
                    if let Some(x) = merged.iter_mut().find(|(mr, _)| mr == r) {
                        x.1 = *e;
                    }
                }
                if !merged.iter().any(|(_, e)| *e) {
                    return Err(ApiError::invalid_request("SignInConfig must leave sign-in enabled in at least one Region"));
                }
                Some(merged)
            }
            None => None,
        };
        let update_at = env.ready_at("connect", "traffic-distribution");
        let g = self.groups.get_mut(&id).expect("checked");
        g.telephony = telephony;
        if let Some(a) = agents {
            g.agents = a;
        }
        if let Some(s) = sign_in {
            g.sign_in = s;
        }
        g.update_ready_at = Some(update_at);
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_GetTrafficDistribution.html
    pub(crate) fn get_distribution(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.group_id(env, req.seg(1))?;
        let g = &self.groups[&id];
        // "You can claim numbers to a traffic distribution group, or get or
        // update traffic distribution for a traffic distribution group only
        // when its Status is ACTIVE" (setup-traffic-distribution-groups.html).
        let status = g.status(env.now);
        if status != "ACTIVE" {
            return Err(ApiError::invalid_request(format!("The traffic distribution group is {status}, not ACTIVE")));
        }
        Ok(json!({
            "TelephonyConfig": distribution(&g.telephony),
            "Id": g.id,
            "Arn": g.arn,
            "SignInConfig": { "Distributions": g.sign_in.iter().map(|(r, e)| json!({ "Region": r, "Enabled": e })).collect::<Vec<_>>() },
            "AgentConfig": distribution(&g.agents),
        }))
    }
}
