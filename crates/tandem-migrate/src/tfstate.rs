//! Terraform's state file, format version 4 (Terraform 0.12 and later): the
//! parts a migration reads. Attributes stay JSON: each mapping reads the
//! attributes of its own resource type.
//! https://github.com/hashicorp/terraform/blob/main/internal/states/statefile/version4.go

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct TfState {
    pub version: u64,
    #[serde(default)]
    pub terraform_version: String,
    #[serde(default)]
    pub lineage: String,
    #[serde(default)]
    pub resources: Vec<TfResource>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TfResource {
    /// `module.aws_connect` (or `module.a.module.b`); absent in the root module.
    #[serde(default)]
    pub module: Option<String>,
    /// `managed` or `data`.
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    /// `provider["registry.terraform.io/hashicorp/aws"].secondary`
    pub provider: String,
    /// `list` (count) or `map` (for_each), as Terraform before 0.13 wrote it;
    /// newer states say it only by the instances' index keys ([`TfResource::each_mode`]).
    #[serde(default)]
    pub each: Option<String>,
    pub instances: Vec<TfInstance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TfInstance {
    /// The count index (number) or for_each key (string).
    #[serde(default)]
    pub index_key: Option<Value>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Terraform marks deposed and tainted objects; a tainted one is replaced
    /// on its next apply, so tandem takes it as tainted too.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub deposed: Option<String>,
}

impl TfResource {
    /// `count` or `for_each` when the resource has either, from its instances' keys.
    pub fn each_mode(&self) -> Option<&'static str> {
        match self.instances.iter().find_map(|i| i.index_key.as_ref()) {
            Some(Value::String(_)) => Some("for_each"),
            Some(_) => Some("count"),
            None => match self.each.as_deref() {
                Some("map") => Some("for_each"),
                Some("list") => Some("count"),
                _ => None,
            },
        }
    }

    /// `module.aws_connect.aws_vpc.primary`, as Terraform prints it.
    pub fn address(&self) -> String {
        let base = format!("{}{}.{}", if self.mode == "data" { "data." } else { "" }, self.type_name, self.name);
        match &self.module {
            Some(m) => format!("{m}.{base}"),
            None => base,
        }
    }

    /// The instance's address: `...aws_subnet.a[0]`, `...aws_queue.q["support"]`.
    pub fn instance_address(&self, i: &TfInstance) -> String {
        match &i.index_key {
            Some(Value::String(k)) => format!("{}[{k:?}]", self.address()),
            Some(k) => format!("{}[{k}]", self.address()),
            None => self.address(),
        }
    }

    /// The first module of the path (`module.aws_connect.module.x` -> `aws_connect`).
    pub fn top_module(&self) -> Option<&str> {
        self.module
            .as_deref()
            .and_then(|m| m.strip_prefix("module."))
            .map(|m| m.split('.').next().unwrap_or(m))
            .map(|m| m.split('[').next().unwrap_or(m))
    }

    /// `aws` or `google` from the provider address.
    pub fn provider_type(&self) -> &str {
        let inner = self.provider.split('"').nth(1).unwrap_or(&self.provider);
        inner.rsplit('/').next().unwrap_or(inner)
    }

    /// The provider configuration (`aws`, `aws.secondary`, with the module when
    /// the configuration is a module's own): resources under one share a region.
    pub fn provider_config(&self) -> String {
        let alias = self.provider.rsplit_once("].").map(|(_, a)| format!(".{a}")).unwrap_or_default();
        let module = self.provider.split("provider[").next().unwrap_or("").trim_end_matches('.');
        format!("{}{}{}", if module.is_empty() { String::new() } else { format!("{module}.") }, self.provider_type(), alias)
    }
}

impl TfInstance {
    pub fn key(&self) -> Option<String> {
        match &self.index_key {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{source_name}:{line}:{column}: this is not a Terraform state file: {message}")]
    Syntax { source_name: String, line: usize, column: usize, message: String },
    #[error("{source_name}: Terraform state format version {found}; tandem reads version 4 (Terraform 0.12 and later). Upgrade it with `terraform state pull > terraform.tfstate` under Terraform 0.12+")]
    Version { source_name: String, found: u64 },
}

/// Parse a state file's text; `source_name` names it in errors.
pub fn parse(source_name: &str, text: &str) -> Result<TfState, ParseError> {
    let version = serde_json::from_str::<Value>(text)
        .map_err(|e| ParseError::Syntax { source_name: source_name.into(), line: e.line(), column: e.column(), message: e.to_string() })?
        .get("version")
        .and_then(Value::as_u64);
    match version {
        Some(4) => {}
        Some(found) => return Err(ParseError::Version { source_name: source_name.into(), found }),
        None => {
            return Err(ParseError::Syntax {
                source_name: source_name.into(),
                line: 1,
                column: 1,
                message: "it has no `version` (expected 4)".into(),
            })
        }
    }
    serde_json::from_str(text).map_err(|e| ParseError::Syntax {
        source_name: source_name.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_providers() {
        let r: TfResource = serde_json::from_value(serde_json::json!({
            "module": "module.aws_connect", "mode": "managed", "type": "aws_kinesis_stream", "name": "primary",
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"].secondary", "each": "map",
            "instances": [{"index_key": "ctr", "attributes": {}}]
        }))
        .unwrap();
        assert_eq!(r.instance_address(&r.instances[0]), "module.aws_connect.aws_kinesis_stream.primary[\"ctr\"]");
        assert_eq!(r.top_module(), Some("aws_connect"));
        assert_eq!(r.provider_type(), "aws");
        assert_eq!(r.provider_config(), "aws.secondary");
    }

    #[test]
    fn errors_name_the_place_and_the_version() {
        let e = parse("t.tfstate", "{\n  \"version\": 4,\n  \"resources\": [}").unwrap_err().to_string();
        assert!(e.starts_with("t.tfstate:3:"), "{e}");
        let e = parse("t.tfstate", r#"{"version": 3}"#).unwrap_err().to_string();
        assert!(e.contains("version 3") && e.contains("version 4"), "{e}");
    }
}
