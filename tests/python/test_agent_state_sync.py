"""The agent-state sync function (crates/tandem-agent-state), deployed as a
provided.al2023 function in a tandem sandbox and fed by a Kinesis event
source mapping, keeps each agent's newest state in a DynamoDB global table;
the table's replica region reads the same. boto3 does everything here, as an
operator would. Run with TANDEM_SANDBOX_URL and AGENT_STATE_BOOTSTRAP (the
built binary) set.
"""

import io
import json
import os
import sys
import time
import urllib.request
import zipfile

import boto3

URL = os.environ["TANDEM_SANDBOX_URL"]
BOOTSTRAP = os.environ["AGENT_STATE_BOOTSTRAP"]
TABLE = "agent-state"


def c(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=URL, aws_access_key_id="testing", aws_secret_access_key="testing")


def wait_for(check, what, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        v = check()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def event(agent, status, ts, event_type="STATE_CHANGE", eid=None):
    return {"AgentARN": f"arn:aws:connect:us-east-1:123456789012:instance/i/agent/{agent}", "EventType": event_type,
            "EventId": eid or f"{agent}-{ts}", "EventTimestamp": ts, "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/i",
            "CurrentAgentSnapshot": {"AgentStatus": {"Name": status}, "Configuration": {"Username": agent}}}


def main():
    ddb, west = c("dynamodb"), c("dynamodb", "us-west-2")
    ddb.create_table(TableName=TABLE, AttributeDefinitions=[{"AttributeName": "agent_id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "agent_id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    wait_for(lambda: all(r["ReplicaStatus"] == "ACTIVE" for r in ddb.describe_table(TableName=TABLE)["Table"].get("Replicas", [{"ReplicaStatus": "x"}])), "the replica")
    kin = c("kinesis")
    kin.create_stream(StreamName="agent-events", ShardCount=1)
    stream = kin.describe_stream_summary(StreamName="agent-events")["StreamDescriptionSummary"]["StreamARN"]
    role = c("iam").create_role(RoleName="agent-state", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, open(BOOTSTRAP, "rb").read())
    lam = c("lambda")
    lam.create_function(FunctionName="agent-state", Runtime="provided.al2023", Role=role, Handler="bootstrap", Code={"ZipFile": buf.getvalue()},
                        Timeout=30, Environment={"Variables": {"TANDEM_TABLE": TABLE}})
    lam.create_event_source_mapping(FunctionName="agent-state", EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=10)

    # alice: Available, then a LOGOUT, then a late OnContact stamped between them (older than the LOGOUT).
    for e in [event("alice", "Available", "2026-11-30T10:00:00.000Z"), event("alice", "Offline", "2026-11-30T10:05:00.000Z", "LOGOUT"),
              event("alice", "OnContact", "2026-11-30T10:02:00.000Z"), event("bob", "Available", "2026-11-30T10:01:00.000Z"),
              {"not": "an agent event"}]:
        kin.put_record(StreamName="agent-events", Data=json.dumps(e).encode(), PartitionKey=e.get("AgentARN", "x"))

    def item(client, agent):
        return client.get_item(TableName=TABLE, Key={"agent_id": {"S": agent}}).get("Item")
    wait_for(lambda: item(ddb, "bob"), "bob's state")
    wait_for(lambda: [i for i in c("lambda").list_event_source_mappings(FunctionName="agent-state")["EventSourceMappings"] if i["LastProcessingResult"] == "OK"], "a processed batch")
    alice = item(ddb, "alice")
    assert alice["status"]["S"] == "Offline" and alice["event_type"]["S"] == "LOGOUT", alice
    assert item(ddb, "bob")["status"]["S"] == "Available"
    # The same event delivered again changes nothing; a newer one replaces.
    kin.put_record(StreamName="agent-events", Data=json.dumps(event("alice", "Available", "2026-11-30T10:00:00.000Z")).encode(), PartitionKey="a")
    kin.put_record(StreamName="agent-events", Data=json.dumps(event("alice", "Available", "2026-11-30T10:06:00.000Z")).encode(), PartitionKey="a")
    wait_for(lambda: item(ddb, "alice")["event_time"]["S"] == "2026-11-30T10:06:00.000Z", "alice's newest state")
    assert item(ddb, "alice")["status"]["S"] == "Available"
    # The replica region reads the same states (global table replication).
    wait_for(lambda: (item(west, "alice") or {}).get("event_time", {}).get("S") == "2026-11-30T10:06:00.000Z", "alice's state in us-west-2")
    assert item(west, "bob")["status"]["S"] == "Available"
    # The bad record was skipped (with its reason), not retried forever.
    inv = json.loads(urllib.request.urlopen(URL + "/_tandem/lambda/invocations?function=agent-state").read())["invocations"]
    assert any("no AgentARN" in (i.get("response") or "") for i in inv), inv
    assert all(i["status"] == "ok" for i in inv), [i for i in inv if i["status"] != "ok"]
    print("test_agent_state_sync: ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"test_agent_state_sync: FAILED: {e}", file=sys.stderr)
        raise
