//! `aws.ec2.vpc` and `aws.ec2.subnet` against a real moto server.

mod common;

use common::{aws, boto3, ctx, kind, props, REGION};
use serde_json::json;

#[tokio::test]
async fn vpc_create_read_update_delete() {
    let aws = aws();
    let vpc = kind(&aws, "aws.ec2.vpc");
    let c = ctx("net.vpc_lifecycle");
    let created = vpc
        .create(&c, &props(json!({"cidr_block": "10.1.0.0/16", "enable_dns_hostnames": true, "tags": {"Name": "one", "team": "cc"}})))
        .await
        .unwrap();
    let id = created.id.clone();
    assert!(id.starts_with("vpc-"), "{id}");
    assert_eq!(created.outputs["id"], json!(id));
    assert_eq!(created.outputs["cidr_block"], json!("10.1.0.0/16"));
    let owner = created.outputs["owner_id"].as_str().unwrap().to_string();
    assert_eq!(created.outputs["arn"], json!(format!("arn:aws:ec2:{REGION}:{owner}:vpc/{id}")));
    assert!(created.outputs["main_route_table_id"].as_str().is_some_and(|r| r.starts_with("rtb-")), "{:?}", created.outputs);

    let read = vpc.read(&c, &id).await.unwrap().expect("the VPC exists");
    assert_eq!(read.properties["cidr_block"], json!("10.1.0.0/16"));
    assert_eq!(read.properties["instance_tenancy"], json!("default"));
    assert_eq!(read.properties["enable_dns_support"], json!(true));
    assert_eq!(read.properties["enable_dns_hostnames"], json!(true));
    // tandem's own address tag is on the VPC but not in the properties.
    assert_eq!(read.properties["tags"], json!({"Name": "one", "team": "cc"}));

    let prior = read.properties.clone();
    let desired =
        props(json!({"cidr_block": "10.1.0.0/16", "enable_dns_hostnames": false, "enable_dns_support": true, "tags": {"Name": "two"}}));
    let updated = vpc.update(&c, &id, &prior, &desired, &["enable_dns_hostnames".into(), "tags".into()]).await.unwrap();
    assert_eq!(updated.properties["enable_dns_hostnames"], json!(false));
    assert_eq!(updated.properties["tags"], json!({"Name": "two"}));

    // An independent client sees the same VPC, with the address tag kept.
    let seen = boto3(&format!(
        "e=c('ec2'); v=e.describe_vpcs(VpcIds=['{id}'])['Vpcs'][0]\n\
         h=e.describe_vpc_attribute(VpcId='{id}', Attribute='enableDnsHostnames')['EnableDnsHostnames']['Value']\n\
         print(json.dumps({{'cidr': v['CidrBlock'], 'hostnames': h, 'tags': {{t['Key']: t['Value'] for t in v.get('Tags', [])}}}}))"
    ));
    assert_eq!(seen["cidr"], json!("10.1.0.0/16"));
    assert_eq!(seen["hostnames"], json!(false));
    assert_eq!(seen["tags"], json!({"Name": "two", "tandem:address": "net.vpc_lifecycle"}));

    // DNS support off (hostnames need it, so they go off first).
    let desired2 =
        props(json!({"cidr_block": "10.1.0.0/16", "enable_dns_hostnames": false, "enable_dns_support": false, "tags": {"Name": "two"}}));
    let updated2 = vpc.update(&c, &id, &updated.properties, &desired2, &["enable_dns_support".into()]).await.unwrap();
    assert_eq!(updated2.properties["enable_dns_support"], json!(false));
    assert_eq!(updated2.properties["enable_dns_hostnames"], json!(false));
    // A new CIDR block is a replacement, not an update.
    let e = vpc.update(&c, &id, &updated2.properties, &desired2, &["cidr_block".into()]).await.unwrap_err();
    assert_eq!(e.class, tandem_provider::ErrorClass::Invalid);

    vpc.delete(&c, &id, &updated.properties).await.unwrap();
    assert!(vpc.read(&c, &id).await.unwrap().is_none());
    // Deleting what is gone succeeds.
    vpc.delete(&c, &id, &updated.properties).await.unwrap();
}

#[tokio::test]
async fn vpc_create_finds_what_an_interrupted_run_made() {
    let aws = aws();
    let vpc = kind(&aws, "aws.ec2.vpc");
    let c = ctx("net.vpc_rerun");
    let p = props(json!({"cidr_block": "10.2.0.0/16"}));
    let first = vpc.create(&c, &p).await.unwrap();
    // A re-run whose state never recorded the first create adopts the tagged VPC.
    let second = vpc.create(&c, &p).await.unwrap();
    assert_eq!(first.id, second.id);
    vpc.delete(&c, &first.id, &p).await.unwrap();
}

