//! Plan, apply, destroy and import over resource kinds, with state saved
//! after every finished operation.

use crate::event::{secs, Event, Op, ProgressBridge, Reporter};
use crate::graph::Graph;
use crate::plan::{diff_fields, Action, Change, Plan};
use crate::saver::Saver;
use crate::walk::{walk, NodeStatus};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_provider::{retry, Ctx, SpecView, ErrorClass, Observed, ProviderError, Registry, ResourceKind, RetryPolicy};
use tandem_schema::KindSchema;
use tandem_spec::{Problem, Problems, Spec, ID_OUTPUT};
use tandem_state::{LocalBackend, OutputState, ResourceState, State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Spec(Problems),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("refresh failed:\n{}", .0.join("\n"))]
    Refresh(Vec<String>),
    #[error("{0}")]
    Refused(String),
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub destroy: bool,
    /// Limit the plan to these addresses and what they depend on.
    pub targets: Vec<String>,
    /// Limit the plan to the resources labelled with these stages (`stage:`),
    /// as targets.
    pub stages: Vec<String>,
}

pub struct Engine {
    pub registry: Registry,
    pub reporter: Arc<dyn Reporter>,
    pub parallelism: usize,
    /// How long any one waiter may wait.
    pub timeout: Duration,
    /// Set (by Ctrl-C) to stop starting new operations.
    pub cancel: Arc<AtomicBool>,
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
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<(String, String)>,
    pub cancelled: Vec<String>,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.cancelled.is_empty()
    }
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
        }
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
        self.registry
            .get(type_name)
            .ok_or_else(|| format!("this tandem has no resource kind `{type_name}` (known: {})", self.registry.type_names().collect::<Vec<_>>().join(", ")))
    }

    fn ctx(&self, address: &str, region: Option<&str>) -> Ctx {
        Ctx {
            address: address.to_string(),
            name: address.to_string(),
            region: region.map(str::to_string),
            progress: Arc::new(ProgressBridge(self.reporter.clone())),
            timeout: self.timeout,
            consistency: tandem_provider::CONSISTENCY_WINDOW,
        }
    }

    /// Read everything the state says exists. Returns the refreshed state
    /// (outputs and ids as the cloud reports them), the observed properties,
    /// and the addresses found gone.
    pub async fn refresh(&self, state: &State) -> Result<(State, BTreeMap<String, Observed>, Vec<String>), EngineError> {
        self.refresh_with_remarks(state).await.map(|(s, o, g, _)| (s, o, g))
    }

    /// [`Self::refresh`], with what each read remarked (see `Ctx::remark`).
    async fn refresh_with_remarks(&self, state: &State) -> Result<(State, BTreeMap<String, Observed>, Vec<String>, BTreeMap<String, Vec<String>>), EngineError> {
        let recorder = Arc::new(crate::event::RemarkRecorder { inner: self.reporter.clone(), remarks: Default::default() });
        let addrs: Vec<String> = state.resources.keys().cloned().collect();
        let results: Mutex<BTreeMap<String, Result<Option<Observed>, String>>> = Mutex::new(BTreeMap::new());
        walk(&addrs, &[], self.parallelism, &AtomicBool::new(false), |addr| {
            let results = &results;
            let recorder = recorder.clone();
            async move {
                let r = &state.resources[&addr];
                let out = match self.kind(&r.type_name) {
                    Err(e) => Err(e),
                    Ok(kind) => {
                        let mut ctx = self.ctx(&addr, r.region.as_deref());
                        ctx.progress = recorder.clone();
                        self.reporter.event(&Event::Started { address: addr.clone(), op: Op::Refresh });
                        let t = Instant::now();
                        let res = retry(&ctx, "read", RetryPolicy::default(), || kind.read(&ctx, &r.id)).await;
                        match &res {
                            Ok(o) => self.reporter.event(&Event::Finished {
                                address: addr.clone(),
                                op: Op::Refresh,
                                id: o.as_ref().map(|o| o.id.clone()),
                                seconds: secs(t.elapsed()),
                            }),
                            Err(e) => self.reporter.event(&Event::Failed {
                                address: addr.clone(),
                                op: Op::Refresh,
                                error: e.message.clone(),
                                seconds: secs(t.elapsed()),
                            }),
                        }
                        res.map_err(|e| format!("{addr}: {}", e.message))
                    }
                };
                results.lock().expect("not poisoned").insert(addr, out);
                Ok(())
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
        if !errors.is_empty() {
            return Err(EngineError::Refresh(errors));
        }
        let remarks = recorder.remarks.lock().map(|r| r.clone()).unwrap_or_default();
        Ok((refreshed, observed, gone, remarks))
    }

    /// Refresh, then compare the spec with what exists.
    pub async fn plan(&self, spec: &Spec, state: &State, opts: &PlanOptions) -> Result<Plan, EngineError> {
        let graph = self.check(spec).map_err(EngineError::Spec)?;
        let (refreshed, observed, gone, remarks) = self.refresh_with_remarks(state).await?;
        let mut changes = Vec::new();
        let in_scope = self.scope(spec, &graph, &opts.targets, &opts.stages, opts.destroy).map_err(EngineError::Refused)?;

        if opts.destroy {
            for (addr, r) in refreshed.resources.iter().filter(|(a, _)| in_scope.as_ref().is_none_or(|s| s.contains(*a))) {
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
            return Ok(Plan { lineage: state.lineage.clone(), serial: state.serial, destroy: true, changes, gone });
        }

        // Resources whose outputs are unknown until apply makes them.
        let mut pending: BTreeSet<String> = BTreeSet::new();
        for addr in graph.topo_order() {
            if in_scope.as_ref().is_some_and(|s| !s.contains(&addr)) {
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
            let desired = finalize(schema, &default_name(r), ev.value.clone()).map_err(|e| {
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
                        reasons.push(format!("{} forces replacement", forcing.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")));
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
                        all.push(crate::plan::FieldChange { field: top, before: None, after: None, after_unknown: true, forces_replacement: false });
                    }
                }
                all
            } else {
                fields
            };
            changes.push(Change { address: addr.clone(), type_name: r.type_name.clone(), region: r.region.clone(), action, reasons, fields });
        }
        // What the state has and the spec no longer declares goes.
        for (addr, r) in &refreshed.resources {
            if spec.resources.contains_key(addr) || in_scope.as_ref().is_some_and(|s| !s.contains(addr)) {
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
        Ok(Plan { lineage: state.lineage.clone(), serial: state.serial, destroy: false, changes, gone })
    }

    /// The targets and what they need (apply), or the targets and what needs
    /// them (destroy: nothing may be left pointing at a deleted resource).
    fn scope(&self, spec: &Spec, graph: &Graph, targets: &[String], stages: &[String], destroy: bool) -> Result<Option<BTreeSet<String>>, String> {
        if targets.is_empty() && stages.is_empty() {
            return Ok(None);
        }
        let mut targets = targets.to_vec();
        for stage in stages {
            let members: Vec<String> = spec.resources.values().filter(|r| r.stage.as_deref() == Some(stage)).map(|r| r.address.clone()).collect();
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
            let instances: Vec<&String> = spec.resources.values().filter(|r| &r.base == t && r.each_key.is_some()).map(|r| &r.address).collect();
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
    pub async fn apply(&self, spec: &Spec, plan: &Plan, backend: &LocalBackend, mut state: State) -> Result<Summary, EngineError> {
        if plan.lineage != state.lineage || plan.serial != state.serial {
            return Err(EngineError::Refused(format!(
                "the state changed since this plan was made (plan: serial {} of lineage {}, state now: serial {} of lineage {}); make a new plan",
                plan.serial, plan.lineage, state.serial, state.lineage
            )));
        }
        state.spec_name = spec.name.clone();
        for g in &plan.gone {
            state.resources.remove(g);
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
        let saver = Saver::new(backend, &shared, self.reporter.as_ref());
        let statuses = walk(&nodes, &edges, self.parallelism, &self.cancel, |(addr, step)| {
            let (shared, saver, changes) = (&shared, &saver, &changes);
            async move {
                let change = changes[addr.as_str()];
                match step {
                    Step::Delete => self.run_delete(change, shared, saver).await,
                    Step::Apply => self.run_apply(spec, change, shared, saver).await,
                }
            }
        })
        .await;
        saver.finish()?;
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
        if !plan.destroy || !state.outputs.is_empty() || !plan.changes.is_empty() {
            backend.save(&mut state)?;
        }
        Ok(summarize(plan, &statuses))
    }

    async fn run_delete(&self, change: &Change, shared: &Mutex<State>, saver: &Saver<'_>) -> Result<(), String> {
        let Some(rs) = shared.lock().expect("not poisoned").resources.get(&change.address).cloned() else {
            return Ok(());
        };
        let kind = self.kind(&rs.type_name)?;
        let ctx = self.ctx(&change.address, rs.region.as_deref());
        self.reporter.event(&Event::Started { address: change.address.clone(), op: Op::Delete });
        let t = Instant::now();
        let r = retry(&ctx, "delete", RetryPolicy::default(), || kind.delete(&ctx, &rs.id, &rs.properties)).await;
        match r {
            Ok(()) | Err(ProviderError { class: ErrorClass::NotFound, .. }) => {
                saver.commit(|s| {
                    s.resources.remove(&change.address);
                })
                .await;
                self.reporter.event(&Event::Finished { address: change.address.clone(), op: Op::Delete, id: Some(rs.id), seconds: secs(t.elapsed()) });
                Ok(())
            }
            Err(e) => {
                self.reporter.event(&Event::Failed { address: change.address.clone(), op: Op::Delete, error: e.message.clone(), seconds: secs(t.elapsed()) });
                Err(e.message)
            }
        }
    }

    async fn run_apply(&self, spec: &Spec, change: &Change, shared: &Mutex<State>, saver: &Saver<'_>) -> Result<(), String> {
        let addr = &change.address;
        let r = spec.resources.get(addr).ok_or_else(|| format!("`{addr}` is not in the spec this plan was made from"))?;
        let kind = self.kind(&r.type_name)?;
        let schema = kind.schema();
        let ev = {
            let s = shared.lock().expect("not poisoned");
            r.properties.eval(&|res, attr| lookup(&s, res, attr))
        };
        if !ev.is_known() {
            return Err(format!(
                "{} still unknown: the resources they refer to did not report those outputs",
                ev.unknown.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        let desired = finalize(schema, &default_name(r), ev.value)?;
        let mut ctx = self.ctx(addr, r.region.as_deref());
        ctx.name = default_name(r);
        let existing = shared.lock().expect("not poisoned").resources.get(addr).cloned();
        let t = Instant::now();
        let (op, result) = match existing {
            Some(prior) if change.action == Action::Update => {
                self.reporter.event(&Event::Started { address: addr.clone(), op: Op::Update });
                (Op::Update, self.update(&ctx, kind.as_ref(), &prior, &desired).await)
            }
            _ => {
                self.reporter.event(&Event::Started { address: addr.clone(), op: Op::Create });
                (Op::Create, kind.create(&ctx, &desired).await)
            }
        };
        match result {
            Ok(obs) => {
                saver.commit(|s| {
                    s.resources.insert(addr.clone(), resource_state(r, &obs, desired, false));
                })
                .await;
                self.reporter.event(&Event::Finished { address: addr.clone(), op, id: Some(obs.id), seconds: secs(t.elapsed()) });
                Ok(())
            }
            Err(e) => {
                if let Some(partial) = &e.partial {
                    // Made but not confirmed usable: keep track of it, marked for replacement.
                    saver.commit(|s| {
                        s.resources.insert(addr.clone(), resource_state(r, partial, desired, true));
                    })
                    .await;
                }
                self.reporter.event(&Event::Failed { address: addr.clone(), op, error: e.message.clone(), seconds: secs(t.elapsed()) });
                Err(e.message)
            }
        }
    }

    /// Update in place, from a fresh read so the change is computed against what exists now.
    async fn update(&self, ctx: &Ctx, kind: &dyn ResourceKind, prior: &ResourceState, desired: &Map<String, Value>) -> Result<Observed, ProviderError> {
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

    /// Record an existing cloud object under `address` without changing it.
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
                Ok(())
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
        Ok(Preflight { findings, permissions: permissions.into_iter().map(str::to_string).collect(), unlisted: unlisted.into_iter().collect() })
    }

    pub async fn import(&self, spec: &Spec, backend: &LocalBackend, mut state: State, address: &str, id: &str) -> Result<State, EngineError> {
        let Some(r) = spec.resources.get(address) else {
            let names: Vec<&str> = spec.resources.keys().map(String::as_str).collect();
            let hint = tandem_spec::suggest(address, names).map(|s| format!(" Did you mean `{s}`?")).unwrap_or_default();
            return Err(EngineError::Refused(format!(
                "`{address}` is not a resource of this spec; declare it first so tandem knows its type and region.{hint}"
            )));
        };
        if let Some(existing) = state.resources.get(address) {
            return Err(EngineError::Refused(format!(
                "`{address}` is already in the state (id {}); remove it from the state first to import another object",
                existing.id
            )));
        }
        let kind = self.kind(&r.type_name).map_err(EngineError::Refused)?;
        let ctx = self.ctx(address, r.region.as_deref());
        self.reporter.event(&Event::Started { address: address.to_string(), op: Op::Import });
        let t = Instant::now();
        let found = kind.import(&ctx, id).await.map_err(|e| EngineError::Refused(format!("import of `{address}` failed: {}", e.message)))?;
        let Some(obs) = found else {
            return Err(EngineError::Refused(format!(
                "no {} with id `{id}` exists in {}; the id should be {}",
                r.type_name,
                r.region.as_deref().unwrap_or("this account"),
                kind.schema().import_id
            )));
        };
        let props = obs.properties.clone();
        state.resources.insert(address.to_string(), resource_state(r, &obs, props, false));
        backend.save(&mut state)?;
        self.reporter.event(&Event::Finished { address: address.to_string(), op: Op::Import, id: Some(obs.id), seconds: secs(t.elapsed()) });
        Ok(state)
    }
}

fn resource_state(r: &tandem_spec::Resource, obs: &Observed, properties: Map<String, Value>, tainted: bool) -> ResourceState {
    ResourceState {
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

fn summarize(plan: &Plan, statuses: &BTreeMap<(String, Step), NodeStatus<(String, Step)>>) -> Summary {
    let mut s = Summary::default();
    for c in &plan.changes {
        let steps: Vec<&NodeStatus<(String, Step)>> =
            statuses.iter().filter(|((a, _), _)| a == &c.address).map(|(_, st)| st).collect();
        if steps.is_empty() {
            continue;
        }
        if let Some(NodeStatus::Failed(e)) = steps.iter().find(|st| matches!(st, NodeStatus::Failed(_))) {
            s.failed.push((c.address.clone(), e.clone()));
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
