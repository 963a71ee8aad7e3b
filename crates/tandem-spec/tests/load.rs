//! Spec loading: good input binds, bad input names file:line:col and a fix.

use tandem_schema::{Check, Field, KindSchema, OutputDef, Type};
use tandem_spec::{load, ExprKind, Problems, SourceFile, Spec, VarInputs};

fn kinds() -> Vec<KindSchema> {
    vec![
        KindSchema {
            type_name: "aws.ec2.vpc",
            doc: "",
            api_reference: "",
            regional: true,
            properties: vec![
                Field::new("cidr_block", Type::String).required().force_new().check(Check::Ipv4Cidr),
                Field::new("enable_dns_support", Type::Boolean),
                Field::new("tags", Type::map(Type::String)),
            ],
            outputs: vec![OutputDef::new("arn", "")],
            name_field: None,
            import_id: "",
        },
        KindSchema {
            type_name: "aws.kinesis.stream",
            doc: "",
            api_reference: "",
            regional: true,
            properties: vec![
                Field::new("stream_name", Type::String).required(),
                Field::new("shard_count", Type::Integer).check(Check::Range(1, 100)),
                Field::new(
                    "stream_mode_details",
                    Type::Object(vec![Field::new("stream_mode", Type::enumeration(&["ON_DEMAND", "PROVISIONED"])).required()]),
                ),
            ],
            outputs: vec![OutputDef::new("arn", "")],
            name_field: Some("stream_name"),
            import_id: "",
        },
    ]
}

fn try_load(text: &str, inputs: &VarInputs) -> Result<Spec, Problems> {
    let k = kinds();
    let refs: Vec<&KindSchema> = k.iter().collect();
    load(SourceFile { name: "tandem.yaml".into(), text: text.into() }, inputs, &refs)
}

fn problems(text: &str) -> Vec<String> {
    match try_load(text, &VarInputs::default()) {
        Ok(_) => panic!("expected problems"),
        Err(p) => p.iter().map(|p| p.to_string()).collect(),
    }
}

const GOOD: &str = r#"version: 1
name: contact-center
variables:
  primary_region: { type: string, default: us-east-1 }
  vpc_cidr_primary: { type: string, default: 10.0.0.0/16 }
  shards: { type: number, default: 2 }
resources:
  primary_vpc:
    type: aws.ec2.vpc
    region: ${var.primary_region}
    properties:
      cidr_block: ${var.vpc_cidr_primary}
      tags: { Name: primary, Vpc: "x-${var.primary_region}" }
  ctr:
    type: aws.kinesis.stream
    region: ${var.primary_region}
    depends_on: [primary_vpc]
    properties:
      shard_count: ${var.shards}
      stream_mode_details: { stream_mode: PROVISIONED }
      tags_unused_check: null
outputs:
  vpc_id: ${primary_vpc.id}
  stream: { value: "${ctr.arn}", description: the CTR stream }
"#;

#[test]
fn binds_variables_and_keeps_references() {
    let text = GOOD.replace("      tags_unused_check: null\n", "");
    let spec = try_load(&text, &VarInputs::default()).unwrap();
    let vpc = &spec.resources["primary_vpc"];
    assert_eq!(vpc.region.as_deref(), Some("us-east-1"));
    let v = vpc.properties.eval(&|_, _| None);
    assert_eq!(v.value["cidr_block"], "10.0.0.0/16");
    assert_eq!(v.value["tags"]["Vpc"], "x-us-east-1");
    // A lone variable keeps its type.
    let ctr = spec.resources["ctr"].properties.eval(&|_, _| None);
    assert_eq!(ctr.value["shard_count"], 2);
    assert_eq!(spec.resources["ctr"].dependencies().into_iter().collect::<Vec<_>>(), vec!["primary_vpc"]);
    assert!(matches!(spec.outputs["vpc_id"].value.kind, ExprKind::Interp(_)));
}

#[test]
fn variable_precedence_is_cli_then_file_then_env_then_default() {
    let text = GOOD.replace("      tags_unused_check: null\n", "");
    let mut inputs = VarInputs::default();
    inputs.env.insert("primary_region".into(), "eu-central-1".into());
    let s = try_load(&text, &inputs).unwrap();
    assert_eq!(s.resources["primary_vpc"].region.as_deref(), Some("eu-central-1"));
    inputs.files.push(SourceFile { name: "v.yaml".into(), text: "primary_region: us-west-2\n".into() });
    let s = try_load(&text, &inputs).unwrap();
    assert_eq!(s.resources["primary_vpc"].region.as_deref(), Some("us-west-2"));
    inputs.cli.push(("primary_region".into(), "ap-northeast-1".into()));
    let s = try_load(&text, &inputs).unwrap();
    assert_eq!(s.resources["primary_vpc"].region.as_deref(), Some("ap-northeast-1"));
}

