//! The command line, as clap types only.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub use crate::failover::{DrillArgs, FailoverArgs};

#[derive(Parser, Debug)]
#[command(name = "tandem", version, about = "Provision and run an active-active, multi-region contact center from one spec")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log filter for diagnostics on stderr (e.g. `tandem=debug`); also TANDEM_LOG.
    #[arg(long, global = true, env = "TANDEM_LOG", default_value = "warn")]
    pub log: String,
}

impl Command {
    /// `--json` was asked for: errors are printed as JSON too.
    pub fn json(&self) -> bool {
        match self {
            Command::Validate(a) | Command::Graph(a) => a.json,
            Command::Plan(a) => a.spec.json,
            Command::Apply(a) => a.spec.json,
            Command::Destroy(a) => a.spec.json,
            Command::Import(a) => a.spec.json,
            Command::Preflight(a) => a.spec.json,
            Command::Output(a) => a.spec.json,
            Command::Show(a) => a.store.json,
            Command::Init(a) => a.store.json,
            Command::ForceUnlock(a) => a.store.json,
            Command::Migrate(a) => a.json,
            Command::State(a) => match &a.command {
                StateCommand::List(s) | StateCommand::Pull(s) | StateCommand::RotateKey(s) => s.json,
                StateCommand::Show { store, .. }
                | StateCommand::Rm { store, .. }
                | StateCommand::Mv { store, .. }
                | StateCommand::Push { store, .. } => store.json,
            },
            _ => false,
        }
    }

