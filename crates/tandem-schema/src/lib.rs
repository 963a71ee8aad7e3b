//! Property schemas for resource kinds, as data.
//!
//! A kind declares its properties once, here; the spec validator, the
//! differ, the JSON Schema generator and the per-kind docs all read the same
//! declaration, so they cannot drift apart. Property names are the snake_case
//! forms of the cloud API's own field names, nested as the API nests them.

use serde_json::{json, Map, Value};

mod coerce;
mod compare;
mod docs;

pub use coerce::{coerce, CoerceError};
pub use compare::{matches, matches_field};
pub use docs::render_markdown;

/// The shape of one property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    String,
    Integer,
    Number,
    Boolean,
    /// One of a fixed set of strings (the API's enum values, spelled as the API spells them).
    Enum(Vec<&'static str>),
    List(Box<Type>),
    /// String keys to values of one type (tags, attributes).
    Map(Box<Type>),
    Object(Vec<Field>),
    /// Any JSON value, passed through as is (policy documents, flow content).
    Any,
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn enumeration(values: &[&'static str]) -> Type {
        Type::Enum(values.to_vec())
    }
    /// A human name for error messages: "a string", "one of PROVISIONED, PAY_PER_REQUEST".
    pub fn describe(&self) -> String {
        match self {
            Type::String => "a string".into(),
            Type::Integer => "an integer".into(),
            Type::Number => "a number".into(),
            Type::Boolean => "true or false".into(),
            Type::Enum(v) => format!("one of {}", v.join(", ")),
            Type::List(t) => format!("a list of {}", strip_article(&t.describe())),
            Type::Map(t) => format!("a map of names to {}", strip_article(&t.describe())),
            Type::Object(_) => "a mapping".into(),
            Type::Any => "any value".into(),
        }
    }
}

fn strip_article(s: &str) -> String {
    let s = s.strip_prefix("an ").or_else(|| s.strip_prefix("a ")).unwrap_or(s);
    if s.starts_with("one of") {
        format!("values {s}")
    } else {
        format!("{s}s")
    }
}

/// Extra checks on a value beyond its type, run by the spec validator.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// An IPv4 CIDR block ("10.0.0.0/16").
    Ipv4Cidr,
    /// An inclusive integer range.
    Range(i64, i64),
    /// A string length range (inclusive), as the API's Length Constraints say.
    Length(usize, usize),
    /// A phone number in E.164 form: `+` then 2 to 15 digits, no leading 0.
    E164,
    /// IPv4 CIDR blocks that must not overlap any other field with this check
    /// in a resource that traffic is routed to: one that references with
    /// [`Field::carries_traffic`] fields connect, directly or through others
    /// (a VPC, its virtual private gateway, the VPN to a GCP HA VPN gateway,
    /// that gateway's network, its subnetworks). Overlaps between networks
    /// nothing connects are only warned about.
    DistinctNetwork,
    /// A BGP ASN that must differ from every ASN with this check on the
    /// other cloud: the two ends of a BGP session need different ASNs.
    DistinctAsn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    /// Changing this field cannot be done in place: the resource is replaced.
    pub force_new: bool,
    /// Never printed in plans, logs or outputs.
    pub sensitive: bool,
    /// Set by the cloud when absent from the spec; an absent field is not drift.
    pub computed: bool,
    pub doc: &'static str,
    pub checks: Vec<Check>,
    /// A reference in this field must name a resource of one of these kinds
    /// (`default_outbound_queue_id` refers to an `aws.connect.queue`).
    pub refers_to: Vec<&'static str>,
    /// A list whose order means nothing (the API may return it in any order):
    /// compared as a set of elements, so order alone is never drift.
    pub unordered: bool,
    /// An id that may also be given as the ARN ending in it (the API takes
    /// either and reads back one form): `X` and `arn:...:kind/X` are equal.
    pub arn_or_id: bool,
    /// A reference in this field joins the networks of the two resources:
    /// traffic is routed between them (a gateway attached to a VPC, a tunnel
    /// to a gateway, a BGP session to a router). The spec's overlap check
    /// ([`Check::DistinctNetwork`]) follows these references, and only these.
    pub carries_traffic: bool,
}

