//! AWS networking, data, IAM, Lambda, EventBridge and CloudWatch types.

use super::*;
use std::net::Ipv4Addr;

pub fn vpc(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.ec2.vpc", id(a));
    m.set("cidr_block", sv(a, "cidr_block")).set("instance_tenancy", sv(a, "instance_tenancy"));
    m.set("enable_dns_support", b(a, "enable_dns_support")).set("enable_dns_hostnames", b(a, "enable_dns_hostnames")).set("tags", tags(a));
    m.out("id", sv(a, "id"))
        .out("arn", sv(a, "arn"))
        .out("cidr_block", sv(a, "cidr_block"))
        .out("owner_id", sv(a, "owner_id"))
        .out("main_route_table_id", sv(a, "main_route_table_id"));
    unmodelled(
        &mut m,
        a,
        &[
            ("assign_generated_ipv6_cidr_block", "an Amazon IPv6 block"),
            ("ipv4_ipam_pool_id", "IPAM"),
            ("enable_network_address_usage_metrics", "NAU metrics"),
        ],
    );
    Outcome::Kind(m)
}

pub fn subnet(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.ec2.subnet", id(a));
    m.set("vpc_id", sv(a, "vpc_id")).set("cidr_block", sv(a, "cidr_block")).set("availability_zone", sv(a, "availability_zone"));
    m.set("map_public_ip_on_launch", b(a, "map_public_ip_on_launch")).set("tags", tags(a));
    m.out("id", sv(a, "id")).out("arn", sv(a, "arn")).out("availability_zone", sv(a, "availability_zone")).out("vpc_id", sv(a, "vpc_id"));
    unmodelled(
        &mut m,
        a,
        &[("ipv6_cidr_block", "an IPv6 range"), ("assign_ipv6_address_on_creation", "IPv6 addresses"), ("enable_dns64", "DNS64")],
    );
    Outcome::Kind(m)
}

pub fn kinesis_stream(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let name = s(a, "name").unwrap_or_default();
    let mut m = Mapped::new("aws.kinesis.stream", name.clone());
    let mode = block(a, "stream_mode_details").and_then(|d| s(d, "stream_mode")).unwrap_or_else(|| "PROVISIONED".into());
    m.set("stream_name", Some(json!(name)));
    if mode != "ON_DEMAND" {
        m.set("shard_count", iv(a, "shard_count"));
    }
    m.set("stream_mode_details", Some(json!({ "stream_mode": mode })));
    m.set("retention_period_hours", iv(a, "retention_period"));
    let enc = s(a, "encryption_type").unwrap_or_else(|| "NONE".into());
    m.set("encryption_type", Some(json!(enc)));
    if enc == "KMS" {
        m.set("key_id", sv(a, "kms_key_id"));
    }
    m.set("tags", tags(a));
    m.out("arn", sv(a, "arn")).out("name", Some(json!(name)));
    unmodelled(&mut m, a, &[("shard_level_metrics", "enhanced shard-level metrics")]);
    Outcome::Kind(m)
}

