//! Progress of long work, on standard error only (standard output holds
//! the result): shown when standard error is a terminal, or when asked
//! for (`--progress`); redrawn in place on a terminal, a line at a time
//! elsewhere, at most a few times a second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often progress is shown at most.
const EVERY: Duration = Duration::from_millis(250);

pub(crate) struct Progress {
    shown: bool,
    terminal: bool,
    what: &'static str,
    total: usize,
    done: usize,
    last: Option<Instant>,
}

impl Progress {
    /// Progress of `total` steps of `what` ("events written"); `forced`
    /// shows it even when standard error is not a terminal.
    pub(crate) fn new(what: &'static str, total: usize, forced: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            shown: forced || terminal,
            terminal,
            what,
            total,
            done: 0,
            last: None,
        }
    }

    /// `n` more steps done.
    pub(crate) fn advance(&mut self, n: usize) {
        self.done = self.done.saturating_add(n).min(self.total);
        if self.shown && self.last.is_none_or(|t| t.elapsed() >= EVERY) {
            self.show();
        }
    }

    /// The last word: everything done.
    pub(crate) fn finish(&mut self) {
        if self.shown {
            self.done = self.total;
            self.show();
            if self.terminal {
                eprintln!();
            }
        }
    }

    fn show(&mut self) {
        self.last = Some(Instant::now());
        let line = format!("{}/{} {}", self.done, self.total, self.what);
        let mut err = std::io::stderr().lock();
        // Progress that cannot be shown is no reason to fail the work.
        let _ = if self.terminal {
            write!(err, "\r{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}
