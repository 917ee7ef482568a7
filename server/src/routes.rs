//! The API's routes: each call of [`weft::remote::api`] decoded, checked
//! against the namespaces served, and run on the backend; every refusal a
//! JSON [`ApiError`] with a 4xx or 5xx status, never a dropped connection.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use weft::backend::{Backend, BackendError, ListFilter, WorkflowSummary};
use weft::engine::SqliteStore;
use weft::remote::api::{self, ApiError, Call, ServeContext, ServerInfo};

use crate::access::Access;

/// What every handler shares.
pub(crate) struct AppState {
    pub backend: Arc<dyn Backend>,
    pub long_poll: Duration,
    pub namespaces: Option<Vec<String>>,
    pub sqlite_path: Option<PathBuf>,
    pub data_converter: Option<weft::DataConverter>,
}

impl AppState {
    /// Whether a call of `access`'s caller may act in `namespace`.
    pub(crate) fn admit(&self, namespace: &str, access: &Access) -> Result<(), BackendError> {
        self.check_namespace(namespace)?;
        access.check(namespace).inspect_err(|e| {
            tracing::warn!(namespace, error = %e, "call refused for its client certificate");
        })
    }

    pub(crate) fn check_namespace(&self, namespace: &str) -> Result<(), BackendError> {
        match &self.namespaces {
            Some(served) if !served.iter().any(|n| n == namespace) => {
                Err(BackendError::PermissionDenied(format!(
                    "namespace {namespace:?} is not served here (served: {})",
                    served.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }
}

type Shared = State<Arc<AppState>>;

pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an answer");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot encode the answer: {e}"),
            )
                .into_response()
        }
    }
}

/// An error answer with the status its kind calls for.
pub(crate) fn error(error: BackendError) -> Response {
    let status =
        StatusCode::from_u16(api::status_of(&error)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_with(status, error)
}

fn error_with(status: StatusCode, error: BackendError) -> Response {
    if status.is_server_error() {
        tracing::warn!(%status, error = %error, "call failed");
    } else {
        tracing::debug!(%status, error = %error, "call refused");
    }
    json(status, &ApiError::from(error))
}

/// The request as `C`, or the answer that says why it is not one.
pub(crate) fn decode<C: Call>(body: Result<Bytes, BytesRejection>) -> Result<C, Response> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "the request to {} is larger than the server accepts: {rejection}",
                C::PATH
            )
        } else {
            format!("cannot read the request to {}: {rejection}", C::PATH)
        };
        tracing::warn!(path = C::PATH, %status, "{message}");
        error_with(status, BackendError::InvalidArgument(message))
    })?;
    // The path of the field that failed, so the message says where.
    let mut json = serde_json::Deserializer::from_slice(&body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let at = e.path().to_string();
        let e = e.into_inner();
        let message = if at == "." || at.is_empty() {
            format!("malformed request to {}: {e}", C::PATH)
        } else {
            format!("malformed request to {}: at {at}: {e}", C::PATH)
        };
        tracing::warn!(path = C::PATH, "{message}");
        error_with(
            StatusCode::BAD_REQUEST,
            BackendError::InvalidArgument(message),
        )
    })
}

async fn handle<C: Call>(
    State(state): Shared,
    Extension(access): Extension<Access>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let call: C = match decode(body) {
        Ok(call) => call,
        Err(response) => return response,
    };
    if let Some(namespace) = call.namespace()
        && let Err(e) = state.admit(namespace, &access)
    {
        tracing::warn!(path = C::PATH, error = %e, "call refused");
        return error(e);
    }
    let ctx = ServeContext {
        backend: &*state.backend,
        long_poll: state.long_poll,
    };
    match call.serve(&ctx).await {
        Ok(answer) => json(StatusCode::OK, &answer),
        Err(e) => error(e),
    }
}

/// The server's version, and the namespaces this caller may use.
async fn hello(
    State(state): Shared,
    Extension(access): Extension<Access>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(response) = decode::<api::Hello>(body) {
        return response;
    }
    json(
        StatusCode::OK,
        &ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            namespaces: access.visible(state.namespaces.as_ref()),
        },
    )
}

