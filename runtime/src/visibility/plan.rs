//! From a parsed query to a typed one: every name resolved to a system
//! attribute or a registered custom one, every value checked against its
//! attribute's type and converted to it. Errors read as Temporal's do.

use std::collections::BTreeMap;

use super::QueryError;
use super::parse::{At, Expr, Literal, Parsed, parse};
use crate::backend::RunStatus;
use crate::search_attributes::{SearchAttributeType, SearchAttributeValue, from_unix_nanos};

/// What a query can name.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// `WorkflowId` (Keyword).
    WorkflowId,
    /// `RunId` (Keyword).
    RunId,
    /// `WorkflowType` (Keyword).
    WorkflowType,
    /// `TaskQueue` (Keyword).
    TaskQueue,
    /// `ExecutionStatus` (Keyword, one of the status names).
    ExecutionStatus,
    /// `StartTime` (Datetime).
    StartTime,
    /// `CloseTime` (Datetime; none while running).
    CloseTime,
    /// A registered custom attribute.
    Custom(String, SearchAttributeType),
}

/// System attributes, by the name queries use.
pub const SYSTEM_ATTRIBUTES: &[(&str, SearchAttributeType)] = &[
    ("WorkflowId", SearchAttributeType::Keyword),
    ("RunId", SearchAttributeType::Keyword),
    ("WorkflowType", SearchAttributeType::Keyword),
    ("TaskQueue", SearchAttributeType::Keyword),
    ("ExecutionStatus", SearchAttributeType::Keyword),
    ("StartTime", SearchAttributeType::Datetime),
    ("CloseTime", SearchAttributeType::Datetime),
];

/// Names Temporal reserves besides the system attributes weft queries:
/// none of them can be registered.
pub(crate) const RESERVED_NAMES: &[&str] = &[
    "ExecutionTime",
    "ExecutionDuration",
    "HistoryLength",
    "HistorySizeBytes",
    "StateTransitionCount",
    "BuildIds",
    "BatcherUser",
    "NamespaceId",
    "ParentWorkflowId",
    "ParentRunId",
    "RootWorkflowId",
    "RootRunId",
    "TemporalChangeVersion",
];

impl Field {
    /// The attribute's type.
    pub fn value_type(&self) -> SearchAttributeType {
        match self {
            Field::StartTime | Field::CloseTime => SearchAttributeType::Datetime,
            Field::Custom(_, t) => *t,
            _ => SearchAttributeType::Keyword,
        }
    }

    /// The name a query gives it.
    pub fn name(&self) -> &str {
        match self {
            Field::WorkflowId => "WorkflowId",
            Field::RunId => "RunId",
            Field::WorkflowType => "WorkflowType",
            Field::TaskQueue => "TaskQueue",
            Field::ExecutionStatus => "ExecutionStatus",
            Field::StartTime => "StartTime",
            Field::CloseTime => "CloseTime",
            Field::Custom(name, _) => name,
        }
    }

    fn system(name: &str) -> Option<Field> {
        Some(match name {
            "WorkflowId" => Field::WorkflowId,
            "RunId" => Field::RunId,
            "WorkflowType" => Field::WorkflowType,
            "TaskQueue" => Field::TaskQueue,
            "ExecutionStatus" => Field::ExecutionStatus,
            "StartTime" => Field::StartTime,
            "CloseTime" => Field::CloseTime,
            _ => return None,
        })
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A typed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Every part holds.
    And(Vec<Filter>),
    /// Some part holds.
    Or(Vec<Filter>),
    /// The attribute compares so with the value (never true when unset).
    Compare(Field, Op, SearchAttributeValue),
    /// The attribute is (`negated`: is not) one of the values; never true
    /// when unset.
    In(Field, Vec<SearchAttributeValue>, bool),
    /// The attribute starts (`negated`: does not start) with the prefix;
    /// never true when unset.
    StartsWith(Field, String, bool),
    /// The attribute is unset (`false`: is set).
    IsNull(Field, bool),
}

/// A typed query: what to match, in which order, and how to count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// `None` matches every run.
    pub filter: Option<Filter>,
    /// Sort keys (descending when true); empty: the default order.
    pub order_by: Vec<(Field, bool)>,
    /// Whether counts are grouped by `ExecutionStatus`.
    pub group_by_status: bool,
}

