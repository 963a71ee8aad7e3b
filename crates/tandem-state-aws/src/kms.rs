//! Data keys from AWS KMS (envelope encryption): `GenerateDataKey` gives a
//! 256-bit key in plaintext and encrypted under the KMS key; only the
//! encrypted copy is stored, and `Decrypt` opens it. The state's lineage is
//! the encryption context, so a key copied into another state does not open
//! (KMS API Reference, GenerateDataKey and Decrypt; Developer Guide,
//! "Encryption context").

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine as _;
use tandem_state::crypt::DataKey;
use tandem_state::{KeyHeader, KeyProvider, StateError};

const CONTEXT: &str = "tandem:lineage";

pub struct KmsKeys {
    /// The key for new data keys, as configured (id, ARN, alias); None: open only.
    key_id: Option<String>,
    region: String,
    endpoint: Option<String>,
}

impl KmsKeys {
    /// `key_id` makes new data keys; without one, this only opens existing keys.
    pub fn new(key_id: Option<String>, region: impl Into<String>, endpoint: Option<String>) -> KmsKeys {
        KmsKeys { key_id, region: region.into(), endpoint }
    }

    async fn client(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&crate::sdk_config(region, self.endpoint.as_deref()).await)
    }

    /// A key's region: from its ARN when it is one, else the configured region.
    fn region_of(&self, key: &str) -> String {
        let parts: Vec<&str> = key.split(':').collect();
        if parts.len() > 4 && parts[0] == "arn" {
            parts[3].to_string()
        } else {
            self.region.clone()
        }
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn kms_error<E: ProvideErrorMetadata>(what: &str, key: &str, e: &E) -> StateError {
    let code = e.code().unwrap_or("error");
    let help = match code {
        "NotFoundException" => " (no such key in that region: check `kms_key_id`)",
        "AccessDeniedException" => " (the credentials need kms:GenerateDataKey and kms:Decrypt on it)",
        "DisabledException" | "KMSInvalidStateException" => " (the key is disabled or pending deletion)",
        "InvalidCiphertextException" => " (the stored data key does not belong to this state or was altered)",
        _ => "",
    };
    StateError::Key(format!("KMS {what} with {key} failed: {code}{}{help}", e.message().map(|m| format!(": {m}")).unwrap_or_default()))
}

#[async_trait::async_trait]
impl KeyProvider for KmsKeys {
    fn describe(&self) -> String {
        match &self.key_id {
            Some(k) => format!("KMS key {k}"),
            None => "KMS".into(),
        }
    }
    fn can_open(&self, header: &KeyHeader) -> bool {
        matches!(header, KeyHeader::Kms { .. })
    }
    async fn is_current(&self, header: &KeyHeader) -> bool {
        matches!((header, &self.key_id), (KeyHeader::Kms { kms_key_id, .. }, Some(k)) if kms_key_id == k)
    }
    async fn new_key(&self, lineage: &str) -> Result<(DataKey, KeyHeader), StateError> {
        let Some(key) = &self.key_id else {
            return Err(StateError::Key("no `kms_key_id` is configured to make a data key with".into()));
        };
        let out = self
            .client(&self.region_of(key))
            .await
            .generate_data_key()
            .key_id(key)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT, lineage)
            .send()
            .await
            .map_err(|e| kms_error("GenerateDataKey", key, &e))?;
        let plain = out.plaintext().ok_or_else(|| StateError::Key("KMS GenerateDataKey returned no plaintext key".into()))?;
        let blob = out.ciphertext_blob().ok_or_else(|| StateError::Key("KMS GenerateDataKey returned no encrypted key".into()))?;
        let header = KeyHeader::Kms {
            kms_key_id: key.clone(),
            kms_key_arn: out.key_id().unwrap_or(key).to_string(),
            encrypted_key: b64().encode(blob.as_ref()),
            key_id: uuid_like(blob.as_ref()),
        };
        Ok((DataKey::from_bytes(plain.as_ref())?, header))
    }
    async fn open_key(&self, header: &KeyHeader, lineage: &str) -> Result<DataKey, StateError> {
        let KeyHeader::Kms { kms_key_arn, encrypted_key, .. } = header else {
            return Err(StateError::Key("not a KMS key".into()));
        };
        let blob = b64().decode(encrypted_key).map_err(|_| StateError::Key("the stored KMS data key is not base64".into()))?;
        let out = self
            .client(&self.region_of(kms_key_arn))
            .await
            .decrypt()
            .key_id(kms_key_arn)
            .ciphertext_blob(Blob::new(blob))
            .encryption_context(CONTEXT, lineage)
            .send()
            .await
            .map_err(|e| kms_error("Decrypt", kms_key_arn, &e))?;
        let plain = out.plaintext().ok_or_else(|| StateError::Key("KMS Decrypt returned no plaintext".into()))?;
        DataKey::from_bytes(plain.as_ref())
    }
}

/// A short stable id for a data key: a digest of its encrypted form.
fn uuid_like(blob: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    blob.hash(&mut h);
    format!("kms-{:016x}", h.finish())
}
