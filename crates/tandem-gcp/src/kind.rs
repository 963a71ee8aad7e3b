//! One [`ResourceKind`] for every plain Compute Engine collection: insert,
//! wait, read back; patch what the API lets change; delete and wait. What
//! differs between kinds is in their [`Mapping`].

use crate::api::{Coll, Path};
use crate::mapping::Mapping;
use crate::GcpContext;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::Arc;
use tandem_provider::{
    prop_str, wait_until, Ctx, ErrorClass, Found, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter,
};

pub struct Kind {
    gcp: Arc<GcpContext>,
    mapping: Box<dyn Mapping>,
    schema: KindSchema,
}

impl Kind {
    pub fn new(gcp: Arc<GcpContext>, mapping: Box<dyn Mapping>) -> Self {
        let schema = mapping.schema();
        Kind { gcp, mapping, schema }
    }

    fn coll(&self) -> Coll {
        self.mapping.coll()
    }

    /// Where the resource goes: the project and name properties, and for
    /// regional kinds the resource's region.
    fn path(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Path> {
        let project = prop_str(props, "project").ok_or_else(|| ProviderError::invalid(format!("{} has no project", ctx.address)))?;
        let name = prop_str(props, "name").unwrap_or(&ctx.name);
        let region = if self.coll().regional() { Some(ctx.region()?.to_string()) } else { None };
        Ok(Path { project: project.to_string(), region, name: name.to_string() })
    }

    /// The resource once GET shows it (a read right after the insert may still
    /// answer 404: never taken for "gone", never a reason to insert again) and
    /// in a state that is no longer transient for its kind.
    async fn settled(&self, ctx: &Ctx, path: &Path) -> Result<Value> {
        let what = path.render(self.coll());
        wait_until(ctx, &what, Waiter::default(), || async {
            Ok(match self.gcp.get(ctx, self.coll(), path).await? {
                None => WaitOutcome::Pending("not visible yet".into()),
                Some(api) => match self.mapping.pending_state(&api) {
                    Some(state) => WaitOutcome::Pending(state),
                    None => WaitOutcome::Ready(api),
                },
            })
        })
        .await
    }

    fn observed(&self, path: &Path, api: &Value) -> Observed {
        let (properties, outputs) = self.mapping.observe(api);
        Observed { id: path.render(self.coll()), properties, outputs }
    }
}

#[async_trait]
impl ResourceKind for Kind {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        self.coll().permissions()
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = crate::mapping::check_common(&self.schema, props);
        out.extend(self.mapping.validate(props));
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let path = self.path(ctx, props)?;
        let body = self.mapping.body(props)?;
        match self.gcp.insert(ctx, self.coll(), &path, body).await {
            Ok(_) => {}
            // Names are unique per project (and region): one that exists is
            // someone's, maybe an interrupted run's; taking it over silently
            // could take over another stack's network.
            Err(e) if e.code.as_deref() == Some("alreadyExists") => {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    format!(
                        "{} exists already; if it is this resource's, adopt it with `tandem import {} {}`, else choose another name",
                        path.render(self.coll()),
                        ctx.address,
                        path.render(self.coll())
                    ),
                )
                .with_code("alreadyExists"))
            }
            Err(e) => {
                // The operation may have failed after the resource was recorded.
                if let Ok(Some(api)) = self.gcp.get(ctx, self.coll(), &path).await {
                    return Err(e.with_partial(self.observed(&path, &api)));
                }
                // Stopped while the insert's operation ran: the object may
                // still appear, under the name it was given; keep track of it.
                if matches!(e.class, ErrorClass::Interrupted | ErrorClass::Timeout) {
                    return Err(e.with_partial(Observed { id: path.render(self.coll()), ..Default::default() }));
                }
                return Err(e);
            }
        }
        let api =
            self.settled(ctx, &path).await.map_err(|e| e.with_partial(Observed { id: path.render(self.coll()), ..Default::default() }))?;
        Ok(self.observed(&path, &api))
    }

    /// GCP names are unique per project (and region): what an interrupted
    /// insert made is the object at the path its properties name.
    async fn find(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Found> {
        let path = self.path(ctx, props)?;
        Ok(self.gcp.get(ctx, self.coll(), &path).await?.map(|api| self.observed(&path, &api)).into())
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let path = Path::parse(self.coll(), id)?;
        Ok(self.gcp.get(ctx, self.coll(), &path).await?.map(|api| self.observed(&path, &api)))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let path = Path::parse(self.coll(), id)?;
        // A fingerprinted patch that meets a concurrent change (412) is
        // rebuilt on the fresh resource and sent again.
        let mut attempts = 0;
        loop {
            let current = self
                .gcp
                .get(ctx, self.coll(), &path)
                .await?
                .ok_or_else(|| ProviderError::not_found(format!("{id} is gone; plan again to create it")))?;
            let body = match self.mapping.patch(desired, changed, &current) {
                Some(b) => b?,
                None => {
                    return Err(ProviderError::invalid(format!(
                        "{} cannot be changed in place: {}",
                        self.schema.type_name,
                        changed.join(", ")
                    )))
                }
            };
            match self.gcp.patch(ctx, self.coll(), &path, body).await {
                Ok(()) => break,
                Err(e) if e.code.as_deref() == Some("conditionNotMet") && attempts < 5 => {
                    attempts += 1;
                    ctx.report(format!("{id} changed meanwhile (fingerprint); patching again"));
                }
                Err(e) => return Err(e),
            }
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let path = Path::parse(self.coll(), id)?;
        if self.mapping.settles_before_delete() {
            // Gone already is fine: the delete below then finds nothing too.
            let what = path.render(self.coll());
            wait_until(ctx, &format!("{what} before delete"), Waiter::default(), || async {
                Ok(match self.gcp.get(ctx, self.coll(), &path).await?.as_ref().and_then(|api| self.mapping.pending_state(api)) {
                    Some(state) => WaitOutcome::Pending(state),
                    None => WaitOutcome::Ready(()),
                })
            })
            .await?;
        }
        self.gcp.delete(ctx, self.coll(), &path).await
    }
}
