//! Reads for tools that inspect a file: listing its runs and schedules and
//! describing one, from the committed rows alone (no engine needed, so
//! they work on a file opened with [`SqliteStore::open_read_only`] while
//! an engine writes it). A schedule's row is decoded and shown by the
//! engine's own code (`engine::schedules::StoredSchedule`), its next
//! times from the wall clock; reading it takes no action.

use std::collections::HashSet;
use std::time::SystemTime;

use rusqlite::{OptionalExtension, params};

use super::{ROW_COLUMNS, SqliteStore, finish_row, parse_status, row_of, store_err};
use crate::backend::{BackendError, Description, ListFilter, WorkflowSummary};
use crate::engine::schedules::{StoredSchedule, wall_clock};
use crate::engine::state::RunState;
use crate::engine::store::ScheduleRow;
use crate::schedule::{ScheduleDescription, ScheduleListEntry};

/// What [`row_of`] reads from `executions` of a file older than format
/// version 7, which a read-only store does not upgrade: the columns it
/// has, and stand-ins for those it has not. Its runs' states hold their
/// identity, status and times themselves, and [`RunState::from_row`]
/// takes them from there.
const ROW_COLUMNS_BEFORE_7: &str = "namespace, run_id, workflow_id, status, request_id,
     '', '', 0, NULL, state";

