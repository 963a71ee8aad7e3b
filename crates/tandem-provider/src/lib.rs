//! The contract between the engine and resource kinds.
//!
//! The engine sees every cloud resource through [`ResourceKind`]: five verbs
//! (create, read, update, delete, import-by-read) on JSON property objects
//! shaped by the kind's [`KindSchema`]. A kind knows its cloud and nothing of
//! the graph; the engine knows the graph and nothing of any cloud.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub use tandem_schema::{KindSchema, Type};

mod kit;
mod retry;
mod wait;

pub use kit::{create_and_wait, delete_and_wait, gone_is_none, only_in_place, refuse_update, required_id};
pub use retry::{retry, RetryPolicy};
pub use wait::{await_visible, wait_until, WaitOutcome, Waiter, CONSISTENCY_WINDOW};

/// Where and as what a resource is being handled.
#[derive(Clone)]
pub struct Ctx {
    /// The resource's address in the spec (`primary_vpc`, `queue.support[us-west-2]`).
    pub address: String,
    /// The resource's key, the default for name fields.
    pub name: String,
    /// The resource's region, for regional kinds.
    pub region: Option<String>,
    /// Progress lines (waiting for ACTIVE, retrying after throttling) go here.
    pub progress: Arc<dyn Progress>,
    /// How long a waiter may wait before the operation fails.
    pub timeout: Duration,
    /// How long a just-created object may stay invisible to reads before it
    /// counts as gone ([`CONSISTENCY_WINDOW`] unless set).
    pub consistency: Duration,
    /// Set when the run is interrupted (Ctrl-C) or must stop (the state
    /// cannot be written): waiters give up promptly instead of waiting out
    /// a slow create.
    pub interrupt: Arc<std::sync::atomic::AtomicBool>,
    /// Where a create records the cloud's id the moment it answers (see
    /// [`Ctx::made`]).
    pub journal: Arc<dyn Journal>,
    /// The properties the caller will look at, when that is not all of them:
    /// a plan's refresh compares only what the spec sets or the state
    /// recorded, so a read may skip the calls that fetch nothing else (a
    /// VPC's DNS attributes, a stream's tags: one call each per resource).
    /// The caller keeps the recorded values of what was not read. `None`
    /// (creates, updates, imports): read everything.
    pub wanted: Option<Arc<std::collections::BTreeSet<String>>>,
}

impl Ctx {
    pub fn region(&self) -> Result<&str, ProviderError> {
        self.region.as_deref().ok_or_else(|| ProviderError::invalid(format!("{} has no region", self.address)))
    }

    /// Whether a read must fetch `property` (see [`Ctx::wanted`]).
    pub fn wants(&self, property: &str) -> bool {
        self.wanted.as_ref().is_none_or(|w| w.contains(property))
    }

    pub fn report(&self, message: impl Into<String>) {
        self.progress.message(&self.address, message.into());
    }

    /// Something a read found that a plan should explain (a mirrored copy in
    /// another region that differs): shown as progress, and given as a reason
    /// of the resource's planned change.
    pub fn remark(&self, message: impl Into<String>) {
        self.progress.remark(&self.address, message.into());
    }

    /// Record `id` as what this resource's create made, before waiting for
    /// it to become usable: returns once that is durable in the state's
    /// journal, so a run killed during the wait leaves an object the next run
    /// knows about (and adopts or deletes) instead of an orphan. Call it right
    /// after the create call answers, with the id later reads take.
    pub async fn made(&self, id: &str) {
        self.journal.made(&self.address, id).await;
    }

    /// A context for tests and tools that print nothing.
    pub fn quiet(address: &str, region: Option<&str>) -> Ctx {
        Ctx {
            address: address.to_string(),
            name: address.to_string(),
            region: region.map(str::to_string),
            progress: Arc::new(NoProgress),
            timeout: Duration::from_secs(600),
            consistency: CONSISTENCY_WINDOW,
            interrupt: Arc::default(),
            journal: Arc::new(NoJournal),
            wanted: None,
        }
    }
}

/// Records ids of objects whose create is still in flight ([`Ctx::made`]).
#[async_trait]
pub trait Journal: Send + Sync {
    async fn made(&self, address: &str, id: &str);
}

/// A journal that keeps nothing: tests and tools that record no state.
pub struct NoJournal;

#[async_trait]
impl Journal for NoJournal {
    async fn made(&self, _: &str, _: &str) {}
}

/// Resolves once `ctx`'s run is interrupted: race a long call against it.
pub async fn interrupted(ctx: &Ctx) {
    while !ctx.interrupt.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub trait Progress: Send + Sync {
    fn message(&self, address: &str, message: String);
    fn remark(&self, address: &str, message: String) {
        self.message(address, message)
    }
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn message(&self, _: &str, _: String) {}
}

/// What the cloud says exists: its id, its properties in the spec's shape,
/// and the outputs other resources may reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    pub id: String,
    /// Properties in the spec's shape (snake_case, nested as the API nests
    /// them). Fields the API cannot read back are left out; the engine then
    /// keeps what it last applied.
    pub properties: Map<String, Value>,
    pub outputs: BTreeMap<String, Value>,
}

