//! The run's one table (scenario, database, figure, target, ratio, peer) as
//! text for the terminal, and as Markdown with SVG plots for
//! docs/benchmarks.md: sign-ins per second against the hashing limit, and a
//! storm's latency over time. The plots are drawn by a small SVG writer of
//! our own (two chart kinds, no fonts to embed, readable as text in a diff).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

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

/// A line of points for a plot (x, y), e.g. a storm's p50 latency per second.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The plot it belongs to ("signin_storm latency, SQLite"); series with
    /// the same plot name share one chart.
    pub plot: String,
    /// The line's name in the legend ("keyward p50").
    pub name: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<Row>,
    pub series: Vec<Series>,
}

/// A number as a person reads it: no trailing noise, thousands kept whole.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 1000.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

fn ratio_text(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r.is_finite() => format!("{r:.2}{}", if r >= 1.0 { "" } else { " ✗" }),
        _ => "–".to_owned(),
    }
}

fn peer_text(row: &Row) -> (String, String) {
    match row.peer {
        Some(peer) => {
            let times = if peer != 0.0 {
                format!("{:.1}×", row.value / peer)
            } else {
                "–".to_owned()
            };
            (number(peer), times)
        }
        None => ("–".to_owned(), "–".to_owned()),
    }
}

const HEADERS: [&str; 8] = [
    "scenario", "db", "figure", "keyward", "target", "ratio", "peer", "÷ peer",
];

fn cells(row: &Row) -> [String; 8] {
    let (peer, times) = peer_text(row);
    [
        row.scenario.clone(),
        row.database.clone(),
        row.figure.clone(),
        number(row.value),
        row.target.clone(),
        ratio_text(row.ratio),
        peer,
        times,
    ]
}

/// The table for the terminal, columns aligned. A ratio under 1 (a missed
/// target) is marked ✗; nothing fails for it.
pub fn text_table(table: &Table) -> String {
    let rows: Vec<[String; 8]> = table.rows.iter().map(cells).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            let pad = width - cell.chars().count();
            // Numbers right-aligned, words left-aligned.
            if matches!(i, 3 | 5 | 6 | 7) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            }
            out.push_str("  ");
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&HEADERS.map(str::to_owned));
    out.push_str(&line(&widths.map(|w| "-".repeat(w))));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

/// The table as a Markdown table.
pub fn markdown_table(table: &Table) -> String {
    let mut out = format!("| {} |\n", HEADERS.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADERS.len())));
    for row in &table.rows {
        let cells = cells(row).map(|c| c.replace('|', "\\|"));
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// The machine the run was made on, as Markdown bullet lines.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    let flags = std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| {
            ["avx2", "avx512f"]
                .into_iter()
                .filter(|f| info.split_whitespace().any(|w| w == *f))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    format!(
        "- CPU: {cpu} ({flags}), {cores} cores\n- memory: {memory_gib:.0} GiB\n- Linux {kernel}\n"
    )
}

