//! Access codes and parent access codes as people see them: ten characters
//! from an alphabet without look-alikes (no I/l/1, O/o/0), case-sensitive,
//! shown in two groups of five (`Kp7Qz-R2mXa`): about 58 bits, far beyond
//! guessing under throttling.

use crate::types::random::{Random, RandomError, random_below};

/// Upper- and lowercase letters and digits, without the confusable ones.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// Characters in a code, dashes aside.
pub const CODE_LEN: usize = 10;

/// A fresh code, formatted for people: `XXXXX-XXXXX`.
pub fn generate(rng: &dyn Random) -> Result<String, RandomError> {
    let mut code = String::with_capacity(CODE_LEN + 1);
    for i in 0..CODE_LEN {
        if i == CODE_LEN / 2 {
            code.push('-');
        }
        let index = random_below(rng, CODE_ALPHABET.len() as u32)? as usize;
        code.push(char::from(
            CODE_ALPHABET.get(index).copied().unwrap_or(b'A'),
        ));
    }
    Ok(code)
}

/// What was typed, without spaces and dashes; case is kept (codes are
/// case-sensitive). `None` when it cannot be a code at all.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let plausible =
        code.chars().count() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
    plausible.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::random::SeededRandom;

    #[test]
    fn codes_have_at_least_fifty_bits_and_no_lookalikes() {
        let bits = (CODE_ALPHABET.len() as f64).log2() * CODE_LEN as f64;
        assert!(bits >= 50.0, "{bits}");
        for lookalike in [b'I', b'l', b'1', b'O', b'o', b'0'] {
            assert!(!CODE_ALPHABET.contains(&lookalike));
        }
        let rng = SeededRandom::new(1);
        let code = generate(&rng).unwrap();
        assert_eq!(code.len(), CODE_LEN + 1);
        assert_eq!(code.chars().nth(5), Some('-'));
    }

    #[test]
    fn typing_is_forgiving_about_spaces_and_dashes_but_not_case() {
        let rng = SeededRandom::new(2);
        let code = generate(&rng).unwrap();
        let plain = code.replace('-', "");
        assert_eq!(normalize(&code), Some(plain.clone()));
        assert_eq!(
            normalize(&format!(" {} ", code.replace('-', " "))),
            Some(plain.clone())
        );
        // Another case is another code (and may not be a code at all).
        let flipped: String = plain
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        assert_ne!(normalize(&flipped), Some(plain.clone()));
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize("O0Il1O0Il1"), None);
    }
}
