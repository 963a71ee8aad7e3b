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


def vpn_and_interconnect(network):
    """Cloud Router, HA VPN to a four-interface peer, router patch and
    update (PUT), Partner Interconnect attachment; then everything deleted in
    dependency order."""
    routers = client(compute_v1.RoutersClient)
    gateways = client(compute_v1.VpnGatewaysClient)
    externals = client(compute_v1.ExternalVpnGatewaysClient)
    tunnels = client(compute_v1.VpnTunnelsClient)
    attachments = client(compute_v1.InterconnectAttachmentsClient)
    firewalls = client(compute_v1.FirewallsClient)

    fw = compute_v1.Firewall(name="allow-sip", network=network, allowed=[compute_v1.Allowed(I_p_protocol="udp", ports=["5060"])], source_ranges=["10.0.0.0/8"])
    done(firewalls.insert_unary(project=PROJECT, firewall_resource=fw))
    got = firewalls.get(project=PROJECT, firewall="allow-sip")
    assert got.direction == "INGRESS" and got.priority == 1000 and got.allowed[0].ports == ["5060"], got

    router = compute_v1.Router(name="cc-router", network=network, bgp=compute_v1.RouterBgp(asn=65010))
    done(routers.insert_unary(project=PROJECT, region=REGION, router_resource=router), REGION)
    try:
        routers.insert_unary(project=PROJECT, region=REGION, router_resource=compute_v1.Router(name="bad-asn", network=network, bgp=compute_v1.RouterBgp(asn=65535)))
        raise AssertionError("a public ASN was accepted")
    except exceptions.BadRequest as e:
        assert "private ASN" in str(e), e

    done(gateways.insert_unary(project=PROJECT, region=REGION, vpn_gateway_resource=compute_v1.VpnGateway(name="cc-ha", network=network)), REGION)
    gw = gateways.get(project=PROJECT, region=REGION, vpn_gateway="cc-ha")
    ips = [i.ip_address for i in gw.vpn_interfaces]
    assert len(ips) == 2 and len(set(ips)) == 2, gw
    peer = compute_v1.ExternalVpnGateway(
        name="cc-peer",
        redundancy_type="FOUR_IPS_REDUNDANCY",
        interfaces=[compute_v1.ExternalVpnGatewayInterface(id=i, ip_address=f"203.0.113.{i + 1}") for i in range(4)],
    )
    done(externals.insert_unary(project=PROJECT, external_vpn_gateway_resource=peer))
    assert len(externals.get(project=PROJECT, external_vpn_gateway="cc-peer").interfaces) == 4
    try:
        bad = compute_v1.ExternalVpnGateway(name="cc-bad", redundancy_type="FOUR_IPS_REDUNDANCY", interfaces=[compute_v1.ExternalVpnGatewayInterface(id=0, ip_address="203.0.113.9")])
        externals.insert_unary(project=PROJECT, external_vpn_gateway_resource=bad)
        raise AssertionError("FOUR_IPS_REDUNDANCY with one interface was accepted")
    except exceptions.BadRequest:
        pass

    for i in range(2):
        t = compute_v1.VpnTunnel(
            name=f"cc-tunnel-{i}", shared_secret="not-in-the-answer", vpn_gateway=gw.self_link, vpn_gateway_interface=i,
            peer_external_gateway="cc-peer", peer_external_gateway_interface=i, router="cc-router", ike_version=2,
        )
        done(tunnels.insert_unary(project=PROJECT, region=REGION, vpn_tunnel_resource=t), REGION)
    t0 = tunnels.get(project=PROJECT, region=REGION, vpn_tunnel="cc-tunnel-0")
    assert t0.shared_secret == "" and t0.shared_secret_hash, t0
    assert t0.status == "ESTABLISHED" and t0.peer_ip == "203.0.113.1" and t0.vpn_gateway == gw.self_link, t0
    assert sorted(t.name for t in tunnels.list(project=PROJECT, region=REGION)) == ["cc-tunnel-0", "cc-tunnel-1"]

    # Patch: the repeated fields sent replace the router's.
    patch = compute_v1.Router(
        interfaces=[compute_v1.RouterInterface(name="if-tunnel-0", ip_range="169.254.0.1/30", linked_vpn_tunnel=t0.self_link)],
        bgp_peers=[compute_v1.RouterBgpPeer(name="peer-0", interface_name="if-tunnel-0", ip_address="169.254.0.1", peer_ip_address="169.254.0.2", peer_asn=65020)],
    )
    done(routers.patch_unary(project=PROJECT, region=REGION, router="cc-router", router_resource=patch), REGION)
    r = routers.get(project=PROJECT, region=REGION, router="cc-router")
    assert [i.name for i in r.interfaces] == ["if-tunnel-0"] and r.interfaces[0].linked_vpn_tunnel == t0.self_link, r
    assert r.bgp_peers[0].peer_asn == 65020 and r.bgp.asn == 65010, r
    try:
        bad = compute_v1.Router(bgp_peers=[compute_v1.RouterBgpPeer(name="peer-x", interface_name="nope", peer_ip_address="169.254.9.2", peer_asn=65020)])
        routers.patch_unary(project=PROJECT, region=REGION, router="cc-router", router_resource=bad)
        raise AssertionError("a peer on an unknown interface was accepted")
    except exceptions.BadRequest:
        pass
    # update (PUT) writes the whole router back: the read-modify-write tandem's router_peer kind does.
    whole = routers.get(project=PROJECT, region=REGION, router="cc-router")
    whole.bgp_peers[0].advertised_route_priority = 150
    done(routers.update_unary(project=PROJECT, region=REGION, router="cc-router", router_resource=whole), REGION)
    assert routers.get(project=PROJECT, region=REGION, router="cc-router").bgp_peers[0].advertised_route_priority == 150
    status = routers.get_router_status(project=PROJECT, region=REGION, router="cc-router")
    assert [(p.name, p.status, p.linked_vpn_tunnel) for p in status.result.bgp_peer_status] == [("peer-0", "UP", t0.self_link)], status

    # Partner Interconnect: a router with ASN 16550 and a PARTNER attachment.
    done(routers.insert_unary(project=PROJECT, region=REGION, router_resource=compute_v1.Router(name="cc-partner", network=network, bgp=compute_v1.RouterBgp(asn=16550))), REGION)
    try:
        wrong = compute_v1.InterconnectAttachment(name="cc-vlan", type_="PARTNER", router="cc-router", edge_availability_domain="AVAILABILITY_DOMAIN_1")
        attachments.insert_unary(project=PROJECT, region=REGION, interconnect_attachment_resource=wrong)
        raise AssertionError("a PARTNER attachment on an ASN 65010 router was accepted")
    except exceptions.BadRequest as e:
        assert "16550" in str(e), e
    att = compute_v1.InterconnectAttachment(name="cc-vlan", type_="PARTNER", router="cc-partner", edge_availability_domain="AVAILABILITY_DOMAIN_1")
    done(attachments.insert_unary(project=PROJECT, region=REGION, interconnect_attachment_resource=att), REGION)
    a = attachments.get(project=PROJECT, region=REGION, interconnect_attachment="cc-vlan")
    assert a.pairing_key.endswith(f"/{REGION}/1") and a.state == "PENDING_PARTNER" and a.mtu == 1440 and not a.admin_enabled, a
    done(attachments.patch_unary(project=PROJECT, region=REGION, interconnect_attachment="cc-vlan", interconnect_attachment_resource=compute_v1.InterconnectAttachment(admin_enabled=True)), REGION)
    assert attachments.get(project=PROJECT, region=REGION, interconnect_attachment="cc-vlan").admin_enabled

    # In use: refused until the users are gone.
    for what, call in [
        ("router", lambda: routers.delete_unary(project=PROJECT, region=REGION, router="cc-partner")),
        ("router", lambda: routers.delete_unary(project=PROJECT, region=REGION, router="cc-router")),
        ("gateway", lambda: gateways.delete_unary(project=PROJECT, region=REGION, vpn_gateway="cc-ha")),
        ("external gateway", lambda: externals.delete_unary(project=PROJECT, external_vpn_gateway="cc-peer")),
    ]:
        try:
            call()
            raise AssertionError(f"a {what} in use was deleted")
        except exceptions.BadRequest as e:
            assert "resourceInUseByAnotherResource" in reason(e), e

    done(attachments.delete_unary(project=PROJECT, region=REGION, interconnect_attachment="cc-vlan"), REGION)
    done(routers.delete_unary(project=PROJECT, region=REGION, router="cc-partner"), REGION)
    for i in range(2):
        done(tunnels.delete_unary(project=PROJECT, region=REGION, vpn_tunnel=f"cc-tunnel-{i}"), REGION)
    done(gateways.delete_unary(project=PROJECT, region=REGION, vpn_gateway="cc-ha"), REGION)
    done(externals.delete_unary(project=PROJECT, external_vpn_gateway="cc-peer"))
    done(routers.delete_unary(project=PROJECT, region=REGION, router="cc-router"), REGION)
    done(firewalls.delete_unary(project=PROJECT, firewall="allow-sip"))
    assert list(routers.list(project=PROJECT, region=REGION)) == []


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

    vpn_and_interconnect(got.self_link)

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
