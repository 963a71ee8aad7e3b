//! The `tandem` command: argument parsing, wiring, rendering.

mod args;
mod failover;
mod migrate;
mod render;

use args::*;
use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tandem_core::{Engine, EngineError, Plan, PlanOptions, Reporter};
use tandem_provider::Registry;
use tandem_spec::{Problem, Problems, SourceFile, Spec, VarInputs};
use tandem_state::LocalBackend;

/// Exit codes: 0 success; 1 a cloud operation failed or was refused; 2 the
/// plan has changes (with --detailed-exitcode); 3 the spec or arguments are invalid.
#[derive(Debug)]
pub(crate) enum Failure {
    Invalid(Problems, bool),
    Failed(String),
}

type CmdResult = Result<u8, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let detailed = matches!(&cli.command, Command::Plan(p) if p.detailed_exitcode);
    match rt.block_on(run(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Invalid(p, json)) => {
            render::problems(&p, json);
            ExitCode::from(if detailed { 1 } else { 3 })
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

async fn run(cmd: Command) -> CmdResult {
    match cmd {
        Command::Validate(a) => validate(a),
        Command::Preflight(a) => preflight(a).await,
        Command::Graph(a) => {
            let (spec, engine) = load(&a, Arc::new(tandem_core::Silent))?;
            let g = engine.check(&spec).map_err(|p| Failure::Invalid(p, a.json))?;
            print!("{}", g.to_dot(&spec));
            Ok(0)
        }
        Command::Plan(a) => plan(a).await,
        Command::Apply(a) => apply(a).await,
        Command::Destroy(a) => destroy(a).await,
        Command::Import(a) => import(a).await,
        Command::Output(a) => output(a),
        Command::Docs(a) => docs(a),
        Command::Migrate(a) => migrate::run(a).await,
        Command::Sandbox(a) => {
            let opts = tandem_sim::SandboxOptions { port: a.port, upstream: a.upstream, moto: a.moto, venv: a.venv };
            tandem_sim::run_foreground(opts).await.map_err(|e| Failure::Failed(format!("sandbox: {e:#}")))?;
            Ok(0)
        }
        Command::Failover(a) => failover::run(a).await.map_err(Failure::Failed),
        Command::Drill(a) => failover::drill(a).await.map_err(Failure::Failed),
    }
}

pub(crate) fn registry() -> Registry {
    let mut reg = Registry::new();
    tandem_aws::register(&mut reg, Arc::new(tandem_aws::AwsContext::from_env()));
    tandem_gcp::register(&mut reg, Arc::new(tandem_gcp::GcpContext::from_env()));
    reg
}

pub(crate) fn invalid(message: String, json: bool) -> Failure {
    Failure::Invalid(Problems(vec![Problem::new("tandem::usage", message)]), json)
}

fn read_file(path: &Path, what: &str, json: bool) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound && what == "spec" {
            " (pass --spec FILE, or run where tandem.yaml is)"
        } else {
            ""
        };
        invalid(format!("cannot read the {what} {}: {e}{hint}", path.display()), json)
    })
}

fn var_inputs(a: &SpecArgs) -> Result<VarInputs, Failure> {
    let mut inputs = VarInputs { env: VarInputs::from_env(), ..Default::default() };
    for f in &a.var_files {
        let text = read_file(f, "var file", a.json)?;
        inputs.files.push(SourceFile { name: f.display().to_string(), text });
    }
    for v in &a.vars {
        let Some((k, val)) = v.split_once('=') else {
            return Err(invalid(format!("`--var {v}` must look like `--var name=value`"), a.json));
        };
        inputs.cli.push((k.trim().to_string(), val.to_string()));
    }
    Ok(inputs)
}

fn load(a: &SpecArgs, reporter: Arc<dyn Reporter>) -> Result<(Spec, Engine), Failure> {
    let text = read_file(&a.spec, "spec", a.json)?;
    load_text(SourceFile { name: a.spec.display().to_string(), text }, &var_inputs(a)?, reporter, a.json)
}

pub(crate) fn load_text(src: SourceFile, inputs: &VarInputs, reporter: Arc<dyn Reporter>, json: bool) -> Result<(Spec, Engine), Failure> {
    let engine = Engine::new(registry(), reporter);
    let spec = {
        let schemas = engine.schemas();
        tandem_spec::load(src, inputs, &schemas).map_err(|p| Failure::Invalid(p, json))?
    };
    engine.check(&spec).map_err(|p| Failure::Invalid(p, json))?;
    // Warnings go to stderr whatever the command: stdout stays the command's own output.
    render::warnings(&spec.warnings);
    Ok((spec, engine))
}