#[test]
fn unknown_field_points_at_the_key_and_suggests() {
    let p = problems(GOOD);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("tandem.yaml:21:7: unknown field `tags_unused_check`"), "{}", p[0]);
    let text = GOOD.replace("cidr_block: ${var", "cidr_blok: ${var").replace("      tags_unused_check: null\n", "");
    let e = try_load(&text, &VarInputs::default()).unwrap_err();
    let first = e.iter().next().unwrap();
    assert!(first.to_string().contains("tandem.yaml:12:7: unknown field `cidr_blok`"), "{first}");
    assert_eq!(first.help.as_deref(), Some("did you mean `cidr_block`?"));
    // And the required field is reported missing in the same pass.
    assert!(e.iter().any(|p| p.message.contains("missing the required field `cidr_block`")));
}

#[test]
fn wrong_types_and_bad_values() {
    let text = GOOD
        .replace("shard_count: ${var.shards}", "shard_count: many")
        .replace("stream_mode: PROVISIONED", "stream_mode: PROVISONED")
        .replace("      tags_unused_check: null\n", "");
    let e = try_load(&text, &VarInputs::default()).unwrap_err();
    let all: Vec<String> = e.iter().map(|p| p.to_string()).collect();
    assert!(all.iter().any(|m| m.contains(":19:20: `shard_count` must be an integer, found \"many\"")), "{all:?}");
    let enum_err = e.iter().find(|p| p.message.contains("stream_mode_details.stream_mode")).unwrap();
    assert_eq!(enum_err.help.as_deref(), Some("did you mean `PROVISIONED`?"));

    let text = GOOD.replace("default: 10.0.0.0/16", "default: 10.0.0.1/16").replace("      tags_unused_check: null\n", "");
    let e = try_load(&text, &VarInputs::default()).unwrap_err();
    assert!(e.to_string().contains("has host bits set; the network is 10.0.0.0/16"), "{e}");
}

#[test]
fn bad_references_are_reported_with_suggestions() {
    let text = GOOD
        .replace("vpc_id: ${primary_vpc.id}", "vpc_id: ${primary_vcp.id}")
        .replace("${ctr.arn}", "${ctr.anr}")
        .replace("${var.vpc_cidr_primary}", "${var.vpc_cidr_primray}")
        .replace("      tags_unused_check: null\n", "");
    let e = try_load(&text, &VarInputs::default()).unwrap_err();
    let helps: Vec<_> = e.iter().filter_map(|p| p.help.clone()).collect();
    assert!(helps.contains(&"did you mean `${primary_vpc.id}`?".to_string()), "{helps:?}");
    assert!(helps.contains(&"did you mean `${ctr.arn}`?".to_string()), "{helps:?}");
    assert!(helps.contains(&"did you mean `${var.vpc_cidr_primary}`?".to_string()), "{helps:?}");
    let unclosed = GOOD.replace("${var.primary_region}\n    properties:\n      cidr", "${var.primary_region\n    properties:\n      cidr");
    let p = problems(&unclosed);
    assert!(p.iter().any(|m| m.contains("unclosed `${`")), "{p:?}");
}

#[test]
fn unknown_type_and_missing_region() {
    let text =
        "version: 1\nresources:\n  a:\n    type: aws.ec2.vcp\n  b:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n";
    let e = try_load(text, &VarInputs::default()).unwrap_err();
    let all: Vec<String> = e.iter().map(|p| p.to_string()).collect();
    assert!(all[0].starts_with("tandem.yaml:4:11: unknown resource type `aws.ec2.vcp`"), "{all:?}");
    assert_eq!(e.iter().next().unwrap().help.as_deref(), Some("did you mean `aws.ec2.vpc`?"));
    assert!(all.iter().any(|m| m.starts_with("tandem.yaml:5:3: resource `b` (aws.ec2.vpc) needs a `region`")), "{all:?}");
}

