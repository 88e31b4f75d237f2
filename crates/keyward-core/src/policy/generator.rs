//! Generated passwords (R-POL-2): capitalised simple words, then digits
//! (`TigerMangoRobot358`), easy for a child to read and type, that always
//! satisfy the policy in force and carry at least the entropy asked for (40
//! bits by default, `policy.generated_min_bits`). This module owns the word
//! list and the choice of shape; it stores nothing and logs nothing.
//!
//! **No confusable characters.** `0 O 1 I l` never appear: digits are 2–9 and
//! only a word's first letter is capitalised; no listed word contains `l` or
//! starts with `i` or `o`.
//!
//! **Entropy.** A shape is a number of words `k ≥ 2` and of digits `d` (2–4,
//! since a longer number is harder for a child to copy than another word).
//! `k·log2(words) + d·log2(8)` bits, counted over these uniform choices only;
//! the capital letters mark where each word begins, so every sequence of
//! choices gives a different password. The shortest shape (by expected
//! length) reaching the bits asked for is used. Words or digits added to reach
//! a policy's minimum length add entropy but are not counted.
//!
//! **Always valid.** For any policy that `PasswordPolicy::validate` accepts
//! (`min_length` ≤ 64 ≤ `max_length`), by construction:
//! - every shape fits in 64 characters even when all its words have six
//!   letters, so `max_length` is never exceeded, and a shorter draw is padded
//!   to exactly `min_length`;
//! - capitalised words and digits give a lowercase letter, an uppercase letter
//!   and a digit, and nothing else;
//! - no password it can make is on the common-password list (a test checks the
//!   whole list against the word list);
//! - a draw that contains the username is drawn again; after `MAX_DRAWS` draws
//!   (in practice never) the last draw uses only words and digits without one
//!   character of the username, so it cannot contain it, with the shape chosen
//!   again for that smaller alphabet so that it still has the bits asked for.

use std::sync::LazyLock;

use super::PasswordPolicy;
use crate::types::Password;
use crate::types::random::{Random, RandomError, random_below};

/// The generator's words, one a line, sorted, no header. Every word is a
/// simple, concrete, friendly English word a 7–9-year-old knows (animals,
/// food, nature, objects, colours, toys…), 3–6 lowercase letters `a`–`z`,
/// without the letter `l`, not starting with `i` or `o` (capitalised, they
/// would read as `I` or `O`), and nothing scary, rude, sad or babyish. Words
/// that would let the generator make a listed common password (`pass`+`word`,
/// `cow`+`boy`, `sun`+`shine`…) are left out. The tests pin these rules.
const WORD_LIST: &str = include_str!("../../data/generator-words.txt");

static WORDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| WORD_LIST.lines().filter(|w| !w.is_empty()).collect());

/// 0 and 1 are left out: too easily read as O and l.
const DIGITS: [char; 8] = ['2', '3', '4', '5', '6', '7', '8', '9'];

const MIN_WORDS: usize = 2;
/// 10 words of six letters and 4 digits make 64 characters, the shortest
/// `max_length` a policy may have.
const MAX_WORDS: usize = 10;
const MIN_DIGITS: usize = 2;
const MAX_DIGITS: usize = 4;
const MIN_WORD_CHARS: usize = 3;
const MAX_WORD_CHARS: usize = 6;
/// Draws before the last one, which cannot contain the username.
const MAX_DRAWS: usize = 100;

/// How many words and digits a generated password has before any padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorShape {
    pub words: usize,
    pub digits: usize,
}

impl GeneratorShape {
    /// The shortest shape (by expected length) with at least `min_bits` bits.
    /// Above what fits in 64 characters (about 116 bits), the strongest that
    /// fits; the settings allow at most `MAX_GENERATED_BITS`.
    pub fn for_bits(min_bits: u32) -> GeneratorShape {
        Alphabet::full().shape_for(min_bits)
    }

    /// The entropy of a password of this shape, in bits (uniform choices only).
    pub fn entropy_bits(&self) -> f64 {
        Alphabet::full().bits(*self)
    }

