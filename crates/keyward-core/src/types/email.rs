//! Email addresses: a light syntactic check (one `@`, no spaces, a dot in the
//! domain, at most 254 characters); compared case-insensitively.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailError;

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enter an email address like name@example.org.")
    }
}

impl EmailAddress {
    pub fn parse(typed: &str) -> Result<Self, EmailError> {
        let text = typed.trim();
        let (local, domain) = text.split_once('@').ok_or(EmailError)?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && text.chars().count() <= 254
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(EmailAddress(text.to_owned()))
        } else {
            Err(EmailError)
        }
    }

    pub(crate) fn from_stored(text: String) -> Self {
        EmailAddress(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The comparison key.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The address with its local part hidden but for the first character
    /// (`j***@example.org`): enough for its owner to recognise it, too little
    /// for anyone else to write to it.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_addresses_and_refuses_junk() {
        assert!(EmailAddress::parse("Ann@School.example").is_ok());
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.org",
            "ann@x",
            "a b@x.org",
            "a@b@c.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(EmailAddress::parse("Ann@X.org").unwrap().key(), "ann@x.org");
    }

    #[test]
    fn a_masked_address_shows_its_first_letter_and_domain_only() {
        for (address, masked) in [
            ("jane.doe@example.org", "j***@example.org"),
            ("a@b.example", "a***@b.example"),
            ("Émile@école.example", "É***@école.example"),
        ] {
            assert_eq!(EmailAddress::parse(address).unwrap().masked(), masked);
        }
    }
}
