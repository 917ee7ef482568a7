//! Clients: start workflows and reach them through typed handles.
//!
//! A client talks to a [`Backend`] only. Workflows are named by their run
//! function (`client.start_workflow(MyWorkflow::run, input, options)`), so the
//! input and result types are checked by the compiler. Schedules are
//! created and reached from here too ([`Client::create_schedule`],
//! [`ScheduleHandle`]).

mod schedule;
mod visibility;

pub use self::schedule::ScheduleHandle;

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{
    Backend, BackendError, CancelRequest, Connection, DEFAULT_NAMESPACE, Description,
    IdConflictPolicy, IdReusePolicy, ListFilter, QueryRequest, RunOutcome, SignalRequest,
    StartWorkflowRequest, TerminateRequest, UpdateRequest, WorkflowSummary,
};
use crate::converter::{self, ConverterError, DataConverter, Payload};
use crate::failure::{Failure, WorkflowFailureError};
use crate::history::{self, Event};
use crate::protocol::RunOptions;
use crate::retry::RetryPolicy;
use crate::search_attributes::{SearchAttributeKey, SearchAttributeKind};
use crate::telemetry::{ClientInterceptor, Metrics};
use crate::workflow::{RunFn, Workflow};

/// Errors a client call returns. `{}` prints one line, `{:#}` the cause
/// chain, and `Debug` the chain as anyhow does, so a `main` returning one
/// shows why a workflow failed.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The workflow did not complete: it failed, was canceled or terminated.
    #[error(transparent)]
    Workflow(#[from] WorkflowFailureError),
    /// The backend refused or failed the call.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A value could not be encoded or decoded.
    #[error(transparent)]
    Converter(#[from] ConverterError),
    /// History could not be exported.
    #[error("history export: {0}")]
    Export(String),
    /// The query failed: the workflow has no such query, its input did not
    /// decode, or its handler failed.
    #[error("query failed: {0}")]
    Query(Failure),
    /// The update did not complete successfully: rejected (no such update,
    /// input that does not decode, the validator's error), its handler
    /// failed, or the run closed before it completed.
    #[error("update failed: {0}")]
    Update(Failure),
}

impl std::fmt::Debug for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::failure::debug_chain(self, f)
    }
}

impl ClientError {
    /// A backend error, with query and update failures in their own variants.
    fn from_backend(error: BackendError) -> Self {
        match error {
            BackendError::QueryFailed(f) => ClientError::Query(f),
            BackendError::UpdateFailed(f) => ClientError::Update(f),
            other => ClientError::Backend(other),
        }
    }
}

/// How to start a workflow.
#[derive(Clone, Debug)]
pub struct WorkflowOptions {
    /// Business id of the workflow.
    pub id: String,
    /// Task queue its workflow tasks go to.
    pub task_queue: String,
    /// Makes a retried start idempotent (default: a fresh random id).
    pub request_id: Option<String>,
    /// Policy for a closed run with the same id.
    pub id_reuse_policy: IdReusePolicy,
    /// Policy for an open run with the same id.
    pub id_conflict_policy: IdConflictPolicy,
    /// Timeouts, the workflow's retry policy, and its memo.
    pub run_options: RunOptions,
    /// A memo value that could not be encoded: the start reports it.
    memo_error: Option<converter::ConverterError>,
}

impl WorkflowOptions {
    /// Options with a workflow id and a task queue, other settings default.
    pub fn new(id: impl Into<String>, task_queue: impl Into<String>) -> Self {
        WorkflowOptions {
            id: id.into(),
            task_queue: task_queue.into(),
            request_id: None,
            id_reuse_policy: IdReusePolicy::default(),
            id_conflict_policy: IdConflictPolicy::default(),
            run_options: RunOptions::default(),
            memo_error: None,
        }
    }

