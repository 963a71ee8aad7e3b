//! From YAML text to a checked [`Spec`]: structure, variables, references
//! and every property against its kind's schema. All problems are collected
//! and reported together.

use crate::diag::Code;
use crate::diag::{suggest, Problem, Problems, SourceFile};
use crate::model::*;
use crate::template::{self, FileArg, Index, Piece, RefTarget};
use crate::yaml::{self, Node, NodeKind, Scalar, Span};
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tandem_schema::{Check, Field, KindSchema, Type};

mod binding;
mod checks;
mod references;
mod resources;
mod variables;

/// Variable values from outside the spec, lowest precedence first:
/// environment (`TANDEM_VAR_name`), var files, then `--var name=value`.
#[derive(Debug, Clone, Default)]
pub struct VarInputs {
    pub env: BTreeMap<String, String>,
    /// Parsed var files: (file, its YAML text).
    pub files: Vec<SourceFile>,
    pub cli: Vec<(String, String)>,
}

impl VarInputs {
    /// Collect `TANDEM_VAR_*` from the process environment.
    pub fn from_env() -> BTreeMap<String, String> {
        std::env::vars().filter_map(|(k, v)| k.strip_prefix("TANDEM_VAR_").map(|n| (n.to_string(), v))).collect()
    }
}

const TOP_KEYS: &[&str] = &["version", "name", "backend", "variables", "resources", "outputs", "moved"];
const RESOURCE_KEYS: &[&str] = &["type", "for_each", "region", "stage", "properties", "depends_on", "lifecycle"];
const VARIABLE_KEYS: &[&str] = &["type", "default", "description", "sensitive"];
/// Every resource exposes its cloud id as `id`, whatever its kind's other outputs.
pub const ID_OUTPUT: &str = "id";

pub fn load(source: SourceFile, inputs: &VarInputs, kinds: &[&KindSchema]) -> Result<Spec, Problems> {
    let src = Arc::new(source);
    let mut problems = Problems::default();
    let root = match yaml::parse(&src.text) {
        Ok(r) => r,
        Err(e) => {
            problems.push(
                Problem::new(Code::SpecYaml, format!("this is not valid YAML: {}", e.message))
                    .at(&src, e.span, "here")
                    .help("check indentation and that every `[`/`{` is closed"),
            );
            return Err(problems);
        }
    };
    let mut l = Loader {
        src: src.clone(),
        problems,
        kinds,
        typed_refs: Vec::new(),
        networks: Vec::new(),
        asns: Vec::new(),
        links: Vec::new(),
        sensitive_vars: Default::default(),
        deferred: None,
        warnings: Vec::new(),
        digests: BTreeMap::new(),
    };
    let spec = l.spec(&root, inputs);
    // A for_each resource repeats its problems once per instance; say each once.
    fn once(problems: &mut Vec<Problem>) {
        let mut seen = std::collections::HashSet::new();
        problems.retain(|p| seen.insert((p.code, p.message.clone(), p.span.map(|s| (s.start, s.len)))));
    }
    once(&mut l.problems.0);
    let spec = spec.map(|mut spec| {
        once(&mut spec.warnings);
        spec
    });
    match spec {
        Some(spec) => l.problems.into_result(spec),
        None => Err(l.problems),
    }
}

/// The `for_each` instance an expression is written in.
struct EachCtx {
    key: String,
    value: Value,
    /// When the value refers to other resources' outputs (`"${replica.id}"`),
    /// those parts, substituted wherever `${each.value}` is written.
    value_parts: Option<Vec<Part>>,
    region: Option<String>,
}

