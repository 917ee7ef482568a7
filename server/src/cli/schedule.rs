//! `weft schedule …`: a namespace's schedules through the client's
//! schedule API ([`weft::ScheduleHandle`]), on a server; `list` and
//! `describe` also read a file (`--db`), read-only, as the engine would
//! answer them.

use std::time::{Duration, SystemTime};

use clap::ArgMatches;
use weft::Client;
use weft::schedule::{
    Backfill, IntervalSpec, OverlapPolicy, Schedule, ScheduleAction, ScheduleDescription,
    ScheduleSpec, StartWorkflowAction,
};

use super::CliError;
use super::output::{self, Format};
use super::source::Source;
use super::workflow::{arg, input, parse_time};

/// `weft schedule <command>`.
pub(crate) async fn run(m: &ArgMatches) -> Result<(), CliError> {
    let Some((command, sub)) = m.subcommand() else {
        return Err(CliError::Usage(
            "weft schedule needs a command: try --help".into(),
        ));
    };
    let source = Source::open(sub).await?;
    let format = Format::of(sub);
    match command {
        "list" => list(&source, format).await,
        "describe" => {
            let id = arg(sub, "schedule-id").unwrap_or_default();
            describe(&source.describe_schedule(id).await?, format)
        }
        _ => {
            let Source::Server { client, .. } = &source else {
                return Err(CliError::Usage(format!(
                    "`weft schedule {command}` changes a schedule, which only the engine that \
                     holds the file does, and --db opens it read-only (list and describe read \
                     it): give the --address of a server on the file, or start one (weft server \
                     start --db FILE) if no process holds it"
                )));
            };
            act(client, command, sub, format).await
        }
    }
}

/// The commands that change a schedule, on a server.
async fn act(
    client: &Client,
    command: &str,
    sub: &ArgMatches,
    format: Format,
) -> Result<(), CliError> {
    let id = || arg(sub, "schedule-id").unwrap_or_default().to_string();
    match command {
        "create" => create(client, sub, format).await,
        "trigger" => {
            let overlap = overlap(sub)?;
            client.schedule_handle(id()).trigger_with(overlap).await?;
            done(format, "triggered", &id())
        }
        "pause" | "unpause" => {
            let handle = client.schedule_handle(id());
            let note = arg(sub, "note");
            if command == "pause" {
                handle.pause(note).await?;
                done(format, "paused", &id())
            } else {
                handle.unpause(note).await?;
                done(format, "unpaused", &id())
            }
        }
        "delete" => {
            client.schedule_handle(id()).delete().await?;
            done(format, "deleted", &id())
        }
        "backfill" => backfill(client, sub, format, &id()).await,
        other => Err(CliError::Usage(format!("no schedule command {other:?}"))),
    }
}

/// What a command that changes a schedule prints.
fn done(format: Format, what: &str, id: &str) -> Result<(), CliError> {
    if format == Format::Json {
        return output::json(&serde_json::json!({ "schedule_id": id, "done": what }));
    }
    output::line(format_args!("schedule {id} {what}"))
}

fn next_runs(times: &[SystemTime], n: usize) -> String {
    if times.is_empty() {
        return "-".into();
    }
    times
        .iter()
        .take(n)
        .map(|t| output::time(*t))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn list(source: &Source, format: Format) -> Result<(), CliError> {
    let entries = source.list_schedules().await?;
    if format == Format::Json {
        return output::json(&entries);
    }
    if entries.is_empty()
        && let Source::File { .. } = source
    {
        // Said on standard error: the table stays the server's.
        eprintln!(
            "weft: {} holds no schedules in namespace {:?}",
            source.describe_where(),
            source.namespace()
        );
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.schedule_id.clone(),
                e.workflow_type.clone(),
                if e.paused { "paused" } else { "active" }.into(),
                e.recent_actions.len().to_string(),
                next_runs(&e.next_action_times, 2),
                e.note.clone(),
            ]
        })
        .collect();
    output::table(
        &[
            "SCHEDULE ID",
            "WORKFLOW TYPE",
            "STATE",
            "RECENT",
            "NEXT RUNS",
            "NOTE",
        ],
        &rows,
    )
}

/// The spec in a few words: its intervals and cron expressions.
fn spec_text(spec: &ScheduleSpec) -> String {
    let mut parts: Vec<String> = spec
        .intervals
        .iter()
        .map(|i| format!("every {}", duration_text(i.every)))
        .collect();
    parts.extend(spec.cron_expressions.iter().map(|c| format!("cron {c:?}")));
    if !spec.calendars.is_empty() {
        parts.push(format!("{} calendar(s)", spec.calendars.len()));
    }
    if let Some(zone) = &spec.time_zone {
        parts.push(format!("in {zone}"));
    }
    parts.join(", ")
}

fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if d.subsec_nanos() != 0 || s == 0 => format!("{d:?}"),
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

