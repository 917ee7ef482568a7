//! Commit pacing: when the writer is idle and a step has just handed a
//! workflow task to a worker, the step's batch waits for that task's
//! completion, so the two commit together, one fsync instead of two.
//!
//! A workflow task only computes, and in process it comes back in well
//! under a commit's time. Sent at once, the first batch would occupy the
//! writer while the task runs, and the task's completion would wait for it
//! before a commit of its own: at one workflow in flight that doubles the
//! fsyncs on the path from a start (or an activity's result) to what the
//! workflow does next. Held, nothing is acknowledged sooner or later than
//! its commit allows: the held batch's replies wait with it, and what a
//! workflow task computed on held state commits in the same transaction
//! or after it.
//!
//! A hold ends when every task it waits for is back, or after
//! `EngineOptions::workflow_task_hold` (2 ms by default), whichever comes
//! first. It is not tried while tasks take longer than a commit to come
//! back (a remote worker, a long local activity): then waiting would only
//! add latency. When the writer is busy nothing is held: batches queued
//! behind a commit share it anyway.

use std::time::{Duration, Instant};

use super::state::{RunKey, WftState};

/// A moving average, in nanoseconds, of the last eight or so samples.
#[derive(Default, Clone, Copy, Debug)]
struct Average(Option<u64>);

impl Average {
    fn add(&mut self, sample: Duration) {
        let sample = u64::try_from(sample.as_nanos()).unwrap_or(u64::MAX);
        self.0 = Some(match self.0 {
            None => sample,
            Some(old) => old - old / 8 + sample / 8,
        });
    }

    fn get(self) -> Option<Duration> {
        self.0.map(Duration::from_nanos)
    }
}

/// What the engine knows to decide whether to hold a batch.
#[derive(Default)]
pub(crate) struct Pacing {
    /// The longest a batch is held (zero: never).
    most: Duration,
    /// Workflow tasks handed out since the last batch was sent: their run
    /// and task id.
    out: Vec<(RunKey, i64)>,
    /// When the held batch must go (`None`: nothing held).
    until: Option<Instant>,
    /// The batch sent to an idle writer and when, to time its commit.
    timing: Option<(u64, Instant)>,
    commit: Average,
    task: Average,
}

/// The longest hold used, whatever the options say: a deadline past
/// what `Instant` can hold would overflow.
const LONGEST: Duration = Duration::from_secs(3600);

impl Pacing {
    pub fn new(most: Duration) -> Pacing {
        Pacing {
            most: most.min(LONGEST),
            ..Pacing::default()
        }
    }

    /// A workflow task was handed to a worker.
    pub fn handed_out(&mut self, run: &RunKey, task_id: i64) {
        self.out.push((run.clone(), task_id));
    }

    /// A workflow task came back from its worker `took` after it went,
    /// whether or not a batch waited for it.
    pub fn task_back(&mut self, took: Duration) {
        self.task.add(took);
    }

    /// Forgets the handed-out tasks that came back and tells whether any
    /// is still out. `still_out` says whether a run's task of that id is
    /// still with its worker.
    fn any_out(&mut self, still_out: impl Fn(&RunKey, i64) -> bool) -> bool {
        self.out.retain(|(run, id)| still_out(run, *id));
        !self.out.is_empty()
    }

    /// Whether the batch gathered now waits for the workflow tasks handed
    /// out since the last one went (see the module's doc). Called only
    /// when there is something to send and the writer is idle.
    pub fn hold(&mut self, still_out: impl Fn(&RunKey, i64) -> bool) -> bool {
        let held = self.should_hold(still_out);
        if !held {
            self.until = None;
        }
        held
    }

    fn should_hold(&mut self, still_out: impl Fn(&RunKey, i64) -> bool) -> bool {
        if self.most.is_zero() || !self.any_out(still_out) {
            return false;
        }
        if let (Some(task), Some(commit)) = (self.task.get(), self.commit.get())
            && task >= commit
        {
            return false;
        }
        let now = Instant::now();
        let until = *self.until.get_or_insert(now + self.most);
        now < until
    }

    /// When the held batch must go, if one is held.
    pub fn deadline(&self) -> Option<Instant> {
        self.until
    }

    /// A batch went to the writer; `idle` when nothing was in flight.
    pub fn sent(&mut self, id: u64, idle: bool) {
        self.out.clear();
        self.until = None;
        if idle {
            self.timing = Some((id, Instant::now()));
        }
    }

    /// Every batch up to `id` is durable.
    pub fn committed(&mut self, id: u64) {
        if let Some((timed, since)) = self.timing
            && timed <= id
        {
            self.commit.add(since.elapsed());
            self.timing = None;
        }
    }
}

