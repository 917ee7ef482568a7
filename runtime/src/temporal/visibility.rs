//! Listing and counting runs on Temporal: `ListWorkflowExecutions` and
//! `CountWorkflowExecutions` with Temporal's list filter, as weft's
//! [`crate::visibility`] types; [`ListFilter`]'s fields as such a filter.
//!
//! Temporal's visibility store is eventually consistent: a run started a
//! moment ago, or one that just closed, may not be listed as it stands
//! yet. It must not reach into the engine.

use std::time::SystemTime;

use temporalio_client::tonic::{Code, Request, Status};
use temporalio_common::protos::temporal::api::workflow::v1 as workflow;
use temporalio_common::protos::temporal::api::workflowservice::v1 as ws;

use super::client::{TemporalBackend, status_error};
use super::convert::time_from;
use super::history::status_from;
use super::search::{search_attributes_from, value_from};
use crate::backend::{BackendError, ListFilter, WorkflowSummary};
use crate::visibility::{CountGroup, WorkflowExecutionCount, WorkflowExecutionInfo, status_name};

/// Runs asked for per `ListWorkflowExecutions` page.
const PAGE_SIZE: i32 = 1000;

/// The order [`ListFilter`] lists in, for stores that take `ORDER BY`
/// (Temporal's SQL visibility, the dev server's included, does not).
const NEWEST_FIRST: &str = " ORDER BY StartTime DESC";

pub(super) fn info_from(
    namespace: &str,
    e: workflow::WorkflowExecutionInfo,
) -> WorkflowExecutionInfo {
    let execution = e.execution.unwrap_or_default();
    WorkflowExecutionInfo {
        namespace: namespace.to_string(),
        workflow_id: execution.workflow_id,
        run_id: execution.run_id,
        workflow_type: e.r#type.map(|t| t.name).unwrap_or_default(),
        task_queue: e.task_queue,
        status: status_from(e.status),
        start_time: time_from(e.start_time).unwrap_or(SystemTime::UNIX_EPOCH),
        close_time: time_from(e.close_time),
        search_attributes: search_attributes_from(e.search_attributes),
    }
}

pub(super) fn summary_from(e: workflow::WorkflowExecutionInfo) -> WorkflowSummary {
    let history_length = u64::try_from(e.history_length).unwrap_or(0);
    let info = info_from("", e);
    WorkflowSummary {
        workflow_id: info.workflow_id,
        run_id: info.run_id,
        workflow_type: info.workflow_type,
        task_queue: info.task_queue,
        status: info.status,
        start_time: info.start_time,
        close_time: info.close_time,
        history_length,
    }
}

/// A count, its groups ordered as weft's engine orders them: the most
/// runs first, then by value.
pub(super) fn count_from(r: ws::CountWorkflowExecutionsResponse) -> WorkflowExecutionCount {
    let mut groups: Vec<CountGroup> = r
        .groups
        .into_iter()
        .map(|g| CountGroup {
            values: g.group_values.iter().filter_map(value_from).collect(),
            count: u64::try_from(g.count).unwrap_or(0),
        })
        .collect();
    groups.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| {
            let text =
                |g: &CountGroup| g.values.iter().map(ToString::to_string).collect::<Vec<_>>();
            text(a).cmp(&text(b))
        })
    });
    WorkflowExecutionCount {
        count: u64::try_from(r.count).unwrap_or(0),
        groups,
    }
}

