//! Terraform's `for_each` and `count` as tandem `for_each`: the instances of
//! one Terraform resource become one tandem resource when one template
//! describes them all, with `${each.key}` where the key shows in a value and
//! `[each.key]` where an instance refers to the instance of the same key of
//! another. When exactly one property differs otherwise, it becomes
//! `${each.value}` with `for_each` mapping each key to it. Instances that
//! differ in more are declared one by one (`base_KEY`), and the spec says so.

use crate::tfstate::TfState;
use crate::Node;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub enum Group {
    /// The first instance: carries the declaration.
    Head { for_each: Value, props: Map<String, Value> },
    /// Declared by its group's head.
    Member,
    /// Terraform had for_each/count, but the instances differ in these properties.
    Apart(Vec<String>),
}

/// Returns the addresses renamed (instances declared one by one).
pub fn group(nodes: &mut [Node], tf: &TfState) -> Vec<(String, String)> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if tf.resources[n.res].each_mode().is_some() && n.key.is_some() {
            groups.entry(n.res).or_default().push(i);
        }
    }
    let mut renames: Vec<(String, String)> = Vec::new();
    for members in groups.values() {
        let keys: Vec<String> = members.iter().map(|&i| nodes[i].key.clone().unwrap_or_default()).collect();
        let same_kind = members.iter().all(|&i| nodes[i].mapped.kind == nodes[members[0]].mapped.kind);
        let keys_ok = keys.iter().all(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        let templates: Vec<Map<String, Value>> =
            members.iter().map(|&i| template_map(&nodes[i].spec_props, nodes[i].key.as_deref().unwrap_or(""))).collect();
        let leaves: Vec<BTreeMap<String, Value>> = templates.iter().map(flatten).collect();
        let differing: Vec<String> = {
            let mut paths: Vec<String> = leaves.iter().flat_map(|l| l.keys().cloned()).collect();
            paths.sort();
            paths.dedup();
            paths.into_iter().filter(|p| leaves.iter().any(|l| l.get(p) != leaves[0].get(p))).collect()
        };
        let decl = if !same_kind || !keys_ok {
            None
        } else if differing.is_empty() {
            Some((Value::Array(keys.iter().map(|k| Value::String(k.clone())).collect()), templates[0].clone()))
        } else if differing.len() == 1
            && members.iter().all(|&i| leaf(&nodes[i].spec_props, &differing[0]).is_some_and(|v| !v.is_object() && !v.is_array()))
        {
            // One value differs: a for_each value is a scalar (or one reference).
            let path = &differing[0];
            let values: Map<String, Value> = members
                .iter()
                .zip(&keys)
                .map(|(&i, k)| (k.clone(), leaf(&nodes[i].spec_props, path).cloned().unwrap_or(Value::Null)))
                .collect();
            let mut props = templates[0].clone();
            set_leaf(&mut props, path, Value::String("${each.value}".into()));
            Some((Value::Object(values), props))
        } else {
            None
        };
        match decl {
            Some((for_each, props)) => {
                for (n, &i) in members.iter().enumerate() {
                    nodes[i].group =
                        Some(if n == 0 { Group::Head { for_each: for_each.clone(), props: props.clone() } } else { Group::Member });
                }
            }
            None => {
                let why = if !same_kind {
                    vec!["their kind".to_string()]
                } else if !keys_ok {
                    vec!["their keys (not usable as spec keys)".to_string()]
                } else {
                    differing.clone()
                };
                for &i in members {
                    let n = &mut nodes[i];
                    let new = crate::sanitize(&format!("{}_{}", n.base, n.key.as_deref().unwrap_or("")));
                    renames.push((n.address.clone(), new.clone()));
                    n.address = new.clone();
                    n.base = new;
                    n.key = None;
                    n.group = Some(Group::Apart(why.clone()));
                }
            }
        }
    }
    if renames.is_empty() {
        return renames;
    }
    for n in nodes.iter_mut() {
        for v in n.spec_props.values_mut() {
            rename_refs(v, &renames);
        }
        if let Some(Group::Head { props, for_each }) = &mut n.group {
            for v in props.values_mut() {
                rename_refs(v, &renames);
            }
            rename_refs(for_each, &renames);
        }
        n.deps = n
            .deps
            .iter()
            .map(|d| renames.iter().find(|(old, _)| old == d).map(|(_, new)| new.clone()).unwrap_or_else(|| d.clone()))
            .collect();
    }
    renames
}

