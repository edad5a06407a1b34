//! The runs an engine is driving right now, and the hand-over at the end
//! of a drive: a drive's last transition (the pause, the end) is committed,
//! announced and released as one step, so that nobody who can see the
//! pause finds the run still "being driven" (docs/architecture.md,
//! "Actions").

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::{self, ThreadId};

use agentls_store::RunId;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::error::EngineError;

/// One drive of a run (a run is driven again after each pause).
struct Drive {
    id: u64,
    cancel: CancellationToken,
    done: watch::Receiver<bool>,
    /// Set when the drive has begun its last transition: the thread
    /// committing and announcing it (see [`Active::let_go`]).
    letting_go: Option<ThreadId>,
}

/// The drives of an engine, by run.
#[derive(Default)]
pub struct Active {
    drives: Mutex<HashMap<RunId, Drive>>,
    /// Notified whenever a drive that was letting go leaves.
    released: Condvar,
    /// Numbers the drives, so that a task ending late never removes the
    /// drive that replaced it.
    next: AtomicU64,
}

impl Active {
    /// Records a new drive of `run`, unless a task drives it; returns the
    /// drive's number (for [`Active::release`]).
    pub fn begin(
        &self,
        run: &RunId,
        cancel: CancellationToken,
        done: watch::Receiver<bool>,
    ) -> Result<u64, EngineError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let drive = Drive {
            id,
            cancel,
            done,
            letting_go: None,
        };
        let replaced = self.free(run)?.insert(run.clone(), drive);
        if replaced.is_some() {
            // A drive letting go on this thread (its subscriber acted on
            // the announcement): whoever waits for it now meets this one.
            self.released.notify_all();
        }
        Ok(id)
    }

    /// Makes the transition that ends the drive of `run`: `last` commits it
    /// and announces it, then the run leaves the set.
    ///
    /// From the moment `last` starts, an operation on the run from another
    /// thread waits until the run has left (microseconds: subscribers never
    /// block), then finds it free: a client that saw the pause in the store,
    /// or heard of it, can always act on it, and whatever it does is
    /// announced after the pause. An operation from a subscriber of the
    /// announcement itself (on this thread) goes ahead at once.
    pub fn let_go<T>(&self, run: &RunId, last: impl FnOnce() -> T) -> T {
        let id = self.lock().get_mut(run).map(|drive| {
            drive.letting_go = Some(thread::current().id());
            drive.id
        });
        let done = last();
        if let Some(id) = id {
            self.release(run, id);
        }
        done
    }

    /// Removes drive `id` of `run`, unless another drive replaced it.
    pub fn release(&self, run: &RunId, id: u64) {
        let mut drives = self.lock();
        if drives.get(run).is_some_and(|drive| drive.id == id) {
            drives.remove(run);
            self.released.notify_all();
        }
    }

    /// Whether a task drives the run (a drive letting go does not).
    pub fn is_driven(&self, run: &RunId) -> bool {
        self.lock()
            .get(run)
            .is_some_and(|drive| drive.letting_go.is_none())
    }

    /// Resolves when the current drive of `run` (if any) has ended.
    pub fn done(&self, run: &RunId) -> Option<watch::Receiver<bool>> {
        self.lock().get(run).map(|drive| drive.done.clone())
    }

    /// The cancel switch and end of the drive of `run`, once it is not
    /// letting go; `None` when no task drives the run.
    pub fn driving(&self, run: &RunId) -> Option<(CancellationToken, watch::Receiver<bool>)> {
        let (drives, driven) = self.settled(run);
        drives
            .get(run)
            .filter(|_| driven)
            .map(|drive| (drive.cancel.clone(), drive.done.clone()))
    }

    /// Every run with a drive.
    pub fn runs(&self) -> Vec<RunId> {
        self.lock().keys().cloned().collect()
    }

    /// Refuses (busy) if a task drives `run`; waits out a drive letting go.
    pub fn check_free(&self, run: &RunId) -> Result<(), EngineError> {
        self.free(run).map(drop)
    }

    /// The set, once `run` is not letting go, if no task drives it.
    fn free(&self, run: &RunId) -> Result<MutexGuard<'_, HashMap<RunId, Drive>>, EngineError> {
        match self.settled(run) {
            (drives, false) => Ok(drives),
            (_, true) => Err(EngineError::Busy {
                run: run.to_string(),
            }),
        }
    }

    /// The set once `run` is not letting go (see [`Active::let_go`]), and
    /// whether a task drives the run.
    fn settled(&self, run: &RunId) -> (MutexGuard<'_, HashMap<RunId, Drive>>, bool) {
        let me = thread::current().id();
        let mut drives = self.lock();
        loop {
            match drives.get(run).map(|drive| drive.letting_go) {
                None => return (drives, false),
                Some(None) => return (drives, true),
                Some(Some(thread)) if thread == me => return (drives, false),
                Some(Some(_)) => {
                    drives = self
                        .released
                        .wait(drives)
                        .unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<RunId, Drive>> {
        self.drives.lock().unwrap_or_else(|e| e.into_inner())
    }
}
