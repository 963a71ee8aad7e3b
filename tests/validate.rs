//! `tandem validate` through the real binary, with no cloud at all: rules that
//! span resources (networks that must not overlap where traffic is routed
//! between them, and only warned about elsewhere) and rules of a kind (a
//! PROVISIONED global table cannot take replicas without write auto scaling).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod support;
use support::{root, text};

/// A directory holding the reference spec, its var file and the files it reads.
fn reference_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["active-active.yaml", "active-active.vars.yaml"] {
        std::fs::copy(root().join("specs").join(f), dir.path().join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    for entry in std::fs::read_dir(root().join("specs/flows")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join("flows").join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("controller.zip"), b"PK").unwrap();
    std::fs::write(dir.path().join("agent-state.zip"), b"PK").unwrap();
    dir
}

fn tandem(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .current_dir(dir)
        // No cloud is called: endpoints that would fail if anything tried.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("TANDEM_GCP_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn validate_reference(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "validate",
        "--spec",
        "active-active.yaml",
        "--var-file",
        "active-active.vars.yaml",
        "--var",
        "controller_zip=controller.zip",
        "--var",
        "agent_state_zip=agent-state.zip",
    ];
    args.extend_from_slice(extra);
    tandem(dir, &args)
}

/// The reference stack routes the primary VPC to GCP (VGW -> VPN connections
/// -> customer gateways -> HA VPN gateway -> network -> subnetwork, and over
/// Direct Connect); the secondary VPC is connected to nothing.
#[test]
fn overlaps_are_refused_where_networks_meet_and_warned_about_elsewhere() {
    let dir = reference_dir();
    let o = validate_reference(dir.path(), &[]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!text(&o.stderr).contains("warning"), "{}", text(&o.stderr));

    // The secondary VPC overlapping the primary: nothing routes between them. Allowed, with a warning on stderr.
    let o = validate_reference(dir.path(), &["--var", "vpc_cidr_secondary=10.0.0.0/16"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("is valid"), "{out}");
    assert!(err.contains("warning[tandem::spec::overlap_unconnected]: active-active.yaml:"), "{err}");
    assert!(
        err.contains(
            "10.0.0.0/16 (in `secondary_vpc`) overlaps 10.0.0.0/16 (in `primary_vpc`); nothing in the spec routes traffic between them"
        ),
        "{err}"
    );
    assert!(err.contains("help:"), "{err}");
    // --json carries it too.
    let o = validate_reference(dir.path(), &["--var", "vpc_cidr_secondary=10.0.0.0/16", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["warnings"][0]["code"], "tandem::spec::overlap_unconnected", "{v}");
    assert!(v["warnings"][0]["line"].as_u64().is_some(), "{v}");

    // The GCP subnetwork overlapping the secondary VPC: also unconnected, a warning.
    let o = validate_reference(dir.path(), &["--var", "gcp_subnet_cidr=10.1.16.0/20"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stderr).contains("10.1.16.0/20 (in `gcp_subnet`) overlaps 10.1.0.0/16 (in `secondary_vpc`)"), "{}", text(&o.stderr));

    // Overlapping the primary VPC, which the VPN routes to GCP: refused, with the route and the place.
    let o = validate_reference(dir.path(), &["--var", "gcp_subnet_cidr=10.0.128.0/20"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("tandem::spec::overlap") && err.contains("10.0.128.0/20 (in `gcp_subnet`) overlaps 10.0.0.0/16 (in `primary_vpc`), and the spec routes traffic between them (primary_vpc -> "), "{err}");
    assert!(err.contains("-> gcp_network -> gcp_subnet)"), "{err}");
    assert!(err.contains("active-active.yaml:"), "{err}");
}

const DX_ONLY: &str = r#"version: 1
resources:
  vpc:
    type: aws.ec2.vpc
    region: us-east-1
    properties: { cidr_block: 10.0.0.0/16 }
  vgw:
    type: aws.ec2.vpn_gateway
    region: us-east-1
    properties: { vpc_id: "${vpc.id}" }
  dxgw:
    type: aws.directconnect.gateway
    region: us-east-1
    properties: { direct_connect_gateway_name: to-gcp }
  assoc:
    type: aws.directconnect.gateway_association
    region: us-east-1
    properties: { direct_connect_gateway_id: "${dxgw.id}", virtual_gateway_id: "${vgw.id}" }
  vif:
    type: aws.directconnect.private_virtual_interface
    region: us-east-1
    properties:
      connection_id: dxcon-ffgcp001
      virtual_interface_name: to-gcp
      vlan: 101
      asn: "${router.asn}"
      direct_connect_gateway_id: "${dxgw.id}"
  net:
    type: gcp.compute.network
    properties: { project: p, name: net }
  router:
    type: gcp.compute.router
    region: us-east4
    properties: { project: p, name: r, network: "${net.self_link}", asn: 16550 }
  sub:
    type: gcp.compute.subnetwork
    region: us-east4
    properties: { project: p, name: s, network: "${net.self_link}", ip_cidr_range: 10.0.64.0/20 }
"#;

/// Direct Connect alone joins the clouds: the private virtual interface's BGP
/// peer is the Cloud Router of the GCP network.
#[test]
fn direct_connect_connects_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tandem.yaml"), DX_ONLY).unwrap();
    let o = tandem(dir.path(), &["validate"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("10.0.64.0/20 (in `sub`) overlaps 10.0.0.0/16 (in `vpc`), and the spec routes traffic between them (vpc -> vgw -> assoc -> dxgw -> vif -> router -> net -> sub)"), "{err}");
    assert!(err.contains("tandem.yaml:38:"), "points at the subnetwork's range: {err}");
    // Without the interface nothing crosses: only a warning.
    let cut = DX_ONLY.replace("      asn: \"${router.asn}\"\n", "      asn: 16550\n");
    std::fs::write(dir.path().join("tandem.yaml"), cut).unwrap();
    let o = tandem(dir.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("warning[tandem::spec::overlap_unconnected]"), "{}", text(&o.stderr));
}

const GLOBAL_TABLE: &str = r#"version: 1
resources:
  agent_state:
    type: aws.dynamodb.global_table
    region: us-east-1
    properties:
      attribute_definitions: [{ attribute_name: agent_id, attribute_type: S }]
      key_schema: [{ attribute_name: agent_id, key_type: HASH }]
      billing_mode: PROVISIONED
      provisioned_throughput: { read_capacity_units: 5, write_capacity_units: 5 }
      stream_specification: { stream_enabled: true, stream_view_type: NEW_AND_OLD_IMAGES }
      replicas: [{ region_name: us-west-2 }]
"#;

/// DynamoDB refuses a replica of a PROVISIONED table without write auto
/// scaling; tandem says so before anything is made.
#[test]
fn a_provisioned_global_table_with_replicas_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tandem.yaml"), GLOBAL_TABLE).unwrap();
    let o = tandem(dir.path(), &["validate"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("tandem.yaml:9:21"), "points at billing_mode: {err}");
    assert!(
        err.contains("Table write capacity should either be Pay-Per-Request or AutoScaled.")
            && err.contains("use billing_mode: PAY_PER_REQUEST"),
        "{err}"
    );
    // On demand, or no replicas: fine.
    let on_demand = GLOBAL_TABLE
        .replace("billing_mode: PROVISIONED", "billing_mode: PAY_PER_REQUEST")
        .replace("      provisioned_throughput: { read_capacity_units: 5, write_capacity_units: 5 }\n", "");
    std::fs::write(dir.path().join("tandem.yaml"), on_demand).unwrap();
    assert!(tandem(dir.path(), &["validate"]).status.success());
    let no_replicas = GLOBAL_TABLE.replace("      replicas: [{ region_name: us-west-2 }]\n", "");
    std::fs::write(dir.path().join("tandem.yaml"), no_replicas).unwrap();
    assert!(tandem(dir.path(), &["validate"]).status.success());
    // Billing by throughput alone is PROVISIONED too.
    let implied = GLOBAL_TABLE.replace("      billing_mode: PROVISIONED\n", "");
    std::fs::write(dir.path().join("tandem.yaml"), implied).unwrap();
    assert_eq!(tandem(dir.path(), &["validate"]).status.code(), Some(3));
}

/// Hostile input is refused with a diagnostic, quickly, and never crashes:
/// deep nesting, alias bombs, devices and huge strings.
#[test]
fn hostile_specs_are_refused_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("deep-block", {
            let mut s = String::from("version: 1\nname: x\nresources:\n");
            for i in 0..3000 {
                s.push_str(&format!("{}k{i}:\n", " ".repeat(2 + i)));
            }
            s
        }, "nest deeper than 64"),
        ("deep-list", format!("version: 1\nname: x\nresources: {}1{}\n", "[".repeat(5000), "]".repeat(5000)), "recursion limit exceeded"),
        ("deep-dash", format!("version: 1\nname: x\nresources:\n  {}x\n", "- ".repeat(5000)), "nest deeper than 64"),
        ("laughs", {
            let mut s = String::from("version: 1\nname: x\nvariables:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
            for i in 1..10 {
                let refs = vec![format!("*a{}", i - 1); 10].join(", ");
                s.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
            }
            s
        }, "more than 1000000 values"),
        // Found by the fuzzer (fuzz/, docs/reliability.md): each anchor nests the previous one's
        // alias 60 levels down, so the expanded tree is 9,000 levels deep in 150 lines, within the
        // node budget; copying it overflowed the stack (SIGSEGV).
        ("nested-aliases", {
            let mut s = String::from("version: 1\nname: x\nvariables:\n  a0: &a0 [x]\n");
            for i in 1..150 {
                s.push_str(&format!("  a{i}: &a{i} {}*a{}{}\n", "[".repeat(60), i - 1, "]".repeat(60)));
            }
            s
        }, "this alias nests lists and mappings deeper than 64"),
        // Found by the fuzzer: a list variable whose default is a plain string re-read that string
        // as YAML, got the same string back, and recursed until the stack overflowed.
        ("list-default-string", "version: 1\nname: x\nvariables:\n  regions: { type: list, default: s-east-1 }\n".to_string(), "is a list, but the default gives"),
        ("device", "version: 1\nname: x\nresources:\n  v:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.0.0.0/16\n      tags: { K: \"${file(\\\"/dev/urandom\\\")}\" }\n".to_string(), "not a regular file"),
        ("long-type", format!("version: 1\nname: x\nresources:\n  v:\n    type: {}\n    region: us-east-1\n", "a".repeat(300_000)), "unknown resource type"),
    ];
    for (name, spec, needle) in cases {
        let f = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&f, &spec).unwrap();
        let mut args = vec!["validate", "--spec", f.to_str().unwrap()];
        if name == "device" {
            // The resource that reads the device is in every plan: validate warns, plan refuses.
            args[0] = "plan";
        }
        let o = tandem(dir.path(), &args);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains(needle), "{name}: {}", &err[..err.len().min(600)]);
    }
}

