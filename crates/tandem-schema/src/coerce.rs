//! Bringing evaluated values to their declared types.
//!
//! References and variables are substituted as text, so `${var.shards}`
//! arrives as the string "2" where the kind wants an integer; coercion turns
//! such strings into the declared scalar, and rejects what cannot be.

use crate::Type;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct CoerceError {
    /// Dotted path inside the properties (`key_schema[0].key_type`).
    pub path: String,
    pub expected: String,
    pub found: String,
}

impl std::fmt::Display for CoerceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {}, found {}", self.path, self.expected, self.found)
    }
}

impl std::error::Error for CoerceError {}

fn found(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// Coerce `value` to `ty`; `path` names the value in errors.
pub fn coerce(ty: &Type, value: &Value, path: &str) -> Result<Value, CoerceError> {
    let err = || CoerceError { path: path.to_string(), expected: ty.describe(), found: found(value) };
    Ok(match (ty, value) {
        (_, Value::Null) => Value::Null,
        (Type::Any, v) => v.clone(),
        (Type::String, Value::String(_)) => value.clone(),
        // Numbers and booleans written where a string is expected are what
        // the user meant (YAML reads `Name: 2024` as a number).
        (Type::String, Value::Number(n)) => Value::String(n.to_string()),
        (Type::String, Value::Bool(b)) => Value::String(b.to_string()),
        (Type::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => value.clone(),
        (Type::Integer, Value::String(s)) => s.trim().parse::<i64>().map(Value::from).map_err(|_| err())?,
        (Type::Number, Value::Number(_)) => value.clone(),
        (Type::Number, Value::String(s)) => {
            s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).ok_or_else(err)?
        }
        (Type::Boolean, Value::Bool(_)) => value.clone(),
        (Type::Boolean, Value::String(s)) => match s.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(err()),
        },
        (Type::Enum(allowed), Value::String(s)) if allowed.iter().any(|a| a == s) => value.clone(),
        (Type::Enum(_), Value::String(_)) => return Err(err()),
        (Type::List(inner), Value::Array(items)) => {
            Value::Array(items.iter().enumerate().map(|(i, v)| coerce(inner, v, &format!("{path}[{i}]"))).collect::<Result<_, _>>()?)
        }
        (Type::Map(inner), Value::Object(m)) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), coerce(inner, v, &join(path, k))?);
            }
            Value::Object(out)
        }
        (Type::Object(fields), Value::Object(m)) => {
            let mut out = Map::new();
            for (k, v) in m {
                let sub = join(path, k);
                match fields.iter().find(|f| f.name == k) {
                    Some(f) => {
                        out.insert(k.clone(), coerce(&f.ty, v, &sub)?);
                    }
                    None => return Err(CoerceError { path: sub, expected: "a known field".into(), found: "an unknown field".into() }),
                }
            }
            Value::Object(out)
        }
        _ => return Err(err()),
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Field;
    use serde_json::json;

    #[test]
    fn strings_from_substitution_become_scalars() {
        let t = Type::Object(vec![
            Field::new("shard_count", Type::Integer),
            Field::new("enabled", Type::Boolean),
            Field::new("tags", Type::map(Type::String)),
        ]);
        let v = coerce(&t, &json!({"shard_count": "2", "enabled": "true", "tags": {"Year": 2024}}), "").unwrap();
        assert_eq!(v, json!({"shard_count": 2, "enabled": true, "tags": {"Year": "2024"}}));
    }

    #[test]
    fn rejects_with_path() {
        let t = Type::Object(vec![Field::new(
            "key_schema",
            Type::list(Type::Object(vec![Field::new("key_type", Type::enumeration(&["HASH", "RANGE"]))])),
        )]);
        let e = coerce(&t, &json!({"key_schema": [{"key_type": "HAHS"}]}), "").unwrap_err();
        assert_eq!(e.path, "key_schema[0].key_type");
        assert_eq!(e.expected, "one of HASH, RANGE");
    }
}
