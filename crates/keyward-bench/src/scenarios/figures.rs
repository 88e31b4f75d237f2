//! One load run against a subject with the readings around it (the
//! subject's CPU, page faults and peak memory, the bench client's own CPU),
//! and what the scenarios make of it: rates, percentiles, per-second series,
//! and table rows with ratios oriented so that ≥ 1 meets the target.

use std::time::Duration;

use crate::load::{self, LoadPlan, Outcome};
use crate::process::{RssSampler, Snapshot, Usage};
use crate::report::{Row, Series};
use crate::subject::Subject;

/// A load run and the readings around it.
#[derive(Debug, Clone)]
pub struct Measured {
    pub outcomes: Vec<Outcome>,
    /// From the first request (every connection open) to the last answer.
    pub wall: Duration,
    /// What the subject's processes used.
    pub server: Usage,
    /// What this process (the load generator) used.
    pub client: Usage,
    /// The subject's largest resident memory while it ran, KiB: the sampled
    /// peak, or VmHWM for a single process (its peak over its whole life,
    /// which a 100 ms sampler could miss).
    pub peak_rss_kib: u64,
}

/// Drives `plan` against the subject while reading its processes and this one.
pub async fn measure(subject: &dyn Subject, plan: LoadPlan) -> anyhow::Result<Measured> {
    let pids = subject.pids();
    let sampler = RssSampler::start(&pids, RssSampler::INTERVAL);
    let server = Snapshot::take(&pids)?;
    let client = Snapshot::take(&[std::process::id()])?;
    let outcomes = load::drive(subject.base_url(), plan).await;
    let server = server.usage_since()?;
    let client = client.usage_since()?;
    let trace = sampler.stop().await?;
    let whole_life_peak = if pids.len() == 1 { server.hwm_kib } else { 0 };
    let outcomes = outcomes?;
    Ok(Measured {
        wall: last_answer(&outcomes),
        outcomes,
        server,
        client,
        peak_rss_kib: trace.peak_kib.max(whole_life_peak),
    })
}

/// From the start (when every connection was open) to the last answer.
fn last_answer(outcomes: &[Outcome]) -> Duration {
    outcomes
        .iter()
        .map(|o| o.sent_at + o.latency)
        .max()
        .unwrap_or_default()
}

impl Measured {
    pub fn count(&self, wanted: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| wanted(o)).count()
    }

    /// Answers with a 2xx status.
    pub fn successes(&self) -> usize {
        self.count(|o| is_success(o.status))
    }

    /// Answers with a 5xx status, and requests with no answer at all.
    pub fn failures(&self) -> usize {
        self.count(|o| o.status >= 500 || o.status == 0)
    }

    /// `n` per second of the run.
    pub fn per_sec(&self, n: usize) -> f64 {
        n as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0.5, 0.99) of the chosen requests' latency, ms.
    pub fn latency_ms(&self, q: f64, wanted: impl Fn(&Outcome) -> bool) -> f64 {
        let mut ms: Vec<f64> = self
            .outcomes
            .iter()
            .filter(|o| wanted(o))
            .map(|o| o.latency.as_secs_f64() * 1e3)
            .collect();
        ms.sort_by(f64::total_cmp);
        quantile(&ms, q)
    }

    /// The subject's CPU milliseconds for each of `n` things done.
    pub fn server_cpu_ms_per(&self, n: usize) -> f64 {
        self.server.cpu_secs * 1e3 / n.max(1) as f64
    }

    /// The load generator's own CPU microseconds per request sent.
    pub fn client_cpu_us_per_request(&self) -> f64 {
        self.client.cpu_secs * 1e6 / self.outcomes.len().max(1) as f64
    }

    /// Fails when an answer is neither a success, nor a failure counted in
    /// the table (5xx, none), nor `allowed`: a wrong answer means the run
    /// measures something else than it says (a seeding that went wrong).
    pub fn check_answers(&self, what: &str, allowed: impl Fn(u16) -> bool) -> anyhow::Result<()> {
        let wrong: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| !is_success(o.status) && o.status < 500 && o.status != 0)
            .filter(|o| !allowed(o.status))
            .collect();
        if let Some(first) = wrong.first() {
            anyhow::bail!(
                "{what}: {} of {} answers were wrong (the first: {} for request {})",
                wrong.len(),
                self.outcomes.len(),
                first.status,
                first.request
            );
        }
        Ok(())
    }

    /// Per second of the run (by when the answer came): successes per
    /// second, and the median and p99 latency of the answers of that second.
    pub fn series(&self, label: &str) -> Vec<Series> {
        let seconds = self.wall.as_secs_f64().ceil().max(1.0) as usize;
        let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); seconds];
        for outcome in self.outcomes.iter().filter(|o| is_success(o.status)) {
            let done = (outcome.sent_at + outcome.latency).as_secs_f64();
            let bucket = (done.floor() as usize).min(seconds - 1);
            buckets[bucket].push(outcome.latency.as_secs_f64() * 1e3);
        }
        let mut rate = Vec::new();
        let mut p50 = Vec::new();
        let mut p99 = Vec::new();
        for (second, mut ms) in buckets.into_iter().enumerate() {
            let length = (self.wall.as_secs_f64() - second as f64).clamp(1e-3, 1.0);
            let x = second as f64;
            rate.push((x, ms.len() as f64 / length));
            if !ms.is_empty() {
                ms.sort_by(f64::total_cmp);
                p50.push((x, quantile(&ms, 0.5)));
                p99.push((x, quantile(&ms, 0.99)));
            }
        }
        let series = |plot: &str, what: &str, y_label: &str, points| Series {
            plot: format!("{label}: {plot}"),
            name: format!("{label}: {what}"),
            x_label: "seconds into the run".to_owned(),
            y_label: y_label.to_owned(),
            points,
        };
        vec![
            series("answers per second", "answers/s (2xx)", "answers/s", rate),
            series("latency over time", "median latency ms", "ms", p50),
            series("latency over time", "p99 latency ms", "ms", p99),
        ]
    }
}

pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The nearest-rank quantile of sorted values; 0 for none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Makes the rows of one scenario on one database.
pub struct Rows<'a> {
    pub scenario: &'a str,
    pub database: &'a str,
    pub rows: Vec<Row>,
}

impl<'a> Rows<'a> {
    pub fn new(scenario: &'a str, database: &'a str) -> Rows<'a> {
        Rows {
            scenario,
            database,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, figure: &str, value: f64, target: &str, ratio: Option<f64>) {
        self.rows.push(Row {
            scenario: self.scenario.to_owned(),
            database: self.database.to_owned(),
            figure: figure.to_owned(),
            value,
            target: target.to_owned(),
            ratio,
            peer: None,
        });
    }

    /// A count of things that must not happen (5xx, no answer).
    pub fn add_none_wanted(&mut self, figure: &str, count: usize) {
        self.add(figure, count as f64, "0", Some(none_wanted(count)));
    }

    /// A figure shown for what it tells, with no target.
    pub fn add_info(&mut self, figure: &str, value: f64) {
        self.add(figure, value, "—", None);
    }
}

/// The most a ratio is shown as (a figure far better than its target).
const MAX_RATIO: f64 = 100.0;

/// `value ≥ goal` as a ratio.
pub fn at_least(value: f64, goal: f64) -> Option<f64> {
    (goal > 0.0).then(|| (value / goal).min(MAX_RATIO))
}

/// `value ≤ goal` as a ratio.
pub fn at_most(value: f64, goal: f64) -> Option<f64> {
    (goal > 0.0).then(|| {
        if value <= 0.0 {
            MAX_RATIO
        } else {
            (goal / value).min(MAX_RATIO)
        }
    })
}

/// A count whose target is zero: 1 when none happened, less the more did.
pub fn none_wanted(count: usize) -> f64 {
    1.0 / (1.0 + count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(sent_ms: u64, latency_ms: u64, status: u16) -> Outcome {
        Outcome {
            sent_at: Duration::from_millis(sent_ms),
            latency: Duration::from_millis(latency_ms),
            status,
            request: 0,
        }
    }

    fn measured(outcomes: Vec<Outcome>, wall_ms: u64) -> Measured {
        let usage = Usage {
            wall: Duration::from_millis(wall_ms),
            cpu_secs: 0.5,
            minor_faults: 0,
            rss_kib: 0,
            hwm_kib: 0,
        };
        Measured {
            outcomes,
            wall: Duration::from_millis(wall_ms),
            server: usage,
            client: usage,
            peak_rss_kib: 0,
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values, 1.0), 100.0);
        assert_eq!(quantile(&values, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn counts_rates_and_wrong_answers() {
        let run = measured(
            vec![
                outcome(0, 10, 200),
                outcome(0, 30, 201),
                outcome(5, 5, 503),
                outcome(9, 60_000, 0),
                outcome(9, 1, 429),
            ],
            2_000,
        );
        assert_eq!(run.successes(), 2);
        assert_eq!(run.failures(), 2);
        assert_eq!(run.per_sec(run.successes()), 1.0);
        assert_eq!(run.latency_ms(0.5, |o| is_success(o.status)), 10.0);
        assert_eq!(run.server_cpu_ms_per(2), 250.0);
        assert_eq!(run.client_cpu_us_per_request(), 100_000.0);
        assert!(run.check_answers("x", |s| s == 429).is_ok());
        let err = run.check_answers("recovery", |_| false).unwrap_err();
        assert!(
            err.to_string().contains("1 of 5 answers were wrong"),
            "{err}"
        );
    }

    #[test]
    fn series_are_per_second_of_answers() {
        let run = measured(
            vec![
                outcome(0, 100, 200),
                outcome(100, 900, 200),
                outcome(1_200, 100, 200),
                outcome(1_200, 100, 500),
            ],
            1_500,
        );
        let series = run.series("storm");
        assert_eq!(series[0].name, "storm: answers/s (2xx)");
        // 0–1 s: one answer (the second lands at exactly 1 s); 1–1.5 s: two.
        assert_eq!(series[0].points, vec![(0.0, 1.0), (1.0, 4.0)]);
        assert_eq!(series[1].points, vec![(0.0, 100.0), (1.0, 100.0)]);
        assert_eq!(series[2].points, vec![(0.0, 100.0), (1.0, 900.0)]);
    }

    #[test]
    fn ratios_meet_at_one() {
        assert_eq!(at_least(180.0, 90.0), Some(2.0));
        assert_eq!(at_most(50.0, 25.0), Some(0.5));
        assert_eq!(at_most(0.0, 25.0), Some(MAX_RATIO));
        assert_eq!(at_least(1.0, 0.0), None);
        assert_eq!(none_wanted(0), 1.0);
        assert!(none_wanted(3) < 1.0);
        let mut rows = Rows::new("page", "SQLite");
        rows.add_none_wanted("5xx", 0);
        rows.add_info("p50 ms", 3.0);
        assert_eq!(rows.rows[0].ratio, Some(1.0));
        assert_eq!(rows.rows[1].target, "—");
    }
}
