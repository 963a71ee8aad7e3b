//! Import: record existing cloud objects without changing them.

use super::{check_owner, resource_state, Engine, EngineError};
use crate::event::{secs, Event, Op};
use futures::StreamExt;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Instant;
use tandem_provider::Observed;
use tandem_spec::Spec;
use tandem_state::{State, StateWriter};

impl Engine {
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
            Some(Err(e)) => Err(EngineError::Import(vec![e])),
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
            return Err(EngineError::Import(refused));
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
