//! The context's deterministic replacements pass every check: `ctx.random()`,
//! `ctx.uuid()`, `ctx.side_effect(..)`, `ctx.spawn(..)` of an async block,
//! `weft::select!`, `ctx.patched(..)`, `ctx.logger()`, and weft's hash
//! collections.

use weft::collections;
use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Raffle {
    entries: weft::collections::HashMap<String, u64>,
    seen: collections::HashSet<String>,
}

#[workflow]
impl Raffle {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, names: Vec<String>) -> WorkflowResult<String> {
        let ticket = ctx.random().range(1..100);
        let id = ctx.uuid();
        let started: u64 = ctx.side_effect(|| 7).await;
        let spawned = ctx.clone();
        let handle = ctx.spawn(async move {
            let _ = spawned.sleep(Duration::from_millis(5)).await;
            3_u64
        });
        let winner = weft::select! {
            n = handle => n,
            _ = ctx.sleep(Duration::from_secs(60)) => { ctx.sleep(Duration::from_millis(1)).await?; 0 },
        };
        let mut counts: collections::HashMap<String, u64> = collections::hash_map();
        for name in &names {
            *counts.entry(name.clone()).or_default() += 1;
        }
        if ctx.patched("log-entries") {
            ctx.logger().info(format!("{} entries", counts.len()));
        }
        ctx.state_mut(|s| {
            s.seen.extend(names.iter().cloned());
            s.entries = counts;
        });
        Ok(format!("{id}: {ticket} {started} {winner:?}"))
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Raffle::NAME, "Raffle");
}
