//! The handle producers push into and the one task that drives the sink.
//!
//! Owns: the lock around the scheduler, waking the driver, and the driver
//! loop itself. Producers only ever take the lock for a push (no await, no
//! I/O under it); the driver takes it to pick a message and releases it
//! before awaiting the sink, so a stalled editor never stalls a producer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::message::{Limits, Message, Sink, Stats};
use crate::scheduler::{Next, Scheduler};

struct Shared {
    scheduler: Mutex<Scheduler>,
    /// Wakes the driver: something may be sendable sooner than it planned.
    /// `notify_one` keeps a permit, so a push between the driver's look and
    /// its wait is not lost.
    wake: Notify,
    /// Wakes `flush` callers when the outbox becomes idle or closes.
    idle: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Scheduler> {
        // A panic under the lock leaves the scheduler's data consistent
        // enough to keep streaming; losing the live view is worse.
        self.scheduler
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The producers' side of the outbox. Dropping the last clone lets the
/// driver deliver what is pending and then stop.
struct Producers {
    shared: Arc<Shared>,
}

impl Drop for Producers {
    fn drop(&mut self) {
        self.shared.lock().producers_gone();
        self.shared.wake.notify_one();
    }
}

/// The only path from producers to the editor. Cheap to clone; every clone
/// pushes into the same outbox.
#[derive(Clone)]
pub struct Outbox {
    producers: Arc<Producers>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Outbox {
    /// Starts the task that drives `sink` and returns the handle to push into.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (the driver is a Tokio task).
    pub fn spawn(limits: Limits, sink: impl Sink) -> Outbox {
        let shared = Arc::new(Shared {
            scheduler: Mutex::new(Scheduler::new(limits)),
            wake: Notify::new(),
            idle: Notify::new(),
        });
        tokio::spawn(drive(shared.clone(), sink));
        Outbox {
            producers: Arc::new(Producers { shared }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.producers.shared
    }

    /// Queues a message. Never blocks on the editor and never awaits: it
    /// takes a short lock, merges or queues, and returns. Callable from any
    /// thread, inside or outside the runtime.
    pub fn push(&self, message: Message) {
        let wake = self.shared().lock().push(message, Instant::now());
        if wake {
            self.shared().wake.notify_one();
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared().lock().stats()
    }

    /// Waits until the outbox is idle: everything pushed has been handed to
    /// the sink (at the configured pace), or the sink has closed. Pushes
    /// made meanwhile are waited for too. For shutdown and tests.
    pub async fn flush(&self) {
        loop {
            let idle = self.shared().idle.notified();
            tokio::pin!(idle);
            // Registered before looking, so an idle signal in between is kept.
            idle.as_mut().enable();
            {
                let scheduler = self.shared().lock();
                if scheduler.is_closed() || scheduler.is_idle() {
                    return;
                }
            }
            idle.await;
        }
    }
}

/// The one task that talks to the sink.
async fn drive(shared: Arc<Shared>, mut sink: impl Sink) {
    loop {
        let next = {
            let mut scheduler = shared.lock();
            if scheduler.is_finished() {
                shared.idle.notify_waiters();
                return;
            }
            let next = scheduler.next(Instant::now());
            if matches!(next, Next::Wait(_)) && scheduler.is_idle() {
                shared.idle.notify_waiters();
            }
            next
        };
        match next {
            Next::Send(message) => {
                let result = sink.send(message).await;
                let mut scheduler = shared.lock();
                match result {
                    Ok(()) => scheduler.sent(),
                    Err(closed) => {
                        tracing::info!("{closed}");
                        scheduler.close();
                    }
                }
            }
            Next::Wait(Some(deadline)) => {
                tokio::select! {
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep_until(deadline) => {}
                }
            }
            Next::Wait(None) => shared.wake.notified().await,
        }
    }
}
