//! Which region each AWS provider configuration works in. Provider version
//! 5 keeps no region on resources, so it comes from the Terraform
//! configuration's provider blocks (`--tf-dir`) or, failing that, from the
//! ARNs (and availability zones) of the resources under that configuration.

use crate::tfstate::TfState;
use serde_json::Value;
use std::collections::BTreeMap;

pub fn provider_regions(tf: &TfState, configured: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut votes: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in tf.resources.iter().filter(|r| r.provider_type() == "aws") {
        for i in &r.instances {
            let a = &i.attributes;
            let region = a.get("arn").and_then(Value::as_str).and_then(crate::map::arn_region).map(str::to_string).or_else(|| {
                a.get("availability_zone").and_then(Value::as_str).filter(|z| z.len() > 1).map(|z| z[..z.len() - 1].to_string())
            });
            if let Some(region) = region {
                *votes.entry(r.provider_config()).or_default().entry(region).or_default() += 1;
            }
        }
    }
    let mut out: BTreeMap<String, String> =
        votes.into_iter().filter_map(|(p, v)| v.into_iter().max_by_key(|(_, n)| *n).map(|(r, _)| (p, r))).collect();
    for (p, r) in configured {
        out.insert(p.clone(), r.clone());
    }
    out
}

/// `provider "aws" { alias = "x" region = "..." }` blocks of a Terraform
/// configuration's root module (its `.tf` texts), with `region = var.NAME`
/// resolved from the variable's `default` or a `.tfvars` text. Only
/// literal values are understood; anything else is left to the ARNs.
pub fn from_configuration(tf_files: &[String], tfvars: &[String]) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for text in tf_files {
        for (name, body) in blocks(text, "variable") {
            if let Some(d) = attr(&body, "default") {
                vars.insert(name, d);
            }
        }
    }
    for text in tfvars {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                if let Some(v) = literal(v.trim()) {
                    vars.insert(k.trim().to_string(), v);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for text in tf_files {
        for (name, body) in blocks(text, "provider") {
            if name != "aws" {
                continue;
            }
            let config = match attr(&body, "alias") {
                Some(a) => format!("aws.{a}"),
                None => "aws".to_string(),
            };
            let region = raw_attr(&body, "region")
                .and_then(|v| literal(&v).or_else(|| v.strip_prefix("var.").and_then(|n| vars.get(n.trim()).cloned())));
            if let Some(r) = region {
                out.insert(config, r);
            }
        }
    }
    out
}

/// `KIND "NAME" { BODY }` blocks at any depth, with their bodies.
fn blocks(text: &str, kind: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    let open = format!("{kind} \"");
    while let Some(i) = rest.find(&open) {
        let at_line_start = rest[..i].rsplit('\n').next().is_some_and(|l| l.trim().is_empty());
        let after = &rest[i + open.len()..];
        let Some(q) = after.find('"') else { break };
        let name = after[..q].to_string();
        let Some(b) = after.find('{') else { break };
        let mut depth = 0;
        let mut end = None;
        for (j, c) in after[b..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(b + j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(e) = end else { break };
        if at_line_start {
            out.push((name, after[b + 1..e].to_string()));
        }
        rest = &after[e..];
    }
    out
}

fn raw_attr(body: &str, key: &str) -> Option<String> {
    body.lines().chain(body.split(';')).find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim().trim_start_matches('{').trim() == key).then(|| v.trim().trim_end_matches('}').trim().to_string())
    })
}

fn attr(body: &str, key: &str) -> Option<String> {
    raw_attr(body, key).and_then(|v| literal(&v))
}

fn literal(v: &str) -> Option<String> {
    let v = v.split('#').next().unwrap_or(v).trim();
    v.strip_prefix('"').and_then(|s| s.split('"').next()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_blocks_with_literals_and_variables() {
        let tf = r#"
provider "aws" {
  region = var.primary_region
}

provider "aws" {
  alias  = "secondary"
  region = "us-west-2"
}

provider "google" {
  region = "us-east4"
}
variable "primary_region" { default = "us-east-1" }
"#;
        let got = from_configuration(&[tf.to_string()], &[]);
        assert_eq!(got.get("aws").map(String::as_str), Some("us-east-1"));
        assert_eq!(got.get("aws.secondary").map(String::as_str), Some("us-west-2"));
        let got = from_configuration(&[tf.to_string()], &["primary_region = \"eu-central-1\"".to_string()]);
        assert_eq!(got.get("aws").map(String::as_str), Some("eu-central-1"));
    }
}
