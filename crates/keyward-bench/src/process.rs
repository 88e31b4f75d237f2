//! Readings of a process from outside: resident memory (VmRSS, VmHWM), CPU
//! time (utime + stime) and minor page faults from `/proc/PID/stat` and
//! `/proc/PID/status`; snapshots and their differences over a scenario, and a
//! sampler that follows resident memory every ~100 ms for its peak.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// One process (or a group of processes, summed) at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    /// User + system CPU time, in seconds.
    pub cpu_secs: f64,
    /// Minor page faults (a page mapped without I/O: zero-filled or shared).
    pub minor_faults: u64,
    /// Resident memory now (VmRSS), KiB.
    pub rss_kib: u64,
    /// The peak of resident memory over the process's life (VmHWM), KiB.
    pub hwm_kib: u64,
}

impl Reading {
    fn add(self, other: Reading) -> Reading {
        Reading {
            cpu_secs: self.cpu_secs + other.cpu_secs,
            minor_faults: self.minor_faults + other.minor_faults,
            rss_kib: self.rss_kib + other.rss_kib,
            hwm_kib: self.hwm_kib + other.hwm_kib,
        }
    }
}

/// Reads one process.
pub fn read(pid: u32) -> anyhow::Result<Reading> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let (ticks, minor_faults) =
        parse_stat(&stat).with_context(|| format!("parsing /proc/{pid}/stat"))?;
    Ok(Reading {
        cpu_secs: ticks as f64 / clock_ticks_per_sec(),
        minor_faults,
        rss_kib: status_kib(&status, "VmRSS:").unwrap_or(0),
        hwm_kib: status_kib(&status, "VmHWM:").unwrap_or(0),
    })
}

/// Resets the process's VmHWM to its VmRSS (Linux ≥ 4.0, a process of our
/// own); false when not allowed.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Reads the processes and sums them (gunicorn's master and workers).
pub fn read_all(pids: &[u32]) -> anyhow::Result<Reading> {
    pids.iter()
        .try_fold(Reading::default(), |sum, &pid| Ok(sum.add(read(pid)?)))
}

/// `(utime + stime in clock ticks, minor faults)` from a `/proc/PID/stat`
/// line. The command name (field 2) may hold spaces and parentheses, so the
/// fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(u64, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is field 3 (state): minflt is field 10, utime 14, stime 15.
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some((field(14)? + field(15)?, field(10)?))
}

/// A `Name:   123 kB` line of `/proc/PID/status`, in KiB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`, read once). It is
/// 100 on every Linux architecture this runs on, which is also the fallback
/// when `getconf` is missing.
fn clock_ticks_per_sec() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse::<f64>().ok())
            .filter(|&ticks| ticks > 0.0)
            .unwrap_or(100.0)
    })
}

/// The processes' summed reading at one moment, to subtract from a later one.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pids: Vec<u32>,
    at: Instant,
    reading: Reading,
}

/// What the processes used between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub wall: Duration,
    pub cpu_secs: f64,
    pub minor_faults: u64,
    /// Resident memory at the later snapshot, KiB.
    pub rss_kib: u64,
    /// VmHWM summed over the processes at the later snapshot, KiB.
    pub hwm_kib: u64,
}

impl Snapshot {
    pub fn take(pids: &[u32]) -> anyhow::Result<Snapshot> {
        Ok(Snapshot {
            pids: pids.to_vec(),
            at: Instant::now(),
            reading: read_all(pids)?,
        })
    }

    /// Reads the same processes again and returns what they used since.
    pub fn usage_since(&self) -> anyhow::Result<Usage> {
        let later = Snapshot::take(&self.pids)?;
        Ok(later.minus(self))
    }

