//! `aws.connect.contact_flow`: a flow in the Amazon Connect flow language
//! (CreateContactFlow / DescribeContactFlow / UpdateContactFlowContent /
//! UpdateContactFlowName / DeleteContactFlow). The content is a document:
//! written inline as YAML, or as JSON text (`${file("flows/inbound.json")}`),
//! and compared by meaning, so reformatting the file is not a change.
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateContactFlow.html
//! https://docs.aws.amazon.com/connect/latest/APIReference/flow-language.html

use super::object::{required, Client, Described, ObjectApi};
use crate::classify;
use async_trait::async_trait;
use aws_sdk_connect::types::ContactFlowType;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tandem_provider::{required_id, prop_str, Invalid, KindSchema, ProviderError, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

const TYPES: &[&str] = &[
    "CONTACT_FLOW",
    "CUSTOMER_QUEUE",
    "CUSTOMER_HOLD",
    "CUSTOMER_WHISPER",
    "AGENT_HOLD",
    "AGENT_WHISPER",
    "OUTBOUND_WHISPER",
    "AGENT_TRANSFER",
    "QUEUE_TRANSFER",
    "CAMPAIGN",
];

pub(super) struct ContactFlow;

/// The content as the API takes it: JSON text.
fn content(p: &Map<String, Value>) -> Result<String> {
    match p.get("content") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ Value::Object(_)) => Ok(v.to_string()),
        _ => Err(ProviderError::invalid("content is required: the flow as a mapping, or as JSON text")),
    }
}

/// The flow language's own shape: Version, StartAction naming one of Actions.
fn problems(doc: &Value) -> Option<String> {
    let Some(actions) = doc.get("Actions").and_then(Value::as_array) else { return Some("it has no `Actions` list".into()) };
    if doc.get("Version").and_then(Value::as_str).is_none() {
        return Some("it has no `Version` (e.g. \"2019-10-30\")".into());
    }
    let start = doc.get("StartAction").and_then(Value::as_str)?;
    (!actions.iter().any(|a| a.get("Identifier").and_then(Value::as_str) == Some(start)))
        .then(|| format!("`StartAction` {start} is not the Identifier of any action"))
}

#[async_trait]
impl ObjectApi for ContactFlow {
    const ARN_SEGMENT: &'static str = "contact-flow";
    const NOUN: &'static str = "flow";
    const PERMISSIONS: &'static [&'static str] = &[
        "connect:CreateContactFlow",
        "connect:DescribeContactFlow",
        "connect:ListContactFlows",
        "connect:UpdateContactFlowContent",
        "connect:UpdateContactFlowName",
        "connect:DeleteContactFlow",
        "connect:DescribeInstance",
        "connect:TagResource",
        "connect:UntagResource",
    ];

    fn schema() -> KindSchema {
        KindSchema {
            type_name: "aws.connect.contact_flow",
            doc: "A flow of an Amazon Connect instance, in the flow language: what a caller hears and where the contact goes. Global Resiliency mirrors it to the replica of a replicated instance under the same id and keeps both in sync (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources): declare it once, against the source instance; tandem waits for the copy and reports drift in either region.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateContactFlow.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc(super::object::INSTANCE_DOC),
                Field::new("name", Type::String).required().check(Check::Length(1, 127)).doc("Name, unique in the instance; defaults to the resource's key (UpdateContactFlowName)."),
                Field::new("type", Type::enumeration(TYPES)).force_new().computed().doc("Type: CONTACT_FLOW (inbound, the default), CUSTOMER_QUEUE, ..."),
                Field::new("description", Type::String).check(Check::Length(1, 500)).doc("Description (UpdateContactFlowName)."),
                Field::new("content", Type::Any).required().doc("Content: the flow-language document, as a mapping or as JSON text such as `${file(\"flows/inbound.json\")}` (UpdateContactFlowContent). Compared by meaning."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The flow id (ContactFlowId)."), OutputDef::new("arn", "The flow ARN.")],
            name_field: Some("name"),
            import_id: "the flow's ARN (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/contact-flow/ID)",
        }
    }

    fn check(p: &Map<String, Value>) -> Vec<Invalid> {
        let doc = match p.get("content") {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v) => v,
                Err(e) => return vec![Invalid::new("content", format!("the flow is not JSON: {e}"))],
            },
            Some(v) => v.clone(),
        };
        problems(&doc).map(|m| Invalid::new("content", format!("not a flow-language document: {m}"))).into_iter().collect()
    }

    async fn create(c: &Client, instance: &str, p: &Map<String, Value>, tags: HashMap<String, String>) -> Result<String> {
        let name = required(p, "name")?;
        let out = c
            .create_contact_flow()
            .instance_id(instance)
            .name(name)
            .r#type(ContactFlowType::from(prop_str(p, "type").unwrap_or("CONTACT_FLOW")))
            .set_description(prop_str(p, "description").map(str::to_string))
            .content(content(p)?)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| classify("CreateContactFlow", name, e))?;
        required_id("aws.connect.contact_flow", "CreateContactFlow", out.contact_flow_arn())
    }

    async fn describe(c: &Client, instance: &str, id: &str) -> Result<Option<Described>> {
        let out = c
            .describe_contact_flow()
            .instance_id(instance)
            .contact_flow_id(id)
            .send()
            .await
            .map_err(|e| classify("DescribeContactFlow", id, e))?;
        let Some(f) = out.contact_flow() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("name".into(), json!(f.name()));
        if let Some(t) = f.r#type() {
            p.insert("type".into(), json!(t.as_str()));
        }
        if let Some(d) = f.description() {
            p.insert("description".into(), json!(d));
        }
        p.insert("content".into(), json!(f.content()));
        Ok(Some(Described { props: p, arn: f.arn().unwrap_or_default().to_string(), tags: f.tags().cloned() }))
    }

    async fn find(c: &Client, instance: &str, name: &str) -> Result<Option<String>> {
        crate::connect_find_by_name!(c, instance, name, "ListContactFlows", list_contact_flows, contact_flow_summary_list)
    }

    async fn update(c: &Client, instance: &str, id: &str, d: &Map<String, Value>, changed: &[String]) -> Result<()> {
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("content") {
            c.update_contact_flow_content()
                .instance_id(instance)
                .contact_flow_id(id)
                .content(content(d)?)
                .send()
                .await
                .map_err(|e| classify("UpdateContactFlowContent", id, e))?;
        }
        if has("name") || has("description") {
            c.update_contact_flow_name()
                .instance_id(instance)
                .contact_flow_id(id)
                .set_name(prop_str(d, "name").map(str::to_string))
                .set_description(prop_str(d, "description").map(str::to_string))
                .send()
                .await
                .map_err(|e| classify("UpdateContactFlowName", id, e))?;
        }
        Ok(())
    }

    async fn delete(c: &Client, instance: &str, id: &str) -> Result<()> {
        c.delete_contact_flow().instance_id(instance).contact_flow_id(id).send().await.map_err(|e| classify("DeleteContactFlow", id, e))?;
        Ok(())
    }
}
