//! Each GCP kind's properties (the spec's snake_case shape) mapped to the
//! Compute Engine REST resource and back. A mapping knows one API resource;
//! calling and waiting is [`crate::kind::Kind`]'s job.

use crate::Coll;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use tandem_provider::{private_asn, prop_i64, prop_str, Invalid, KindSchema, ProviderError, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

pub trait Mapping: Send + Sync {
    fn coll(&self) -> Coll;
    fn schema(&self) -> KindSchema;
    /// The insert body (name included).
    fn body(&self, props: &Map<String, Value>) -> Result<Value>;
    /// Properties in the spec's shape and outputs, from the API's answer.
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>);
    /// The PATCH body for the changed top-level properties; `current` is the
    /// resource as last read (for fingerprints). None: nothing here can change in place.
    fn patch(&self, _desired: &Map<String, Value>, _changed: &[String], _current: &Value) -> Option<Result<Value>> {
        None
    }
    /// The kind's own rules; names and links are checked for every kind ([`check_common`]).
    fn validate(&self, _props: &Map<String, Value>) -> Vec<Invalid> {
        Vec::new()
    }
    /// A state the resource passes through after its insert is done, which
    /// create waits out before reading it (None: nothing to wait for).
    fn pending_state(&self, _api: &Value) -> Option<String> {
        None
    }
    /// Whether delete first waits for [`Mapping::pending_state`] to clear.
    fn settles_before_delete(&self) -> bool {
        false
    }
}

/// What every GCP kind checks: its name, and that references are self links.
pub fn check_common(schema: &KindSchema, props: &Map<String, Value>) -> Vec<Invalid> {
    let mut out = Vec::new();
    check_name(props, &mut out);
    check_links(schema, props, &mut out);
    out
}

pub fn all() -> Vec<Box<dyn Mapping>> {
    vec![
        Box::new(Network),
        Box::new(Subnetwork),
        Box::new(Firewall),
        Box::new(Router),
        Box::new(HaVpnGateway),
        Box::new(ExternalVpnGateway),
        Box::new(VpnTunnel),
        Box::new(InterconnectAttachment),
    ]
}

const NAME_DOC: &str =
    "The resource name: 1-63 lowercase letters, digits and hyphens, starting with a letter (RFC 1035); defaults to the resource's key.";

/// project, name and description: every GCP kind has them.
fn common(mut rest: Vec<Field>) -> Vec<Field> {
    let mut v = vec![
        Field::new("project", Type::String).required().force_new().doc("The Google Cloud project id."),
        Field::new("name", Type::String).required().force_new().doc(NAME_DOC),
        Field::new("description", Type::String).force_new().computed().doc("An optional description."),
    ];
    v.append(&mut rest);
    v
}

