//! What the instance-scoped Connect objects (hours of operation, queues,
//! flows, routing profiles, users) have in common, so each of their modules
//! says only what is its own: the calls that create, describe, find by name,
//! update and delete it.
//!
//! The state id is the object's ARN
//! (`arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/SEGMENT/OBJECT_ID`):
//! every call needs the instance id as well as the object id, and the ARN is
//! what the console and `tandem import` show. Names are unique per instance
//! and kind, so a create that a crash interrupted is found again by name
//! (DuplicateResourceException) and adopted when it carries this resource's
//! `tandem:address` tag; anything else of that name is refused, with the
//! import command that would take it over.

use super::instance::{set_tags, tags_value};
use super::linked::{self, Linked};
use crate::tags::{self, ADDRESS_TAG};
use crate::AwsContext;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::Arc;
use tandem_provider::{
    await_visible, gone_is_none, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    SpecResource, SpecView, WaitOutcome, Waiter,
};
use tandem_schema::{Field, OutputDef};

pub(super) type Client = aws_sdk_connect::Client;

/// What every object's `instance_id` says (and the help of a reference to a replica).
pub(super) const INSTANCE_DOC: &str = "InstanceId: the source instance's id (`${connect_instance.id}`), in this resource's region. Declare the object once: Global Resiliency copies it to the replica under the same id and keeps both in sync.";

/// An object as Describe* shows it.
pub(super) struct Described {
    /// The kind's properties, without `instance_id` and `tags`.
    pub props: Map<String, Value>,
    pub arn: String,
    pub tags: Option<HashMap<String, String>>,
}

#[async_trait]
pub(super) trait ObjectApi: Send + Sync + 'static {
    /// The ARN segment after the instance (`queue`, `agent`, ...).
    const ARN_SEGMENT: &'static str;
    /// How error messages name it.
    const NOUN: &'static str;
    /// Every permission its calls need, the shared ones included
    /// (connect:DescribeInstance for the linked region, Tag/UntagResource).
    const PERMISSIONS: &'static [&'static str];
    fn schema() -> KindSchema;
    /// Rules beyond the schema, checked before any call.
    fn check(_props: &Map<String, Value>) -> Vec<Invalid> {
        Vec::new()
    }
    /// Rules about the resources this one refers to.
    fn check_in(_me: &SpecResource<'_>, _spec: &dyn SpecView) -> Vec<Invalid> {
        Vec::new()
    }
    /// Create; returns the new object's ARN.
    async fn create(c: &Client, instance: &str, p: &Map<String, Value>, tags: HashMap<String, String>) -> Result<String>;
    /// Describe; `None` when it is gone.
    async fn describe(c: &Client, instance: &str, id: &str) -> Result<Option<Described>>;
    /// The id of the object with this name, if there is one.
    async fn find(c: &Client, instance: &str, name: &str) -> Result<Option<String>>;
    /// Apply the `changed` fields (never `tags`) of `desired`.
    async fn update(c: &Client, instance: &str, id: &str, desired: &Map<String, Value>, changed: &[String]) -> Result<()>;
    async fn delete(c: &Client, instance: &str, id: &str) -> Result<()>;
}

pub(super) struct Object<A> {
    aws: Arc<AwsContext>,
    schema: KindSchema,
    api: PhantomData<A>,
}

impl<A: ObjectApi> Object<A> {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let mut schema = A::schema();
        schema.outputs.push(OutputDef::new("any_region_arn", "The ARN with `$.AwsRegion` for the region: how a flow that runs in both regions of a replicated instance refers to this object."));
        schema
            .outputs
            .push(OutputDef::new("replica_arn", "The ARN of the copy in the other region of a replicated instance (null otherwise)."));
        Object { aws, schema, api: PhantomData }
    }

    /// (instance id, object id) from an ARN of this kind.
    fn parse(id: &str) -> Result<(String, String)> {
        let resource = id.splitn(6, ':').nth(5).filter(|_| id.starts_with("arn:"));
        match resource.map(|r| r.split('/').collect::<Vec<_>>()).as_deref() {
            Some(["instance", instance, seg, object]) if *seg == A::ARN_SEGMENT && !instance.is_empty() && !object.is_empty() => {
                Ok((instance.to_string(), object.to_string()))
            }
            _ => Err(ProviderError::invalid(format!(
                "`{id}` is not the ARN of a {} (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/{}/ID)",
                A::NOUN,
                A::ARN_SEGMENT
            ))),
        }
    }

    fn name_of<'a>(&self, props: &'a Map<String, Value>) -> &'a str {
        self.schema.name_field.and_then(|f| prop_str(props, f)).unwrap_or_default()
    }

    /// After DuplicateResourceException: our own earlier create, or refusal.
    async fn adopt(&self, ctx: &Ctx, c: &Client, instance: &str, props: &Map<String, Value>, duplicate: ProviderError) -> Result<String> {
        let name = self.name_of(props);
        let Some(id) = A::find(c, instance, name).await? else { return Err(duplicate) };
        let Some(d) = A::describe(c, instance, &id).await? else { return Err(duplicate) };
        if d.tags.as_ref().and_then(|t| t.get(ADDRESS_TAG)).is_some_and(|a| *a == ctx.address) {
            ctx.report(format!("{} {name} was made for {} by an earlier interrupted run; adopting it", A::NOUN, ctx.address));
            return Ok(d.arn);
        }
        Err(ProviderError::new(
            ErrorClass::Conflict,
            format!(
                "a {} named {name} already exists in instance {instance} and is not {}'s: take it over with `tandem import {} {}`, or give this one another name",
                A::NOUN,
                ctx.address,
                ctx.address,
                d.arn
            ),
        )
        .with_code("DuplicateResourceException"))
    }
}

