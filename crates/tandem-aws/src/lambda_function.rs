//! `aws.lambda.function`: a function from a zip file (CreateFunction /
//! GetFunction / UpdateFunctionCode / UpdateFunctionConfiguration /
//! TagResource / UntagResource / DeleteFunction), waited on until its State is
//! Active and its LastUpdateStatus Successful.
//! https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
//!
//! The code is identified by `source_code_hash`, the base64 SHA-256 Lambda
//! reports as CodeSha256: give it as `${filebase64sha256("build/fn.zip")}` and
//! a rebuilt zip is a change (UpdateFunctionCode); code changed outside
//! tandem is drift.

use crate::tags::{self, ADDRESS_TAG};
use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tandem_provider::{gone_is_none, 
    prop_i64, prop_str, wait_until, Ctx, ErrorClass, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Function {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

fn zip(props: &Map<String, Value>) -> Result<Blob> {
    let path = prop_str(props, "zip_file").ok_or_else(|| ProviderError::invalid("zip_file is required"))?;
    std::fs::read(path).map(Blob::new).map_err(|e| ProviderError::invalid(format!("cannot read zip_file {path}: {e}")))
}

fn environment(props: &Map<String, Value>) -> Environment {
    let vars: HashMap<String, String> = props
        .get("environment")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect())
        .unwrap_or_default();
    Environment::builder().set_variables(Some(vars)).build()
}

/// A new role is not at once assumable by Lambda (IAM is eventually
/// consistent): CreateFunction says so with InvalidParameterValueException.
/// https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
fn role_not_ready(e: &ProviderError) -> bool {
    e.code.as_deref() == Some("InvalidParameterValueException") && e.message.contains("cannot be assumed")
}

impl Function {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.lambda.function",
            doc: "A Lambda function deployed from a zip file (a custom runtime's `bootstrap` by default), its configuration and environment.",
            api_reference: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
            regional: true,
            properties: vec![
                Field::new("function_name", Type::String).required().force_new().check(Check::Length(1, 64)).doc("FunctionName; defaults to the resource's key."),
                Field::new("role", Type::String).required().refers_to(&["aws.iam.role"]).doc("Role: the execution role's ARN."),
                Field::new("runtime", Type::String).computed().doc("Runtime (default provided.al2023, for a Rust `bootstrap`)."),
                Field::new("handler", Type::String).computed().doc("Handler (default bootstrap)."),
                Field::new("architectures", Type::list(Type::enumeration(&["x86_64", "arm64"]))).computed().doc("Architectures: one of x86_64 (default) or arm64, matching the binary in the zip."),
                Field::new("zip_file", Type::String).required().doc("The zip to deploy: `${path(\"build/fn.zip\")}` (relative to the spec). Read at create and on code updates; not read back."),
                Field::new("source_code_hash", Type::String).computed().doc("The zip's base64 SHA-256, `${filebase64sha256(\"build/fn.zip\")}`; compared with CodeSha256, so a new zip updates the code."),
                Field::new("description", Type::String).check(Check::Length(0, 256)).doc("Description."),
                Field::new("memory_size", Type::Integer).computed().check(Check::Range(128, 10240)).doc("MemorySize in MB (default 128)."),
                Field::new("timeout", Type::Integer).computed().check(Check::Range(1, 900)).doc("Timeout in seconds (default 3)."),
                Field::new("environment", Type::map(Type::String)).doc("Environment variables (not for secrets: they show in plans and in the console)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The function name."), OutputDef::new("arn", "The function ARN."), OutputDef::new("code_sha256", "CodeSha256 of the deployed code.")],
            name_field: Some("function_name"),
            import_id: "the function name",
        };
        Function { aws, schema }
    }

    /// Until State Active and LastUpdateStatus Successful (or failed).
    /// https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
    async fn wait_ready(&self, ctx: &Ctx, c: &aws_sdk_lambda::Client, name: &str) -> Result<()> {
        wait_until(ctx, "function", Waiter::default(), || async {
            let f = c.get_function().function_name(name).send().await.map_err(|e| classify("GetFunction", name, e))?;
            let Some(cfg) = f.configuration() else { return Ok(WaitOutcome::Pending("not visible yet".into())) };
            let reason = |r: Option<&str>| r.map(|r| format!(": {r}")).unwrap_or_default();
            Ok(match (cfg.state(), cfg.last_update_status()) {
                (Some(State::Failed), _) => WaitOutcome::Failed(format!("State Failed{}", reason(cfg.state_reason()))),
                (_, Some(LastUpdateStatus::Failed)) => {
                    WaitOutcome::Failed(format!("LastUpdateStatus Failed{}", reason(cfg.last_update_status_reason())))
                }
                (Some(State::Active) | None, Some(LastUpdateStatus::Successful) | None) => WaitOutcome::Ready(()),
                (s, u) => {
                    WaitOutcome::Pending(format!("{} / {}", s.map(|s| s.as_str()).unwrap_or("?"), u.map(|u| u.as_str()).unwrap_or("?")))
                }
            })
        })
        .await
    }
}