#[test]
fn variables_without_values_and_bad_flags() {
    let text = "version: 1\nvariables:\n  region: { type: string }\n  n: { type: number }\nresources: {}\n";
    let mut inputs = VarInputs::default();
    inputs.cli.push(("n".into(), "three".into()));
    inputs.cli.push(("regoin".into(), "x".into()));
    let e = try_load(text, &inputs).unwrap_err();
    let all = e.to_string();
    assert!(all.contains("tandem.yaml:3:3: variable `region` has no value"), "{all}");
    assert!(all.contains("variable `n` is a number, but --var gives \"three\""), "{all}");
    assert!(all.contains("did you mean `region`?"), "{all}");
}

#[test]
fn lists_from_flags_are_yaml() {
    let text = "version: 1\nvariables:\n  regions: { type: list }\nresources: {}\n";
    let mut inputs = VarInputs::default();
    inputs.cli.push(("regions".into(), "[us-east-1, us-west-2]".into()));
    let s = try_load(text, &inputs).unwrap();
    assert_eq!(s.variables["regions"].value, serde_json::json!(["us-east-1", "us-west-2"]));
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let e = problems("version: 1\nresources:\n  a: [1, 2\n  b: 3\n");
    assert!(e[0].starts_with("tandem.yaml:"), "{e:?}");
    assert!(e[0].contains("not valid YAML"));
}

#[test]
fn depends_on_unknown_and_self() {
    let text = "version: 1\nresources:\n  a:\n    type: aws.ec2.vpc\n    region: us-east-1\n    depends_on: [a, bb]\n    properties: { cidr_block: 10.0.0.0/16 }\n";
    let all = problems(text);
    assert!(all.iter().any(|m| m.contains("`a` depends on itself")), "{all:?}");
    assert!(all.iter().any(|m| m.contains("`depends_on` names `bb`")), "{all:?}");
}

#[test]
fn no_panic_on_odd_documents() {
    for text in [
        "",
        "[]",
        "version: 1\nresources: [a]",
        "version: 2",
        "version: 1\nresources:\n  a: 1",
        "resources:\n  a:\n    type: [x]",
        "version: 1\noutputs: 3",
        "version: 1\nvariables:\n  x: {type: nope}",
    ] {
        let _ = try_load(text, &VarInputs::default());
    }
}

const EACH: &str = r#"version: 1
variables:
  regions: { type: list, default: [us-east-1, us-west-2] }
resources:
  vpc:
    type: aws.ec2.vpc
    for_each: ${var.regions}
    region: ${each.value}
    properties:
      cidr_block: 10.0.0.0/16
      tags: { Name: "vpc-${each.region}" }
  ctr:
    type: aws.kinesis.stream
    for_each: [us-east-1, us-west-2]
    region: ${each.key}
    depends_on: [vpc]
    properties:
      stream_name: "ctr-${each.key}"
      stream_mode_details: { stream_mode: ON_DEMAND }
outputs:
  east: ${vpc[us-east-1].arn}
"#;

#[test]
fn for_each_declares_one_resource_per_key() {
    let s = try_load(EACH, &VarInputs::default()).unwrap();
    let addrs: Vec<&str> = s.resources.keys().map(String::as_str).collect();
    assert_eq!(addrs, vec!["vpc[us-east-1]", "vpc[us-west-2]", "ctr[us-east-1]", "ctr[us-west-2]"]);
    let w = &s.resources["vpc[us-west-2]"];
    assert_eq!(w.region.as_deref(), Some("us-west-2"));
    assert_eq!(w.base, "vpc");
    assert_eq!(w.properties.eval(&|_, _| None).value["tags"]["Name"], "vpc-us-west-2");
    // depends_on the base name means every instance.
    let deps: Vec<String> = s.resources["ctr[us-east-1]"].dependencies().into_iter().collect();
    assert_eq!(deps, vec!["vpc[us-east-1]", "vpc[us-west-2]"]);
    assert_eq!(s.outputs["east"].value.resource_refs(), vec![("vpc[us-east-1]".to_string(), "arn".to_string())]);
}

#[test]
fn for_each_instances_refer_to_each_other_by_key() {
    let text = EACH
        .replace("stream_name: \"ctr-${each.key}\"", "stream_name: \"${vpc[each.key].id}\"")
        .replace("east: ${vpc[us-east-1].arn}", "east: ${vpc[var.first].arn}")
        .replace("variables:\n", "variables:\n  first: us-east-1\n");
    let s = try_load(&text, &VarInputs::default()).unwrap();
    assert_eq!(s.resources["ctr[us-west-2]"].properties.resource_refs(), vec![("vpc[us-west-2]".to_string(), "id".to_string())]);
    assert_eq!(s.outputs["east"].value.resource_refs(), vec![("vpc[us-east-1]".to_string(), "arn".to_string())], "indexed by a variable");
}

