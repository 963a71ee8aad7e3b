//! Instance-scoped objects: hours of operation, queues, contact flows,
//! routing profiles, users, security profiles; and resource tags.
//! Each is kept as its Describe representation.

use serde_json::{json, Map, Value};

use super::{arn, empty, epoch_now, new_id, page, parse_arn, tags_of, Connect, RestRequest};
use crate::env::SimEnv;
use crate::error::ApiError;

/// How one kind appears in URIs, ARNs and JSON.
struct Kind {
    /// Internal kind name.
    kind: &'static str,
    /// URI collection segment (`/queues/{InstanceId}`).
    path: &'static str,
    /// ARN segment (`instance/{id}/queue/{id}`).
    arn_seg: &'static str,
    /// Describe wrapper member, and Create output members.
    wrapper: &'static str,
    create_id: &'static str,
    create_arn: &'static str,
    /// Members holding id / ARN / name inside the description.
    id: &'static str,
    arn: &'static str,
    name: &'static str,
    /// Operation name stem (CreateQueue, ListQueues).
    op: &'static str,
    list_op: &'static str,
    list_member: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        kind: "hours-of-operation",
        path: "hours-of-operations",
        arn_seg: "operating-hours",
        wrapper: "HoursOfOperation",
        create_id: "HoursOfOperationId",
        create_arn: "HoursOfOperationArn",
        id: "HoursOfOperationId",
        arn: "HoursOfOperationArn",
        name: "Name",
        op: "HoursOfOperation",
        list_op: "ListHoursOfOperations",
        list_member: "HoursOfOperationSummaryList",
    },
    Kind {
        kind: "queue",
        path: "queues",
        arn_seg: "queue",
        wrapper: "Queue",
        create_id: "QueueId",
        create_arn: "QueueArn",
        id: "QueueId",
        arn: "QueueArn",
        name: "Name",
        op: "Queue",
        list_op: "ListQueues",
        list_member: "QueueSummaryList",
    },
    Kind {
        kind: "contact-flow",
        path: "contact-flows",
        arn_seg: "contact-flow",
        wrapper: "ContactFlow",
        create_id: "ContactFlowId",
        create_arn: "ContactFlowArn",
        id: "Id",
        arn: "Arn",
        name: "Name",
        op: "ContactFlow",
        list_op: "ListContactFlows",
        list_member: "ContactFlowSummaryList",
    },
    Kind {
        kind: "routing-profile",
        path: "routing-profiles",
        arn_seg: "routing-profile",
        wrapper: "RoutingProfile",
        create_id: "RoutingProfileId",
        create_arn: "RoutingProfileArn",
        id: "RoutingProfileId",
        arn: "RoutingProfileArn",
        name: "Name",
        op: "RoutingProfile",
        list_op: "ListRoutingProfiles",
        list_member: "RoutingProfileSummaryList",
    },
    Kind {
        kind: "user",
        path: "users",
        arn_seg: "agent",
        wrapper: "User",
        create_id: "UserId",
        create_arn: "UserArn",
        id: "Id",
        arn: "Arn",
        name: "Username",
        op: "User",
        list_op: "ListUsers",
        list_member: "UserSummaryList",
    },
    Kind {
        kind: "security-profile",
        path: "security-profiles",
        arn_seg: "security-profile",
        wrapper: "SecurityProfile",
        create_id: "SecurityProfileId",
        create_arn: "SecurityProfileArn",
        id: "Id",
        arn: "Arn",
        name: "SecurityProfileName",
        op: "SecurityProfile",
        list_op: "ListSecurityProfiles",
        list_member: "SecurityProfileSummaryList",
    },
];

/// The security profiles every new instance has
/// (https://docs.aws.amazon.com/connect/latest/adminguide/default-security-profiles.html).
const DEFAULT_SECURITY_PROFILES: &[&str] = &["Admin", "Agent", "CallCenterManager", "QualityAnalyst"];

/// The flows every new instance has, published: the "Default ..." flows of
/// https://docs.aws.amazon.com/connect/latest/adminguide/contact-flow-default.html
/// (with their ContactFlowType) and the inbound sample.
const DEFAULT_FLOWS: &[(&str, &str)] = &[
    ("Default agent hold", "AGENT_HOLD"),
    ("Default agent transfer", "AGENT_TRANSFER"),
    ("Default agent whisper", "AGENT_WHISPER"),
    ("Default customer hold", "CUSTOMER_HOLD"),
    ("Default customer queue", "CUSTOMER_QUEUE"),
    ("Default customer whisper", "CUSTOMER_WHISPER"),
    ("Default outbound", "OUTBOUND_WHISPER"),
    ("Default queue transfer", "QUEUE_TRANSFER"),
    ("Sample inbound flow (first contact experience)", "CONTACT_FLOW"),
];

fn kind_by_path(path: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.path == path && k.kind != "security-profile")
}
fn kind_by_op(op: &str) -> Option<(&'static str, &'static Kind)> {
    for k in KINDS {
        for verb in ["Create", "Describe", "Delete"] {
            if op.strip_prefix(verb) == Some(k.op) {
                return Some((verb, k));
            }
        }
        if op == k.list_op {
            return Some(("List", k));
        }
    }
    None
}

