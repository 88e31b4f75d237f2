//! The machine's hashing limit: Argon2id with keyward's parameters, one
//! hashing thread per core, no server — for the hash keyward uses and for the
//! reference C implementation built for this CPU. The fastest is the limit
//! sign-ins are divided by.

use std::time::Duration;

/// Argon2id's parameters (keyward's `hashing.*` settings).
#[derive(Debug, Clone, Copy)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// The throughput of one implementation.
#[derive(Debug, Clone)]
pub struct HashLimit {
    /// e.g. "keyward (RustCrypto argon2, reused block)", "reference C (argon2-kdf)".
    pub implementation: String,
    /// Hashes per second with `threads` hashing threads.
    pub hashes_per_sec: f64,
    /// CPU time of one hash, in milliseconds.
    pub cpu_ms_per_hash: f64,
}

/// Measures each implementation with `threads` threads for `duration`.
pub fn measure(
    _params: HashParams,
    _threads: usize,
    _duration: Duration,
) -> anyhow::Result<Vec<HashLimit>> {
    anyhow::bail!("the hashing limit is not measured yet")
}