fn outputs(extra: Vec<OutputDef>) -> Vec<OutputDef> {
    let mut v = vec![
        OutputDef::new("self_link", "The resource's URL: what other GCP resources reference it by."),
        OutputDef::new("name", "The resource name."),
    ];
    v.extend(extra);
    v
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
/// https://cloud.google.com/compute/docs/naming-resources#resource-name-format
fn check_name(props: &Map<String, Value>, out: &mut Vec<Invalid>) {
    if let Some(n) = prop_str(props, "name") {
        let b = n.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_lowercase()
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[b.len() - 1] != b'-';
        if !ok {
            out.push(Invalid::new("name", format!("{n:?} is not a valid GCP resource name: use 1-63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (e.g. {:?})", n.to_ascii_lowercase().replace('_', "-"))));
        }
    }
}

/// Fields that reference another GCP resource take its `self_link` (a URL):
/// Compute Engine answers with URLs, so a bare name or a partial path would
/// read back different from the spec and show as a change forever (a
/// replacement, these fields being force_new).
fn check_links(schema: &KindSchema, props: &Map<String, Value>, out: &mut Vec<Invalid>) {
    for f in schema.properties.iter().filter(|f| f.refers_to.iter().any(|k| k.starts_with("gcp."))) {
        if let Some(v) = prop_str(props, f.name) {
            if !(v.starts_with("https://") || v.starts_with("http://")) {
                let target = f.refers_to[0].rsplit('.').next().unwrap_or("resource");
                out.push(Invalid::new(f.name, format!("{v:?} is not a self link: reference the {target}'s `self_link` output (e.g. ${{gcp_{target}.self_link}}), the URL GCP answers with")));
            }
        }
    }
}

/// Copies a string/number/bool property into the body under another name.
fn copy(props: &Map<String, Value>, from: &str, body: &mut Map<String, Value>, to: &str) {
    if let Some(v) = props.get(from).filter(|v| !v.is_null()) {
        body.insert(to.to_string(), v.clone());
    }
}

fn base_body(props: &Map<String, Value>) -> Map<String, Value> {
    let mut b = Map::new();
    copy(props, "name", &mut b, "name");
    copy(props, "description", &mut b, "description");
    b
}

fn base_observed(api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
    let mut p = Map::new();
    if let Some(project) = api["selfLink"].as_str().and_then(|l| l.split("/projects/").nth(1)).and_then(|t| t.split('/').next()) {
        p.insert("project".into(), json!(project));
    }
    p.insert("name".into(), api["name"].clone());
    p.insert("description".into(), json!(api["description"].as_str().unwrap_or_default()));
    let mut o = BTreeMap::new();
    o.insert("self_link".into(), api["selfLink"].clone());
    o.insert("name".into(), api["name"].clone());
    (p, o)
}

fn set(p: &mut Map<String, Value>, key: &str, v: &Value) {
    if !v.is_null() {
        p.insert(key.to_string(), v.clone());
    }
}

fn string_list(v: &Value) -> Value {
    json!(v.as_array().cloned().unwrap_or_default())
}

// ---- networks ------------------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/networks
pub struct Network;

impl Mapping for Network {
    fn coll(&self) -> Coll {
        Coll::Networks
    }
    fn schema(&self) -> KindSchema {
        KindSchema {
            type_name: "gcp.compute.network",
            doc: "A VPC network in custom subnet mode (subnetworks are declared as gcp.compute.subnetwork), with regional or global dynamic routing.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/networks",
            regional: false,
            properties: common(vec![
                Field::new("routing_mode", Type::enumeration(&["REGIONAL", "GLOBAL"])).computed().doc("routingConfig.routingMode: GLOBAL lets Cloud Routers advertise and learn routes for every region (what a multi-region hybrid network wants); REGIONAL is GCP's default."),
                Field::new("mtu", Type::Integer).computed().check(Check::Range(1300, 8896)).doc("The MTU in bytes (1300-8896; GCP's default is 1460)."),
            ]),
            outputs: outputs(vec![OutputDef::new("id", "The numeric network id.")]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/global/networks/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        // Custom mode: auto mode would create a subnetwork in every region,
        // overlapping the AWS side's ranges.
        b.insert("autoCreateSubnetworks".into(), json!(false));
        if let Some(m) = prop_str(props, "routing_mode") {
            b.insert("routingConfig".into(), json!({ "routingMode": m }));
        }
        copy(props, "mtu", &mut b, "mtu");
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, mut o) = base_observed(api);
        set(&mut p, "routing_mode", &api["routingConfig"]["routingMode"]);
        set(&mut p, "mtu", &api["mtu"]);
        o.insert("id".into(), api["id"].clone());
        (p, o)
    }
    /// networks.patch changes routingConfig and mtu.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/networks/patch
    fn patch(&self, desired: &Map<String, Value>, changed: &[String], _: &Value) -> Option<Result<Value>> {
        let mut b = Map::new();
        for f in changed {
            match f.as_str() {
                "routing_mode" => {
                    b.insert("routingConfig".into(), json!({ "routingMode": desired.get("routing_mode") }));
                }
                "mtu" => copy(desired, "mtu", &mut b, "mtu"),
                other => return Some(Err(ProviderError::invalid(format!("{other} of a network cannot be changed in place")))),
            }
        }
        Some(Ok(Value::Object(b)))
    }
}

// ---- subnetworks -----------------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks
pub struct Subnetwork;

impl Mapping for Subnetwork {
    fn coll(&self) -> Coll {
        Coll::Subnetworks
    }
    fn schema(&self) -> KindSchema {
        KindSchema {
            type_name: "gcp.compute.subnetwork",
            doc: "A regional subnetwork of a VPC network. Its range must not overlap the network's other subnetworks, nor (checked by tandem validate) the AWS VPCs it is routed to.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks",
            regional: true,
            properties: common(vec![
                Field::new("network", Type::String).required().force_new().refers_to(&["gcp.compute.network"]).carries_traffic().doc("The network's self_link."),
                Field::new("ip_cidr_range", Type::String).required().force_new().check(Check::Ipv4Cidr).check(Check::DistinctNetwork).doc("The primary IPv4 range (at most a /29), e.g. 10.20.0.0/20."),
                Field::new("private_ip_google_access", Type::Boolean).computed().doc("Lets VMs without external IPs reach Google APIs."),
            ]),
            outputs: outputs(vec![OutputDef::new("gateway_address", "The range's gateway address."), OutputDef::new("ip_cidr_range", "The primary range.")]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/regions/REGION/subnetworks/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "network", &mut b, "network");
        copy(props, "ip_cidr_range", &mut b, "ipCidrRange");
        copy(props, "private_ip_google_access", &mut b, "privateIpGoogleAccess");
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, mut o) = base_observed(api);
        set(&mut p, "network", &api["network"]);
        set(&mut p, "ip_cidr_range", &api["ipCidrRange"]);
        p.insert("private_ip_google_access".into(), json!(api["privateIpGoogleAccess"].as_bool().unwrap_or(false)));
        o.insert("gateway_address".into(), api["gatewayAddress"].clone());
        o.insert("ip_cidr_range".into(), api["ipCidrRange"].clone());
        (p, o)
    }
    /// subnetworks.patch needs the current fingerprint.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
    fn patch(&self, desired: &Map<String, Value>, changed: &[String], current: &Value) -> Option<Result<Value>> {
        let mut b = Map::new();
        b.insert("fingerprint".into(), current["fingerprint"].clone());
        for f in changed {
            match f.as_str() {
                "private_ip_google_access" => copy(desired, f, &mut b, "privateIpGoogleAccess"),
                other => return Some(Err(ProviderError::invalid(format!("{other} of a subnetwork cannot be changed in place")))),
            }
        }
        Some(Ok(Value::Object(b)))
    }
    fn validate(&self, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        if let Some(len) = prop_str(props, "ip_cidr_range").and_then(|c| c.split_once('/')).and_then(|(_, l)| l.parse::<u8>().ok()) {
            if len > 29 {
                out.push(Invalid::new("ip_cidr_range", format!("a subnetwork range is at most a /29, found a /{len}")));
            }
        }
        out
    }
}

// ---- firewalls -------------------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls
pub struct Firewall;

impl Mapping for Firewall {
    fn coll(&self) -> Coll {
        Coll::Firewalls
    }
    fn schema(&self) -> KindSchema {
        let rule = Type::Object(vec![
            Field::new("ip_protocol", Type::String)
                .required()
                .doc("IPProtocol: tcp, udp, icmp, esp, ah, sctp, ipip, all, or a protocol number."),
            Field::new("ports", Type::list(Type::String)).doc("Ports or ranges (\"443\", \"5060-5061\"); only for tcp, udp and sctp."),
        ]);
        KindSchema {
            type_name: "gcp.compute.firewall",
            doc: "A VPC firewall rule: traffic allowed into (INGRESS) or out of (EGRESS) a network, e.g. the AWS VPC ranges reaching the contact-center subnets.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/firewalls",
            regional: false,
            properties: common(vec![
                Field::new("network", Type::String).required().force_new().refers_to(&["gcp.compute.network"]).doc("The network's self_link."),
                Field::new("direction", Type::enumeration(&["INGRESS", "EGRESS"])).force_new().computed().doc("INGRESS (GCP's default) or EGRESS."),
                Field::new("priority", Type::Integer).computed().check(Check::Range(0, 65535)).doc("0 (first) to 65535; GCP's default 1000."),
                Field::new("allowed", Type::list(rule)).required().doc("What the rule lets through."),
                Field::new("source_ranges", Type::list(Type::String)).unordered().doc("Source CIDR blocks (INGRESS)."),
                Field::new("destination_ranges", Type::list(Type::String)).unordered().doc("Destination CIDR blocks (EGRESS)."),
                Field::new("target_tags", Type::list(Type::String)).unordered().doc("Only instances with one of these network tags; all instances when absent."),
                Field::new("disabled", Type::Boolean).computed().doc("A disabled rule is kept but not enforced."),
            ]),
            outputs: outputs(vec![]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/global/firewalls/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "network", &mut b, "network");
        copy(props, "direction", &mut b, "direction");
        patchable_firewall(props, &mut b);
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, o) = base_observed(api);
        set(&mut p, "network", &api["network"]);
        set(&mut p, "direction", &api["direction"]);
        set(&mut p, "priority", &api["priority"]);
        let allowed: Vec<Value> = api["allowed"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let mut r = Map::new();
                r.insert("ip_protocol".into(), a["IPProtocol"].clone());
                if let Some(ports) = a["ports"].as_array().filter(|p| !p.is_empty()) {
                    r.insert("ports".into(), json!(ports));
                }
                Value::Object(r)
            })
            .collect();
        p.insert("allowed".into(), json!(allowed));
        p.insert("source_ranges".into(), string_list(&api["sourceRanges"]));
        p.insert("destination_ranges".into(), string_list(&api["destinationRanges"]));
        p.insert("target_tags".into(), string_list(&api["targetTags"]));
        p.insert("disabled".into(), json!(api["disabled"].as_bool().unwrap_or(false)));
        (p, o)
    }
    /// firewalls.patch: everything but name, network and direction.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/patch
    fn patch(&self, desired: &Map<String, Value>, changed: &[String], _: &Value) -> Option<Result<Value>> {
        let mut b = Map::new();
        patchable_firewall(desired, &mut b);
        // An emptied list must be sent empty, or PATCH would leave it as it was.
        for (f, api) in [("source_ranges", "sourceRanges"), ("destination_ranges", "destinationRanges"), ("target_tags", "targetTags")] {
            if changed.iter().any(|c| c == f) && !b.contains_key(api) {
                b.insert(api.into(), json!([]));
            }
        }
        Some(Ok(Value::Object(b)))
    }
    fn validate(&self, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        for f in ["source_ranges", "destination_ranges"] {
            for r in props.get(f).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if r.parse::<ipnet::Ipv4Net>().is_err() {
                    out.push(Invalid::new(f, format!("{r:?} is not an IPv4 CIDR block such as 10.0.0.0/16")));
                }
            }
        }
        out
    }
}

