//! The spec's `backend:` block: where the state is kept.
//!
//! ```yaml
//! backend:
//!   s3: { bucket: acme-tandem-state, key: contact-center/state.json, region: us-east-1, kms_key_id: alias/tandem-state }
//! ```
//!
//! Settings are literals, as in Terraform: the backend is needed before any
//! variable or resource is known. Per-environment values come from
//! `--backend-config KEY=VALUE` or `TANDEM_BACKEND_<KEY>` (flags win over the
//! environment, which wins over the spec).

use crate::diag::Code;
use crate::diag::{suggest, Problem, Problems, SourceFile};
use crate::yaml::{self, Node, NodeKind, Scalar, Span};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const BACKEND_TYPES: &[&str] = &["local", "s3"];
const LOCAL_KEYS: &[&str] = &["path", "kms_key_id", "kms_region"];
const S3_KEYS: &[&str] = &["bucket", "key", "region", "kms_key_id", "lock_key", "endpoint", "use_path_style"];

/// The `backend:` block as written.
#[derive(Debug, Clone)]
pub struct BackendSpec {
    pub source: Arc<SourceFile>,
    pub type_name: String,
    /// The span of the type's key (`s3:`): where "missing setting" points.
    pub span: Span,
    pub settings: IndexMap<String, (String, Span)>,
}

/// Where the state is kept, every setting resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackendConfig {
    Local {
        /// Relative to the spec's directory; `.tandem/state.json` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kms_key_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kms_region: Option<String>,
    },
    S3 {
        bucket: String,
        key: String,
        region: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kms_key_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lock_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        use_path_style: bool,
    },
}

impl BackendConfig {
    pub fn default_local() -> BackendConfig {
        BackendConfig::Local { path: None, kms_key_id: None, kms_region: None }
    }
    /// `local .tandem/state.json`, `s3://bucket/key`.
    pub fn describe(&self) -> String {
        match self {
            BackendConfig::Local { path, .. } => format!("local {}", path.as_deref().unwrap_or(".tandem/state.json")),
            BackendConfig::S3 { bucket, key, region, .. } => format!("s3://{bucket}/{key} ({region})"),
        }
    }
    pub fn kms_key_id(&self) -> Option<&str> {
        match self {
            BackendConfig::Local { kms_key_id, .. } | BackendConfig::S3 { kms_key_id, .. } => kms_key_id.as_deref(),
        }
    }
}

/// Read only the `backend:` block of a spec (commands that need the state
/// but not the resources: `state list`, `force-unlock`).
pub fn load_backend(source: SourceFile) -> Result<Option<BackendSpec>, Problems> {
    let src = Arc::new(source);
    let root = yaml::parse(&src.text).map_err(|e| {
        Problems(vec![Problem::new(Code::SpecYaml, format!("this is not valid YAML: {}", e.message)).at(&src, e.span, "here")])
    })?;
    let mut problems = Problems::default();
    let b = root.as_map().and_then(|m| m.get("backend")).and_then(|(_, n)| parse_backend(&src, n, &mut problems));
    problems.into_result(b)
}

