//! A password as typed. It is kept exactly as given (no trimming), never
//! printed by `Debug`, and wiped from memory when dropped.
//!
//! A `Password` holds whatever was typed, of any length: the edges (pages,
//! API, command line) wrap the input once, and each use case refuses an
//! over-long one ([`Password::is_over_long`]) with its own answer before any
//! hashing — sign-in with `input_too_long`, a new password with the
//! `too_long` violation of the policy it loaded. The hashing pool refuses one
//! that got past them.

use std::fmt;

use zeroize::Zeroizing;

/// Longest password accepted anywhere, in Unicode code points. Policies may set a
/// lower `max_length`; this bound protects the hashing pool from huge inputs.
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps what the person typed, as typed.
    pub fn new(typed: String) -> Self {
        Password(Zeroizing::new(typed))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }

    /// Whether it is longer than [`MAX_PASSWORD_CHARS`]: refused before any
    /// hashing.
    pub fn is_over_long(&self) -> bool {
        self.char_count() > MAX_PASSWORD_CHARS
    }

    /// Whether nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Password {
    fn from(typed: String) -> Self {
        Password::new(typed)
    }
}

impl From<&str> for Password {
    fn from(typed: &str) -> Self {
        Password::new(typed.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::from("Secret123");
        assert!(!format!("{p:?}").contains("Secret123"));
        assert!(!format!("{:?}", Some(p)).contains("Secret123"));
    }

    #[test]
    fn over_long_password_is_told_and_length_counts_code_points() {
        assert!(!Password::new("é".repeat(MAX_PASSWORD_CHARS)).is_over_long());
        assert!(Password::new("a".repeat(MAX_PASSWORD_CHARS + 1)).is_over_long());
    }

    #[test]
    fn password_is_kept_exactly_as_typed() {
        let p = Password::from("  spaced  ");
        assert_eq!(p.expose(), "  spaced  ");
    }
}
