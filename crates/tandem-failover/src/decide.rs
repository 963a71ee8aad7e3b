//! Hysteresis counters and the decision.
//!
//! `decide` is level-based: it derives the distribution that *should* be from
//! what has been observed (the counters) and compares it with what *is*
//! (`current`); it never flips "from the last decision". Calling it again with
//! the same inputs gives the same answer, and once `current` equals the target
//! the answer is a Hold.

use crate::distribution::Distribution;
use crate::health::RegionHealth;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Consecutive check results for one region. One of the two is always 0
/// (except before the first check, when both are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counters {
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
}

impl Counters {
    /// The counters after one more check; `up` is [`RegionHealth::is_up`].
    pub fn after(self, up: bool) -> Counters {
        if up {
            Counters { consecutive_failures: 0, consecutive_successes: self.consecutive_successes.saturating_add(1) }
        } else {
            Counters { consecutive_failures: self.consecutive_failures.saturating_add(1), consecutive_successes: 0 }
        }
    }
}

/// What a controller remembers between checks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct History {
    pub primary: Counters,
    pub secondary: Counters,
    /// When traffic last shifted (Unix seconds), by either controller: take it
    /// from the shared decision record (`DecisionRecord::decided_at`).
    pub last_shift_at: Option<u64>,
}

impl History {
    /// The same counters with a new last shift time (e.g. from the record).
    pub fn with_last_shift(mut self, at: Option<u64>) -> History {
        self.last_shift_at = at;
        self
    }
}

/// The history after one check of both regions. Degraded counts as up.
pub fn observe(history: &History, primary: &RegionHealth, secondary: &RegionHealth) -> History {
    History {
        primary: history.primary.after(primary.is_up()),
        secondary: history.secondary.after(secondary.is_up()),
        last_shift_at: history.last_shift_at,
    }
}

/// Why nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hold", rename_all = "snake_case")]
pub enum HoldReason {
    /// The current distribution is already what the observations call for.
    AtTarget,
    /// At target, but `region` has failed checks short of N.
    Suspect { region: String, failures: u32, needed: u32 },
    /// Away from the default; `region` has not had M healthy checks in a row yet.
    Recovering { region: String, successes: u32, needed: u32 },
    /// A region is down, but the region that would take its traffic failed its
    /// latest check too (short of N): traffic does not move into it.
    TargetNotReady { region: String, failures: u32 },
    /// Both regions are back, but the last shift was too recent.
    Dwell { until: u64 },
}

/// Why traffic moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shift", rename_all = "snake_case")]
pub enum ShiftReason {
    /// `region` failed N checks in a row: everything goes to the other one.
    RegionDown { region: String, failures: u32 },
    /// Both regions had M healthy checks in a row: back to the default.
    Recovered { successes: u32 },
}

/// Why a person must look (and nothing is changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "alert", rename_all = "snake_case")]
pub enum AlertReason {
    /// Both regions failed N checks in a row: there is nowhere to send traffic.
    BothDown { primary_failures: u32, secondary_failures: u32 },
    /// `region` is down and still has traffic, but a shift happened less than
    /// min_dwell ago (typically: the region that took the traffic has now
    /// failed too).
    FailoverBlockedByDwell { region: String, until: u64 },
}

/// What the controller should do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Hold(HoldReason),
    /// Set the group's telephony AND agent distribution to `to`.
    Shift {
        to: Distribution,
        reason: ShiftReason,
    },
    Alert(AlertReason),
}

impl Decision {
    pub fn is_shift(&self) -> bool {
        matches!(self, Decision::Shift { .. })
    }
}

