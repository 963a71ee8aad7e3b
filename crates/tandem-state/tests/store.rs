//! The store over the local backend: secrets sealed at rest, readable
//! without the key, rotation, compare-and-swap, lock waits.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tandem_state::crypt::{PassphraseKeys, PASSPHRASE_ENV};
use tandem_state::{Keyring, LocalBackend, OutputState, ResourceState, State, StateError, Store};

fn keys(pass: Option<&str>) -> Keyring {
    let mut k = Keyring::default();
    if let Some(p) = pass {
        let p: Arc<dyn tandem_state::KeyProvider> = Arc::new(PassphraseKeys::new(p.into(), PASSPHRASE_ENV));
        k.wanted = Some(p.clone());
        k.openers.push(p);
    }
    k
}

fn store(path: &std::path::Path, pass: Option<&str>) -> Store {
    Store::new(Arc::new(LocalBackend::new(path)), keys(pass))
}

fn with_secret(s: &mut State) {
    let mut props = Map::new();
    props.insert("name".into(), json!("tunnel"));
    props.insert("tunnels".into(), json!([{ "psk": "SUPERSECRETPSK1", "cidr": "169.254.10.0/30" }]));
    s.resources.insert(
        "vpn".into(),
        ResourceState {
            type_name: "aws.ec2.vpn_connection".into(),
            region: Some("us-east-1".into()),
            id: "vpn-123".into(),
            properties: props,
            outputs: BTreeMap::from([("tunnel1_psk".to_string(), json!("SUPERSECRETPSK2")), ("arn".to_string(), json!("arn:vpn"))]),
            dependencies: BTreeSet::new(),
            tainted: false,
            prevent_destroy: false,
            sensitive: vec!["/properties/tunnels/0/psk".into(), "/outputs/tunnel1_psk".into()],
        },
    );
    s.outputs.insert("psk".into(), OutputState { value: json!("SUPERSECRETPSK3"), sensitive: true });
    s.outputs.insert("vpn_id".into(), OutputState { value: json!("vpn-123"), sensitive: false });
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_the_rest_reads_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let st = store(&p, Some("pass-one"));
    let mut s = st.load().await.unwrap();
    with_secret(&mut s);
    st.save(&mut s).await.unwrap();
    let bytes = std::fs::read_to_string(&p).unwrap();
    assert!(!bytes.contains("SUPERSECRETPSK"), "no secret in plaintext: {bytes}");
    assert!(!bytes.contains("pass-one"));
    assert!(bytes.contains("vpn-123") && bytes.contains("169.254.10.0/30") && bytes.contains("arn:vpn"), "the rest stays readable");

    // With the key: everything back.
    let again = store(&p, Some("pass-one")).load().await.unwrap();
    assert_eq!(again.resources["vpn"].properties["tunnels"][0]["psk"], json!("SUPERSECRETPSK1"));
    assert_eq!(again.resources["vpn"].outputs["tunnel1_psk"], json!("SUPERSECRETPSK2"));
    assert_eq!(again.outputs["psk"].value, json!("SUPERSECRETPSK3"));

    // Without it: addresses and ids, secrets sealed; writes of secrets refused.
    let blind = store(&p, None);
    let sealed = blind.load().await.unwrap();
    assert_eq!(sealed.resources["vpn"].id, "vpn-123");
    assert!(tandem_state::crypt::is_sealed(&sealed.outputs["psk"].value));
    let e = blind.check_writable(&sealed).unwrap_err().to_string();
    assert!(e.contains("could not open") && e.contains("TANDEM_STATE_PASSPHRASE"), "{e}");
    // Surgery without the key keeps the sealed values as they are.
    let mut moved = sealed.clone();
    moved.move_resource("vpn", "vpn_main").unwrap();
    blind.save(&mut moved).await.unwrap();
    let opened = store(&p, Some("pass-one")).load().await.unwrap();
    assert_eq!(opened.resources["vpn_main"].outputs["tunnel1_psk"], json!("SUPERSECRETPSK2"));

    // A wrong passphrase is named as such.
    let wrong = store(&p, Some("pass-two"));
    let s2 = wrong.load().await.unwrap();
    let e = wrong.check_writable(&s2).unwrap_err().to_string();
    assert!(e.contains("not the one"), "{e}");
}

#[tokio::test]
async fn rotation_re_encrypts_under_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let st = store(&p, Some("old-pass"));
    let mut s = st.load().await.unwrap();
    with_secret(&mut s);
    st.save(&mut s).await.unwrap();
    let before: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();

    // New passphrase wanted, old one still able to open.
    let mut k = keys(Some("new-pass"));
    k.openers.push(Arc::new(PassphraseKeys::new("old-pass".into(), tandem_state::crypt::OLD_PASSPHRASE_ENV)));
    let st = Store::new(Arc::new(LocalBackend::new(&p)), k);
    let mut s = st.load().await.unwrap();
    st.save(&mut s).await.unwrap();
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_ne!(before["encryption"]["key_id"], after["encryption"]["key_id"]);
    assert!(store(&p, Some("new-pass")).load().await.unwrap().outputs["psk"].value == json!("SUPERSECRETPSK3"));
    let old_only = store(&p, Some("old-pass"));
    let s = old_only.load().await.unwrap();
    assert!(old_only.check_writable(&s).is_err(), "the old passphrase no longer opens it");

    // Same passphrase, forced rotation: a new salt and key.
    let st = store(&p, Some("new-pass"));
    let mut s = st.load().await.unwrap();
    st.rotate().unwrap();
    st.save(&mut s).await.unwrap();
    let rotated: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_ne!(rotated["encryption"]["key_id"], after["encryption"]["key_id"]);
    assert_eq!(
        store(&p, Some("new-pass")).load().await.unwrap().resources["vpn"].properties["tunnels"][0]["psk"],
        json!("SUPERSECRETPSK1")
    );
}

#[tokio::test]
async fn a_write_over_a_version_it_did_not_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let (a, b) = (store(&p, None), store(&p, None));
    let mut sa = a.load().await.unwrap();
    let mut sb = b.load().await.unwrap();
    a.save(&mut sa).await.unwrap();
    let e = b.save(&mut sb).await.unwrap_err();
    assert!(matches!(e, StateError::Conflict { .. }), "{e}");
    assert_eq!(sb.serial, 0, "a refused write leaves the serial");
    let mut sb = b.load().await.unwrap();
    b.save(&mut sb).await.unwrap();
    assert_eq!(sb.serial, 2);
}

#[tokio::test]
async fn a_lock_waits_then_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let (a, b) = (store(&p, None), store(&p, None));
    let held = a.lock("apply", Duration::ZERO).await.unwrap();
    let t = std::time::Instant::now();
    let e = b.lock("destroy", Duration::from_millis(400)).await.unwrap_err().to_string();
    assert!(t.elapsed() >= Duration::from_millis(400), "waited");
    assert!(e.contains("`tandem apply` (pid") && e.contains("waited"), "{e}");
    a.unlock(held).await.unwrap();
    let l = b.lock("destroy", Duration::ZERO).await.unwrap();
    b.unlock(l).await.unwrap();
}

#[tokio::test]
async fn a_remote_style_refusal_without_a_key_is_not_needed_locally() {
    // The local backend keeps secrets in plaintext (0600) when no key is set.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let st = store(&p, None);
    let mut s = st.load().await.unwrap();
    with_secret(&mut s);
    st.check_writable(&s).unwrap();
    st.save(&mut s).await.unwrap();
    assert!(std::fs::read_to_string(&p).unwrap().contains("SUPERSECRETPSK1"));
}
