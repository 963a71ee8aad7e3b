//! `tandem migrate`: read the Terraform state, let tandem-migrate map it,
//! check the spec it wrote loads, write the files, print the report.

use crate::{invalid, load_text, registry, Failure};
use std::path::Path;
use tandem_spec::{SourceFile, VarInputs};
use tandem_state::LocalBackend;

pub async fn run(a: crate::args::MigrateArgs) -> Result<u8, Failure> {
    let json = a.json;
    let (text, source) = tandem_migrate::source::read(&a.from_tfstate, a.s3_region.as_deref()).await.map_err(|e| invalid(e, json))?;
    let tf = tandem_migrate::parse(&source, &text).map_err(|e| invalid(e.to_string(), json))?;
    let spec_path = a.out.join("tandem.yaml");
    let backend = LocalBackend::new(tandem_state::default_path(&a.out));
    for p in [spec_path.as_path(), backend.path()] {
        if p.exists() && !a.force {
            return Err(invalid(
                format!("{} exists already; migrate into an empty directory, or pass --force to overwrite it", p.display()),
                json,
            ));
        }
    }
    let mut opts = tandem_migrate::Options {
        name: a.name.clone().unwrap_or_else(|| {
            a.out
                .canonicalize()
                .unwrap_or(a.out.clone())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "migrated".into())
        }),
        source: source.clone(),
        ..Default::default()
    };
    if let Some(dir) = &a.tf_dir {
        opts.provider_regions = provider_regions(dir).map_err(|e| invalid(e, json))?;
    }
    // What is written must load as any spec does. A resource whose values
    // tandem's checks refuse (the cloud took them, tandem would not) is left
    // out and reported; anything else failing here is a bug of the mapping.
    let m = loop {
        let m = tandem_migrate::migrate(&tf, &registry(), &opts);
        let inputs = VarInputs {
            files: m.secrets.iter().map(|t| SourceFile { name: tandem_migrate::write::SECRETS_FILE.into(), text: t.clone() }).collect(),
            ..Default::default()
        };
        let problems = match load_text(
            SourceFile { name: spec_path.display().to_string(), text: m.spec.clone() },
            &inputs,
            std::sync::Arc::new(tandem_core::Silent),
            json,
        ) {
            Ok(_) => break m,
            Err(Failure::Invalid(p, _)) => p,
            Err(other) => return Err(other),
        };
        let mut excluded = false;
        for p in problems.iter() {
            if let Some(key) = p.span.and_then(|s| tandem_migrate::resource_at(&m.spec, s.start)).filter(|k| !opts.exclude.contains_key(k))
            {
                opts.exclude.insert(
                    key,
                    format!(
                        "its values do not pass tandem's checks ({}); it stays as it is in the cloud, not managed by tandem",
                        p.message
                    ),
                );
                excluded = true;
            }
        }
        if !excluded {
            return Err(Failure::Failed(format!("the spec migrate made does not load (a bug in tandem migrate; please report it with the Terraform state's resource types):\n{problems}")));
        }
    };
    std::fs::create_dir_all(&a.out).map_err(|e| Failure::Failed(format!("cannot create {}: {e}", a.out.display())))?;
    std::fs::write(&spec_path, &m.spec).map_err(|e| Failure::Failed(format!("cannot write {}: {e}", spec_path.display())))?;
    if let Some(s) = &m.secrets {
        let p = a.out.join(tandem_migrate::write::SECRETS_FILE);
        crate::write_private(&p, s).map_err(|e| Failure::Failed(format!("cannot write {}: {e}", p.display())))?;
    }
    let mut state = m.state.clone();
    state.serial = 0;
    backend.save(&mut state).map_err(|e| Failure::Failed(e.to_string()))?;
    if json {
        outln!(
            "{}",
            serde_json::json!({ "spec": spec_path, "state": backend.path(), "secrets": m.secrets.as_ref().map(|_| a.out.join(tandem_migrate::write::SECRETS_FILE)), "entries": m.report.entries })
        );
        return Ok(0);
    }
    out!("{}", report_text(&m.report, &spec_path, backend.path(), m.secrets.is_some()));
    Ok(0)
}

fn report_text(r: &tandem_migrate::Report, spec: &Path, state: &Path, secrets: bool) -> String {
    let mut t = format!(
        "Migrated {} Terraform resource instances to {} ({} folded into others); the state {} adopts them by their cloud ids. No cloud call changed anything.\n",
        r.count("resource") + r.count("folded"),
        spec.display(),
        r.count("folded"),
        state.display()
    );
    let skipped: Vec<_> = r.entries.iter().filter(|e| e.outcome == "skipped").collect();
    if !skipped.is_empty() {
        t.push_str(&format!("\nNot migrated ({}; each stays as it is in the cloud, not managed by tandem):\n", skipped.len()));
        for e in skipped {
            t.push_str(&format!("  {}: {}\n", e.terraform, e.reason.as_deref().unwrap_or_default()));
        }
    }
    let notes: Vec<_> = r.entries.iter().filter(|e| !e.notes.is_empty()).collect();
    if !notes.is_empty() {
        t.push_str("\nNot carried into the spec (tandem leaves these as they are; the next plan shows no change for them):\n");
        for e in notes {
            for n in &e.notes {
                t.push_str(&format!("  {} ({}): {n}\n", e.address.as_deref().unwrap_or(&e.terraform), e.terraform));
            }
        }
    }
    let data = r.count("data");
    if data > 0 {
        t.push_str(&format!("\n{data} data source(s) only read by Terraform: nothing to adopt.\n"));
    }
    let dir = spec.parent().map(|d| d.display().to_string()).unwrap_or_else(|| ".".into());
    t.push_str(&format!(
        "\nNext: check that the cloud matches, with no change planned:\n  cd {dir} && tandem plan --detailed-exitcode{}\n",
        if secrets { format!(" --var-file {}", tandem_migrate::write::SECRETS_FILE) } else { String::new() }
    ));
    t
}

/// Regions of the AWS provider configurations in a Terraform configuration's `.tf` files.
fn provider_regions(dir: &Path) -> Result<std::collections::BTreeMap<String, String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the Terraform configuration {}: {e}", dir.display()))?;
    let (mut tf, mut vars) = (Vec::new(), Vec::new());
    let mut names: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    for p in names {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.ends_with(".tf") {
            tf.push(std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
        } else if name == "terraform.tfvars" || name.ends_with(".auto.tfvars") {
            vars.push(std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
        }
    }
    if tf.is_empty() {
        return Err(format!("{} has no .tf files: --tf-dir is the Terraform configuration's directory", dir.display()));
    }
    Ok(tandem_migrate::regions::from_configuration(&tf, &vars))
}
