//! Partner Interconnect VLAN attachments.
//! https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments

use super::error::GcpError;
use super::fields::{bool_field, enum_field, int_field, num, present, required_str};
use super::store::fingerprint;
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments/patch
pub(super) const ATTACHMENT_PATCH: &[&str] = &["description", "adminEnabled", "mtu", "labels"];

/// InterconnectAttachment.mtu: "Valid values are 1440, 1460, 1500, and 8896.
/// If not specified, the value will default to 1440."
/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
pub const ATTACHMENT_MTUS: &[i64] = &[1440, 1460, 1500, 8896];

/// Interconnect attachment fields that a patch may change (insert and the
/// merged result of a patch).
/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
pub(super) fn attachment_rules(m: &mut Map<String, Value>) -> Result<(), GcpError> {
    bool_field(m, "adminEnabled", false)?;
    let mtu = int_field(m, "mtu", Some(1440), 0..=65535)?.unwrap_or(1440);
    if !ATTACHMENT_MTUS.contains(&mtu) {
        return Err(GcpError::invalid(format!(
            "Invalid value for field 'resource.mtu': '{mtu}'. Valid values are 1440, 1460, 1500 and 8896"
        )));
    }
    Ok(())
}

impl Compute {
    /// Partner Interconnect VLAN attachment: waits for the partner
    /// (PENDING_PARTNER) with a pairing key to hand them.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments/insert
    pub(super) fn insert_attachment(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        region: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> Result<Value, GcpError> {
        let name = self.new_name(p, region, "interconnectAttachments", &m)?;
        let t = present(&m, "type").and_then(Value::as_str).unwrap_or("DEDICATED");
        if t != "PARTNER" {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.type': '{t}'. The tandem sandbox serves only PARTNER interconnect attachments (DEDICATED needs a physical interconnect)"
            )));
        }
        let router = self.lookup(now, p, region, "routers", "router", &required_str(&m, "router")?)?;
        let asn = num(router["bgp"].get("asn")).unwrap_or_default();
        if asn != 16550 {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.router': '{}'. The router's ASN is {asn}: Partner Interconnect requires the Cloud Router ASN 16550",
                router["name"].as_str().unwrap_or_default()
            )));
        }
        m.insert("router".into(), router["selfLink"].clone());
        // edgeAvailabilityDomain: "Input only ... can take one of the following
        // values: AVAILABILITY_DOMAIN_ANY, AVAILABILITY_DOMAIN_1,
        // AVAILABILITY_DOMAIN_2 ... If not specified, the value will default to
        // AVAILABILITY_DOMAIN_ANY." Input only: not part of what GET answers;
        // the chosen domain shows as the pairing key's last segment.
        let domain = enum_field(
            &mut m,
            "edgeAvailabilityDomain",
            Some("AVAILABILITY_DOMAIN_ANY"),
            &["AVAILABILITY_DOMAIN_ANY", "AVAILABILITY_DOMAIN_1", "AVAILABILITY_DOMAIN_2"],
        )?
        .unwrap_or_default();
        m.remove("edgeAvailabilityDomain");
        attachment_rules(&mut m)?;
        m.remove("partnerAsn");
        let (id, path, mut m) = self.fresh(p, region, "interconnectAttachments", "compute#interconnectAttachment", &name, m, base);
        let (a, b) = (fingerprint(self.next_id), fingerprint(self.next_id ^ 0x5a5a));
        let uuid = format!("{}-{}-4{}-a{}-{}", &a[..8], &a[8..12], &a[13..16], &b[..3], &b[4..16]);
        let zone = if domain == "AVAILABILITY_DOMAIN_2" { 2 } else { 1 };
        m.insert("pairingKey".into(), json!(format!("{uuid}/{region}/{zone}")));
        m.insert("state".into(), json!("PENDING_PARTNER"));
        m.insert("operationalStatus".into(), json!("OS_UNPROVISIONED"));
        m.insert("network".into(), router["network"].clone());
        m.insert("stackType".into(), json!("IPV4_ONLY"));
        let op = self.commit(latency, now, p, region, "interconnectAttachments", "interconnect_attachment", &name, (id, path, m), base);
        // "UNPROVISIONED: The attachment is not ready to use yet, because
        // turnup is not complete." A new PARTNER attachment may sit there for a
        // while after its insert is DONE (latency kind
        // `interconnect_attachment_turnup`), without its pairing key yet; the
        // google provider waits for it to leave UNPROVISIONED after create and
        // before delete (waitForAttachmentToBeProvisioned).
        // https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
        let turnup = latency.creation("compute", "interconnect_attachment_turnup", region);
        if !turnup.is_zero() {
            if let Some(st) = self.resources.get_mut(&Self::key(p, region, "interconnectAttachments", &name)) {
                let fields = json!({ "state": "UNPROVISIONED", "pairingKey": null });
                st.early = Some((st.ready_at + turnup, fields.as_object().cloned().unwrap_or_default()));
            }
        }
        Ok(op)
    }
}