/// Parses and types `query` against the registered custom attributes.
pub(crate) fn plan(
    query: &str,
    registered: &BTreeMap<String, SearchAttributeType>,
) -> Result<Plan, QueryError> {
    let parsed: Parsed = parse(query)?;
    let typer = Typer { registered };
    let filter = parsed.filter.map(|e| typer.filter(e)).transpose()?;
    let order_by = parsed
        .order_by
        .into_iter()
        .map(|(name, desc)| Ok((typer.field(&name)?, desc)))
        .collect::<Result<Vec<_>, QueryError>>()?;
    let group_by_status = match parsed.group_by {
        None => false,
        Some(name) => {
            let field = typer.field(&name)?;
            if field != Field::ExecutionStatus {
                return Err(QueryError::new(
                    name.pos,
                    format!(
                        "'GROUP BY' clause is not supported for search attribute {}",
                        name.value
                    ),
                ));
            }
            true
        }
    };
    Ok(Plan {
        filter,
        order_by,
        group_by_status,
    })
}

struct Typer<'a> {
    registered: &'a BTreeMap<String, SearchAttributeType>,
}

impl Typer<'_> {
    fn field(&self, name: &At<String>) -> Result<Field, QueryError> {
        if let Some(field) = Field::system(&name.value) {
            return Ok(field);
        }
        match self.registered.get(&name.value) {
            Some(t) => Ok(Field::Custom(name.value.clone(), *t)),
            None => Err(QueryError::new(
                name.pos,
                format!("invalid search attribute: {}", name.value),
            )
            .with_hint(format!("known: {}", self.known()))),
        }
    }

    fn known(&self) -> String {
        let mut names: Vec<&str> = SYSTEM_ATTRIBUTES.iter().map(|(n, _)| *n).collect();
        names.extend(self.registered.keys().map(String::as_str));
        names.join(", ")
    }

    fn filter(&self, expr: Expr) -> Result<Filter, QueryError> {
        Ok(match expr {
            Expr::And(parts) => Filter::And(self.filters(parts)?),
            Expr::Or(parts) => Filter::Or(self.filters(parts)?),
            Expr::Compare { name, op, value } => {
                let field = self.field(&name)?;
                let op = self.op(&field, op, &name)?;
                let value = typed(&field, value)?;
                Filter::Compare(field, op, value)
            }
            Expr::In {
                name,
                negated,
                values,
            } => {
                let field = self.field(&name)?;
                self.not_text(&field, "IN", &name)?;
                let values = values
                    .into_iter()
                    .map(|v| typed(&field, v))
                    .collect::<Result<_, _>>()?;
                Filter::In(field, values, negated)
            }
            Expr::Between {
                name,
                negated,
                low,
                high,
            } => self.between(name, negated, low, high)?,
            Expr::StartsWith {
                name,
                negated,
                prefix,
            } => {
                let field = self.field(&name)?;
                if field.value_type() != SearchAttributeType::Keyword {
                    return Err(not_supported("STARTS_WITH", &field, name.pos));
                }
                match typed(&field, prefix)? {
                    SearchAttributeValue::Keyword(p) => Filter::StartsWith(field, p, negated),
                    _ => return Err(not_supported("STARTS_WITH", &field, name.pos)),
                }
            }
            Expr::IsNull { name, negated } => Filter::IsNull(self.field(&name)?, !negated),
        })
    }

    fn filters(&self, parts: Vec<Expr>) -> Result<Vec<Filter>, QueryError> {
        parts.into_iter().map(|e| self.filter(e)).collect()
    }

    fn between(
        &self,
        name: At<String>,
        negated: bool,
        low: At<Literal>,
        high: At<Literal>,
    ) -> Result<Filter, QueryError> {
        let field = self.field(&name)?;
        self.not_text(&field, "BETWEEN", &name)?;
        self.not_bool(&field, "BETWEEN", &name)?;
        let inside = Filter::And(vec![
            Filter::Compare(field.clone(), Op::Ge, typed(&field, low)?),
            Filter::Compare(field.clone(), Op::Le, typed(&field, high)?),
        ]);
        if !negated {
            return Ok(inside);
        }
        let Filter::And(parts) = inside else {
            return Ok(inside);
        };
        // NOT BETWEEN: below or above (an unset attribute matches neither).
        Ok(Filter::Or(
            parts
                .into_iter()
                .map(|f| match f {
                    Filter::Compare(f, Op::Ge, v) => Filter::Compare(f, Op::Lt, v),
                    Filter::Compare(f, _, v) => Filter::Compare(f, Op::Gt, v),
                    other => other,
                })
                .collect(),
        ))
    }

    fn op(&self, field: &Field, op: &'static str, name: &At<String>) -> Result<Op, QueryError> {
        let op = match op {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            _ => Op::Ge,
        };
        if !matches!(op, Op::Eq | Op::Ne) {
            self.not_text(field, "range", name)?;
            self.not_bool(field, "range", name)?;
        }
        Ok(op)
    }

    fn not_text(&self, field: &Field, what: &str, name: &At<String>) -> Result<(), QueryError> {
        match field.value_type() {
            SearchAttributeType::Text => Err(not_supported(what, field, name.pos)),
            _ => Ok(()),
        }
    }

    fn not_bool(&self, field: &Field, what: &str, name: &At<String>) -> Result<(), QueryError> {
        match field.value_type() {
            SearchAttributeType::Bool => Err(not_supported(what, field, name.pos)),
            _ => Ok(()),
        }
    }
}

