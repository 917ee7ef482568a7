//! The command line's grammar (clap's builder API: its derive would bring
//! a second `syn`).

use clap::{Arg, ArgAction, Command};

fn workflow_id() -> Arg {
    Arg::new("workflow-id")
        .short('w')
        .long("workflow-id")
        .required(true)
        .help("The workflow id")
}

fn run_id() -> Arg {
    Arg::new("run-id")
        .short('r')
        .long("run-id")
        .help("The run (default: the workflow id's latest)")
}

fn input() -> Arg {
    Arg::new("input")
        .short('i')
        .long("input")
        .help("The argument, as JSON (none when omitted)")
}

fn name(what: &'static str) -> Arg {
    Arg::new("name")
        .short('n')
        .long("name")
        .required(true)
        .help(what)
}

/// Where the commands read and act: a server, or a SQLite file.
fn target_args(command: Command) -> Command {
    command
        .arg(
            Arg::new("address")
                .long("address")
                .global(true)
                .env("WEFT_ADDRESS")
                .help("A weft server, host:port [default 127.0.0.1:7233 when no --db]"),
        )
        .arg(
            Arg::new("db")
                .long("db")
                .global(true)
                .conflicts_with("address")
                .help("Read a SQLite file directly, read-only (no server needed)"),
        )
        .arg(
            Arg::new("namespace")
                .long("namespace")
                .global(true)
                .default_value("default")
                .help("Namespace"),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .global(true)
                .value_parser(["table", "json"])
                .default_value("table")
                .help("Tables for people, JSON for scripts"),
        )
        .arg(
            Arg::new("tls-ca")
                .long("tls-ca")
                .global(true)
                .help("PEM CA of the server's certificate (turns TLS on)"),
        )
        .arg(
            Arg::new("tls-cert")
                .long("tls-cert")
                .global(true)
                .help("PEM client certificate, for mutual TLS"),
        )
        .arg(
            Arg::new("tls-key")
                .long("tls-key")
                .global(true)
                .help("PEM key of the client certificate"),
        )
        .arg(
            Arg::new("tls-domain")
                .long("tls-domain")
                .global(true)
                .help("Name on the server's certificate (default: the address's host)"),
        )
        .arg(
            Arg::new("encryption-key")
                .long("encryption-key")
                .global(true)
                .value_name("ID=FILE")
                .action(ArgAction::Append)
                .help(
                    "A key of the workers' EncryptionCodec (its id, and a file of 32 bytes, raw or \
                     64 hex digits), to show payloads decoded and encode --input as they do \
                     (repeatable; the first is the current one)",
                ),
        )
}

fn workflow_command() -> Command {
    let id = || Command::new("").arg(workflow_id()).arg(run_id());
    let with_id = |name: &'static str, about: &'static str| id().name(name).about(about);
    Command::new("workflow")
        .about("List, inspect and drive workflows")
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .about("List runs, newest first")
                .arg(Arg::new("status").long("status").help(
                    "Running, Completed, Failed, Canceled, Terminated, TimedOut or ContinuedAsNew",
                ))
                .arg(
                    Arg::new("type")
                        .long("type")
                        .help("Only this workflow type"),
                )
                .arg(
                    Arg::new("since").long("since").help(
                        "Started at or after: RFC 3339 time, or an age such as 90s, 15m, 2h, 3d",
                    ),
                )
                .arg(
                    Arg::new("before")
                        .long("before")
                        .help("Started before: RFC 3339 time, or an age"),
                )
                .arg(
                    Arg::new("limit")
                        .long("limit")
                        .value_parser(clap::value_parser!(usize))
                        .help("At most this many"),
                ),
        )
        .subcommand(with_id(
            "describe",
            "Status, times, pending work and run chain of a run",
        ))
        .subcommand(with_id("show", "The run's event history"))
        .subcommand(with_id(
            "result",
            "Wait for the run to close and print its result or failure",
        ))
        .subcommand(
            with_id("signal", "Send a signal")
                .arg(name("Signal name"))
                .arg(input()),
        )
        .subcommand(
            with_id("query", "Query a run")
                .arg(name("Query name"))
                .arg(input()),
        )
        .subcommand(
            with_id("update", "Send an update and wait for its result")
                .arg(name("Update name"))
                .arg(input()),
        )
        .subcommand(
            with_id("cancel", "Ask the run to cancel").arg(
                Arg::new("reason")
                    .long("reason")
                    .default_value("canceled from the weft CLI"),
            ),
        )
        .subcommand(
            with_id("terminate", "Terminate the run at once").arg(
                Arg::new("reason")
                    .long("reason")
                    .default_value("terminated from the weft CLI"),
            ),
        )
}

