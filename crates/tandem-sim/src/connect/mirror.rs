//! Global Resiliency's configuration mirroring: what is made, changed or
//! deleted in one region of a replicated instance appears in the other,
//! asynchronously, under the same id.
//!
//! "ReplicateInstance mirrors the following Connect Customer resources across
//! AWS Regions" (flows, users, routing profiles, queues, security profiles,
//! hours of operation, ...) and "also replicates the following associations"
//! (phone number to flow, queue to routing profile, user to security profile
//! and routing profile, queue to hours of operation); "any changes made to
//! either the original or mirrored resources at a later time are continuously
//! synchronized. This happens bidirectionally"
//! (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources).
//! Not mirrored: instance attributes, storage configs, Lambda / Lex
//! integrations (configured per region).
//!
//! Like every asynchronous state here, mirroring is lazy: a change queues a
//! copy due at `max(now + mirror latency, replica ready)`, and the queue is
//! settled at the start of every Connect call. A copy carries the value as
//! written; the newest write wins when both regions changed the same object.

use std::time::Instant;

use serde_json::{Map, Value};

use super::{ready, Connect};
use crate::env::SimEnv;

/// What a pending copy carries.
#[derive(Debug, Clone)]
pub(crate) enum Mirrored {
    /// An instance object (`value` None: deleted) and its tags.
    Object { kind: String, id: String, value: Option<Value>, tags: Option<Map<String, Value>> },
    /// A phone number's flow association in the instance (None: removed).
    NumberFlow { number: String, flow: Option<String> },
}

#[derive(Debug, Clone)]
pub(crate) struct Mirror {
    pub at: Instant,
    pub from: String,
    pub to: String,
    pub instance: String,
    pub what: Mirrored,
}

/// `arn:aws:connect:FROM:...` -> `arn:aws:connect:TO:...`.
pub(crate) fn rehome(arn: &str, from: &str, to: &str) -> String {
    let prefix = format!("arn:aws:connect:{from}:");
    match arn.strip_prefix(&prefix) {
        Some(rest) => format!("arn:aws:connect:{to}:{rest}"),
        None => arn.to_string(),
    }
}

fn modified(v: &Value) -> f64 {
    v.get("LastModifiedTime").and_then(Value::as_f64).unwrap_or(0.0)
}

impl Connect {
    /// The other region of `instance` as seen from `region`, when the pair is
    /// linked and replication did not fail, and the instant before which no
    /// copy can land (the replica's readiness).
    pub(crate) fn peer(&self, region: &str, instance: &str) -> Option<(String, Instant)> {
        let inst = self.instances.get(&(region.to_string(), instance.to_string()))?;
        let (source, replica) = match (&inst.source_region, &inst.replica_region) {
            (Some(src), _) => (src.clone(), region.to_string()),
            (None, Some(rep)) => (region.to_string(), rep.clone()),
            _ => return None,
        };
        let rep = self.instances.get(&(replica.clone(), instance.to_string()))?;
        if rep.replication_failure.is_some() {
            return None;
        }
        let other = if region == source { replica } else { source };
        Some((other, rep.ready_at))
    }

    /// Queue a copy of `what` to the other region of `instance`, if linked.
    pub(crate) fn mirror(&mut self, env: &SimEnv, instance: &str, what: Mirrored) {
        let Some((to, not_before)) = self.peer(env.region, instance) else { return };
        let at = env.ready_at("connect", "mirror").max(not_before);
        self.mirrors.push(Mirror { at, from: env.region.to_string(), to, instance: instance.to_string(), what });
    }

    /// Queue a copy of the object as it is now in `env.region`.
    pub(crate) fn mirror_object(&mut self, env: &SimEnv, instance: &str, kind: &str, id: &str) {
        let key = (env.region.to_string(), instance.to_string(), kind.to_string(), id.to_string());
        let value = self.objects.get(&key).cloned();
        let tags = value.as_ref().and_then(object_arn).and_then(|arn| self.tags.get(&arn).cloned());
        self.mirror(env, instance, Mirrored::Object { kind: kind.into(), id: id.into(), value, tags });
    }

    /// Apply every copy that is due, oldest first.
    pub(crate) fn settle(&mut self, now: Instant) {
        if self.mirrors.is_empty() {
            return;
        }
        self.mirrors.sort_by_key(|m| m.at);
        let due = self.mirrors.iter().take_while(|m| ready(now, m.at)).count();
        for m in self.mirrors.drain(..due).collect::<Vec<_>>() {
            self.land(m);
        }
    }

    fn land(&mut self, m: Mirror) {
        // The target instance may be gone (replica deleted meanwhile).
        if !self.instances.contains_key(&(m.to.clone(), m.instance.clone())) {
            return;
        }
        match m.what {
            Mirrored::Object { kind, id, value, tags } => {
                let key = (m.to.clone(), m.instance.clone(), kind, id);
                match value {
                    None => {
                        if let Some(old) = self.objects.remove(&key) {
                            if let Some(arn) = object_arn(&old) {
                                self.tags.remove(&arn);
                            }
                        }
                    }
                    Some(mut v) => {
                        // The newest write wins: a copy older than the target's last change is dropped.
                        if self.objects.get(&key).is_some_and(|cur| modified(cur) > modified(&v)) {
                            return;
                        }
                        rehome_arns(&mut v, &m.from, &m.to);
                        if let (Some(arn), Some(t)) = (object_arn(&v), tags) {
                            self.tags.insert(arn, t);
                        }
                        self.objects.insert(key, v);
                    }
                }
            }
            Mirrored::NumberFlow { number, flow } => {
                if let Some(n) = self.numbers.get_mut(&number) {
                    match flow {
                        Some(f) => {
                            n.flows.insert(m.to.clone(), (m.instance.clone(), f));
                        }
                        None => {
                            n.flows.remove(&m.to);
                        }
                    }
                }
            }
        }
    }
}

/// The object's own ARN member (`QueueArn`, `Arn`, ...).
pub(crate) fn object_arn(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    o.iter()
        .find(|(k, x)| (k.as_str() == "Arn" || k.ends_with("Arn")) && x.as_str().is_some_and(|s| s.contains(":instance/")))
        .and_then(|(_, x)| x.as_str().map(str::to_string))
}

/// The object's ARN members point at the target region. Flow content is
/// copied verbatim: flows meant for both regions use `$.AwsRegion`
/// (create-replica-connect-instance.html, "configure-replica-instance").
fn rehome_arns(v: &mut Value, from: &str, to: &str) {
    if let Some(o) = v.as_object_mut() {
        for (k, x) in o.iter_mut() {
            if k.ends_with("Arn") {
                if let Some(s) = x.as_str() {
                    *x = Value::String(rehome(s, from, to));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_move_region_only() {
        assert_eq!(
            rehome("arn:aws:connect:us-east-1:1:instance/i/queue/q", "us-east-1", "us-west-2"),
            "arn:aws:connect:us-west-2:1:instance/i/queue/q"
        );
        assert_eq!(rehome("arn:aws:connect:eu-west-2:1:instance/i", "us-east-1", "us-west-2"), "arn:aws:connect:eu-west-2:1:instance/i");
    }
}
