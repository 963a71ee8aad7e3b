//! `tandem migrate`: adopt what a Terraform state (format v4) records into a
//! tandem spec and state, without any cloud call.
//!
//! The Terraform state is read as it is; every resource instance of a type
//! tandem has a kind for is mapped ([`map`]) to that kind's properties,
//! cloud id and outputs, as the kind's schema in the [`Registry`] names them;
//! resources Terraform declares apart but tandem keeps inside another
//! (storage configs, event targets, router interfaces) are folded into it;
//! references are rebuilt ([`refs`]) where a value equals another resource's
//! output; Terraform's `for_each` / `count` become tandem `for_each`
//! ([`each`]); modules become stages. [`write`] renders the spec. Anything
//! not migrated is reported with the reason, never dropped silently.

pub mod each;
pub mod map;
pub mod refs;
pub mod regions;
pub mod source;
pub mod tfstate;
pub mod write;
mod yaml_out;

use map::{Lookups, Mapped, Outcome, Source};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use tandem_provider::Registry;
use tandem_state::{ResourceState, State};
use tfstate::{TfResource, TfState};

pub use tfstate::{parse, ParseError};

/// How to migrate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The spec's `name`.
    pub name: String,
    /// Where the Terraform state came from, for the spec's header.
    pub source: String,
    /// Region of each AWS provider configuration (`aws`, `aws.secondary`),
    /// from the Terraform configuration; otherwise read from ARNs in the state.
    pub provider_regions: BTreeMap<String, String>,
    /// Resources (by their tandem key) not to migrate, with the reason: what
    /// a first pass wrote that tandem's checks refused.
    pub exclude: BTreeMap<String, String>,
}

/// What one Terraform resource instance became.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Its Terraform address.
    pub terraform: String,
    /// `resource` (a tandem resource), `folded` (part of another), `skipped`, `data` (a data source: read only).
    pub outcome: &'static str,
    /// The tandem address it became or was folded into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What Terraform had that the spec does not carry, and what that means.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn count(&self, outcome: &str) -> usize {
        self.entries.iter().filter(|e| e.outcome == outcome).count()
    }
}

/// The result: the spec's text, the state adopting each cloud id, the
/// secrets that had to become variables, and the report.
pub struct Migration {
    pub spec: String,
    pub state: State,
    /// `name: value` of sensitive variables (a YAML var file), when any.
    pub secrets: Option<String>,
    pub report: Report,
}

/// A tandem resource being built: one mapped Terraform instance.
#[derive(Debug, Clone)]
pub struct Node {
    /// Index of its Terraform resource in the state.
    pub res: usize,
    /// Its Terraform address.
    pub terraform: String,
    /// The tandem address (`base` or `base[key]`).
    pub address: String,
    pub base: String,
    pub key: Option<String>,
    pub region: Option<String>,
    pub stage: Option<String>,
    pub mapped: Mapped,
    /// The properties with references rebuilt (`${...}` strings); `mapped.props` keeps the values.
    pub spec_props: Map<String, Value>,
    pub deps: BTreeSet<String>,
    pub tainted: bool,
    /// Its place in a `for_each` group ([`each`]).
    pub group: Option<each::Group>,
}