fn server_command() -> Command {
    Command::new("server")
        .about("Run a weft server")
        .subcommand_required(true)
        .subcommand(
            Command::new("start")
                .about("Serve an engine on a SQLite file (or in memory) to clients, workers, the CLI and the UI")
                .arg(Arg::new("db").long("db").help("The SQLite file (created if missing)"))
                .arg(Arg::new("memory").long("memory").action(ArgAction::SetTrue).conflicts_with("db").help("Keep everything in memory (lost on exit)"))
                .arg(Arg::new("address").long("address").default_value(crate::config::DEFAULT_ADDRESS).help("host:port to listen on"))
                .arg(Arg::new("tls-cert").long("tls-cert").requires("tls-key").help("PEM certificate chain of the server (turns TLS on)"))
                .arg(Arg::new("tls-key").long("tls-key").requires("tls-cert").help("PEM private key of the server"))
                .arg(Arg::new("tls-client-ca").long("tls-client-ca").requires("tls-cert").help("PEM CA that client certificates must chain to (mutual TLS)"))
                .arg(Arg::new("namespace").long("namespace").action(ArgAction::Append).help("Serve only this namespace (repeatable)"))
                .arg(Arg::new("tls-client-namespace").long("tls-client-namespace").value_name("NAME=NAMESPACE").action(ArgAction::Append).requires("tls-client-ca").help(
                    "Let client certificates valid for NAME (a DNS name on them) use NAMESPACE (repeatable); \
                     once given, a certificate may use only its names' namespaces",
                ))
                .arg(Arg::new("long-poll").long("long-poll").value_parser(clap::value_parser!(u64)).default_value("30").help("Seconds a worker's long poll waits for a task"))
                .arg(Arg::new("encryption-key").long("encryption-key").value_name("ID=FILE").action(ArgAction::Append).help(
                    "A key of the payloads' EncryptionCodec, so the web UI shows them decoded: the key id the \
                     workers use and a file of 32 bytes (raw, or 64 hex digits). Repeat for older keys; the \
                     first is the current one",
                )),
        )
}

fn history_command() -> Command {
    Command::new("history")
        .about("Event histories: export them, check and replay them")
        .subcommand_required(true)
        .subcommand(
            Command::new("export")
                .about("Write a run's history as JSON (format weft-history, version 1), the file `weft history replay` and weft::replay::Replayer read")
                .arg(workflow_id())
                .arg(run_id())
                .arg(Arg::new("file").short('f').long("file").help("Write here (default: standard output)"))
                .arg(Arg::new("progress").long("progress").action(ArgAction::SetTrue).help(
                    "Report progress (events written / total) on standard error even when it is not a terminal",
                )),
        )
        .subcommand(
            Command::new("replay")
                .about("Check a history: an exported file (--file) or a run's (--workflow-id)")
                .long_about(REPLAY_ABOUT)
                .arg(Arg::new("file").short('f').long("file").conflicts_with("workflow-id").required_unless_present("workflow-id").help("An exported history (weft history export, or WorkflowHandle::history_json)"))
                .arg(Arg::new("workflow-id").short('w').long("workflow-id").help("The run of this workflow id, read from the server or the --db file"))
                .arg(run_id()),
        )
}

/// What `weft history replay --help` says about what it checks.
const REPLAY_ABOUT: &str =
    "Check a history: an exported file (--file), or a run's history read from \
a server or a --db file (--workflow-id).

Always checked: the file is JSON in a known format (weft-history version 1, or the bare event \
array WorkflowHandle::history_json writes), every event is one this weft knows, the first is \
WorkflowExecutionStarted, and event ids run 1, 2, 3... with none missing.

