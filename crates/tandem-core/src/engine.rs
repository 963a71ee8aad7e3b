//! Plan, apply, destroy and import over resource kinds, with state saved
//! after every finished operation.

use crate::event::{secs, Event, Op, ProgressBridge, Reporter};
use crate::graph::Graph;
use crate::journal::{PendingOutcome, PendingResolution};
use crate::plan::{diff_fields, Action, Change, Plan};
use crate::saver::Saver;
use crate::walk::{walk, NodeStatus};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_provider::{retry, Ctx, ErrorClass, Observed, ProviderError, Registry, ResourceKind, RetryPolicy, SpecView};
use tandem_schema::KindSchema;
use tandem_spec::{Problem, Problems, Spec, ID_OUTPUT};
use tandem_state::{Move, OutputState, PendingKind, PendingOp, ResourceState, State, StateError, StateWriter};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Spec(Problems),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("refresh failed:\n{}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"))]
    Refresh(Vec<FailedOp>),
    #[error("{0}")]
    Refused(String),
    /// The command's arguments do not fit the spec (a `--target` or
    /// `--stage` that names nothing): the user's to fix, not the cloud's.
    #[error("{0}")]
    Usage(String),
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

/// What a refresh found different from the state (`--refresh-only`).
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// Gone from the cloud: the refreshed state forgets it.
    pub deleted: bool,
    /// Fields whose value in the cloud (after) differs from the state's (before).
    pub fields: Vec<crate::plan::FieldChange>,
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

/// What `preflight` found: per resource (in spec order), and the permissions
/// the spec's kinds call with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preflight {
    pub findings: Vec<(String, Vec<tandem_provider::Finding>)>,
    pub permissions: Vec<String>,
    /// Kinds in the spec that list no permissions.
    pub unlisted: Vec<String>,
}

impl Preflight {
    pub fn failed(&self) -> bool {
        self.findings.iter().flat_map(|(_, f)| f).any(|f| f.status == tandem_provider::FindingStatus::Fail)
    }
}

/// What an apply or destroy did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub replaced: Vec<String>,
    pub deleted: Vec<String>,
    pub failed: Vec<FailedOp>,
    /// The state could not be written: nothing new was started after that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
    /// Made in the cloud but not in the state (its write failed): import them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrecorded: Vec<Unrecorded>,
    pub skipped: Vec<(String, String)>,
    pub cancelled: Vec<String>,
    /// Left as they are because the plan could not read them (a region
    /// down): the stack has not converged until a later apply reads them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<crate::plan::Unread>,
    /// How close the apply came to its critical path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

/// Wall time against the critical path: the chain of operations whose
/// measured durations add up to the most, which no schedule can beat.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub wall_seconds: f64,
    pub critical_path_seconds: f64,
    /// wall / critical path: 1.0 is the physical limit.
    pub ratio: f64,
    /// The chain, first to last (`vpc (delete)` for the delete half of a replacement).
    pub critical_path: Vec<String>,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && self.skipped.is_empty()
            && self.cancelled.is_empty()
            && self.state_error.is_none()
            && self.unread.is_empty()
    }
}

/// A cloud object an apply made whose state write failed.
#[derive(Debug, Clone, Serialize)]
pub struct Unrecorded {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub region: Option<String>,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Delete,
    Apply,
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
                problems.push(Problem::new("tandem::spec::rule", inv.message).at(&spec.source, span, format!("in `{}`", r.address)));
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

    /// Read everything the state says exists. Returns the refreshed state
    /// (outputs and ids as the cloud reports them), the observed properties,
    /// and the addresses found gone.
    pub async fn refresh(&self, state: &State) -> Result<(State, BTreeMap<String, Observed>, Vec<String>), EngineError> {
        self.refresh_with_remarks(state).await.map(|(s, o, g, _)| (s, o, g))
    }

    /// [`Self::refresh`], with what each read remarked (see `Ctx::remark`).
    /// `only`: read just these addresses (a `--target`/`--stage` plan reads
    /// what it may change and nothing else, so a region that is down does
    /// not block a change elsewhere); the rest keep their recorded values.
    async fn refresh_with_remarks(
        &self,
        state: &State,
    ) -> Result<(State, BTreeMap<String, Observed>, Vec<String>, BTreeMap<String, Vec<String>>), EngineError> {
        self.refresh_scoped(state, None, None).await
    }

    /// What one refresh task reads: resources of a kind that reads many at
    /// once ([`ResourceKind::read_batch`]) go in groups of one kind and region,
    /// the rest one by one.
    fn read_units(&self, state: &State, addrs: &[String]) -> Vec<Vec<String>> {
        let mut units = Vec::new();
        let mut groups: BTreeMap<(&str, Option<&str>), Vec<String>> = BTreeMap::new();
        for a in addrs {
            let r = &state.resources[a];
            match self.registry.get(&r.type_name).map(|k| k.read_batch()) {
                Some(n) if n > 1 => groups.entry((r.type_name.as_str(), r.region.as_deref())).or_default().push(a.clone()),
                _ => units.push(vec![a.clone()]),
            }
        }
        for ((type_name, _), members) in groups {
            let n = self.registry.get(type_name).map_or(1, |k| k.read_batch());
            units.extend(members.chunks(n).map(<[String]>::to_vec));
        }
        units
    }

    /// Read one unit of [`Self::read_units`], with an event per resource.
    async fn read_unit(
        &self,
        state: &State,
        unit: &[String],
        declared: Option<&Declared>,
        recorder: Arc<crate::event::RemarkRecorder>,
    ) -> Vec<(String, Result<Option<Observed>, FailedOp>)> {
        let type_name = &state.resources[&unit[0]].type_name;
        let kind = match self.kind(type_name) {
            Ok(k) => k,
            Err(e) => return unit.iter().map(|a| (a.clone(), Err(FailedOp::new(a, &refused(e.clone()))))).collect(),
        };
        let items: Vec<(Ctx, String)> = unit
            .iter()
            .map(|a| {
                let r = &state.resources[a];
                let mut ctx = self.ctx(a, r.region.as_deref());
                ctx.progress = recorder.clone();
                // What the caller compares: the recorded properties and what
                // the spec sets now; the rest need not be read.
                ctx.wanted = declared.map(|d| {
                    let mut w: BTreeSet<String> = r.properties.keys().cloned().collect();
                    w.extend(d.get(a).into_iter().flatten().cloned());
                    Arc::new(w)
                });
                (ctx, r.id.clone())
            })
            .collect();
        for a in unit {
            self.reporter.event(&Event::Started { address: a.clone(), op: Op::Refresh });
        }
        let t = Instant::now();
        let mut answers = if items.len() > 1 { kind.read_many(&items).await.into_iter() } else { Vec::new().into_iter() };
        let mut out = Vec::with_capacity(items.len());
        for (ctx, id) in &items {
            // One resource alone, an answer a kind left out, or a transient
            // failure of a shared call: read (and retry) this one by itself.
            let res = match answers.next() {
                Some(Err(e)) if e.is_retryable() => None,
                Some(res) => Some(res),
                None => None,
            };
            let res = match res {
                Some(res) => res,
                None => retry(ctx, "read", RetryPolicy::default(), || kind.read(ctx, id)).await,
            };
            let addr = &ctx.address;
            match &res {
                Ok(o) => self.reporter.event(&Event::Finished {
                    address: addr.clone(),
                    op: Op::Refresh,
                    id: o.as_ref().map(|o| o.id.clone()),
                    seconds: secs(t.elapsed()),
                }),
                Err(e) => self.reporter.event(&Event::failed(addr, Op::Refresh, e, secs(t.elapsed()))),
            }
            out.push((addr.clone(), res.map_err(|e| FailedOp::new(addr, &e).in_region(ctx.region.as_deref()))));
        }
        out
    }

