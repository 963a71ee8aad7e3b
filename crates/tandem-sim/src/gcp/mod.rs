//! Compute Engine v1 REST, the collections tandem's GCP kinds need: VPC
//! networks and subnetworks, firewall rules, Cloud Routers (with their BGP
//! peers and `getRouterStatus`), HA VPN gateways, external VPN gateways, VPN
//! tunnels and Partner Interconnect attachments, and the Operation resources
//! every mutation returns (global and regional get / wait). Served under
//! `/compute/v1/projects/{project}/`, as the REST reference describes it:
//! https://cloud.google.com/compute/docs/reference/rest/v1
//!
//! One file per job: `routes` (paths -> collections, `requestId`
//! idempotency), `operations`, `store` (resources, ids, links), `lifecycle`
//! (delete and patch shared by the collections), `fields` and `ipv4`
//! (request readers), `error` (Google's error bodies), then one file per
//! collection family: `networks` (networks, subnetworks), `firewalls`,
//! `routers`, `vpn` (HA VPN gateways, external VPN gateways, tunnels),
//! `attachments`.
//!
//! Operations go PENDING -> RUNNING -> DONE over the latency model's time
//! for service `compute` (kind `network`, `subnetwork`, `firewall`,
//! `router`, `router_update`, `vpn_gateway`, `external_vpn_gateway`,
//! `vpn_tunnel`, `interconnect_attachment`,
//! `interconnect_attachment_turnup`); with no latency an insert answers
//! PENDING and the next read sees DONE. A resource being inserted is not
//! visible (404) until its operation is DONE; one being deleted stays
//! visible until then, as in GCP. Errors are Google's JSON error bodies
//! (code, message, errors[].reason, status).
//!
//! Eventual consistency (`/_tandem/consistency`, service `compute`): for
//! `not_found_ms` after an insert's operation is DONE, GET and list of the new
//! resource still answer 404 notFound / leave it out; references to it from
//! other inserts already resolve.

mod attachments;
mod error;
mod fields;
mod firewalls;
mod ipv4;
mod lifecycle;
mod networks;
mod operations;
mod routers;
mod routes;
mod store;
#[cfg(test)]
mod tests;
mod vpn;

pub use attachments::ATTACHMENT_MTUS;
pub use error::{error_body, GcpError};

use operations::Operation;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use store::Stored;

/// What the server does with an answer.
pub enum Reply {
    Json(u16, Value),
    /// `operations/{op}/wait`: sleep this long, then answer the operation.
    WaitThen(Duration, String),
}

#[derive(Default)]
pub struct Compute {
    /// (project, "global" or region, collection, name)
    resources: BTreeMap<(String, String, String, String), Stored>,
    /// (project, "global" or region, name)
    operations: BTreeMap<(String, String, String), Operation>,
    next_id: u64,
    /// (project, requestId) -> the operation it started (its key in `operations`).
    requests: BTreeMap<(String, String), (String, String, String)>,
    /// Routers with a change still being applied, until when.
    busy: BTreeMap<(String, String, String, String), Instant>,
}
