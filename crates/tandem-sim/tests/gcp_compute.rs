//! The sandbox's Compute Engine v1 API (networks, subnetworks, firewalls,
//! routers, HA VPN, Partner Interconnect attachments, operations),
//! checked by an independent client: the Python google-cloud-compute library
//! over REST with anonymous credentials (tests/python/test_sim_compute.py).
mod common;

#[tokio::test]
async fn google_cloud_compute_drives_networks_and_subnetworks() {
    let (sb, _admin) = common::sandbox().await;
    common::python_check("test_sim_compute", &sb.url()).await;
    sb.shutdown().await;
}
