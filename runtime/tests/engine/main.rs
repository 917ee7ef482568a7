//! The embedded engine, driven through the `Backend` trait alone (no
//! worker), on both stores.

#[path = "../support/mod.rs"]
mod support;

mod commits;
mod lifecycle;
mod restart;
mod retries;
mod task_scheduled;
mod workflow_tasks;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weft::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, IdConflictPolicy, IdReusePolicy,
    QueryRequest, RunOutcome, RunStatus, SignalRequest, WorkflowTask, WorkflowTaskCompletion,
};
use weft::converter::{Payload, PayloadLimits, encode};
use weft::engine::store::StoreOp;
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore};
use weft::failure::{ApplicationError, Failure, RetryState, TimeoutType};
use weft::history::{Event, EventAttributes, LOCAL_ACTIVITY_MARKER, WorkflowTaskFailedCause};
use weft::protocol::{Command, Resolution};
use weft::retry::RetryPolicy;

use support::backend::*;
