//! The `tandem` command: argument parsing, wiring, rendering.

#[macro_use]
mod out;
mod args;
mod backends;
mod failover;
mod migrate;
mod render;
mod state_cmd;

use args::*;
use backends::state_err;
use clap::Parser;
use serde_json::Value;
use state_cmd::locked;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tandem_core::planfile::{PlanFile, PlanFileError};
use tandem_core::{Engine, EngineError, Plan, PlanOptions, Reporter};
use tandem_provider::Registry;
use tandem_spec::{Code, Problem, Problems, SourceFile, Spec, VarInputs};
use tandem_state::crypt;

/// Exit codes: 0 success; 1 a cloud operation failed or was refused; 2 the
/// plan has changes (with --detailed-exitcode); 3 the spec or arguments are
/// invalid; 130 interrupted twice.
#[derive(Debug)]
pub(crate) enum Failure {
    Invalid(Problems, bool),
    Failed(String),
    /// A condition tandem refuses, with its stable code (`tandem::stale_plan`).
    Refused(&'static str, String),
    /// Cloud operations that failed, each with its class, code and request id.
    Cloud(String, Vec<tandem_core::FailedOp>),
}

impl Failure {
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Invalid(p, _) => p.to_string(),
            Failure::Failed(s) | Failure::Refused(_, s) => s.clone(),
            Failure::Cloud(what, ops) => format!("{what}:\n{}", ops.iter().map(|o| format!("  {o}")).collect::<Vec<_>>().join("\n")),
        }
    }
}

/// A failure as the JSON error object docs/json.md describes.
fn error_json(f: &Failure) -> Value {
    match f {
        Failure::Cloud(_, ops) => {
            let first = ops.first();
            serde_json::json!({ "error": {
                "class": first.map(|o| o.class).unwrap_or("other"),
                "code": first.and_then(|o| o.code.clone()),
                "request_id": first.and_then(|o| o.request_id.clone()),
                "message": f.message(),
            }, "failures": ops })
        }
        Failure::Refused(code, message) => serde_json::json!({ "error": { "class": "failed", "code": code, "message": message } }),
        other => serde_json::json!({ "error": { "class": "failed", "message": other.message() } }),
    }
}

pub(crate) type CmdResult = Result<u8, Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let _ = e.print();
            // Asked-for help is a success; every other parse error is a
            // usage error (3), never 2, which means "the plan has changes".
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(3),
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    render::set_color(render::wants_color(std::io::stdout().is_terminal()));
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let detailed = matches!(&cli.command, Command::Plan(p) if p.detailed_exitcode);
    let (json, stream) = (cli.command.json(), cli.command.json_stream());
    match rt.block_on(run(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Invalid(p, json)) => {
            render::problems(&p, json, stream);
            ExitCode::from(if detailed { 1 } else { 3 })
        }
        Err(f) => {
            if json && stream {
                render::json_line("error", error_json(&f));
            } else if json {
                let mut v = error_json(&f);
                v["type"] = Value::String("error".into());
                outln!("{v}");
            } else {
                errln!("error: {}", f.message());
            }
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
            out!("{}", g.to_dot(&spec));
            Ok(0)
        }
        Command::Plan(a) => plan(a).await,
        Command::Apply(a) => apply(a).await,
        Command::Destroy(a) => destroy(a).await,
        Command::Import(a) => import(a).await,
        Command::Init(a) => state_cmd::init(a).await,
        Command::State(a) => state_cmd::state(a.command).await,
        Command::ForceUnlock(a) => state_cmd::force_unlock(a).await,
        Command::Output(a) => output(a).await,
        Command::Show(a) => show(a).await,
        Command::Fmt(a) => fmt(a),
        Command::VarsSchema(a) => {
            let text = read_file(&a.spec, "spec", false)?;
            let src = Arc::new(SourceFile { name: a.spec.display().to_string(), text: text.clone() });
            let title = a.spec.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let schema = tandem_spec::vars_schema::vars_schema(&text, &title)
                .map_err(|e| Failure::Invalid(Problems(vec![Problem::new(Code::SpecYaml, e.message).at(&src, e.span, "here")]), false))?;
            outln!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
            Ok(0)
        }
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "tandem", &mut buf);
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(0)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut buf)
                .map_err(|e| Failure::Failed(format!("cannot render the man page: {e}")))?;
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(0)
        }
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
    Failure::Invalid(Problems(vec![Problem::new(Code::Usage, message)]), json)
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
        outln!("{}", serde_json::json!({ "valid": true, "resources": spec.resources.len(), "warnings": warnings }));
    } else {
        outln!("{} is valid: {} resources, {} outputs.", a.spec.display(), spec.resources.len(), spec.outputs.len());
    }
    Ok(0)
}

