//! `weft workflow …`.

use std::time::{Duration, SystemTime};

use clap::ArgMatches;
use weft::Payload;
use weft::backend::{
    CancelRequest, ListFilter, QueryRequest, RunOutcome, RunStatus, SignalRequest,
    TerminateRequest, UpdateRequest,
};
use weft::history::{Event, EventAttributes};

use super::CliError;
use super::output::{self, Format};
use super::source::Source;

pub(crate) fn arg<'a>(m: &'a ArgMatches, name: &str) -> Option<&'a str> {
    m.get_one::<String>(name).map(String::as_str)
}

/// The workflow id (required by the grammar) and the optional run id.
pub(crate) fn ids(m: &ArgMatches) -> Result<(String, Option<String>), CliError> {
    let id =
        arg(m, "workflow-id").ok_or_else(|| CliError::Usage("--workflow-id is required".into()))?;
    Ok((id.to_string(), arg(m, "run-id").map(str::to_string)))
}

fn parse_status(text: &str) -> Result<RunStatus, CliError> {
    let names = [
        ("running", RunStatus::Running),
        ("completed", RunStatus::Completed),
        ("failed", RunStatus::Failed),
        ("canceled", RunStatus::Canceled),
        ("terminated", RunStatus::Terminated),
        ("timedout", RunStatus::TimedOut),
        ("continuedasnew", RunStatus::ContinuedAsNew),
    ];
    let wanted = text.to_ascii_lowercase().replace(['_', '-'], "");
    names
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, status)| *status)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--status {text:?}: expected Running, Completed, Failed, Canceled, Terminated, TimedOut or ContinuedAsNew"
            ))
        })
}

/// An RFC 3339 time, or an age before now (`90s`, `15m`, `2h`, `3d`).
pub(crate) fn parse_time(flag: &str, text: &str) -> Result<SystemTime, CliError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc).into());
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if seconds > 0 => SystemTime::now()
            .checked_sub(Duration::from_secs(n.saturating_mul(seconds)))
            .ok_or_else(|| CliError::Usage(format!("--{flag} {text}: too far back"))),
        _ => Err(CliError::Usage(format!(
            "--{flag} {text:?}: expected an RFC 3339 time (2026-12-06T13:00:00Z) or an age (90s, 15m, 2h, 3d)"
        ))),
    }
}

fn filter(m: &ArgMatches) -> Result<ListFilter, CliError> {
    Ok(ListFilter {
        namespace: super::source::namespace(m),
        status: arg(m, "status").map(parse_status).transpose()?,
        workflow_type: arg(m, "type").map(str::to_string),
        workflow_id: None,
        started_after: arg(m, "since")
            .map(|t| parse_time("since", t))
            .transpose()?,
        started_before: arg(m, "before")
            .map(|t| parse_time("before", t))
            .transpose()?,
        limit: m.get_one::<usize>("limit").copied(),
    })
}

/// `weft workflow <command>`.
pub(crate) async fn run(m: &ArgMatches) -> Result<(), CliError> {
    let Some((command, sub)) = m.subcommand() else {
        return Err(CliError::Usage(
            "weft workflow needs a command: try --help".into(),
        ));
    };
    let source = Source::open(sub).await?;
    let format = Format::of(sub);
    match command {
        "list" => list(&source, sub, format).await,
        "describe" => describe(&source, sub, format).await,
        "show" => show(&source, sub, format).await,
        "result" => result(&source, sub, format).await,
        "signal" | "query" | "update" => message(&source, command, sub, format).await,
        "cancel" | "terminate" => stop(&source, command, sub).await,
        other => Err(CliError::Usage(format!("no workflow command {other:?}"))),
    }
}

async fn list(source: &Source, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let runs = source.list(filter(m)?).await?;
    if format == Format::Json {
        return output::json(&runs);
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.workflow_id.clone(),
                r.run_id.clone(),
                r.workflow_type.clone(),
                format!("{:?}", r.status),
                output::time(r.start_time),
                output::maybe_time(r.close_time),
                r.task_queue.clone(),
            ]
        })
        .collect();
    output::table(
        &[
            "WORKFLOW ID",
            "RUN ID",
            "TYPE",
            "STATUS",
            "STARTED",
            "CLOSED",
            "TASK QUEUE",
        ],
        &rows,
    )
}

