"""boto3 (an independent client) runs functions in a tandem sandbox (with moto
upstream): custom-runtime functions whose `bootstrap` talks the Lambda Runtime
API, EventBridge schedules that invoke them, and Kinesis event source
mappings that feed them. Run as a plain script:

    TANDEM_SANDBOX_URL=http://127.0.0.1:PORT .venv/bin/python tests/python/test_sim_lambda.py

The bootstraps are small Python programs (the interpreter running this test),
written the way any custom runtime is: GET .../invocation/next, POST
.../response or .../error (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
"""

import base64
import io
import json
import os
import sys
import time
import urllib.request
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["TANDEM_SANDBOX_URL"]
REGION = "us-east-1"

RUNTIME = """#!{python}
import json, os, sys, time, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
def post(path, body):
    req = urllib.request.Request(API + path, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req).read()
MODE = os.environ.get("MODE", "echo")
print("init", os.environ["AWS_LAMBDA_FUNCTION_NAME"], flush=True)
if MODE == "init-error":
    post("/init/error", {{"errorType": "Runtime.ConfigError", "errorMessage": "no config"}})
    sys.exit(1)
seen = []
while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        deadline = int(r.headers["Lambda-Runtime-Deadline-Ms"])
        arn = r.headers["Lambda-Runtime-Invoked-Function-Arn"]
        event = json.loads(r.read() or b"null")
    print("handling", rid, flush=True)
    if MODE == "echo":
        post("/invocation/" + rid + "/response", {{"event": event, "arn": arn, "deadline_in_future": deadline > time.time() * 1000,
            "foo": os.environ.get("FOO"), "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")}})
    elif MODE == "fail":
        post("/invocation/" + rid + "/error", {{"errorType": "ValueError", "errorMessage": "bad input"}})
    elif MODE == "slow":
        time.sleep(float(event.get("sleep", 5)))
        post("/invocation/" + rid + "/response", {{"slept": True}})
    elif MODE == "exit":
        sys.exit(3)
    elif MODE == "kinesis":
        # Records in order; a record whose data is "bad" fails its batch the first two times.
        import base64 as b64
        datas = [b64.b64decode(x["kinesis"]["data"]).decode() for x in event["Records"]]
        path = os.path.join("/tmp", "tandem-lambda-test-" + os.environ["AWS_LAMBDA_FUNCTION_NAME"])
        tries = int(open(path + ".tries").read()) if os.path.exists(path + ".tries") else 0
        if "bad" in datas and tries < 2:
            open(path + ".tries", "w").write(str(tries + 1))
            post("/invocation/" + rid + "/error", {{"errorType": "Retry", "errorMessage": "not yet"}})
            continue
        with open(path, "a") as f:
            for d in datas:
                f.write(d + "\\n")
        post("/invocation/" + rid + "/response", {{"batchItemFailures": []}})
    elif MODE == "schedule":
        path = os.path.join("/tmp", "tandem-lambda-test-" + os.environ["AWS_LAMBDA_FUNCTION_NAME"])
        with open(path, "a") as f:
            f.write(json.dumps(event) + "\\n")
        post("/invocation/" + rid + "/response", {{}})
"""


def package():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, RUNTIME.format(python=sys.executable))
    return buf.getvalue()


