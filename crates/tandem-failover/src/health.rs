//! One region's health, from one probe.
//!
//! The rule (also in the crate docs and `docs/failover.md`):
//!
//! | finding | effect |
//! |---|---|
//! | the region's Connect API did not answer (`api_reachable == false`) | **Unhealthy** |
//! | the API answered but gave no instance status | **Unhealthy** |
//! | instance status is not `ACTIVE` | **Unhealthy** |
//! | a `critical` alarm is in `ALARM` | **Unhealthy** |
//! | a `warning` alarm is in `ALARM` | Degraded |
//! | any alarm is in `INSUFFICIENT_DATA` | Degraded (never fails a region) |
//! | none of the above | Healthy |
//!
//! Degraded counts as *up* for the hysteresis: a region that carries no
//! traffic has no call metrics, so its alarms sit in `INSUFFICIENT_DATA`; if
//! that kept it "down", traffic could never come back.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Connect `InstanceStatus` (DescribeInstance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceStatus {
    CreationInProgress,
    Active,
    CreationFailed,
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstanceStatus::CreationInProgress => "CREATION_IN_PROGRESS",
            InstanceStatus::Active => "ACTIVE",
            InstanceStatus::CreationFailed => "CREATION_FAILED",
        })
    }
}

/// CloudWatch alarm `StateValue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateValue {
    Ok,
    Alarm,
    InsufficientData,
}

/// How much a declared alarm counts. Declared with the alarm in the spec;
/// `critical` unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// In `ALARM`, the region is Unhealthy (e.g. `ToInstancePacketLossRate`,
    /// `ThrottledCalls`).
    #[default]
    Critical,
    /// In `ALARM`, the region is only Degraded (e.g. `MissedCalls`, which is
    /// about agents rather than the region).
    Warning,
}

/// The state of one declared alarm at probe time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmState {
    pub name: String,
    pub state: StateValue,
    #[serde(default)]
    pub severity: Severity,
}

/// What a controller saw of one region in one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// `DescribeInstance` status; `None` when the call failed or gave none.
    pub instance_status: Option<InstanceStatus>,
    /// Whether the region's Connect API answered at all.
    pub api_reachable: bool,
    /// The declared alarms of that region.
    #[serde(default)]
    pub alarms: Vec<AlarmState>,
}

/// One reason a region is not plainly healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    ApiUnreachable,
    InstanceStatusUnknown,
    InstanceNotActive { status: InstanceStatus },
    CriticalAlarm { alarm: String },
    WarningAlarm { alarm: String },
    InsufficientData { alarm: String },
}

impl Finding {
    /// Whether this finding alone makes a region Unhealthy.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Finding::ApiUnreachable | Finding::InstanceStatusUnknown | Finding::InstanceNotActive { .. } | Finding::CriticalAlarm { .. }
        )
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::ApiUnreachable => f.write_str("the Connect API did not answer"),
            Finding::InstanceStatusUnknown => f.write_str("the Connect API gave no instance status"),
            Finding::InstanceNotActive { status } => {
                write!(f, "the instance is {status}, not ACTIVE")
            }
            Finding::CriticalAlarm { alarm } => write!(f, "critical alarm {alarm} is in ALARM"),
            Finding::WarningAlarm { alarm } => write!(f, "warning alarm {alarm} is in ALARM"),
            Finding::InsufficientData { alarm } => {
                write!(f, "alarm {alarm} has INSUFFICIENT_DATA")
            }
        }
    }
}

/// A region's health from one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionHealth {
    Healthy,
    /// Up, with findings worth showing (never moves traffic).
    Degraded(Vec<Finding>),
    /// Down for this check; the findings say why (fatal ones first).
    Unhealthy(Vec<Finding>),
}

impl RegionHealth {
    /// Healthy and Degraded are up; only Unhealthy counts as a failed check.
    pub fn is_up(&self) -> bool {
        !matches!(self, RegionHealth::Unhealthy(_))
    }
}

/// Applies the health rule (see the module docs) to one probe.
pub fn assess(probe: &Probe) -> RegionHealth {
    let mut findings = Vec::new();
    if !probe.api_reachable {
        findings.push(Finding::ApiUnreachable);
    } else {
        match probe.instance_status {
            None => findings.push(Finding::InstanceStatusUnknown),
            Some(InstanceStatus::Active) => {}
            Some(status) => findings.push(Finding::InstanceNotActive { status }),
        }
    }
    for alarm in &probe.alarms {
        let name = alarm.name.clone();
        match (alarm.state, alarm.severity) {
            (StateValue::Ok, _) => {}
            (StateValue::Alarm, Severity::Critical) => findings.push(Finding::CriticalAlarm { alarm: name }),
            (StateValue::Alarm, Severity::Warning) => findings.push(Finding::WarningAlarm { alarm: name }),
            (StateValue::InsufficientData, _) => findings.push(Finding::InsufficientData { alarm: name }),
        }
    }
    if findings.is_empty() {
        RegionHealth::Healthy
    } else if findings.iter().any(Finding::is_fatal) {
        // Stable sort: fatal findings first, each group in probe order.
        findings.sort_by_key(|f| !f.is_fatal());
        RegionHealth::Unhealthy(findings)
    } else {
        RegionHealth::Degraded(findings)
    }
}