impl<A: ObjectApi> Object<A> {
    /// The object's copy in the other region of a replicated instance, once
    /// Global Resiliency mirrors it (same id; "any changes made to either the
    /// original or mirrored resources at a later time are continuously
    /// synchronized", create-replica-connect-instance.html#mirrored-resources).
    async fn peer(&self, region: &str, instance: &str) -> Result<Option<Linked>> {
        Ok(linked::linked(&self.aws, region, instance).await?.filter(Linked::mirroring))
    }

    /// Wait until the copy in the peer region satisfies `done` (its
    /// description, None when absent).
    async fn await_copy(
        &self,
        ctx: &Ctx,
        peer: &Linked,
        instance: &str,
        object: &str,
        what: &str,
        done: impl Fn(Option<&Described>) -> bool,
    ) -> Result<()> {
        let c = self.aws.connect(&peer.peer_region).await;
        wait_until(ctx, &format!("{} {what} in {}", A::NOUN, peer.peer_region), Waiter::default(), || async {
            let copy = gone_is_none(A::describe(&c, instance, object).await)?.flatten();
            Ok(if done(copy.as_ref()) { WaitOutcome::Ready(()) } else { WaitOutcome::Pending("mirroring".into()) })
        })
        .await
    }

    /// The ARN with `$.AwsRegion` for the region: what a flow mirrored to
    /// both regions uses to refer to this object ("Use $.AwsRegion instead of
    /// hard-coded Regions in flows", create-replica-connect-instance.html).
    fn any_region_arn(arn: &str) -> String {
        let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() == 6 {
            parts[3] = "$.AwsRegion";
        }
        parts.join(":")
    }
}

