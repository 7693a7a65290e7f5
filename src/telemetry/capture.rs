//! Test support, for this crate's tests and the integration tests: the log lines
//! emitted on this thread, as JSON, to assert on levels, messages and fields. Nothing in
//! the service uses it.
//!
//! One global subscriber, installed on first use, writes each line to the capture that is
//! active on the emitting thread and drops the rest. A scoped subscriber per test
//! (`set_default`) would race with tests on other threads over tracing's cached callsite
//! interest and, now and then, capture nothing. The filter is a dynamic one for the same
//! reason: a plain `filter_fn` caches its first answer per callsite.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once, PoisonError};

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;

thread_local! {
    static CURRENT: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Collects every line logged on the current thread while its guard lives.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

/// Ends a capture when dropped, giving the thread back the one before it.
pub struct Capturing {
    previous: Option<Captured>,
}

impl Drop for Capturing {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl Captured {
    /// Starts capturing at every level; a current-thread runtime's tasks are included.
    pub fn start() -> (Self, Capturing) {
        install();
        let captured = Self::default();
        let previous = CURRENT.with(|current| current.replace(Some(captured.clone())));
        (captured, Capturing { previous })
    }

    /// Every line so far, parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The lines at `level` (`"ERROR"`, `"WARN"`, …).
    pub fn at(&self, level: &str) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["level"] == level)
            .collect()
    }
}

/// Installs the global subscriber once. Where another global subscriber was installed
/// first, nothing is captured and the asserting test fails visibly.
fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let capturing =
            dynamic_filter_fn(|_, _| CURRENT.with(|current| current.borrow().is_some()));
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(|| ThisThread)
            .with_filter(capturing);
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
    });
}

/// Writes to the capture active on the calling thread, if any.
struct ThisThread;

impl Write for ThisThread {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CURRENT.with(|current| {
            if let Some(captured) = current.borrow().as_ref() {
                let mut bytes = captured.0.lock().unwrap_or_else(PoisonError::into_inner);
                bytes.extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
