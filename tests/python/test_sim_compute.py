"""The sandbox's Compute Engine API driven by the Python google-cloud-compute
library (an independent client: if its REST transport and protobuf parsing
accept every answer, the wire format is right), with an endpoint override and
anonymous credentials.

Run: TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_compute.py
(the Rust test `google_cloud_compute_drives_networks_and_subnetworks` in
crates/tandem-sim/tests/gcp_compute.rs starts a sandbox and runs this script).
"""

import os

from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

URL = os.environ.get("TANDEM_SANDBOX_URL", "").rstrip("/")
PROJECT = "tandem-sandbox"
REGION = "us-east4"


def client(cls):
    return cls(credentials=AnonymousCredentials(), client_options={"api_endpoint": URL}, transport="rest")


def done(op, region=None):
    """Waits for an Operation with the operations clients (pointed at the
    sandbox): the library's own `.result()` poller does not take the
    endpoint override, so the *_unary methods and `wait` are used."""
    if region:
        got = client(compute_v1.RegionOperationsClient).wait(project=PROJECT, region=region, operation=op.name)
    else:
        got = client(compute_v1.GlobalOperationsClient).wait(project=PROJECT, operation=op.name)
    assert got.status == compute_v1.Operation.Status.DONE, got
    return got


def reason(e):
    return [d.get("reason") for d in (e.errors or [])] or [getattr(e, "reason", None)]


def main():
    networks = client(compute_v1.NetworksClient)
    subnetworks = client(compute_v1.SubnetworksClient)
    global_ops = client(compute_v1.GlobalOperationsClient)

    net = compute_v1.Network(name="contact-center", auto_create_subnetworks=False, routing_config=compute_v1.NetworkRoutingConfig(routing_mode="GLOBAL"))
    op = networks.insert_unary(project=PROJECT, network_resource=net)
    assert op.status in (compute_v1.Operation.Status.PENDING, compute_v1.Operation.Status.RUNNING), op
    done(op)
    assert global_ops.get(project=PROJECT, operation=op.name).status == compute_v1.Operation.Status.DONE
    got = networks.get(project=PROJECT, network="contact-center")
    assert got.routing_config.routing_mode == "GLOBAL", got
    assert not got.auto_create_subnetworks
    assert got.self_link.startswith(URL + "/compute/v1/projects/tandem-sandbox/global/networks/"), got.self_link

    sub = compute_v1.Subnetwork(name="contact-center-us-east4", network=got.self_link, ip_cidr_range="10.2.0.0/20", private_ip_google_access=True)
    done(subnetworks.insert_unary(project=PROJECT, region=REGION, subnetwork_resource=sub), REGION)
    s = subnetworks.get(project=PROJECT, region=REGION, subnetwork="contact-center-us-east4")
    assert s.ip_cidr_range == "10.2.0.0/20" and s.gateway_address == "10.2.0.1", s
    assert [x.name for x in subnetworks.list(project=PROJECT, region=REGION)] == ["contact-center-us-east4"]
    assert list(networks.get(project=PROJECT, network="contact-center").subnetworks) == [s.self_link]

    # Errors in Google's format reach the client as typed exceptions.
    try:
        networks.insert_unary(project=PROJECT, network_resource=net)
        raise AssertionError("a duplicate network was accepted")
    except exceptions.Conflict as e:
        assert "alreadyExists" in reason(e), e
    try:
        subnetworks.insert_unary(project=PROJECT, region="us-west1", subnetwork_resource=compute_v1.Subnetwork(name="overlap", network="contact-center", ip_cidr_range="10.2.4.0/24"))
        raise AssertionError("an overlapping range was accepted")
    except exceptions.BadRequest as e:
        assert "conflicts with existing subnetwork" in str(e), e
    try:
        networks.delete_unary(project=PROJECT, network="contact-center")
        raise AssertionError("a network with subnetworks was deleted")
    except exceptions.BadRequest as e:
        assert "resourceInUseByAnotherResource" in reason(e), e
    try:
        patch = compute_v1.Subnetwork(private_ip_google_access=False, fingerprint="stale")
        subnetworks.patch_unary(project=PROJECT, region=REGION, subnetwork="contact-center-us-east4", subnetwork_resource=patch)
        raise AssertionError("a stale fingerprint was accepted")
    except exceptions.PreconditionFailed as e:
        assert "conditionNotMet" in reason(e), e
    patch = compute_v1.Subnetwork(private_ip_google_access=False, fingerprint=s.fingerprint)
    done(subnetworks.patch_unary(project=PROJECT, region=REGION, subnetwork="contact-center-us-east4", subnetwork_resource=patch), REGION)
    assert not subnetworks.get(project=PROJECT, region=REGION, subnetwork="contact-center-us-east4").private_ip_google_access

    done(subnetworks.delete_unary(project=PROJECT, region=REGION, subnetwork="contact-center-us-east4"), REGION)
    done(networks.delete_unary(project=PROJECT, network="contact-center"))
    try:
        networks.get(project=PROJECT, network="contact-center")
        raise AssertionError("the network is still there")
    except exceptions.NotFound:
        pass
    print("test_sim_compute: ok")


if __name__ == "__main__":
    main()
