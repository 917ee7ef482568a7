//! What a run measured: settings, figures, their text and JSON forms, and
//! the helpers that compute them (percentiles, RSS).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

/// The store's commits so far, read off the engine's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Commits {
    /// How many.
    pub count: f64,
    /// Their operations, summed.
    pub ops: f64,
    /// Their durations, summed, in milliseconds.
    pub millis: f64,
}

impl Commits {
    /// Reads the commit histograms out of Prometheus text (zero when the
    /// engine records none).
    pub fn read(metrics: &str) -> Commits {
        let value = |name: &str| {
            metrics
                .lines()
                .find(|line| {
                    line.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with([' ', '{']))
                })
                .and_then(|line| line.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Commits {
            count: value("weft_store_commit_latency_count"),
            ops: value("weft_store_commit_batch_size_sum"),
            millis: value("weft_store_commit_latency_sum"),
        }
    }

    /// What was committed since `before`.
    pub fn since(&self, before: &Commits) -> Commits {
        Commits {
            count: self.count - before.count,
            ops: self.ops - before.ops,
            millis: self.millis - before.millis,
        }
    }
}

/// One measured number.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// What it measures (`throughput`, `latency_p50`, ...).
    pub name: String,
    /// The number.
    pub value: f64,
    /// Its unit (`workflows/s`, `ms`, ...).
    pub unit: String,
}

/// A run's settings and figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// Settings that shape the numbers, in the order they were set.
    pub settings: Vec<(String, String)>,
    /// Figures, in the order they were measured.
    pub figures: Vec<Figure>,
}

impl Report {
    /// An empty report for `scenario`.
    pub fn new(scenario: &str) -> Self {
        Report {
            scenario: scenario.to_string(),
            settings: Vec::new(),
            figures: Vec::new(),
        }
    }

    /// Records a setting.
    pub fn setting(&mut self, name: &str, value: impl ToString) {
        self.settings.push((name.to_string(), value.to_string()));
    }

    /// Records a figure.
    pub fn figure(&mut self, name: &str, value: f64, unit: &str) {
        self.figures.push(Figure {
            name: name.to_string(),
            value,
            unit: unit.to_string(),
        });
    }

    /// Records a duration as milliseconds.
    pub fn millis(&mut self, name: &str, value: Duration) {
        self.figure(name, value.as_secs_f64() * 1e3, "ms");
    }

    /// Records the p50, p99 and max of `samples` (sorted here) as ms.
    pub fn latencies(&mut self, prefix: &str, samples: &mut [Duration]) {
        samples.sort_unstable();
        for (label, p) in [("p50", 50.0), ("p99", 99.0), ("max", 100.0)] {
            if let Some(v) = percentile(samples, p) {
                self.millis(&format!("{prefix}_{label}"), v);
            }
        }
    }

    /// Records VmRSS and VmHWM of this process, when /proc tells them.
    pub fn memory(&mut self, prefix: &str) {
        if let Some(m) = Memory::now() {
            self.figure(&format!("{prefix}rss"), mib(m.rss_kib), "MiB");
            self.figure(&format!("{prefix}rss_peak"), mib(m.hwm_kib), "MiB");
        }
    }

    /// Records the CPU time each group of threads spent, per item of
    /// `count` (for example per workflow), and their sum.
    pub fn cpu_per(&mut self, spent: &ThreadCpu, count: u64, item: &str) {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / count.max(1) as f64;
        let unit = format!("µs/{item}");
        for (name, &ran) in &spent.by_name {
            self.figure(&format!("cpu_{name}"), per(ran), &unit);
        }
        self.figure("cpu_total", per(spent.by_name.values().sum()), &unit);
    }

    /// Records the store's commits over `wall`, per item of `count`: how
    /// many, how many operations each held, and the share of the time the
    /// writer spent committing (its fsyncs included).
    pub fn commits(&mut self, commits: &Commits, wall: Duration, count: u64, item: &str) {
        if commits.count <= 0.0 {
            return;
        }
        self.figure(
            "commits",
            commits.count / count.max(1) as f64,
            &format!("per {item}"),
        );
        self.figure("ops_per_commit", commits.ops / commits.count, "operations");
        self.figure("commit_mean", commits.millis / commits.count, "ms");
        self.figure(
            "writer_busy",
            commits.millis / 1e3 / wall.as_secs_f64() * 100.0,
            "% of the time",
        );
    }

    /// The value of the figure `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }

    /// Settings then one line per figure.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.settings {
            out.push_str(&format!("{} setting {name} = {value}\n", self.scenario));
        }
        for f in &self.figures {
            out.push_str(&format!(
                "{} {:<26} {:>14} {}\n",
                self.scenario,
                f.name,
                format_value(f.value),
                f.unit
            ));
        }
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let settings: serde_json::Map<String, Value> = self
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let figures: Vec<Value> = self
            .figures
            .iter()
            .map(|f| json!({ "name": f.name, "value": f.value, "unit": f.unit }))
            .collect();
        json!({
            "scenario": self.scenario,
            "settings": settings,
            "figures": figures,
        })
    }

    /// Writes the JSON form to `path`, creating its directory.
    pub fn write_json(&self, path: &Path) -> Result<(), crate::BenchError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                crate::BenchError::new(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let text = serde_json::to_string_pretty(&self.to_json())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| crate::BenchError::new(format!("cannot write {}: {e}", path.display())))
    }
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The `p`th percentile (0..=100) of sorted samples, nearest rank.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// The 1, 5 and 15 minute load averages, from /proc/loadavg.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