pub fn dynamodb_table(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let name = s(a, "name").unwrap_or_default();
    let replicas: Vec<Value> =
        blocks(a, "replica").iter().filter_map(|r| s(r, "region_name")).map(|r| json!({ "region_name": r })).collect();
    let kind = if replicas.is_empty() { "aws.dynamodb.table" } else { "aws.dynamodb.global_table" };
    let mut m = Mapped::new(kind, name.clone());
    m.set("table_name", Some(json!(name)));
    // DescribeTable answers the definitions in the order they were made with,
    // which is the order the provider sent and kept in state.
    let defs: Vec<Value> =
        blocks(a, "attribute").iter().map(|d| json!({ "attribute_name": s(d, "name"), "attribute_type": s(d, "type") })).collect();
    m.set("attribute_definitions", Some(json!(defs)));
    let mut keys = vec![json!({ "attribute_name": s(a, "hash_key"), "key_type": "HASH" })];
    if let Some(r) = s(a, "range_key") {
        keys.push(json!({ "attribute_name": r, "key_type": "RANGE" }));
    }
    m.set("key_schema", Some(json!(keys)));
    let billing = s(a, "billing_mode").unwrap_or_else(|| "PROVISIONED".into());
    m.set("billing_mode", Some(json!(billing)));
    if billing == "PROVISIONED" {
        m.set("provisioned_throughput", Some(json!({ "read_capacity_units": int(a, "read_capacity").unwrap_or(0), "write_capacity_units": int(a, "write_capacity").unwrap_or(0) })));
    }
    if a.get("stream_enabled").and_then(Value::as_bool) == Some(true) {
        m.set("stream_specification", Some(json!({ "stream_enabled": true, "stream_view_type": s(a, "stream_view_type") })));
    } else {
        m.set("stream_specification", Some(json!({ "stream_enabled": false })));
    }
    if !replicas.is_empty() {
        m.set("replicas", Some(json!(replicas)));
    }
    m.set("tags", tags(a));
    m.out("arn", sv(a, "arn")).out("name", Some(json!(name))).out("stream_arn", sv(a, "stream_arn"));
    unmodelled(
        &mut m,
        a,
        &[
            ("global_secondary_index", "secondary indexes"),
            ("local_secondary_index", "secondary indexes"),
            ("deletion_protection_enabled", "deletion protection"),
        ],
    );
    if block(a, "ttl").is_some_and(|t| t.get("enabled") == Some(&json!(true))) {
        m.note("`ttl` (time to live) is not managed by tandem: it stays as it is in the cloud");
    }
    if block(a, "point_in_time_recovery").is_some_and(|t| t.get("enabled") == Some(&json!(true))) {
        m.note("`point_in_time_recovery` is not managed by tandem: it stays as it is in the cloud");
    }
    if blocks(a, "replica").iter().any(|r| r.get("point_in_time_recovery") == Some(&json!(true)) || s(r, "kms_key_arn").is_some()) {
        m.note("replica settings (point in time recovery, KMS keys) are not managed by tandem: they stay as they are");
    }
    Outcome::Kind(m)
}

pub fn vpn_gateway(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.ec2.vpn_gateway", id(a));
    m.set("amazon_side_asn", iv(a, "amazon_side_asn")).set("vpc_id", sv(a, "vpc_id")).set("tags", tags(a));
    m.out("id", sv(a, "id")).out("amazon_side_asn", iv(a, "amazon_side_asn"));
    Outcome::Kind(m)
}

/// tandem attaches a virtual private gateway through its `vpc_id`.
pub fn vpn_gateway_attachment(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    match (s(a, "vpn_gateway_id"), s(a, "vpc_id")) {
        (Some(g), Some(v)) => fold("aws.ec2.vpn_gateway", g, json!({ "vpc_id": v })),
        _ => skip("the attachment names no gateway or VPC"),
    }
}

pub fn route_propagation(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let (Some(table), Some(gw)) = (s(a, "route_table_id"), s(a, "vpn_gateway_id")) else {
        return skip("it names no route table or gateway");
    };
    let tid = format!("{table}/{gw}");
    let mut m = Mapped::new("aws.ec2.vpn_gateway_route_propagation", tid.clone());
    m.set("route_table_id", Some(json!(table))).set("gateway_id", Some(json!(gw)));
    m.out("id", Some(json!(tid)));
    Outcome::Kind(m)
}

pub fn customer_gateway(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.ec2.customer_gateway", id(a));
    m.set("bgp_asn", iv(a, "bgp_asn").or_else(|| iv(a, "bgp_asn_extended")))
        .set("ip_address", sv(a, "ip_address"))
        .set("type", sv(a, "type"));
    m.set("device_name", sv(a, "device_name")).set("tags", tags(a));
    m.out("id", sv(a, "id"));
    unmodelled(&mut m, a, &[("certificate_arn", "certificate authentication")]);
    Outcome::Kind(m)
}

