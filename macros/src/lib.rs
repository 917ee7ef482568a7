//! Procedural macros for weft. Use them through the `weft` crate
//! (`weft::{activity, workflow, run, init, signal, query, update, validator,
//! deterministic}` or `weft::prelude::*`).
//!
//! Each entry point converts to `proc_macro2` and calls an `expand` fn that
//! unit tests call directly.

mod ast;
mod attr;
mod check;
mod ctxt;
mod determinism;
mod expand;
mod symbol;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares a workflow.
///
/// A workflow without state is one `async fn` taking its context and its
/// input. `#[workflow]` checks its body as workflow code and defines the
/// workflow's type, named after the fn in CamelCase (`say_hello` gives
/// `SayHello`, which workers register), or as the context names it
/// (`ctx: WorkflowContext<Greeter>`). Its workflow type name is that
/// type's name, or `#[workflow(name = "..")]`. Clients start it by its fn:
///
/// ```
/// use weft::prelude::*;
///
/// #[activity(start_to_close_timeout = "5s")]
/// async fn greet(name: String) -> Result<String, ApplicationError> {
///     Ok(format!("Hello, {name}!"))
/// }
///
/// #[workflow]
/// async fn say_hello(ctx: WorkflowContext, name: String) -> WorkflowResult<String> {
///     Ok(ctx.activity(GREET, name).await?)
/// }
///
/// # async fn f(client: &Client) -> Result<(), ClientError> {
/// let worker = Worker::new(client, "greetings")
///     .register_workflow::<SayHello>()
///     .register_activity(GREET);
/// let greeting = client
///     .execute_workflow(say_hello, "Ann".into(), WorkflowOptions::new("hi", "greetings"))
///     .await?;
/// # let _ = (worker, greeting);
/// # Ok(())
/// # }
/// ```
///
/// A workflow with state is a struct and its inherent impl block, both
/// marked `#[workflow]`. On the struct it is a marker; on the impl block it
/// implements `weft::Workflow`, from the one `#[run]` fn and the optional
/// `#[init]` fn (without one, the state starts as `Default::default()`).
/// The workflow type name is the struct's name, or
/// `#[workflow(name = "..")]` on the impl block.
///
/// A workflow with handlers also gets typed client stubs: a `pub` trait
/// named after the struct plus `Handle` (`GreetingHandle`), implemented for
/// `weft::WorkflowHandle<Greeting>`, with one method per handler, named
/// after its fn and taking its input, if any. A signal stub returns
/// `Result<(), ClientError>` once the signal is durable; a query stub the
/// answer `R`; an update stub the result `R` of its `Result<R, E>`. Each
/// returns a `Send` future; import the trait to call them:
/// `handle.approve("ann".to_string()).await?`.
///
/// ```
/// use weft::prelude::*;
///
/// #[workflow]
/// #[derive(Default)]
/// struct Greeting {
///     greeted: u32,
/// }
///
/// #[workflow]
/// impl Greeting {
///     #[run]
///     async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
///         ctx.state_mut(|s| s.greeted += 1);
///         Ok(format!("Hello, {name}"))
///     }
///
///     #[query]
///     fn greeted(&self) -> u32 {
///         self.greeted
///     }
/// }
///
/// # async fn f(handle: WorkflowHandle<Greeting>) -> Result<(), ClientError> {
/// let greeted: u32 = handle.greeted().await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::workflow(args.into(), item.into()).into()
}

/// Declares an activity.
///
/// On a fn (async, or sync to run on the blocking pool) returning
/// `Result<T, E>` with `E: Into<weft::Failure>`, it leaves the fn as it is
/// and defines its activity value: a constant named after the fn in
/// capitals (`ORDER` for `fn order`), of type `weft::Activity`, which
/// workflows schedule with `ctx.activity(ORDER, input)` and workers
/// register with `register_activity(ORDER)`. The value is typed by the
/// fn's input and output, is called like the fn (`ORDER(3)`), and
/// activities with the same signature share its type, so one can be
/// chosen at run time. A constant named like the fn would turn every
/// binding of that name in scope (`let order = ..`, an `order =>` match
/// arm) into a pattern comparing with it; capitals keep it apart. The fn
/// may take an `ActivityContext` first. Its type name is the fn's name, or
/// `#[activity(name = "..")]`.
///
/// The attribute may also give options for the calls that do not set them
/// (a call's own options win): `start_to_close_timeout`,
/// `schedule_to_close_timeout`, `schedule_to_start_timeout` and
/// `heartbeat_timeout`, as durations (`"30s"`, `"500ms"`, `"1h30m"`), and
/// `retry(maximum_attempts = 3, initial_interval = "1s",
/// backoff_coefficient = 2.0, maximum_interval = "1m",
/// non_retryable_errors = ["ValueError"])`. A malformed or zero duration,
/// or a retry policy Temporal would refuse, is a compile error. On an
/// impl block they apply to each of its activities.
///
/// On an inherent impl block, every `async` `&self` method becomes an
/// activity (a const `Type::METHOD`, the method itself unchanged), and the
/// type implements `ActivityGroup`, so an instance holding shared
/// dependencies registers them all with
/// `worker.register_activities(Arc::new(instance))`.
///
/// ```
/// use weft::prelude::*;
///
/// #[activity(start_to_close_timeout = "10s", retry(maximum_attempts = 3))]
/// async fn order(amount: u32) -> Result<String, ApplicationError> {
///     Ok(format!("Ordered {amount}"))
/// }
///
/// # async fn f() {
/// assert_eq!(ORDER.name(), "order");
/// assert_eq!(order(3).await.unwrap(), "Ordered 3");
/// # }
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