    /// The longest password of this shape before padding: every word six letters.
    pub fn max_chars(&self) -> usize {
        self.words * MAX_WORD_CHARS + self.digits
    }
}

/// Generates a readable password that satisfies `policy` (with `username` for
/// its username rule) and has at least `min_bits` bits of entropy (at most
/// about 116; see `GeneratorShape::for_bits`). Never fails for a policy that
/// `PasswordPolicy::validate` accepts; see the module's comment for why.
pub fn generate_password(
    policy: &PasswordPolicy,
    username: Option<&str>,
    min_bits: u32,
    rng: &dyn Random,
) -> Result<String, RandomError> {
    generate_within(policy, username, min_bits, rng, MAX_DRAWS)
}

/// `generate_password` with the number of draws as a parameter, so tests can
/// reach the last draw at once.
fn generate_within(
    policy: &PasswordPolicy,
    username: Option<&str>,
    min_bits: u32,
    rng: &dyn Random,
    draws: usize,
) -> Result<String, RandomError> {
    let full = Alphabet::full();
    let draws = draws.max(1);
    let mut candidate = String::new();
    for draw in 1..=draws {
        candidate = if draw < draws {
            full.draw(full.shape_for(min_bits), policy.min_length, rng)?
        } else {
            let (words, digits) = avoiding_username(policy, username);
            let safe = Alphabet {
                words: &words,
                digits: &digits,
            };
            safe.draw(safe.shape_for(min_bits), policy.min_length, rng)?
        };
        if satisfies(policy, &candidate, username) {
            break;
        }
    }
    // Only a policy that `validate` refuses can leave a failing candidate here.
    Ok(candidate)
}

fn satisfies(policy: &PasswordPolicy, text: &str, username: Option<&str>) -> bool {
    let password = Password::from(text);
    !password.is_over_long() && policy.check(&password, username).is_empty()
}

/// Words and digits from which no password can contain the username: all of
/// them when the username rule cannot apply, else those without one character
/// of the username (a digit if it has one, since that costs least; else the
/// letter that leaves the most words).
fn avoiding_username(
    policy: &PasswordPolicy,
    username: Option<&str>,
) -> (Vec<&'static str>, Vec<char>) {
    let all = (WORDS.clone(), DIGITS.to_vec());
    let Some(key) = username.map(crate::types::username_key) else {
        return all;
    };
    // The rule applies as `PasswordPolicy::check` applies it; a username with
    // a character no password has (`.`, `0`, `1`, `-`…) can never be in one.
    let possible = |c: char| c.is_ascii_lowercase() || DIGITS.contains(&c);
    if !policy.block_username || key.chars().count() < 3 || !key.chars().all(possible) {
        return all;
    }
    if let Some(digit) = key.chars().find(|c| DIGITS.contains(c)) {
        return (
            all.0,
            DIGITS.iter().copied().filter(|&d| d != digit).collect(),
        );
    }
    let without = |c: char| -> Vec<&'static str> {
        WORDS.iter().copied().filter(|w| !w.contains(c)).collect()
    };
    match key.chars().map(without).max_by_key(Vec::len) {
        Some(words) if !words.is_empty() => (words, all.1),
        _ => all,
    }
}

/// The words and digits a draw picks from.
struct Alphabet<'a> {
    words: &'a [&'static str],
    digits: &'a [char],
}

impl Alphabet<'static> {
    fn full() -> Self {
        Alphabet {
            words: WORDS.as_slice(),
            digits: &DIGITS,
        }
    }
}