/// What the spec loader's fuzzer saved (fuzz/regressions/: crash-*, timeout-*,
/// oom-*, and inputs kept by hand) goes through `tandem validate` on every
/// test run, without the fuzzer: each is refused or accepted with an answer,
/// never a panic, an abort or a signal.
#[test]
fn fuzz_regressions_pass_through_validate() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("fuzz/regressions")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        // Alone in a directory, as the fuzz target loads it: `${file()}` finds nothing next to it.
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&path, dir.path().join("tandem.yaml")).unwrap();
        let o = tandem(dir.path(), &["validate", "--spec", "tandem.yaml"]);
        let err = text(&o.stderr);
        assert!(matches!(o.status.code(), Some(0) | Some(3)), "{}: {:?}\n{}", path.display(), o.status, &err[..err.len().min(2000)]);
        assert!(!err.contains("panicked"), "{}: {}", path.display(), &err[..err.len().min(2000)]);
        checked += 1;
    }
    assert!(checked > 0, "fuzz/regressions holds no inputs");
}

/// A VPN connection always has two tunnels: declaring one would plan a
/// change forever, so validate asks for both.
#[test]
fn a_vpn_connection_declares_both_tunnels_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let spec = |tunnels: &str| {
        format!("version: 1\nname: vpn\nresources:\n  vpn:\n    type: aws.ec2.vpn_connection\n    region: us-east-1\n    properties:\n      customer_gateway_id: cgw-0123456789abcdef0\n      vpn_gateway_id: vgw-0123456789abcdef0\n      options:\n        static_routes_only: false\n        tunnel_options: {tunnels}\n")
    };
    std::fs::write(dir.path().join("one.yaml"), spec("[{ tunnel_inside_cidr: 169.254.10.0/30 }]")).unwrap();
    let o = tandem(dir.path(), &["validate", "--spec", "one.yaml"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stdout));
    assert!(text(&o.stderr).contains("one tunnel_options entry given") && text(&o.stderr).contains("declare both"), "{}", text(&o.stderr));
    std::fs::write(dir.path().join("two.yaml"), spec("[{ tunnel_inside_cidr: 169.254.10.0/30 }, { tunnel_inside_cidr: 169.254.10.4/30 }]"))
        .unwrap();
    let o = tandem(dir.path(), &["validate", "--spec", "two.yaml"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

/// The fuzz target (fuzz/, docs/reliability.md) checks specs against every
/// kind's schema, as validate does, but links no cloud SDK: instrumented for
/// libFuzzer, the SDK crates need more memory and time than a 2-core machine
/// has. This writes its copy of the schemas (fuzz/fuzz_targets/kinds.rs);
/// `fuzz/run.sh` runs it first, so the fuzzer always sees today's kinds.
#[test]
#[ignore = "writes fuzz/fuzz_targets/kinds.rs; run by fuzz/run.sh"]
fn kind_schemas_for_the_fuzzer() {
    use std::fmt::Write;
    use tandem_schema::{Field, Type};
    fn ty(t: &Type) -> String {
        match t {
            Type::String => "Type::String".into(),
            Type::Integer => "Type::Integer".into(),
            Type::Number => "Type::Number".into(),
            Type::Boolean => "Type::Boolean".into(),
            Type::Any => "Type::Any".into(),
            Type::Enum(v) => format!("Type::Enum(vec!{v:?})"),
            Type::List(t) => format!("Type::List(Box::new({}))", ty(t)),
            Type::Map(t) => format!("Type::Map(Box::new({}))", ty(t)),
            Type::Object(fields) => format!("Type::Object(vec![{}])", fields.iter().map(field).collect::<Vec<_>>().join(", ")),
        }
    }
    // Docs stay out: nothing in loading reads them, and the file stays small.
    fn field(f: &Field) -> String {
        format!(
            "Field {{ name: {:?}, ty: {}, required: {}, force_new: {}, sensitive: {}, computed: {}, doc: \"\", checks: vec![{}], refers_to: vec!{:?}, unordered: {}, arn_or_id: {}, carries_traffic: {} }}",
            f.name,
            ty(&f.ty),
            f.required,
            f.force_new,
            f.sensitive,
            f.computed,
            f.checks.iter().map(|c| format!("Check::{c:?}")).collect::<Vec<_>>().join(", "),
            f.refers_to,
            f.unordered,
            f.arn_or_id,
            f.carries_traffic
        )
    }
    let mut reg = tandem_provider::Registry::new();
    tandem_aws::register(&mut reg, std::sync::Arc::new(tandem_aws::AwsContext::from_env()));
    tandem_gcp::register(&mut reg, std::sync::Arc::new(tandem_gcp::GcpContext::from_env()));
    let mut out = String::from(
        "// Generated by `cargo test --test validate kind_schemas_for_the_fuzzer -- --ignored` (fuzz/run.sh runs it): every\n// registered kind's schema, as `tandem validate` checks a spec against them. Do not edit.\nuse tandem_schema::{Check, Field, KindSchema, OutputDef, Type};\n\npub fn kinds() -> Vec<KindSchema> {\n    vec![\n",
    );
    for s in reg.schemas() {
        let outputs: Vec<String> =
            s.outputs.iter().map(|o| format!("OutputDef {{ name: {:?}, doc: \"\", sensitive: {} }}", o.name, o.sensitive)).collect();
        writeln!(
            out,
            "        KindSchema {{ type_name: {:?}, doc: \"\", api_reference: {:?}, regional: {}, properties: vec![{}], outputs: vec![{}], name_field: {:?}, import_id: \"\" }},",
            s.type_name,
            s.api_reference,
            s.regional,
            s.properties.iter().map(field).collect::<Vec<_>>().join(", "),
            outputs.join(", "),
            s.name_field
        )
        .unwrap();
    }
    out.push_str("    ]\n}\n");
    std::fs::write(root().join("fuzz/fuzz_targets/kinds.rs"), out).unwrap();
}
