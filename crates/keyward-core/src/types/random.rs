//! Randomness as a value passed into use cases: the operating system's in
//! production, a seeded deterministic source in tests.

use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(String);

pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The operating system's cryptographic random number generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
    }
}

/// A deterministic source for tests: SHA-256 in counter mode over a seed.
/// Never use it for real secrets.
pub struct SeededRandom {
    state: Mutex<(u64, u64)>,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom {
            state: Mutex::new((seed, 0)),
        }
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        use sha2::{Digest, Sha256};
        let mut state = self
            .state
            .lock()
            .map_err(|_| RandomError("seeded random poisoned".into()))?;
        for chunk in buf.chunks_mut(32) {
            let mut hasher = Sha256::new();
            hasher.update(state.0.to_le_bytes());
            hasher.update(state.1.to_le_bytes());
            state.1 += 1;
            let block = hasher.finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl From<RandomError> for crate::error::Internal {
    fn from(err: RandomError) -> Self {
        crate::error::Internal::new(err)
    }
}

/// A uniformly chosen index below `bound` (rejection sampling, no modulo bias).
pub fn random_below(rng: &dyn Random, bound: u32) -> Result<u32, RandomError> {
    if bound <= 1 {
        return Ok(0);
    }
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let mut bytes = [0u8; 4];
        rng.fill(&mut bytes)?;
        let value = u32::from_le_bytes(bytes);
        if value < zone {
            return Ok(value % bound);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_is_repeatable_and_seed_dependent() {
        let mut a = [0u8; 40];
        let mut b = [0u8; 40];
        let mut c = [0u8; 40];
        SeededRandom::new(1).fill(&mut a).unwrap();
        SeededRandom::new(1).fill(&mut b).unwrap();
        SeededRandom::new(2).fill(&mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn os_random_fills_with_fresh_bytes() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom.fill(&mut a).unwrap();
        OsRandom.fill(&mut b).unwrap();
        assert_ne!(a, [0u8; 32]);
        assert_ne!(a, b);
    }

    #[test]
    fn random_below_stays_in_range() {
        let rng = SeededRandom::new(7);
        for _ in 0..1000 {
            assert!(random_below(&rng, 10).unwrap() < 10);
        }
    }
}
