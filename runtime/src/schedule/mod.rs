//! Schedules: workflows started at times a spec describes, as Temporal's
//! schedules do.
//!
//! This module owns the data a schedule is made of ([`Schedule`]: what it
//! starts, when, its policies and state), what a backend says about one
//! ([`ScheduleDescription`], [`ScheduleListEntry`]), and how a spec's times
//! are computed (`spec`, used by the engine). It holds no state and talks
//! to no backend: clients reach schedules through
//! [`Client::create_schedule`](crate::Client::create_schedule) and
//! [`ScheduleHandle`](crate::client::ScheduleHandle), backends keep them.
//!
//! ```no_run
//! # use weft::prelude::*;
//! # use weft::schedule::{Schedule, ScheduleAction, ScheduleSpec};
//! # #[workflow] #[derive(Default)] struct Report;
//! # #[workflow] impl Report { #[run] async fn run(_ctx: WorkflowContext<Self>, _d: String) -> WorkflowResult<()> { Ok(()) } }
//! # async fn demo(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let action = ScheduleAction::start_workflow(Report::run, "daily".into(), "report", "reports")?;
//! let handle = client
//!     .create_schedule("weekday-report", Schedule::new(action, ScheduleSpec::cron("0 9 * * MON-FRI")))
//!     .await?;
//! let description = handle.describe().await?;
//! println!("next: {:?}", description.info.next_action_times.first());
//! # Ok(()) }
//! ```

pub(crate) mod cron;
pub(crate) mod spec;

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::backend::RunStatus;
use crate::converter::{self, ConverterError, Payload};
use crate::protocol::RunOptions;
use crate::workflow::{RunFn, Workflow};

/// A schedule: what it starts ([`ScheduleAction`]), when ([`ScheduleSpec`]),
/// how it treats overlaps and failures ([`SchedulePolicies`]) and whether it
/// runs ([`ScheduleState`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// What each action does.
    pub action: ScheduleAction,
    /// When actions are taken.
    pub spec: ScheduleSpec,
    /// Overlap, catch-up and failure policies.
    #[serde(default)]
    pub policies: SchedulePolicies,
    /// Paused or not, its note, how many actions remain.
    #[serde(default)]
    pub state: ScheduleState,
}

impl Schedule {
    /// A schedule taking `action` at the times of `spec`, with the default
    /// policies and state (running, unlimited).
    pub fn new(action: ScheduleAction, spec: ScheduleSpec) -> Self {
        Schedule {
            action,
            spec,
            policies: SchedulePolicies::default(),
            state: ScheduleState::default(),
        }
    }

    /// The same schedule with a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.state.note = note.into();
        self
    }

    /// The same schedule with an overlap policy.
    pub fn overlap(mut self, overlap: OverlapPolicy) -> Self {
        self.policies.overlap = overlap;
        self
    }
}

/// What a schedule does at each of its times: start a workflow.
///
/// The started workflow's id is the action's workflow id followed by the
/// action's nominal time, RFC 3339 in UTC to the second
/// (`report-2026-12-06T09:00:00Z`), as in Temporal: each time starts one
/// workflow, and a time processed twice finds the workflow it started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScheduleAction {
    /// Start a workflow.
    StartWorkflow(StartWorkflowAction),
}

/// The workflow an action starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartWorkflowAction {
    /// Registered workflow type.
    pub workflow_type: String,
    /// The workflow id each started workflow's id begins with.
    pub workflow_id: String,
    /// Task queue its workflow tasks go to.
    pub task_queue: String,
    /// Encoded input.
    pub input: Vec<Payload>,
    /// Timeouts, retry policy and memo of each workflow it starts.
    #[serde(default)]
    pub options: RunOptions,
}

impl ScheduleAction {
    /// Starts the workflow named by its run function, with `input`: typed
    /// as [`Client::start_workflow`](crate::Client::start_workflow) is.
    /// Fails only when the input cannot be encoded.
    pub fn start_workflow<W: Workflow>(
        _run: impl RunFn<W>,
        input: W::Input,
        workflow_id: impl Into<String>,
        task_queue: impl Into<String>,
    ) -> Result<Self, ConverterError> {
        Ok(ScheduleAction::StartWorkflow(StartWorkflowAction {
            workflow_type: W::NAME.to_string(),
            workflow_id: workflow_id.into(),
            task_queue: task_queue.into(),
            input: vec![converter::encode(&input)?],
            options: RunOptions::default(),
        }))
    }

    /// Sets the timeouts, retry policy and memo of each workflow it starts
    /// (as [`WorkflowOptions`](crate::WorkflowOptions) sets them for one).
    pub fn with_run_options(mut self, options: RunOptions) -> Self {
        let ScheduleAction::StartWorkflow(action) = &mut self;
        action.options = options;
        self
    }

    /// The workflow type it starts.
    pub fn workflow_type(&self) -> &str {
        match self {
            ScheduleAction::StartWorkflow(start) => &start.workflow_type,
        }
    }
}

