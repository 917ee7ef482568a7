//! Formatting, assertion and logging macros are allowed in workflow code,
//! and an `.await` in their arguments is checked like any other.

use std::fmt::Write as _;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Report;

#[workflow]
impl Report {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, lines: Vec<String>) -> WorkflowResult<String> {
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            writeln!(out, "{i}: {line}").map_err(|e| ApplicationError::new(e.to_string()))?;
        }
        let waited = format!("{:?}", ctx.sleep(Duration::from_millis(1)).await);
        assert_eq!(waited, "()");
        debug_assert!(!out.contains('\0'), "no NULs in {}", out.len());
        let sizes = vec![lines.len(); 2];
        if matches!(sizes.as_slice(), [0, ..]) {
            tracing::info!(count = sizes.len(), "empty report");
        }
        tracing::debug!("report of {} lines", lines.len());
        tracing::warn!(target: "weft::report", lines = ?lines, "done");
        println!("{}", concat!("report", " ", "done"));
        let _ = stringify!(SystemTime::now);
        Ok(out)
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Report::NAME, "Report");
}
