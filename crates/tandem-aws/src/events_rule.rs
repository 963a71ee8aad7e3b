//! `aws.events.rule`: an EventBridge rule on the default bus, a schedule or an
//! event pattern, with its targets (PutRule / DescribeRule / PutTargets /
//! ListTargetsByRule / RemoveTargets / TagResource / UntagResource /
//! DeleteRule). The failover controller runs from one: `rate(1 minute)`.
//! https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html

use crate::tags::{self, ADDRESS_TAG};
use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{gone_is_none, prop_str, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Rule {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

/// `rate(value unit)` with a positive whole value and a unit that agrees with
/// it (1 minute, 5 minutes), or `cron(six fields)`.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
fn check_schedule(s: &str) -> Option<String> {
    if let Some(body) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut it = body.split_whitespace();
        let (Some(n), Some(unit), None) = (it.next(), it.next(), it.next()) else {
            return Some(format!("{s}: write rate(VALUE UNIT), e.g. rate(1 minute)"));
        };
        let Ok(n) = n.parse::<u64>() else { return Some(format!("{s}: the rate's value must be a whole number")) };
        let ok = match n {
            0 => return Some(format!("{s}: the rate's value must be more than 0")),
            1 => matches!(unit, "minute" | "hour" | "day"),
            _ => matches!(unit, "minutes" | "hours" | "days"),
        };
        return (!ok).then(|| {
            format!("{s}: the unit must be {} for a value of {n}", if n == 1 { "minute, hour or day" } else { "minutes, hours or days" })
        });
    }
    if let Some(body) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        let fields = body.split_whitespace().count();
        return (fields != 6)
            .then(|| format!("{s}: a cron expression has six fields (minutes hours day-of-month month day-of-week year), found {fields}"));
    }
    Some(format!("{s}: a schedule is rate(...) or cron(...)"))
}

fn targets(props: &Map<String, Value>) -> Result<Vec<Target>> {
    props
        .get("targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let s = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
            let input = match t.get("input") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(v) if !v.is_null() => Some(v.to_string()),
                _ => None,
            };
            Target::builder()
                .set_id(s("id"))
                .set_arn(s("arn"))
                .set_input(input)
                .build()
                .map_err(|e| ProviderError::invalid(format!("targets: {e}")))
        })
        .collect()
}

