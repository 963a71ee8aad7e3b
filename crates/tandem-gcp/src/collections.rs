//! The Compute Engine collections tandem manages, one [`Collection`] impl
//! each: its path segment, whether it is regional, the permissions it needs,
//! and how get / insert / patch / delete reach it through its typed
//! google-cloud-compute-v1 client. [`crate::api`] adds what every collection
//! shares (retries, request ids, waiting on operations, error classes), so
//! adding a collection is one impl here and its line in [`Coll::api`].
//! https://cloud.google.com/compute/docs/reference/rest/v1

use crate::api::Path;
use crate::GcpContext;
use async_trait::async_trait;
use google_cloud_compute_v1::model;
use serde_json::Value;
use tandem_provider::{ProviderError, Result};

/// A Compute Engine collection, global or regional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coll {
    Networks,
    Subnetworks,
    Firewalls,
    Routers,
    VpnGateways,
    ExternalVpnGateways,
    VpnTunnels,
    InterconnectAttachments,
}

impl Coll {
    /// The registration: which impl serves each collection.
    pub(crate) fn api(self) -> &'static dyn Collection {
        match self {
            Coll::Networks => &Networks,
            Coll::Subnetworks => &Subnetworks,
            Coll::Firewalls => &Firewalls,
            Coll::Routers => &Routers,
            Coll::VpnGateways => &VpnGateways,
            Coll::ExternalVpnGateways => &ExternalVpnGateways,
            Coll::VpnTunnels => &VpnTunnels,
            Coll::InterconnectAttachments => &InterconnectAttachments,
        }
    }

    /// The collection's path segment (`.../regions/R/{segment}/NAME`).
    pub fn segment(self) -> &'static str {
        self.api().segment()
    }

    pub fn regional(self) -> bool {
        self.api().regional()
    }

    /// The IAM permissions tandem's calls on the collection need, its
    /// operations' waits included
    /// (https://cloud.google.com/compute/docs/access/iam-permissions).
    pub fn permissions(self) -> &'static [&'static str] {
        self.api().permissions()
    }
}

/// What the API (or the transport) answered; [`crate::api`] classifies it.
pub(crate) type Sdk<T> = std::result::Result<T, google_cloud_gax::error::Error>;

/// One collection's calls. The outer `Result` is tandem's own failure before
/// any call (no client, a body that does not fit the API's model); the inner
/// [`Sdk`] is the call's answer, left raw so that NotFound handling and
/// classification stay in one place. `what` is the resource's path, for
/// messages; `rid` the request id that makes a retried mutation run once.
#[async_trait]
pub(crate) trait Collection: Sync {
    fn segment(&self) -> &'static str;
    fn regional(&self) -> bool;
    fn permissions(&self) -> &'static [&'static str];
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>>;
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>>;
    /// PATCH semantics; collections without a patch method refuse before any call.
    async fn patch(&self, _gcp: &GcpContext, _path: &Path, what: &str, _body: Value, _rid: &str) -> Result<Sdk<model::Operation>> {
        Err(ProviderError::invalid(format!("{what} cannot be changed in place ({} has no patch method)", self.segment())))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>>;
}

