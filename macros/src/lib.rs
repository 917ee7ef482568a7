//! Procedural macros for weft. Use them through the `weft` crate
//! (`weft::{activity, workflow, run, init}` or `weft::prelude::*`).
//!
//! Each entry point converts to `proc_macro2` and calls an `expand` fn that
//! unit tests call directly.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod symbol;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares a workflow.
///
/// On the state struct it is a marker; on the struct's inherent impl block it
/// implements `weft::Workflow`, from the one `#[run]` fn and the optional
/// `#[init]` fn (without one, the state starts as `Default::default()`).
/// The workflow type name is the struct's name, or `#[workflow(name = "..")]`
/// on the impl block.
///
/// ```ignore
/// #[workflow]
/// #[derive(Default)]
/// struct Greeting { greeted: u32 }
///
/// #[workflow]
/// impl Greeting {
///     #[run]
///     async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
///         Ok(format!("Hello, {name}"))
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::workflow(args.into(), item.into()).into()
}

/// Declares an activity.
///
/// On a fn (async, or sync to run on the blocking pool) returning
/// `Result<T, E>` with `E: Into<weft::Failure>`, it makes a const of the same
/// name, an `Activity` value that is still called like the fn and that
/// workflows schedule with `ctx.activity(order, input)`. The fn may take an
/// `ActivityContext` first. Its type name is the fn's name, or
/// `#[activity(name = "..")]`.
///
/// On an inherent impl block, every `async` `&self` method becomes an
/// activity (a const `Type::method`), and the type implements
/// `ActivityGroup`, so an instance holding shared dependencies registers them
/// all with `worker.register_activities(Arc::new(instance))`.
///
/// ```ignore
/// #[activity]
/// async fn order(amount: u32) -> Result<String, ApplicationError> {
///     Ok(format!("Ordered {amount}"))
/// }
/// ```
#[proc_macro_attribute]
pub fn activity(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::activity(args.into(), item.into()).into()
}

/// Marks the run fn of a `#[workflow]` impl block:
/// `async fn run(ctx: WorkflowContext<Self>, input: I) -> WorkflowResult<O>`.
///
/// `#[workflow]` removes it; used anywhere else it is an error.
#[proc_macro_attribute]
pub fn run(_args: TokenStream, item: TokenStream) -> TokenStream {
    expand::marker_outside_workflow(symbol::RUN, item.into()).into()
}

/// Marks the fn of a `#[workflow]` impl block that builds the state from the
/// input: `fn new(input: &I) -> Self`.
///
/// `#[workflow]` removes it; used anywhere else it is an error.
#[proc_macro_attribute]
pub fn init(_args: TokenStream, item: TokenStream) -> TokenStream {
    expand::marker_outside_workflow(symbol::INIT, item.into()).into()
}