Replaying against workflow code needs that code, which this `weft` binary does not have. Build \
the same command line into a binary of your own, with your workflows registered:

    fn main() -> std::process::ExitCode {
        let mut replayer = weft::replay::Replayer::new();
        replayer.register_workflow::<MyWorkflow>();
        weft_server::cli::Cli::new().replayer(replayer).run()
    }

Its `history replay` then also replays each history against the registered code and fails on \
nondeterminism, as weft::replay::Replayer does in a test.";

fn schedule_id() -> Arg {
    Arg::new("schedule-id")
        .short('s')
        .long("schedule-id")
        .required(true)
        .help("The schedule id")
}

fn overlap() -> Arg {
    Arg::new("overlap")
        .long("overlap")
        .value_parser([
            "skip",
            "buffer-one",
            "buffer-all",
            "cancel-other",
            "terminate-other",
            "allow-all",
        ])
        .help("Overlap policy (default: the schedule's; for create: skip)")
}

fn note() -> Arg {
    Arg::new("note").long("note").help("A note saying why")
}

fn schedule_create() -> Command {
    Command::new("create")
        .about("Create a schedule that starts a workflow at the times of an interval or a cron expression")
        .arg(schedule_id())
        .arg(Arg::new("type").long("type").required(true).help("The workflow type it starts"))
        .arg(Arg::new("task-queue").long("task-queue").short('t').required(true).help("Task queue of the workflows it starts"))
        .arg(Arg::new("workflow-id").short('w').long("workflow-id").help(
            "Each started workflow's id begins with this, then the action's time (default: the schedule id)",
        ))
        .arg(Arg::new("input").short('i').long("input").help("The workflow's argument, as JSON (none when omitted)"))
        .arg(Arg::new("interval").long("interval").action(ArgAction::Append).help(
            "Every this long, since the Unix epoch: 90s, 15m, 2h, 1d (repeatable)",
        ))
        .arg(Arg::new("cron").long("cron").action(ArgAction::Append).help(
            "A cron expression, as Temporal reads it: \"0 9 * * MON-FRI\" (repeatable)",
        ))
        .arg(Arg::new("time-zone").long("time-zone").help("IANA zone cron expressions are read in (default UTC)"))
        .arg(overlap())
        .arg(Arg::new("paused").long("paused").action(ArgAction::SetTrue).help("Create it paused"))
        .arg(note())
}

fn schedule_command() -> Command {
    let with_id = |name: &'static str, about: &'static str| {
        Command::new(name).about(about).arg(schedule_id())
    };
    Command::new("schedule")
        .about("Schedules: create and drive them on a server; list and describe them on a server or a --db file")
        .subcommand_required(true)
        .subcommand(Command::new("list").about(
            "The namespace's schedules, with their next runs (on a server, or read-only from a --db file)",
        ))
        .subcommand(with_id(
            "describe",
            "A schedule, what it did, its next action times (on a server, or read-only from a --db file)",
        ))
        .subcommand(schedule_create())
        .subcommand(
            with_id("trigger", "Take the action now (a paused schedule too)").arg(overlap()),
        )
        .subcommand(with_id("pause", "Pause: no scheduled actions until unpaused").arg(note()))
        .subcommand(with_id("unpause", "Unpause (times that passed are not caught up)").arg(note()))
        .subcommand(with_id(
            "delete",
            "Delete the schedule (its workflows run on)",
        ))
        .subcommand(
            with_id(
                "backfill",
                "Take the action for every time of the spec in a past range, both ends included",
            )
            .arg(
                Arg::new("start")
                    .long("start")
                    .required(true)
                    .help("First time: RFC 3339, or an age such as 2h"),
            )
            .arg(
                Arg::new("end")
                    .long("end")
                    .required(true)
                    .help("Last time: RFC 3339, or an age such as 10m"),
            )
            .arg(overlap()),
        )
}

/// The whole command line.
pub fn command() -> Command {
    Command::new("weft")
        .about("weft: durable workflows. A server, and tools to see and drive workflows.")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg(
            Arg::new("log")
                .long("log")
                .global(true)
                .value_parser(["error", "warn", "info", "debug"])
                .help("How much to log on standard error [default: warn for `server start`, error for the other commands]"),
        )
        .subcommand(server_command())
        .subcommand(target_args(workflow_command()))
        .subcommand(target_args(history_command()))
        .subcommand(target_args(schedule_command()))
}
