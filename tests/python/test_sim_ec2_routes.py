"""VGW route propagation against tandem-sim (in front of moto), driven by boto3:
the propagation shows in DescribeRouteTables.PropagatingVgws, a gateway
attached to another VPC is refused, disabling removes it.

Run: TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_ec2_routes.py
(the Rust test `boto3_sees_route_propagation` in crates/tandem-sim/tests/ec2_vpn.rs runs it).
"""

import os

import boto3
import botocore.exceptions

URL = os.environ.get("TANDEM_SANDBOX_URL", "").rstrip("/")


def main():
    ec2 = boto3.client("ec2", endpoint_url=URL, region_name="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    other = ec2.create_vpc(CidrBlock="10.78.0.0/16")["Vpc"]["VpcId"]
    rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    gw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=gw, VpcId=vpc)
    stray = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=stray, VpcId=other)

    def propagating():
        t = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
        return [p["GatewayId"] for p in t.get("PropagatingVgws", [])]

    assert propagating() == [], propagating()
    ec2.enable_vgw_route_propagation(RouteTableId=rtb, GatewayId=gw)
    assert propagating() == [gw], propagating()
    try:
        ec2.enable_vgw_route_propagation(RouteTableId=rtb, GatewayId=stray)
        raise AssertionError("a gateway attached to another VPC was accepted")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "Gateway.NotAttached", e.response
    try:
        ec2.enable_vgw_route_propagation(RouteTableId="rtb-0000000000000dead", GatewayId=gw)
        raise AssertionError("an unknown route table was accepted")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidRouteTableID.NotFound", e.response
    ec2.disable_vgw_route_propagation(RouteTableId=rtb, GatewayId=gw)
    assert propagating() == [], propagating()
    print("test_sim_ec2_routes: ok")


if __name__ == "__main__":
    main()
