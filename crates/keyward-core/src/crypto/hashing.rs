//! The password hashing pool (R-ACC-3): Argon2id with configurable parameters,
//! run on blocking threads with at most `max_concurrent` hashes at once. A burst
//! queues; a caller that waits longer than the queue timeout is told to retry
//! (`Busy`) instead of piling up memory. Unknown users are checked against a
//! dummy hash so they cost the same work as known ones.
//!
//! Each hashing slot keeps its own Argon2 memory ([`BlockHasher`], 19 MiB with
//! the default parameters), made on the slot's first use and reused for every
//! hash after: a fresh block per hash made the kernel zero-fill ~4,900 pages
//! each time, twice the hash's own CPU time. So the pool holds at most
//! `max_concurrent` blocks, whatever the load, and needs no allocator tuning
//! (keyward used to set glibc's mmap threshold so that freed blocks went back
//! to the system instead of piling up in malloc's arenas).

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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

/// Argon2id (version 0x13) with memory its owner keeps and reuses for every
/// hash: one per hashing thread. The pool's slots use it, and so does the
/// bench's measure of the machine's hashing limit, so both run the same code.
pub struct BlockHasher {
    params: Params,
    memory: Vec<Block>,
}

impl BlockHasher {
    /// Allocates (and touches) the memory `params` need.
    pub fn new(params: Params) -> Self {
        let memory = vec![Block::default(); params.block_count()];
        BlockHasher { params, memory }
    }

    /// Hashes `password` with `salt` (raw bytes) into a PHC string, byte for
    /// byte the one argon2's `PasswordHasher::hash_password` makes.
    pub fn hash_phc(&mut self, password: &[u8], salt: &[u8]) -> Result<String, Internal> {
        let salt_string =
            SaltString::encode_b64(salt).map_err(|e| Internal::new(format!("salt: {e}")))?;
        let argon2 = argon2id(&self.params);
        let output_len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = self
            .output(&argon2, password, salt, output_len)
            .map_err(|e| Internal::new(format!("Argon2id: {e}")))?;
        let params = ParamsString::try_from(&self.params)
            .map_err(|e| Internal::new(format!("Argon2id parameters: {e}")))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params,
            salt: Some(salt_string.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Checks `password` against a stored PHC string, with the stored hash's
    /// own algorithm, version and parameters (as argon2's `verify_password`
    /// does), and tells whether it was made with other parameters than ours.
    /// Only an unreadable string is an error; a readable one that cannot be
    /// recomputed (unknown algorithm, bad parameters, no salt) does not match.
    pub fn verify_phc(&mut self, password: &[u8], phc: &str) -> Result<Verification, Internal> {
        let stored = PasswordHash::new(phc)
            .map_err(|e| Internal::new(format!("stored hash unreadable: {e}")))?;
        Ok(Verification {
            matches: self.matches(password, &stored),
            needs_rehash: self.needs_rehash(&stored),
        })
    }

    fn matches(&mut self, password: &[u8], stored: &PasswordHash<'_>) -> bool {
        let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
            return false;
        };
        let Some(argon2) = stored_argon2(stored) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        match self.output(&argon2, password, salt, expected.len()) {
            // Output's equality is constant-time.
            Ok(computed) => computed == expected,
            Err(_) => false,
        }
    }

    fn needs_rehash(&self, stored: &PasswordHash<'_>) -> bool {
        stored.algorithm.as_str() != "argon2id"
            || Params::try_from(stored)
                .map(|p| {
                    p.m_cost() != self.params.m_cost()
                        || p.t_cost() != self.params.t_cost()
                        || p.p_cost() != self.params.p_cost()
                })
                .unwrap_or(true)
    }

    /// Runs `argon2` in our memory, or in a temporary block when its
    /// parameters need more (a hash stored with a stronger setting).
    fn output(
        &mut self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        len: usize,
    ) -> argon2::password_hash::Result<Output> {
        let needed = argon2.params().block_count();
        Output::init_with(len, |out| {
            if needed <= self.memory.len() {
                argon2.hash_password_into_with_memory(password, salt, out, &mut self.memory[..])?;
            } else {
                let mut temporary = vec![Block::default(); needed];
                argon2.hash_password_into_with_memory(password, salt, out, &mut temporary[..])?;
            }
            Ok(())
        })
    }
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// The Argon2 a stored hash was made with; `None` when it names no Argon2
/// variant, version or valid parameters.
fn stored_argon2(stored: &PasswordHash<'_>) -> Option<Argon2<'static>> {
    let algorithm = Algorithm::try_from(stored.algorithm).ok()?;
    let version = match stored.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(stored).ok()?;
    Some(Argon2::new(algorithm, version, params))
}

/// The idle slots' memory: a slot takes a [`BlockHasher`] with its permit and
/// gives it back when done, so there are never more than `max_concurrent`.
struct IdleMemory {
    params: Params,
    idle: Mutex<Vec<BlockHasher>>,
    made: AtomicUsize,
}

impl IdleMemory {
    /// An idle slot's hasher, or a new one on a slot's first use.
    fn take(&self) -> BlockHasher {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        idle.unwrap_or_else(|| {
            self.made.fetch_add(1, Ordering::Relaxed);
            BlockHasher::new(self.params.clone())
        })
    }

    fn give_back(&self, hasher: BlockHasher) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hasher);
    }
}

pub struct HashingPool {
    slots: Arc<Semaphore>,
    memory: Arc<IdleMemory>,
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
        let mut salt = [0u8; 16];
        rng.fill(&mut salt)?;
        // Its memory is let go: idle slots hold none until their first use.
        let dummy_hash = BlockHasher::new(params.clone())
            .hash_phc(hex::encode(dummy_secret).as_bytes(), &salt)?;
        Ok(HashingPool {
            slots: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
            memory: Arc::new(IdleMemory {
                params,
                idle: Mutex::new(Vec::new()),
                made: AtomicUsize::new(0),
            }),
            queue_timeout: settings.queue_timeout,
            dummy_hash,
            stats: Arc::new(HashingStats::default()),
        })
    }

