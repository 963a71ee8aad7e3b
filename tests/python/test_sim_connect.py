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

    # Only a SAML instance can be replicated.
    managed = east.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias="py-managed",
                                   InboundCallsEnabled=True, OutboundCallsEnabled=True)
    assert error_code(east.replicate_instance, InstanceId=managed["Id"], ReplicaRegion="us-west-2", ReplicaAlias="py-m-west") == "InvalidRequestException"
    east.delete_instance(InstanceId=managed["Id"])

    inst = east.create_instance(IdentityManagementType="SAML", InstanceAlias="py-east",
                                InboundCallsEnabled=True, OutboundCallsEnabled=True, ClientToken="py-1")
    iid, iarn = inst["Id"], inst["Arn"]
    d = east.describe_instance(InstanceId=iid)["Instance"]
    assert d["InstanceStatus"] == "ACTIVE", d
    assert hasattr(d["CreatedTime"], "year"), "CreatedTime parsed as a timestamp"
    # DescribeInstance takes the id; ReplicateInstance the id or the ARN.
    assert error_code(east.describe_instance, InstanceId=iarn) == "ResourceNotFoundException"
    # A new instance comes with AWS's defaults.
    assert "BasicQueue" in [q.get("Name") for q in east.list_queues(InstanceId=iid)["QueueSummaryList"]]
    assert "Basic Routing Profile" in [p["Name"] for p in east.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"]]
    assert "Basic Hours" in [h["Name"] for h in east.list_hours_of_operations(InstanceId=iid)["HoursOfOperationSummaryList"]]
    flows = {f["Name"]: f["ContactFlowType"] for f in east.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]}
    assert flows["Default outbound"] == "OUTBOUND_WHISPER" and flows["Default customer queue"] == "CUSTOMER_QUEUE", flows
    profiles = {p["Name"]: p["Id"] for p in east.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]}
    assert set(profiles) >= {"Admin", "Agent", "CallCenterManager", "QualityAnalyst"}, profiles
    east.update_instance_attribute(InstanceId=iid, AttributeType="CONTACTFLOW_LOGS", Value="true")
    assert east.describe_instance_attribute(InstanceId=iid, AttributeType="CONTACTFLOW_LOGS")["Attribute"]["Value"] == "true"
    east.associate_instance_storage_config(
        InstanceId=iid, ResourceType="CONTACT_TRACE_RECORDS",
        StorageConfig={"StorageType": "KINESIS_STREAM", "KinesisStreamConfig": {"StreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/ctr"}})
    # Made before replication: copied to the replica with it.
    hours = east.create_hours_of_operation(InstanceId=iid, Name="py-hours", TimeZone="UTC", Config=[
        {"Day": "MONDAY", "StartTime": {"Hours": 8, "Minutes": 0}, "EndTime": {"Hours": 18, "Minutes": 0}}])["HoursOfOperationId"]

    # Refused pair and same region, then the allowed one (idempotent by ClientToken).
    assert error_code(east.replicate_instance, InstanceId=iid, ReplicaRegion="eu-west-2", ReplicaAlias="py-x") == "InvalidRequestException"
    assert error_code(east.replicate_instance, InstanceId=iid, ReplicaRegion="us-east-1", ReplicaAlias="py-x") == "InvalidRequestException"
    rep = east.replicate_instance(InstanceId=iarn, ReplicaRegion="us-west-2", ReplicaAlias="py-west", ClientToken="rep-1")
    rep2 = east.replicate_instance(InstanceId=iarn, ReplicaRegion="us-west-2", ReplicaAlias="py-west", ClientToken="rep-1")
    assert rep["Id"] == iid == rep2["Id"], (rep, rep2)
    assert error_code(east.replicate_instance, InstanceId=iid, ReplicaRegion="us-west-2", ReplicaAlias="py-west-2") == "InvalidRequestException"
    r = west.describe_instance(InstanceId=iid)
    assert r["Instance"]["InstanceAlias"] == "py-west"
    assert r["ReplicationConfiguration"]["SourceRegion"] == "us-east-1"
    status = east.describe_instance(InstanceId=iid)["ReplicationConfiguration"]["ReplicationStatusSummaryList"]
    assert status == [{"Region": "us-west-2", "ReplicationStatus": "INSTANCE_REPLICATION_COMPLETE"}], status
    # Storage configs and attributes are the replica's own (not mirrored).
    assert west.list_instance_storage_configs(InstanceId=iid, ResourceType="CONTACT_TRACE_RECORDS")["StorageConfigs"] == []
    # The configuration is mirrored under the same ids.
    assert west.describe_hours_of_operation(InstanceId=iid, HoursOfOperationId=hours)["HoursOfOperation"]["Name"] == "py-hours"
    west_profiles = {p["Name"]: p["Id"] for p in west.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]}
    assert west_profiles == profiles, (west_profiles, profiles)

    groups = east.list_traffic_distribution_groups(InstanceId=iid)["TrafficDistributionGroupSummaryList"]
    assert len(groups) == 1 and groups[0]["IsDefault"] is True, groups
    default_id = groups[0]["Id"]

    g = east.create_traffic_distribution_group(Name="py-calls", InstanceId=iid, ClientToken="tdg-1")
    gid, garn = g["Id"], g["Arn"]
    assert east.describe_traffic_distribution_group(TrafficDistributionGroupId=gid)["TrafficDistributionGroup"]["Status"] == "ACTIVE"

    # Numbers: claimed to the group in the source region only, with a UUID token.
    avail = east.search_available_phone_numbers(TargetArn=garn, PhoneNumberCountryCode="US", PhoneNumberType="DID", MaxResults=2)["AvailableNumbersList"]
    assert len(avail) == 2, avail
    number = avail[0]["PhoneNumber"]
    assert error_code(west.claim_phone_number, TargetArn=garn, PhoneNumber=number) == "InvalidParameterException"
    assert error_code(east.claim_phone_number, TargetArn=garn, PhoneNumber=number, ClientToken="claim-1") == "InvalidParameterException"
    claimed = east.claim_phone_number(TargetArn=garn, PhoneNumber=number, ClientToken="0b7c9a8e-1f2d-4c3b-9a5e-6d7f8e9a0b1c")
    nid, narn = claimed["PhoneNumberId"], claimed["PhoneNumberArn"]
    summary = east.describe_phone_number(PhoneNumberId=nid)["ClaimedPhoneNumberSummary"]
    assert summary["TargetArn"] == garn and summary["PhoneNumberStatus"]["Status"] == "CLAIMED", summary
    assert east.list_phone_numbers_v2(TargetArn=garn)["ListPhoneNumbersSummaryList"][0]["PhoneNumber"] == number

    # Routing made once in the source region appears in the replica, same ids.
    q = east.create_queue(InstanceId=iid, Name="py-support", HoursOfOperationId=hours)["QueueId"]
    ef = east.create_contact_flow(InstanceId=iid, Name="inbound", Type="CONTACT_FLOW", Content=FLOW)["ContactFlowId"]
    rp = east.create_routing_profile(InstanceId=iid, Name="py-agents", Description="agents", DefaultOutboundQueueId=q,
                                     MediaConcurrencies=[{"Channel": "VOICE", "Concurrency": 1}],
                                     QueueConfigs=[{"QueueReference": {"QueueId": q, "Channel": "VOICE"}, "Priority": 1, "Delay": 0}])["RoutingProfileId"]
    # A SAML instance's users have no password.
    assert error_code(east.create_user, InstanceId=iid, Username="pw", Password="Secret-123", PhoneConfig={"PhoneType": "SOFT_PHONE"},
                      SecurityProfileIds=[profiles["Agent"]], RoutingProfileId=rp) == "InvalidParameterException"
    user = east.create_user(InstanceId=iid, Username="py-agent", PhoneConfig={"PhoneType": "SOFT_PHONE"},
                            SecurityProfileIds=[profiles["Agent"]], RoutingProfileId=rp)["UserId"]
    assert west.describe_queue(InstanceId=iid, QueueId=q)["Queue"]["Name"] == "py-support"
    assert west.describe_contact_flow(InstanceId=iid, ContactFlowId=ef)["ContactFlow"]["Name"] == "inbound"
    assert [c["QueueId"] for c in west.list_routing_profile_queues(InstanceId=iid, RoutingProfileId=rp)["RoutingProfileQueueConfigSummaryList"]] == [q]
    assert west.describe_user(InstanceId=iid, UserId=user)["User"]["RoutingProfileId"] == rp
    # Changed in the replica, the change comes back to the source.
    west.update_queue_name(InstanceId=iid, QueueId=q, Description="changed in us-west-2")
    assert east.describe_queue(InstanceId=iid, QueueId=q)["Queue"]["Description"] == "changed in us-west-2"
    # The same name under a new id in the replica: DuplicateResourceException (the copy is there).
    assert error_code(west.create_contact_flow, InstanceId=iid, Name="inbound", Type="CONTACT_FLOW", Content=FLOW) == "DuplicateResourceException"
    assert error_code(east.create_contact_flow, InstanceId=iid, Name="bad", Type="CONTACT_FLOW", Content="{") == "InvalidContactFlowException"
    # The number is associated once; the association is mirrored; the replica names it by ARN only.
    east.associate_phone_number_contact_flow(PhoneNumberId=nid, InstanceId=iid, ContactFlowId=ef)
    assoc = west.list_flow_associations(InstanceId=iid)["FlowAssociationSummaryList"]
    assert [(a["ResourceId"], a["FlowId"]) for a in assoc] == [(narn, ef)], assoc
    assert error_code(west.associate_phone_number_contact_flow, PhoneNumberId=nid, InstanceId=iid, ContactFlowId=ef) == "ResourceNotFoundException"

    # Agents join the group (source region only); only associated agents follow AgentConfig.
    assert error_code(west.associate_traffic_distribution_group_user, TrafficDistributionGroupId=garn, UserId=user, InstanceId=iid) == "InvalidRequestException"
    east.associate_traffic_distribution_group_user(TrafficDistributionGroupId=gid, UserId=user, InstanceId=iid)
    members = east.list_traffic_distribution_group_users(TrafficDistributionGroupId=gid)["TrafficDistributionGroupUserSummaryList"]
    assert members == [{"UserId": user}], members
    assert west.list_traffic_distribution_group_users(TrafficDistributionGroupId=garn)["TrafficDistributionGroupUserSummaryList"] == members

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
    def agents_of(group_id):
        return [a["Region"] for g in admin("GET", "connect/agents")["groups"] if g["Id"] == group_id for a in g["Agents"]]
    assert agents_of(gid) == ["us-east-1"], agents_of(gid)
    full_west = {"Distributions": [{"Region": "us-east-1", "Percentage": 0}, {"Region": "us-west-2", "Percentage": 100}]}
    west.update_traffic_distribution(Id=garn, TelephonyConfig=full_west, AgentConfig=full_west)
    assert east.get_traffic_distribution(Id=gid)["TelephonyConfig"]["Distributions"][1]["Percentage"] == 100
    assert agents_of(gid) == ["us-west-2"], agents_of(gid)
    east.disassociate_traffic_distribution_group_user(TrafficDistributionGroupId=gid, UserId=user, InstanceId=iid)
    assert east.list_traffic_distribution_group_users(TrafficDistributionGroupId=gid)["TrafficDistributionGroupUserSummaryList"] == []
    assert agents_of(gid) == []

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
