//! Readers for the members of a JSON request body (awsJson, restJson1, or
//! RPC v2 CBOR decoded to JSON). Absent and null are the same (Smithy: a
//! null member is an absent member); a member of another type is a
//! [`WrongType`], which each service words in its own error.

use serde_json::Value;

/// A member holding another JSON type than its shape's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WrongType {
    pub member: String,
    /// What the shape wants, as a message says it: "a string", "an integer".
    pub want: &'static str,
    pub found: Value,
}

fn present<'a>(input: &'a Value, member: &str) -> Option<&'a Value> {
    input.get(member).filter(|v| !v.is_null())
}

fn wrong(member: &str, want: &'static str, found: &Value) -> WrongType {
    WrongType { member: member.to_string(), want, found: found.clone() }
}

pub(crate) fn opt_str<'a>(input: &'a Value, member: &str) -> Result<Option<&'a str>, WrongType> {
    match present(input, member) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong(member, "a string", other)),
    }
}

pub(crate) fn opt_int(input: &Value, member: &str) -> Result<Option<i64>, WrongType> {
    match present(input, member) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong(member, "an integer", v)),
    }
}

pub(crate) fn opt_f64(input: &Value, member: &str) -> Result<Option<f64>, WrongType> {
    match present(input, member) {
        None => Ok(None),
        Some(v) => as_f64(v).map(Some).ok_or_else(|| wrong(member, "a number", v)),
    }
}

/// A double: a number, or Smithy's "NaN" / "Infinity" / "-Infinity".
pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    match v.as_str() {
        Some("NaN") => Some(f64::NAN),
        Some("Infinity") => Some(f64::INFINITY),
        Some("-Infinity") => Some(f64::NEG_INFINITY),
        _ => v.as_f64(),
    }
}

/// A list member; absent is empty.
pub(crate) fn list<'a>(input: &'a Value, member: &str) -> Result<&'a [Value], WrongType> {
    match present(input, member) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(wrong(member, "a list", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_and_null_are_none_and_other_types_are_named() {
        let v = json!({"s": "x", "n": 3, "f": "NaN", "l": [1], "z": null});
        assert_eq!(opt_str(&v, "s"), Ok(Some("x")));
        assert_eq!(opt_str(&v, "z"), Ok(None));
        assert_eq!(opt_str(&v, "missing"), Ok(None));
        assert_eq!(opt_str(&v, "n"), Err(WrongType { member: "n".into(), want: "a string", found: json!(3) }));
        assert_eq!(opt_int(&v, "n"), Ok(Some(3)));
        assert_eq!(opt_int(&v, "s").map_err(|w| w.want), Err("an integer"));
        assert!(opt_f64(&v, "f").is_ok_and(|f| f.is_some_and(f64::is_nan)));
        assert_eq!(list(&v, "l").map(<[Value]>::len), Ok(1));
        assert_eq!(list(&v, "z").map(<[Value]>::len), Ok(0));
        assert_eq!(list(&v, "s").map_err(|w| w.want), Err("a list"));
    }
}