impl Field {
    pub fn new(name: &'static str, ty: Type) -> Field {
        Field {
            name,
            ty,
            required: false,
            force_new: false,
            sensitive: false,
            computed: false,
            doc: "",
            checks: Vec::new(),
            refers_to: Vec::new(),
            unordered: false,
            arn_or_id: false,
            carries_traffic: false,
        }
    }
    pub fn arn_or_id(mut self) -> Self {
        self.arn_or_id = true;
        self
    }
    pub fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }
    pub fn carries_traffic(mut self) -> Self {
        self.carries_traffic = true;
        self
    }
    pub fn refers_to(mut self, kinds: &[&'static str]) -> Self {
        self.refers_to.extend_from_slice(kinds);
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }
    pub fn check(mut self, c: Check) -> Self {
        self.checks.push(c);
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputDef {
    pub name: &'static str,
    pub doc: &'static str,
    pub sensitive: bool,
}

impl OutputDef {
    pub fn new(name: &'static str, doc: &'static str) -> Self {
        OutputDef { name, doc, sensitive: false }
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
}

/// Everything the engine and the spec validator know about a resource kind.
#[derive(Debug, Clone)]
pub struct KindSchema {
    /// `aws.ec2.vpc`
    pub type_name: &'static str,
    pub doc: &'static str,
    /// The API reference page(s) the properties follow.
    pub api_reference: &'static str,
    /// The kind lives in a region, so `region` is required on the resource.
    pub regional: bool,
    pub properties: Vec<Field>,
    pub outputs: Vec<OutputDef>,
    /// A required name field that defaults to the resource's key (`stream_name`, `table_name`).
    pub name_field: Option<&'static str>,
    /// What `tandem import ADDRESS ID` expects as ID.
    pub import_id: &'static str,
}

impl KindSchema {
    /// Whether any field (at any depth) or output is secret.
    pub fn has_sensitive(&self) -> bool {
        fn any(t: &Type) -> bool {
            match t {
                Type::Object(fields) => fields.iter().any(|f| f.sensitive || any(&f.ty)),
                Type::List(inner) | Type::Map(inner) => any(inner),
                _ => false,
            }
        }
        self.properties.iter().any(|f| f.sensitive || any(&f.ty)) || self.outputs.iter().any(|o| o.sensitive)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.properties.iter().find(|f| f.name == name)
    }

    pub fn output(&self, name: &str) -> Option<&OutputDef> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// Resolve a dotted path ("stream_mode_details.stream_mode") to its field.
    pub fn field_at(&self, path: &[&str]) -> Option<&Field> {
        let (first, rest) = path.split_first()?;
        let mut field = self.field(first)?;
        for seg in rest {
            let next = match &field.ty {
                Type::Object(fields) => fields.iter().find(|f| f.name == *seg),
                Type::List(inner) => match inner.as_ref() {
                    Type::Object(fields) => fields.iter().find(|f| f.name == *seg),
                    _ => None,
                },
                _ => None,
            }?;
            field = next;
        }
        Some(field)
    }

    /// The property object as a `Type::Object`, for uniform walking.
    pub fn as_type(&self) -> Type {
        Type::Object(self.properties.clone())
    }

    /// A JSON Schema (draft 2020-12) fragment for this kind's resource entry.
    pub fn json_schema(&self) -> Value {
        let mut props = object_schema(&self.properties);
        if let Some(name) = self.name_field {
            // The name defaults to the resource key, so it is not required in the spec.
            if let Some(req) = props.get_mut("required").and_then(Value::as_array_mut) {
                req.retain(|v| v != name);
            }
        }
        let mut required = vec![json!("type")];
        if self.regional {
            required.push(json!("region"));
        }
        json!({
            "type": "object",
            "description": self.doc,
            "additionalProperties": false,
            "required": required,
            "properties": {
                "type": { "const": self.type_name },
                "region": { "type": "string" },
                "for_each": {},
                "stage": { "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The deployment stage (`tandem apply --stage NAME`)." },
                "depends_on": { "type": "array", "items": { "type": "string" } },
                "lifecycle": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": { "prevent_destroy": { "type": "boolean" } }
                },
                "properties": props,
            }
        })
    }
}

fn object_schema(fields: &[Field]) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let mut s = type_schema(&f.ty);
        if let Value::Object(m) = &mut s {
            if !f.doc.is_empty() {
                m.insert("description".into(), json!(f.doc));
            }
        }
        props.insert(f.name.to_string(), s);
        if f.required {
            required.push(json!(f.name));
        }
    }
    json!({ "type": "object", "additionalProperties": false, "properties": props, "required": required })
}

const REFERENCE_PATTERN: &str = r"^\$\{[^}]+\}$";

