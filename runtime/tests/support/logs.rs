//! A `tracing` subscriber that keeps every warning and error, so tests can
//! await the line a user would read. Installed once per test binary, as
//! the global default (the engine and workers log from tokio's threads).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The warnings and errors logged so far, each as `message key=value ..`.
#[derive(Default)]
pub struct Logs {
    lines: Mutex<Vec<String>>,
    added: Notify,
}

impl Logs {
    /// Resolves with the first line that contains every one of `parts`.
    pub async fn wait_for(&self, parts: &[&str]) -> String {
        loop {
            let added = self.added.notified();
            if let Some(line) = self.find(parts) {
                return line;
            }
            added.await;
        }
    }

    /// The first line so far that contains every one of `parts`.
    pub fn find(&self, parts: &[&str]) -> Option<String> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .find(|line| parts.iter().all(|p| line.contains(p)))
            .cloned()
    }
}

/// The logs of this test binary, capturing from the first call on.
pub fn logs() -> Arc<Logs> {
    static LOGS: OnceLock<Arc<Logs>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Logs::default());
        tracing::subscriber::set_global_default(Capture(logs.clone()))
            .expect("no other subscriber in this test binary");
        logs
    })
    .clone()
}

struct Capture(Arc<Logs>);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("{} ", event.metadata().level()));
        event.record(&mut line);
        self.0.lines.lock().unwrap().push(line.0);
        self.0.added.notify_waiters();
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