/// Tunnels in tandem's order (inside CIDR, then outside IP), whatever order
/// Terraform numbered them in: tandem's `tunnel1_*` outputs are the tunnel
/// with the lower inside CIDR.
pub fn vpn_connection(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.ec2.vpn_connection", id(a));
    m.set("customer_gateway_id", sv(a, "customer_gateway_id")).set("vpn_gateway_id", sv(a, "vpn_gateway_id")).set("type", sv(a, "type"));
    if s(a, "transit_gateway_id").is_some() {
        return skip("it ends at a transit gateway; tandem's aws.ec2.vpn_connection ends at a virtual private gateway");
    }
    let ip = |v: Option<String>| {
        v.as_deref().and_then(|s| s.split('/').next()).and_then(|s| s.parse::<Ipv4Addr>().ok()).map(u32::from).unwrap_or(u32::MAX)
    };
    let mut tunnels: Vec<(Option<String>, Option<String>, Option<String>)> = (1..=2)
        .map(|n| (s(a, &format!("tunnel{n}_inside_cidr")), s(a, &format!("tunnel{n}_address")), s(a, &format!("tunnel{n}_preshared_key"))))
        .collect();
    tunnels.sort_by_key(|t| (ip(t.0.clone()), ip(t.1.clone())));
    let mut options = Map::new();
    options.insert("static_routes_only".into(), b(a, "static_routes_only").unwrap_or(json!(false)));
    let opts: Vec<Value> = tunnels.iter().filter_map(|t| t.0.clone()).map(|c| json!({ "tunnel_inside_cidr": c })).collect();
    if !opts.is_empty() {
        options.insert("tunnel_options".into(), json!(opts));
    }
    m.set("options", Some(Value::Object(options))).set("tags", tags(a));
    m.out("id", sv(a, "id")).out("vgw_asn", iv(a, "tunnel1_bgp_asn"));
    for (i, (cidr, outside, key)) in tunnels.into_iter().enumerate() {
        let n = i + 1;
        m.out(&format!("tunnel{n}_outside_ip"), outside.map(Value::String));
        m.out(&format!("tunnel{n}_pre_shared_key"), key.map(Value::String));
        if let Some(net) = cidr.as_deref().and_then(|c| c.parse::<Ipv4Addr>().ok().or_else(|| c.split('/').next()?.parse().ok())) {
            let base = u32::from(net);
            m.out(&format!("tunnel{n}_bgp_peer_ip"), Some(json!(Ipv4Addr::from(base + 1).to_string())));
            m.out(&format!("tunnel{n}_bgp_local_ip"), Some(json!(Ipv4Addr::from(base + 2).to_string())));
        }
        m.out(&format!("tunnel{n}_inside_cidr"), cidr.map(Value::String));
    }
    m.note("the tunnels' pre-shared keys are not written to the spec: they stay as they are (tandem reads them as the `tunnelN_pre_shared_key` outputs)");
    unmodelled(&mut m, a, &[("enable_acceleration", "accelerated VPN")]);
    // Traffic selectors and IKE settings other than AWS's defaults.
    for k in ["local_ipv4_network_cidr", "remote_ipv4_network_cidr"] {
        if s(a, k).is_some_and(|v| v != "0.0.0.0/0") {
            m.note(format!("`{k}` ({}) is not managed by tandem: it stays as it is in the cloud", a[k]));
        }
    }
    for n in [1, 2] {
        let k = format!("tunnel{n}_ike_versions");
        let mut v = strings(a, &k);
        v.sort();
        if !v.is_empty() && v != ["ikev1", "ikev2"] {
            m.note(format!("`{k}` ({}) is not managed by tandem: it stays as it is in the cloud", v.join(", ")));
        }
    }
    Outcome::Kind(m)
}

pub fn dx_gateway(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let mut m = Mapped::new("aws.directconnect.gateway", id(a));
    m.set("direct_connect_gateway_name", sv(a, "name")).set("amazon_side_asn", iv(a, "amazon_side_asn"));
    m.out("id", sv(a, "id")).out("amazon_side_asn", iv(a, "amazon_side_asn"));
    Outcome::Kind(m)
}

