//! The sandbox HTTP server: one loopback endpoint for all of AWS (and the
//! Compute Engine API). One file per job:
//! - `sandbox`: options, start / run / shutdown, the accept loop;
//! - `identify`: a request's service and region (SigV4 credential scope) and
//!   operation (restJson1 path, awsJson `X-Amz-Target`, query `Action`,
//!   RPC v2 CBOR path);
//! - `inject`: call counting, response delays and injected faults;
//! - `dispatch`: the admin API, Compute and each AWS service to what serves
//!   it (state served locally, or `forward`ed to the upstream emulator);
//! - `forward`: the upstream (moto) proxy and the sandbox's own awsJson calls
//!   to it;
//! - `dynamodb`, `ec2`, `lambda`, `compute`: the services answered by
//!   combining upstream's answers with the sandbox's state;
//! - `wire`: answers and errors in each protocol's wire format.

mod compute;
mod dispatch;
mod dynamodb;
mod ec2;
mod forward;
mod identify;
mod inject;
mod lambda;
mod sandbox;
#[cfg(test)]
mod tests;
mod wire;

pub use sandbox::{run_foreground, start, Sandbox, SandboxOptions};
pub(crate) use wire::json_response;

use std::sync::{Arc, Mutex, MutexGuard};

use crate::accounting::Accounting;
use crate::connect::Connect;
use crate::faults::Faults;
use crate::latency::LatencyConfig;
use crate::upstream::Upstream;

/// moto's default account, which the sandbox uses too.
pub const ACCOUNT_ID: &str = "123456789012";

pub const DEFAULT_REGION: &str = "us-east-1";

/// Everything the sandbox simulates, behind one lock.
#[derive(Default)]
pub(crate) struct SimState {
    pub latency: LatencyConfig,
    pub delays: Vec<crate::latency::ResponseDelay>,
    pub consistency: Vec<crate::latency::ConsistencyRule>,
    pub faults: Faults,
    pub accounting: Accounting,
    pub connect: Connect,
    pub directconnect: crate::directconnect::DirectConnect,
    pub dynamodb: crate::dynamodb::Replicas,
    pub vpn: crate::ec2::VpnTunnels,
    pub ec2_visibility: crate::ec2_consistency::Visibility,
    pub routes: crate::ec2_routes::RoutePropagation,
    pub compute: crate::gcp::Compute,
    pub cloudwatch: crate::cloudwatch::CloudWatch,
}

impl SimState {
    /// The latency model and consistency rules in force, owned, so a handler
    /// can hold them while it mutates the state.
    pub(crate) fn clock(&self) -> crate::latency::Clock {
        crate::latency::Clock { latency: self.latency.clone(), consistency: self.consistency.clone() }
    }
}

pub(crate) struct Shared {
    state: Mutex<SimState>,
    pub upstream: Option<Upstream>,
    /// Functions run, schedules fired, Kinesis delivered (outside the state's lock).
    pub lambda: Arc<crate::lambda::Lambda>,
    /// Serializes DynamoDB item writes with their replication (see `dynamodb`).
    pub dynamodb_writes: tokio::sync::Mutex<()>,
    /// Serializes S3 writes so a conditional one is checked and made atomically.
    pub s3_writes: tokio::sync::Mutex<()>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
