//! Time as whole seconds since the Unix epoch: the one representation stored in
//! both databases. The current time is read once per request and passed down.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// The wall clock. Call this at the edge (a request, a CLI command), never deep inside.
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    pub fn secs(self) -> i64 {
        self.0
    }

    pub fn plus(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_add(secs))
    }

    pub fn minus(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_sub(secs))
    }

    /// Whole seconds from `self` until `later`, zero if `later` has passed.
    pub fn secs_until(self, later: UnixTime) -> u64 {
        u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0)
    }
}