    pub fn stats(&self) -> Arc<HashingStats> {
        self.stats.clone()
    }

    /// How many Argon2 memory blocks the slots have made (at most `max_concurrent`).
    pub fn memory_blocks(&self) -> usize {
        self.memory.made.load(Ordering::Relaxed)
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
        let password = password.clone();
        self.run(move |hasher| hasher.hash_phc(password.expose().as_bytes(), &salt))
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
        let password = password.clone();
        let verification = self
            .run(move |hasher| hasher.verify_phc(password.expose().as_bytes(), &phc))
            .await?;
        Ok(Verification {
            matches: real && verification.matches,
            needs_rehash: real && verification.needs_rehash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut BlockHasher) -> Result<T, Internal> + Send + 'static,
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
        let memory = self.memory.clone();
        stats.running.fetch_add(1, Ordering::Relaxed);
        let outcome = tokio::task::spawn_blocking(move || {
            let mut hasher = memory.take();
            let result = work(&mut hasher);
            memory.give_back(hasher);
            drop(permit);
            result
        })
        .await;
        stats.running.fetch_sub(1, Ordering::Relaxed);
        stats.completed.fetch_add(1, Ordering::Relaxed);
        outcome.map_err(Internal::new)?.map_err(HashingError::from)
    }
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
        // The same work as a known user's: the dummy has the configured parameters.
        let dummy = PasswordHash::new(&pool.dummy_hash).unwrap();
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
        assert_eq!(
            Params::try_from(&dummy).unwrap().block_count(),
            pool.memory.params.block_count()
        );
        assert_eq!(dummy.params.to_string(), "m=64,t=1,p=1");
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

    /// PHC strings argon2's `PasswordHasher::hash_password` made for
    /// "Correct1" with a salt of sixteen 7s, before the pool reused memory.
    const MADE_BY_HASH_PASSWORD: [(u32, u32, u32, &str); 4] = [
        (
            64,
            1,
            1,
            "$argon2id$v=19$m=64,t=1,p=1$BwcHBwcHBwcHBwcHBwcHBw$qOiKqJ44Evcw0KA9pnWJwnwHW32V+1J3KY/r6b+prdU",
        ),
        (
            128,
            2,
            1,
            "$argon2id$v=19$m=128,t=2,p=1$BwcHBwcHBwcHBwcHBwcHBw$HaPDwEoDwLetUcwjjaUAFy5yEE/UbR/6/UbMKAwK4PA",
        ),
        (
            256,
            1,
            2,
            "$argon2id$v=19$m=256,t=1,p=2$BwcHBwcHBwcHBwcHBwcHBw$JG50QXKV94e7ZY/Zsw4KaRq2PohIJddZdOH4nUtG/cM",
        ),
        (
            19456,
            2,
            1,
            "$argon2id$v=19$m=19456,t=2,p=1$BwcHBwcHBwcHBwcHBwcHBw$jH4/pbgcps2o286kfamB36CInhd5xltuBDVH9H81KPw",
        ),
    ];

    #[test]
    fn phc_strings_are_byte_for_byte_what_hash_password_makes() {
        use argon2::password_hash::PasswordHasher as _;
        for (m, t, p, old) in MADE_BY_HASH_PASSWORD {
            let params = Params::new(m, t, p, None).unwrap();
            let mut hasher = BlockHasher::new(params.clone());
            // Twice: the second hash runs in the first one's dirty memory.
            for _ in 0..2 {
                assert_eq!(hasher.hash_phc(b"Correct1", &[7; 16]).unwrap(), old);
            }
            let salt = SaltString::encode_b64(&[7; 16]).unwrap();
            let live = argon2id(&params)
                .hash_password(b"Correct1", &salt)
                .unwrap()
                .to_string();
            assert_eq!(live, old);
        }
    }

    #[tokio::test]
    async fn hashes_stored_before_verify_with_any_of_their_parameters() {
        let rng = SeededRandom::new(5);
        // m=128: smaller, equal and larger stored memory than the slot's.
        let mut settings = cheap(1, Duration::from_secs(5));
        settings.memory_kib = 128;
        settings.iterations = 2;
        let pool = HashingPool::new(&settings, &rng).unwrap();
        for (m, t, p, old) in MADE_BY_HASH_PASSWORD {
            let right = pool.verify(&pw("Correct1"), Some(old)).await.unwrap();
            let same_params = (m, t, p) == (128, 2, 1);
            assert_eq!(
                right,
                Verification {
                    matches: true,
                    needs_rehash: !same_params
                },
                "{old}"
            );
            let wrong = pool.verify(&pw("correct1"), Some(old)).await.unwrap();
            assert!(!wrong.matches, "{old}");
        }
        assert_eq!(pool.memory_blocks(), 1);
    }

    #[tokio::test]
    async fn a_readable_hash_that_cannot_be_recomputed_does_not_match() {
        let rng = SeededRandom::new(6);
        let pool = HashingPool::new(&cheap(1, Duration::from_secs(5)), &rng).unwrap();
        for (stored, needs_rehash) in [
            (
                "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
                true,
            ),
            ("$argon2id$v=19$m=64,t=1,p=1$BwcHBwcHBwcHBwcHBwcHBw", false),
            (
                "$argon2id$v=19$m=1,t=1,p=1$BwcHBwcHBwcHBwcHBwcHBw$qOiKqJ44Evcw0KA9pnWJwnwHW32V+1J3KY/r6b+prdU",
                true,
            ),
        ] {
            let v = pool.verify(&pw("Correct1"), Some(stored)).await.unwrap();
            assert_eq!(
                v,
                Verification {
                    matches: false,
                    needs_rehash
                },
                "{stored}"
            );
        }
        assert!(
            pool.verify(&pw("Correct1"), Some("not a hash"))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn parallel_verifies_share_max_concurrent_blocks_and_all_answer_right() {
        let rng = SeededRandom::new(7);
        let mut settings = cheap(2, Duration::from_secs(60));
        settings.memory_kib = 1024;
        let pool = Arc::new(HashingPool::new(&settings, &rng).unwrap());
        let stored = pool.hash(&pw("Correct1"), &rng).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..32 {
            let (pool, stored) = (pool.clone(), stored.clone());
            let guess = if i % 2 == 0 { "Correct1" } else { "Wrong1" };
            tasks.push(tokio::spawn(async move {
                let v = pool.verify(&pw(guess), Some(&stored)).await.unwrap();
                (guess == "Correct1", v.matches)
            }));
        }
        for task in tasks {
            let (should, did) = task.await.unwrap();
            assert_eq!(should, did);
        }
        let blocks = pool.memory_blocks();
        assert!((1..=2).contains(&blocks), "{blocks} blocks for 2 slots");
    }
}