fn not_supported(what: &str, field: &Field, pos: usize) -> QueryError {
    QueryError::new(
        pos,
        format!(
            "operator '{what}' not supported for {} type search attribute '{}'",
            field.value_type(),
            field.name()
        ),
    )
}

/// `literal` as a value of `field`'s type, or Temporal's error.
fn typed(field: &Field, literal: At<Literal>) -> Result<SearchAttributeValue, QueryError> {
    use SearchAttributeType as T;
    use SearchAttributeValue as V;
    let pos = literal.pos;
    let mismatch = |literal: &Literal| {
        let (shown, kind) = match literal {
            Literal::Str(s) => (format!("{s:?}"), "string"),
            Literal::Int(i) => (i.to_string(), "int64"),
            Literal::Float(f) => (f.to_string(), "float64"),
            Literal::Bool(b) => (b.to_string(), "bool"),
        };
        QueryError::new(
            pos,
            format!(
                "invalid value type for search attribute {} of type {}: {shown} (type: {kind})",
                field.name(),
                field.value_type()
            ),
        )
    };
    Ok(match (field.value_type(), literal.value) {
        (T::Keyword, Literal::Str(s)) if *field == Field::ExecutionStatus => {
            status(&s).map_err(|m| QueryError::new(pos, m))?;
            V::Keyword(s)
        }
        (T::Keyword, Literal::Str(s)) => V::Keyword(s),
        (T::Text, Literal::Str(s)) => V::Text(s),
        (T::Int, Literal::Int(i)) => V::Int(i),
        (T::Double, Literal::Int(i)) => V::Double(i as f64),
        (T::Double, Literal::Float(f)) => V::Double(f),
        (T::Bool, Literal::Bool(b)) => V::Bool(b),
        (T::Datetime, Literal::Str(s)) => {
            V::Datetime(datetime(&s).map_err(|m| QueryError::new(pos, m))?)
        }
        (_, other) => return Err(mismatch(&other)),
    })
}

/// An RFC 3339 time (Temporal refuses anything else, dates alone included).
fn datetime(text: &str) -> Result<std::time::SystemTime, String> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text).map_err(|_| {
        format!("unable to parse datetime '{text}' (expected RFC 3339, e.g. 2026-01-02T03:04:05Z)")
    })?;
    let nanos = parsed
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("datetime '{text}' is out of range (years 1678 to 2262)"))?;
    Ok(from_unix_nanos(nanos))
}

