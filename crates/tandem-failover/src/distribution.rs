//! Traffic distributions: how calls (telephony) and agents are split between
//! the two regions of a traffic distribution group.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Percent of traffic per region (region name -> percent), in the shape of
/// the Connect API's `Distributions: [{Region, Percentage}]`, kept sorted by
/// region so that equal splits compare and serialize equal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Weights(pub BTreeMap<String, u32>);

impl Weights {
    /// `a` gets `percent_a`, `b` gets the rest (100 - `percent_a`, saturating).
    pub fn split(a: &str, percent_a: u32, b: &str) -> Self {
        let mut map = BTreeMap::new();
        map.insert(a.to_string(), percent_a);
        map.insert(b.to_string(), 100u32.saturating_sub(percent_a));
        Weights(map)
    }

    /// The percent for `region`; a region that is not listed gets 0.
    pub fn get(&self, region: &str) -> u32 {
        self.0.get(region).copied().unwrap_or(0)
    }

    /// Same traffic for every region named on either side (a missing region
    /// and an explicit 0% are the same thing).
    pub fn equivalent(&self, other: &Weights) -> bool {
        self.0.keys().chain(other.0.keys()).all(|region| self.get(region) == other.get(region))
    }
}

impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(region, percent)| format!("{region} {percent}%")).collect();
        f.write_str(&parts.join(" / "))
    }
}

/// A traffic distribution: telephony (where calls land) AND agents (where
/// agents are signed in). Shifting calls without agents strands callers, so
/// every decision carries both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    pub telephony: Weights,
    pub agents: Weights,
}

impl Distribution {
    /// Calls and agents both split `percent_a` to `a`, the rest to `b`.
    pub fn split(a: &str, percent_a: u32, b: &str) -> Self {
        let weights = Weights::split(a, percent_a, b);
        Distribution { telephony: weights.clone(), agents: weights }
    }

    /// Everything (calls and agents) to `to`, nothing to `from`.
    pub fn all_to(to: &str, from: &str) -> Self {
        Self::split(to, 100, from)
    }

    /// Same telephony and same agent split (missing region = 0%).
    pub fn equivalent(&self, other: &Distribution) -> bool {
        self.telephony.equivalent(&other.telephony) && self.agents.equivalent(&other.agents)
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "telephony {}, agents {}", self.telephony, self.agents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_region_equals_zero_percent() {
        let mut only_east = BTreeMap::new();
        only_east.insert("us-east-1".to_string(), 100);
        let a = Weights(only_east);
        let b = Weights::split("us-east-1", 100, "us-west-2");
        assert!(a.equivalent(&b));
        assert!(b.equivalent(&a));
        assert!(!b.equivalent(&Weights::split("us-east-1", 50, "us-west-2")));
    }

    #[test]
    fn display_names_both_dimensions() {
        let d = Distribution::all_to("us-west-2", "us-east-1");
        assert_eq!(d.to_string(), "telephony us-east-1 0% / us-west-2 100%, agents us-east-1 0% / us-west-2 100%");
    }

    #[test]
    fn serializes_as_region_to_percent_maps() {
        let d = Distribution::split("us-east-1", 50, "us-west-2");
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "telephony": {"us-east-1": 50, "us-west-2": 50},
                "agents": {"us-east-1": 50, "us-west-2": 50}
            })
        );
        let back: Distribution = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
    }
}
