//! Visibility in the SQLite file: since format version 7, the columns
//! of a run's row in `executions` that list filters read (type, task
//! queue, status, start and close time, indexed), and its search
//! attributes in `search_attributes`. A list filter reads only the rows
//! its indexable parts allow (`narrow`); the engine's evaluator decides
//! the rest, so this file never has to agree with it on more than "no
//! match is left out".
//!
//! Every value reaches SQL as a bound parameter, never as text of the
//! statement: a query's values cannot change what the statement does.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Transaction, params, params_from_iter};

use super::{parse_status, status_text, store_err};
use crate::backend::BackendError;
use crate::engine::state::RunState;
use crate::search_attributes::{
    SearchAttributeType, SearchAttributeValue, SearchAttributes, from_unix_nanos, to_unix_nanos,
};
use crate::visibility::{Field, Filter, Op, WorkflowExecutionInfo};

/// The migration to version 5 (the backfill of existing runs follows it
/// in the same transaction: [`backfill`]).
pub(super) const MIGRATION: &str = "
    -- Version 5: visibility. A row per run with what list filters query,
    -- and a row per search attribute of a run, typed: Int, Bool and
    -- Datetime (nanoseconds since 1970) in int_value, Double in
    -- real_value, Keyword and Text in text_value.
    CREATE TABLE visibility (
        namespace     TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        workflow_id   TEXT NOT NULL,
        workflow_type TEXT NOT NULL,
        task_queue    TEXT NOT NULL,
        status        TEXT NOT NULL,
        start_time    INTEGER NOT NULL,
        close_time    INTEGER,
        PRIMARY KEY (namespace, run_id)
    ) WITHOUT ROWID;
    CREATE INDEX visibility_by_workflow_id ON visibility (namespace, workflow_id);
    CREATE INDEX visibility_by_type ON visibility (namespace, workflow_type, start_time);
    CREATE INDEX visibility_by_status ON visibility (namespace, status, start_time);
    CREATE INDEX visibility_by_start ON visibility (namespace, start_time);
    CREATE INDEX visibility_by_close ON visibility (namespace, close_time);
    CREATE TABLE search_attributes (
        namespace  TEXT NOT NULL,
        run_id     TEXT NOT NULL,
        name       TEXT NOT NULL,
        type       TEXT NOT NULL,
        int_value  INTEGER,
        real_value REAL,
        text_value TEXT,
        PRIMARY KEY (namespace, run_id, name)
    ) WITHOUT ROWID;
    CREATE INDEX search_attributes_by_int ON search_attributes (namespace, name, int_value);
    CREATE INDEX search_attributes_by_real ON search_attributes (namespace, name, real_value);
    CREATE INDEX search_attributes_by_text ON search_attributes (namespace, name, text_value);
";

/// The migration to version 7: a run's visibility row moves into its row
/// of `executions`, which held its workflow id and status already, so a
/// step writes one row, not two, and the two indexes they duplicated
/// go. Every run of a version-6 file has a visibility row (version 5
/// wrote one at a run's first write, and its migration one for every run
/// before), so every row gets its columns.
pub(super) const INTO_EXECUTIONS: &str = "
    -- Version 7: what list filters read of a run is in its row of
    -- executions (start_time and close_time in nanoseconds since 1970).
    ALTER TABLE executions ADD COLUMN workflow_type TEXT NOT NULL DEFAULT '';
    ALTER TABLE executions ADD COLUMN task_queue TEXT NOT NULL DEFAULT '';
    ALTER TABLE executions ADD COLUMN start_time INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN close_time INTEGER;
    UPDATE executions SET
        workflow_type = v.workflow_type, task_queue = v.task_queue,
        start_time = v.start_time, close_time = v.close_time
      FROM visibility AS v
      WHERE v.namespace = executions.namespace AND v.run_id = executions.run_id;
    DROP TABLE visibility;
    -- By status within a namespace for list filters; still by status
    -- first, for the open runs an engine loads when it starts.
    DROP INDEX executions_by_status;
    CREATE INDEX executions_by_status ON executions (status, namespace, start_time);
    CREATE INDEX executions_by_type ON executions (namespace, workflow_type, start_time);
    CREATE INDEX executions_by_start ON executions (namespace, start_time);
    CREATE INDEX executions_by_close ON executions (namespace, close_time);
";