/// The status a name stands for (exactly as Temporal spells it).
pub(crate) fn status(name: &str) -> Result<RunStatus, String> {
    Ok(match name {
        "Running" => RunStatus::Running,
        "Completed" => RunStatus::Completed,
        "Failed" => RunStatus::Failed,
        "Canceled" => RunStatus::Canceled,
        "Terminated" => RunStatus::Terminated,
        "ContinuedAsNew" => RunStatus::ContinuedAsNew,
        "TimedOut" => RunStatus::TimedOut,
        _ => {
            return Err(format!(
                "invalid ExecutionStatus value '{name}' (one of Running, Completed, Failed, \
                 Canceled, Terminated, ContinuedAsNew, TimedOut)"
            ));
        }
    })
}

/// The name Temporal gives a status.
pub fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Running",
        RunStatus::Completed => "Completed",
        RunStatus::Failed => "Failed",
        RunStatus::Canceled => "Canceled",
        RunStatus::Terminated => "Terminated",
        RunStatus::ContinuedAsNew => "ContinuedAsNew",
        RunStatus::TimedOut => "TimedOut",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> BTreeMap<String, SearchAttributeType> {
        [
            ("CustomerId", SearchAttributeType::Keyword),
            ("OrderCount", SearchAttributeType::Int),
            ("Amount", SearchAttributeType::Double),
            ("IsVip", SearchAttributeType::Bool),
            ("DueAt", SearchAttributeType::Datetime),
            ("Notes", SearchAttributeType::Text),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect()
    }

    fn error(query: &str) -> String {
        plan(query, &registry()).unwrap_err().to_string()
    }

    #[test]
    fn errors_read_as_temporals() {
        assert!(error("Foo='x'").contains("invalid search attribute: Foo"));
        assert!(error("workflowtype='x'").contains("invalid search attribute: workflowtype"));
        assert!(error("OrderCount='abc'").contains(
            "invalid value type for search attribute OrderCount of type Int: \"abc\" (type: string)"
        ));
        assert!(error("CustomerId=1").contains("of type Keyword: 1 (type: int64)"));
        assert!(
            error("StartTime > 'not-a-date'").contains("unable to parse datetime 'not-a-date'")
        );
        assert!(error("StartTime > '2026-01-01'").contains("unable to parse datetime"));
        assert!(
            error("ExecutionStatus='running'").contains("invalid ExecutionStatus value 'running'")
        );
        assert!(
            error("GROUP BY WorkflowType")
                .contains("'GROUP BY' clause is not supported for search attribute WorkflowType")
        );
        assert!(
            error("OrderCount STARTS_WITH 'a'").contains("operator 'STARTS_WITH' not supported")
        );
        assert!(error("Notes > 'a'").contains("not supported for Text"));
        assert!(error("IsVip BETWEEN true AND false").contains("not supported for Bool"));
    }

    #[test]
    fn the_error_points_at_the_offending_token() {
        let e = plan("WorkflowId = 'a' AND Foo = 'x'", &registry()).unwrap_err();
        assert_eq!(e.position, 22);
        let e = plan("OrderCount = 'abc'", &registry()).unwrap_err();
        assert_eq!(e.position, 14);
    }

    #[test]
    fn values_take_their_attributes_types() {
        let p = plan(
            "Amount > 9 AND DueAt < '2030-01-02T03:04:05+01:00'",
            &registry(),
        )
        .unwrap();
        let Some(Filter::And(parts)) = p.filter else {
            panic!("and")
        };
        assert_eq!(
            parts[0],
            Filter::Compare(
                Field::Custom("Amount".into(), SearchAttributeType::Double),
                Op::Gt,
                SearchAttributeValue::Double(9.0)
            )
        );
        let Filter::Compare(_, _, SearchAttributeValue::Datetime(t)) = &parts[1] else {
            panic!("datetime")
        };
        let expected = chrono::DateTime::parse_from_rfc3339("2030-01-02T02:04:05Z").unwrap();
        assert_eq!(
            crate::search_attributes::to_unix_nanos(*t),
            expected.timestamp_nanos_opt()
        );
    }

    #[test]
    fn not_between_is_below_or_above() {
        let p = plan("OrderCount NOT BETWEEN 3 AND 10", &registry()).unwrap();
        let Some(Filter::Or(parts)) = p.filter else {
            panic!("or")
        };
        assert!(matches!(parts[0], Filter::Compare(_, Op::Lt, _)));
        assert!(matches!(parts[1], Filter::Compare(_, Op::Gt, _)));
    }
}