#[test]
fn for_each_mistakes_are_explained() {
    let text = EACH.replace("east: ${vpc[us-east-1].arn}", "east: ${vpc.arn}");
    let e = try_load(&text, &VarInputs::default()).unwrap_err().to_string();
    assert!(e.contains("`vpc` has one instance per `for_each` key (us-east-1, us-west-2); refer to one as `${vpc[KEY].arn}`"), "{e}");
    let text = EACH.replace("east: ${vpc[us-east-1].arn}", "east: ${vpc[eu-west-1].arn}");
    let e = try_load(&text, &VarInputs::default()).unwrap_err().to_string();
    assert!(e.contains("`vpc[eu-west-1]` is not an instance of `vpc`"), "{e}");
    let text = EACH.replace("east: ${vpc[us-east-1].arn}", "east: ${each.key}");
    let e = try_load(&text, &VarInputs::default()).unwrap_err().to_string();
    assert!(e.contains("only meaningful in a resource with `for_each`"), "{e}");
    let text = EACH.replace("for_each: [us-east-1, us-west-2]", "for_each: [us-east-1, us-east-1]");
    let e = try_load(&text, &VarInputs::default()).unwrap_err().to_string();
    assert!(e.contains("lists `us-east-1` twice"), "{e}");
    let text = EACH.replace("for_each: [us-east-1, us-west-2]", "for_each: 3");
    let e = try_load(&text, &VarInputs::default()).unwrap_err().to_string();
    assert!(e.contains("`for_each` takes a list of strings or a mapping"), "{e}");
}

#[test]
fn typed_references_e164_and_overlapping_networks() {
    let kinds = [
        KindSchema {
            type_name: "aws.ec2.vpc",
            doc: "",
            api_reference: "",
            regional: true,
            properties: vec![Field::new("cidr_block", Type::String).required().check(Check::Ipv4Cidr).check(Check::DistinctNetwork)],
            outputs: vec![],
            name_field: None,
            import_id: "",
        },
        KindSchema {
            type_name: "aws.connect.phone_number",
            doc: "",
            api_reference: "",
            regional: true,
            properties: vec![
                Field::new("phone_number", Type::String).check(Check::E164),
                Field::new("target_arn", Type::String).refers_to(&["aws.connect.traffic_distribution_group"]),
            ],
            outputs: vec![],
            name_field: None,
            import_id: "",
        },
    ];
    let refs: Vec<&KindSchema> = kinds.iter().collect();
    let text = "version: 1\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    for_each: { us-east-1: 10.0.0.0/16, us-west-2: 10.0.128.0/17 }\n    region: ${each.key}\n    properties: { cidr_block: \"${each.value}\" }\n  num:\n    type: aws.connect.phone_number\n    region: us-east-1\n    properties: { phone_number: \"+0123\", target_arn: \"${vpc[us-east-1].id}\" }\n";
    let e = load(SourceFile { name: "t.yaml".into(), text: text.into() }, &VarInputs::default(), &refs).unwrap_err().to_string();
    assert!(!e.contains("overlaps"), "nothing connects the two VPCs: {e}");
    assert!(e.contains("`phone_number` must be an E.164 phone number"), "{e}");
    assert!(
        e.contains("`target_arn` refers to `vpc[us-east-1]`, a aws.ec2.vpc, but it takes an aws.connect.traffic_distribution_group"),
        "{e}"
    );
    let ok = text
        .replace("10.0.128.0/17", "10.1.0.0/16")
        .replace("+0123", "+12065550100")
        .replace("target_arn: \"${vpc[us-east-1].id}\"", "target_arn: arn:x");
    assert!(load(SourceFile { name: "t.yaml".into(), text: ok }, &VarInputs::default(), &refs).is_ok());
}

