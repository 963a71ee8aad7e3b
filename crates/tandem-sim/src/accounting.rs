//! Call accounting: every call the sandbox receives (served, forwarded or
//! failed by an injected fault) is counted by service, operation and region.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCount {
    pub service: String,
    pub operation: String,
    pub region: String,
    pub count: u64,
}

#[derive(Debug, Default)]
pub struct Accounting {
    counts: BTreeMap<(String, String, String), u64>,
}

impl Accounting {
    pub fn record(&mut self, service: &str, operation: &str, region: &str) {
        *self.counts.entry((service.to_string(), operation.to_string(), region.to_string())).or_default() += 1;
    }
    pub fn snapshot(&self) -> Vec<CallCount> {
        self.counts
            .iter()
            .map(|((s, o, r), c)| CallCount { service: s.clone(), operation: o.clone(), region: r.clone(), count: *c })
            .collect()
    }
    pub fn reset(&mut self) {
        self.counts.clear();
    }
}

/// Sum of the counts matching (service, operation, region); `None` matches all.
pub fn total(calls: &[CallCount], service: Option<&str>, operation: Option<&str>, region: Option<&str>) -> u64 {
    calls
        .iter()
        .filter(|c| service.is_none_or(|s| s == c.service))
        .filter(|c| operation.is_none_or(|o| o == c.operation))
        .filter(|c| region.is_none_or(|r| r == c.region))
        .map(|c| c.count)
        .sum()
}
