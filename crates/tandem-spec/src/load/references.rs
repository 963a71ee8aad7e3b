//! References: every `${resource.attr}` names a resource and output that exist, and no cycle.

use super::*;
use crate::diag::Code;

impl Loader<'_> {
    pub(super) fn check_references(&mut self, spec: &Spec) -> Vec<Problem> {
        let mut warnings = Vec::new();
        let names: Vec<&str> = spec.resources.keys().map(String::as_str).collect();
        let mut found: Vec<(String, String, Span, String)> = Vec::new();
        for (addr, r) in &spec.resources {
            r.properties.walk_refs(&mut |res, attr, span| found.push((res.into(), attr.into(), span, addr.clone())));
            for (d, span) in &r.depends_on {
                let instances = spec.resources.values().any(|o| o.base == *d && o.each_key.is_some());
                if !spec.resources.contains_key(d) && !instances {
                    let help = match suggest(d, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "depends_on names resources of this spec".into(),
                    };
                    self.err(
                        Code::SpecUnknownResource,
                        *span,
                        format!("`depends_on` names `{d}`, which is not a resource of this spec"),
                        "no such resource",
                    )
                    .help = Some(help);
                } else if d == addr || d == &r.base {
                    self.err(Code::SpecCycle, *span, format!("`{addr}` depends on itself"), "self-dependency");
                }
            }
        }
        for (target, kinds, path, span, doc) in std::mem::take(&mut self.typed_refs) {
            if let Some(t) = spec.resources.get(&target) {
                if !kinds.contains(&t.type_name.as_str()) {
                    let p = self.err(
                        Code::SpecWrongKind,
                        span,
                        format!(
                            "`{path}` refers to `{target}`, a {}, but it takes {}",
                            t.type_name,
                            kinds.iter().map(|k| format!("an {k}")).collect::<Vec<_>>().join(" or ")
                        ),
                        "wrong kind of resource",
                    );
                    if !doc.is_empty() {
                        p.help = Some(format!("`{path}`: {doc}"));
                    }
                }
            }
        }
        let nets = std::mem::take(&mut self.networks);
        // Networks must not overlap where traffic is routed between them: the
        // resources connected, directly or through others, by references in
        // fields that carry traffic (kinds say which). Elsewhere an overlap is
        // allowed, and worth a warning: connecting them later needs a renumbering.
        let routes = Routes::new(std::mem::take(&mut self.links));
        for (i, j) in overlapping_pairs(&nets) {
            let ((_, a, ra, _), (_, b, rb, sb)) = (&nets[i], &nets[j]);
            if ra == rb {
                continue;
            }
            match routes.path(ra, rb) {
                Some(path) => {
                    self.err(
                        Code::SpecOverlap,
                        *sb,
                        format!("{b} (in `{rb}`) overlaps {a} (in `{ra}`), and the spec routes traffic between them ({}); networks that are routed together must not overlap", path.join(" -> ")),
                        "overlapping network",
                    )
                    .help = Some("give each network its own range, e.g. 10.0.0.0/16 and 10.1.0.0/16".into());
                }
                None => warnings.push(
                    Problem::new(
                        Code::SpecOverlapUnconnected,
                        format!("{b} (in `{rb}`) overlaps {a} (in `{ra}`); nothing in the spec routes traffic between them, so this is allowed, but connecting them later (a VPN, Direct Connect, peering) would need one of them renumbered"),
                    )
                    .at(&self.src, *sb, "overlaps a network it is not connected to")
                    .help("give each network its own range now if they may ever be connected"),
                ),
            }
        }
        let asns = std::mem::take(&mut self.asns);
        for (i, (ca, fa, a, ra, _)) in asns.iter().enumerate() {
            for (cb, fb, b, rb, sb) in &asns[i + 1..] {
                if ca != cb && a == b {
                    self.err(
                        Code::SpecAsn,
                        *sb,
                        format!("ASN {b} of `{rb}` ({fb}) is also the ASN of `{ra}` ({fa}); the two ends of a BGP session between clouds need different ASNs"),
                        "same ASN as the other cloud",
                    )
                    .help = Some("give each side its own private ASN, e.g. 65010 for the Cloud Router and 64512 for the virtual private gateway".into());
                }
            }
        }
        for o in spec.outputs.values() {
            o.value.walk_refs(&mut |res, attr, span| found.push((res.into(), attr.into(), span, String::new())));
        }
        for (res, attr, span, from) in found {
            let Some(target) = spec.resources.get(&res) else {
                let base = res.split('[').next().unwrap_or(&res);
                let keys: Vec<String> =
                    spec.resources.values().filter(|o| o.base == base && o.each_key.is_some()).filter_map(|o| o.each_key.clone()).collect();
                if !keys.is_empty() {
                    let msg = if res.contains('[') {
                        format!("`{res}` is not an instance of `{base}`; its `for_each` keys are {}", keys.join(", "))
                    } else {
                        format!(
                            "`{base}` has one instance per `for_each` key ({}); refer to one as `${{{base}[KEY].{attr}}}`",
                            keys.join(", ")
                        )
                    };
                    self.err(Code::SpecUnknownResource, span, msg, "which instance?").help = Some(format!(
                        "for example `${{{base}[{}].{attr}}}`, or `${{{base}[each.key].{attr}}}` inside another for_each resource",
                        keys[0]
                    ));
                    continue;
                }
                let help = match suggest(&res, names.iter().copied()) {
                    Some(s) => format!("did you mean `${{{s}.{attr}}}`?"),
                    None => "references name a resource of this spec: `${RESOURCE.OUTPUT}`".into(),
                };
                self.err(
                    Code::SpecUnknownResource,
                    span,
                    format!("`${{{res}.{attr}}}` refers to `{res}`, which is not a resource of this spec"),
                    "no such resource",
                )
                .help = Some(help);
                continue;
            };
            if res == from {
                self.err(Code::SpecCycle, span, format!("`{res}` refers to its own output `{attr}`"), "self-reference");
                continue;
            }
            let Some(kind) = self.kinds.iter().find(|k| k.type_name == target.type_name) else { continue };
            if attr != ID_OUTPUT && kind.output(&attr).is_none() {
                let mut outs: Vec<&str> = vec![ID_OUTPUT];
                outs.extend(kind.outputs.iter().map(|o| o.name));
                let help = match suggest(&attr, outs.iter().copied()) {
                    Some(s) => format!("did you mean `${{{res}.{s}}}`?"),
                    None => format!("{} outputs: {}", kind.type_name, outs.join(", ")),
                };
                self.err(Code::SpecUnknownOutput, span, format!("`{res}` ({}) has no output `{attr}`", kind.type_name), "no such output")
                    .help = Some(help);
            }
        }
        warnings
    }
}