fn validate(a: SpecArgs) -> CmdResult {
    let (spec, _) = load(&a, Arc::new(tandem_core::Silent))?;
    if a.json {
        let warnings: Vec<serde_json::Value> = spec.warnings.iter().map(|w| w.to_json()).collect();
        println!("{}", serde_json::json!({ "valid": true, "resources": spec.resources.len(), "warnings": warnings }));
    } else {
        println!("{} is valid: {} resources, {} outputs.", a.spec.display(), spec.resources.len(), spec.outputs.len());
    }
    Ok(0)
}

async fn preflight(a: PreflightArgs) -> CmdResult {
    let json = a.spec.json;
    let (spec, engine) = load(&a.spec, Arc::new(tandem_core::Silent))?;
    let state = LocalBackend::new(state_path(&a.spec.spec, &a.state)).load().map_err(|e| Failure::Failed(e.to_string()))?;
    let found = engine.preflight(&spec, &state).await.map_err(|e| engine_err(e, json))?;
    if a.iam_policy {
        println!("{}", serde_json::to_string_pretty(&render::iam_policy(&found.permissions)).unwrap_or_default());
    } else if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "spec": spec.name, "failed": found.failed(), "preflight": found })).unwrap_or_default());
    } else {
        print!("{}", render::preflight_text(&spec.name, &found));
    }
    Ok(if found.failed() { 1 } else { 0 })
}

fn state_path(spec: &Path, given: &Option<PathBuf>) -> PathBuf {
    given.clone().unwrap_or_else(|| {
        let dir = spec.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        dir.join(".tandem").join("state.json")
    })
}

fn engine_err(e: EngineError, json: bool) -> Failure {
    match e {
        EngineError::Spec(p) => Failure::Invalid(p, json),
        other => Failure::Failed(other.to_string()),
    }
}

fn interrupt_on_ctrl_c(engine: &Engine) {
    let cancel = engine.cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: starting nothing new; running operations finish and the state is saved");
            cancel.store(true, Ordering::SeqCst);
        }
    });
}

/// What `plan --out` writes: the plan, and the spec and variables it was made from.
#[derive(Serialize, Deserialize)]
struct PlanFile {
    format: String,
    spec_name: String,
    spec_text: String,
    variables: BTreeMap<String, Value>,
    state_path: PathBuf,
    plan: Plan,
}

const PLAN_FORMAT: &str = "tandem-plan/1";

async fn plan(a: PlanArgs) -> CmdResult {
    let json = a.spec.json;
    let (spec, mut engine) = load(&a.spec, Arc::new(render::Lines::new(false)))?;
    if json {
        engine.reporter = Arc::new(tandem_core::Silent);
    }
    engine.parallelism = a.state.parallelism;
    let backend = LocalBackend::new(state_path(&a.spec.spec, &a.state.state));
    let state = backend.load().map_err(|e| Failure::Failed(e.to_string()))?;
    let opts = PlanOptions { destroy: a.destroy, targets: a.state.targets.clone(), stages: a.state.stages.clone() };
    let plan = engine.plan(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&plan).unwrap_or_default());
    } else {
        print!("{}", render::plan_text(&plan));
    }
    if let Some(out) = &a.out {
        let pf = PlanFile {
            format: PLAN_FORMAT.into(),
            spec_name: spec.source.name.clone(),
            spec_text: spec.source.text.clone(),
            variables: spec.variables.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
            state_path: backend.path().to_path_buf(),
            plan: plan.clone(),
        };
        write_private(out, &serde_json::to_string_pretty(&pf).unwrap_or_default())
            .map_err(|e| Failure::Failed(format!("cannot write the plan to {}: {e}", out.display())))?;
        if !json {
            println!("Saved the plan to {}. Apply exactly this plan with `tandem apply {}`.", out.display(), out.display());
        }
    }
    Ok(if a.detailed_exitcode && plan.has_changes() { 2 } else { 0 })
}

pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())
}

fn confirm(plan_text: &str, what: &str, auto_approve: bool) -> Result<bool, Failure> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Failed(format!(
            "refusing to {what} without --auto-approve: there is no terminal to ask for confirmation"
        )));
    }
    print!("{plan_text}\nDo you want to {what}? Only `yes` is accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    Ok(line.trim() == "yes")
}

