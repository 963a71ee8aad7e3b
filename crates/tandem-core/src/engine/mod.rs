//! Plan, apply, destroy and import over resource kinds, with state saved
//! after every finished operation.
//!
//! One job a module: `refresh` reads what the state records, `pending`
//! resolves the journal an interrupted run left, `plan` compares the spec
//! with what exists, `apply` carries a plan out, `import` records existing
//! objects and `preflight` checks an account. This file holds the
//! [`Engine`], its errors, and the helpers several of them share (a kind by
//! name, a call context, a resource's desired values and recorded state).

mod apply;
mod import;
mod pending;
mod plan;
mod preflight;
mod refresh;

pub use apply::{Summary, Timing, Unrecorded};
pub use import::Imported;
pub use plan::Drift;
pub use preflight::Preflight;

use crate::event::{ProgressBridge, Reporter};
use crate::graph::Graph;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_provider::{Ctx, ErrorClass, Observed, ProviderError, Registry, ResourceKind, SpecView};
use tandem_schema::KindSchema;
use tandem_spec::{Problem, Problems, Spec, ID_OUTPUT};
use tandem_state::{ResourceState, State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Spec(Problems),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("refresh failed:\n{}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"))]
    Refresh(Vec<FailedOp>),
    /// The state was written by another spec (its `name`).
    #[error(
        "this state belongs to the spec named `{owner}` ({resources} resources), not to `{spec}`: specs in one directory share `.tandem/state.json` unless each has its own. Give `{spec}` its own state (`--state .tandem/{spec}.json`, or a `backend:` block); if you renamed the spec, put `name: {owner}` back"
    )]
    NotThisSpecsState { owner: String, spec: String, resources: usize },
    /// A resource's type has no kind in this build.
    #[error("{0}")]
    UnknownKind(String),
    /// The plan would delete or replace resources marked `prevent_destroy`
    /// (one line per resource).
    #[error("{}\nTo go ahead, set `prevent_destroy: false` in the spec first (and apply), or change the plan so it keeps the resource.", .0.join("\n"))]
    Protected(Vec<String>),
    /// A `moved:` rename cannot be made in the state.
    #[error("{0}")]
    Moved(String),
    /// Import refused before any cloud call, or the object not imported
    /// (one line per reason).
    #[error("{}", .0.join("\n"))]
    Import(Vec<String>),
    /// The state changed since the plan was made.
    #[error(
        "the state changed since this plan was made (plan: serial {plan_serial} of lineage {plan_lineage}, state now: serial {state_serial} of lineage {state_lineage}); make a new plan"
    )]
    StalePlan { plan_serial: u64, plan_lineage: String, state_serial: u64, state_lineage: String },
    /// The command's arguments do not fit the spec (a `--target` or
    /// `--stage` that names nothing): the user's to fix, not the cloud's.
    #[error("{0}")]
    Usage(String),
}

impl EngineError {
    /// A stable name of the condition, for scripts (`error.code` in JSON,
    /// docs/json.md); `None` for spec problems (each has its own code) and
    /// cloud failures (the cloud's code).
    pub fn code(&self) -> Option<&'static str> {
        Some(match self {
            EngineError::Spec(_) | EngineError::Refresh(_) => return None,
            EngineError::State(_) => "tandem::state",
            EngineError::NotThisSpecsState { .. } => "tandem::state_owner",
            EngineError::UnknownKind(_) => "tandem::unknown_kind",
            EngineError::Protected(_) => "tandem::prevent_destroy",
            EngineError::Moved(_) => "tandem::moved",
            EngineError::Import(_) => "tandem::import",
            EngineError::StalePlan { .. } => "tandem::stale_plan",
            EngineError::Usage(_) => "tandem::usage",
        })
    }
}