impl Alphabet<'_> {
    fn bits(&self, shape: GeneratorShape) -> f64 {
        let per_word = (self.words.len().max(1) as f64).log2();
        let per_digit = (self.digits.len().max(1) as f64).log2();
        shape.words as f64 * per_word + shape.digits as f64 * per_digit
    }

    fn shape_for(&self, min_bits: u32) -> GeneratorShape {
        let letters: usize = self.words.iter().map(|w| w.len()).sum();
        let mean_word = letters as f64 / self.words.len().max(1) as f64;
        let mut best: Option<(f64, GeneratorShape)> = None;
        for words in MIN_WORDS..=MAX_WORDS {
            for digits in MIN_DIGITS..=MAX_DIGITS {
                let shape = GeneratorShape { words, digits };
                let expected = words as f64 * mean_word + digits as f64;
                if self.bits(shape) >= f64::from(min_bits)
                    && best.is_none_or(|(shortest, _)| expected < shortest)
                {
                    best = Some((expected, shape));
                }
            }
        }
        best.map_or(
            GeneratorShape {
                words: MAX_WORDS,
                digits: MAX_DIGITS,
            },
            |(_, shape)| shape,
        )
    }

    /// One password of `shape`, padded to `min_length`: with more words while
    /// a whole word fits, then with digits for the last one or two characters.
    fn draw(
        &self,
        shape: GeneratorShape,
        min_length: usize,
        rng: &dyn Random,
    ) -> Result<String, RandomError> {
        let mut words = Vec::with_capacity(shape.words);
        for _ in 0..shape.words {
            words.extend(pick(self.words, rng)?);
        }
        let length = words.iter().map(|w| w.len()).sum::<usize>() + shape.digits;
        let mut gap = min_length.saturating_sub(length);
        while gap >= MIN_WORD_CHARS {
            // A word that fills the gap or leaves room for another word.
            let fits = |len: usize| len == gap || len + MIN_WORD_CHARS <= gap;
            let fitting: Vec<&'static str> = self
                .words
                .iter()
                .copied()
                .filter(|w| fits(w.len()))
                .collect();
            let Some(word) = pick(&fitting, rng)? else {
                break;
            };
            words.push(word);
            gap -= word.len();
        }
        let mut text = String::with_capacity(min_length.max(length));
        for word in words {
            let mut letters = word.chars();
            if let Some(first) = letters.next() {
                text.push(first.to_ascii_uppercase());
                text.push_str(letters.as_str());
            }
        }
        for _ in 0..shape.digits + gap {
            text.extend(pick(self.digits, rng)?);
        }
        Ok(text)
    }
}