/// CPU time this process's threads have run, summed by thread name (a
/// runtime's worker threads share one), from /proc/self/task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadCpu {
    /// Time on a CPU, by thread name.
    pub by_name: BTreeMap<String, Duration>,
}

impl ThreadCpu {
    /// Reads the current figures; `None` where /proc is not there.
    pub fn now() -> Option<ThreadCpu> {
        let mut by_name = BTreeMap::new();
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let dir = task.path();
            let (Ok(name), Ok(stat)) = (
                std::fs::read_to_string(dir.join("comm")),
                std::fs::read_to_string(dir.join("schedstat")),
            ) else {
                continue; // ended while being read
            };
            // schedstat: nanoseconds on a CPU, waiting to run, time slices.
            let Some(ran) = stat.split_whitespace().next().and_then(|n| n.parse().ok()) else {
                continue;
            };
            *by_name.entry(name.trim().to_string()).or_default() += Duration::from_nanos(ran);
        }
        Some(ThreadCpu { by_name })
    }

    /// What each group ran since `before`. A thread that ended in
    /// between is not counted.
    pub fn since(&self, before: &ThreadCpu) -> ThreadCpu {
        let by_name = self
            .by_name
            .iter()
            .map(|(name, &ran)| {
                let earlier = before.by_name.get(name).copied().unwrap_or_default();
                (name.clone(), ran.saturating_sub(earlier))
            })
            .collect();
        ThreadCpu { by_name }
    }
}

/// This process's memory, from /proc/self/status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size now (VmRSS), KiB.
    pub rss_kib: u64,
    /// Peak resident set size (VmHWM), KiB.
    pub hwm_kib: u64,
}

impl Memory {
    /// Reads the current figures; `None` where /proc is not there.
    pub fn now() -> Option<Memory> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
        };
        Some(Memory {
            rss_kib: field("VmRSS:")?,
            hwm_kib: field("VmHWM:")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
    }

    #[test]
    fn commits_are_read_from_prometheus_text() {
        let text = "# HELP weft_store_commit_latency Time a store commit took\n\
            weft_store_commit_latency_sum{service_name=\"weft\"} 12.5\n\
            weft_store_commit_latency_count{service_name=\"weft\"} 50\n\
            weft_store_commit_latency_bucket{le=\"1.0\",service_name=\"weft\"} 50\n\
            weft_store_commit_batch_size_sum{service_name=\"weft\"} 400\n\
            weft_store_commit_batch_size_count{service_name=\"weft\"} 50\n";
        let commits = Commits::read(text);
        assert_eq!(
            commits,
            Commits {
                count: 50.0,
                ops: 400.0,
                millis: 12.5
            }
        );
        assert_eq!(commits.since(&commits), Commits::default());
        assert_eq!(Commits::read(""), Commits::default());
        let mut r = Report::new("t");
        r.commits(&commits, Duration::from_millis(100), 10, "workflow");
        assert_eq!(r.get("commits"), Some(5.0));
        assert_eq!(r.get("ops_per_commit"), Some(8.0));
        assert_eq!(r.get("commit_mean"), Some(0.25));
        assert_eq!(r.get("writer_busy"), Some(12.5));
    }

    #[test]
    fn cpu_figures_are_per_item_by_thread_name_and_summed() {
        let ms = Duration::from_millis;
        let group = |pairs: &[(&str, Duration)]| ThreadCpu {
            by_name: pairs.iter().map(|(n, d)| (n.to_string(), *d)).collect(),
        };
        let before = group(&[("engine", ms(100)), ("writer", ms(50))]);
        let after = group(&[("engine", ms(300)), ("writer", ms(150)), ("new", ms(10))]);
        let mut r = Report::new("hello");
        r.cpu_per(&after.since(&before), 1000, "workflow");
        assert_eq!(r.get("cpu_engine"), Some(200.0));
        assert_eq!(r.get("cpu_writer"), Some(100.0));
        assert_eq!(r.get("cpu_new"), Some(10.0));
        assert_eq!(r.get("cpu_total"), Some(310.0));
        assert!(r.render().contains("µs/workflow"));
        // This process has threads, and they have run.
        let now = ThreadCpu::now().unwrap();
        assert!(now.by_name.values().sum::<Duration>() > Duration::ZERO);
    }

    #[test]
    fn the_report_renders_one_line_per_figure_and_json() {
        let mut r = Report::new("hello");
        r.setting("store", "memory");
        r.figure("throughput", 1234.5, "workflows/s");
        r.millis("latency_p50", Duration::from_micros(1500));
        let text = r.render();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("1234.5 workflows/s"));
        assert_eq!(r.to_json()["figures"][1]["value"], 1.5);
        assert_eq!(r.to_json()["settings"]["store"], "memory");
    }
}
