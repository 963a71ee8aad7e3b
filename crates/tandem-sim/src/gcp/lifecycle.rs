//! Delete and patch, shared by the collections: a resource still in use is
//! not deleted; a patch changes only the fields its collection allows.

use super::error::GcpError;
use super::store::{fingerprint, last};
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// For collections whose patchable fields need no check beyond their names.
pub(super) fn no_rules(_: &mut Map<String, Value>) -> Result<(), GcpError> {
    Ok(())
}

impl Compute {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn delete_simple(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        base: &str,
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, scope, coll, name);
        let path = Self::path_of(p, scope, coll, name);
        let Some(st) = self.resources.get(&k).filter(|s| s.ready_at <= now && s.gone_at.is_none()) else {
            return Err(GcpError::not_found(&path));
        };
        let (id, network) = (st.value["id"].as_str().unwrap_or_default().to_string(), st.value["network"].as_str().map(str::to_string));
        let after = latency.deletion("compute", kind, if scope == "global" { "global" } else { scope });
        if let Some(st) = self.resources.get_mut(&k) {
            st.gone_at = Some(now + after);
        }
        if let Some(net) = network.filter(|_| coll == "subnetworks") {
            if let Some(n) = self.resources.get_mut(&Self::key(p, "global", "networks", last(&net))) {
                if let Some(a) = n.value["subnetworks"].as_array_mut() {
                    a.retain(|l| last(l.as_str().unwrap_or("")) != name);
                }
            }
        }
        Ok(self.start(now, p, scope, kind, "delete", &path, &id, after, base))
    }

    /// Deletes unless a resource in `users` (collection, field) links to it:
    /// 400 resourceInUseByAnotherResource, as GCP answers.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn delete_unused(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        base: &str,
        users: &[(&str, &str)],
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let path = Self::path_of(p, scope, coll, name);
        let suffix = format!("/{path}");
        let user = self.resources.iter().find(|((rp, _, rc, _), st)| {
            rp == p
                && st.gone_at.is_none()
                && users.iter().any(|(uc, uf)| rc == uc && st.value[*uf].as_str().is_some_and(|l| l.ends_with(&suffix) || l == path))
        });
        if let Some(((_, rs, rc, rn), _)) = user {
            let word = coll.trim_end_matches('s');
            return Err(GcpError::new(
                400,
                "resourceInUseByAnotherResource",
                format!("The {word} resource '{path}' is already being used by '{}'", Self::path_of(p, rs, rc, rn)),
            ));
        }
        // An attachment still turning up (UNPROVISIONED) takes no delete yet:
        // the google provider waits for it to leave that state first.
        if self.resources.get(&Self::key(p, scope, coll, name)).and_then(|s| s.early_state(now)) == Some("UNPROVISIONED") {
            return Err(GcpError::new(400, "resourceNotReady", format!("The resource '{path}' is not ready")));
        }
        self.delete_simple(latency, now, p, scope, coll, kind, name, base)
    }

    /// PATCH: `allowed` fields merge in, then the whole resource is checked
    /// again by `rules`. A resource that has a fingerprint (subnetworks)
    /// takes a patch only with the current one: 412 conditionNotMet when
    /// stale, 400 when missing; the fingerprint changes with the patch.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/patch
    #[allow(clippy::too_many_arguments)]
    pub(super) fn patch_simple(
        &mut self,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        input: Map<String, Value>,
        base: &str,
        allowed: &[&str],
        rules: fn(&mut Map<String, Value>) -> Result<(), GcpError>,
    ) -> Result<Value, GcpError> {
        self.settle(now);
        let k = Self::key(p, scope, coll, name);
        let path = Self::path_of(p, scope, coll, name);
        let Some(Value::Object(mut m)) = self.visible(now, &k).map(|s| s.value.clone()) else { return Err(GcpError::not_found(&path)) };
        if let Some(current) = m.get("fingerprint").and_then(Value::as_str) {
            match input.get("fingerprint").and_then(Value::as_str) {
                Some(f) if f == current => {}
                Some(_) => {
                    return Err(GcpError::new(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint."))
                }
                None => {
                    return Err(GcpError::invalid(format!(
                        "Invalid value for field 'resource.fingerprint': ''. A fingerprint is required to update the {kind}"
                    )))
                }
            }
            m.insert("fingerprint".into(), json!(fingerprint(self.next_id + 1)));
        }
        for (f, v) in input {
            if matches!(f.as_str(), "name" | "kind" | "id" | "selfLink" | "fingerprint" | "labelFingerprint") {
                continue;
            }
            if !allowed.contains(&f.as_str()) {
                return Err(GcpError::invalid(format!("Invalid value for field 'resource.{f}': it cannot be changed by patch")));
            }
            m.insert(f, v);
        }
        rules(&mut m)?;
        let id = m["id"].as_str().unwrap_or_default().to_string();
        if let Some(st) = self.resources.get_mut(&k) {
            st.value = Value::Object(m);
        }
        Ok(self.start(now, p, scope, kind, "patch", &path, &id, Duration::ZERO, base))
    }
}
