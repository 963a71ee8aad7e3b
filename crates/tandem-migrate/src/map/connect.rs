//! Amazon Connect types. Terraform's provider has no resource for
//! ReplicateInstance, traffic distribution groups or agents in groups: a
//! stack that set those up outside Terraform declares them in tandem with
//! `aws.connect.replica`, `aws.connect.traffic_distribution_group` and
//! `aws.connect.traffic_distribution_group_user`, adopted with `tandem import`.

use super::*;

pub fn instance(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.connect.instance", id(a));
    m.set("identity_management_type", sv(a, "identity_management_type"))
        .set("instance_alias", sv(a, "instance_alias"))
        .set("directory_id", sv(a, "directory_id"));
    m.set("inbound_calls_enabled", b(a, "inbound_calls_enabled"))
        .set("outbound_calls_enabled", b(a, "outbound_calls_enabled"))
        .set("contact_flow_logs", b(a, "contact_flow_logs_enabled"));
    m.set("tags", tags(a));
    m.out("id", sv(a, "id")).out("arn", sv(a, "arn"));
    for (k, default) in [
        ("auto_resolve_best_voices_enabled", true),
        ("contact_lens_enabled", true),
        ("early_media_enabled", true),
        ("multi_party_conference_enabled", false),
    ] {
        if let Some(v) = a.get(k).and_then(Value::as_bool).filter(|v| *v != default) {
            m.note(format!("`{k}` = {v} (an instance attribute) is not managed by tandem: it stays as it is in the cloud"));
        }
    }
    Outcome::Kind(m)
}

/// Contact trace records and agent events to Kinesis are properties of
/// tandem's instance; other storage (recordings, transcripts to S3) is not.
pub fn storage_config(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let rtype = s(a, "resource_type").unwrap_or_default();
    let config = block(a, "storage_config");
    let stream = config
        .filter(|c| s(c, "storage_type").as_deref() == Some("KINESIS_STREAM"))
        .and_then(|c| block(c, "kinesis_stream_config"))
        .and_then(|k| s(k, "stream_arn"));
    let field = match rtype.as_str() {
        "CONTACT_TRACE_RECORDS" => "contact_trace_records_stream_arn",
        "AGENT_EVENTS" => "agent_events_stream_arn",
        other => return skip(format!("storage of {other} is not managed by tandem (only CONTACT_TRACE_RECORDS and AGENT_EVENTS to Kinesis streams): it stays as it is in the cloud")),
    };
    match (s(a, "instance_id"), stream) {
        (Some(i), Some(arn)) => fold("aws.connect.instance", i, json!({ field: arn })),
        _ => skip(format!(
            "{rtype} goes to {} storage; tandem manages {rtype} to a Kinesis data stream only: it stays as it is in the cloud",
            config.and_then(|c| s(c, "storage_type")).unwrap_or_default()
        )),
    }
}

fn object(kind: &'static str, a: &Map<String, Value>, id_attr: &str) -> Mapped {
    let mut m = Mapped::new(kind, s(a, "arn").unwrap_or_default());
    m.set("instance_id", sv(a, "instance_id"));
    m.out("id", sv(a, id_attr)).out("arn", sv(a, "arn"));
    // The ARN with `$.AwsRegion`, as tandem's objects output it.
    if let Some(arn) = s(a, "arn") {
        let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() == 6 {
            parts[3] = "$.AwsRegion";
            m.out("any_region_arn", Some(json!(parts.join(":"))));
        }
    }
    m
}

fn slice(t: Option<&Map<String, Value>>) -> Value {
    let t = t.cloned().unwrap_or_default();
    json!({ "hours": int(&t, "hours").unwrap_or(0), "minutes": int(&t, "minutes").unwrap_or(0) })
}

pub fn hours_of_operation(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = object("aws.connect.hours_of_operation", a, "hours_of_operation_id");
    m.set("name", sv(a, "name")).set("description", sv(a, "description")).set("time_zone", sv(a, "time_zone"));
    let config: Vec<Value> = blocks(a, "config")
        .iter()
        .map(|c| json!({ "day": s(c, "day"), "start_time": slice(block(c, "start_time")), "end_time": slice(block(c, "end_time")) }))
        .collect();
    m.set("config", Some(json!(config))).set("tags", tags(a));
    Outcome::Kind(m)
}

pub fn queue(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = object("aws.connect.queue", a, "queue_id");
    m.set("name", sv(a, "name")).set("description", sv(a, "description")).set("hours_of_operation_id", sv(a, "hours_of_operation_id"));
    m.set("max_contacts", iv(a, "max_contacts").filter(|v| v != &json!(0))).set("tags", tags(a));
    unmodelled(&mut m, a, &[("quick_connect_ids", "quick connects"), ("outbound_caller_config", "outbound caller ID")]);
    if s(a, "status").is_some_and(|st| st != "ENABLED") {
        m.note(format!("`status` {} is not managed by tandem: it stays as it is in the cloud", a["status"]));
    }
    Outcome::Kind(m)
}

