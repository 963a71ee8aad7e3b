//! The typed spec: what a YAML file declares, after variables are bound.

use crate::diag::SourceFile;
use crate::yaml::Span;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Spec {
    pub source: Arc<SourceFile>,
    pub version: u64,
    pub name: String,
    pub variables: IndexMap<String, Variable>,
    pub resources: IndexMap<String, Resource>,
    pub outputs: IndexMap<String, OutputSpec>,
    /// What is allowed but likely a mistake (overlapping networks nothing
    /// connects yet): shown, never fatal.
    pub warnings: Vec<crate::diag::Problem>,
    /// Where the state is kept (`backend:`); the local file when absent.
    pub backend: Option<crate::backend::BackendSpec>,
    /// Renames (`moved:`): the state's `from` is now the spec's `to`.
    pub moved: Vec<Moved>,
}

/// `moved: { from: old_name, to: new_name }`: a refactor, not a replacement.
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Bool,
    List,
    Map,
}

impl VarType {
    pub fn parse(s: &str) -> Option<VarType> {
        Some(match s {
            "string" => VarType::String,
            "number" => VarType::Number,
            "bool" => VarType::Bool,
            "list" => VarType::List,
            "map" => VarType::Map,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::List => "list",
            VarType::Map => "map",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub ty: VarType,
    pub description: Option<String>,
    pub sensitive: bool,
    /// The bound value: default, environment, var file or `--var`.
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Resource {
    /// `key`, or `key[each]` for an instance of a `for_each` resource.
    pub address: String,
    /// The key in `resources:`.
    pub base: String,
    /// The `for_each` key of this instance.
    pub each_key: Option<String>,
    pub type_name: String,
    pub type_span: Span,
    /// The key's span: where "this resource" errors point.
    pub span: Span,
    pub region: Option<String>,
    pub properties: Expr,
    pub depends_on: Vec<(String, Span)>,
    pub prevent_destroy: bool,
    /// The deployment stage this resource belongs to (`stage:`), if any.
    pub stage: Option<String>,
    /// Top-level properties whose value comes from a `sensitive: true`
    /// variable: redacted in plans and encrypted in state like a field the
    /// kind marks sensitive.
    pub sensitive: BTreeSet<String>,
    /// Files this resource names that could not be read: a warning at
    /// validate, an error when a plan includes the resource.
    pub unreadable: Vec<crate::diag::Problem>,
}

impl Resource {
    /// The resources this one needs, from references and `depends_on`.
    pub fn dependencies(&self) -> BTreeSet<String> {
        let mut deps: BTreeSet<String> = self.properties.resource_refs().into_iter().map(|(n, _)| n).collect();
        deps.extend(self.depends_on.iter().map(|(d, _)| d.clone()));
        deps
    }
}

#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub span: Span,
}

/// A property value after variables are bound: literal JSON, or text with
/// references to other resources' outputs that resolve at apply time.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Value),
    /// Text with at least one resource reference. A lone reference keeps the
    /// referenced value's type.
    Interp(Vec<Part>),
    List(Vec<Expr>),
    Map(IndexMap<String, (Span, Expr)>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    Ref { resource: String, attr: String },
}

/// What evaluating an expression gave: a value, and the dotted paths inside
/// it whose values are not known yet (they wait on resources not yet made).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluated {
    pub value: Value,
    pub unknown: BTreeSet<String>,
}

impl Evaluated {
    pub fn is_known(&self) -> bool {
        self.unknown.is_empty()
    }
}

impl Expr {
    pub fn literal(v: Value, span: Span) -> Expr {
        Expr { span, kind: ExprKind::Literal(v) }
    }

    /// Every (resource, attribute) this expression refers to, with the span of the string that does.
    pub fn resource_refs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.walk_refs(&mut |r, a, _| out.push((r.to_string(), a.to_string())));
        out
    }

    pub fn walk_refs(&self, f: &mut dyn FnMut(&str, &str, Span)) {
        match &self.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Interp(parts) => {
                for p in parts {
                    if let Part::Ref { resource, attr } = p {
                        f(resource, attr, self.span);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| e.walk_refs(f)),
            ExprKind::Map(m) => m.values().for_each(|(_, e)| e.walk_refs(f)),
        }
    }

    /// Evaluate with `lookup` giving the value of `${resource.attr}`, or
    /// `None` when it is not known yet.
    pub fn eval(&self, lookup: &dyn Fn(&str, &str) -> Option<Value>) -> Evaluated {
        let mut unknown = BTreeSet::new();
        let value = self.eval_at("", lookup, &mut unknown);
        Evaluated { value, unknown }
    }

    fn eval_at(&self, path: &str, lookup: &dyn Fn(&str, &str) -> Option<Value>, unknown: &mut BTreeSet<String>) -> Value {
        match &self.kind {
            ExprKind::Literal(v) => v.clone(),
            ExprKind::Interp(parts) => {
                if let [Part::Ref { resource, attr }] = parts.as_slice() {
                    return match lookup(resource, attr) {
                        Some(v) => v,
                        None => {
                            unknown.insert(path.to_string());
                            Value::Null
                        }
                    };
                }
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Lit(l) => s.push_str(l),
                        Part::Ref { resource, attr } => match lookup(resource, attr) {
                            Some(Value::String(v)) => s.push_str(&v),
                            Some(v) => s.push_str(&v.to_string()),
                            None => {
                                unknown.insert(path.to_string());
                                return Value::Null;
                            }
                        },
                    }
                }
                Value::String(s)
            }
            ExprKind::List(items) => {
                Value::Array(items.iter().enumerate().map(|(i, e)| e.eval_at(&format!("{path}[{i}]"), lookup, unknown)).collect())
            }
            ExprKind::Map(m) => {
                let mut out = Map::new();
                for (k, (_, e)) in m {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    out.insert(k.clone(), e.eval_at(&p, lookup, unknown));
                }
                Value::Object(out)
            }
        }
    }

    /// The span of the value at a top-level map key, for pointing errors at it.
    pub fn span_of(&self, key: &str) -> Option<Span> {
        match &self.kind {
            ExprKind::Map(m) => m.get(key).map(|(_, e)| e.span),
            _ => None,
        }
    }
}
