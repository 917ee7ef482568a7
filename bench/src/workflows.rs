//! The workflows and activities the scenarios run.

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use weft::prelude::*;
use weft::workflow::join_all;

/// How long any benchmark activity may take.
const ACTIVITY_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- hello

/// The one activity of `hello`.
#[activity]
pub async fn say_hello(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

/// `hello`: one activity, its result returned.
#[workflow]
#[derive(Default)]
pub struct Hello;

#[workflow]
impl Hello {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let greeting = ctx
            .activity(SAY_HELLO, name)
            .start_to_close_timeout(ACTIVITY_TIMEOUT)
            .await?;
        Ok(greeting)
    }
}

// ----------------------------------------------------------- sequential

/// Records when each step's activity ran.
#[derive(Debug, Default)]
pub struct StepClock {
    times: Mutex<Vec<Option<Instant>>>,
}

impl StepClock {
    /// A clock for `steps` steps.
    pub fn new(steps: u64) -> Self {
        StepClock {
            times: Mutex::new(vec![None; usize::try_from(steps).unwrap_or(0)]),
        }
    }

    /// When each step ran (`None`: never).
    pub fn times(&self) -> Vec<Option<Instant>> {
        match self.times.lock() {
            Ok(times) => times.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[activity]
impl StepClock {
    /// One step: records when it ran and returns its number.
    pub async fn step(&self, i: u64) -> Result<u64, ApplicationError> {
        let now = Instant::now();
        let mut times = match self.times.lock() {
            Ok(times) => times,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| times.get_mut(i)) {
            // A retried step keeps its first time.
            slot.get_or_insert(now);
        }
        Ok(i)
    }
}

/// Where a run of [`Sequence`] starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SequenceInput {
    /// The first step of this run.
    pub next: u64,
    /// Steps in all.
    pub total: u64,
    /// Runs before this one.
    pub runs: u64,
    /// Continue as new when history suggests it.
    pub continue_as_new: bool,
}

/// What [`Sequence`] returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOutput {
    /// Steps run.
    pub steps: u64,
    /// Runs the chain took.
    pub runs: u64,
}

/// `sequential` and `replay`: steps one after another.
#[workflow]
#[derive(Default)]
pub struct Sequence;

#[workflow]
impl Sequence {
    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        input: SequenceInput,
    ) -> WorkflowResult<SequenceOutput> {
        let mut i = input.next;
        while i < input.total {
            let got = ctx
                .activity(StepClock::STEP, i)
                .start_to_close_timeout(ACTIVITY_TIMEOUT)
                .await?;
            if got != i {
                return Err(ApplicationError::new(format!("step {i} returned {got}")).into());
            }
            i += 1;
            if i < input.total && input.continue_as_new && ctx.is_continue_as_new_suggested() {
                return ctx.continue_as_new(SequenceInput {
                    next: i,
                    runs: input.runs + 1,
                    ..input
                });
            }
        }
        Ok(SequenceOutput {
            steps: i,
            runs: input.runs + 1,
        })
    }
}

// --------------------------------------------------------------- fanout

/// One branch of `fanout`.
#[activity]
pub async fn branch(i: u64) -> Result<u64, ApplicationError> {
    Ok(i)
}

/// `fanout`: `n` activities at once, their results summed.
#[workflow]
#[derive(Default)]
pub struct Fanout;

#[workflow]
impl Fanout {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
        let calls = (0..n).map(|i| {
            ctx.activity(BRANCH, i)
                .start_to_close_timeout(ACTIVITY_TIMEOUT)
                .into_future()
        });
        let mut sum = 0;
        for result in join_all(calls).await {
            sum += result?;
        }
        Ok(sum)
    }
}

// --------------------------------------------------------------- timers

/// Milliseconds since the Unix epoch.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `timers`: sleeps until `fire_at_ms` (Unix ms) and returns how late its
/// workflow task saw the timer fire, in ms.
#[workflow]
#[derive(Default)]
pub struct Sleeper;

#[workflow]
impl Sleeper {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, fire_at_ms: u64) -> WorkflowResult<u64> {
        let now = epoch_ms(ctx.now().into());
        if fire_at_ms > now {
            ctx.sleep(Duration::from_millis(fire_at_ms - now)).await?;
        }
        Ok(epoch_ms(ctx.now().into()).saturating_sub(fire_at_ms))
    }
}

// -------------------------------------------------------------- updates

/// What each run of [`Counter`] starts from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CounterInput {
    /// The count so far.
    pub total: u64,
    /// Runs before this one.
    pub runs: u64,
}

/// `updates`: an entity counting what its updates add, continuing as new
/// when history suggests it, until `close`.
#[workflow]
#[derive(Default)]
pub struct Counter {
    total: u64,
    runs: u64,
    closed: bool,
}

#[workflow]
impl Counter {
    #[init]
    fn new(input: &CounterInput) -> Self {
        Counter {
            total: input.total,
            runs: input.runs + 1,
            closed: false,
        }
    }

    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        _input: CounterInput,
    ) -> WorkflowResult<CounterInput> {
        weft::select! {
            closed = ctx.wait_condition(|s| s.closed) => closed?,
            suggested = ctx.continue_as_new_suggested() => suggested?,
        }
        ctx.all_handlers_finished().await?;
        let state = ctx.state(|s| CounterInput {
            total: s.total,
            runs: s.runs,
        });
        if ctx.state(|s| s.closed) {
            Ok(state)
        } else {
            ctx.continue_as_new(state)
        }
    }

    /// Adds `n` and returns the new count.
    #[update]
    fn add(&mut self, n: u64) -> Result<u64, ApplicationError> {
        self.total += n;
        Ok(self.total)
    }

    /// Closes the entity; returns the count.
    #[update]
    fn close(&mut self) -> Result<u64, ApplicationError> {
        self.closed = true;
        Ok(self.total)
    }
}
