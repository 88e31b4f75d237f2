//! The machine's hashing limit: Argon2id with keyward's parameters, one
//! hashing thread per core, no server — for the hash keyward uses, for
//! RustCrypto's argon2 with a new block per hash, for the reference C
//! implementation built for this CPU, and for argon2-rust (a Rust port of the
//! reference choosing its SIMD kernel at run time; unvetted, measured only).
//! The fastest is the limit sign-ins are divided by.

use anyhow::Context as _;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use keyward_core::crypto::hashing::BlockHasher;
use std::sync::Barrier;
use std::time::{Duration, Instant};

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
    /// e.g. "keyward (RustCrypto argon2 0.5, reused block)", "reference C (argon2-sys, built for this CPU)".
    pub implementation: String,
    /// Hashes per second with `threads` hashing threads.
    pub hashes_per_sec: f64,
    /// CPU time of one hash, in milliseconds.
    pub cpu_ms_per_hash: f64,
}

/// The password and salt every implementation hashes.
const PASSWORD: &[u8] = b"correct horse battery staple";
const SALT: [u8; 16] = *b"keyward-bench-16";

/// Measures each implementation with `threads` threads for `duration`.
pub fn measure(
    params: HashParams,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<Vec<HashLimit>> {
    let argon2_params = argon2_params(params)?;
    let keyward = throughput(
        "keyward (RustCrypto argon2 0.5, reused block)",
        threads,
        duration,
        || {
            let mut hasher = BlockHasher::new(argon2_params.clone());
            Ok(move || {
                hasher
                    .hash_phc(PASSWORD, &SALT)
                    .map(drop)
                    .map_err(anyhow::Error::from)
            })
        },
    )?;
    let fresh_block = throughput(
        "RustCrypto argon2 0.5, a new block per hash",
        threads,
        duration,
        || {
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params.clone());
            Ok(move || hash_password(&argon2))
        },
    )?;
    let reference_c = throughput(
        "reference C (argon2-sys, built for this CPU)",
        threads,
        duration,
        || Ok(move || reference_c_hash(params).map(drop)),
    )?;
    let argon2_rust = throughput(
        "argon2-rust 1.1 (run-time SIMD, pooled; unvetted)",
        threads,
        duration,
        || {
            let mut hasher = argon2_rust_hasher(params).context("argon2-rust parameters")?;
            Ok(move || {
                let mut tag = [0u8; 32];
                hasher
                    .hash_into(PASSWORD, &SALT, &mut tag)
                    .context("argon2-rust")
            })
        },
    )?;
    Ok(vec![keyward, fresh_block, reference_c, argon2_rust])
}

fn argon2_params(params: HashParams) -> anyhow::Result<Params> {
    Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| anyhow::anyhow!("Argon2 parameters {params:?}: {e}"))
}

fn hash_password(argon2: &Argon2<'_>) -> anyhow::Result<()> {
    let salt = SaltString::encode_b64(&SALT).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    argon2
        .hash_password(PASSWORD, &salt)
        .map_err(|e| anyhow::anyhow!("RustCrypto argon2: {e}"))?;
    Ok(())
}

/// The raw 32-byte Argon2id tag from the phc-winner-argon2 C code.
fn reference_c_hash(params: HashParams) -> anyhow::Result<[u8; 32]> {
    let mut out = [0u8; 32];
    // SAFETY: every pointer is valid for the length passed beside it for the
    // whole call; the C code only reads the password and salt and writes `out`.
    let status = unsafe {
        argon2_sys::argon2id_hash_raw(
            params.iterations,
            params.memory_kib,
            params.parallelism,
            PASSWORD.as_ptr().cast(),
            PASSWORD.len(),
            SALT.as_ptr().cast(),
            SALT.len(),
            out.as_mut_ptr().cast(),
            out.len(),
        )
    };
    anyhow::ensure!(
        status == 0,
        "reference C argon2id failed with code {status}"
    );
    Ok(out)
}

