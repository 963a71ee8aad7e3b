//! `aws.iam.role`: a role with its trust policy, inline policies and managed
//! policy attachments (CreateRole / GetRole / UpdateRole /
//! UpdateAssumeRolePolicy / PutRolePolicy / DeleteRolePolicy /
//! AttachRolePolicy / DetachRolePolicy / TagRole / UntagRole / DeleteRole).
//! IAM is global: the kind takes no region and its calls go to us-east-1.
//! Policy documents are compared by meaning (IAM returns them URL-encoded and
//! reformatted).
//! https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html

use crate::tags::{self, ADDRESS_TAG};
use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tandem_provider::{prop_i64, prop_str, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Role {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

/// A policy document as IAM takes it: JSON text.
fn document(v: Option<&Value>, what: &str) -> Result<String> {
    match v {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ Value::Object(_)) => Ok(v.to_string()),
        _ => Err(ProviderError::invalid(format!("{what} is required: a policy document, as a mapping or JSON text"))),
    }
}

/// IAM answers documents URL-encoded (RFC 3986).
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html
fn decoded(s: &str) -> Value {
    let text = percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The policy language's shape, before any call: Version and Statement.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
fn check_document(field: &str, v: &Value) -> Option<Invalid> {
    let doc = match v {
        Value::Null => return None,
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(d) => d,
            Err(e) => return Some(Invalid::new(field, format!("the policy is not JSON: {e}"))),
        },
        d => d.clone(),
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return Some(Invalid::new(field, "a policy needs a `Statement` (a list of statements)")),
    };
    if doc.get("Version").and_then(Value::as_str) != Some("2012-10-17") {
        return Some(Invalid::new(field, "a policy needs `Version: \"2012-10-17\"` (the current policy language)"));
    }
    statements.iter().enumerate().find_map(|(i, st)| match st.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => None,
        _ => Some(Invalid::new(field, format!("Statement[{i}] needs `Effect: Allow` or `Effect: Deny`"))),
    })
}