#[async_trait]
impl ResourceKind for Function {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "lambda:CreateFunction",
            "lambda:GetFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:DeleteFunction",
            "lambda:TagResource",
            "lambda:UntagResource",
            "iam:PassRole",
        ]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let c = self.aws.lambda(ctx.region()?).await;
        let name = prop_str(props, "function_name").ok_or_else(|| ProviderError::invalid("function_name is required"))?;
        let code = zip(props)?;
        let mut t: HashMap<String, String> = tags::desired(props).into_iter().collect();
        t.insert(ADDRESS_TAG.into(), ctx.address.clone());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let made = c
                .create_function()
                .function_name(name)
                .role(prop_str(props, "role").unwrap_or_default())
                .runtime(Runtime::from(prop_str(props, "runtime").unwrap_or("provided.al2023")))
                .handler(prop_str(props, "handler").unwrap_or("bootstrap"))
                .code(FunctionCode::builder().zip_file(code.clone()).build())
                .set_architectures(
                    props
                        .get("architectures")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(Architecture::from).collect()),
                )
                .set_description(prop_str(props, "description").map(str::to_string))
                .set_memory_size(prop_i64(props, "memory_size").map(|n| n as i32))
                .set_timeout(prop_i64(props, "timeout").map(|n| n as i32))
                .environment(environment(props))
                .set_tags(Some(t.clone()))
                .send()
                .await
                .map_err(|e| classify("CreateFunction", name, e));
            match made {
                Ok(_) => break,
                Err(e) if role_not_ready(&e) && tokio::time::Instant::now() < deadline => {
                    ctx.report(format!("{}: the role is not assumable by Lambda yet (IAM propagation); retrying", ctx.address));
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                Err(e) if e.class == ErrorClass::Conflict => {
                    // ResourceConflictException: it exists; ours (a crashed run) or someone else's.
                    let existing = c.get_function().function_name(name).send().await.map_err(|e| classify("GetFunction", name, e))?;
                    if existing.tags().and_then(|t| t.get(ADDRESS_TAG)) != Some(&ctx.address) {
                        return Err(ProviderError::new(ErrorClass::Conflict, format!("a function named {name} already exists and is not {}'s: take it over with `tandem import {} {name}`, or choose another function_name", ctx.address, ctx.address)));
                    }
                    ctx.report(format!("function {name} was made for {} by an earlier interrupted run; adopting it", ctx.address));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let partial = Observed { id: name.to_string(), ..Default::default() };
        self.wait_ready(ctx, &c, name).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, name).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("function {name} vanished right after it was created")).with_partial(partial)
        })
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let c = self.aws.lambda(ctx.region()?).await;
        let Some(f) = gone_is_none(c.get_function().function_name(id).send().await.map_err(|e| classify("GetFunction", id, e)))? else { return Ok(None) };
        let Some(cfg) = f.configuration() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("function_name".into(), json!(cfg.function_name()));
        p.insert("role".into(), json!(cfg.role()));
        if let Some(r) = cfg.runtime() {
            p.insert("runtime".into(), json!(r.as_str()));
        }
        p.insert("handler".into(), json!(cfg.handler()));
        p.insert("architectures".into(), json!(cfg.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>()));
        p.insert("source_code_hash".into(), json!(cfg.code_sha256()));
        if let Some(d) = cfg.description().filter(|d| !d.is_empty()) {
            p.insert("description".into(), json!(d));
        }
        p.insert("memory_size".into(), json!(cfg.memory_size()));
        p.insert("timeout".into(), json!(cfg.timeout()));
        let vars: BTreeMap<String, String> =
            cfg.environment().and_then(|e| e.variables()).map(|v| v.clone().into_iter().collect()).unwrap_or_default();
        p.insert("environment".into(), json!(vars));
        p.insert("tags".into(), tags::to_value(f.tags().cloned().unwrap_or_default()));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(cfg.function_name()));
        outputs.insert("arn".into(), json!(cfg.function_arn()));
        outputs.insert("code_sha256".into(), json!(cfg.code_sha256()));
        Ok(Some(Observed { id: cfg.function_name().unwrap_or(id).to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let c = self.aws.lambda(ctx.region()?).await;
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("zip_file") || has("source_code_hash") || has("architectures") {
            c.update_function_code()
                .function_name(id)
                .zip_file(zip(desired)?)
                .set_architectures(
                    desired
                        .get("architectures")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(Architecture::from).collect()),
                )
                .send()
                .await
                .map_err(|e| classify("UpdateFunctionCode", id, e))?;
            self.wait_ready(ctx, &c, id).await?;
        }
        if ["role", "runtime", "handler", "description", "memory_size", "timeout", "environment"].iter().any(|f| has(f)) {
            c.update_function_configuration()
                .function_name(id)
                .set_role(prop_str(desired, "role").map(str::to_string))
                .set_runtime(prop_str(desired, "runtime").map(Runtime::from))
                .set_handler(prop_str(desired, "handler").map(str::to_string))
                .set_description(prop_str(desired, "description").map(str::to_string))
                .set_memory_size(prop_i64(desired, "memory_size").map(|n| n as i32))
                .set_timeout(prop_i64(desired, "timeout").map(|n| n as i32))
                .environment(environment(desired))
                .send()
                .await
                .map_err(|e| classify("UpdateFunctionConfiguration", id, e))?;
            self.wait_ready(ctx, &c, id).await?;
        }
        if has("tags") {
            let now = self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("function {id} is gone")))?;
            let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default().to_string();
            let (set, remove) = tags::delta(&tags::desired(prior), &tags::desired(desired));
            if !set.is_empty() {
                c.tag_resource()
                    .resource(&arn)
                    .set_tags(Some(set.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| classify("TagResource", &arn, e))?;
            }
            if !remove.is_empty() {
                c.untag_resource()
                    .resource(&arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map_err(|e| classify("UntagResource", &arn, e))?;
            }
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("function {id} is gone; re-run plan to create it again")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let c = self.aws.lambda(ctx.region()?).await;
        match c.delete_function().function_name(id).send().await.map_err(|e| classify("DeleteFunction", id, e)) {
            Err(e) if e.class != ErrorClass::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