    async fn refresh_scoped(
        &self,
        state: &State,
        only: Option<&BTreeSet<String>>,
        declared: Option<&Declared>,
    ) -> Result<(State, BTreeMap<String, Observed>, Vec<String>, BTreeMap<String, Vec<String>>), EngineError> {
        let (s, o, g, r, errors) = self.refresh_parts(state, only, declared).await;
        if !errors.is_empty() {
            return Err(EngineError::Refresh(errors));
        }
        Ok((s, o, g, r))
    }

    /// The reads of a refresh, with the ones that failed: the state keeps
    /// what it recorded for those. `declared`: when the caller compares only
    /// the recorded properties and these (see [`Declared`]); `None` reads
    /// everything.
    async fn refresh_parts(
        &self,
        state: &State,
        only: Option<&BTreeSet<String>>,
        declared: Option<&Declared>,
    ) -> (State, BTreeMap<String, Observed>, Vec<String>, BTreeMap<String, Vec<String>>, Vec<FailedOp>) {
        let recorder = Arc::new(crate::event::RemarkRecorder { inner: self.reporter.clone(), remarks: Default::default() });
        let addrs: Vec<String> = state.resources.keys().filter(|a| only.is_none_or(|s| s.contains(*a))).cloned().collect();
        let units = self.read_units(state, &addrs);
        let keys: Vec<usize> = (0..units.len()).collect();
        let results: Mutex<BTreeMap<String, Result<Option<Observed>, FailedOp>>> = Mutex::new(BTreeMap::new());
        walk(&keys, &[], self.parallelism, &AtomicBool::new(false), |i| {
            let results = &results;
            let recorder = recorder.clone();
            let unit = &units[i];
            async move {
                let out = self.read_unit(state, unit, declared, recorder).await;
                results.lock().expect("not poisoned").extend(out);
                Ok::<(), String>(())
            }
        })
        .await;
        let mut refreshed = state.clone();
        let mut observed = BTreeMap::new();
        let mut gone = Vec::new();
        let mut errors = Vec::new();
        for (addr, r) in results.into_inner().expect("not poisoned") {
            match r {
                Ok(Some(o)) => {
                    let rs = refreshed.resources.get_mut(&addr).expect("from state");
                    rs.id = o.id.clone();
                    rs.outputs = o.outputs.clone();
                    observed.insert(addr, o);
                }
                Ok(None) => {
                    refreshed.resources.remove(&addr);
                    gone.push(addr);
                }
                Err(e) => errors.push(e),
            }
        }
        let remarks = recorder.remarks.lock().map(|r| r.clone()).unwrap_or_default();
        (refreshed, observed, gone, remarks, errors)
    }

    /// [`Self::refresh_scoped`] for a plan: when reads fail only for the
    /// cloud's reasons (5xx, throttling, timeouts: a region or a service
    /// down) in regions other than some that read fine, the plan goes on
    /// without them; the resources not read are returned, and everything
    /// else is planned as usual. Anything else (credentials, a refused call,
    /// every read failing) fails the plan as before.
    async fn refresh_tolerant(
        &self,
        state: &State,
        only: Option<&BTreeSet<String>>,
        declared: Option<&Declared>,
    ) -> Result<(State, BTreeMap<String, Observed>, Vec<String>, BTreeMap<String, Vec<String>>, Vec<FailedOp>), EngineError> {
        let (s, o, g, r, failed) = self.refresh_parts(state, only, declared).await;
        if failed.is_empty() {
            return Ok((s, o, g, r, failed));
        }
        let outage_like = failed.iter().all(|f| matches!(f.class, "transient" | "timeout") && f.region.is_some());
        let down: BTreeSet<&str> = failed.iter().filter_map(|f| f.region.as_deref()).collect();
        // Something read fine outside the failing regions: the outage is
        // regional, and work elsewhere can go on.
        let healthy = state
            .resources
            .iter()
            .any(|(a, r)| only.is_none_or(|s| s.contains(a)) && r.region.as_deref().is_some_and(|reg| !down.contains(reg)));
        if !outage_like || !healthy {
            return Err(EngineError::Refresh(failed));
        }
        Ok((s, o, g, r, failed))
    }

    /// Resolve the operations interrupted runs left in the journal (those in
    /// `only`, when given): read what a create's recorded id names, or ask the
    /// kind to find it by name; see [`PendingOutcome`]. Returns each entry's
    /// outcome and what the creates made, as apply will record it (tainted).
    async fn resolve_pending(
        &self,
        state: &State,
        only: Option<&BTreeSet<String>>,
    ) -> (Vec<PendingResolution>, BTreeMap<String, ResourceState>) {
        let entries = state.pending.iter().filter(|(a, _)| only.is_none_or(|s| s.contains(*a)));
        let found = futures::future::join_all(entries.map(|(addr, p)| self.resolve_one(state, addr, p))).await;
        let mut adopted = BTreeMap::new();
        let mut out = Vec::new();
        for (resolution, made) in found {
            if let Some(rs) = made {
                adopted.insert(resolution.address.clone(), rs);
            }
            out.push(resolution);
        }
        (out, adopted)
    }

