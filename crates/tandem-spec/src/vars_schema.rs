//! A JSON Schema for a spec's var files, made from its `variables:`: each
//! declared variable with its type and description, nothing else allowed
//! (tandem refuses a var file that sets an undeclared variable). Nothing is
//! required: a value may come from `--var` or TANDEM_VAR_ instead; the
//! descriptions say which have no default. Editors check a var file against
//! it through a `# yaml-language-server: $schema=...` line.

use crate::yaml::{self, NodeKind, Scalar, YamlError};
use serde_json::{json, Map, Value};

pub fn vars_schema(spec_text: &str, title: &str) -> Result<Value, YamlError> {
    let root = yaml::parse(spec_text)?;
    let mut properties = Map::new();
    if let Some((_, vars)) = root.as_map().and_then(|m| m.get("variables")) {
        for (name, (_, decl)) in vars.as_map().into_iter().flatten() {
            let mut prop = Map::new();
            match decl.as_map() {
                Some(d) => {
                    let ty = d.get("type").and_then(|(_, t)| t.as_str()).unwrap_or("string");
                    prop.insert("type".into(), json!(json_type(ty)));
                    let desc = d.get("description").and_then(|(_, t)| t.as_str()).unwrap_or("");
                    let desc = if d.contains_key("default") {
                        desc.to_string()
                    } else {
                        format!("{desc} (no default: set it here, with --var or TANDEM_VAR_{name})").trim().to_string()
                    };
                    if !desc.is_empty() {
                        prop.insert("description".into(), json!(desc));
                    }
                }
                // Shorthand `name: value`: typed by its value, which is the default.
                None => {
                    let ty = match &decl.kind {
                        NodeKind::Scalar(Scalar::Int(_) | Scalar::Float(_)) => "number",
                        NodeKind::Scalar(Scalar::Bool(_)) => "bool",
                        NodeKind::Seq(_) => "list",
                        NodeKind::Map(_) => "map",
                        NodeKind::Scalar(Scalar::Null | Scalar::Str(_)) => "string",
                    };
                    prop.insert("type".into(), json!(json_type(ty)));
                }
            }
            properties.insert(name.clone(), Value::Object(prop));
        }
    }
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("variables of {title}"),
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    }))
}

fn json_type(ty: &str) -> &'static str {
    match ty {
        "number" => "number",
        "bool" => "boolean",
        "list" => "array",
        "map" => "object",
        _ => "string",
    }
}