/// Lists from the engine's file, read-only, off the async threads.
pub(crate) async fn list(
    state: &AppState,
    filter: ListFilter,
) -> Result<Vec<WorkflowSummary>, BackendError> {
    state.check_namespace(&filter.namespace)?;
    let Some(path) = state.sqlite_path.clone() else {
        return match state.backend.list_runs(filter.clone()).await {
            Err(BackendError::Unsupported(_)) => list_by_visibility(state, filter).await,
            other => other,
        };
    };
    tokio::task::spawn_blocking(move || SqliteStore::open_read_only(&path)?.list_runs(&filter))
        .await
        .map_err(|e| BackendError::Store(format!("listing stopped: {e}")))?
}

/// Lists through the backend's visibility (Temporal's list filter), for
/// a backend with no file to read (an engine in memory): every run of the
/// namespace, filtered and ordered as a file's listing is.
async fn list_by_visibility(
    state: &AppState,
    filter: ListFilter,
) -> Result<Vec<WorkflowSummary>, BackendError> {
    let infos = state
        .backend
        .list_workflows(filter.namespace.clone(), String::new())
        .await?;
    let mut runs: Vec<WorkflowSummary> = infos
        .into_iter()
        .map(|info| WorkflowSummary {
            workflow_id: info.workflow_id,
            run_id: info.run_id,
            workflow_type: info.workflow_type,
            task_queue: info.task_queue,
            status: info.status,
            start_time: info.start_time,
            close_time: info.close_time,
            // Visibility does not count events; describe does.
            history_length: 0,
        })
        .filter(|run| filter.matches(run))
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.start_time));
    runs.truncate(filter.limit.unwrap_or(usize::MAX));
    Ok(runs)
}

async fn list_handler(
    State(state): Shared,
    Extension(access): Extension<Access>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let filter = match decode::<ListFilter>(body) {
        Ok(filter) => filter,
        Err(response) => return response,
    };
    if let Err(e) = access.check(&filter.namespace) {
        return error(e);
    }
    match list(&state, filter).await {
        Ok(runs) => json(StatusCode::OK, &runs),
        Err(e) => error(e),
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error_with(
        StatusCode::NOT_FOUND,
        BackendError::InvalidArgument(format!("no such API call: {}", uri.path())),
    )
}

/// Adds the generic route of each call.
macro_rules! calls {
    ($router:expr, $($ty:ty),* $(,)?) => {
        $router$(.route(<$ty as Call>::PATH, post(handle::<$ty>)))*
    };
}

/// The API's router.
pub(crate) fn router(state: Arc<AppState>, max_request_bytes: usize) -> Router {
    let router = Router::new()
        .route(api::Hello::PATH, post(hello))
        .route(ListFilter::PATH, post(list_handler))
        .route(crate::codec::DECODE_PATH, post(crate::codec::handler));
    let router = calls!(
        router,
        weft::backend::StartWorkflowRequest,
        weft::backend::SignalRequest,
        api::SignalWithStart,
        weft::backend::CancelRequest,
        weft::backend::TerminateRequest,
        weft::backend::QueryRequest,
        weft::backend::UpdateRequest,
        api::UpdateWithStart,
        api::Describe,
        api::History,
        api::ListWorkflows,
        api::CountWorkflows,
        api::WaitResult,
        api::PollWorkflowTask,
        weft::backend::WorkflowTaskCompletion,
        api::FailWorkflowTask,
        api::RespondQuery,
        api::PollActivityTask,
        api::CompleteActivityTask,
        api::Heartbeat,
        api::WaitDurable,
        api::CreateSchedule,
        api::DescribeSchedule,
        api::UpdateSchedule,
        api::DeleteSchedule,
        api::ListSchedules,
        api::TriggerSchedule,
        api::BackfillSchedule,
        api::PauseSchedule,
    );
    router
        .merge(crate::ui::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_request_bytes))
        .with_state(state)
}
