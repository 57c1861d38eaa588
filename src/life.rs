//! The lifetime of one mounted payment page.
//!
//! The host may unmount the page at any moment: mid-request, mid-poll,
//! while a language file loads. Work the page started checks its [`Life`]
//! after every wait and stops once it has ended, so nothing reads a
//! disposed signal (a panic, which `panic = "abort"` turns into a dead
//! wasm) or navigates the host page; requests in flight are aborted
//! through the `AbortController` every fetch of the page carries.

use send_wrapper::SendWrapper;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the page is still mounted, and the abort signal of its requests.
/// Cheap to clone; `Send + Sync` so Leptos's closures may hold it (the wasm
/// page has one thread, so the wrapper's check never fails).
#[derive(Clone, Debug)]
pub struct Life(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    alive: AtomicBool,
    abort: Option<SendWrapper<web_sys::AbortController>>,
}

impl Default for Life {
    fn default() -> Life {
        Life::new()
    }
}

impl Life {
    /// A new lifetime, alive.
    pub fn new() -> Life {
        let abort = web_sys::AbortController::new().ok().map(SendWrapper::new);
        Life(Arc::new(Inner { alive: AtomicBool::new(true), abort }))
    }

    /// Still mounted.
    pub fn is_alive(&self) -> bool {
        self.0.alive.load(Ordering::Relaxed)
    }

    /// The signal that aborts the page's requests when it ends; `None` in a
    /// browser without `AbortController` (the life checks still hold).
    pub fn abort_signal(&self) -> Option<web_sys::AbortSignal> {
        self.0.abort.as_ref().map(|c| c.signal())
    }

    /// Ends the lifetime: aborts what is in flight. Idempotent.
    pub fn end(&self) {
        if self.0.alive.swap(false, Ordering::Relaxed)
            && let Some(c) = &self.0.abort
        {
            c.abort();
        }
    }
}