/// A string literal of Temporal's list filter.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn time_literal(t: SystemTime) -> String {
    let time: chrono::DateTime<chrono::Utc> = t.into();
    quote(&time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// `filter`'s fields (not its namespace or limit) as Temporal's list
/// filter, every field set joined with `AND`.
pub(super) fn query_of(filter: &ListFilter) -> String {
    let mut terms = Vec::new();
    if let Some(status) = filter.status {
        terms.push(format!("ExecutionStatus = {}", quote(status_name(status))));
    }
    if let Some(t) = &filter.workflow_type {
        terms.push(format!("WorkflowType = {}", quote(t)));
    }
    if let Some(id) = &filter.workflow_id {
        terms.push(format!("WorkflowId = {}", quote(id)));
    }
    if let Some(t) = filter.started_after {
        terms.push(format!("StartTime >= {}", time_literal(t)));
    }
    if let Some(t) = filter.started_before {
        terms.push(format!("StartTime < {}", time_literal(t)));
    }
    terms.join(" AND ")
}

/// A refused list or count as weft's error: a bad query is
/// `InvalidArgument` with Temporal's reason.
fn query_error(s: &Status, namespace: &str, query: &str) -> BackendError {
    let error = match s.code() {
        Code::InvalidArgument if s.message().contains("query") => {
            BackendError::InvalidArgument(s.message().to_string())
        }
        Code::InvalidArgument => {
            BackendError::InvalidArgument(format!("invalid query: {}", s.message()))
        }
        _ => status_error(s, namespace, None),
    };
    tracing::debug!(namespace, query, %error, "Temporal refused a visibility call");
    error
}

/// Whether Temporal refused a query for its `ORDER BY` alone.
fn refuses_order_by(e: &BackendError) -> bool {
    matches!(e, BackendError::InvalidArgument(m) if m.contains("ORDER BY"))
}

impl TemporalBackend {
    /// Pages of `ListWorkflowExecutions` until done, or until `limit` runs.
    async fn list_pages(
        &self,
        namespace: &str,
        query: &str,
        limit: Option<usize>,
    ) -> Result<Vec<workflow::WorkflowExecutionInfo>, BackendError> {
        let mut runs = Vec::new();
        let mut token = Vec::new();
        loop {
            let request = ws::ListWorkflowExecutionsRequest {
                namespace: namespace.to_string(),
                page_size: PAGE_SIZE,
                next_page_token: token,
                query: query.to_string(),
            };
            let response = self
                .service()
                .list_workflow_executions(Request::new(request))
                .await
                .map_err(|s| query_error(&s, namespace, query))?
                .into_inner();
            runs.extend(response.executions);
            if response.next_page_token.is_empty() || limit.is_some_and(|n| runs.len() >= n) {
                break;
            }
            token = response.next_page_token;
        }
        Ok(runs)
    }

    pub(super) async fn list_workflows_call(
        &self,
        namespace: String,
        query: String,
    ) -> Result<Vec<WorkflowExecutionInfo>, BackendError> {
        let runs = self.list_pages(&namespace, &query, None).await?;
        Ok(runs.into_iter().map(|e| info_from(&namespace, e)).collect())
    }

    pub(super) async fn count_workflows_call(
        &self,
        namespace: String,
        query: String,
    ) -> Result<WorkflowExecutionCount, BackendError> {
        let request = ws::CountWorkflowExecutionsRequest {
            namespace: namespace.clone(),
            query: query.clone(),
        };
        let response = self
            .service()
            .count_workflow_executions(Request::new(request))
            .await
            .map_err(|s| query_error(&s, &namespace, &query))?
            .into_inner();
        Ok(count_from(response))
    }

    /// The runs `filter` matches, the newest start first. With a limit,
    /// a store that orders (Elasticsearch) is asked for that many; one
    /// that cannot is read whole and sorted here.
    pub(super) async fn list_runs_call(
        &self,
        filter: ListFilter,
    ) -> Result<Vec<WorkflowSummary>, BackendError> {
        let query = query_of(&filter);
        let ordered = match filter.limit {
            Some(limit) => {
                let sorted = format!("{query}{NEWEST_FIRST}");
                match self
                    .list_pages(&filter.namespace, &sorted, Some(limit))
                    .await
                {
                    Err(e) if refuses_order_by(&e) => None,
                    other => Some(other?),
                }
            }
            None => None,
        };
        let runs = match ordered {
            Some(runs) => runs,
            None => self.list_pages(&filter.namespace, &query, None).await?,
        };
        let mut summaries: Vec<WorkflowSummary> = runs.into_iter().map(summary_from).collect();
        summaries.sort_by(|a, b| {
            b.start_time
                .cmp(&a.start_time)
                .then_with(|| b.run_id.cmp(&a.run_id))
        });
        summaries.truncate(filter.limit.unwrap_or(usize::MAX));
        Ok(summaries)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, UNIX_EPOCH};

    use temporalio_common::protos::temporal::api::common::v1 as common;
    use temporalio_common::protos::temporal::api::enums::v1 as enums;

    use super::*;
    use crate::backend::RunStatus;
    use crate::search_attributes::SearchAttributeValue;

    fn keyword(value: &str) -> common::Payload {
        let mut metadata = HashMap::new();
        metadata.insert("encoding".to_string(), b"json/plain".to_vec());
        metadata.insert("type".to_string(), b"Keyword".to_vec());
        common::Payload {
            metadata,
            data: format!("{value:?}").into_bytes(),
            ..Default::default()
        }
    }

    #[test]
    fn a_filter_becomes_temporals_query() {
        let filter = ListFilter {
            namespace: "default".into(),
            status: Some(RunStatus::ContinuedAsNew),
            workflow_type: Some("Order".into()),
            workflow_id: Some(r"it's a \ id".into()),
            started_after: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            started_before: Some(UNIX_EPOCH + Duration::from_millis(1_800_000_000_250)),
            limit: Some(3),
        };
        assert_eq!(
            query_of(&filter),
            "ExecutionStatus = 'ContinuedAsNew' AND WorkflowType = 'Order' AND \
             WorkflowId = 'it\\'s a \\\\ id' AND StartTime >= '2027-01-15T08:00:00Z' AND \
             StartTime < '2027-01-15T08:00:00.250Z'"
        );
        assert_eq!(query_of(&ListFilter::namespace("default")), "");
    }

    #[test]
    fn an_execution_maps_to_weft_s_info_and_summary() {
        let e = workflow::WorkflowExecutionInfo {
            execution: Some(common::WorkflowExecution {
                workflow_id: "w".into(),
                run_id: "r".into(),
            }),
            r#type: Some(common::WorkflowType { name: "T".into() }),
            task_queue: "q".into(),
            status: enums::WorkflowExecutionStatus::Terminated as i32,
            start_time: Some(prost_wkt_types::Timestamp::from(
                UNIX_EPOCH + Duration::from_secs(9),
            )),
            history_length: 12,
            ..Default::default()
        };
        let info = info_from("ns", e.clone());
        assert_eq!(info.namespace, "ns");
        assert_eq!(
            (info.workflow_id.as_str(), info.run_id.as_str()),
            ("w", "r")
        );
        assert_eq!(info.status, RunStatus::Terminated);
        assert_eq!(info.start_time, UNIX_EPOCH + Duration::from_secs(9));
        assert_eq!(info.close_time, None);
        let summary = summary_from(e);
        assert_eq!(summary.history_length, 12);
        assert_eq!(summary.workflow_type, "T");
    }

    #[test]
    fn grouped_counts_come_most_first_as_on_the_engine() {
        let group = |value: &str, count| ws::count_workflow_executions_response::AggregationGroup {
            group_values: vec![keyword(value)],
            count,
        };
        let count = count_from(ws::CountWorkflowExecutionsResponse {
            count: 6,
            groups: vec![
                group("Terminated", 1),
                group("Running", 4),
                group("Completed", 1),
            ],
        });
        assert_eq!(count.count, 6);
        let names: Vec<_> = count
            .groups
            .iter()
            .map(|g| (g.values[0].clone(), g.count))
            .collect();
        assert_eq!(
            names,
            [
                (SearchAttributeValue::Keyword("Running".into()), 4),
                (SearchAttributeValue::Keyword("Completed".into()), 1),
                (SearchAttributeValue::Keyword("Terminated".into()), 1),
            ]
        );
    }

    #[test]
    fn a_refused_query_is_invalid_argument() {
        let e = query_error(
            &Status::invalid_argument(
                "invalid query: malformed SQL query: syntax error at position 36",
            ),
            "default",
            "bogus ===",
        );
        assert_eq!(
            e,
            BackendError::InvalidArgument(
                "invalid query: malformed SQL query: syntax error at position 36".into()
            )
        );
        let e = query_error(
            &Status::invalid_argument("'ORDER BY' clause"),
            "default",
            "",
        );
        assert!(refuses_order_by(&e), "{e}");
    }
}