fn patchable_firewall(props: &Map<String, Value>, b: &mut Map<String, Value>) {
    copy(props, "priority", b, "priority");
    copy(props, "disabled", b, "disabled");
    if let Some(rules) = props.get("allowed").and_then(Value::as_array) {
        let rules: Vec<Value> = rules
            .iter()
            .map(|r| {
                let mut a = Map::new();
                a.insert("IPProtocol".into(), r["ip_protocol"].clone());
                if let Some(p) = r.get("ports").filter(|p| !p.is_null()) {
                    a.insert("ports".into(), p.clone());
                }
                Value::Object(a)
            })
            .collect();
        b.insert("allowed".into(), json!(rules));
    }
    copy(props, "source_ranges", b, "sourceRanges");
    copy(props, "destination_ranges", b, "destinationRanges");
    copy(props, "target_tags", b, "targetTags");
}

// ---- routers ---------------------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/routers
pub struct Router;

impl Mapping for Router {
    fn coll(&self) -> Coll {
        Coll::Routers
    }
    fn schema(&self) -> KindSchema {
        let range = Type::Object(vec![
            Field::new("range", Type::String).required().check(Check::Ipv4Cidr).doc("A CIDR block to advertise."),
            Field::new("description", Type::String).doc("What the range is."),
        ]);
        KindSchema {
            type_name: "gcp.compute.router",
            doc: "A Cloud Router: the BGP speaker of a VPC network in one region. Its interfaces and BGP peers are declared separately as gcp.compute.router_peer, so VPN tunnels and interconnect attachments can be added without rewriting the router.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/routers",
            regional: true,
            properties: common(vec![
                Field::new("network", Type::String).required().force_new().refers_to(&["gcp.compute.network"]).carries_traffic().doc("The network's self_link."),
                Field::new("asn", Type::Integer).required().check(Check::DistinctAsn).doc("bgp.asn: a private ASN (64512-65534 or 4200000000-4294967294), different from the AWS side's; 16550 for a router that serves Partner Interconnect attachments."),
                Field::new("advertise_mode", Type::enumeration(&["DEFAULT", "CUSTOM"])).computed().doc("bgp.advertiseMode: DEFAULT advertises the subnetworks; CUSTOM advertises advertised_groups and advertised_ip_ranges."),
                Field::new("advertised_groups", Type::list(Type::enumeration(&["ALL_SUBNETS"]))).unordered().doc("bgp.advertisedGroups (CUSTOM mode)."),
                Field::new("advertised_ip_ranges", Type::list(range)).doc("bgp.advertisedIpRanges (CUSTOM mode)."),
                Field::new("keepalive_interval", Type::Integer).computed().check(Check::Range(20, 60)).doc("bgp.keepaliveInterval in seconds (20-60, default 20)."),
            ]),
            outputs: outputs(vec![OutputDef::new("asn", "The router's BGP ASN (the customer gateway's ASN on the AWS side).")]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/regions/REGION/routers/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "network", &mut b, "network");
        b.insert("bgp".into(), bgp(props));
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, mut o) = base_observed(api);
        let bgp = &api["bgp"];
        set(&mut p, "network", &api["network"]);
        set(&mut p, "asn", &bgp["asn"]);
        set(&mut p, "advertise_mode", &bgp["advertiseMode"]);
        set(&mut p, "keepalive_interval", &bgp["keepaliveInterval"]);
        p.insert("advertised_groups".into(), string_list(&bgp["advertisedGroups"]));
        let ranges: Vec<Value> = bgp["advertisedIpRanges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let mut m = Map::new();
                m.insert("range".into(), r["range"].clone());
                if let Some(d) = r["description"].as_str().filter(|d| !d.is_empty()) {
                    m.insert("description".into(), json!(d));
                }
                Value::Object(m)
            })
            .collect();
        p.insert("advertised_ip_ranges".into(), json!(ranges));
        o.insert("asn".into(), bgp["asn"].clone());
        (p, o)
    }
    /// Only `bgp` is sent: interfaces and peers (owned by
    /// gcp.compute.router_peer resources) are left as they are.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers/patch
    fn patch(&self, desired: &Map<String, Value>, changed: &[String], _: &Value) -> Option<Result<Value>> {
        if let Some(other) = changed
            .iter()
            .find(|f| !["asn", "advertise_mode", "advertised_groups", "advertised_ip_ranges", "keepalive_interval"].contains(&f.as_str()))
        {
            return Some(Err(ProviderError::invalid(format!("{other} of a router cannot be changed in place"))));
        }
        let mut bgp = bgp(desired);
        if let (Some(b), false) = (bgp.as_object_mut(), changed.iter().any(|c| c == "advertised_ip_ranges")) {
            b.remove("advertisedIpRanges");
        }
        Some(Ok(json!({ "bgp": bgp })))
    }
    fn validate(&self, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        if let Some(asn) = prop_i64(props, "asn") {
            if !private_asn(asn) && asn != 16550 {
                out.push(Invalid::new("asn", format!("{asn} is not a private ASN: a Cloud Router takes 64512-65534 or 4200000000-4294967294 (or 16550 for Partner Interconnect)")));
            }
        }
        if prop_str(props, "advertise_mode") != Some("CUSTOM") {
            for f in ["advertised_groups", "advertised_ip_ranges"] {
                if props.get(f).and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
                    out.push(Invalid::new(f, format!("{f} is used only with advertise_mode: CUSTOM")));
                }
            }
        }
        out
    }
}