    /// Limits the whole workflow: every run of its chain (continue-as-new
    /// and retries included); past it the run times out (`TimedOut`), not
    /// retried.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.run_options.execution_timeout = Some(timeout);
        self
    }

    /// Limits each run; a run past it times out, and is retried if a retry
    /// policy allows.
    pub fn run_timeout(mut self, timeout: Duration) -> Self {
        self.run_options.run_timeout = Some(timeout);
        self
    }

    /// Limits each workflow task (default 10 s, at most 2 minutes).
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.run_options.task_timeout = Some(timeout);
        self
    }

    /// Retries a failed or timed-out run as a new run of the same workflow
    /// id (by default a workflow is not retried). Errors whose type the
    /// policy lists as non-retryable, and errors marked non-retryable, are
    /// not retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.run_options.retry_policy = Some(policy);
        self
    }

    /// Adds a memo entry: kept with the run and shown by `describe`.
    pub fn memo(mut self, key: impl Into<String>, value: &impl Serialize) -> Self {
        match converter::encode(value) {
            Ok(payload) => {
                self.run_options.memo.insert(key.into(), payload);
            }
            Err(e) => self.memo_error = Some(e),
        }
        self
    }

    /// Sets a search attribute of the run (registered on the engine with
    /// the key's type, else the start is refused): indexed for
    /// [`Client::list_workflows`], shown by `describe`, never encoded by a
    /// codec.
    pub fn search_attribute<T: SearchAttributeKind>(
        mut self,
        key: &SearchAttributeKey<T>,
        value: T,
    ) -> Self {
        self.run_options.search_attributes.insert(key, value);
        self
    }

    /// Sets the request id that makes a retried start idempotent.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the policy for a closed run with the same id.
    pub fn id_reuse_policy(mut self, policy: IdReusePolicy) -> Self {
        self.id_reuse_policy = policy;
        self
    }

    /// Sets the policy for an open run with the same id.
    pub fn id_conflict_policy(mut self, policy: IdConflictPolicy) -> Self {
        self.id_conflict_policy = policy;
        self
    }
}

impl From<&Client> for Connection {
    fn from(client: &Client) -> Connection {
        let connection = Connection::new(client.backend.clone(), client.namespace.clone())
            .noting_converter(&client.converter);
        match &client.metrics {
            Some(metrics) => connection.with_metrics(metrics.clone()),
            None => connection,
        }
    }
}

/// Starts workflows and reaches them.
#[derive(Clone)]
pub struct Client {
    /// What calls go through: `raw` seen through the converter.
    backend: Arc<dyn Backend>,
    /// The backend as given.
    raw: Arc<dyn Backend>,
    converter: DataConverter,
    interceptors: Vec<Arc<dyn ClientInterceptor>>,
    metrics: Option<Metrics>,
    namespace: String,
}

impl Client {
    /// A client of `backend` in the default namespace.
    pub fn new(backend: impl Backend) -> Self {
        Client::from_arc(Arc::new(backend))
    }

    /// A client of a shared backend.
    pub fn from_arc(backend: Arc<dyn Backend>) -> Self {
        Client {
            backend: backend.clone(),
            raw: backend,
            converter: DataConverter::default(),
            interceptors: Vec::new(),
            metrics: None,
            namespace: DEFAULT_NAMESPACE.to_string(),
        }
    }

    /// The same client with `converter`'s codecs between it and the
    /// backend: every payload it sends is encoded, every payload it
    /// receives decoded. Workers built from this client
    /// (`Worker::new(&client, ..)`) use the same converter, as a client
    /// and its workers must agree on it.
    pub fn with_data_converter(mut self, converter: DataConverter) -> Self {
        self.converter = converter;
        self.compose();
        self
    }

    /// The same client with `interceptor` around its calls (client
    /// outbound; see [`ClientInterceptor`]). Interceptors added first are
    /// outermost; they see payloads before the data converter encodes
    /// them.
    pub fn with_interceptor(mut self, interceptor: impl ClientInterceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self.compose();
        self
    }

    /// The same client with metrics: workers built from it record into
    /// them (serve them with [`Metrics::serve`]).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The metrics this client and its workers record into.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    /// Calls go through the interceptors, then the converter's codecs.
    fn compose(&mut self) {
        let encoded = Connection::new(self.raw.clone(), self.namespace.clone())
            .with_data_converter(&self.converter)
            .backend();
        self.backend = crate::backend::intercept(encoded, &self.interceptors);
    }

    /// The data converter this client uses.
    pub fn data_converter(&self) -> &DataConverter {
        &self.converter
    }

    /// The same client in another namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The namespace this client uses.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The backend this client talks to, seen through its data converter
    /// (what its workers use).
    pub fn backend(&self) -> Arc<dyn Backend> {
        self.backend.clone()
    }

    /// Starts a workflow named by its run function and returns a handle.
    pub async fn start_workflow<W: Workflow>(
        &self,
        _run: impl RunFn<W>,
        input: W::Input,
        options: WorkflowOptions,
    ) -> Result<WorkflowHandle<W>, ClientError> {
        let id = options.id.clone();
        let request = self.start_request::<W>(&input, options)?;
        let response = self.backend.start_workflow(request).await?;
        Ok(self.chain_handle(id, response.run_id))
    }