/// Marks a signal handler of a `#[workflow]` impl block: a message that
/// changes the state and has no result. Either sync,
/// `fn h(&mut self, input: T)`, or async (a task of the workflow, like the
/// run fn), `async fn h(ctx: WorkflowContext<Self>, input: T)`; the input is
/// optional. Senders name it by the fn's name, or `#[signal(name = "..")]`.
///
/// ```
/// # use weft::prelude::*;
/// # #[workflow]
/// # #[derive(Default)]
/// # struct Order { approved_by: Option<String>, status: String, items: Vec<String> }
/// # #[workflow]
/// # impl Order {
/// #     #[run]
/// #     async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> { Ok(()) }
/// #     #[update]
/// #     fn noop(&mut self) -> Result<(), ApplicationError> { Ok(()) }
/// #[signal]
/// fn approve(&mut self, by: String) {
///     self.approved_by = Some(by);
/// }
/// # }
/// # async fn client(handle: WorkflowHandle<Order>) -> Result<(), ClientError> {
/// // The sender's typed stub, from the `OrderHandle` trait:
/// handle.approve("ann".to_string()).await?;
/// # Ok(())
/// # }
/// ```
///
/// `#[workflow]` removes it; used anywhere else it is an error.
#[proc_macro_attribute]
pub fn signal(_args: TokenStream, item: TokenStream) -> TokenStream {
    expand::marker_outside_workflow(symbol::SIGNAL, item.into()).into()
}

/// Marks a query handler of a `#[workflow]` impl block: it answers from the
/// state without changing it, `fn q(&self, input: T) -> R` (the input is
/// optional; not async). Callers name it by the fn's name, or
/// `#[query(name = "..")]`.
///
/// ```
/// # use weft::prelude::*;
/// # #[workflow]
/// # #[derive(Default)]
/// # struct Order { approved_by: Option<String>, status: String, items: Vec<String> }
/// # #[workflow]
/// # impl Order {
/// #     #[run]
/// #     async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> { Ok(()) }
/// #     #[update]
/// #     fn noop(&mut self) -> Result<(), ApplicationError> { Ok(()) }
/// #[query]
/// fn status(&self) -> String {
///     self.status.clone()
/// }
/// # }
/// ```
///
/// `#[workflow]` removes it; used anywhere else it is an error.
#[proc_macro_attribute]
pub fn query(_args: TokenStream, item: TokenStream) -> TokenStream {
    expand::marker_outside_workflow(symbol::QUERY, item.into()).into()
}

/// Marks an update handler of a `#[workflow]` impl block: a request that
/// changes the state and returns a result to the caller. Either sync,
/// `fn u(&mut self, input: T) -> Result<R, E>`, or async,
/// `async fn u(ctx: WorkflowContext<Self>, input: T) -> Result<R, E>`, with
/// `E: Into<weft::Failure>`; the input is optional. Callers name it by the
/// fn's name, or `#[update(name = "..")]`. A `#[validator(..)]` may reject
/// it before it is accepted.
///
/// ```
/// # use weft::prelude::*;
/// # #[workflow]
/// # #[derive(Default)]
/// # struct Order { approved_by: Option<String>, status: String, items: Vec<String> }
/// # #[workflow]
/// # impl Order {
/// #     #[run]
/// #     async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> { Ok(()) }
/// #     #[update]
/// #     fn noop(&mut self) -> Result<(), ApplicationError> { Ok(()) }
/// #[update]
/// fn add_item(&mut self, item: String) -> Result<u32, ApplicationError> {
///     self.items.push(item);
///     Ok(self.items.len() as u32)
/// }
/// # }
/// ```
///
/// `#[workflow]` removes it; used anywhere else it is an error.
#[proc_macro_attribute]
pub fn update(_args: TokenStream, item: TokenStream) -> TokenStream {
    expand::marker_outside_workflow(symbol::UPDATE, item.into()).into()
}

