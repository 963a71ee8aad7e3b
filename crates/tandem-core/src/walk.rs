//! A concurrent walk over a dependency graph, knowing nothing of what the
//! nodes are.
//!
//! A node starts the moment its last dependency finishes (a ready queue, not
//! waves), at most `parallelism` at a time. A failed node's dependents are
//! skipped and marked with the root cause, so independent branches still
//! finish and the summary names only real failures. When `cancel` is set,
//! nothing new starts; what runs is allowed to finish.

use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeStatus<K, E = String> {
    Done,
    /// Failed with the node's own error (typed: the engine keeps the cloud's
    /// class, code and request id through the walk).
    Failed(E),
    /// Not run because `because` (a failed or skipped dependency) did not finish.
    Skipped {
        because: K,
    },
    /// Not started because the walk was interrupted.
    Cancelled,
}

/// Walk `nodes`; `edges` are (before, after) pairs. Nodes in a cycle never
/// become ready and are reported Cancelled (callers reject cycles first).
pub async fn walk<K, E, F, Fut>(
    nodes: &[K],
    edges: &[(K, K)],
    parallelism: usize,
    cancel: &AtomicBool,
    run: F,
) -> BTreeMap<K, NodeStatus<K, E>>
where
    K: Ord + Clone,
    F: Fn(K) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let parallelism = parallelism.max(1);
    let mut waiting_on: BTreeMap<K, usize> = nodes.iter().map(|n| (n.clone(), 0)).collect();
    let mut dependents: BTreeMap<K, Vec<K>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (a, b) in edges {
        if !waiting_on.contains_key(a) || !waiting_on.contains_key(b) || !seen.insert((a.clone(), b.clone())) {
            continue;
        }
        *waiting_on.get_mut(b).expect("checked") += 1;
        dependents.entry(a.clone()).or_default().push(b.clone());
    }
    let mut ready: VecDeque<K> = nodes.iter().filter(|n| waiting_on[*n] == 0).cloned().collect();
    let mut status: BTreeMap<K, NodeStatus<K, E>> = BTreeMap::new();
    let mut running = FuturesUnordered::new();

    loop {
        while running.len() < parallelism && !cancel.load(Ordering::SeqCst) {
            let Some(n) = ready.pop_front() else { break };
            let fut = run(n.clone());
            running.push(async move { (n, fut.await) });
        }
        let Some((n, result)) = running.next().await else { break };
        match result {
            Ok(()) => {
                for d in dependents.get(&n).cloned().unwrap_or_default() {
                    let c = waiting_on.get_mut(&d).expect("known node");
                    *c -= 1;
                    if *c == 0 && !status.contains_key(&d) {
                        ready.push_back(d);
                    }
                }
                status.insert(n, NodeStatus::Done);
            }
            Err(e) => {
                // Everything downstream is skipped, naming this root cause.
                let mut stack = dependents.get(&n).cloned().unwrap_or_default();
                while let Some(d) = stack.pop() {
                    if status.contains_key(&d) {
                        continue;
                    }
                    status.insert(d.clone(), NodeStatus::Skipped { because: n.clone() });
                    stack.extend(dependents.get(&d).cloned().unwrap_or_default());
                }
                status.insert(n, NodeStatus::Failed(e));
            }
        }
    }
    for n in nodes {
        status.entry(n.clone()).or_insert(NodeStatus::Cancelled);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn starts_nodes_when_ready_not_in_waves() {
        // a(10ms) -> c ; b(100ms) -> d. c must start before b finishes.
        let nodes = ["a", "b", "c", "d"];
        let edges = [("a", "c"), ("b", "d")];
        let log = Mutex::new(Vec::new());
        let cancel = AtomicBool::new(false);
        let st = walk(&nodes, &edges, 10, &cancel, |n| {
            let log = &log;
            async move {
                log.lock().unwrap().push(format!("start {n}"));
                let ms = match n {
                    "a" => 10,
                    "b" => 100,
                    _ => 1,
                };
                tokio::time::sleep(Duration::from_millis(ms)).await;
                log.lock().unwrap().push(format!("end {n}"));
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(st.values().all(|s| *s == NodeStatus::Done));
        let log = log.into_inner().unwrap();
        let pos = |s: &str| log.iter().position(|l| l == s).unwrap();
        assert!(pos("start c") < pos("end b"), "{log:?}");
    }

    #[tokio::test]
    async fn failure_skips_only_dependents() {
        let nodes = ["a", "b", "c", "d", "e"];
        let edges = [("a", "b"), ("b", "c"), ("d", "e")];
        let cancel = AtomicBool::new(false);
        let st = walk(&nodes, &edges, 2, &cancel, |n| async move {
            if n == "a" {
                Err("boom".to_string())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(st["a"], NodeStatus::Failed("boom".into()));
        assert_eq!(st["b"], NodeStatus::Skipped { because: "a" });
        assert_eq!(st["c"], NodeStatus::Skipped { because: "a" }, "the root cause, not the nearest skip");
        assert_eq!(st["d"], NodeStatus::Done);
        assert_eq!(st["e"], NodeStatus::Done);
    }

    #[tokio::test(start_paused = true)]
    async fn parallelism_is_bounded() {
        let nodes: Vec<u32> = (0..20).collect();
        let now = Mutex::new((0usize, 0usize));
        let cancel = AtomicBool::new(false);
        walk(&nodes, &[], 3, &cancel, |_| {
            let now = &now;
            async move {
                {
                    let mut g = now.lock().unwrap();
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                now.lock().unwrap().0 -= 1;
                Ok::<(), String>(())
            }
        })
        .await;
        assert_eq!(now.into_inner().unwrap().1, 3);
    }

    #[tokio::test]
    async fn cancel_stops_new_starts() {
        let nodes = ["a", "b", "c"];
        let edges = [("a", "b"), ("b", "c")];
        let cancel = AtomicBool::new(false);
        let st = walk(&nodes, &edges, 1, &cancel, |n| {
            let cancel = &cancel;
            async move {
                if n == "a" {
                    cancel.store(true, Ordering::SeqCst);
                }
                Ok::<(), String>(())
            }
        })
        .await;
        assert_eq!(st["a"], NodeStatus::Done);
        assert_eq!(st["b"], NodeStatus::Cancelled);
        assert_eq!(st["c"], NodeStatus::Cancelled);
    }
}
