//! Plans: what will change and why, as typed, serializable actions.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use tandem_schema::{Field, KindSchema, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
    pub fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "no change",
            Action::Create => "create",
            Action::Update => "update in place",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// One field's change. Values are redacted when the field is sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Top-level property name.
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// The new value depends on a resource not made yet.
    #[serde(default)]
    pub after_unknown: bool,
    /// Changing this field cannot happen in place.
    #[serde(default)]
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub region: Option<String>,
    pub action: Action,
    /// Why: "not in state", "tainted by a failed create", "deleted outside tandem",
    /// "no longer in the spec", "`cidr_block` forces replacement".
    pub reasons: Vec<String>,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The state the plan was made against; apply refuses a plan whose state moved on.
    pub lineage: String,
    pub serial: u64,
    pub destroy: bool,
    pub changes: Vec<Change>,
    /// Resources found gone during refresh (removed from state by apply).
    #[serde(default)]
    pub gone: Vec<String>,
    /// Renames from the spec's `moved:` that apply records in the state; no
    /// cloud call, so they are not changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<tandem_state::Move>,
    /// Operations an interrupted run left in the journal, and what this plan
    /// found of each; apply clears the settled ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<crate::journal::PendingResolution>,
    /// Resources whose read failed for reasons of the cloud's (a region or
    /// service down, throttling past the retries) while others read fine:
    /// nothing is planned for them or for what still depends on them, so the
    /// rest of the spec can be applied during a regional outage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
    /// What those interrupted creates made, as apply records it (tainted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub adopted: BTreeMap<String, tandem_state::ResourceState>,
}

/// A resource a plan could not read (see [`Plan::unread`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unread {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.gone.is_empty() || self.pending.iter().any(|p| p.settled()) || self.changes.iter().any(|c| c.action != Action::NoOp)
    }
    pub fn count(&self, a: Action) -> usize {
        self.changes.iter().filter(|c| c.action == a).count()
    }
    pub fn change(&self, address: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.address == address)
    }
}

/// Compare what the spec wants with what exists, field by field.
///
/// Only what the spec says is compared: a nested field the spec leaves out is
/// the cloud's to choose, except in maps (tags), which are managed whole. A
/// top-level field that was applied before and is now gone from the spec is a
/// change (back to the cloud's default), unless the cloud computes it.
pub fn diff_fields(
    schema: &KindSchema,
    desired: &Map<String, Value>,
    unknown: &BTreeSet<String>,
    current: &Map<String, Value>,
    prior: &Map<String, Value>,
) -> Vec<FieldChange> {
    let mut names: Vec<&str> = schema.properties.iter().map(|f| f.name).collect();
    names.retain(|n| desired.contains_key(*n) || prior.contains_key(*n) || unknown_at(unknown, n));
    let mut out = Vec::new();
    for name in names {
        let Some(field) = schema.field(name) else { continue };
        let before = current.get(name).filter(|v| !v.is_null()).cloned();
        let is_unknown = unknown_at(unknown, name);
        let after = desired.get(name).filter(|v| !v.is_null()).cloned();
        let changed = if is_unknown {
            true
        } else {
            match (&after, &before) {
                (Some(a), Some(b)) => !matches_field(field, a, b),
                (Some(_), None) => true,
                // An empty map or list (tags read back from an imported
                // object) is what "unset" looks like in the cloud.
                (None, Some(b)) => !field.computed && prior.contains_key(name) && !is_empty_collection(b),
                (None, None) => false,
            }
        };
        if !changed {
            continue;
        }
        out.push(redacted(
            field,
            FieldChange {
                field: name.to_string(),
                before,
                after: if is_unknown { None } else { after },
                after_unknown: is_unknown,
                forces_replacement: field.force_new,
            },
        ));
    }
    out
}

fn unknown_at(unknown: &BTreeSet<String>, field: &str) -> bool {
    unknown.iter().any(|p| p == field || p.strip_prefix(field).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('[')))
}

fn redacted(field: &Field, mut c: FieldChange) -> FieldChange {
    let t = Type::Object(vec![field.clone()]);
    let wrap = |v: Value| {
        let mut m = Map::new();
        m.insert(field.name.to_string(), v);
        tandem_schema::redact(&t, &Value::Object(m))[field.name].clone()
    };
    c.before = c.before.map(wrap);
    c.after = c.after.map(wrap);
    c
}

pub use tandem_schema::{matches, matches_field};

