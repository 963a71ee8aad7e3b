//! The dependency graph of a spec: edges from references and `depends_on`,
//! a cycle report that prints the cycle's path, and DOT output.

use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet};
use tandem_spec::Code;
use tandem_spec::{Problem, Spec};

/// Resources and "needs" edges (dependency -> dependent).
pub struct Graph {
    pub graph: DiGraph<String, ()>,
    pub index: BTreeMap<String, NodeIndex>,
}

impl Graph {
    pub fn from_spec(spec: &Spec) -> Graph {
        let mut graph = DiGraph::new();
        let mut index = BTreeMap::new();
        for addr in spec.resources.keys() {
            index.insert(addr.clone(), graph.add_node(addr.clone()));
        }
        for (addr, r) in &spec.resources {
            for dep in r.dependencies() {
                if let (Some(&a), Some(&b)) = (index.get(&dep), index.get(addr)) {
                    if a != b {
                        graph.update_edge(a, b, ());
                    }
                }
            }
        }
        Graph { graph, index }
    }

    /// Every dependency cycle, each as a path that starts at its
    /// alphabetically first resource and returns to it, so reports are stable.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&self.graph) {
            if scc.len() < 2 {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let start = *scc.iter().min_by_key(|i| &self.graph[**i]).expect("non-empty");
            // Shortest way around from `start` back to itself inside the component.
            let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut found = None;
            while let Some(n) = queue.pop_front() {
                let mut next: Vec<NodeIndex> = self.graph.neighbors(n).filter(|m| members.contains(m)).collect();
                next.sort_by_key(|i| self.graph[*i].clone());
                for m in next {
                    if m == start {
                        found = Some(n);
                        break;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(m) {
                        e.insert(n);
                        queue.push_back(m);
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let mut path = vec![self.graph[start].clone()];
            if let Some(mut n) = found {
                let mut rev = Vec::new();
                while n != start {
                    rev.push(self.graph[n].clone());
                    n = prev[&n];
                }
                rev.reverse();
                path.extend(rev);
            }
            path.push(self.graph[start].clone());
            out.push(path);
        }
        out.sort();
        out
    }

    /// Problems for every cycle, pointing at the first resource of each.
    pub fn cycle_problems(&self, spec: &Spec) -> Vec<Problem> {
        self.cycles()
            .into_iter()
            .map(|path| {
                let first = &spec.resources[&path[0]];
                Problem::new(Code::SpecCycle, format!("dependency cycle: {}", path.join(" -> ")))
                    .at(&spec.source, first.span, "this resource is part of a cycle")
                    .help("break the cycle: one of these references (or depends_on) must go")
            })
            .collect()
    }

    /// Addresses in an order where every resource comes after its dependencies.
    pub fn topo_order(&self) -> Vec<String> {
        match petgraph::algo::toposort(&self.graph, None) {
            Ok(order) => order.into_iter().map(|i| self.graph[i].clone()).collect(),
            Err(_) => self.index.keys().cloned().collect(),
        }
    }

    pub fn to_dot(&self, spec: &Spec) -> String {
        let mut s = String::from("digraph tandem {\n  rankdir = LR;\n  node [shape = box, fontname = \"monospace\"];\n");
        for (addr, r) in &spec.resources {
            let region = r.region.as_deref().map(|g| format!("\\n{g}")).unwrap_or_default();
            s.push_str(&format!("  \"{addr}\" [label = \"{addr}\\n{}{region}\"];\n", r.type_name));
        }
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].clone(), self.graph[b].clone()))
            .collect();
        edges.sort();
        for (a, b) in edges {
            // Arrows point from a resource to what it needs, as in `terraform graph`.
            s.push_str(&format!("  \"{b}\" -> \"{a}\";\n"));
        }
        s.push_str("}\n");
        s
    }
}
