//! A code as a person typed it: an access code, a parent access code, a
//! class code or the emailed recovery code. It never prints itself and is
//! wiped from memory when dropped; the use case that takes it normalises and
//! checks it (each kind of code has its own alphabet and length).

use std::fmt;

use zeroize::Zeroizing;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct TypedCode(Zeroizing<String>);

impl TypedCode {
    /// The code exactly as typed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for TypedCode {
    fn from(typed: String) -> Self {
        TypedCode(Zeroizing::new(typed))
    }
}

impl From<&str> for TypedCode {
    fn from(typed: &str) -> Self {
        TypedCode(Zeroizing::new(typed.to_owned()))
    }
}

impl From<&String> for TypedCode {
    fn from(typed: &String) -> Self {
        TypedCode::from(typed.as_str())
    }
}

impl fmt::Debug for TypedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypedCode({})", super::REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_code() {
        let code = TypedCode::from("ABCD-2345");
        assert!(!format!("{code:?}").contains("ABCD"));
        assert_eq!(code.expose(), "ABCD-2345");
    }
}
