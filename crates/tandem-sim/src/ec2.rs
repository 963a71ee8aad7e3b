//! EC2 site-to-site VPN tunnel options. moto (5.2.5) answers
//! CreateVpnConnection / DescribeVpnConnections without `options`
//! (no `tunnelOptionSet`: no tunnel outside IPs, inside CIDRs or pre-shared
//! keys) and without `vgwTelemetry`, and its `customerGatewayConfiguration`
//! shows the same made-up tunnel twice. This module keeps two tunnels per VPN
//! connection, stable across calls, and rewrites moto's XML answers:
//!
//! - injects `<options><tunnelOptionSet><item>` x2 (outsideIpAddress,
//!   tunnelInsideCidr, preSharedKey, ikeVersionSet) and `<vgwTelemetry>` items;
//! - makes `customerGatewayConfiguration` agree (per tunnel: the VGW outside
//!   IP, both inside addresses, the pre-shared key; the customer gateway's
//!   public IP and ASN once its Create/Describe answer has been seen).
//!
//! Everything else in moto's XML is left byte for byte as it was.
//!
//! Order: EC2 does not keep the order of the tunnels in its answers ("tunnel
//! options inverted" after a re-read: hashicorp/terraform-provider-aws#5809,
//! #16928, fixed there by matching tunnels by address). The sandbox answers
//! the two tunnels of `tunnelOptionSet` and of `vgwTelemetry` in an order that
//! alternates from one DescribeVpnConnections call to the next (options on
//! every other call, telemetry every other pair of calls, so all four
//! combinations come round), deterministically, so a client that maps tunnels
//! by position sees them swap. `customerGatewayConfiguration` keeps one order.
//!
//! Validation follows the EC2 API Reference, VpnTunnelOptionsSpecification
//! (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpnTunnelOptionsSpecification.html):
//! TunnelInsideCidr "A size /30 CIDR block from the 169.254.0.0/16 range" not
//! among the reserved blocks, "unique across all VPN connections that use the
//! same virtual private gateway"; PreSharedKey "Allowed characters are
//! alphanumeric characters, periods (.), and underscores (_). Must be between 8
//! and 64 characters in length and cannot start with zero (0)." Violations are
//! `InvalidParameterValue` (400), checked by [`VpnTunnels::validate_create`]
//! before the server forwards the create upstream.
//!
//! Pre-shared keys are secrets: this module never logs them.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::SystemTime;

use rand::Rng;

use crate::env::SimEnv;
use crate::error::ApiError;
use crate::support::time::iso8601;

/// VpnTunnelOptionsSpecification.TunnelInsideCidr: "The following CIDR blocks
/// are reserved and cannot be used".
const RESERVED_INSIDE: &[&str] =
    &["169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"];

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidParameterValue", message)
}

#[derive(Debug, Clone)]
struct Tunnel {
    outside_ip: String,
    inside_cidr: String,
    psk: String,
    ike_versions: Vec<String>,
}

#[derive(Debug, Clone)]
struct VpnRecord {
    vgw_id: Option<String>,
    static_routes_only: Option<bool>,
    tunnels: [Tunnel; 2],
    /// vgwTelemetry lastStatusChange (ISO 8601).
    since: String,
}

/// A customer gateway as upstream described it (its public IP and ASN feed
/// the VPN connection's customerGatewayConfiguration).
#[derive(Debug, Clone)]
struct CustomerGateway {
    ip: String,
    asn: String,
}

#[derive(Default)]
pub struct VpnTunnels {
    conns: HashMap<String, VpnRecord>,
    cgws: HashMap<String, CustomerGateway>,
    next_ip: u32,
    next_cidr: u32,
    /// DescribeVpnConnections answers so far: picks the tunnel order (see the module doc).
    describes: u64,
}

/// What the create parameters say about tunnel N (1 or 2).
#[derive(Debug, Default, Clone)]
struct TunnelParams {
    inside_cidr: Option<String>,
    psk: Option<String>,
    ike_versions: Vec<String>,
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Parses `Options.TunnelOptions.N.*`; N outside 1..=2 is an error.
fn tunnel_params(params: &[(String, String)]) -> Result<[TunnelParams; 2], ApiError> {
    let mut out: [TunnelParams; 2] = Default::default();
    let mut ike: [Vec<(u32, String)>; 2] = Default::default();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Options.TunnelOptions.") else { continue };
        let Some((n, field)) = rest.split_once('.') else { continue };
        let idx = match n.parse::<usize>() {
            Ok(n @ 1..=2) => n - 1,
            _ => return Err(invalid(format!("{k}: a VPN connection has two tunnels; tunnel options must be numbered 1 or 2"))),
        };
        match field {
            "TunnelInsideCidr" => out[idx].inside_cidr = Some(v.clone()),
            "PreSharedKey" => out[idx].psk = Some(v.clone()),
            f => {
                if let Some(m) = f.strip_prefix("IKEVersion.").and_then(|r| r.strip_suffix(".Value")) {
                    ike[idx].push((m.parse().unwrap_or(0), v.clone()));
                }
            }
        }
    }
    for (i, mut list) in ike.into_iter().enumerate() {
        list.sort();
        out[i].ike_versions = list.into_iter().map(|(_, v)| v).collect();
    }
    Ok(out)
}

fn parse_cidr30(cidr: &str) -> Option<Ipv4Addr> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    (len == "30").then_some(addr)
}