async fn preflight(a: PreflightArgs) -> CmdResult {
    let json = a.spec.json;
    let (spec, engine) = load(&a.spec, Arc::new(tandem_core::Silent))?;
    let opened = backends::open(&a.spec.spec, a.state.as_deref(), &a.backend_config, json).await?;
    let state = opened.store.load().await.map_err(state_err)?;
    let found = engine.preflight(&spec, &state).await.map_err(|e| engine_err(e, json))?;
    if a.iam_policy {
        outln!("{}", serde_json::to_string_pretty(&render::iam_policy(&found.permissions)).unwrap_or_default());
    } else if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "spec": spec.name, "failed": found.failed(), "preflight": found }))
                .unwrap_or_default()
        );
    } else {
        out!("{}", render::preflight_text(&spec.name, &found));
    }
    Ok(if found.failed() { 1 } else { 0 })
}

pub(crate) fn engine_err(e: EngineError, json: bool) -> Failure {
    match e {
        EngineError::Spec(p) => Failure::Invalid(p, json),
        EngineError::Usage(m) => invalid(m, json),
        EngineError::Refresh(ops) => {
            // Say where: during a regional outage the way on is to work elsewhere.
            let regions: std::collections::BTreeSet<&str> = ops.iter().filter_map(|o| o.region.as_deref()).collect();
            let services: std::collections::BTreeSet<&str> = ops.iter().filter_map(|o| o.message.split_whitespace().next()).collect();
            let what = format!(
                "refresh could not read {} resource(s){}{}; a plan that reads only elsewhere still works (`--stage`/`--target` on what is not there), `--refresh=false` reads nothing, and `tandem failover shift` moves traffic",
                ops.len(),
                if regions.is_empty() { String::new() } else { format!(" in {}", regions.into_iter().collect::<Vec<_>>().join(", ")) },
                if services.is_empty() { String::new() } else { format!(" (calls {})", services.into_iter().collect::<Vec<_>>().join(", ")) },
            );
            Failure::Cloud(what, ops)
        }
        other => match other.code() {
            Some(code) => Failure::Refused(code, other.to_string()),
            None => Failure::Failed(other.to_string()),
        },
    }
}

/// The first Ctrl-C lets running operations finish and saves the state; a
/// second one exits at once (130), for a wait nobody wants to sit through.
fn interrupt_on_ctrl_c(engine: &Engine) {
    let cancel = engine.cancel.clone();
    // Registered now, not when the task first runs: a Ctrl-C right after
    // the first operation starts must not meet the default (kill) action.
    #[cfg(unix)]
    let mut sigint = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(s) => s,
        Err(e) => {
            errln!("warning: cannot catch Ctrl-C ({e}); an interrupt kills tandem at once");
            return;
        }
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        let first = sigint.recv().await.is_some();
        #[cfg(not(unix))]
        let first = tokio::signal::ctrl_c().await.is_ok();
        if first {
            errln!("interrupted: starting nothing new; waits stop, the state is saved (Ctrl-C again to exit now)");
            cancel.store(true, Ordering::SeqCst);
        }
        #[cfg(unix)]
        let second = sigint.recv().await.is_some();
        #[cfg(not(unix))]
        let second = tokio::signal::ctrl_c().await.is_ok();
        if second {
            errln!("interrupted again: exiting now. Operations in flight go on in the cloud without being recorded; the state has everything finished before. Run `tandem plan` to see where things stand.");
            std::process::exit(130);
        }
    });
}

