//! The checks of one finished epoch, and the tally they add to.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::check::{self, Outcome, Problems};
use crate::epoch::Plan;
use crate::ledger;
use crate::workload::{CANCELLABLE_RESULT, chain_result, parent_result, steps_result};

/// What the kill program counts over all epochs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Processes killed with SIGKILL.
    pub kills: u64,
    /// Epochs run to the end and checked.
    pub epochs: u64,
    /// Processes started (every kill, plus each epoch's last).
    pub generations: u64,
    /// Workflow ids completed (each exactly once, with the right result).
    pub workflows: u64,
    /// Runs, continue-as-new runs included.
    pub runs: u64,
    /// Activity and local activity executions in the ledger.
    pub executions: u64,
    /// Distinct steps among them.
    pub steps: u64,
    /// Executions beyond the first of a step: in flight at a kill.
    pub reruns: u64,
    /// Most executions of one step.
    pub max_runs_of_a_step: u64,
    /// Updates accepted (each once).
    pub updates: u64,
    /// Signals received (each once).
    pub signals: u64,
    /// Timers fired (each once).
    pub timers: u64,
    /// Runs closed by continue-as-new.
    pub continued_as_new: u64,
    /// Child workflows completed.
    pub children: u64,
    /// Workflows started by schedules.
    pub schedule_actions: u64,
    /// Cancel requests recorded (one per cancelled workflow).
    pub cancels: u64,
    /// Heartbeat steps run again after a kill (beyond the durable heartbeat).
    pub beats_redone: u64,
    /// Acknowledged calls found durable after the kill that followed them.
    pub acks: u64,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, u64); 18] = [
            ("kills (SIGKILL)", self.kills),
            ("epochs checked", self.epochs),
            ("processes started", self.generations),
            ("workflows completed once, right result", self.workflows),
            ("runs (with continue-as-new)", self.runs),
            ("runs continued as new", self.continued_as_new),
            ("child workflows", self.children),
            ("schedule actions", self.schedule_actions),
            ("cancellations", self.cancels),
            ("updates accepted once", self.updates),
            ("signals applied once", self.signals),
            ("timers fired once", self.timers),
            ("step executions (activities, local)", self.executions),
            ("distinct steps", self.steps),
            ("re-executions of in-flight steps", self.reruns),
            ("most executions of one step", self.max_runs_of_a_step),
            ("heartbeat steps redone", self.beats_redone),
            ("acknowledged calls durable", self.acks),
        ];
        for (name, value) in rows {
            writeln!(f, "{name:<40} {value:>8}")?;
        }
        writeln!(f, "{:<40} {:>8}", "committed steps run again", 0)
    }
}

/// What a kill left in the store.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The process killed.
    pub generation: u32,
    /// Steps whose completion the store held after the kill.
    pub steps: BTreeSet<String>,
    /// Facts a client may have been told ([`check::facts`]).
    pub facts: BTreeSet<String>,
}

impl Snapshot {
    /// What the store at `runs` holds, after the kill of `generation`.
    pub fn of(generation: u32, runs: &[check::RunHistory]) -> Self {
        Snapshot {
            generation,
            steps: check::committed_steps(runs),
            facts: check::facts(runs),
        }
    }
}

/// Workflow ids the epoch must complete, with their results (the
/// schedule's and the children's ids are added from what ran).
fn expected(epoch: u32, plan: &Plan) -> BTreeMap<String, i64> {
    let p = format!("e{epoch}");
    let mut out = BTreeMap::new();
    for i in 0..plan.steps {
        out.insert(format!("{p}-steps-{i}"), steps_result(plan.steps_len));
    }
    for i in 0..plan.chains {
        out.insert(format!("{p}-chain-{i}"), chain_result(plan.chain_runs));
    }
    out.insert(format!("{p}-beats"), i64::from(plan.beats));
    out.insert(format!("{p}-tally"), 101 * i64::from(plan.messages));
    let items = i64::from(plan.cart_items);
    out.insert(format!("{p}-cart"), items * (items + 1) / 2);
    out.insert(format!("{p}-parent"), parent_result(plan.children));
    for k in 0..plan.children {
        out.insert(format!("{p}-parent-child-{k}"), steps_result(2));
    }
    out.insert(format!("{p}-cancel"), CANCELLABLE_RESULT);
    out
}