pub fn dx_gateway_association(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let Some(assoc) = s(a, "dx_gateway_association_id") else { return skip("it has no dx_gateway_association_id") };
    if s(a, "associated_gateway_type").is_some_and(|t| t != "virtualPrivateGateway") {
        return skip("it associates a transit gateway; tandem associates virtual private gateways");
    }
    let mut m = Mapped::new("aws.directconnect.gateway_association", assoc.clone());
    m.set("direct_connect_gateway_id", sv(a, "dx_gateway_id"))
        .set("virtual_gateway_id", sv(a, "associated_gateway_id").or_else(|| sv(a, "vpn_gateway_id")));
    m.out("id", Some(json!(assoc)));
    if !strings(a, "allowed_prefixes").is_empty() {
        m.note(format!(
            "`allowed_prefixes` ({}) is not managed by tandem: it stays as it is in the cloud",
            strings(a, "allowed_prefixes").join(", ")
        ));
    }
    Outcome::Kind(m)
}

pub fn dx_connection_confirmation(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let Some(conn) = s(a, "connection_id") else { return skip("it names no connection") };
    let mut m = Mapped::new("aws.directconnect.hosted_connection_confirmation", conn.clone());
    m.set("connection_id", Some(json!(conn.clone())));
    m.out("id", Some(json!(conn)));
    Outcome::Kind(m)
}

pub fn dx_private_virtual_interface(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if s(a, "dx_gateway_id").is_none() {
        return skip("it is attached to a virtual private gateway directly; tandem's aws.directconnect.private_virtual_interface attaches to a Direct Connect gateway");
    }
    let mut m = Mapped::new("aws.directconnect.private_virtual_interface", id(a));
    m.set("connection_id", sv(a, "connection_id"))
        .set("virtual_interface_name", sv(a, "name"))
        .set("vlan", iv(a, "vlan"))
        .set("asn", iv(a, "bgp_asn"));
    m.set("amazon_address", sv(a, "amazon_address"))
        .set("customer_address", sv(a, "customer_address"))
        .set("address_family", sv(a, "address_family"));
    m.set("direct_connect_gateway_id", sv(a, "dx_gateway_id"));
    m.out("id", sv(a, "id"))
        .out("amazon_side_asn", iv(a, "amazon_side_asn"))
        .out("amazon_address", sv(a, "amazon_address"))
        .out("customer_address", sv(a, "customer_address"))
        .out("auth_key", sv(a, "bgp_auth_key"));
    if s(a, "bgp_auth_key").is_some() {
        m.note("the BGP MD5 key is not written to the spec: it stays as it is (tandem reads it as the `auth_key` output)");
    }
    if int(a, "mtu").is_some_and(|v| v != 1500) || a.get("sitelink_enabled") == Some(&json!(true)) {
        unmodelled(&mut m, a, &[("mtu", "the interface MTU"), ("sitelink_enabled", "SiteLink")]);
    }
    Outcome::Kind(m)
}

pub fn iam_role(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let name = s(a, "name").unwrap_or_default();
    let mut m = Mapped::new("aws.iam.role", name.clone());
    m.set("role_name", Some(json!(name))).set("path", sv(a, "path")).set("description", sv(a, "description"));
    m.set("assume_role_policy", document(a, "assume_role_policy")).set("max_session_duration", iv(a, "max_session_duration"));
    let inline: Vec<Value> = blocks(a, "inline_policy")
        .iter()
        .filter(|p| s(p, "name").is_some())
        .map(|p| json!({ "name": s(p, "name"), "document": document(p, "policy") }))
        .collect();
    if !inline.is_empty() {
        m.set("inline_policies", Some(json!(inline)));
    }
    let managed = strings(a, "managed_policy_arns");
    if !managed.is_empty() {
        m.set("managed_policy_arns", Some(json!(managed)));
    }
    m.set("tags", tags(a));
    m.out("id", Some(json!(name))).out("arn", sv(a, "arn")).out("role_id", sv(a, "unique_id"));
    unmodelled(&mut m, a, &[("permissions_boundary", "a permissions boundary")]);
    Outcome::Kind(m)
}

