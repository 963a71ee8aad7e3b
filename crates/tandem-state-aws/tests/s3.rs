//! The S3 backend and KMS keys against moto behind tandem-sim, through the
//! official SDK: conditional writes that let exactly one writer win, a lock
//! object naming its holder, forced unlocks by ID, envelope encryption, and
//! many writers at once losing nothing.

use serde_json::{json, Map};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tandem_state::{Attempt, Backend, Keyring, LockInfo, ResourceState, StateError, Store};
use tandem_state_aws::{KmsKeys, S3Backend, S3Config};

async fn sandbox() -> tandem_sim::Sandbox {
    // The SDK's default chain reads these; moto accepts any.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::remove_var("AWS_PROFILE");
    tandem_sim::start(tandem_sim::SandboxOptions { moto: true, ..Default::default() })
        .await
        .expect("the sandbox starts (run scripts/python-env.sh for moto)")
}

async fn backend(url: &str, bucket: &str) -> S3Backend {
    S3Backend::new(S3Config {
        bucket: bucket.into(),
        key: "team/stack.json".into(),
        region: "us-east-1".into(),
        lock_key: None,
        endpoint: Some(url.into()),
        use_path_style: true,
    })
    .await
}

async fn bucket(b: &S3Backend, name: &str) {
    b.client().create_bucket().bucket(name).send().await.unwrap();
    b.client()
        .put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .unwrap();
}

fn res(id: &str) -> ResourceState {
    ResourceState {
        type_name: "aws.ec2.vpc".into(),
        region: Some("us-east-1".into()),
        id: id.into(),
        properties: Map::new(),
        outputs: BTreeMap::new(),
        dependencies: BTreeSet::new(),
        tainted: false,
        prevent_destroy: false,
        sensitive: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conditional_writes_locks_and_envelopes_on_s3() {
    let sb = sandbox().await;
    let url = sb.url();
    let a = backend(&url, "state-one").await;
    bucket(&a, "state-one").await;
    let b = backend(&url, "state-one").await;

    // First writes: If-None-Match lets exactly one in.
    assert!(a.read().await.unwrap().is_none());
    assert!(b.read().await.unwrap().is_none());
    a.write(b"{\"v\":1}".to_vec()).await.unwrap();
    let e = b.write(b"{\"v\":2}".to_vec()).await.unwrap_err();
    assert!(matches!(e, StateError::Conflict { .. }), "{e}");
    assert!(e.to_string().contains("created it first"), "{e}");
    // Later writes: If-Match on the ETag read.
    b.read().await.unwrap();
    a.write(b"{\"v\":3}".to_vec()).await.unwrap();
    let e = b.write(b"{\"v\":4}".to_vec()).await.unwrap_err();
    assert!(e.to_string().contains("another writer replaced it"), "{e}");
    assert_eq!(b.read().await.unwrap().unwrap(), b"{\"v\":3}");

    // The lock: created only if absent, naming its holder; released only by it or by ID.
    let i1 = LockInfo::new("apply");
    let i2 = LockInfo::new("destroy");
    assert!(matches!(a.try_lock(&i1).await.unwrap(), Attempt::Taken));
    match b.try_lock(&i2).await.unwrap() {
        Attempt::Held(Some(h)) => assert_eq!(h, i1),
        other => panic!("expected the holder, got {other:?}"),
    }
    let e = b.unlock(&i2).await.unwrap_err().to_string();
    assert!(e.contains("no longer ours") && e.contains("`tandem apply`"), "{e}");
    let e = b.force_unlock("not-the-id").await.unwrap_err().to_string();
    assert!(e.contains("nothing was unlocked") && e.contains(&i1.id), "{e}");
    assert_eq!(b.force_unlock(&i1.id).await.unwrap(), i1);
    a.unlock(&i1).await.unwrap();
    assert!(matches!(b.try_lock(&i2).await.unwrap(), Attempt::Taken));
    b.unlock(&i2).await.unwrap();

    // Envelope encryption with a KMS data key: no secret in the object.
    let kms = aws_sdk_kms::Client::new(&tandem_state_aws::sdk_config("us-east-1", Some(&url)).await);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    kms.create_alias().alias_name("alias/tandem-state").target_key_id(&key).send().await.unwrap();
    let keys = |wanted: bool| {
        let p: Arc<dyn tandem_state::KeyProvider> =
            Arc::new(KmsKeys::new(wanted.then(|| "alias/tandem-state".to_string()), "us-east-1", Some(url.clone())));
        Keyring { wanted: wanted.then(|| p.clone()), openers: vec![p] }
    };
    let c = backend(&url, "state-two").await;
    bucket(&c, "state-two").await;
    let store = Store::new(Arc::new(c), keys(true));
    let mut s = store.load().await.unwrap();
    let mut r = res("vpn-1");
    r.outputs.insert("tunnel1_pre_shared_key".into(), json!("PSK_from_AWS_123"));
    r.sensitive = vec!["/outputs/tunnel1_pre_shared_key".into()];
    s.resources.insert("vpn".into(), r);
    store.save(&mut s).await.unwrap();
    let raw = backend(&url, "state-two").await.read().await.unwrap().unwrap();
    let text = String::from_utf8(raw).unwrap();
    assert!(!text.contains("PSK_from_AWS_123") && text.contains("vpn-1") && text.contains("\"method\": \"kms\""), "{text}");
    // Another reader with KMS access (and no key configured) opens it.
    let reader = Store::new(Arc::new(backend(&url, "state-two").await), keys(false));
    assert_eq!(reader.load().await.unwrap().resources["vpn"].outputs["tunnel1_pre_shared_key"], json!("PSK_from_AWS_123"));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_writers_at_once_lose_nothing() {
    let sb = sandbox().await;
    let url = sb.url();
    let first = backend(&url, "state-many").await;
    bucket(&first, "state-many").await;
    let writers = 8;
    let mut tasks = Vec::new();
    for n in 0..writers {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let store = Store::new(Arc::new(backend(&url, "state-many").await), Keyring::default());
            let lock = store.lock(&format!("apply {n}"), Duration::from_secs(60)).await.unwrap();
            let mut s = store.load().await.unwrap();
            s.resources.insert(format!("vpc_{n}"), res(&format!("vpc-{n}")));
            store.save(&mut s).await.unwrap();
            store.unlock(lock).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let store = Store::new(Arc::new(backend(&url, "state-many").await), Keyring::default());
    let s = store.load().await.unwrap();
    assert_eq!(s.resources.len(), writers, "every writer's resource is there");
    let versions = first.client().list_object_versions().bucket("state-many").prefix("team/stack.json").send().await.unwrap();
    let n = versions.versions().iter().filter(|v| v.key() == Some("team/stack.json")).count();
    assert_eq!(s.serial as usize, n, "the serial counts the writes: one object version each");
    assert_eq!(s.serial as usize, writers);
    sb.shutdown().await;
}
