//! Throttling of guesses (R-ACC-5, R-CONC-1, R-LOCK-1): counters kept in the
//! database so every instance sees them, reserved *before* a secret is checked.
//!
//! An attempt is counted as a failure the moment it is let through, in one
//! write transaction that first locks the counter's row: parallel requests
//! queue on that lock and each sees the count the one before it left, so they
//! get exactly the tries the sequential rule allows — a few free failures,
//! then each further try waits longer (1 s, 2 s, 4 s, … up to a cap). Success
//! gives the attempt back (`Attempt::succeeded`); a check that never happened
//! (the hashing pool was busy) is refunded (`Attempt::refund`). Counters are
//! forgotten after a quiet spell. Nothing ever locks an account for good.
//!
//! Sign-in delays belong to the pair (account, client) — the client being a
//! device cookie the browser earned by signing in to that account, or else its
//! address group (`address_group`) — so a stranger's wrong guesses never slow
//! the owner's own browser or another address. Per-address counters slow one
//! client guessing across many accounts or codes; no counter is shared by
//! every client, so nobody can slow everyone.

use sha2::Digest;
use std::time::Duration;

use super::store;
use crate::error::Internal;
use crate::settings::ThrottleSettings;
/// The delay rule lives with the settings, which simulate it to validate them.
pub use crate::settings::{delay_after, failures_per_hour};
use crate::store::Db;
use crate::types::UnixTime;

/// The longest wait between two wrong second-factor codes of one account.
pub const SECOND_FACTOR_MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// How long wrong second-factor codes are remembered after the last one.
pub const SECOND_FACTOR_KEEP: Duration = Duration::from_secs(24 * 3600);

/// What a success does to a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// Forget every failure: the secret was right for this subject.
    Clear,
    /// Give back only this attempt: the subject (an address shared by a
    /// school) may still hold other people's failures.
    Refund,
}

/// One throttled subject and its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKey {
    pub(crate) key: String,
    pub(crate) free_failures: u32,
    pub(crate) max_delay: Duration,
    pub(crate) forget_after: Duration,
    pub(crate) on_success: OnSuccess,
}

/// Who is guessing, for the per-account sign-in counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guesser {
    /// A browser holding a valid device cookie for this account.
    Device(String),
    /// Anyone else, by address group.
    Address(String),
}

/// A short, safe key fragment for any typed text (even NUL bytes).
fn digest(text: &str) -> String {
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..16])
}

impl ThrottleKey {
    /// The sign-in counter of one account as tried by one client (whether or
    /// not the account exists, so the answer never reveals which are real).
    pub fn sign_in(username_key: &str, guesser: &Guesser, settings: &ThrottleSettings) -> Self {
        let client = match guesser {
            Guesser::Device(id) => format!("device:{}", digest(id)),
            Guesser::Address(group) => format!("address:{}", digest(group)),
        };
        ThrottleKey {
            key: format!("signin:pair:{}:{client}", digest(username_key)),
            free_failures: settings.account_free_failures,
            max_delay: settings.account_max_delay,
            forget_after: settings.forget_after,
            on_success: OnSuccess::Clear,
        }
    }

    /// The sign-in counter of one client address group, over all accounts.
    pub fn sign_in_address(group: &str, settings: &ThrottleSettings) -> Self {
        ThrottleKey {
            key: format!("signin:address:{}", digest(group)),
            free_failures: settings.address_free_failures,
            max_delay: settings.address_max_delay,
            forget_after: settings.forget_after,
            on_success: OnSuccess::Refund,
        }
    }

    /// Checks of the current password when a signed-in person changes it: the
    /// session is already the account's, so the counter is the account's.
    pub fn current_password(user_id: &str, settings: &ThrottleSettings) -> Self {
        ThrottleKey {
            key: format!("password:current:{}", digest(user_id)),
            free_failures: settings.account_free_failures,
            max_delay: settings.account_max_delay,
            forget_after: settings.forget_after,
            on_success: OnSuccess::Clear,
        }
    }

    /// Two-step codes, recovery codes and passkey assertions of one account,
    /// from every client together: whoever types them already knew the
    /// password, so spreading guesses over many addresses must not buy more.
    /// Stricter than passwords: after the free tries, delays grow to 15
    /// minutes and the count is kept for a day, so about a hundred wrong codes
    /// a day is the most anyone gets (three codes of a million are right at a
    /// time: about one chance in three thousand a day).
    pub fn second_factor(user_id: &str, settings: &ThrottleSettings) -> Self {
        ThrottleKey {
            key: format!("mfa:account:{}", digest(user_id)),
            free_failures: settings.account_free_failures,
            max_delay: SECOND_FACTOR_MAX_DELAY,
            forget_after: settings.forget_after.max(SECOND_FACTOR_KEEP),
            on_success: OnSuccess::Clear,
        }
    }

    /// Code entry (access codes, parent access codes, class codes) from one
    /// client address group.
    pub fn code_entry(group: &str) -> Self {
        ThrottleKey {
            key: format!("code:address:{}", digest(group)),
            free_failures: 10,
            max_delay: Duration::from_secs(60),
            forget_after: Duration::from_secs(3600),
            on_success: OnSuccess::Refund,
        }
    }

    /// Emailed recovery codes typed for one account (or, when the request
    /// named no account, for one browser), across every request and resend:
    /// a new email does not bring new free tries.
    pub fn recovery_code(subject: &str, free_failures: u32) -> Self {
        ThrottleKey {
            key: format!("recovery:code:{}", digest(subject)),
            free_failures,
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(3600),
            on_success: OnSuccess::Clear,
        }
    }
}