fn check_inside_cidr(cidr: &str) -> Result<(), ApiError> {
    let msg = || {
        format!("The tunnel inside CIDR {cidr} is not valid: it must be a /30 CIDR block from 169.254.0.0/16 (for example 169.254.10.0/30)")
    };
    let addr = parse_cidr30(cidr).ok_or_else(|| invalid(msg()))?;
    let o = addr.octets();
    if o[0] != 169 || o[1] != 254 || o[3] % 4 != 0 {
        return Err(invalid(msg()));
    }
    if RESERVED_INSIDE.contains(&cidr) {
        return Err(invalid(format!("The tunnel inside CIDR {cidr} is reserved; the reserved blocks are {}", RESERVED_INSIDE.join(", "))));
    }
    Ok(())
}

fn check_psk(psk: &str) -> Result<(), ApiError> {
    // Never echo the key itself.
    let ok_chars = psk.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    if !ok_chars || !(8..=64).contains(&psk.len()) || psk.starts_with('0') {
        return Err(invalid(
            "The pre-shared key is not valid: use 8 to 64 characters among letters, digits, '.' and '_', not starting with 0",
        ));
    }
    Ok(())
}

fn generate_psk() -> String {
    const SET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let mut s = String::with_capacity(32);
    s.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    while s.len() < 32 {
        s.push(SET[rng.random_range(0..SET.len())] as char);
    }
    s
}

/// The address `offset` inside a /30 (1: the VGW side, 2: the customer side).
fn host_in(cidr: &str, offset: u8) -> String {
    match parse_cidr30(cidr) {
        Some(a) => {
            let o = a.octets();
            Ipv4Addr::new(o[0], o[1], o[2], o[3].wrapping_add(offset)).to_string()
        }
        None => String::new(),
    }
}

// ---------- a minimal XML tag scanner (enough for moto's EC2 answers) ----------

#[derive(Debug)]
enum Tok<'a> {
    Start { name: &'a str, start: usize, end: usize },
    End { name: &'a str, start: usize },
    Empty { name: &'a str, start: usize, end: usize },
    Text { start: usize, end: usize },
}

fn tokens(xml: &str) -> Vec<Tok<'_>> {
    let b = xml.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let j = xml[i..].find('<').map(|p| i + p).unwrap_or(b.len());
            out.push(Tok::Text { start: i, end: j });
            i = j;
            continue;
        }
        let rest = &xml[i..];
        let skip_to = |pat: &str| rest.find(pat).map(|p| i + p + pat.len()).unwrap_or(b.len());
        if rest.starts_with("<?") {
            i = skip_to("?>");
        } else if rest.starts_with("<!--") {
            i = skip_to("-->");
        } else if rest.starts_with("<![CDATA[") {
            let j = skip_to("]]>");
            out.push(Tok::Text { start: i, end: j });
            i = j;
        } else if rest.starts_with("<!") {
            i = skip_to(">");
        } else {
            // Find the closing '>' outside quotes.
            let mut j = i + 1;
            let mut quote: Option<u8> = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (None, b'"' | b'\'') => quote = Some(b[j]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            let end = (j + 1).min(b.len());
            let inner = &xml[i + 1..j.min(b.len())];
            if let Some(name) = inner.strip_prefix('/') {
                out.push(Tok::End { name: name.trim(), start: i });
            } else {
                let self_closing = inner.ends_with('/');
                let name_end = inner.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(inner.len());
                let name = &inner[..name_end];
                if self_closing {
                    out.push(Tok::Empty { name, start: i, end });
                } else {
                    out.push(Tok::Start { name, start: i, end });
                }
            }
            i = end;
        }
    }
    out
}