/// argon2-rust's pooled hasher (its memory reused like keyward's).
fn argon2_rust_hasher(params: HashParams) -> Result<argon2_rust::Hasher, argon2_rust::Error> {
    use argon2_rust::params::{Memory, TagLen};
    let params = argon2_rust::Params::builder()
        .memory(Memory::kib(u64::from(params.memory_kib)))
        .passes(params.iterations)
        .lanes(params.parallelism)
        .threads(1)
        .tag_len(TagLen::bytes(32))
        .build()?;
    let argon2 = argon2_rust::Argon2::new(
        argon2_rust::Algorithm::Argon2id,
        argon2_rust::Version::V0x13,
        params,
    );
    Ok(argon2.hasher())
}

/// Runs `threads` threads, each with the hash function `setup` made for it,
/// hashing until `duration` has passed; setup (allocating memory) is outside
/// the measure.
fn throughput<S, H>(
    implementation: &str,
    threads: usize,
    duration: Duration,
    setup: S,
) -> anyhow::Result<HashLimit>
where
    S: Fn() -> anyhow::Result<H> + Sync,
    H: FnMut() -> anyhow::Result<()>,
{
    let threads = threads.max(1);
    let start = Barrier::new(threads + 1);
    let (hashes, elapsed, cpu) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let hash = setup();
                    // Every thread reaches the barrier, or the others wait forever.
                    start.wait();
                    let mut hash = hash?;
                    let deadline = Instant::now() + duration;
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        hash()?;
                        count += 1;
                    }
                    anyhow::Ok(count)
                })
            })
            .collect();
        start.wait();
        let (began, cpu_before) = (Instant::now(), process_cpu_time());
        let mut hashes = 0u64;
        for worker in workers {
            hashes += worker
                .join()
                .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))??;
        }
        let cpu = process_cpu_time().and_then(|after| Ok(after - cpu_before?));
        anyhow::Ok((hashes, began.elapsed(), cpu))
    })
    .with_context(|| format!("measuring {implementation}"))?;
    anyhow::ensure!(hashes > 0, "{implementation}: no hash finished");
    Ok(HashLimit {
        implementation: implementation.to_owned(),
        hashes_per_sec: hashes as f64 / elapsed.as_secs_f64(),
        cpu_ms_per_hash: cpu?.as_secs_f64() * 1000.0 / hashes as f64,
    })
}

/// This process's CPU time (utime + stime of `/proc/self/stat`, in the
/// kernel's fixed 100 Hz user ticks).
fn process_cpu_time() -> anyhow::Result<Duration> {
    const TICKS_PER_SEC: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // Fields after the command name (which may hold spaces) start at `state`.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("/proc/self/stat without a command name")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        fields
            .get(index)
            .context("/proc/self/stat too short")?
            .parse()
            .context("/proc/self/stat: a CPU time that is not a number")
    };
    // utime and stime are fields 14 and 15; `state` (field 3) is index 0 here.
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(total * 1000 / TICKS_PER_SEC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_c_keyward_and_argon2_rust_make_the_same_hash() {
        let params = HashParams {
            memory_kib: 256,
            iterations: 2,
            parallelism: 2,
        };
        let c_tag = reference_c_hash(params).unwrap();
        let phc = BlockHasher::new(argon2_params(params).unwrap())
            .hash_phc(PASSWORD, &SALT)
            .unwrap();
        let salt = SaltString::encode_b64(&SALT).unwrap();
        let c_phc = format!(
            "$argon2id$v=19$m=256,t=2,p=2${}${}",
            salt.as_str(),
            argon2::password_hash::Output::new(&c_tag).unwrap()
        );
        assert_eq!(phc, c_phc);
        let mut rust_tag = [0u8; 32];
        argon2_rust_hasher(params)
            .unwrap()
            .hash_into(PASSWORD, &SALT, &mut rust_tag)
            .unwrap();
        assert_eq!(rust_tag, c_tag);
    }

    #[test]
    fn measure_reports_every_implementation() {
        let params = HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let limits = measure(params, 2, Duration::from_millis(50)).unwrap();
        assert_eq!(limits.len(), 4);
        assert!(limits.iter().all(|l| l.hashes_per_sec > 0.0));
    }
}
