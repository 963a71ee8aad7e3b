"""Recreate what a Terraform state records in a fresh sandbox, with boto3
and the google-cloud-compute client (independent clients), from the state's
own values: the cloud a migration adopts. The sandbox picks its own ids
(vpc-..., instance UUIDs, tunnel outside IPs, self-link hosts), so the
script prints the old -> new value of each, and the test rewrites a copy of
the state with them: the state Terraform would have written against this
sandbox. Only the resource types of tests/fixtures/migrate are known.

    python recreate_from_tfstate.py SANDBOX_URL STATE ZIP  > substitutions.json
"""
import json
import sys
import time

import boto3
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

URL, STATE, ZIP = sys.argv[1:4]
state = json.load(open(STATE))
new = {}  # old value -> new value


def sub(v):
    """A value of the old state as it is in the new cloud."""
    if isinstance(v, str):
        for old in sorted(new, key=len, reverse=True):
            v = v.replace(old, new[old])
        return v
    if isinstance(v, list):
        return [sub(x) for x in v]
    if isinstance(v, dict):
        return {k: sub(x) for k, x in v.items()}
    return v


def remember(old, now):
    if old and now and old != now:
        new[old] = now


def aws(service, region):
    return boto3.client(service, region_name=region, endpoint_url=URL, aws_access_key_id="testing", aws_secret_access_key="testing")


def gcp(cls):
    return cls(credentials=AnonymousCredentials(), client_options={"api_endpoint": URL}, transport="rest")


def done(op, project, region=None):
    if region:
        gcp(compute_v1.RegionOperationsClient).wait(project=project, region=region, operation=op.name)
    else:
        gcp(compute_v1.GlobalOperationsClient).wait(project=project, operation=op.name)


def wait(check, what):
    for _ in range(300):
        if check():
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not settle")


by_type = {}
for r in state["resources"]:
    if r["mode"] != "managed":
        continue
    region = "us-west-2" if r["provider"].endswith(".secondary") else "us-east-1"
    for i in r["instances"]:
        by_type.setdefault(r["type"], []).append((region, i["attributes"], r))


def each(t):
    return by_type.get(t, [])


def tags(a):
    return [{"Key": k, "Value": v} for k, v in (a.get("tags_all") or a.get("tags") or {}).items()]


# ---- GCP first: the AWS customer gateways take the HA VPN interface IPs ----
GOOGLE = "https://www.googleapis.com/compute/v1/"
remember(GOOGLE, URL + "/compute/v1/")
for _, a, _ in each("google_compute_network"):
    done(gcp(compute_v1.NetworksClient).insert_unary(project=a["project"], network_resource=compute_v1.Network(name=a["name"], auto_create_subnetworks=False, routing_config=compute_v1.NetworkRoutingConfig(routing_mode=a["routing_mode"]), mtu=a["mtu"])), a["project"])
    remember(a["numeric_id"], str(gcp(compute_v1.NetworksClient).get(project=a["project"], network=a["name"]).id))
for _, a, _ in each("google_compute_subnetwork"):
    done(gcp(compute_v1.SubnetworksClient).insert_unary(project=a["project"], region=a["region"], subnetwork_resource=compute_v1.Subnetwork(name=a["name"], network=sub(a["network"]), ip_cidr_range=a["ip_cidr_range"], private_ip_google_access=a["private_ip_google_access"])), a["project"], a["region"])
for _, a, _ in each("google_compute_firewall"):
    allowed = [compute_v1.Allowed(I_p_protocol=x["protocol"], ports=x["ports"]) for x in a["allow"]]
    done(gcp(compute_v1.FirewallsClient).insert_unary(project=a["project"], firewall_resource=compute_v1.Firewall(name=a["name"], network=sub(a["network"]), description=a["description"], direction=a["direction"], priority=a["priority"], allowed=allowed, source_ranges=a["source_ranges"])), a["project"])
for _, a, _ in each("google_compute_router"):
    bgp = a["bgp"][0]
    done(gcp(compute_v1.RoutersClient).insert_unary(project=a["project"], region=a["region"], router_resource=compute_v1.Router(name=a["name"], network=sub(a["network"]), bgp=compute_v1.RouterBgp(asn=bgp["asn"]))), a["project"], a["region"])