/// The text of the first `<tag>` element, trimmed.
pub(crate) fn first_text_of(xml: &str, tag: &str) -> Option<String> {
    crate::ec2_routes::first_text(xml, tag).map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// `xml` without the `<item>`s directly inside `<set>` whose `<id_tag>` child
/// `hide` picks. The rest of the document is left as it was.
pub(crate) fn remove_items(xml: &str, set: &str, id_tag: &str, hide: impl Fn(&str) -> bool) -> String {
    let mut stack: Vec<&str> = Vec::new();
    // (start of the item, its depth, its id)
    let mut item: Option<(usize, usize, String)> = None;
    let mut in_id = false;
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for tok in tokens(xml) {
        match tok {
            Tok::Start { name, start, .. } => {
                if item.is_none() && name == "item" && stack.last() == Some(&set) {
                    item = Some((start, stack.len() + 1, String::new()));
                }
                stack.push(name);
                in_id = matches!(&item, Some((_, d, _)) if stack.len() == d + 1) && name == id_tag;
            }
            Tok::Text { start, end } => {
                if let (true, Some((_, _, id))) = (in_id, item.as_mut()) {
                    id.push_str(xml[start..end].trim());
                }
            }
            Tok::End { start, .. } => {
                in_id = false;
                if let Some((s, d, id)) = &item {
                    if stack.len() == *d {
                        if hide(id) {
                            cuts.push((*s, start + "</item>".len()));
                        }
                        item = None;
                    }
                }
                stack.pop();
            }
            Tok::Empty { .. } => {}
        }
    }
    let mut out = xml.to_string();
    for (s, e) in cuts.into_iter().rev() {
        out.replace_range(s..e.min(out.len()), "");
    }
    out
}

/// What the scanner learned about one resource element (a VPN connection or
/// a customer gateway).
#[derive(Debug, Default)]
struct VpnElement {
    id: String,
    state: String,
    vgw_id: String,
    cgw_id: String,
    ip_address: String,
    bgp_asn: String,
    /// Position of the element's closing tag.
    close: usize,
    /// `<options>`: Some((content end = position of `</options>`, has tunnelOptionSet)).
    options: Option<(usize, bool)>,
    /// `<options/>`: its span.
    empty_options: Option<(usize, usize)>,
    has_telemetry: bool,
    /// `<vgwTelemetry/>`: its span.
    empty_telemetry: Option<(usize, usize)>,
    /// The text content span of customerGatewayConfiguration.
    cgc: Option<(usize, usize)>,
}

/// Finds the resource elements of an answer: `<single>` right under the root
/// (Create answers) or `<set><item>` (Describe answers).
fn scan_elements(xml: &str, single: &str, set: &str) -> Vec<VpnElement> {
    let mut stack: Vec<&str> = Vec::new();
    let mut found = Vec::new();
    // (depth of the vpn element, element being built)
    let mut current: Option<(usize, VpnElement)> = None;
    let mut text_target: Option<&str> = None;
    let mut cgc_start: Option<usize> = None;
    let toks = tokens(xml);
    for tok in &toks {
        match *tok {
            Tok::Start { name, end, .. } => {
                let is_vpn = current.is_none()
                    && ((name == single && stack.len() == 1) || (name == "item" && stack.last() == Some(&set) && stack.len() == 2));
                stack.push(name);
                if is_vpn {
                    current = Some((stack.len(), VpnElement::default()));
                    continue;
                }
                if let Some((depth, el)) = current.as_mut() {
                    let depth = *depth;
                    if stack.len() == depth + 1 {
                        text_target = Some(name);
                        match name {
                            "customerGatewayConfiguration" => cgc_start = Some(end),
                            "options" => el.options = Some((0, false)),
                            "vgwTelemetry" => el.has_telemetry = true,
                            _ => {}
                        }
                    } else if stack.len() == depth + 2 && name == "tunnelOptionSet" && stack[depth] == "options" {
                        if let Some(o) = el.options.as_mut() {
                            o.1 = true;
                        }
                    }
                }
            }
            Tok::Empty { name, start, end } => {
                if let Some((depth, el)) = current.as_mut() {
                    if stack.len() == *depth {
                        match name {
                            "options" => el.empty_options = Some((start, end)),
                            "vgwTelemetry" => el.empty_telemetry = Some((start, end)),
                            _ => {}
                        }
                    }
                }
            }
            Tok::Text { start, end } => {
                if let (Some(target), Some((depth, el))) = (text_target, current.as_mut()) {
                    if stack.len() == *depth + 1 {
                        let t = xml[start..end].trim().to_string();
                        match target {
                            "vpnConnectionId" => el.id = t,
                            "state" => el.state = t,
                            "vpnGatewayId" => el.vgw_id = t,
                            "customerGatewayId" => el.cgw_id = t,
                            "ipAddress" => el.ip_address = t,
                            "bgpAsn" => el.bgp_asn = t,
                            _ => {}
                        }
                    }
                }
            }
            Tok::End { name, start } => {
                if let Some((depth, el)) = current.as_mut() {
                    if stack.len() == *depth + 1 {
                        if name == "customerGatewayConfiguration" {
                            if let Some(s) = cgc_start.take() {
                                el.cgc = Some((s, start));
                            }
                        }
                        if name == "options" {
                            if let Some(o) = el.options.as_mut() {
                                o.0 = start;
                            }
                        }
                        text_target = None;
                    }
                    if stack.len() == *depth {
                        el.close = start;
                        let (_, el) = current.take().expect("some");
                        found.push(el);
                    }
                }
                stack.pop();
            }
        }
    }
    found
}

/// Replaces, in `seg`, the text between `open` and `close` found after the
/// anchors (in order). Returns false (and leaves `seg`) if any is missing.
fn replace_after(seg: &mut String, anchors: &[&str], open: &str, close: &str, value: &str) -> bool {
    let mut pos = 0;
    for a in anchors {
        match seg[pos..].find(a) {
            Some(p) => pos += p + a.len(),
            None => return false,
        }
    }
    let Some(o) = seg[pos..].find(open).map(|p| pos + p + open.len()) else { return false };
    let Some(c) = seg[o..].find(close).map(|p| o + p) else { return false };
    seg.replace_range(o..c, value);
    true
}

/// Makes moto's (entity-escaped) customer gateway configuration agree with
/// the tunnels.
fn rewrite_cgc(text: &str, rec: &VpnRecord, cgw: Option<&CustomerGateway>) -> String {
    const TUNNEL: &str = "&lt;ipsec_tunnel&gt;";
    let mut parts: Vec<String> = text.split(TUNNEL).map(str::to_string).collect();
    for (i, seg) in parts.iter_mut().skip(1).take(2).enumerate() {
        let t = &rec.tunnels[i];
        let ip = ("&lt;ip_address&gt;", "&lt;/ip_address&gt;");
        replace_after(seg, &["&lt;customer_gateway&gt;", "&lt;tunnel_inside_address&gt;"], ip.0, ip.1, &host_in(&t.inside_cidr, 2));
        if let Some(g) = cgw {
            replace_after(seg, &["&lt;customer_gateway&gt;", "&lt;tunnel_outside_address&gt;"], ip.0, ip.1, &g.ip);
            replace_after(seg, &["&lt;customer_gateway&gt;", "&lt;bgp&gt;"], "&lt;asn&gt;", "&lt;/asn&gt;", &g.asn);
        }
        replace_after(seg, &["&lt;vpn_gateway&gt;", "&lt;tunnel_outside_address&gt;"], ip.0, ip.1, &t.outside_ip);
        replace_after(seg, &["&lt;vpn_gateway&gt;", "&lt;tunnel_inside_address&gt;"], ip.0, ip.1, &host_in(&t.inside_cidr, 1));
        replace_after(seg, &[], "&lt;pre_shared_key&gt;", "&lt;/pre_shared_key&gt;", &t.psk);
    }
    parts.join(TUNNEL)
}

/// The record's tunnels, swapped or not.
fn ordered(rec: &VpnRecord, swap: bool) -> [&Tunnel; 2] {
    if swap {
        [&rec.tunnels[1], &rec.tunnels[0]]
    } else {
        [&rec.tunnels[0], &rec.tunnels[1]]
    }
}

fn tunnel_option_set(rec: &VpnRecord, swap: bool) -> String {
    let mut s = String::from("<tunnelOptionSet>");
    for t in ordered(rec, swap) {
        s.push_str("<item>");
        s.push_str(&format!("<outsideIpAddress>{}</outsideIpAddress>", t.outside_ip));
        s.push_str(&format!("<tunnelInsideCidr>{}</tunnelInsideCidr>", t.inside_cidr));
        s.push_str(&format!("<preSharedKey>{}</preSharedKey>", t.psk));
        s.push_str("<ikeVersionSet>");
        for v in &t.ike_versions {
            s.push_str(&format!("<item><value>{v}</value></item>"));
        }
        s.push_str("</ikeVersionSet>");
        s.push_str("</item>");
    }
    s.push_str("</tunnelOptionSet>");
    s
}

fn options_xml(rec: &VpnRecord, swap: bool) -> String {
    let mut s = String::from("<options>");
    if let Some(b) = rec.static_routes_only {
        s.push_str(&format!("<staticRoutesOnly>{b}</staticRoutesOnly>"));
    }
    s.push_str("<tunnelInsideIpVersion>ipv4</tunnelInsideIpVersion>");
    s.push_str(&tunnel_option_set(rec, swap));
    s.push_str("</options>");
    s
}

fn telemetry_xml(rec: &VpnRecord, swap: bool) -> String {
    let mut s = String::from("<vgwTelemetry>");
    for t in ordered(rec, swap) {
        // No customer gateway answers IKE in the sandbox: tunnels are DOWN.
        s.push_str(&format!(
            "<item><acceptedRouteCount>0</acceptedRouteCount><lastStatusChange>{}</lastStatusChange><outsideIpAddress>{}</outsideIpAddress><status>DOWN</status><statusMessage></statusMessage></item>",
            rec.since, t.outside_ip
        ));
    }
    s.push_str("</vgwTelemetry>");
    s
}

impl VpnTunnels {
    /// Checks CreateVpnConnection's tunnel options before the server forwards
    /// the call upstream.
    pub fn validate_create(&self, params: &[(String, String)]) -> Result<(), ApiError> {
        let tp = tunnel_params(params)?;
        for t in &tp {
            if let Some(c) = &t.inside_cidr {
                check_inside_cidr(c)?;
            }
            if let Some(k) = &t.psk {
                check_psk(k)?;
            }
            for v in &t.ike_versions {
                if v != "ikev1" && v != "ikev2" {
                    return Err(invalid(format!("IKE version {v} is not valid: use ikev1 or ikev2")));
                }
            }
        }
        if let (Some(a), Some(b)) = (&tp[0].inside_cidr, &tp[1].inside_cidr) {
            if a == b {
                return Err(invalid(format!("The two tunnels cannot use the same inside CIDR {a}")));
            }
        }
        if let Some(vgw) = param(params, "VpnGatewayId") {
            for t in &tp {
                let Some(c) = &t.inside_cidr else { continue };
                let clash =
                    self.conns.iter().find(|(_, r)| r.vgw_id.as_deref() == Some(vgw) && r.tunnels.iter().any(|x| &x.inside_cidr == c));
                if let Some((id, _)) = clash {
                    return Err(invalid(format!(
                        "The tunnel inside CIDR {c} is already used by {id} on {vgw}; it must be unique across the VPN connections of a virtual private gateway"
                    )));
                }
            }
        }
        Ok(())
    }

    fn new_outside_ip(&mut self) -> String {
        let k = self.next_ip;
        self.next_ip += 1;
        format!("3.{}.{}.{}", 208 + (k / 62_500) % 16, (k / 250) % 250, k % 250 + 1)
    }

    fn cidr_in_use(&self, cidr: &str) -> bool {
        self.conns.values().any(|r| r.tunnels.iter().any(|t| t.inside_cidr == cidr))
    }

    fn new_inside_cidr(&mut self, avoid: &[String]) -> String {
        loop {
            let m = self.next_cidr;
            self.next_cidr += 1;
            // 169.254.10.0/30 upwards, 64 blocks per /24, never the reserved ones.
            let third = 10 + (m / 64) % 240;
            let cidr = format!("169.254.{third}.{}/30", (m % 64) * 4);
            if RESERVED_INSIDE.contains(&cidr.as_str()) || avoid.contains(&cidr) || self.cidr_in_use(&cidr) {
                continue;
            }
            return cidr;
        }
    }

    fn new_record(&mut self, params: Option<&[(String, String)]>, vgw_id: &str) -> VpnRecord {
        let tp = params.and_then(|p| tunnel_params(p).ok()).unwrap_or_default();
        let requested: Vec<String> = tp.iter().filter_map(|t| t.inside_cidr.clone()).collect();
        let make = |this: &mut Self, t: &TunnelParams| Tunnel {
            outside_ip: this.new_outside_ip(),
            inside_cidr: t.inside_cidr.clone().unwrap_or_else(|| this.new_inside_cidr(&requested)),
            psk: t.psk.clone().unwrap_or_else(generate_psk),
            ike_versions: if t.ike_versions.is_empty() { vec!["ikev1".into(), "ikev2".into()] } else { t.ike_versions.clone() },
        };
        let t1 = make(self, &tp[0]);
        let t2 = make(self, &tp[1]);
        VpnRecord {
            vgw_id: (!vgw_id.is_empty()).then(|| vgw_id.to_string()),
            static_routes_only: params.and_then(|p| param(p, "Options.StaticRoutesOnly")).map(|v| v.eq_ignore_ascii_case("true")),
            tunnels: [t1, t2],
            since: iso8601(SystemTime::now()),
        }
    }

    /// Rewrites moto's answer to `action`. CreateCustomerGateway /
    /// DescribeCustomerGateways answers pass through unchanged but teach the
    /// gateways' IPs and ASNs. CreateVpnConnection records the
    /// tunnels (honoring `Options.TunnelOptions.N.TunnelInsideCidr` /
    /// `.PreSharedKey` / `.IKEVersion.M.Value`); DescribeVpnConnections shows
    /// them (recording tunnels for connections seen for the first time);
    /// DeleteVpnConnection forgets them. Other actions and error answers pass
    /// through unchanged.
    pub fn augment_xml(&mut self, _env: &SimEnv, action: &str, params: &[(String, String)], xml: &str) -> String {
        match action {
            "DeleteVpnConnection" => {
                if let Some(id) = param(params, "VpnConnectionId") {
                    if !xml.contains("<Errors>") {
                        self.conns.remove(id);
                    }
                }
                return xml.to_string();
            }
            "CreateCustomerGateway" | "DescribeCustomerGateways" => {
                if !xml.contains("<Errors>") {
                    for el in scan_elements(xml, "customerGateway", "customerGatewaySet") {
                        if !el.cgw_id.is_empty() && !el.ip_address.is_empty() {
                            self.cgws.insert(el.cgw_id, CustomerGateway { ip: el.ip_address, asn: el.bgp_asn });
                        }
                    }
                }
                return xml.to_string();
            }
            "CreateVpnConnection" | "DescribeVpnConnections" => {}
            _ => return xml.to_string(),
        }
        if xml.contains("<Errors>") {
            return xml.to_string();
        }
        let elements = scan_elements(xml, "vpnConnection", "vpnConnectionSet");
        let (swap_options, swap_telemetry) = if action == "DescribeVpnConnections" {
            self.describes += 1;
            (self.describes.is_multiple_of(2), (self.describes / 2) % 2 == 1)
        } else {
            (false, false)
        };
        // (start, end, replacement), applied from the end of the document.
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        for el in elements {
            if el.id.is_empty() {
                continue;
            }
            if !self.conns.contains_key(&el.id) {
                if action == "DescribeVpnConnections" && el.state == "deleted" {
                    continue;
                }
                let p = (action == "CreateVpnConnection").then_some(params);
                let rec = self.new_record(p, &el.vgw_id);
                self.conns.insert(el.id.clone(), rec);
            }
            let rec = &self.conns[&el.id];
            if let Some((s, e)) = el.cgc {
                edits.push((s, e, rewrite_cgc(&xml[s..e], rec, self.cgws.get(&el.cgw_id))));
            }
            let mut insert = String::new();
            match (el.options, el.empty_options) {
                (Some((close, false)), _) if close > 0 => edits.push((close, close, tunnel_option_set(rec, swap_options))),
                (Some(_), _) => {}
                (None, Some((s, e))) => edits.push((s, e, options_xml(rec, swap_options))),
                (None, None) => insert.push_str(&options_xml(rec, swap_options)),
            }
            match (el.has_telemetry, el.empty_telemetry) {
                (true, _) => {}
                (false, Some((s, e))) => edits.push((s, e, telemetry_xml(rec, swap_telemetry))),
                (false, None) => insert.push_str(&telemetry_xml(rec, swap_telemetry)),
            }
            if !insert.is_empty() {
                edits.push((el.close, el.close, insert));
            }
        }
        edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        let mut out = xml.to_string();
        for (s, e, r) in edits {
            out.replace_range(s..e, &r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Instant0;
    use std::time::Instant;

    fn env() -> SimEnv<'static> {
        SimEnv { region: "us-east-1", account: "111122223333", now: Instant::now(), latency: &Instant0 }
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const CGC: &str = "          &lt;vpn_connection id=\"vpn-1\"&gt;\n&lt;ipsec_tunnel&gt;\n&lt;customer_gateway&gt;\n&lt;tunnel_outside_address&gt;\n&lt;ip_address&gt;12.1.2.3&lt;/ip_address&gt;\n&lt;/tunnel_outside_address&gt;\n&lt;tunnel_inside_address&gt;\n&lt;ip_address&gt;169.254.44.42&lt;/ip_address&gt;\n&lt;/tunnel_inside_address&gt;\n&lt;/customer_gateway&gt;\n&lt;vpn_gateway&gt;\n&lt;tunnel_outside_address&gt;\n&lt;ip_address&gt;52.2.144.13&lt;/ip_address&gt;\n&lt;/tunnel_outside_address&gt;\n&lt;tunnel_inside_address&gt;\n&lt;ip_address&gt;169.254.44.41&lt;/ip_address&gt;\n&lt;/tunnel_inside_address&gt;\n&lt;/vpn_gateway&gt;\n&lt;ike&gt;\n&lt;pre_shared_key&gt;MOTOKEY&lt;/pre_shared_key&gt;\n&lt;/ike&gt;\n&lt;/ipsec_tunnel&gt;\n&lt;ipsec_tunnel&gt;\n&lt;customer_gateway&gt;\n&lt;tunnel_outside_address&gt;\n&lt;ip_address&gt;12.1.2.3&lt;/ip_address&gt;\n&lt;/tunnel_outside_address&gt;\n&lt;tunnel_inside_address&gt;\n&lt;ip_address&gt;169.254.44.42&lt;/ip_address&gt;\n&lt;/tunnel_inside_address&gt;\n&lt;/customer_gateway&gt;\n&lt;vpn_gateway&gt;\n&lt;tunnel_outside_address&gt;\n&lt;ip_address&gt;52.2.144.13&lt;/ip_address&gt;\n&lt;/tunnel_outside_address&gt;\n&lt;tunnel_inside_address&gt;\n&lt;ip_address&gt;169.254.44.41&lt;/ip_address&gt;\n&lt;/tunnel_inside_address&gt;\n&lt;/vpn_gateway&gt;\n&lt;ike&gt;\n&lt;pre_shared_key&gt;MOTOKEY&lt;/pre_shared_key&gt;\n&lt;/ike&gt;\n&lt;/ipsec_tunnel&gt;\n&lt;/vpn_connection&gt;\n";

    fn vpn_body(id: &str, state: &str) -> String {
        format!(
            "<tagSet><item><key>Name</key><value>t</value></item></tagSet><vpnConnectionId>{id}</vpnConnectionId><state>{state}</state><customerGatewayConfiguration>{}</customerGatewayConfiguration><type>ipsec.1</type><customerGatewayId>cgw-1</customerGatewayId><vpnGatewayId>vgw-1</vpnGatewayId>",
            CGC.replace("vpn-1", id)
        )
    }

    fn create_xml(id: &str) -> String {
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CreateVpnConnectionResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\"><vpnConnection>{}</vpnConnection><requestId>request-id</requestId></CreateVpnConnectionResponse>", vpn_body(id, "available"))
    }

    fn describe_xml(items: &[(&str, &str)]) -> String {
        let items: String = items.iter().map(|(id, st)| format!("<item>{}</item>", vpn_body(id, st))).collect();
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<DescribeVpnConnectionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\"><vpnConnectionSet>{items}</vpnConnectionSet><requestId>request-id</requestId></DescribeVpnConnectionsResponse>")
    }

    /// All texts of `<tag>` elements, in order.
    fn all(xml: &str, tag: &str) -> Vec<String> {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut out = Vec::new();
        let mut rest = xml;
        while let Some(i) = rest.find(&open) {
            rest = &rest[i + open.len()..];
            let j = rest.find(&close).unwrap();
            out.push(rest[..j].to_string());
            rest = &rest[j..];
        }
        out
    }

    #[test]
    fn create_injects_two_tunnels_honoring_params() {
        let mut v = VpnTunnels::default();
        let params = p(&[
            ("Action", "CreateVpnConnection"),
            ("VpnGatewayId", "vgw-1"),
            ("Options.StaticRoutesOnly", "false"),
            ("Options.TunnelOptions.1.TunnelInsideCidr", "169.254.21.0/30"),
            ("Options.TunnelOptions.1.PreSharedKey", "my_key.12345"),
            ("Options.TunnelOptions.2.IKEVersion.1.Value", "ikev2"),
        ]);
        v.validate_create(&params).unwrap();
        let out = v.augment_xml(&env(), "CreateVpnConnection", &params, &create_xml("vpn-aaa"));
        let ips = all(&out, "outsideIpAddress");
        assert_eq!(ips.len(), 4, "2 tunnel options + 2 telemetry items");
        assert_ne!(ips[0], ips[1]);
        assert_eq!(ips[0], ips[2]);
        assert_eq!(ips[1], ips[3]);
        let cidrs = all(&out, "tunnelInsideCidr");
        assert_eq!(cidrs[0], "169.254.21.0/30");
        assert!(cidrs[1].starts_with("169.254.") && cidrs[1].ends_with("/30"));
        assert_ne!(cidrs[0], cidrs[1]);
        let keys = all(&out, "preSharedKey");
        assert_eq!(keys[0], "my_key.12345");
        assert_eq!(keys[1].len(), 32);
        check_psk(&keys[1]).unwrap();
        assert_eq!(all(&out, "staticRoutesOnly"), vec!["false"]);
        assert_eq!(all(&out, "value")[..], ["t", "ikev1", "ikev2", "ikev2"]);
        assert_eq!(all(&out, "status"), vec!["DOWN", "DOWN"]);
        assert!(out.contains("</vgwTelemetry></vpnConnection><requestId>"));
        // customerGatewayConfiguration agrees, per tunnel.
        assert!(out.contains("&lt;ip_address&gt;169.254.21.2&lt;/ip_address&gt;"));
        assert!(out.contains("&lt;ip_address&gt;169.254.21.1&lt;/ip_address&gt;"));
        assert!(out.contains(&format!("&lt;ip_address&gt;{}&lt;/ip_address&gt;", ips[1])));
        assert!(out.contains("&lt;pre_shared_key&gt;my_key.12345&lt;/pre_shared_key&gt;"));
        assert!(out.contains(&format!("&lt;pre_shared_key&gt;{}&lt;/pre_shared_key&gt;", keys[1])));
        assert!(!out.contains("MOTOKEY") && !out.contains("52.2.144.13"));
        // moto's customer gateway side and the rest of the document are kept.
        assert!(out.contains("&lt;ip_address&gt;12.1.2.3&lt;/ip_address&gt;"));
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CreateVpnConnectionResponse"));
        assert!(out.contains("<tagSet><item><key>Name</key><value>t</value></item></tagSet><vpnConnectionId>vpn-aaa</vpnConnectionId>"));

        // Describe shows the same two tunnels every time, in an order that
        // alternates: options every other call, telemetry every other pair.
        let d: Vec<String> =
            (0..4).map(|_| v.augment_xml(&env(), "DescribeVpnConnections", &[], &describe_xml(&[("vpn-aaa", "available")]))).collect();
        let swapped = |x: &[String]| vec![x[1].clone(), x[0].clone()];
        assert_eq!(all(&d[0], "outsideIpAddress")[..2], ips[..2]);
        assert_eq!(all(&d[0], "tunnelInsideCidr"), cidrs);
        assert_eq!(all(&d[0], "preSharedKey"), keys);
        assert_eq!(all(&d[1], "tunnelInsideCidr"), swapped(&cidrs));
        assert_eq!(all(&d[1], "preSharedKey"), swapped(&keys));
        let telemetry = |x: &str| all(x.split("<vgwTelemetry>").nth(1).unwrap(), "outsideIpAddress");
        let first: Vec<String> = ips[..2].to_vec();
        assert_eq!(
            [telemetry(&d[0]), telemetry(&d[1]), telemetry(&d[2]), telemetry(&d[3])],
            [first.clone(), swapped(&first), swapped(&first), first.clone()]
        );
        assert_eq!([&all(&d[2], "tunnelInsideCidr"), &all(&d[3], "tunnelInsideCidr")], [&cidrs, &swapped(&cidrs)]);
        // Each tunnel keeps its own address, key and inside CIDR whatever the order.
        for x in &d {
            let (o, c) = (all(x, "outsideIpAddress"), all(x, "tunnelInsideCidr"));
            for i in 0..2 {
                let j = cidrs.iter().position(|k| *k == c[i]).unwrap();
                assert_eq!(o[i], ips[j], "{x}");
            }
        }
    }

    #[test]
    fn describe_of_unknown_connections_gets_distinct_stable_tunnels() {
        let mut v = VpnTunnels::default();
        let xml = describe_xml(&[("vpn-1", "available"), ("vpn-2", "pending"), ("vpn-3", "deleted")]);
        let out = v.augment_xml(&env(), "DescribeVpnConnections", &[], &xml);
        let ips = all(&out, "outsideIpAddress");
        assert_eq!(ips.len(), 8, "two connections x (2 options + 2 telemetry); the deleted one untouched");
        let mut distinct: Vec<&String> = vec![&ips[0], &ips[1], &ips[4], &ips[5]];
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        let cidrs = all(&out, "tunnelInsideCidr");
        let mut c = cidrs.clone();
        c.sort();
        c.dedup();
        assert_eq!(c.len(), 4);
        for cidr in &cidrs {
            check_inside_cidr(cidr).unwrap();
        }
        assert_eq!(all(&out, "vpnConnectionId"), vec!["vpn-1", "vpn-2", "vpn-3"]);
        let sorted = |x: &str| {
            let mut c = all(x, "tunnelInsideCidr");
            c.sort();
            c
        };
        let again = v.augment_xml(&env(), "DescribeVpnConnections", &[], &xml);
        assert_ne!(again, out, "the second answer has the tunnels the other way round");
        assert_eq!(sorted(&again), sorted(&out));
        // Delete forgets.
        v.augment_xml(
            &env(),
            "DeleteVpnConnection",
            &p(&[("VpnConnectionId", "vpn-1")]),
            "<DeleteVpnConnectionResponse><return>true</return></DeleteVpnConnectionResponse>",
        );
        assert!(!v.conns.contains_key("vpn-1"));
        assert!(v.conns.contains_key("vpn-2"));
    }

    #[test]
    fn errors_and_other_actions_pass_through() {
        let mut v = VpnTunnels::default();
        let err = "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidVpnGatewayID.NotFound</Code><Message>x</Message></Error></Errors><RequestID>r</RequestID></Response>";
        assert_eq!(v.augment_xml(&env(), "CreateVpnConnection", &[], err), err);
        let other = "<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>";
        assert_eq!(v.augment_xml(&env(), "DescribeVpcs", &[], other), other);
        let empty = "<DescribeVpnConnectionsResponse><vpnConnectionSet/></DescribeVpnConnectionsResponse>";
        assert_eq!(v.augment_xml(&env(), "DescribeVpnConnections", &[], empty), empty);
    }

    #[test]
    fn existing_options_are_completed_not_duplicated() {
        let mut v = VpnTunnels::default();
        let body = vpn_body("vpn-o", "available").replace(
            "<type>ipsec.1</type>",
            "<options><staticRoutesOnly>true</staticRoutesOnly></options><vgwTelemetry/><type>ipsec.1</type>",
        );
        let xml = format!("<CreateVpnConnectionResponse><vpnConnection>{body}</vpnConnection></CreateVpnConnectionResponse>");
        let out = v.augment_xml(&env(), "CreateVpnConnection", &[], &xml);
        assert_eq!(all(&out, "options").len(), 1);
        assert!(out.contains("<options><staticRoutesOnly>true</staticRoutesOnly><tunnelOptionSet><item>"));
        assert_eq!(all(&out, "vgwTelemetry").len(), 1);
        assert!(!out.contains("<vgwTelemetry/>"));
        // Already complete: unchanged on a second pass.
        assert_eq!(v.augment_xml(&env(), "CreateVpnConnection", &[], &out), out);
    }

    #[test]
    fn validate_create_rules() {
        let mut v = VpnTunnels::default();
        let bad = |k: &str, val: &str| p(&[("VpnGatewayId", "vgw-1"), (k, val)]);
        let cidr = "Options.TunnelOptions.1.TunnelInsideCidr";
        let psk = "Options.TunnelOptions.2.PreSharedKey";
        for c in ["169.254.10.0/29", "169.254.10.1/30", "10.0.0.0/30", "169.254.0.0/30", "169.254.5.0/30", "169.254.169.252/30", "nonsense"]
        {
            let e = v.validate_create(&bad(cidr, c)).unwrap_err();
            assert_eq!((e.status, e.code.as_str()), (400, "InvalidParameterValue"), "{c}");
        }
        for k in ["short", "0startswithzero", "has-dash-chars", &"x".repeat(65)] {
            let e = v.validate_create(&bad(psk, k)).unwrap_err();
            assert_eq!(e.code, "InvalidParameterValue");
            assert!(!e.message.contains(k), "the key must not be echoed");
        }
        assert!(v.validate_create(&bad("Options.TunnelOptions.3.PreSharedKey", "abcdefgh")).is_err());
        assert!(v.validate_create(&bad("Options.TunnelOptions.1.IKEVersion.1.Value", "ikev3")).is_err());
        let same = p(&[(cidr, "169.254.10.0/30"), ("Options.TunnelOptions.2.TunnelInsideCidr", "169.254.10.0/30")]);
        assert!(v.validate_create(&same).is_err());
        let good = p(&[("VpnGatewayId", "vgw-1"), (cidr, "169.254.10.0/30"), (psk, "Abc_def.123")]);
        v.validate_create(&good).unwrap();
        // Unique per virtual private gateway.
        v.augment_xml(&env(), "CreateVpnConnection", &good, &create_xml("vpn-x"));
        assert!(v.validate_create(&good).is_err());
        let other_vgw = p(&[("VpnGatewayId", "vgw-2"), (cidr, "169.254.10.0/30")]);
        v.validate_create(&other_vgw).unwrap();
    }

    #[test]
    fn customer_gateway_ip_and_asn_reach_the_configuration() {
        let mut v = VpnTunnels::default();
        let cgw = "<CreateCustomerGatewayResponse xmlns=\"x\"><customerGateway><tagSet/><customerGatewayId>cgw-1</customerGatewayId><state>available</state><type>ipsec.1</type><ipAddress>34.9.8.7</ipAddress><bgpAsn>65010</bgpAsn></customerGateway><requestId>r</requestId></CreateCustomerGatewayResponse>";
        assert_eq!(v.augment_xml(&env(), "CreateCustomerGateway", &[], cgw), cgw);
        let cfg_with_bgp = create_xml("vpn-c").replace(
            "&lt;/tunnel_inside_address&gt;\n&lt;/customer_gateway&gt;",
            "&lt;/tunnel_inside_address&gt;\n&lt;bgp&gt;\n&lt;asn&gt;65000&lt;/asn&gt;\n&lt;/bgp&gt;\n&lt;/customer_gateway&gt;",
        );
        let out = v.augment_xml(&env(), "CreateVpnConnection", &[], &cfg_with_bgp);
        assert!(!out.contains("12.1.2.3"));
        assert_eq!(out.matches("&lt;ip_address&gt;34.9.8.7&lt;/ip_address&gt;").count(), 2);
        assert_eq!(out.matches("&lt;asn&gt;65010&lt;/asn&gt;").count(), 2);
        // Describe of gateways teaches the same.
        let d = "<DescribeCustomerGatewaysResponse><customerGatewaySet><item><customerGatewayId>cgw-2</customerGatewayId><ipAddress>35.1.1.1</ipAddress><bgpAsn>65020</bgpAsn></item></customerGatewaySet></DescribeCustomerGatewaysResponse>";
        v.augment_xml(&env(), "DescribeCustomerGateways", &[], d);
        assert_eq!(v.cgws["cgw-2"].ip, "35.1.1.1");
    }
}