/// Checks epoch `epoch`, finished in `dir`, and adds to `tally`.
pub fn epoch(
    dir: &Path,
    epoch: u32,
    plan: &Plan,
    snapshots: &[Snapshot],
    tally: &mut Tally,
) -> Result<(), Problems> {
    let mut problems = Problems::new();
    let runs = check::histories(&dir.join("chaos.db")).map_err(|e| vec![e])?;
    for run in &runs {
        check::well_formed(run, &mut problems);
    }
    let outcomes = check::outcomes(&runs);
    results(epoch, plan, &outcomes, tally, &mut problems);
    messages(epoch, plan, &outcomes, tally, &mut problems);
    let entries = ledger::read(&dir.join("ledger.log")).map_err(|e| vec![e])?;
    steps(
        &entries,
        snapshots,
        &check::committed_steps(&runs),
        tally,
        &mut problems,
    );
    beats(epoch, plan, &entries, tally, &mut problems);
    acks(
        &entries,
        snapshots,
        &Snapshot::of(0, &runs),
        tally,
        &mut problems,
    );
    tally.runs += runs.len() as u64;
    tally.epochs += 1;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Every workflow completed exactly once, with the right result, after
/// continuing as new as often as it should; nothing else ran.
fn results(
    epoch: u32,
    plan: &Plan,
    outcomes: &BTreeMap<String, Outcome>,
    tally: &mut Tally,
    problems: &mut Problems,
) {
    let mut want = expected(epoch, plan);
    let tick = format!("e{epoch}-tick");
    let ticks: Vec<&String> = outcomes.keys().filter(|k| k.starts_with(&tick)).collect();
    if ticks.len() as u64 != plan.schedule_actions {
        problems.push(format!(
            "epoch {epoch}: the schedule started {} workflows, not {}",
            ticks.len(),
            plan.schedule_actions
        ));
    }
    for id in ticks {
        want.insert(id.clone(), steps_result(1));
    }
    for (id, result) in &want {
        let Some(o) = outcomes.get(id) else {
            problems.push(format!("{id}: never started"));
            continue;
        };
        if o.completions != 1 || o.result != Some(*result) {
            problems.push(format!(
                "{id}: completed {} times with {:?}, expected once with {result}",
                o.completions, o.result
            ));
        }
        if o.continued + 1 != o.runs {
            problems.push(format!(
                "{id}: {} runs, {} continued as new",
                o.runs, o.continued
            ));
        }
        tally.workflows += 1;
        tally.continued_as_new += o.continued as u64;
        tally.timers += o.timers_fired as u64;
    }
    for id in outcomes.keys().filter(|id| !want.contains_key(*id)) {
        problems.push(format!("{id}: a workflow the workload never asked for"));
    }
    tally.children += u64::from(plan.children);
    tally.schedule_actions += plan.schedule_actions;
    let chain = format!("e{epoch}-chain-0");
    if let Some(o) = outcomes.get(&chain)
        && o.continued != plan.chain_runs as usize - 1
    {
        problems.push(format!("{chain}: continued as new {} times", o.continued));
    }
}

/// Updates accepted once each, every one of them; signals and cancel
/// requests recorded once each.
fn messages(
    epoch: u32,
    plan: &Plan,
    outcomes: &BTreeMap<String, Outcome>,
    tally: &mut Tally,
    problems: &mut Problems,
) {
    let p = format!("e{epoch}");
    let tally_id = format!("{p}-tally");
    let cart_id = format!("{p}-cart");
    let cancel_id = format!("{p}-cancel");
    let wanted: [(&str, BTreeSet<String>, usize); 2] = [
        (
            &tally_id,
            (1..=plan.messages)
                .map(|i| format!("{tally_id}-u{i}"))
                .collect(),
            plan.messages as usize,
        ),
        (
            &cart_id,
            (0..plan.cart_items)
                .map(|i| format!("{cart_id}-item{i}"))
                .collect(),
            1,
        ),
    ];
    for (id, updates, signals) in wanted {
        let Some(o) = outcomes.get(id) else { continue };
        let accepted: BTreeSet<String> = o.accepted.keys().cloned().collect();
        if accepted != updates || o.accepted.values().any(|&n| n != 1) {
            problems.push(format!("{id}: updates accepted {:?}", o.accepted));
        }
        if o.signals != signals {
            problems.push(format!("{id}: {} signals, expected {signals}", o.signals));
        }
        tally.updates += o.accepted.values().sum::<usize>() as u64;
        tally.signals += o.signals as u64;
    }
    if let Some(o) = outcomes.get(&cancel_id) {
        if o.cancel_requests != 1 {
            problems.push(format!(
                "{cancel_id}: {} cancel requests",
                o.cancel_requests
            ));
        }
        tally.cancels += o.cancel_requests as u64;
    }
}

/// The step an entry belongs to: a heartbeat step's is its activity's.
fn step_tag(e: &ledger::Entry) -> &str {
    match e.kind.as_str() {
        "beat" => e
            .tag
            .rsplit_once('/')
            .map_or(e.tag.as_str(), |(step, _)| step),
        _ => &e.tag,
    }
}

/// No step ran twice in one process (same attempt); none ran in a later
/// process once its completion was committed; every committed step ran.
fn steps(
    entries: &[ledger::Entry],
    snapshots: &[Snapshot],
    committed: &BTreeSet<String>,
    tally: &mut Tally,
    problems: &mut Problems,
) {
    let mut per_process: BTreeMap<(&str, u32, u32), usize> = BTreeMap::new();
    let mut per_step: BTreeMap<&str, u64> = BTreeMap::new();
    let mut ran: BTreeSet<&str> = BTreeSet::new();
    for e in entries {
        let tag = step_tag(e);
        ran.insert(tag);
        if e.kind == "ack" {
            continue;
        }
        for s in snapshots {
            if e.generation > s.generation && s.steps.contains(tag) {
                problems.push(format!(
                    "{}: committed before the kill of process {}, ran again in process {}",
                    e.tag, s.generation, e.generation
                ));
            }
        }
        if e.kind == "beat" {
            continue;
        }
        *per_process
            .entry((&e.tag, e.attempt, e.generation))
            .or_default() += 1;
        *per_step.entry(&e.tag).or_default() += 1;
    }
    for ((tag, attempt, generation), n) in per_process {
        if n > 1 {
            problems.push(format!(
                "{tag}: attempt {attempt} ran {n} times in process {generation}"
            ));
        }
    }
    for tag in committed {
        if !ran.contains(tag.as_str()) {
            problems.push(format!("{tag}: completed in history, never in the ledger"));
        }
    }
    let executions: u64 = per_step.values().sum();
    tally.executions += executions;
    tally.steps += per_step.len() as u64;
    tally.reruns += executions - per_step.len() as u64;
    let most = per_step.values().copied().max().unwrap_or(0);
    tally.max_runs_of_a_step = tally.max_runs_of_a_step.max(most);
}

/// Every call the engine acknowledged to a process is in the store after
/// that process's kill (or at the end, for the last process).
fn acks(
    entries: &[ledger::Entry],
    snapshots: &[Snapshot],
    last: &Snapshot,
    tally: &mut Tally,
    problems: &mut Problems,
) {
    for e in entries.iter().filter(|e| e.kind == "ack") {
        let after = snapshots
            .iter()
            .find(|s| s.generation == e.generation)
            .unwrap_or(last);
        if after.facts.contains(&e.tag) {
            tally.acks += 1;
        } else {
            problems.push(format!(
                "{}: acknowledged to process {}, not in the store after it",
                e.tag, e.generation
            ));
        }
    }
}

/// Every heartbeat step ran; each attempt began at or before the step
/// after the last one done (nothing skipped).
fn beats(
    epoch: u32,
    plan: &Plan,
    entries: &[ledger::Entry],
    tally: &mut Tally,
    problems: &mut Problems,
) {
    let prefix = format!("e{epoch}-beats/beat/");
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    let mut count = 0u64;
    let mut last_process = None;
    for e in entries.iter().filter(|e| e.kind == "beat") {
        let Some(i) = e.tag.strip_prefix(&prefix).and_then(|i| i.parse().ok()) else {
            problems.push(format!("{}: a heartbeat step of no known workflow", e.tag));
            continue;
        };
        let next = seen.last().map_or(0, |last| last + 1);
        let fresh = last_process != Some((e.generation, e.attempt));
        if fresh && i > next {
            problems.push(format!(
                "{prefix}: process {} began at {i}, after {next} undone",
                e.generation
            ));
        }
        last_process = Some((e.generation, e.attempt));
        seen.insert(i);
        count += 1;
    }
    if seen != (0..plan.beats).collect() {
        problems.push(format!(
            "{prefix}: heartbeat steps done {seen:?}, not 0..{}",
            plan.beats
        ));
    }
    tally.beats_redone += count.saturating_sub(u64::from(plan.beats));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, tag: &str, attempt: u32, generation: u32) -> ledger::Entry {
        ledger::Entry {
            kind: kind.into(),
            tag: tag.into(),
            attempt,
            generation,
        }
    }

    fn step_problems(entries: &[ledger::Entry], snapshots: &[Snapshot]) -> Problems {
        let mut problems = Problems::new();
        let committed = BTreeSet::new();
        steps(
            entries,
            snapshots,
            &committed,
            &mut Tally::default(),
            &mut problems,
        );
        problems
    }

    #[test]
    fn a_step_run_again_after_its_completion_was_committed_is_reported() {
        let entries = [entry("act", "w/1", 1, 1), entry("act", "w/1", 1, 2)];
        let committed = Snapshot {
            generation: 1,
            steps: ["w/1".to_string()].into(),
            ..Snapshot::default()
        };
        assert_eq!(step_problems(&entries, &[committed]).len(), 1);
        // In flight at the kill (not committed): running again is allowed.
        let in_flight = Snapshot {
            generation: 1,
            ..Snapshot::default()
        };
        assert!(step_problems(&entries, &[in_flight]).is_empty());
    }

    #[test]
    fn an_acknowledged_call_missing_after_the_kill_is_reported() {
        let entries = [entry("ack", "update:u1", 0, 1)];
        let check = |facts: &[&str]| {
            let killed = Snapshot {
                generation: 1,
                facts: facts.iter().map(|f| f.to_string()).collect(),
                ..Snapshot::default()
            };
            let mut problems = Problems::new();
            let last = Snapshot::default();
            acks(
                &entries,
                &[killed],
                &last,
                &mut Tally::default(),
                &mut problems,
            );
            problems
        };
        assert!(check(&["update:u1"]).is_empty());
        assert_eq!(check(&[]).len(), 1);
    }

    #[test]
    fn a_step_run_twice_in_one_process_is_reported() {
        let entries = [entry("act", "w/1", 1, 3), entry("act", "w/1", 1, 3)];
        assert_eq!(step_problems(&entries, &[]).len(), 1);
    }

    #[test]
    fn a_heartbeat_attempt_that_skips_undone_steps_is_reported() {
        let plan = Plan {
            beats: 4,
            ..Plan::default()
        };
        let tag = |i: u32| format!("e0-beats/beat/{i}");
        let check = |entries: &[ledger::Entry]| {
            let mut problems = Problems::new();
            beats(0, &plan, entries, &mut Tally::default(), &mut problems);
            problems
        };
        let resumed = [0, 1, 1, 2, 3].map(|i| entry("beat", &tag(i), 1, 1 + u32::from(i > 0)));
        assert!(check(&resumed).is_empty(), "{:?}", check(&resumed));
        let skipped = [entry("beat", &tag(0), 1, 1), entry("beat", &tag(2), 1, 2)];
        assert!(!check(&skipped).is_empty());
    }

    #[test]
    fn a_workflow_completed_twice_or_wrongly_is_reported() {
        let plan = Plan::default();
        let mut outcomes: BTreeMap<String, Outcome> = expected(0, &plan)
            .into_iter()
            .map(|(id, result)| {
                let o = Outcome {
                    runs: 1,
                    completions: 1,
                    result: Some(result),
                    ..Outcome::default()
                };
                (id, o)
            })
            .collect();
        for n in 0..plan.schedule_actions {
            outcomes.insert(
                format!("e0-tick-{n}"),
                Outcome {
                    runs: 1,
                    completions: 1,
                    result: Some(steps_result(1)),
                    ..Outcome::default()
                },
            );
        }
        for i in 0..plan.chains {
            if let Some(o) = outcomes.get_mut(&format!("e0-chain-{i}")) {
                o.runs = plan.chain_runs as usize;
                o.continued = plan.chain_runs as usize - 1;
            }
        }
        let check = |outcomes: &BTreeMap<String, Outcome>| {
            let mut problems = Problems::new();
            results(0, &plan, outcomes, &mut Tally::default(), &mut problems);
            problems
        };
        assert!(check(&outcomes).is_empty(), "{:?}", check(&outcomes));
        if let Some(o) = outcomes.get_mut("e0-steps-0") {
            o.completions = 2;
        }
        assert_eq!(check(&outcomes).len(), 1);
    }
}
