//! `aws.connect.routing_profile`: which queues an agent takes contacts from,
//! on which channels, how many at once (CreateRoutingProfile /
//! DescribeRoutingProfile / ListRoutingProfileQueues / UpdateRoutingProfileName
//! / UpdateRoutingProfileDefaultOutboundQueue / UpdateRoutingProfileConcurrency
//! / AssociateRoutingProfileQueues / UpdateRoutingProfileQueues /
//! DisassociateRoutingProfileQueues / DeleteRoutingProfile).
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateRoutingProfile.html

use super::object::{required, Client, Described, ObjectApi};
use crate::classify;
use async_trait::async_trait;
use aws_sdk_connect::types::{Channel, MediaConcurrency, RoutingProfileQueueConfig, RoutingProfileQueueReference};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use tandem_provider::{required_id, prop_str, KindSchema, ProviderError, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

const CHANNELS: &[&str] = &["VOICE", "CHAT", "TASK", "EMAIL"];

/// AssociateRoutingProfileQueues and its siblings take at most 10 queues a call.
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociateRoutingProfileQueues.html
const QUEUES_PER_CALL: usize = 10;

pub(super) struct RoutingProfile;

fn concurrencies(p: &Map<String, Value>) -> Result<Vec<MediaConcurrency>> {
    p.get("media_concurrencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let channel = m.get("channel").and_then(Value::as_str).unwrap_or_default();
            let n = m.get("concurrency").and_then(Value::as_i64).unwrap_or(1) as i32;
            MediaConcurrency::builder()
                .channel(Channel::from(channel))
                .concurrency(n)
                .build()
                .map_err(|e| ProviderError::invalid(format!("media_concurrencies {channel}: {e}")))
        })
        .collect()
}

/// (queue id, channel) -> (priority, delay)
type QueueConfigs = BTreeMap<(String, String), (i64, i64)>;

fn desired_queues(p: &Map<String, Value>) -> QueueConfigs {
    p.get("queue_configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|q| {
            let s = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let n = |k: &str| q.get(k).and_then(Value::as_i64).unwrap_or_default();
            ((s("queue_id"), s("channel")), (n("priority"), n("delay")))
        })
        .collect()
}

fn reference(queue: &str, channel: &str) -> Result<RoutingProfileQueueReference> {
    RoutingProfileQueueReference::builder()
        .queue_id(queue)
        .channel(Channel::from(channel))
        .build()
        .map_err(|e| ProviderError::invalid(format!("queue {queue}: {e}")))
}

fn queue_config(((queue, channel), (priority, delay)): (&(String, String), &(i64, i64))) -> Result<RoutingProfileQueueConfig> {
    RoutingProfileQueueConfig::builder()
        .queue_reference(reference(queue, channel)?)
        .priority(*priority as i32)
        .delay(*delay as i32)
        .build()
        .map_err(|e| ProviderError::invalid(format!("queue {queue}: {e}")))
}

