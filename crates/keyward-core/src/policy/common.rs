//! The embedded list of common passwords (49,233 entries, lowercased), derived
//! from zxcvbn-ts's list under the MIT licence; see
//! `data/common-passwords.LICENSE.txt`. Parsed once, on first use.

use std::collections::HashSet;
use std::sync::LazyLock;

const LIST: &str = include_str!("../../data/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LIST.lines().filter(|l| !l.is_empty()).collect());

/// Whether the password, compared without regard to case, is on the list.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// How many passwords the list holds.
pub fn list_size() -> usize {
    COMMON.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_at_least_ten_thousand_entries() {
        assert!(list_size() >= 10_000, "{}", list_size());
    }

    #[test]
    fn well_known_passwords_are_common_in_any_case() {
        for password in ["password", "123456", "Qwerty", "LETMEIN", "iloveyou"] {
            assert!(is_common(password), "{password}");
        }
        assert!(!is_common("TigerApple42 river lamp"));
    }
}