for _, a, _ in each("google_compute_ha_vpn_gateway"):
    c = gcp(compute_v1.VpnGatewaysClient)
    done(c.insert_unary(project=a["project"], region=a["region"], vpn_gateway_resource=compute_v1.VpnGateway(name=a["name"], network=sub(a["network"]))), a["project"], a["region"])
    now = {i.id: i.ip_address for i in c.get(project=a["project"], region=a["region"], vpn_gateway=a["name"]).vpn_interfaces}
    for i in a["vpn_interfaces"]:
        remember(i["ip_address"], now[i["id"]])

# ---- AWS ----
for region, a, _ in each("aws_vpc"):
    ec2 = aws("ec2", region)
    v = ec2.create_vpc(CidrBlock=a["cidr_block"], TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(a)}])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=v, EnableDnsHostnames={"Value": a["enable_dns_hostnames"]})
    remember(a["id"], v)
    rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [v]}, {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
    remember(a["main_route_table_id"], rtb)
    remember(a["default_route_table_id"], rtb)
for region, a, _ in each("aws_subnet"):
    s = aws("ec2", region).create_subnet(VpcId=sub(a["vpc_id"]), CidrBlock=a["cidr_block"], AvailabilityZone=a["availability_zone"], TagSpecifications=[{"ResourceType": "subnet", "Tags": tags(a)}])["Subnet"]
    remember(a["id"], s["SubnetId"])
for region, a, _ in each("aws_kinesis_stream"):
    k = aws("kinesis", region)
    k.create_stream(StreamName=a["name"], ShardCount=a["shard_count"])
    wait(lambda: k.describe_stream_summary(StreamName=a["name"])["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", a["name"])
    k.add_tags_to_stream(StreamName=a["name"], Tags=a["tags_all"])
for region, a, _ in each("aws_dynamodb_table"):
    d = aws("dynamodb", region)
    d.create_table(TableName=a["name"], AttributeDefinitions=[{"AttributeName": x["name"], "AttributeType": x["type"]} for x in a["attribute"]], KeySchema=[{"AttributeName": a["hash_key"], "KeyType": "HASH"}], BillingMode=a["billing_mode"],
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": a["stream_view_type"]}, Tags=tags(a))
    wait(lambda: d.describe_table(TableName=a["name"])["Table"]["TableStatus"] == "ACTIVE", a["name"])
    for r in a["replica"]:
        d.update_table(TableName=a["name"], ReplicaUpdates=[{"Create": {"RegionName": r["region_name"]}}])
        wait(lambda: all(x.get("ReplicaStatus") == "ACTIVE" for x in d.describe_table(TableName=a["name"])["Table"].get("Replicas", [])), "the table replica")
    remember(a["stream_arn"], d.describe_table(TableName=a["name"])["Table"]["LatestStreamArn"])

for region, a, _ in each("aws_connect_instance"):
    c = aws("connect", region)
    i = c.create_instance(IdentityManagementType=a["identity_management_type"], InstanceAlias=a["instance_alias"], InboundCallsEnabled=a["inbound_calls_enabled"], OutboundCallsEnabled=a["outbound_calls_enabled"])["Id"]
    wait(lambda: c.describe_instance(InstanceId=i)["Instance"]["InstanceStatus"] == "ACTIVE", "instance")
    c.update_instance_attribute(InstanceId=i, AttributeType="CONTACTFLOW_LOGS", Value=str(a["contact_flow_logs_enabled"]).lower())
    remember(a["id"], i)
    # The default security profiles of the new instance.
    profiles = {p["Name"]: p["Id"] for p in c.list_security_profiles(InstanceId=i)["SecurityProfileSummaryList"]}
for r in state["resources"]:
    if r["type"] == "aws_connect_security_profile":
        for inst in r["instances"]:
            remember(inst["attributes"]["security_profile_id"], profiles[inst["attributes"]["name"]])
for region, a, _ in each("aws_connect_instance_storage_config"):
    k = a["storage_config"][0]["kinesis_stream_config"][0]["stream_arn"]
    aws("connect", region).associate_instance_storage_config(InstanceId=sub(a["instance_id"]), ResourceType=a["resource_type"], StorageConfig={"StorageType": "KINESIS_STREAM", "KinesisStreamConfig": {"StreamArn": k}})
for region, a, r in each("terraform_data"):
    if r["name"] == "replica":
        # What the seed's local-exec ran: `aws connect replicate-instance`.
        inst = each("aws_connect_instance")[0]
        c = aws("connect", inst[0])
        c.replicate_instance(InstanceId=sub(inst[1]["id"]), ReplicaRegion="us-west-2", ReplicaAlias="contact-center-secondary")
        wait(lambda: c.describe_instance(InstanceId=sub(inst[1]["id"])).get("ReplicationConfiguration", {}).get("ReplicationStatusSummaryList", [{}])[0].get("ReplicationStatus") == "INSTANCE_REPLICATION_COMPLETE", "the Connect replica")


def connect_object(t, create, id_key, arn_key):
    for region, a, _ in each(t):
        out = create(aws("connect", region), a)
        remember(a[id_key], out[1])
        remember(a["arn"], out[0])


connect_object("aws_connect_hours_of_operation", lambda c, a: (lambda o: (o["HoursOfOperationArn"], o["HoursOfOperationId"]))(c.create_hours_of_operation(
    InstanceId=sub(a["instance_id"]), Name=a["name"], Description=a["description"], TimeZone=a["time_zone"],
    Config=[{"Day": x["day"], "StartTime": {"Hours": x["start_time"][0]["hours"], "Minutes": x["start_time"][0]["minutes"]}, "EndTime": {"Hours": x["end_time"][0]["hours"], "Minutes": x["end_time"][0]["minutes"]}} for x in a["config"]])), "hours_of_operation_id", "arn")
connect_object("aws_connect_queue", lambda c, a: (lambda o: (o["QueueArn"], o["QueueId"]))(c.create_queue(InstanceId=sub(a["instance_id"]), Name=a["name"], Description=a["description"], HoursOfOperationId=sub(a["hours_of_operation_id"]))), "queue_id", "arn")
connect_object("aws_connect_contact_flow", lambda c, a: (lambda o: (o["ContactFlowArn"], o["ContactFlowId"]))(c.create_contact_flow(InstanceId=sub(a["instance_id"]), Name=a["name"], Description=a["description"], Type=a["type"], Content=sub(a["content"]))), "contact_flow_id", "arn")
connect_object("aws_connect_routing_profile", lambda c, a: (lambda o: (o["RoutingProfileArn"], o["RoutingProfileId"]))(c.create_routing_profile(
    InstanceId=sub(a["instance_id"]), Name=a["name"], Description=a["description"], DefaultOutboundQueueId=sub(a["default_outbound_queue_id"]),
    MediaConcurrencies=[{"Channel": x["channel"], "Concurrency": x["concurrency"]} for x in a["media_concurrencies"]],
    QueueConfigs=[{"QueueReference": {"QueueId": sub(x["queue_id"]), "Channel": x["channel"]}, "Priority": x["priority"], "Delay": x["delay"]} for x in a["queue_configs"]])), "routing_profile_id", "arn")
connect_object("aws_connect_user", lambda c, a: (lambda o: (o["UserArn"], o["UserId"]))(c.create_user(
    InstanceId=sub(a["instance_id"]), Username=a["name"], RoutingProfileId=sub(a["routing_profile_id"]), SecurityProfileIds=sub(a["security_profile_ids"]),
    IdentityInfo={"FirstName": a["identity_info"][0]["first_name"], "LastName": a["identity_info"][0]["last_name"]},
    PhoneConfig={"PhoneType": a["phone_config"][0]["phone_type"], "AfterContactWorkTimeLimit": a["phone_config"][0]["after_contact_work_time_limit"], "AutoAccept": a["phone_config"][0]["auto_accept"]})), "user_id", "arn")
for region, a, _ in each("aws_connect_phone_number"):
    c = aws("connect", region)
    n = c.claim_phone_number(TargetArn=sub(a["target_arn"]), PhoneNumber=a["phone_number"], Tags=a["tags_all"])
    remember(a["id"], n["PhoneNumberId"])
    remember(a["arn"], n["PhoneNumberArn"])

for region, a, _ in each("aws_vpn_gateway"):
    ec2 = aws("ec2", region)
    g = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=int(a["amazon_side_asn"]), TagSpecifications=[{"ResourceType": "vpn-gateway", "Tags": tags(a)}])["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=g, VpcId=sub(a["vpc_id"]))
    remember(a["id"], g)
for region, a, _ in each("aws_vpn_gateway_route_propagation"):
    aws("ec2", region).enable_vgw_route_propagation(RouteTableId=sub(a["route_table_id"]), GatewayId=sub(a["vpn_gateway_id"]))
    remember(a["id"], sub(a["vpn_gateway_id"]) + "_" + sub(a["route_table_id"]))
for region, a, _ in each("aws_customer_gateway"):
    g = aws("ec2", region).create_customer_gateway(BgpAsn=int(a["bgp_asn"]), PublicIp=sub(a["ip_address"]), Type=a["type"], TagSpecifications=[{"ResourceType": "customer-gateway", "Tags": tags(a)}])["CustomerGateway"]["CustomerGatewayId"]
    remember(a["id"], g)
for region, a, _ in each("aws_vpn_connection"):
    ec2 = aws("ec2", region)
    opts = {"StaticRoutesOnly": a["static_routes_only"], "TunnelOptions": [{"TunnelInsideCidr": a[f"tunnel{n}_inside_cidr"], "PreSharedKey": a[f"tunnel{n}_preshared_key"]} for n in (1, 2)]}
    v = ec2.create_vpn_connection(Type=a["type"], CustomerGatewayId=sub(a["customer_gateway_id"]), VpnGatewayId=sub(a["vpn_gateway_id"]), Options=opts, TagSpecifications=[{"ResourceType": "vpn-connection", "Tags": tags(a)}])["VpnConnection"]["VpnConnectionId"]
    remember(a["id"], v)
    wait(lambda: ec2.describe_vpn_connections(VpnConnectionIds=[v])["VpnConnections"][0]["State"] == "available", "vpn")
    now = {t["TunnelInsideCidr"]: t["OutsideIpAddress"] for t in ec2.describe_vpn_connections(VpnConnectionIds=[v])["VpnConnections"][0]["Options"]["TunnelOptions"]}
    for n in (1, 2):
        remember(a[f"tunnel{n}_address"], now[a[f"tunnel{n}_inside_cidr"]])
for region, a, _ in each("aws_dx_connection_confirmation"):
    aws("directconnect", region).confirm_connection(connectionId=a["connection_id"])
for region, a, _ in each("aws_dx_gateway"):
    g = aws("directconnect", region).create_direct_connect_gateway(directConnectGatewayName=a["name"], amazonSideAsn=int(a["amazon_side_asn"]))["directConnectGateway"]["directConnectGatewayId"]
    remember(a["id"], g)
for region, a, _ in each("aws_dx_gateway_association"):
    dx = aws("directconnect", region)
    assoc = dx.create_direct_connect_gateway_association(directConnectGatewayId=sub(a["dx_gateway_id"]), gatewayId=sub(a["associated_gateway_id"]))["directConnectGatewayAssociation"]["associationId"]
    remember(a["dx_gateway_association_id"], assoc)
for region, a, _ in each("aws_dx_private_virtual_interface"):
    dx = aws("directconnect", region)
    v = dx.create_private_virtual_interface(connectionId=a["connection_id"], newPrivateVirtualInterface={"virtualInterfaceName": a["name"], "vlan": a["vlan"], "asn": a["bgp_asn"], "amazonAddress": a["amazon_address"], "customerAddress": a["customer_address"], "addressFamily": a["address_family"], "directConnectGatewayId": sub(a["dx_gateway_id"]), "authKey": a["bgp_auth_key"]})["virtualInterfaceId"]
    remember(a["id"], v)

for _, a, _ in each("aws_iam_role"):
    r = aws("iam", "us-east-1").create_role(RoleName=a["name"], AssumeRolePolicyDocument=a["assume_role_policy"], Description=a["description"], Tags=tags(a))["Role"]
    remember(a["unique_id"], r["RoleId"])
for region, a, _ in each("aws_lambda_function"):
    env = sub(a["environment"][0]["variables"]) if a["environment"] else {}
    f = aws("lambda", region).create_function(FunctionName=a["function_name"], Role=a["role"], Runtime=a["runtime"], Handler=a["handler"], Code={"ZipFile": open(ZIP, "rb").read()}, MemorySize=a["memory_size"], Timeout=a["timeout"], Environment={"Variables": env}, Tags=a["tags_all"])
    assert f["CodeSha256"] == a["code_sha256"], "the fixture's zip is not the one Terraform deployed"
for region, a, _ in each("aws_cloudwatch_event_rule"):
    aws("events", region).put_rule(Name=a["name"], ScheduleExpression=a["schedule_expression"], Description=a["description"], State=a["state"])
for region, a, _ in each("aws_cloudwatch_event_target"):
    aws("events", region).put_targets(Rule=a["rule"], Targets=[{"Id": a["target_id"], "Arn": a["arn"]}])
for region, a, _ in each("aws_lambda_permission"):
    aws("lambda", region).add_permission(FunctionName=a["function_name"], StatementId=a["statement_id"], Action=a["action"], Principal=a["principal"], SourceArn=a["source_arn"])
for region, a, _ in each("aws_cloudwatch_metric_alarm"):
    aws("cloudwatch", region).put_metric_alarm(AlarmName=a["alarm_name"], Namespace=a["namespace"], MetricName=a["metric_name"], Dimensions=[{"Name": k, "Value": sub(v)} for k, v in a["dimensions"].items()], Statistic=a["statistic"], Period=a["period"],
                                               EvaluationPeriods=a["evaluation_periods"], Threshold=a["threshold"], ComparisonOperator=a["comparison_operator"], TreatMissingData=a["treat_missing_data"], ActionsEnabled=a["actions_enabled"])
for region, a, _ in each("aws_cloudwatch_dashboard"):
    aws("cloudwatch", region).put_dashboard(DashboardName=a["dashboard_name"], DashboardBody=sub(a["dashboard_body"]))

# ---- GCP, the half that needs the AWS tunnels ----
for _, a, _ in each("google_compute_external_vpn_gateway"):
    ifaces = [compute_v1.ExternalVpnGatewayInterface(id=i["id"], ip_address=sub(i["ip_address"])) for i in a["interface"]]
    done(gcp(compute_v1.ExternalVpnGatewaysClient).insert_unary(project=a["project"], external_vpn_gateway_resource=compute_v1.ExternalVpnGateway(name=a["name"], redundancy_type=a["redundancy_type"], interfaces=ifaces)), a["project"])
for _, a, _ in each("google_compute_vpn_tunnel"):
    t = compute_v1.VpnTunnel(name=a["name"], vpn_gateway=sub(a["vpn_gateway"]), vpn_gateway_interface=a["vpn_gateway_interface"], peer_external_gateway=sub(a["peer_external_gateway"]), peer_external_gateway_interface=a["peer_external_gateway_interface"], router=sub(a["router"]), shared_secret=a["shared_secret"], ike_version=a["ike_version"])
    done(gcp(compute_v1.VpnTunnelsClient).insert_unary(project=a["project"], region=a["region"], vpn_tunnel_resource=t), a["project"], a["region"])
routers = gcp(compute_v1.RoutersClient)
for _, a, _ in each("google_compute_router_peer"):
    iface = next(x for _, x, _ in each("google_compute_router_interface") if x["name"] == a["interface"] and x["router"] == a["router"])
    r = routers.get(project=a["project"], region=a["region"], router=a["router"])
    r.interfaces.append(compute_v1.RouterInterface(name=iface["name"], ip_range=iface["ip_range"], linked_vpn_tunnel=sub(iface["vpn_tunnel"])))
    r.bgp_peers.append(compute_v1.RouterBgpPeer(name=a["name"], interface_name=a["interface"], ip_address=a["ip_address"], peer_ip_address=a["peer_ip_address"], peer_asn=a["peer_asn"], advertised_route_priority=a["advertised_route_priority"]))
    done(routers.update_unary(project=a["project"], region=a["region"], router=a["router"], router_resource=r), a["project"], a["region"])
for _, a, _ in each("google_compute_interconnect_attachment"):
    c = gcp(compute_v1.InterconnectAttachmentsClient)
    done(c.insert_unary(project=a["project"], region=a["region"], interconnect_attachment_resource=compute_v1.InterconnectAttachment(name=a["name"], type_="PARTNER", router=sub(a["router"]), edge_availability_domain=a["edge_availability_domain"], admin_enabled=a["admin_enabled"], mtu=int(a["mtu"]))), a["project"], a["region"])
    remember(a["pairing_key"], c.get(project=a["project"], region=a["region"], interconnect_attachment=a["name"]).pairing_key)

print(json.dumps(new))
