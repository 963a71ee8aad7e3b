//! The spec as text: a header saying where it came from and what was not
//! migrated, then each resource with the Terraform address it came from and
//! what it does not carry, as comments. And the secrets file.

use crate::each::Group;
use crate::tfstate::TfState;
use crate::{Node, Options, Report};
use serde_json::{json, Map, Value};

/// The file sensitive variables are written to, next to the spec.
pub const SECRETS_FILE: &str = "tandem.secrets.yaml";

/// Secret values no other resource's output gives (a user's password)
/// become sensitive variables; the values go to [`SECRETS_FILE`].
pub fn secrets(nodes: &mut [Node]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for n in nodes.iter_mut() {
        for field in n.mapped.secrets.clone() {
            let Some(v) = n.spec_props.get(&field) else { continue };
            if v.as_str().is_some_and(|s| s.starts_with("${") && !s.starts_with("$${")) {
                continue;
            }
            let name = crate::sanitize(&format!("{}_{field}", n.address.replace(['[', ']'], "_"))).trim_end_matches('_').to_string();
            out.push((name.clone(), n.mapped.props.get(&field).cloned().unwrap_or(Value::Null)));
            n.spec_props.insert(field, Value::String(format!("${{var.{name}}}")));
        }
    }
    out
}

pub fn secrets_file(secrets: &[(String, Value)]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let mut text = String::from("# Secrets `tandem migrate` found in the Terraform state: pass with --var-file. Keep this file private.\n");
    let m: Map<String, Value> = secrets.iter().cloned().collect();
    text.push_str(&crate::yaml_out::to_string(&Value::Object(m)));
    Some(text)
}

pub fn spec(nodes: &[Node], tf: &TfState, opts: &Options, report: &Report, secrets: &[(String, Value)]) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "# Migrated from Terraform by `tandem migrate` ({}{}).\n",
        opts.source,
        if tf.terraform_version.is_empty() { String::new() } else { format!(", Terraform {}", tf.terraform_version) }
    ));
    t.push_str("# The state beside it (.tandem/state.json) adopts every resource below by\n# its cloud id: nothing was created or changed. `tandem plan --detailed-exitcode`\n# exits 0 when the cloud matches.\n");
    let skipped: Vec<_> = report.entries.iter().filter(|e| e.outcome == "skipped").collect();
    if !skipped.is_empty() {
        t.push_str("#\n# Not migrated (each stays as it is in the cloud, not managed by tandem):\n");
        for e in skipped {
            t.push_str(&comment(&format!("{}: {}", e.terraform, e.reason.as_deref().unwrap_or_default()), "#   "));
        }
    }
    t.push_str("version: 1\n");
    t.push_str(&format!("name: {}\n", yaml_scalar(&opts.name)));
    if !secrets.is_empty() {
        t.push_str(&format!("# Values in {SECRETS_FILE} (pass `--var-file {SECRETS_FILE}`).\nvariables:\n"));
        for (name, _) in secrets {
            t.push_str(&format!("  {name}: {{ type: string, sensitive: true }}\n"));
        }
    }
    t.push_str("resources:\n");
    let mut stage_order: Vec<Option<String>> = Vec::new();
    for n in nodes {
        if !stage_order.contains(&n.stage) {
            stage_order.push(n.stage.clone());
        }
    }
    for stage in &stage_order {
        t.push_str(&match stage {
            Some(s) => format!("\n  # ---- module.{s} (stage {s}) ----\n"),
            None => "\n  # ---- root module ----\n".to_string(),
        });
        for n in nodes.iter().filter(|n| &n.stage == stage) {
            let (address, for_each, props) = match &n.group {
                Some(Group::Member) => continue,
                Some(Group::Head { for_each, props }) => (n.base.clone(), Some(for_each.clone()), props.clone()),
                _ => (n.address.clone(), None, n.spec_props.clone()),
            };
            let mut from: Vec<String> = vec![n.terraform.clone()];
            let mut notes: Vec<String> = n.mapped.notes.clone();
            if matches!(n.group, Some(Group::Head { .. })) {
                from = nodes.iter().filter(|m| m.res == n.res).map(|m| m.terraform.clone()).collect();
                for m in nodes.iter().filter(|m| m.res == n.res && m.address != n.address) {
                    notes.extend(m.mapped.notes.iter().filter(|x| !notes.contains(x)).cloned().collect::<Vec<_>>());
                }
            }
            if let Some(Group::Apart(fields)) = &n.group {
                notes.push(format!(
                    "Terraform's {} made these together; they differ in {}, so they are declared one by one",
                    tf.resources[n.res].each_mode().unwrap_or("for_each"),
                    fields.join(", ")
                ));
            }
            t.push_str(&format!("  # from {}\n", from.join(", ")));
            for note in &notes {
                t.push_str(&comment(&format!("not carried: {note}"), "  # "));
            }
            let mut body = Map::new();
            body.insert("type".into(), json!(n.mapped.kind));
            if let Some(s) = &n.stage {
                body.insert("stage".into(), json!(s));
            }
            if let Some(r) = &n.region {
                body.insert("region".into(), json!(r));
            }
            if let Some(f) = for_each {
                body.insert("for_each".into(), f);
            }
            body.insert("properties".into(), Value::Object(props));
            let mut entry = Map::new();
            entry.insert(address, Value::Object(body));
            let yaml = crate::yaml_out::to_string(&Value::Object(entry));
            for line in yaml.lines() {
                t.push_str("  ");
                t.push_str(line);
                t.push('\n');
            }
        }
    }
    t
}

fn comment(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() > 96 {
            out.push_str(&format!("{prefix}{line}\n"));
            line = format!("  {word}");
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    if !line.is_empty() {
        out.push_str(&format!("{prefix}{line}\n"));
    }
    out
}

fn yaml_scalar(s: &str) -> String {
    crate::yaml_out::scalar(s)
}