/// After [`INTO_EXECUTIONS`]: a row that had no visibility row (none
/// should, but a file is not always what it should be) takes its columns
/// from its stored state, so no run goes unlisted.
pub(super) fn fill_unlisted(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for_each_state(
        tx,
        "WHERE workflow_type = '' AND start_time = 0",
        |namespace, run_id, state| {
            tx.execute(
                "UPDATE executions SET workflow_type = ?3, task_queue = ?4, start_time = ?5,
                                       close_time = ?6
                 WHERE namespace = ?1 AND run_id = ?2",
                params![
                    namespace,
                    run_id,
                    state.workflow_type,
                    state.task_queue,
                    nanos_or_zero(state.start_time),
                    state.close_time.map(nanos_or_zero),
                ],
            )
        },
    )
}

/// Writes a visibility row for every run a file of version 4 or older
/// holds, from the run's stored state (runs of those versions had no
/// search attributes), as version 5 kept them (version 7 moves them into
/// `executions`). The state is the engine's own encoding, which is why
/// this migration step is Rust, not SQL.
pub(super) fn backfill(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for_each_state(tx, "", |namespace, run_id, state| {
        tx.execute(
            "INSERT INTO visibility (namespace, run_id, workflow_id, workflow_type, task_queue,
                                     status, start_time, close_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                namespace,
                run_id,
                state.workflow_id,
                state.workflow_type,
                state.task_queue,
                status_text(state.status),
                nanos_or_zero(state.start_time),
                state.close_time.map(nanos_or_zero),
            ],
        )
    })
}

/// Calls `f` with each run of `executions` that `condition` leaves, and
/// its state as a file before format version 7 holds it (with its
/// identity, status and times).
fn for_each_state(
    tx: &Transaction<'_>,
    condition: &str,
    mut f: impl FnMut(&str, &str, &RunState) -> rusqlite::Result<usize>,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(&format!(
        "SELECT namespace, run_id, state FROM executions {condition}"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    for row in rows {
        let (namespace, run_id, state) = row?;
        let state: RunState = crate::engine::encoding::from_bytes(&state)
            .map_err(|e| to_sqlite(BackendError::Store(format!("run {run_id}: {e}"))))?;
        f(&namespace, &run_id, &state)?;
    }
    Ok(())
}

/// A time in nanoseconds since 1970, 0 when out of range (a migration
/// keeps the run rather than refusing the file).
fn nanos_or_zero(t: std::time::SystemTime) -> i64 {
    to_unix_nanos(t).unwrap_or_default()
}

fn to_sqlite(e: BackendError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

const CLEAR_ATTRIBUTES: &str = "DELETE FROM search_attributes WHERE namespace = ?1 AND run_id = ?2";
const PUT_ATTRIBUTE: &str = "INSERT INTO search_attributes
     (namespace, run_id, name, type, int_value, real_value, text_value)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Replaces a run's search attributes.
pub(super) fn put_attributes(
    tx: &Transaction<'_>,
    namespace: &str,
    run_id: &str,
    attributes: &SearchAttributes,
) -> Result<(), BackendError> {
    let err = store_err("writing search attributes");
    tx.prepare_cached(CLEAR_ATTRIBUTES)
        .and_then(|mut stmt| stmt.execute(params![namespace, run_id]))
        .map_err(&err)?;
    for (name, value) in attributes.iter() {
        let (int, real, text) = columns(value);
        tx.prepare_cached(PUT_ATTRIBUTE)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    namespace,
                    run_id,
                    name,
                    value.value_type().name(),
                    int,
                    real,
                    text
                ])
            })
            .map_err(&err)?;
    }
    Ok(())
}

/// The (int, real, text) columns a value goes in.
fn columns(value: &SearchAttributeValue) -> (Option<i64>, Option<f64>, Option<&str>) {
    match value {
        SearchAttributeValue::Keyword(s) | SearchAttributeValue::Text(s) => (None, None, Some(s)),
        SearchAttributeValue::Int(i) => (Some(*i), None, None),
        SearchAttributeValue::Double(d) => (None, Some(*d), None),
        SearchAttributeValue::Bool(b) => (Some(i64::from(*b)), None, None),
        SearchAttributeValue::Datetime(t) => (to_unix_nanos(*t), None, None),
    }
}

