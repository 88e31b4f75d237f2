//! Answers whose timing must not tell anything (R-REC-2): a recovery request
//! does different store work for an existing, a missing, an ineligible or a
//! throttled account, so its answer is held back until a fixed time after the
//! request arrived. The floor is far above the work on an idle server, so
//! every path answers at the floor and only the floor can be measured.

use std::future::Future;
use std::time::Duration;

/// The earliest a recovery request is answered after it arrived. The work
/// takes about a millisecond on an idle server.
pub const RECOVERY_ANSWER_FLOOR: Duration = Duration::from_millis(12);

/// Runs `work` and answers no sooner than `floor` after it started.
pub async fn no_sooner_than<T>(floor: Duration, work: impl Future<Output = T>) -> T {
    let deadline = tokio::time::Instant::now() + floor;
    let answer = work.await;
    tokio::time::sleep_until(deadline).await;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_quick_answer_waits_for_the_floor_and_a_slow_one_does_not_wait_more() {
        let start = tokio::time::Instant::now();
        no_sooner_than(Duration::from_millis(12), async {}).await;
        assert_eq!(start.elapsed(), Duration::from_millis(12));
        let start = tokio::time::Instant::now();
        no_sooner_than(
            Duration::from_millis(12),
            tokio::time::sleep(Duration::from_millis(30)),
        )
        .await;
        assert_eq!(start.elapsed(), Duration::from_millis(30));
    }
}
