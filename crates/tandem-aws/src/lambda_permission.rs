//! `aws.lambda.permission`: one statement of a function's resource policy,
//! letting a service invoke it (AddPermission / GetPolicy / RemovePermission).
//! A kind of its own rather than a property of the rule or the function: the
//! statement names both (the function, and the rule as SourceArn), so it can
//! only be made once both exist, and the graph orders that by itself.
//! https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html

use crate::{classify, AwsContext};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{gone_is_none, prop_str, Ctx, ErrorClass, KindSchema, Observed, ProviderError, ResourceKind, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Permission {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Permission {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.lambda.permission",
            doc: "A statement in a Lambda function's resource policy: lets a service (EventBridge, by default) invoke the function, optionally only from one source ARN.",
            api_reference: "https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html",
            regional: true,
            properties: vec![
                Field::new("function_name", Type::String).required().force_new().refers_to(&["aws.lambda.function"]).doc("FunctionName: the function's name or ARN."),
                Field::new("statement_id", Type::String).required().force_new().check(Check::Length(1, 100)).doc("StatementId; defaults to the resource's key."),
                Field::new("action", Type::String).force_new().computed().doc("Action (default lambda:InvokeFunction)."),
                Field::new("principal", Type::String).force_new().computed().doc("Principal (default events.amazonaws.com)."),
                Field::new("source_arn", Type::String).force_new().refers_to(&["aws.events.rule"]).doc("SourceArn: only this rule (or other resource) may invoke."),
            ],
            outputs: vec![OutputDef::new("id", "FUNCTION_NAME/STATEMENT_ID.")],
            name_field: Some("statement_id"),
            import_id: "FUNCTION_NAME/STATEMENT_ID",
        };
        Permission { aws, schema }
    }

    fn split(id: &str) -> Result<(&str, &str)> {
        id.rsplit_once('/')
            .filter(|(f, s)| !f.is_empty() && !s.is_empty())
            .ok_or_else(|| ProviderError::invalid(format!("`{id}` is not FUNCTION_NAME/STATEMENT_ID")))
    }
}

/// The value of a condition on the source ARN, wherever the policy put it.
fn source_arn(statement: &Value) -> Option<&str> {
    statement
        .pointer("/Condition/ArnLike/AWS:SourceArn")
        .or_else(|| statement.pointer("/Condition/ArnEquals/AWS:SourceArn"))
        .and_then(Value::as_str)
}

#[async_trait]
impl ResourceKind for Permission {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let c = self.aws.lambda(ctx.region()?).await;
        let function = prop_str(props, "function_name").ok_or_else(|| ProviderError::invalid("function_name is required"))?;
        let sid = prop_str(props, "statement_id").ok_or_else(|| ProviderError::invalid("statement_id is required"))?;
        let added = c
            .add_permission()
            .function_name(function)
            .statement_id(sid)
            .action(prop_str(props, "action").unwrap_or("lambda:InvokeFunction"))
            .principal(prop_str(props, "principal").unwrap_or("events.amazonaws.com"))
            .set_source_arn(prop_str(props, "source_arn").map(str::to_string))
            .send()
            .await
            .map_err(|e| classify("AddPermission", &format!("{function}/{sid}"), e));
        // The same statement id already there (a re-run after a crash) is
        // checked by the read below against what the spec says.
        if let Err(e) = added {
            if e.class != ErrorClass::Conflict {
                return Err(e);
            }
        }
        let id = format!("{function}/{sid}");
        self.read(ctx, &id).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("permission {id} is not in the function's policy after AddPermission"))
        })
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let (function, sid) = Self::split(id)?;
        let c = self.aws.lambda(ctx.region()?).await;
        let Some(policy) = gone_is_none(c.get_policy().function_name(function).send().await.map_err(|e| classify("GetPolicy", function, e)))? else { return Ok(None) };
        let doc: Value = serde_json::from_str(policy.policy().unwrap_or("{}")).unwrap_or(Value::Null);
        let Some(st) = doc
            .get("Statement")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid)))
        else {
            return Ok(None);
        };
        let mut p = Map::new();
        p.insert("function_name".into(), json!(function));
        p.insert("statement_id".into(), json!(sid));
        if let Some(a) = st.get("Action").and_then(Value::as_str) {
            p.insert("action".into(), json!(a));
        }
        if let Some(pr) = st.pointer("/Principal/Service").and_then(Value::as_str).or_else(|| st.get("Principal").and_then(Value::as_str)) {
            p.insert("principal".into(), json!(pr));
        }
        if let Some(s) = source_arn(st) {
            p.insert("source_arn".into(), json!(s));
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        _ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        _desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        Err(ProviderError::invalid(format!(
            "permission {id}: {} cannot change in place (every field replaces the statement)",
            changed.join(", ")
        )))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let (function, sid) = Self::split(id)?;
        let c = self.aws.lambda(ctx.region()?).await;
        match c.remove_permission().function_name(function).statement_id(sid).send().await.map_err(|e| classify("RemovePermission", id, e))
        {
            Err(e) if e.class != ErrorClass::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