/// A value as a bound parameter, in the column its type uses.
fn param(value: &SearchAttributeValue) -> Value {
    match columns(value) {
        (Some(i), _, _) => Value::Integer(i),
        (_, Some(r), _) => Value::Real(r),
        (_, _, Some(t)) => Value::Text(t.to_string()),
        _ => Value::Null,
    }
}

fn column_of(t: SearchAttributeType) -> &'static str {
    match t {
        SearchAttributeType::Keyword | SearchAttributeType::Text => "text_value",
        SearchAttributeType::Double => "real_value",
        _ => "int_value",
    }
}

fn system_column(field: &Field) -> Option<&'static str> {
    Some(match field {
        Field::WorkflowId => "workflow_id",
        Field::RunId => "run_id",
        Field::WorkflowType => "workflow_type",
        Field::TaskQueue => "task_queue",
        Field::ExecutionStatus => "status",
        Field::StartTime => "start_time",
        Field::CloseTime => "close_time",
        Field::Custom(..) => return None,
    })
}

fn sql_op(op: Op) -> Option<&'static str> {
    Some(match op {
        Op::Eq => "=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Ne => return None,
    })
}

/// Most values one `IN` narrows by.
const MAX_IN: usize = 500;

/// Most values bound in one statement (SQLite binds at most 32,766).
const MAX_PARAMS: usize = 2000;

