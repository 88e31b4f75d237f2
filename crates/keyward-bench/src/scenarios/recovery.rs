//! recovery_request: `POST /api/v1/recovery` for email addresses, half of
//! people who exist and half of nobody, for a fixed time: the rate, the
//! tail, and whether the two halves take the same time (they must not tell
//! who has an account).
//!
//! keyward allows 30 recovery requests an hour from one client address; at
//! thousands a second that would need tens of thousands of source addresses,
//! so the run raises `recovery.max_requests_per_address_per_hour` instead
//! ([`ADDRESS_LIMIT_ENV`]): the throttle's counting still runs for every
//! request, only its refusal does not.

use crate::load::LoadPlan;
use crate::subject::Subject;

use super::figures::{self, Rows, at_least, at_most, is_success};
use super::{Context, Figures};

/// The setting keyward is started with for this scenario, and its value.
pub const ADDRESS_LIMIT_ENV: (&str, &str) = (
    "KEYWARD_RECOVERY__MAX_REQUESTS_PER_ADDRESS_PER_HOUR",
    "100000000",
);
/// Requests per second wanted, and as a multiple of the peer's.
pub const RATE_GOAL: f64 = 2_000.0;
pub const PEER_MULTIPLE: f64 = 10.0;
const P99_GOAL_MS: f64 = 25.0;
/// The existing and missing halves' medians may differ by this share.
const MEDIAN_GAP_GOAL: f64 = 0.10;
/// Distinct missing addresses cycled through.
const MISSING_ADDRESSES: usize = 1_000;

/// The figure the peer multiple applies to.
pub const RATE_FIGURE: &str = "requests/s";

pub async fn run(context: &Context, subject: &dyn Subject) -> anyhow::Result<Figures> {
    let staff: Vec<&str> = subject
        .staff()
        .iter()
        .filter_map(|person| person.email.as_deref())
        .collect();
    anyhow::ensure!(
        !staff.is_empty(),
        "{} has no people with an email address",
        subject.name()
    );
    // Even requests are for someone who exists, odd ones for nobody.
    let requests = (0..2 * MISSING_ADDRESSES)
        .map(|i| match i % 2 {
            0 => subject.recovery(staff[i / 2 % staff.len()]),
            _ => subject.recovery(&format!("nobody.{i}@bench.invalid")),
        })
        .collect();
    let plan = LoadPlan {
        requests,
        concurrency: context.sizes.in_flight,
        sources: context.sizes.sources,
        rate: None,
        duration: Some(context.sizes.recovery),
    };
    let run = figures::measure(subject, plan).await?;
    let what = format!("recovery_request on {}", subject.name());
    run.check_answers(&what, |status| status == 429)?;

    let mut rows = Rows::new("recovery_request", &context.database);
    let per_sec = run.per_sec(run.successes());
    rows.add(
        RATE_FIGURE,
        per_sec,
        &format!("≥ {RATE_GOAL:.0} and ≥ {PEER_MULTIPLE:.0} × peer"),
        at_least(per_sec, RATE_GOAL),
    );
    let p99 = run.latency_ms(0.99, |o| is_success(o.status));
    rows.add(
        "p99 ms",
        p99,
        &format!("≤ {P99_GOAL_MS:.0} ms"),
        at_most(p99, P99_GOAL_MS),
    );
    let existing = run.latency_ms(0.5, |o| is_success(o.status) && o.request % 2 == 0);
    let missing = run.latency_ms(0.5, |o| is_success(o.status) && o.request % 2 == 1);
    rows.add_info("median ms, existing addresses", existing);
    rows.add_info("median ms, missing addresses", missing);
    let gap = (existing - missing).abs() / existing.max(missing).max(1e-9);
    rows.add(
        "existing vs missing medians, % apart",
        gap * 100.0,
        &format!("≤ {:.0} %", MEDIAN_GAP_GOAL * 100.0),
        at_most(gap, MEDIAN_GAP_GOAL),
    );
    rows.add(
        "429 (throttled)",
        run.count(|o| o.status == 429) as f64,
        "0 (the per-address limit is raised for the run)",
        Some(figures::none_wanted(run.count(|o| o.status == 429))),
    );
    rows.add_none_wanted("5xx or no answer", run.failures());
    rows.add_info(
        "server CPU ms per request",
        run.server_cpu_ms_per(run.outcomes.len()),
    );
    rows.add_info(
        "bench client CPU µs per request",
        run.client_cpu_us_per_request(),
    );
    Ok(Figures {
        rows: rows.rows,
        series: Vec::new(),
    })
}
