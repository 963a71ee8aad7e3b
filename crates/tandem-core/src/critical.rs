//! The critical path of an apply: the chain of operations, dependency after
//! dependency, whose measured durations add up to the most. No schedule can
//! finish before it, so wall time over it says how close the executor came
//! to the physical limit (1.0 is the limit).

use std::collections::BTreeMap;
use std::time::Duration;

/// The longest chain through `edges` (before, after) by `durations`; nodes
/// without a duration are not part of it. Returns its length and its nodes
/// in order.
pub fn critical_path<K: Ord + Clone>(durations: &BTreeMap<K, Duration>, edges: &[(K, K)]) -> (Duration, Vec<K>) {
    let mut preds: BTreeMap<&K, Vec<&K>> = BTreeMap::new();
    let mut indegree: BTreeMap<&K, usize> = durations.keys().map(|k| (k, 0)).collect();
    let mut succs: BTreeMap<&K, Vec<&K>> = BTreeMap::new();
    for (a, b) in edges {
        if durations.contains_key(a) && durations.contains_key(b) {
            preds.entry(b).or_default().push(a);
            succs.entry(a).or_default().push(b);
            *indegree.get_mut(b).expect("known") += 1;
        }
    }
    // Longest finish time per node, in topological order (Kahn).
    let mut ready: Vec<&K> = indegree.iter().filter(|(_, d)| **d == 0).map(|(k, _)| *k).collect();
    let mut finish: BTreeMap<&K, (Duration, Option<&K>)> = BTreeMap::new();
    while let Some(n) = ready.pop() {
        let (start, via) = preds
            .get(n)
            .into_iter()
            .flatten()
            .filter_map(|p| finish.get(p).map(|(f, _)| (*f, Some(*p))))
            .max_by_key(|(f, _)| *f)
            .unwrap_or((Duration::ZERO, None));
        finish.insert(n, (start + durations[n], via));
        for s in succs.get(n).into_iter().flatten() {
            let d = indegree.get_mut(s).expect("known");
            *d -= 1;
            if *d == 0 {
                ready.push(s);
            }
        }
    }
    let Some((mut at, (length, _))) = finish.iter().max_by_key(|(_, (f, _))| *f).map(|(k, v)| (*k, *v)) else {
        return (Duration::ZERO, Vec::new());
    };
    let mut path = vec![at.clone()];
    while let Some((_, Some(p))) = finish.get(at) {
        path.push((*p).clone());
        at = p;
    }
    path.reverse();
    (length, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_chain_wins_not_the_longest_node() {
        let ms = Duration::from_millis;
        let d: BTreeMap<&str, Duration> =
            [("instance", ms(3000)), ("replica", ms(3000)), ("group", ms(2000)), ("vpc", ms(5000)), ("subnet", ms(100))].into();
        let edges = [("instance", "replica"), ("replica", "group"), ("vpc", "subnet")];
        let (len, path) = critical_path(&d, &edges);
        assert_eq!(len, ms(8000));
        assert_eq!(path, vec!["instance", "replica", "group"]);
        assert_eq!(critical_path::<&str>(&BTreeMap::new(), &[]), (Duration::ZERO, vec![]));
    }
}
