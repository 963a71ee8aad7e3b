//! The failover policy: thresholds, dwell time, the default distribution.

use crate::distribution::{Distribution, Weights};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The Amazon Connect Global Resiliency region pairs (either order here: the
/// controller does not care which one is the source).
pub const CONNECT_REGION_PAIRS: [(&str, &str); 3] =
    [("us-east-1", "us-west-2"), ("eu-central-1", "eu-west-2"), ("ap-northeast-1", "ap-northeast-3")];

/// How the controller decides. Durations are whole seconds on the wire
/// (`min_dwell_seconds`, `probe_interval_seconds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub primary_region: String,
    pub secondary_region: String,
    /// N: consecutive failed checks before traffic leaves a region.
    pub failures_to_fail_over: u32,
    /// M: consecutive healthy checks of BOTH regions before the default
    /// distribution comes back.
    pub successes_to_return: u32,
    /// At most one shift per this long (counted from the last shift in the
    /// shared decision record, whichever controller made it).
    #[serde(rename = "min_dwell_seconds", with = "seconds")]
    pub min_dwell: Duration,
    /// The time between checks (the schedule: every minute by default).
    #[serde(rename = "probe_interval_seconds", with = "seconds")]
    pub probe_interval: Duration,
    /// Where traffic goes when both regions are healthy.
    pub default_distribution: Distribution,
}

impl Policy {
    /// The defaults: N = 3, M = 5, min dwell 10 minutes, a check every
    /// minute, 50/50 calls and agents.
    pub fn new(primary_region: &str, secondary_region: &str) -> Self {
        Policy {
            primary_region: primary_region.to_string(),
            secondary_region: secondary_region.to_string(),
            failures_to_fail_over: 3,
            successes_to_return: 5,
            min_dwell: Duration::from_secs(600),
            probe_interval: Duration::from_secs(60),
            default_distribution: Distribution::split(primary_region, 50, secondary_region),
        }
    }