    /// Signals the workflow's open run, or starts a run and signals it, in
    /// one step: Temporal's signal-with-start. The handle names the run
    /// that was signaled. `options.request_id` (fresh when unset) makes a
    /// retried call start and signal at most once; the id conflict policy
    /// does not apply (an open run is signaled).
    pub async fn signal_with_start<W: Workflow>(
        &self,
        _run: impl RunFn<W>,
        input: W::Input,
        options: WorkflowOptions,
        signal_name: &str,
        signal_input: &impl Serialize,
    ) -> Result<WorkflowHandle<W>, ClientError> {
        let id = options.id.clone();
        let request = self.start_request::<W>(&input, options)?;
        let signal_input = signal_payloads(signal_input)?;
        let response = self
            .backend
            .signal_with_start(request, signal_name.to_string(), signal_input)
            .await?;
        Ok(self.chain_handle(id, response.run_id))
    }

    /// A handle whose updates are Temporal's update-with-start: each
    /// starts the workflow if it is not running and sends the update to it
    /// in one step (the run never starts without the update), then returns
    /// the update's result. The first workflow task of a run it starts
    /// carries the update.
    ///
    /// An open run is updated only under
    /// `options.id_conflict_policy(IdConflictPolicy::UseExisting)`, as in
    /// Temporal; with the default `Fail` an open run refuses the call
    /// (`WorkflowAlreadyStarted`, nothing applied). The request id
    /// (`options.request_id`, else one fresh id for this handle) and the
    /// update id (`with_update_id`) make a retry safe: it neither starts
    /// twice nor applies the update twice. Once the run started through
    /// this request id has closed, updates through the handle reach that
    /// closed run (a known update id still returns its outcome); a new run
    /// needs a new request id. Signals, queries and `result()` go to the
    /// workflow id's latest run; `run_id()` names the run the first update
    /// went to.
    ///
    /// ```no_run
    /// # use weft::prelude::*;
    /// # #[workflow]
    /// # #[derive(Default)]
    /// # struct ShoppingCart { items: Vec<String> }
    /// # #[workflow]
    /// # impl ShoppingCart {
    /// #     #[run]
    /// #     async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> { Ok(()) }
    /// #     #[update]
    /// #     fn add_item(&mut self, item: String) -> Result<usize, ApplicationError> {
    /// #         self.items.push(item);
    /// #         Ok(self.items.len())
    /// #     }
    /// # }
    /// # async fn f(client: Client) -> Result<(), ClientError> {
    /// let cart = client.update_with_start(
    ///     ShoppingCart::run,
    ///     (),
    ///     WorkflowOptions::new("cart-7", "carts")
    ///         .id_conflict_policy(IdConflictPolicy::UseExisting),
    /// )?;
    /// let count = cart.with_update_id("add-apples").add_item("apples".into()).await?;
    /// # let _ = count;
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_with_start<W: Workflow>(
        &self,
        _run: impl RunFn<W>,
        input: W::Input,
        options: WorkflowOptions,
    ) -> Result<WorkflowHandle<W>, ClientError> {
        let id = options.id.clone();
        let request = self.start_request::<W>(&input, options)?;
        let mut handle = self.workflow_handle(id, None);
        handle.with_start = Some(Arc::new(WithStart {
            request,
            run_id: OnceLock::new(),
        }));
        Ok(handle)
    }

    fn start_request<W: Workflow>(
        &self,
        input: &W::Input,
        options: WorkflowOptions,
    ) -> Result<StartWorkflowRequest, ClientError> {
        if let Some(e) = options.memo_error {
            return Err(e.into());
        }
        let input = vec![converter::encode(input)?];
        Ok(StartWorkflowRequest {
            namespace: self.namespace.clone(),
            workflow_id: options.id.clone(),
            workflow_type: W::NAME.to_string(),
            task_queue: options.task_queue,
            input,
            request_id: options
                .request_id
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            id_reuse_policy: options.id_reuse_policy,
            id_conflict_policy: options.id_conflict_policy,
            run_options: options.run_options,
        })
    }

    /// Starts a workflow and waits for its result.
    pub async fn execute_workflow<W: Workflow>(
        &self,
        run: impl RunFn<W>,
        input: W::Input,
        options: WorkflowOptions,
    ) -> Result<W::Output, ClientError> {
        self.start_workflow(run, input, options)
            .await?
            .result()
            .await
    }

