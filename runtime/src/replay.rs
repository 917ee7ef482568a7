//! Replaying exported histories against the current code, to check that a
//! change to workflow code is compatible with runs already in flight.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::converter::DataConverter;
use crate::history::{Event, EventAttributes};
use crate::worker::driver::RunDriver;
use crate::workflow::Workflow;
use crate::workflow::executor::{self, Factory};

/// Replaying a history failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The code produced commands that do not match history.
    #[error("nondeterminism: {0}")]
    Nondeterminism(String),
    /// The code failed (panicked, or could not decode a value).
    #[error("workflow task failed: {0}")]
    TaskFailed(String),
    /// The history cannot be replayed as given.
    #[error("invalid history: {0}")]
    InvalidHistory(String),
}

/// Replays histories against registered workflow types, without a backend.
#[derive(Default)]
pub struct Replayer {
    factories: HashMap<String, Factory>,
    converter: DataConverter,
}

impl Replayer {
    /// An empty replayer.
    pub fn new() -> Self {
        Replayer::default()
    }

    /// Registers a workflow type.
    pub fn register_workflow<W: Workflow>(&mut self) -> &mut Self {
        self.factories.insert(
            W::NAME.to_string(),
            executor::factory::<W>(Default::default()),
        );
        self
    }

    /// Decodes histories with `converter` before replaying them: the one
    /// the workers that wrote them used (its codecs: old keys included).
    /// Histories read through a client with that converter are decoded
    /// already; decoding them again changes nothing.
    pub fn with_data_converter(&mut self, converter: DataConverter) -> &mut Self {
        self.converter = converter;
        self
    }

    /// Replays one history; JSON from `WorkflowHandle::history_json` is read
    /// with [`crate::history::from_json`].
    ///
    /// The run is replayed as workflow id `"replay"`; code whose commands
    /// depend on its workflow id wants [`Replayer::replay_workflow`].
    pub fn replay(&self, events: &[Event]) -> Result<(), ReplayError> {
        self.replay_workflow("replay", events)
    }

    /// Replays one history as the run of `workflow_id` (what
    /// `ctx.info().workflow_id` reads during the replay).
    pub fn replay_workflow(&self, workflow_id: &str, events: &[Event]) -> Result<(), ReplayError> {
        let Some(EventAttributes::WorkflowExecutionStarted { workflow_type, .. }) =
            events.first().map(|e| &e.attributes)
        else {
            return Err(ReplayError::InvalidHistory(
                "the first event must be WorkflowExecutionStarted".into(),
            ));
        };
        let factory = self.factories.get(workflow_type).ok_or_else(|| {
            ReplayError::InvalidHistory(format!(
                "workflow type {workflow_type:?} is not registered"
            ))
        })?;
        let events = self.decoded(events)?;
        let events = events.as_ref();
        let run_id = format!("replay-{workflow_id}");
        let mut driver = RunDriver::new(factory(), "replay", workflow_id, &run_id);
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| driver.apply_events(events)));
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.nondeterminism => Err(ReplayError::Nondeterminism(e.message)),
            Ok(Err(e)) => Err(ReplayError::TaskFailed(e.message)),
            Err(panic) => Err(ReplayError::TaskFailed(crate::panic::message(
                panic.as_ref(),
            ))),
        }
    }

    fn decoded<'a>(&self, events: &'a [Event]) -> Result<Cow<'a, [Event]>, ReplayError> {
        if self.converter.is_identity() {
            return Ok(Cow::Borrowed(events));
        }
        let mut events = events.to_vec();
        crate::backend::decode_events(&self.converter, &mut events)
            .map_err(|e| ReplayError::InvalidHistory(e.to_string()))?;
        Ok(Cow::Owned(events))
    }

    /// Replays a history exported as JSON.
    pub fn replay_json(&self, json: &str) -> Result<(), ReplayError> {
        let events = crate::history::from_json(json)
            .map_err(|e| ReplayError::InvalidHistory(e.to_string()))?;
        self.replay(&events)
    }
}
