//! Readers for the fields of a request body, with GCP's `required` and
//! `invalid` errors naming `resource.{field}`.

use super::error::GcpError;
use serde_json::{json, Map, Value};

/// An integer sent as a JSON number or (int64/uint64 in proto JSON) a string.
pub(super) fn num(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

pub(super) fn present<'a>(m: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    m.get(field).filter(|v| !v.is_null())
}

pub(super) fn required<'a>(m: &'a Map<String, Value>, field: &str) -> Result<&'a Value, GcpError> {
    present(m, field).ok_or_else(|| GcpError::new(400, "required", format!("Required field 'resource.{field}' not specified")))
}

pub(super) fn required_str(m: &Map<String, Value>, field: &str) -> Result<String, GcpError> {
    match required(m, field)? {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::String(_) => Err(GcpError::new(400, "required", format!("Required field 'resource.{field}' not specified"))),
        other => Err(GcpError::invalid(format!("Invalid value for field 'resource.{field}': {other}. Must be a string"))),
    }
}

/// An integer field: `default` when absent, else it must lie in `range`.
pub(super) fn int_field(
    m: &mut Map<String, Value>,
    field: &str,
    default: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, GcpError> {
    let v = match present(m, field) {
        None => default,
        Some(v) => Some(num(Some(v)).filter(|n| range.contains(n)).ok_or_else(|| {
            GcpError::invalid(format!(
                "Invalid value for field 'resource.{field}': {v}. Must be between {} and {}",
                range.start(),
                range.end()
            ))
        })?),
    };
    if let Some(n) = v {
        m.insert(field.into(), json!(n));
    }
    Ok(v)
}

/// An enum field: `default` when absent, else one of `values`.
pub(super) fn enum_field(
    m: &mut Map<String, Value>,
    field: &str,
    default: Option<&str>,
    values: &[&str],
) -> Result<Option<String>, GcpError> {
    let v = match present(m, field) {
        None => default.map(str::to_string),
        Some(Value::String(s)) if values.contains(&s.as_str()) => Some(s.clone()),
        Some(other) => {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.{field}': {other}. Must be one of [{}]",
                values.join(", ")
            )))
        }
    };
    if let Some(s) = &v {
        m.insert(field.into(), json!(s));
    }
    Ok(v)
}

pub(super) fn bool_field(m: &mut Map<String, Value>, field: &str, default: bool) -> Result<bool, GcpError> {
    let v = match present(m, field) {
        None => default,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(GcpError::invalid(format!("Invalid value for field 'resource.{field}': {other}. Must be a boolean"))),
    };
    m.insert(field.into(), json!(v));
    Ok(v)
}