pub(crate) fn to_model<T: serde::de::DeserializeOwned>(what: &str, body: Value) -> Result<T> {
    serde_json::from_value(body).map_err(|e| ProviderError::invalid(format!("{what}: the request body does not fit the API's shape: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Calls a request builder of the collection's client with the path's
/// parameters set, for global or regional collections alike.
macro_rules! call {
    (global $client:expr, $method:ident, $path:expr, $setter:ident $(, $body:expr)?) => {
        $client.$method().set_project(&$path.project).$setter(&$path.name)$(.set_body($body))?.send().await
    };
    (regional $client:expr, $method:ident, $path:expr, $setter:ident $(, $body:expr)?) => {
        $client.$method().set_project(&$path.project).set_region($path.region.as_deref().unwrap_or_default()).$setter(&$path.name)$(.set_body($body))?.send().await
    };
    // Mutations carry a request id, the same on every retry of one change.
    (global $client:expr, $method:ident, $path:expr, $setter:ident, rid $rid:expr $(, $body:expr)?) => {
        $client.$method().set_project(&$path.project).$setter(&$path.name)$(.set_body($body))?.set_request_id($rid).send().await
    };
    (regional $client:expr, $method:ident, $path:expr, $setter:ident, rid $rid:expr $(, $body:expr)?) => {
        $client.$method().set_project(&$path.project).set_region($path.region.as_deref().unwrap_or_default()).$setter(&$path.name)$(.set_body($body))?.set_request_id($rid).send().await
    };
}

macro_rules! insert {
    (global $client:expr, $path:expr, $body:expr, $rid:expr) => {
        $client.insert().set_project(&$path.project).set_body($body).set_request_id($rid).send().await
    };
    (regional $client:expr, $path:expr, $body:expr, $rid:expr) => {
        $client
            .insert()
            .set_project(&$path.project)
            .set_region($path.region.as_deref().unwrap_or_default())
            .set_body($body)
            .set_request_id($rid)
            .send()
            .await
    };
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/networks
struct Networks;

#[async_trait]
impl Collection for Networks {
    fn segment(&self) -> &'static str {
        "networks"
    }
    fn regional(&self) -> bool {
        false
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.networks.create",
            "compute.networks.get",
            "compute.networks.list",
            "compute.networks.update",
            "compute.networks.delete",
            "compute.globalOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(global gcp.networks().await?, get, path, set_network).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(global gcp.networks().await?, path, to_model::<model::Network>(what, body)?, rid))
    }
    async fn patch(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(global gcp.networks().await?, patch, path, set_network, rid rid, to_model::<model::Network>(what, body)?))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(global gcp.networks().await?, delete, path, set_network, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks
struct Subnetworks;

#[async_trait]
impl Collection for Subnetworks {
    fn segment(&self) -> &'static str {
        "subnetworks"
    }
    fn regional(&self) -> bool {
        true
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.subnetworks.create",
            "compute.subnetworks.get",
            "compute.subnetworks.list",
            "compute.subnetworks.update",
            "compute.subnetworks.delete",
            "compute.networks.updatePolicy",
            "compute.regionOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(regional gcp.subnetworks().await?, get, path, set_subnetwork).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(regional gcp.subnetworks().await?, path, to_model::<model::Subnetwork>(what, body)?, rid))
    }
    async fn patch(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.subnetworks().await?, patch, path, set_subnetwork, rid rid, to_model::<model::Subnetwork>(what, body)?))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.subnetworks().await?, delete, path, set_subnetwork, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls
struct Firewalls;

#[async_trait]
impl Collection for Firewalls {
    fn segment(&self) -> &'static str {
        "firewalls"
    }
    fn regional(&self) -> bool {
        false
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.firewalls.create",
            "compute.firewalls.get",
            "compute.firewalls.list",
            "compute.firewalls.update",
            "compute.firewalls.delete",
            "compute.networks.updatePolicy",
            "compute.globalOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(global gcp.firewalls().await?, get, path, set_firewall).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(global gcp.firewalls().await?, path, to_model::<model::Firewall>(what, body)?, rid))
    }
    async fn patch(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(global gcp.firewalls().await?, patch, path, set_firewall, rid rid, to_model::<model::Firewall>(what, body)?))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(global gcp.firewalls().await?, delete, path, set_firewall, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/routers
/// (PUT, the whole router, is [`GcpContext::update_router`]).
struct Routers;

#[async_trait]
impl Collection for Routers {
    fn segment(&self) -> &'static str {
        "routers"
    }
    fn regional(&self) -> bool {
        true
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.routers.create",
            "compute.routers.get",
            "compute.routers.list",
            "compute.routers.update",
            "compute.routers.delete",
            "compute.networks.updatePolicy",
            "compute.regionOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(regional gcp.routers().await?, get, path, set_router).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(regional gcp.routers().await?, path, to_model::<model::Router>(what, body)?, rid))
    }
    async fn patch(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.routers().await?, patch, path, set_router, rid rid, to_model::<model::Router>(what, body)?))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.routers().await?, delete, path, set_router, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/vpnGateways (no patch method).
struct VpnGateways;

#[async_trait]
impl Collection for VpnGateways {
    fn segment(&self) -> &'static str {
        "vpnGateways"
    }
    fn regional(&self) -> bool {
        true
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.vpnGateways.create",
            "compute.vpnGateways.get",
            "compute.vpnGateways.list",
            "compute.vpnGateways.delete",
            "compute.vpnGateways.use",
            "compute.regionOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(regional gcp.vpn_gateways().await?, get, path, set_vpn_gateway).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(regional gcp.vpn_gateways().await?, path, to_model::<model::VpnGateway>(what, body)?, rid))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.vpn_gateways().await?, delete, path, set_vpn_gateway, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/externalVpnGateways (no patch method).
struct ExternalVpnGateways;

#[async_trait]
impl Collection for ExternalVpnGateways {
    fn segment(&self) -> &'static str {
        "externalVpnGateways"
    }
    fn regional(&self) -> bool {
        false
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.externalVpnGateways.create",
            "compute.externalVpnGateways.get",
            "compute.externalVpnGateways.list",
            "compute.externalVpnGateways.delete",
            "compute.externalVpnGateways.use",
            "compute.globalOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(global gcp.external_vpn_gateways().await?, get, path, set_external_vpn_gateway).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(global gcp.external_vpn_gateways().await?, path, to_model::<model::ExternalVpnGateway>(what, body)?, rid))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(global gcp.external_vpn_gateways().await?, delete, path, set_external_vpn_gateway, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/vpnTunnels (no patch method).
struct VpnTunnels;

#[async_trait]
impl Collection for VpnTunnels {
    fn segment(&self) -> &'static str {
        "vpnTunnels"
    }
    fn regional(&self) -> bool {
        true
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.vpnTunnels.create",
            "compute.vpnTunnels.get",
            "compute.vpnTunnels.list",
            "compute.vpnTunnels.delete",
            "compute.routers.use",
            "compute.regionOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(regional gcp.vpn_tunnels().await?, get, path, set_vpn_tunnel).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(regional gcp.vpn_tunnels().await?, path, to_model::<model::VpnTunnel>(what, body)?, rid))
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.vpn_tunnels().await?, delete, path, set_vpn_tunnel, rid rid))
    }
}

/// https://cloud.google.com/compute/docs/reference/rest/v1/interconnectAttachments
struct InterconnectAttachments;

#[async_trait]
impl Collection for InterconnectAttachments {
    fn segment(&self) -> &'static str {
        "interconnectAttachments"
    }
    fn regional(&self) -> bool {
        true
    }
    fn permissions(&self) -> &'static [&'static str] {
        &[
            "compute.interconnectAttachments.create",
            "compute.interconnectAttachments.get",
            "compute.interconnectAttachments.list",
            "compute.interconnectAttachments.update",
            "compute.interconnectAttachments.delete",
            "compute.routers.use",
            "compute.regionOperations.get",
        ]
    }
    async fn get(&self, gcp: &GcpContext, path: &Path) -> Result<Sdk<Value>> {
        Ok(call!(regional gcp.interconnect_attachments().await?, get, path, set_interconnect_attachment).map(|v| to_json(&v)))
    }
    async fn insert(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(insert!(regional gcp.interconnect_attachments().await?, path, to_model::<model::InterconnectAttachment>(what, body)?, rid))
    }
    async fn patch(&self, gcp: &GcpContext, path: &Path, what: &str, body: Value, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(
            call!(regional gcp.interconnect_attachments().await?, patch, path, set_interconnect_attachment, rid rid, to_model::<model::InterconnectAttachment>(what, body)?),
        )
    }
    async fn delete(&self, gcp: &GcpContext, path: &Path, rid: &str) -> Result<Sdk<model::Operation>> {
        Ok(call!(regional gcp.interconnect_attachments().await?, delete, path, set_interconnect_attachment, rid rid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collections_without_a_patch_method_refuse_before_any_call() {
        // No endpoint and no client built: a refusal that needed a call would fail differently.
        let gcp = GcpContext::default();
        let path = Path { project: "cc".into(), region: Some("us-east4".into()), name: "t".into() };
        for coll in [Coll::VpnGateways, Coll::ExternalVpnGateways, Coll::VpnTunnels] {
            let what = path.render(coll);
            let e = coll.api().patch(&gcp, &path, &what, Value::Null, "rid").await.unwrap_err();
            assert_eq!(e.class, tandem_provider::ErrorClass::Invalid);
            assert_eq!(e.message, format!("{what} cannot be changed in place ({} has no patch method)", coll.segment()));
        }
    }
}