    fn minus(&self, earlier: &Snapshot) -> Usage {
        Usage {
            wall: self.at.saturating_duration_since(earlier.at),
            cpu_secs: (self.reading.cpu_secs - earlier.reading.cpu_secs).max(0.0),
            minor_faults: self
                .reading
                .minor_faults
                .saturating_sub(earlier.reading.minor_faults),
            rss_kib: self.reading.rss_kib,
            hwm_kib: self.reading.hwm_kib,
        }
    }
}

/// Follows the processes' summed resident memory every `interval` on a
/// background task until [`RssSampler::stop`].
pub struct RssSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<RssTrace>,
}

/// The resident memory seen by a sampler.
#[derive(Debug, Clone, Default)]
pub struct RssTrace {
    /// The largest sum seen, KiB.
    pub peak_kib: u64,
    /// `(seconds from the start, KiB)` for each reading.
    pub points: Vec<(f64, u64)>,
}

impl RssSampler {
    pub const INTERVAL: Duration = Duration::from_millis(100);

    pub fn start(pids: &[u32], interval: Duration) -> RssSampler {
        let pids = pids.to_vec();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let start = Instant::now();
            let mut trace = RssTrace::default();
            let mut ticks = tokio::time::interval(interval);
            loop {
                tokio::select! {
                    _ = ticks.tick() => trace.record(start, &pids),
                    _ = &mut stopped => break,
                }
            }
            trace.record(start, &pids);
            trace
        });
        RssSampler { stop, task }
    }

    pub async fn stop(self) -> anyhow::Result<RssTrace> {
        // The task may have ended already; then the send has no one to tell.
        let _ = self.stop.send(());
        self.task.await.context("the memory sampler failed")
    }
}

impl RssTrace {
    fn record(&mut self, start: Instant, pids: &[u32]) {
        // A process that has just exited reads as nothing rather than an error.
        let Ok(reading) = read_all(pids) else { return };
        self.peak_kib = self.peak_kib.max(reading.rss_kib);
        self.points
            .push((start.elapsed().as_secs_f64(), reading.rss_kib));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_count_from_the_last_parenthesis() {
        let line = "4242 (we (ird) name) S 1 2 3 0 -1 4194560 777 0 0 0 150 50 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_stat(line), Some((200, 777)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn status_lines_give_kib() {
        let status = "Name:\tkeyward\nVmHWM:\t   20480 kB\nVmRSS:\t   19000 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(19_000));
        assert_eq!(status_kib(status, "VmHWM:"), Some(20_480));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn this_process_reads_and_its_use_grows() {
        let me = std::process::id();
        let before = Snapshot::take(&[me]).expect("snapshot");
        // Burn some CPU and touch fresh pages.
        let mut pages = vec![0u8; 8 << 20];
        for i in (0..pages.len()).step_by(4096) {
            pages[i] = 1;
        }
        // Spin until the kernel has counted some CPU (the machine is shared,
        // so no fixed time would do), giving up after a while.
        let give_up = Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        let used = loop {
            for _ in 0..1_000_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            let used = before.usage_since().expect("usage");
            if used.cpu_secs >= 0.03 || Instant::now() > give_up {
                break used;
            }
        };
        std::hint::black_box((x, &pages));
        assert!(used.cpu_secs >= 0.03, "{used:?}");
        assert!(used.minor_faults >= 1_000, "{used:?}");
        assert!(
            used.rss_kib > 8 * 1024 && used.hwm_kib >= used.rss_kib,
            "{used:?}"
        );
        assert!(read_all(&[me, me]).expect("two").rss_kib >= 2 * 8 * 1024);
        assert!(read(u32::MAX).is_err());
    }

    #[tokio::test]
    async fn the_sampler_keeps_the_peak() {
        let sampler = RssSampler::start(&[std::process::id()], Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(60)).await;
        let trace = sampler.stop().await.expect("trace");
        assert!(trace.points.len() >= 3, "{trace:?}");
        assert!(trace.peak_kib > 0);
        assert_eq!(
            trace.peak_kib,
            trace.points.iter().map(|p| p.1).max().unwrap_or(0)
        );
    }
}