    /// Runs of this client's namespace that match `filter`'s fields (its
    /// namespace is replaced by the client's), the newest first: what the
    /// CLI and web UI list. A client of a server lists the server's store;
    /// the embedded engine answers `Unsupported` (list its file with
    /// `SqliteStore::list_runs`). For Temporal's list filter on any
    /// backend with visibility, see [`Client::list_workflows`].
    pub async fn list_runs(
        &self,
        mut filter: ListFilter,
    ) -> Result<Vec<WorkflowSummary>, ClientError> {
        filter.namespace = self.namespace.clone();
        Ok(self.backend.list_runs(filter).await?)
    }

    /// A handle to an existing workflow: exactly the run `run_id` names,
    /// or its latest run when `run_id` is `None`.
    pub fn workflow_handle<W: Workflow>(
        &self,
        workflow_id: impl Into<String>,
        run_id: Option<String>,
    ) -> WorkflowHandle<W> {
        WorkflowHandle {
            client: self.clone(),
            workflow_id: workflow_id.into(),
            run_id,
            follows_chain: false,
            update_id: None,
            with_start: None,
            _workflow: PhantomData,
        }
    }

    /// The handle a start returns: it names the chain its run begins.
    fn chain_handle<W: Workflow>(&self, workflow_id: String, run_id: String) -> WorkflowHandle<W> {
        WorkflowHandle {
            follows_chain: true,
            ..self.workflow_handle(workflow_id, Some(run_id))
        }
    }
}

/// The start half of an update-with-start handle.
#[derive(Debug)]
struct WithStart {
    request: StartWorkflowRequest,
    /// The run the first update went to.
    run_id: OnceLock<String>,
}

/// A signal's arguments: none for `()` (a handler without an argument),
/// else one payload holding `input`.
fn signal_payloads<T: Serialize + ?Sized>(input: &T) -> Result<Vec<Payload>, ClientError> {
    Ok(converter::encode_args(input)?)
}

/// A typed handle to a workflow run.
pub struct WorkflowHandle<W> {
    client: Client,
    workflow_id: String,
    run_id: Option<String>,
    /// Set on the handle a start returns: `run_id` is the first run of a
    /// chain (continue-as-new, retries), and `describe` follows it.
    follows_chain: bool,
    /// Update id the next updates through this handle use (default: fresh).
    update_id: Option<String>,
    /// Set by [`Client::update_with_start`]: updates start the workflow.
    with_start: Option<Arc<WithStart>>,
    _workflow: PhantomData<fn() -> W>,
}

impl<W> Clone for WorkflowHandle<W> {
    fn clone(&self) -> Self {
        WorkflowHandle {
            client: self.client.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            follows_chain: self.follows_chain,
            update_id: self.update_id.clone(),
            with_start: self.with_start.clone(),
            _workflow: PhantomData,
        }
    }
}

impl<W: Workflow> WorkflowHandle<W> {
    /// The workflow id.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The run id, when the handle names one: always for a handle from a
    /// start (`start_workflow`, `signal_with_start`, ...), `None` for
    /// `workflow_handle(id, None)`, which follows the id's latest run. For
    /// an update-with-start handle: the run its first update went to, once
    /// it has gone.
    pub fn run_id(&self) -> Option<&str> {
        self.run_id.as_deref().or_else(|| {
            self.with_start
                .as_ref()
                .and_then(|w| w.run_id.get())
                .map(String::as_str)
        })
    }

    /// Waits for the run to close and returns its value, or the
    /// [`WorkflowFailureError`] whose cause chain says why it did not complete.
    pub async fn result(&self) -> Result<W::Output, ClientError> {
        let outcome = self
            .client
            .backend
            .wait_result(
                &self.client.namespace,
                &self.workflow_id,
                self.run_id.as_deref(),
            )
            .await?;
        match outcome {
            RunOutcome::Completed(payload) => Ok(converter::decode(&payload)?),
            RunOutcome::Failed(cause)
            | RunOutcome::Canceled(cause)
            | RunOutcome::Terminated(cause)
            | RunOutcome::TimedOut(cause) => Err(WorkflowFailureError { cause }.into()),
            // Backends follow the chain; one that does not is answered plainly.
            RunOutcome::ContinuedAsNew { new_run_id } | RunOutcome::Retried { new_run_id, .. } => {
                Err(ClientError::Backend(BackendError::Store(format!(
                    "the run continued as new (run {new_run_id}) and the backend did not follow it"
                ))))
            }
        }
    }

