//! Prometheus metrics (`/metrics`): request latency by route and status, the
//! hashing pool's queue depth, running hashes and waits, and the email
//! outbox (queued, sent, given up, retried, skipped). The registry is per
//! `AppState`, never global, so tests do not share numbers.

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
use keyward_core::mail::MailStats;

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
    mail: Arc<MailStats>,
    emails_queued: Gauge,
    emails_sent: Counter,
    emails_failed: Counter,
    emails_retries: Counter,
    emails_skipped: Counter,
}

impl Metrics {
    pub fn new(hashing: Arc<HashingStats>, mail: Arc<MailStats>) -> Metrics {
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
        let emails_queued = Gauge::default();
        registry.register(
            "emails_queued",
            "Emails waiting in the outbox (all instances), as last counted by this instance",
            emails_queued.clone(),
        );
        let emails_sent = Counter::default();
        registry.register(
            "emails_sent",
            "Emails handed to the mail transport by this instance",
            emails_sent.clone(),
        );
        let emails_failed = Counter::default();
        registry.register(
            "emails_failed",
            "Emails given up after their last attempt",
            emails_failed.clone(),
        );
        let emails_retries = Counter::default();
        registry.register(
            "emails_retries",
            "Failed email attempts scheduled to be tried again",
            emails_retries.clone(),
        );
        let emails_skipped = Counter::default();
        registry.register(
            "emails_skipped",
            "Outbox rows finished without sending, on purpose",
            emails_skipped.clone(),
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
            mail,
            emails_queued,
            emails_sent,
            emails_failed,
            emails_retries,
            emails_skipped,
        }
    }

    /// The text exposition, with the hashing and mail numbers read fresh.
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
        let mail = &self.mail;
        self.emails_queued.set(mail.queued.load(Ordering::Relaxed));
        catch_up(&self.emails_sent, mail.sent.load(Ordering::Relaxed));
        catch_up(&self.emails_failed, mail.failed.load(Ordering::Relaxed));
        catch_up(&self.emails_retries, mail.retries.load(Ordering::Relaxed));
        catch_up(&self.emails_skipped, mail.skipped.load(Ordering::Relaxed));
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
