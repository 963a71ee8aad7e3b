//! Encryption of sensitive values at rest, in state and plan files.
//!
//! Each secret value is sealed on its own with AES-256-GCM (a fresh random
//! 96-bit nonce per value, the state's lineage as associated data), so the
//! rest of the state (addresses, types, ids, dependencies) stays readable
//! without the key: `tandem state list` works for anyone who can read the
//! object. The 256-bit data key comes from a [`KeyProvider`]: a KMS data key
//! (envelope encryption: only the KMS-encrypted copy is stored), or Argon2id
//! over a passphrase from the environment. The [`KeyHeader`] stored next to
//! the values says which, without holding the key itself.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

use crate::StateError;

/// The key of an encrypted value's envelope: `{"tandem:encrypted": "v1:..."}`.
pub const ENVELOPE: &str = "tandem:encrypted";
const PREFIX: &str = "v1:";
/// Environment variable holding the passphrase (any backend).
pub const PASSPHRASE_ENV: &str = "TANDEM_STATE_PASSPHRASE";
/// The previous passphrase, while rotating to a new one.
pub const OLD_PASSPHRASE_ENV: &str = "TANDEM_STATE_PASSPHRASE_OLD";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A 256-bit data key. Its Debug never shows the bytes.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<DataKey, StateError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| StateError::Key(format!("a data key is 32 bytes, got {}", bytes.len())))?;
        Ok(DataKey(arr))
    }
    pub fn random() -> DataKey {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        DataKey(k)
    }
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.0).expect("32-byte key")
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// How the data key of a state (or plan file) is recovered. Never holds the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum KeyHeader {
    /// A KMS data key: `encrypted_key` is KMS's CiphertextBlob, opened with
    /// `Decrypt` under the encryption context `tandem:lineage`.
    Kms {
        /// The key as configured (id, ARN or alias).
        kms_key_id: String,
        /// The key's ARN as KMS reported it.
        kms_key_arn: String,
        encrypted_key: String,
        key_id: String,
    },
    /// A key derived from a passphrase with Argon2id.
    Passphrase {
        m_cost: u32,
        t_cost: u32,
        p_cost: u32,
        salt: String,
        /// A known value sealed with the key: tells a wrong passphrase from a corrupt state.
        check: String,
        key_id: String,
    },
}

impl KeyHeader {
    pub fn method(&self) -> &'static str {
        match self {
            KeyHeader::Kms { .. } => "kms",
            KeyHeader::Passphrase { .. } => "passphrase",
        }
    }
    /// Identifies the data key (changes on every rotation).
    pub fn key_id(&self) -> &str {
        match self {
            KeyHeader::Kms { key_id, .. } | KeyHeader::Passphrase { key_id, .. } => key_id,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            KeyHeader::Kms { kms_key_arn, .. } => format!("a data key from KMS key {kms_key_arn}"),
            KeyHeader::Passphrase { .. } => format!("a key derived from a passphrase (${PASSPHRASE_ENV})"),
        }
    }
}

/// Where data keys come from.
#[async_trait::async_trait]
pub trait KeyProvider: Send + Sync {
    /// For messages: "KMS key alias/x", "the passphrase in $TANDEM_STATE_PASSPHRASE".
    fn describe(&self) -> String;
    /// Whether this provider can open keys of `header`'s method.
    fn can_open(&self, header: &KeyHeader) -> bool;
    /// Whether `header` is what this provider would make now (same KMS key,
    /// same passphrase); if not, the next write re-encrypts with a new key.
    async fn is_current(&self, header: &KeyHeader) -> bool;
    /// A fresh data key bound to `lineage`.
    async fn new_key(&self, lineage: &str) -> Result<(DataKey, KeyHeader), StateError>;
    /// The data key `header` describes.
    async fn open_key(&self, header: &KeyHeader, lineage: &str) -> Result<DataKey, StateError>;
}

/// The key providers a command has: one to make new keys with (the
/// configured one), and every one that can open an existing key.
#[derive(Clone, Default)]
pub struct Keyring {
    pub wanted: Option<Arc<dyn KeyProvider>>,
    pub openers: Vec<Arc<dyn KeyProvider>>,
}