    /// The commands whose `--json` output is a stream of lines (docs/json.md).
    pub fn json_stream(&self) -> bool {
        self.json() && matches!(self, Command::Plan(_) | Command::Apply(_) | Command::Destroy(_) | Command::Import(_))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check the spec: types, references, cycles. No cloud calls.
    Validate(SpecArgs),
    /// Refresh what exists and show what apply would change.
    Plan(PlanArgs),
    /// Make the cloud match the spec.
    Apply(ApplyArgs),
    /// Delete everything the state records, dependents first.
    Destroy(DestroyArgs),
    /// Record existing cloud objects under spec addresses (one, or many from `--file`).
    Import(ImportArgs),
    /// Set up (or change) where the state is kept: checks the backend,
    /// records it, and with `--migrate-state` copies the state from the
    /// previous backend.
    Init(InitArgs),
    /// Inspect and change the state without touching the cloud:
    /// list, show, rm, mv, pull, push, rotate-key.
    State(StateCmdArgs),
    /// Release a remote state's lock left by a process that died.
    ForceUnlock(ForceUnlockArgs),
    /// Say what a real account must have for this spec before anything is
    /// made (Global Resiliency access, SAML, region pairs, numbers to claim)
    /// and the permissions its kinds call with. Harmless reads only.
    Preflight(PreflightArgs),
    /// Print the dependency graph as DOT.
    Graph(SpecArgs),
    /// Print the spec's outputs from the state.
    Output(OutputArgs),
    /// Show the state (every resource, secrets redacted, and the outputs),
    /// or a plan saved by `tandem plan --out`.
    Show(ShowArgs),
    /// Lay out specs and var files canonically (two-space indentation, no
    /// trailing blanks), keeping comments and values; `--check` for CI.
    Fmt(FmtArgs),
    /// Print the JSON Schema of the spec's var files (its variables, typed), for editors.
    VarsSchema(VarsSchemaArgs),
    /// Print a shell completion script: `tandem completions bash > /etc/bash_completion.d/tandem`.
    Completions(CompletionsArgs),
    /// Print the man page (roff): `tandem man > tandem.1`.
    Man,
    /// Adopt a Terraform state into a tandem spec and state, with no cloud change.
    Migrate(MigrateArgs),
    /// Write the per-kind reference pages and the spec's JSON Schema.
    Docs(DocsArgs),
    /// Run the local sandbox: the AWS APIs no emulator serves (Connect,
    /// Direct Connect, DynamoDB replicas, VPN tunnel options), in front of moto.
    Sandbox(SandboxArgs),
    /// The failover controller by hand: `status`, `shift --to primary|secondary|default`, `watch`.
    Failover(FailoverArgs),
    /// Fail the primary region over and back through the controller, and measure both.
    Drill(DrillArgs),
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Loopback port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Forward what the sandbox does not serve to this emulator (`http://127.0.0.1:5000`).
    #[arg(long, conflicts_with = "moto")]
    pub upstream: Option<String>,
    /// Start moto from the project's virtualenv as the upstream.
    #[arg(long)]
    pub moto: bool,
    /// The virtualenv holding moto_server [default: $TANDEM_VENV, else the nearest .venv].
    #[arg(long)]
    pub venv: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// The spec file.
    #[arg(long, short = 's', default_value = "tandem.yaml")]
    pub spec: PathBuf,
    /// Set a variable: `--var name=value` (repeatable; lists and maps as YAML).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A YAML file of variable values (repeatable; later files win).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct StateArgs {
    /// The state file [default: .tandem/state.json next to the spec]; only
    /// for the local backend.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// A backend setting for this run: `--backend-config key=prod/state.json`
    /// (repeatable; wins over TANDEM_BACKEND_<KEY> and the spec).
    #[arg(long = "backend-config", value_name = "KEY=VALUE")]
    pub backend_config: Vec<String>,
    /// How long to wait for another process's lock on the state (`30s`, `5m`); 0 fails at once.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// How many operations may run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Only these resources and what they depend on (repeatable).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Only the resources labelled `stage: NAME` and what they depend on
    /// (destroy: and what depends on them); repeatable.
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The state file [default: .tandem/state.json next to the spec]; what
    /// exists already lets more be checked (the numbers' group, the instance).
    #[arg(long)]
    pub state: Option<std::path::PathBuf>,
    /// A backend setting for this run (repeatable).
    #[arg(long = "backend-config", value_name = "KEY=VALUE")]
    pub backend_config: Vec<String>,
    /// Print only the IAM policy document (AWS actions the spec's kinds call).
    #[arg(long)]
    pub iam_policy: bool,
}

/// How much of the cloud a plan reads first.
#[derive(Args, Debug, Clone)]
pub struct RefreshArgs {
    /// Read what exists before planning; `--refresh=false` plans against
    /// the state as recorded, with no reads (a region is down, or speed).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Only read what exists: plan shows how the cloud differs from the
    /// state, apply records it in the state. Nothing in the cloud changes.
    #[arg(long, conflicts_with = "refresh")]
    pub refresh_only: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub refresh: RefreshArgs,
    /// Save the plan for `tandem apply PLANFILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 0 when there is nothing to change, 2 when there is, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan a destroy.
    #[arg(long)]
    pub destroy: bool,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub refresh: RefreshArgs,
    /// Apply without asking.
    #[arg(long)]
    pub auto_approve: bool,
    /// A plan saved by `tandem plan --out`; applied as it is, if the state
    /// has not changed since. The plan already holds the spec, variables,
    /// targets and stages it was made with, so those options are refused.
    #[arg(conflicts_with_all = ["spec", "vars", "var_files", "targets", "stages", "backend_config", "refresh", "refresh_only"])]
    pub planfile: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub state: StateArgs,
    /// Destroy without asking.
    #[arg(long)]
    pub auto_approve: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub state: StateArgs,
    /// The resource's address in the spec.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub address: Option<String>,
    /// The cloud's id of the existing object.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub id: Option<String>,
    /// Import many at once: a YAML file mapping addresses to ids
    /// (`vpc: vpc-0abc`), or a list of `{ address: ..., id: ... }`.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Where the state is: the spec's `backend:` block, with overrides.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// The spec whose `backend:` block says where the state is.
    #[arg(long, short = 's', default_value = "tandem.yaml")]
    pub spec: PathBuf,
    /// A local state file instead.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// A backend setting for this run (repeatable).
    #[arg(long = "backend-config", value_name = "KEY=VALUE")]
    pub backend_config: Vec<String>,
    /// How long to wait for another process's lock (`30s`, `5m`).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Copy the state from the backend used before to the one the spec names now.
    #[arg(long, conflicts_with = "reconfigure")]
    pub migrate_state: bool,
    /// Use the backend the spec names now as it is, without copying anything.
    #[arg(long)]
    pub reconfigure: bool,
    /// With --migrate-state: overwrite a different state already at the new backend.
    #[arg(long, requires = "migrate_state")]
    pub force_copy: bool,
}

#[derive(Args, Debug)]
pub struct StateCmdArgs {
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// Every address in the state, with its type and cloud id (no key needed).
    List(StoreArgs),
    /// One resource as the state records it (secrets redacted).
    Show {
        #[command(flatten)]
        store: StoreArgs,
        address: String,
    },
    /// Forget resources (the cloud objects stay); a `for_each` key forgets all its instances.
    Rm {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Rename a resource in the state (after renaming it in the spec).
    Mv {
        #[command(flatten)]
        store: StoreArgs,
        from: String,
        to: String,
    },
    /// Print the stored state as it is (secrets stay encrypted).
    Pull(StoreArgs),
    /// Replace the stored state with FILE, if it continues it (same lineage, not older).
    Push {
        #[command(flatten)]
        store: StoreArgs,
        file: PathBuf,
        /// Skip the lineage and serial checks.
        #[arg(long)]
        force: bool,
    },
    /// Re-encrypt the secrets under a new data key (the configured KMS key,
    /// or $TANDEM_STATE_PASSPHRASE with the old one in $TANDEM_STATE_PASSPHRASE_OLD).
    RotateKey(StoreArgs),
}

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The lock ID the error message named.
    pub id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// A backend setting for this run (repeatable).
    #[arg(long = "backend-config", value_name = "KEY=VALUE")]
    pub backend_config: Vec<String>,
    /// One output's name; all when absent.
    pub name: Option<String>,
    /// Print sensitive values too.
    #[arg(long)]
    pub show_sensitive: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A plan saved by `tandem plan --out`: shown instead of the state.
    pub planfile: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// The files [default: tandem.yaml].
    pub files: Vec<PathBuf>,
    /// Write nothing; list the files that are not formatted and exit 3 if any.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug)]
pub struct VarsSchemaArgs {
    /// The spec file.
    #[arg(long, short = 's', default_value = "tandem.yaml")]
    pub spec: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct DocsArgs {
    /// Where to write `kinds/*.md` and `tandem.schema.json`.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Do not write; fail if the files on disk differ from what would be written.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The Terraform state (format version 4): a file, or the object of an S3 backend as s3://BUCKET/KEY.
    #[arg(long = "from-tfstate", value_name = "FILE|s3://BUCKET/KEY")]
    pub from_tfstate: String,
    /// The directory to write tandem.yaml and .tandem/state.json to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The Terraform configuration's directory: its provider blocks give the
    /// regions of provider aliases the state alone does not tell.
    #[arg(long, value_name = "DIR")]
    pub tf_dir: Option<PathBuf>,
    /// The spec's `name` [default: the --out directory's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The region of the S3 bucket [default: AWS_REGION, else us-east-1].
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// Overwrite a spec or state already in --out.
    #[arg(long)]
    pub force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}
