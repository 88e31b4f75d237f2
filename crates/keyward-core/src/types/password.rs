//! A password as typed. It is checked exactly as given (no trimming), never
//! printed by `Debug`, and refused before any hashing when absurdly long.

use std::fmt;

/// Longest password accepted anywhere, in Unicode code points. Policies may set a
/// lower `max_length`; this bound protects the hashing pool from huge inputs.
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps what the person typed. Returns `None` when it is longer than
    /// [`MAX_PASSWORD_CHARS`], so callers refuse it before hashing.
    pub fn new(typed: String) -> Option<Self> {
        if typed.chars().count() > MAX_PASSWORD_CHARS {
            None
        } else {
            Some(Password(typed))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn char_count(&self) -> usize {
        self.0.chars().count()
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
        let p = Password::new("Secret123".into()).unwrap();
        assert!(!format!("{p:?}").contains("Secret123"));
    }

    #[test]
    fn over_long_password_is_refused_and_length_counts_code_points() {
        assert!(Password::new("é".repeat(MAX_PASSWORD_CHARS)).is_some());
        assert!(Password::new("a".repeat(MAX_PASSWORD_CHARS + 1)).is_none());
    }

    #[test]
    fn password_is_kept_exactly_as_typed() {
        let p = Password::new("  spaced  ".into()).unwrap();
        assert_eq!(p.expose(), "  spaced  ");
    }
}
