//! Group commit of the state file during an apply.
//!
//! Every finished resource must be on disk before anything that depends on it
//! starts: a crash must never leave a made resource unrecorded. Writing the
//! file (two fsyncs and a backup copy) once per resource serialized every
//! completion behind the disk, so a wide apply spent most of its time saving.
//! Here a finished resource records its change in memory and waits until a
//! write that includes it has reached disk; one write covers every change
//! made while the previous write was running, so N resources finishing
//! together cost about two writes, not N.

use crate::event::{Event, Reporter};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use tandem_state::{State, StateError, StateWriter};

pub(crate) struct Saver<'a> {
    backend: &'a dyn StateWriter,
    state: &'a Mutex<State>,
    reporter: &'a dyn Reporter,
    /// Numbers the changes made to `state`; bumped under the state lock.
    changed: AtomicU64,
    /// The highest change number known to be on disk.
    durable: AtomicU64,
    /// One write at a time; the waiters behind it are covered by the next one.
    writer: tokio::sync::Mutex<()>,
    error: Mutex<Option<StateError>>,
    /// Set on the first failed write: nothing new may start (fail-stop), since
    /// whatever it made could not be recorded either.
    stop: &'a AtomicBool,
}

impl<'a> Saver<'a> {
    pub(crate) fn new(backend: &'a dyn StateWriter, state: &'a Mutex<State>, reporter: &'a dyn Reporter, stop: &'a AtomicBool) -> Self {
        Saver {
            backend,
            state,
            reporter,
            changed: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            writer: tokio::sync::Mutex::new(()),
            error: Mutex::new(None),
            stop,
        }
    }

    /// Change the state and return once the change is on disk. Err when the
    /// write failed (or an earlier one did): the change is NOT recorded; the
    /// error is also kept for [`Saver::finish`].
    pub(crate) async fn commit(&self, change: impl FnOnce(&mut State)) -> Result<(), String> {
        let mine = {
            let mut s = self.state.lock().expect("not poisoned");
            change(&mut s);
            self.changed.fetch_add(1, Ordering::SeqCst) + 1
        };
        self.durable_up_to(mine).await;
        match &*self.error.lock().expect("not poisoned") {
            Some(e) => Err(e.to_string()),
            None => Ok(()),
        }
    }

    async fn durable_up_to(&self, mine: u64) {
        if self.durable.load(Ordering::SeqCst) >= mine {
            return;
        }
        let _writing = self.writer.lock().await;
        if self.durable.load(Ordering::SeqCst) >= mine {
            return; // the write we queued behind included our change
        }
        // Read the counter under the state lock: the snapshot then holds every
        // change numbered up to it.
        let (mut snapshot, covers) = {
            let s = self.state.lock().expect("not poisoned");
            (s.clone(), self.changed.load(Ordering::SeqCst))
        };
        // The local backend writes (and fsyncs) off the runtime's threads;
        // other resources keep finishing and queue for the next write.
        match self.backend.save_state(&mut snapshot).await {
            Ok(()) => {
                let serial = snapshot.serial;
                let mut s = self.state.lock().expect("not poisoned");
                s.serial = serial;
                s.encryption = snapshot.encryption;
                drop(s);
                self.reporter.event(&Event::StateSaved { serial });
            }
            Err(e) => self.fail(e),
        }
        // Even after a failure: the error is reported once at the end, and
        // waiters must not retry a disk that just refused.
        self.durable.fetch_max(covers, Ordering::SeqCst);
    }

    fn fail(&self, e: StateError) {
        self.error.lock().expect("not poisoned").get_or_insert(e);
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The first write error, if any.
    pub(crate) fn finish(self) -> Result<(), StateError> {
        match self.error.into_inner().expect("not poisoned") {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