fn describe(d: &ScheduleDescription, format: Format) -> Result<(), CliError> {
    if format == Format::Json {
        return output::json(d);
    }
    let ScheduleAction::StartWorkflow(action) = &d.schedule.action;
    let state = &d.schedule.state;
    let recent = d
        .info
        .recent_actions
        .iter()
        .map(|a| format!("{} {:?}", a.workflow.workflow_id, a.status))
        .collect::<Vec<_>>();
    let running = d
        .info
        .running_actions
        .iter()
        .map(|r| r.workflow_id.clone())
        .collect::<Vec<_>>();
    let or_dash = |v: Vec<String>| {
        if v.is_empty() {
            "-".into()
        } else {
            v.join(", ")
        }
    };
    output::pairs(&[
        ("Schedule id", d.schedule_id.clone()),
        ("Workflow type", action.workflow_type.clone()),
        ("Workflow id", format!("{}-<time>", action.workflow_id)),
        ("Task queue", action.task_queue.clone()),
        ("Spec", spec_text(&d.schedule.spec)),
        ("Overlap", format!("{:?}", d.schedule.policies.overlap)),
        (
            "State",
            if state.paused { "paused" } else { "active" }.into(),
        ),
        (
            "Note",
            if state.note.is_empty() {
                "-".into()
            } else {
                state.note.clone()
            },
        ),
        ("Actions taken", d.info.num_actions.to_string()),
        ("Running", or_dash(running)),
        ("Recent actions", or_dash(recent)),
        ("Next runs", next_runs(&d.info.next_action_times, 5)),
        ("Created", output::maybe_time(d.info.created_at)),
        ("Updated", output::maybe_time(d.info.last_updated_at)),
        ("Errors", or_dash(d.info.errors.clone())),
    ])?;
    Ok(())
}

fn overlap(m: &ArgMatches) -> Result<Option<OverlapPolicy>, CliError> {
    let Some(text) = arg(m, "overlap") else {
        return Ok(None);
    };
    Ok(Some(match text {
        "skip" => OverlapPolicy::Skip,
        "buffer-one" => OverlapPolicy::BufferOne,
        "buffer-all" => OverlapPolicy::BufferAll,
        "cancel-other" => OverlapPolicy::CancelOther,
        "terminate-other" => OverlapPolicy::TerminateOther,
        "allow-all" => OverlapPolicy::AllowAll,
        other => {
            return Err(CliError::Usage(format!(
                "--overlap {other:?}: expected skip, buffer-one, buffer-all, cancel-other, \
                 terminate-other or allow-all"
            )));
        }
    }))
}

/// `90s`, `15m`, `2h`, `1d`.
fn parse_interval(text: &str) -> Result<Duration, CliError> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 && seconds > 0 => Ok(Duration::from_secs(n.saturating_mul(seconds))),
        _ => Err(CliError::Usage(format!(
            "--interval {text:?}: expected a positive number and a unit: 90s, 15m, 2h, 1d"
        ))),
    }
}

fn spec(m: &ArgMatches) -> Result<ScheduleSpec, CliError> {
    let intervals = m
        .get_many::<String>("interval")
        .into_iter()
        .flatten()
        .map(|t| parse_interval(t).map(IntervalSpec::every))
        .collect::<Result<Vec<_>, _>>()?;
    let cron_expressions: Vec<String> = m
        .get_many::<String>("cron")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if intervals.is_empty() && cron_expressions.is_empty() {
        return Err(CliError::Usage(
            "a schedule needs times: give --interval (e.g. 1h) or --cron (e.g. \"0 9 * * *\")"
                .into(),
        ));
    }
    Ok(ScheduleSpec {
        intervals,
        cron_expressions,
        time_zone: arg(m, "time-zone").map(str::to_string),
        ..ScheduleSpec::default()
    })
}

async fn create(client: &Client, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let id = arg(m, "schedule-id").unwrap_or_default().to_string();
    let action = ScheduleAction::StartWorkflow(StartWorkflowAction {
        workflow_type: arg(m, "type").unwrap_or_default().to_string(),
        workflow_id: arg(m, "workflow-id").unwrap_or(&id).to_string(),
        task_queue: arg(m, "task-queue").unwrap_or_default().to_string(),
        input: input(m)?,
        options: Default::default(),
    });
    let mut schedule = Schedule::new(action, spec(m)?);
    if let Some(policy) = overlap(m)? {
        schedule = schedule.overlap(policy);
    }
    if let Some(note) = arg(m, "note") {
        schedule = schedule.note(note);
    }
    schedule.state.paused = m.get_flag("paused");
    let handle = client.create_schedule(id.clone(), schedule).await?;
    if format == Format::Json {
        return describe(&handle.describe().await?, format);
    }
    let next = handle.describe().await?.info.next_action_times;
    output::line(format_args!(
        "schedule {id} created; next runs: {}",
        next_runs(&next, 3)
    ))
}

async fn backfill(
    client: &Client,
    m: &ArgMatches,
    format: Format,
    id: &str,
) -> Result<(), CliError> {
    let start_at = parse_time("start", arg(m, "start").unwrap_or_default())?;
    let end_at = parse_time("end", arg(m, "end").unwrap_or_default())?;
    if end_at < start_at {
        return Err(CliError::Usage(
            "--end is before --start: the range runs from --start to --end".into(),
        ));
    }
    let range = Backfill {
        start_at,
        end_at,
        overlap: overlap(m)?,
    };
    client.schedule_handle(id).backfill([range]).await?;
    done(
        format,
        &format!(
            "backfilled from {} to {}",
            output::time(start_at),
            output::time(end_at)
        ),
        id,
    )
}