/// An inline policy declared as its own resource: one entry of the role's `inline_policies`.
pub fn iam_role_policy(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    match (s(a, "role"), s(a, "name")) {
        (Some(role), Some(name)) => {
            fold("aws.iam.role", role, json!({ "inline_policies": [{ "name": name, "document": document(a, "policy") }] }))
        }
        _ => skip("it names no role or policy"),
    }
}

pub fn iam_role_policy_attachment(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    match (s(a, "role"), s(a, "policy_arn")) {
        (Some(role), Some(arn)) => fold("aws.iam.role", role, json!({ "managed_policy_arns": [arn] })),
        _ => skip("it names no role or policy"),
    }
}

pub fn lambda_function(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let name = s(a, "function_name").unwrap_or_default();
    if s(a, "filename").is_none() {
        return skip("its code comes from S3 or an image (s3_bucket / image_uri); tandem deploys Lambda functions from a local zip_file");
    }
    let mut m = Mapped::new("aws.lambda.function", name.clone());
    m.set("function_name", Some(json!(name))).set("role", sv(a, "role")).set("runtime", sv(a, "runtime")).set("handler", sv(a, "handler"));
    m.set("architectures", a.get("architectures").filter(|v| v.as_array().is_some_and(|l| !l.is_empty())).cloned());
    m.set("zip_file", sv(a, "filename"));
    // What tandem compares with CodeSha256 is the hash of what is deployed.
    m.set("source_code_hash", sv(a, "code_sha256").or_else(|| sv(a, "source_code_hash")));
    m.set("description", sv(a, "description")).set("memory_size", iv(a, "memory_size")).set("timeout", iv(a, "timeout"));
    if let Some(vars) = block(a, "environment").and_then(|e| e.get("variables")).filter(|v| v.as_object().is_some_and(|m| !m.is_empty())) {
        m.set("environment", Some(vars.clone()));
    }
    m.set("tags", tags(a));
    m.out("id", Some(json!(name))).out("arn", sv(a, "arn")).out("code_sha256", sv(a, "code_sha256"));
    unmodelled(
        &mut m,
        a,
        &[("layers", "layers"), ("vpc_config", "VPC access"), ("dead_letter_config", "a dead-letter queue"), ("kms_key_arn", "a KMS key")],
    );
    if int(a, "reserved_concurrent_executions").is_some_and(|n| n >= 0) {
        m.note(format!(
            "`reserved_concurrent_executions` ({}) is not managed by tandem: it stays as it is in the cloud",
            a["reserved_concurrent_executions"]
        ));
    }
    if block(a, "tracing_config").and_then(|t| s(t, "mode")).is_some_and(|m| m != "PassThrough") {
        m.note("`tracing_config` is not managed by tandem: it stays as it is in the cloud");
    }
    Outcome::Kind(m)
}

pub fn lambda_permission(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let (Some(function), Some(sid)) = (s(a, "function_name"), s(a, "statement_id")) else {
        return skip("it names no function or statement id");
    };
    let fname = function.rsplit(':').next().unwrap_or(&function).to_string();
    let tid = format!("{fname}/{sid}");
    let mut m = Mapped::new("aws.lambda.permission", tid.clone());
    m.set("function_name", Some(json!(function)))
        .set("statement_id", Some(json!(sid)))
        .set("action", sv(a, "action"))
        .set("principal", sv(a, "principal"))
        .set("source_arn", sv(a, "source_arn"));
    m.out("id", Some(json!(tid)));
    unmodelled(
        &mut m,
        a,
        &[
            ("source_account", "a source account condition"),
            ("qualifier", "an alias or version"),
            ("event_source_token", "an event source token"),
        ],
    );
    Outcome::Kind(m)
}

