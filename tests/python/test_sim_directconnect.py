"""The Direct Connect flow against tandem-sim, driven by boto3 (an independent
client: if botocore parses every answer, the wire format is right).

Run: TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_directconnect.py
(the Rust test `boto3_accepts_the_direct_connect_flow` in crates/tandem-sim/tests/directconnect.rs
starts a sandbox and runs this script). Works under pytest too.
"""

import json
import os
import sys
import urllib.request

import boto3
import botocore.exceptions

URL = os.environ.get("TANDEM_SANDBOX_URL", "").rstrip("/")
REGION = "us-east-1"


def client(service):
    return boto3.client(
        service,
        endpoint_url=URL,
        region_name=REGION,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
    )


def seed_hosted_connection(**fields):
    body = json.dumps(dict(fields, region=REGION)).encode()
    req = urllib.request.Request(
        f"{URL}/_tandem/seed/hosted-connections",
        data=body,
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def expect_client_error(fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "DirectConnectClientException", e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return
    raise AssertionError(f"{fn.__name__} should have failed")


def test_direct_connect_flow():
    assert URL, "set TANDEM_SANDBOX_URL"
    dx = client("directconnect")

    conn = seed_hosted_connection(connectionName="gcp-partner", bandwidth="500Mbps", vlan=301, partnerName="Equinix", location="EqDC2")
    conn_id = conn["connectionId"]
    got = dx.describe_connections(connectionId=conn_id)["connections"][0]
    assert got["connectionState"] == "ordering", got
    assert got["vlan"] == 301 and got["bandwidth"] == "500Mbps"

    assert dx.confirm_connection(connectionId=conn_id)["connectionState"] == "pending"
    assert dx.describe_connections(connectionId=conn_id)["connections"][0]["connectionState"] == "available"

    expect_client_error(dx.create_direct_connect_gateway, directConnectGatewayName="bad", amazonSideAsn=64000)
    gw = dx.create_direct_connect_gateway(directConnectGatewayName="tandem-dxgw", amazonSideAsn=4200000000)["directConnectGateway"]
    assert gw["directConnectGatewayState"] == "pending" and gw["amazonSideAsn"] == 4200000000
    gw_id = gw["directConnectGatewayId"]

    assoc = dx.create_direct_connect_gateway_association(directConnectGatewayId=gw_id, virtualGatewayId="vgw-0123456789abcdef0")[
        "directConnectGatewayAssociation"
    ]
    assert assoc["associationState"] == "associating"
    listed = dx.describe_direct_connect_gateway_associations(virtualGatewayId="vgw-0123456789abcdef0")["directConnectGatewayAssociations"]
    assert [a["associationState"] for a in listed] == ["associated"]

    vif = dx.create_private_virtual_interface(
        connectionId=conn_id,
        newPrivateVirtualInterface={
            "virtualInterfaceName": "tandem-gcp",
            "vlan": 301,
            "asn": 16550,
            "authKey": "bgp-secret-key",
            "addressFamily": "ipv4",
            "directConnectGatewayId": gw_id,
            "tags": [{"key": "app", "value": "tandem"}],
        },
    )
    assert vif["virtualInterfaceState"] == "pending", vif
    assert vif["amazonSideAsn"] == 4200000000
    assert vif["amazonAddress"].startswith("169.254.") and vif["customerAddress"].startswith("169.254.")
    vif_id = vif["virtualInterfaceId"]
    vifs = dx.describe_virtual_interfaces(connectionId=conn_id)["virtualInterfaces"]
    assert [v["virtualInterfaceState"] for v in vifs] == ["available"]
    assert vifs[0]["bgpPeers"][0]["bgpPeerState"] == "available"

    expect_client_error(dx.delete_direct_connect_gateway, directConnectGatewayId=gw_id)
    assert dx.delete_virtual_interface(virtualInterfaceId=vif_id)["virtualInterfaceState"] == "deleting"
    gone = dx.delete_direct_connect_gateway_association(directConnectGatewayId=gw_id, virtualGatewayId="vgw-0123456789abcdef0")
    assert gone["directConnectGatewayAssociation"]["associationState"] == "disassociating"
    deleted = dx.delete_direct_connect_gateway(directConnectGatewayId=gw_id)["directConnectGateway"]
    assert deleted["directConnectGatewayState"] == "deleting"
    assert dx.describe_direct_connect_gateways(directConnectGatewayId=gw_id)["directConnectGateways"][0]["directConnectGatewayState"] == "deleted"


if __name__ == "__main__":
    test_direct_connect_flow()
    print("test_sim_directconnect: ok")
    sys.exit(0)