fn type_schema(t: &Type) -> Value {
    // Any scalar may instead be a whole `${...}` reference resolved later.
    let reference = json!({ "type": "string", "pattern": REFERENCE_PATTERN });
    match t {
        Type::String => json!({ "type": "string" }),
        Type::Integer => json!({ "anyOf": [{ "type": "integer" }, reference] }),
        Type::Number => json!({ "anyOf": [{ "type": "number" }, reference] }),
        Type::Boolean => json!({ "anyOf": [{ "type": "boolean" }, reference] }),
        Type::Enum(v) => json!({ "anyOf": [{ "enum": v }, reference] }),
        Type::List(inner) => json!({ "type": "array", "items": type_schema(inner) }),
        Type::Map(inner) => json!({ "type": "object", "additionalProperties": type_schema(inner) }),
        Type::Object(fields) => object_schema(fields),
        Type::Any => json!({}),
    }
}

/// Walk `value` along `schema` and replace every sensitive leaf with a marker,
/// so plans, logs and JSON output never carry secrets.
pub fn redact(ty: &Type, value: &Value) -> Value {
    match (ty, value) {
        (Type::Object(fields), Value::Object(map)) => {
            let mut out = Map::new();
            for (k, v) in map {
                match fields.iter().find(|f| f.name == k) {
                    Some(f) if f.sensitive => {
                        out.insert(k.clone(), json!(SENSITIVE));
                    }
                    Some(f) => {
                        out.insert(k.clone(), redact(&f.ty, v));
                    }
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (Type::List(inner), Value::Array(items)) => Value::Array(items.iter().map(|v| redact(inner, v)).collect()),
        (Type::Map(inner), Value::Object(map)) => Value::Object(map.iter().map(|(k, v)| (k.clone(), redact(inner, v))).collect()),
        _ => value.clone(),
    }
}

/// JSON pointers (under `prefix`) of every sensitive leaf in `value`: what
/// the state encrypts at rest.
pub fn sensitive_pointers(ty: &Type, value: &Value, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    collect_sensitive(ty, value, prefix, &mut out);
    out
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn collect_sensitive(ty: &Type, value: &Value, at: &str, out: &mut Vec<String>) {
    match (ty, value) {
        (Type::Object(fields), Value::Object(map)) => {
            for (k, v) in map {
                let here = format!("{at}/{}", pointer_escape(k));
                match fields.iter().find(|f| f.name == k) {
                    Some(f) if f.sensitive => out.push(here),
                    Some(f) => collect_sensitive(&f.ty, v, &here, out),
                    None => {}
                }
            }
        }
        (Type::List(inner), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                collect_sensitive(inner, v, &format!("{at}/{i}"), out);
            }
        }
        (Type::Map(inner), Value::Object(map)) => {
            for (k, v) in map {
                collect_sensitive(inner, v, &format!("{at}/{}", pointer_escape(k)), out);
            }
        }
        _ => {}
    }
}

/// What a redacted value prints as.
pub const SENSITIVE: &str = "(sensitive)";

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> KindSchema {
        KindSchema {
            type_name: "test.thing",
            doc: "",
            api_reference: "",
            regional: true,
            properties: vec![
                Field::new("name", Type::String).required(),
                Field::new("tunnel", Type::Object(vec![Field::new("key", Type::String).sensitive(), Field::new("cidr", Type::String)])),
            ],
            outputs: vec![],
            name_field: Some("name"),
            import_id: "",
        }
    }

    #[test]
    fn points_at_nested_sensitive_fields() {
        let s = schema();
        let v = json!({"tunnel": {"key": "k", "name": "n"}, "other": 1});
        assert_eq!(sensitive_pointers(&s.as_type(), &v, "/properties"), vec!["/properties/tunnel/key".to_string()]);
    }

    #[test]
    fn redacts_nested_sensitive_fields() {
        let s = schema();
        let v = json!({"name": "a", "tunnel": {"key": "hunter2", "cidr": "169.254.0.0/30"}});
        let r = redact(&s.as_type(), &v);
        assert_eq!(r["tunnel"]["key"], json!(SENSITIVE));
        assert_eq!(r["tunnel"]["cidr"], json!("169.254.0.0/30"));
        assert!(!r.to_string().contains("hunter2"));
    }

    #[test]
    fn finds_nested_fields_by_path() {
        let s = schema();
        assert!(s.field_at(&["tunnel", "key"]).unwrap().sensitive);
        assert!(s.field_at(&["tunnel", "nope"]).is_none());
    }

    #[test]
    fn json_schema_drops_defaulted_name_from_required() {
        let js = schema().json_schema();
        let req = &js["properties"]["properties"]["required"];
        assert_eq!(req, &json!([]));
        assert_eq!(js["required"], json!(["type", "region"]));
    }

    #[test]
    fn describes_types_for_people() {
        assert_eq!(Type::list(Type::String).describe(), "a list of strings");
        assert_eq!(Type::enumeration(&["A", "B"]).describe(), "one of A, B");
    }
}