/// The pairs `(i, j)`, `i < j`, of networks that overlap, in the order of a
/// loop over every pair (so diagnostics keep their order). Two CIDR blocks
/// overlap only when one contains the other, so after sorting by (first
/// address, prefix length) the networks that contain the one at hand are
/// exactly those still open on a stack: O(n log n) plus one step per
/// overlapping pair, instead of comparing every pair (10,000 VPCs were 50
/// million comparisons).
fn overlapping_pairs(nets: &[(String, ipnet::Ipv4Net, String, Span)]) -> Vec<(usize, usize)> {
    let span = |i: usize| (u32::from(nets[i].1.network()), u32::from(nets[i].1.broadcast()));
    let mut order: Vec<usize> = (0..nets.len()).collect();
    order.sort_by_key(|&i| (span(i).0, nets[i].1.prefix_len(), i));
    let mut open: Vec<usize> = Vec::new();
    let mut pairs = Vec::new();
    for i in order {
        let (first, _) = span(i);
        while open.last().is_some_and(|&o| span(o).1 < first) {
            open.pop();
        }
        // Everything still open starts at or before `first` and ends at or
        // after it, so (being a CIDR block sorted before this one) contains it.
        pairs.extend(open.iter().map(|&o| (o.min(i), o.max(i))));
        open.push(i);
    }
    pairs.sort_unstable();
    pairs
}

/// The resources traffic is routed between, as an undirected graph over the
/// references in fields that carry traffic.
pub(super) struct Routes {
    next: BTreeMap<String, Vec<String>>,
}

impl Routes {
    pub(super) fn new(links: Vec<(String, String)>) -> Self {
        let mut next: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (a, b) in links {
            next.entry(a.clone()).or_default().push(b.clone());
            next.entry(b).or_default().push(a);
        }
        for v in next.values_mut() {
            v.sort();
            v.dedup();
        }
        Routes { next }
    }

    /// The shortest chain of resources from `from` to `to`, both included.
    pub(super) fn path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut back: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        back.insert(from, from);
        while let Some(at) = queue.pop_front() {
            if at == to {
                let mut path = vec![to.to_string()];
                let mut cur = to;
                while cur != from {
                    cur = back[cur];
                    path.push(cur.to_string());
                }
                path.reverse();
                return Some(path);
            }
            for n in self.next.get(at).into_iter().flatten() {
                if !back.contains_key(n.as_str()) {
                    back.insert(n, at);
                    queue.push_back(n);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_pairs_are_those_of_every_pair_compared() {
        // Nested, equal, adjacent and disjoint blocks, in no order.
        let cidrs = [
            "10.0.0.0/16",
            "10.0.1.0/24",
            "10.1.0.0/16",
            "10.0.0.0/8",
            "10.0.1.0/24",
            "10.0.1.128/25",
            "10.0.2.0/24",
            "192.168.0.0/24",
            "10.0.255.0/24",
            "10.1.0.0/16",
            "0.0.0.0/0",
            "172.16.0.0/12",
            "10.0.1.0/26",
        ];
        let nets: Vec<_> = cidrs
            .iter()
            .enumerate()
            .map(|(i, c)| (String::new(), c.parse::<ipnet::Ipv4Net>().unwrap().trunc(), format!("r{i}"), Span::default()))
            .collect();
        let mut every = Vec::new();
        for (i, (_, a, _, _)) in nets.iter().enumerate() {
            for (j, (_, b, _, _)) in nets.iter().enumerate().skip(i + 1) {
                if a.contains(&b.network()) || b.contains(&a.network()) {
                    every.push((i, j));
                }
            }
        }
        assert_eq!(overlapping_pairs(&nets), every);
    }
}
