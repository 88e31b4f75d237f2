//! Usernames (R-ACC-1): 3–64 characters, letters, digits, `.`, `_`, `-`; shown as
//! typed, compared by a key made with Unicode NFKC normalisation and case folding.

use std::fmt;
use unicode_normalization::UnicodeNormalization;

pub const MIN_USERNAME_CHARS: usize = 3;
pub const MAX_USERNAME_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameError {
    Empty,
    TooShort,
    TooLong,
    BadCharacter,
}

impl UsernameError {
    pub fn code(&self) -> crate::error::Code {
        match self {
            UsernameError::Empty => crate::error::Code::UsernameMissing,
            UsernameError::TooShort => crate::error::Code::UsernameTooShort,
            UsernameError::TooLong => crate::error::Code::UsernameTooLong,
            UsernameError::BadCharacter => crate::error::Code::UsernameBadCharacter,
        }
    }
}

impl fmt::Display for UsernameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsernameError::Empty => "Enter a username.",
            UsernameError::TooShort => "A username has at least 3 characters.",
            UsernameError::TooLong => "A username has at most 64 characters.",
            UsernameError::BadCharacter => {
                "A username may use only letters, digits, dots, underscores and hyphens."
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    key: String,
}

impl Username {
    pub fn parse(typed: &str) -> Result<Self, UsernameError> {
        if typed.is_empty() {
            return Err(UsernameError::Empty);
        }
        // Count after normalisation so that the stored key obeys the limits too.
        let normalised: String = typed.nfkc().collect();
        let count = normalised.chars().count();
        if count > MAX_USERNAME_CHARS || typed.chars().count() > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        if !normalised
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(UsernameError::BadCharacter);
        }
        if count < MIN_USERNAME_CHARS {
            return Err(UsernameError::TooShort);
        }
        Ok(Username {
            display: typed.to_owned(),
            key: username_key(typed),
        })
    }

    /// Rebuilds a username read from the database (already validated when stored).
    pub(crate) fn from_stored(display: String) -> Self {
        let key = username_key(&display);
        Username { display, key }
    }

    /// The username as the person typed it.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The comparison key: NFKC, case folded, NFKC again (Unicode's NFKC_Casefold recipe).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The comparison key for any string, also usable for strings that are not valid usernames.
pub(crate) fn username_key(text: &str) -> String {
    let folded = caseless::default_case_fold_str(&text.nfkc().collect::<String>());
    folded.nfkc().collect()
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_letters_digits_dot_underscore_hyphen() {
        for ok in ["amy", "demo.teacher", "a_b-c", "Zoë99", "abc"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_lengths_and_characters() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert_eq!(
            Username::parse(&"a".repeat(65)),
            Err(UsernameError::TooLong)
        );
        for bad in ["a b c", "amy!", "amy@school", "x\u{0}y", "<script>"] {
            assert_eq!(
                Username::parse(bad),
                Err(UsernameError::BadCharacter),
                "{bad}"
            );
        }
    }

    #[test]
    fn comparison_ignores_case_and_compatibility_forms() {
        let a = Username::parse("Amy.Smith").unwrap();
        let b = Username::parse("amy.smith").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Amy.Smith");
        // Fullwidth letters normalise to ASCII under NFKC.
        let wide = Username::parse("ＡＭＹ").unwrap();
        assert_eq!(wide.key(), "amy");
        // German sharp s folds to "ss".
        assert_eq!(Username::parse("Straße").unwrap().key(), "strasse");
    }
}
