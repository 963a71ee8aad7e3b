//! The write-ahead journal of operations in flight (`State::pending`).
//!
//! A create is recorded as an intent before it is sent, and the cloud's id
//! is recorded the moment the create answers, before any wait or read-back;
//! the entry is cleared in the same write that records the finished
//! resource. A run that dies anywhere in between (kill -9, a lost machine)
//! leaves an entry, and the next plan resolves it: the object is adopted
//! (recorded tainted, so apply replaces it and destroy deletes it), found
//! gone, or reported with what to check. Nothing tandem made is ever unknown
//! to it beyond the moment between the cloud making an object and its answer
//! arriving.

use crate::saver::Saver;
use async_trait::async_trait;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use tandem_provider::Journal;
use tandem_state::PendingKind;
use tokio::sync::{mpsc, oneshot};

/// What a plan found for one operation an interrupted run left in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingResolution {
    pub address: String,
    pub op: PendingKind,
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When the interrupted operation started.
    pub started: String,
    #[serde(flatten)]
    pub outcome: PendingOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PendingOutcome {
    /// The create made this object: apply records it as tainted (it did not
    /// finish), so it is replaced, or deleted when the spec no longer has it.
    Adopted { id: String },
    /// Nothing exists: the create never made it, or the delete finished.
    Gone,
    /// A delete was interrupted and the resource is still recorded: the
    /// plan's read of it decides (deleted again if still unwanted).
    Recorded,
    /// The create was sent but its answer never recorded, and this kind
    /// cannot find its objects by name: what to check is in `message`.
    /// Apply clears the entry (the summary repeats the message).
    Unrecorded { message: String },
    /// The entry could not be resolved now (a read failed): kept for the next plan.
    Unresolved { message: String },
}

impl PendingResolution {
    /// Whether apply clears the journal entry.
    pub fn settled(&self) -> bool {
        !matches!(self.outcome, PendingOutcome::Unresolved { .. })
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let what = match self.op {
            PendingKind::Create => "a create",
            PendingKind::Delete => "a delete",
        };
        let region = self.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
        let head =
            format!("{what} of `{}` ({}{region}) started {} by a run that did not finish", self.address, self.type_name, self.started);
        match &self.outcome {
            PendingOutcome::Adopted { id } => format!("{head}: it made {id}, adopted as tainted"),
            PendingOutcome::Gone => format!("{head}: nothing of it exists"),
            PendingOutcome::Recorded => format!("{head}: the resource is still recorded and was read again"),
            PendingOutcome::Unrecorded { message } | PendingOutcome::Unresolved { message } => format!("{head}: {message}"),
        }
    }
}

pub(crate) struct Made {
    address: String,
    id: String,
    ack: oneshot::Sender<()>,
}

/// The journal kinds see through `Ctx::made` during an apply: each id goes
/// to [`record`], which writes it with the state's group commit.
pub(crate) struct ChannelJournal {
    tx: mpsc::UnboundedSender<Made>,
}

pub(crate) fn channel() -> (Arc<ChannelJournal>, mpsc::UnboundedReceiver<Made>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Arc::new(ChannelJournal { tx }), rx)
}

#[async_trait]
impl Journal for ChannelJournal {
    async fn made(&self, address: &str, id: &str) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Made { address: address.to_string(), id: id.to_string(), ack }).is_ok() {
            let _ = done.await;
        }
    }
}

/// Record ids as creates report them, until `done` resolves (the apply's
/// walk finished: nothing more can be reported). Writes run concurrently so
/// ids reported together share one write.
pub(crate) async fn record(saver: &Saver<'_>, mut rx: mpsc::UnboundedReceiver<Made>, done: impl Future<Output = ()>) {
    let mut writes = FuturesUnordered::new();
    tokio::pin!(done);
    let mut open = true;
    loop {
        tokio::select! {
            m = rx.recv(), if open => match m {
                Some(Made { address, id, ack }) => writes.push(async move {
                    // A failed write stops the apply (the saver's fail-stop);
                    // the create's waiter then returns the object as partial.
                    let _ = saver
                        .commit(|s| {
                            if let Some(p) = s.pending.get_mut(&address) {
                                p.id = Some(id);
                            }
                        })
                        .await;
                    let _ = ack.send(());
                }),
                None => open = false,
            },
            _ = &mut done, if open => open = false,
            Some(()) = writes.next(), if !writes.is_empty() => {}
            else => break,
        }
    }
}