pub fn contact_flow(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = object("aws.connect.contact_flow", a, "contact_flow_id");
    m.set("name", sv(a, "name"))
        .set("type", sv(a, "type"))
        .set("description", sv(a, "description"))
        .set("content", document(a, "content"))
        .set("tags", tags(a));
    if s(a, "content").is_none() {
        return skip(
            "its content is not in the state (it was given as `filename`); export the flow and declare it with `content: ${file(...)}`",
        );
    }
    Outcome::Kind(m)
}

pub fn routing_profile(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = object("aws.connect.routing_profile", a, "routing_profile_id");
    m.set("name", sv(a, "name"))
        .set("description", sv(a, "description"))
        .set("default_outbound_queue_id", sv(a, "default_outbound_queue_id"));
    let mc: Vec<Value> = blocks(a, "media_concurrencies")
        .iter()
        .map(|c| json!({ "channel": s(c, "channel"), "concurrency": int(c, "concurrency") }))
        .collect();
    m.set("media_concurrencies", Some(json!(mc)));
    let qc: Vec<Value> = blocks(a, "queue_configs").iter().map(|q| json!({ "queue_id": s(q, "queue_id"), "channel": s(q, "channel"), "priority": int(q, "priority"), "delay": int(q, "delay").unwrap_or(0) })).collect();
    if !qc.is_empty() {
        m.set("queue_configs", Some(json!(qc)));
    }
    m.set("tags", tags(a));
    Outcome::Kind(m)
}

pub fn user(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = object("aws.connect.user", a, "user_id");
    m.set("username", sv(a, "name"));
    if s(a, "password").is_some() {
        m.set("password", sv(a, "password"));
        m.secrets.push("password".into());
    }
    if let Some(i) = block(a, "identity_info") {
        let mut info = Map::new();
        for k in ["first_name", "last_name", "email"] {
            if let Some(v) = sv(i, k) {
                info.insert(k.into(), v);
            }
        }
        if !info.is_empty() {
            m.set("identity_info", Some(Value::Object(info)));
        }
        for k in ["secondary_email", "mobile"] {
            if s(i, k).is_some() {
                m.note(format!("`identity_info.{k}` is not managed by tandem: it stays as it is in the cloud"));
            }
        }
    }
    if let Some(p) = block(a, "phone_config") {
        let mut pc = Map::new();
        pc.insert("phone_type".into(), json!(s(p, "phone_type").unwrap_or_else(|| "SOFT_PHONE".into())));
        pc.insert("auto_accept".into(), json!(p.get("auto_accept").and_then(Value::as_bool).unwrap_or(false)));
        pc.insert("after_contact_work_time_limit".into(), json!(int(p, "after_contact_work_time_limit").unwrap_or(0)));
        if let Some(n) = sv(p, "desk_phone_number") {
            pc.insert("desk_phone_number".into(), n);
        }
        m.set("phone_config", Some(Value::Object(pc)));
    }
    m.set("routing_profile_id", sv(a, "routing_profile_id"));
    // tandem names security profiles (one spec serves both regions); the
    // names come from the state's aws_connect_security_profile data sources.
    let ids = strings(a, "security_profile_ids");
    let mut names = Vec::new();
    for sp in &ids {
        match src.lookups.security_profiles.get(sp) {
            Some(n) => names.push(n.clone()),
            None => {
                return skip(format!(
                    "its security profile {sp} has no name in the state; tandem names security profiles: add `data \"aws_connect_security_profile\"` for it to the Terraform configuration, refresh, and migrate again"
                ))
            }
        }
    }
    names.sort();
    m.set("security_profile_names", Some(json!(names))).set("tags", tags(a));
    unmodelled(&mut m, a, &[("hierarchy_group_id", "the agent hierarchy"), ("directory_user_id", "a directory user")]);
    Outcome::Kind(m)
}

pub fn phone_number(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.connect.phone_number", id(a));
    m.set("target_arn", sv(a, "target_arn"))
        .set("phone_number", sv(a, "phone_number"))
        .set("country_code", sv(a, "country_code"))
        .set("phone_number_type", sv(a, "type"));
    m.set("phone_number_prefix", sv(a, "prefix")).set("tags", tags(a));
    m.out("id", sv(a, "id")).out("arn", sv(a, "arn")).out("phone_number", sv(a, "phone_number"));
    unmodelled(&mut m, a, &[("description", "the number's description")]);
    Outcome::Kind(m)
}