/// When a schedule acts: the union of its intervals', cron expressions'
/// and calendars' times, minus those `skip` matches, from `start_at` to
/// `end_at`; each action comes up to `jitter` late.
///
/// Cron expressions and calendars are read in `time_zone` (UTC when
/// unset) by literal matching of the clock, as Temporal does: a 02:30
/// action does not run on the day a spring-forward skips 02:30, and a
/// 01:30 action runs twice on the day a fall-back repeats 01:30.
/// Intervals count from the Unix epoch in UTC, whatever the zone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// Fixed intervals.
    #[serde(default)]
    pub intervals: Vec<IntervalSpec>,
    /// Cron expressions, as Temporal reads them: 5 fields (minute, hour,
    /// day of month, month, day of week), 6 (and year) or 7 (second first,
    /// then the 6); names like `MON-FRI` and `JAN`; `@yearly`,
    /// `@monthly`, `@weekly`, `@daily`, `@hourly`; a `CRON_TZ=<zone>`
    /// prefix; a `# comment` at the end. Day of month and day of week
    /// must both match when both are set.
    #[serde(default)]
    pub cron_expressions: Vec<String>,
    /// Calendar specs.
    #[serde(default)]
    pub calendars: Vec<CalendarSpec>,
    /// Times matching any of these are skipped.
    #[serde(default)]
    pub skip: Vec<CalendarSpec>,
    /// No action before this time.
    #[serde(default)]
    pub start_at: Option<SystemTime>,
    /// No action after this time.
    #[serde(default)]
    pub end_at: Option<SystemTime>,
    /// Each action is delayed by up to this much (the same delay for the
    /// same time, less than the time to the next action); the workflow id
    /// keeps the nominal time.
    #[serde(default)]
    pub jitter: Duration,
    /// An IANA time zone name (`America/New_York`); UTC when unset.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl ScheduleSpec {
    /// Every `every`, at multiples of it since the Unix epoch.
    pub fn every(every: Duration) -> Self {
        ScheduleSpec {
            intervals: vec![IntervalSpec::every(every)],
            ..ScheduleSpec::default()
        }
    }

    /// At the times of one cron expression.
    pub fn cron(expression: impl Into<String>) -> Self {
        ScheduleSpec {
            cron_expressions: vec![expression.into()],
            ..ScheduleSpec::default()
        }
    }

    /// The same spec, read in the IANA time zone `name`.
    pub fn in_time_zone(mut self, name: impl Into<String>) -> Self {
        self.time_zone = Some(name.into());
        self
    }
}

/// Times `offset + k * every` since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalSpec {
    /// The interval (at least a millisecond).
    pub every: Duration,
    /// Where in the interval the times fall (less than `every`).
    #[serde(default)]
    pub offset: Duration,
}

impl IntervalSpec {
    /// Every `every`, no offset.
    pub fn every(every: Duration) -> Self {
        IntervalSpec {
            every,
            offset: Duration::ZERO,
        }
    }

    /// Every `every`, `offset` into each interval.
    pub fn with_offset(every: Duration, offset: Duration) -> Self {
        IntervalSpec { every, offset }
    }
}

/// Times whose clock fields all match, as Temporal's calendar specs: each
/// field is a list of ranges. The default is midnight every day (second,
/// minute and hour 0; every day, month, year and weekday).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// 0 to 59.
    pub second: Vec<Range>,
    /// 0 to 59.
    pub minute: Vec<Range>,
    /// 0 to 23.
    pub hour: Vec<Range>,
    /// 1 to 31.
    pub day_of_month: Vec<Range>,
    /// 1 to 12.
    pub month: Vec<Range>,
    /// Years; empty for every year.
    pub year: Vec<Range>,
    /// 0 (Sunday) to 6.
    pub day_of_week: Vec<Range>,
    /// Free text.
    pub comment: String,
}

impl Default for CalendarSpec {
    fn default() -> Self {
        CalendarSpec {
            second: vec![Range::at(0)],
            minute: vec![Range::at(0)],
            hour: vec![Range::at(0)],
            day_of_month: vec![Range::new(1, 31)],
            month: vec![Range::new(1, 12)],
            year: Vec::new(),
            day_of_week: vec![Range::new(0, 6)],
            comment: String::new(),
        }
    }
}

impl CalendarSpec {
    /// Every day at `hour:minute:00`.
    pub fn daily_at(hour: u32, minute: u32) -> Self {
        CalendarSpec {
            hour: vec![Range::at(hour)],
            minute: vec![Range::at(minute)],
            ..CalendarSpec::default()
        }
    }
}

/// `start` to `end` inclusive, every `step`: a field of a [`CalendarSpec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// First value.
    pub start: u32,
    /// Last value (at least `start`).
    pub end: u32,
    /// Step between values (at least 1).
    pub step: u32,
}

impl Range {
    /// One value.
    pub fn at(value: u32) -> Self {
        Range::new(value, value)
    }

    /// `start` to `end`, every value.
    pub fn new(start: u32, end: u32) -> Self {
        Range {
            start,
            end,
            step: 1,
        }
    }

    /// `start` to `end`, every `step`.
    pub fn step(start: u32, end: u32, step: u32) -> Self {
        Range { start, end, step }
    }
}