fn plan_options(a: &StateArgs, r: &RefreshArgs, destroy: bool) -> PlanOptions {
    PlanOptions { destroy, targets: a.targets.clone(), stages: a.stages.clone(), no_refresh: !r.refresh }
}

async fn plan(a: PlanArgs) -> CmdResult {
    let json = a.spec.json;
    let (spec, mut engine) = load(&a.spec, Arc::new(render::Lines::new(json)))?;
    engine.parallelism = a.state.parallelism;
    let opened = backends::open(&a.spec.spec, a.state.state.as_deref(), &a.state.backend_config, json).await?;
    let state = opened.store.load().await.map_err(state_err)?;
    opened.store.check_writable(&state).map_err(state_err)?;
    opened.store.check_can_seal(engine.has_secrets(&spec)).map_err(state_err)?;
    let opts = plan_options(&a.state, &a.refresh, a.destroy);
    if a.refresh.refresh_only {
        if a.out.is_some() || a.destroy {
            return Err(invalid("--refresh-only shows drift and saves no plan: leave out --out and --destroy".into(), json));
        }
        let (_, drift) = engine.refresh_only(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?;
        if json {
            render::json_line("drift", serde_json::json!({ "drift": drift }));
        } else {
            out!("{}", render::drift_text(&drift));
        }
        return Ok(if a.detailed_exitcode && !drift.is_empty() { 2 } else { 0 });
    }
    let plan = engine.plan(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?;
    if json {
        render::plan_line(&plan);
    } else {
        out!("{}", render::plan_text(&plan));
    }
    if let Some(out) = &a.out {
        let secret = spec.variables.values().any(|v| v.sensitive);
        let key = if secret { opened.store.plan_key(&state).await.map_err(state_err)? } else { None };
        if secret && key.is_none() && opened.store.backend().remote() {
            return Err(Failure::Failed(format!(
                "the plan file would hold sensitive variables in plaintext: configure `kms_key_id` in the backend or ${}",
                crypt::PASSPHRASE_ENV
            )));
        }
        let variables = spec
            .variables
            .iter()
            .map(|(k, v)| {
                let value = match &key {
                    Some((dk, _)) if v.sensitive => crypt::seal(dk, &plan.lineage, &v.value),
                    _ => v.value.clone(),
                };
                (k.clone(), value)
            })
            .collect();
        let pf = PlanFile {
            format: tandem_core::planfile::PLAN_FORMAT.into(),
            spec_name: spec.source.name.clone(),
            spec_text: spec.source.text.clone(),
            variables,
            backend: tandem_core::planfile::absolute_backend(&opened.config, &opened.dir, opened.explicit),
            encryption: key.map(|(_, h)| h),
            plan: plan.clone(),
        };
        pf.save(out).map_err(|e| Failure::Failed(e.to_string()))?;
        if json {
            render::json_line("plan_saved", serde_json::json!({ "path": out.display().to_string() }));
        } else {
            outln!("Saved the plan to {}. Apply exactly this plan with `tandem apply {}`.", out.display(), out.display());
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
        return Err(Failure::Failed(format!("refusing to {what} without --auto-approve: there is no terminal to ask for confirmation")));
    }
    out!("{plan_text}\nDo you want to {what}? Only `yes` is accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    Ok(line.trim() == "yes")
}

async fn apply(a: ApplyArgs) -> CmdResult {
    let json = a.spec.json;
    let lines = Arc::new(render::Lines::new(json));
    let reporter: Arc<dyn Reporter> = lines.clone();
    let (spec, mut engine, store, saved) = match &a.planfile {
        Some(pf_path) => {
            let text = read_file(pf_path, "plan file", json)?;
            let pf = PlanFile::parse(pf_path, &text).map_err(|e| match e {
                PlanFileError::Unreadable { .. } => invalid(format!("{e}; make a new plan"), json),
                other => invalid(other.to_string(), json),
            })?;
            let opened = match &a.state.state {
                Some(p) => backends::open(&a.spec.spec, Some(p), &[], json).await?,
                None => {
                    let dir = PathBuf::from(".");
                    let store = backends::open_config(&pf.backend, &dir).await;
                    backends::Opened { store, config: pf.backend.clone(), dir, explicit: true }
                }
            };
            let key = match &pf.encryption {
                Some(h) => Some(opened.store.open_header(h, &pf.plan.lineage).await.map_err(state_err)?),
                None => None,
            };
            let inputs = pf
                .var_inputs(|v| match (&key, crypt::is_sealed(v)) {
                    (Some(dk), true) => crypt::open(dk, &pf.plan.lineage, v),
                    _ => Ok(v.clone()),
                })
                .map_err(state_err)?;
            let (spec, engine) = load_text(SourceFile { name: pf.spec_name, text: pf.spec_text }, &inputs, reporter, json)?;
            (spec, engine, opened.store, Some(pf.plan))
        }
        None => {
            let (spec, engine) = load(&a.spec, reporter)?;
            let opened = backends::open(&a.spec.spec, a.state.state.as_deref(), &a.state.backend_config, json).await?;
            (spec, engine, opened.store, None)
        }
    };
    engine.parallelism = a.state.parallelism;
    if a.refresh.refresh_only {
        return apply_refresh_only(&a, &spec, &engine, &store).await;
    }
    let summary = locked!(
        store,
        "apply",
        a.state.lock_timeout,
        async {
            let state = store.load().await.map_err(state_err)?;
            store.check_writable(&state).map_err(state_err)?;
            store.check_can_seal(engine.has_secrets(&spec)).map_err(state_err)?;
            let plan = match saved {
                Some(p) => p,
                None => {
                    let opts = plan_options(&a.state, &a.refresh, false);
                    engine.plan(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?
                }
            };
            let text = render::plan_text(&plan);
            if json {
                render::plan_line(&plan);
            }
            if !plan.has_changes() && plan.moved.is_empty() {
                if json {
                    render::summary_line(&tandem_core::Summary::default());
                } else {
                    out!("{text}");
                }
                return Ok::<_, Failure>(None);
            }
            lines.set_total(operations(&plan));
            if !confirm(&text, "apply these changes", a.auto_approve || a.planfile.is_some())? {
                outln!("Apply cancelled.");
                return Err(Failure::Failed("apply cancelled".into()));
            }
            if !json && a.auto_approve {
                outln!("{text}");
            }
            interrupt_on_ctrl_c(&engine);
            let done = engine.apply(&spec, &plan, &store, state).await;
            lines.finish();
            Ok(Some(done.map_err(|e| engine_err(e, json))?))
        }
        .await
    );
    match summary {
        None => Ok(0),
        Some(summary) => finish(&summary, "Apply", json, &store, false).await,
    }
}

/// How many operations carrying out `plan` takes (a replacement is two).
fn operations(plan: &Plan) -> usize {
    plan.changes
        .iter()
        .map(|c| match c.action {
            tandem_core::Action::NoOp => 0,
            tandem_core::Action::Replace => 2,
            _ => 1,
        })
        .sum()
}

/// `apply --refresh-only`: record in the state what the cloud has now
/// (deleted objects forgotten, changed values taken), changing nothing there.
async fn apply_refresh_only(a: &ApplyArgs, spec: &Spec, engine: &Engine, store: &tandem_state::Store) -> CmdResult {
    use tandem_state::StateWriter;
    let json = a.spec.json;
    let code = locked!(
        store,
        "apply",
        a.state.lock_timeout,
        async {
            let state = store.load().await.map_err(state_err)?;
            store.check_writable(&state).map_err(state_err)?;
            let opts = plan_options(&a.state, &a.refresh, false);
            let (mut refreshed, drift) = engine.refresh_only(spec, &state, &opts).await.map_err(|e| engine_err(e, json))?;
            let text = render::drift_text(&drift);
            if json {
                render::json_line("drift", serde_json::json!({ "drift": drift }));
            }
            if drift.is_empty() {
                if !json {
                    out!("{text}");
                }
                return Ok::<_, Failure>(0);
            }
            if !confirm(&text, "record these changes in the state", a.auto_approve)? {
                outln!("Apply cancelled.");
                return Err(Failure::Failed("apply cancelled".into()));
            }
            if !json && a.auto_approve {
                out!("{text}");
            }
            store.save_state(&mut refreshed).await.map_err(state_err)?;
            if json {
                render::json_line("state_saved", serde_json::json!({ "serial": refreshed.serial, "recorded": drift.len() }));
            } else {
                outln!("Recorded {} change(s) made outside tandem in the state (serial {}).", drift.len(), refreshed.serial);
            }
            Ok(0)
        }
        .await
    );
    Ok(code)
}

async fn finish(summary: &tandem_core::Summary, verb: &str, json: bool, store: &tandem_state::Store, destroy: bool) -> CmdResult {
    if json {
        render::summary_line(summary);
    } else {
        out!("{}", render::summary_text(summary, verb));
        if !destroy && summary.ok() {
            if let Ok(state) = store.load().await {
                print_outputs(&state, None, false);
            }
        }
    }
    Ok(if summary.ok() { 0 } else { 1 })
}

async fn destroy(a: DestroyArgs) -> CmdResult {
    let json = a.spec.json;
    let lines = Arc::new(render::Lines::new(json));
    let (spec, mut engine) = load(&a.spec, lines.clone())?;
    engine.parallelism = a.state.parallelism;
    let opened = backends::open(&a.spec.spec, a.state.state.as_deref(), &a.state.backend_config, json).await?;
    let store = &opened.store;
    let summary = locked!(
        store,
        "destroy",
        a.state.lock_timeout,
        async {
            let state = store.load().await.map_err(state_err)?;
            store.check_writable(&state).map_err(state_err)?;
            let opts = PlanOptions { destroy: true, targets: a.state.targets.clone(), stages: a.state.stages.clone(), no_refresh: false };
            let plan = engine.plan(&spec, &state, &opts).await.map_err(|e| engine_err(e, json))?;
            let text = render::plan_text(&plan);
            if json {
                render::plan_line(&plan);
            }
            if !plan.has_changes() {
                if json {
                    render::summary_line(&tandem_core::Summary::default());
                } else {
                    outln!("Nothing to destroy: the state records no resources.");
                }
                return Ok::<_, Failure>(None);
            }
            lines.set_total(operations(&plan));
            if !confirm(&text, "destroy these resources", a.auto_approve)? {
                outln!("Destroy cancelled.");
                return Err(Failure::Failed("destroy cancelled".into()));
            }
            if !json && a.auto_approve {
                outln!("{text}");
            }
            interrupt_on_ctrl_c(&engine);
            let done = engine.apply(&spec, &plan, store, state).await;
            lines.finish();
            Ok(Some(done.map_err(|e| engine_err(e, json))?))
        }
        .await
    );
    match summary {
        None => Ok(0),
        Some(summary) => finish(&summary, "Destroy", json, store, true).await,
    }
}

/// `--file`: `address: id` pairs, or a list of `{ address, id }`.
fn import_items(path: &Path, json: bool) -> Result<Vec<(String, String)>, Failure> {
    use tandem_spec::yaml::{self, Node, NodeKind, Scalar};
    let text = read_file(path, "import file", json)?;
    let src = std::sync::Arc::new(SourceFile { name: path.display().to_string(), text: text.clone() });
    let bad = |span: tandem_spec::Span, why: &str| {
        Failure::Invalid(
            Problems(vec![Problem::new(Code::ImportFile, why.to_string())
                .at(&src, span, "here")
                .help("write `address: id` lines, or a list of `- { address: vpc, id: vpc-0abc }`")]),
            json,
        )
    };
    let root = yaml::parse(&text).map_err(|e| bad(e.span, &format!("not valid YAML: {}", e.message)))?;
    let scalar = |n: &Node| -> Option<String> {
        match &n.kind {
            NodeKind::Scalar(Scalar::Str(s)) => Some(s.clone()),
            NodeKind::Scalar(Scalar::Int(i)) => Some(i.to_string()),
            _ => None,
        }
    };
    let mut out = Vec::new();
    match &root.kind {
        NodeKind::Map(m) => {
            for (k, (_, v)) in m {
                let id = scalar(v).ok_or_else(|| bad(v.span, &format!("the id of `{k}` must be a string")))?;
                out.push((k.clone(), id));
            }
        }
        NodeKind::Seq(items) => {
            for it in items {
                let m = it.as_map().ok_or_else(|| bad(it.span, "each item is a mapping with `address` and `id`"))?;
                let get = |k: &str| m.get(k).and_then(|(_, n)| scalar(n));
                match (get("address"), get("id")) {
                    (Some(a), Some(i)) => out.push((a, i)),
                    _ => return Err(bad(it.span, "this item needs `address` and `id`, both strings")),
                }
            }
        }
        _ => return Err(bad(root.span, "expected a mapping of addresses to ids, or a list")),
    }
    if out.is_empty() {
        return Err(bad(root.span, "the file lists nothing to import"));
    }
    Ok(out)
}

async fn import(a: ImportArgs) -> CmdResult {
    let json = a.spec.json;
    let items = match (&a.file, &a.address, &a.id) {
        (Some(f), _, _) => import_items(f, json)?,
        (None, Some(addr), Some(id)) => vec![(addr.clone(), id.clone())],
        _ => return Err(invalid("give ADDRESS and ID, or --file FILE".into(), json)),
    };
    let (spec, mut engine) = load(&a.spec, Arc::new(render::Lines::new(json)))?;
    engine.parallelism = a.state.parallelism;
    let opened = backends::open(&a.spec.spec, a.state.state.as_deref(), &a.state.backend_config, json).await?;
    let store = &opened.store;
    let (state, results) = locked!(
        store,
        "import",
        a.state.lock_timeout,
        async {
            let state = store.load().await.map_err(state_err)?;
            store.check_writable(&state).map_err(state_err)?;
            store.check_can_seal(engine.has_secrets(&spec)).map_err(state_err)?;
            engine.import_many(&spec, store, state, &items).await.map_err(|e| engine_err(e, json))
        }
        .await
    );
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    if json {
        render::json_line(
            "import",
            serde_json::json!({ "imported": results.iter().filter_map(|r| r.result.as_ref().ok().map(|id| serde_json::json!({"address": r.address, "id": id}))).collect::<Vec<_>>(),
            "failed": results.iter().filter_map(|r| r.result.as_ref().err().map(|e| serde_json::json!({"address": r.address, "error": e}))).collect::<Vec<_>>() }),
        );
    } else {
        for r in &results {
            match &r.result {
                Ok(id) => outln!("Imported {id} ({}) as `{}`.", state.resources[&r.address].type_name, r.address),
                Err(e) => errln!("error: {e}"),
            }
        }
        if failed == 0 {
            outln!("Run `tandem plan` to see how they differ from the spec.");
        }
    }
    if items.len() == 1 && failed == 1 {
        return Err(Failure::Failed(results[0].result.clone().err().unwrap_or_default()));
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn print_outputs(state: &tandem_state::State, name: Option<&str>, show_sensitive: bool) {
    if state.outputs.is_empty() {
        return;
    }
    if name.is_none() {
        outln!("\nOutputs:");
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
            outln!("{v}");
        } else {
            outln!("  {k} = {v}");
        }
    }
}

/// `tandem fmt`: rewrite each file in the canonical layout, or with
/// `--check` say which are not (exit 3), as `terraform fmt -check` does.
fn fmt(a: FmtArgs) -> CmdResult {
    let files = if a.files.is_empty() { vec![PathBuf::from("tandem.yaml")] } else { a.files };
    let mut unformatted = Vec::new();
    for f in &files {
        let text = read_file(f, "spec", false)?;
        let src = Arc::new(SourceFile { name: f.display().to_string(), text: text.clone() });
        let formatted = tandem_spec::fmt::format(&text)
            .map_err(|e| Failure::Invalid(Problems(vec![Problem::new(Code::Fmt, e.message).at(&src, e.span, "here")]), false))?;
        if formatted == text {
            continue;
        }
        unformatted.push(f.display().to_string());
        if !a.check {
            std::fs::write(f, &formatted).map_err(|e| Failure::Failed(format!("cannot write {}: {e}", f.display())))?;
        }
        outln!("{}", f.display());
    }
    if a.check && !unformatted.is_empty() {
        errln!("{} file(s) not formatted; run `tandem fmt {}`", unformatted.len(), unformatted.join(" "));
        return Ok(3);
    }
    Ok(0)
}

/// `tandem show`: the state as a whole (secrets redacted), or a saved plan.
async fn show(a: ShowArgs) -> CmdResult {
    let json = a.store.json;
    let Some(path) = &a.planfile else {
        return state_cmd::show_all(a.store).await;
    };
    let text = read_file(path, "plan file", json)?;
    let pf = PlanFile::parse(path, &text).map_err(|e| invalid(e.to_string(), json))?;
    if json {
        outln!(
            "{}",
            serde_json::json!({ "format": render::JSON_FORMAT, "spec": pf.spec_name, "changes": pf.plan.has_changes(), "plan": pf.plan })
        );
    } else {
        outln!("Plan saved from {} against serial {} of the state (lineage {}):\n", pf.spec_name, pf.plan.serial, pf.plan.lineage);
        out!("{}", render::plan_text(&pf.plan));
    }
    Ok(0)
}

async fn output(a: OutputArgs) -> CmdResult {
    let opened = backends::open(&a.spec.spec, a.state.as_deref(), &a.backend_config, a.spec.json).await?;
    let state = opened.store.load().await.map_err(state_err)?;
    if a.show_sensitive && state.outputs.values().any(|o| crypt::any_sealed(&o.value)) {
        opened.store.check_writable(&state).map_err(state_err)?;
    }
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
            .map(|(k, o)| {
                (k, if o.sensitive && !a.show_sensitive { Value::String(tandem_schema::SENSITIVE.into()) } else { o.value.clone() })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&shown).unwrap_or_default());
    } else {
        print_outputs(&state, a.name.as_deref(), a.show_sensitive);
    }
    Ok(0)
}

fn docs(a: DocsArgs) -> CmdResult {
    let reg = registry();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut index = String::from("# Resource kinds\n\nGenerated by `tandem docs` from each kind's schema; do not edit by hand.\n\n");
    for s in reg.schemas() {
        files.push((a.out.join("kinds").join(format!("{}.md", s.type_name)), tandem_schema::render_markdown(s)));
        index.push_str(&format!("- [`{}`]({}.md): {}\n", s.type_name, s.type_name, s.doc));
    }
    files.push((a.out.join("kinds").join("README.md"), index));
    let schema = tandem_spec::schema::spec_schema(reg.schemas());
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
        outln!("Wrote {} files under {}.", files.len(), a.out.display());
    }
    Ok(0)
}