/// Operation names of the object routes.
pub(super) fn operation(method: &str, s: &[&str]) -> Option<&'static str> {
    if let (["tags", _], m) = (s, method) {
        return match m {
            "POST" => Some("TagResource"),
            "DELETE" => Some("UntagResource"),
            "GET" => Some("ListTagsForResource"),
            _ => None,
        };
    }
    // Security profiles are the instance's defaults here: described, not made.
    // https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeSecurityProfile.html
    if let (["security-profiles", _, _], "GET") = (s, method) {
        return Some("DescribeSecurityProfile");
    }
    if let (["security-profiles-permissions", _, _], "GET") = (s, method) {
        return Some("ListSecurityProfilePermissions");
    }
    if let Some(coll) = s.first().and_then(|c| c.strip_suffix("-summary")) {
        let k = KINDS.iter().find(|k| k.path == coll)?;
        return (method == "GET" && s.len() == 2).then_some(k.list_op);
    }
    let k = kind_by_path(s.first()?)?;
    Some(match (method, s.len(), s.get(3).copied()) {
        ("PUT", 2, _) => leak_op("Create", k),
        ("GET", 3, _) => leak_op("Describe", k),
        ("DELETE", 3, _) => leak_op("Delete", k),
        ("POST", 3, _) if k.kind == "hours-of-operation" => "UpdateHoursOfOperation",
        ("POST", 4, Some("name")) if k.kind == "queue" => "UpdateQueueName",
        ("POST", 4, Some("content")) if k.kind == "contact-flow" => "UpdateContactFlowContent",
        ("POST", 4, Some("name")) if k.kind == "contact-flow" => "UpdateContactFlowName",
        ("POST", 4, Some("hours-of-operation")) if k.kind == "queue" => "UpdateQueueHoursOfOperation",
        ("POST", 4, Some("max-contacts")) if k.kind == "queue" => "UpdateQueueMaxContacts",
        ("GET", 4, Some("quick-connects")) if k.kind == "queue" => "ListQueueQuickConnects",
        ("POST", 4, Some("name")) if k.kind == "routing-profile" => "UpdateRoutingProfileName",
        ("POST", 4, Some("default-outbound-queue")) if k.kind == "routing-profile" => "UpdateRoutingProfileDefaultOutboundQueue",
        ("POST", 4, Some("concurrency")) if k.kind == "routing-profile" => "UpdateRoutingProfileConcurrency",
        ("POST", 4, Some("associate-queues")) if k.kind == "routing-profile" => "AssociateRoutingProfileQueues",
        ("POST", 4, Some("disassociate-queues")) if k.kind == "routing-profile" => "DisassociateRoutingProfileQueues",
        ("POST", 4, Some("queues")) if k.kind == "routing-profile" => "UpdateRoutingProfileQueues",
        ("GET", 4, Some("queues")) if k.kind == "routing-profile" => "ListRoutingProfileQueues",
        ("POST", 4, Some("routing-profile")) if k.kind == "user" => "UpdateUserRoutingProfile",
        ("POST", 4, Some("phone-config")) if k.kind == "user" => "UpdateUserPhoneConfig",
        ("POST", 4, Some("identity-info")) if k.kind == "user" => "UpdateUserIdentityInfo",
        ("POST", 4, Some("security-profiles")) if k.kind == "user" => "UpdateUserSecurityProfiles",
        _ => return None,
    })
}

fn leak_op(verb: &str, k: &Kind) -> &'static str {
    const NAMES: &[&str] = &[
        "CreateHoursOfOperation",
        "DescribeHoursOfOperation",
        "DeleteHoursOfOperation",
        "CreateQueue",
        "DescribeQueue",
        "DeleteQueue",
        "CreateContactFlow",
        "DescribeContactFlow",
        "DeleteContactFlow",
        "CreateRoutingProfile",
        "DescribeRoutingProfile",
        "DeleteRoutingProfile",
        "CreateUser",
        "DescribeUser",
        "DeleteUser",
        "CreateSecurityProfile",
        "DescribeSecurityProfile",
        "DeleteSecurityProfile",
    ];
    let want = format!("{verb}{}", k.op);
    NAMES.iter().find(|n| **n == want).copied().unwrap_or("Unknown")
}

/// Validates flow content as the flow language requires: JSON with Version,
/// StartAction and Actions, StartAction naming an action
/// (https://docs.aws.amazon.com/connect/latest/APIReference/flow-language.html).
fn validate_flow(content: &str) -> Result<(), ApiError> {
    let problem = |m: String| ApiError::new(400, "InvalidContactFlowException", format!("The flow is not valid: {m}"));
    let v: Value = serde_json::from_str(content).map_err(|e| problem(format!("Content is not JSON: {e}")))?;
    if v.get("Version").and_then(|x| x.as_str()).is_none() {
        return Err(problem("Version is missing".into()));
    }
    let actions = v.get("Actions").and_then(|x| x.as_array()).ok_or_else(|| problem("Actions is missing".into()))?;
    let start = v.get("StartAction").and_then(|x| x.as_str()).ok_or_else(|| problem("StartAction is missing".into()))?;
    if !actions.iter().any(|a| a.get("Identifier").and_then(|i| i.as_str()) == Some(start)) {
        return Err(problem(format!("StartAction {start} names no action")));
    }
    Ok(())
}

