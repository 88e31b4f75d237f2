//! Opaque bearer secrets (session ids now; reset links and badges later): 256
//! random bits, base64url in transit, and only a SHA-256 digest at rest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;

use crate::types::random::{Random, RandomError};

/// Bytes of entropy in every token.
pub const TOKEN_BYTES: usize = 32;
/// Longest token text accepted from outside; anything longer is not ours.
pub const MAX_TOKEN_CHARS: usize = 128;

/// A secret token as handed to the client. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill(&mut bytes)?;
        Ok(Token(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token that starts with `prefix` (for example `kw_`, so secret
    /// scanners recognise a leaked API token), then 256 random bits.
    pub fn generate_prefixed(prefix: &'static str, rng: &dyn Random) -> Result<Self, RandomError> {
        let random = Token::generate(rng)?;
        Ok(Token(format!("{prefix}{}", random.0)))
    }

    /// Wraps a token received from a client; `None` when it cannot be one of ours.
    pub fn from_client(text: &str) -> Option<Self> {
        let plausible = !text.is_empty()
            && text.len() <= MAX_TOKEN_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Token(text.to_owned()))
    }

    /// What goes to the client (cookie, link).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What goes to the database.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// A second, independent value derived from the token (domain separated),
    /// for example the CSRF token bound to a session. Knowing the stored digest
    /// does not reveal it.
    pub fn derive(&self, purpose: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"keyward/");
        hasher.update(purpose.as_bytes());
        hasher.update([0u8]);
        hasher.update(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(hasher.finalize())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The stored form of a token: hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDigest(pub(crate) String);

impl TokenDigest {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Constant-time comparison of two short strings (CSRF tokens and the like).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::random::SeededRandom;

    #[test]
    fn token_has_256_bits_and_digest_differs_from_token() {
        let token = Token::generate(&SeededRandom::new(3)).unwrap();
        assert_eq!(token.expose().len(), 43);
        assert_ne!(token.digest().as_str(), token.expose());
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn client_tokens_are_screened() {
        assert!(Token::from_client("").is_none());
        assert!(Token::from_client(&"a".repeat(129)).is_none());
        assert!(Token::from_client("abc%20def").is_none());
        assert!(Token::from_client("ünïcode").is_none());
        assert!(Token::from_client("abc-DEF_123").is_some());
    }

    #[test]
    fn derived_values_are_separated_by_purpose() {
        let token = Token::generate(&SeededRandom::new(4)).unwrap();
        assert_ne!(token.derive("csrf"), token.derive("other"));
        assert_ne!(token.derive("csrf"), token.digest().as_str());
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
