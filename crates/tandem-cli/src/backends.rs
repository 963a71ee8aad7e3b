//! From flags and the spec's `backend:` block to an open state store, and
//! the record (`.tandem/backend.json`) that notices when the backend changes.

use crate::{invalid, Failure};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_spec::{BackendConfig, BackendOverrides, SourceFile};
use tandem_state::{Backend, Keyring, LocalBackend, Store};
use tandem_state_aws::{KmsKeys, S3Backend, S3Config};

/// An open store and what it was opened from.
pub struct Opened {
    pub store: Store,
    pub config: BackendConfig,
    /// The spec's directory: relative local paths and the record live there.
    pub dir: PathBuf,
    /// Set when `--state FILE` chose the file: no record, no migration check.
    pub explicit: bool,
}

fn spec_dir(spec: &Path) -> PathBuf {
    spec.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

pub fn overrides(flags: &[String], json: bool) -> Result<BackendOverrides, Failure> {
    let mut o = BackendOverrides { flags: Vec::new(), env: BackendOverrides::from_env() };
    for f in flags {
        let Some((k, v)) = f.split_once('=') else {
            return Err(invalid(format!("`--backend-config {f}` must look like `--backend-config key=value`"), json));
        };
        o.flags.push((k.trim().to_string(), v.to_string()));
    }
    Ok(o)
}

/// The backend the spec (with overrides) names; `--state FILE` means that local file.
pub fn config(spec: &Path, state: Option<&Path>, flags: &[String], json: bool) -> Result<(BackendConfig, bool), Failure> {
    let text = match std::fs::read_to_string(spec) {
        Ok(t) => Some(t),
        // Without a spec, state commands still work on the default local file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(invalid(format!("cannot read the spec {}: {e}", spec.display()), json)),
    };
    let block = match text {
        Some(text) => {
            tandem_spec::load_backend(SourceFile { name: spec.display().to_string(), text }).map_err(|p| Failure::Invalid(p, json))?
        }
        None => None,
    };
    if let Some(path) = state {
        if block.as_ref().is_some_and(|b| b.type_name != "local") {
            return Err(invalid(
                format!(
                    "`--state {}` names a local file, but the spec keeps its state in the {} backend; drop --state",
                    path.display(),
                    block.map(|b| b.type_name).unwrap_or_default()
                ),
                json,
            ));
        }
        return Ok((BackendConfig::Local { path: Some(path.display().to_string()), kms_key_id: None, kms_region: None }, true));
    }
    let cfg = tandem_spec::resolve_backend(block.as_ref(), &overrides(flags, json)?).map_err(|p| Failure::Invalid(p, json))?;
    Ok((cfg, false))
}

/// Open the store a config names. KMS can always open a KMS-encrypted
/// state; it makes new keys only when `kms_key_id` is set (it then wins over
/// a passphrase).
pub async fn open_config(cfg: &BackendConfig, dir: &Path) -> Store {
    let mut keys = Keyring::from_env();
    let region = match cfg {
        BackendConfig::S3 { region, .. } => region.clone(),
        BackendConfig::Local { kms_region, .. } => kms_region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".into()),
    };
    let kms: Arc<dyn tandem_state::KeyProvider> = Arc::new(KmsKeys::new(cfg.kms_key_id().map(str::to_string), region, None));
    if cfg.kms_key_id().is_some() {
        keys.wanted = Some(kms.clone());
    }
    keys.openers.push(kms);
    let backend: Arc<dyn Backend> = match cfg {
        BackendConfig::Local { path, .. } => Arc::new(LocalBackend::new(local_path(path.as_deref(), dir))),
        BackendConfig::S3 { bucket, key, region, lock_key, endpoint, use_path_style, .. } => Arc::new(
            S3Backend::new(S3Config {
                bucket: bucket.clone(),
                key: key.clone(),
                region: region.clone(),
                lock_key: lock_key.clone(),
                endpoint: endpoint.clone(),
                use_path_style: *use_path_style,
            })
            .await,
        ),
    };
    let store = Store::new(backend, keys);
    tell_waits(&store);
    store
}

fn local_path(path: Option<&str>, dir: &Path) -> PathBuf {
    match path {
        Some(p) if Path::new(p).is_absolute() => PathBuf::from(p),
        Some(p) => dir.join(p),
        None => tandem_state::default_path(dir),
    }
}

/// Open the state for a command, refusing when the backend changed since
/// the state was last kept somewhere else (`tandem init --migrate-state`).
pub async fn open(spec: &Path, state: Option<&Path>, flags: &[String], json: bool) -> Result<Opened, Failure> {
    let (config, explicit) = config(spec, state, flags, json)?;
    let dir = spec_dir(spec);
    if !explicit {
        if let Some(previous) = previous(&config, &dir) {
            if !same_place(&previous, &config) {
                return Err(Failure::Failed(format!(
                    "the backend changed: the state was kept in {} and the spec now names {}. Run `tandem init --migrate-state` to copy the state over, or `tandem init --reconfigure` to use {} as it is",
                    previous.describe(),
                    config.describe(),
                    config.describe()
                )));
            }
        }
        record(&config, &dir);
    }
    let store = open_config(&config, &dir).await;
    Ok(Opened { store, config, dir, explicit })
}

/// Lock waits are told on stderr: stdout stays the command's output.
fn tell_waits(store: &Store) {
    store.on_lock_wait(|msg| errln!("{msg}"));
}

#[derive(Serialize, Deserialize)]
struct Record {
    backend: BackendConfig,
}

fn record_path(dir: &Path) -> PathBuf {
    dir.join(".tandem").join("backend.json")
}

/// The backend this directory used last: the record, or, without one, the
/// default local file when it holds a state.
pub fn previous(current: &BackendConfig, dir: &Path) -> Option<BackendConfig> {
    if let Some(r) = std::fs::read_to_string(record_path(dir)).ok().and_then(|t| serde_json::from_str::<Record>(&t).ok()) {
        // An empty local state is nothing to migrate.
        if let BackendConfig::Local { path, .. } = &r.backend {
            if !LocalBackend::new(local_path(path.as_deref(), dir)).load().is_ok_and(|s| !s.resources.is_empty()) {
                return None;
            }
        }
        return Some(r.backend);
    }
    let local = BackendConfig::default_local();
    let has_state = LocalBackend::new(local_path(None, dir)).load().is_ok_and(|s| !s.resources.is_empty());
    (has_state && !same_place(&local, current)).then_some(local)
}

/// Whether two configs name the same state (the key it is encrypted with may differ).
pub fn same_place(a: &BackendConfig, b: &BackendConfig) -> bool {
    match (a, b) {
        (BackendConfig::Local { path: p1, .. }, BackendConfig::Local { path: p2, .. }) => {
            p1.as_deref().unwrap_or(tandem_state::DEFAULT_PATH) == p2.as_deref().unwrap_or(tandem_state::DEFAULT_PATH)
        }
        (
            BackendConfig::S3 { bucket: b1, key: k1, region: r1, endpoint: e1, .. },
            BackendConfig::S3 { bucket: b2, key: k2, region: r2, endpoint: e2, .. },
        ) => (b1, k1, r1, e1) == (b2, k2, r2, e2),
        _ => false,
    }
}

/// Remember the backend for the next command (best effort: a read-only
/// directory only loses the change check).
pub fn record(config: &BackendConfig, dir: &Path) {
    let path = record_path(dir);
    let text = serde_json::to_string_pretty(&Record { backend: config.clone() }).unwrap_or_default();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        return;
    }
    if let Some(d) = path.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    let _ = std::fs::write(&path, text);
}

/// The failure for a state error.
pub fn state_err(e: tandem_state::StateError) -> Failure {
    Failure::Failed(e.to_string())
}