#[async_trait]
impl<A: ObjectApi> ResourceKind for Object<A> {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        A::PERMISSIONS
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = A::check(props);
        // Describe answers with the id; an ARN here would differ on every plan.
        if prop_str(props, "instance_id").is_some_and(|i| i.starts_with("arn:")) {
            out.push(Invalid::new("instance_id", "give the instance's id (`${connect_instance.id}`), not its ARN"));
        }
        out
    }

    /// Objects live in their instance's region, declared once: a replicated
    /// instance's copy in the other region is Global Resiliency's to make.
    fn validate_in(&self, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Invalid> {
        let mut out = self.validate(me.region, me.props);
        if let Some(instance) = me.referenced("instance_id").and_then(|a| spec.get(a)) {
            if instance.region.is_some() && me.region.is_some() && instance.region != me.region {
                out.push(Invalid::new(
                    "instance_id",
                    format!(
                        "`{}` is in {}, so this {} must be too (set `region` to the instance's)",
                        instance.address,
                        instance.region.unwrap_or_default(),
                        A::NOUN
                    ),
                ));
            }
        }
        out.extend(A::check_in(me, spec));
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let region = ctx.region()?;
        let c = self.aws.connect(region).await;
        let instance = prop_str(props, "instance_id").ok_or_else(|| ProviderError::invalid("instance_id is required"))?;
        let mut t: HashMap<String, String> = tags::desired(props).into_iter().collect();
        t.insert(ADDRESS_TAG.into(), ctx.address.clone());
        let arn = match A::create(&c, instance, props, t).await {
            Ok(arn) => arn,
            Err(e) if e.code.as_deref() == Some("DuplicateResourceException") => self.adopt(ctx, &c, instance, props, e).await?,
            Err(e) => return Err(e),
        };
        let (_, object) = Self::parse(&arn)?;
        let partial = Observed { id: arn.clone(), ..Default::default() };
        // NotFound right after the create is eventual consistency, not a loss.
        let visible = await_visible(ctx, A::NOUN, ctx.consistency, || async {
            Ok(gone_is_none(A::describe(&c, instance, &object).await)?.flatten())
        })
        .await?;
        if visible.is_none() {
            return Err(ProviderError::new(
                ErrorClass::Other,
                format!("{} {arn} was created but stays invisible to {}; re-run apply", A::NOUN, A::NOUN),
            )
            .with_partial(partial));
        }
        if let Some(peer) = self.peer(region, instance).await? {
            self.await_copy(ctx, &peer, instance, &object, "copy", |d| d.is_some()).await.map_err(|e| e.with_partial(partial.clone()))?;
        }
        self.read(ctx, &arn).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("{} {arn} vanished right after it was created", A::NOUN)).with_partial(partial)
        })
    }

    /// Describe in the resource's region; for a replicated instance also the
    /// copy in the other region. A copy that differs shows as drift (its
    /// value, with a remark saying where), so the next apply writes the spec's
    /// value and the mirror carries it over.
    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let (instance, object) = Self::parse(id)?;
        let region = ctx.region()?;
        let c = self.aws.connect(region).await;
        let Some(d) = gone_is_none(A::describe(&c, &instance, &object).await)?.flatten() else { return Ok(None) };
        let mut p = d.props;
        p.insert("instance_id".into(), json!(instance));
        p.insert("tags".into(), tags_value(d.tags.as_ref()));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(object));
        outputs.insert("arn".into(), json!(d.arn));
        outputs.insert("any_region_arn".into(), json!(Self::any_region_arn(&d.arn)));
        outputs.insert("replica_arn".into(), Value::Null);
        if let Some(peer) = self.peer(region, &instance).await? {
            let pc = self.aws.connect(&peer.peer_region).await;
            match gone_is_none(A::describe(&pc, &instance, &object).await)?.flatten() {
                None => ctx.remark(format!(
                    "the copy in {} is missing: Global Resiliency has not mirrored this {} (yet)",
                    peer.peer_region,
                    A::NOUN
                )),
                Some(copy) => {
                    outputs.insert("replica_arn".into(), json!(copy.arn));
                    let mut cp = copy.props;
                    cp.insert("instance_id".into(), json!(instance));
                    cp.insert("tags".into(), tags_value(copy.tags.as_ref()));
                    for f in &self.schema.properties {
                        let (ours, theirs) = (p.get(f.name), cp.get(f.name));
                        let same = match (ours, theirs) {
                            (Some(a), Some(b)) => matches_value(f, a, b),
                            (a, b) => a == b,
                        };
                        if !same {
                            ctx.remark(format!("`{}` differs in the copy in {}: {}", f.name, peer.peer_region, render(theirs)));
                            match theirs {
                                Some(v) => p.insert(f.name.to_string(), v.clone()),
                                None => p.remove(f.name),
                            };
                        }
                    }
                }
            }
        }
        Ok(Some(Observed { id: d.arn, properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let (instance, object) = Self::parse(id)?;
        let region = ctx.region()?;
        let c = self.aws.connect(region).await;
        let rest: Vec<String> = changed.iter().filter(|f| *f != "tags").cloned().collect();
        if !rest.is_empty() {
            A::update(&c, &instance, &object, desired, &rest).await?;
        }
        if changed.iter().any(|f| f == "tags") {
            let current: BTreeMap<String, String> = tags::desired(prior);
            set_tags(&c, id, &current, &tags::desired(desired)).await?;
        }
        // The change reaches the copy asynchronously: wait until it has (what
        // the source holds now is what the copy must come to).
        if let Some(peer) = self.peer(region, &instance).await? {
            let Some(source) = gone_is_none(A::describe(&c, &instance, &object).await)?.flatten() else {
                return Err(ProviderError::not_found(format!("{} {id} is gone; re-run plan to create it again", A::NOUN)));
            };
            let want: Vec<(&Field, Value)> =
                changed.iter().filter_map(|f| self.schema.field(f).zip(source.props.get(f).cloned())).collect();
            self.await_copy(ctx, &peer, &instance, &object, "change", |d| {
                d.is_some_and(|d| {
                    want.iter().all(|(f, v)| f.name == "tags" || d.props.get(f.name).is_some_and(|cv| matches_value(f, v, cv)))
                })
            })
            .await?;
        }
        self.read(ctx, id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("{} {id} is gone; re-run plan to create it again", A::NOUN)))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let (instance, object) = Self::parse(id)?;
        let region = ctx.region()?;
        let c = self.aws.connect(region).await;
        let peer = self.peer(region, &instance).await?;
        gone_is_none(A::delete(&c, &instance, &object).await)?;
        // The copy goes too; wait for it, so what this object used can be deleted after it in both regions.
        if let Some(peer) = peer {
            self.await_copy(ctx, &peer, &instance, &object, "deletion", |d| d.is_none()).await?;
        }
        Ok(())
    }
}

fn matches_value(f: &Field, a: &Value, b: &Value) -> bool {
    tandem_schema::matches_field(f, a, b)
}

fn render(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
    }
}

/// A string property the schema requires (present after validation).
pub(super) fn required<'a>(p: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    prop_str(p, key).ok_or_else(|| ProviderError::invalid(format!("{key} is required")))
}

/// An integer property as the SDK's i32.
pub(super) fn int(p: &Map<String, Value>, key: &str) -> Option<i32> {
    p.get(key).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok())
}

/// Pages through a List* call, returning the id of the first summary named `name`.
#[macro_export]
#[doc(hidden)]
macro_rules! connect_find_by_name {
    ($c:expr, $instance:expr, $name:expr, $op:literal, $call:ident, $list:ident) => {{
        let mut next: Option<String> = None;
        loop {
            let page = $c
                .$call()
                .instance_id($instance)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| $crate::classify($op, $instance, e))?;
            if let Some(s) = page.$list().iter().find(|s| s.name() == Some($name)) {
                break Ok(s.id().map(str::to_string));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break Ok(None),
            }
        }
    }};
}