/// An operation that failed, for people (`message`) and for machines: the
/// class, the cloud's error code and the request id to quote to support.
#[derive(Debug, Clone, Serialize)]
pub struct FailedOp {
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub message: String,
    pub class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl FailedOp {
    pub fn new(address: &str, e: &ProviderError) -> FailedOp {
        FailedOp {
            address: address.to_string(),
            region: None,
            message: e.message.clone(),
            class: e.class.as_str(),
            code: e.code.clone(),
            request_id: e.request_id.clone(),
        }
    }

    pub fn in_region(mut self, region: Option<&str>) -> FailedOp {
        self.region = region.map(str::to_string);
        self
    }
}

impl std::fmt::Display for FailedOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.region {
            Some(r) => write!(f, "{} ({r}): {}", self.address, self.message)?,
            None => write!(f, "{}: {}", self.address, self.message)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// An engine-side refusal as a provider error, so every failure in a walk has one type.
fn refused(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorClass::Invalid, message)
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub destroy: bool,
    /// Limit the plan to these addresses and what they depend on.
    pub targets: Vec<String>,
    /// Limit the plan to the resources labelled with these stages (`stage:`),
    /// as targets.
    pub stages: Vec<String>,
    /// `--refresh=false`: plan against the state as recorded, reading
    /// nothing (when a region is down, or to plan quickly).
    pub no_refresh: bool,
}

pub struct Engine {
    pub registry: Registry,
    pub reporter: Arc<dyn Reporter>,
    pub parallelism: usize,
    /// How long any one waiter may wait.
    pub timeout: Duration,
    /// Set (by Ctrl-C, or a failed state write) to stop starting new operations.
    pub cancel: Arc<AtomicBool>,
    /// Objects made during the current apply whose state write failed.
    unrecorded: Mutex<Vec<Unrecorded>>,
}

impl Engine {
    pub fn new(registry: Registry, reporter: Arc<dyn Reporter>) -> Self {
        Engine {
            registry,
            reporter,
            parallelism: 10,
            timeout: Duration::from_secs(30 * 60),
            cancel: Arc::new(AtomicBool::new(false)),
            unrecorded: Mutex::new(Vec::new()),
        }
    }

    /// Whether applying `spec` can put secrets in the state: sensitive
    /// variables, or a kind with sensitive fields or outputs.
    pub fn has_secrets(&self, spec: &Spec) -> bool {
        spec.variables.values().any(|v| v.sensitive)
            || spec.outputs.values().any(|o| o.sensitive)
            || spec
                .resources
                .values()
                .any(|r| !r.sensitive.is_empty() || self.registry.schema(&r.type_name).is_some_and(|k| k.has_sensitive()))
    }

    pub fn schemas(&self) -> Vec<&KindSchema> {
        self.registry.schemas().collect()
    }

    /// Checks that need the whole spec (cycles) or a kind's own rules.
    pub fn check(&self, spec: &Spec) -> Result<Graph, Problems> {
        let g = Graph::from_spec(spec);
        let mut problems = Problems(g.cycle_problems(spec));
        let view = crate::view::View::new(spec);
        for r in spec.resources.values() {
            let (Some(kind), Some(me)) = (self.registry.get(&r.type_name), view.get(&r.address)) else { continue };
            for inv in kind.validate_in(&me, &view) {
                let span = r.properties.span_of(&inv.field).unwrap_or(r.span);
                problems.push(Problem::new(tandem_spec::Code::SpecRule, inv.message).at(&spec.source, span, format!("in `{}`", r.address)));
            }
        }
        problems.into_result(g)
    }

    fn kind(&self, type_name: &str) -> Result<&Arc<dyn ResourceKind>, String> {
        self.registry.get(type_name).ok_or_else(|| {
            format!("this tandem has no resource kind `{type_name}` (known: {})", self.registry.type_names().collect::<Vec<_>>().join(", "))
        })
    }

