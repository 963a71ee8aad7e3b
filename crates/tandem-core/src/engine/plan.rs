//! Planning: the spec against what exists (`plan`), or the state against
//! the cloud (`refresh_only`), within the scope `--target`/`--stage` give.

use super::refresh::{declared, Declared};
use super::{check_owner, finalize, lookup, name_default, Engine, EngineError, PlanOptions};
use crate::graph::Graph;
use crate::journal::PendingOutcome;
use crate::plan::{diff_fields, Action, Change, Plan};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tandem_spec::Code;
use tandem_spec::{Problem, Problems, Spec};
use tandem_state::{Move, PendingKind, State};

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

impl Engine {
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
            self.refresh_tolerant(&moved_state, in_scope.as_ref(), Some(&declared(spec, &self.registry, &moved_state))).await?
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
            let kind = self.kind(&r.type_name).map_err(EngineError::UnknownKind)?;
            let schema = kind.schema();
            let ev = r.properties.eval(&|res, attr| {
                if pending.contains(res) {
                    return None;
                }
                lookup(&refreshed, res, attr)
            });
            let desired = finalize(schema, &name_default(r, schema, &refreshed), ev.value.clone()).map_err(|e| {
                EngineError::Spec(Problems(vec![Problem::new(Code::SpecType, e).at(&spec.source, r.span, "in this resource")]))
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
            Err(EngineError::Protected(refused))
        }
    }
}

/// The state with the spec's `moved:` renames made, and the renames.
fn moves(spec: &Spec, state: &State) -> Result<(State, Vec<Move>), EngineError> {
    let mut moved = state.clone();
    let mut all = Vec::new();
    for m in &spec.moved {
        let done = moved.move_resource(&m.from, &m.to).map_err(|e| {
            EngineError::Moved(format!(
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
