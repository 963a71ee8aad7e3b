//! The resources the sandbox holds, keyed by (project, scope, collection,
//! name), with the timing that makes them appear and disappear as in GCP;
//! ids, names, links and the common fields every inserted resource gets.

use super::error::GcpError;
use super::fields::{present, required_str};
use super::Compute;
use crate::env::LatencyModel;
use serde_json::{json, Map, Value};
use std::time::{Instant, SystemTime};

pub(super) struct Stored {
    pub(super) value: Value,
    /// Visible from here on (the insert operation is DONE).
    pub(super) ready_at: Instant,
    /// GET and list see it from here on (`ready_at` plus the consistency lag).
    pub(super) readable_at: Instant,
    /// Gone from here on (the delete operation is DONE).
    pub(super) gone_at: Option<Instant>,
    /// Until this instant, these fields read differently (a null removes the
    /// field): an attachment still UNPROVISIONED, without its pairing key.
    pub(super) early: Option<(Instant, Map<String, Value>)>,
}

impl Stored {
    pub(super) fn new(latency: &dyn LatencyModel, value: Value, ready_at: Instant) -> Self {
        Stored { value, ready_at, readable_at: ready_at + latency.not_found_after_create("compute"), gone_at: None, early: None }
    }

    /// The resource as a GET answers it at `now`.
    pub(super) fn view(&self, now: Instant) -> Value {
        let mut v = self.value.clone();
        if let (Some((until, fields)), Some(o)) = (&self.early, v.as_object_mut()) {
            if now < *until {
                for (k, f) in fields {
                    if f.is_null() {
                        o.remove(k);
                    } else {
                        o.insert(k.clone(), f.clone());
                    }
                }
            }
        }
        v
    }

