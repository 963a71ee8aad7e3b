//! From YAML text to a checked [`Spec`]: structure, variables, references
//! and every property against its kind's schema. All problems are collected
//! and reported together.

use crate::diag::{suggest, Problem, Problems, SourceFile};
use crate::model::*;
use crate::template::{self, FileArg, Index, Piece, RefTarget};
use crate::yaml::{self, Node, NodeKind, Scalar, Span};
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tandem_schema::{Check, Field, KindSchema, Type};

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
                Problem::new("tandem::spec::yaml", format!("this is not valid YAML: {}", e.message))
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
}

impl Loader<'_> {
    fn err(&mut self, code: &'static str, span: Span, message: impl Into<String>, label: &str) -> &mut Problem {
        let p = Problem::new(code, message).at(&self.src, span, label);
        self.problems.push(p);
        self.problems.0.last_mut().expect("just pushed")
    }

    fn unknown_key(&mut self, what: &str, key: &str, span: Span, known: &[&str]) {
        let p = self.err("tandem::spec::unknown_field", span, format!("unknown field `{key}` in {what}"), "not a known field");
        p.help = Some(match suggest(key, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("known fields: {}", known.join(", ")),
        });
    }

    fn spec(&mut self, root: &Node, inputs: &VarInputs) -> Option<Spec> {
        let Some(top) = root.as_map() else {
            self.err("tandem::spec::shape", root.span, format!("a spec is a mapping, found {}", root.describe()), "here").help =
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
                    self.err("tandem::spec::version", n.span, "unsupported spec version", "expected 1").help =
                        Some("this tandem reads `version: 1`".into());
                    1
                }
            },
            None => {
                self.err("tandem::spec::version", Span::new(0, 0), "the spec has no `version`", "add `version: 1`").help =
                    Some("add `version: 1` at the top".into());
                1
            }
        };
        let name = match top.get("name") {
            Some((_, n)) => match n.as_str() {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => {
                    self.err("tandem::spec::type", n.span, "`name` must be a non-empty string", "expected a string");
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
                    self.err(
                        "tandem::spec::shape",
                        rnode.span,
                        "`resources` must be a mapping of names to resources",
                        "expected a mapping",
                    );
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
                    self.err("tandem::spec::shape", onode.span, "`outputs` must be a mapping of names to values", "expected a mapping");
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
                self.err("tandem::spec::type", n.span, format!("expected true or false, found {}", n.describe()), "expected a boolean");
                false
            }
        }
    }

    fn variables(&mut self, node: Option<&Node>, inputs: &VarInputs) -> IndexMap<String, Variable> {
        let mut vars = IndexMap::new();
        let Some(node) = node else {
            for (name, _) in &inputs.cli {
                self.problems.push(
                    Problem::new(
                        "tandem::spec::undeclared_variable",
                        format!("`--var {name}=...` sets a variable the spec does not declare"),
                    )
                    .help("declare it under `variables:` or drop the flag"),
                );
            }
            return vars;
        };
        let Some(m) = node.as_map() else {
            if !node.is_null() {
                self.err("tandem::spec::shape", node.span, "`variables` must be a mapping", "expected a mapping");
            }
            return vars;
        };
        // Values from var files, parsed once.
        let mut file_values: BTreeMap<String, Value> = BTreeMap::new();
        for f in &inputs.files {
            let fsrc = Arc::new(f.clone());
            match yaml::parse(&f.text) {
                Ok(root) => match root.as_map() {
                    Some(fm) => {
                        for (k, (kspan, v)) in fm {
                            if !m.contains_key(k) {
                                let p = Problem::new(
                                    "tandem::spec::undeclared_variable",
                                    format!("the var file sets `{k}`, which the spec does not declare"),
                                )
                                .at(&fsrc, *kspan, "not declared");
                                let known: Vec<&str> = m.keys().map(String::as_str).collect();
                                let p = match suggest(k, known) {
                                    Some(s) => p.help(format!("did you mean `{s}`?")),
                                    None => p.help("declare it under `variables:` in the spec"),
                                };
                                self.problems.push(p);
                                continue;
                            }
                            file_values.insert(k.clone(), node_to_json(v));
                        }
                    }
                    None if root.is_null() => {}
                    None => self.problems.push(
                        Problem::new("tandem::spec::var_file", "a var file is a mapping of variable names to values").at(
                            &fsrc,
                            root.span,
                            "expected a mapping",
                        ),
                    ),
                },
                Err(e) => self.problems.push(
                    Problem::new("tandem::spec::yaml", format!("the var file is not valid YAML: {}", e.message)).at(&fsrc, e.span, "here"),
                ),
            }
        }
        for (name, _) in &inputs.cli {
            if !m.contains_key(name) {
                let known: Vec<&str> = m.keys().map(String::as_str).collect();
                let p = Problem::new(
                    "tandem::spec::undeclared_variable",
                    format!("`--var {name}=...` sets a variable the spec does not declare"),
                );
                self.problems.push(match suggest(name, known) {
                    Some(s) => p.help(format!("did you mean `{s}`?")),
                    None => p.help("declare it under `variables:` or drop the flag"),
                });
            }
        }
        for (name, (kspan, decl)) in m {
            let mut ty = VarType::String;
            let mut default = None;
            let mut description = None;
            let mut sensitive = false;
            match decl.as_map() {
                Some(dm) => {
                    for (k, (ks, v)) in dm {
                        match k.as_str() {
                            "type" => match v.as_str().and_then(VarType::parse) {
                                Some(t) => ty = t,
                                None => {
                                    self.err("tandem::spec::variable_type", v.span, "unknown variable type", "not a type").help =
                                        Some("use one of string, number, bool, list, map".into());
                                }
                            },
                            "default" => default = Some((node_to_json(v), v.span)),
                            "description" => description = v.as_str().map(str::to_string),
                            "sensitive" => sensitive = self.bool(v),
                            _ => self.unknown_key(&format!("variable `{name}`"), k, *ks, VARIABLE_KEYS),
                        }
                    }
                }
                None if decl.is_null() => {}
                None => {
                    // Shorthand `name: value` declares a string (or typed) variable with a default.
                    let v = node_to_json(decl);
                    ty = json_var_type(&v);
                    default = Some((v, decl.span));
                }
            }
            // Precedence: --var > var files > environment > default.
            let cli = inputs.cli.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let raw: Option<(Value, &str)> = if let Some(v) = cli {
                Some((Value::String(v), "--var"))
            } else if let Some(v) = file_values.get(name) {
                Some((v.clone(), "the var file"))
            } else if let Some(v) = inputs.env.get(name) {
                Some((Value::String(v.clone()), "TANDEM_VAR_"))
            } else {
                default.as_ref().map(|(v, _)| (v.clone(), "the default"))
            };
            let value = match raw {
                None => {
                    self.err(
                        "tandem::spec::variable_unset",
                        *kspan,
                        format!("variable `{name}` has no value"),
                        "declared without a default",
                    )
                    .help = Some(format!("set it with `--var {name}=...`, a `--var-file`, or TANDEM_VAR_{name}, or give it a default"));
                    Value::Null
                }
                Some((v, from)) => match convert_var(ty, &v) {
                    Some(v) => v,
                    None => {
                        let span = default.as_ref().filter(|_| from == "the default").map(|(_, s)| *s).unwrap_or(*kspan);
                        self.err(
                            "tandem::spec::variable_value",
                            span,
                            format!("variable `{name}` is a {}, but {from} gives {}", ty.name(), short(&v)),
                            &format!("expected a {}", ty.name()),
                        );
                        Value::Null
                    }
                },
            };
            vars.insert(name.clone(), Variable { name: name.clone(), ty, description, sensitive, value, span: *kspan });
        }
        vars
    }

    /// One resource, or one per `for_each` key (addressed `key[each]`).
    fn resources_of(&mut self, key: &str, kspan: Span, node: &Node, vars: &BTreeMap<String, Value>) -> Vec<Resource> {
        let Some((_, fnode)) = node.as_map().and_then(|m| m.get("for_each")) else {
            return self.resource(key, kspan, node, vars, None).into_iter().collect();
        };
        let fe = self.expr(fnode, vars, None);
        #[allow(clippy::type_complexity)]
        let pairs: Vec<(String, (Value, Option<Vec<Part>>))> = match &fe.kind {
            ExprKind::Literal(Value::Array(items)) => {
                let mut out = Vec::new();
                for it in items {
                    match it {
                        Value::String(s) if !s.is_empty() => out.push((s.clone(), (it.clone(), None))),
                        other => {
                            self.err(
                                "tandem::spec::for_each",
                                fnode.span,
                                format!("`for_each` keys are non-empty strings, found {}", describe_json(other)),
                                "expected strings",
                            );
                        }
                    }
                }
                out
            }
            ExprKind::Literal(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), (v.clone(), None))).collect(),
            ExprKind::Map(m) => {
                let mut out = Vec::new();
                for (k, (kspan, v)) in m {
                    // Keys may use variables (`"${var.primary_region}": ...`); they must be known now.
                    let key = match template::parse(k) {
                        Ok(pieces) => match self.bind(pieces, *kspan, vars, None) {
                            ExprKind::Literal(Value::String(s)) if !s.is_empty() => s,
                            _ => {
                                self.err(
                                    "tandem::spec::for_each",
                                    *kspan,
                                    "`for_each` keys must be known before anything is created (literals and variables)",
                                    "not known yet",
                                );
                                continue;
                            }
                        },
                        Err((_, msg)) => {
                            self.err("tandem::spec::reference", *kspan, msg, "bad reference");
                            continue;
                        }
                    };
                    match &v.kind {
                        ExprKind::Literal(val) => out.push((key, (val.clone(), None))),
                        ExprKind::Interp(parts) => out.push((key, (Value::Null, Some(parts.clone())))),
                        _ => {
                            self.err(
                                "tandem::spec::for_each",
                                v.span,
                                "a `for_each` value is a scalar, a variable or one resource output",
                                "unsupported value",
                            );
                        }
                    }
                }
                out
            }
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for it in items {
                    match &it.kind {
                        ExprKind::Literal(Value::String(s)) if !s.is_empty() => out.push((s.clone(), (Value::String(s.clone()), None))),
                        _ => {
                            self.err(
                                "tandem::spec::for_each",
                                it.span,
                                "`for_each` keys must be known strings (literals or variables)",
                                "expected a string",
                            );
                        }
                    }
                }
                out
            }
            _ => {
                self.err(
                    "tandem::spec::for_each",
                    fnode.span,
                    "`for_each` takes a list of strings or a mapping, known before anything is created",
                    "expected a list or mapping",
                )
                .help = Some(
                    "for example `for_each: [\"${var.primary_region}\", \"${var.secondary_region}\"]` or `for_each: ${var.regions}`".into(),
                );
                return Vec::new();
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for (k, (v, value_parts)) in pairs {
            if !seen.insert(k.clone()) {
                self.err("tandem::spec::for_each", fnode.span, format!("`for_each` lists `{k}` twice"), "duplicate key");
                continue;
            }
            let each = EachCtx { key: k, value: v, value_parts, region: None };
            if let Some(r) = self.resource(key, kspan, node, vars, Some(each)) {
                out.push(r);
            }
        }
        out
    }

    fn resource(&mut self, key: &str, kspan: Span, node: &Node, vars: &BTreeMap<String, Value>, each: Option<EachCtx>) -> Option<Resource> {
        self.deferred = Some(Vec::new());
        let r = self.resource_inner(key, kspan, node, vars, each);
        let unreadable = self.deferred.take().unwrap_or_default();
        r.map(|mut r| {
            r.unreadable = unreadable;
            r
        })
    }

    fn resource_inner(
        &mut self,
        key: &str,
        kspan: Span,
        node: &Node,
        vars: &BTreeMap<String, Value>,
        mut each: Option<EachCtx>,
    ) -> Option<Resource> {
        if !valid_name(key) {
            self.err(
                "tandem::spec::resource_name",
                kspan,
                format!("`{key}` is not a valid resource name"),
                "letters, digits, `_` and `-`, starting with a letter",
            );
        }
        let Some(m) = node.as_map() else {
            self.err(
                "tandem::spec::shape",
                node.span,
                format!("resource `{key}` must be a mapping with `type` and `properties`"),
                "expected a mapping",
            );
            return None;
        };
        for (k, (ks, _)) in m {
            if !RESOURCE_KEYS.contains(&k.as_str()) {
                self.unknown_key(&format!("resource `{key}`"), k, *ks, RESOURCE_KEYS);
            }
        }
        let Some((_, tnode)) = m.get("type") else {
            self.err("tandem::spec::missing_type", kspan, format!("resource `{key}` has no `type`"), "needs `type:`").help =
                Some(format!("known types: {}", self.kind_names().join(", ")));
            return None;
        };
        let Some(type_name) = tnode.as_str() else {
            self.err("tandem::spec::type", tnode.span, "`type` must be a string such as `aws.ec2.vpc`", "expected a string");
            return None;
        };
        let kind = self.kinds.iter().copied().find(|k| k.type_name == type_name);
        let Some(kind) = kind else {
            let names = self.kind_names();
            let help = match suggest(type_name, names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known types: {}", names.join(", ")),
            };
            self.err("tandem::spec::unknown_type", tnode.span, format!("unknown resource type `{type_name}`"), "not a known type").help =
                Some(help);
            return None;
        };
        let region = match m.get("region") {
            Some((_, rn)) => {
                let e = self.expr(rn, vars, each.as_ref());
                match &e.kind {
                    ExprKind::Literal(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    ExprKind::Interp(_) => {
                        self.err(
                            "tandem::spec::region",
                            rn.span,
                            "`region` must be known before anything is created",
                            "refers to a resource output",
                        )
                        .help = Some("use a literal region or a variable (`${var.primary_region}`)".into());
                        None
                    }
                    _ => {
                        self.err("tandem::spec::region", rn.span, "`region` must be a non-empty string", "expected a region name");
                        None
                    }
                }
            }
            None => None,
        };
        if kind.regional && region.is_none() && !m.contains_key("region") {
            self.err("tandem::spec::region", kspan, format!("resource `{key}` ({type_name}) needs a `region`"), "no region").help =
                Some("add `region: ${var.primary_region}` or a region name".into());
        }
        if let Some(e) = each.as_mut() {
            e.region = region.clone();
        }
        let properties = match m.get("properties") {
            Some((_, pn)) => self.expr(pn, vars, each.as_ref()),
            None => Expr { span: kspan, kind: ExprKind::Map(IndexMap::new()) },
        };
        let sensitive: BTreeSet<String> = match m.get("properties").and_then(|(_, pn)| pn.as_map()) {
            Some(pm) => pm.iter().filter(|(_, (_, v))| self.mentions_sensitive(v)).map(|(k, _)| k.clone()).collect(),
            None => Default::default(),
        };
        // tandem redacts these in its own output, but a tag or a name is
        // shown by the cloud to anyone who may list the resource.
        if let (Some(kind), Some(pm)) =
            (self.kinds.iter().copied().find(|k| k.type_name == type_name), m.get("properties").and_then(|(_, pn)| pn.as_map()))
        {
            for field in &sensitive {
                if kind.field(field).is_some_and(|f| !f.sensitive) {
                    let span = pm.get(field).map(|(ks, _)| *ks).unwrap_or(kspan);
                    self.warnings.push(
                        Problem::new("tandem::spec::sensitive_in_plain_field", format!("`{field}` of `{key}` takes a sensitive variable, but {type_name} does not keep `{field}` secret"))
                            .at(&self.src, span, "visible in the cloud")
                            .help("tandem redacts it in plans, state and output; the cloud shows it to anyone who may read the resource. Keep secrets out of tags and names"),
                    );
                }
            }
        }
        if !matches!(properties.kind, ExprKind::Map(_)) {
            self.err("tandem::spec::shape", properties.span, "`properties` must be a mapping", "expected a mapping");
        } else {
            let at = match &each {
                Some(e) => format!("{key}[{}]", e.key),
                None => key.to_string(),
            };
            self.check_object(&properties, &kind.properties, kind, &at, "", true);
        }
        let mut depends_on = Vec::new();
        if let Some((_, dn)) = m.get("depends_on") {
            match &dn.kind {
                NodeKind::Seq(items) => {
                    for it in items {
                        match it.as_str() {
                            Some(s) => depends_on.push((s.to_string(), it.span)),
                            None => {
                                self.err("tandem::spec::type", it.span, "`depends_on` lists resource names", "expected a name");
                            }
                        }
                    }
                }
                _ => {
                    self.err("tandem::spec::type", dn.span, "`depends_on` must be a list of resource names", "expected a list");
                }
            }
        }
        // A stage names a slice of the stack that can be applied on its own
        // (`--stage`), as the seed's guide deploys it step by step.
        let stage = match m.get("stage") {
            None => None,
            Some((_, sn)) => match sn.as_str() {
                Some(s) if is_stage_name(s) => Some(s.to_string()),
                _ => {
                    self.err(
                        "tandem::spec::stage",
                        sn.span,
                        "`stage` must be a name of letters, digits, `_` or `-`",
                        "expected a name such as aws_connect",
                    );
                    None
                }
            },
        };
        let mut prevent_destroy = false;
        if let Some((_, ln)) = m.get("lifecycle") {
            match ln.as_map() {
                Some(lm) => {
                    for (k, (ks, v)) in lm {
                        if k == "prevent_destroy" {
                            prevent_destroy = self.bool(v);
                        } else {
                            self.unknown_key("lifecycle", k, *ks, &["prevent_destroy"]);
                        }
                    }
                }
                None => {
                    self.err("tandem::spec::type", ln.span, "`lifecycle` must be a mapping", "expected a mapping");
                }
            }
        }
        let address = match &each {
            Some(e) => format!("{key}[{}]", e.key),
            None => key.to_string(),
        };
        Some(Resource {
            address,
            base: key.to_string(),
            each_key: each.map(|e| e.key),
            type_name: type_name.to_string(),
            type_span: tnode.span,
            span: kspan,
            region,
            properties,
            depends_on,
            prevent_destroy,
            stage,
            sensitive,
            unreadable: Vec::new(),
        })
    }

    /// Whether a value refers to a `sensitive: true` variable anywhere inside.
    fn mentions_sensitive(&self, node: &Node) -> bool {
        if self.sensitive_vars.is_empty() {
            return false;
        }
        match &node.kind {
            NodeKind::Scalar(Scalar::Str(s)) => template::parse(s)
                .is_ok_and(|pieces| pieces.iter().any(|p| matches!(p, Piece::Ref(RefTarget::Var(v)) if self.sensitive_vars.contains(v)))),
            NodeKind::Scalar(_) => false,
            NodeKind::Seq(items) => items.iter().any(|n| self.mentions_sensitive(n)),
            NodeKind::Map(m) => m.values().any(|(_, n)| self.mentions_sensitive(n)),
        }
    }

    /// `moved:` entries, one mapping or a list of them: `from` is no longer
    /// declared, `to` is.
    fn moved(&mut self, node: &Node, resources: &IndexMap<String, Resource>) -> Vec<Moved> {
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Map(_) => vec![node],
            NodeKind::Scalar(Scalar::Null) => vec![],
            _ => {
                self.err(
                    "tandem::spec::moved",
                    node.span,
                    "`moved` is a mapping `{ from: OLD, to: NEW }` or a list of them",
                    "expected a mapping or a list",
                );
                return vec![];
            }
        };
        let declared = |a: &str| resources.contains_key(a) || resources.values().any(|r| r.base == a);
        let mut out: Vec<Moved> = Vec::new();
        for it in items {
            let Some(m) = it.as_map() else {
                self.err("tandem::spec::moved", it.span, "a move is a mapping `{ from: OLD, to: NEW }`", "expected a mapping");
                continue;
            };
            for (k, (ks, _)) in m {
                if k != "from" && k != "to" {
                    self.unknown_key("a move", k, *ks, &["from", "to"]);
                }
            }
            let mut get = |key: &str| -> Option<(String, Span)> {
                match m.get(key) {
                    Some((_, v)) => match v.as_str() {
                        Some(s) if valid_address(s) => Some((s.to_string(), v.span)),
                        _ => {
                            self.err(
                                "tandem::spec::moved",
                                v.span,
                                format!("`{key}` is a resource address such as `vpc` or `queue[us-east-1]`"),
                                "not an address",
                            );
                            None
                        }
                    },
                    None => {
                        self.err("tandem::spec::moved", it.span, format!("this move has no `{key}`"), &format!("add `{key}:`"));
                        None
                    }
                }
            };
            let (Some((from, fspan)), Some((to, tspan))) = (get("from"), get("to")) else { continue };
            if from == to {
                self.err("tandem::spec::moved", tspan, "a move from an address to itself", "same as `from`");
                continue;
            }
            if declared(&from) {
                self.err(
                    "tandem::spec::moved",
                    fspan,
                    format!("`{from}` is still declared under `resources`, so it cannot have moved"),
                    "still declared",
                )
                .help = Some(format!("rename the resource itself to `{to}` and keep this move, or drop the move"));
                continue;
            }
            if !declared(&to) {
                let names: Vec<&str> = resources.values().map(|r| r.base.as_str()).collect();
                let p = self.err("tandem::spec::moved", tspan, format!("`{to}` is not a resource of this spec"), "not declared");
                p.help = Some(match suggest(&to, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`to` names the resource's new key under `resources`".into(),
                });
                continue;
            }
            if let Some(prev) = out.iter().find(|m| m.from == from) {
                let other = prev.to.clone();
                self.err("tandem::spec::moved", fspan, format!("`{from}` already moved to `{other}`"), "moved twice");
                continue;
            }
            out.push(Moved { from, to, span: it.span });
        }
        out
    }

    fn kind_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.type_name.to_string()).collect()
    }

    /// Substitute variables; keep resource references for later.
    fn expr(&mut self, node: &Node, vars: &BTreeMap<String, Value>, each: Option<&EachCtx>) -> Expr {
        let kind = match &node.kind {
            NodeKind::Scalar(Scalar::Str(s)) => match template::parse(s) {
                Err((_, msg)) => {
                    self.err("tandem::spec::reference", node.span, msg, "bad reference");
                    ExprKind::Literal(Value::String(s.clone()))
                }
                Ok(pieces) => self.bind(pieces, node.span, vars, each),
            },
            NodeKind::Scalar(_) => ExprKind::Literal(node_to_json(node)),
            NodeKind::Seq(items) => ExprKind::List(items.iter().map(|n| self.expr(n, vars, each)).collect()),
            NodeKind::Map(m) => ExprKind::Map(m.iter().map(|(k, (ks, v))| (k.clone(), (*ks, self.expr(v, vars, each)))).collect()),
        };
        Expr { span: node.span, kind }
    }

    fn each_value(&mut self, field: &str, span: Span, each: Option<&EachCtx>) -> Value {
        let Some(e) = each else {
            self.err(
                "tandem::spec::each",
                span,
                format!("`${{each.{field}}}` is only meaningful in a resource with `for_each`"),
                "no for_each here",
            );
            return Value::Null;
        };
        match field {
            "key" => Value::String(e.key.clone()),
            "value" => e.value.clone(),
            _ => match &e.region {
                Some(r) => Value::String(r.clone()),
                None => {
                    self.err(
                        "tandem::spec::each",
                        span,
                        "`${each.region}` needs a `region` on the resource (and cannot be used inside `region`)",
                        "no region",
                    );
                    Value::Null
                }
            },
        }
    }

    /// `${file("PATH")}`, `${path("PATH")}`, `${filebase64sha256("PATH")}`:
    /// PATH is relative to the spec file's directory, so a spec and the files
    /// it names move together.
    fn file_function(&mut self, r: &RefTarget, span: Span, vars: &BTreeMap<String, Value>) -> String {
        let (RefTarget::File(arg) | RefTarget::Path(arg) | RefTarget::FileSha256(arg)) = r else { return String::new() };
        let path = match arg {
            FileArg::Literal(p) => p.clone(),
            FileArg::Var(name) => match self.var(name, span, vars) {
                Value::String(p) => p,
                Value::Null => return String::new(),
                other => {
                    self.err("tandem::spec::file", span, format!("`var.{name}` is {other}, not a path"), "not a path");
                    return String::new();
                }
            },
        };
        let path = path.as_str();
        let dir = std::path::Path::new(&self.src.name).parent().unwrap_or(std::path::Path::new(""));
        let full = dir.join(path);
        // Regular files only, of a size a spec can hold (a Lambda zip for
        // direct upload is at most 50 MB): not a device, a FIFO or a directory.
        const MAX_FILE: u64 = 64 << 20;
        let kind = std::fs::metadata(&full).and_then(|m| {
            if !m.is_file() {
                Err(std::io::Error::other("not a regular file"))
            } else if m.len() > MAX_FILE {
                Err(std::io::Error::other(format!("{} bytes, more than the {} MiB a spec may read", m.len(), MAX_FILE >> 20)))
            } else {
                Ok(())
            }
        });
        let read = kind.and_then(|()| match r {
            RefTarget::File(_) => std::fs::read_to_string(&full),
            RefTarget::Path(_) => std::fs::metadata(&full).map(|_| full.display().to_string()),
            _ => std::fs::read(&full).map(|bytes| {
                use base64::Engine;
                use sha2::Digest;
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes))
            }),
        });
        match read {
            Ok(text) => text,
            Err(e) => {
                let message = format!("cannot read {} (`{path}`, relative to the spec's directory): {e}", full.display());
                match self.deferred.as_mut() {
                    Some(d) => d.push(
                        Problem::new("tandem::spec::file", message)
                            .at(&self.src, span, "unreadable file")
                            .help("make the file (for a Lambda package: scripts/build-lambda), or leave this resource out with --target/--stage; until then it cannot be planned or applied"),
                    ),
                    None => {
                        self.err("tandem::spec::file", span, message, "unreadable file");
                    }
                }
                String::new()
            }
        }
    }

    fn bind(&mut self, pieces: Vec<Piece>, span: Span, vars: &BTreeMap<String, Value>, each: Option<&EachCtx>) -> ExprKind {
        // A string that is exactly one variable keeps the variable's type.
        if let [Piece::Ref(RefTarget::Var(name))] = pieces.as_slice() {
            return ExprKind::Literal(self.var(name, span, vars));
        }
        if let [Piece::Ref(r @ (RefTarget::File(_) | RefTarget::Path(_) | RefTarget::FileSha256(_)))] = pieces.as_slice() {
            return ExprKind::Literal(Value::String(self.file_function(r, span, vars)));
        }
        if let [Piece::Ref(RefTarget::Each(field))] = pieces.as_slice() {
            if let (Some(parts), "value") = (each.and_then(|e| e.value_parts.as_ref()), field.as_str()) {
                return ExprKind::Interp(parts.clone());
            }
            return ExprKind::Literal(self.each_value(field, span, each));
        }
        let mut parts: Vec<Part> = Vec::new();
        for p in pieces {
            match p {
                Piece::Lit(l) => push_lit(&mut parts, l),
                Piece::Ref(RefTarget::Var(name)) => {
                    let v = self.var(&name, span, vars);
                    let text = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    push_lit(&mut parts, text);
                }
                Piece::Ref(r @ (RefTarget::File(_) | RefTarget::Path(_) | RefTarget::FileSha256(_))) => {
                    let text = self.file_function(&r, span, vars);
                    push_lit(&mut parts, text);
                }
                Piece::Ref(RefTarget::Each(field)) => {
                    if let (Some(vp), "value") = (each.and_then(|e| e.value_parts.as_ref()), field.as_str()) {
                        for p in vp {
                            match p {
                                Part::Lit(l) => push_lit(&mut parts, l.clone()),
                                r => parts.push(r.clone()),
                            }
                        }
                        continue;
                    }
                    let text = match self.each_value(&field, span, each) {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    push_lit(&mut parts, text);
                }
                Piece::Ref(RefTarget::Resource { name, index, attr }) => {
                    let resource = match index {
                        None => name,
                        Some(Index::Literal(k)) => format!("{name}[{k}]"),
                        Some(Index::Var(v)) => match self.var(&v, span, vars) {
                            Value::String(k) => format!("{name}[{k}]"),
                            _ => {
                                self.err(
                                    "tandem::spec::each",
                                    span,
                                    format!("`var.{v}` is not a string, so it cannot pick an instance"),
                                    "not a key",
                                );
                                name
                            }
                        },
                        Some(Index::Each(field)) => match self.each_value(&field, span, each) {
                            Value::String(k) => format!("{name}[{k}]"),
                            _ => {
                                self.err(
                                    "tandem::spec::each",
                                    span,
                                    format!("`each.{field}` is not a string here, so it cannot pick an instance"),
                                    "not a key",
                                );
                                name
                            }
                        },
                    };
                    parts.push(Part::Ref { resource, attr });
                }
            }
        }
        match parts.as_slice() {
            [] => ExprKind::Literal(Value::String(String::new())),
            [Part::Lit(s)] => ExprKind::Literal(Value::String(s.clone())),
            _ => ExprKind::Interp(parts),
        }
    }

    fn var(&mut self, name: &str, span: Span, vars: &BTreeMap<String, Value>) -> Value {
        match vars.get(name) {
            Some(v) => v.clone(),
            None => {
                let help = match suggest(name, vars.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `${{var.{s}}}`?"),
                    None => "declare it under `variables:`".to_string(),
                };
                self.err("tandem::spec::unknown_variable", span, format!("unknown variable `{name}`"), "not declared").help = Some(help);
                Value::Null
            }
        }
    }

    /// Check a property mapping against its fields.
    fn check_object(&mut self, e: &Expr, fields: &[Field], kind: &KindSchema, res: &str, path: &str, top: bool) {
        let ExprKind::Map(m) = &e.kind else { return };
        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
        for (k, (ks, v)) in m {
            match fields.iter().find(|f| f.name == k) {
                None => {
                    let what = if path.is_empty() {
                        format!("the properties of `{res}` ({})", kind.type_name)
                    } else {
                        format!("`{path}` of `{res}`")
                    };
                    self.unknown_key(&what, k, *ks, &known);
                }
                Some(f) => {
                    let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    self.check_value(v, f, &f.ty, kind, res, &sub);
                }
            }
        }
        for f in fields.iter().filter(|f| f.required) {
            if top && kind.name_field == Some(f.name) {
                continue;
            }
            if !m.contains_key(f.name) {
                let at = if path.is_empty() { format!("`{res}`") } else { format!("`{path}` of `{res}`") };
                self.err(
                    "tandem::spec::missing_field",
                    e.span,
                    format!("{at} is missing the required field `{}`", f.name),
                    &format!("add `{}`", f.name),
                )
                .help = Some(format!(
                    "`{}` is {}{}",
                    f.name,
                    f.ty.describe(),
                    if f.doc.is_empty() { String::new() } else { format!(": {}", f.doc) }
                ));
            }
        }
    }

    fn check_value(&mut self, e: &Expr, f: &Field, ty: &Type, kind: &KindSchema, res: &str, path: &str) {
        // References are checked when they resolve; their text can't be judged now,
        // but where they point can.
        if let ExprKind::Interp(parts) = &e.kind {
            for p in parts {
                if let Part::Ref { resource, .. } = p {
                    if !f.refers_to.is_empty() {
                        self.typed_refs.push((resource.clone(), f.refers_to.clone(), path.to_string(), e.span, f.doc));
                    }
                    if f.carries_traffic {
                        self.links.push((res.to_string(), resource.clone()));
                    }
                }
            }
        }
        if matches!(e.kind, ExprKind::Interp(_)) {
            if matches!(ty, Type::List(_) | Type::Map(_) | Type::Object(_)) {
                if let ExprKind::Interp(parts) = &e.kind {
                    if parts.len() > 1 {
                        self.type_error(e, path, ty, "a string");
                    }
                }
            }
            return;
        }
        match (ty, &e.kind) {
            (Type::Any, _) => {}
            (_, ExprKind::Literal(Value::Null)) => {}
            (Type::Object(fields), ExprKind::Map(_)) => self.check_object(e, fields, kind, res, path, false),
            (Type::List(inner), ExprKind::List(items)) => {
                for (i, it) in items.iter().enumerate() {
                    self.check_value(it, f, inner, kind, res, &format!("{path}[{i}]"));
                }
            }
            (Type::List(inner), ExprKind::Literal(Value::Array(items))) => {
                for (i, it) in items.iter().enumerate() {
                    let sub = Expr::literal(it.clone(), e.span);
                    self.check_value(&sub, f, inner, kind, res, &format!("{path}[{i}]"));
                }
            }
            (Type::Map(inner), ExprKind::Map(m)) => {
                for (k, (_, v)) in m {
                    self.check_value(v, f, inner, kind, res, &format!("{path}.{k}"));
                }
            }
            (Type::Map(_) | Type::Object(_), ExprKind::Literal(Value::Object(_))) => {}
            (_, ExprKind::Literal(v)) if !matches!(ty, Type::List(_) | Type::Map(_) | Type::Object(_)) => {
                match tandem_schema::coerce(ty, v, path) {
                    Ok(cv) => self.run_checks(e, f, &cv, path, kind, res),
                    Err(_) => {
                        let found = describe_json(v);
                        self.type_error(e, path, ty, &found);
                    }
                }
            }
            (_, other) => {
                let found = match other {
                    ExprKind::List(_) => "a list".to_string(),
                    ExprKind::Map(_) => "a mapping".to_string(),
                    ExprKind::Literal(v) => describe_json(v),
                    ExprKind::Interp(_) => "a string".to_string(),
                };
                self.type_error(e, path, ty, &found);
            }
        }
    }

    fn type_error(&mut self, e: &Expr, path: &str, ty: &Type, found: &str) {
        let mut help = None;
        if let (Type::Enum(values), ExprKind::Literal(Value::String(s))) = (ty, &e.kind) {
            if let Some(sug) = suggest(s, values.iter().copied()) {
                help = Some(format!("did you mean `{sug}`?"));
            }
        }
        let p = self.err(
            "tandem::spec::type",
            e.span,
            format!("`{path}` must be {}, found {found}", ty.describe()),
            &format!("expected {}", ty.describe()),
        );
        p.help = help;
    }

    fn run_checks(&mut self, e: &Expr, f: &Field, v: &Value, path: &str, kind: &KindSchema, res: &str) {
        if let (true, Value::String(s)) = (f.checks.contains(&Check::DistinctNetwork), v) {
            if let Ok(net) = s.parse::<ipnet::Ipv4Net>() {
                self.networks.push((format!("{}.{path}", kind.type_name), net.trunc(), res.to_string(), e.span));
            }
        }
        if let (true, Some(asn)) = (f.checks.contains(&Check::DistinctAsn), v.as_i64()) {
            let cloud = kind.type_name.split('.').next().unwrap_or_default().to_string();
            self.asns.push((cloud, format!("{}.{path}", kind.type_name), asn, res.to_string(), e.span));
        }
        for c in &f.checks {
            let problem = match (c, v) {
                (Check::Ipv4Cidr, Value::String(s)) => match s.parse::<ipnet::Ipv4Net>() {
                    Ok(net) if net.network() == net.addr() => None,
                    Ok(net) => Some(format!("`{path}` = {s} has host bits set; the network is {}", net.trunc())),
                    Err(_) => Some(format!("`{path}` must be an IPv4 CIDR block such as 10.0.0.0/16, found {s:?}")),
                },
                (Check::Range(lo, hi), Value::Number(n)) => match n.as_i64() {
                    Some(i) if i >= *lo && i <= *hi => None,
                    _ => Some(format!("`{path}` must be between {lo} and {hi}, found {n}")),
                },
                (Check::E164, Value::String(s)) => {
                    let digits = s.strip_prefix('+').unwrap_or("");
                    let ok = (2..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
                    (!ok).then(|| format!("`{path}` must be an E.164 phone number such as +12065550100, found {s:?}"))
                }
                (Check::Length(lo, hi), Value::String(s)) => {
                    let n = s.chars().count();
                    (n < *lo || n > *hi).then(|| format!("`{path}` must be {lo} to {hi} characters long, found {n}"))
                }
                _ => None,
            };
            if let Some(msg) = problem {
                self.err("tandem::spec::value", e.span, msg, "invalid value");
            }
        }
    }

    fn check_references(&mut self, spec: &Spec) -> Vec<Problem> {
        let mut warnings = Vec::new();
        let names: Vec<&str> = spec.resources.keys().map(String::as_str).collect();
        let mut found: Vec<(String, String, Span, String)> = Vec::new();
        for (addr, r) in &spec.resources {
            r.properties.walk_refs(&mut |res, attr, span| found.push((res.into(), attr.into(), span, addr.clone())));
            for (d, span) in &r.depends_on {
                let instances = spec.resources.values().any(|o| o.base == *d && o.each_key.is_some());
                if !spec.resources.contains_key(d) && !instances {
                    let help = match suggest(d, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "depends_on names resources of this spec".into(),
                    };
                    self.err(
                        "tandem::spec::unknown_resource",
                        *span,
                        format!("`depends_on` names `{d}`, which is not a resource of this spec"),
                        "no such resource",
                    )
                    .help = Some(help);
                } else if d == addr || d == &r.base {
                    self.err("tandem::spec::cycle", *span, format!("`{addr}` depends on itself"), "self-dependency");
                }
            }
        }
        for (target, kinds, path, span, doc) in std::mem::take(&mut self.typed_refs) {
            if let Some(t) = spec.resources.get(&target) {
                if !kinds.contains(&t.type_name.as_str()) {
                    let p = self.err(
                        "tandem::spec::wrong_kind",
                        span,
                        format!(
                            "`{path}` refers to `{target}`, a {}, but it takes {}",
                            t.type_name,
                            kinds.iter().map(|k| format!("an {k}")).collect::<Vec<_>>().join(" or ")
                        ),
                        "wrong kind of resource",
                    );
                    if !doc.is_empty() {
                        p.help = Some(format!("`{path}`: {doc}"));
                    }
                }
            }
        }
        let nets = std::mem::take(&mut self.networks);
        // Networks must not overlap where traffic is routed between them: the
        // resources connected, directly or through others, by references in
        // fields that carry traffic (kinds say which). Elsewhere an overlap is
        // allowed, and worth a warning: connecting them later needs a renumbering.
        let routes = Routes::new(std::mem::take(&mut self.links));
        for (i, j) in overlapping_pairs(&nets) {
            let ((_, a, ra, _), (_, b, rb, sb)) = (&nets[i], &nets[j]);
            if ra == rb {
                continue;
            }
            match routes.path(ra, rb) {
                Some(path) => {
                    self.err(
                        "tandem::spec::overlap",
                        *sb,
                        format!("{b} (in `{rb}`) overlaps {a} (in `{ra}`), and the spec routes traffic between them ({}); networks that are routed together must not overlap", path.join(" -> ")),
                        "overlapping network",
                    )
                    .help = Some("give each network its own range, e.g. 10.0.0.0/16 and 10.1.0.0/16".into());
                }
                None => warnings.push(
                    Problem::new(
                        "tandem::spec::overlap_unconnected",
                        format!("{b} (in `{rb}`) overlaps {a} (in `{ra}`); nothing in the spec routes traffic between them, so this is allowed, but connecting them later (a VPN, Direct Connect, peering) would need one of them renumbered"),
                    )
                    .at(&self.src, *sb, "overlaps a network it is not connected to")
                    .help("give each network its own range now if they may ever be connected"),
                ),
            }
        }
        let asns = std::mem::take(&mut self.asns);
        for (i, (ca, fa, a, ra, _)) in asns.iter().enumerate() {
            for (cb, fb, b, rb, sb) in &asns[i + 1..] {
                if ca != cb && a == b {
                    self.err(
                        "tandem::spec::asn",
                        *sb,
                        format!("ASN {b} of `{rb}` ({fb}) is also the ASN of `{ra}` ({fa}); the two ends of a BGP session between clouds need different ASNs"),
                        "same ASN as the other cloud",
                    )
                    .help = Some("give each side its own private ASN, e.g. 65010 for the Cloud Router and 64512 for the virtual private gateway".into());
                }
            }
        }
        for o in spec.outputs.values() {
            o.value.walk_refs(&mut |res, attr, span| found.push((res.into(), attr.into(), span, String::new())));
        }
        for (res, attr, span, from) in found {
            let Some(target) = spec.resources.get(&res) else {
                let base = res.split('[').next().unwrap_or(&res);
                let keys: Vec<String> =
                    spec.resources.values().filter(|o| o.base == base && o.each_key.is_some()).filter_map(|o| o.each_key.clone()).collect();
                if !keys.is_empty() {
                    let msg = if res.contains('[') {
                        format!("`{res}` is not an instance of `{base}`; its `for_each` keys are {}", keys.join(", "))
                    } else {
                        format!(
                            "`{base}` has one instance per `for_each` key ({}); refer to one as `${{{base}[KEY].{attr}}}`",
                            keys.join(", ")
                        )
                    };
                    self.err("tandem::spec::unknown_resource", span, msg, "which instance?").help = Some(format!(
                        "for example `${{{base}[{}].{attr}}}`, or `${{{base}[each.key].{attr}}}` inside another for_each resource",
                        keys[0]
                    ));
                    continue;
                }
                let help = match suggest(&res, names.iter().copied()) {
                    Some(s) => format!("did you mean `${{{s}.{attr}}}`?"),
                    None => "references name a resource of this spec: `${RESOURCE.OUTPUT}`".into(),
                };
                self.err(
                    "tandem::spec::unknown_resource",
                    span,
                    format!("`${{{res}.{attr}}}` refers to `{res}`, which is not a resource of this spec"),
                    "no such resource",
                )
                .help = Some(help);
                continue;
            };
            if res == from {
                self.err("tandem::spec::cycle", span, format!("`{res}` refers to its own output `{attr}`"), "self-reference");
                continue;
            }
            let Some(kind) = self.kinds.iter().find(|k| k.type_name == target.type_name) else { continue };
            if attr != ID_OUTPUT && kind.output(&attr).is_none() {
                let mut outs: Vec<&str> = vec![ID_OUTPUT];
                outs.extend(kind.outputs.iter().map(|o| o.name));
                let help = match suggest(&attr, outs.iter().copied()) {
                    Some(s) => format!("did you mean `${{{res}.{s}}}`?"),
                    None => format!("{} outputs: {}", kind.type_name, outs.join(", ")),
                };
                self.err(
                    "tandem::spec::unknown_output",
                    span,
                    format!("`{res}` ({}) has no output `{attr}`", kind.type_name),
                    "no such output",
                )
                .help = Some(help);
            }
        }
        warnings
    }
}

/// The resources traffic is routed between, as an undirected graph over the
/// references in fields that carry traffic.
/// The pairs `(i, j)`, `i < j`, of networks that overlap, in the order of a
/// loop over every pair (so diagnostics keep their order). Two CIDR blocks
/// overlap only when one contains the other, so after sorting by (first
/// address, prefix length) the networks that contain the one at hand are
/// exactly those still open on a stack: O(n log n) plus one step per
/// overlapping pair, instead of comparing every pair (10,000 VPCs were 50
/// million comparisons).
fn overlapping_pairs(nets: &[(String, ipnet::Ipv4Net, String, Span)]) -> Vec<(usize, usize)> {
    let span = |i: usize| (u32::from(nets[i].1.network()), u32::from(nets[i].1.broadcast()));
    let mut order: Vec<usize> = (0..nets.len()).collect();
    order.sort_by_key(|&i| (span(i).0, nets[i].1.prefix_len(), i));
    let mut open: Vec<usize> = Vec::new();
    let mut pairs = Vec::new();
    for i in order {
        let (first, _) = span(i);
        while open.last().is_some_and(|&o| span(o).1 < first) {
            open.pop();
        }
        // Everything still open starts at or before `first` and ends at or
        // after it, so (being a CIDR block sorted before this one) contains it.
        pairs.extend(open.iter().map(|&o| (o.min(i), o.max(i))));
        open.push(i);
    }
    pairs.sort_unstable();
    pairs
}

struct Routes {
    next: BTreeMap<String, Vec<String>>,
}

impl Routes {
    fn new(links: Vec<(String, String)>) -> Self {
        let mut next: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (a, b) in links {
            next.entry(a.clone()).or_default().push(b.clone());
            next.entry(b).or_default().push(a);
        }
        for v in next.values_mut() {
            v.sort();
            v.dedup();
        }
        Routes { next }
    }

    /// The shortest chain of resources from `from` to `to`, both included.
    fn path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut back: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        back.insert(from, from);
        while let Some(at) = queue.pop_front() {
            if at == to {
                let mut path = vec![to.to_string()];
                let mut cur = to;
                while cur != from {
                    cur = back[cur];
                    path.push(cur.to_string());
                }
                path.reverse();
                return Some(path);
            }
            for n in self.next.get(at).into_iter().flatten() {
                if !back.contains_key(n.as_str()) {
                    back.insert(n, at);
                    queue.push_back(n);
                }
            }
        }
        None
    }
}