fn bgp(props: &Map<String, Value>) -> Value {
    let mut b = Map::new();
    copy(props, "asn", &mut b, "asn");
    copy(props, "advertise_mode", &mut b, "advertiseMode");
    copy(props, "advertised_groups", &mut b, "advertisedGroups");
    copy(props, "keepalive_interval", &mut b, "keepaliveInterval");
    if let Some(ranges) = props.get("advertised_ip_ranges").and_then(Value::as_array) {
        b.insert("advertisedIpRanges".into(), json!(ranges));
    }
    Value::Object(b)
}

// ---- HA VPN gateways -------------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways
pub struct HaVpnGateway;

impl Mapping for HaVpnGateway {
    fn coll(&self) -> Coll {
        Coll::VpnGateways
    }
    fn schema(&self) -> KindSchema {
        KindSchema {
            type_name: "gcp.compute.ha_vpn_gateway",
            doc: "An HA VPN gateway: two interfaces, each with its own public IP; AWS gets one customer gateway per interface.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways",
            regional: true,
            properties: common(vec![Field::new("network", Type::String)
                .required()
                .force_new()
                .refers_to(&["gcp.compute.network"])
                .carries_traffic()
                .doc("The network's self_link.")]),
            outputs: outputs(vec![
                OutputDef::new("interface0_ip", "The public IP of interface 0 (the first AWS customer gateway's ip_address)."),
                OutputDef::new("interface1_ip", "The public IP of interface 1 (the second AWS customer gateway's ip_address)."),
            ]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/regions/REGION/vpnGateways/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "network", &mut b, "network");
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, mut o) = base_observed(api);
        set(&mut p, "network", &api["network"]);
        for i in [0, 1] {
            let ip = api["vpnInterfaces"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["id"].as_u64().unwrap_or(0) == i)
                .map(|v| v["ipAddress"].clone())
                .unwrap_or(Value::Null);
            o.insert(format!("interface{i}_ip"), ip);
        }
        (p, o)
    }
}