/// What [`ResourceKind::find`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Object(Observed),
    /// Nothing by that name exists.
    Nothing,
    /// The kind's objects cannot be found from their properties (no unique
    /// name, no client token).
    CannotTell,
}

impl From<Option<Observed>> for Found {
    fn from(o: Option<Observed>) -> Self {
        o.map_or(Found::Nothing, Found::Object)
    }
}

/// Why a provider call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorClass {
    /// The request was refused as invalid: fixing the spec is the way out.
    Invalid,
    /// The object does not exist.
    NotFound,
    /// Throttled, 5xx, connection trouble: worth retrying.
    Transient,
    /// A waiter ran out of time.
    Timeout,
    /// Refused because of another object (in use, conflicting change).
    Conflict,
    /// Credentials or permissions.
    Auth,
    /// The run was interrupted (Ctrl-C) or had to stop while this waited.
    Interrupted,
    Other,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    /// The cloud's error code when it gave one (`ResourceInUseException`).
    pub code: Option<String>,
    /// The cloud's id of the failed request, for a support case.
    pub request_id: Option<String>,
    pub message: String,
    /// When a create got far enough to make something (the call succeeded
    /// but the waiter failed), what exists, so state can keep it as tainted
    /// rather than lose track of it.
    pub partial: Option<Box<Observed>>,
}

impl ErrorClass {
    /// The class as JSON output and docs/json.md name it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Invalid => "invalid",
            ErrorClass::NotFound => "not_found",
            ErrorClass::Transient => "transient",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Conflict => "conflict",
            ErrorClass::Auth => "auth",
            ErrorClass::Interrupted => "interrupted",
            ErrorClass::Other => "other",
        }
    }
}

impl ProviderError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ProviderError { class, code: None, request_id: None, message: message.into(), partial: None }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Invalid, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::NotFound, message)
    }
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
    pub fn with_partial(mut self, observed: Observed) -> Self {
        self.partial = Some(Box::new(observed));
        self
    }
    pub fn is_retryable(&self) -> bool {
        self.class == ErrorClass::Transient
    }
}

pub type Result<T, E = ProviderError> = std::result::Result<T, E>;

/// A problem [`ResourceKind::validate`] finds in a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The top-level property it is about (where the error points).
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid { field: field.into(), message: message.into() }
    }
}

/// One resource of the spec as [`ResourceKind::validate_in`] sees it, before
/// any cloud call: its properties with what is known before apply (values
/// that wait on other resources' outputs are null), and which resources each
/// of its top-level properties refers to.
#[derive(Debug, Clone, Copy)]
pub struct SpecResource<'a> {
    pub address: &'a str,
    pub type_name: &'a str,
    pub region: Option<&'a str>,
    pub props: &'a Map<String, Value>,
    /// Top-level property -> the (resource address, attribute) pairs its references name.
    pub refs: &'a BTreeMap<String, Vec<(String, String)>>,
    /// `depends_on` as written.
    pub depends_on: &'a [String],
}

impl<'a> SpecResource<'a> {
    /// The one resource `field` refers to (`instance_id: ${connect_instance.id}`).
    pub fn referenced(&self, field: &str) -> Option<&'a str> {
        match self.refs.get(field).map(Vec::as_slice) {
            Some([(address, _)]) => Some(address.as_str()),
            _ => None,
        }
    }

    /// Does this resource name `address` in a reference or in `depends_on`?
    pub fn needs(&self, address: &str) -> bool {
        self.depends_on.iter().any(|d| d == address) || self.refs.values().flatten().any(|(a, _)| a == address)
    }
}

/// The whole spec, for rules that span resources (a replica's instance must
/// use SAML; a group's instance must have a replica).
pub trait SpecView: Send + Sync {
    fn get(&self, address: &str) -> Option<SpecResource<'_>>;
    fn all(&self) -> Vec<SpecResource<'_>>;
}

/// What a preflight check found about an account, before anything is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub status: FindingStatus,
    /// What was checked ("Global Resiliency access in us-east-1").
    pub check: String,
    /// What was seen, and what to do when it is not ok.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Ok,
    /// Could not be checked now (says why and when it will be).
    Unknown,
    Warn,
    /// Apply would fail on this account as it is.
    Fail,
}

impl Finding {
    pub fn new(status: FindingStatus, check: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding { status, check: check.into(), detail: detail.into() }
    }
}

/// One resource kind: `aws.ec2.vpc`, `gcp.compute.router`, ...
///
/// Properties arrive fully resolved (no references left) and coerced to the
/// schema's types; the name field, when the schema has one, is filled in.
#[async_trait]
pub trait ResourceKind: Send + Sync {
    fn schema(&self) -> &KindSchema;

    /// Create and wait until the cloud says the resource is usable.
    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed>;

    /// Read what exists; `Ok(None)` when it is gone.
    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>>;