    fn ctx(&self, address: &str, region: Option<&str>) -> Ctx {
        Ctx {
            address: address.to_string(),
            name: address.to_string(),
            region: region.map(str::to_string),
            progress: Arc::new(ProgressBridge(self.reporter.clone())),
            timeout: self.timeout,
            consistency: tandem_provider::CONSISTENCY_WINDOW,
            interrupt: self.cancel.clone(),
            journal: Arc::new(tandem_provider::NoJournal),
            wanted: None,
        }
    }
}

/// The value of `${res.attr}` from what the state records.
pub fn lookup(state: &State, res: &str, attr: &str) -> Option<Value> {
    let r = state.resources.get(res)?;
    if r.tainted {
        return None;
    }
    if let Some(v) = r.outputs.get(attr) {
        return Some(v.clone());
    }
    (attr == ID_OUTPUT).then(|| Value::String(r.id.clone()))
}

/// What a name field defaults to: the resource's key, or `key-EACH` for a
/// `for_each` instance (brackets are not valid in most cloud names).
pub fn default_name(r: &tandem_spec::Resource) -> String {
    match &r.each_key {
        Some(k) => format!("{}-{k}", r.base),
        None => r.base.clone(),
    }
}

/// The name a resource gets when the spec sets none: the one it was made
/// with, so a rename of its key (`moved`, `state mv`) keeps the cloud
/// object; for a new resource, its key.
fn name_default(r: &tandem_spec::Resource, schema: &KindSchema, state: &State) -> String {
    schema
        .name_field
        .and_then(|f| {
            state.resources.get(&r.address).filter(|s| s.type_name == r.type_name)?.properties.get(f)?.as_str().map(str::to_string)
        })
        .unwrap_or_else(|| default_name(r))
}

/// A state belongs to the spec that wrote it (its `name`). Two specs in one
/// directory share `.tandem/state.json` unless told otherwise, and the
/// second would plan to delete everything the first made as "no longer in
/// the spec"; refuse instead.
fn check_owner(spec: &Spec, state: &State) -> Result<(), EngineError> {
    if state.resources.is_empty() || state.spec_name.is_empty() || state.spec_name == spec.name {
        return Ok(());
    }
    Err(EngineError::NotThisSpecsState { owner: state.spec_name.clone(), spec: spec.name.clone(), resources: state.resources.len() })
}

/// Fill in the default name and bring values to their declared types.
fn finalize(schema: &KindSchema, address: &str, value: Value) -> Result<Map<String, Value>, String> {
    let mut map = match value {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(name) = schema.name_field {
        if map.get(name).is_none_or(Value::is_null) && !map.contains_key(name) {
            map.insert(name.to_string(), Value::String(address.to_string()));
        }
    }
    // Unknown values (null until apply) are kept as they are.
    let coerced = tandem_schema::coerce(&schema.as_type(), &Value::Object(map), "").map_err(|e| format!("`{address}`: {e}"))?;
    Ok(match coerced {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

fn resource_state(
    r: &tandem_spec::Resource,
    schema: &KindSchema,
    obs: &Observed,
    properties: Map<String, Value>,
    tainted: bool,
) -> ResourceState {
    // What the state encrypts at rest: fields and outputs the kind marks
    // sensitive, and properties made from sensitive variables.
    let mut sensitive = tandem_schema::sensitive_pointers(&schema.as_type(), &Value::Object(properties.clone()), "/properties");
    for p in &r.sensitive {
        let ptr = format!("/properties/{}", p.replace('~', "~0").replace('/', "~1"));
        sensitive.retain(|s| !s.starts_with(&format!("{ptr}/")));
        if !sensitive.contains(&ptr) {
            sensitive.push(ptr);
        }
    }
    for o in schema.outputs.iter().filter(|o| o.sensitive && obs.outputs.contains_key(o.name)) {
        sensitive.push(format!("/outputs/{}", o.name.replace('~', "~0").replace('/', "~1")));
    }
    sensitive.sort();
    ResourceState {
        sensitive,
        type_name: r.type_name.clone(),
        region: r.region.clone(),
        id: obs.id.clone(),
        properties,
        outputs: obs.outputs.clone(),
        dependencies: r.dependencies(),
        tainted,
        prevent_destroy: r.prevent_destroy,
    }
}