impl SqliteStore {
    /// The columns to read a run's row by, for this file's version.
    fn row_columns(&self) -> Result<&'static str, BackendError> {
        let version: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(store_err("reading the format version"))?;
        Ok(if version < 7 {
            ROW_COLUMNS_BEFORE_7
        } else {
            ROW_COLUMNS
        })
    }

    /// Runs of `filter.namespace` that match the filter, the newest first.
    pub fn list_runs(&self, filter: &ListFilter) -> Result<Vec<WorkflowSummary>, BackendError> {
        let columns = self.row_columns()?;
        let sql =
            format!("SELECT {columns} FROM executions WHERE namespace = ?1 ORDER BY rowid DESC");
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
        let columns = self.row_columns()?;
        let raw = match run_id {
            Some(run_id) => self.conn.query_row(
                &format!(
                    "SELECT {columns} FROM executions
                     WHERE namespace = ?1 AND workflow_id = ?2 AND run_id = ?3"
                ),
                params![namespace, workflow_id, run_id],
                row_of,
            ),
            None => self.conn.query_row(
                &format!(
                    "SELECT {columns} FROM executions
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

impl SqliteStore {
    /// The schedules of `namespace`, by id, as the engine lists them: next
    /// action times from the wall clock now. A file of a format before
    /// schedules (version 4) holds none.
    pub fn list_schedules(&self, namespace: &str) -> Result<Vec<ScheduleListEntry>, BackendError> {
        self.list_schedules_at(namespace, wall_clock())
    }

    /// Describes the schedule `schedule_id` of `namespace` as the engine
    /// does, next action times from the wall clock now.
    /// `ScheduleNotFound` when the file has none of that id.
    pub fn describe_schedule(
        &self,
        namespace: &str,
        schedule_id: &str,
    ) -> Result<ScheduleDescription, BackendError> {
        self.describe_schedule_at(namespace, schedule_id, wall_clock())
    }

    fn list_schedules_at(
        &self,
        namespace: &str,
        now: SystemTime,
    ) -> Result<Vec<ScheduleListEntry>, BackendError> {
        if !self.has_schedules_table()? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT schedule_id, data FROM schedules WHERE namespace = ?1
                 ORDER BY schedule_id",
            )
            .map_err(store_err("listing schedules"))?;
        let rows = stmt
            .query_map(params![namespace], |r| {
                Ok(ScheduleRow {
                    namespace: namespace.into(),
                    schedule_id: r.get::<_, String>(0)?.into(),
                    data: r.get(1)?,
                })
            })
            .map_err(store_err("listing schedules"))?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.map_err(store_err("listing schedules"))?;
            out.push(self.stored_schedule(&row)?.list_entry(now));
        }
        Ok(out)
    }

    fn describe_schedule_at(
        &self,
        namespace: &str,
        schedule_id: &str,
        now: SystemTime,
    ) -> Result<ScheduleDescription, BackendError> {
        let not_found = || BackendError::ScheduleNotFound {
            schedule_id: schedule_id.to_string(),
        };
        if !self.has_schedules_table()? {
            return Err(not_found());
        }
        let data: Vec<u8> = self
            .conn
            .query_row(
                "SELECT data FROM schedules WHERE namespace = ?1 AND schedule_id = ?2",
                params![namespace, schedule_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err("describing a schedule"))?
            .ok_or_else(not_found)?;
        let row = ScheduleRow {
            namespace: namespace.into(),
            schedule_id: schedule_id.into(),
            data,
        };
        Ok(self.stored_schedule(&row)?.description(now))
    }

    /// Whether the file has the schedules table (format version 4 on).
    fn has_schedules_table(&self) -> Result<bool, BackendError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schedules'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(store_err("looking for the schedules table"))
    }

    /// A schedule's row decoded, without the watched workflows that have
    /// closed since it was written: what a restore makes of it.
    fn stored_schedule(&self, row: &ScheduleRow) -> Result<StoredSchedule, BackendError> {
        let mut schedule = StoredSchedule::from_row(row)?;
        let mut closed = HashSet::new();
        for workflow_id in schedule.running_workflow_ids() {
            if self.latest_is_closed(&row.namespace, workflow_id)? {
                closed.insert(workflow_id.to_string());
            }
        }
        schedule.forget_closed(|workflow_id| closed.contains(workflow_id));
        Ok(schedule)
    }

    /// Whether the latest run of `workflow_id` (insertion order, as the
    /// engine tells it) has closed.
    fn latest_is_closed(&self, namespace: &str, workflow_id: &str) -> Result<bool, BackendError> {
        let status: Option<String> = self
            .conn
            .query_row(
                "SELECT status FROM executions WHERE namespace = ?1 AND workflow_id = ?2
                 ORDER BY rowid DESC LIMIT 1",
                params![namespace, workflow_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err("reading the status of a schedule's workflow"))?;
        match status {
            Some(status) => Ok(parse_status(&status)?.is_closed()),
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::Client;
    use crate::engine::Engine;
    use crate::engine::sqlite::{APPLICATION_ID, MIGRATIONS};
    use crate::schedule::{Schedule, ScheduleAction, ScheduleSpec, StartWorkflowAction};

    /// Weekly, on whole weeks: no time of it falls due while a test runs.
    fn weekly() -> Schedule {
        let action = ScheduleAction::StartWorkflow(StartWorkflowAction {
            workflow_type: "Report".into(),
            workflow_id: "report".into(),
            task_queue: "reports".into(),
            input: Vec::new(),
            options: Default::default(),
        });
        Schedule::new(action, ScheduleSpec::every(Duration::from_secs(7 * 86_400)))
    }

    /// A file of format version 3, from before schedules had a table.
    fn version_3_file(path: &Path) {
        let conn = rusqlite::Connection::open(path).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
    }

    #[test]
    fn a_file_from_before_schedules_holds_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        version_3_file(&path);
        let store = SqliteStore::open_read_only(&path).unwrap();
        assert_eq!(store.list_schedules("default").unwrap(), Vec::new());
        let err = store.describe_schedule("default", "nightly").unwrap_err();
        assert!(
            matches!(&err, BackendError::ScheduleNotFound { schedule_id } if schedule_id == "nightly"),
            "{err:?}"
        );
    }

    /// Regression: a row can list a watched workflow that has closed since
    /// it was written; an engine restoring the file drops it, so reading
    /// the file must too, or the two disagree on what runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watched_workflow_closed_since_the_row_was_written_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.db");
        let engine = Engine::sqlite(&path).await.unwrap();
        let client = Client::new(engine.clone());
        let handle = client.create_schedule("weekly", weekly()).await.unwrap();
        handle.trigger().await.unwrap();
        let described = handle.describe().await.unwrap();
        assert_eq!(described.info.running_actions.len(), 1);
        engine.shutdown().await;

        // The run closes in a write the schedule's row is not part of.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let closed = conn
            .execute(
                "UPDATE executions SET status = 'Terminated' WHERE workflow_id LIKE 'report-%'",
                [],
            )
            .unwrap();
        assert_eq!(closed, 1);
        drop(conn);

        let store = SqliteStore::open_read_only(&path).unwrap();
        let read = store.describe_schedule("default", "weekly").unwrap();
        assert!(read.info.running_actions.is_empty(), "{read:?}");
        assert_eq!(read.info.recent_actions.len(), 1);
        let listed = store.list_schedules("default").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].next_action_times[..],
            read.info.next_action_times[..5]
        );
        drop(store);

        // An engine on the file answers the same (an active schedule's next
        // times run from its last processed time, not from now).
        let engine = Engine::sqlite(&path).await.unwrap();
        let restored = Client::new(engine.clone())
            .schedule_handle("weekly")
            .describe()
            .await
            .unwrap();
        engine.shutdown().await;
        assert_eq!(read, restored);
    }
}