// ---- external VPN gateways -------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/externalVpnGateways
pub struct ExternalVpnGateway;

const REDUNDANCY: &[(&str, usize)] = &[("SINGLE_IP_INTERNALLY_REDUNDANT", 1), ("TWO_IPS_REDUNDANCY", 2), ("FOUR_IPS_REDUNDANCY", 4)];

impl Mapping for ExternalVpnGateway {
    fn coll(&self) -> Coll {
        Coll::ExternalVpnGateways
    }
    fn schema(&self) -> KindSchema {
        let iface = Type::Object(vec![
            Field::new("id", Type::Integer).required().check(Check::Range(0, 3)).doc("The interface number (0 to 3)."),
            Field::new("ip_address", Type::String).required().carries_traffic().doc("The peer's public IP: one AWS tunnel outside IP."),
        ]);
        KindSchema {
            type_name: "gcp.compute.external_vpn_gateway",
            doc: "The peer side of HA VPN tunnels as GCP sees it: for AWS, FOUR_IPS_REDUNDANCY listing the four tunnel outside IPs of the two VPN connections.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/externalVpnGateways",
            regional: false,
            properties: common(vec![
                Field::new("redundancy_type", Type::enumeration(&["SINGLE_IP_INTERNALLY_REDUNDANT", "TWO_IPS_REDUNDANCY", "FOUR_IPS_REDUNDANCY"])).required().force_new().doc("How many interfaces: 1, 2 or 4 (AWS: FOUR_IPS_REDUNDANCY)."),
                Field::new("interfaces", Type::list(iface)).required().force_new().doc("One entry per peer IP, ids 0 to n-1."),
            ]),
            outputs: outputs(vec![]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/global/externalVpnGateways/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "redundancy_type", &mut b, "redundancyType");
        let ifaces: Vec<Value> = props
            .get("interfaces")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|i| json!({ "id": i["id"], "ipAddress": i["ip_address"] }))
            .collect();
        b.insert("interfaces".into(), json!(ifaces));
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, o) = base_observed(api);
        set(&mut p, "redundancy_type", &api["redundancyType"]);
        let ifaces: Vec<Value> = api["interfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| json!({ "id": i["id"].as_u64().unwrap_or(0), "ip_address": i["ipAddress"] }))
            .collect();
        p.insert("interfaces".into(), json!(ifaces));
        (p, o)
    }
    fn validate(&self, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        let Some(ifaces) = props.get("interfaces").and_then(Value::as_array) else { return out };
        if let Some((t, n)) = prop_str(props, "redundancy_type").and_then(|t| REDUNDANCY.iter().find(|(r, _)| *r == t)) {
            if ifaces.len() != *n {
                out.push(Invalid::new("interfaces", format!("{t} takes {n} interface(s), found {}", ifaces.len())));
            }
        }
        let mut ids: Vec<i64> = ifaces.iter().filter_map(|i| i["id"].as_i64()).collect();
        ids.sort_unstable();
        if ids.len() == ifaces.len() && ids != (0..ids.len() as i64).collect::<Vec<_>>() {
            out.push(Invalid::new(
                "interfaces",
                format!("interface ids must be 0 to {} once each, found {ids:?}", ifaces.len().saturating_sub(1)),
            ));
        }
        for ip in ifaces.iter().filter_map(|i| i["ip_address"].as_str()) {
            if ip.parse::<Ipv4Addr>().is_err() {
                out.push(Invalid::new("interfaces", format!("{ip:?} is not an IPv4 address")));
            }
        }
        out
    }
}

