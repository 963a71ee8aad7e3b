//! The tandem engine: spec -> graph -> plan -> apply/destroy/import.
//!
//! It knows no cloud: resource kinds come in through
//! [`tandem_provider::Registry`], progress goes out through [`Reporter`].
//!
//! [`engine`] runs the commands, one module a job (refresh, journal
//! resolution, plan, apply, import, preflight); [`plan`] is what a plan holds
//! and how fields compare; [`graph`] is the spec's dependency graph and
//! [`walk`] runs operations over one; [`journal`] and the state's group
//! commit keep an apply durable; [`event`] carries progress out;
//! [`planfile`] is `plan --out`; [`critical`] measures an apply against its
//! critical path.

pub mod critical;
pub mod engine;
pub mod event;
pub mod graph;
pub mod journal;
pub mod plan;
pub mod planfile;
mod saver;
mod view;
pub mod walk;

pub use engine::{lookup, Drift, Engine, EngineError, FailedOp, Imported, PlanOptions, Preflight, Summary, Timing, Unrecorded};
pub use event::{Event, Op, Reporter, Silent};
pub use graph::Graph;
pub use journal::{PendingOutcome, PendingResolution};
pub use plan::{Action, Change, FieldChange, Plan};