struct Loader<'a> {
    src: Arc<SourceFile>,
    problems: Problems,
    kinds: &'a [&'a KindSchema],
    /// References found in fields that must point at given kinds: (target address, kinds, field path, span).
    typed_refs: Vec<(String, Vec<&'static str>, String, Span, &'static str)>,
    /// Networks that must not overlap others of the same kind and field: (kind/field, network, resource, span).
    networks: Vec<(String, ipnet::Ipv4Net, String, Span)>,
    /// (cloud, kind.field, asn, resource, span) of fields checked DistinctAsn.
    asns: Vec<(String, String, i64, String, Span)>,
    /// (resource, resource it references) through a field that carries traffic.
    links: Vec<(String, String)>,
    /// Variables declared `sensitive: true`.
    sensitive_vars: std::collections::BTreeSet<String>,
    /// Inside a resource: the files it names that cannot be read. They stop
    /// only a plan that includes the resource (a Lambda zip not built yet
    /// must not block a stage that does not deploy it).
    deferred: Option<Vec<Problem>>,
    /// Allowed, but worth a look (a secret in a field the cloud shows).
    warnings: Vec<Problem>,
    /// `filebase64sha256` of each file read: a Lambda zip named by a
    /// resource in every region is read and hashed once.
    digests: BTreeMap<std::path::PathBuf, String>,
}