fn push_lit(parts: &mut Vec<Part>, l: String) {
    if let Some(Part::Lit(prev)) = parts.last_mut() {
        prev.push_str(&l);
    } else {
        parts.push(Part::Lit(l));
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

fn json_var_type(v: &Value) -> VarType {
    match v {
        Value::Number(_) => VarType::Number,
        Value::Bool(_) => VarType::Bool,
        Value::Array(_) => VarType::List,
        Value::Object(_) => VarType::Map,
        _ => VarType::String,
    }
}

/// Bring an outside value (strings from flags and the environment, typed
/// values from var files and defaults) to the variable's declared type.
fn convert_var(ty: VarType, v: &Value) -> Option<Value> {
    match (ty, v) {
        (VarType::String, Value::String(_)) => Some(v.clone()),
        (VarType::String, Value::Number(n)) => Some(Value::String(n.to_string())),
        (VarType::String, Value::Bool(b)) => Some(Value::String(b.to_string())),
        (VarType::Number, Value::Number(_)) => Some(v.clone()),
        (VarType::Number, Value::String(s)) => {
            if let Ok(i) = s.trim().parse::<i64>() {
                Some(Value::from(i))
            } else {
                s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
            }
        }
        (VarType::Bool, Value::Bool(_)) => Some(v.clone()),
        (VarType::Bool, Value::String(s)) => match s.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        (VarType::List, Value::Array(_)) | (VarType::Map, Value::Object(_)) => Some(v.clone()),
        // `--var regions='[us-east-1, us-west-2]'`: a flag's text is read as YAML.
        (VarType::List | VarType::Map, Value::String(s)) => {
            let n = yaml::parse(s).ok()?;
            convert_var(ty, &node_to_json(&n)).filter(|c| !c.is_string())
        }
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_pairs_are_those_of_every_pair_compared() {
        // Nested, equal, adjacent and disjoint blocks, in no order.
        let cidrs = [
            "10.0.0.0/16",
            "10.0.1.0/24",
            "10.1.0.0/16",
            "10.0.0.0/8",
            "10.0.1.0/24",
            "10.0.1.128/25",
            "10.0.2.0/24",
            "192.168.0.0/24",
            "10.0.255.0/24",
            "10.1.0.0/16",
            "0.0.0.0/0",
            "172.16.0.0/12",
            "10.0.1.0/26",
        ];
        let nets: Vec<_> = cidrs
            .iter()
            .enumerate()
            .map(|(i, c)| (String::new(), c.parse::<ipnet::Ipv4Net>().unwrap().trunc(), format!("r{i}"), Span::default()))
            .collect();
        let mut every = Vec::new();
        for (i, (_, a, _, _)) in nets.iter().enumerate() {
            for (j, (_, b, _, _)) in nets.iter().enumerate().skip(i + 1) {
                if a.contains(&b.network()) || b.contains(&a.network()) {
                    every.push((i, j));
                }
            }
        }
        assert_eq!(overlapping_pairs(&nets), every);
    }
}
