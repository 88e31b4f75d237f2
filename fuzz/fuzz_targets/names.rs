//! Usernames (R-ACC-1) and email addresses as typed. A username taken is
//! kept as typed, obeys the length and character rules after NFKC, and reads
//! back (from its text, or as the database gives it back) to the same
//! username; its comparison key is a fixed point and ignores ASCII case. An
//! email address taken is the trimmed text with one `@`, reads back to
//! itself, and its mask shows only its first character and its domain.
#![no_main]

use keyward_core::fuzzing::username_key;
use keyward_core::types::{
    EmailAddress, MAX_USERNAME_CHARS, MIN_USERNAME_CHARS, Username, UsernameError,
};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::UnicodeNormalization;

fuzz_target!(|text: &str| {
    username(text);
    email(text);
});

fn username(text: &str) {
    let parsed = Username::parse(text);
    assert_eq!(matches!(parsed, Err(UsernameError::Empty)), text.is_empty());
    let Ok(username) = parsed else {
        return;
    };
    assert_eq!(username.as_str(), text);
    assert_eq!(username.to_string(), text);
    let normalised: String = text.nfkc().collect();
    let count = normalised.chars().count();
    assert!((MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&count));
    assert!(text.chars().count() <= MAX_USERNAME_CHARS);
    assert!(
        normalised
            .chars()
            .all(|c| c.is_alphanumeric() || ".-_".contains(c))
    );
    // Re-rendered, it reads back the same.
    assert_eq!(Username::parse(&username.to_string()), Ok(username.clone()));
    let key = username.key();
    assert_eq!(key, username_key(text));
    assert!(!key.is_empty());
    // The key compares keys: keying it again changes nothing.
    assert_eq!(username_key(key), key, "key of {text:?}");
    // ASCII case never matters.
    let upper = Username::parse(&text.to_ascii_uppercase()).expect("upper case is a username too");
    assert_eq!(upper.key(), key);
}

fn email(text: &str) {
    let Ok(address) = EmailAddress::parse(text) else {
        return;
    };
    let shown = address.as_str();
    assert_eq!(shown, text.trim());
    assert!(shown.chars().count() <= 254);
    assert!(!shown.chars().any(|c| c.is_whitespace() || c.is_control()));
    assert_eq!(shown.matches('@').count(), 1);
    let (local, domain) = shown.split_once('@').expect("one @");
    assert!(!local.is_empty());
    assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    assert_eq!(EmailAddress::parse(shown).as_ref(), Ok(&address));
    assert_eq!(address.key(), shown.to_lowercase());
    // The mask keeps the first character and the domain, nothing more.
    let first: String = local.chars().take(1).collect();
    assert_eq!(address.masked(), format!("{first}***@{domain}"));
}
