//! The long-running Operation resources every mutation answers: get and
//! wait, global and regional, PENDING -> RUNNING -> DONE over the latency
//! model's time.
//! https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations
//! https://cloud.google.com/compute/docs/reference/rest/v1/regionOperations

use super::store::rfc3339;
use super::{Compute, GcpError, Reply};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(super) struct Operation {
    pub(super) value: Value,
    pub(super) started: Instant,
    pub(super) done_at: Instant,
    pub(super) end_time: String,
}

impl Compute {
    /// A new Operation for a change to `target` (a resource path), done `after` from now.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start(
        &mut self,
        now: Instant,
        p: &str,
        scope: &str,
        kind: &str,
        op_type: &str,
        target: &str,
        target_id: &str,
        after: Duration,
        base: &str,
    ) -> Value {
        let name = format!(
            "operation-{}-{:x}",
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default(),
            self.next_id + 1
        );
        let id = self.id();
        let wall = SystemTime::now();
        let op_path = Self::path_of(p, scope, "operations", &name);
        let mut value = json!({
            "kind": "compute#operation", "id": id, "name": name, "operationType": op_type, "targetLink": format!("{base}/compute/v1/{target}"),
            "targetId": target_id, "status": "PENDING", "user": "tandem-sim", "progress": 0, "insertTime": rfc3339(wall), "startTime": rfc3339(wall),
            "selfLink": format!("{base}/compute/v1/{op_path}"), "description": kind,
        });
        if scope != "global" {
            value["region"] = json!(format!("{base}/compute/v1/projects/{p}/regions/{scope}"));
        }
        let end_time = rfc3339(wall + after);
        self.operations
            .insert((p.into(), scope.into(), name), Operation { value: value.clone(), started: now, done_at: now + after, end_time });
        value
    }

    pub(super) fn op_view(op: &Operation, now: Instant) -> Value {
        let mut v = op.value.clone();
        let total = op.done_at.saturating_duration_since(op.started);
        let (status, progress) = if now >= op.done_at {
            ("DONE", 100)
        } else if now < op.started + total / 3 {
            ("PENDING", 0)
        } else {
            ("RUNNING", 50)
        };
        v["status"] = json!(status);
        v["progress"] = json!(progress);
        if status == "DONE" {
            v["endTime"] = json!(op.end_time);
        }
        v
    }

    pub(super) fn operation(&mut self, now: Instant, p: &str, scope: &str, name: &str) -> Result<Value, GcpError> {
        self.operations
            .get(&(p.into(), scope.into(), name.into()))
            .map(|op| Self::op_view(op, now))
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, "operations", name)))
    }

    /// `wait` answers once the operation is DONE, or after at most 2 minutes
    /// with its current state.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations/wait
    pub(super) fn wait(&mut self, now: Instant, p: &str, scope: &str, name: &str, rest: &str) -> Result<Reply, GcpError> {
        let op = self
            .operations
            .get(&(p.into(), scope.into(), name.into()))
            .ok_or_else(|| GcpError::not_found(&Self::path_of(p, scope, "operations", name)))?;
        let left = op.done_at.saturating_duration_since(now).min(Duration::from_secs(120));
        Ok(Reply::WaitThen(
            left,
            rest.trim_end_matches("/wait").split('?').next().unwrap_or_default().trim_end_matches("/wait").to_string(),
        ))
    }
}
