//! Workflow interceptors around a run's instance: jobs pass through their
//! `inbound` on the way in, commands through their `outbound` on the way
//! out, queries through `query`. Outside the executor, which never knows.

use std::sync::Arc;

use crate::converter::Payload;
use crate::failure::Failure;
use crate::protocol::{Activation, Command};
use crate::telemetry::{WorkflowInterceptor, WorkflowRun};
use crate::workflow::error::TaskError;
use crate::workflow::executor::Instance;

/// The interceptors of a worker's workflows, first outermost.
pub(crate) type Chain = Arc<[Arc<dyn WorkflowInterceptor>]>;

/// `instance` seen through `chain`; `instance` itself when it is empty.
pub(crate) fn wrap(
    instance: Box<dyn Instance>,
    run: WorkflowRun,
    chain: &Chain,
) -> Box<dyn Instance> {
    if chain.is_empty() {
        return instance;
    }
    Box::new(Intercepted {
        inner: instance,
        run,
        chain: chain.clone(),
    })
}

struct Intercepted {
    inner: Box<dyn Instance>,
    run: WorkflowRun,
    chain: Chain,
}

impl Instance for Intercepted {
    fn activate(&mut self, mut activation: Activation) -> Result<Vec<Command>, TaskError> {
        let replaying = activation.is_replaying;
        for job in &mut activation.jobs {
            for interceptor in self.chain.iter() {
                interceptor.inbound(&self.run, job, replaying);
            }
        }
        let mut commands = self.inner.activate(activation)?;
        for command in &mut commands {
            // Innermost first on the way out.
            for interceptor in self.chain.iter().rev() {
                interceptor.outbound(&self.run, command, replaying);
            }
        }
        Ok(commands)
    }

    fn query(&self, name: &str, input: &[Payload]) -> Result<Payload, Failure> {
        for interceptor in self.chain.iter() {
            interceptor.query(&self.run, name, input);
        }
        self.inner.query(name, input)
    }
}