impl Keyring {
    /// The passphrase providers from the environment, the current one wanted.
    pub fn from_env() -> Keyring {
        let mut k = Keyring::default();
        if let Some(p) = std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()) {
            let p: Arc<dyn KeyProvider> = Arc::new(PassphraseKeys::new(p, PASSPHRASE_ENV));
            k.wanted = Some(p.clone());
            k.openers.push(p);
        }
        if let Some(p) = std::env::var(OLD_PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()) {
            k.openers.push(Arc::new(PassphraseKeys::new(p, OLD_PASSPHRASE_ENV)));
        }
        k
    }

    /// Open `header`'s key with the first provider that can.
    pub async fn open(&self, header: &KeyHeader, lineage: &str) -> Result<DataKey, StateError> {
        let mut last = None;
        for p in self.openers.iter().filter(|p| p.can_open(header)) {
            match p.open_key(header, lineage).await {
                Ok(k) => return Ok(k),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            StateError::Key(format!(
                "the sensitive values are encrypted with {}, and this tandem has no way to open it: {}",
                header.describe(),
                match header {
                    KeyHeader::Kms { .. } => "configure AWS credentials allowed to kms:Decrypt with that key".to_string(),
                    KeyHeader::Passphrase { .. } => format!("set ${PASSPHRASE_ENV} to the passphrase"),
                }
            ))
        }))
    }
}

/// Seal one value with `key`; `aad` binds it to its state (the lineage).
pub fn seal(key: &DataKey, aad: &str, value: &Value) -> Value {
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let plain = serde_json::to_vec(value).expect("JSON serializes");
    let ct = key.cipher().encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: aad.as_bytes() }).expect("AES-GCM encrypts");
    let mut out = nonce.to_vec();
    out.extend(ct);
    json!({ ENVELOPE: format!("{PREFIX}{}", b64().encode(out)) })
}

/// Whether `v` is a sealed value.
pub fn is_sealed(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.get(ENVELOPE).is_some_and(Value::is_string))
}

/// Open a sealed value.
pub fn open(key: &DataKey, aad: &str, v: &Value) -> Result<Value, StateError> {
    let bad = |why: &str| {
        StateError::Key(format!(
            "an encrypted value cannot be opened ({why}): the key is not the one it was sealed with, or the value was altered"
        ))
    };
    let text = v.get(ENVELOPE).and_then(Value::as_str).ok_or_else(|| bad("not an envelope"))?;
    let raw = text.strip_prefix(PREFIX).ok_or_else(|| bad("unknown envelope version"))?;
    let bytes = b64().decode(raw).map_err(|_| bad("not base64"))?;
    if bytes.len() < 12 + 16 {
        return Err(bad("too short"));
    }
    let (nonce, ct) = bytes.split_at(12);
    let plain = key
        .cipher()
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() })
        .map_err(|_| bad("authentication failed"))?;
    serde_json::from_slice(&plain).map_err(|_| bad("not JSON inside"))
}

/// Open every sealed value inside `v`, in place.
pub fn open_all(key: &DataKey, aad: &str, v: &mut Value) -> Result<(), StateError> {
    if is_sealed(v) {
        *v = open(key, aad, v)?;
        return Ok(());
    }
    match v {
        Value::Object(m) => m.values_mut().try_for_each(|x| open_all(key, aad, x)),
        Value::Array(a) => a.iter_mut().try_for_each(|x| open_all(key, aad, x)),
        _ => Ok(()),
    }
}

/// Whether any sealed value is inside `v`.
pub fn any_sealed(v: &Value) -> bool {
    is_sealed(v)
        || match v {
            Value::Object(m) => m.values().any(any_sealed),
            Value::Array(a) => a.iter().any(any_sealed),
            _ => false,
        }
}

/// Argon2id over a passphrase. OWASP's first recommended setting (19 MiB,
/// two passes, one lane): a guess costs tens of milliseconds.
pub struct PassphraseKeys {
    passphrase: String,
    from: &'static str,
}

const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const CHECK_AAD: &str = "tandem key check";

impl PassphraseKeys {
    pub fn new(passphrase: String, from: &'static str) -> Self {
        PassphraseKeys { passphrase, from }
    }

