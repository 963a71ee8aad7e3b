//! CBOR <-> JSON: the Smithy RPC v2 CBOR codec (inputs decoded to JSON, outputs
//! built as CBOR values, timestamps as tag 1 epoch seconds).

use super::*;
pub use crate::support::cbor::encode;

/// A request body as JSON: tag 1 timestamps become epoch seconds, byte
/// strings become lists of numbers (no operation served here has blobs).
pub fn cbor_to_json(v: &Cbor) -> Value {
    match v {
        Cbor::Integer(i) => {
            let i: i128 = (*i).into();
            if let Ok(n) = i64::try_from(i) {
                Value::from(n)
            } else if let Ok(n) = u64::try_from(i) {
                Value::from(n)
            } else {
                Value::from(i as f64)
            }
        }
        // Smithy's JSON spelling of the non-finite doubles.
        Cbor::Float(f) if f.is_nan() => Value::String("NaN".into()),
        Cbor::Float(f) if f.is_infinite() => Value::String(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()),
        Cbor::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        Cbor::Text(s) => Value::String(s.clone()),
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Null => Value::Null,
        Cbor::Bytes(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Cbor::Tag(_, inner) => cbor_to_json(inner),
        Cbor::Array(a) => Value::Array(a.iter().map(cbor_to_json).collect()),
        Cbor::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Cbor::Text(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                // Smithy: a null member is an absent member.
                if !v.is_null() {
                    out.insert(key, cbor_to_json(v));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

/// Decodes a request body: empty = empty input; otherwise it must be a CBOR map.
pub fn decode_input(body: &[u8]) -> Result<Value, CwError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let v: Cbor =
        ciborium::de::from_reader(body).map_err(|e| err(400, "SerializationException", format!("request body is not CBOR: {e}")))?;
    match cbor_to_json(&v) {
        Value::Object(m) => Ok(Value::Object(m)),
        _ => Err(err(400, "SerializationException", "request body must be a CBOR map")),
    }
}

pub(super) fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_string())
}
/// A timestamp: tag 1, epoch seconds (float, millisecond precision).
pub(super) fn ts(secs: f64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Float((secs * 1000.0).floor() / 1000.0)))
}
pub(super) fn map(entries: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}
pub(super) fn int(n: i64) -> Cbor {
    Cbor::Integer(n.into())
}

/// Generic JSON -> CBOR (stored inputs echoed back: Dimensions, Metrics, actions).
pub(super) fn json_to_cbor(v: &Value) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => int(i),
            (_, Some(u)) => Cbor::Integer(u.into()),
            _ => Cbor::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => text(s),
        Value::Array(a) => Cbor::Array(a.iter().map(json_to_cbor).collect()),
        Value::Object(o) => Cbor::Map(o.iter().map(|(k, v)| (text(k), json_to_cbor(v))).collect()),
    }
}
