//! The password hashing pool (R-ACC-3): Argon2id with configurable parameters,
//! run on blocking threads with at most `max_concurrent` hashes at once. A burst
//! queues; a caller that waits longer than the queue timeout is told to retry
//! (`Busy`) instead of piling up memory. Unknown users are checked against a
//! dummy hash so they cost the same work as known ones.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use crate::error::Internal;
use crate::settings::HashingSettings;
use crate::types::Password;
use crate::types::random::Random;

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every hashing slot stayed busy for the whole queue timeout.
    #[error("the server is busy checking passwords; try again shortly")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash used other parameters than the configured ones.
    pub needs_rehash: bool,
}

/// Live numbers for `/metrics`.
#[derive(Debug, Default)]
pub struct HashingStats {
    /// Requests waiting for a hashing slot right now.
    pub waiting: AtomicI64,
    /// Hashes being computed right now.
    pub running: AtomicI64,
    /// Total hashes computed.
    pub completed: AtomicU64,
    /// Requests turned away because the queue wait ran out.
    pub rejected: AtomicU64,
    /// Sum of queue waits, in microseconds.
    pub wait_micros_total: AtomicU64,
}

pub struct HashingPool {
    params: Params,
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
    dummy_hash: String,
    stats: Arc<HashingStats>,
}

/// Every use case refuses an over-long password with its own answer before
/// it gets here; one that slipped past them is a bug, not work for the pool.
fn refuse_over_long(password: &Password) -> Result<(), HashingError> {
    if password.is_over_long() {
        return Err(Internal::new("an over-long password reached the hashing pool").into());
    }
    Ok(())
}

impl HashingPool {
    pub fn new(settings: &HashingSettings, rng: &dyn Random) -> Result<Self, Internal> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| Internal::new(format!("invalid Argon2 parameters: {e}")))?;
        let mut dummy_secret = [0u8; 32];
        rng.fill(&mut dummy_secret)?;
        let dummy_password = Password::new(hex::encode(dummy_secret));
        let dummy_hash = hash_blocking(&params, &dummy_password, rng)?;
        Ok(HashingPool {
            params,
            slots: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
            queue_timeout: settings.queue_timeout,
            dummy_hash,
            stats: Arc::new(HashingStats::default()),
        })
    }

    pub fn stats(&self) -> Arc<HashingStats> {
        self.stats.clone()
    }

    /// Hashes a new password with the configured parameters.
    pub async fn hash(
        &self,
        password: &Password,
        rng: &dyn Random,
    ) -> Result<String, HashingError> {
        refuse_over_long(password)?;
        let mut salt = [0u8; 16];
        rng.fill(&mut salt).map_err(Internal::from)?;
        let params = self.params.clone();
        let password = password.clone();
        self.run(move || hash_with_salt(&params, &password, &salt))
            .await
    }

    /// Checks a password against a stored hash, or against the dummy hash when
    /// there is none (unknown user, pending account) so the work is the same.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verification, HashingError> {
        refuse_over_long(password)?;
        let real = stored.is_some();
        let phc = stored.unwrap_or(&self.dummy_hash).to_owned();
        let params = self.params.clone();
        let password = password.clone();
        let verification = self
            .run(move || verify_blocking(&params, &password, &phc))
            .await?;
        Ok(Verification {
            matches: real && verification.matches,
            needs_rehash: real && verification.needs_rehash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Internal> + Send + 'static,
    ) -> Result<T, HashingError> {
        let queued_at = Instant::now();
        self.stats.waiting.fetch_add(1, Ordering::Relaxed);
        let permit =
            tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await;
        self.stats.waiting.fetch_sub(1, Ordering::Relaxed);
        let waited = u64::try_from(queued_at.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.stats
            .wait_micros_total
            .fetch_add(waited, Ordering::Relaxed);
        let permit = match permit {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => return Err(Internal::new(closed).into()),
            Err(_elapsed) => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(HashingError::Busy {
                    retry_after_secs: self.queue_timeout.as_secs().clamp(1, 30),
                });
            }
        };
        let stats = self.stats.clone();
        stats.running.fetch_add(1, Ordering::Relaxed);
        let outcome = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await;
        stats.running.fetch_sub(1, Ordering::Relaxed);
        stats.completed.fetch_add(1, Ordering::Relaxed);
        outcome.map_err(Internal::new)?.map_err(HashingError::from)
    }
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with_salt(params: &Params, password: &Password, salt: &[u8]) -> Result<String, Internal> {
    let salt = SaltString::encode_b64(salt).map_err(|e| Internal::new(e.to_string()))?;
    argon2id(params)
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Internal::new(e.to_string()))
}

