//! What can go wrong with a state, said so a person knows what to do.

use crate::FORMAT_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state {at}: {detail}")]
    Read { at: String, detail: String },
    #[error("cannot write the state {at}: {detail}")]
    Write { at: String, detail: String },
    #[error("the state {at} is corrupt ({detail}); it was left untouched. {restore}")]
    Corrupt { at: String, detail: String, restore: String },
    #[error("the state {at} has format version {found}; this tandem reads version {FORMAT_VERSION}. Use the tandem that wrote it")]
    UnknownVersion { at: String, found: u64 },
    #[error("the state {at} is locked by {holder}; {help}")]
    Locked { at: String, holder: String, id: Option<String>, help: String },
    #[error("the state {at} changed since this tandem read it ({detail}); nothing was overwritten. Run the command again: it reads the new state first")]
    Conflict { at: String, detail: String },
    #[error("{0}")]
    Lock(String),
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Refused(String),
}