/// The decision for `now` (Unix seconds). See the crate docs for the table.
pub fn decide(history: &History, current: &Distribution, policy: &Policy, now: u64) -> Decision {
    let n = policy.failures_to_fail_over.max(1);
    let m = policy.successes_to_return.max(1);
    let (primary, secondary) = (&policy.primary_region, &policy.secondary_region);
    let (pc, sc) = (history.primary, history.secondary);
    let p_down = pc.consecutive_failures >= n;
    let s_down = sc.consecutive_failures >= n;
    let dwell_until = history.last_shift_at.map(|at| at.saturating_add(policy.min_dwell.as_secs())).filter(|&until| now < until);

    if p_down && s_down {
        return Decision::Alert(AlertReason::BothDown {
            primary_failures: pc.consecutive_failures,
            secondary_failures: sc.consecutive_failures,
        });
    }

    if p_down || s_down {
        let (down, down_c, up, up_c) = if p_down { (primary, pc, secondary, sc) } else { (secondary, sc, primary, pc) };
        let target = Distribution::all_to(up, down);
        if current.equivalent(&target) {
            return Decision::Hold(HoldReason::AtTarget);
        }
        if up_c.consecutive_successes == 0 {
            return Decision::Hold(HoldReason::TargetNotReady { region: up.clone(), failures: up_c.consecutive_failures });
        }
        if let Some(until) = dwell_until {
            return Decision::Alert(AlertReason::FailoverBlockedByDwell { region: down.clone(), until });
        }
        return Decision::Shift {
            to: target,
            reason: ShiftReason::RegionDown { region: down.clone(), failures: down_c.consecutive_failures },
        };
    }

    let target = &policy.default_distribution;
    if current.equivalent(target) {
        for (region, c) in [(primary, pc), (secondary, sc)] {
            if c.consecutive_failures > 0 {
                return Decision::Hold(HoldReason::Suspect { region: region.clone(), failures: c.consecutive_failures, needed: n });
            }
        }
        return Decision::Hold(HoldReason::AtTarget);
    }
    for (region, c) in [(primary, pc), (secondary, sc)] {
        if c.consecutive_successes < m {
            return Decision::Hold(HoldReason::Recovering { region: region.clone(), successes: c.consecutive_successes, needed: m });
        }
    }
    if let Some(until) = dwell_until {
        return Decision::Hold(HoldReason::Dwell { until });
    }
    Decision::Shift { to: target.clone(), reason: ShiftReason::Recovered { successes: m } }
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::AtTarget => f.write_str("traffic is already where it should be"),
            HoldReason::Suspect { region, failures, needed } => {
                write!(f, "{region} failed {failures} of the {needed} checks in a row that move traffic")
            }
            HoldReason::Recovering { region, successes, needed } => {
                write!(f, "{region} has {successes} of the {needed} healthy checks in a row that restore the default")
            }
            HoldReason::TargetNotReady { region, failures } => {
                write!(f, "{region} would take the traffic but failed its last {failures} check(s); waiting")
            }
            HoldReason::Dwell { until } => {
                write!(f, "both regions are healthy; the next shift is allowed at {until} (min dwell)")
            }
        }
    }
}

impl fmt::Display for ShiftReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShiftReason::RegionDown { region, failures } => {
                write!(f, "{region} failed {failures} checks in a row")
            }
            ShiftReason::Recovered { successes } => {
                write!(f, "both regions passed {successes} checks in a row; back to the default distribution")
            }
        }
    }
}