fn rename_refs(v: &mut Value, renames: &[(String, String)]) {
    match v {
        Value::String(s) => {
            for (old, new) in renames {
                *s = s.replace(&format!("${{{old}."), &format!("${{{new}."));
            }
        }
        Value::Array(l) => l.iter_mut().for_each(|x| rename_refs(x, renames)),
        Value::Object(m) => m.values_mut().for_each(|x| rename_refs(x, renames)),
        _ => {}
    }
}

fn template_map(m: &Map<String, Value>, key: &str) -> Map<String, Value> {
    m.iter().map(|(k, v)| (k.clone(), template(v, key))).collect()
}

/// An instance's value with its key abstracted: `[KEY]` inside references
/// becomes `[each.key]`; the key in literal text becomes `${each.key}`
/// (numeric keys only at the end after `-` or `_`, where a count index is
/// written: digits elsewhere are addresses and sizes).
pub fn template(v: &Value, key: &str) -> Value {
    match v {
        Value::String(s) => Value::String(template_str(s, key)),
        Value::Array(l) => Value::Array(l.iter().map(|x| template(x, key)).collect()),
        Value::Object(m) => Value::Object(template_map(m, key)),
        other => other.clone(),
    }
}

fn template_str(s: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        match find_ref(rest) {
            Some((start, end)) => {
                out.push_str(&literal(&rest[..start], key));
                out.push_str(&rest[start..end].replace(&format!("[{key}]"), "[each.key]"));
                rest = &rest[end..];
            }
            None => {
                out.push_str(&literal(rest, key));
                break;
            }
        }
    }
    out
}

/// The byte range of the first `${...}` (not `$${`) in `s`.
fn find_ref(s: &str) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'$' {
            i += 2;
            continue;
        }
        if b[i] == b'$' && b[i + 1] == b'{' {
            let end = s[i..].find('}')? + i + 1;
            return Some((i, end));
        }
        i += 1;
    }
    None
}

fn literal(s: &str, key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_digit()) {
        for sep in ['-', '_'] {
            if let Some(head) = s.strip_suffix(&format!("{sep}{key}")) {
                return format!("{head}{sep}${{each.key}}");
            }
        }
        return s.to_string();
    }
    if key.len() < 3 {
        return s.to_string();
    }
    s.replace(key, "${each.key}")
}

/// Leaf values by dotted path; lists are leaves.
fn flatten(m: &Map<String, Value>) -> BTreeMap<String, Value> {
    fn go(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    go(&format!("{prefix}{k}."), x, out);
                }
            }
            other => {
                out.insert(prefix.trim_end_matches('.').to_string(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (k, v) in m {
        go(&format!("{k}."), v, &mut out);
    }
    out
}

fn leaf<'a>(m: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut v = m.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

fn set_leaf(m: &mut Map<String, Value>, path: &str, to: Value) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, init)) = parts.split_last() else { return };
    let mut cur = m;
    for p in init {
        match cur.get_mut(*p).and_then(Value::as_object_mut) {
            Some(next) => cur = next,
            None => return,
        }
    }
    cur.insert(last.to_string(), to);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_become_each_key_where_they_show() {
        assert_eq!(template(&json!("contact-center-ctr-primary"), "ctr"), json!("contact-center-${each.key}-primary"));
        assert_eq!(template(&json!("${cgw[0].id}"), "0"), json!("${cgw[each.key].id}"));
        assert_eq!(template(&json!("gcp-ha-vpn-0"), "0"), json!("gcp-ha-vpn-${each.key}"));
        assert_eq!(template(&json!("169.254.10.0/30"), "0"), json!("169.254.10.0/30"));
        assert_eq!(template(&json!("$${literal} ctr"), "ctr"), json!("$${literal} ${each.key}"));
    }
}
