//! Input readers and validators shared by the operations: members by name,
//! with the API Reference's constraints and error messages.

use super::*;
use crate::support::input::WrongType;
pub(super) use crate::support::input::{as_f64, list, opt_f64, opt_int, opt_str};
pub(super) use crate::support::time::epoch_secs as now_secs;

/// A member of the wrong type: `SerializationException`, as the protocol
/// reports what it cannot deserialize.
impl From<WrongType> for CwError {
    fn from(w: WrongType) -> Self {
        let WrongType { member, want, found } = w;
        let message = match want {
            "a string" => format!("{member} must be a string, not {found}"),
            _ => format!("{member} must be {want}"),
        };
        err(400, "SerializationException", message)
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