impl Rule {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.events.rule",
            doc: "An EventBridge rule on the default event bus: a schedule (rate or cron) or an event pattern, and the targets it invokes.",
            api_reference: "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
            regional: true,
            properties: vec![
                Field::new("name", Type::String)
                    .required()
                    .force_new()
                    .check(Check::Length(1, 64))
                    .doc("Name; defaults to the resource's key."),
                Field::new("schedule_expression", Type::String)
                    .doc("ScheduleExpression: rate(1 minute), rate(5 minutes), cron(0 12 * * ? *)."),
                Field::new("event_pattern", Type::Any).doc("EventPattern, as a mapping or JSON text."),
                Field::new("state", Type::enumeration(&["ENABLED", "DISABLED"])).computed().doc("State (default ENABLED)."),
                Field::new("description", Type::String).check(Check::Length(0, 512)).doc("Description."),
                Field::new(
                    "targets",
                    Type::list(Type::Object(vec![
                        Field::new("id", Type::String).required().check(Check::Length(1, 64)).doc("Id, unique in the rule."),
                        Field::new("arn", Type::String)
                            .required()
                            .refers_to(&["aws.lambda.function"])
                            .doc("Arn: what the rule invokes (a Lambda function's ARN)."),
                        Field::new("input", Type::Any).doc("Input: the JSON the target receives instead of the event."),
                    ])),
                )
                .unordered()
                .doc("Targets (PutTargets; ones no longer listed are removed)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The rule name."), OutputDef::new("arn", "The rule ARN.")],
            name_field: Some("name"),
            import_id: "the rule name",
        };
        Rule { aws, schema }
    }

    async fn put_rule(
        &self,
        c: &aws_sdk_eventbridge::Client,
        name: &str,
        props: &Map<String, Value>,
        tags: Option<Vec<Tag>>,
    ) -> Result<()> {
        let pattern = match props.get("event_pattern") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) if !v.is_null() => Some(v.to_string()),
            _ => None,
        };
        c.put_rule()
            .name(name)
            .set_schedule_expression(prop_str(props, "schedule_expression").map(str::to_string))
            .set_event_pattern(pattern)
            .state(RuleState::from(prop_str(props, "state").unwrap_or("ENABLED")))
            .set_description(prop_str(props, "description").map(str::to_string))
            .set_tags(tags)
            .send()
            .await
            .map_err(|e| classify("PutRule", name, e))?;
        Ok(())
    }

    async fn current_targets(&self, c: &aws_sdk_eventbridge::Client, name: &str) -> Result<Vec<Target>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = c
                .list_targets_by_rule()
                .rule(name)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| classify("ListTargetsByRule", name, e))?;
            out.extend(page.targets().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// PutTargets adds or replaces by id; ids no longer wanted are removed.
    async fn converge_targets(&self, c: &aws_sdk_eventbridge::Client, name: &str, props: &Map<String, Value>) -> Result<()> {
        let want = targets(props)?;
        let have = self.current_targets(c, name).await?;
        let stale: Vec<String> = have.iter().map(|t| t.id().to_string()).filter(|id| !want.iter().any(|w| w.id() == id)).collect();
        if !stale.is_empty() {
            c.remove_targets().rule(name).set_ids(Some(stale)).send().await.map_err(|e| classify("RemoveTargets", name, e))?;
        }
        if !want.is_empty() {
            let out = c.put_targets().rule(name).set_targets(Some(want)).send().await.map_err(|e| classify("PutTargets", name, e))?;
            if out.failed_entry_count() > 0 {
                let why: Vec<String> = out
                    .failed_entries()
                    .iter()
                    .map(|f| format!("{}: {}", f.target_id().unwrap_or("?"), f.error_message().unwrap_or("failed")))
                    .collect();
                return Err(ProviderError::invalid(format!("PutTargets {name}: {}", why.join("; "))));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceKind for Rule {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "events:PutRule",
            "events:DescribeRule",
            "events:DeleteRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:ListTargetsByRule",
            "events:ListTagsForResource",
            "events:TagResource",
            "events:UntagResource",
        ]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        match (prop_str(props, "schedule_expression"), props.get("event_pattern").filter(|v| !v.is_null())) {
            (Some(s), _) => out.extend(check_schedule(s).map(|m| Invalid::new("schedule_expression", m))),
            (None, Some(_)) => {}
            // Unknown until apply (a reference) is fine; neither at all is not.
            (None, None) if !props.contains_key("schedule_expression") => {
                out.push(Invalid::new("schedule_expression", "a rule needs a schedule_expression or an event_pattern"))
            }
            _ => {}
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let c = self.aws.eventbridge(ctx.region()?).await;
        let name = prop_str(props, "name").ok_or_else(|| ProviderError::invalid("name is required"))?;
        // PutRule is an upsert: a rule of that name that is not this resource's must not be taken over silently.
        if let Ok(existing) = c.describe_rule().name(name).send().await {
            let arn = existing.arn().unwrap_or_default();
            let t = c.list_tags_for_resource().resource_arn(arn).send().await.map_err(|e| classify("ListTagsForResource", arn, e))?;
            if !t.tags().iter().any(|t| t.key() == ADDRESS_TAG && t.value() == ctx.address) {
                return Err(ProviderError::new(ErrorClass::Conflict, format!("a rule named {name} already exists and is not {}'s: take it over with `tandem import {} {name}`, or choose another name", ctx.address, ctx.address)));
            }
        }
        let mut t: Vec<Tag> = Vec::new();
        for (k, v) in tags::desired(props).into_iter().chain([(ADDRESS_TAG.to_string(), ctx.address.clone())]) {
            t.push(Tag::builder().key(k).value(v).build().map_err(|e| ProviderError::invalid(format!("tags: {e}")))?);
        }
        self.put_rule(&c, name, props, Some(t)).await?;
        let partial = Observed { id: name.to_string(), ..Default::default() };
        self.converge_targets(&c, name, props).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, name).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("rule {name} vanished right after it was created")).with_partial(partial)
        })
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let c = self.aws.eventbridge(ctx.region()?).await;
        let Some(r) = gone_is_none(c.describe_rule().name(id).send().await.map_err(|e| classify("DescribeRule", id, e)))? else { return Ok(None) };
        let arn = r.arn().unwrap_or_default().to_string();
        let mut p = Map::new();
        p.insert("name".into(), json!(r.name()));
        if let Some(s) = r.schedule_expression() {
            p.insert("schedule_expression".into(), json!(s));
        }
        if let Some(e) = r.event_pattern() {
            p.insert("event_pattern".into(), json!(e));
        }
        if let Some(s) = r.state() {
            p.insert("state".into(), json!(s.as_str()));
        }
        if let Some(d) = r.description() {
            p.insert("description".into(), json!(d));
        }
        let targets: Vec<Value> = self
            .current_targets(&c, id)
            .await?
            .iter()
            .map(|t| {
                let mut m = json!({"id": t.id(), "arn": t.arn()});
                if let Some(i) = t.input() {
                    m["input"] = json!(i);
                }
                m
            })
            .collect();
        p.insert("targets".into(), json!(targets));
        let t = c.list_tags_for_resource().resource_arn(&arn).send().await.map_err(|e| classify("ListTagsForResource", &arn, e))?;
        p.insert("tags".into(), tags::to_value(t.tags().iter().map(|t| (t.key().to_string(), t.value().to_string()))));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        outputs.insert("arn".into(), json!(arn));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let c = self.aws.eventbridge(ctx.region()?).await;
        let has = |f: &str| changed.iter().any(|c| c == f);
        if ["schedule_expression", "event_pattern", "state", "description"].iter().any(|f| has(f)) {
            self.put_rule(&c, id, desired, None).await?;
        }
        if has("targets") {
            self.converge_targets(&c, id, desired).await?;
        }
        if has("tags") {
            let arn = self
                .read(ctx, id)
                .await?
                .and_then(|o| o.outputs.get("arn").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            let (set, remove) = tags::delta(&tags::desired(prior), &tags::desired(desired));
            if !set.is_empty() {
                let t: Vec<Tag> = set.into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect();
                c.tag_resource().resource_arn(&arn).set_tags(Some(t)).send().await.map_err(|e| classify("TagResource", &arn, e))?;
            }
            if !remove.is_empty() {
                c.untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map_err(|e| classify("UntagResource", &arn, e))?;
            }
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("rule {id} is gone; re-run plan to create it again")))
    }

    /// DeleteRule refuses a rule that still has targets: they go first.
    /// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DeleteRule.html
    async fn delete(&self, ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let c = self.aws.eventbridge(ctx.region()?).await;
        let steps = async {
            self.converge_targets(&c, id, &Map::new()).await?;
            c.delete_rule().name(id).send().await.map_err(|e| classify("DeleteRule", id, e))?;
            Ok::<(), ProviderError>(())
        };
        match steps.await {
            Err(e) if e.class != ErrorClass::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_schedule;

    #[test]
    fn schedules() {
        for ok in ["rate(1 minute)", "rate(5 minutes)", "rate(1 day)", "cron(0 12 * * ? *)"] {
            assert_eq!(check_schedule(ok), None, "{ok}");
        }
        assert!(check_schedule("rate(1 minutes)").unwrap().contains("minute, hour or day"));
        assert!(check_schedule("rate(5 minute)").unwrap().contains("minutes, hours or days"));
        assert!(check_schedule("rate(0 minutes)").unwrap().contains("more than 0"));
        assert!(check_schedule("cron(0 12 * * ?)").unwrap().contains("six fields"));
        assert!(check_schedule("every minute").unwrap().contains("rate(...) or cron(...)"));
    }
}