/// Overlapping networks are an error only where the spec routes traffic
/// between them (references in fields that carry traffic, followed through
/// any number of resources); elsewhere they are a warning.
#[test]
fn overlapping_networks_are_refused_only_where_traffic_is_routed() {
    let kind = |name: &'static str, fields: Vec<Field>| KindSchema {
        type_name: name,
        doc: "",
        api_reference: "",
        regional: false,
        properties: fields,
        outputs: vec![],
        name_field: None,
        import_id: "",
    };
    let kinds = [
        kind("net.vpc", vec![Field::new("cidr_block", Type::String).required().check(Check::Ipv4Cidr).check(Check::DistinctNetwork)]),
        kind("net.gateway", vec![Field::new("vpc_id", Type::String).carries_traffic(), Field::new("note", Type::String)]),
        kind("net.tunnel", vec![Field::new("a", Type::String).carries_traffic(), Field::new("b", Type::String).carries_traffic()]),
        kind(
            "net.subnet",
            vec![Field::new("network", Type::String).carries_traffic(), Field::new("range", Type::String).check(Check::DistinctNetwork)],
        ),
    ];
    let refs: Vec<&KindSchema> = kinds.iter().collect();
    let spec = |body: &str| {
        let text = format!(
            "version: 1\nresources:\n  east:\n    type: net.vpc\n    properties: {{ cidr_block: 10.0.0.0/16 }}\n  west:\n    type: net.vpc\n    properties: {{ cidr_block: 10.0.128.0/17 }}\n  gw_east:\n    type: net.gateway\n    properties: {{ vpc_id: \"${{east.id}}\" }}\n  gw_west:\n    type: net.gateway\n    properties: {{ vpc_id: \"${{west.id}}\" }}\n{body}"
        );
        load(SourceFile { name: "net.yaml".into(), text }, &VarInputs::default(), &refs)
    };
    // Each VPC has its gateway, nothing joins the gateways: allowed, with a warning that says where.
    let s = spec("").expect("not connected: no error");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let w = &s.warnings[0];
    assert_eq!(w.code, "tandem::spec::overlap_unconnected");
    assert!(
        w.message.contains("10.0.128.0/17 (in `west`) overlaps 10.0.0.0/16 (in `east`); nothing in the spec routes traffic between them"),
        "{w}"
    );
    assert_eq!(w.location().as_deref(), Some("net.yaml:8:31"), "{w}");
    // A reference in a field that carries no traffic connects nothing.
    let s =
        spec("  other:\n    type: net.gateway\n    properties: { note: \"${gw_east.id}-${gw_west.id}\" }\n").expect("a note is no route");
    assert_eq!(s.warnings.len(), 1);
    // A tunnel between the two gateways routes the VPCs together: refused, with the route.
    let e =
        spec("  tunnel:\n    type: net.tunnel\n    properties: { a: \"${gw_east.id}\", b: \"${gw_west.id}\" }\n").unwrap_err().to_string();
    assert!(e.contains("10.0.128.0/17 (in `west`) overlaps 10.0.0.0/16 (in `east`), and the spec routes traffic between them (east -> gw_east -> tunnel -> gw_west -> west)"), "{e}");
    assert!(e.contains("net.yaml:8:31"), "{e}");
    // A subnetwork of another network overlaps east: a warning while that
    // network is on its own, an error once a tunnel joins it to east's gateway.
    let sub =
        "  gnet:\n    type: net.gateway\n  sub:\n    type: net.subnet\n    properties: { network: \"${gnet.id}\", range: 10.0.1.0/24 }\n";
    let s = spec(sub).expect("gnet is not connected to east");
    assert!(s.warnings.iter().any(|w| w.message.contains("10.0.1.0/24 (in `sub`) overlaps 10.0.0.0/16 (in `east`)")), "{:?}", s.warnings);
    let e = spec(&format!("{sub}  tunnel:\n    type: net.tunnel\n    properties: {{ a: \"${{gw_east.id}}\", b: \"${{gnet.id}}\" }}\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("10.0.1.0/24 (in `sub`) overlaps 10.0.0.0/16 (in `east`), and the spec routes traffic between them (east -> gw_east -> tunnel -> gnet -> sub)"), "{e}");
    assert!(!e.contains("(in `west`), and"), "west stays unconnected: {e}");
}

#[test]
fn for_each_values_may_be_resource_outputs_and_keys_variables() {
    let text = r#"version: 1
variables:
  primary_region: { type: string, default: us-east-1 }
  secondary_region: { type: string, default: us-west-2 }
resources:
  east:
    type: aws.ec2.vpc
    region: ${var.primary_region}
    properties: { cidr_block: 10.0.0.0/16 }
  west:
    type: aws.ec2.vpc
    region: ${var.secondary_region}
    properties: { cidr_block: 10.1.0.0/16 }
  ctr:
    type: aws.kinesis.stream
    for_each:
      "${var.primary_region}": "${east.id}"
      "${var.secondary_region}": "${west.id}"
    region: ${each.key}
    properties:
      stream_name: "ctr-for-${each.value}"
"#;
    let s = try_load(text, &VarInputs::default()).unwrap();
    let w = &s.resources["ctr[us-west-2]"];
    assert_eq!(w.region.as_deref(), Some("us-west-2"));
    assert_eq!(w.dependencies().into_iter().collect::<Vec<_>>(), vec!["west"]);
    let v = w.properties.eval(&|r, a| (r == "west" && a == "id").then(|| serde_json::json!("vpc-9")));
    assert_eq!(v.value["stream_name"], "ctr-for-vpc-9");
}

#[test]
fn file_function_reads_relative_to_the_spec() {
    let dir = std::env::temp_dir().join(format!("tandem-spec-file-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    std::fs::write(dir.join("flows/tag.txt"), "contact-center").unwrap();
    let text = "version: 1\nresources:\n  v:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.0.0.0/16\n      tags: { Name: \"${file(\\\"flows/tag.txt\\\")}\", Team: \"cc-${file(\\\"flows/tag.txt\\\")}\", Hash: \"${filebase64sha256(\\\"flows/tag.txt\\\")}\", Path: \"${path(\\\"flows/tag.txt\\\")}\" }\n";
    let k = kinds();
    let refs: Vec<&KindSchema> = k.iter().collect();
    let spec =
        load(SourceFile { name: dir.join("tandem.yaml").display().to_string(), text: text.into() }, &VarInputs::default(), &refs).unwrap();
    let v = spec.resources["v"].properties.eval(&|_, _| None).value;
    assert_eq!(v["tags"]["Name"], "contact-center");
    assert_eq!(v["tags"]["Team"], "cc-contact-center");
    // What Lambda reports as CodeSha256 for the same bytes.
    assert_eq!(v["tags"]["Hash"], "2CuUEDGafh2xCld3uPXjYzok0LMUWEQ+2piunhcHv5A=");
    assert_eq!(v["tags"]["Path"], dir.join("flows/tag.txt").display().to_string());
    let missing = text.replace("flows/tag.txt", "flows/nope.txt");
    // A missing file is the resource's problem, not the spec's: a warning
    // now, an error for a plan that includes `v` (the engine's check).
    let spec =
        load(SourceFile { name: dir.join("tandem.yaml").display().to_string(), text: missing }, &VarInputs::default(), &refs).unwrap();
    let e = spec.resources["v"].unreadable.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
    assert!(e.contains("cannot read") && e.contains("flows/nope.txt") && e.contains(":8:"), "{e}");
    assert!(spec.warnings.iter().any(|w| w.code == "tandem::spec::file"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn moved_blocks_rename_and_point_at_mistakes() {
    let ok = r#"version: 1
resources:
  main_vpc:
    type: aws.ec2.vpc
    region: us-east-1
    properties: { cidr_block: 10.0.0.0/16 }
moved:
  - { from: vpc, to: main_vpc }
"#;
    let spec = try_load(ok, &VarInputs::default()).unwrap();
    assert_eq!((spec.moved[0].from.as_str(), spec.moved[0].to.as_str()), ("vpc", "main_vpc"));
    let single = ok.replace("  - { from: vpc, to: main_vpc }", "  { from: vpc, to: main_vpc }");
    assert_eq!(try_load(&single, &VarInputs::default()).unwrap().moved.len(), 1);

    let bad = ok.replace(
        "  - { from: vpc, to: main_vpc }",
        "  - { from: main_vpc, to: vpc }\n  - { from: old, to: main_vcp }\n  - { form: x, to: main_vpc }",
    );
    let p = problems(&bad).join("\n");
    assert!(p.contains("tandem.yaml:8:13: `main_vpc` is still declared"), "{p}");
    assert!(p.contains("tandem.yaml:9:22: `main_vcp` is not a resource of this spec"), "{p}");
    assert!(p.contains("unknown field `form` in a move"), "{p}");
}

#[test]
fn properties_from_sensitive_variables_are_marked() {
    let text = r#"version: 1
variables:
  secret: { type: string, default: hunter2, sensitive: true }
  plain: { type: string, default: x }
resources:
  s:
    type: aws.kinesis.stream
    region: us-east-1
    properties:
      stream_name: "pre-${var.secret}"
      shard_count: 1
outputs:
  leaked: { value: "${var.secret}" }
  fine: "${var.plain}"
"#;
    let spec = try_load(text, &VarInputs::default()).unwrap();
    assert_eq!(spec.resources["s"].sensitive.iter().collect::<Vec<_>>(), vec!["stream_name"]);
    assert!(spec.outputs["leaked"].sensitive);
    assert!(!spec.outputs["fine"].sensitive);
}
