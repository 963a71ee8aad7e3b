//! Preflight: what a real account must have for a spec, found with
//! harmless reads.

use super::{lookup, Engine, EngineError};
use crate::walk::walk;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use tandem_provider::SpecView;
use tandem_spec::Spec;
use tandem_state::State;

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

impl Engine {
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
}