fn hash_blocking(
    params: &Params,
    password: &Password,
    rng: &dyn Random,
) -> Result<String, Internal> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)?;
    hash_with_salt(params, password, &salt)
}

fn verify_blocking(
    params: &Params,
    password: &Password,
    phc: &str,
) -> Result<Verification, Internal> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| Internal::new(format!("stored hash unreadable: {e}")))?;
    let matches = argon2id(params)
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok();
    let needs_rehash = parsed.algorithm.as_str() != "argon2id"
        || Params::try_from(&parsed)
            .map(|p| {
                p.m_cost() != params.m_cost()
                    || p.t_cost() != params.t_cost()
                    || p.p_cost() != params.p_cost()
            })
            .unwrap_or(true);
    Ok(Verification {
        matches,
        needs_rehash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::random::SeededRandom;

    fn cheap(max_concurrent: usize, queue_timeout: Duration) -> HashingSettings {
        HashingSettings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            max_concurrent,
            queue_timeout,
            allow_weak: true,
        }
    }

    fn pw(text: &str) -> Password {
        Password::from(text)
    }

    #[tokio::test]
    async fn hash_then_verify_round_trips_and_wrong_password_fails() {
        let rng = SeededRandom::new(1);
        let pool = HashingPool::new(&cheap(2, Duration::from_secs(5)), &rng).unwrap();
        let hash = pool.hash(&pw("Correct1"), &rng).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("Correct1"));
        assert!(
            pool.verify(&pw("Correct1"), Some(&hash))
                .await
                .unwrap()
                .matches
        );
        assert!(
            !pool
                .verify(&pw("correct1"), Some(&hash))
                .await
                .unwrap()
                .matches
        );
    }

    #[tokio::test]
    async fn unknown_user_is_checked_against_the_dummy_and_never_matches() {
        let rng = SeededRandom::new(2);
        let pool = HashingPool::new(&cheap(2, Duration::from_secs(5)), &rng).unwrap();
        let before = pool.stats().completed.load(Ordering::Relaxed);
        let v = pool.verify(&pw("anything"), None).await.unwrap();
        assert!(!v.matches);
        assert_eq!(pool.stats().completed.load(Ordering::Relaxed), before + 1);
    }

    #[tokio::test]
    async fn hash_with_old_parameters_asks_for_rehash() {
        let rng = SeededRandom::new(3);
        let old = HashingPool::new(&cheap(1, Duration::from_secs(5)), &rng).unwrap();
        let hash = old.hash(&pw("Correct1"), &rng).await.unwrap();
        let mut newer = cheap(1, Duration::from_secs(5));
        newer.memory_kib = 128;
        let pool = HashingPool::new(&newer, &rng).unwrap();
        let v = pool.verify(&pw("Correct1"), Some(&hash)).await.unwrap();
        assert!(v.matches && v.needs_rehash);
        let fresh = pool.hash(&pw("Correct1"), &rng).await.unwrap();
        assert!(
            !pool
                .verify(&pw("Correct1"), Some(&fresh))
                .await
                .unwrap()
                .needs_rehash
        );
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_instead_of_waiting_forever() {
        let rng = SeededRandom::new(4);
        let mut settings = cheap(1, Duration::from_millis(1));
        settings.memory_kib = 32 * 1024;
        settings.iterations = 4;
        let pool = Arc::new(HashingPool::new(&settings, &rng).unwrap());
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(
                async move { pool.verify(&pw("x"), None).await },
            ));
        }
        let mut busy = 0;
        for task in tasks {
            if let Err(HashingError::Busy { retry_after_secs }) = task.await.unwrap() {
                assert!(retry_after_secs >= 1);
                busy += 1;
            }
        }
        assert!(
            busy > 0,
            "with one slot and a 1 ms queue, some requests must be turned away"
        );
        assert!(pool.stats().rejected.load(Ordering::Relaxed) > 0);
    }
}