/// Writes `benchmarks.md` (machine, table, plots) and the plots as SVG
/// files into `out`.
pub fn write_files(table: &Table, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("making {}", out.display()))?;
    let mut doc = String::new();
    writeln!(doc, "## Machine\n\n{}", machine())?;
    writeln!(doc, "## Figures\n\n{}", markdown_table(table))?;
    let mut plots = Vec::new();
    if let Some(svg) = throughput_chart(table) {
        plots.push((
            "signins-vs-limit.svg".to_owned(),
            "Sign-ins per second against the hashing limit".to_owned(),
            svg,
        ));
    }
    let mut names: Vec<&str> = Vec::new();
    for s in &table.series {
        if !names.contains(&s.plot.as_str()) {
            names.push(&s.plot);
        }
    }
    for (i, name) in names.iter().enumerate() {
        let series: Vec<&Series> = table.series.iter().filter(|s| s.plot == *name).collect();
        plots.push((
            format!("series-{}.svg", i + 1),
            (*name).to_owned(),
            line_chart(name, &series),
        ));
    }
    if !plots.is_empty() {
        writeln!(doc, "## Plots\n")?;
    }
    for (file, title, svg) in plots {
        std::fs::write(out.join(&file), svg).with_context(|| format!("writing {file}"))?;
        writeln!(doc, "![{title}]({file})\n")?;
    }
    std::fs::write(out.join("benchmarks.md"), doc).context("writing benchmarks.md")?;
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Bars: every "…/s" figure of the hash limit and the sign-in scenarios (and
/// the peer's), so each sign-in rate stands beside the machine's limit.
fn throughput_chart(table: &Table) -> Option<String> {
    let mut bars: Vec<(String, f64)> = Vec::new();
    for row in &table.rows {
        // "sign-ins/s, 64 in flight", "hashes/s, reference C (…)".
        let is_rate = row.figure.starts_with("sign-ins/s") || row.figure.starts_with("hashes/s");
        let is_signin = row.scenario == "hash_limit" || row.scenario.starts_with("signin");
        if is_rate && is_signin {
            // The hash limit runs without a server, so its database is "—".
            let label = if row.scenario == "hash_limit" {
                format!("{} · {}", row.scenario, row.figure)
            } else {
                format!("{} · {} · {}", row.scenario, row.database, row.figure)
            };
            bars.push((label, row.value));
            if let Some(peer) = row.peer {
                bars.push((format!("peer · {} · {}", row.scenario, row.figure), peer));
            }
        }
    }
    (!bars.is_empty()).then(|| bar_chart("Sign-ins and hashes per second", &bars))
}

const FONT: &str = "font-family=\"sans-serif\" font-size=\"12\"";

/// Rough width of 12 px sans-serif text, generous so no label is cut.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 7.0
}

fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    let label_width = bars
        .iter()
        .map(|(label, _)| text_width(label))
        .fold(200.0_f64, f64::max)
        + 16.0;
    let plot_width = 360.0;
    let bar_height = 18.0;
    let gap = 8.0;
    let top = 36.0;
    let height = top + bars.len() as f64 * (bar_height + gap) + 16.0;
    let width = label_width + plot_width + 80.0;
    let max = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"8\" y=\"20\" {FONT} font-weight=\"bold\">{}</text>\n",
        escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = top + i as f64 * (bar_height + gap);
        let w = (value / max * plot_width).max(1.0);
        let fill = if label.starts_with("hash_limit") {
            "#888888"
        } else if label.starts_with("peer") {
            "#d08a2c"
        } else {
            "#2a6bd1"
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" {FONT} text-anchor=\"end\">{}</text>\
             <rect x=\"{label_width}\" y=\"{y:.0}\" width=\"{w:.1}\" height=\"{bar_height}\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{:.0}\" {FONT}>{}</text>",
            label_width - 8.0,
            y + 13.0,
            escape(label),
            label_width + w + 6.0,
            y + 13.0,
            number(*value)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

const COLOURS: [&str; 6] = [
    "#2a6bd1", "#d08a2c", "#3a9a4a", "#b03a8a", "#555555", "#c0392b",
];

fn line_chart(title: &str, series: &[&Series]) -> String {
    let (width, height) = (760.0, 340.0);
    let (left, right, top, bottom) = (64.0, 170.0, 36.0, 44.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let points = series.iter().flat_map(|s| s.points.iter());
    let (mut x_max, mut y_max) = (0.0_f64, 0.0_f64);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_max = y_max.max(y);
    }
    let x_max = nice_ceiling(x_max);
    let y_max = nice_ceiling(y_max);
    let sx = |x: f64| left + x / x_max * plot_w;
    let sy = |y: f64| top + plot_h - y / y_max * plot_h;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"8\" y=\"20\" {FONT} font-weight=\"bold\">{}</text>\n",
        escape(title)
    );
    for tick in 0..=4 {
        let fraction = f64::from(tick) / 4.0;
        let (x, y) = (sx(x_max * fraction), sy(y_max * fraction));
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#dddddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" {FONT} text-anchor=\"end\">{}</text>\
             <text x=\"{x:.1}\" y=\"{:.1}\" {FONT} text-anchor=\"middle\">{}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0,
            number(y_max * fraction),
            top + plot_h + 16.0,
            number(x_max * fraction)
        );
    }
    if let Some(first) = series.first() {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} text-anchor=\"middle\">{}</text>\
             <text x=\"14\" y=\"{:.1}\" {FONT} text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
            left + plot_w / 2.0,
            height - 8.0,
            escape(&first.x_label),
            top + plot_h / 2.0,
            top + plot_h / 2.0,
            escape(&first.y_label)
        );
    }
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let legend_y = top + 16.0 * i as f64;
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" {FONT}>{}</text>",
            path.join(" "),
            left + plot_w + 12.0,
            legend_y,
            left + plot_w + 30.0,
            legend_y + 6.0,
            // The plot's title already names the scenario: the legend keeps
            // what follows the last ": " ("median latency ms").
            escape(s.name.rsplit(": ").next().unwrap_or(&s.name))
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The smallest of 1, 2 or 5 × a power of ten at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    if value.is_nan() || value <= 0.0 {
        return 1.0;
    }
    let power = 10_f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&v| v >= value)
        .unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let row = |scenario: &str, figure: &str, value, target: &str, ratio, peer| Row {
            scenario: scenario.into(),
            database: "sqlite".into(),
            figure: figure.into(),
            value,
            target: target.into(),
            ratio,
            peer,
        };
        let mut table = Table::default();
        table.rows.push(row(
            "hash_limit",
            "reference C hashes/s",
            212.4,
            "the limit",
            None,
            None,
        ));
        table.rows.push(row(
            "signin_storm",
            "sign-ins/s",
            150.2,
            "≥ 0.90 × limit",
            Some(0.79),
            Some(50.6),
        ));
        table.series.push(Series {
            plot: "signin_storm latency".into(),
            name: "p50 <ms>".into(),
            x_label: "s".into(),
            y_label: "ms".into(),
            points: vec![(0.0, 10.0), (1.0, 420.0), (2.0, 390.0)],
        });
        table
    }

    #[test]
    fn the_text_table_aligns_columns_and_marks_a_missed_target() {
        let text = text_table(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[3].contains("0.79 ✗"), "{text}");
        assert!(lines[3].contains("3.0×"), "keyward ÷ peer: {text}");
        let column = lines[0].find("keyward").unwrap();
        assert!(lines[2..].iter().all(|l| l.len() > column));
    }

    #[test]
    fn files_hold_the_table_and_well_formed_plots() {
        let dir = std::env::temp_dir().join(format!("kw-report-{}", std::process::id()));
        write_files(&sample(), &dir).unwrap();
        let doc = std::fs::read_to_string(dir.join("benchmarks.md")).unwrap();
        assert!(
            doc.contains("| signin_storm | sqlite | sign-ins/s | 150.2 |"),
            "{doc}"
        );
        assert!(
            doc.contains("![Sign-ins per second against the hashing limit](signins-vs-limit.svg)")
        );
        let svg = std::fs::read_to_string(dir.join("series-1.svg")).unwrap();
        assert!(svg.contains("p50 &lt;ms&gt;") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("<polyline"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_bar_chart_leaves_room_for_its_longest_label() {
        let long = "hash_limit · hashes/s, argon2-rust 1.1 (run-time SIMD, pooled; unvetted)";
        let svg = bar_chart("t", &[(long.into(), 300.0), ("short".into(), 100.0)]);
        let x: f64 = svg
            .split("<text x=\"")
            .nth(2)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(x - text_width(long) >= 0.0, "label cut at the left: {svg}");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(420.0), 500.0);
        assert_eq!(nice_ceiling(150.0), 200.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
    }
}