    /// Sends the signal `name` with one argument, `input`; `()` sends a
    /// signal without arguments (a tuple is one argument). Returns once the
    /// signal is durable in history; the workflow applies it in its next
    /// workflow task. Fails with `NotFound` when the run is closed. Each
    /// call is a new signal (a fresh request id); to retry one safely, use
    /// [`WorkflowHandle::signal_with_request_id`].
    ///
    /// The name is not checked here: a signal the workflow has no handler
    /// for is recorded, logged with a warning by the worker and counted by
    /// `ctx.unhandled_signals()`. Typed stubs come from `#[signal]`.
    pub async fn signal(&self, name: &str, input: &impl Serialize) -> Result<(), ClientError> {
        self.signal_with_request_id(name, input, uuid::Uuid::new_v4().to_string())
            .await
    }

    /// Like [`WorkflowHandle::signal`], with the request id given: a signal
    /// sent again with a request id the run already applied is acknowledged
    /// and not applied twice.
    pub async fn signal_with_request_id(
        &self,
        name: &str,
        input: &impl Serialize,
        request_id: impl Into<String>,
    ) -> Result<(), ClientError> {
        self.signal_payloads(name, signal_payloads(input)?, request_id.into())
            .await
    }

    /// Sends a signal whose arguments are already encoded (one payload per
    /// argument, as the handler expects them).
    pub async fn signal_payloads(
        &self,
        name: &str,
        input: Vec<Payload>,
        request_id: String,
    ) -> Result<(), ClientError> {
        let request = SignalRequest {
            namespace: self.client.namespace.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            signal_name: name.to_string(),
            input,
            request_id,
        };
        Ok(self.client.backend.signal_workflow(request).await?)
    }

    /// Asks the run to cancel. The workflow's code is told: the workflow
    /// futures it is awaiting resolve with a `Canceled` error, code after
    /// that (cleanup) runs normally, and the run ends canceled if the code
    /// returns that error (see the book's cancellation chapter). Returns
    /// once the request is durable; asking twice is harmless. Fails with
    /// `NotFound` when the run is closed.
    pub async fn cancel(&self) -> Result<(), ClientError> {
        self.cancel_with_reason("cancelled by a client").await
    }

    /// Like [`WorkflowHandle::cancel`], recording `reason` on the request.
    pub async fn cancel_with_reason(&self, reason: &str) -> Result<(), ClientError> {
        let request = CancelRequest {
            namespace: self.client.namespace.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            reason: reason.to_string(),
        };
        Ok(self.client.backend.request_cancel_workflow(request).await?)
    }

    /// Terminates the run at once: `WorkflowExecutionTerminated` is
    /// recorded and the run closes without its code running again (no
    /// cleanup); its pending activities and timers end with it, and
    /// `result()` returns a `TerminatedError` with `reason`. Fails with
    /// `NotFound` when the run is closed.
    pub async fn terminate(&self, reason: &str) -> Result<(), ClientError> {
        let request = TerminateRequest {
            namespace: self.client.namespace.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            reason: reason.to_string(),
            details: Vec::new(),
        };
        Ok(self.client.backend.terminate_workflow(request).await?)
    }

    /// Queries the run with one argument, `input` (`()` for a query without
    /// arguments), and decodes the answer. The query is answered by a
    /// worker from the run's committed state, running or closed; it is
    /// never recorded. With no worker polling the run's task queue the call
    /// waits: wrap it in a timeout to bound it.
    pub async fn query<R: DeserializeOwned>(
        &self,
        name: &str,
        input: &impl Serialize,
    ) -> Result<R, ClientError> {
        let answer = self.query_payloads(name, signal_payloads(input)?).await?;
        Ok(converter::decode(&answer)?)
    }

    /// Queries the run with arguments already encoded (one payload per
    /// argument) and returns the encoded answer.
    pub async fn query_payloads(
        &self,
        name: &str,
        input: Vec<Payload>,
    ) -> Result<Payload, ClientError> {
        let request = QueryRequest {
            namespace: self.client.namespace.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            query_name: name.to_string(),
            input,
        };
        self.client
            .backend
            .query_workflow(request)
            .await
            .map_err(ClientError::from_backend)
    }

