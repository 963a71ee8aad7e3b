//! References rebuilt: a property value that equals another resource's
//! output (its id, ARN, self link, a tunnel's address) becomes
//! `${address.output}`, which gives the graph its edge and keeps the two
//! together when one changes. Values that only look alike by accident
//! (zones, CIDR blocks, names, numbers) are left as they are.

use crate::Node;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use tandem_provider::Registry;

/// Outputs that describe rather than identify: equal values there are coincidence.
const NOT_IDENTITIES: &[&str] = &[
    "name",
    "availability_zone",
    "cidr_block",
    "ip_cidr_range",
    "owner_id",
    "vpc_id",
    "state",
    "status",
    "detailed_status",
    "peer_ip",
    "gateway_address",
    "code_sha256",
    "phone_number",
    "replica_region",
    "asn",
    "amazon_side_asn",
    "vgw_asn",
];

fn rank(output: &str) -> u8 {
    match output {
        "id" => 0,
        "arn" => 1,
        "self_link" => 2,
        _ => 3,
    }
}

/// Long enough, and not a bare number (numeric ids, ASNs and sizes repeat by chance).
fn distinctive(s: &str) -> bool {
    s.len() >= 6 && !s.chars().all(|c| c.is_ascii_digit())
}

pub fn rebuild(nodes: &mut [Node], registry: &Registry) {
    let mut index: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (j, n) in nodes.iter().enumerate() {
        for (out, v) in &n.mapped.outputs {
            if let Some(s) = v.as_str().filter(|s| distinctive(s)) {
                if !NOT_IDENTITIES.contains(&out.as_str()) {
                    index.entry(s.to_string()).or_default().push((j, out.clone()));
                }
            }
        }
    }
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
    for i in 0..nodes.len() {
        let schema = registry.schema(nodes[i].mapped.kind);
        let name_field = schema.and_then(|s| s.name_field);
        let mut props = Map::new();
        for (k, v) in nodes[i].mapped.props.clone() {
            let refers_to: Vec<&str> = schema.and_then(|s| s.field(&k)).map(|f| f.refers_to.clone()).unwrap_or_default();
            let v = if Some(k.as_str()) == name_field {
                escape(&v)
            } else {
                let ctx = Ctx { me: i, nodes, index: &index, refers_to: &refers_to };
                ctx.walk(&v, &mut edges)
            };
            props.insert(k, v);
        }
        nodes[i].spec_props = props;
    }
    for (i, e) in edges.into_iter().enumerate() {
        let deps: BTreeSet<String> = e.into_iter().map(|j| nodes[j].address.clone()).collect();
        nodes[i].deps = deps;
    }
}

struct Ctx<'a> {
    me: usize,
    nodes: &'a [Node],
    index: &'a BTreeMap<String, Vec<(usize, String)>>,
    refers_to: &'a [&'static str],
}

impl Ctx<'_> {
    fn walk(&self, v: &Value, edges: &mut Vec<BTreeSet<usize>>) -> Value {
        match v {
            Value::String(s) => self.string(s, edges).unwrap_or_else(|| Value::String(s.replace("${", "$${"))),
            Value::Array(l) => Value::Array(l.iter().map(|x| self.walk(x, edges)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), self.walk(x, edges))).collect()),
            other => other.clone(),
        }
    }

    /// `${address.output}` for a value another resource outputs (or such an
    /// address with a `/NN` prefix length after it).
    fn string(&self, s: &str, edges: &mut [BTreeSet<usize>]) -> Option<Value> {
        if let Some((j, out)) = self.best(s, edges) {
            edges[self.me].insert(j);
            return Some(Value::String(format!("${{{}.{out}}}", self.nodes[j].address)));
        }
        let (ip, len) = s.split_once('/')?;
        if !len.chars().all(|c| c.is_ascii_digit()) || ip.parse::<std::net::Ipv4Addr>().is_err() {
            return None;
        }
        let (j, out) = self.best_among(ip, edges, |o| o.ends_with("_ip"))?;
        edges[self.me].insert(j);
        Some(Value::String(format!("${{{}.{out}}}/{len}", self.nodes[j].address)))
    }

    fn best(&self, s: &str, edges: &[BTreeSet<usize>]) -> Option<(usize, String)> {
        if !distinctive(s) {
            return None;
        }
        self.best_among(s, edges, |_| true)
    }

    fn best_among(&self, s: &str, edges: &[BTreeSet<usize>], keep: impl Fn(&str) -> bool) -> Option<(usize, String)> {
        let mut c: Vec<&(usize, String)> =
            self.index.get(s)?.iter().filter(|(j, o)| *j != self.me && keep(o) && !reaches(edges, *j, self.me)).collect();
        c.sort_by_key(|(j, o)| (!self.refers_to.contains(&self.nodes[*j].mapped.kind), rank(o), self.nodes[*j].address.clone(), o.clone()));
        c.first().map(|(j, o)| (*j, o.clone()))
    }
}

/// Whether `from` already reaches `to`: an edge back would close a cycle.
fn reaches(edges: &[BTreeSet<usize>], from: usize, to: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges[n].iter().copied());
        }
    }
    false
}

/// A literal `${` in a value is written `$${` in the spec.
pub fn escape(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("${", "$${")),
        Value::Array(l) => Value::Array(l.iter().map(escape).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), escape(x))).collect()),
        other => other.clone(),
    }
}
