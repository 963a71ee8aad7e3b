//! The journal of operations interrupted runs left: what became of each.

use super::Engine;
use crate::journal::{PendingOutcome, PendingResolution};
use std::collections::{BTreeMap, BTreeSet};
use tandem_provider::{retry, RetryPolicy};
use tandem_state::{PendingKind, PendingOp, ResourceState, State};

impl Engine {
    /// Resolve the operations interrupted runs left in the journal (those in
    /// `only`, when given): read what a create's recorded id names, or ask the
    /// kind to find it by name; see [`PendingOutcome`]. Returns each entry's
    /// outcome and what the creates made, as apply will record it (tainted).
    pub(super) async fn resolve_pending(
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
}
