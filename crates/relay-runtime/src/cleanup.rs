//! Work that must run when an action ends, whatever its outcome: a library
//! that takes something it must give back (an installation token it
//! minted, to revoke) registers it here, and [`crate::execute`] runs it
//! after the action returned, on success and on failure alike — and when
//! the step is cancelled: once a task is registered, SIGTERM or SIGINT (what
//! the runner sends a cancelled step) stops the action and runs the tasks
//! before it exits. Until then the signals keep their default effect.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

type Task = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// How long one cleanup task may take before the action exits anyway.
pub const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The tasks to run at the end of a run. Cheap to clone; clones share them.
#[derive(Clone, Default)]
pub struct Cleanup {
    tasks: Arc<Mutex<Vec<Task>>>,
    /// Set once a signal listener runs; notified when a signal came.
    cancel: Arc<tokio::sync::Notify>,
    listening: Arc<std::sync::atomic::AtomicBool>,
}

impl Cleanup {
    /// Registers `task` to run when the action ends.
    pub fn defer<F, Fut>(&self, task: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(move || Box::pin(task())));
        self.listen();
    }

    /// From the first task on, a cancelled step still runs the tasks.
    fn listen(&self) {
        use std::sync::atomic::Ordering;
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        let cancel = self.cancel.clone();
        handle.spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            cancel.notify_one();
        });
    }

    /// `work`'s output, or `None` when a signal cancelled the step first
    /// (possible only once a task is registered).
    pub async fn unless_cancelled<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            out = work => Some(out),
            () = self.cancel.notified() => None,
        }
    }

    /// Runs every registered task, the last registered first, each within
    /// [`CLEANUP_TIMEOUT`]; tasks registered meanwhile run too.
    pub async fn run(&self) {
        loop {
            let task = self
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(task) = task else { return };
            let _ = tokio::time::timeout(CLEANUP_TIMEOUT, task()).await;
        }
    }
}

impl std::fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        write!(f, "Cleanup({n} tasks)")
    }
}