async fn describe(source: &Source, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let (id, run) = ids(m)?;
    let d = source.describe(&id, run.as_deref()).await?;
    if format == Format::Json {
        let memo: serde_json::Map<String, serde_json::Value> = d
            .memo
            .iter()
            .map(|(k, v)| (k.clone(), output::payload_value(v)))
            .collect();
        let mut value = serde_json::to_value(&d)
            .map_err(|e| CliError::Other(format!("cannot print as JSON: {e}")))?;
        value["memo"] = serde_json::Value::Object(memo);
        return output::json(&value);
    }
    let memo = d
        .memo
        .iter()
        .map(|(k, v)| format!("{k}={}", output::payload(v)))
        .collect::<Vec<_>>()
        .join(", ");
    output::pairs(&[
        ("Workflow id", d.workflow_id.clone()),
        ("Run id", d.run_id.clone()),
        ("Type", d.workflow_type.clone()),
        ("Task queue", d.task_queue.clone()),
        ("Status", format!("{:?}", d.status)),
        ("Started", output::time(d.start_time)),
        ("Closed", output::maybe_time(d.close_time)),
        ("Attempt", d.attempt.to_string()),
        ("History events", d.history_length.to_string()),
        ("Pending activities", d.pending_activities.to_string()),
        ("Pending children", d.pending_children.to_string()),
        ("Workflow task attempt", d.workflow_task_attempt.to_string()),
        (
            "Last task failure",
            d.last_workflow_task_failure
                .clone()
                .unwrap_or_else(|| "-".into()),
        ),
        ("Run chain", d.run_chain.join(" -> ")),
        ("Memo", if memo.is_empty() { "-".into() } else { memo }),
    ])?;
    Ok(())
}

/// The facts of an event worth a column: ids, names and payloads.
fn event_detail(event: &Event) -> String {
    let value = serde_json::to_value(&event.attributes).unwrap_or_default();
    match value.get("attributes") {
        Some(serde_json::Value::Object(map)) => {
            let mut text = serde_json::Value::Object(map.clone()).to_string();
            if text.chars().count() > 120 {
                text = text.chars().take(117).collect::<String>() + "...";
            }
            text
        }
        _ => String::new(),
    }
}

async fn show(source: &Source, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let (id, run) = ids(m)?;
    let events = source.history(&id, run.as_deref()).await?;
    if format == Format::Json {
        return output::json(&events);
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.event_id.to_string(),
                output::time(e.event_time),
                e.attributes.name().to_string(),
                event_detail(e),
            ]
        })
        .collect();
    output::table(&["ID", "TIME", "TYPE", "DETAILS"], &rows)
}

