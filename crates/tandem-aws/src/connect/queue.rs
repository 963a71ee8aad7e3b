//! `aws.connect.queue`: a standard queue (CreateQueue / DescribeQueue /
//! UpdateQueueName / UpdateQueueHoursOfOperation / UpdateQueueMaxContacts /
//! DeleteQueue).
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateQueue.html

use super::object::{int, required, Client, Described, ObjectApi};
use crate::classify;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tandem_provider::{required_id, prop_str, KindSchema, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

pub(super) struct Queue;

#[async_trait]
impl ObjectApi for Queue {
    const ARN_SEGMENT: &'static str = "queue";
    const NOUN: &'static str = "queue";
    const PERMISSIONS: &'static [&'static str] = &[
        "connect:CreateQueue",
        "connect:DescribeQueue",
        "connect:ListQueues",
        "connect:UpdateQueueName",
        "connect:UpdateQueueHoursOfOperation",
        "connect:UpdateQueueMaxContacts",
        "connect:DeleteQueue",
        "connect:DescribeInstance",
        "connect:TagResource",
        "connect:UntagResource",
    ];

    fn schema() -> KindSchema {
        KindSchema {
            type_name: "aws.connect.queue",
            doc: "A standard queue of an Amazon Connect instance: where contacts wait for an agent, open during its hours of operation. Global Resiliency mirrors it to the replica of a replicated instance under the same id and keeps both in sync (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources): declare it once, against the source instance; tandem waits for the copy and reports drift in either region.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateQueue.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc(super::object::INSTANCE_DOC),
                Field::new("name", Type::String).required().check(Check::Length(1, 127)).doc("Name, unique in the instance; defaults to the resource's key (UpdateQueueName)."),
                Field::new("description", Type::String).check(Check::Length(1, 250)).doc("Description (UpdateQueueName)."),
                Field::new("hours_of_operation_id", Type::String).required().refers_to(&["aws.connect.hours_of_operation"]).doc("HoursOfOperationId (UpdateQueueHoursOfOperation)."),
                Field::new("max_contacts", Type::Integer).check(Check::Range(0, 2_147_483_647)).doc("MaxContacts in the queue before it is full; unlimited when absent (UpdateQueueMaxContacts)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "QueueId."), OutputDef::new("arn", "QueueArn.")],
            name_field: Some("name"),
            import_id: "the queue's ARN (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/queue/ID)",
        }
    }

    async fn create(c: &Client, instance: &str, p: &Map<String, Value>, tags: HashMap<String, String>) -> Result<String> {
        let name = required(p, "name")?;
        let out = c
            .create_queue()
            .instance_id(instance)
            .name(name)
            .set_description(prop_str(p, "description").map(str::to_string))
            .hours_of_operation_id(required(p, "hours_of_operation_id")?)
            .set_max_contacts(int(p, "max_contacts"))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| classify("CreateQueue", name, e))?;
        required_id("aws.connect.queue", "CreateQueue", out.queue_arn())
    }

    async fn describe(c: &Client, instance: &str, id: &str) -> Result<Option<Described>> {
        let out = c.describe_queue().instance_id(instance).queue_id(id).send().await.map_err(|e| classify("DescribeQueue", id, e))?;
        let Some(q) = out.queue() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("name".into(), json!(q.name()));
        if let Some(d) = q.description() {
            p.insert("description".into(), json!(d));
        }
        p.insert("hours_of_operation_id".into(), json!(q.hours_of_operation_id()));
        if let Some(m) = q.max_contacts() {
            p.insert("max_contacts".into(), json!(m));
        }
        Ok(Some(Described { props: p, arn: q.queue_arn().unwrap_or_default().to_string(), tags: q.tags().cloned() }))
    }

    async fn find(c: &Client, instance: &str, name: &str) -> Result<Option<String>> {
        crate::connect_find_by_name!(c, instance, name, "ListQueues", list_queues, queue_summary_list)
    }

    async fn update(c: &Client, instance: &str, id: &str, d: &Map<String, Value>, changed: &[String]) -> Result<()> {
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("name") || has("description") {
            c.update_queue_name()
                .instance_id(instance)
                .queue_id(id)
                .set_name(prop_str(d, "name").map(str::to_string))
                .set_description(prop_str(d, "description").map(str::to_string))
                .send()
                .await
                .map_err(|e| classify("UpdateQueueName", id, e))?;
        }
        if has("hours_of_operation_id") {
            c.update_queue_hours_of_operation()
                .instance_id(instance)
                .queue_id(id)
                .hours_of_operation_id(required(d, "hours_of_operation_id")?)
                .send()
                .await
                .map_err(|e| classify("UpdateQueueHoursOfOperation", id, e))?;
        }
        if has("max_contacts") {
            c.update_queue_max_contacts()
                .instance_id(instance)
                .queue_id(id)
                .set_max_contacts(int(d, "max_contacts"))
                .send()
                .await
                .map_err(|e| classify("UpdateQueueMaxContacts", id, e))?;
        }
        Ok(())
    }

    async fn delete(c: &Client, instance: &str, id: &str) -> Result<()> {
        c.delete_queue().instance_id(instance).queue_id(id).send().await.map_err(|e| classify("DeleteQueue", id, e))?;
        Ok(())
    }
}