// ---- VPN tunnels -----------------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels
pub struct VpnTunnel;

impl Mapping for VpnTunnel {
    fn coll(&self) -> Coll {
        Coll::VpnTunnels
    }
    fn schema(&self) -> KindSchema {
        KindSchema {
            type_name: "gcp.compute.vpn_tunnel",
            doc: "One IPsec tunnel of an HA VPN gateway interface to one interface of an external VPN gateway (IKEv2), with the AWS tunnel's pre-shared key, routed by a Cloud Router.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels",
            regional: true,
            properties: common(vec![
                Field::new("vpn_gateway", Type::String).required().force_new().refers_to(&["gcp.compute.ha_vpn_gateway"]).carries_traffic().doc("The HA VPN gateway's self_link."),
                Field::new("vpn_gateway_interface", Type::Integer).required().force_new().check(Check::Range(0, 1)).doc("The HA VPN gateway interface (0 or 1)."),
                Field::new("peer_external_gateway", Type::String).required().force_new().refers_to(&["gcp.compute.external_vpn_gateway"]).carries_traffic().doc("The external VPN gateway's self_link."),
                Field::new("peer_external_gateway_interface", Type::Integer).required().force_new().check(Check::Range(0, 3)).doc("The external gateway interface this tunnel ends at."),
                Field::new("router", Type::String).required().force_new().refers_to(&["gcp.compute.router"]).carries_traffic().doc("The Cloud Router's self_link."),
                Field::new("shared_secret", Type::String).required().force_new().sensitive().doc("The IKE pre-shared key (the AWS tunnel's pre_shared_key output). Never shown; GCP does not return it, so a change out of band cannot be seen."),
                Field::new("ike_version", Type::Integer).force_new().computed().check(Check::Range(1, 2)).doc("The IKE version: 2 (AWS supports IKEv2)."),
            ]),
            outputs: outputs(vec![
                OutputDef::new("peer_ip", "The peer's IP address."),
                OutputDef::new("status", "The tunnel status (ESTABLISHED when up)."),
                OutputDef::new("detailed_status", "GCP's words for the tunnel status."),
            ]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/regions/REGION/vpnTunnels/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "vpn_gateway", &mut b, "vpnGateway");
        copy(props, "vpn_gateway_interface", &mut b, "vpnGatewayInterface");
        copy(props, "peer_external_gateway", &mut b, "peerExternalGateway");
        copy(props, "peer_external_gateway_interface", &mut b, "peerExternalGatewayInterface");
        copy(props, "router", &mut b, "router");
        copy(props, "shared_secret", &mut b, "sharedSecret");
        b.insert("ikeVersion".into(), props.get("ike_version").filter(|v| !v.is_null()).cloned().unwrap_or(json!(2)));
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, mut o) = base_observed(api);
        set(&mut p, "vpn_gateway", &api["vpnGateway"]);
        set(&mut p, "vpn_gateway_interface", &json!(api["vpnGatewayInterface"].as_i64().unwrap_or(0)));
        set(&mut p, "peer_external_gateway", &api["peerExternalGateway"]);
        set(&mut p, "peer_external_gateway_interface", &json!(api["peerExternalGatewayInterface"].as_i64().unwrap_or(0)));
        set(&mut p, "router", &api["router"]);
        set(&mut p, "ike_version", &api["ikeVersion"]);
        o.insert("peer_ip".into(), api["peerIp"].clone());
        o.insert("status".into(), api["status"].clone());
        o.insert("detailed_status".into(), api["detailedStatus"].clone());
        (p, o)
    }
    fn validate(&self, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        // https://cloud.google.com/network-connectivity/docs/vpn/how-to/generating-pre-shared-key
        if let Some(s) = prop_str(props, "shared_secret") {
            if s.is_empty() || s.len() > 64 {
                out.push(Invalid::new("shared_secret", "the shared secret must be 1 to 64 characters long"));
            }
        }
        out
    }
}

