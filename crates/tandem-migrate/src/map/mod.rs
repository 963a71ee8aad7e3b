//! One mapping per Terraform resource type: its attributes (as the
//! provider's state holds them) to a tandem kind's properties, cloud id and
//! outputs, named as the kind's schema names them. A mapping sees one
//! resource instance and the [`Lookups`] made from the whole state; it knows
//! no spec and no graph.

mod aws;
mod connect;
mod gcp;

use crate::tfstate::{TfInstance, TfResource};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What became of one Terraform resource instance.
pub enum Outcome {
    /// A tandem resource of its own.
    Kind(Mapped),
    /// Part of another resource's properties (a storage config of an
    /// instance, a target of a rule): merged into the resource of `kind`
    /// whose cloud id is `id`.
    Fold(Fold),
    /// Part of the resource another mapping makes (a Cloud Router interface
    /// is carried by the BGP peer on it); the key says which.
    Carried(String),
    /// Not migrated, and why.
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct Mapped {
    pub kind: &'static str,
    /// The id tandem keeps in state (what the kind's `read` takes).
    pub id: String,
    pub props: Map<String, Value>,
    pub outputs: BTreeMap<String, Value>,
    /// Fields Terraform had that this mapping does not carry, each with what
    /// that means for the next plan.
    pub notes: Vec<String>,
    /// Property paths (`password`) whose values are secrets: written to the
    /// secrets file as variables when no other resource's output gives them.
    pub secrets: Vec<String>,
    /// Keys of [`Outcome::Carried`] resources this one carries.
    pub carries: Vec<String>,
}

impl Mapped {
    fn new(kind: &'static str, id: impl Into<String>) -> Mapped {
        Mapped {
            kind,
            id: id.into(),
            props: Map::new(),
            outputs: BTreeMap::new(),
            notes: Vec::new(),
            secrets: Vec::new(),
            carries: Vec::new(),
        }
    }
    fn set(&mut self, key: &str, v: Option<Value>) -> &mut Self {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            self.props.insert(key.to_string(), v);
        }
        self
    }
    fn out(&mut self, key: &str, v: Option<Value>) -> &mut Self {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            self.outputs.insert(key.to_string(), v);
        }
        self
    }
    fn note(&mut self, n: impl Into<String>) -> &mut Self {
        self.notes.push(n.into());
        self
    }
}

pub struct Fold {
    pub kind: &'static str,
    pub id: String,
    /// Set on the target; arrays are appended to the target's arrays.
    pub props: Map<String, Value>,
    pub notes: Vec<String>,
}

/// One instance being mapped, with what the rest of the state tells.
pub struct Source<'a> {
    pub res: &'a TfResource,
    pub inst: &'a TfInstance,
    pub attrs: &'a Map<String, Value>,
    /// The resource's region (AWS: its provider configuration's; GCP: its own `region`).
    pub region: Option<String>,
    pub lookups: &'a Lookups,
}

/// Facts from the whole state that single mappings need.
#[derive(Default)]
pub struct Lookups {
    /// Connect security profile id -> name, from `aws_connect_security_profile` data sources and resources.
    pub security_profiles: BTreeMap<String, String>,
    /// (project, region, router name, interface name) -> the interface's attributes.
    pub router_interfaces: BTreeMap<(String, String, String, String), Map<String, Value>>,
    /// (project, region, router name) -> the router's self link.
    pub routers: BTreeMap<(String, String, String), String>,
    /// (project, region, tunnel name) -> the tunnel's self link.
    pub tunnels: BTreeMap<(String, String, String), String>,
    /// Lambda function name -> ARN, for permissions that name the function.
    pub functions: BTreeMap<String, String>,
}

/// The mapping of a Terraform type, or None when tandem has no kind for it.
pub fn map(src: &Source<'_>) -> Option<Outcome> {
    let a = src.attrs;
    Some(match src.res.type_name.as_str() {
        "aws_vpc" => aws::vpc(src),
        "aws_subnet" => aws::subnet(src),
        "aws_kinesis_stream" => aws::kinesis_stream(src),
        "aws_dynamodb_table" => aws::dynamodb_table(src),
        "aws_vpn_gateway" => aws::vpn_gateway(src),
        "aws_vpn_gateway_attachment" => aws::vpn_gateway_attachment(src),
        "aws_vpn_gateway_route_propagation" => aws::route_propagation(src),
        "aws_customer_gateway" => aws::customer_gateway(src),
        "aws_vpn_connection" => aws::vpn_connection(src),
        "aws_dx_gateway" => aws::dx_gateway(src),
        "aws_dx_gateway_association" => aws::dx_gateway_association(src),
        "aws_dx_connection_confirmation" => aws::dx_connection_confirmation(src),
        "aws_dx_private_virtual_interface" => aws::dx_private_virtual_interface(src),
        "aws_iam_role" => aws::iam_role(src),
        "aws_iam_role_policy" => aws::iam_role_policy(src),
        "aws_iam_role_policy_attachment" => aws::iam_role_policy_attachment(src),
        "aws_lambda_function" => aws::lambda_function(src),
        "aws_lambda_permission" => aws::lambda_permission(src),
        "aws_cloudwatch_event_rule" => aws::event_rule(src),
        "aws_cloudwatch_event_target" => aws::event_target(src),
        "aws_cloudwatch_metric_alarm" => aws::metric_alarm(src),
        "aws_cloudwatch_dashboard" => aws::dashboard(src),
        "aws_connect_instance" => connect::instance(src),
        "aws_connect_instance_storage_config" => connect::storage_config(src),
        "aws_connect_hours_of_operation" => connect::hours_of_operation(src),
        "aws_connect_queue" => connect::queue(src),
        "aws_connect_contact_flow" => connect::contact_flow(src),
        "aws_connect_routing_profile" => connect::routing_profile(src),
        "aws_connect_user" => connect::user(src),
        "aws_connect_phone_number" => connect::phone_number(src),
        "google_compute_network" => gcp::network(src),
        "google_compute_subnetwork" => gcp::subnetwork(src),
        "google_compute_firewall" => gcp::firewall(src),
        "google_compute_router" => gcp::router(src),
        "google_compute_router_interface" => gcp::router_interface(src),
        "google_compute_router_peer" => gcp::router_peer(src),
        "google_compute_ha_vpn_gateway" => gcp::ha_vpn_gateway(src),
        "google_compute_external_vpn_gateway" => gcp::external_vpn_gateway(src),
        "google_compute_vpn_tunnel" => gcp::vpn_tunnel(src),
        "google_compute_interconnect_attachment" => gcp::interconnect_attachment(src),
        _ => {
            let _ = a;
            return None;
        }
    })
}

