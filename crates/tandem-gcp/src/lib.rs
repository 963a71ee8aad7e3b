//! Google Cloud resource kinds for tandem, on google-cloud-compute-v1.
//!
//! One [`GcpContext`] per process holds the Compute Engine clients (built on
//! first use). Credentials are Application Default Credentials; with
//! `TANDEM_GCP_ENDPOINT` set (a base URL such as http://127.0.0.1:4566, the
//! local sandbox), every client talks there and, unless credentials are
//! configured (`GOOGLE_APPLICATION_CREDENTIALS`), sends none.

mod api;
mod collections;
mod error;
mod kind;
mod mapping;
mod router_peer;

use google_cloud_auth::credentials::{anonymous, Credentials};
use google_cloud_compute_v1::client;
use std::collections::HashMap;
use std::sync::Arc;
use tandem_provider::{ErrorClass, ProviderError, Registry, ResourceKind, Result};
use tokio::sync::OnceCell;

pub use api::{Coll, Path};

/// The environment variable that points every GCP client at another endpoint.
pub const ENDPOINT_VAR: &str = "TANDEM_GCP_ENDPOINT";

/// Compute Engine clients, shared by every GCP kind.
#[derive(Default)]
pub struct GcpContext {
    endpoint: Option<String>,
    anonymous: bool,
    networks: OnceCell<client::Networks>,
    subnetworks: OnceCell<client::Subnetworks>,
    firewalls: OnceCell<client::Firewalls>,
    routers: OnceCell<client::Routers>,
    vpn_gateways: OnceCell<client::VpnGateways>,
    external_vpn_gateways: OnceCell<client::ExternalVpnGateways>,
    vpn_tunnels: OnceCell<client::VpnTunnels>,
    interconnect_attachments: OnceCell<client::InterconnectAttachments>,
    global_operations: OnceCell<client::GlobalOperations>,
    region_operations: OnceCell<client::RegionOperations>,
    /// One lock per Cloud Router (by path): see [`GcpContext::router_lock`].
    router_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Builds one client, with the context's endpoint and credentials.
macro_rules! getter {
    ($name:ident, $ty:ident) => {
        pub async fn $name(&self) -> Result<&client::$ty> {
            self.$name
                .get_or_try_init(|| async {
                    // One retry layer, tandem's (jittered backoff, progress
                    // lines, the same for every verb), not two stacked.
                    let mut b = client::$ty::builder().with_retry_policy(google_cloud_gax::retry_policy::NeverRetry);
                    if let Some(url) = &self.endpoint {
                        b = b.with_endpoint(url.trim_end_matches('/'));
                    }
                    if self.anonymous {
                        b = b.with_credentials(anonymous_credentials());
                    }
                    b.build().await.map_err(|e| {
                        ProviderError::new(
                            ErrorClass::Auth,
                            format!("cannot set up the Compute Engine client: {e}; configure Application Default Credentials (gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS), or set {ENDPOINT_VAR} for a local sandbox"),
                        )
                    })
                })
                .await
        }
    };
}

fn anonymous_credentials() -> Credentials {
    anonymous::Builder::new().build()
}

impl GcpContext {
    /// From the environment: `TANDEM_GCP_ENDPOINT`, else Google's endpoint with ADC.
    pub fn from_env() -> Self {
        match std::env::var(ENDPOINT_VAR).ok().filter(|s| !s.is_empty()) {
            Some(url) => {
                let configured = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some();
                GcpContext { endpoint: Some(url), anonymous: !configured, ..Default::default() }
            }
            None => GcpContext::default(),
        }
    }

    /// Every client talks to `url` with no credentials (the local sandbox, tests).
    pub fn with_endpoint(url: impl Into<String>) -> Self {
        GcpContext { endpoint: Some(url.into()), anonymous: true, ..Default::default() }
    }

    /// Serializes read-modify-write edits of one Cloud Router in this
    /// process. A router's interfaces and BGP peers are lists inside the
    /// router, the v1 Router has no fingerprint to make a write conditional,
    /// and its peers are independent in the graph (so applied at once): two
    /// unserialized edits would each write back a router without the other's
    /// peer, and one would be lost.
    pub fn router_lock(&self, router: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.router_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(router.to_string()).or_default().clone()
    }

    getter!(networks, Networks);
    getter!(subnetworks, Subnetworks);
    getter!(firewalls, Firewalls);
    getter!(routers, Routers);
    getter!(vpn_gateways, VpnGateways);
    getter!(external_vpn_gateways, ExternalVpnGateways);
    getter!(vpn_tunnels, VpnTunnels);
    getter!(interconnect_attachments, InterconnectAttachments);
    getter!(global_operations, GlobalOperations);
    getter!(region_operations, RegionOperations);
}

/// Every GCP kind this tandem has.
pub fn kinds(gcp: Arc<GcpContext>) -> Vec<Arc<dyn ResourceKind>> {
    let mut out: Vec<Arc<dyn ResourceKind>> =
        mapping::all().into_iter().map(|m| Arc::new(kind::Kind::new(gcp.clone(), m)) as Arc<dyn ResourceKind>).collect();
    out.push(Arc::new(router_peer::RouterPeer::new(gcp)));
    out
}

pub fn register(registry: &mut Registry, gcp: Arc<GcpContext>) {
    for k in kinds(gcp) {
        registry.register(k);
    }
}