impl Connect {
    /// Creates the objects a new instance comes with: the default security
    /// profiles (Admin, Agent, CallCenterManager, QualityAnalyst,
    /// https://docs.aws.amazon.com/connect/latest/adminguide/default-security-profiles.html),
    /// "Basic Hours", "BasicQueue" and "Basic Routing Profile"
    /// (https://docs.aws.amazon.com/connect/latest/adminguide/concepts-routing.html),
    /// the published "Default ..." flows
    /// (https://docs.aws.amazon.com/connect/latest/adminguide/contact-flow-default.html)
    /// and the sample inbound flow.
    pub(crate) fn seed_instance_objects(&mut self, account: &str, region: &str, instance_id: &str) {
        let arn = |seg: &str, id: &str| format!("arn:aws:connect:{region}:{account}:instance/{instance_id}/{seg}/{id}");
        let now = epoch_now();
        let put = |c: &mut Self, kind: &str, id: String, v: Value| {
            c.objects.insert((region.into(), instance_id.into(), kind.into(), id), v);
        };
        for name in DEFAULT_SECURITY_PROFILES {
            let id = new_id();
            let v = json!({ "Id": id, "Arn": arn("security-profile", &id), "SecurityProfileName": name, "Description": format!("Default {name} profile"), "Tags": {}, "LastModifiedTime": now, "LastModifiedRegion": region });
            put(self, "security-profile", id, v);
        }
        let hours = new_id();
        let day = |d: &str| json!({ "Day": d, "StartTime": { "Hours": 0, "Minutes": 0 }, "EndTime": { "Hours": 0, "Minutes": 0 } });
        let days: Vec<Value> =
            ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"].iter().map(|d| day(d)).collect();
        let v = json!({ "HoursOfOperationId": hours, "HoursOfOperationArn": arn("operating-hours", &hours), "Name": "Basic Hours", "Description": "Basic Hours", "TimeZone": "America/New_York", "Config": days, "Tags": {}, "LastModifiedTime": now, "LastModifiedRegion": region });
        put(self, "hours-of-operation", hours.clone(), v);
        let queue = new_id();
        let v = json!({ "QueueId": queue, "QueueArn": arn("queue", &queue), "Name": "BasicQueue", "Description": "A simple, basic voice queue.", "HoursOfOperationId": hours, "Status": "ENABLED", "Tags": {}, "LastModifiedTime": now, "LastModifiedRegion": region });
        put(self, "queue", queue.clone(), v);
        let profile = new_id();
        let v = json!({
            "RoutingProfileId": profile, "RoutingProfileArn": arn("routing-profile", &profile), "Name": "Basic Routing Profile",
            "Description": "A simple, basic routing profile.", "InstanceId": instance_id, "DefaultOutboundQueueId": queue,
            "MediaConcurrencies": [{ "Channel": "VOICE", "Concurrency": 1 }, { "Channel": "CHAT", "Concurrency": 2 }, { "Channel": "TASK", "Concurrency": 10 }],
            "NumberOfAssociatedQueues": 1, "NumberOfAssociatedUsers": 0, "AssociatedQueueIds": [queue], "IsDefault": true,
            "_QueueConfigs": [{ "QueueId": queue, "Channel": "VOICE", "Priority": 1, "Delay": 0 }, { "QueueId": queue, "Channel": "CHAT", "Priority": 1, "Delay": 0 }, { "QueueId": queue, "Channel": "TASK", "Priority": 1, "Delay": 0 }],
            "Tags": {}, "LastModifiedTime": now, "LastModifiedRegion": region,
        });
        put(self, "routing-profile", profile, v);
        for (name, ty) in DEFAULT_FLOWS {
            let id = new_id();
            let content = json!({ "Version": "2019-10-30", "StartAction": "end", "Actions": [{ "Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {} }] }).to_string();
            let v = json!({ "Id": id, "Arn": arn("contact-flow", &id), "Name": name, "Type": ty, "State": "ACTIVE", "Status": "PUBLISHED", "Description": format!("{name} flow"), "Content": content, "Tags": {}, "LastModifiedTime": now, "LastModifiedRegion": region });
            put(self, "contact-flow", id, v);
        }
    }

    /// The id of an existing object (given by id or ARN) in an instance.
    pub(crate) fn object_id(&self, region: &str, instance_id: &str, kind: &str, id_or_arn: &str) -> Result<String, ApiError> {
        let id = id_or_arn.rsplit('/').next().unwrap_or(id_or_arn).to_string();
        if self.objects.contains_key(&(region.into(), instance_id.into(), kind.into(), id.clone())) {
            Ok(id)
        } else {
            Err(ApiError::not_found(format!("{kind} {id_or_arn} not found in instance {instance_id}")))
        }
    }

    fn require_refs(&self, region: &str, iid: &str, kind: &str, ids: &[String]) -> Result<(), ApiError> {
        for id in ids {
            self.object_id(region, iid, kind, id)?;
        }
        Ok(())
    }

    pub(crate) fn handle_object(&mut self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<Value, ApiError> {
        match op {
            "TagResource" | "UntagResource" | "ListTagsForResource" => return self.tags_op(env, op, req),
            "UpdateHoursOfOperation" | "UpdateQueueName" | "UpdateContactFlowContent" | "UpdateContactFlowName" => {
                return self.update_object(env, op, req)
            }
            "UpdateQueueHoursOfOperation"
            | "UpdateQueueMaxContacts"
            | "UpdateUserRoutingProfile"
            | "UpdateUserPhoneConfig"
            | "UpdateUserIdentityInfo"
            | "UpdateUserSecurityProfiles" => return self.update_member(env, op, req),
            "ListQueueQuickConnects" => return self.list_queue_quick_connects(env, req),
            "ListSecurityProfilePermissions" => return self.list_security_profile_permissions(env, req),
            "UpdateRoutingProfileName"
            | "UpdateRoutingProfileDefaultOutboundQueue"
            | "UpdateRoutingProfileConcurrency"
            | "AssociateRoutingProfileQueues"
            | "DisassociateRoutingProfileQueues"
            | "UpdateRoutingProfileQueues"
            | "ListRoutingProfileQueues" => return self.routing_profile_op(env, op, req),
            _ => {}
        }
        let (verb, k) = kind_by_op(op).ok_or_else(|| ApiError::new(404, "UnknownOperationException", format!("{op} is not served")))?;
        let iid = self.instance(env, req.seg(1))?.id.clone();
        let region = env.region.to_string();
        match verb {
            "Create" => self.create_object(env, k, &iid, req),
            "Describe" => {
                let id = self.object_id(&region, &iid, k.kind, req.seg(2))?;
                let mut v = self.objects[&(region, iid, k.kind.into(), id)].clone();
                // Members kept for other operations (ListRoutingProfileQueues) are not part of the shape.
                if let Some(o) = v.as_object_mut() {
                    o.retain(|m, _| !m.starts_with('_'));
                }
                if let Some(t) = self.tags.get(v[k.arn].as_str().unwrap_or("")) {
                    v["Tags"] = Value::Object(t.clone());
                }
                Ok(json!({ k.wrapper: v }))
            }
            "Delete" => {
                let id = self.object_id(&region, &iid, k.kind, req.seg(2))?;
                self.check_unused(&region, &iid, k, &id)?;
                if let Some(v) = self.objects.remove(&(region, iid.clone(), k.kind.into(), id.clone())) {
                    self.tags.remove(v[k.arn].as_str().unwrap_or(""));
                }
                self.mirror_object(env, &iid, k.kind, &id);
                Ok(empty())
            }
            _ => {
                let all: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|((r, i, kk, _), _)| *r == region && *i == iid && kk == k.kind)
                    .map(|(_, v)| {
                        let mut s = json!({ "Id": v[k.id], "Arn": v[k.arn] });
                        match k.kind {
                            "user" => s["Username"] = v["Username"].clone(),
                            "contact-flow" => {
                                s["Name"] = v["Name"].clone();
                                s["ContactFlowType"] = v["Type"].clone();
                                s["ContactFlowState"] = v["State"].clone();
                                s["ContactFlowStatus"] = v["Status"].clone();
                            }
                            "queue" => {
                                s["Name"] = v["Name"].clone();
                                s["QueueType"] = json!("STANDARD");
                            }
                            "security-profile" => s["Name"] = v["SecurityProfileName"].clone(),
                            _ => s["Name"] = v[k.name].clone(),
                        }
                        s
                    })
                    .collect();
                let (items, next) = page(all, req, 100);
                let mut out = json!({ k.list_member: items });
                if let Some(n) = next {
                    out["NextToken"] = json!(n);
                }
                Ok(out)
            }
        }
    }

    /// The quick connects of a queue: the sandbox makes none (no
    /// CreateQuickConnect), so an existing queue lists none.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListQueueQuickConnects.html
    fn list_queue_quick_connects(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let iid = self.instance(env, req.seg(1))?.id.clone();
        self.object_id(env.region, &iid, "queue", req.seg(2))?;
        Ok(json!({ "QuickConnectSummaryList": [] }))
    }

    /// The permissions of a security profile. The sandbox models no
    /// permissions (only the default profiles, by name), so a profile that
    /// exists lists none.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListSecurityProfilePermissions.html
    fn list_security_profile_permissions(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let iid = self.instance(env, req.seg(1))?.id.clone();
        self.object_id(env.region, &iid, "security-profile", req.seg(2))?;
        Ok(json!({ "Permissions": [] }))
    }

    /// ResourceInUseException when another object still refers to this one.
    fn check_unused(&self, region: &str, iid: &str, k: &Kind, id: &str) -> Result<(), ApiError> {
        let used = self.objects.iter().filter(|((r, i, _, _), _)| r == region && i == iid).any(|((_, _, kind, _), v)| {
            match (k.kind, kind.as_str()) {
                ("hours-of-operation", "queue") => v["HoursOfOperationId"] == json!(id),
                ("queue", "routing-profile") => {
                    v["DefaultOutboundQueueId"] == json!(id) || v["AssociatedQueueIds"].as_array().is_some_and(|a| a.contains(&json!(id)))
                }
                ("routing-profile", "user") => v["RoutingProfileId"] == json!(id),
                _ => false,
            }
        });
        let flow_in_use = k.kind == "contact-flow" && self.numbers.values().any(|n| n.flows.values().any(|(_, f)| f == id));
        if used || flow_in_use {
            return Err(ApiError::in_use(format!("The {} is in use by another resource", k.kind)));
        }
        Ok(())
    }

    fn create_object(&mut self, env: &SimEnv, k: &Kind, iid: &str, req: &RestRequest) -> Result<Value, ApiError> {
        let b = &req.body;
        let region = env.region.to_string();
        let name = req.s(k.name).ok_or_else(|| ApiError::invalid_parameter(format!("{} is required", k.name)))?;
        let duplicate = self.objects.iter().any(|((r, i, kk, _), v)| *r == region && i == iid && kk == k.kind && v[k.name] == json!(name));
        if duplicate {
            return Err(ApiError::duplicate(format!("A {} named {name} already exists", k.kind)));
        }
        // The same name under another id in the other region of a replicated
        // instance cannot be mirrored: "resources in the source instance and
        // the replica instance have the same name but different resource IDs"
        // is a ResourceConflictException (create-replica-connect-instance.html).
        if let Some((other, _)) = self.peer(&region, iid) {
            let clash = self.objects.iter().any(|((r, i, kk, _), v)| *r == other && i == iid && kk == k.kind && v[k.name] == json!(name));
            if clash {
                return Err(ApiError::conflict(format!(
                    "A {} named {name} already exists in the linked instance in {other}, with another id",
                    k.kind
                )));
            }
        }
        let id = new_id();
        let arn = arn(env, env.region, &format!("instance/{iid}/{}/{id}", k.arn_seg));
        let now = epoch_now();
        let mut v = json!({ k.id: id, k.arn: arn, k.name: name, "Tags": tags_of(b, "Tags"), "LastModifiedTime": now, "LastModifiedRegion": env.region });
        for m in ["Description"] {
            if let Some(x) = b.get(m) {
                v[m] = x.clone();
            }
        }
        match k.kind {
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateHoursOfOperation.html
            "hours-of-operation" => {
                let tz = req.s("TimeZone").ok_or_else(|| ApiError::invalid_parameter("TimeZone is required"))?;
                let config = b.get("Config").and_then(|c| c.as_array()).ok_or_else(|| ApiError::invalid_parameter("Config is required"))?;
                for c in config {
                    let day = c.get("Day").and_then(|d| d.as_str()).unwrap_or("");
                    if !["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"].contains(&day) {
                        return Err(ApiError::invalid_parameter(format!("Config Day {day:?} is not valid")));
                    }
                    for t in ["StartTime", "EndTime"] {
                        let h = c.get(t).and_then(|x| x.get("Hours")).and_then(|x| x.as_i64());
                        let m = c.get(t).and_then(|x| x.get("Minutes")).and_then(|x| x.as_i64());
                        if !matches!((h, m), (Some(0..=23), Some(0..=59))) {
                            return Err(ApiError::invalid_parameter(format!("Config {day} {t} needs Hours 0-23 and Minutes 0-59")));
                        }
                    }
                }
                v["TimeZone"] = json!(tz);
                v["Config"] = json!(config);
            }
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateQueue.html
            "queue" => {
                let hours = req.s("HoursOfOperationId").ok_or_else(|| ApiError::invalid_parameter("HoursOfOperationId is required"))?;
                let hours = self.object_id(&region, iid, "hours-of-operation", &hours)?;
                v["HoursOfOperationId"] = json!(hours);
                v["Status"] = json!("ENABLED");
                for m in ["OutboundCallerConfig", "MaxContacts", "QuickConnectIds"] {
                    if let Some(x) = b.get(m) {
                        v[m] = x.clone();
                    }
                }
            }
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateContactFlow.html
            "contact-flow" => {
                let ty = req.s("Type").ok_or_else(|| ApiError::invalid_parameter("Type is required"))?;
                let content = req.s("Content").ok_or_else(|| ApiError::invalid_parameter("Content is required"))?;
                validate_flow(&content)?;
                v["Type"] = json!(ty);
                v["Content"] = json!(content);
                v["State"] = json!("ACTIVE");
                v["Status"] = json!(req.s("Status").unwrap_or_else(|| "PUBLISHED".into()));
            }
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateRoutingProfile.html
            "routing-profile" => {
                let q = req.s("DefaultOutboundQueueId").ok_or_else(|| ApiError::invalid_parameter("DefaultOutboundQueueId is required"))?;
                let q = self.object_id(&region, iid, "queue", &q)?;
                let mc = b
                    .get("MediaConcurrencies")
                    .and_then(|m| m.as_array())
                    .ok_or_else(|| ApiError::invalid_parameter("MediaConcurrencies is required"))?;
                let configs = self.queue_configs(&region, iid, b.get("QueueConfigs"))?;
                let mut queues: Vec<String> = configs.iter().filter_map(|c| c["QueueId"].as_str().map(str::to_string)).collect();
                queues.dedup();
                v["_QueueConfigs"] = json!(configs);
                v["InstanceId"] = json!(iid);
                v["DefaultOutboundQueueId"] = json!(q);
                v["MediaConcurrencies"] = json!(mc);
                v["NumberOfAssociatedQueues"] = json!(queues.len());
                v["NumberOfAssociatedUsers"] = json!(0);
                v["AssociatedQueueIds"] = json!(queues);
                v["IsDefault"] = json!(false);
                if let Some(x) = b.get("AgentAvailabilityTimer") {
                    v["AgentAvailabilityTimer"] = x.clone();
                }
            }
            // https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateUser.html
            "user" => {
                let sp: Vec<String> = b.get("SecurityProfileIds").and_then(|x| serde_json::from_value(x.clone()).ok()).unwrap_or_default();
                if sp.is_empty() {
                    return Err(ApiError::invalid_parameter("SecurityProfileIds is required"));
                }
                self.require_refs(&region, iid, "security-profile", &sp)?;
                let rp = req.s("RoutingProfileId").ok_or_else(|| ApiError::invalid_parameter("RoutingProfileId is required"))?;
                let rp = self.object_id(&region, iid, "routing-profile", &rp)?;
                let phone = b.get("PhoneConfig").cloned().ok_or_else(|| ApiError::invalid_parameter("PhoneConfig is required"))?;
                let pt = phone.get("PhoneType").and_then(|x| x.as_str()).unwrap_or("");
                if pt != "SOFT_PHONE" && pt != "DESK_PHONE" {
                    return Err(ApiError::invalid_parameter(format!("PhoneConfig.PhoneType {pt:?} must be SOFT_PHONE or DESK_PHONE")));
                }
                // "Password: ... A password is required if you are using Amazon
                // Connect for identity management. Otherwise, it is an error to
                // include a password." (API_CreateUser.html)
                let idm = self.instance(env, iid).map(|i| i.identity_management_type.clone()).unwrap_or_default();
                match (idm.as_str(), req.s("Password").is_some()) {
                    ("CONNECT_MANAGED", false) => {
                        return Err(ApiError::invalid_parameter("Password is required: the instance manages its users (CONNECT_MANAGED)"))
                    }
                    ("SAML" | "EXISTING_DIRECTORY", true) => {
                        return Err(ApiError::invalid_parameter(format!(
                            "Password must not be given: the instance's users sign in through {idm}"
                        )))
                    }
                    _ => {}
                }
                v["SecurityProfileIds"] = json!(sp);
                v["RoutingProfileId"] = json!(rp);
                v["PhoneConfig"] = phone;
                for m in ["IdentityInfo", "DirectoryUserId", "HierarchyGroupId"] {
                    if let Some(x) = b.get(m) {
                        v[m] = x.clone();
                    }
                }
            }
            _ => return Err(ApiError::invalid_request(format!("{} cannot be created here", k.kind))),
        }
        self.objects.insert((region.clone(), iid.into(), k.kind.into(), id.clone()), v);
        self.newborn(env, &region, &id);
        self.mirror_object(env, iid, k.kind, &id);
        let mut out = json!({ k.create_id: id, k.create_arn: arn });
        if k.kind == "contact-flow" {
            out.as_object_mut().map(|o| o.remove("FlowContentSha256"));
        }
        Ok(out)
    }

    /// RoutingProfileQueueConfig list -> stored `{QueueId, Channel, Priority, Delay}`,
    /// every queue checked to exist. Priority 1-99, Delay 0-9999.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_RoutingProfileQueueConfig.html
    fn queue_configs(&self, region: &str, iid: &str, list: Option<&Value>) -> Result<Vec<Value>, ApiError> {
        let mut out = Vec::new();
        for qc in list.and_then(|x| x.as_array()).into_iter().flatten() {
            let qid = qc.pointer("/QueueReference/QueueId").and_then(|x| x.as_str()).unwrap_or("");
            let channel = qc.pointer("/QueueReference/Channel").and_then(|x| x.as_str()).unwrap_or("");
            if !["VOICE", "CHAT", "TASK", "EMAIL"].contains(&channel) {
                return Err(ApiError::invalid_parameter(format!("QueueReference.Channel {channel:?} must be VOICE, CHAT, TASK or EMAIL")));
            }
            let priority = qc.get("Priority").and_then(|x| x.as_i64()).unwrap_or(0);
            let delay = qc.get("Delay").and_then(|x| x.as_i64()).unwrap_or(-1);
            if !(1..=99).contains(&priority) || !(0..=9999).contains(&delay) {
                return Err(ApiError::invalid_parameter(format!("queue {qid}: Priority must be 1-99 and Delay 0-9999")));
            }
            let id = self.object_id(region, iid, "queue", qid)?;
            out.push(json!({ "QueueId": id, "Channel": channel, "Priority": priority, "Delay": delay }));
        }
        Ok(out)
    }

    /// Queue and user updates that replace one member.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateQueueHoursOfOperation.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateQueueMaxContacts.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateUserRoutingProfile.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateUserPhoneConfig.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateUserIdentityInfo.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateUserSecurityProfiles.html
    fn update_member(&mut self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<Value, ApiError> {
        let iid = self.instance(env, req.seg(1))?.id.clone();
        let region = env.region.to_string();
        let kind = if op.starts_with("UpdateQueue") { "queue" } else { "user" };
        let id = self.object_id(&region, &iid, kind, req.seg(2))?;
        let b = &req.body;
        let (member, value) = match op {
            "UpdateQueueHoursOfOperation" => {
                let h = req.s("HoursOfOperationId").ok_or_else(|| ApiError::invalid_parameter("HoursOfOperationId is required"))?;
                ("HoursOfOperationId", json!(self.object_id(&region, &iid, "hours-of-operation", &h)?))
            }
            "UpdateQueueMaxContacts" => match b.get("MaxContacts") {
                Some(m) if m.as_i64().is_some_and(|n| n >= 0) => ("MaxContacts", m.clone()),
                Some(m) => return Err(ApiError::invalid_parameter(format!("MaxContacts must be 0 or more, found {m}"))),
                None => ("MaxContacts", Value::Null),
            },
            "UpdateUserRoutingProfile" => {
                let rp = req.s("RoutingProfileId").ok_or_else(|| ApiError::invalid_parameter("RoutingProfileId is required"))?;
                ("RoutingProfileId", json!(self.object_id(&region, &iid, "routing-profile", &rp)?))
            }
            "UpdateUserPhoneConfig" => {
                let phone = b.get("PhoneConfig").cloned().ok_or_else(|| ApiError::invalid_parameter("PhoneConfig is required"))?;
                let pt = phone.get("PhoneType").and_then(|x| x.as_str()).unwrap_or("");
                if pt != "SOFT_PHONE" && pt != "DESK_PHONE" {
                    return Err(ApiError::invalid_parameter(format!("PhoneConfig.PhoneType {pt:?} must be SOFT_PHONE or DESK_PHONE")));
                }
                ("PhoneConfig", phone)
            }
            "UpdateUserIdentityInfo" => {
                ("IdentityInfo", b.get("IdentityInfo").cloned().ok_or_else(|| ApiError::invalid_parameter("IdentityInfo is required"))?)
            }
            _ => {
                let sp: Vec<String> = b.get("SecurityProfileIds").and_then(|x| serde_json::from_value(x.clone()).ok()).unwrap_or_default();
                if sp.is_empty() {
                    return Err(ApiError::invalid_parameter("SecurityProfileIds is required"));
                }
                self.require_refs(&region, &iid, "security-profile", &sp)?;
                ("SecurityProfileIds", json!(sp))
            }
        };
        let key = (region, iid, kind.to_string(), id);
        let v = self.objects.get_mut(&key).expect("checked");
        match value {
            Value::Null => {
                v.as_object_mut().map(|o| o.remove(member));
            }
            x => v[member] = x,
        }
        v["LastModifiedTime"] = json!(epoch_now());
        v["LastModifiedRegion"] = json!(env.region);
        self.mirror_object(env, &key.1, &key.2, &key.3);
        Ok(empty())
    }

    /// Routing profile name, default outbound queue, concurrency and queues.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateRoutingProfileName.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateRoutingProfileDefaultOutboundQueue.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateRoutingProfileConcurrency.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateRoutingProfileQueues.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociateRoutingProfileQueues.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateRoutingProfileQueues.html
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListRoutingProfileQueues.html
    fn routing_profile_op(&mut self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<Value, ApiError> {
        let iid = self.instance(env, req.seg(1))?.id.clone();
        let region = env.region.to_string();
        let id = self.object_id(&region, &iid, "routing-profile", req.seg(2))?;
        let key = (region.clone(), iid.clone(), "routing-profile".to_string(), id);
        let b = &req.body;
        let current: Vec<Value> = self.objects[&key]["_QueueConfigs"].as_array().cloned().unwrap_or_default();
        let same = |a: &Value, b: &Value| a["QueueId"] == b["QueueId"] && a["Channel"] == b["Channel"];
        let mut configs = current.clone();
        match op {
            "ListRoutingProfileQueues" => {
                let all: Vec<Value> = current
                    .iter()
                    .map(|c| {
                        let q = c["QueueId"].as_str().unwrap_or("");
                        let queue = self.objects.get(&(region.clone(), iid.clone(), "queue".to_string(), q.to_string()));
                        json!({
                            "QueueId": q,
                            "QueueArn": queue.map(|v| v["QueueArn"].clone()).unwrap_or(Value::Null),
                            "QueueName": queue.map(|v| v["Name"].clone()).unwrap_or(Value::Null),
                            "Priority": c["Priority"], "Delay": c["Delay"], "Channel": c["Channel"],
                        })
                    })
                    .collect();
                let (items, next) = page(all, req, 100);
                let mut out = json!({ "RoutingProfileQueueConfigSummaryList": items, "LastModifiedTime": self.objects[&key]["LastModifiedTime"], "LastModifiedRegion": self.objects[&key]["LastModifiedRegion"] });
                if let Some(n) = next {
                    out["NextToken"] = json!(n);
                }
                return Ok(out);
            }
            "UpdateRoutingProfileName" => {
                if req.s("Name").is_none() && b.get("Description").is_none() {
                    return Err(ApiError::invalid_parameter("Name or Description is required"));
                }
            }
            "UpdateRoutingProfileDefaultOutboundQueue" => {
                let q = req.s("DefaultOutboundQueueId").ok_or_else(|| ApiError::invalid_parameter("DefaultOutboundQueueId is required"))?;
                self.object_id(&region, &iid, "queue", &q)?;
            }
            "UpdateRoutingProfileConcurrency" => {
                if b.get("MediaConcurrencies").and_then(|m| m.as_array()).is_none_or(|m| m.is_empty()) {
                    return Err(ApiError::invalid_parameter("MediaConcurrencies is required"));
                }
            }
            "AssociateRoutingProfileQueues" => {
                for c in self.queue_configs(&region, &iid, b.get("QueueConfigs"))? {
                    configs.retain(|x| !same(x, &c));
                    configs.push(c);
                }
            }
            "UpdateRoutingProfileQueues" => {
                for c in self.queue_configs(&region, &iid, b.get("QueueConfigs"))? {
                    let slot = configs.iter_mut().find(|x| same(x, &c)).ok_or_else(|| {
                        ApiError::invalid_parameter(format!(
                            "queue {} ({}) is not associated with the routing profile",
                            c["QueueId"], c["Channel"]
                        ))
                    })?;
                    *slot = c;
                }
            }
            _ => {
                for r in b.get("QueueReferences").and_then(|x| x.as_array()).into_iter().flatten() {
                    let qid = r.get("QueueId").and_then(|x| x.as_str()).unwrap_or("");
                    let qid = qid.rsplit('/').next().unwrap_or(qid);
                    configs.retain(|x| !(x["QueueId"] == json!(qid) && x["Channel"] == r["Channel"]));
                }
            }
        }
        let v = self.objects.get_mut(&key).expect("checked");
        match op {
            "UpdateRoutingProfileName" => {
                for m in ["Name", "Description"] {
                    if let Some(x) = b.get(m) {
                        v[m] = x.clone();
                    }
                }
            }
            "UpdateRoutingProfileDefaultOutboundQueue" => {
                v["DefaultOutboundQueueId"] =
                    json!(req.s("DefaultOutboundQueueId").unwrap_or_default().rsplit('/').next().unwrap_or_default())
            }
            "UpdateRoutingProfileConcurrency" => v["MediaConcurrencies"] = b["MediaConcurrencies"].clone(),
            _ => {
                let mut queues: Vec<String> = configs.iter().filter_map(|c| c["QueueId"].as_str().map(str::to_string)).collect();
                queues.sort();
                queues.dedup();
                v["NumberOfAssociatedQueues"] = json!(queues.len());
                v["AssociatedQueueIds"] = json!(queues);
                v["_QueueConfigs"] = json!(configs);
            }
        }
        v["LastModifiedTime"] = json!(epoch_now());
        v["LastModifiedRegion"] = json!(env.region);
        self.mirror_object(env, &key.1, &key.2, &key.3);
        Ok(empty())
    }

    fn update_object(&mut self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<Value, ApiError> {
        let iid = self.instance(env, req.seg(1))?.id.clone();
        let kind = match op {
            "UpdateHoursOfOperation" => "hours-of-operation",
            "UpdateQueueName" => "queue",
            _ => "contact-flow",
        };
        let id = self.object_id(env.region, &iid, kind, req.seg(2))?;
        let key = (env.region.to_string(), iid, kind.to_string(), id);
        let b = &req.body;
        if op == "UpdateContactFlowContent" {
            let content = req.s("Content").ok_or_else(|| ApiError::invalid_parameter("Content is required"))?;
            validate_flow(&content)?;
        }
        let v = self.objects.get_mut(&key).expect("checked");
        for m in ["Name", "Description", "TimeZone", "Config", "Content"] {
            if let Some(x) = b.get(m) {
                v[m] = x.clone();
            }
        }
        v["LastModifiedTime"] = json!(epoch_now());
        v["LastModifiedRegion"] = json!(env.region);
        self.mirror_object(env, &key.1, &key.2, &key.3);
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_TagResource.html
    fn tags_op(&mut self, env: &SimEnv, op: &str, req: &RestRequest) -> Result<Value, ApiError> {
        let arn = req.seg(1).to_string();
        let (region, resource) = parse_arn(&arn).ok_or_else(|| ApiError::invalid_parameter(format!("{arn} is not a Connect ARN")))?;
        let exists = region == env.region && self.resource_exists(&arn, &resource);
        if !exists {
            return Err(ApiError::not_found(format!("Resource {arn} not found")));
        }
        let current = self.current_tags(&arn);
        match op {
            "TagResource" => {
                let add =
                    req.body.get("tags").and_then(|t| t.as_object()).ok_or_else(|| ApiError::invalid_parameter("tags is required"))?;
                let mut t = current;
                for (k, v) in add {
                    if k.starts_with("aws:") {
                        return Err(ApiError::invalid_parameter("Tag keys starting with aws: are reserved"));
                    }
                    t.insert(k.clone(), v.clone());
                }
                if t.len() > 50 {
                    return Err(ApiError::invalid_parameter("A resource can have at most 50 tags"));
                }
                self.set_tags(&arn, t);
                self.mirror_tags(env, &arn);
                Ok(empty())
            }
            "UntagResource" => {
                let mut t = current;
                for (k, v) in &req.query {
                    if k == "tagKeys" {
                        t.remove(v);
                    }
                }
                self.set_tags(&arn, t);
                self.mirror_tags(env, &arn);
                Ok(empty())
            }
            _ => Ok(json!({ "tags": current })),
        }
    }

    /// Tags of a mirrored object travel with it.
    fn mirror_tags(&mut self, env: &SimEnv, arn: &str) {
        let key = self
            .objects
            .iter()
            .find(|(_, v)| KINDS.iter().any(|k| v.get(k.arn).and_then(|a| a.as_str()) == Some(arn)))
            .map(|(k, _)| k.clone());
        if let Some((_, iid, kind, id)) = key {
            if let Some(v) = self.objects.get_mut(&(env.region.to_string(), iid.clone(), kind.clone(), id.clone())) {
                v["LastModifiedTime"] = json!(epoch_now());
            }
            self.mirror_object(env, &iid, &kind, &id);
        }
    }

    fn resource_exists(&self, arn: &str, _resource: &str) -> bool {
        self.instances.values().any(|i| i.arn == arn)
            || self.groups.values().any(|g| g.arn == arn)
            || self.numbers.values().any(|n| n.arn == arn)
            || self.objects.values().any(|v| KINDS.iter().any(|k| v.get(k.arn).and_then(|a| a.as_str()) == Some(arn)))
    }

    fn current_tags(&self, arn: &str) -> Map<String, Value> {
        if let Some(i) = self.instances.values().find(|i| i.arn == arn) {
            return i.tags.clone();
        }
        if let Some(g) = self.groups.values().find(|g| g.arn == arn) {
            return g.tags.clone();
        }
        if let Some(n) = self.numbers.values().find(|n| n.arn == arn) {
            return n.tags.clone();
        }
        if let Some(t) = self.tags.get(arn) {
            return t.clone();
        }
        self.objects
            .values()
            .find(|v| KINDS.iter().any(|k| v.get(k.arn).and_then(|a| a.as_str()) == Some(arn)))
            .and_then(|v| v.get("Tags").and_then(|t| t.as_object()).cloned())
            .unwrap_or_default()
    }

    fn set_tags(&mut self, arn: &str, tags: Map<String, Value>) {
        if let Some(i) = self.instances.values_mut().find(|i| i.arn == arn) {
            i.tags = tags;
        } else if let Some(g) = self.groups.values_mut().find(|g| g.arn == arn) {
            g.tags = tags;
        } else if let Some(n) = self.numbers.values_mut().find(|n| n.arn == arn) {
            n.tags = tags;
        } else {
            self.tags.insert(arn.to_string(), tags);
        }
    }
}