impl Role {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.iam.role",
            doc: "An IAM role: who may assume it (the trust policy), what it may do (inline policies, attached managed policies). Global: no region.",
            api_reference: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
            regional: false,
            properties: vec![
                Field::new("role_name", Type::String).required().force_new().check(Check::Length(1, 64)).doc("RoleName; defaults to the resource's key."),
                Field::new("path", Type::String).force_new().computed().check(Check::Length(1, 512)).doc("Path (default /)."),
                Field::new("description", Type::String).check(Check::Length(0, 1000)).doc("Description (UpdateRole)."),
                Field::new("assume_role_policy", Type::Any).required().doc("AssumeRolePolicyDocument: the trust policy, as a mapping or JSON text (UpdateAssumeRolePolicy)."),
                Field::new("max_session_duration", Type::Integer).computed().check(Check::Range(3600, 43200)).doc("MaxSessionDuration in seconds (UpdateRole)."),
                Field::new(
                    "inline_policies",
                    Type::list(Type::Object(vec![
                        Field::new("name", Type::String).required().check(Check::Length(1, 128)).doc("PolicyName."),
                        Field::new("document", Type::Any).required().doc("PolicyDocument, as a mapping or JSON text."),
                    ])),
                )
                .unordered()
                .doc("Inline policies (PutRolePolicy; ones no longer listed are deleted)."),
                Field::new("managed_policy_arns", Type::list(Type::String)).unordered().doc("Managed policies attached (AttachRolePolicy / DetachRolePolicy)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The role name."), OutputDef::new("arn", "The role ARN."), OutputDef::new("role_id", "The role's unique id (AROA...).")],
            name_field: Some("role_name"),
            import_id: "the role name",
        };
        Role { aws, schema }
    }

    async fn inline(&self, c: &aws_sdk_iam::Client, name: &str) -> Result<BTreeMap<String, Value>> {
        let mut out = BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let page = c
                .list_role_policies()
                .role_name(name)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify("ListRolePolicies", name, e))?;
            for p in page.policy_names() {
                let d = c.get_role_policy().role_name(name).policy_name(p).send().await.map_err(|e| classify("GetRolePolicy", p, e))?;
                out.insert(p.clone(), decoded(d.policy_document()));
            }
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    async fn attached(&self, c: &aws_sdk_iam::Client, name: &str) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut marker: Option<String> = None;
        loop {
            let page = c
                .list_attached_role_policies()
                .role_name(name)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify("ListAttachedRolePolicies", name, e))?;
            out.extend(page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)));
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// Make the role's inline and attached policies what `desired` says.
    async fn converge_policies(&self, c: &aws_sdk_iam::Client, name: &str, desired: &Map<String, Value>) -> Result<()> {
        let want: BTreeMap<String, Value> = desired
            .get("inline_policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get("name")?.as_str()?.to_string(), p.get("document")?.clone())))
            .collect();
        let have = self.inline(c, name).await?;
        for (policy, doc) in &want {
            let text = document(Some(doc), &format!("inline_policies {policy} document"))?;
            let same = have.get(policy).is_some_and(|h| serde_json::from_str::<Value>(&text).is_ok_and(|w| &w == h));
            if !same {
                c.put_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .policy_document(text)
                    .send()
                    .await
                    .map_err(|e| classify("PutRolePolicy", policy, e))?;
            }
        }
        for policy in have.keys().filter(|p| !want.contains_key(*p)) {
            c.delete_role_policy().role_name(name).policy_name(policy).send().await.map_err(|e| classify("DeleteRolePolicy", policy, e))?;
        }
        if desired.contains_key("managed_policy_arns") {
            let want: BTreeSet<String> = desired
                .get("managed_policy_arns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let have = self.attached(c, name).await?;
            for arn in want.difference(&have) {
                c.attach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| classify("AttachRolePolicy", arn, e))?;
            }
            for arn in have.difference(&want) {
                c.detach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| classify("DetachRolePolicy", arn, e))?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceKind for Role {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "iam:CreateRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRole",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:ListRolePolicies",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:TagRole",
            "iam:UntagRole",
        ]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out: Vec<Invalid> =
            props.get("assume_role_policy").and_then(|d| check_document("assume_role_policy", d)).into_iter().collect();
        for p in props.get("inline_policies").and_then(Value::as_array).into_iter().flatten() {
            if let Some(i) = p.get("document").and_then(|d| check_document("inline_policies", d)) {
                let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
                out.push(Invalid::new("inline_policies", format!("{name}: {}", i.message)));
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let c = self.aws.iam().await;
        let name = prop_str(props, "role_name").ok_or_else(|| ProviderError::invalid("role_name is required"))?;
        let mut t: Vec<Tag> = Vec::new();
        for (k, v) in tags::desired(props).into_iter().chain([(ADDRESS_TAG.to_string(), ctx.address.clone())]) {
            t.push(Tag::builder().key(k).value(v).build().map_err(|e| ProviderError::invalid(format!("tags: {e}")))?);
        }
        let made = c
            .create_role()
            .role_name(name)
            .set_path(prop_str(props, "path").map(str::to_string))
            .set_description(prop_str(props, "description").map(str::to_string))
            .assume_role_policy_document(document(props.get("assume_role_policy"), "assume_role_policy")?)
            .set_max_session_duration(prop_i64(props, "max_session_duration").map(|n| n as i32))
            .set_tags(Some(t))
            .send()
            .await;
        match made {
            Ok(_) => {}
            // A re-run after a crash finds its own role by the address tag.
            Err(e) => {
                let e = classify("CreateRole", name, e);
                if e.code.as_deref() != Some("EntityAlreadyExists") {
                    return Err(e);
                }
                let existing = c.get_role().role_name(name).send().await.map_err(|e| classify("GetRole", name, e))?;
                let ours = existing.role().is_some_and(|r| r.tags().iter().any(|t| t.key() == ADDRESS_TAG && t.value() == ctx.address));
                if !ours {
                    return Err(ProviderError::new(ErrorClass::Conflict, format!("a role named {name} already exists and is not {}'s: take it over with `tandem import {} {name}`, or choose another role_name", ctx.address, ctx.address)));
                }
                ctx.report(format!("role {name} was made for {} by an earlier interrupted run; adopting it", ctx.address));
            }
        }
        let partial = Observed { id: name.to_string(), ..Default::default() };
        self.converge_policies(&c, name, props).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, name).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("role {name} vanished right after it was created")).with_partial(partial)
        })
    }

    async fn read(&self, _ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let c = self.aws.iam().await;
        let got = match c.get_role().role_name(id).send().await {
            Ok(r) => r,
            Err(e) => {
                let e = classify("GetRole", id, e);
                return if e.class == ErrorClass::NotFound || e.code.as_deref() == Some("NoSuchEntity") { Ok(None) } else { Err(e) };
            }
        };
        let Some(r) = got.role() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("role_name".into(), json!(r.role_name()));
        p.insert("path".into(), json!(r.path()));
        if let Some(d) = r.description() {
            p.insert("description".into(), json!(d));
        }
        if let Some(d) = r.assume_role_policy_document() {
            p.insert("assume_role_policy".into(), decoded(d));
        }
        if let Some(m) = r.max_session_duration() {
            p.insert("max_session_duration".into(), json!(m));
        }
        let inline: Vec<Value> =
            self.inline(&c, id).await?.into_iter().map(|(name, document)| json!({"name": name, "document": document})).collect();
        p.insert("inline_policies".into(), json!(inline));
        p.insert("managed_policy_arns".into(), json!(self.attached(&c, id).await?));
        p.insert("tags".into(), tags::to_value(r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string()))));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(r.role_name()));
        outputs.insert("arn".into(), json!(r.arn()));
        outputs.insert("role_id".into(), json!(r.role_id()));
        Ok(Some(Observed { id: r.role_name().to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let c = self.aws.iam().await;
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("description") || has("max_session_duration") {
            c.update_role()
                .role_name(id)
                .set_description(prop_str(desired, "description").map(str::to_string))
                .set_max_session_duration(prop_i64(desired, "max_session_duration").map(|n| n as i32))
                .send()
                .await
                .map_err(|e| classify("UpdateRole", id, e))?;
        }
        if has("assume_role_policy") {
            c.update_assume_role_policy()
                .role_name(id)
                .policy_document(document(desired.get("assume_role_policy"), "assume_role_policy")?)
                .send()
                .await
                .map_err(|e| classify("UpdateAssumeRolePolicy", id, e))?;
        }
        if has("inline_policies") || has("managed_policy_arns") {
            self.converge_policies(&c, id, desired).await?;
        }
        if has("tags") {
            let (set, remove) = tags::delta(&tags::desired(prior), &tags::desired(desired));
            if !set.is_empty() {
                let t: Vec<Tag> = set.into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect();
                c.tag_role().role_name(id).set_tags(Some(t)).send().await.map_err(|e| classify("TagRole", id, e))?;
            }
            if !remove.is_empty() {
                c.untag_role().role_name(id).set_tag_keys(Some(remove)).send().await.map_err(|e| classify("UntagRole", id, e))?;
            }
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("role {id} is gone; re-run plan to create it again")))
    }

    /// DeleteRole refuses a role with policies (DeleteConflict): they go first.
    /// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
    async fn delete(&self, _ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let c = self.aws.iam().await;
        let gone = |e: &ProviderError| e.class == ErrorClass::NotFound || e.code.as_deref() == Some("NoSuchEntity");
        let steps = async {
            self.converge_policies(&c, id, &Map::from_iter([("managed_policy_arns".to_string(), json!([]))])).await?;
            c.delete_role().role_name(id).send().await.map_err(|e| classify("DeleteRole", id, e))?;
            Ok::<(), ProviderError>(())
        };
        match steps.await {
            Err(e) if gone(&e) => Ok(()),
            other => other,
        }
    }
}
