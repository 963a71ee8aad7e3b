//! Everything the CLI prints: plans, progress, summaries, problems.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_core::{Action, Event, Op, Plan, Reporter, Summary};
use tandem_spec::Problems;

/// The JSON output's format: the first line of every `--json` stream says
/// it (docs/json.md). Bumped when a field changes meaning or goes away.
pub const JSON_FORMAT: &str = "tandem-json/1";

static VERSION_SENT: AtomicBool = AtomicBool::new(false);

/// Colour on stdout: a terminal, `NO_COLOR` unset or empty, `TERM` not dumb
/// (https://no-color.org). Set once by main.
static COLOR: AtomicBool = AtomicBool::new(false);

/// Whether `stream` should get colour.
pub fn wants_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

pub fn set_color(on: bool) {
    COLOR.store(on, Ordering::Relaxed);
}

/// `text` in the ANSI colour `code` (32 green, 33 yellow, 31 red) when colour is on.
fn paint(text: &str, code: u8) -> String {
    if COLOR.load(Ordering::Relaxed) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// The `plan` line of a stream (plan, apply, destroy).
pub fn plan_line(plan: &Plan) {
    json_line("plan", serde_json::json!({ "changes": plan.has_changes(), "plan": plan }));
}

/// The `summary` line of an apply or destroy.
pub fn summary_line(summary: &Summary) {
    json_line("summary", serde_json::json!({ "ok": summary.ok(), "summary": summary }));
}

/// One line of a `--json` stream: `{"type": TY, "time": ..., ...body}`,
/// after the version line if it is the first.
pub fn json_line(ty: &str, body: Value) {
    let mut o = std::io::stdout().lock();
    if !VERSION_SENT.swap(true, Ordering::SeqCst) {
        let v = serde_json::json!({ "type": "version", "format": JSON_FORMAT, "tandem": env!("CARGO_PKG_VERSION"), "time": now() });
        let _ = writeln!(o, "{v}");
    }
    let mut line = Map::new();
    line.insert("type".into(), Value::String(ty.into()));
    line.insert("time".into(), Value::String(now()));
    match body {
        Value::Object(m) => line.extend(m),
        Value::Null => {}
        other => {
            line.insert("value".into(), other);
        }
    }
    let _ = writeln!(o, "{}", Value::Object(line));
    let _ = o.flush();
}

pub fn problems(p: &Problems, json: bool, stream: bool) {
    if json {
        let list: Vec<Value> = p.iter().map(|p| p.to_json()).collect();
        let message = p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        let body = serde_json::json!({ "valid": false, "error": { "class": "invalid", "message": message }, "problems": list });
        if stream {
            json_line("error", body);
        } else {
            let mut body = body;
            body["type"] = Value::String("error".into());
            outln!("{body}");
        }
        return;
    }
    let graphical = std::io::stderr().is_terminal();
    let color = wants_color(graphical);
    for pr in p.iter() {
        errln!("{}", problem_text(pr, graphical, color));
    }
    errln!("{} problem{} found.", p.len(), if p.len() == 1 { "" } else { "s" });
}

/// One problem for a terminal (graphical: the snippet headed by
/// `file:line:col`, in colour when `color`) or as plain text (logs, pipes).
pub fn problem_text(p: &tandem_spec::Problem, graphical: bool, color: bool) -> String {
    let src = match (&p.source, graphical) {
        (Some(src), true) => src,
        _ => {
            let mut s = format!("error[{}]: {p}", p.code);
            if let Some(h) = &p.help {
                s.push_str(&format!("\n  help: {h}"));
            }
            return s;
        }
    };
    let report = miette::Report::new(p.clone()).with_source_code(miette::NamedSource::new(src.name.clone(), src.text.clone()));
    let mut out = String::new();
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let _ = miette::GraphicalReportHandler::new_themed(theme).render_report(&mut out, report.as_ref());
    out
}

/// Allowed but worth a look (overlapping networks nothing connects), on
/// stderr, one per problem, with where and what to do.
pub fn warnings(w: &[tandem_spec::Problem]) {
    for p in w {
        let mut s = format!("warning[{}]: {p}", p.code);
        if let Some(h) = &p.help {
            s.push_str(&format!("\n  help: {h}"));
        }
        errln!("{s}");
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
        s.push_str(&format!("Deleted outside tandem (dropped from the state): {}\n\n", plan.gone.join(", ")));
    }
    if !plan.unread.is_empty() {
        s.push_str(&unread_text(&plan.unread));
        s.push_str("Nothing is planned for them or for what depends on them; everything else is planned as usual.\n\n");
    }
    if !plan.pending.is_empty() {
        s.push_str("Operations an interrupted run left unfinished (from the state's journal):\n");
        for p in &plan.pending {
            s.push_str(&format!("  {}\n", p.describe()));
        }
        s.push('\n');
    }
    for m in &plan.moved {
        s.push_str(&format!("  `{}` has moved to `{}` (recorded in the state; nothing changes in the cloud)\n", m.from, m.to));
    }
    if !plan.moved.is_empty() {
        s.push('\n');
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
        let code = match c.action {
            Action::Create => 32,
            Action::Delete | Action::Replace => 31,
            _ => 33,
        };
        s.push_str(&format!("  {} {} ({place}) will be {}{why}\n", paint(c.action.symbol(), code), c.address, past(c.action)));
        let width = c.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
        for f in &c.fields {
            let after = if f.after_unknown {
                "(known after apply)".to_string()
            } else {
                f.after.as_ref().map(show).unwrap_or_else(|| "(unset)".into())
            };
            let forces = if f.forces_replacement && c.action == Action::Replace { "  # forces replacement" } else { "" };
            if let (Some(before), Some(after)) = (&f.before, &f.after) {
                if let Some(lines) = document_diff(before, after) {
                    s.push_str(&format!("      {:width$}: (document){forces}\n{lines}", f.field));
                    continue;
                }
            }
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

/// A JSON document (an object or list, or a string holding one: a contact
/// flow, an IAM policy, a dashboard) pretty-printed both ways and compared
/// line by line, with three lines of context; None for anything short.
fn document_diff(before: &Value, after: &Value) -> Option<String> {
    fn doc(v: &Value) -> Option<Value> {
        match v {
            Value::Object(_) | Value::Array(_) => Some(v.clone()),
            Value::String(s) if s.trim_start().starts_with(['{', '[']) => serde_json::from_str(s).ok(),
            _ => None,
        }
    }
    let (b, a) = (doc(before)?, doc(after)?);
    if before.to_string().len() + after.to_string().len() < 80 {
        return None;
    }
    let (b, a) = (serde_json::to_string_pretty(&b).ok()?, serde_json::to_string_pretty(&a).ok()?);
    let diff = similar::TextDiff::from_lines(&b, &a);
    let mut out = String::new();
    for (i, group) in diff.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            out.push_str("          ...\n");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let line = match change.tag() {
                    similar::ChangeTag::Delete => paint(&format!("- {}", change.value().trim_end_matches('\n')), 31),
                    similar::ChangeTag::Insert => paint(&format!("+ {}", change.value().trim_end_matches('\n')), 32),
                    similar::ChangeTag::Equal => format!("  {}", change.value().trim_end_matches('\n')),
                };
                out.push_str(&format!("        {line}\n"));
            }
        }
    }
    Some(out)
}

/// `--refresh-only`: what the cloud has that the state does not say.
pub fn drift_text(drift: &[tandem_core::Drift]) -> String {
    if drift.is_empty() {
        return "No changes outside tandem: the state matches the cloud.\n".into();
    }
    let mut s = String::from("Changed outside tandem since the last apply:\n\n");
    for d in drift {
        if d.deleted {
            s.push_str(&format!("  - {} ({}) was deleted\n", d.address, d.type_name));
            continue;
        }
        s.push_str(&format!("  ~ {} ({}) changed\n", d.address, d.type_name));
        let width = d.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
        for f in &d.fields {
            let lines = match (&f.before, &f.after) {
                (Some(before), Some(after)) => document_diff(before, after),
                _ => None,
            };
            match lines {
                Some(lines) => s.push_str(&format!("      {:width$}: (document)\n{lines}", f.field)),
                None => {
                    let (b, a) = (
                        f.before.as_ref().map(show).unwrap_or_else(|| "(unset)".into()),
                        f.after.as_ref().map(show).unwrap_or_else(|| "(unset)".into()),
                    );
                    s.push_str(&format!("      {:width$}: {b} -> {a}\n", f.field));
                }
            }
        }
    }
    let deleted = drift.iter().filter(|d| d.deleted).count();
    s.push_str(&format!(
        "\n{} changed, {} deleted. `tandem apply --refresh-only` records this in the state; `tandem plan` shows what brings them back to the spec.\n",
        drift.len() - deleted,
        deleted
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
    if let Some(e) = &s.state_error {
        out.push_str(&format!("STATE NOT SAVED: {e}\nNothing new was started after that.\n"));
        if !s.unrecorded.is_empty() {
            out.push_str("Made in the cloud but NOT recorded in the state; once the state can be written again, record each:\n");
            for u in &s.unrecorded {
                out.push_str(&format!(
                    "  tandem import {} {}   # {}{}\n",
                    u.address,
                    u.id,
                    u.type_name,
                    u.region.as_ref().map(|r| format!(", {r}")).unwrap_or_default()
                ));
            }
        }
    }
    for f in &s.failed {
        out.push_str(&format!("FAILED {f}\n"));
    }
    for (a, b) in &s.skipped {
        out.push_str(&format!("skipped {a}: `{b}` did not finish\n"));
    }
    if !s.cancelled.is_empty() {
        out.push_str(&format!("not started (interrupted): {}\n", s.cancelled.join(", ")));
    }
    if !s.unread.is_empty() {
        out.push_str(&unread_text(&s.unread));
        out.push_str("They were left as they are: apply again once they can be read.\n");
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
    if let Some(t) = &s.timing {
        out.push_str(&format!(
            "Critical path {}s ({}); wall {}s, {}x the critical path.\n",
            t.critical_path_seconds,
            t.critical_path.join(" -> "),
            t.wall_seconds,
            t.ratio
        ));
    }
    out
}

/// Progress as lines on stderr (human) or JSON lines on stdout: a line per
/// event, a count of the operations done (`[3/70]`), and a heartbeat for
/// every operation still running (`still creating... [1m10s elapsed]`).
pub struct Lines {
    shared: Arc<Shared>,
}

struct Shared {
    json: bool,
    out: Mutex<()>,
    running: Mutex<BTreeMap<String, (Op, Instant)>>,
    total: AtomicUsize,
    done: AtomicUsize,
    /// On a terminal: a bar under the lines, operations done of the plan's.
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

/// How often a running operation says it is still running: $TANDEM_HEARTBEAT
/// (`10s` by default, as Terraform; `0` for never).
fn heartbeat_interval() -> Option<Duration> {
    let d = match std::env::var("TANDEM_HEARTBEAT") {
        Ok(v) if v.trim() == "0" => return None,
        Ok(v) => humantime::parse_duration(v.trim()).unwrap_or(Duration::from_secs(10)),
        Err(_) => Duration::from_secs(10),
    };
    (!d.is_zero()).then_some(d)
}

fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Lines {
    pub fn new(json: bool) -> Self {
        let shared = Arc::new(Shared {
            json,
            out: Mutex::new(()),
            running: Mutex::new(BTreeMap::new()),
            total: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            bar: Mutex::new(None),
        });
        if let Some(every) = heartbeat_interval() {
            let weak = Arc::downgrade(&shared);
            std::thread::spawn(move || loop {
                std::thread::sleep(every);
                let Some(sh) = weak.upgrade() else { return };
                sh.heartbeat(every);
            });
        }
        Lines { shared }
    }

    /// How many operations the apply will run: finished ones are counted
    /// against it, and on a terminal a progress bar shows it.
    pub fn set_total(&self, n: usize) {
        self.shared.total.store(n, Ordering::SeqCst);
        if self.shared.json || n == 0 || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = indicatif::ProgressBar::new(n as u64);
        let template =
            if wants_color(true) { "{elapsed:>4} [{bar:30.green}] {pos}/{len} {msg}" } else { "{elapsed:>4} [{bar:30}] {pos}/{len} {msg}" };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        if let Ok(mut b) = self.shared.bar.lock() {
            *b = Some(bar);
        }
    }

    /// The apply is over: the bar stays, at its final count.
    pub fn finish(&self) {
        if let Some(bar) = self.shared.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_with_message("done");
        }
    }
}

impl Shared {
    fn heartbeat(&self, every: Duration) {
        let running: Vec<(String, Op, Duration)> =
            self.running.lock().map(|r| r.iter().map(|(a, (op, t))| (a.clone(), *op, t.elapsed())).collect()).unwrap_or_default();
        let _g = self.out.lock();
        for (address, op, took) in running.into_iter().filter(|(_, _, t)| *t >= every) {
            if self.json {
                json_line(
                    "event",
                    serde_json::json!({ "event": "heartbeat", "address": address, "op": op, "elapsed_seconds": took.as_secs() }),
                );
            } else {
                self.line(&format!("{address}: still {}... [{} elapsed]", op.doing(), elapsed(took)));
            }
        }
    }

    /// A line on stderr, above the bar when there is one.
    fn line(&self, text: &str) {
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(bar) => bar.println(text),
            None => errln!("{text}"),
        }
    }

    fn count(&self, op: Op) -> String {
        let total = self.total.load(Ordering::SeqCst);
        if op == Op::Refresh || total == 0 {
            return String::new();
        }
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.set_position(done.min(total) as u64);
            let running = self.running.lock().map(|r| r.len()).unwrap_or(0);
            bar.set_message(format!("{running} running"));
        }
        format!("[{}/{total}] ", done.min(total))
    }
}

impl Reporter for Lines {
    fn event(&self, e: &Event) {
        let sh = &self.shared;
        if let Ok(mut r) = sh.running.lock() {
            match e {
                Event::Started { address, op } => {
                    r.insert(address.clone(), (*op, Instant::now()));
                }
                Event::Finished { address, .. } | Event::Failed { address, .. } => {
                    r.remove(address);
                }
                _ => {}
            }
        }
        let _g = sh.out.lock();
        if sh.json {
            if let Event::Finished { op, .. } | Event::Failed { op, .. } = e {
                let _ = sh.count(*op);
            }
            json_line("event", serde_json::to_value(e).unwrap_or_default());
            return;
        }
        let line = match e {
            Event::Started { address, op } => format!("{address}: {}...", op.doing()),
            Event::Progress { address, message } => format!("{address}: {message}"),
            Event::Finished { address, op, id, seconds } => match id {
                Some(id) if !id.is_empty() => format!("{}{address}: {} ({id}) in {seconds}s", sh.count(*op), op.done()),
                _ => format!("{}{address}: {} in {seconds}s", sh.count(*op), op.done()),
            },
            Event::Failed { address, op, error, request_id, seconds, .. } => {
                let rid = request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default();
                format!("{}{address}: {} failed after {seconds}s: {error}{rid}", sh.count(*op), op.doing())
            }
            Event::Skipped { address, because, .. } => format!("{address}: skipped, `{because}` did not finish"),
            Event::StateSaved { .. } => return,
        };
        sh.line(&line);
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
    let _ = writeln!(
        out,
        "\nPermissions the spec's kinds call with ({}); `tandem preflight --iam-policy` prints the AWS ones as a policy:",
        p.permissions.len()
    );
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
    let _ = writeln!(
        out,
        "\n{}",
        if failed == 0 {
            "Preflight passed.".to_string()
        } else {
            format!("Preflight FAILED: {failed} check(s) would stop apply on this account.")
        }
    );
    out
}

/// The AWS actions among `permissions` as an IAM policy document (GCP
/// permissions go to a custom role instead and are left out).
pub fn iam_policy(permissions: &[String]) -> serde_json::Value {
    let actions: Vec<&String> = permissions.iter().filter(|p| p.contains(':')).collect();
    serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Sid": "TandemSpec", "Effect": "Allow", "Action": actions, "Resource": "*" }] })
}

/// Resources a plan could not read, by region: what failed and what still works.
fn unread_text(unread: &[tandem_core::plan::Unread]) -> String {
    let regions: std::collections::BTreeSet<&str> = unread.iter().filter_map(|u| u.region.as_deref()).collect();
    let mut s = format!(
        "WARNING: {} resource(s) could not be read in {} (the cloud answered with errors; a region or service may be down):\n",
        unread.len(),
        regions.into_iter().collect::<Vec<_>>().join(", ")
    );
    for u in unread {
        s.push_str(&format!("  {} ({}): {}\n", u.address, u.region.as_deref().unwrap_or("global"), u.message));
    }
    s.push_str("To leave them out on purpose use --stage/--target; `tandem failover shift` moves calls away from a region.\n");
    s
}

#[cfg(test)]
mod problem_tests {
    use super::problem_text;
    use std::sync::Arc;
    use tandem_spec::{Code, Problem, SourceFile, Span};

    #[test]
    fn a_graphical_problem_names_the_file_line_and_column() {
        let text = "version: 1\nresources:\n  a:\n    properties: { shard_cuont: 2 }\n";
        let src = Arc::new(SourceFile { name: "tandem.yaml".into(), text: text.into() });
        let at = text.find("shard_cuont").unwrap();
        let p = Problem::new(Code::SpecUnknownField, "unknown field `shard_cuont`")
            .at(&src, Span::new(at, "shard_cuont".len()), "not a field of this kind")
            .help("did you mean `shard_count`?");
        let out = problem_text(&p, true, false);
        assert!(out.contains("tandem.yaml:4:19"), "{out}");
        assert!(out.contains("not a field of this kind") && out.contains("shard_count"), "{out}");
        let plain = problem_text(&p, false, false);
        assert!(plain.starts_with("error[tandem::spec::unknown_field]: tandem.yaml:4:19"), "{plain}");
        assert!(plain.ends_with("help: did you mean `shard_count`?"), "{plain}");
    }
}
