"""DynamoDB global tables (2019.11.21) against tandem-sim (in front of moto),
driven by boto3 as an independent client:

- a replica gets its own table in its region, with the items the source had;
- items written in one region appear in the other after the replication lag
  (latency kind `item-replication`), deletes and updates too, and concurrent
  writes to one item end with the last writer's version in both regions;
- a PROVISIONED table takes a replica only once Application Auto Scaling
  manages its write capacity (DynamoDB's ValidationException otherwise);
- DescribeTable right after CreateTable answers ResourceNotFoundException
  while the consistency knob is on.

The lag is read when a write is checked, so the test sets it to an hour to
see a write not arrive, then to zero to see it arrive: no timing involved.

Run: TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_dynamodb_global.py
(the Rust test `boto3_sees_items_replicate` in crates/tandem-sim/tests/dynamodb_replicas.rs runs it).
"""

import json
import os
import time
import urllib.request

import boto3
import botocore.exceptions

URL = os.environ.get("TANDEM_SANDBOX_URL", "").rstrip("/")
TABLE = "agent-state"


def client(service, region):
    return boto3.client(service, endpoint_url=URL, region_name=region, aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")


def admin(method, path, body):
    req = urllib.request.Request(URL + path, data=json.dumps(body).encode(), method=method, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read().decode() or "{}")


def lag(ms):
    admin("PUT", "/_tandem/latency", {"scale": 1.0, "rules": [{"service": "dynamodb", "kind": "item-replication", "creation_ms": ms}]})


def code_of(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("the call was accepted")


def until(what, check):
    """Polls a state that the sandbox settles on the next reads (zero latency)."""
    for _ in range(200):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"never {what}")


def state(ddb, agent):
    item = ddb.get_item(TableName=TABLE, Key={"agent_id": {"S": agent}}, ConsistentRead=True).get("Item")
    return item["state"]["S"] if item else None


def replication(east, west):
    east.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "agent_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "agent_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    east.put_item(TableName=TABLE, Item={"agent_id": {"S": "agent-0"}, "state": {"S": "before-replica"}})
    east.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    until("ACTIVE", lambda: east.describe_table(TableName=TABLE)["Table"]["Replicas"][0]["ReplicaStatus"] == "ACTIVE")
    # The replica is a table of its own region, with the source's items.
    assert TABLE in west.list_tables()["TableNames"], west.list_tables()
    d = west.describe_table(TableName=TABLE)["Table"]
    assert d["TableStatus"] == "ACTIVE" and ":us-west-2:" in d["TableArn"], d
    assert [r["RegionName"] for r in d["Replicas"]] == ["us-east-1"], d["Replicas"]
    assert state(west, "agent-0") == "before-replica"

    # East -> west after the lag.
    lag(3_600_000)
    east.put_item(TableName=TABLE, Item={"agent_id": {"S": "agent-1"}, "state": {"S": "ready"}})
    assert state(west, "agent-1") is None, "arrived before the lag"
    lag(0)
    assert state(west, "agent-1") == "ready"

    # Concurrent writes: west's is the later one, and both regions end with it.
    lag(3_600_000)
    east.put_item(TableName=TABLE, Item={"agent_id": {"S": "agent-2"}, "state": {"S": "busy"}})
    west.put_item(TableName=TABLE, Item={"agent_id": {"S": "agent-2"}, "state": {"S": "away"}})
    assert (state(east, "agent-2"), state(west, "agent-2")) == ("busy", "away")
    lag(0)
    assert (state(east, "agent-2"), state(west, "agent-2")) == ("away", "away")

    # Deletes and updates replicate too, both ways; batch writes as well.
    west.delete_item(TableName=TABLE, Key={"agent_id": {"S": "agent-1"}})
    assert state(east, "agent-1") is None
    east.update_item(TableName=TABLE, Key={"agent_id": {"S": "agent-0"}}, UpdateExpression="SET #s = :v", ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":v": {"S": "after-update"}})
    assert state(west, "agent-0") == "after-update"
    west.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {"agent_id": {"S": "agent-3"}, "state": {"S": "batched"}}}}]})
    assert state(east, "agent-3") == "batched"

    # A deleted replica takes its table with it and gets nothing more.
    east.update_table(TableName=TABLE, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    until("deleted", lambda: not east.describe_table(TableName=TABLE)["Table"].get("Replicas"))
    assert code_of(lambda: west.describe_table(TableName=TABLE))[0] == "ResourceNotFoundException"
    assert TABLE not in west.list_tables()["TableNames"]
    east.put_item(TableName=TABLE, Item={"agent_id": {"S": "agent-4"}, "state": {"S": "alone"}})
    assert code_of(lambda: west.get_item(TableName=TABLE, Key={"agent_id": {"S": "agent-4"}}))[0] == "ResourceNotFoundException"


def provisioned(east):
    east.create_table(
        TableName="provisioned",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    add = lambda: east.update_table(TableName="provisioned", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    refused = ("ValidationException", "Table write capacity should either be Pay-Per-Request or AutoScaled.")
    assert code_of(add) == refused, code_of(add)
    scaling = client("application-autoscaling", "us-east-1")
    dims = {"ServiceNamespace": "dynamodb", "ResourceId": "table/provisioned", "ScalableDimension": "dynamodb:table:WriteCapacityUnits"}
    scaling.register_scalable_target(MinCapacity=5, MaxCapacity=50, **dims)
    assert code_of(add) == refused, "a scalable target without a policy is not auto scaling"
    scaling.put_scaling_policy(
        PolicyName="write",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}},
        **dims,
    )
    add()
    assert east.describe_table(TableName="provisioned")["Table"]["Replicas"][0]["RegionName"] == "us-west-2"


def consistency(east):
    admin("PUT", "/_tandem/consistency", {"rules": [{"service": "dynamodb", "not_found_ms": 3_600_000}]})
    east.create_table(
        TableName="fresh",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    code, message = code_of(lambda: east.describe_table(TableName="fresh"))
    assert code == "ResourceNotFoundException" and "fresh" in message, (code, message)
    assert code_of(lambda: east.create_table(
        TableName="fresh",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    ))[0] == "ResourceInUseException", "it exists, it is only not visible yet"
    admin("PUT", "/_tandem/consistency", {"rules": []})
    assert east.describe_table(TableName="fresh")["Table"]["TableName"] == "fresh"


def main():
    east, west = client("dynamodb", "us-east-1"), client("dynamodb", "us-west-2")
    replication(east, west)
    provisioned(east)
    consistency(east)
    print("test_sim_dynamodb_global: ok")


if __name__ == "__main__":
    main()