/// Marks the validator of an `#[update]` fn of the same `#[workflow]` impl
/// block, named in the attribute: `fn v(&self, input: &T) -> Result<(), E>`,
/// taking the update's input by reference (or nothing, when the update
/// takes none). It runs before the update is accepted; an `Err` rejects the
/// update without recording it in the history. An update has at most one.
///
/// ```
/// # use weft::prelude::*;
/// # #[workflow]
/// # #[derive(Default)]
/// # struct Order { approved_by: Option<String>, status: String, items: Vec<String> }
/// # #[workflow]
/// # impl Order {
/// #     #[run]
/// #     async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> { Ok(()) }
/// #     #[update]
/// #     fn noop(&mut self) -> Result<(), ApplicationError> { Ok(()) }
/// #     #[update]
/// #     fn add_item(&mut self, item: String) -> Result<u32, ApplicationError> {
/// #         self.items.push(item);
/// #         Ok(self.items.len() as u32)
/// #     }
/// #[validator(add_item)]
/// fn check_item(&self, item: &String) -> Result<(), ApplicationError> {
///     if item.is_empty() {
///         return Err(ApplicationError::new("empty item"));
///     }
///     Ok(())
/// }
/// # }
/// ```
///
/// `#[workflow]` removes it; used anywhere else it is an error.
#[proc_macro_attribute]
pub fn validator(_args: TokenStream, item: TokenStream) -> TokenStream {
    expand::marker_outside_workflow(symbol::VALIDATOR, item.into()).into()
}

/// Marks a helper fn as workflow code.
///
/// On an `async fn` (free fn or method) it checks the body like a `#[run]`
/// fn's and turns the fn into one returning a `Deterministic` future, so
/// workflow code may await it:
///
/// ```text
/// #[weft::deterministic]
/// async fn charge(ctx: &WorkflowContext<Shop>, cents: u64) -> WorkflowResult<String> { body }
/// // becomes
/// fn charge(ctx: &WorkflowContext<Shop>, cents: u64)
///     -> impl weft::workflow::Deterministic<Output = WorkflowResult<String>> { .. }
/// ```
///
/// The returned future captures every argument lifetime (edition 2024 rules
/// for `impl Trait`). An unmarked async helper awaited in workflow code is a
/// compile error. On a sync fn it runs the syntax checks only.
///
/// # What workflow code is checked for
///
/// In every method of a `#[workflow]` impl block, in
/// `#[weft::deterministic]` fns and in every `async` block and closure inside
/// them, each `.await` must await a `Deterministic` future: weft's
/// activities, timers, `join`/`join_all`, `select!`, `ctx.spawn(..)`,
/// another marked helper, those pinned (`Box::pin`, `pin!`) or joined by
/// `futures::future::join_all`, or a future passed through the loudly named
/// `weft::i_promise_this_is_deterministic`. Each `async { .. }` block there
/// is vouched for once its awaits are checked, so it may be passed to
/// `ctx.spawn(..)` or `join`; so is each call of an async closure bound by
/// `let` in the same fn. An async closure passed elsewhere is not: use an
/// async block or a marked helper instead.
///
/// A syntax check rejects wall clocks (and `.elapsed()`), randomness,
/// `RandomState`, new UUIDs, threads, `tokio::spawn`, runtime handles,
/// `block_on`, env, fs, net, process and stdin access,
/// `tokio::select!`/`futures::select!`/`join!`, `std::collections::HashMap`
/// with the default hasher, `static mut` and `thread_local!`, each with the
/// fix in its message. It matches paths as written. Type probes, checked
/// after name resolution, refuse the values that syntax cannot name: state
/// fields, bindings and method receivers whose type is a randomly hashed
/// map, an `Instant`, an I/O or thread handle, and statics that are cells
/// or atomics, through `use` and type aliases. Inside macros the check sees
/// the arguments of the formatting, assertion and logging macros and of
/// weft's own, and the definition of a `macro_rules!` written in the fn;
/// any other macro is an error, since what it expands to cannot be seen.
#[proc_macro_attribute]
pub fn deterministic(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::deterministic::attribute(args.into(), item.into()).into()
}
