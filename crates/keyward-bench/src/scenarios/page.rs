//! page: HTML pages as fast as answers come — `GET /signin`, which every
//! school morning starts with, and (keyward only; the peer has none) a
//! teacher's class page listing a class of learners, with the teacher's
//! session.

use crate::load::{LoadPlan, Request};
use crate::subject::Subject;

use super::figures::{self, Rows, at_least, is_success};
use super::{Context, Figures};

/// Pages per second wanted, and as a multiple of the peer's.
pub const RATE_GOAL: f64 = 5_000.0;
pub const PEER_MULTIPLE: f64 = 30.0;
/// The figure the peer multiple applies to.
pub const SIGN_IN_PAGE_FIGURE: &str = "GET /signin pages/s";

/// A class page to measure: the request (with the teacher's session) and
/// how many learners the class lists.
pub struct ClassPage {
    pub request: Request,
    pub learners: usize,
}

pub async fn run(
    context: &Context,
    subject: &dyn Subject,
    class_page: Option<&ClassPage>,
) -> anyhow::Result<Figures> {
    let mut rows = Rows::new("page", &context.database);
    let sign_in_page =
        measure_page(context, subject, subject.sign_in_page(), "GET /signin").await?;
    rows.add(
        SIGN_IN_PAGE_FIGURE,
        sign_in_page.per_sec,
        &format!("≥ {RATE_GOAL:.0} and ≥ {PEER_MULTIPLE:.0} × peer"),
        at_least(sign_in_page.per_sec, RATE_GOAL),
    );
    rows.add_info("GET /signin p99 ms", sign_in_page.p99_ms);
    rows.add_info(
        "GET /signin bench client CPU µs per request",
        sign_in_page.client_cpu_us,
    );
    rows.add_none_wanted("GET /signin 5xx or no answer", sign_in_page.failures);
    if let Some(class_page) = class_page {
        let name = format!("class page ({} learners)", class_page.learners);
        let class = measure_page(context, subject, class_page.request.clone(), &name).await?;
        rows.add(
            &format!("{name} pages/s"),
            class.per_sec,
            &format!("≥ {RATE_GOAL:.0}"),
            at_least(class.per_sec, RATE_GOAL),
        );
        rows.add_info(&format!("{name} p99 ms"), class.p99_ms);
        rows.add_none_wanted(&format!("{name} 5xx or no answer"), class.failures);
    }
    Ok(Figures {
        rows: rows.rows,
        series: Vec::new(),
    })
}

struct PageFigures {
    per_sec: f64,
    p99_ms: f64,
    failures: usize,
    client_cpu_us: f64,
}

async fn measure_page(
    context: &Context,
    subject: &dyn Subject,
    request: Request,
    name: &str,
) -> anyhow::Result<PageFigures> {
    let plan = LoadPlan {
        requests: vec![request],
        concurrency: context.sizes.in_flight,
        sources: context.sizes.sources,
        rate: None,
        duration: Some(context.sizes.page),
    };
    let run = figures::measure(subject, plan).await?;
    run.check_answers(&format!("page {name} on {}", subject.name()), |_| false)?;
    Ok(PageFigures {
        per_sec: run.per_sec(run.successes()),
        p99_ms: run.latency_ms(0.99, |o| is_success(o.status)),
        failures: run.failures(),
        client_cpu_us: run.client_cpu_us_per_request(),
    })
}
