//! signin_storm and signin_steady: learners signing in with right passwords.
//! The storm sends a fixed number of sign-ins as fast as answers come, at
//! each of a few numbers in flight, against the machine's hashing limit;
//! steady sends them open-loop at 80 % of the storm's best rate and looks at
//! the tail of the latency.

use crate::load::{LoadPlan, Request};
use crate::report::Series;
use crate::subject::Subject;

use super::figures::{self, Measured, Rows, at_least, at_most, is_success};
use super::{Context, Figures};

/// The share of the hashing limit sign-ins should reach.
const LIMIT_SHARE: f64 = 0.90;
/// A sign-in's CPU may be this many times one hash's.
const CPU_PER_HASH: f64 = 1.05;
/// Fixed resident memory allowed beside the hashing blocks, MiB.
const BASE_RSS_MIB: f64 = 64.0;
/// Steady's rate as a share of the storm's.
const STEADY_SHARE: f64 = 0.80;
/// Steady's p99 may be this many times one hash's time.
const STEADY_P99_PER_HASH: f64 = 3.0;

/// The storm's rows and plots, and its best sign-ins per second (steady's basis).
#[derive(Debug)]
pub struct Storm {
    pub figures: Figures,
    pub best_per_sec: f64,
}

fn sign_ins(subject: &dyn Subject, count: usize) -> anyhow::Result<Vec<Request>> {
    let learners = subject.learners();
    anyhow::ensure!(
        !learners.is_empty(),
        "{} has no learners to sign in",
        subject.name()
    );
    Ok((0..count)
        .map(|i| subject.sign_in(&learners[i % learners.len()]))
        .collect())
}

pub async fn storm(context: &Context, subject: &dyn Subject) -> anyhow::Result<Storm> {
    let requests = sign_ins(subject, context.sizes.storm_sign_ins)?;
    let mut rows = Rows::new("signin_storm", &context.database);
    let mut series = Vec::new();
    let mut best_per_sec: f64 = 0.0;
    for &in_flight in &context.sizes.storm_in_flight {
        let plan = LoadPlan {
            requests: requests.clone(),
            concurrency: in_flight,
            sources: context.sizes.sources,
            rate: None,
            duration: None,
        };
        let run = figures::measure(subject, plan).await?;
        let what = format!("signin_storm on {}, {in_flight} in flight", subject.name());
        run.check_answers(&what, |_| false)?;
        best_per_sec = best_per_sec.max(run.per_sec(run.successes()));
        storm_rows(context, &mut rows, &run, in_flight);
        series.extend(non_empty(run.series(&what)));
    }
    Ok(Storm {
        figures: Figures {
            rows: rows.rows,
            series,
        },
        best_per_sec,
    })
}

fn non_empty(series: Vec<Series>) -> Vec<Series> {
    series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .collect()
}

fn storm_rows(context: &Context, rows: &mut Rows, run: &Measured, in_flight: usize) {
    let limit = &context.limit;
    let signed_in = run.successes();
    let per_sec = run.per_sec(signed_in);
    rows.add(
        &format!("sign-ins/s, {in_flight} in flight"),
        per_sec,
        &format!(
            "≥ {LIMIT_SHARE:.2} × limit {:.1} h/s ({})",
            limit.hashes_per_sec, limit.implementation
        ),
        at_least(per_sec, LIMIT_SHARE * limit.hashes_per_sec),
    );
    let cpu_ms = run.server_cpu_ms_per(signed_in);
    rows.add(
        &format!("server CPU ms per sign-in, {in_flight} in flight"),
        cpu_ms,
        &format!(
            "≤ {CPU_PER_HASH:.2} × one hash {:.1} ms",
            limit.cpu_ms_per_hash
        ),
        at_most(cpu_ms, CPU_PER_HASH * limit.cpu_ms_per_hash),
    );
    rows.add(
        &format!("minor page faults per sign-in, {in_flight} in flight"),
        run.server.minor_faults as f64 / signed_in.max(1) as f64,
        "— (0: the block is reused)",
        None,
    );
    rows.add_none_wanted(
        &format!("5xx or no answer, {in_flight} in flight"),
        run.failures(),
    );
    let budget_mib = BASE_RSS_MIB + context.max_concurrent as f64 * context.hash_block_mib();
    let peak_mib = run.peak_rss_kib as f64 / 1024.0;
    rows.add(
        &format!("peak RSS MiB, {in_flight} in flight"),
        peak_mib,
        &format!(
            "≤ {BASE_RSS_MIB:.0} + {} × {:.0} = {budget_mib:.0} MiB",
            context.max_concurrent,
            context.hash_block_mib()
        ),
        at_most(peak_mib, budget_mib),
    );
    rows.add_info(
        &format!("p99 ms, {in_flight} in flight"),
        run.latency_ms(0.99, |o| is_success(o.status)),
    );
    rows.add_info(
        &format!("bench client CPU µs per request, {in_flight} in flight"),
        run.client_cpu_us_per_request(),
    );
}

/// Open loop at 80 % of `storm_per_sec` for the steady duration.
pub async fn steady(
    context: &Context,
    subject: &dyn Subject,
    storm_per_sec: f64,
) -> anyhow::Result<Figures> {
    anyhow::ensure!(
        storm_per_sec > 0.0,
        "signin_steady on {}: the storm signed nobody in",
        subject.name()
    );
    let rate = STEADY_SHARE * storm_per_sec;
    let plan = LoadPlan {
        requests: sign_ins(subject, subject.learners().len())?,
        concurrency: context.sizes.in_flight,
        sources: context.sizes.sources,
        rate: Some(rate),
        duration: Some(context.sizes.steady),
    };
    let run = figures::measure(subject, plan).await?;
    let what = format!("signin_steady on {}", subject.name());
    run.check_answers(&what, |_| false)?;
    let mut rows = Rows::new("signin_steady", &context.database);
    let p99 = run.latency_ms(0.99, |o| is_success(o.status));
    let one_hash_ms = context.limit.cpu_ms_per_hash;
    rows.add(
        "p99 ms",
        p99,
        &format!("≤ {STEADY_P99_PER_HASH:.0} × one hash {one_hash_ms:.1} ms"),
        at_most(p99, STEADY_P99_PER_HASH * one_hash_ms),
    );
    rows.add_info("median ms", run.latency_ms(0.5, |o| is_success(o.status)));
    let per_sec = run.per_sec(run.successes());
    rows.add(
        "sign-ins/s",
        per_sec,
        &format!("= {STEADY_SHARE:.2} × the storm's {storm_per_sec:.1}/s"),
        at_least(per_sec, rate),
    );
    rows.add_none_wanted("5xx or no answer", run.failures());
    Ok(Figures {
        rows: rows.rows,
        series: non_empty(run.series(&what)),
    })
}