    async fn resolve_one(&self, state: &State, addr: &str, p: &PendingOp) -> (PendingResolution, Option<ResourceState>) {
        let resolution = |outcome| PendingResolution {
            address: addr.to_string(),
            op: p.op,
            type_name: p.type_name.clone(),
            region: p.region.clone(),
            started: p.started.clone(),
            outcome,
        };
        let kind = match self.kind(&p.type_name) {
            Ok(k) => k,
            Err(e) => return (resolution(PendingOutcome::Unresolved { message: e }), None),
        };
        if let Some(recorded) = state.resources.get(addr) {
            return match &p.id {
                Some(id) if p.op == PendingKind::Create && *id != recorded.id => (
                    resolution(PendingOutcome::Unrecorded {
                        message: format!(
                            "it made {id}, but the state records {} at this address: delete {id} in the cloud if nothing uses it",
                            recorded.id
                        ),
                    }),
                    None,
                ),
                _ => (resolution(PendingOutcome::Recorded), None),
            };
        }
        let ctx = self.ctx(addr, p.region.as_deref());
        let found = match &p.id {
            Some(id) => retry(&ctx, "read", RetryPolicy::default(), || kind.read(&ctx, id)).await.map(tandem_provider::Found::from),
            None => retry(&ctx, "find", RetryPolicy::default(), || kind.find(&ctx, &p.properties)).await,
        };
        match found {
            Ok(tandem_provider::Found::Object(o)) => {
                let schema = kind.schema();
                let sensitive = schema
                    .outputs
                    .iter()
                    .filter(|d| d.sensitive && o.outputs.contains_key(d.name))
                    .map(|d| format!("/outputs/{}", d.name.replace('~', "~0").replace('/', "~1")))
                    .collect();
                let rs = ResourceState {
                    type_name: p.type_name.clone(),
                    region: p.region.clone(),
                    id: o.id.clone(),
                    properties: p.properties.clone(),
                    outputs: o.outputs,
                    dependencies: p.dependencies.clone(),
                    tainted: true,
                    prevent_destroy: false,
                    sensitive,
                };
                (resolution(PendingOutcome::Adopted { id: o.id }), Some(rs))
            }
            Ok(tandem_provider::Found::Nothing) => (resolution(PendingOutcome::Gone), None),
            Ok(tandem_provider::Found::CannotTell) => (
                resolution(PendingOutcome::Unrecorded {
                    message: format!(
                        "the create was sent but its answer never recorded, and {} objects cannot be found by name; \
                         if one was made, record it with `tandem import {addr} ID` or delete it in the cloud",
                        p.type_name
                    ),
                }),
                None,
            ),
            Err(e) => {
                let what = p.id.as_deref().map(|i| format!("read {i}")).unwrap_or_else(|| "look for what it made".into());
                (
                    resolution(PendingOutcome::Unresolved {
                        message: format!("could not {what} ({e}); kept in the journal for the next plan"),
                    }),
                    None,
                )
            }
        }
    }

