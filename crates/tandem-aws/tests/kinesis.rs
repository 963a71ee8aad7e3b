//! `aws.kinesis.stream` against a real moto server.

mod common;

use common::{aws, boto3, ctx, kind, props, REGION};
use serde_json::json;

#[tokio::test]
async fn stream_create_read_update_delete() {
    let aws = aws();
    let stream = kind(&aws, "aws.kinesis.stream");
    let c = ctx("ctr");
    let desired0 = props(json!({
        "stream_name": "tandem-ctr",
        "shard_count": 1,
        "stream_mode_details": {"stream_mode": "PROVISIONED"},
        "retention_period_hours": 48,
        "tags": {"app": "connect"}
    }));
    let created = stream.create(&c, &desired0).await.unwrap();
    assert_eq!(created.id, "tandem-ctr");
    assert_eq!(created.outputs["name"], json!("tandem-ctr"));
    let arn = created.outputs["arn"].as_str().unwrap().to_string();
    assert!(arn.starts_with(&format!("arn:aws:kinesis:{REGION}:")) && arn.ends_with(":stream/tandem-ctr"), "{arn}");

    let read = stream.read(&c, "tandem-ctr").await.unwrap().expect("the stream exists");
    assert_eq!(read.properties["stream_name"], json!("tandem-ctr"));
    assert_eq!(read.properties["shard_count"], json!(1));
    assert_eq!(read.properties["stream_mode_details"], json!({"stream_mode": "PROVISIONED"}));
    assert_eq!(read.properties["retention_period_hours"], json!(48));
    assert_eq!(read.properties["encryption_type"], json!("NONE"));
    assert_eq!(read.properties["tags"], json!({"app": "connect"}));

    // Shards, retention, encryption and tags change in place.
    let desired1 = props(json!({
        "stream_name": "tandem-ctr",
        "shard_count": 3,
        "stream_mode_details": {"stream_mode": "PROVISIONED"},
        "retention_period_hours": 72,
        "encryption_type": "KMS",
        "key_id": "alias/aws/kinesis",
        "tags": {"app": "connect", "data": "ctr"}
    }));
    let changed: Vec<String> = ["shard_count", "retention_period_hours", "encryption_type", "key_id", "tags"].map(String::from).to_vec();
    let updated = stream.update(&c, "tandem-ctr", &read.properties, &desired1, &changed).await.unwrap();
    // 1 -> 3 is two UpdateShardCount calls (1 -> 2 -> 3): one call may at most double.
    assert_eq!(updated.properties["shard_count"], json!(3));
    assert_eq!(updated.properties["retention_period_hours"], json!(72));
    assert_eq!(updated.properties["encryption_type"], json!("KMS"));
    assert_eq!(updated.properties["key_id"], json!("alias/aws/kinesis"));
    assert_eq!(updated.properties["tags"], json!({"app": "connect", "data": "ctr"}));

    let seen = boto3(
        "k=c('kinesis'); s=k.describe_stream_summary(StreamName='tandem-ctr')['StreamDescriptionSummary']\n\
         t=k.list_tags_for_stream(StreamName='tandem-ctr')['Tags']\n\
         print(json.dumps({'shards': s['OpenShardCount'], 'hours': s['RetentionPeriodHours'], 'enc': s.get('EncryptionType'), 'status': s['StreamStatus'], 'tags': {x['Key']: x['Value'] for x in t}}))",
    );
    assert_eq!(seen, json!({"shards": 3, "hours": 72, "enc": "KMS", "status": "ACTIVE", "tags": {"app": "connect", "data": "ctr"}}));

    // Another key: StartStreamEncryption again, with the new key.
    let mut desired1b = desired1.clone();
    desired1b.insert("key_id".into(), json!("alias/tandem-ctr"));
    let u1b = stream.update(&c, "tandem-ctr", &updated.properties, &desired1b, &["key_id".into()]).await.unwrap();
    assert_eq!(u1b.properties["key_id"], json!("alias/tandem-ctr"));

    // Back down: retention decreases, encryption stops, a tag goes away.
    let desired2 = props(json!({
        "stream_name": "tandem-ctr",
        "shard_count": 3,
        "retention_period_hours": 24,
        "encryption_type": "NONE",
        "tags": {"app": "connect"}
    }));
    let changed: Vec<String> = ["retention_period_hours", "encryption_type", "key_id", "tags"].map(String::from).to_vec();
    let updated2 = stream.update(&c, "tandem-ctr", &u1b.properties, &desired2, &changed).await.unwrap();
    assert_eq!(updated2.properties["retention_period_hours"], json!(24));
    assert_eq!(updated2.properties["encryption_type"], json!("NONE"));
    assert!(!updated2.properties.contains_key("key_id"));
    assert_eq!(updated2.properties["tags"], json!({"app": "connect"}));

    stream.delete(&c, "tandem-ctr", &updated2.properties).await.unwrap();
    assert!(stream.read(&c, "tandem-ctr").await.unwrap().is_none());
    stream.delete(&c, "tandem-ctr", &updated2.properties).await.unwrap();
}

#[tokio::test]
async fn stream_name_defaults_to_key_and_mode_switches_to_on_demand() {
    let aws = aws();
    let stream = kind(&aws, "aws.kinesis.stream");
    let c = ctx("agent_events");
    let created = stream.create(&c, &props(json!({"shard_count": 1}))).await.unwrap();
    assert_eq!(created.id, "agent_events");
    let desired = props(json!({"stream_mode_details": {"stream_mode": "ON_DEMAND"}}));
    let u = stream.update(&c, &created.id, &created.properties, &desired, &["stream_mode_details".into()]).await.unwrap();
    assert_eq!(u.properties["stream_mode_details"], json!({"stream_mode": "ON_DEMAND"}));
    // An on-demand stream has no shard count to drift on.
    assert!(!u.properties.contains_key("shard_count"));
    let seen = boto3("s=c('kinesis').describe_stream_summary(StreamName='agent_events')['StreamDescriptionSummary']\nprint(json.dumps(s['StreamModeDetails']['StreamMode']))");
    assert_eq!(seen, json!("ON_DEMAND"));
    stream.delete(&c, &created.id, &u.properties).await.unwrap();
    assert!(stream.read(&c, &created.id).await.unwrap().is_none());
}

#[tokio::test]
async fn stream_import_by_name_or_arn_of_one_made_outside_tandem() {
    let aws = aws();
    let client = aws.kinesis(REGION).await;
    client.create_stream().stream_name("outside").shard_count(3).send().await.unwrap();
    let stream = kind(&aws, "aws.kinesis.stream");
    let c = ctx("imported");
    let by_name = stream.import(&c, "outside").await.unwrap().expect("import by name");
    assert_eq!(by_name.id, "outside");
    assert_eq!(by_name.properties["shard_count"], json!(3));
    let arn = by_name.outputs["arn"].as_str().unwrap().to_string();
    let by_arn = stream.import(&c, &arn).await.unwrap().expect("import by ARN");
    assert_eq!(by_arn.id, "outside");
    assert_eq!(by_arn.properties, by_name.properties);
    assert!(stream.import(&c, "no-such-stream").await.unwrap().is_none());
    stream.delete(&c, &arn, &by_arn.properties).await.unwrap();
    assert!(stream.read(&c, "outside").await.unwrap().is_none());
}
