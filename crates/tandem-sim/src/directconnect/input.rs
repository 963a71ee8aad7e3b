//! Input readers shared by the operations, ids and address checks.

use super::*;
use crate::support::input::WrongType;

/// Every client error of Direct Connect is `DirectConnectClientException`.
fn wrong_type(w: WrongType) -> ApiError {
    client_err(format!("{} must be {}", w.member, w.want))
}

pub(super) fn opt_str<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    crate::support::input::opt_str(input, key).map_err(wrong_type)
}

pub(super) fn req_str<'a>(input: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    match opt_str(input, key)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(client_err(format!("{key} is required"))),
    }
}

pub(super) fn opt_int(input: &Value, key: &str) -> Result<Option<i64>, ApiError> {
    crate::support::input::opt_int(input, key).map_err(wrong_type)
}

pub(super) fn tags_of(input: &Value) -> Result<Value, ApiError> {
    match input.get("tags") {
        None | Some(Value::Null) => Ok(json!([])),
        Some(Value::Array(items)) => {
            let mut seen = Vec::new();
            for t in items {
                let key = t.get("key").and_then(Value::as_str).ok_or_else(|| client_err("tag key is required"))?;
                if seen.contains(&key) {
                    return Err(ApiError::new(400, "DuplicateTagKeysException", format!("duplicate tag key {key}")));
                }
                seen.push(key);
            }
            Ok(Value::Array(items.clone()))
        }
        Some(_) => Err(client_err("tags must be a list")),
    }
}

pub(super) fn random_alnum(len: usize, lower_only: bool) -> String {
    pub(super) const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    pub(super) const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let set = if lower_only { LOWER } else { MIXED };
    let mut rng = rand::rng();
    (0..len).map(|_| set[rng.random_range(0..set.len())] as char).collect()
}

pub(super) fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_alnum(8, true))
}

/// "a.b.c.d/n" (IPv4 CIDR) or an IPv6 CIDR; only the shape is checked.
pub(super) fn valid_cidr(s: &str, family: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else { return false };
    let Ok(len) = len.parse::<u8>() else { return false };
    match family {
        "ipv4" => len <= 32 && addr.parse::<std::net::Ipv4Addr>().is_ok(),
        _ => len <= 128 && addr.parse::<std::net::Ipv6Addr>().is_ok(),
    }
}