pub fn migrate(tf: &TfState, registry: &Registry, opts: &Options) -> Migration {
    let lookups = lookups(tf);
    let regions = regions::provider_regions(tf, &opts.provider_regions);
    let names = base_names(tf);
    let mut report = Report::default();
    let mut nodes: Vec<Node> = Vec::new();
    let mut folds: Vec<(String, map::Fold)> = Vec::new();
    let mut carried: Vec<(String, String)> = Vec::new();
    for (ri, res) in tf.resources.iter().enumerate() {
        if res.mode == "data" {
            for inst in &res.instances {
                report.entries.push(Entry {
                    terraform: res.instance_address(inst),
                    outcome: "data",
                    address: None,
                    kind: None,
                    reason: Some("a data source: Terraform only reads it, there is nothing to adopt".into()),
                    notes: vec![],
                });
            }
            continue;
        }
        for inst in &res.instances {
            let terraform = res.instance_address(inst);
            let region = match res.provider_type() {
                "aws" => regions.get(&res.provider_config()).cloned(),
                _ => map::s(&inst.attributes, "region"),
            };
            let skip = |report: &mut Report, reason: String| {
                report.entries.push(Entry {
                    terraform: terraform.clone(),
                    outcome: "skipped",
                    address: None,
                    kind: None,
                    reason: Some(reason),
                    notes: vec![],
                })
            };
            if inst.deposed.is_some() {
                skip(&mut report, "a deposed object (left over from a create_before_destroy replacement): Terraform deletes it on its next apply; delete it, or import it into tandem by hand".into());
                continue;
            }
            let src = Source { res, inst, attrs: &inst.attributes, region: region.clone(), lookups: &lookups };
            let outcome = match map::map(&src) {
                Some(o) => o,
                None => {
                    skip(
                        &mut report,
                        format!(
                            "tandem has no resource kind for {} (kinds: docs/kinds/README.md); it stays as it is in the cloud, unmanaged",
                            res.type_name
                        ),
                    );
                    continue;
                }
            };
            match outcome {
                Outcome::Skip(reason) => skip(&mut report, reason),
                Outcome::Fold(f) => folds.push((terraform, f)),
                Outcome::Carried(key) => carried.push((terraform, key)),
                Outcome::Kind(mapped) => {
                    let schema = registry.schema(mapped.kind);
                    if schema.is_none() {
                        skip(&mut report, format!("this tandem has no kind {}", mapped.kind));
                        continue;
                    }
                    if schema.is_some_and(|s| s.regional) && region.is_none() {
                        skip(&mut report, "its region is unknown: no ARN under its provider configuration tells it; pass --tf-dir with the Terraform configuration (its provider block)".into());
                        continue;
                    }
                    let base = names[ri].clone();
                    if let Some(reason) = opts.exclude.get(&base) {
                        skip(&mut report, reason.clone());
                        continue;
                    }
                    let key = res.each_mode().and(inst.key());
                    let address = match &key {
                        Some(k) => format!("{base}[{k}]"),
                        None => base.clone(),
                    };
                    let tainted = inst.status.as_deref() == Some("tainted");
                    nodes.push(Node {
                        res: ri,
                        terraform,
                        address,
                        base,
                        key,
                        region: if schema.is_some_and(|s| s.regional) { region } else { None },
                        stage: res.top_module().map(str::to_string),
                        mapped,
                        spec_props: Map::new(),
                        deps: BTreeSet::new(),
                        tainted,
                        group: None,
                    });
                }
            }
        }
    }
    // Folds land on the resource with that kind and cloud id.
    for (terraform, f) in folds {
        match nodes.iter_mut().find(|n| n.mapped.kind == f.kind && n.mapped.id == f.id) {
            Some(n) => {
                for (k, v) in f.props {
                    match (n.mapped.props.get_mut(&k), v) {
                        (Some(Value::Array(have)), Value::Array(more)) => have.extend(more),
                        (_, v) => {
                            n.mapped.props.insert(k, v);
                        }
                    }
                }
                n.mapped.notes.extend(f.notes.iter().cloned());
                report.entries.push(Entry {
                    terraform,
                    outcome: "folded",
                    address: Some(n.address.clone()),
                    kind: Some(f.kind.into()),
                    reason: None,
                    notes: f.notes,
                });
            }
            None => report.entries.push(Entry {
                terraform,
                outcome: "skipped",
                address: None,
                kind: None,
                reason: Some(format!("it belongs to the {} {} in tandem, which is not in this state (or was not migrated)", f.kind, f.id)),
                notes: vec![],
            }),
        }
    }
    for (terraform, key) in carried {
        match nodes.iter().find(|n| n.mapped.carries.contains(&key)) {
            Some(n) => report.entries.push(Entry { terraform, outcome: "folded", address: Some(n.address.clone()), kind: Some(n.mapped.kind.into()), reason: None, notes: vec![] }),
            None => report.entries.push(Entry {
                terraform,
                outcome: "skipped",
                address: None,
                kind: None,
                reason: Some("a Cloud Router interface with no BGP peer on it: tandem declares an interface with its peer (gcp.compute.router_peer); it stays as it is in the cloud".into()),
                notes: vec![],
            }),
        }
    }
    // Values as the kinds take them (the engine coerces the spec the same way).
    nodes.retain_mut(|n| {
        let Some(schema) = registry.schema(n.mapped.kind) else { return false };
        let unknown: Vec<String> = n.mapped.props.keys().filter(|k| schema.field(k).is_none()).cloned().collect();
        for k in unknown {
            n.mapped.props.remove(&k);
        }
        match tandem_schema::coerce(&schema.as_type(), &Value::Object(n.mapped.props.clone()), "") {
            Ok(Value::Object(m)) => {
                n.mapped.props = m;
                true
            }
            other => {
                let why = match other {
                    Err(e) => e.to_string(),
                    _ => "not a mapping".into(),
                };
                report.entries.push(Entry {
                    terraform: n.terraform.clone(),
                    outcome: "skipped",
                    address: None,
                    kind: None,
                    reason: Some(format!("its values do not fit {}: {why}", n.mapped.kind)),
                    notes: vec![],
                });
                false
            }
        }
    });
    refs::rebuild(&mut nodes, registry);
    let secrets = write::secrets(&mut nodes);
    let renames = each::group(&mut nodes, tf);
    for e in report.entries.iter_mut() {
        if let Some((_, new)) = renames.iter().find(|(old, _)| Some(old) == e.address.as_ref()) {
            e.address = Some(new.clone());
        }
    }
    for n in &nodes {
        report.entries.push(Entry {
            terraform: n.terraform.clone(),
            outcome: "resource",
            address: Some(n.address.clone()),
            kind: Some(n.mapped.kind.into()),
            reason: None,
            notes: {
                let mut notes = n.mapped.notes.clone();
                if n.tainted {
                    notes.push("tainted in Terraform: the next tandem apply replaces it, as Terraform's would".into());
                }
                notes
            },
        });
    }
    let spec = write::spec(&nodes, tf, opts, &report, &secrets);
    let state = state_of(&nodes, registry, opts);
    Migration { spec, state, secrets: write::secrets_file(&secrets), report }
}