async fn current_queues(c: &Client, instance: &str, id: &str) -> Result<QueueConfigs> {
    let mut out = QueueConfigs::new();
    let mut next: Option<String> = None;
    loop {
        let page = c
            .list_routing_profile_queues()
            .instance_id(instance)
            .routing_profile_id(id)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify("ListRoutingProfileQueues", id, e))?;
        for q in page.routing_profile_queue_config_summary_list() {
            out.insert((q.queue_id().to_string(), q.channel().as_str().to_string()), (i64::from(q.priority()), i64::from(q.delay())));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

#[async_trait]
impl ObjectApi for RoutingProfile {
    const ARN_SEGMENT: &'static str = "routing-profile";
    const NOUN: &'static str = "routing profile";
    const PERMISSIONS: &'static [&'static str] = &[
        "connect:CreateRoutingProfile",
        "connect:DescribeRoutingProfile",
        "connect:ListRoutingProfiles",
        "connect:UpdateRoutingProfileName",
        "connect:UpdateRoutingProfileDefaultOutboundQueue",
        "connect:UpdateRoutingProfileConcurrency",
        "connect:AssociateRoutingProfileQueues",
        "connect:DisassociateRoutingProfileQueues",
        "connect:UpdateRoutingProfileQueues",
        "connect:ListRoutingProfileQueues",
        "connect:DeleteRoutingProfile",
        "connect:DescribeInstance",
        "connect:TagResource",
        "connect:UntagResource",
    ];

    fn schema() -> KindSchema {
        let queue_config = Type::Object(vec![
            Field::new("queue_id", Type::String).required().refers_to(&["aws.connect.queue"]).doc("QueueReference.QueueId."),
            Field::new("channel", Type::enumeration(CHANNELS)).required().doc("QueueReference.Channel."),
            Field::new("priority", Type::Integer).required().check(Check::Range(1, 99)).doc("Priority: 1 is served first."),
            Field::new("delay", Type::Integer)
                .required()
                .check(Check::Range(0, 9999))
                .doc("Delay: seconds a contact waits in this queue before agents of this profile get it."),
        ]);
        KindSchema {
            type_name: "aws.connect.routing_profile",
            doc: "A routing profile of an Amazon Connect instance: the queues its agents serve, per channel, with priorities, and how many contacts they take at once. Global Resiliency mirrors it to the replica of a replicated instance under the same id and keeps both in sync (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources): declare it once, against the source instance; tandem waits for the copy and reports drift in either region.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateRoutingProfile.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc(super::object::INSTANCE_DOC),
                Field::new("name", Type::String).required().check(Check::Length(1, 127)).doc("Name, unique in the instance; defaults to the resource's key."),
                Field::new("description", Type::String).required().check(Check::Length(1, 250)).doc("Description (the API requires one)."),
                Field::new("default_outbound_queue_id", Type::String).required().refers_to(&["aws.connect.queue"]).doc("DefaultOutboundQueueId: the queue outbound calls are counted in."),
                Field::new(
                    "media_concurrencies",
                    Type::list(Type::Object(vec![
                        Field::new("channel", Type::enumeration(CHANNELS)).required().doc("Channel."),
                        Field::new("concurrency", Type::Integer).required().check(Check::Range(1, 10)).doc("Concurrency: contacts at once (VOICE: 1)."),
                    ])),
                )
                .required()
                .unordered()
                .doc("MediaConcurrencies: one per channel the agents handle."),
                Field::new("queue_configs", Type::list(queue_config)).unordered().doc("QueueConfigs: the queues served, each on one channel (associated, updated and disassociated in place)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "RoutingProfileId."), OutputDef::new("arn", "RoutingProfileArn.")],
            name_field: Some("name"),
            import_id: "the routing profile's ARN (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/routing-profile/ID)",
        }
    }

    async fn create(c: &Client, instance: &str, p: &Map<String, Value>, tags: HashMap<String, String>) -> Result<String> {
        let name = required(p, "name")?;
        let queues: Vec<RoutingProfileQueueConfig> = desired_queues(p).iter().map(queue_config).collect::<Result<_>>()?;
        let (first, rest) = queues.split_at(queues.len().min(QUEUES_PER_CALL));
        let out = c
            .create_routing_profile()
            .instance_id(instance)
            .name(name)
            .description(required(p, "description")?)
            .default_outbound_queue_id(required(p, "default_outbound_queue_id")?)
            .set_media_concurrencies(Some(concurrencies(p)?))
            .set_queue_configs((!first.is_empty()).then(|| first.to_vec()))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| classify("CreateRoutingProfile", name, e))?;
        let id = &required_id("aws.connect.routing_profile", "CreateRoutingProfile", out.routing_profile_id())?;
        for chunk in rest.chunks(QUEUES_PER_CALL) {
            c.associate_routing_profile_queues()
                .instance_id(instance)
                .routing_profile_id(id)
                .set_queue_configs(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| classify("AssociateRoutingProfileQueues", id, e))?;
        }
        required_id("aws.connect.routing_profile", "CreateRoutingProfile", out.routing_profile_arn())
    }

    async fn describe(c: &Client, instance: &str, id: &str) -> Result<Option<Described>> {
        let out = c
            .describe_routing_profile()
            .instance_id(instance)
            .routing_profile_id(id)
            .send()
            .await
            .map_err(|e| classify("DescribeRoutingProfile", id, e))?;
        let Some(r) = out.routing_profile() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("name".into(), json!(r.name()));
        if let Some(d) = r.description() {
            p.insert("description".into(), json!(d));
        }
        p.insert("default_outbound_queue_id".into(), json!(r.default_outbound_queue_id()));
        let mc: Vec<Value> =
            r.media_concurrencies().iter().map(|m| json!({"channel": m.channel().as_str(), "concurrency": m.concurrency()})).collect();
        p.insert("media_concurrencies".into(), json!(mc));
        let queues: Vec<Value> = current_queues(c, instance, id)
            .await?
            .into_iter()
            .map(|((q, ch), (pr, d))| json!({"queue_id": q, "channel": ch, "priority": pr, "delay": d}))
            .collect();
        p.insert("queue_configs".into(), json!(queues));
        Ok(Some(Described { props: p, arn: r.routing_profile_arn().unwrap_or_default().to_string(), tags: r.tags().cloned() }))
    }

    async fn find(c: &Client, instance: &str, name: &str) -> Result<Option<String>> {
        crate::connect_find_by_name!(c, instance, name, "ListRoutingProfiles", list_routing_profiles, routing_profile_summary_list)
    }

    async fn update(c: &Client, instance: &str, id: &str, d: &Map<String, Value>, changed: &[String]) -> Result<()> {
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("name") || has("description") {
            c.update_routing_profile_name()
                .instance_id(instance)
                .routing_profile_id(id)
                .set_name(prop_str(d, "name").map(str::to_string))
                .set_description(prop_str(d, "description").map(str::to_string))
                .send()
                .await
                .map_err(|e| classify("UpdateRoutingProfileName", id, e))?;
        }
        if has("default_outbound_queue_id") {
            c.update_routing_profile_default_outbound_queue()
                .instance_id(instance)
                .routing_profile_id(id)
                .default_outbound_queue_id(required(d, "default_outbound_queue_id")?)
                .send()
                .await
                .map_err(|e| classify("UpdateRoutingProfileDefaultOutboundQueue", id, e))?;
        }
        if has("media_concurrencies") {
            c.update_routing_profile_concurrency()
                .instance_id(instance)
                .routing_profile_id(id)
                .set_media_concurrencies(Some(concurrencies(d)?))
                .send()
                .await
                .map_err(|e| classify("UpdateRoutingProfileConcurrency", id, e))?;
        }
        if has("queue_configs") {
            // Against what is associated now, not what was last applied.
            let now = current_queues(c, instance, id).await?;
            let want = desired_queues(d);
            let add: Vec<_> = want.iter().filter(|(k, _)| !now.contains_key(*k)).map(queue_config).collect::<Result<_>>()?;
            let change: Vec<_> =
                want.iter().filter(|(k, v)| now.get(*k).is_some_and(|n| n != *v)).map(queue_config).collect::<Result<_>>()?;
            let remove: Vec<_> = now.keys().filter(|k| !want.contains_key(*k)).map(|(q, ch)| reference(q, ch)).collect::<Result<_>>()?;
            for chunk in add.chunks(QUEUES_PER_CALL) {
                c.associate_routing_profile_queues()
                    .instance_id(instance)
                    .routing_profile_id(id)
                    .set_queue_configs(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| classify("AssociateRoutingProfileQueues", id, e))?;
            }
            for chunk in change.chunks(QUEUES_PER_CALL) {
                c.update_routing_profile_queues()
                    .instance_id(instance)
                    .routing_profile_id(id)
                    .set_queue_configs(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| classify("UpdateRoutingProfileQueues", id, e))?;
            }
            for chunk in remove.chunks(QUEUES_PER_CALL) {
                c.disassociate_routing_profile_queues()
                    .instance_id(instance)
                    .routing_profile_id(id)
                    .set_queue_references(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| classify("DisassociateRoutingProfileQueues", id, e))?;
            }
        }
        Ok(())
    }

    async fn delete(c: &Client, instance: &str, id: &str) -> Result<()> {
        c.delete_routing_profile()
            .instance_id(instance)
            .routing_profile_id(id)
            .send()
            .await
            .map_err(|e| classify("DeleteRoutingProfile", id, e))?;
        Ok(())
    }
}
