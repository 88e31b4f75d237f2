//! Codes and tokens as typed or sent: access and parent access codes, class
//! codes, authenticator (TOTP) codes, MFA recovery codes, the opaque tokens
//! of sessions, reset links and ceremonies, API token secrets, and the public
//! ids of API tokens and sessions. What a parser takes has the shape of its
//! kind; normalising is idempotent and forgiving only where it says so
//! (spaces, dashes, case where case does not count); and whatever keyward
//! generates, shown the way people see it, parses back to itself.
#![no_main]

use keyward_core::accounts::sessions::SessionId;
use keyward_core::activation::codes::{self, CODE_ALPHABET, CODE_LEN};
use keyward_core::activation::normalize_class_code;
use keyward_core::crypto::tokens::{MAX_TOKEN_CHARS, Token};
use keyward_core::fuzzing::{new_bearer_secret, new_recovery_codes, parse_bearer_secret};
use keyward_core::mfa::RecoveryCode;
use keyward_core::mfa::totp::{self, TotpCode};
use keyward_core::schools::{CLASS_CODE_ALPHABET, CLASS_CODE_LEN};
use keyward_core::tokens::{ApiTokenId, TOKEN_PREFIX};
use keyward_core::types::UnixTime;
use keyward_core::types::random::{Random, SeededRandom};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Seeds what is generated; fixed-size, so a seed file is 12 bytes and
    /// then the text.
    seed: u64,
    at: u32,
    text: String,
}

fuzz_target!(|input: Input| {
    let text = input.text.as_str();
    access_code(text);
    class_code(text);
    totp_code(text);
    recovery_code(text);
    tokens(text);
    public_ids(text);
    generated(input.seed, i64::from(input.at) * 7);
});

/// Without spaces and dashes, as typed otherwise.
fn stripped(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

fn access_code(text: &str) {
    let Some(code) = codes::normalize(text) else {
        return;
    };
    assert_eq!(code, stripped(text), "only spaces and dashes are dropped");
    assert_eq!(code.len(), CODE_LEN);
    assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
    assert_eq!(codes::normalize(&code).as_ref(), Some(&code));
    let shown = format!("{}-{}", &code[..5], &code[5..]);
    assert_eq!(codes::normalize(&shown).as_ref(), Some(&code));
}

fn class_code(text: &str) {
    let Some(code) = normalize_class_code(text) else {
        return;
    };
    assert_eq!(code, stripped(text).to_ascii_uppercase());
    assert_eq!(code.len(), CLASS_CODE_LEN);
    assert!(code.bytes().all(|b| CLASS_CODE_ALPHABET.contains(&b)));
    assert_eq!(normalize_class_code(&code).as_ref(), Some(&code));
    assert_eq!(
        normalize_class_code(&code.to_ascii_lowercase()).as_ref(),
        Some(&code)
    );
}

fn totp_code(text: &str) {
    let Some(code) = TotpCode::parse(text) else {
        return;
    };
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(code.as_str(), digits);
    assert!(code.as_str().len() == 6 && code.as_str().bytes().all(|b| b.is_ascii_digit()));
    assert!(TotpCode::parse(code.as_str()) == Some(code.clone()));
}

fn recovery_code(text: &str) {
    let Some(code) = RecoveryCode::parse(text) else {
        return;
    };
    let normal = stripped(text).to_lowercase();
    assert!(RecoveryCode::parse(&normal) == Some(code.clone()));
    assert!(RecoveryCode::parse(&normal.to_uppercase()) == Some(code.clone()));
    assert!(normal.len() == 10 && normal.bytes().all(|b| b.is_ascii_alphanumeric()));
}

fn tokens(text: &str) {
    if let Some(token) = Token::from_client(text) {
        assert_eq!(token.expose(), text);
        assert!(!text.is_empty() && text.len() <= MAX_TOKEN_CHARS);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let digest = token.digest();
        assert!(
            digest.as_str().len() == 64 && digest.as_str().bytes().all(|b| b.is_ascii_hexdigit())
        );
        assert_ne!(digest.as_str(), text);
        assert_ne!(token.derive("csrf"), token.derive("other"));
    }
    if let Some(secret) = parse_bearer_secret(text) {
        assert_eq!(secret.expose(), text);
        assert!(text.starts_with(TOKEN_PREFIX));
        assert_eq!(text.len(), TOKEN_PREFIX.len() + 43);
        assert!(Token::from_client(text).is_some());
    }
}

fn public_ids(text: &str) {
    if let Some(id) = ApiTokenId::parse(text) {
        assert_eq!(id.as_str(), text.to_ascii_lowercase());
        assert_eq!(
            ApiTokenId::parse(&text.to_ascii_uppercase()),
            Some(id.clone())
        );
        assert_eq!(ApiTokenId::parse(id.as_str()), Some(id));
    }
    if let Some(id) = SessionId::parse(text) {
        assert_eq!(id.as_str(), text.to_ascii_lowercase());
        assert_eq!(
            SessionId::parse(&text.to_ascii_uppercase()),
            Some(id.clone())
        );
        assert_eq!(SessionId::parse(&id.to_string()), Some(id));
    }
}

/// What keyward generates, shown as people see it, parses back.
fn generated(seed: u64, at: i64) {
    let rng = SeededRandom::new(seed);
    let code = codes::generate(&rng).expect("random");
    assert_eq!(codes::normalize(&code), Some(code.replace('-', "")));
    assert_eq!(
        codes::normalize(&format!(" {} ", code.replace('-', " "))),
        Some(code.replace('-', ""))
    );

    let mut class = String::new();
    let mut bytes = [0u8; CLASS_CODE_LEN];
    rng.fill(&mut bytes).expect("random");
    for b in bytes {
        class.push(char::from(
            CLASS_CODE_ALPHABET[usize::from(b) % CLASS_CODE_ALPHABET.len()],
        ));
    }
    assert_eq!(
        normalize_class_code(&class.to_ascii_lowercase()),
        Some(class.clone())
    );

    for shown in new_recovery_codes(&rng).expect("random").shown() {
        assert!(RecoveryCode::parse(&shown).is_some(), "{shown}");
        assert!(RecoveryCode::parse(&shown.to_uppercase()) == RecoveryCode::parse(&shown));
    }

    let token = Token::generate(&rng).expect("random");
    assert!(Token::from_client(token.expose()) == Some(token.clone()));
    let secret = new_bearer_secret(&rng).expect("random");
    assert!(parse_bearer_secret(secret.expose()) == Some(secret.clone()));

    let totp_secret = totp::new_secret(&rng).expect("random");
    let shown = totp::code_at(&totp_secret, UnixTime(at)).expect("code");
    let typed = format!("{} {}", &shown[..3], &shown[3..]);
    let code = TotpCode::parse(&typed).expect("a code as apps show it");
    let step = totp::matching_step(&totp_secret, &code, UnixTime(at))
        .expect("secret")
        .expect("the code of now matches");
    assert!((step - at / 30).abs() <= 1, "step {step} at {at}");
}