impl fmt::Display for AlertReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertReason::BothDown {
                primary_failures,
                secondary_failures,
            } => write!(
                f,
                "both regions are down (primary failed {primary_failures} checks in a row, secondary {secondary_failures}); nothing was changed"
            ),
            AlertReason::FailoverBlockedByDwell { region, until } => write!(
                f,
                "{region} is down and still has traffic, but traffic shifted less than min dwell ago; no shift before {until}"
            ),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Hold(r) => write!(f, "hold: {r}"),
            Decision::Shift { to, reason } => write!(f, "shift to {to}: {reason}"),
            Decision::Alert(r) => write!(f, "ALERT: {r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Finding;

    const P: &str = "us-east-1";
    const S: &str = "us-west-2";
    const T0: u64 = 1_800_000_000;

    fn policy() -> Policy {
        Policy::new(P, S)
    }

    fn health(c: char) -> RegionHealth {
        match c {
            'H' => RegionHealth::Healthy,
            'D' => RegionHealth::Degraded(vec![Finding::InsufficientData { alarm: "ThrottledCalls".into() }]),
            'F' => RegionHealth::Unhealthy(vec![Finding::ApiUnreachable]),
            other => panic!("bad check letter {other}"),
        }
    }

    /// Checks as letters, oldest first: H healthy, D degraded, F failed.
    fn history(primary: &str, secondary: &str, last_shift_at: Option<u64>) -> History {
        assert_eq!(primary.len(), secondary.len(), "checks come in pairs");
        primary
            .chars()
            .zip(secondary.chars())
            .fold(History::default(), |h, (p, s)| observe(&h, &health(p), &health(s)))
            .with_last_shift(last_shift_at)
    }

    fn default() -> Distribution {
        Distribution::split(P, 50, S)
    }
    fn to_s() -> Distribution {
        Distribution::all_to(S, P)
    }
    fn to_p() -> Distribution {
        Distribution::all_to(P, S)
    }
    fn hold(r: HoldReason) -> Decision {
        Decision::Hold(r)
    }
    fn long_ago() -> Option<u64> {
        Some(T0 - 3600)
    }

    #[test]
    fn decision_table() {
        struct Row {
            name: &'static str,
            primary: &'static str,
            secondary: &'static str,
            current: Distribution,
            last_shift: Option<u64>,
            want: Decision,
        }
        let rows = vec![
            Row {
                name: "both healthy at default -> hold",
                primary: "HHHHH",
                secondary: "HHHHH",
                current: default(),
                last_shift: None,
                want: hold(HoldReason::AtTarget),
            },
            Row {
                name: "both healthy at default, no history (fresh controller) -> hold",
                primary: "",
                secondary: "",
                current: default(),
                last_shift: None,
                want: hold(HoldReason::AtTarget),
            },
            Row {
                name: "both healthy after failover with M successes -> back to default",
                primary: "FFFHHHHH",
                secondary: "HHHHHHHH",
                current: to_s(),
                last_shift: long_ago(),
                want: Decision::Shift { to: default(), reason: ShiftReason::Recovered { successes: 5 } },
            },
            Row {
                name: "after failover with M-1 successes -> hold",
                primary: "FFFHHHH",
                secondary: "HHHHHHH",
                current: to_s(),
                last_shift: long_ago(),
                want: hold(HoldReason::Recovering { region: P.into(), successes: 4, needed: 5 }),
            },
            Row {
                name: "return needs BOTH regions confirmed (secondary blipped)",
                primary: "FFFHHHHH",
                secondary: "HHHHHFHH",
                current: to_s(),
                last_shift: long_ago(),
                want: hold(HoldReason::Recovering { region: S.into(), successes: 2, needed: 5 }),
            },
            Row {
                name: "degraded counts as up for the return",
                primary: "FFFDDDDD",
                secondary: "HHHDDHHH",
                current: to_s(),
                last_shift: long_ago(),
                want: Decision::Shift { to: default(), reason: ShiftReason::Recovered { successes: 5 } },
            },
            Row {
                name: "recovered with M successes but inside min dwell -> hold",
                primary: "FFFHHHHH",
                secondary: "HHHHHHHH",
                current: to_s(),
                last_shift: Some(T0 - 300),
                want: hold(HoldReason::Dwell { until: T0 + 300 }),
            },
            Row {
                name: "primary fails N-1 times -> hold",
                primary: "HHHFF",
                secondary: "HHHHH",
                current: default(),
                last_shift: None,
                want: hold(HoldReason::Suspect { region: P.into(), failures: 2, needed: 3 }),
            },
            Row {
                name: "primary fails N times -> all to secondary (calls and agents)",
                primary: "HHFFF",
                secondary: "HHHHH",
                current: default(),
                last_shift: None,
                want: Decision::Shift { to: to_s(), reason: ShiftReason::RegionDown { region: P.into(), failures: 3 } },
            },
            Row {
                name: "secondary fails N times -> all to primary",
                primary: "HHHHH",
                secondary: "HHFFF",
                current: default(),
                last_shift: long_ago(),
                want: Decision::Shift { to: to_p(), reason: ShiftReason::RegionDown { region: S.into(), failures: 3 } },
            },
            Row {
                name: "degraded secondary still takes the traffic",
                primary: "HFFF",
                secondary: "DDDD",
                current: default(),
                last_shift: None,
                want: Decision::Shift { to: to_s(), reason: ShiftReason::RegionDown { region: P.into(), failures: 3 } },
            },
            Row {
                name: "both unhealthy -> alert, no shift",
                primary: "FFF",
                secondary: "FFF",
                current: default(),
                last_shift: None,
                want: Decision::Alert(AlertReason::BothDown { primary_failures: 3, secondary_failures: 3 }),
            },
            Row {
                name: "both unhealthy while failed over -> alert, no shift",
                primary: "FFFFFF",
                secondary: "HHHFFF",
                current: to_s(),
                last_shift: long_ago(),
                want: Decision::Alert(AlertReason::BothDown { primary_failures: 6, secondary_failures: 3 }),
            },
            Row {
                name: "primary down, already all on secondary -> hold (idempotent)",
                primary: "FFFFFFF",
                secondary: "HHHHHHH",
                current: to_s(),
                last_shift: Some(T0 - 60),
                want: hold(HoldReason::AtTarget),
            },
            Row {
                name: "primary down, secondary's last check failed -> hold, do not move into it",
                primary: "FFF",
                secondary: "HHF",
                current: default(),
                last_shift: None,
                want: hold(HoldReason::TargetNotReady { region: S.into(), failures: 1 }),
            },
            Row {
                name: "failed over to secondary, then secondary fails N -> all to primary",
                primary: "FFFHHHH",
                secondary: "HHHHFFF",
                current: to_s(),
                last_shift: long_ago(),
                want: Decision::Shift { to: to_p(), reason: ShiftReason::RegionDown { region: S.into(), failures: 3 } },
            },
            Row {
                name: "down region still has traffic inside min dwell -> alert, no shift",
                primary: "FFFHHHH",
                secondary: "HHHHFFF",
                current: to_s(),
                last_shift: Some(T0 - 240),
                want: Decision::Alert(AlertReason::FailoverBlockedByDwell { region: S.into(), until: T0 + 360 }),
            },
            Row {
                name: "dwell ends exactly at last shift + min_dwell",
                primary: "HHFFF",
                secondary: "HHHHH",
                current: default(),
                last_shift: Some(T0 - 600),
                want: Decision::Shift { to: to_s(), reason: ShiftReason::RegionDown { region: P.into(), failures: 3 } },
            },
            Row {
                name: "a last shift stamped in the future (clock skew) counts as recent",
                primary: "FFFHHHHH",
                secondary: "HHHHHHHH",
                current: to_s(),
                last_shift: Some(T0 + 30),
                want: hold(HoldReason::Dwell { until: T0 + 630 }),
            },
            Row {
                name: "healthy but a hand-set 70/30 -> back to the default",
                primary: "HHHHH",
                secondary: "HHHHH",
                current: Distribution::split(P, 70, S),
                last_shift: long_ago(),
                want: Decision::Shift { to: default(), reason: ShiftReason::Recovered { successes: 5 } },
            },
            Row {
                name: "calls back at default but agents stranded -> shift moves agents too",
                primary: "HHHHH",
                secondary: "HHHHH",
                current: Distribution { telephony: default().telephony, agents: to_s().agents },
                last_shift: long_ago(),
                want: Decision::Shift { to: default(), reason: ShiftReason::Recovered { successes: 5 } },
            },
        ];
        let p = policy();
        for row in rows {
            let h = history(row.primary, row.secondary, row.last_shift);
            let got = decide(&h, &row.current, &p, T0);
            assert_eq!(got, row.want, "row: {}", row.name);
            // Level-based: the same inputs give the same answer again.
            assert_eq!(decide(&h, &row.current, &p, T0), got, "row: {}", row.name);
            // Idempotent: applying a shift and deciding again holds.
            if let Decision::Shift { to, .. } = &got {
                let after = h.clone().with_last_shift(Some(T0));
                assert_eq!(decide(&after, to, &p, T0), hold(HoldReason::AtTarget), "row: {} (after applying)", row.name);
            }
        }
    }

    #[test]
    fn failover_moves_agents_with_calls() {
        let h = history("FFF", "HHH", None);
        let Decision::Shift { to, .. } = decide(&h, &default(), &policy(), T0) else {
            panic!("expected a shift");
        };
        assert_eq!(to.telephony.get(P), 0);
        assert_eq!(to.telephony.get(S), 100);
        assert_eq!(to.agents.get(P), 0);
        assert_eq!(to.agents.get(S), 100);
    }

    #[test]
    fn observe_counts_consecutive_checks() {
        let h = history("HHFDF", "FFHHD", None);
        assert_eq!(h.primary, Counters { consecutive_failures: 1, consecutive_successes: 0 });
        assert_eq!(h.secondary, Counters { consecutive_failures: 0, consecutive_successes: 3 });
        let saturated = Counters { consecutive_failures: u32::MAX, consecutive_successes: 0 };
        assert_eq!(saturated.after(false).consecutive_failures, u32::MAX);
    }

    #[test]
    fn decisions_read_as_sentences_and_serialize() {
        let d = decide(&history("FFF", "HHH", None), &default(), &policy(), T0);
        assert_eq!(
            d.to_string(),
            "shift to telephony us-east-1 0% / us-west-2 100%, agents us-east-1 0% / us-west-2 100%: us-east-1 failed 3 checks in a row"
        );
        let json = serde_json::to_string(&d).unwrap();
        let back: Decision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        let h = hold(HoldReason::Suspect { region: P.into(), failures: 2, needed: 3 });
        assert_eq!(h.to_string(), "hold: us-east-1 failed 2 of the 3 checks in a row that move traffic");
        let back: Decision = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
    }
}
