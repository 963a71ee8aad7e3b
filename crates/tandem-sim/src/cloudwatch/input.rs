//! Input readers and validators shared by the operations: members by name,
//! with the API Reference's constraints and error messages.

use super::*;

pub(super) fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

pub(super) fn opt_str<'a>(input: &'a Value, member: &str) -> Result<Option<&'a str>, CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(err(400, "SerializationException", format!("{member} must be a string, not {other}"))),
    }
}
pub(super) fn opt_int(input: &Value, member: &str) -> Result<Option<i64>, CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| err(400, "SerializationException", format!("{member} must be an integer"))),
    }
}
pub(super) fn opt_f64(input: &Value, member: &str) -> Result<Option<f64>, CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_f64(v).map(Some).ok_or_else(|| err(400, "SerializationException", format!("{member} must be a number"))),
    }
}
/// A double: a number, or Smithy's "NaN" / "Infinity" / "-Infinity".
pub(super) fn as_f64(v: &Value) -> Option<f64> {
    match v.as_str() {
        Some("NaN") => Some(f64::NAN),
        Some("Infinity") => Some(f64::INFINITY),
        Some("-Infinity") => Some(f64::NEG_INFINITY),
        _ => v.as_f64(),
    }
}
pub(super) fn list<'a>(input: &'a Value, member: &str) -> Result<&'a [Value], CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(err(400, "SerializationException", format!("{member} must be a list"))),
    }
}
pub(super) fn str_list(input: &Value, member: &str) -> Result<Vec<String>, CwError> {
    list(input, member)?
        .iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| err(400, "SerializationException", format!("{member} must be a list of strings")))
        })
        .collect()
}
pub(super) fn length(member: &str, s: &str, min: usize, max: usize) -> Result<(), CwError> {
    let n = s.chars().count();
    if n < min {
        return Err(constraint(member, s, &format!("Member must have length greater than or equal to {min}")));
    }
    if n > max {
        return Err(constraint(member, s, &format!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}
pub(super) fn one_of(member: &str, s: &str, allowed: &[&str]) -> Result<(), CwError> {
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(constraint(member, s, &format!("Member must satisfy enum value set: [{}]", allowed.join(", "))))
    }
}

/// Dimensions: at most 30, names 1-255, values 1-1024, no name twice.
/// Returns them sorted by name (CloudWatch identifies a metric by the set).
pub(super) fn dimensions(v: &Value, member: &str) -> Result<Vec<(String, String)>, CwError> {
    let dims = list(v, "Dimensions")?;
    if dims.len() > 30 {
        return Err(validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to 30")));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for d in dims {
        let name = opt_str(d, "Name")?.ok_or_else(|| required(&format!("{member}.member.name")))?;
        let value = opt_str(d, "Value")?.ok_or_else(|| required(&format!("{member}.member.value")))?;
        length(&format!("{member}.member.name"), name, 1, 255)?;
        length(&format!("{member}.member.value"), value, 1, 1024)?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(invalid_value(format!("The dimension {name} is specified more than once.")));
        }
        out.push((name.to_string(), value.to_string()));
    }
    out.sort();
    Ok(out)
}

pub(super) fn dims_cbor(dims: &[(String, String)]) -> Cbor {
    Cbor::Array(dims.iter().map(|(n, v)| map(vec![("Name", text(n)), ("Value", text(v))])).collect())
}

/// `p99`, `p99.9`, `p0.0`..`p100` (the percentiles tandem uses; trimmed
/// means and other extended statistics are not emulated).
pub(super) fn percentile(stat: &str) -> Option<f64> {
    let n = stat.strip_prefix('p')?;
    if n.is_empty()
        || !n.chars().all(|c| c.is_ascii_digit() || c == '.')
        || n.starts_with('.')
        || n.ends_with('.')
        || n.matches('.').count() > 1
    {
        return None;
    }
    let p: f64 = n.parse().ok()?;
    (0.0..=100.0).contains(&p).then_some(p)
}

/// Alarm and metric periods: 1, 5, 10, 20, 30 (high resolution) or a multiple of 60.
pub(super) fn valid_period(p: i64, alarm: bool) -> bool {
    if p >= 60 {
        return p % 60 == 0;
    }
    if alarm {
        matches!(p, 10 | 20 | 30)
    } else {
        matches!(p, 1 | 5 | 10 | 20 | 30)
    }
}
