//! Reads for tools that inspect a file: listing its runs and describing
//! one, from the committed rows alone (no engine needed, so they work on
//! a file opened with [`SqliteStore::open_read_only`] while an engine
//! writes it).

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, finish_row, row_of, store_err};
use crate::backend::{BackendError, Description, ListFilter, WorkflowSummary};
use crate::engine::state::RunState;

const COLUMNS: &str = "namespace, run_id, workflow_id, status, request_id, state";

impl SqliteStore {
    /// Runs of `filter.namespace` that match the filter, the newest first.
    pub fn list_runs(&self, filter: &ListFilter) -> Result<Vec<WorkflowSummary>, BackendError> {
        let sql =
            format!("SELECT {COLUMNS} FROM executions WHERE namespace = ?1 ORDER BY rowid DESC");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(store_err("listing workflows"))?;
        let rows = stmt
            .query_map(params![filter.namespace], row_of)
            .map_err(store_err("listing workflows"))?;
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for row in rows {
            if out.len() >= limit {
                break;
            }
            let row = finish_row(row.map_err(store_err("listing workflows"))?)?;
            let summary = WorkflowSummary::from(&RunState::from_row(&row)?.describe());
            if filter.matches(&summary) {
                out.push(summary);
            }
        }
        Ok(out)
    }

    /// Describes a run as committed: `run_id`, or the workflow id's latest
    /// run when `None`. `NotFound` when there is none.
    pub fn describe_run(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> Result<Description, BackendError> {
        let not_found = || BackendError::NotFound {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.map(str::to_string),
            detail: None,
        };
        let raw = match run_id {
            Some(run_id) => self.conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM executions
                     WHERE namespace = ?1 AND workflow_id = ?2 AND run_id = ?3"
                ),
                params![namespace, workflow_id, run_id],
                row_of,
            ),
            None => self.conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM executions
                     WHERE namespace = ?1 AND workflow_id = ?2 ORDER BY rowid DESC LIMIT 1"
                ),
                params![namespace, workflow_id],
                row_of,
            ),
        }
        .optional()
        .map_err(store_err("describing a run"))?
        .ok_or_else(not_found)?;
        let row = finish_row(raw)?;
        let mut description = RunState::from_row(&row)?.describe();
        let pending: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM activities WHERE namespace = ?1 AND run_id = ?2",
                params![namespace, &*row.run_id],
                |r| r.get(0),
            )
            .map_err(store_err("counting pending activities"))?;
        description.pending_activities = usize::try_from(pending).unwrap_or(0);
        Ok(description)
    }
}