#[tokio::test]
async fn vpc_import_of_one_made_outside_tandem() {
    let aws = aws();
    let client = aws.ec2(REGION).await;
    let out = client.create_vpc().cidr_block("10.3.0.0/16").send().await.unwrap();
    let id = out.vpc().unwrap().vpc_id().unwrap().to_string();
    let vpc = kind(&aws, "aws.ec2.vpc");
    let c = ctx("net.imported");
    let seen = vpc.import(&c, &id).await.unwrap().expect("import finds it");
    assert_eq!(seen.id, id);
    assert_eq!(seen.properties["cidr_block"], json!("10.3.0.0/16"));
    assert_eq!(seen.properties["tags"], json!({}));
    assert!(vpc.import(&c, "vpc-0000000000000000f").await.unwrap().is_none());
    vpc.delete(&c, &id, &seen.properties).await.unwrap();
}

#[tokio::test]
async fn subnet_create_read_update_delete_and_import() {
    let aws = aws();
    let vpc = kind(&aws, "aws.ec2.vpc");
    let subnet = kind(&aws, "aws.ec2.subnet");
    let cv = ctx("net.subnet_vpc");
    let v = vpc.create(&cv, &props(json!({"cidr_block": "10.4.0.0/16"}))).await.unwrap();

    let c = ctx("net.subnet");
    let az = format!("{REGION}a");
    let s = subnet
        .create(&c, &props(json!({"vpc_id": v.id, "cidr_block": "10.4.1.0/24", "availability_zone": az, "tags": {"Name": "a"}})))
        .await
        .unwrap();
    assert!(s.id.starts_with("subnet-"), "{}", s.id);
    assert_eq!(s.outputs["vpc_id"], json!(v.id));
    assert_eq!(s.outputs["availability_zone"], json!(az));
    assert!(s.outputs["arn"].as_str().unwrap().ends_with(&format!(":subnet/{}", s.id)));

    let read = subnet.read(&c, &s.id).await.unwrap().unwrap();
    assert_eq!(read.properties["cidr_block"], json!("10.4.1.0/24"));
    assert_eq!(read.properties["vpc_id"], json!(v.id));
    assert_eq!(read.properties["map_public_ip_on_launch"], json!(false));
    assert_eq!(read.properties["tags"], json!({"Name": "a"}));

    // A tag added outside tandem is drift: the update removes it.
    let client = aws.ec2(REGION).await;
    client.create_tags().resources(&s.id).tags(aws_sdk_ec2::types::Tag::builder().key("outside").value("x").build()).send().await.unwrap();
    let drifted = subnet.read(&c, &s.id).await.unwrap().unwrap();
    assert_eq!(drifted.properties["tags"], json!({"Name": "a", "outside": "x"}));

    let desired = props(
        json!({"vpc_id": v.id, "cidr_block": "10.4.1.0/24", "map_public_ip_on_launch": true, "tags": {"Name": "b", "tier": "public"}}),
    );
    let u = subnet.update(&c, &s.id, &read.properties, &desired, &["map_public_ip_on_launch".into(), "tags".into()]).await.unwrap();
    assert_eq!(u.properties["map_public_ip_on_launch"], json!(true));
    assert_eq!(u.properties["tags"], json!({"Name": "b", "tier": "public"}));

    let seen = boto3(&format!(
        "s=c('ec2').describe_subnets(SubnetIds=['{}'])['Subnets'][0]\nprint(json.dumps({{'public': s['MapPublicIpOnLaunch'], 'cidr': s['CidrBlock']}}))",
        s.id
    ));
    assert_eq!(seen, json!({"public": true, "cidr": "10.4.1.0/24"}));

    // Import of a subnet made with the SDK directly.
    let other = client.create_subnet().vpc_id(&v.id).cidr_block("10.4.2.0/24").send().await.unwrap();
    let other_id = other.subnet().unwrap().subnet_id().unwrap().to_string();
    let imported = subnet.import(&c, &other_id).await.unwrap().unwrap();
    assert_eq!(imported.properties["cidr_block"], json!("10.4.2.0/24"));
    assert_eq!(imported.outputs["vpc_id"], json!(v.id));

    for id in [&s.id, &other_id] {
        subnet.delete(&c, id, &Default::default()).await.unwrap();
        assert!(subnet.read(&c, id).await.unwrap().is_none());
    }
    subnet.delete(&c, &s.id, &Default::default()).await.unwrap();
    vpc.delete(&cv, &v.id, &Default::default()).await.unwrap();
}

#[tokio::test]
async fn vpc_delete_with_a_subnet_left_is_a_conflict() {
    let aws = aws();
    let vpc = kind(&aws, "aws.ec2.vpc");
    let subnet = kind(&aws, "aws.ec2.subnet");
    let c = ctx("net.busy");
    let v = vpc.create(&c, &props(json!({"cidr_block": "10.5.0.0/16"}))).await.unwrap();
    let s = subnet.create(&ctx("net.busy_subnet"), &props(json!({"vpc_id": v.id, "cidr_block": "10.5.0.0/24"}))).await.unwrap();
    let e = vpc.delete(&c, &v.id, &Default::default()).await.unwrap_err();
    assert_eq!(e.class, tandem_provider::ErrorClass::Conflict, "{e}");
    assert_eq!(e.code.as_deref(), Some("DependencyViolation"));
    assert!(e.message.contains("DeleteVpc") && e.message.contains(&v.id), "{}", e.message);
    subnet.delete(&c, &s.id, &Default::default()).await.unwrap();
    vpc.delete(&c, &v.id, &Default::default()).await.unwrap();
}