def client(service):
    return boto3.client(service, region_name=REGION, endpoint_url=URL, aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}, read_timeout=60))


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{URL}/_tandem/{path}", data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def wait_for(check, what, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        v = check()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def main():
    admin("POST", "reset")
    lam, iam, events, kinesis = client("lambda"), client("iam"), client("events"), client("kinesis")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    zipped = package()

    def make(name, mode, timeout=10, runtime="provided.al2023"):
        lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="bootstrap", Code={"ZipFile": zipped},
                            Timeout=timeout, MemorySize=256, Environment={"Variables": {"MODE": mode, "FOO": "bar"}})

    # A response, with the documented environment and the sandbox's endpoint.
    make("echo", "echo")
    r = lam.invoke(FunctionName="echo", Payload=json.dumps({"hello": "world"}), LogType="Tail")
    assert r["StatusCode"] == 200 and "FunctionError" not in r, r
    body = json.loads(r["Payload"].read())
    assert body["event"] == {"hello": "world"} and body["foo"] == "bar" and body["memory"] == "256", body
    assert body["endpoint"] == URL.rstrip("/"), body
    assert body["arn"].endswith(":function:echo") and body["deadline_in_future"], body
    log = base64.b64decode(r["LogResult"]).decode()
    assert "handling" in log, log
    # Warm: the second invocation reuses the environment (no second init line).
    lam.invoke(FunctionName="echo", Payload=b"{}")
    inits = [x for x in admin("GET", "lambda/invocations?function=echo")["invocations"] if "init echo" in x["logs"]]
    assert len(inits) <= 1, inits
    # DryRun and Event.
    assert lam.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"async": 1}')["StatusCode"] == 202
    wait_for(lambda: [x for x in admin("GET", "lambda/invocations?function=echo")["invocations"] if x["source"] == "event" and x["status"] == "ok"], "the Event invocation")

    # The function's error, Unhandled.
    make("fails", "fail")
    r = lam.invoke(FunctionName="fails", Payload=b"{}")
    assert r["FunctionError"] == "Unhandled", r
    assert json.loads(r["Payload"].read())["errorType"] == "ValueError"

    # A timeout stops the environment; the next invocation gets a fresh one.
    make("slow", "slow", timeout=1)
    r = lam.invoke(FunctionName="slow", Payload=json.dumps({"sleep": 5}))
    err = json.loads(r["Payload"].read())
    assert r["FunctionError"] == "Unhandled" and err["errorType"] == "Sandbox.Timedout" and "Task timed out after 1.00 seconds" in err["errorMessage"], err
    r = lam.invoke(FunctionName="slow", Payload=json.dumps({"sleep": 0}))
    assert json.loads(r["Payload"].read()) == {"slept": True}

    # A runtime that fails to initialize, and one that exits mid-invocation.
    make("noinit", "init-error")
    r = lam.invoke(FunctionName="noinit", Payload=b"{}")
    assert r["FunctionError"] == "Unhandled" and json.loads(r["Payload"].read())["errorType"] == "Runtime.ConfigError", r
    make("crashes", "exit")
    r = lam.invoke(FunctionName="crashes", Payload=b"{}")
    assert json.loads(r["Payload"].read())["errorType"] == "Runtime.ExitError", r

    # Other runtimes are stored, not run, and Invoke says so.
    make("py", "echo", runtime="python3.12")
    try:
        lam.invoke(FunctionName="py", Payload=b"{}")
        raise AssertionError("a python3.12 function ran")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidRuntimeException", e.response
    try:
        lam.invoke(FunctionName="missing", Payload=b"{}")
        raise AssertionError("a missing function ran")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response

    # Schedules: a one-minute rule, the clock 60 times as fast.
    for f in ("/tmp/tandem-lambda-test-ticker", "/tmp/tandem-lambda-test-rec", "/tmp/tandem-lambda-test-rec.tries"):
        if os.path.exists(f):
            os.remove(f)
    make("ticker", "schedule")
    admin("PUT", "schedules", {"time_scale": 60})
    rule = events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)", State="ENABLED")["RuleArn"]
    fn_arn = lam.get_function(FunctionName="ticker")["Configuration"]["FunctionArn"]
    events.put_targets(Rule="tick", Targets=[{"Id": "t", "Arn": fn_arn}])
    # Without a permission for events.amazonaws.com, EventBridge cannot invoke it.
    wait_for(lambda: [r for r in admin("GET", "schedules")["rules"] if r["name"] == "tick" and r["failed"] > 0], "a failed invocation")
    assert not os.path.exists("/tmp/tandem-lambda-test-ticker")
    lam.add_permission(FunctionName="ticker", StatementId="events", Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule)
    ticks = wait_for(lambda: os.path.exists("/tmp/tandem-lambda-test-ticker") and open("/tmp/tandem-lambda-test-ticker").read().splitlines(), "a scheduled invocation")
    event = json.loads(ticks[0])
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events" and event["resources"] == [rule], event
    events.disable_rule(Name="tick")
    time.sleep(0.3)
    n = len(open("/tmp/tandem-lambda-test-ticker").read().splitlines())
    time.sleep(2.5)
    assert len(open("/tmp/tandem-lambda-test-ticker").read().splitlines()) <= n + 1, "a disabled rule stops"
    admin("PUT", "schedules", {"time_scale": 1})

    # Kinesis: records in order per shard, a failing batch retried until it passes.
    kinesis.create_stream(StreamName="events", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamARN"]
    make("rec", "kinesis")
    m = lam.create_event_source_mapping(FunctionName="rec", EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=2)
    assert m["State"] == "Creating" and m["BatchSize"] == 2, m
    try:
        lam.create_event_source_mapping(FunctionName="rec", EventSourceArn=stream, StartingPosition="TRIM_HORIZON")
        raise AssertionError("a second mapping of the same pair was made")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceConflictException", e.response
    try:
        lam.create_event_source_mapping(FunctionName="rec", EventSourceArn=stream)
        raise AssertionError("a Kinesis mapping without StartingPosition was made")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidParameterValueException", e.response
    sent = ["a1", "a2", "bad", "a4", "a5"]
    for d in sent:
        kinesis.put_record(StreamName="events", Data=d.encode(), PartitionKey="agent-1")
    got = wait_for(lambda: os.path.exists("/tmp/tandem-lambda-test-rec") and len(open("/tmp/tandem-lambda-test-rec").read().splitlines()) >= 5
                   and open("/tmp/tandem-lambda-test-rec").read().splitlines(), "the records")
    assert got == sent, got
    assert lam.get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled"
    view = [x for x in admin("GET", "lambda/event-source-mappings")["mappings"] if x["UUID"] == m["UUID"]][0]
    assert view["Delivered"] == 5 and view["FailedInvocations"] == 2 and view["LastProcessingResult"] == "OK", view
    lam.delete_event_source_mapping(UUID=m["UUID"])
    assert lam.list_event_source_mappings(FunctionName="rec")["EventSourceMappings"] == []
    print("test_sim_lambda: ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"test_sim_lambda: FAILED: {e}", file=sys.stderr)
        raise
