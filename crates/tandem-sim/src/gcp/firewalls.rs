//! Firewall rules.
//! https://cloud.google.com/compute/docs/reference/rest/v1/firewalls

use super::error::GcpError;
use super::fields::{bool_field, enum_field, int_field};
use super::ipv4::{ipv4, parse_net};
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{Map, Value};
use std::time::Instant;

/// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/patch
pub(super) const FIREWALL_PATCH: &[&str] =
    &["description", "allowed", "denied", "sourceRanges", "destinationRanges", "priority", "targetTags", "disabled"];

/// Firewall rule fields (insert and the merged result of a patch).
/// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls
pub(super) fn firewall_rules(m: &mut Map<String, Value>) -> Result<(), GcpError> {
    enum_field(m, "direction", Some("INGRESS"), &["INGRESS", "EGRESS"])?;
    int_field(m, "priority", Some(1000), 0..=65535)?;
    let nonempty = |f: &str| m.get(f).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if nonempty("allowed") == nonempty("denied") {
        return Err(GcpError::invalid(
            "Invalid value for field 'resource': exactly one of 'allowed' or 'denied' must be specified (and non-empty)",
        ));
    }
    for f in ["allowed", "denied"] {
        for (i, rule) in m.get(f).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if !rule.get("IPProtocol").is_some_and(Value::is_string) {
                return Err(GcpError::new(400, "required", format!("Required field 'resource.{f}[{i}].IPProtocol' not specified")));
            }
        }
    }
    for f in ["sourceRanges", "destinationRanges"] {
        for r in m.get(f).and_then(Value::as_array).into_iter().flatten() {
            let s = r.as_str().unwrap_or_default();
            if parse_net(s).is_none() && ipv4(s).is_none() {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.{f}': '{s}'. Must be a CIDR address range")));
            }
        }
    }
    bool_field(m, "disabled", false)?;
    Ok(())
}

impl Compute {
    /// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/insert
    pub(super) fn insert_firewall(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, "global", "firewalls", &m)?;
        self.link_network(now, p, &mut m)?;
        firewall_rules(&mut m)?;
        let fresh = self.fresh(p, "global", "firewalls", "compute#firewall", &name, m, base);
        Ok(self.commit(latency, now, p, "global", "firewalls", "firewall", &name, fresh, base))
    }
}