fn is_empty_collection(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_compare_by_meaning() {
        let doc = json!({"Version": "2019-10-30", "Actions": [{"Identifier": "a"}]});
        assert!(matches(
            &Type::Any,
            &json!("{ \"Version\": \"2019-10-30\",\n  \"Actions\": [ {\"Identifier\": \"a\"} ] }"),
            &json!(doc.to_string())
        ));
        assert!(matches(&Type::Any, &doc, &json!(doc.to_string())));
        assert!(!matches(&Type::Any, &doc, &json!("{\"Version\": \"2019-10-30\", \"Actions\": []}")));
        assert!(!matches(&Type::Any, &json!("not json"), &json!("not json either")));
        assert!(matches(&Type::Any, &json!("not json"), &json!("not json")));
    }
    use tandem_schema::Field;

    fn schema() -> KindSchema {
        KindSchema {
            type_name: "t.k",
            doc: "",
            api_reference: "",
            regional: false,
            properties: vec![
                Field::new("cidr", Type::String).force_new(),
                Field::new("tags", Type::map(Type::String)),
                Field::new("az", Type::String).computed(),
                Field::new("secret", Type::String).sensitive(),
                Field::new("spec", Type::Object(vec![Field::new("a", Type::Integer), Field::new("b", Type::String).computed()])),
            ],
            outputs: vec![],
            name_field: None,
            import_id: "",
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn no_change_when_cloud_fills_in_more() {
        let d = obj(json!({"cidr": "10.0.0.0/16", "spec": {"a": 1}}));
        let c = obj(json!({"cidr": "10.0.0.0/16", "spec": {"a": 1, "b": "x"}, "az": "us-east-1a"}));
        assert!(diff_fields(&schema(), &d, &BTreeSet::new(), &c, &d).is_empty());
    }

    #[test]
    fn force_new_fields_are_flagged_and_tags_compared_whole() {
        let d = obj(json!({"cidr": "10.1.0.0/16", "tags": {"a": "1"}}));
        let c = obj(json!({"cidr": "10.0.0.0/16", "tags": {"a": "1", "b": "2"}}));
        let ch = diff_fields(&schema(), &d, &BTreeSet::new(), &c, &d);
        assert_eq!(ch.len(), 2);
        assert!(ch.iter().find(|f| f.field == "cidr").unwrap().forces_replacement);
        assert!(!ch.iter().find(|f| f.field == "tags").unwrap().forces_replacement);
    }

    #[test]
    fn removed_fields_change_unless_computed() {
        let prior = obj(json!({"tags": {"a": "1"}, "az": "x"}));
        let c = obj(json!({"tags": {"a": "1"}, "az": "x"}));
        let ch = diff_fields(&schema(), &Map::new(), &BTreeSet::new(), &c, &prior);
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].field, "tags");
        assert_eq!(ch[0].after, None);
    }

    #[test]
    fn unknown_values_are_changes_known_after_apply() {
        let d = obj(json!({"cidr": null}));
        let c = obj(json!({"cidr": "10.0.0.0/16"}));
        let unknown: BTreeSet<String> = ["cidr".to_string()].into();
        let ch = diff_fields(&schema(), &d, &unknown, &c, &c);
        assert!(ch[0].after_unknown && ch[0].forces_replacement);
    }

    #[test]
    fn unordered_lists_compare_as_sets() {
        let f = Field::new(
            "distributions",
            Type::list(Type::Object(vec![Field::new("region", Type::String), Field::new("percentage", Type::Integer)])),
        )
        .unordered();
        let a = json!([{"region": "us-east-1", "percentage": 50}, {"region": "us-west-2", "percentage": 50}]);
        let b = json!([{"region": "us-west-2", "percentage": 50}, {"region": "us-east-1", "percentage": 50}]);
        let c = json!([{"region": "us-west-2", "percentage": 100}, {"region": "us-east-1", "percentage": 0}]);
        assert!(matches_field(&f, &a, &b));
        assert!(!matches_field(&f, &a, &c));
        let ordered = Field { unordered: false, ..f };
        assert!(!matches_field(&ordered, &a, &b));
    }

    #[test]
    fn sensitive_values_never_appear() {
        let d = obj(json!({"secret": "hunter2"}));
        let c = obj(json!({"secret": "old-secret"}));
        let ch = diff_fields(&schema(), &d, &BTreeSet::new(), &c, &c);
        let text = serde_json::to_string(&ch).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("old-secret"), "{text}");
    }
}
