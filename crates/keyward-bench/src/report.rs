//! The run's one table (scenario, database, figure, target, ratio, peer) as
//! text for the terminal, and as Markdown with SVG plots for
//! docs/benchmarks.md.

use std::path::Path;

/// One figure of one scenario.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub database: String,
    /// What was measured, with its unit ("sign-ins/s", "p99 ms").
    pub figure: String,
    pub value: f64,
    /// The target in words ("≥ 0.90 × limit").
    pub target: String,
    /// value ÷ the target's figure, oriented so that ≥ 1 meets it.
    pub ratio: Option<f64>,
    /// The same figure for the peer, when it was measured.
    pub peer: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<Row>,
    /// Figures over time, for the plots (the storm's throughput and latency).
    pub series: Vec<Series>,
}

/// One line of a plot: `(x, y)` points, e.g. seconds into a scenario and
/// sign-ins completed in that second.
#[derive(Debug, Clone)]
pub struct Series {
    /// What it shows, with its units ("signin_storm, 64 in flight: sign-ins/s").
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

pub fn text_table(table: &Table) -> String {
    let mut out = String::new();
    for row in &table.rows {
        out.push_str(&format!(
            "{} {} {} {} {} {:?} {:?}\n",
            row.scenario, row.database, row.figure, row.value, row.target, row.ratio, row.peer
        ));
    }
    out
}

pub fn write_files(_table: &Table, _out: &Path) -> anyhow::Result<()> {
    anyhow::bail!("the report files are not written yet")
}
