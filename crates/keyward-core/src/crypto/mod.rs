//! Cryptography keyward relies on: randomness (passed in, so tests are
//! repeatable), opaque tokens stored only as hashes, and the bounded Argon2id
//! hashing pool. Sealing (AES-256-GCM) joins here with the classroom work.

pub mod hashing;
pub mod random;
pub mod tokens;
