//! The tandem spec: a YAML file declaring variables, resources and outputs.
//!
//! [`load`] turns text into a checked [`Spec`] or a list of [`Problem`]s, each
//! naming file, line and column, what was expected and what to do.

pub mod backend;
mod diag;
pub mod fmt;
mod load;
mod model;
pub mod schema;
mod template;
pub mod vars_schema;
pub mod yaml;

pub use backend::{load_backend, resolve_backend, BackendConfig, BackendOverrides, BackendSpec};
pub use diag::{suggest, Code, Problem, Problems, SourceFile};
pub use load::{load, VarInputs, ID_OUTPUT};
pub use model::{Evaluated, Expr, ExprKind, Moved, OutputSpec, Part, Resource, Spec, VarType, Variable};
pub use yaml::Span;

impl Spec {
    /// `file:line:col` of a span in this spec.
    pub fn location(&self, span: Span) -> String {
        let (l, c) = diag::line_col(&self.source, span.start);
        format!("{}:{l}:{c}", self.source.name)
    }
}