/// The conditions of `filter` an index can serve, as SQL over
/// `visibility` with their parameters (after `?1`, the namespace). Only
/// parts every match must satisfy are used (the top level of an AND), and
/// only in forms whose SQL is true for every match: what they leave in,
/// the evaluator decides.
fn narrow(filter: Option<&Filter>, params: &mut Vec<Value>) -> String {
    let parts: Vec<&Filter> = match filter {
        Some(Filter::And(parts)) => parts.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let mut sql = String::new();
    for part in parts {
        // A few conditions are all an index needs; the evaluator does the
        // rest, and SQLite's limit on bound values is never reached.
        if params.len() + MAX_IN + 2 > MAX_PARAMS {
            break;
        }
        if let Some(condition) = condition(part, params) {
            sql.push_str(" AND ");
            sql.push_str(&condition);
        }
    }
    sql
}

fn condition(part: &Filter, params: &mut Vec<Value>) -> Option<String> {
    let (field, op, values): (&Field, &str, Vec<&SearchAttributeValue>) = match part {
        Filter::Compare(field, op, value) if value.value_type() != SearchAttributeType::Text => {
            (field, sql_op(*op)?, vec![value])
        }
        Filter::In(field, values, false)
            if values.len() <= MAX_IN && field.value_type() != SearchAttributeType::Text =>
        {
            (field, "IN", values.iter().collect())
        }
        Filter::StartsWith(field, prefix, false) => {
            // Every string starting with the prefix sorts at or after it.
            let column = system_column(field)?;
            params.push(Value::Text(prefix.clone()));
            return Some(format!("{column} >= ?{}", params.len() + 1));
        }
        _ => return None,
    };
    let mut placeholders = Vec::new();
    for value in values {
        let value = match (field, value) {
            (Field::ExecutionStatus, SearchAttributeValue::Keyword(name)) => {
                Value::Text(name.clone())
            }
            _ => param(value),
        };
        params.push(value);
        placeholders.push(format!("?{}", params.len() + 1));
    }
    let rhs = if op == "IN" {
        format!("({})", placeholders.join(", "))
    } else {
        placeholders.join("")
    };
    if let Some(column) = system_column(field) {
        return Some(format!("{column} {op} {rhs}"));
    }
    let Field::Custom(name, t) = field else {
        return None;
    };
    params.push(Value::Text(name.clone()));
    Some(format!(
        "run_id IN (SELECT run_id FROM search_attributes WHERE namespace = ?1 \
         AND name = ?{} AND type = '{}' AND {} {op} {rhs})",
        params.len() + 1,
        t.name(),
        column_of(*t),
    ))
}

/// The namespace's visibility records that `filter`'s indexable parts
/// leave, with their search attributes.
pub(super) fn candidates(
    conn: &rusqlite::Connection,
    namespace: &str,
    filter: Option<&Filter>,
) -> Result<Vec<WorkflowExecutionInfo>, BackendError> {
    let err = store_err("reading visibility records");
    let mut params = Vec::new();
    let conditions = narrow(filter, &mut params);
    let mut all = vec![Value::Text(namespace.to_string())];
    all.extend(params);
    let sql = format!(
        "SELECT run_id, workflow_id, workflow_type, task_queue, status, start_time, close_time
         FROM executions WHERE namespace = ?1{conditions}"
    );
    let mut stmt = conn.prepare(&sql).map_err(&err)?;
    let rows = stmt
        .query_map(params_from_iter(all.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })
        .map_err(&err)?;
    let mut out = Vec::new();
    for row in rows {
        let (run_id, workflow_id, workflow_type, task_queue, status, start, close) =
            row.map_err(&err)?;
        out.push(WorkflowExecutionInfo {
            namespace: namespace.to_string(),
            run_id,
            workflow_id,
            workflow_type,
            task_queue,
            status: parse_status(&status)?,
            start_time: from_unix_nanos(start),
            close_time: close.map(from_unix_nanos),
            search_attributes: SearchAttributes::new(),
        });
    }
    let mut attributes = attributes_of(conn, &conditions, &all)?;
    for info in &mut out {
        if let Some(attrs) = attributes.remove(&info.run_id) {
            info.search_attributes = attrs;
        }
    }
    Ok(out)
}

/// The search attributes of the runs the same conditions leave, by run.
fn attributes_of(
    conn: &rusqlite::Connection,
    conditions: &str,
    params: &[Value],
) -> Result<HashMap<String, SearchAttributes>, BackendError> {
    let err = store_err("reading search attributes");
    let sql = format!(
        "SELECT run_id, name, type, int_value, real_value, text_value FROM search_attributes
         WHERE namespace = ?1 AND run_id IN
           (SELECT run_id FROM executions WHERE namespace = ?1{conditions})"
    );
    let mut stmt = conn.prepare(&sql).map_err(&err)?;
    let rows = stmt
        .query_map(params_from_iter(params.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .map_err(&err)?;
    let mut out: HashMap<String, SearchAttributes> = HashMap::new();
    for row in rows {
        let (run_id, name, kind, int, real, text) = row.map_err(&err)?;
        let value = match (kind.as_str(), int, real, text) {
            ("Keyword", _, _, Some(s)) => SearchAttributeValue::Keyword(s),
            ("Text", _, _, Some(s)) => SearchAttributeValue::Text(s),
            ("Int", Some(i), _, _) => SearchAttributeValue::Int(i),
            ("Double", _, Some(d), _) => SearchAttributeValue::Double(d),
            ("Bool", Some(i), _, _) => SearchAttributeValue::Bool(i != 0),
            ("Datetime", Some(i), _, _) => SearchAttributeValue::Datetime(from_unix_nanos(i)),
            _ => {
                return Err(BackendError::Store(format!(
                    "search attribute {name} of run {run_id} has no value of its type {kind}"
                )));
            }
        };
        out.entry(run_id).or_default().insert_value(name, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::engine::sqlite::SqliteStore;

    /// SQLite's plan for the candidates of `query`.
    fn plan_of(store: &SqliteStore, query: &str) -> String {
        let registered: BTreeMap<String, SearchAttributeType> =
            [("Priority".to_string(), SearchAttributeType::Int)].into();
        let plan = crate::visibility::plan_query(query, &registered).unwrap();
        let mut params = Vec::new();
        let conditions = narrow(plan.filter.as_ref(), &mut params);
        let mut all = vec![Value::Text("default".into())];
        all.extend(params);
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT run_id FROM executions WHERE namespace = ?1{conditions}"
        );
        let mut stmt = store.conn.prepare(&sql).unwrap();
        let rows = stmt
            .query_map(params_from_iter(all.iter()), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn filters_are_served_by_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        let by_type = plan_of(&store, "WorkflowType = 'Order' AND WorkflowId != 'x'");
        assert!(by_type.contains("executions_by_type"), "{by_type}");
        let by_status = plan_of(&store, "ExecutionStatus IN ('Running', 'Failed')");
        assert!(by_status.contains("executions_by_status"), "{by_status}");
        let by_start = plan_of(&store, "StartTime > '2026-01-01T00:00:00Z'");
        assert!(by_start.contains("executions_by_start"), "{by_start}");
        let by_attribute = plan_of(&store, "Priority >= 5");
        assert!(
            by_attribute.contains("search_attributes_by_int"),
            "{by_attribute}"
        );
        let by_prefix = plan_of(&store, "WorkflowId STARTS_WITH 'order-'");
        assert!(by_prefix.contains("executions_by_workflow"), "{by_prefix}");
    }
}
