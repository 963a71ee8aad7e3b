"""boto3 (an independent client) drives Amazon CloudWatch in a running tandem
sandbox: alarms, a drill that sets an alarm to ALARM, metric data and
dashboards. CloudWatch's service model lists the protocols smithy-rpc-v2-cbor,
json and query; boto3 1.44.5 picks awsJson 1.0 (`X-Amz-Target:
GraniteServiceVersion20100801.<Op>`), which the sandbox serves from the same
state as CBOR. The scenario runs twice: with botocore's own choice, then with
botocore forced to smithy-rpc-v2-cbor (its CBOR serializer and parser judge
the wire the Rust SDK uses). Every answer and error must be parsed by
botocore. Run as a plain script:

    TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_cloudwatch.py

The sandbox's Rust test `cloudwatch::boto3_drives_cloudwatch` starts a sandbox and runs this.
"""

import datetime
import json
import os
import urllib.request

import boto3
from botocore.config import Config
import botocore.model
from botocore.exceptions import ClientError

URL = os.environ["TANDEM_SANDBOX_URL"]


def client(region):
    return boto3.client(
        "cloudwatch",
        region_name=region,
        endpoint_url=URL,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def error(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{fn.__name__} succeeded: {kwargs}")


def alarm(name, **over):
    a = dict(
        AlarmName=name,
        Namespace="Tandem/Health",
        MetricName="Healthy",
        Dimensions=[{"Name": "Region", "Value": "us-east-1"}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="breaching",
    )
    a.update(over)
    return {k: v for k, v in a.items() if v is not None}


def scenario(expected_wire):
    east, west = client("us-east-1"), client("us-west-2")
    wires = set()

    def record(request, **_):
        wires.add(request.headers.get("Content-Type", b"").decode() if isinstance(request.headers.get("Content-Type"), bytes) else str(request.headers.get("Content-Type")))

    for c in (east, west):
        c.meta.events.register("before-send.cloudwatch", record)

    # Alarms.
    east.put_metric_alarm(**alarm("tandem-health"))
    east.put_metric_alarm(**alarm("tandem-latency", AlarmActions=["arn:aws:sns:us-east-1:123456789012:failover"]))
    alarms = east.describe_alarms()["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == ["tandem-health", "tandem-latency"], alarms
    a = alarms[0]
    assert a["StateValue"] == "INSUFFICIENT_DATA", a
    assert a["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:tandem-health", a
    assert (a["Period"], a["EvaluationPeriods"], a["Threshold"]) == (60, 3, 1.0), a
    assert a["Dimensions"] == [{"Name": "Region", "Value": "us-east-1"}], a
    assert isinstance(a["StateUpdatedTimestamp"], datetime.datetime), a
    age = datetime.datetime.now(datetime.timezone.utc) - a["StateUpdatedTimestamp"]
    assert abs(age.total_seconds()) < 60, age
    assert alarms[1]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:failover"]
    assert west.describe_alarms()["MetricAlarms"] == []

    assert error(east.put_metric_alarm, **alarm("x", ExtendedStatistic="p99")) == ("InvalidParameterCombination", 400)
    assert error(east.put_metric_alarm, **alarm("x", Period=45)) == ("InvalidParameterValue", 400)
    assert error(east.put_metric_alarm, **alarm("x", ComparisonOperator="Bigger")) == ("ValidationError", 400)
    assert error(east.put_metric_alarm, **alarm("x", DatapointsToAlarm=5)) == ("ValidationError", 400)

    # The drill: the region's health alarm goes to ALARM.
    east.set_alarm_state(AlarmName="tandem-health", StateValue="ALARM", StateReason="drill", StateReasonData='{"drill": true}')
    in_alarm = east.describe_alarms(StateValue="ALARM")["MetricAlarms"]
    assert [a["AlarmName"] for a in in_alarm] == ["tandem-health"], in_alarm
    assert in_alarm[0]["StateReason"] == "drill"
    assert [a["AlarmName"] for a in east.describe_alarms(AlarmNamePrefix="tandem-l")["MetricAlarms"]] == ["tandem-latency"]
    assert [a["AlarmName"] for a in east.describe_alarms(AlarmNames=["tandem-health"])["MetricAlarms"]] == ["tandem-health"]
    try:
        west.set_alarm_state(AlarmName="tandem-health", StateValue="ALARM", StateReason="drill")
        raise AssertionError("set_alarm_state in the wrong region succeeded")
    except west.exceptions.ResourceNotFound as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error(east.set_alarm_state, AlarmName="tandem-health", StateValue="OK", StateReason="x", StateReasonData="{") == ("InvalidFormat", 400)

    assert error(east.delete_alarms, AlarmNames=["tandem-latency", "missing"]) == ("ResourceNotFound", 404)
    east.delete_alarms(AlarmNames=["tandem-latency"])
    assert [a["AlarmName"] for a in east.describe_alarms()["MetricAlarms"]] == ["tandem-health"]

    # Metric data.
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    t0 = now - datetime.timedelta(minutes=10)
    dims = [{"Name": "Region", "Value": "us-east-1"}]
    east.put_metric_data(
        Namespace="Tandem/Connect",
        MetricData=[
            {"MetricName": "Calls", "Dimensions": dims, "Value": 2.0, "Timestamp": t0, "Unit": "Count"},
            {"MetricName": "Calls", "Dimensions": dims, "Value": 4.0, "Timestamp": t0 + datetime.timedelta(seconds=30), "Unit": "Count"},
            {"MetricName": "Calls", "Dimensions": dims, "Values": [1.0, 9.0], "Counts": [1.0, 1.0], "Timestamp": t0 + datetime.timedelta(minutes=1), "Unit": "Count"},
        ],
    )
    stat = lambda i, s: {
        "Id": i,
        "MetricStat": {"Metric": {"Namespace": "Tandem/Connect", "MetricName": "Calls", "Dimensions": dims}, "Period": 60, "Stat": s},
    }
    out = east.get_metric_data(
        MetricDataQueries=[stat("sum", "Sum"), stat("avg", "Average"), stat("mx", "Maximum"), stat("mn", "Minimum"), stat("n", "SampleCount")],
        StartTime=t0 - datetime.timedelta(minutes=1),
        EndTime=now,
        ScanBy="TimestampAscending",
    )
    res = {r["Id"]: r for r in out["MetricDataResults"]}
    assert res["sum"]["Values"] == [6.0, 10.0], res
    assert res["avg"]["Values"] == [3.0, 5.0], res
    assert res["mx"]["Values"] == [4.0, 9.0], res
    assert res["mn"]["Values"] == [2.0, 1.0], res
    assert res["n"]["Values"] == [2.0, 2.0], res
    assert res["sum"]["Timestamps"] == [t0, t0 + datetime.timedelta(minutes=1)], res["sum"]["Timestamps"]
    assert res["sum"]["StatusCode"] == "Complete"
    assert error(east.put_metric_data, Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1.0}]) == ("InvalidParameterValue", 400)
    assert error(
        east.get_metric_data, MetricDataQueries=[stat("sum", "Sum")], StartTime=now, EndTime=now - datetime.timedelta(minutes=1)
    ) == ("ValidationError", 400)

    # Dashboards.
    body = json.dumps({"widgets": [{"type": "metric", "properties": {"metrics": [["Tandem/Health", "Healthy"]], "region": "us-east-1"}}]})
    out = east.put_dashboard(DashboardName="tandem-overview", DashboardBody=body)
    assert out.get("DashboardValidationMessages", []) == [], out
    got = east.get_dashboard(DashboardName="tandem-overview")
    assert got["DashboardBody"] == body and got["DashboardArn"] == "arn:aws:cloudwatch::123456789012:dashboard/tandem-overview", got
    try:
        east.put_dashboard(DashboardName="bad", DashboardBody='{"title": "no widgets"}')
        raise AssertionError("a dashboard without widgets was accepted")
    except east.exceptions.DashboardInvalidInputError as e:
        assert e.response["Error"]["Code"] == "InvalidParameterInput", e.response
        assert e.response["dashboardValidationMessages"], e.response
    entries = west.list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in entries] == ["tandem-overview"], entries
    assert entries[0]["Size"] == len(body) and isinstance(entries[0]["LastModified"], datetime.datetime), entries
    # DashboardNotFoundError and ResourceNotFound share the code ResourceNotFound;
    # botocore's error factory raises the latter class for both.
    assert error(east.get_dashboard, DashboardName="missing") == ("ResourceNotFound", 404)
    east.delete_dashboards(DashboardNames=["tandem-overview"])
    assert east.list_dashboards()["DashboardEntries"] == []

    print("boto3 wire:", sorted(wires))
    assert wires == {expected_wire}, wires


def reset():
    urllib.request.urlopen(urllib.request.Request(URL + "/_tandem/reset", data=b"{}", method="POST")).read()


def main():
    # botocore 1.44 prefers json over smithy-rpc-v2-cbor.
    scenario("application/x-amz-json-1.0")
    reset()
    botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "query")
    scenario("application/cbor")
    print("test_sim_cloudwatch: ok")


if __name__ == "__main__":
    main()