async fn apply(a: ApplyArgs) -> CmdResult {
    let json = a.spec.json;
    let reporter: Arc<dyn Reporter> = Arc::new(render::Lines::new(json));
    let (spec, mut engine, backend, saved) = match &a.planfile {
        Some(pf_path) => {
            let text = read_file(pf_path, "plan file", json)?;
            let pf: PlanFile = serde_json::from_str(&text)
                .map_err(|e| invalid(format!("{} is not a tandem plan file: {e}", pf_path.display()), json))?;
            if pf.format != PLAN_FORMAT {
                return Err(invalid(format!("{} has plan format {}; this tandem reads {PLAN_FORMAT}", pf_path.display(), pf.format), json));
            }
            let inputs = VarInputs {
                cli: pf
                    .variables
                    .iter()
                    .map(|(k, v)| (k.clone(), match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }))
                    .collect(),
                ..Default::default()
            };
            let (spec, engine) = load_text(SourceFile { name: pf.spec_name, text: pf.spec_text }, &inputs, reporter, json)?;
            let backend = LocalBackend::new(a.state.state.clone().unwrap_or(pf.state_path));
            (spec, engine, backend, Some(pf.plan))
        }
        None => {
            let (spec, engine) = load(&a.spec, reporter)?;
            (spec, engine, LocalBackend::new(state_path(&a.spec.spec, &a.state.state)), None)
        }
    };
    engine.parallelism = a.state.parallelism;
    let _lock = backend.lock("apply").map_err(|e| Failure::Failed(e.to_string()))?;
    let state = backend.load().map_err(|e| Failure::Failed(e.to_string()))?;
    let plan = match saved {
        Some(p) => p,
        None => {
            let opts = PlanOptions { destroy: false, targets: a.state.targets.clone(), stages: a.state.stages.clone() };
            engine.plan(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?
        }
    };
    let text = render::plan_text(&plan);
    if !plan.has_changes() {
        if !json {
            print!("{text}");
        }
        return Ok(0);
    }
    if !confirm(&text, "apply these changes", a.auto_approve || a.planfile.is_some())? {
        println!("Apply cancelled.");
        return Ok(1);
    }
    if !json && a.auto_approve {
        println!("{text}");
    }
    interrupt_on_ctrl_c(&engine);
    let summary = engine.apply(&spec, &plan, &backend, state).await.map_err(|e| engine_err(e, json))?;
    finish(&summary, "Apply", json, &backend, false)
}

fn finish(summary: &tandem_core::Summary, verb: &str, json: bool, backend: &LocalBackend, destroy: bool) -> CmdResult {
    if json {
        println!("{}", serde_json::json!({ "summary": summary }));
    } else {
        print!("{}", render::summary_text(summary, verb));
        if !destroy && summary.ok() {
            if let Ok(state) = backend.load() {
                print_outputs(&state, None, false);
            }
        }
    }
    Ok(if summary.ok() { 0 } else { 1 })
}