/// What happens when an action's time comes while a workflow an earlier
/// action started is still running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverlapPolicy {
    /// Don't start it (counted in `overlap_skipped`).
    #[default]
    Skip,
    /// Start it once the running one closes; one such start waits at most,
    /// others are skipped.
    BufferOne,
    /// Start each, one after another, as the one before closes.
    BufferAll,
    /// Ask the running one to cancel, and start this one once it closed.
    CancelOther,
    /// Terminate the running one and start this one.
    TerminateOther,
    /// Start it anyway. Such workflows are not watched: they never count
    /// as running for overlaps, and their recent actions stay `Running`.
    AllowAll,
}

/// How a schedule treats overlaps, missed times and failures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulePolicies {
    /// Overlaps: [`OverlapPolicy::Skip`] by default.
    pub overlap: OverlapPolicy,
    /// How late an action may still be taken, after the backend was down
    /// (365 days by default, as Temporal; at least 10 s, as Temporal,
    /// which describes a shorter window as 10 s). Times later than this
    /// are counted in `missed_catchup_window`.
    pub catchup_window: Duration,
    /// Pause the schedule when a workflow it started fails.
    pub pause_on_failure: bool,
}

/// Temporal's default catch-up window: 365 days.
pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);

/// The shortest catch-up window; shorter ones are raised to it.
pub const MIN_CATCHUP_WINDOW: Duration = Duration::from_secs(10);

impl Default for SchedulePolicies {
    fn default() -> Self {
        SchedulePolicies {
            overlap: OverlapPolicy::Skip,
            catchup_window: DEFAULT_CATCHUP_WINDOW,
            pause_on_failure: false,
        }
    }
}

/// Whether a schedule runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// A paused schedule takes no scheduled actions (triggers and
    /// backfills still run); times that pass while it is paused are not
    /// caught up.
    pub paused: bool,
    /// Why it is paused, or anything else.
    pub note: String,
    /// Scheduled actions left: `None` for no limit. Triggers and backfills
    /// do not count.
    pub remaining_actions: Option<u64>,
}

/// Actions to take for the times of a range, as if they had come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    /// First time of the range (included).
    pub start_at: SystemTime,
    /// Last time of the range (included, as Temporal).
    pub end_at: SystemTime,
    /// Overlap policy for these actions; the schedule's when `None`.
    pub overlap: Option<OverlapPolicy>,
}

/// A schedule as a backend describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleDescription {
    /// The schedule's id.
    pub schedule_id: String,
    /// The schedule as last created or updated (with its current state).
    pub schedule: Schedule,
    /// What it did and will do.
    pub info: ScheduleInfo,
    /// Changes at every change of the schedule: an update given it fails
    /// if the schedule changed since.
    pub conflict_token: u64,
}

/// What a schedule did and will do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleInfo {
    /// Workflows started.
    pub num_actions: u64,
    /// Times not taken because they were older than the catch-up window.
    pub missed_catchup_window: u64,
    /// Times not taken because of the overlap policy.
    pub overlap_skipped: u64,
    /// Starts dropped because the buffer was full.
    pub buffer_dropped: u64,
    /// Starts waiting for a running workflow to close.
    pub buffer_size: usize,
    /// Workflows started and still running (not those started under
    /// [`OverlapPolicy::AllowAll`]).
    pub running_actions: Vec<ScheduledRun>,
    /// The latest actions, oldest first (at most 10).
    pub recent_actions: Vec<ScheduleActionResult>,
    /// The next times an action is due (jitter included), at most 10;
    /// listed while paused too.
    pub next_action_times: Vec<SystemTime>,
    /// When it was created.
    pub created_at: Option<SystemTime>,
    /// When it was last updated (not paused or unpaused).
    pub last_updated_at: Option<SystemTime>,
    /// What went wrong, so the user can change it: a spec that no longer
    /// compiles, the last start that failed.
    pub errors: Vec<String>,
}

/// A workflow a schedule started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledRun {
    /// Its workflow id.
    pub workflow_id: String,
    /// Its first run.
    pub run_id: String,
}

/// One action a schedule took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleActionResult {
    /// The time it was for (in the workflow id).
    pub nominal_time: SystemTime,
    /// When it was due: the nominal time plus jitter.
    pub scheduled_at: SystemTime,
    /// When the workflow started.
    pub started_at: SystemTime,
    /// The workflow it started.
    pub workflow: ScheduledRun,
    /// Where that workflow stands (kept `Running` for
    /// [`OverlapPolicy::AllowAll`] starts, which are not watched).
    pub status: RunStatus,
}

/// A schedule, as listings show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleListEntry {
    /// The schedule's id.
    pub schedule_id: String,
    /// The workflow type its action starts.
    pub workflow_type: String,
    /// Its note.
    pub note: String,
    /// Whether it is paused.
    pub paused: bool,
    /// The latest actions, oldest first.
    pub recent_actions: Vec<ScheduleActionResult>,
    /// The next 5 times an action is due.
    pub next_action_times: Vec<SystemTime>,
}
