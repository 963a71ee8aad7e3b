//! What `tandem plan --out` writes and `tandem apply PLANFILE` reads: the
//! plan, and the spec and variables it was made from, so the apply loads
//! exactly what was planned. Variables keep their types (a number stays a
//! number, a list a list); sensitive ones are sealed with the state's data
//! key (`encryption` says which), so the file holds no secret in plaintext.
//! Written atomically and readable by the owner only, like the state.

use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tandem_spec::{BackendConfig, SourceFile, VarInputs};

/// The format this tandem writes and reads.
pub const PLAN_FORMAT: &str = "tandem-plan/2";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanFile {
    pub format: String,
    pub spec_name: String,
    pub spec_text: String,
    /// Every variable's value as the plan used it (sealed when sensitive and a key exists).
    pub variables: BTreeMap<String, Value>,
    /// Where the state is (a local path made absolute).
    pub backend: BackendConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<tandem_state::KeyHeader>,
    pub plan: Plan,
}

/// Why a plan file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("{path} is not a tandem plan file of this version ({PLAN_FORMAT}): {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path} has plan format {found}; this tandem reads {PLAN_FORMAT}")]
    Format { path: String, found: String },
    #[error("cannot write the plan to {path}: {detail}")]
    Write { path: String, detail: String },
}

impl PlanFile {
    /// Writes the file atomically, readable by the owner only.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let err = |detail: String| PlanFileError::Write { path: path.display().to_string(), detail };
        let text = serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))?;
        tandem_state::write_private_atomic(path, text.as_bytes()).map_err(|e| err(e.to_string()))
    }

    /// Parses `text` (read from `path`) and checks its format.
    pub fn parse(path: &Path, text: &str) -> Result<PlanFile, PlanFileError> {
        let pf: PlanFile = serde_json::from_str(text)
            .map_err(|e| PlanFileError::Unreadable { path: path.display().to_string(), detail: e.to_string() })?;
        if pf.format != PLAN_FORMAT {
            return Err(PlanFileError::Format { path: path.display().to_string(), found: pf.format });
        }
        Ok(pf)
    }

    /// The variables as the spec loader takes them, types kept: one var file
    /// (JSON is YAML) holding every value, after `open` unseals the sealed ones.
    pub fn var_inputs<E>(&self, mut open: impl FnMut(&Value) -> Result<Value, E>) -> Result<VarInputs, E> {
        let mut values = serde_json::Map::new();
        for (k, v) in &self.variables {
            values.insert(k.clone(), open(v)?);
        }
        let text = serde_json::to_string_pretty(&Value::Object(values)).unwrap_or_else(|_| "{}".into());
        let file = SourceFile { name: format!("the variables saved in the plan of {}", self.spec_name), text };
        Ok(VarInputs { files: vec![file], ..Default::default() })
    }
}

/// The backend as a plan file records it: a local path that works from anywhere.
pub fn absolute_backend(cfg: &BackendConfig, dir: &Path, explicit: bool) -> BackendConfig {
    match cfg {
        BackendConfig::Local { path, kms_key_id, kms_region } => {
            let p = match path {
                Some(p) if explicit || Path::new(p).is_absolute() => PathBuf::from(p),
                Some(p) => dir.join(p),
                None => tandem_state::default_path(dir),
            };
            let p =
                std::fs::canonicalize(p.parent().unwrap_or(Path::new("."))).map(|d| d.join(p.file_name().unwrap_or_default())).unwrap_or(p);
            BackendConfig::Local { path: Some(p.display().to_string()), kms_key_id: kms_key_id.clone(), kms_region: kms_region.clone() }
        }
        other => other.clone(),
    }
}
