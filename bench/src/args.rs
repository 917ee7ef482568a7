//! Command-line options, parsed by hand.

use std::path::PathBuf;
use std::time::Duration;

/// Usage text.
pub const USAGE: &str = "\
usage: weft-bench <scenario> [options]

scenarios:
  hello        N one-activity workflows, C in flight: workflows/s, latency p50/p99
  sequential   one workflow running N activities in a row (continue-as-new when
               suggested): time per step early and late
  fanout       one workflow with N parallel activities
  replay       rebuild an N-event history: events/s
  timers       N sleeping workflows firing over a window: RSS, lateness
  updates      N updates to one entity, C in flight, across continue-as-new

options:
  --n N                 workload size (per-scenario default)
  --c C                 requests in flight (per-scenario default)
  --store sqlite|memory store (default sqlite)
  --db PATH             SQLite file (must not exist; default target/bench/<scenario>.db,
                        replaced)
  --json PATH           JSON output (default target/bench/<scenario>.json)
  --no-group-commit     one transaction (one fsync) per step
  --cache N             workflows cached by the worker (default: 2 C, at least 1000)
  --wft-slots N         workflow tasks a worker holds at once (default: C, 4..=256)
  --activity-slots N    activities a worker runs at once (default: C, 100..=200)
  --delay SECS          timers: first firing this long after the start (default 10)
  --window SECS         timers: firings spread over this long (default 10)
  --remote              client and worker reach the engine through a weft server on a
                        loopback port (HTTP/2, JSON), as remote processes do
  --temporal HOST:PORT  hello: client and worker on a Temporal frontend (feature
                        `temporal`), e.g. a dev server
  --quiet               no progress lines";

/// The benchmark to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Many one-activity workflows.
    Hello,
    /// One workflow, many activities in a row.
    Sequential,
    /// One workflow, many activities at once.
    Fanout,
    /// Replaying a long history.
    Replay,
    /// Many workflows waiting on timers.
    Timers,
    /// Many updates to one workflow.
    Updates,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 6] = [
        Scenario::Hello,
        Scenario::Sequential,
        Scenario::Fanout,
        Scenario::Replay,
        Scenario::Timers,
        Scenario::Updates,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Hello => "hello",
            Scenario::Sequential => "sequential",
            Scenario::Fanout => "fanout",
            Scenario::Replay => "replay",
            Scenario::Timers => "timers",
            Scenario::Updates => "updates",
        }
    }

    fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| format!("unknown scenario {text:?}"))
    }

    /// The workload size when `--n` is not given.
    pub fn default_n(self) -> u64 {
        match self {
            Scenario::Hello | Scenario::Sequential | Scenario::Replay | Scenario::Updates => 10_000,
            Scenario::Fanout => 1_000,
            Scenario::Timers => 100_000,
        }
    }

    /// The requests in flight when `--c` is not given.
    pub fn default_c(self) -> usize {
        match self {
            Scenario::Hello | Scenario::Timers => 1_000,
            Scenario::Updates => 50,
            Scenario::Sequential | Scenario::Fanout | Scenario::Replay => 1,
        }
    }
}

/// Where the engine keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file (WAL, `synchronous=FULL`).
    Sqlite,
    /// Memory only.
    Memory,
}

/// One benchmark run's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// What to run.
    pub scenario: Scenario,
    /// Workload size.
    pub n: u64,
    /// Requests in flight.
    pub c: usize,
    /// Store kind.
    pub store: StoreKind,
    /// SQLite file; `None` for the default path, replaced on each run.
    pub db: Option<PathBuf>,
    /// JSON output; `None` for the default path.
    pub json: Option<PathBuf>,
    /// Group commit in the engine's writer.
    pub group_commit: bool,
    /// Workflows cached by the worker (`None`: from C).
    pub cache: Option<usize>,
    /// Workflow task slots of the worker (`None`: from C).
    pub wft_slots: Option<usize>,
    /// Activity slots of the worker (`None`: from C).
    pub activity_slots: Option<usize>,
    /// Timers: time from the start to the first firing.
    pub delay: Duration,
    /// Timers: firings spread over this long.
    pub window: Duration,
    /// Print progress lines on long runs.
    pub progress: bool,
    /// Client and worker talk to the engine through a weft server.
    pub remote: bool,
    /// Client and worker run on the Temporal frontend at this address.
    pub temporal: Option<String>,
}