// ---- interconnect attachments ------------------------------------------------

/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
pub struct InterconnectAttachment;

impl Mapping for InterconnectAttachment {
    fn coll(&self) -> Coll {
        Coll::InterconnectAttachments
    }
    fn schema(&self) -> KindSchema {
        KindSchema {
            type_name: "gcp.compute.interconnect_attachment",
            doc: "A Partner Interconnect VLAN attachment: its pairing key goes to the partner that provisions the AWS Direct Connect hosted connection; it stays PENDING_PARTNER until the partner acts.",
            api_reference: "https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments",
            regional: true,
            properties: common(vec![
                Field::new("router", Type::String).required().force_new().refers_to(&["gcp.compute.router"]).carries_traffic().doc("The Cloud Router's self_link (its ASN must be 16550)."),
                Field::new("type", Type::enumeration(&["PARTNER"])).force_new().computed().doc("PARTNER: the only type tandem manages."),
                Field::new("edge_availability_domain", Type::enumeration(&["AVAILABILITY_DOMAIN_ANY", "AVAILABILITY_DOMAIN_1", "AVAILABILITY_DOMAIN_2"]))
                    .force_new()
                    .doc("Which edge availability domain (GCP's default AVAILABILITY_DOMAIN_ANY); a redundant pair puts one attachment in each of AVAILABILITY_DOMAIN_1 and _2. Input only: GCP does not read it back (the pairing key ends with the domain)."),
                Field::new("admin_enabled", Type::Boolean).computed().doc("Whether traffic may flow once the partner is done (GCP's default for PARTNER: false)."),
                Field::new("mtu", Type::Integer).computed().doc("The MTU in bytes: 1440 (GCP's default), 1460, 1500 or 8896."),
            ]),
            outputs: outputs(vec![
                OutputDef::new("pairing_key", "The key to give the partner when ordering the connection (read once the attachment has left UNPROVISIONED).").sensitive(),
                OutputDef::new("state", "PENDING_PARTNER until the partner provisions the connection, then ACTIVE (create waits while it is UNPROVISIONED)."),
            ]),
            name_field: Some("name"),
            import_id: "projects/PROJECT/regions/REGION/interconnectAttachments/NAME",
        }
    }
    fn body(&self, props: &Map<String, Value>) -> Result<Value> {
        let mut b = base_body(props);
        copy(props, "router", &mut b, "router");
        b.insert("type".into(), json!("PARTNER"));
        copy(props, "edge_availability_domain", &mut b, "edgeAvailabilityDomain");
        copy(props, "admin_enabled", &mut b, "adminEnabled");
        copy(props, "mtu", &mut b, "mtu");
        Ok(Value::Object(b))
    }
    fn observe(&self, api: &Value) -> (Map<String, Value>, BTreeMap<String, Value>) {
        let (mut p, mut o) = base_observed(api);
        set(&mut p, "router", &api["router"]);
        set(&mut p, "type", &api["type"]);
        set(&mut p, "edge_availability_domain", &api["edgeAvailabilityDomain"]);
        p.insert("admin_enabled".into(), json!(api["adminEnabled"].as_bool().unwrap_or(false)));
        set(&mut p, "mtu", &api["mtu"]);
        o.insert("pairing_key".into(), api["pairingKey"].clone());
        o.insert("state".into(), api["state"].clone());
        (p, o)
    }
    /// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments/patch
    fn patch(&self, desired: &Map<String, Value>, changed: &[String], _: &Value) -> Option<Result<Value>> {
        let mut b = Map::new();
        for f in changed {
            match f.as_str() {
                "admin_enabled" => copy(desired, f, &mut b, "adminEnabled"),
                "mtu" => copy(desired, f, &mut b, "mtu"),
                other => {
                    return Some(Err(ProviderError::invalid(format!("{other} of an interconnect attachment cannot be changed in place"))))
                }
            }
        }
        Some(Ok(Value::Object(b)))
    }
    fn validate(&self, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        // mtu: "Valid values are 1440, 1460, 1500, and 8896. If not specified,
        // the value will default to 1440."
        // https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
        if let Some(m) = prop_i64(props, "mtu") {
            if !ATTACHMENT_MTUS.contains(&m) {
                out.push(Invalid::new(
                    "mtu",
                    format!("an interconnect attachment's MTU is 1440 (the default), 1460, 1500 or 8896, found {m}"),
                ));
            }
        }
        out
    }
    /// "UNPROVISIONED: The attachment is not ready to use yet, because turnup
    /// is not complete"; its pairing key may not be there yet. The google
    /// provider waits for a new attachment to leave UNPROVISIONED after create
    /// and before delete (waitForAttachmentToBeProvisioned), and so does this.
    fn pending_state(&self, api: &Value) -> Option<String> {
        (api["state"] == "UNPROVISIONED").then(|| "UNPROVISIONED".to_string())
    }
    fn settles_before_delete(&self) -> bool {
        true
    }
}

/// The MTUs an interconnect attachment takes.
pub const ATTACHMENT_MTUS: &[i64] = &[1440, 1460, 1500, 8896];