impl Loader<'_> {
    fn err(&mut self, code: Code, span: Span, message: impl Into<String>, label: &str) -> &mut Problem {
        let p = Problem::new(code, message).at(&self.src, span, label);
        self.problems.push(p);
        self.problems.0.last_mut().expect("just pushed")
    }

    fn unknown_key(&mut self, what: &str, key: &str, span: Span, known: &[&str]) {
        let p = self.err(Code::SpecUnknownField, span, format!("unknown field `{key}` in {what}"), "not a known field");
        p.help = Some(match suggest(key, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("known fields: {}", known.join(", ")),
        });
    }

    fn spec(&mut self, root: &Node, inputs: &VarInputs) -> Option<Spec> {
        let Some(top) = root.as_map() else {
            self.err(Code::SpecShape, root.span, format!("a spec is a mapping, found {}", root.describe()), "here").help =
                Some("start with `version: 1`, `name:` and `resources:`".into());
            return None;
        };
        for (k, (kspan, _)) in top {
            if !TOP_KEYS.contains(&k.as_str()) {
                self.unknown_key("the spec", k, *kspan, TOP_KEYS);
            }
        }
        let version = match top.get("version") {
            Some((_, n)) => match n.kind {
                NodeKind::Scalar(Scalar::Int(1)) => 1,
                _ => {
                    self.err(Code::SpecVersion, n.span, "unsupported spec version", "expected 1").help =
                        Some("this tandem reads `version: 1`".into());
                    1
                }
            },
            None => {
                self.err(Code::SpecVersion, Span::new(0, 0), "the spec has no `version`", "add `version: 1`").help =
                    Some("add `version: 1` at the top".into());
                1
            }
        };
        let name = match top.get("name") {
            Some((_, n)) => match n.as_str() {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => {
                    self.err(Code::SpecType, n.span, "`name` must be a non-empty string", "expected a string");
                    String::new()
                }
            },
            None => String::new(),
        };
        let backend = top.get("backend").and_then(|(_, n)| crate::backend::parse_backend(&self.src, n, &mut self.problems));
        let variables = self.variables(top.get("variables").map(|(_, n)| n), inputs);
        self.sensitive_vars = variables.values().filter(|v| v.sensitive).map(|v| v.name.clone()).collect();
        let var_values: BTreeMap<String, Value> = variables.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();

        let mut resources = IndexMap::new();
        if let Some((_, rnode)) = top.get("resources") {
            match rnode.as_map() {
                Some(m) => {
                    for (key, (kspan, node)) in m {
                        for r in self.resources_of(key, *kspan, node, &var_values) {
                            resources.insert(r.address.clone(), r);
                        }
                    }
                }
                None if rnode.is_null() => {}
                None => {
                    self.err(Code::SpecShape, rnode.span, "`resources` must be a mapping of names to resources", "expected a mapping");
                }
            }
        }
        let mut outputs = IndexMap::new();
        if let Some((_, onode)) = top.get("outputs") {
            match onode.as_map() {
                Some(m) => {
                    for (name, (kspan, node)) in m {
                        let (value_node, sensitive, description) = match node.as_map() {
                            Some(om) if om.contains_key("value") => {
                                for (k, (ks, _)) in om {
                                    if !["value", "sensitive", "description"].contains(&k.as_str()) {
                                        self.unknown_key("an output", k, *ks, &["value", "sensitive", "description"]);
                                    }
                                }
                                let sensitive = om.get("sensitive").map(|(_, n)| self.bool(n)).unwrap_or(false);
                                let description = om.get("description").and_then(|(_, n)| n.as_str().map(str::to_string));
                                (&om["value"].1, sensitive, description)
                            }
                            _ => (node, false, None),
                        };
                        let value = self.expr(value_node, &var_values, None);
                        let sensitive = sensitive || self.mentions_sensitive(value_node);
                        outputs.insert(name.clone(), OutputSpec { name: name.clone(), value, sensitive, description, span: *kspan });
                    }
                }
                None if onode.is_null() => {}
                None => {
                    self.err(Code::SpecShape, onode.span, "`outputs` must be a mapping of names to values", "expected a mapping");
                }
            }
        }
        // `depends_on: [queue]` on a for_each resource means every instance of it.
        let instances: BTreeMap<String, Vec<String>> =
            resources.values().filter(|r: &&Resource| r.each_key.is_some()).fold(BTreeMap::new(), |mut m, r| {
                m.entry(r.base.clone()).or_insert_with(Vec::new).push(r.address.clone());
                m
            });
        for r in resources.values_mut() {
            let mut expanded = Vec::new();
            for (d, span) in std::mem::take(&mut r.depends_on) {
                match instances.get(&d) {
                    Some(all) => {
                        expanded.extend(all.iter().filter(|a| **a != r.address).map(|a| (a.clone(), span)));
                    }
                    _ => expanded.push((d, span)),
                }
            }
            r.depends_on = expanded;
        }
        let moved = top.get("moved").map(|(_, n)| self.moved(n, &resources)).unwrap_or_default();
        let mut spec =
            Spec { source: self.src.clone(), version, name, variables, resources, outputs, warnings: Vec::new(), backend, moved };
        spec.warnings = self.check_references(&spec);
        for r in spec.resources.values() {
            spec.warnings.extend(r.unreadable.iter().cloned());
        }
        spec.warnings.append(&mut self.warnings);
        Some(spec)
    }

    fn bool(&mut self, n: &Node) -> bool {
        match n.kind {
            NodeKind::Scalar(Scalar::Bool(b)) => b,
            _ => {
                self.err(Code::SpecType, n.span, format!("expected true or false, found {}", n.describe()), "expected a boolean");
                false
            }
        }
    }

    fn kind_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.type_name.to_string()).collect()
    }
}

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        && s != "var"
}

pub(crate) fn node_to_json(n: &Node) -> Value {
    match &n.kind {
        NodeKind::Scalar(Scalar::Null) => Value::Null,
        NodeKind::Scalar(Scalar::Bool(b)) => Value::Bool(*b),
        NodeKind::Scalar(Scalar::Int(i)) => Value::from(*i),
        NodeKind::Scalar(Scalar::Float(f)) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        NodeKind::Scalar(Scalar::Str(s)) => Value::String(s.clone()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeKind::Map(m) => Value::Object(m.iter().map(|(k, (_, v))| (k.clone(), node_to_json(v))).collect::<Map<_, _>>()),
    }
}

fn short(v: &Value) -> String {
    let s = describe_json(v);
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

fn describe_json(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn is_stage_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `name` or `name[key]`.
fn valid_address(s: &str) -> bool {
    match s.split_once('[') {
        None => valid_name(s),
        Some((name, rest)) => valid_name(name) && rest.len() > 1 && rest.ends_with(']') && !rest[..rest.len() - 1].contains(['[', ']']),
    }
}