fn print_outcome(outcome: &RunOutcome, format: Format) -> Result<(), CliError> {
    let (status, value) = match outcome {
        RunOutcome::Completed(p) => ("Completed", output::payload_value(p)),
        RunOutcome::Failed(f) => ("Failed", format!("{f:#}").into()),
        RunOutcome::Canceled(f) => ("Canceled", format!("{f:#}").into()),
        RunOutcome::Terminated(f) => ("Terminated", format!("{f:#}").into()),
        RunOutcome::TimedOut(f) => ("TimedOut", format!("{f:#}").into()),
        RunOutcome::Retried { failure, .. } => ("Retried", format!("{failure:#}").into()),
        RunOutcome::ContinuedAsNew { new_run_id } => ("ContinuedAsNew", new_run_id.clone().into()),
    };
    if format == Format::Json {
        return output::json(&serde_json::json!({ "status": status, "result": value }));
    }
    let text = match value {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    output::pairs(&[("Status", status.to_string()), ("Result", text)])
}

/// A closed run's outcome from its last event (for a file, read without
/// an engine).
fn outcome_of(events: &[Event]) -> Option<RunOutcome> {
    let failure = |text: String| weft::Failure::Application(weft::ApplicationError::new(text));
    match &events.last()?.attributes {
        EventAttributes::WorkflowExecutionCompleted { result, .. } => {
            Some(RunOutcome::Completed(result.clone()))
        }
        EventAttributes::WorkflowExecutionFailed { failure, .. } => {
            Some(RunOutcome::Failed(failure.clone()))
        }
        other => Some(RunOutcome::Terminated(failure(format!(
            "closed by {}",
            serde_json::to_string(other).unwrap_or_default()
        )))),
    }
}

async fn result(source: &Source, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let (id, run) = ids(m)?;
    let outcome = match source {
        Source::Server { client, .. } => {
            client
                .backend()
                .wait_result(client.namespace(), &id, run.as_deref())
                .await?
        }
        Source::File { .. } => {
            let d = source.describe(&id, run.as_deref()).await?;
            if d.status == RunStatus::Running {
                return Err(CliError::Other(format!(
                    "workflow {id:?} is still running; a file is read-only: to wait for its result, ask a server (--address)"
                )));
            }
            let events = source.history(&id, Some(&d.run_id)).await?;
            outcome_of(&events)
                .ok_or_else(|| CliError::Other(format!("run {} has no events", d.run_id)))?
        }
    };
    print_outcome(&outcome, format)
}

pub(crate) fn input(m: &ArgMatches) -> Result<Vec<Payload>, CliError> {
    let Some(text) = arg(m, "input") else {
        return Ok(Vec::new());
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| CliError::Usage(format!("--input is not JSON: {e}")))?;
    let payload =
        weft::converter::encode(&value).map_err(|e| CliError::Other(format!("--input: {e}")))?;
    Ok(vec![payload])
}

async fn message(
    source: &Source,
    command: &str,
    m: &ArgMatches,
    format: Format,
) -> Result<(), CliError> {
    let client = source.client(command)?;
    let (workflow_id, run_id) = ids(m)?;
    let name = arg(m, "name").unwrap_or_default().to_string();
    let input = input(m)?;
    let namespace = client.namespace().to_string();
    let backend = client.backend();
    let answer = match command {
        "signal" => {
            let request = SignalRequest {
                namespace,
                workflow_id,
                run_id,
                signal_name: name,
                input,
                request_id: uuid_like(),
            };
            backend.signal_workflow(request).await?;
            output::line("signal sent")?;
            return Ok(());
        }
        "query" => {
            let request = QueryRequest {
                namespace,
                workflow_id,
                run_id,
                query_name: name,
                input,
            };
            backend.query_workflow(request).await?
        }
        _ => {
            let request = UpdateRequest {
                namespace,
                workflow_id,
                run_id,
                update_id: uuid_like(),
                name,
                input,
            };
            backend.update_workflow(request).await?
        }
    };
    if format == Format::Json {
        return output::json(&output::payload_value(&answer));
    }
    output::line(output::payload(&answer))
}

/// A request id unique enough for one CLI call.
fn uuid_like() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("weft-cli-{}-{nanos}", std::process::id())
}

async fn stop(source: &Source, command: &str, m: &ArgMatches) -> Result<(), CliError> {
    let client = source.client(command)?;
    let (workflow_id, run_id) = ids(m)?;
    let namespace = client.namespace().to_string();
    let reason = arg(m, "reason").unwrap_or_default().to_string();
    let backend = client.backend();
    if command == "cancel" {
        let request = CancelRequest {
            namespace,
            workflow_id,
            run_id,
            reason,
        };
        backend.request_cancel_workflow(request).await?;
        output::line("cancellation requested")?;
    } else {
        let request = TerminateRequest {
            namespace,
            workflow_id,
            run_id,
            reason,
            details: Vec::new(),
        };
        backend.terminate_workflow(request).await?;
        output::line("terminated")?;
    }
    Ok(())
}