    pub(super) fn early_state(&self, now: Instant) -> Option<&str> {
        self.early.as_ref().filter(|(until, _)| now < *until).and_then(|(_, f)| f.get("state")).and_then(Value::as_str)
    }
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (RFC 1035).
/// https://cloud.google.com/compute/docs/naming-resources#resource-name-format
pub(super) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

pub(super) fn rfc3339(t: SystemTime) -> String {
    crate::support::time::iso8601(t)
}

/// The last path segment of a name or a URL (`.../global/networks/net` -> `net`).
pub(super) fn last(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// An opaque fingerprint that changes with every modification.
pub(super) fn fingerprint(n: u64) -> String {
    format!("{:016x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl Compute {
    pub(super) fn id(&mut self) -> String {
        self.next_id += 1;
        // uint64 ids, as strings (JSON cannot hold them exactly).
        (4_000_000_000_000_000_000u64 + self.next_id * 7919).to_string()
    }

    pub(super) fn key(p: &str, scope: &str, coll: &str, name: &str) -> (String, String, String, String) {
        (p.to_string(), scope.to_string(), coll.to_string(), name.to_string())
    }

    pub(super) fn path_of(p: &str, scope: &str, coll: &str, name: &str) -> String {
        if scope == "global" {
            format!("projects/{p}/global/{coll}/{name}")
        } else {
            format!("projects/{p}/regions/{scope}/{coll}/{name}")
        }
    }

    pub(super) fn visible(&self, now: Instant, k: &(String, String, String, String)) -> Option<&Stored> {
        self.resources.get(k).filter(|s| s.ready_at <= now && s.gone_at.is_none_or(|g| g > now))
    }

    /// Drops what finished deleting.
    pub(super) fn settle(&mut self, now: Instant) {
        self.resources.retain(|_, s| s.gone_at.is_none_or(|g| g > now));
    }

    pub(super) fn exists(&self, k: &(String, String, String, String)) -> bool {
        self.resources.get(k).is_some_and(|s| s.gone_at.is_none())
    }

    pub(super) fn name_of(input: &Map<String, Value>) -> Result<String, GcpError> {
        let name = input
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| GcpError::new(400, "required", "Required field 'resource.name' not specified"))?;
        if !valid_name(name) {
            return Err(GcpError::invalid(format!(
                "Invalid value for field 'resource.name': '{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'"
            )));
        }
        Ok(name.to_string())
    }

    /// A fresh, unused name for an insert (409 alreadyExists otherwise).
    pub(super) fn new_name(&self, p: &str, scope: &str, coll: &str, input: &Map<String, Value>) -> Result<String, GcpError> {
        let name = Self::name_of(input)?;
        if self.exists(&Self::key(p, scope, coll, &name)) {
            return Err(GcpError::new(
                409,
                "alreadyExists",
                format!("The resource '{}' already exists", Self::path_of(p, scope, coll, &name)),
            ));
        }
        Ok(name)
    }

    /// The visible resource that `r` (a name or URL) names in `scope`; a URL
    /// naming another region is 400 invalid, an absent one 404 notFound.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lookup(&self, now: Instant, p: &str, scope: &str, coll: &str, field: &str, r: &str) -> Result<Value, GcpError> {
        if scope != "global" {
            if let Some(i) = r.find("/regions/") {
                let region = r[i + "/regions/".len()..].split('/').next().unwrap_or_default();
                if region != scope {
                    return Err(GcpError::invalid(format!(
                        "Invalid value for field 'resource.{field}': '{r}'. It must be in region '{scope}'"
                    )));
                }
            }
        }
        let name = last(r);
        self.visible(now, &Self::key(p, scope, coll, name))
            .map(|s| s.value.clone())
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, coll, name)))
    }

    /// GET: what a client reads, eventual consistency included.
    pub(super) fn get(&mut self, now: Instant, p: &str, scope: &str, coll: &str, name: &str) -> Result<Value, GcpError> {
        self.settle(now);
        self.visible(now, &Self::key(p, scope, coll, name))
            .filter(|s| s.readable_at <= now)
            .map(|s| s.view(now))
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, coll, name)))
    }

    pub(super) fn list(&mut self, now: Instant, p: &str, scope: &str, coll: &str, kind: &str, base: &str) -> Value {
        self.settle(now);
        let items: Vec<Value> = self
            .resources
            .iter()
            .filter(|((rp, rs, rc, _), st)| rp == p && rs == scope && rc == coll && st.readable_at <= now)
            .map(|(_, st)| st.view(now))
            .collect();
        let mut out = json!({ "kind": kind, "id": Self::path_of(p, scope, coll, "").trim_end_matches('/'), "selfLink": format!("{base}/compute/v1/{}", Self::path_of(p, scope, coll, "").trim_end_matches('/')) });
        if !items.is_empty() {
            out["items"] = json!(items);
        }
        out
    }

    /// The required `network` (a name or URL) of a new resource, replaced by
    /// the network's selfLink as GCP answers it.
    pub(super) fn link_network(&self, now: Instant, p: &str, m: &mut Map<String, Value>) -> Result<(), GcpError> {
        let network = required_str(m, "network")?;
        let net = self.lookup(now, p, "global", "networks", "network", &network)?;
        m.insert("network".into(), net["selfLink"].clone());
        Ok(())
    }

    /// The client's fields plus the server's common ones.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fresh(
        &mut self,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        mut m: Map<String, Value>,
        base: &str,
    ) -> (String, String, Map<String, Value>) {
        let id = self.id();
        let path = Self::path_of(p, scope, coll, name);
        if present(&m, "description").is_none() {
            m.insert("description".into(), json!(""));
        }
        m.insert("kind".into(), json!(kind));
        m.insert("id".into(), json!(id));
        m.insert("creationTimestamp".into(), json!(rfc3339(SystemTime::now())));
        m.insert("name".into(), json!(name));
        m.insert("selfLink".into(), json!(format!("{base}/compute/v1/{path}")));
        if scope != "global" {
            m.insert("region".into(), json!(format!("{base}/compute/v1/projects/{p}/regions/{scope}")));
        }
        (id, path, m)
    }

    /// Stores a new resource (visible once its insert operation is DONE) and answers the operation.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn commit(
        &mut self,
        latency: &dyn LatencyModel,
        now: Instant,
        p: &str,
        scope: &str,
        coll: &str,
        kind: &str,
        name: &str,
        fresh: (String, String, Map<String, Value>),
        base: &str,
    ) -> Value {
        let (id, path, m) = fresh;
        let after = latency.creation("compute", kind, scope);
        self.resources.insert(Self::key(p, scope, coll, name), Stored::new(latency, Value::Object(m), now + after));
        self.start(now, p, scope, kind, "insert", &path, &id, after, base)
    }
}