    /// Every problem with the policy, each as a message a person can act on.
    pub fn validate(&self) -> Result<(), Vec<PolicyError>> {
        let mut errors = Vec::new();
        if self.failures_to_fail_over == 0 {
            errors.push(PolicyError::ZeroFailures);
        }
        if self.successes_to_return == 0 {
            errors.push(PolicyError::ZeroSuccesses);
        }
        if self.probe_interval.as_secs() == 0 {
            errors.push(PolicyError::ZeroProbeInterval);
        }
        let (p, s) = (self.primary_region.as_str(), self.secondary_region.as_str());
        let mut regions_ok = true;
        for (field, value) in [("primary_region", p), ("secondary_region", s)] {
            if value.trim().is_empty() {
                errors.push(PolicyError::EmptyRegion { field });
                regions_ok = false;
            }
        }
        if regions_ok && p == s {
            errors.push(PolicyError::SameRegion { region: p.to_string() });
            regions_ok = false;
        }
        if regions_ok && !CONNECT_REGION_PAIRS.iter().any(|&(a, b)| (a, b) == (p, s) || (b, a) == (p, s)) {
            errors.push(PolicyError::NotAPair { primary: p.to_string(), secondary: s.to_string() });
        }
        if regions_ok {
            let d = &self.default_distribution;
            check_weights("telephony", &d.telephony, p, s, &mut errors);
            check_weights("agents", &d.agents, p, s, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn check_weights(which: &'static str, weights: &Weights, primary: &str, secondary: &str, errors: &mut Vec<PolicyError>) {
    for region in weights.0.keys() {
        if region != primary && region != secondary {
            errors.push(PolicyError::UnknownRegion {
                which,
                region: region.clone(),
                primary: primary.to_string(),
                secondary: secondary.to_string(),
            });
        }
    }
    for region in [primary, secondary] {
        if !weights.0.contains_key(region) {
            errors.push(PolicyError::MissingRegion { which, region: region.to_string() });
        }
    }
    for (region, &percent) in &weights.0 {
        if percent % 10 != 0 || percent > 100 {
            errors.push(PolicyError::NotATenPercentStep { which, region: region.clone(), percent });
        }
    }
    let sum: u64 = weights.0.values().map(|&v| u64::from(v)).sum();
    if sum != 100 {
        errors.push(PolicyError::BadSum { which, sum });
    }
}

/// A policy problem, worded for the person who wrote the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("failures_to_fail_over is 0; it must be at least 1 (how many consecutive failed checks move traffic away from a region; the default is 3)")]
    ZeroFailures,
    #[error("successes_to_return is 0; it must be at least 1 (how many consecutive healthy checks of both regions bring the default distribution back; the default is 5)")]
    ZeroSuccesses,
    #[error("probe_interval_seconds is 0; it must be at least 1 second (the default is 60, a check every minute)")]
    ZeroProbeInterval,
    #[error("{field} is empty; name an AWS region such as us-east-1")]
    EmptyRegion { field: &'static str },
    #[error("primary_region and secondary_region are both {region}; active-active needs two different regions")]
    SameRegion { region: String },
    #[error("{primary} and {secondary} are not an Amazon Connect Global Resiliency pair; the pairs are us-east-1 and us-west-2, eu-central-1 and eu-west-2, ap-northeast-1 and ap-northeast-3")]
    NotAPair { primary: String, secondary: String },
    #[error(
        "default_distribution.{which} names {region}, which is neither of the two regions ({primary}, {secondary}); list exactly those two"
    )]
    UnknownRegion { which: &'static str, region: String, primary: String, secondary: String },
    #[error("default_distribution.{which} has no percentage for {region}; give both regions one (0 is allowed)")]
    MissingRegion { which: &'static str, region: String },
    #[error("default_distribution.{which} gives {region} {percent}%; Connect takes percentages in steps of 10 (0, 10, 20, ... 100)")]
    NotATenPercentStep { which: &'static str, region: String, percent: u32 },
    #[error("default_distribution.{which} adds up to {sum}%; the two percentages must add up to exactly 100")]
    BadSum { which: &'static str, sum: u64 },
}

mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn weights(pairs: &[(&str, u32)]) -> Weights {
        Weights(pairs.iter().map(|&(r, p)| (r.to_string(), p)).collect::<BTreeMap<_, _>>())
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let p = Policy::new("us-east-1", "us-west-2");
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.failures_to_fail_over, 3);
        assert_eq!(p.successes_to_return, 5);
        assert_eq!(p.min_dwell, Duration::from_secs(600));
        assert_eq!(p.probe_interval, Duration::from_secs(60));
        assert_eq!(p.default_distribution.telephony.get("us-east-1"), 50);
        assert_eq!(p.default_distribution.agents.get("us-west-2"), 50);
        let p = Policy::new("ap-northeast-3", "ap-northeast-1");
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn validation_errors_are_human_messages() {
        let base = Policy::new("us-east-1", "us-west-2");
        type Edit = fn(&mut Policy);
        let rows: Vec<(&str, Edit, Vec<&str>)> = vec![
            (
                "N = 0",
                |p| p.failures_to_fail_over = 0,
                vec!["failures_to_fail_over is 0; it must be at least 1 (how many consecutive failed checks move traffic away from a region; the default is 3)"],
            ),
            (
                "M = 0",
                |p| p.successes_to_return = 0,
                vec!["successes_to_return is 0; it must be at least 1 (how many consecutive healthy checks of both regions bring the default distribution back; the default is 5)"],
            ),
            (
                "no probe interval",
                |p| p.probe_interval = Duration::ZERO,
                vec!["probe_interval_seconds is 0; it must be at least 1 second (the default is 60, a check every minute)"],
            ),
            (
                "empty region",
                |p| p.secondary_region = String::new(),
                vec!["secondary_region is empty; name an AWS region such as us-east-1"],
            ),
            (
                "same region twice",
                |p| p.secondary_region = "us-east-1".into(),
                vec!["primary_region and secondary_region are both us-east-1; active-active needs two different regions"],
            ),
            (
                "not a Connect pair",
                |p| {
                    *p = Policy::new("us-east-1", "eu-west-2");
                },
                vec!["us-east-1 and eu-west-2 are not an Amazon Connect Global Resiliency pair; the pairs are us-east-1 and us-west-2, eu-central-1 and eu-west-2, ap-northeast-1 and ap-northeast-3"],
            ),
            (
                "45/55 is not in 10% steps",
                |p| p.default_distribution.telephony = weights(&[("us-east-1", 45), ("us-west-2", 55)]),
                vec![
                    "default_distribution.telephony gives us-east-1 45%; Connect takes percentages in steps of 10 (0, 10, 20, ... 100)",
                    "default_distribution.telephony gives us-west-2 55%; Connect takes percentages in steps of 10 (0, 10, 20, ... 100)",
                ],
            ),
            (
                "60/60 does not sum to 100",
                |p| p.default_distribution.agents = weights(&[("us-east-1", 60), ("us-west-2", 60)]),
                vec!["default_distribution.agents adds up to 120%; the two percentages must add up to exactly 100"],
            ),
            (
                "a third region, one missing",
                |p| p.default_distribution.telephony = weights(&[("us-east-1", 50), ("eu-west-2", 50)]),
                vec![
                    "default_distribution.telephony names eu-west-2, which is neither of the two regions (us-east-1, us-west-2); list exactly those two",
                    "default_distribution.telephony has no percentage for us-west-2; give both regions one (0 is allowed)",
                ],
            ),
            (
                "over 100 for one region",
                |p| p.default_distribution.agents = weights(&[("us-east-1", 110), ("us-west-2", 0)]),
                vec![
                    "default_distribution.agents gives us-east-1 110%; Connect takes percentages in steps of 10 (0, 10, 20, ... 100)",
                    "default_distribution.agents adds up to 110%; the two percentages must add up to exactly 100",
                ],
            ),
        ];
        for (name, edit, want) in rows {
            let mut p = base.clone();
            edit(&mut p);
            let got: Vec<String> = p.validate().expect_err(name).iter().map(ToString::to_string).collect();
            assert_eq!(got, want, "row: {name}");
        }
    }

    #[test]
    fn several_problems_are_all_reported() {
        let mut p = Policy::new("us-east-1", "us-west-2");
        p.failures_to_fail_over = 0;
        p.successes_to_return = 0;
        p.default_distribution.telephony = weights(&[("us-east-1", 30), ("us-west-2", 30)]);
        let errors = p.validate().unwrap_err();
        assert_eq!(
            errors,
            vec![PolicyError::ZeroFailures, PolicyError::ZeroSuccesses, PolicyError::BadSum { which: "telephony", sum: 60 },]
        );
    }

    #[test]
    fn json_round_trip_uses_seconds() {
        let p = Policy::new("us-east-1", "us-west-2");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["min_dwell_seconds"], 600);
        assert_eq!(json["probe_interval_seconds"], 60);
        let back: Policy = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }
}
