//! Password policy (R-POL-1) and generated passwords (R-POL-2): the rules
//! every password-setting path shares, the `classic` and `nist` presets, the
//! common-password list, the per-school overrides for each kind of user, and
//! a readable generator. Violations are reported all at once, with stable codes.

pub mod common;
mod generator;
pub(crate) mod store;

pub use crate::settings::{DEFAULT_GENERATED_MIN_BITS, MAX_GENERATED_BITS, MIN_GENERATED_BITS};
pub use generator::{GeneratorShape, generate_password};

use crate::error::{Code, Internal};
use crate::i18n::Message;
use crate::settings::PolicyPreset;
use crate::types::Password;
use crate::types::Role;

/// Which policy applies to an account: learners have their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Teachers, lead teachers, admins and parents.
    Staff,
    Learner,
}

impl PolicyKind {
    pub fn of(role: Role) -> PolicyKind {
        if role.is_learner() {
            PolicyKind::Learner
        } else {
            PolicyKind::Staff
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Staff => "staff",
            PolicyKind::Learner => "learner",
        }
    }

    pub fn parse(text: &str) -> Option<PolicyKind> {
        match text {
            "staff" => Some(PolicyKind::Staff),
            "learner" => Some(PolicyKind::Learner),
            _ => None,
        }
    }
}

/// One broken rule, with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    TooShort,
    TooLong,
    MissingLowercase,
    MissingUppercase,
    MissingDigit,
    SpecialCharacter,
    CommonPassword,
    ContainsUsername,
    /// The confirmation differs from the password.
    Mismatch,
    /// The new password is the temporary one an administrator set (R-ADM-3),
    /// which the administrator knows.
    SameAsTemporary,
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
            Violation::CommonPassword => "common_password",
            Violation::ContainsUsername => "contains_username",
            Violation::Mismatch => "mismatch",
            Violation::SameAsTemporary => "same_as_temporary",
        }
    }

    /// A sentence for people, in the current language (the message
    /// `password-violation-…` of `locales/*/frame.ftl`).
    pub fn message(self, policy: &PasswordPolicy) -> String {
        let id = match self {
            Violation::TooShort => "password-violation-too-short",
            Violation::TooLong => "password-violation-too-long",
            Violation::MissingLowercase => "password-violation-missing-lowercase",
            Violation::MissingUppercase => "password-violation-missing-uppercase",
            Violation::MissingDigit => "password-violation-missing-digit",
            Violation::SpecialCharacter => "password-violation-special-character",
            Violation::CommonPassword => "password-violation-common-password",
            Violation::ContainsUsername => "password-violation-contains-username",
            Violation::Mismatch => "password-violation-mismatch",
            Violation::SameAsTemporary => "password-violation-same-as-temporary",
        };
        let message = Message::new(id);
        match self {
            Violation::TooShort => message.with("min", policy.min_length),
            Violation::TooLong => message.with("max", policy.max_length),
            _ => message,
        }
        .to_string()
    }
}

/// The codes of a list of violations, for messages and the API.
/// The `details` of a password that breaks the rules: its violation codes.
pub fn violation_details(violations: &[Violation]) -> Vec<(&'static str, serde_json::Value)> {
    vec![("violations", serde_json::json!(violation_codes(violations)))]
}

pub fn violation_codes(violations: &[Violation]) -> Vec<&'static str> {
    violations.iter().map(|v| v.code()).collect()
}

