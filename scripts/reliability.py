"""The crash test and the soak (docs/reliability.md): the real `tandem`
binary against `tandem sandbox --moto`, judged by listing the sandbox with
boto3, an independent client, never by what tandem says about itself.

  scripts/crash-test [--runs N] [--delay-ms MS] [--seed S]
  scripts/soak [--cycles N] [--throttle P] [--server-error P] [--reset P] [--outage-every N]

Run through those wrappers (they build tandem and the virtualenv first).
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

REGIONS = ("us-east-1", "us-west-2")
KINDS = ("aws.ec2.vpc", "aws.ec2.subnet", "aws.ec2.customer_gateway", "aws.kinesis.stream", "aws.dynamodb.table")


def spec_text(name):
    """~40 resources of the kinds moto serves, in two regions: 8 VPCs, 16
    subnets, 4 customer gateways, 6 Kinesis streams, 6 DynamoDB tables."""
    lines = ["version: 1", f"name: {name}", "resources:"]
    n = 0
    for ri, region in enumerate(REGIONS):
        for v in range(4):
            net = ri * 4 + v
            vpc = f"vpc_{region[3:7]}_{v}"
            lines += [f"  {vpc}:", "    type: aws.ec2.vpc", f"    region: {region}", "    properties:",
                      f"      cidr_block: 10.{net}.0.0/16", f"      tags: {{ Name: {name}-{vpc} }}"]
            n += 1
            for s in range(2):
                lines += [f"  {vpc}_subnet_{s}:", "    type: aws.ec2.subnet", f"    region: {region}", "    properties:",
                          f"      vpc_id: ${{{vpc}.id}}", f"      cidr_block: 10.{net}.{s}.0/24"]
                n += 1
        for g in range(2):
            lines += [f"  cgw_{region[3:7]}_{g}:", "    type: aws.ec2.customer_gateway", f"    region: {region}", "    properties:",
                      f"      bgp_asn: {65000 + ri * 10 + g}", f"      ip_address: 203.0.113.{ri * 10 + g + 1}"]
            n += 1
        for k in range(3):
            lines += [f"  stream_{region[3:7]}_{k}:", "    type: aws.kinesis.stream", f"    region: {region}", "    properties:",
                      f"      stream_name: {name}-{region}-{k}", "      shard_count: 1"]
            n += 1
        for t in range(3):
            lines += [f"  table_{region[3:7]}_{t}:", "    type: aws.dynamodb.table", f"    region: {region}", "    properties:",
                      f"      table_name: {name}-{region}-{t}",
                      "      attribute_definitions: [{ attribute_name: pk, attribute_type: S }]",
                      "      key_schema: [{ attribute_name: pk, key_type: HASH }]",
                      "      billing_mode: PAY_PER_REQUEST"]
            n += 1
    return "\n".join(lines) + "\n", n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sandbox:
    """`tandem sandbox --moto` on a free port: one per run, so a run's cloud
    holds only what that run made (plus moto's default VPCs, left out)."""

    def __init__(self, tandem, venv):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([tandem, "sandbox", "--moto", "--port", str(self.port), "--venv", venv],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                self.admin("GET", "health")
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit(f"the sandbox did not answer on {self.url}")
        cfg = Config(retries={"max_attempts": 10, "mode": "standard"})
        self.clients = {(svc, r): boto3.client(svc, region_name=r, endpoint_url=self.url, aws_access_key_id="testing",
                                                aws_secret_access_key="testing", config=cfg)
                        for svc in ("ec2", "kinesis", "dynamodb") for r in REGIONS}

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_tandem/{path}", data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
        return json.loads(text) if text else None

    def stop(self):
        # SIGINT: the sandbox stops its moto child on the way out.
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def listing(self):
        """Every object of the spec's kinds in the sandbox: {(kind, region, id): label}."""
        found = {}
        for r in REGIONS:
            ec2 = self.clients[("ec2", r)]
            for v in ec2.describe_vpcs()["Vpcs"]:
                if not v.get("IsDefault"):
                    found[("aws.ec2.vpc", r, v["VpcId"])] = tag(v, "tandem:address")
            for s in ec2.describe_subnets()["Subnets"]:
                if not s.get("DefaultForAz"):
                    found[("aws.ec2.subnet", r, s["SubnetId"])] = tag(s, "tandem:address")
            for g in ec2.describe_customer_gateways()["CustomerGateways"]:
                if g.get("State") not in ("deleted", "deleting"):
                    found[("aws.ec2.customer_gateway", r, g["CustomerGatewayId"])] = tag(g, "tandem:address")
            for name in self.clients[("kinesis", r)].list_streams()["StreamNames"]:
                found[("aws.kinesis.stream", r, name)] = name
            for name in self.clients[("dynamodb", r)].list_tables()["TableNames"]:
                found[("aws.dynamodb.table", r, name)] = name
        return found


def tag(obj, key):
    return next((t["Value"] for t in obj.get("Tags", []) if t["Key"] == key), None)


def short_id(i):
    # Streams and tables may be recorded by ARN: the cloud lists names.
    return i.rsplit("/", 1)[-1] if isinstance(i, str) else i


def recorded(state_path):
    """{(kind, region, id)} in the state file, or None when it cannot be read."""
    if not os.path.exists(state_path):
        return set()
    try:
        with open(state_path) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return None
    out = set()
    for addr, r in st.get("resources", {}).items():
        if r.get("type") in KINDS and r.get("id"):
            out.add((r["type"], r.get("region"), short_id(r["id"])))
    return out


def journaled(state_path):
    """{(kind, region, id)} the state's journal (`pending`) holds: creates
    answered by the cloud whose run died before recording the result."""
    try:
        with open(state_path) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return set()
    return {(p["type"], p.get("region"), short_id(p["id"])) for p in st.get("pending", {}).values() if p.get("type") in KINDS and p.get("id")}


def duplicates(listing):
    """Objects beyond one per spec resource: EC2 objects carry their address
    tag from birth; streams and tables are unique by name in a region."""
    per_label = {}
    for (kind, region, _), label in listing.items():
        per_label.setdefault((kind, region, label), 0)
        per_label[(kind, region, label)] += 1
    return sum(c - 1 for (_, _, label), c in per_label.items() if label is not None and c > 1)


def tandem_env(sb):
    env = dict(os.environ)
    env.update(AWS_ENDPOINT_URL=sb.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true", TANDEM_GCP_ENDPOINT=sb.url, TANDEM_HEARTBEAT="0")
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    return env


def run(tandem, args, sb, log, timeout=600):
    t0 = time.monotonic()
    p = subprocess.run([tandem] + args, env=tandem_env(sb), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    log.write(f"$ tandem {' '.join(args)}\n{out}[exit {p.returncode}, {time.monotonic() - t0:.1f}s]\n")
    log.flush()
    return p.returncode, out


def crash(a):
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="tandem-crash-")
    log = open(os.path.join(work, "log.txt"), "w")
    print(f"crash test: {a.runs} runs, seed {a.seed}, sandbox delay {a.delay_ms} ms per call; log in {log.name}")
    spec, n = spec_text("crash")
    spec_path = os.path.join(work, "crash.yaml")
    with open(spec_path, "w") as f:
        f.write(spec)

    def fresh():
        sb = Sandbox(a.tandem, a.venv)
        # A slow API spreads the apply out, so a kill lands between a create
        # being answered and its id being recorded as often as anywhere else.
        sb.admin("PUT", "delays", {"delays": [{"delay_ms": a.delay_ms}]})
        return sb

    # How long an uninterrupted apply takes: the kill moments are drawn from it.
    sb = fresh()
    state = os.path.join(work, "baseline.json")
    t0 = time.monotonic()
    code, out = run(a.tandem, ["apply", "--spec", spec_path, "--state", state, "--auto-approve"], sb, log)
    full = time.monotonic() - t0
    base = sb.listing()
    sb.stop()
    if code != 0 or len(base) != n:
        print(f"the uninterrupted apply failed (exit {code}, {len(base)} of {n} objects); see {log.name}")
        return 1
    print(f"uninterrupted apply of {n} resources: {full:.1f}s, {len(base)} objects listed")

    totals = dict(runs=0, killed=0, finished_before_kill=0, converged=0, duplicates=0, orphans=0, unrecorded_after_kill=0,
                  in_journal=0, adopted=0, unreadable_state=0, leaked_after_destroy=0)
    for i in range(a.runs):
        sb = fresh()
        state = os.path.join(work, f"run{i}.json")
        try:
            # A draw late in the window may land after the apply ended: counted apart (finished_before_kill).
            at = rng.uniform(0.05, full)
            p = subprocess.Popen([a.tandem, "apply", "--spec", spec_path, "--state", state, "--auto-approve"], env=tandem_env(sb),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(at)
            killed = p.poll() is None
            if killed:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
            after_kill = sb.listing()
            rec = recorded(state)
            if rec is None:
                totals["unreadable_state"] += 1
                rec = set()
            unrecorded = set(after_kill) - rec
            in_journal = len(unrecorded & journaled(state))
            code, _ = run(a.tandem, ["apply", "--spec", spec_path, "--state", state, "--auto-approve"], sb, log)
            plan_code, _ = run(a.tandem, ["plan", "--spec", spec_path, "--state", state, "--detailed-exitcode"], sb, log)
            after = sb.listing()
            rec2 = recorded(state) or set()
            orphans = sorted(set(after) - rec2)
            dups = max(duplicates(after), len(after) - n)
            adopted = len(unrecorded & rec2)
            converged = code == 0 and plan_code == 0 and len(after) == n and not orphans
            dcode, _ = run(a.tandem, ["destroy", "--spec", spec_path, "--state", state, "--auto-approve"], sb, log)
            leaked = sb.listing()
        finally:
            sb.stop()
        totals["runs"] += 1
        totals["killed" if killed else "finished_before_kill"] += 1
        totals["converged"] += converged
        totals["duplicates"] += dups
        totals["orphans"] += len(orphans)
        totals["unrecorded_after_kill"] += len(unrecorded)
        totals["adopted"] += adopted
        totals["in_journal"] += in_journal
        totals["leaked_after_destroy"] += len(leaked)
        line = (f"run {i + 1}: kill at {at:.2f}s{'' if killed else ' (apply had finished)'}: {len(after_kill)} objects, "
                f"{len(rec)} recorded, {len(unrecorded)} unrecorded ({in_journal} of them in the journal); re-apply exit {code}, plan exit {plan_code}; "
                f"{len(after)} objects for {n} resources, {dups} duplicates, {len(orphans)} orphans, {adopted} adopted; "
                f"destroy exit {dcode}, {len(leaked)} left")
        if unrecorded:
            kinds = {}
            for k in unrecorded:
                kinds[k[0]] = kinds.get(k[0], 0) + 1
            line += "\n  unrecorded after the kill: " + ", ".join(f"{c} {k}" for k, c in sorted(kinds.items()))
        print(line, flush=True)
        log.write(line + "\n")
        for o in orphans:
            print(f"  ORPHAN {o[0]} {o[1]} {o[2]} (label {after.get(o)}): in the cloud, not in the state", flush=True)
        for o in sorted(leaked):
            print(f"  LEFT AFTER DESTROY {o[0]} {o[1]} {o[2]}", flush=True)
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    bad = totals["duplicates"] or totals["orphans"] or totals["converged"] != totals["runs"] or totals["leaked_after_destroy"]
    return 1 if bad else 0


def soak(a):
    work = tempfile.mkdtemp(prefix="tandem-soak-")
    log = open(os.path.join(work, "log.txt"), "w")
    spec, n = spec_text("soak")
    spec_path = os.path.join(work, "soak.yaml")
    with open(spec_path, "w") as f:
        f.write(spec)
    faults = [f for f in (("throttle", a.throttle), ("server_error", a.server_error), ("reset", a.reset)) if f[1] > 0]
    print(f"soak: {a.cycles} cycles of apply / plan / destroy of {n} resources, faults on every call: "
          + ", ".join(f"{k} {p:.0%}" for k, p in faults) + f"; a us-west-2 outage every {a.outage_every} cycles; log in {log.name}")
    sb = Sandbox(a.tandem, a.venv)
    state = os.path.join(work, "state.json")
    t = dict(cycles=0, apply_first_try=0, apply_converged=0, apply_attempts=0, plan_clean=0, destroy_first_try=0,
             destroy_converged=0, leaked=0, orphans=0, outage_refused=0, outage_east_only_ok=0, outage_cycles=0, faults_fired=0)

    def faults_on():
        for kind, p in faults:
            sb.admin("POST", "faults", {"kind": kind, "probability": p})

    def faults_off():
        t["faults_fired"] += sum(r.get("fired", 0) for r in sb.admin("GET", "faults").get("rules", []))
        sb.admin("DELETE", "faults")

    def until_done(args, attempts):
        for k in range(1, attempts + 1):
            code, out = run(a.tandem, args, sb, log)
            if code == 0:
                return k, out
        return None, out

    try:
        for c in range(a.cycles):
            t["cycles"] += 1
            outage = a.outage_every > 0 and (c + 1) % a.outage_every == 0
            faults_on()
            note = ""
            if outage:
                t["outage_cycles"] += 1
                sb.admin("PUT", "outages", {"region": "us-west-2", "mode": "error"})
                code, out = run(a.tandem, ["apply", "--spec", spec_path, "--state", state, "--auto-approve"], sb, log)
                refused = code != 0 and "us-west-2" in out
                t["outage_refused"] += refused
                east = [f"--target={r}" for r in spec_addresses(spec) if "_east_" in r]
                k, _ = until_done(["apply", "--spec", spec_path, "--state", state, "--auto-approve"] + east, a.attempts)
                t["outage_east_only_ok"] += k is not None
                sb.admin("DELETE", "outages")
                note = f" [us-west-2 down: whole apply exit {code}{', names the region' if refused else ''}; us-east-1 only: {'ok' if k else 'FAILED'}]"
            k, _ = until_done(["apply", "--spec", spec_path, "--state", state, "--auto-approve"], a.attempts)
            t["apply_first_try"] += k == 1
            t["apply_converged"] += k is not None
            t["apply_attempts"] += k or a.attempts
            pk, _ = until_done(["plan", "--spec", spec_path, "--state", state, "--detailed-exitcode"], a.attempts)
            faults_off()
            listed = sb.listing()
            rec = recorded(state) or set()
            orphans = len(set(listed) - rec)
            t["orphans"] += orphans
            t["plan_clean"] += pk is not None
            faults_on()
            dk, _ = until_done(["destroy", "--spec", spec_path, "--state", state, "--auto-approve"], a.attempts)
            t["destroy_first_try"] += dk == 1
            t["destroy_converged"] += dk is not None
            faults_off()
            left = sb.listing()
            t["leaked"] += len(left)
            print(f"cycle {c + 1}:{note} apply {'ok after ' + str(k) if k else 'FAILED after ' + str(a.attempts)}, "
                  f"{len(listed)} objects for {n} resources, {orphans} orphans; plan {'clean' if pk else 'NOT clean'}; "
                  f"destroy {'ok after ' + str(dk) if dk else 'FAILED'}, {len(left)} left", flush=True)
            for o in sorted(left):
                print(f"  LEFT {o[0]} {o[1]} {o[2]}", flush=True)
        calls = sb.admin("GET", "calls")["calls"]
    finally:
        sb.stop()
    print("totals: " + ", ".join(f"{k} {v}" for k, v in t.items()) + f"; calls served {sum(c['count'] for c in calls)}")
    bad = t["apply_converged"] != t["cycles"] or t["destroy_converged"] != t["cycles"] or t["leaked"] or t["orphans"]
    return 1 if bad else 0


def spec_addresses(spec):
    return [line.strip().rstrip(":") for line in spec.splitlines() if line.startswith("  ") and not line.startswith("   ")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["crash", "soak"])
    p.add_argument("--tandem", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--seed", type=int, default=int(time.time()), help="crash: the kill moments")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--delay-ms", type=int, default=40)
    p.add_argument("--cycles", type=int, default=6)
    p.add_argument("--attempts", type=int, default=4, help="applies / destroys per step before it counts as failed")
    p.add_argument("--throttle", type=float, default=0.2)
    p.add_argument("--server-error", type=float, default=0.05)
    p.add_argument("--reset", type=float, default=0.02)
    p.add_argument("--outage-every", type=int, default=3)
    a = p.parse_args()
    sys.exit(crash(a) if a.mode == "crash" else soak(a))


if __name__ == "__main__":
    main()