impl Probe {
    /// Same as [`assess`].
    pub fn assess(&self) -> RegionHealth {
        assess(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, state: StateValue, severity: Severity) -> AlarmState {
        AlarmState { name: name.to_string(), state, severity }
    }

    fn probe(status: Option<InstanceStatus>, api: bool, alarms: Vec<AlarmState>) -> Probe {
        Probe { instance_status: status, api_reachable: api, alarms }
    }

    use InstanceStatus::*;
    use Severity::*;
    use StateValue::{Alarm, InsufficientData, Ok as AlarmOk};

    #[test]
    fn health_rule_table() {
        let crit = |n: &str| Finding::CriticalAlarm { alarm: n.into() };
        let warn = |n: &str| Finding::WarningAlarm { alarm: n.into() };
        let nodata = |n: &str| Finding::InsufficientData { alarm: n.into() };
        let rows: Vec<(&str, Probe, RegionHealth)> = vec![
            (
                "active, reachable, all alarms OK",
                probe(
                    Some(Active),
                    true,
                    vec![
                        alarm("ToInstancePacketLossRate", AlarmOk, Critical),
                        alarm("ThrottledCalls", AlarmOk, Critical),
                        alarm("MissedCalls", AlarmOk, Warning),
                    ],
                ),
                RegionHealth::Healthy,
            ),
            ("active, reachable, no alarms declared", probe(Some(Active), true, vec![]), RegionHealth::Healthy),
            ("API unreachable", probe(None, false, vec![]), RegionHealth::Unhealthy(vec![Finding::ApiUnreachable])),
            (
                "API unreachable even with a stale ACTIVE status",
                probe(Some(Active), false, vec![]),
                RegionHealth::Unhealthy(vec![Finding::ApiUnreachable]),
            ),
            ("reachable but no status", probe(None, true, vec![]), RegionHealth::Unhealthy(vec![Finding::InstanceStatusUnknown])),
            (
                "instance CREATION_IN_PROGRESS",
                probe(Some(CreationInProgress), true, vec![]),
                RegionHealth::Unhealthy(vec![Finding::InstanceNotActive { status: CreationInProgress }]),
            ),
            (
                "instance CREATION_FAILED",
                probe(Some(CreationFailed), true, vec![]),
                RegionHealth::Unhealthy(vec![Finding::InstanceNotActive { status: CreationFailed }]),
            ),
            (
                "critical alarm in ALARM",
                probe(Some(Active), true, vec![alarm("ToInstancePacketLossRate", Alarm, Critical)]),
                RegionHealth::Unhealthy(vec![crit("ToInstancePacketLossRate")]),
            ),
            (
                "warning alarm in ALARM only degrades",
                probe(Some(Active), true, vec![alarm("MissedCalls", Alarm, Warning)]),
                RegionHealth::Degraded(vec![warn("MissedCalls")]),
            ),
            (
                "INSUFFICIENT_DATA on a critical alarm never fails a region",
                probe(Some(Active), true, vec![alarm("ThrottledCalls", InsufficientData, Critical)]),
                RegionHealth::Degraded(vec![nodata("ThrottledCalls")]),
            ),
            (
                "all alarms INSUFFICIENT_DATA (idle region) is still up",
                probe(
                    Some(Active),
                    true,
                    vec![
                        alarm("ToInstancePacketLossRate", InsufficientData, Critical),
                        alarm("ThrottledCalls", InsufficientData, Critical),
                        alarm("MissedCalls", InsufficientData, Warning),
                    ],
                ),
                RegionHealth::Degraded(vec![nodata("ToInstancePacketLossRate"), nodata("ThrottledCalls"), nodata("MissedCalls")]),
            ),
            (
                "everything at once: fatal findings first, all reported",
                probe(
                    Some(CreationFailed),
                    true,
                    vec![
                        alarm("MissedCalls", Alarm, Warning),
                        alarm("ThrottledCalls", Alarm, Critical),
                        alarm("ToInstancePacketLossRate", InsufficientData, Critical),
                    ],
                ),
                RegionHealth::Unhealthy(vec![
                    Finding::InstanceNotActive { status: CreationFailed },
                    crit("ThrottledCalls"),
                    warn("MissedCalls"),
                    nodata("ToInstancePacketLossRate"),
                ]),
            ),
        ];
        for (name, p, want) in rows {
            assert_eq!(assess(&p), want, "row: {name}");
            assert_eq!(p.assess().is_up(), want.is_up(), "row: {name}");
        }
    }

    #[test]
    fn probe_json_uses_aws_spellings_and_defaults_to_critical() {
        let p: Probe = serde_json::from_value(serde_json::json!({
            "instance_status": "ACTIVE",
            "api_reachable": true,
            "alarms": [{"name": "ThrottledCalls", "state": "ALARM"},
                       {"name": "MissedCalls", "state": "INSUFFICIENT_DATA", "severity": "warning"}]
        }))
        .unwrap();
        assert_eq!(p.alarms[0].severity, Critical);
        assert_eq!(
            assess(&p),
            RegionHealth::Unhealthy(vec![
                Finding::CriticalAlarm { alarm: "ThrottledCalls".into() },
                Finding::InsufficientData { alarm: "MissedCalls".into() },
            ])
        );
    }

    #[test]
    fn findings_read_as_sentences() {
        assert_eq!(Finding::InstanceNotActive { status: CreationFailed }.to_string(), "the instance is CREATION_FAILED, not ACTIVE");
        assert_eq!(Finding::InsufficientData { alarm: "MissedCalls".into() }.to_string(), "alarm MissedCalls has INSUFFICIENT_DATA");
    }
}
