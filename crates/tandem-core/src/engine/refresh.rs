//! Refresh: read what the state records, in parallel, in groups where a
//! kind reads many at once.

use super::{refused, Engine, EngineError, FailedOp};
use crate::event::{secs, Event, Op};
use crate::walk::walk;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tandem_provider::{retry, Ctx, Observed, Registry, RetryPolicy};
use tandem_spec::Spec;
use tandem_state::State;

impl Engine {
    /// Read everything the state says exists. Returns the refreshed state
    /// (outputs and ids as the cloud reports them), the observed properties,
    /// and the addresses found gone.
    pub async fn refresh(&self, state: &State) -> Result<(State, BTreeMap<String, Observed>, Vec<String>), EngineError> {
        self.refresh_with_remarks(state).await.map(|(s, o, g, _)| (s, o, g))
    }

    /// [`Self::refresh`], with what each read remarked (see `Ctx::remark`).
    async fn refresh_with_remarks(
        &self,
        state: &State,
    ) -> Result<(State, BTreeMap<String, Observed>, Vec<String>, BTreeMap<String, Vec<String>>), EngineError> {
        self.refresh_scoped(state, None, None).await
    }

    /// What one refresh task reads: resources of a kind that reads many at
    /// once ([`ResourceKind::read_batch`](tandem_provider::ResourceKind::read_batch)) go in groups of one kind and region,
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

    /// [`Self::refresh_parts`], failing on any read that failed.
    /// `only`: read just these addresses (a `--target`/`--stage` plan reads
    /// what it may change and nothing else, so a region that is down does
    /// not block a change elsewhere); the rest keep their recorded values.
    pub(super) async fn refresh_scoped(
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
    pub(super) async fn refresh_tolerant(
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
}

/// The top-level properties each resource of a spec sets (its name field
/// too, which defaults to the resource key): with what the state recorded,
/// all a plan compares (`plan::diff_fields`).
pub(super) type Declared = BTreeMap<String, BTreeSet<String>>;

pub(super) fn declared(spec: &Spec, registry: &Registry, state: &State) -> Declared {
    // Only what the state records is read: a plan from an empty state of a
    // large spec builds nothing here.
    spec.resources
        .iter()
        .filter(|(addr, _)| state.resources.contains_key(*addr))
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