async fn destroy(a: DestroyArgs) -> CmdResult {
    let json = a.spec.json;
    let (spec, mut engine) = load(&a.spec, Arc::new(render::Lines::new(json)))?;
    engine.parallelism = a.state.parallelism;
    let backend = LocalBackend::new(state_path(&a.spec.spec, &a.state.state));
    let _lock = backend.lock("destroy").map_err(|e| Failure::Failed(e.to_string()))?;
    let state = backend.load().map_err(|e| Failure::Failed(e.to_string()))?;
    let opts = PlanOptions { destroy: true, targets: a.state.targets.clone(), stages: a.state.stages.clone() };
    let plan = engine.plan(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?;
    let text = render::plan_text(&plan);
    if !plan.has_changes() {
        if !json {
            println!("Nothing to destroy: the state records no resources.");
        }
        return Ok(0);
    }
    if !confirm(&text, "destroy these resources", a.auto_approve)? {
        println!("Destroy cancelled.");
        return Ok(1);
    }
    if !json && a.auto_approve {
        println!("{text}");
    }
    interrupt_on_ctrl_c(&engine);
    let summary = engine.apply(&spec, &plan, &backend, state).await.map_err(|e| engine_err(e, json))?;
    finish(&summary, "Destroy", json, &backend, true)
}

async fn import(a: ImportArgs) -> CmdResult {
    let json = a.spec.json;
    let (spec, engine) = load(&a.spec, Arc::new(render::Lines::new(json)))?;
    let backend = LocalBackend::new(state_path(&a.spec.spec, &a.state.state));
    let _lock = backend.lock("import").map_err(|e| Failure::Failed(e.to_string()))?;
    let state = backend.load().map_err(|e| Failure::Failed(e.to_string()))?;
    let state = engine.import(&spec, &backend, state, &a.address, &a.id).await.map_err(|e| engine_err(e, json))?;
    let r = &state.resources[&a.address];
    if json {
        println!("{}", serde_json::json!({ "imported": a.address, "id": r.id }));
    } else {
        println!("Imported {} ({}) as `{}`. Run `tandem plan` to see how it differs from the spec.", r.id, r.type_name, a.address);
    }
    Ok(0)
}

fn print_outputs(state: &tandem_state::State, name: Option<&str>, show_sensitive: bool) {
    if state.outputs.is_empty() {
        return;
    }
    if name.is_none() {
        println!("\nOutputs:");
    }
    for (k, o) in &state.outputs {
        if name.is_some_and(|n| n != k) {
            continue;
        }
        let v = if o.sensitive && !show_sensitive {
            tandem_schema::SENSITIVE.to_string()
        } else {
            match &o.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        };
        if name.is_some() {
            println!("{v}");
        } else {
            println!("  {k} = {v}");
        }
    }
}

fn output(a: OutputArgs) -> CmdResult {
    let backend = LocalBackend::new(state_path(&a.spec.spec, &a.state));
    let state = backend.load().map_err(|e| Failure::Failed(e.to_string()))?;
    if let Some(n) = &a.name {
        if !state.outputs.contains_key(n) {
            let known: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
            let hint = tandem_spec::suggest(n, known.clone()).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(Failure::Failed(format!("no output `{n}` in the state (outputs: {}){hint}", known.join(", "))));
        }
    }
    if a.spec.json {
        let shown: BTreeMap<&String, Value> = state
            .outputs
            .iter()
            .filter(|(k, _)| a.name.as_ref().is_none_or(|n| n == *k))
            .map(|(k, o)| (k, if o.sensitive && !a.show_sensitive { Value::String(tandem_schema::SENSITIVE.into()) } else { o.value.clone() }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&shown).unwrap_or_default());
    } else {
        print_outputs(&state, a.name.as_deref(), a.show_sensitive);
    }
    Ok(0)
}

fn docs(a: DocsArgs) -> CmdResult {
    let reg = registry();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut index = String::from("# Resource kinds\n\nGenerated by `tandem docs` from each kind's schema; do not edit by hand.\n\n");
    let mut kinds = serde_json::Map::new();
    for s in reg.schemas() {
        files.push((a.out.join("kinds").join(format!("{}.md", s.type_name)), tandem_schema::render_markdown(s)));
        index.push_str(&format!("- [`{}`]({}.md): {}\n", s.type_name, s.type_name, s.doc));
        kinds.insert(s.type_name.to_string(), s.json_schema());
    }
    files.push((a.out.join("kinds").join("README.md"), index));
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tandem spec",
        "type": "object",
        "additionalProperties": false,
        "required": ["version"],
        "properties": {
            "version": { "const": 1 },
            "name": { "type": "string" },
            "variables": { "type": "object", "additionalProperties": {
                "anyOf": [
                    { "type": "object", "additionalProperties": false, "properties": {
                        "type": { "enum": ["string", "number", "bool", "list", "map"] },
                        "default": {}, "description": { "type": "string" }, "sensitive": { "type": "boolean" } } },
                    { "type": ["string", "number", "boolean", "array"] }
                ] } },
            "resources": { "type": "object", "additionalProperties": {
                "oneOf": kinds.values().cloned().collect::<Vec<_>>() } },
            "outputs": { "type": "object" }
        }
    });
    files.push((a.out.join("tandem.schema.json"), format!("{}\n", serde_json::to_string_pretty(&schema).unwrap_or_default())));
    let mut stale = Vec::new();
    for (path, text) in &files {
        if a.check {
            if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Failure::Failed(format!("cannot create {}: {e}", dir.display())))?;
            }
            std::fs::write(path, text).map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    if !stale.is_empty() {
        return Err(Failure::Failed(format!("generated docs are stale; run `tandem docs`:\n  {}", stale.join("\n  "))));
    }
    if !a.check {
        println!("Wrote {} files under {}.", files.len(), a.out.display());
    }
    Ok(0)
}
