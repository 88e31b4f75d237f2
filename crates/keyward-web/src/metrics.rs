//! Prometheus metrics (`/metrics`): request latency by route and status, and
//! the hashing pool's queue depth, running hashes and waits. The registry is
//! per `AppState`, never global, so tests do not share numbers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use keyward_core::crypto::hashing::HashingStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route pattern (never the raw path, which may carry tokens).
    pub route: String,
    pub status: u16,
}

type LatencyFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub request_seconds: LatencyFamily,
    hashing: Arc<HashingStats>,
    hashing_waiting: Gauge,
    hashing_running: Gauge,
    hashing_completed: Counter,
    hashing_rejected: Counter,
    hashing_wait_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Metrics {
    pub fn new(hashing: Arc<HashingStats>) -> Metrics {
        let mut registry = Registry::with_prefix("keyward");
        let request_seconds = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            request_seconds.clone(),
        );
        let hashing_waiting = Gauge::default();
        registry.register(
            "hashing_queue_depth",
            "Requests waiting for a password hashing slot",
            hashing_waiting.clone(),
        );
        let hashing_running = Gauge::default();
        registry.register(
            "hashing_running",
            "Password hashes being computed",
            hashing_running.clone(),
        );
        let hashing_completed = Counter::default();
        registry.register(
            "hashing_completed",
            "Password hashes computed",
            hashing_completed.clone(),
        );
        let hashing_rejected = Counter::default();
        registry.register(
            "hashing_rejected",
            "Requests turned away because the hashing queue wait ran out",
            hashing_rejected.clone(),
        );
        let hashing_wait_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "hashing_wait_seconds_total",
            "Total time requests waited for a hashing slot",
            hashing_wait_seconds.clone(),
        );
        Metrics {
            registry,
            request_seconds,
            hashing,
            hashing_waiting,
            hashing_running,
            hashing_completed,
            hashing_rejected,
            hashing_wait_seconds,
        }
    }

    /// The text exposition, with the hashing numbers read fresh.
    pub fn render(&self) -> String {
        let stats = &self.hashing;
        self.hashing_waiting
            .set(stats.waiting.load(Ordering::Relaxed));
        self.hashing_running
            .set(stats.running.load(Ordering::Relaxed));
        catch_up(
            &self.hashing_completed,
            stats.completed.load(Ordering::Relaxed),
        );
        catch_up(
            &self.hashing_rejected,
            stats.rejected.load(Ordering::Relaxed),
        );
        self.hashing_wait_seconds
            .set(stats.wait_micros_total.load(Ordering::Relaxed) as f64 / 1_000_000.0);
        let mut body = String::new();
        if encode(&mut body, &self.registry).is_err() {
            body.clear();
        }
        body
    }
}

/// Counters only go up: add the difference since the last scrape.
fn catch_up(counter: &Counter, total: u64) {
    let seen = counter.get();
    if total > seen {
        counter.inc_by(total - seen);
    }
}
