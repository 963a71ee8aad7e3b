//! Tags: a map in the spec, lists of key/value pairs in the APIs.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Tags tandem sets for itself (finding what a crashed run made); never shown as drift.
pub const ADDRESS_TAG: &str = "tandem:address";

pub fn is_internal(key: &str) -> bool {
    key.starts_with("tandem:") || key.starts_with("aws:")
}

/// The spec's `tags` as a map.
pub fn desired(props: &Map<String, Value>) -> BTreeMap<String, String> {
    tandem_provider::prop_tags(props, "tags")
}

/// Which keys to set and which to remove to go from `current` to `desired`.
pub fn delta(current: &BTreeMap<String, String>, desired: &BTreeMap<String, String>) -> (BTreeMap<String, String>, Vec<String>) {
    let set = desired.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove = current.keys().filter(|k| !desired.contains_key(*k) && !is_internal(k)).cloned().collect();
    (set, remove)
}

/// Tags as a spec value, without tandem's own.
pub fn to_value(tags: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Object(tags.into_iter().filter(|(k, _)| !is_internal(k)).map(|(k, v)| (k, Value::String(v))).collect())
}
