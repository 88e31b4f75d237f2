//! Recovery codes: ten single-use codes for the day the phone is lost. Each
//! is ten characters from an alphabet without look-alikes (no `0 o 1 l i`),
//! shown as `abcde-fghjk` (about 49 bits each); only a keyed hash of each is
//! stored (`Sealer::lookup_hash`), so the table alone gives nothing to try.

use zeroize::Zeroizing;

use crate::types::random::{Random, RandomError};

/// How many codes a set holds.
pub const CODES_PER_SET: usize = 10;

/// Characters of a code: digits 2–9 and lowercase letters but i, l, o.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// Characters in a code.
const CODE_CHARS: usize = 10;

/// A set of new recovery codes, to be shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCodes(pub Vec<Zeroizing<String>>);

impl RecoveryCodes {
    /// The codes as shown, `abcde-fghjk`.
    pub fn shown(&self) -> Vec<String> {
        self.0.iter().map(|code| code.to_string()).collect()
    }

    /// The text file offered for download: one code per line.
    pub fn as_text_file(&self, account_name: &str) -> String {
        let mut text = format!(
            "keyward recovery codes for {account_name}\n\
             Each code works once, in place of a code from your authenticator app.\n\n"
        );
        for code in &self.0 {
            text.push_str(code);
            text.push('\n');
        }
        text
    }
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RecoveryCodes({} × {})",
            self.0.len(),
            crate::types::REDACTED
        )
    }
}

/// A recovery code as typed, once it has the shape of one: case, spaces and
/// dashes do not matter.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(Zeroizing<String>);

impl RecoveryCode {
    pub fn parse(typed: &str) -> Option<RecoveryCode> {
        let normal: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        (normal.len() == CODE_CHARS && normal.bytes().all(|b| ALPHABET.contains(&b)))
            .then(|| RecoveryCode(Zeroizing::new(normal)))
    }

    /// The normal form that is hashed.
    pub(crate) fn normal(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::types::REDACTED)
    }
}

/// Draws a new set of codes, each character uniform over the alphabet.
pub fn new_set(rng: &dyn Random) -> Result<RecoveryCodes, RandomError> {
    let mut codes = Vec::with_capacity(CODES_PER_SET);
    while codes.len() < CODES_PER_SET {
        let mut code = Zeroizing::new(String::with_capacity(CODE_CHARS + 1));
        while code.len() < CODE_CHARS + 1 {
            if code.len() == CODE_CHARS / 2 {
                code.push('-');
                continue;
            }
            let mut byte = [0u8; 1];
            rng.fill(&mut byte)?;
            // 248 = 8 × 31: bytes above it would favour the first letters.
            if usize::from(byte[0]) < ALPHABET.len() * 8 {
                code.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
            }
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(RecoveryCodes(codes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::random::SeededRandom;

    #[test]
    fn a_set_is_ten_distinct_codes_that_parse_back() {
        let rng = SeededRandom::new(7);
        let set = new_set(&rng).unwrap();
        assert_eq!(set.0.len(), CODES_PER_SET);
        let shown = set.shown();
        for code in &shown {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            let parsed = RecoveryCode::parse(code).unwrap();
            assert_eq!(parsed.normal(), code.replace('-', ""));
            let shouted = RecoveryCode::parse(&code.to_uppercase().replace('-', " ")).unwrap();
            assert_eq!(parsed, shouted);
        }
        let mut distinct = shown.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), CODES_PER_SET);
        assert!(!format!("{set:?}").contains(&shown[0]));
    }

    #[test]
    fn other_shapes_are_not_recovery_codes() {
        for bad in [
            "",
            "abcde",
            "abcde-fghjk-m",
            "abcde-fghj0",
            "abcde-fghjl",
            "123456",
        ] {
            assert!(RecoveryCode::parse(bad).is_none(), "{bad:?}");
        }
    }
}
