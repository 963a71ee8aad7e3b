"""boto3 (an independent client) drives the Amazon Connect Global Resiliency
flow against a running tandem sandbox. Run as a plain script:

    TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_connect.py

Every answer must be parsed by botocore; every rule checked raises on failure.
The sandbox's Rust test `connect_python` starts a sandbox and runs this.
"""

import json
import os
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["TANDEM_SANDBOX_URL"]
FLOW = json.dumps({
    "Version": "2019-10-30",
    "StartAction": "d1",
    "Actions": [{"Identifier": "d1", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}],
})


def client(region):
    return boto3.client(
        "connect",
        region_name=region,
        endpoint_url=URL,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


def error_code(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError(f"{fn.__name__} succeeded, expected an error")


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{URL}/_tandem/{path}", data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def main():
    admin("POST", "reset")
    east, west = client("us-east-1"), client("us-west-2")

    inst = east.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias="py-east",
                                InboundCallsEnabled=True, OutboundCallsEnabled=True, ClientToken="py-1")
    iid, iarn = inst["Id"], inst["Arn"]
    d = east.describe_instance(InstanceId=iid)["Instance"]
    assert d["InstanceStatus"] == "ACTIVE", d
    assert hasattr(d["CreatedTime"], "year"), "CreatedTime parsed as a timestamp"
    east.update_instance_attribute(InstanceId=iid, AttributeType="CONTACTFLOW_LOGS", Value="true")
    assert east.describe_instance_attribute(InstanceId=iid, AttributeType="CONTACTFLOW_LOGS")["Attribute"]["Value"] == "true"
    east.associate_instance_storage_config(
        InstanceId=iid, ResourceType="CONTACT_TRACE_RECORDS",
        StorageConfig={"StorageType": "KINESIS_STREAM", "KinesisStreamConfig": {"StreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/ctr"}})

    # Refused pair, then the allowed one (idempotent by ClientToken).
    assert error_code(east.replicate_instance, InstanceId=iid, ReplicaRegion="eu-west-2", ReplicaAlias="py-x") == "InvalidRequestException"
    rep = east.replicate_instance(InstanceId=iid, ReplicaRegion="us-west-2", ReplicaAlias="py-west", ClientToken="rep-1")
    rep2 = east.replicate_instance(InstanceId=iid, ReplicaRegion="us-west-2", ReplicaAlias="py-west", ClientToken="rep-1")
    assert rep["Id"] == iid == rep2["Id"], (rep, rep2)
    r = west.describe_instance(InstanceId=iid)
    assert r["Instance"]["InstanceAlias"] == "py-west"
    assert r["ReplicationConfiguration"]["SourceRegion"] == "us-east-1"

    groups = east.list_traffic_distribution_groups(InstanceId=iid)["TrafficDistributionGroupSummaryList"]
    assert len(groups) == 1 and groups[0]["IsDefault"] is True, groups
    default_id = groups[0]["Id"]

    g = east.create_traffic_distribution_group(Name="py-calls", InstanceId=iarn, ClientToken="tdg-1")
    gid, garn = g["Id"], g["Arn"]
    assert east.describe_traffic_distribution_group(TrafficDistributionGroupId=gid)["TrafficDistributionGroup"]["Status"] == "ACTIVE"

    # Numbers: claimed to the group in the source region only.
    avail = east.search_available_phone_numbers(TargetArn=garn, PhoneNumberCountryCode="US", PhoneNumberType="DID", MaxResults=2)["AvailableNumbersList"]
    assert len(avail) == 2, avail
    number = avail[0]["PhoneNumber"]
    assert error_code(west.claim_phone_number, TargetArn=garn, PhoneNumber=number) == "ResourceNotFoundException"
    claimed = east.claim_phone_number(TargetArn=garn, PhoneNumber=number, ClientToken="claim-1")
    nid, narn = claimed["PhoneNumberId"], claimed["PhoneNumberArn"]
    summary = east.describe_phone_number(PhoneNumberId=nid)["ClaimedPhoneNumberSummary"]
    assert summary["TargetArn"] == garn and summary["PhoneNumberStatus"]["Status"] == "CLAIMED", summary
    assert east.list_phone_numbers_v2(TargetArn=garn)["ListPhoneNumbersSummaryList"][0]["PhoneNumber"] == number

    # A flow in each instance; the replica region names the number by ARN only.
    ef = east.create_contact_flow(InstanceId=iid, Name="inbound", Type="CONTACT_FLOW", Content=FLOW)["ContactFlowId"]
    wf = west.create_contact_flow(InstanceId=iid, Name="inbound", Type="CONTACT_FLOW", Content=FLOW)["ContactFlowId"]
    assert error_code(east.create_contact_flow, InstanceId=iid, Name="bad", Type="CONTACT_FLOW", Content="{") == "InvalidContactFlowException"
    east.associate_phone_number_contact_flow(PhoneNumberId=nid, InstanceId=iid, ContactFlowId=ef)
    assert error_code(west.associate_phone_number_contact_flow, PhoneNumberId=nid, InstanceId=iid, ContactFlowId=wf) == "ResourceNotFoundException"
    west.associate_phone_number_contact_flow(PhoneNumberId=narn, InstanceId=iid, ContactFlowId=wf)

    # Distribution: validation, then 50/50 with agents, read back from both regions.
    bad = {"Distributions": [{"Region": "us-east-1", "Percentage": 55}, {"Region": "us-west-2", "Percentage": 45}]}
    assert error_code(east.update_traffic_distribution, Id=gid, TelephonyConfig=bad) == "InvalidRequestException"
    half = {"Distributions": [{"Region": "us-east-1", "Percentage": 50}, {"Region": "us-west-2", "Percentage": 50}]}
    signin = {"Distributions": [{"Region": "us-east-1", "Enabled": True}, {"Region": "us-west-2", "Enabled": False}]}
    # A modified SignInConfig only on the default group.
    assert error_code(east.update_traffic_distribution, Id=gid, TelephonyConfig=half, SignInConfig=signin) == "InvalidRequestException"
    east.update_traffic_distribution(Id=gid, TelephonyConfig=half, AgentConfig=half)
    east.update_traffic_distribution(Id=default_id, TelephonyConfig={"Distributions": [{"Region": "us-east-1", "Percentage": 100}, {"Region": "us-west-2", "Percentage": 0}]}, SignInConfig=signin)
    assert error_code(west.get_traffic_distribution, Id=gid) == "ResourceNotFoundException"
    got = west.get_traffic_distribution(Id=garn)
    assert [d["Percentage"] for d in got["TelephonyConfig"]["Distributions"]] == [50, 50], got
    assert [d["Percentage"] for d in got["AgentConfig"]["Distributions"]] == [50, 50], got

    # Failover: shift everything (calls and agents) to the replica from the replica region.
    full_west = {"Distributions": [{"Region": "us-east-1", "Percentage": 0}, {"Region": "us-west-2", "Percentage": 100}]}
    west.update_traffic_distribution(Id=garn, TelephonyConfig=full_west, AgentConfig=full_west)
    assert east.get_traffic_distribution(Id=gid)["TelephonyConfig"]["Distributions"][1]["Percentage"] == 100

    # Teardown order: the group is in use until its numbers are released.
    assert error_code(east.delete_traffic_distribution_group, TrafficDistributionGroupId=gid) == "ResourceInUseException"
    east.release_phone_number(PhoneNumberId=nid)
    east.delete_traffic_distribution_group(TrafficDistributionGroupId=gid)
    assert error_code(east.describe_traffic_distribution_group, TrafficDistributionGroupId=gid) == "ResourceNotFoundException"

    # Throttling is retried by botocore too, and counted.
    admin("DELETE", "calls")
    admin("POST", "faults", {"service": "connect", "operation": "ListInstances", "kind": "throttle", "count": 1})
    assert len(east.list_instances()["InstanceSummaryList"]) == 1
    counts = {(c["operation"], c["region"]): c["count"] for c in admin("GET", "calls")["calls"]}
    assert counts[("ListInstances", "us-east-1")] == 2, counts

    west.delete_instance(InstanceId=iid)
    east.delete_instance(InstanceId=iid)
    print("test_sim_connect: ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"test_sim_connect: FAILED: {e}", file=sys.stderr)
        raise
