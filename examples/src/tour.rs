//! The tour: every pattern, in the reference's order, on one database.

use std::time::{Duration, Instant};

use weft::Client;

/// One row of the tour's table.
#[derive(Debug)]
pub struct Row {
    /// The pattern's name.
    pub pattern: &'static str,
    /// What it printed, or the error it ended with.
    pub result: Result<Vec<String>, String>,
    /// Wall time of its run.
    pub elapsed: Duration,
}

/// Runs every pattern with its worker started, in order.
pub async fn run(client: &Client) -> Result<Vec<Row>, crate::support::ExampleError> {
    let mut workers = Vec::new();
    for pattern in crate::patterns() {
        workers.push((pattern.worker)(client).start()?);
    }
    let mut rows = Vec::new();
    for pattern in crate::patterns() {
        let started = Instant::now();
        let result = (pattern.run)(client).await.map_err(|e| e.to_string());
        rows.push(Row {
            pattern: pattern.name,
            result,
            elapsed: started.elapsed(),
        });
    }
    for worker in workers {
        worker.shutdown().await;
    }
    Ok(rows)
}

/// Formats the rows as a table: pattern, result (first line), wall time.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!("{:<20} {:<64} {:>9}\n", "pattern", "result", "wall time");
    out.push_str(&format!("{}\n", "-".repeat(95)));
    for row in rows {
        let summary = match &row.result {
            Ok(lines) => lines
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" | "),
            Err(e) => format!("ERROR: {e}"),
        };
        let summary = shorten(&summary, 64);
        out.push_str(&format!(
            "{:<20} {:<64} {:>7.0}ms\n",
            row.pattern,
            summary,
            row.elapsed.as_secs_f64() * 1000.0
        ));
    }
    out
}

fn shorten(text: &str, width: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= width {
        return one_line;
    }
    let cut: String = one_line.chars().take(width.saturating_sub(3)).collect();
    format!("{cut}...")
}
