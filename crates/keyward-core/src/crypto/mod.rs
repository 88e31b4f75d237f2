//! Cryptography keyward relies on: opaque tokens stored only as hashes, the bounded Argon2id
//! hashing pool, and sealing (AES-256-GCM with key ids, keyed look-up hashes,
//! the key file, the one table of sealed secrets and key rotation).

pub mod hashing;
pub mod key_file;
pub mod sealing;
pub(crate) mod store;
pub mod tokens;