pub fn event_rule(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if s(a, "event_bus_name").is_some_and(|b| b != "default") {
        return skip("it is on a custom event bus; tandem's aws.events.rule is on the default bus");
    }
    let name = s(a, "name").unwrap_or_default();
    let mut m = Mapped::new("aws.events.rule", name.clone());
    m.set("name", Some(json!(name)))
        .set("schedule_expression", sv(a, "schedule_expression"))
        .set("event_pattern", document(a, "event_pattern"));
    let state =
        s(a, "state").unwrap_or_else(|| if a.get("is_enabled") == Some(&json!(false)) { "DISABLED".into() } else { "ENABLED".into() });
    m.set("state", Some(json!(state))).set("description", sv(a, "description")).set("tags", tags(a));
    m.out("id", Some(json!(name))).out("arn", sv(a, "arn"));
    Outcome::Kind(m)
}

/// A rule's target: one entry of the rule's `targets`.
pub fn event_target(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let (Some(rule), Some(tid), Some(arn)) = (s(a, "rule"), s(a, "target_id"), s(a, "arn")) else {
        return skip("it names no rule, target id or ARN");
    };
    let mut t = json!({ "id": tid, "arn": arn });
    if let Some(i) = s(a, "input") {
        t["input"] = json!(i);
    }
    let mut f = match fold("aws.events.rule", rule, json!({ "targets": [t] })) {
        Outcome::Fold(f) => f,
        other => return other,
    };
    for (k, what) in [
        ("role_arn", "a role"),
        ("input_path", "an input path"),
        ("input_transformer", "an input transformer"),
        ("dead_letter_config", "a dead-letter queue"),
        ("retry_policy", "a retry policy"),
    ] {
        if a.get(k).is_some_and(|v| !v.is_null() && v != &json!("") && v != &json!([])) {
            f.notes.push(format!("target {}: `{k}` ({what}) is not managed by tandem: it stays as it is in the cloud", a["target_id"]));
        }
    }
    Outcome::Fold(f)
}

pub fn metric_alarm(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    if s(a, "metric_name").is_none() {
        return skip("it is a metric math alarm (metric_query); tandem's aws.cloudwatch.alarm watches one metric");
    }
    let name = s(a, "alarm_name").unwrap_or_default();
    let mut m = Mapped::new("aws.cloudwatch.alarm", name.clone());
    m.set("alarm_name", Some(json!(name)))
        .set("alarm_description", sv(a, "alarm_description"))
        .set("namespace", sv(a, "namespace"))
        .set("metric_name", sv(a, "metric_name"));
    let dims: Vec<Value> =
        a.get("dimensions").and_then(Value::as_object).into_iter().flatten().map(|(k, v)| json!({ "name": k, "value": v })).collect();
    if !dims.is_empty() {
        m.set("dimensions", Some(json!(dims)));
    }
    m.set("statistic", sv(a, "statistic"))
        .set("period", iv(a, "period"))
        .set("evaluation_periods", iv(a, "evaluation_periods"))
        .set("datapoints_to_alarm", iv(a, "datapoints_to_alarm").filter(|v| v != &json!(0)));
    m.set("threshold", a.get("threshold").cloned())
        .set("comparison_operator", sv(a, "comparison_operator"))
        .set("treat_missing_data", sv(a, "treat_missing_data"));
    m.set("actions_enabled", b(a, "actions_enabled"));
    let actions = strings(a, "alarm_actions");
    if !actions.is_empty() {
        m.set("alarm_actions", Some(json!(actions)));
    }
    m.out("arn", sv(a, "arn")).out("name", Some(json!(name)));
    unmodelled(
        &mut m,
        a,
        &[
            ("ok_actions", "OK actions"),
            ("insufficient_data_actions", "INSUFFICIENT_DATA actions"),
            ("extended_statistic", "a percentile statistic"),
            ("unit", "a unit"),
        ],
    );
    Outcome::Kind(m)
}

pub fn dashboard(src: &Source<'_>) -> Outcome {
    let a = src.attrs;
    let name = s(a, "dashboard_name").unwrap_or_default();
    let mut m = Mapped::new("aws.cloudwatch.dashboard", name.clone());
    m.set("dashboard_name", Some(json!(name))).set("dashboard_body", document(a, "dashboard_body"));
    m.out("arn", sv(a, "dashboard_arn")).out("name", Some(json!(name)));
    Outcome::Kind(m)
}