/// Whether `run`'s workflow task `task_id` is still with its worker.
pub(crate) fn task_is_out(wft: &WftState, task_id: i64) -> bool {
    matches!(wft, WftState::Started { task_id: id, .. } if *id == task_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(run: &str) -> RunKey {
        RunKey::new("default", run)
    }

    #[test]
    fn nothing_out_holds_nothing() {
        let mut pacing = Pacing::new(Duration::from_secs(1));
        assert!(!pacing.hold(|_, _| true));
        assert_eq!(pacing.deadline(), None);
    }

    #[test]
    fn a_hold_longer_than_an_hour_is_cut_to_one() {
        let mut pacing = Pacing::new(Duration::MAX);
        pacing.handed_out(&key("a"), 1);
        assert!(pacing.hold(|_, _| true));
        let deadline = pacing.deadline().expect("a hold has a deadline");
        assert!(deadline <= Instant::now() + LONGEST);
    }

    #[test]
    fn a_zero_hold_holds_nothing() {
        let mut pacing = Pacing::new(Duration::ZERO);
        pacing.handed_out(&key("a"), 1);
        assert!(!pacing.hold(|_, _| true));
    }

    #[test]
    fn a_batch_waits_while_its_task_is_out_and_goes_when_it_is_back() {
        let most = Duration::from_secs(1);
        let mut pacing = Pacing::new(most);
        pacing.handed_out(&key("a"), 1);
        assert!(pacing.hold(|_, _| true));
        let deadline = pacing.deadline().expect("a hold has a deadline");
        assert!(deadline <= Instant::now() + most);
        // The deadline is set once, not pushed back by later flushes.
        assert!(pacing.hold(|_, _| true));
        assert_eq!(pacing.deadline(), Some(deadline));
        assert!(!pacing.hold(|_, _| false));
        assert_eq!(pacing.deadline(), None, "a batch not held has no deadline");
        assert_eq!(pacing.deadline(), None);
    }

    #[test]
    fn a_hold_ends_at_its_deadline_even_with_tasks_out() {
        let mut pacing = Pacing::new(Duration::from_micros(1));
        pacing.handed_out(&key("a"), 1);
        // A hold of a microsecond is over by the time it is asked again.
        pacing.hold(|_, _| true);
        std::thread::sleep(Duration::from_millis(1));
        assert!(!pacing.hold(|_, _| true));
        assert_eq!(pacing.deadline(), None);
    }

    #[test]
    fn tasks_slower_than_commits_are_not_waited_for() {
        let mut pacing = Pacing::new(Duration::from_secs(1));
        pacing.commit.add(Duration::from_micros(200));
        pacing.task.add(Duration::from_millis(5));
        pacing.handed_out(&key("a"), 1);
        assert!(!pacing.hold(|_, _| true));
    }

    #[test]
    fn tasks_that_came_back_slower_than_commits_stop_the_holds_and_faster_ones_resume_them() {
        let mut pacing = Pacing::new(Duration::from_secs(1));
        pacing.commit.add(Duration::from_micros(200));
        pacing.task_back(Duration::from_millis(5));
        pacing.handed_out(&key("a"), 1);
        assert!(!pacing.hold(|_, _| true));
        for _ in 0..64 {
            pacing.task_back(Duration::from_micros(50));
        }
        pacing.handed_out(&key("b"), 1);
        assert!(pacing.hold(|_, _| true));
    }

    #[test]
    fn a_commit_is_timed_only_from_an_idle_writer() {
        let mut pacing = Pacing::default();
        pacing.sent(1, false);
        pacing.committed(1);
        assert!(pacing.commit.get().is_none());
        pacing.sent(2, true);
        pacing.committed(1);
        assert!(pacing.commit.get().is_none());
        pacing.committed(3);
        assert!(pacing.commit.get().is_some());
    }

    #[test]
    fn the_average_follows_its_samples() {
        let mut average = Average::default();
        average.add(Duration::from_micros(800));
        assert_eq!(average.get(), Some(Duration::from_micros(800)));
        for _ in 0..64 {
            average.add(Duration::from_micros(100));
        }
        let settled = average.get().expect("samples were added");
        assert!(settled < Duration::from_micros(110), "{settled:?}");
    }

    #[test]
    fn only_the_handed_out_attempt_counts_as_out() {
        let started = WftState::Started {
            task_id: 3,
            attempt: 1,
            scheduled_time: std::time::UNIX_EPOCH,
            started_time: std::time::UNIX_EPOCH,
        };
        assert!(task_is_out(&started, 3));
        assert!(!task_is_out(&started, 2));
        assert!(!task_is_out(&WftState::Idle, 3));
    }
}