    fn derive(&self, salt: &[u8], m: u32, t: u32, p: u32) -> Result<DataKey, StateError> {
        let params =
            argon2::Params::new(m, t, p, Some(32)).map_err(|e| StateError::Key(format!("bad Argon2 parameters in the key header: {e}")))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        a.hash_password_into(self.passphrase.as_bytes(), salt, &mut out)
            .map_err(|e| StateError::Key(format!("cannot derive the key: {e}")))?;
        Ok(DataKey(out))
    }

    fn derive_for(&self, header: &KeyHeader) -> Result<DataKey, StateError> {
        let KeyHeader::Passphrase { m_cost, t_cost, p_cost, salt, check, .. } = header else {
            return Err(StateError::Key("not a passphrase key".into()));
        };
        let salt = b64().decode(salt).map_err(|_| StateError::Key("the key header's salt is not base64".into()))?;
        let key = self.derive(&salt, *m_cost, *t_cost, *p_cost)?;
        let check: Value = serde_json::from_str(check).map_err(|_| StateError::Key("the key header's check is not JSON".into()))?;
        match open(&key, CHECK_AAD, &check) {
            Ok(_) => Ok(key),
            Err(_) => {
                Err(StateError::Key(format!("the passphrase in ${} is not the one the sensitive values were encrypted with", self.from)))
            }
        }
    }
}

#[async_trait::async_trait]
impl KeyProvider for PassphraseKeys {
    fn describe(&self) -> String {
        format!("the passphrase in ${}", self.from)
    }
    fn can_open(&self, header: &KeyHeader) -> bool {
        matches!(header, KeyHeader::Passphrase { .. })
    }
    async fn is_current(&self, header: &KeyHeader) -> bool {
        self.can_open(header) && self.derive_for(header).is_ok()
    }
    async fn new_key(&self, _lineage: &str) -> Result<(DataKey, KeyHeader), StateError> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let key = self.derive(&salt, M_COST, T_COST, P_COST)?;
        let check = seal(&key, CHECK_AAD, &json!("tandem"));
        let header = KeyHeader::Passphrase {
            m_cost: M_COST,
            t_cost: T_COST,
            p_cost: P_COST,
            salt: b64().encode(salt),
            check: check.to_string(),
            key_id: uuid::Uuid::new_v4().to_string(),
        };
        Ok((key, header))
    }
    async fn open_key(&self, header: &KeyHeader, _lineage: &str) -> Result<DataKey, StateError> {
        self.derive_for(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = DataKey::random();
        let v = json!({"a": [1, "secret"]});
        let s = seal(&k, "lin", &v);
        assert!(is_sealed(&s));
        assert!(!s.to_string().contains("secret"));
        assert_eq!(open(&k, "lin", &s).unwrap(), v);
        assert!(open(&k, "other-lineage", &s).is_err(), "bound to its lineage");
        assert!(open(&DataKey::random(), "lin", &s).is_err());
        let mut t = s.clone();
        let text = t[ENVELOPE].as_str().unwrap().to_string();
        let mut bytes = b64().decode(&text[3..]).unwrap();
        bytes[20] ^= 1;
        t[ENVELOPE] = Value::String(format!("v1:{}", b64().encode(bytes)));
        assert!(open(&k, "lin", &t).is_err(), "altered ciphertext is refused");
        assert_ne!(seal(&k, "lin", &v), s, "a fresh nonce every time");
    }

    #[tokio::test]
    async fn passphrase_keys_derive_the_same_key_and_refuse_another_passphrase() {
        let p = PassphraseKeys::new("correct horse".into(), PASSPHRASE_ENV);
        let (k, h) = p.new_key("lin").await.unwrap();
        let sealed = seal(&k, "lin", &json!("psk"));
        let again = p.open_key(&h, "lin").await.unwrap();
        assert_eq!(open(&again, "lin", &sealed).unwrap(), json!("psk"));
        assert!(p.is_current(&h).await);
        let wrong = PassphraseKeys::new("battery staple".into(), PASSPHRASE_ENV);
        let e = wrong.open_key(&h, "lin").await.unwrap_err().to_string();
        assert!(e.contains("not the one"), "{e}");
        assert!(!wrong.is_current(&h).await);
        assert!(!serde_json::to_string(&h).unwrap().contains("correct horse"));
    }
}
