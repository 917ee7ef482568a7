//! The names weft's macros recognise, in one table.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// A name the macros match on: an attribute, a marker or an argument key.
#[derive(Copy, Clone, Debug)]
pub struct Symbol(&'static str);

/// `#[activity]`, on a fn, an impl block, or a method of that impl block.
pub const ACTIVITY: Symbol = Symbol("activity");
/// `#[workflow]`, on the state struct and its impl block.
pub const WORKFLOW: Symbol = Symbol("workflow");
/// `#[run]`, the workflow's run fn.
pub const RUN: Symbol = Symbol("run");
/// `#[init]`, builds the workflow's state from its input.
pub const INIT: Symbol = Symbol("init");
/// `#[signal]`, a workflow's signal handler.
pub const SIGNAL: Symbol = Symbol("signal");
/// `#[query]`, a workflow's query handler.
pub const QUERY: Symbol = Symbol("query");
/// `#[update]`, a workflow's update handler.
pub const UPDATE: Symbol = Symbol("update");
/// `#[validator(update_fn)]`, checks an update before it is accepted.
pub const VALIDATOR: Symbol = Symbol("validator");
/// `#[weft::deterministic]`, on a helper fn of workflow code.
pub const DETERMINISTIC: Symbol = Symbol("deterministic");
/// Methods of `weft::WorkflowHandle` itself and of the workflow-side
/// handles (`ChildHandle`, `ExternalWorkflowHandle`): a handler stub with
/// one of these names would be shadowed by the handle's own method.
pub const HANDLE_METHODS: &[&str] = &[
    "typed",
    "into_future",
    "workflow_id",
    "run_id",
    "result",
    "signal",
    "signal_with_request_id",
    "signal_payloads",
    "cancel",
    "cancel_with_reason",
    "terminate",
    "query",
    "query_payloads",
    "update",
    "update_payloads",
    "with_update_id",
    "describe",
    "history",
    "history_json",
];

/// `name = ".."`, overrides a type name.
pub const NAME: Symbol = Symbol("name");
/// `dynamic` in `#[signal(dynamic)]`, `#[query(dynamic)]`, `#[update(dynamic)]`.
pub const DYNAMIC: Symbol = Symbol("dynamic");
/// The input type of a dynamic handler.
pub const DYNAMIC_CALL: Symbol = Symbol("DynamicCall");
/// The crate a marker may be written through (`#[weft::run]`).
pub const WEFT: Symbol = Symbol("weft");
/// The module of `weft::prelude::run`.
pub const PRELUDE: Symbol = Symbol("prelude");

/// Last path segment of the context an activity may take first.
pub const ACTIVITY_CONTEXT: Symbol = Symbol("ActivityContext");
/// Last path segment of the context a run fn takes first.
pub const WORKFLOW_CONTEXT: Symbol = Symbol("WorkflowContext");
/// Last path segment of an activity's return type.
pub const RESULT: Symbol = Symbol("Result");
/// Last path segment of weft's result alias.
pub const WORKFLOW_RESULT: Symbol = Symbol("WorkflowResult");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