pub(crate) fn parse_backend(src: &Arc<SourceFile>, node: &Node, problems: &mut Problems) -> Option<BackendSpec> {
    let Some(m) = node.as_map().filter(|m| m.len() == 1) else {
        problems.push(
            Problem::new(Code::SpecBackend, "`backend` names one backend type with its settings")
                .at(src, node.span, "expected one of `local:` or `s3:`")
                .help("for example `backend: { s3: { bucket: my-state, key: stack/state.json, region: us-east-1 } }`"),
        );
        return None;
    };
    let (type_name, (tspan, body)) = m.iter().next().expect("one entry");
    let known = match type_name.as_str() {
        "local" => LOCAL_KEYS,
        "s3" => S3_KEYS,
        other => {
            let p = Problem::new(Code::SpecBackend, format!("unknown backend type `{other}`")).at(src, *tspan, "not a backend type");
            problems.push(match suggest(other, BACKEND_TYPES.iter().copied()) {
                Some(s) => p.help(format!("did you mean `{s}`?")),
                None => p.help(format!("backend types: {}", BACKEND_TYPES.join(", "))),
            });
            return None;
        }
    };
    let mut settings = IndexMap::new();
    match &body.kind {
        NodeKind::Map(entries) => {
            for (k, (ks, v)) in entries {
                if !known.contains(&k.as_str()) {
                    let p = Problem::new(Code::SpecBackend, format!("unknown setting `{k}` for the {type_name} backend")).at(
                        src,
                        *ks,
                        "not a known setting",
                    );
                    problems.push(match suggest(k, known.iter().copied()) {
                        Some(s) => p.help(format!("did you mean `{s}`?")),
                        None => p.help(format!("settings: {}", known.join(", "))),
                    });
                    continue;
                }
                let text = match &v.kind {
                    NodeKind::Scalar(Scalar::Str(s)) => s.clone(),
                    NodeKind::Scalar(Scalar::Bool(b)) => b.to_string(),
                    NodeKind::Scalar(Scalar::Int(i)) => i.to_string(),
                    _ => {
                        problems.push(Problem::new(Code::SpecBackend, format!("`{k}` must be a string, found {}", v.describe())).at(
                            src,
                            v.span,
                            "expected a string",
                        ));
                        continue;
                    }
                };
                if text.contains("${") {
                    problems.push(
                        Problem::new(
                            Code::SpecBackend,
                            format!("`{k}` cannot use `${{...}}`: the backend is needed before variables and resources"),
                        )
                        .at(src, v.span, "a reference")
                        .help(format!(
                            "write a literal, or pass it per environment with `--backend-config {k}=VALUE` or TANDEM_BACKEND_{}",
                            k.to_uppercase()
                        )),
                    );
                    continue;
                }
                settings.insert(k.clone(), (text, v.span));
            }
        }
        NodeKind::Scalar(Scalar::Null) => {}
        _ => {
            problems.push(Problem::new(Code::SpecBackend, format!("the {type_name} backend's settings are a mapping")).at(
                src,
                body.span,
                "expected a mapping",
            ));
            return None;
        }
    }
    Some(BackendSpec { source: src.clone(), type_name: type_name.clone(), span: *tspan, settings })
}

/// Settings from outside the spec: `--backend-config KEY=VALUE` (`flags`) and
/// `TANDEM_BACKEND_<KEY>` (`env`).
#[derive(Debug, Clone, Default)]
pub struct BackendOverrides {
    pub flags: Vec<(String, String)>,
    pub env: BTreeMap<String, String>,
}

impl BackendOverrides {
    /// `TANDEM_BACKEND_<KEY>` from the process environment, keys lowercased.
    pub fn from_env() -> BTreeMap<String, String> {
        std::env::vars().filter_map(|(k, v)| k.strip_prefix("TANDEM_BACKEND_").map(|n| (n.to_lowercase(), v))).collect()
    }
}

