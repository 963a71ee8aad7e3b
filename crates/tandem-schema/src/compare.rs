//! Whether a value the cloud reports satisfies the one a spec asks for, by
//! what each field means: unordered lists as sets, documents by meaning,
//! ids and the ARNs ending in them as one.

use crate::{Field, Type};
use serde_json::Value;

/// Does the current value of `field` satisfy the desired one?
pub fn matches_field(field: &Field, desired: &Value, current: &Value) -> bool {
    match (&field.ty, desired, current) {
        (_, Value::String(d), Value::String(c)) if field.arn_or_id && d.starts_with("arn:") != c.starts_with("arn:") => {
            let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
            last(d) == last(c)
        }
        (Type::List(inner), Value::Array(d), Value::Array(c)) if field.unordered => {
            // Each desired element pairs with a distinct current one.
            let mut used = vec![false; c.len()];
            d.len() == c.len()
                && d.iter().all(|dv| match c.iter().enumerate().position(|(i, cv)| !used[i] && matches(inner, dv, cv)) {
                    Some(i) => {
                        used[i] = true;
                        true
                    }
                    None => false,
                })
        }
        _ => matches(&field.ty, desired, current),
    }
}

/// Does the current value satisfy the desired one?
pub fn matches(ty: &Type, desired: &Value, current: &Value) -> bool {
    match (ty, desired, current) {
        (Type::Object(fields), Value::Object(d), Value::Object(c)) => d.iter().all(|(k, dv)| {
            if dv.is_null() {
                return true;
            }
            let field = fields.iter().find(|f| f.name == k);
            match (c.get(k), field) {
                (Some(cv), Some(f)) => matches_field(f, dv, cv),
                (Some(cv), None) => dv == cv,
                (None, f) => f.is_some_and(|f| f.computed),
            }
        }),
        (Type::List(inner), Value::Array(d), Value::Array(c)) => d.len() == c.len() && d.iter().zip(c).all(|(a, b)| matches(inner, a, b)),
        (Type::Number, Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        // Documents (flow content, policies) compare by meaning: a JSON text
        // equals the same document reformatted, or written as YAML.
        (Type::Any, d, c) if d.is_string() || c.is_string() => as_document(d) == as_document(c),
        _ => desired == current,
    }
}

fn as_document(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        _ => v.clone(),
    }
}
