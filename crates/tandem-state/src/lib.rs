//! The state file: what tandem made, with cloud ids and outputs.
//!
//! JSON, versioned (`format_version`), with a `lineage` fixed at creation and
//! a `serial` bumped on every write. Writes are atomic (temp file in the same
//! directory, fsync, rename, fsync of the directory), keep the previous
//! version as `<file>.backup`, and leave the file readable by its owner only.
//! A state that does not parse, or has a version this tandem does not know,
//! is refused and never overwritten.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The format this tandem writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the state file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the state file {path} is corrupt ({detail}); it was left untouched. Restore it from {path}.backup or fix it by hand")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the state file {path} has format version {found}; this tandem reads version {FORMAT_VERSION}. Use the tandem that wrote it")]
    UnknownVersion { path: PathBuf, found: u64 },
    #[error("the state {path} is locked by {holder}; wait for it to finish, or if that process is gone, delete {lock}")]
    Locked { path: PathBuf, lock: PathBuf, holder: String },
}

/// One resource tandem made or imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The cloud's id.
    pub id: String,
    /// The properties as last applied (or read, for imports), resolved.
    pub properties: Map<String, Value>,
    pub outputs: BTreeMap<String, Value>,
    /// Addresses this resource depended on when applied: destroy order
    /// must hold even after the spec no longer mentions it.
    #[serde(default)]
    pub dependencies: BTreeSet<String>,
    /// A create got part way (made, but not confirmed usable); the next apply replaces it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tainted: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub prevent_destroy: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Set once when the state is first written; a plan made against another lineage is refused.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    #[serde(default)]
    pub spec_name: String,
    pub resources: BTreeMap<String, ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub value: Value,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            spec_name: String::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

/// The local state file and its lock.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    path: PathBuf,
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalBackend { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    /// Read the state; a missing file is an empty state (nothing made yet).
    pub fn load(&self) -> Result<State, StateError> {
        let mut text = String::new();
        match File::open(&self.path) {
            Ok(mut f) => {
                f.read_to_string(&mut text).map_err(|source| StateError::Read { path: self.path.clone(), source })?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(source) => return Err(StateError::Read { path: self.path.clone(), source }),
        }
        parse(&self.path, &text)
    }

    /// Write `state` atomically, bumping its serial; the previous file becomes the backup.
    pub fn save(&self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        let err = |source| StateError::Write { path: self.path.clone(), source };
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(err)?;
        let mut text = serde_json::to_string_pretty(state).expect("state serializes");
        text.push('\n');
        let mut tmp = tempfile::Builder::new().prefix(".tandem-state-").tempfile_in(dir).map_err(err)?;
        set_owner_only(tmp.as_file()).map_err(err)?;
        tmp.write_all(text.as_bytes()).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        if self.path.exists() {
            // A copy, not a rename: the live file must exist at every instant.
            fs::copy(&self.path, self.backup_path()).map_err(err)?;
            if let Ok(f) = File::open(self.backup_path()) {
                let _ = set_owner_only(&f);
            }
        }
        tmp.persist(&self.path).map_err(|e| err(e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Take the exclusive lock, failing at once (naming the holder) if another process has it.
    pub fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        let lock_path = self.lock_path();
        let err = |source| StateError::Write { path: lock_path.clone(), source };
        if let Some(dir) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(err)?;
        }
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).map_err(err)?;
        match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = describe_holder(&holder);
                return Err(StateError::Locked { path: self.path.clone(), lock: lock_path, holder });
            }
            Err(e) => return Err(err(e)),
        }
        let info = LockInfo {
            pid: std::process::id(),
            operation: operation.to_string(),
            host: hostname(),
            since: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        };
        file.set_len(0).map_err(err)?;
        file.write_all(serde_json::to_string(&info).expect("lock info serializes").as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
        Ok(StateLock { file, path: lock_path })
    }
}

fn describe_holder(text: &str) -> String {
    match serde_json::from_str::<LockInfo>(text) {
        Ok(i) => format!("`tandem {}` (pid {} on {}, since {})", i.operation, i.pid, i.host, i.since),
        Err(_) => "another tandem process".to_string(),
    }
}

fn hostname() -> String {
    fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "this host".into())
}

#[derive(Debug, Serialize, Deserialize)]
struct LockInfo {
    pid: u32,
    operation: String,
    host: String,
    since: String,
}

/// Held while an operation may write the state; released on drop.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
        let _ = &self.path;
    }
}

fn parse(path: &Path, text: &str) -> Result<State, StateError> {
    let raw: Value = serde_json::from_str(text)
        .map_err(|e| StateError::Corrupt { path: path.to_path_buf(), detail: format!("not JSON: {e}") })?;
    let version = raw.get("format_version").and_then(Value::as_u64).ok_or_else(|| StateError::Corrupt {
        path: path.to_path_buf(),
        detail: "no format_version".into(),
    })?;
    if version != FORMAT_VERSION as u64 {
        return Err(StateError::UnknownVersion { path: path.to_path_buf(), found: version });
    }
    serde_json::from_value(raw).map_err(|e| StateError::Corrupt { path: path.to_path_buf(), detail: e.to_string() })
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(unix)]
fn set_owner_only(f: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