/// A uniformly chosen item; `None` only from an empty slice.
fn pick<T: Copy>(items: &[T], rng: &dyn Random) -> Result<Option<T>, RandomError> {
    let bound = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let index = usize::try_from(random_below(rng, bound)?).unwrap_or(usize::MAX);
    Ok(items.get(index).copied())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use crate::policy::{PolicyKind, Violation};
    use crate::settings::{DEFAULT_GENERATED_MIN_BITS, MAX_GENERATED_BITS, MIN_GENERATED_BITS};
    use crate::types::random::SeededRandom;

    const CONFUSABLE: &str = "0O1Il";

    fn only_readable_characters(text: &str) -> bool {
        text.chars()
            .all(|c| c.is_ascii_alphabetic() || DIGITS.contains(&c))
            && !text.chars().any(|c| CONFUSABLE.contains(c))
    }

    fn valid(policy: &PasswordPolicy, text: &str, username: &str) -> Vec<Violation> {
        policy.check(&Password::from(text), Some(username))
    }

    #[test]
    fn the_word_list_follows_its_rules() {
        assert!(WORDS.len() >= 1024, "{}", WORDS.len());
        assert_eq!(WORD_LIST.lines().count(), WORDS.len(), "no blank lines");
        let unique: HashSet<_> = WORDS.iter().collect();
        assert_eq!(unique.len(), WORDS.len(), "no word twice");
        for word in WORDS.iter() {
            assert!(
                (MIN_WORD_CHARS..=MAX_WORD_CHARS).contains(&word.len())
                    && word.chars().all(|c| c.is_ascii_lowercase()),
                "{word}"
            );
            assert!(!word.contains('l'), "{word}");
            assert!(!word.starts_with(['i', 'o']), "{word}");
        }
        // Padding needs words of every length.
        for len in MIN_WORD_CHARS..=MAX_WORD_CHARS {
            assert!(WORDS.iter().any(|w| w.len() == len), "{len}");
        }
    }

    #[test]
    fn the_default_is_three_words_and_three_digits_with_over_40_bits() {
        let shape = GeneratorShape::for_bits(DEFAULT_GENERATED_MIN_BITS);
        assert_eq!(
            shape,
            GeneratorShape {
                words: 3,
                digits: 3
            }
        );
        let expected = 3.0 * (WORDS.len() as f64).log2() + 9.0;
        assert!((shape.entropy_bits() - expected).abs() < 1e-9);
        assert!(shape.entropy_bits() >= 40.0, "{}", shape.entropy_bits());

        let rng = SeededRandom::new(1);
        for _ in 0..100 {
            let text = generate_password(
                &PasswordPolicy::classic(),
                None,
                DEFAULT_GENERATED_MIN_BITS,
                &rng,
            )
            .unwrap();
            let capitals = text.chars().filter(char::is_ascii_uppercase).count();
            let digits = text.chars().filter(char::is_ascii_digit).count();
            assert_eq!((capitals, digits), (3, 3), "{text}");
            assert!(text.ends_with(|c: char| c.is_ascii_digit()), "{text}");
        }
    }

    #[test]
    fn every_allowed_setting_gets_its_bits_within_64_characters() {
        let last_draws: Vec<(Vec<&'static str>, Vec<char>)> = ('a'..='z')
            .map(|c| {
                let words = WORDS.iter().copied().filter(|w| !w.contains(c)).collect();
                (words, DIGITS.to_vec())
            })
            .chain(DIGITS.iter().map(|&d| {
                let digits = DIGITS.iter().copied().filter(|&x| x != d).collect();
                (WORDS.clone(), digits)
            }))
            .collect();
        for bits in 0..=MAX_GENERATED_BITS {
            let shape = GeneratorShape::for_bits(bits);
            assert!(shape.entropy_bits() >= f64::from(bits), "{bits}");
            assert!(shape.max_chars() <= 64, "{bits}");
            for (words, digits) in &last_draws {
                let alphabet = Alphabet { words, digits };
                let shape = alphabet.shape_for(bits);
                assert!(alphabet.bits(shape) >= f64::from(bits), "{bits}");
                assert!(shape.max_chars() <= 64, "{bits}");
            }
        }
        assert!(GeneratorShape::for_bits(1000).max_chars() <= 64);
    }

    #[test]
    fn no_common_password_can_be_generated() {
        // A generated password, lowercased, is two or more listed words and
        // then two or more digits 2–9; `is_common` compares lowercased.
        let words: HashSet<&str> = WORDS.iter().copied().collect();
        let list = include_str!("../../data/common-passwords.txt");
        for entry in list.lines() {
            let letters = entry.trim_end_matches(|c| DIGITS.contains(&c));
            if entry.len() - letters.len() < 2 || !letters.chars().all(|c| c.is_ascii_lowercase()) {
                continue;
            }
            // most[i]: the most words (capped at 2) that make up letters[..i].
            let mut most: Vec<Option<usize>> = vec![None; letters.len() + 1];
            most[0] = Some(0);
            for end in 1..=letters.len() {
                for len in MIN_WORD_CHARS..=MAX_WORD_CHARS.min(end) {
                    if let Some(count) = most[end - len]
                        && words.contains(&letters[end - len..end])
                    {
                        most[end] = most[end].max(Some((count + 1).min(2)));
                    }
                }
            }
            assert_ne!(most[letters.len()], Some(2), "{entry}");
        }
    }

    #[test]
    fn padding_lands_exactly_on_the_minimum_length() {
        let rng = SeededRandom::new(2);
        for min_length in 4..=64 {
            for max_length in [64, 256] {
                let policy = PasswordPolicy {
                    min_length,
                    max_length,
                    ..PasswordPolicy::classic()
                };
                for _ in 0..20 {
                    let text = generate_password(&policy, None, 40, &rng).unwrap();
                    let length = text.chars().count();
                    assert!(length >= min_length && length <= max_length, "{text}");
                    if min_length > 3 * MAX_WORD_CHARS + 3 {
                        assert_eq!(length, min_length, "{text}");
                    }
                    assert!(only_readable_characters(&text), "{text}");
                }
            }
        }
    }

    #[test]
    fn every_preset_is_satisfied_even_by_usernames_made_of_listed_words() {
        let rng = SeededRandom::new(3);
        let usernames = [
            "tiger",
            "ant",
            "ear",
            "tigermango",
            "demo.amy",
            "moon42",
            "eee",
        ];
        for policy in [PasswordPolicy::classic(), PasswordPolicy::nist()] {
            for username in usernames {
                for _ in 0..50 {
                    let text = generate_password(&policy, Some(username), 40, &rng).unwrap();
                    assert_eq!(valid(&policy, &text, username), [], "{text} {username}");
                    assert!(only_readable_characters(&text), "{text}");
                }
            }
        }
    }

    #[test]
    fn the_last_draw_cannot_contain_the_username() {
        let rng = SeededRandom::new(4);
        let strict = PasswordPolicy {
            min_length: 64,
            ..PasswordPolicy::nist()
        };
        for username in ["ear", "ant", "tiger", "eee", "ter", "a2b", "234", "Tiger"] {
            for policy in [PasswordPolicy::nist(), strict.clone()] {
                for _ in 0..50 {
                    let text = generate_within(&policy, Some(username), 40, &rng, 1).unwrap();
                    assert_eq!(valid(&policy, &text, username), [], "{text} {username}");
                    assert!(only_readable_characters(&text), "{text}");
                }
            }
        }
    }

    #[test]
    fn the_setting_is_refused_outside_its_range_by_name() {
        let mut settings = crate::settings::Settings::default();
        assert_eq!(
            settings.policy.generated_min_bits,
            DEFAULT_GENERATED_MIN_BITS
        );
        for bits in [MIN_GENERATED_BITS - 1, MAX_GENERATED_BITS + 1] {
            settings.policy.generated_min_bits = bits;
            let err = settings.clone().validate().unwrap_err();
            assert_eq!(err.key, "policy.generated_min_bits");
        }
        settings.policy.generated_min_bits = MAX_GENERATED_BITS;
        assert!(settings.validate().is_ok());
    }

    #[tokio::test]
    async fn keyward_generates_for_the_rules_in_force() {
        let (kw, _db) = crate::testing::keyward().await;
        let rng = SeededRandom::new(5);
        let ctx = crate::testing::ctx_at(crate::testing::MONDAY_MORNING, &rng);
        for kind in [PolicyKind::Staff, PolicyKind::Learner] {
            let policy = kw.password_policy(None, kind).await.unwrap();
            let text = kw
                .generated_password(&policy, Some("demo.amy"), &ctx)
                .unwrap();
            let text = text.expose();
            assert_eq!(valid(&policy, text, "demo.amy"), [], "{text}");
        }
    }

    fn any_policy() -> impl Strategy<Value = PasswordPolicy> {
        let random = (
            4usize..=64,
            64usize..=crate::types::MAX_PASSWORD_CHARS,
            any::<[bool; 6]>(),
        )
            .prop_map(|(min_length, max_length, flags)| PasswordPolicy {
                min_length,
                max_length,
                require_lowercase: flags[0],
                require_uppercase: flags[1],
                require_digit: flags[2],
                allow_special: flags[3],
                block_common: flags[4],
                block_username: flags[5],
            });
        prop_oneof![
            Just(PasswordPolicy::classic()),
            Just(PasswordPolicy::nist()),
            random,
        ]
    }

    fn any_username() -> impl Strategy<Value = String> {
        let words = || proptest::sample::select(WORDS.clone());
        prop_oneof![
            words().prop_map(str::to_owned),
            (words(), words()).prop_map(|(a, b)| format!("{a}{b}")),
            (words(), 22u32..=99).prop_map(|(a, n)| format!("{a}{n}")),
            "[a-z2-9]{3,5}",
            "[A-Za-z0-9._-]{1,20}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_passwords_satisfy_any_policy_they_are_made_for(
            policy in any_policy(),
            username in any_username(),
            min_bits in MIN_GENERATED_BITS..=MAX_GENERATED_BITS,
            seed in any::<u64>(),
        ) {
            let rng = SeededRandom::new(seed);
            let text = generate_password(&policy, Some(&username), min_bits, &rng).unwrap();
            prop_assert!(only_readable_characters(&text), "{}", text);
            prop_assert_eq!(valid(&policy, &text, &username), []);
        }
    }
}