    /// Change the fields named in `changed` (top-level property names) in
    /// place. Only called for fields that are not `force_new`. The default
    /// refuses: for kinds whose every field is `force_new` (a change
    /// replaces them), so no in-place update should ever be asked for.
    async fn update(
        &self,
        _ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        _desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        Err(refuse_update(id, &changed.join(", ")))
    }

    /// How many resources of this kind in one region [`read_many`](Self::read_many)
    /// takes at once: more than 1 when the API reads many objects in one call
    /// (EC2's describes take many ids), so a plan's refresh groups them.
    fn read_batch(&self) -> usize {
        1
    }

    /// Read several resources of this kind, all in the region of the first
    /// context (the engine groups them by region), with as few calls as the
    /// API allows: one answer per item, in order, each as [`read`](Self::read)
    /// would give it. The default reads them one by one.
    async fn read_many(&self, items: &[(Ctx, String)]) -> Vec<Result<Option<Observed>>> {
        let mut out = Vec::with_capacity(items.len());
        for (ctx, id) in items {
            out.push(self.read(ctx, id).await);
        }
        out
    }

    /// Delete and wait until gone. Deleting what is already gone succeeds.
    async fn delete(&self, ctx: &Ctx, id: &str, prior: &Map<String, Value>) -> Result<()>;

    /// Rules beyond the schema (allowed region pairs, distributions that sum
    /// to 100), checked by `tandem validate` and before every plan, with no
    /// cloud call. `props` holds what is known before apply: values that wait
    /// on other resources' outputs are null. Each problem names the top-level
    /// field it is about and says what would be valid.
    fn validate(&self, _region: Option<&str>, _props: &Map<String, Value>) -> Vec<Invalid> {
        Vec::new()
    }

    /// [`validate`](Self::validate) with the rest of the spec in view, for
    /// rules about the resources this one refers to. The default runs
    /// `validate` alone.
    fn validate_in(&self, me: &SpecResource<'_>, _spec: &dyn SpecView) -> Vec<Invalid> {
        self.validate(me.region, me.props)
    }

    /// The cloud permissions the kind's calls need (`connect:ReplicateInstance`,
    /// `compute.routers.update`), for `tandem preflight`'s policy.
    fn permissions(&self) -> &'static [&'static str] {
        &[]
    }

    /// What a real account must have for this resource, found with harmless
    /// reads before anything is made (`tandem preflight`). `me` holds what is
    /// known now: values that wait on resources not made yet are null.
    async fn preflight(&self, _ctx: &Ctx, _me: &SpecResource<'_>, _spec: &dyn SpecView) -> Vec<Finding> {
        Vec::new()
    }

    /// Find what an interrupted create with these properties made, when its
    /// id was never recorded (the run died between sending the create and the
    /// cloud's answer). Kinds whose objects are named (a stream, a table, a
    /// function, a GCP resource) look them up by name; `Ok(None)` means
    /// whether it can tell at all, and the plan reports the entry when not.
    async fn find(&self, _ctx: &Ctx, _props: &Map<String, Value>) -> Result<Found> {
        Ok(Found::CannotTell)
    }

    /// Find an existing resource by the id a user gives to `tandem import`.
    /// Most kinds import by their cloud id, which is what `read` takes.
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        self.read(ctx, id).await
    }
}

/// The kinds the engine can handle, by type name.
#[derive(Default, Clone)]
pub struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn ResourceKind>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, kind: Arc<dyn ResourceKind>) {
        self.kinds.insert(kind.schema().type_name, kind);
    }

    pub fn get(&self, type_name: &str) -> Option<&Arc<dyn ResourceKind>> {
        self.kinds.get(type_name)
    }

    pub fn schema(&self, type_name: &str) -> Option<&KindSchema> {
        self.kinds.get(type_name).map(|k| k.schema())
    }

    pub fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    pub fn schemas(&self) -> impl Iterator<Item = &KindSchema> + '_ {
        self.kinds.values().map(|k| k.schema())
    }
}

/// A private BGP ASN (RFC 6996): 64512-65534 (16-bit) or
/// 4200000000-4294967294 (32-bit), what both clouds' gateways and routers
/// take. AWS: "If you're using a 16-bit ASN, it must be in the 64512 to 65534
/// range. If you're using a 32-bit ASN, it must be in the 4200000000 to
/// 4294967294 range."
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnGateway.html
/// https://cloud.google.com/network-connectivity/docs/router/concepts/overview#bgp-asns
pub fn private_asn(asn: i64) -> bool {
    (64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn)
}

/// Read a string property.
pub fn prop_str<'a>(props: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    props.get(key).and_then(Value::as_str)
}

/// Read an integer property.
pub fn prop_i64(props: &Map<String, Value>, key: &str) -> Option<i64> {
    props.get(key).and_then(Value::as_i64)
}

/// Read a string-to-string map property (tags).
pub fn prop_tags(props: &Map<String, Value>, key: &str) -> BTreeMap<String, String> {
    props
        .get(key)
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}