    /// Sends the update `name` with one argument, `input` (`()` for none),
    /// under a fresh update id, and waits for its result: once the
    /// workflow has accepted and completed it durably. A rejection (or a
    /// handler failure) is [`ClientError::Update`].
    pub async fn update<R: DeserializeOwned>(
        &self,
        name: &str,
        input: &impl Serialize,
    ) -> Result<R, ClientError> {
        let result = self
            .update_payloads(name, signal_payloads(input)?, None)
            .await?;
        Ok(converter::decode(&result)?)
    }

    /// Sends an update whose arguments are already encoded. With
    /// `update_id` given, a retry returns the first outcome and the
    /// handler runs once; `None` takes a fresh id. Through a handle from
    /// [`Client::update_with_start`], the workflow is started first if it
    /// is not running.
    pub async fn update_payloads(
        &self,
        name: &str,
        input: Vec<Payload>,
        update_id: Option<String>,
    ) -> Result<Payload, ClientError> {
        let request = UpdateRequest {
            namespace: self.client.namespace.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            update_id: update_id
                .or_else(|| self.update_id.clone())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: name.to_string(),
            input,
        };
        let Some(with_start) = &self.with_start else {
            return self
                .client
                .backend
                .update_workflow(request)
                .await
                .map_err(ClientError::from_backend);
        };
        let response = self
            .client
            .backend
            .update_with_start(with_start.request.clone(), request)
            .await
            .map_err(ClientError::from_backend)?;
        // The first run wins; a later call finds the same run anyway.
        let _ = with_start.run_id.set(response.run_id);
        response.outcome.map_err(ClientError::from_backend)
    }

    /// The same handle, whose updates use `update_id` (typed stubs
    /// included). An update sent again with an id the workflow already
    /// has, after a crash or a timeout, returns the first result and runs
    /// nothing twice; the id is unique per workflow id across
    /// continue-as-new.
    ///
    /// ```no_run
    /// # use weft::prelude::*;
    /// # #[workflow]
    /// # #[derive(Default)]
    /// # struct ShoppingCart { items: Vec<String> }
    /// # #[workflow]
    /// # impl ShoppingCart {
    /// #     #[run]
    /// #     async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> { Ok(()) }
    /// #     #[update]
    /// #     fn add_item(&mut self, item: String) -> Result<usize, ApplicationError> {
    /// #         self.items.push(item);
    /// #         Ok(self.items.len())
    /// #     }
    /// # }
    /// # async fn f(cart: WorkflowHandle<ShoppingCart>) -> Result<(), ClientError> {
    /// cart.with_update_id("order-17-apples").add_item("apples".into()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_update_id(&self, update_id: impl Into<String>) -> Self {
        WorkflowHandle {
            update_id: Some(update_id.into()),
            ..self.clone()
        }
    }

    /// Describes the run: status, pending work, run chain. A handle from
    /// [`Client::start_workflow`] (or signal-with-start) names the chain
    /// its run began, so it describes the chain's current (or last) run,
    /// as Temporal's handle does; a handle from
    /// [`Client::workflow_handle`] with a run id describes exactly that run
    /// (a run that continued as new says so, and names the next one).
    pub async fn describe(&self) -> Result<Description, ClientError> {
        let first = match (&self.run_id, self.follows_chain) {
            (Some(first), true) => first,
            (run_id, _) => return self.describe_run(run_id.as_deref()).await,
        };
        // The latest run is the chain's unless a new chain began since.
        let latest = self.describe_run(None).await?;
        if latest.run_chain.contains(first) {
            return Ok(latest);
        }
        let mut run = self.describe_run(Some(first)).await?;
        while let Some(next) = run.next_run_id.take() {
            run = self.describe_run(Some(&next)).await?;
        }
        Ok(run)
    }

    async fn describe_run(&self, run_id: Option<&str>) -> Result<Description, ClientError> {
        let namespace = &self.client.namespace;
        let backend = &self.client.backend;
        Ok(backend
            .describe(namespace, &self.workflow_id, run_id)
            .await?)
    }

    /// The run's committed event history.
    pub async fn history(&self) -> Result<Vec<Event>, ClientError> {
        Ok(self
            .client
            .backend
            .history(
                &self.client.namespace,
                &self.workflow_id,
                self.run_id.as_deref(),
            )
            .await?)
    }

    /// The run's history as JSON, the format `Replayer` reads.
    pub async fn history_json(&self) -> Result<String, ClientError> {
        let events = self.history().await?;
        history::to_json(&events).map_err(|e| ClientError::Export(e.to_string()))
    }
}
