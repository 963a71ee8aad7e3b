//! Variables: declarations, values from --var / TANDEM_VAR_*, defaults, and their types.

use super::*;
use crate::diag::Code;

pub(super) fn json_var_type(v: &Value) -> VarType {
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
pub(super) fn convert_var(ty: VarType, v: &Value) -> Option<Value> {
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
            let parsed = node_to_json(&yaml::parse(s).ok()?);
            // Text that reads as a plain string is no list or map: parsing it again would recurse forever.
            if parsed.is_string() {
                return None;
            }
            convert_var(ty, &parsed)
        }
        _ => None,
    }
}

impl Loader<'_> {
    pub(super) fn variables(&mut self, node: Option<&Node>, inputs: &VarInputs) -> IndexMap<String, Variable> {
        let mut vars = IndexMap::new();
        let Some(node) = node else {
            for (name, _) in &inputs.cli {
                self.problems.push(
                    Problem::new(Code::SpecUndeclaredVariable, format!("`--var {name}=...` sets a variable the spec does not declare"))
                        .help("declare it under `variables:` or drop the flag"),
                );
            }
            return vars;
        };
        let Some(m) = node.as_map() else {
            if !node.is_null() {
                self.err(Code::SpecShape, node.span, "`variables` must be a mapping", "expected a mapping");
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
                                    Code::SpecUndeclaredVariable,
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
                    None => self.problems.push(Problem::new(Code::SpecVarFile, "a var file is a mapping of variable names to values").at(
                        &fsrc,
                        root.span,
                        "expected a mapping",
                    )),
                },
                Err(e) => self
                    .problems
                    .push(Problem::new(Code::SpecYaml, format!("the var file is not valid YAML: {}", e.message)).at(&fsrc, e.span, "here")),
            }
        }
        for (name, _) in &inputs.cli {
            if !m.contains_key(name) {
                let known: Vec<&str> = m.keys().map(String::as_str).collect();
                let p = Problem::new(Code::SpecUndeclaredVariable, format!("`--var {name}=...` sets a variable the spec does not declare"));
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
                                    self.err(Code::SpecVariableType, v.span, "unknown variable type", "not a type").help =
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
                    self.err(Code::SpecVariableUnset, *kspan, format!("variable `{name}` has no value"), "declared without a default")
                        .help = Some(format!("set it with `--var {name}=...`, a `--var-file`, or TANDEM_VAR_{name}, or give it a default"));
                    Value::Null
                }
                Some((v, from)) => match convert_var(ty, &v) {
                    Some(v) => v,
                    None => {
                        let span = default.as_ref().filter(|_| from == "the default").map(|(_, s)| *s).unwrap_or(*kspan);
                        self.err(
                            Code::SpecVariableValue,
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
}
