//! Visibility: listing and counting runs with Temporal's list filter
//! (`WorkflowType = 'Order' AND ExecutionStatus = 'Running' ORDER BY
//! StartTime DESC`).
//!
//! Owns the query language (`lex`, `parse`: text to syntax; `plan`: names
//! and values typed against the registered search attributes) and the one
//! evaluator every store answers through (`eval`). Stores keep a
//! [`WorkflowExecutionInfo`] per run and hand candidates to [`list`] and
//! [`count`]; the SQLite store narrows them with its indexes first
//! ([`Plan::filter`] tells what may be narrowed). It must not know about
//! the engine or a particular store.

mod eval;
mod lex;
mod parse;
mod plan;

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::backend::{BackendError, RunStatus};
use crate::search_attributes::{
    MAX_TOTAL_BYTES, SearchAttributeType, SearchAttributeValue, SearchAttributes,
};

pub use eval::{count, list, matches};
pub use plan::{Field, Filter, Op, Plan, SYSTEM_ATTRIBUTES, status_name};

/// A run as listings show it: what visibility stores of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowExecutionInfo {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run's id.
    pub run_id: String,
    /// The workflow type.
    pub workflow_type: String,
    /// The task queue of its workflow tasks.
    pub task_queue: String,
    /// Where it stands.
    pub status: RunStatus,
    /// When it started.
    pub start_time: SystemTime,
    /// When it closed.
    pub close_time: Option<SystemTime>,
    /// Its search attributes, as they stand (or stood when it closed).
    pub search_attributes: SearchAttributes,
}

/// What `count_workflows` answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCount {
    /// Runs that match.
    pub count: u64,
    /// With `GROUP BY ExecutionStatus`: the count of each status that
    /// occurs, most first (else empty).
    pub groups: Vec<CountGroup>,
}

/// One group of a grouped count.
#[derive(Clone, Debug, PartialEq)]
pub struct CountGroup {
    /// The group's values, one per `GROUP BY` attribute (a status name).
    pub values: Vec<SearchAttributeValue>,
    /// Runs in the group.
    pub count: u64,
}

/// A query that cannot be run, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based character position of the offending token.
    pub position: usize,
    message: String,
    /// What would do instead, shown after the position.
    hint: Option<String>,
}

impl QueryError {
    pub(crate) fn new(position: usize, message: String) -> Self {
        QueryError {
            position,
            message,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }

    pub(crate) fn syntax(position: usize, detail: String) -> Self {
        QueryError::new(
            position,
            format!("malformed SQL query: syntax error at position {position}: {detail}"),
        )
    }

    pub(crate) fn unsupported(position: usize, what: &str) -> Self {
        QueryError::new(position, format!("operation is not supported: {what}"))
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.contains("at position") {
            write!(f, "invalid query: {}", self.message)?;
        } else {
            write!(
                f,
                "invalid query: {} (at position {}",
                self.message, self.position
            )?;
            if let Some(hint) = &self.hint {
                write!(f, "; {hint}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}

impl From<QueryError> for BackendError {
    fn from(e: QueryError) -> Self {
        BackendError::InvalidArgument(e.to_string())
    }
}

/// Parses and types `query` (see [`Plan`]) against the registered custom
/// attributes.
pub fn plan_query(
    query: &str,
    registered: &BTreeMap<String, SearchAttributeType>,
) -> Result<Plan, QueryError> {
    plan::plan(query, registered)
}

/// Why a custom attribute cannot be registered under `name`, if it cannot.
pub(crate) fn check_registration(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "search attribute name {name:?} must be a letter or '_' followed by letters, \
             digits or '_'"
        ));
    }
    let reserved = SYSTEM_ATTRIBUTES.iter().any(|(n, _)| *n == name)
        || plan::RESERVED_NAMES.contains(&name)
        || name.starts_with("Temporal");
    if reserved || parse::is_keyword(name) {
        return Err(format!("search attribute {name} is reserved by system"));
    }
    Ok(())
}

/// Checks a run's attributes (set at start, or after an upsert) against
/// the registered ones: every name registered, every value of its type
/// and storable, the total within [`MAX_TOTAL_BYTES`].
pub(crate) fn check_attributes<'a>(
    attributes: impl IntoIterator<Item = (&'a str, Option<&'a SearchAttributeValue>)>,
    registered: &BTreeMap<String, SearchAttributeType>,
) -> Result<(), BackendError> {
    for (name, value) in attributes {
        let Some(expected) = registered.get(name) else {
            let known: Vec<&str> = registered.keys().map(String::as_str).collect();
            return Err(BackendError::InvalidArgument(format!(
                "search attribute {name} is not registered (registered: {}); declare it with \
                 EngineOptions::search_attribute(\"{name}\", SearchAttributeType::..)",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        let Some(value) = value else { continue };
        if value.value_type() != *expected {
            return Err(BackendError::InvalidArgument(format!(
                "invalid value type for search attribute {name} of type {expected}: {value} \
                 (type: {})",
                value.value_type()
            )));
        }
        value.check().map_err(|reason| {
            BackendError::InvalidArgument(format!("search attribute {name}: {reason}"))
        })?;
    }
    Ok(())
}

/// Checks the total size of a run's attributes.
pub(crate) fn check_total(attributes: &SearchAttributes) -> Result<(), BackendError> {
    let size = attributes.size_bytes();
    if size > MAX_TOTAL_BYTES {
        return Err(BackendError::InvalidArgument(format!(
            "search attributes take {size} bytes, over the limit of {MAX_TOTAL_BYTES}"
        )));
    }
    Ok(())
}