/// Merge the block with the overrides and check that every required setting is there.
pub fn resolve_backend(spec: Option<&BackendSpec>, overrides: &BackendOverrides) -> Result<BackendConfig, Problems> {
    let type_name = spec.map(|b| b.type_name.as_str()).unwrap_or("local");
    let known = if type_name == "s3" { S3_KEYS } else { LOCAL_KEYS };
    let mut values: BTreeMap<String, String> =
        spec.map(|b| b.settings.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect()).unwrap_or_default();
    let mut problems = Problems::default();
    for (k, v) in overrides.env.iter().filter(|(k, _)| known.contains(&k.as_str())) {
        values.insert(k.clone(), v.clone());
    }
    for (k, v) in &overrides.flags {
        if !known.contains(&k.as_str()) {
            let p = Problem::new(Code::Usage, format!("`--backend-config {k}=...` is not a setting of the {type_name} backend"));
            problems.push(match suggest(k, known.iter().copied()) {
                Some(s) => p.help(format!("did you mean `{s}`?")),
                None => p.help(format!("settings: {}", known.join(", "))),
            });
            continue;
        }
        values.insert(k.clone(), v.clone());
    }
    let mut need = |k: &str| -> String {
        match values.get(k).filter(|v| !v.is_empty()) {
            Some(v) => v.clone(),
            None => {
                let p = Problem::new(Code::SpecBackend, format!("the {type_name} backend needs `{k}`")).help(format!(
                    "add `{k}:` to the spec's backend block, or pass `--backend-config {k}=VALUE` (or TANDEM_BACKEND_{})",
                    k.to_uppercase()
                ));
                problems.push(match spec {
                    Some(b) => p.at(&b.source, b.span, format!("no `{k}`")),
                    None => p,
                });
                String::new()
            }
        }
    };
    let cfg = if type_name == "s3" {
        let (bucket, key, region) = (need("bucket"), need("key"), need("region"));
        let use_path_style = match values.get("use_path_style").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                problems.push(Problem::new(Code::SpecBackend, format!("`use_path_style` is true or false, not `{other}`")));
                false
            }
        };
        BackendConfig::S3 {
            bucket,
            key,
            region,
            kms_key_id: values.get("kms_key_id").cloned(),
            lock_key: values.get("lock_key").cloned(),
            endpoint: values.get("endpoint").cloned(),
            use_path_style,
        }
    } else {
        BackendConfig::Local {
            path: values.get("path").cloned(),
            kms_key_id: values.get("kms_key_id").cloned(),
            kms_region: values.get("kms_region").cloned(),
        }
    };
    problems.into_result(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(t: &str) -> SourceFile {
        SourceFile { name: "t.yaml".into(), text: t.into() }
    }

    #[test]
    fn s3_block_resolves_with_flags_over_env_over_spec() {
        let b = load_backend(src("version: 1\nbackend:\n  s3: { bucket: b1, key: k, region: us-east-1 }\n")).unwrap();
        let ov = BackendOverrides {
            flags: vec![("key".into(), "prod/state.json".into())],
            env: BTreeMap::from([("key".into(), "env".into()), ("bucket".into(), "b2".into())]),
        };
        let c = resolve_backend(b.as_ref(), &ov).unwrap();
        assert_eq!(
            c,
            BackendConfig::S3 {
                bucket: "b2".into(),
                key: "prod/state.json".into(),
                region: "us-east-1".into(),
                kms_key_id: None,
                lock_key: None,
                endpoint: None,
                use_path_style: false
            }
        );
    }

    #[test]
    fn problems_point_at_the_block() {
        let e = load_backend(src("version: 1\nbackend:\n  s4: {}\n")).unwrap_err();
        assert!(e.to_string().contains("t.yaml:3:3") && e.0[0].help.as_deref() == Some("did you mean `s3`?"), "{e}");
        let e = load_backend(src("version: 1\nbackend:\n  s3: { bucket: b, key: \"${var.k}\", regin: x }\n")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("cannot use `${...}`") && text.contains("unknown setting `regin`"), "{text}");
        let b = load_backend(src("version: 1\nbackend:\n  s3: { bucket: b }\n")).unwrap();
        let e = resolve_backend(b.as_ref(), &BackendOverrides::default()).unwrap_err();
        assert!(e.to_string().contains("t.yaml:3:3: the s3 backend needs `key`"), "{e}");
        let e =
            resolve_backend(b.as_ref(), &BackendOverrides { flags: vec![("buckt".into(), "x".into())], env: BTreeMap::new() }).unwrap_err();
        assert!(e.to_string().contains("did you mean `bucket`"), "{e:?}");
    }

    #[test]
    fn no_block_is_the_local_default() {
        assert_eq!(resolve_backend(None, &BackendOverrides::default()).unwrap(), BackendConfig::default_local());
    }
}
