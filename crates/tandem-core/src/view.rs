//! The spec as kinds see it in `validate_in`: every resource's properties
//! known before apply, and what each property refers to.

use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tandem_provider::{SpecResource, SpecView};
use tandem_spec::{ExprKind, Spec};

struct Entry {
    type_name: String,
    region: Option<String>,
    props: Map<String, Value>,
    refs: BTreeMap<String, Vec<(String, String)>>,
    depends_on: Vec<String>,
}

pub(crate) struct View {
    entries: IndexMap<String, Entry>,
}

impl View {
    pub fn new(spec: &Spec) -> View {
        Self::with(spec, &|_, _| None)
    }

    /// The spec with references resolved where `lookup` knows the value
    /// (outputs of resources the state has).
    pub fn with(spec: &Spec, lookup: &dyn Fn(&str, &str) -> Option<serde_json::Value>) -> View {
        let mut entries = IndexMap::new();
        for (address, r) in &spec.resources {
            let props = match r.properties.eval(lookup).value {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let mut refs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            if let ExprKind::Map(m) = &r.properties.kind {
                for (key, (_, e)) in m {
                    e.walk_refs(&mut |res, attr, _| refs.entry(key.clone()).or_default().push((res.to_string(), attr.to_string())));
                }
            }
            let depends_on = r.depends_on.iter().map(|(d, _)| d.clone()).collect();
            entries.insert(address.clone(), Entry { type_name: r.type_name.clone(), region: r.region.clone(), props, refs, depends_on });
        }
        View { entries }
    }
}

fn as_resource<'a>(address: &'a str, e: &'a Entry) -> SpecResource<'a> {
    SpecResource {
        address,
        type_name: &e.type_name,
        region: e.region.as_deref(),
        props: &e.props,
        refs: &e.refs,
        depends_on: &e.depends_on,
    }
}

impl SpecView for View {
    fn get(&self, address: &str) -> Option<SpecResource<'_>> {
        self.entries.get_key_value(address).map(|(a, e)| as_resource(a, e))
    }
    fn all(&self) -> Vec<SpecResource<'_>> {
        self.entries.iter().map(|(a, e)| as_resource(a, e)).collect()
    }
}
