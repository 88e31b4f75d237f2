//! Password policy (R-POL-1) and generated passwords (R-POL-2). This
//! foundation has the rules every password-setting path shares, the `classic`
//! and `nist` presets, and a readable generator for the demo. The embedded
//! common-password list and per-school configuration come with the
//! forgot-password work.

mod generator;

pub use generator::generate_readable;

use crate::types::Password;

/// One broken rule, with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    TooShort,
    TooLong,
    MissingLowercase,
    MissingUppercase,
    MissingDigit,
    SpecialCharacter,
    ContainsUsername,
}

impl Violation {
    pub fn code(self) -> &'static str {
        match self {
            Violation::TooShort => "too_short",
            Violation::TooLong => "too_long",
            Violation::MissingLowercase => "missing_lowercase",
            Violation::MissingUppercase => "missing_uppercase",
            Violation::MissingDigit => "missing_digit",
            Violation::SpecialCharacter => "special_character",
            Violation::ContainsUsername => "contains_username",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    pub allow_special: bool,
    pub block_username: bool,
}

impl PasswordPolicy {
    /// Seed 000's rule: at least 6 characters, a lowercase letter, an uppercase
    /// letter, a digit, and no special characters.
    pub fn classic() -> Self {
        PasswordPolicy {
            min_length: 6,
            max_length: 64,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            allow_special: false,
            block_username: false,
        }
    }

    /// NIST SP 800-63B: at least 8 characters, no composition rules, the
    /// username refused.
    pub fn nist() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 128,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            allow_special: true,
            block_username: true,
        }
    }

    /// Every broken rule at once, in a stable order. Lengths count code points;
    /// the password is checked exactly as typed.
    pub fn check(&self, password: &Password, username: Option<&str>) -> Vec<Violation> {
        let text = password.expose();
        let count = password.char_count();
        let mut violations = Vec::new();
        if count < self.min_length {
            violations.push(Violation::TooShort);
        }
        if count > self.max_length {
            violations.push(Violation::TooLong);
        }
        if self.require_lowercase && !text.chars().any(char::is_lowercase) {
            violations.push(Violation::MissingLowercase);
        }
        if self.require_uppercase && !text.chars().any(char::is_uppercase) {
            violations.push(Violation::MissingUppercase);
        }
        if self.require_digit && !text.chars().any(|c| c.is_ascii_digit()) {
            violations.push(Violation::MissingDigit);
        }
        if !self.allow_special && text.chars().any(|c| !c.is_alphanumeric()) {
            violations.push(Violation::SpecialCharacter);
        }
        if self.block_username
            && let Some(name) = username.map(crate::types::username_key)
            && name.chars().count() >= 3
            && crate::types::username_key(text).contains(&name)
        {
            violations.push(Violation::ContainsUsername);
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(text: &str) -> Password {
        Password::new(text.into()).unwrap()
    }

    #[test]
    fn classic_is_seed_000_exactly() {
        let policy = PasswordPolicy::classic();
        assert!(policy.check(&pw("Abc123"), None).is_empty());
        assert_eq!(
            policy.check(&pw("abc123"), None),
            vec![Violation::MissingUppercase]
        );
        assert_eq!(
            policy.check(&pw("ABC123"), None),
            vec![Violation::MissingLowercase]
        );
        assert_eq!(
            policy.check(&pw("Abcdef"), None),
            vec![Violation::MissingDigit]
        );
        assert_eq!(
            policy.check(&pw("Abc12!"), None),
            vec![Violation::SpecialCharacter]
        );
        assert_eq!(policy.check(&pw("Ab12"), None), vec![Violation::TooShort]);
    }

    #[test]
    fn nist_needs_length_and_refuses_the_username() {
        let policy = PasswordPolicy::nist();
        assert!(policy.check(&pw("correct horse"), Some("amy")).is_empty());
        assert_eq!(policy.check(&pw("short"), None), vec![Violation::TooShort]);
        assert_eq!(
            policy.check(&pw("xxAmy.Smithxx"), Some("amy.smith")),
            vec![Violation::ContainsUsername]
        );
    }
}
