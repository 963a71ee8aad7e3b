//! Where a state is kept: the contract every backend fulfils.
//!
//! A backend stores bytes; the [`crate::Store`] above it makes them a state
//! (versions, serial, encryption). Two rules make concurrent writers safe:
//! a write replaces only the version this handle last read or wrote
//! (compare-and-swap), and a lock names its holder so a second writer waits
//! or is refused with a name, never silently overwrites.

use crate::StateError;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// Who holds a lock, for what; written into the lock itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// What `tandem force-unlock` takes.
    #[serde(default)]
    pub id: String,
    pub operation: String,
    #[serde(default)]
    pub who: String,
    pub host: String,
    pub pid: u32,
    #[serde(default)]
    pub version: String,
    #[serde(alias = "since")]
    pub created: String,
}

impl LockInfo {
    pub fn new(operation: &str) -> LockInfo {
        let host = hostname();
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "someone".into());
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            host,
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }

    /// "`tandem apply` (pid 12 on host, since 2025-..., lock ID ...)".
    pub fn describe(&self) -> String {
        let id = if self.id.is_empty() { String::new() } else { format!(", lock ID {}", self.id) };
        let who = if self.who.is_empty() { String::new() } else { format!(" by {}", self.who) };
        format!("`tandem {}` (pid {} on {}{who}, since {}{id})", self.operation, self.pid, self.host, self.created)
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this host".into())
}

/// The outcome of one attempt to take a lock.
#[derive(Debug)]
pub enum Attempt {
    Taken,
    /// Someone else has it; what their lock says, when it can be read.
    Held(Option<LockInfo>),
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Where the state lives, for messages: a path, `s3://bucket/key`.
    fn location(&self) -> String;
    /// Whether other machines share it (then secrets must be encrypted and
    /// a crashed holder's lock can outlive it).
    fn remote(&self) -> bool;
    /// What to do with a corrupt state.
    fn restore_hint(&self) -> String;
    /// The stored bytes, `None` when nothing was written yet. Remembers the
    /// version read: the next [`Backend::write`] replaces only that one.
    async fn read(&self) -> Result<Option<Vec<u8>>, StateError>;
    /// Replace the state with `bytes` if it is still the version this handle
    /// last read or wrote (first write: if there is still none);
    /// [`StateError::Conflict`] otherwise.
    async fn write(&self, bytes: Vec<u8>) -> Result<(), StateError>;
    /// Take the lock once, without waiting.
    async fn try_lock(&self, info: &LockInfo) -> Result<Attempt, StateError>;
    /// Release a lock this process holds.
    async fn unlock(&self, info: &LockInfo) -> Result<(), StateError>;
    /// Remove the lock whose ID is `id`, whoever holds it; returns what it said.
    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError>;
}
