//! The state: what tandem made, with cloud ids and outputs, and where it is kept.
//!
//! JSON, versioned (`format_version`), with a `lineage` fixed at creation and
//! a `serial` bumped on every write. A [`Backend`] stores the bytes (the
//! local file here; S3 in `tandem-state-aws`) with compare-and-swap writes
//! and a lock naming its holder; a [`Store`] on top parses, checks versions
//! and encrypts the values marked sensitive ([`crypt`]). A state that does
//! not parse, or has a version this tandem does not know, is refused and
//! never overwritten.

pub mod backend;
pub mod crypt;
mod error;
mod local;
mod model;
mod store;

pub use backend::{Attempt, Backend, LockInfo};
pub use crypt::{KeyHeader, KeyProvider, Keyring};
pub use error::StateError;
pub use local::{write_private_atomic, LocalBackend, StateLock};
pub use model::{Move, OutputState, PendingKind, PendingOp, ResourceState, State};
pub use store::{HeldLock, StateWriter, Store};

use serde_json::Value;

/// The format this tandem writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Where a spec's state is kept when nothing says otherwise, relative to the
/// spec's directory (a dot directory, like `.terraform`, so it stays out of
/// the way and one `.gitignore` line covers it).
pub const DEFAULT_PATH: &str = ".tandem/state.json";

/// The default state of the spec in `spec_dir`.
pub fn default_path(spec_dir: &std::path::Path) -> std::path::PathBuf {
    spec_dir.join(DEFAULT_PATH)
}

pub(crate) fn parse(at: &str, restore: &str, text: &str) -> Result<State, StateError> {
    let corrupt = |detail: String| StateError::Corrupt { at: at.to_string(), detail, restore: restore.to_string() };
    // serde_json keeps the last of a repeated key silently: a state that
    // says "resources" twice (or names one address twice) is corrupt.
    // One pass makes the `Value` and checks the keys (two passes were a third
    // of loading a 10,000-resource state).
    let NoDuplicateKeys(raw) =
        serde_json::from_str::<NoDuplicateKeys>(text).map_err(|e| corrupt(format!("not JSON as tandem writes it: {e}")))?;
    let version = raw.get("format_version").and_then(Value::as_u64).ok_or_else(|| corrupt("no format_version".into()))?;
    if version != FORMAT_VERSION as u64 {
        return Err(StateError::UnknownVersion { at: at.to_string(), found: version });
    }
    serde_json::from_value(raw).map_err(|e| corrupt(e.to_string()))
}

/// Any JSON, refused where an object repeats a key.
struct NoDuplicateKeys(Value);

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeysVisitor)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = NoDuplicateKeys;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(Value::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(Value::from(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(Value::from(n)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(Value::String(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(Value::String(s)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys(Value::Null))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(NoDuplicateKeys(v)) = a.next_element::<NoDuplicateKeys>()? {
            items.push(v);
        }
        Ok(NoDuplicateKeys(Value::Array(items)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut m = serde_json::Map::new();
        while let Some(k) = a.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(serde::de::Error::custom(format!("the key `{k}` appears twice in one object")));
            }
            let NoDuplicateKeys(v) = a.next_value::<NoDuplicateKeys>()?;
            m.insert(k, v);
        }
        Ok(NoDuplicateKeys(Value::Object(m)))
    }
}

/// Parse state bytes that came from elsewhere (`tandem state push FILE`).
pub fn parse_bytes(what: &str, bytes: &[u8]) -> Result<State, StateError> {
    parse(what, "Fix the file", &String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use std::collections::{BTreeMap, BTreeSet};
    use std::fs;

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

    #[test]
    fn missing_file_is_empty_state_and_saves_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join(".tandem/state.json"));
        let mut s = b.load().unwrap();
        assert_eq!(s.serial, 0);
        s.resources.insert("vpc".into(), res("vpc-1"));
        b.save(&mut s).unwrap();
        assert_eq!(s.serial, 1);
        let again = b.load().unwrap();
        assert_eq!(again, s);
        assert!(!b.backup_path().exists(), "no backup before a second write");
        s.resources.insert("vpc2".into(), res("vpc-2"));
        b.save(&mut s).unwrap();
        let backup: State = serde_json::from_str(&fs::read_to_string(b.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 1);
        assert_eq!(b.load().unwrap().serial, 2);
    }

    #[cfg(unix)]
    #[test]
    fn state_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("s.json"));
        let mut s = State::default();
        b.save(&mut s).unwrap();
        b.save(&mut s).unwrap();
        for p in [b.path().to_path_buf(), b.backup_path()] {
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }

    #[test]
    fn corrupt_and_unknown_versions_are_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        fs::write(&p, "{ not json").unwrap();
        let b = LocalBackend::new(&p);
        assert!(matches!(b.load(), Err(StateError::Corrupt { .. })));
        assert_eq!(fs::read_to_string(&p).unwrap(), "{ not json");
        fs::write(&p, r#"{"format_version": 9, "lineage": "x", "serial": 1, "resources": {}}"#).unwrap();
        let e = b.load().unwrap_err();
        assert!(e.to_string().contains("format version 9"), "{e}");
    }

    #[test]
    fn second_lock_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("s.json"));
        let held = b.lock("apply").unwrap();
        let e = b.lock("destroy").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`tandem apply` (pid"), "{msg}");
        drop(held);
        b.lock("destroy").unwrap();
    }
}
