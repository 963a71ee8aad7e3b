//! Executor throughput: apply a spec of N resources whose kind takes a fixed
//! time per create, at several parallelism settings, and print wall time
//! against the ideal (critical path or N / parallelism). Run with
//! `cargo bench -p tandem-core --bench executor`.

// A benchmark prints its figures.
#![allow(clippy::print_stdout)]

use async_trait::async_trait;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_core::{Engine, PlanOptions, Silent};
use tandem_provider::{Ctx, Observed, Registry, ResourceKind, Result};
use tandem_schema::{Field, KindSchema, Type};

struct Slow(KindSchema, Duration);

#[async_trait]
impl ResourceKind for Slow {
    fn schema(&self) -> &KindSchema {
        &self.0
    }
    async fn create(&self, ctx: &Ctx, _: &Map<String, Value>) -> Result<Observed> {
        tokio::time::sleep(self.1).await;
        Ok(Observed { id: ctx.address.clone(), properties: Map::new(), outputs: BTreeMap::new() })
    }
    async fn read(&self, ctx: &Ctx, _: &str) -> Result<Option<Observed>> {
        Ok(Some(Observed { id: ctx.address.clone(), properties: Map::new(), outputs: BTreeMap::new() }))
    }
    async fn update(&self, _: &Ctx, _: &str, _: &Map<String, Value>, _: &Map<String, Value>, _: &[String]) -> Result<Observed> {
        unreachable!()
    }
    async fn delete(&self, _: &Ctx, _: &str, _: &Map<String, Value>) -> Result<()> {
        Ok(())
    }
}

fn spec_text(n: usize, chains: usize) -> String {
    // `chains` independent chains; each resource after the first in a chain needs its predecessor.
    let mut s = String::from("version: 1\nresources:\n");
    for i in 0..n {
        let parent = if i >= chains { format!("\"${{r{}.id}}\"", i - chains) } else { "root".into() };
        s.push_str(&format!("  r{i}:\n    type: bench.slow\n    properties: {{ parent: {parent} }}\n"));
    }
    s
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let latency = Duration::from_millis(20);
    println!("{:>6} {:>7} {:>11} {:>10} {:>10}", "nodes", "chains", "parallelism", "wall_ms", "ideal_ms");
    for (n, chains, par) in [(200, 200, 10), (200, 200, 50), (200, 20, 10), (200, 20, 50), (1000, 100, 100)] {
        let schema = KindSchema {
            type_name: "bench.slow",
            doc: "",
            api_reference: "",
            regional: false,
            properties: vec![Field::new("parent", Type::String)],
            outputs: vec![],
            name_field: None,
            import_id: "",
        };
        let mut reg = Registry::new();
        reg.register(Arc::new(Slow(schema, latency)));
        let mut engine = Engine::new(reg, Arc::new(Silent));
        engine.parallelism = par;
        let schemas = engine.schemas();
        let spec = tandem_spec::load(
            tandem_spec::SourceFile { name: "bench.yaml".into(), text: spec_text(n, chains) },
            &Default::default(),
            &schemas,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let backend = tandem_state::LocalBackend::new(dir.path().join("s.json"));
        let state = backend.load().unwrap();
        let plan = rt.block_on(engine.plan(&spec, &state, &PlanOptions::default())).unwrap();
        let t = Instant::now();
        let s = rt.block_on(engine.apply(&spec, &plan, &backend, state)).unwrap();
        let wall = t.elapsed();
        assert_eq!(s.created.len(), n);
        let depth = n.div_ceil(chains);
        let waves = depth.max(n.div_ceil(par));
        let ideal = latency.as_millis() as usize * waves;
        println!("{n:>6} {chains:>7} {par:>11} {:>10} {ideal:>10}", wall.as_millis());
    }
}
