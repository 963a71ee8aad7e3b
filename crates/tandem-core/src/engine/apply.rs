//! Apply: a plan as a graph of deletes and creates/updates, walked in
//! dependency order with the state saved after every finished operation.

use super::{finalize, lookup, name_default, refused, resource_state, Engine, EngineError, FailedOp};
use crate::event::{secs, Event, Op};
use crate::journal::PendingOutcome;
use crate::plan::{diff_fields, Action, Change, Plan};
use crate::saver::Saver;
use crate::walk::{walk, NodeStatus};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_provider::{retry, Ctx, ErrorClass, Observed, ProviderError, ResourceKind, RetryPolicy};
use tandem_schema::KindSchema;
use tandem_spec::Spec;
use tandem_state::{OutputState, PendingKind, PendingOp, ResourceState, State, StateWriter};

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
    /// Carry out `plan`, saving the state after every finished operation.
    pub async fn apply(&self, spec: &Spec, plan: &Plan, backend: &dyn StateWriter, mut state: State) -> Result<Summary, EngineError> {
        // Nothing written yet: the state takes the lineage its first plan saw.
        if state.serial == 0 && state.resources.is_empty() && plan.serial == 0 {
            state.lineage = plan.lineage.clone();
        }
        if plan.lineage != state.lineage || plan.serial != state.serial {
            return Err(EngineError::StalePlan {
                plan_serial: plan.serial,
                plan_lineage: plan.lineage.clone(),
                state_serial: state.serial,
                state_lineage: state.lineage.clone(),
            });
        }
        state.spec_name = spec.name.clone();
        for m in &plan.moved {
            if state.resources.contains_key(&m.from) {
                state.move_resource(&m.from, &m.to).map_err(EngineError::Moved)?;
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