/// The group an address is throttled as (`types::throttle_group`: IPv6 by
/// its /64), and `-` when the client's address is unknown (the CLI).
pub fn address_group(addr: Option<&str>) -> String {
    addr.map_or_else(|| "-".to_owned(), crate::types::throttle_group)
}

/// Takes one unit of a fixed-window quota under `key` (for example recovery
/// requests from one address in an hour) in one atomic statement, and returns
/// how many the window holds now, this one included.
pub async fn take_quota(
    db: &Db,
    key: &str,
    window_start_before: UnixTime,
    now: UnixTime,
) -> Result<i64, Internal> {
    let _turn = db.write_turn().await?;
    store::quota_take(db.pool(), key, now, window_start_before).await
}

/// Makes every transaction that calls this with the same `key` wait for the
/// others until it ends (a row lock on PostgreSQL; SQLite's writer
/// transaction already runs alone), so a count-then-write inside it is exact.
pub async fn serialize_on(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    now: UnixTime,
) -> Result<(), Internal> {
    store::throttle_lock(conn, key, now).await.map(|_| ())
}

/// When a delay that starts `now` ends. Times are whole seconds and the real
/// moment may be late in `now`'s second, so a running delay ends one second
/// after `now + delay`: never sooner than the delay, at most a second later.
/// No delay is 0, not `now`: a request that began a second before this one
/// (its `now` one less: it waited in a queue, or on another instance) would
/// take `now` for a delay running and be refused without any failure.
fn blocked_until(now: UnixTime, delay: Duration) -> UnixTime {
    if delay.is_zero() {
        UnixTime(0)
    } else {
        now.plus(delay + Duration::from_secs(1))
    }
}

/// Attempts let through and counted, waiting to learn how they went.
#[must_use = "an attempt is counted as a failure unless it is settled as a success"]
#[derive(Debug)]
pub struct Attempt {
    keys: Vec<ThrottleKey>,
}

/// Lets one attempt through every key, or none: either every counter counts
/// it (as a failure until told otherwise) or the answer is the seconds to wait.
/// Keys are locked in a fixed order, so two attempts never wait on each other.
pub async fn reserve(
    db: &Db,
    keys: Vec<ThrottleKey>,
    now: UnixTime,
) -> Result<Result<Attempt, u64>, Internal> {
    let mut keys = keys;
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    keys.dedup_by(|a, b| a.key == b.key);
    let mut tx = db.begin_write().await?;
    for key in &keys {
        let counter = store::throttle_lock(&mut tx, &key.key, now).await?;
        if counter.blocked_until > now.secs() {
            tx.rollback().await?;
            return Ok(Err(now.secs_until(UnixTime(counter.blocked_until)).max(1)));
        }
        let earlier = if counter.last_failure_at < now.minus(key.forget_after).secs() {
            0
        } else {
            counter.failures
        };
        let failures = earlier.saturating_add(1);
        let delay = delay_after(
            u32::try_from(failures).unwrap_or(u32::MAX),
            key.free_failures,
            key.max_delay,
        );
        store::throttle_set(&mut tx, &key.key, failures, now, blocked_until(now, delay)).await?;
    }
    tx.commit().await?;
    Ok(Ok(Attempt { keys }))
}

impl Attempt {
    /// The secret was right: counters that belong to the subject are
    /// cleared, shared ones get this attempt back.
    pub async fn succeeded(self, conn: &mut sqlx::AnyConnection) -> Result<(), Internal> {
        for key in &self.keys {
            match key.on_success {
                OnSuccess::Clear => store::throttle_clear(&mut *conn, &key.key).await?,
                OnSuccess::Refund => {
                    store::throttle_refund(conn, &key.key, key.free_failures).await?
                }
            }
        }
        Ok(())
    }

    /// [`Attempt::succeeded`] in a transaction of its own, for a check that
    /// writes nothing else.
    pub async fn succeeded_now(self, db: &Db) -> Result<(), Internal> {
        let mut tx = db.begin_write().await?;
        self.succeeded(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The secret was never checked (for example the hashing pool was busy):
    /// every counter gets this attempt back.
    pub async fn refund(self, db: &Db) -> Result<(), Internal> {
        let mut tx = db.begin_write().await?;
        for key in &self.keys {
            store::throttle_refund(&mut tx, &key.key, key.free_failures).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The secret was wrong: the attempt stays counted.
    pub fn failed(self) {}
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
    fn a_delay_never_ends_sooner_than_it_says_even_late_in_a_second() {
        let now = UnixTime(1000);
        assert_eq!(blocked_until(now, Duration::ZERO), UnixTime(0));
        // Started at 1000.97 s, a one-second delay must last until 1001.97 s,
        // so the first whole second it is over is 1002.
        assert_eq!(blocked_until(now, Duration::from_secs(1)), UnixTime(1002));
        assert_eq!(blocked_until(now, Duration::from_secs(16)), UnixTime(1017));
    }

    #[test]
    fn a_short_cap_allows_more_than_100_tries() {
        assert!(failures_per_hour(5, Duration::from_secs(30)) > 100);
    }

    #[test]
    fn addresses_group_by_their_throttle_group_and_unknown_is_one_group() {
        assert_eq!(
            address_group(Some("2001:db8:1:2:aaaa::1")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(address_group(None), "-");
    }
}