impl Config {
    /// The defaults for `scenario`.
    pub fn new(scenario: Scenario) -> Self {
        Config {
            scenario,
            n: scenario.default_n(),
            c: scenario.default_c(),
            store: StoreKind::Sqlite,
            db: None,
            json: None,
            group_commit: true,
            cache: None,
            wft_slots: None,
            activity_slots: None,
            delay: Duration::from_secs(10),
            window: Duration::from_secs(10),
            progress: true,
            remote: false,
            temporal: None,
        }
    }

    /// Parses the arguments after the program name; `Ok(None)` asks for help.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
        let mut args = args.into_iter();
        let Some(first) = args.next() else {
            return Err("no scenario given".into());
        };
        if first == "-h" || first == "--help" {
            return Ok(None);
        }
        let mut config = Config::new(Scenario::parse(&first)?);
        while let Some(flag) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--n" => config.n = number(&flag, &value(&flag)?)?,
                "--c" => config.c = number(&flag, &value(&flag)?)?,
                "--store" => {
                    config.store = match value(&flag)?.as_str() {
                        "sqlite" => StoreKind::Sqlite,
                        "memory" => StoreKind::Memory,
                        other => {
                            return Err(format!("--store takes sqlite or memory, not {other:?}"));
                        }
                    }
                }
                "--db" => config.db = Some(PathBuf::from(value(&flag)?)),
                "--json" => config.json = Some(PathBuf::from(value(&flag)?)),
                "--no-group-commit" => config.group_commit = false,
                "--cache" => config.cache = Some(number(&flag, &value(&flag)?)?),
                "--wft-slots" => config.wft_slots = Some(number(&flag, &value(&flag)?)?),
                "--activity-slots" => {
                    config.activity_slots = Some(number(&flag, &value(&flag)?)?);
                }
                "--delay" => config.delay = seconds(&flag, &value(&flag)?)?,
                "--window" => config.window = seconds(&flag, &value(&flag)?)?,
                "--quiet" => config.progress = false,
                "--remote" => config.remote = true,
                "--temporal" => config.temporal = Some(value(&flag)?),
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if config.n == 0 || config.c == 0 {
            return Err("--n and --c must be at least 1".into());
        }
        Ok(Some(config))
    }

    /// Workflows cached: the flag, else room for twice C runs (closed
    /// runs stay cached too) and at least weft's default, 1,000.
    pub fn cache(&self) -> usize {
        self.cache.unwrap_or(self.c.saturating_mul(2).max(1000))
    }

    /// Workflow task slots: the flag, else C within 4..=256. A slot stays
    /// taken until the engine acknowledges its task's completion, after
    /// the commit; at C=1,000 commits queue behind each other, and 64
    /// slots held `hello` to 8,400 to 8,800 workflows/s where 128 and 256
    /// gave 10,200 to 12,300 in the same session.
    pub fn wft_slots(&self) -> usize {
        self.wft_slots.unwrap_or(self.c.clamp(4, 256)).max(1)
    }

    /// Activity slots: the flag, else C within 100..=200.
    pub fn activity_slots(&self) -> usize {
        self.activity_slots.unwrap_or(self.c.clamp(100, 200)).max(1)
    }

    /// Where results go: `$CARGO_TARGET_DIR/bench`, else `target/bench`.
    pub fn output_dir() -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("bench")
    }

    /// The JSON file this run writes.
    pub fn json_path(&self) -> PathBuf {
        self.json
            .clone()
            .unwrap_or_else(|| Config::output_dir().join(format!("{}.json", self.scenario.name())))
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag} takes a whole number, not {text:?}"))
}

fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{flag} takes seconds, not {text:?}"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{flag} takes seconds >= 0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Config>, String> {
        Config::parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn flags_override_the_scenario_defaults() {
        let c = parse("hello --n 20_000 --c 8 --store memory --no-group-commit")
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.n, c.c, c.store, c.group_commit),
            (20_000, 8, StoreKind::Memory, false)
        );
        let c = parse("fanout").unwrap().unwrap();
        assert_eq!((c.n, c.c), (1_000, 1));
        assert!(!c.remote);
        assert!(parse("hello --remote").unwrap().unwrap().remote);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse("").unwrap_err().contains("no scenario"));
        assert!(parse("nope").unwrap_err().contains("\"nope\""));
        assert!(parse("hello --n").unwrap_err().contains("needs a value"));
        assert!(parse("hello --n x").unwrap_err().contains("whole number"));
        assert!(
            parse("hello --store disk")
                .unwrap_err()
                .contains("sqlite or memory")
        );
        assert!(parse("hello --frob").unwrap_err().contains("--frob"));
        assert!(parse("hello --help").unwrap().is_none());
    }
}
