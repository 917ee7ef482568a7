//! The one evaluator: whether a run matches a typed filter, the order
//! runs are listed in, and counts. Every store answers through it (the
//! SQLite store only narrows the rows it reads with its indexes first).

use std::cmp::Ordering;

use super::plan::{Field, Filter, Op, Plan, status_name};
use super::{CountGroup, WorkflowExecutionCount, WorkflowExecutionInfo};
use crate::search_attributes::SearchAttributeValue as V;

/// The value a run has for `field`, if any.
pub(crate) fn value_of(run: &WorkflowExecutionInfo, field: &Field) -> Option<V> {
    Some(match field {
        Field::WorkflowId => V::Keyword(run.workflow_id.clone()),
        Field::RunId => V::Keyword(run.run_id.clone()),
        Field::WorkflowType => V::Keyword(run.workflow_type.clone()),
        Field::TaskQueue => V::Keyword(run.task_queue.clone()),
        Field::ExecutionStatus => V::Keyword(status_name(run.status).to_string()),
        Field::StartTime => V::Datetime(run.start_time),
        Field::CloseTime => V::Datetime(run.close_time?),
        Field::Custom(name, t) => {
            let value = run.search_attributes.get_value(name)?;
            // A value stored under another type (the registration changed)
            // is as good as none.
            if value.value_type() != *t {
                return None;
            }
            value.clone()
        }
    })
}

/// Orders two values of one type (`None` across types).
fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Keyword(a), V::Keyword(b)) | (V::Text(a), V::Text(b)) => Some(a.cmp(b)),
        (V::Int(a), V::Int(b)) => Some(a.cmp(b)),
        (V::Double(a), V::Double(b)) => a.partial_cmp(b),
        (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
        (V::Datetime(a), V::Datetime(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// The lowercase words of a text.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Text `=`: every word queried is a word of the value.
fn text_matches(value: &str, query: &str) -> bool {
    let have: Vec<String> = words(value).collect();
    let mut wanted = words(query).peekable();
    wanted.peek().is_some() && wanted.all(|w| have.contains(&w))
}

fn holds(op: Op, have: &V, want: &V) -> bool {
    if let (V::Text(have), V::Text(want)) = (have, want) {
        return match op {
            Op::Eq => text_matches(have, want),
            Op::Ne => !text_matches(have, want),
            _ => false,
        };
    }
    let Some(ord) = compare(have, want) else {
        return false;
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

/// Whether `run` matches `filter`. An unset attribute matches no
/// comparison (as a SQL NULL), only `IS NULL`.
pub fn matches(filter: &Filter, run: &WorkflowExecutionInfo) -> bool {
    match filter {
        Filter::And(parts) => parts.iter().all(|f| matches(f, run)),
        Filter::Or(parts) => parts.iter().any(|f| matches(f, run)),
        Filter::Compare(field, op, want) => {
            value_of(run, field).is_some_and(|have| holds(*op, &have, want))
        }
        Filter::In(field, values, negated) => value_of(run, field)
            .is_some_and(|have| values.iter().any(|v| holds(Op::Eq, &have, v)) != *negated),
        Filter::StartsWith(field, prefix, negated) => {
            value_of(run, field).is_some_and(|have| match have {
                V::Keyword(s) => s.starts_with(prefix.as_str()) != *negated,
                _ => false,
            })
        }
        Filter::IsNull(field, null) => value_of(run, field).is_none() == *null,
    }
}

/// Temporal's default order: open runs first, newest start first; then
/// closed runs, latest close first. Ties: the later run id (run ids are
/// time-ordered) first.
fn default_order(a: &WorkflowExecutionInfo, b: &WorkflowExecutionInfo) -> Ordering {
    let rank = |r: &WorkflowExecutionInfo| r.close_time.is_some();
    rank(a)
        .cmp(&rank(b))
        .then_with(|| match (a.close_time, b.close_time) {
            (Some(x), Some(y)) => y.cmp(&x),
            _ => b.start_time.cmp(&a.start_time),
        })
        .then_with(|| b.run_id.cmp(&a.run_id))
}

/// Orders by `keys`; a run without a value for a key comes after those
/// with one, either direction.
fn by_keys(
    keys: &[(Field, bool)],
    a: &WorkflowExecutionInfo,
    b: &WorkflowExecutionInfo,
) -> Ordering {
    for (field, descending) in keys {
        let ord = match (value_of(a, field), value_of(b, field)) {
            (Some(x), Some(y)) => {
                let ord = compare(&x, &y).unwrap_or(Ordering::Equal);
                if *descending { ord.reverse() } else { ord }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    default_order(a, b)
}

/// The runs of `rows` that match, in the plan's order.
pub fn list(plan: &Plan, rows: Vec<WorkflowExecutionInfo>) -> Vec<WorkflowExecutionInfo> {
    let mut out: Vec<_> = rows
        .into_iter()
        .filter(|r| plan.filter.as_ref().is_none_or(|f| matches(f, r)))
        .collect();
    out.sort_by(|a, b| by_keys(&plan.order_by, a, b));
    out
}

/// How many of `rows` match, grouped by status when the plan says so.
pub fn count(plan: &Plan, rows: &[WorkflowExecutionInfo]) -> WorkflowExecutionCount {
    let mut total = 0;
    let mut groups: Vec<CountGroup> = Vec::new();
    for run in rows {
        if !plan.filter.as_ref().is_none_or(|f| matches(f, run)) {
            continue;
        }
        total += 1;
        if plan.group_by_status {
            let value = V::Keyword(status_name(run.status).to_string());
            match groups.iter_mut().find(|g| g.values[0] == value) {
                Some(g) => g.count += 1,
                None => groups.push(CountGroup {
                    values: vec![value],
                    count: 1,
                }),
            }
        }
    }
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| compare(&a.values[0], &b.values[0]).unwrap_or(Ordering::Equal))
    });
    WorkflowExecutionCount {
        count: total,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_matches_words_case_insensitively() {
        assert!(text_matches("rush order please", "rush"));
        assert!(text_matches("Rush, order!", "ORDER rush"));
        assert!(!text_matches("rush order", "rushed"));
        assert!(!text_matches("rush order", ""));
    }
}