    /// Refresh, then compare the spec with what exists.
    pub async fn plan(&self, spec: &Spec, state: &State, opts: &PlanOptions) -> Result<Plan, EngineError> {
        let graph = self.check(spec).map_err(EngineError::Spec)?;
        check_owner(spec, state)?;
        let (moved_state, moved) = moves(spec, state)?;
        // The scope first: only what the plan may change is read.
        let in_scope = self.scope(spec, &graph, &opts.targets, &opts.stages, opts.destroy).map_err(EngineError::Usage)?;
        let (refreshed, observed, gone, remarks, unread) = if opts.no_refresh {
            (moved_state.clone(), BTreeMap::new(), Vec::new(), BTreeMap::new(), Vec::new())
        } else {
            self.refresh_tolerant(&moved_state, in_scope.as_ref(), Some(&declared(spec, &self.registry))).await?
        };
        // Not read: nothing is planned for them, nor for what depends on them
        // (its inputs could not be checked).
        let held: BTreeSet<String> = {
            let mut held: BTreeSet<String> = unread.iter().map(|f| f.address.clone()).collect();
            // Destroy deletes dependents first; they need nothing of what was not read.
            for addr in graph.topo_order().into_iter().filter(|_| !opts.destroy) {
                if spec.resources[&addr].dependencies().iter().any(|d| held.contains(d)) {
                    held.insert(addr);
                }
            }
            held
        };
        let unread: Vec<crate::plan::Unread> = unread
            .into_iter()
            .map(|f| crate::plan::Unread { address: f.address, region: f.region, message: f.message, code: f.code })
            .collect();
        let (mut refreshed, interrupted, adopted) = if opts.no_refresh {
            (refreshed, Vec::new(), BTreeMap::new())
        } else {
            let (interrupted, adopted) = self.resolve_pending(&moved_state, in_scope.as_ref()).await;
            let mut refreshed = refreshed;
            for (a, rs) in &adopted {
                refreshed.resources.entry(a.clone()).or_insert_with(|| rs.clone());
            }
            (refreshed, interrupted, adopted)
        };
        for p in interrupted.iter().filter(|p| p.outcome == PendingOutcome::Gone && p.op == PendingKind::Delete) {
            refreshed.resources.remove(&p.address);
        }
        let mut changes = Vec::new();

        if opts.destroy {
            for (addr, r) in
                refreshed.resources.iter().filter(|(a, _)| in_scope.as_ref().is_none_or(|s| s.contains(*a)) && !held.contains(*a))
            {
                changes.push(Change {
                    address: addr.clone(),
                    type_name: r.type_name.clone(),
                    region: r.region.clone(),
                    action: Action::Delete,
                    reasons: vec!["destroy".into()],
                    fields: vec![],
                });
            }
            self.refuse_protected(spec, &refreshed, &changes)?;
            return Ok(Plan {
                lineage: state.lineage.clone(),
                serial: state.serial,
                destroy: true,
                changes,
                gone,
                moved,
                pending: interrupted,
                unread,
                adopted,
            });
        }

        // Files a resource in this plan names must exist now.
        let unreadable: Vec<Problem> = spec
            .resources
            .values()
            .filter(|r| in_scope.as_ref().is_none_or(|s| s.contains(&r.address)))
            .flat_map(|r| r.unreadable.iter().cloned())
            .collect();
        if !unreadable.is_empty() {
            return Err(EngineError::Spec(Problems(unreadable)));
        }

        // Resources whose outputs are unknown until apply makes them.
        let mut pending: BTreeSet<String> = BTreeSet::new();
        for addr in graph.topo_order() {
            if in_scope.as_ref().is_some_and(|s| !s.contains(&addr)) || held.contains(&addr) {
                continue;
            }
            let r = &spec.resources[&addr];
            let kind = self.kind(&r.type_name).map_err(EngineError::Refused)?;
            let schema = kind.schema();
            let ev = r.properties.eval(&|res, attr| {
                if pending.contains(res) {
                    return None;
                }
                lookup(&refreshed, res, attr)
            });
            let desired = finalize(schema, &name_default(r, schema, &refreshed), ev.value.clone()).map_err(|e| {
                EngineError::Spec(Problems(vec![Problem::new("tandem::spec::type", e).at(&spec.source, r.span, "in this resource")]))
            })?;
            let mut reasons = Vec::new();
            let (action, fields) = match refreshed.resources.get(&addr) {
                None => {
                    if gone.contains(&addr) {
                        reasons.push("deleted outside tandem".to_string());
                    }
                    (Action::Create, vec![])
                }
                Some(prior) if prior.type_name != r.type_name => {
                    reasons.push(format!("type changed from {} to {}", prior.type_name, r.type_name));
                    (Action::Replace, vec![])
                }
                Some(prior) if prior.region != r.region => {
                    reasons.push(format!(
                        "region changed from {} to {}",
                        prior.region.as_deref().unwrap_or("none"),
                        r.region.as_deref().unwrap_or("none")
                    ));
                    (Action::Replace, vec![])
                }
                Some(prior) if prior.tainted => {
                    reasons.push("tainted: an earlier create did not finish".into());
                    (Action::Replace, vec![])
                }
                Some(prior) => {
                    let mut current = prior.properties.clone();
                    if let Some(o) = observed.get(&addr) {
                        for (k, v) in &o.properties {
                            current.insert(k.clone(), v.clone());
                        }
                    }
                    let fields = diff_fields(schema, &desired, &ev.unknown, &current, &prior.properties);
                    let forcing: Vec<&str> = fields.iter().filter(|f| f.forces_replacement).map(|f| f.field.as_str()).collect();
                    if !forcing.is_empty() {
                        reasons.push(format!(
                            "{} forces replacement",
                            forcing.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                        ));
                        (Action::Replace, fields)
                    } else if fields.is_empty() {
                        (Action::NoOp, fields)
                    } else {
                        (Action::Update, fields)
                    }
                }
            };
            if action != Action::NoOp {
                reasons.extend(remarks.get(&addr).cloned().unwrap_or_default());
            }
            if matches!(action, Action::Create | Action::Replace) {
                pending.insert(addr.clone());
            }
            let fields = if action == Action::Create {
                // Show what will be made, secrets redacted, unknowns marked.
                let redacted = tandem_schema::redact(&schema.as_type(), &Value::Object(desired.clone()));
                let mut all: Vec<_> = redacted
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| crate::plan::FieldChange {
                        field: k.clone(),
                        before: None,
                        after: Some(v.clone()),
                        after_unknown: false,
                        forces_replacement: false,
                    })
                    .collect();
                for p in &ev.unknown {
                    let top = p.split(['.', '[']).next().unwrap_or(p).to_string();
                    if let Some(f) = all.iter_mut().find(|f| f.field == top) {
                        f.after_unknown = true;
                        f.after = None;
                    } else {
                        all.push(crate::plan::FieldChange {
                            field: top,
                            before: None,
                            after: None,
                            after_unknown: true,
                            forces_replacement: false,
                        });
                    }
                }
                all
            } else {
                fields
            };
            let fields = redact_fields(fields, &r.sensitive);
            changes.push(Change {
                address: addr.clone(),
                type_name: r.type_name.clone(),
                region: r.region.clone(),
                action,
                reasons,
                fields,
            });
        }
        // What the state has and the spec no longer declares goes.
        for (addr, r) in &refreshed.resources {
            if spec.resources.contains_key(addr) || in_scope.as_ref().is_some_and(|s| !s.contains(addr)) || held.contains(addr) {
                continue;
            }
            changes.push(Change {
                address: addr.clone(),
                type_name: r.type_name.clone(),
                region: r.region.clone(),
                action: Action::Delete,
                reasons: vec!["no longer in the spec".into()],
                fields: vec![],
            });
        }
        self.refuse_protected(spec, &refreshed, &changes)?;
        Ok(Plan {
            lineage: state.lineage.clone(),
            serial: state.serial,
            destroy: false,
            changes,
            gone,
            moved,
            pending: interrupted,
            unread,
            adopted,
        })
    }

    /// `--refresh-only`: read what the state records (in scope), and say
    /// what differs. Returns the state as the cloud has it, for `apply
    /// --refresh-only` to save; changes nothing in the cloud.
    pub async fn refresh_only(&self, spec: &Spec, state: &State, opts: &PlanOptions) -> Result<(State, Vec<Drift>), EngineError> {
        let graph = self.check(spec).map_err(EngineError::Spec)?;
        check_owner(spec, state)?;
        let in_scope = self.scope(spec, &graph, &opts.targets, &opts.stages, false).map_err(EngineError::Usage)?;
        // Drift is what the state records and the cloud has changed.
        let (mut refreshed, observed, gone, _) = self.refresh_scoped(state, in_scope.as_ref(), Some(&Declared::new())).await?;
        let mut drift: Vec<Drift> = gone
            .iter()
            .map(|a| Drift { address: a.clone(), type_name: state.resources[a].type_name.clone(), deleted: true, fields: vec![] })
            .collect();
        for (addr, o) in &observed {
            let prior = &state.resources[addr];
            let Some(schema) = self.registry.schema(&prior.type_name) else { continue };
            // Only what the state records is compared and taken: a default the
            // cloud filled in (and the spec never set) is not drift, and
            // recording it would make the next plan want to unset it.
            let mut cloud = prior.properties.clone();
            for (k, v) in &o.properties {
                if prior.properties.contains_key(k) {
                    cloud.insert(k.clone(), v.clone());
                }
            }
            let mut fields = diff_fields(schema, &cloud, &BTreeSet::new(), &prior.properties, &prior.properties);
            for f in &mut fields {
                f.forces_replacement = false;
            }
            if o.id != prior.id {
                fields.insert(
                    0,
                    crate::plan::FieldChange {
                        field: "id".into(),
                        before: Some(Value::String(prior.id.clone())),
                        after: Some(Value::String(o.id.clone())),
                        after_unknown: false,
                        forces_replacement: false,
                    },
                );
            }
            if let Some(rs) = refreshed.resources.get_mut(addr) {
                rs.properties = cloud;
            }
            if !fields.is_empty() {
                drift.push(Drift { address: addr.clone(), type_name: prior.type_name.clone(), deleted: false, fields });
            }
        }
        drift.sort_by(|a, b| a.address.cmp(&b.address));
        Ok((refreshed, drift))
    }

    /// The targets and what they need (apply), or the targets and what needs
    /// them (destroy: nothing may be left pointing at a deleted resource).
    fn scope(
        &self,
        spec: &Spec,
        graph: &Graph,
        targets: &[String],
        stages: &[String],
        destroy: bool,
    ) -> Result<Option<BTreeSet<String>>, String> {
        if targets.is_empty() && stages.is_empty() {
            return Ok(None);
        }
        let mut targets = targets.to_vec();
        for stage in stages {
            let members: Vec<String> =
                spec.resources.values().filter(|r| r.stage.as_deref() == Some(stage)).map(|r| r.address.clone()).collect();
            if members.is_empty() {
                let known: BTreeSet<&str> = spec.resources.values().filter_map(|r| r.stage.as_deref()).collect();
                let hint = tandem_spec::suggest(stage, known.iter().copied()).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                let list = if known.is_empty() {
                    "no resource of this spec has a `stage:`".to_string()
                } else {
                    format!("the stages of this spec: {}", known.into_iter().collect::<Vec<_>>().join(", "))
                };
                return Err(format!("--stage `{stage}` labels no resource{hint} ({list})"));
            }
            targets.extend(members);
        }
        let mut set = BTreeSet::new();
        let reach = |idx: petgraph::graph::NodeIndex, set: &mut BTreeSet<String>| {
            if destroy {
                let mut dfs = petgraph::visit::Dfs::new(&graph.graph, idx);
                while let Some(n) = dfs.next(&graph.graph) {
                    set.insert(graph.graph[n].clone());
                }
            } else {
                let rev = petgraph::visit::Reversed(&graph.graph);
                let mut dfs = petgraph::visit::Dfs::new(rev, idx);
                while let Some(n) = dfs.next(rev) {
                    set.insert(graph.graph[n].clone());
                }
            }
        };
        for t in &targets {
            // A for_each resource's key targets all its instances.
            let instances: Vec<&String> =
                spec.resources.values().filter(|r| &r.base == t && r.each_key.is_some()).map(|r| &r.address).collect();
            if !graph.index.contains_key(t) && !instances.is_empty() {
                for a in instances {
                    reach(graph.index[a], &mut set);
                }
                continue;
            }
            let Some(&idx) = graph.index.get(t) else {
                let names: Vec<&str> = spec.resources.keys().map(String::as_str).collect();
                let hint = tandem_spec::suggest(t, names).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                return Err(format!("--target `{t}` is not a resource of this spec{hint}"));
            };
            reach(idx, &mut set);
        }
        Ok(Some(set))
    }

    fn refuse_protected(&self, spec: &Spec, state: &State, changes: &[Change]) -> Result<(), EngineError> {
        let mut refused = Vec::new();
        for c in changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Replace)) {
            let protected = spec.resources.get(&c.address).map(|r| r.prevent_destroy).unwrap_or(false)
                || state.resources.get(&c.address).is_some_and(|r| r.prevent_destroy);
            if protected {
                refused.push(format!(
                    "`{}` has lifecycle.prevent_destroy set, and this plan would {} it{}",
                    c.address,
                    c.action.verb(),
                    if c.reasons.is_empty() { String::new() } else { format!(" ({})", c.reasons.join("; ")) }
                ));
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Refused(format!(
                "{}\nTo go ahead, set `prevent_destroy: false` in the spec first (and apply), or change the plan so it keeps the resource.",
                refused.join("\n")
            )))
        }
    }

    /// Carry out `plan`, saving the state after every finished operation.
    pub async fn apply(&self, spec: &Spec, plan: &Plan, backend: &dyn StateWriter, mut state: State) -> Result<Summary, EngineError> {
        // Nothing written yet: the state takes the lineage its first plan saw.
        if state.serial == 0 && state.resources.is_empty() && plan.serial == 0 {
            state.lineage = plan.lineage.clone();
        }
        if plan.lineage != state.lineage || plan.serial != state.serial {
            return Err(EngineError::Refused(format!(
                "the state changed since this plan was made (plan: serial {} of lineage {}, state now: serial {} of lineage {}); make a new plan",
                plan.serial, plan.lineage, state.serial, state.lineage
            )));
        }
        state.spec_name = spec.name.clone();
        for m in &plan.moved {
            if state.resources.contains_key(&m.from) {
                state.move_resource(&m.from, &m.to).map_err(EngineError::Refused)?;
            }
        }
        for g in &plan.gone {
            state.resources.remove(g);
        }
        for p in plan.pending.iter().filter(|p| p.settled()) {
            state.pending.remove(&p.address);
            if p.op == PendingKind::Delete && p.outcome == PendingOutcome::Gone {
                state.resources.remove(&p.address);
            }
        }
        for (a, rs) in &plan.adopted {
            state.resources.entry(a.clone()).or_insert_with(|| rs.clone());
        }
        let changes: BTreeMap<&str, &Change> = plan.changes.iter().map(|c| (c.address.as_str(), c)).collect();
        let mut nodes: Vec<(String, Step)> = Vec::new();
        for c in &plan.changes {
            match c.action {
                Action::NoOp => {}
                Action::Create | Action::Update => nodes.push((c.address.clone(), Step::Apply)),
                Action::Delete => nodes.push((c.address.clone(), Step::Delete)),
                Action::Replace => {
                    nodes.push((c.address.clone(), Step::Delete));
                    nodes.push((c.address.clone(), Step::Apply));
                }
            }
        }
        let has = |a: &str, s: Step| nodes.iter().any(|(n, st)| n == a && *st == s);
        let mut edges = Vec::new();
        for (addr, r) in &spec.resources {
            for dep in r.dependencies() {
                if has(&dep, Step::Apply) && has(addr, Step::Apply) {
                    edges.push(((dep.clone(), Step::Apply), (addr.clone(), Step::Apply)));
                }
            }
        }
        for (addr, rs) in &state.resources {
            for dep in &rs.dependencies {
                if has(addr, Step::Delete) && has(dep, Step::Delete) {
                    edges.push(((addr.clone(), Step::Delete), (dep.clone(), Step::Delete)));
                }
                // A resource that lets go of `dep` must do so before `dep` is deleted.
                let still_needs = spec.resources.get(addr).is_some_and(|r| r.dependencies().contains(dep));
                if has(dep, Step::Delete) && has(addr, Step::Apply) && !still_needs {
                    edges.push(((addr.clone(), Step::Apply), (dep.clone(), Step::Delete)));
                }
            }
        }
        for (addr, _) in nodes.iter().filter(|(_, s)| *s == Step::Delete) {
            if has(addr, Step::Apply) {
                edges.push(((addr.clone(), Step::Delete), (addr.clone(), Step::Apply)));
            }
        }

        let shared = Mutex::new(state);
        let saver = Saver::new(backend, &shared, self.reporter.as_ref(), &self.cancel);
        let took: Mutex<BTreeMap<(String, Step), Duration>> = Mutex::new(BTreeMap::new());
        let wall = Instant::now();
        let (journal, made) = crate::journal::channel();
        let (walked, walked_rx) = tokio::sync::oneshot::channel::<()>();
        let work = async {
            let statuses = walk(&nodes, &edges, self.parallelism, &self.cancel, |(addr, step)| {
                let (shared, saver, changes, took) = (&shared, &saver, &changes, &took);
                let journal: Arc<dyn tandem_provider::Journal> = journal.clone();
                async move {
                    let change = changes[addr.as_str()];
                    let t = Instant::now();
                    let r = match step {
                        Step::Delete => self.run_delete(change, shared, saver).await,
                        Step::Apply => self.run_apply(spec, change, shared, saver, journal).await,
                    };
                    took.lock().expect("not poisoned").insert((addr, step), t.elapsed());
                    r
                }
            })
            .await;
            let _ = walked.send(());
            statuses
        };
        let (statuses, ()) = tokio::join!(
            work,
            crate::journal::record(&saver, made, async {
                let _ = walked_rx.await;
            })
        );
        let timing = timing(wall.elapsed(), &took.into_inner().expect("not poisoned"), &edges, &changes);
        let unrecorded = std::mem::take(&mut *self.unrecorded.lock().expect("not poisoned"));
        if let Err(e) = saver.finish() {
            let mut summary = summarize(plan, &statuses);
            summary.timing = timing;
            summary.state_error = Some(e.to_string());
            summary.unrecorded = unrecorded;
            return Ok(summary);
        }
        let mut state = shared.into_inner().expect("not poisoned");
        // Outputs, from what now exists.
        state.outputs.clear();
        for (name, o) in &spec.outputs {
            let ev = o.value.eval(&|res, attr| lookup(&state, res, attr));
            if ev.is_known() {
                // An output made of a sensitive resource output (a key, a
                // pairing key) is sensitive whatever the spec says.
                let mut inherited = false;
                o.value.walk_refs(&mut |res, attr, _| {
                    let kind = state.resources.get(res).and_then(|r| self.registry.schema(&r.type_name));
                    inherited |= kind.and_then(|k| k.output(attr)).is_some_and(|d| d.sensitive);
                });
                state.outputs.insert(name.clone(), OutputState { value: ev.value, sensitive: o.sensitive || inherited });
            }
        }
        let mut summary = summarize(plan, &statuses);
        summary.timing = timing;
        if !plan.destroy || !state.outputs.is_empty() || !plan.changes.is_empty() {
            if let Err(e) = backend.save_state(&mut state).await {
                summary.state_error = Some(format!("{e} (every resource was recorded; the outputs were not)"));
            }
        }
        Ok(summary)
    }

    async fn run_delete(&self, change: &Change, shared: &Mutex<State>, saver: &Saver<'_>) -> Result<(), ProviderError> {
        let Some(rs) = shared.lock().expect("not poisoned").resources.get(&change.address).cloned() else {
            return Ok(());
        };
        let kind = self.kind(&rs.type_name).map_err(refused)?;
        let ctx = self.ctx(&change.address, rs.region.as_deref());
        self.reporter.event(&Event::Started { address: change.address.clone(), op: Op::Delete });
        let t = Instant::now();
        let intent = PendingOp {
            op: PendingKind::Delete,
            type_name: rs.type_name.clone(),
            region: rs.region.clone(),
            id: Some(rs.id.clone()),
            properties: Map::new(),
            dependencies: BTreeSet::new(),
            started: now(),
        };
        if let Err(e) = saver
            .commit(|s| {
                s.pending.insert(change.address.clone(), intent);
            })
            .await
        {
            let e = ProviderError::new(ErrorClass::Other, format!("not deleted: the state could not be saved before the delete: {e}"));
            self.reporter.event(&Event::failed(&change.address, Op::Delete, &e, secs(t.elapsed())));
            return Err(e);
        }
        let r = retry(&ctx, "delete", RetryPolicy::default(), || kind.delete(&ctx, &rs.id, &rs.properties)).await;
        match r {
            Ok(()) | Err(ProviderError { class: ErrorClass::NotFound, .. }) => {
                if let Err(e) = saver
                    .commit(|s| {
                        s.resources.remove(&change.address);
                        s.pending.remove(&change.address);
                    })
                    .await
                {
                    // Gone from the cloud, still in the state: the next refresh finds it gone.
                    let e = ProviderError::new(ErrorClass::Other, format!("deleted {}, but the state could not be saved: {e}", rs.id));
                    self.reporter.event(&Event::failed(&change.address, Op::Delete, &e, secs(t.elapsed())));
                    return Err(e);
                }
                self.reporter.event(&Event::Finished {
                    address: change.address.clone(),
                    op: Op::Delete,
                    id: Some(rs.id),
                    seconds: secs(t.elapsed()),
                });
                Ok(())
            }
            Err(e) => {
                // Still there and still recorded: nothing for the journal to resolve.
                let _ = saver
                    .commit(|s| {
                        s.pending.remove(&change.address);
                    })
                    .await;
                self.reporter.event(&Event::failed(&change.address, Op::Delete, &e, secs(t.elapsed())));
                Err(e)
            }
        }
    }

    async fn run_apply(
        &self,
        spec: &Spec,
        change: &Change,
        shared: &Mutex<State>,
        saver: &Saver<'_>,
        journal: Arc<dyn tandem_provider::Journal>,
    ) -> Result<(), ProviderError> {
        let addr = &change.address;
        let r = spec.resources.get(addr).ok_or_else(|| refused(format!("`{addr}` is not in the spec this plan was made from")))?;
        let kind = self.kind(&r.type_name).map_err(refused)?;
        let schema = kind.schema();
        let ev = {
            let s = shared.lock().expect("not poisoned");
            r.properties.eval(&|res, attr| lookup(&s, res, attr))
        };
        if !ev.is_known() {
            return Err(refused(format!(
                "{} still unknown: the resources they refer to did not report those outputs",
                ev.unknown.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        let name = name_default(r, schema, &shared.lock().expect("not poisoned"));
        let desired = finalize(schema, &name, ev.value).map_err(refused)?;
        let mut ctx = self.ctx(addr, r.region.as_deref());
        ctx.name = name;
        let existing = shared.lock().expect("not poisoned").resources.get(addr).cloned();
        let t = Instant::now();
        let (op, result) = match existing {
            Some(prior) if change.action == Action::Update => {
                self.reporter.event(&Event::Started { address: addr.clone(), op: Op::Update });
                (Op::Update, self.update(&ctx, kind.as_ref(), &prior, &desired).await)
            }
            _ => {
                self.reporter.event(&Event::Started { address: addr.clone(), op: Op::Create });
                // The intent is durable before the create is sent; the kind
                // adds the id through `ctx.made` the moment the cloud answers.
                let intent = PendingOp {
                    op: PendingKind::Create,
                    type_name: r.type_name.clone(),
                    region: r.region.clone(),
                    id: None,
                    properties: without_secrets(r, schema, &desired),
                    dependencies: r.dependencies(),
                    started: now(),
                };
                if let Err(e) = saver
                    .commit(|s| {
                        s.pending.insert(addr.clone(), intent);
                    })
                    .await
                {
                    let e =
                        ProviderError::new(ErrorClass::Other, format!("not created: the state could not be saved before the create: {e}"));
                    self.reporter.event(&Event::failed(addr, Op::Create, &e, secs(t.elapsed())));
                    return Err(e);
                }
                ctx.journal = journal;
                (Op::Create, kind.create(&ctx, &desired).await)
            }
        };
        match result {
            Ok(obs) => {
                if let Err(e) = saver
                    .commit(|s| {
                        s.resources.insert(addr.clone(), resource_state(r, schema, &obs, desired, false));
                        s.pending.remove(addr);
                    })
                    .await
                {
                    self.unrecorded.lock().expect("not poisoned").push(Unrecorded {
                        address: addr.clone(),
                        id: obs.id.clone(),
                        region: r.region.clone(),
                        type_name: r.type_name.clone(),
                    });
                    let e = ProviderError::new(
                        ErrorClass::Other,
                        format!("{} {} in the cloud, but the state could not be saved: {e}", op.done(), obs.id),
                    );
                    self.reporter.event(&Event::failed(addr, op, &e, secs(t.elapsed())));
                    return Err(e);
                }
                self.reporter.event(&Event::Finished { address: addr.clone(), op, id: Some(obs.id), seconds: secs(t.elapsed()) });
                Ok(())
            }
            Err(e) => {
                if let Some(partial) = &e.partial {
                    // Made but not confirmed usable: keep track of it, marked for replacement.
                    if saver
                        .commit(|s| {
                            s.resources.insert(addr.clone(), resource_state(r, schema, partial, desired, true));
                            s.pending.remove(addr);
                        })
                        .await
                        .is_err()
                    {
                        self.unrecorded.lock().expect("not poisoned").push(Unrecorded {
                            address: addr.clone(),
                            id: partial.id.clone(),
                            region: r.region.clone(),
                            type_name: r.type_name.clone(),
                        });
                    }
                } else if op == Op::Create && e.class != ErrorClass::Interrupted {
                    // The kind made nothing (it would have said so in
                    // `partial`): the intent is settled. An interrupted
                    // create keeps its entry: the next plan looks for what
                    // the call may have made.
                    let _ = saver
                        .commit(|s| {
                            s.pending.remove(addr);
                        })
                        .await;
                }
                self.reporter.event(&Event::failed(addr, op, &e, secs(t.elapsed())));
                Err(e)
            }
        }
    }

    /// Update in place, from a fresh read so the change is computed against what exists now.
    async fn update(
        &self,
        ctx: &Ctx,
        kind: &dyn ResourceKind,
        prior: &ResourceState,
        desired: &Map<String, Value>,
    ) -> Result<Observed, ProviderError> {
        let current = retry(ctx, "read", RetryPolicy::default(), || kind.read(ctx, &prior.id)).await?;
        let Some(current) = current else {
            return Err(ProviderError::not_found(format!("{} was deleted while this apply ran; apply again to re-create it", ctx.address)));
        };
        let mut merged = prior.properties.clone();
        merged.extend(current.properties.clone());
        let fields = diff_fields(kind.schema(), desired, &BTreeSet::new(), &merged, &prior.properties);
        if fields.is_empty() {
            return Ok(current);
        }
        if let Some(f) = fields.iter().find(|f| f.forces_replacement) {
            return Err(ProviderError::invalid(format!(
                "`{}` of {} now needs a replacement (its value became known during apply); run apply again to replace it",
                f.field, ctx.address
            )));
        }
        let names: Vec<String> = fields.into_iter().map(|f| f.field).collect();
        kind.update(ctx, &prior.id, &merged, desired, &names).await
    }

    /// What a real account must have for this spec, found by each kind with
    /// harmless reads (references resolve where the state knows the value),
    /// and the permissions the spec's kinds need. Changes nothing.
    pub async fn preflight(&self, spec: &Spec, state: &State) -> Result<Preflight, EngineError> {
        self.check(spec).map_err(EngineError::Spec)?;
        let view = crate::view::View::with(spec, &|res, attr| lookup(state, res, attr));
        let addrs: Vec<String> = spec.resources.keys().cloned().collect();
        let found: Mutex<BTreeMap<String, Vec<tandem_provider::Finding>>> = Mutex::new(BTreeMap::new());
        walk(&addrs, &[], self.parallelism, &AtomicBool::new(false), |addr| {
            let (found, view) = (&found, &view);
            async move {
                let r = &spec.resources[&addr];
                if let (Ok(kind), Some(me)) = (self.kind(&r.type_name), view.get(&addr)) {
                    let ctx = self.ctx(&addr, r.region.as_deref());
                    let f = kind.preflight(&ctx, &me, view).await;
                    if !f.is_empty() {
                        found.lock().expect("not poisoned").insert(addr, f);
                    }
                }
                Ok::<(), String>(())
            }
        })
        .await;
        let mut permissions: BTreeSet<&'static str> = BTreeSet::new();
        let mut unlisted = BTreeSet::new();
        for r in spec.resources.values() {
            if let Ok(kind) = self.kind(&r.type_name) {
                if kind.permissions().is_empty() {
                    unlisted.insert(r.type_name.clone());
                }
                permissions.extend(kind.permissions().iter().copied());
            }
        }
        let found = found.into_inner().expect("not poisoned");
        let findings = spec.resources.keys().filter_map(|a| found.get(a).map(|f| (a.clone(), f.clone()))).collect();
        Ok(Preflight {
            findings,
            permissions: permissions.into_iter().map(str::to_string).collect(),
            unlisted: unlisted.into_iter().collect(),
        })
    }

    /// Record an existing cloud object under `address` without changing it.
    pub async fn import(
        &self,
        spec: &Spec,
        backend: &dyn StateWriter,
        state: State,
        address: &str,
        id: &str,
    ) -> Result<State, EngineError> {
        let (state, mut results) = self.import_many(spec, backend, state, &[(address.to_string(), id.to_string())]).await?;
        match results.pop().map(|r| r.result) {
            Some(Err(e)) => Err(EngineError::Refused(e)),
            _ => Ok(state),
        }
    }

    /// Import many objects at once. Every address is checked before any
    /// cloud call (declared, not yet in the state, named once); then the
    /// reads run in parallel and one write records every object found.
    pub async fn import_many(
        &self,
        spec: &Spec,
        backend: &dyn StateWriter,
        mut state: State,
        items: &[(String, String)],
    ) -> Result<(State, Vec<Imported>), EngineError> {
        check_owner(spec, &state)?;
        if state.spec_name.is_empty() {
            state.spec_name = spec.name.clone();
        }
        let mut refused = Vec::new();
        let mut seen = BTreeSet::new();
        for (address, _) in items {
            if !seen.insert(address.as_str()) {
                refused.push(format!("`{address}` is listed twice"));
            } else if !spec.resources.contains_key(address) {
                let names: Vec<&str> = spec.resources.keys().map(String::as_str).collect();
                let hint = tandem_spec::suggest(address, names).map(|s| format!(" Did you mean `{s}`?")).unwrap_or_default();
                refused.push(format!(
                    "`{address}` is not a resource of this spec; declare it first so tandem knows its type and region.{hint}"
                ));
            } else if let Some(existing) = state.resources.get(address) {
                refused.push(format!(
                    "`{address}` is already in the state (id {}); remove it from the state first to import another object",
                    existing.id
                ));
            } else if let Err(e) = self.kind(&spec.resources[address].type_name) {
                refused.push(e);
            }
        }
        if !refused.is_empty() {
            return Err(EngineError::Refused(refused.join("\n")));
        }
        let reads = items.iter().map(|(address, id)| async move {
            let r = &spec.resources[address];
            let kind = self.kind(&r.type_name).expect("checked above");
            let ctx = self.ctx(address, r.region.as_deref());
            self.reporter.event(&Event::Started { address: address.clone(), op: Op::Import });
            let t = Instant::now();
            let found = match kind.import(&ctx, id).await {
                Err(e) => Err(format!("import of `{address}` failed: {}", e.message)),
                Ok(None) => Err(format!(
                    "no {} with id `{id}` exists in {}; the id should be {}",
                    r.type_name,
                    r.region.as_deref().unwrap_or("this account"),
                    kind.schema().import_id
                )),
                Ok(Some(obs)) => Ok(obs),
            };
            match &found {
                Ok(obs) => self.reporter.event(&Event::Finished {
                    address: address.clone(),
                    op: Op::Import,
                    id: Some(obs.id.clone()),
                    seconds: secs(t.elapsed()),
                }),
                Err(e) => self.reporter.event(&Event::Failed {
                    address: address.clone(),
                    op: Op::Import,
                    error: e.clone(),
                    class: None,
                    code: None,
                    request_id: None,
                    seconds: secs(t.elapsed()),
                }),
            }
            (address.clone(), found)
        });
        let found: Vec<(String, Result<Observed, String>)> = futures::stream::iter(reads).buffered(self.parallelism.max(1)).collect().await;
        let mut results = Vec::new();
        for (address, f) in found {
            let result = match f {
                Ok(obs) => {
                    let r = &spec.resources[&address];
                    let schema = self.kind(&r.type_name).expect("checked above").schema();
                    let props = obs.properties.clone();
                    state.resources.insert(address.clone(), resource_state(r, schema, &obs, props, false));
                    Ok(obs.id)
                }
                Err(e) => Err(e),
            };
            results.push(Imported { address, result });
        }
        if results.iter().any(|r| r.result.is_ok()) {
            backend.save_state(&mut state).await?;
        }
        Ok((state, results))
    }
}

/// One object of an import: its cloud id, or why it was not imported.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub address: String,
    pub result: Result<String, String>,
}

/// The state with the spec's `moved:` renames made, and the renames.
fn moves(spec: &Spec, state: &State) -> Result<(State, Vec<Move>), EngineError> {
    let mut moved = state.clone();
    let mut all = Vec::new();
    for m in &spec.moved {
        let done = moved.move_resource(&m.from, &m.to).map_err(|e| {
            EngineError::Refused(format!(
                "{e} ({}: `moved` from `{}` to `{}`); remove one of them from the state with `tandem state rm` first",
                spec.location(m.span),
                m.from,
                m.to
            ))
        })?;
        all.extend(done);
    }
    Ok((moved, all))
}

/// Values made from sensitive variables never show in a plan.
fn redact_fields(mut fields: Vec<crate::plan::FieldChange>, sensitive: &BTreeSet<String>) -> Vec<crate::plan::FieldChange> {
    for f in fields.iter_mut().filter(|f| sensitive.contains(&f.field)) {
        let marker = Value::String(tandem_schema::SENSITIVE.into());
        f.before = f.before.as_ref().map(|_| marker.clone());
        f.after = f.after.as_ref().map(|_| marker.clone());
    }
    fields
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

/// The properties a journal entry keeps: what a kind finds an object by,
/// without the secrets (the journal is not encrypted like resources are).
fn without_secrets(r: &tandem_spec::Resource, schema: &KindSchema, desired: &Map<String, Value>) -> Map<String, Value> {
    let mut v = Value::Object(desired.clone());
    for p in tandem_schema::sensitive_pointers(&schema.as_type(), &v, "") {
        if let Some(x) = v.pointer_mut(&p) {
            *x = Value::Null;
        }
    }
    let Value::Object(mut m) = v else { return Map::new() };
    for f in &r.sensitive {
        m.remove(f);
    }
    m
}

/// Now, as the journal records start times.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
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
/// The top-level properties each resource of a spec sets (its name field
/// too, which defaults to the resource key): with what the state recorded,
/// all a plan compares (`plan::diff_fields`).
type Declared = BTreeMap<String, BTreeSet<String>>;

fn declared(spec: &Spec, registry: &Registry) -> Declared {
    spec.resources
        .iter()
        .map(|(addr, r)| {
            let mut keys: BTreeSet<String> = match &r.properties.kind {
                tandem_spec::ExprKind::Map(m) => m.keys().cloned().collect(),
                _ => BTreeSet::new(),
            };
            if let Some(name) = registry.schema(&r.type_name).and_then(|k| k.name_field) {
                keys.insert(name.to_string());
            }
            (addr.clone(), keys)
        })
        .collect()
}

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
    Err(EngineError::Refused(format!(
        "this state belongs to the spec named `{owner}` ({n} resources), not to `{name}`: specs in one directory share `.tandem/state.json` unless each has its own. Give `{name}` its own state (`--state .tandem/{name}.json`, or a `backend:` block); if you renamed the spec, put `name: {owner}` back",
        owner = state.spec_name,
        n = state.resources.len(),
        name = spec.name
    )))
}

/// The apply's wall time against its critical path (None when nothing ran).
fn timing(
    wall: Duration,
    took: &BTreeMap<(String, Step), Duration>,
    edges: &[((String, Step), (String, Step))],
    changes: &BTreeMap<&str, &Change>,
) -> Option<Timing> {
    let (length, path) = crate::critical::critical_path(took, edges);
    if path.is_empty() || length.is_zero() {
        return None;
    }
    let name = |(addr, step): &(String, Step)| match (step, changes.get(addr.as_str()).map(|c| c.action)) {
        (Step::Delete, Some(Action::Replace)) => format!("{addr} (delete)"),
        _ => addr.clone(),
    };
    Some(Timing {
        wall_seconds: secs(wall),
        critical_path_seconds: secs(length),
        ratio: (wall.as_secs_f64() / length.as_secs_f64() * 100.0).round() / 100.0,
        critical_path: path.iter().map(name).collect(),
    })
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

fn summarize(plan: &Plan, statuses: &BTreeMap<(String, Step), NodeStatus<(String, Step), ProviderError>>) -> Summary {
    let mut s = Summary { unread: plan.unread.clone(), ..Summary::default() };
    for c in &plan.changes {
        let steps: Vec<&NodeStatus<(String, Step), ProviderError>> =
            statuses.iter().filter(|((a, _), _)| a == &c.address).map(|(_, st)| st).collect();
        if steps.is_empty() {
            continue;
        }
        if let Some(NodeStatus::Failed(e)) = steps.iter().find(|st| matches!(st, NodeStatus::Failed(_))) {
            s.failed.push(FailedOp::new(&c.address, e).in_region(c.region.as_deref()));
        } else if let Some(NodeStatus::Skipped { because }) = steps.iter().find(|st| matches!(st, NodeStatus::Skipped { .. })) {
            s.skipped.push((c.address.clone(), because.0.clone()));
        } else if steps.iter().any(|st| matches!(st, NodeStatus::Cancelled)) {
            s.cancelled.push(c.address.clone());
        } else {
            match c.action {
                Action::Create => s.created.push(c.address.clone()),
                Action::Update => s.updated.push(c.address.clone()),
                Action::Replace => s.replaced.push(c.address.clone()),
                Action::Delete => s.deleted.push(c.address.clone()),
                Action::NoOp => {}
            }
        }
    }
    s
}
