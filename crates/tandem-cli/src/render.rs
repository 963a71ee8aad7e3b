//! Everything the CLI prints: plans, progress, summaries, problems.

use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use tandem_core::{Action, Event, Plan, Reporter, Summary};
use tandem_spec::Problems;

pub fn problems(p: &Problems, json: bool) {
    if json {
        let list: Vec<Value> = p.iter().map(|p| p.to_json()).collect();
        println!("{}", serde_json::json!({ "valid": false, "problems": list }));
        return;
    }
    let graphical = std::io::stderr().is_terminal();
    for pr in p.iter() {
        eprintln!("{}", pr.render(graphical));
    }
    eprintln!("{} problem{} found.", p.len(), if p.len() == 1 { "" } else { "s" });
}

/// Allowed but worth a look (overlapping networks nothing connects), on
/// stderr, one per problem, with where and what to do.
pub fn warnings(w: &[tandem_spec::Problem]) {
    for p in w {
        let mut s = format!("warning[{}]: {p}", p.code);
        if let Some(h) = &p.help {
            s.push_str(&format!("\n  help: {h}"));
        }
        eprintln!("{s}");
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

pub fn plan_text(plan: &Plan) -> String {
    let mut s = String::new();
    if !plan.gone.is_empty() {
        s.push_str(&format!(
            "Deleted outside tandem (dropped from the state): {}\n\n",
            plan.gone.join(", ")
        ));
    }
    let changes: Vec<_> = plan.changes.iter().filter(|c| c.action != Action::NoOp).collect();
    if changes.is_empty() {
        s.push_str("No changes. The cloud matches the spec.\n");
        return s;
    }
    s.push_str("tandem will perform these actions:\n\n");
    for c in &changes {
        let place = match &c.region {
            Some(r) => format!("{}, {r}", c.type_name),
            None => c.type_name.clone(),
        };
        let why = if c.reasons.is_empty() { String::new() } else { format!(": {}", c.reasons.join("; ")) };
        s.push_str(&format!("  {} {} ({place}) will be {}{why}\n", c.action.symbol(), c.address, past(c.action)));
        let width = c.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
        for f in &c.fields {
            let after = if f.after_unknown {
                "(known after apply)".to_string()
            } else {
                f.after.as_ref().map(show).unwrap_or_else(|| "(unset)".into())
            };
            let forces = if f.forces_replacement && c.action == Action::Replace { "  # forces replacement" } else { "" };
            match (c.action, &f.before) {
                (Action::Create, _) => s.push_str(&format!("      {:width$} = {after}\n", f.field)),
                (_, Some(before)) => s.push_str(&format!("      {:width$}: {} -> {after}{forces}\n", f.field, show(before))),
                (_, None) => s.push_str(&format!("      {:width$}: (unset) -> {after}{forces}\n", f.field)),
            }
        }
    }
    s.push_str(&format!(
        "\nPlan: {} to create, {} to update, {} to replace, {} to delete.\n",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Replace),
        plan.count(Action::Delete)
    ));
    s
}

fn past(a: Action) -> &'static str {
    match a {
        Action::NoOp => "left alone",
        Action::Create => "created",
        Action::Update => "updated in place",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
    }
}

pub fn summary_text(s: &Summary, verb: &str) -> String {
    let mut out = String::new();
    for (a, e) in &s.failed {
        out.push_str(&format!("FAILED {a}: {e}\n"));
    }
    for (a, b) in &s.skipped {
        out.push_str(&format!("skipped {a}: `{b}` did not finish\n"));
    }
    if !s.cancelled.is_empty() {
        out.push_str(&format!("not started (interrupted): {}\n", s.cancelled.join(", ")));
    }
    out.push_str(&format!(
        "{verb} {}: {} created, {} updated, {} replaced, {} deleted, {} failed, {} skipped.\n",
        if s.ok() { "complete" } else { "incomplete" },
        s.created.len(),
        s.updated.len(),
        s.replaced.len(),
        s.deleted.len(),
        s.failed.len(),
        s.skipped.len() + s.cancelled.len()
    ));
    out
}

/// Progress as lines on stderr (human) or JSON lines on stdout.
pub struct Lines {
    pub json: bool,
    out: Mutex<()>,
}

impl Lines {
    pub fn new(json: bool) -> Self {
        Lines { json, out: Mutex::new(()) }
    }
}

impl Reporter for Lines {
    fn event(&self, e: &Event) {
        let _g = self.out.lock();
        if self.json {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{}", serde_json::to_string(e).unwrap_or_default());
            return;
        }
        let line = match e {
            Event::Started { address, op } => format!("{address}: {}...", op.doing()),
            Event::Progress { address, message } => format!("{address}: {message}"),
            Event::Finished { address, op, id, seconds } => match id {
                Some(id) if !id.is_empty() => format!("{address}: {} ({id}) in {seconds}s", op.done()),
                _ => format!("{address}: {} in {seconds}s", op.done()),
            },
            Event::Failed { address, op, error, seconds } => format!("{address}: {} failed after {seconds}s: {error}", op.doing()),
            Event::Skipped { address, because, .. } => format!("{address}: skipped, `{because}` did not finish"),
            Event::StateSaved { .. } => return,
        };
        eprintln!("{line}");
    }
}

/// `tandem preflight`: what was found per resource, then the permissions.
pub fn preflight_text(spec: &str, p: &tandem_core::Preflight) -> String {
    use std::fmt::Write;
    use tandem_provider::FindingStatus;
    let mut out = format!("Preflight of {spec}: what a real account needs before apply.\n");
    if p.findings.is_empty() {
        out.push_str("  (nothing in this spec has account-level checks)\n");
    }
    for (address, findings) in &p.findings {
        for f in findings {
            let tag = match f.status {
                FindingStatus::Ok => "ok",
                FindingStatus::Unknown => "??",
                FindingStatus::Warn => "warn",
                FindingStatus::Fail => "FAIL",
            };
            let _ = writeln!(out, "  {tag:<4} {address}: {}: {}", f.check, f.detail);
        }
    }
    let _ = writeln!(out, "\nPermissions the spec's kinds call with ({}); `tandem preflight --iam-policy` prints the AWS ones as a policy:", p.permissions.len());
    let mut by_service: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for perm in &p.permissions {
        let (service, action) = perm.split_once([':', '.']).unwrap_or(("", perm));
        by_service.entry(service).or_default().push(action);
    }
    for (service, actions) in by_service {
        let _ = writeln!(out, "  {service}: {}", actions.join(", "));
    }
    if !p.unlisted.is_empty() {
        let _ = writeln!(out, "  (no list for: {})", p.unlisted.join(", "));
    }
    let failed = p.findings.iter().flat_map(|(_, f)| f).filter(|f| f.status == FindingStatus::Fail).count();
    let _ = writeln!(out, "\n{}", if failed == 0 { "Preflight passed.".to_string() } else { format!("Preflight FAILED: {failed} check(s) would stop apply on this account.") });
    out
}

/// The AWS actions among `permissions` as an IAM policy document (GCP
/// permissions go to a custom role instead and are left out).
pub fn iam_policy(permissions: &[String]) -> serde_json::Value {
    let actions: Vec<&String> = permissions.iter().filter(|p| p.contains(':')).collect();
    serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Sid": "TandemSpec", "Effect": "Allow", "Action": actions, "Resource": "*" }] })
}
