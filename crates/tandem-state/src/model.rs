//! The state model, and the changes to it that are not cloud operations:
//! renames (`moved`, `state mv`) and forgetting (`state rm`).

use crate::crypt::KeyHeader;
use crate::FORMAT_VERSION;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One resource tandem made or imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The cloud's id.
    pub id: String,
    /// The properties as last applied (or read, for imports), resolved.
    pub properties: Map<String, Value>,
    pub outputs: BTreeMap<String, Value>,
    /// Addresses this resource depended on when applied: destroy order
    /// must hold even after the spec no longer mentions it.
    #[serde(default)]
    pub dependencies: BTreeSet<String>,
    /// A create got part way (made, but not confirmed usable); the next apply replaces it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tainted: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub prevent_destroy: bool,
    /// JSON pointers (from this resource's object, e.g.
    /// `/properties/tunnel_options/0/pre_shared_key`) of the values that are
    /// secret: written encrypted when the state has a key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Set once when the state is first written; a plan made against another lineage is refused.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    #[serde(default)]
    pub spec_name: String,
    /// How the sensitive values are encrypted, when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<KeyHeader>,
    pub resources: BTreeMap<String, ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// The write-ahead journal: operations sent to the cloud (or about to
    /// be) whose outcome is not recorded yet, by address. An entry is written
    /// before the call and cleared in the same write that records the
    /// result, so one left behind means a run died in between; the next plan
    /// resolves it (adopts what the create made, or reports it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, PendingOp>,
}

/// One operation in flight (see [`State::pending`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    pub op: PendingKind,
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The cloud's id, once it answered (a create records it before waiting
    /// for the object to become usable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the create asked for: the names, tags or tokens a kind finds an
    /// unrecorded object by.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dependencies: BTreeSet<String>,
    /// When the operation started (RFC 3339, UTC).
    pub started: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    Create,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub value: Value,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            spec_name: String::new(),
            encryption: None,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }
}

/// One rename of a resource address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Move {
    pub from: String,
    pub to: String,
}

impl State {
    /// Rename `from` to `to`, and every `from[key]` instance to `to[key]`
    /// when `from` names a `for_each` resource; what depends on them follows.
    /// Returns the renames made (none when `from` is not in the state).
    pub fn move_resource(&mut self, from: &str, to: &str) -> Result<Vec<Move>, String> {
        let mut pairs: Vec<Move> = Vec::new();
        if self.resources.contains_key(from) {
            pairs.push(Move { from: from.to_string(), to: to.to_string() });
        } else {
            let prefix = format!("{from}[");
            for a in self.resources.keys().filter(|a| a.starts_with(&prefix)) {
                pairs.push(Move { from: a.clone(), to: format!("{to}{}", &a[from.len()..]) });
            }
        }
        for m in &pairs {
            if self.resources.contains_key(&m.to) {
                return Err(format!("cannot move `{}` to `{}`: the state already has `{}`", m.from, m.to, m.to));
            }
        }
        for m in &pairs {
            let r = self.resources.remove(&m.from).expect("listed above");
            self.resources.insert(m.to.clone(), r);
            for other in self.resources.values_mut() {
                if other.dependencies.remove(&m.from) {
                    other.dependencies.insert(m.to.clone());
                }
            }
        }
        Ok(pairs)
    }

    /// Forget `address` (and its `for_each` instances) without touching the
    /// cloud. Returns the addresses removed.
    pub fn remove_resource(&mut self, address: &str) -> Vec<String> {
        let prefix = format!("{address}[");
        let gone: Vec<String> = self.resources.keys().filter(|a| *a == address || a.starts_with(&prefix)).cloned().collect();
        for a in &gone {
            self.resources.remove(a);
            for other in self.resources.values_mut() {
                other.dependencies.remove(a);
            }
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(id: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            type_name: "aws.ec2.vpc".into(),
            region: None,
            id: id.into(),
            properties: Map::new(),
            outputs: BTreeMap::new(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            tainted: false,
            prevent_destroy: false,
            sensitive: vec![],
        }
    }

    #[test]
    fn moves_carry_dependents_and_instances() {
        let mut s = State::default();
        s.resources.insert("net".into(), res("vpc-1", &[]));
        s.resources.insert("sub".into(), res("subnet-1", &["net"]));
        s.resources.insert("q[east]".into(), res("q-1", &["net"]));
        s.resources.insert("q[west]".into(), res("q-2", &[]));
        assert_eq!(s.move_resource("net", "vpc").unwrap().len(), 1);
        assert!(s.resources["sub"].dependencies.contains("vpc"));
        assert!(s.resources["q[east]"].dependencies.contains("vpc"));
        let m = s.move_resource("q", "queue").unwrap();
        assert_eq!(
            m,
            vec![Move { from: "q[east]".into(), to: "queue[east]".into() }, Move { from: "q[west]".into(), to: "queue[west]".into() }]
        );
        assert!(s.move_resource("nothing", "x").unwrap().is_empty());
        let e = s.move_resource("sub", "vpc").unwrap_err();
        assert!(e.contains("already has `vpc`"), "{e}");
        assert_eq!(s.remove_resource("queue"), vec!["queue[east]".to_string(), "queue[west]".to_string()]);
        assert_eq!(s.remove_resource("vpc"), vec!["vpc".to_string()]);
        assert!(s.resources["sub"].dependencies.is_empty());
    }
}