/// Types whose resources only ever fold into others (never a resource of their own).
pub fn is_fold_type(t: &str) -> bool {
    matches!(
        t,
        "aws_connect_instance_storage_config"
            | "aws_cloudwatch_event_target"
            | "aws_vpn_gateway_attachment"
            | "aws_iam_role_policy"
            | "aws_iam_role_policy_attachment"
            | "google_compute_router_interface"
    )
}

// ---- reading attributes ------------------------------------------------------

/// A non-empty string attribute (Terraform keeps unset optional strings as "").
pub(crate) fn s(a: &Map<String, Value>, k: &str) -> Option<String> {
    a.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string)
}

pub(crate) fn sv(a: &Map<String, Value>, k: &str) -> Option<Value> {
    s(a, k).map(Value::String)
}

pub(crate) fn b(a: &Map<String, Value>, k: &str) -> Option<Value> {
    a.get(k).and_then(Value::as_bool).map(Value::Bool)
}

/// An integer attribute; providers keep some (ASNs, MTUs) as strings.
pub(crate) fn int(a: &Map<String, Value>, k: &str) -> Option<i64> {
    match a.get(k)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn iv(a: &Map<String, Value>, k: &str) -> Option<Value> {
    int(a, k).map(Value::from)
}

/// The first element of a nested block (Terraform keeps blocks as lists).
pub(crate) fn block<'a>(a: &'a Map<String, Value>, k: &str) -> Option<&'a Map<String, Value>> {
    a.get(k).and_then(Value::as_array).and_then(|l| l.first()).and_then(Value::as_object)
}

pub(crate) fn blocks<'a>(a: &'a Map<String, Value>, k: &str) -> Vec<&'a Map<String, Value>> {
    a.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object).collect()
}

pub(crate) fn strings(a: &Map<String, Value>, k: &str) -> Vec<String> {
    a.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

/// Every tag on the resource: `tags_all` (the resource's own tags and the
/// provider's default_tags), as the cloud reports them.
pub(crate) fn tags(a: &Map<String, Value>) -> Option<Value> {
    let t = a.get("tags_all").filter(|t| t.as_object().is_some_and(|m| !m.is_empty())).or_else(|| a.get("tags"))?;
    t.as_object().filter(|m| !m.is_empty()).map(|m| Value::Object(m.clone()))
}

/// A JSON document kept as text by Terraform (policies, flow content,
/// dashboard bodies), as a mapping so the spec reads as YAML and references
/// inside it can be rebuilt. Text that is not JSON stays text.
pub(crate) fn document(a: &Map<String, Value>, k: &str) -> Option<Value> {
    let text = s(a, k)?;
    Some(serde_json::from_str::<Value>(&text).ok().filter(Value::is_object).unwrap_or(Value::String(text)))
}

/// The region in an ARN (`arn:aws:kinesis:us-west-2:...` -> us-west-2).
pub fn arn_region(arn: &str) -> Option<&str> {
    let mut it = arn.splitn(5, ':');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some("arn"), Some(_), Some(_), Some(r)) if !r.is_empty() => Some(r),
        _ => None,
    }
}

/// A note for an attribute tandem does not manage, when it is set.
pub(crate) fn unmodelled(m: &mut Mapped, a: &Map<String, Value>, fields: &[(&str, &str)]) {
    for (k, what) in fields {
        let set = match a.get(*k) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(l)) => !l.is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(_)) => true,
        };
        if set {
            m.note(format!("`{k}` ({what}) is not managed by tandem: it stays as it is in the cloud ({})", render(&a[*k])));
        }
    }
}

pub(crate) fn render(v: &Value) -> String {
    let t = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if t.len() > 80 {
        format!("{}...", &t[..t.char_indices().nth(77).map(|(i, _)| i).unwrap_or(t.len())])
    } else {
        t
    }
}

pub(crate) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(crate) fn fold(kind: &'static str, id: impl Into<String>, props: Value) -> Outcome {
    Outcome::Fold(Fold { kind, id: id.into(), props: obj(props), notes: Vec::new() })
}

pub(crate) fn skip(reason: impl Into<String>) -> Outcome {
    Outcome::Skip(reason.into())
}

pub(crate) fn id(a: &Map<String, Value>) -> String {
    s(a, "id").unwrap_or_default()
}
