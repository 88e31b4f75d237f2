//! The password policy (R-POL-1) and the generator (R-POL-2), on any policy,
//! password, confirmation and username. The policy never accepts what its
//! hints say it refuses: a password it takes meets every hint shown beside
//! the field, and every violation it reports is true of the password, each
//! once, in a stable order. A case variant of the username or of a common
//! password is refused wherever those rules apply. A generated password, for
//! any policy a school may adopt, passes that policy with that username.
#![no_main]

use keyward_core::fuzzing::username_key;
use keyward_core::policy::common::is_common;
use keyward_core::policy::{
    GeneratorShape, MAX_GENERATED_BITS, MIN_GENERATED_BITS, PasswordPolicy, Violation,
    generate_password,
};
use keyward_core::types::Password;
use keyward_core::types::random::SeededRandom;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    min_length: u8,
    max_length: u16,
    flags: u8,
    password: String,
    /// The confirmation: the password itself, or this text.
    confirmation: Option<String>,
    username: Option<String>,
    /// What the password is made of: as typed, the username in another
    /// case, or a listed common password in another case.
    shape: u8,
    bits: u8,
    seed: u64,
}

const ORDER: [Violation; 10] = [
    Violation::TooShort,
    Violation::TooLong,
    Violation::MissingLowercase,
    Violation::MissingUppercase,
    Violation::MissingDigit,
    Violation::SpecialCharacter,
    Violation::CommonPassword,
    Violation::ContainsUsername,
    Violation::Mismatch,
    Violation::SameAsTemporary,
];

fuzz_target!(|input: Input| {
    let policy = PasswordPolicy {
        min_length: usize::from(input.min_length),
        max_length: usize::from(input.max_length),
        require_lowercase: input.flags & 1 != 0,
        require_uppercase: input.flags & 2 != 0,
        require_digit: input.flags & 4 != 0,
        allow_special: input.flags & 8 != 0,
        block_common: input.flags & 16 != 0,
        block_username: input.flags & 32 != 0,
    };
    let username = input.username.as_deref();
    let text = match (input.shape % 4, username) {
        (1, Some(name)) => name.to_ascii_uppercase(),
        (2, Some(name)) => format!("x{}9", name.to_ascii_lowercase()),
        (3, _) => common_variant(&input.password),
        _ => input.password.clone(),
    };
    let password = Password::from(text.as_str());
    let confirmation = input
        .confirmation
        .as_deref()
        .map_or(password.clone(), Password::from);
    let violations = policy.check_new(&password, &confirmation, username);

    // Each once, in the stable order.
    let positions: Vec<usize> = violations
        .iter()
        .map(|v| ORDER.iter().position(|o| o == v).expect("known"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{violations:?}");
    assert_eq!(
        violations.contains(&Violation::Mismatch),
        password != confirmation
    );
    assert!(!violations.contains(&Violation::SameAsTemporary));

    // Every violation is true of the password, and every hint a password
    // that passes meets.
    let count = text.chars().count();
    let has = |v: Violation| violations.contains(&v);
    assert_eq!(has(Violation::TooShort), count < policy.min_length);
    assert_eq!(has(Violation::TooLong), count > policy.max_length);
    for hint in policy.hints() {
        let met = match hint.rule {
            "min" => count >= hint.value,
            "lower" => text.chars().any(char::is_lowercase),
            "upper" => text.chars().any(char::is_uppercase),
            "digit" => text.chars().any(|c| c.is_ascii_digit()),
            "nospecial" => text.chars().all(char::is_alphanumeric),
            "common" => !is_common(&text),
            "username" => !contains_username(&text, username),
            other => panic!("unknown hint {other}"),
        };
        if !met {
            assert!(
                !violations.is_empty(),
                "{text:?} fails the hint {hint:?} yet passes"
            );
        }
    }
    // The username in any ASCII case, and any case of a listed password,
    // is refused where the rule is on.
    if policy.block_username && contains_username(&text, username) {
        assert!(has(Violation::ContainsUsername));
    }
    if policy.block_common && is_common(&text) {
        assert!(has(Violation::CommonPassword));
    }
    if has(Violation::CommonPassword) {
        assert!(policy.block_common && is_common(&text));
    }

    // The generator, for a policy a school may adopt.
    let bits = u32::from(input.bits);
    if policy.validate().is_ok() && (MIN_GENERATED_BITS..=MAX_GENERATED_BITS).contains(&bits) {
        let rng = SeededRandom::new(input.seed);
        let generated = generate_password(&policy, username, bits, &rng).expect("random");
        let found = policy.check(&Password::from(generated.as_str()), username);
        assert!(
            found.is_empty(),
            "{generated:?} breaks {found:?} of {policy:?}"
        );
        assert!(generated.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(
            !generated.chars().any(|c| "0O1Il".contains(c)),
            "{generated}"
        );
        assert!(GeneratorShape::for_bits(bits).entropy_bits() >= f64::from(bits));
    }
});

/// Whether the password holds the username as the rule compares them (both
/// by their username key; a username of fewer than 3 characters never counts).
fn contains_username(text: &str, username: Option<&str>) -> bool {
    username
        .map(username_key)
        .is_some_and(|name| name.chars().count() >= 3 && username_key(text).contains(&name))
}

/// A listed common password, in a case the input picks.
fn common_variant(seed_text: &str) -> String {
    const SOME_COMMON: [&str; 6] = [
        "password", "letmein", "iloveyou", "qwerty", "dragon", "monkey",
    ];
    let pick = seed_text.len() % SOME_COMMON.len();
    SOME_COMMON[pick]
        .chars()
        .zip(seed_text.chars().chain(std::iter::repeat('a')))
        .map(|(c, s)| {
            if (s as u32) % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}
