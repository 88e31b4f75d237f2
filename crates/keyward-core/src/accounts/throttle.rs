//! Throttling of failed attempts (R-ACC-5): counters per account and per client
//! address, kept in the database so every instance sees them. After a few free
//! failures each further failure makes the next try wait longer (1 s, 2 s, 4 s,
//! … up to a cap); nothing ever locks an account for good, so an attacker
//! cannot lock a teacher out, and with the cap of at least 36 s no account sees
//! more than 100 failed tries an hour. Counters are forgotten after a quiet spell.

use sha2::Digest;
use sqlx::{Any, Executor};
use std::time::Duration;

use super::store;
use crate::error::Internal;
use crate::settings::ThrottleSettings;
use crate::store::Db;
use crate::types::UnixTime;

/// One throttled subject and its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKey {
    pub(crate) key: String,
    pub(crate) free_failures: u32,
    pub(crate) max_delay: Duration,
    pub(crate) forget_after: Duration,
}

impl ThrottleKey {
    /// The sign-in counter of one account, by username key (whether or not the
    /// account exists, so the answer never reveals which usernames are real).
    pub fn account(username_key: &str, settings: &ThrottleSettings) -> Option<ThrottleKey> {
        // Hashed, so any typed text (even NUL bytes) makes a safe, short key.
        let digest = hex::encode(sha2::Sha256::digest(username_key.as_bytes()));
        Some(ThrottleKey {
            key: format!("signin:account:{digest}"),
            free_failures: settings.account_free_failures,
            max_delay: settings.account_max_delay,
            forget_after: settings.forget_after,
        })
    }

    /// The sign-in counter of one client address.
    pub fn address(addr: Option<&str>, settings: &ThrottleSettings) -> Option<ThrottleKey> {
        addr.map(|addr| ThrottleKey {
            key: format!("signin:address:{}", addr.replace('\0', "")),
            free_failures: settings.address_free_failures,
            max_delay: settings.address_max_delay,
            forget_after: settings.forget_after,
        })
    }
}

/// How long the next try must wait after `failures` failures in a row.
pub fn delay_after(failures: u32, free_failures: u32, max_delay: Duration) -> Duration {
    if failures <= free_failures {
        return Duration::ZERO;
    }
    let exponent = (failures - free_failures - 1).min(20);
    Duration::from_secs(1u64 << exponent).min(max_delay)
}

/// How many failures an attacker who retries the moment it is allowed gets
/// through in one hour under a rule (used to validate the settings).
pub fn failures_per_hour(free_failures: u32, max_delay: Duration) -> u32 {
    let (mut elapsed, mut failures) = (0u64, 0u32);
    while elapsed < 3600 && failures < 10_000 {
        failures += 1;
        elapsed += delay_after(failures, free_failures, max_delay).as_secs();
    }
    failures
}

/// Seconds until the key may try again, or `None` when it may try now.
pub async fn blocked_for(
    db: &Db,
    key: &ThrottleKey,
    now: UnixTime,
) -> Result<Option<u64>, Internal> {
    let blocked_until = store::throttle_blocked_until(db, &key.key).await?;
    Ok(blocked_until
        .filter(|until| *until > now)
        .map(|until| now.secs_until(until).max(1)))
}

/// Counts one more failure and sets when the next try is allowed.
pub async fn record_failure(db: &Db, key: &ThrottleKey, now: UnixTime) -> Result<(), Internal> {
    let failures =
        store::throttle_count_failure(db, &key.key, now, now.minus(key.forget_after)).await?;
    let failures = u32::try_from(failures).unwrap_or(u32::MAX);
    let delay = delay_after(failures, key.free_failures, key.max_delay);
    if !delay.is_zero() {
        store::throttle_block_until(db, &key.key, now.plus(delay)).await?;
    }
    Ok(())
}

/// Forgets a key's failures (after a successful sign-in).
pub async fn clear<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    key: &ThrottleKey,
) -> Result<(), Internal> {
    store::throttle_clear(exec, &key.key).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_grow_to_the_cap() {
        let cap = Duration::from_secs(40);
        let delays: Vec<u64> = (1..=13).map(|n| delay_after(n, 5, cap).as_secs()).collect();
        assert_eq!(delays, vec![0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 40, 40]);
    }

    #[test]
    fn no_account_sees_more_than_100_failed_tries_an_hour_by_default() {
        let settings = ThrottleSettings::default();
        let tries = failures_per_hour(settings.account_free_failures, settings.account_max_delay);
        assert!(tries <= 100, "{tries} tries in an hour");
        assert!(
            tries >= 90,
            "the default should not be stricter than needed: {tries}"
        );
    }

    #[test]
    fn a_short_cap_allows_more_than_100_tries() {
        assert!(failures_per_hour(5, Duration::from_secs(30)) > 100);
    }
}