/// One rule of a policy as shown next to a password field, so the page can
/// tick it off while the person types (the server's check is the authority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Machine name the page's script understands: `min`, `max`, `lower`, `upper`, `digit`, `nospecial`, `common`, `username`.
    pub rule: &'static str,
    /// The parameter of the rule (a length), else 0.
    pub value: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    pub allow_special: bool,
    pub block_common: bool,
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
            block_common: false,
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
            block_common: true,
            block_username: true,
        }
    }

    pub fn preset(preset: PolicyPreset) -> Self {
        match preset {
            PolicyPreset::Classic => PasswordPolicy::classic(),
            PolicyPreset::Nist => PasswordPolicy::nist(),
        }
    }

    /// Checks a new password and its confirmation: every violation at once.
    pub fn check_new(
        &self,
        password: &Password,
        confirmation: &Password,
        username: Option<&str>,
    ) -> Vec<Violation> {
        let mut violations = self.check(password, username);
        if password != confirmation {
            violations.push(Violation::Mismatch);
        }
        violations
    }

    /// The rules as hints for a password form.
    pub fn hints(&self) -> Vec<Hint> {
        let mut hints = vec![Hint {
            rule: "min",
            value: self.min_length,
            text: format!("At least {} characters", self.min_length),
        }];
        let mut add = |on: bool, rule: &'static str, text: &str| {
            if on {
                hints.push(Hint {
                    rule,
                    value: 0,
                    text: text.to_owned(),
                });
            }
        };
        add(self.require_lowercase, "lower", "A lowercase letter");
        add(self.require_uppercase, "upper", "An uppercase letter");
        add(self.require_digit, "digit", "A number");
        add(
            !self.allow_special,
            "nospecial",
            "Only letters and numbers, no special characters",
        );
        add(self.block_username, "username", "Not your username");
        add(self.block_common, "common", "Not a common password");
        hints
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
        if self.block_common && common::is_common(text) {
            violations.push(Violation::CommonPassword);
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

/// Why a policy could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PolicyUpdateError {
    #[error("There is no such school.")]
    SchoolNotFound,
    #[error(
        "Only people who manage the school's users (its lead teacher, a platform admin) may change its password rules."
    )]
    Forbidden,
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl crate::error::CodedError for PolicyUpdateError {
    fn code(&self) -> Code {
        match self {
            PolicyUpdateError::SchoolNotFound => Code::SchoolNotFound,
            PolicyUpdateError::Forbidden => Code::Forbidden,
            PolicyUpdateError::Invalid(_) => Code::InvalidPolicy,
            PolicyUpdateError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            PolicyUpdateError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl PasswordPolicy {
    /// A policy a school may adopt: sane lengths, at least 64 allowed.
    pub fn validate(&self) -> Result<(), PolicyUpdateError> {
        if !(4..=64).contains(&self.min_length) {
            return Err(PolicyUpdateError::Invalid(
                "min_length must be between 4 and 64.",
            ));
        }
        if !(64..=crate::types::MAX_PASSWORD_CHARS).contains(&self.max_length) {
            return Err(PolicyUpdateError::Invalid(
                "max_length must be between 64 and 256.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(text: &str) -> Password {
        Password::from(text)
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
    fn every_code_is_reported_at_once() {
        let strict = PasswordPolicy {
            min_length: 10,
            max_length: 12,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            allow_special: false,
            block_common: true,
            block_username: true,
        };
        assert_eq!(
            strict.check_new(&pw("password"), &pw("Password"), Some("password")),
            vec![
                Violation::TooShort,
                Violation::MissingUppercase,
                Violation::MissingDigit,
                Violation::CommonPassword,
                Violation::ContainsUsername,
                Violation::Mismatch
            ]
        );
        assert_eq!(
            strict.check(&pw("ABCDEFGHIJKL!"), None),
            vec![
                Violation::TooLong,
                Violation::MissingLowercase,
                Violation::MissingDigit,
                Violation::SpecialCharacter
            ]
        );
        let codes: Vec<_> = [
            Violation::TooShort,
            Violation::TooLong,
            Violation::MissingLowercase,
            Violation::MissingUppercase,
            Violation::MissingDigit,
            Violation::SpecialCharacter,
            Violation::CommonPassword,
            Violation::ContainsUsername,
            Violation::Mismatch,
        ]
        .iter()
        .map(|v| v.code())
        .collect();
        assert_eq!(
            codes,
            [
                "too_short",
                "too_long",
                "missing_lowercase",
                "missing_uppercase",
                "missing_digit",
                "special_character",
                "common_password",
                "contains_username",
                "mismatch"
            ]
        );
    }

    #[test]
    fn lengths_count_code_points_not_bytes() {
        let policy = PasswordPolicy::nist();
        assert!(
            policy
                .check(&pw("ééééééé"), None)
                .contains(&Violation::TooShort)
        );
        assert!(
            !policy
                .check(&pw("éééééééé"), None)
                .contains(&Violation::TooShort)
        );
    }

    #[test]
    fn nist_refuses_common_passwords_and_classic_does_not() {
        assert_eq!(
            PasswordPolicy::nist().check(&pw("iloveyou"), None),
            vec![Violation::CommonPassword]
        );
        assert!(
            PasswordPolicy::classic()
                .check(&pw("Abc123"), None)
                .is_empty()
        );
    }

    #[test]
    fn hints_list_exactly_the_rules_in_force() {
        let rules: Vec<_> = PasswordPolicy::classic()
            .hints()
            .iter()
            .map(|h| h.rule)
            .collect();
        assert_eq!(rules, ["min", "lower", "upper", "digit", "nospecial"]);
        let rules: Vec<_> = PasswordPolicy::nist()
            .hints()
            .iter()
            .map(|h| h.rule)
            .collect();
        assert_eq!(rules, ["min", "username", "common"]);
    }

    #[test]
    fn nist_needs_length_and_refuses_the_username() {
        let policy = PasswordPolicy::nist();
        assert!(policy.check(&pw("correct horse"), Some("amy")).is_empty());
        assert_eq!(policy.check(&pw("kwx9v"), None), vec![Violation::TooShort]);
        assert_eq!(
            policy.check(&pw("xxAmy.Smithxx"), Some("amy.smith")),
            vec![Violation::ContainsUsername]
        );
    }

    #[test]
    fn a_broken_rule_is_said_in_the_current_language() {
        use crate::i18n::{self, Locale};
        let policy = PasswordPolicy::nist();
        let english = Violation::TooShort.message(&policy);
        assert_eq!(
            english,
            format!("Use at least {} characters.", policy.min_length)
        );
        let spanish = i18n::sync_scope(Locale::Es, || Violation::TooShort.message(&policy));
        assert_eq!(
            spanish,
            format!("Usa al menos {} caracteres.", policy.min_length)
        );
        assert_eq!(
            i18n::sync_scope(Locale::Es, || Violation::Mismatch.message(&policy)),
            "Las dos contraseñas no coinciden."
        );
    }
}
