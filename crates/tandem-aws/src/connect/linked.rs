//! Which instances Global Resiliency links, as DescribeInstance's
//! ReplicationConfiguration tells: the kinds of mirrored objects use it to
//! wait for, and read, the copy in the other region.
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicationConfiguration.html

use crate::{classify, AwsContext};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tandem_provider::gone_is_none;
use tandem_provider::Result;

/// The other region of a linked pair, and how replication stands.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Linked {
    /// The region the instance was replicated from.
    pub source_region: String,
    /// The other region, seen from the region asked about.
    pub peer_region: String,
    /// INSTANCE_REPLICATION_COMPLETE, _IN_PROGRESS, _FAILED, INSTANCE_REPLICA_DELETING, ...
    pub status: String,
    pub reason: Option<String>,
}

impl Linked {
    /// Copies flow both ways only once replication is complete.
    pub fn mirroring(&self) -> bool {
        self.status == "INSTANCE_REPLICATION_COMPLETE"
    }
}

/// Completed replications seen lately: objects of one instance ask again and
/// again within one plan or apply. Only a complete replication is kept (it
/// stays complete until the replica is deleted); anything else is asked anew.
fn cache() -> &'static Mutex<HashMap<(String, String), (Instant, Linked)>> {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), (Instant, Linked)>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

const KEEP: Duration = Duration::from_secs(10);

/// The linked pair of `instance` (an id) as seen from `region`; `None` when
/// the instance is not replicated (or is gone).
pub(super) async fn linked(aws: &AwsContext, region: &str, instance: &str) -> Result<Option<Linked>> {
    let key = (region.to_string(), instance.to_string());
    if let Some((at, l)) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        if at.elapsed() < KEEP {
            return Ok(Some(l));
        }
    }
    let client = aws.connect(region).await;
    let Some(d) =
        gone_is_none(client.describe_instance().instance_id(instance).send().await.map_err(|e| classify("DescribeInstance", instance, e)))?
    else {
        return Ok(None);
    };
    let Some(rc) = d.replication_configuration() else { return Ok(None) };
    let Some(source) = rc.source_region() else { return Ok(None) };
    // The summary list names the replica region(s); from the replica, the peer is the source.
    let entry = rc.replication_status_summary_list().iter().find(|s| s.region().is_some_and(|r| r != source));
    let Some(entry) = entry else { return Ok(None) };
    let replica = entry.region().unwrap_or_default().to_string();
    let peer = if region == source { replica } else { source.to_string() };
    let l = Linked {
        source_region: source.to_string(),
        peer_region: peer,
        status: entry.replication_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        reason: entry.replication_status_reason().map(str::to_string),
    };
    if l.mirroring() {
        if let Ok(mut c) = cache().lock() {
            c.insert(key, (Instant::now(), l.clone()));
        }
    }
    Ok(Some(l))
}

/// Forget what is known of `instance` (its replica was just deleted).
pub(super) fn forget(instance: &str) {
    if let Ok(mut c) = cache().lock() {
        c.retain(|(_, i), _| i != instance);
    }
}