fn state_of(nodes: &[Node], registry: &Registry, opts: &Options) -> State {
    let mut state = State { spec_name: opts.name.clone(), ..Default::default() };
    for n in nodes {
        // The values the kind marks secret (pre-shared keys, MD5 keys): the
        // state seals them at rest as it does for resources tandem created.
        let mut sensitive = Vec::new();
        if let Some(schema) = registry.schema(n.mapped.kind) {
            let props = serde_json::Value::Object(n.mapped.props.clone());
            sensitive = tandem_schema::sensitive_pointers(&schema.as_type(), &props, "/properties");
            for o in schema.outputs.iter().filter(|o| o.sensitive && n.mapped.outputs.contains_key(o.name)) {
                sensitive.push(format!("/outputs/{}", o.name.replace('~', "~0").replace('/', "~1")));
            }
            sensitive.sort();
        }
        state.resources.insert(
            n.address.clone(),
            ResourceState {
                type_name: n.mapped.kind.to_string(),
                region: n.region.clone(),
                id: n.mapped.id.clone(),
                properties: n.mapped.props.clone(),
                outputs: n.mapped.outputs.clone(),
                dependencies: n.deps.clone(),
                tainted: n.tainted,
                prevent_destroy: false,
                sensitive,
            },
        );
    }
    state
}

/// Facts single mappings need from the rest of the state.
fn lookups(tf: &TfState) -> Lookups {
    let mut l = Lookups::default();
    for r in &tf.resources {
        for i in &r.instances {
            let a = &i.attributes;
            let s = |k: &str| map::s(a, k).unwrap_or_default();
            match r.type_name.as_str() {
                "aws_connect_security_profile" => {
                    if let (Some(id), Some(name)) = (map::s(a, "security_profile_id"), map::s(a, "name")) {
                        l.security_profiles.insert(id, name);
                    }
                }
                "google_compute_router_interface" => {
                    l.router_interfaces.insert(
                        (s("project"), s("region"), s("router").rsplit('/').next().unwrap_or_default().to_string(), s("name")),
                        a.clone(),
                    );
                }
                "google_compute_router" => {
                    l.routers.insert((s("project"), s("region"), s("name")), s("self_link"));
                }
                "google_compute_vpn_tunnel" => {
                    l.tunnels.insert((s("project"), s("region"), s("name")), s("self_link"));
                }
                "aws_lambda_function" => {
                    l.functions.insert(s("function_name"), s("arn"));
                }
                _ => {}
            }
        }
    }
    l
}

/// A readable, unique tandem key per Terraform resource: the type without
/// its provider prefix and the resource name (`vpc_primary`), with the
/// module in front where two modules use the same.
fn base_names(tf: &TfState) -> Vec<String> {
    let short = |r: &TfResource| {
        let t = r
            .type_name
            .strip_prefix("google_compute_")
            .or_else(|| r.type_name.strip_prefix("google_"))
            .or_else(|| r.type_name.strip_prefix("aws_"))
            .unwrap_or(&r.type_name);
        sanitize(&format!("{t}_{}", r.name))
    };
    let plain: Vec<String> = tf.resources.iter().map(short).collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in tf.resources.iter().enumerate() {
        if r.mode == "managed" {
            *seen.entry(plain[i].as_str()).or_default() += 1;
        }
    }
    tf.resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if seen.get(plain[i].as_str()).copied().unwrap_or(0) > 1 {
                sanitize(&format!("{}_{}", r.module.as_deref().unwrap_or("root").replace("module.", "").replace('.', "_"), plain[i]))
            } else {
                plain[i].clone()
            }
        })
        .collect()
}

/// The resource key of the spec text's declaration that holds byte `offset`.
pub fn resource_at(spec: &str, offset: usize) -> Option<String> {
    let head = spec.get(..offset.min(spec.len()))?;
    head.lines().rev().find_map(|l| {
        let key = l.strip_prefix("  ")?.strip_suffix(':')?;
        (!key.starts_with(' ') && !key.starts_with('#') && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .then(|| key.to_string())
    })
}

/// Letters, digits, `_` and `-`, starting with a letter: what a spec key may be.
pub fn sanitize(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'r');
    }
    out
}
