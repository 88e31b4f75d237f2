//! Time-based one-time codes (RFC 6238) as authenticator apps make them:
//! HMAC-SHA-1, 6 digits, 30-second steps, one step of clock drift either
//! way (totp-rs). Here are the secret (160 random bits), the `otpauth://`
//! address and its QR code (an SVG drawn here, no outside service), and the
//! check that says *which* step a code belongs to, so the caller can accept
//! each step once.

use fast_qr::convert::Builder as _;
use fast_qr::convert::svg::SvgBuilder;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::error::Internal;
use crate::types::UnixTime;
use crate::types::random::{Random, RandomError};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;

/// Digits of a code.
pub const DIGITS: usize = 6;

/// A code as typed, once it has the shape of one: exactly six ASCII digits
/// (spaces, which apps show in the middle, are dropped).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(Zeroizing<String>);

impl TotpCode {
    pub fn parse(typed: &str) -> Option<TotpCode> {
        let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| TotpCode(Zeroizing::new(digits)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::types::REDACTED)
    }
}

/// A new secret: 20 random bytes, shown and stored as base32.
pub fn new_secret(rng: &dyn Random) -> Result<Zeroizing<String>, RandomError> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    rng.fill(bytes.as_mut())?;
    Ok(Zeroizing::new(Secret::from(*bytes).to_base32()))
}

fn totp(secret_base32: &str, issuer: &str, account_name: &str) -> Result<Totp, Internal> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| Internal::new("a stored TOTP secret is not base32"))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(1)
        .with_step_duration(STEP_SECS as u64)
        .with_secret(secret)
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account_name.replace(':', " "))
        .build()
        .map_err(|err| Internal::new(format!("TOTP parameters refused: {err:?}")))
}

/// The `otpauth://totp/…` address an authenticator app reads.
pub fn otpauth_uri(
    secret_base32: &str,
    issuer: &str,
    account_name: &str,
) -> Result<String, Internal> {
    totp(secret_base32, issuer, account_name)?
        .to_url()
        .map_err(|err| Internal::new(format!("TOTP address refused: {err:?}")))
}

/// The address as a QR code, an inline SVG that scales to its box.
pub fn qr_svg(uri: &str) -> Result<String, Internal> {
    let qr = fast_qr::QRBuilder::new(uri)
        .ecl(fast_qr::ECL::M)
        .build()
        .map_err(|err| Internal::new(format!("QR code not drawn: {err:?}")))?;
    Ok(SvgBuilder::default().margin(2).to_str(&qr))
}

/// The step (30-second window since the epoch) of the code `code` for
/// `secret` at `now`, looking one step back and one ahead; `None` when it
/// matches none of them.
pub fn matching_step(
    secret_base32: &str,
    code: &TotpCode,
    now: UnixTime,
) -> Result<Option<i64>, Internal> {
    let totp = totp(secret_base32, "keyward", "")?;
    let now = u64::try_from(now.secs()).unwrap_or(0);
    Ok(totp
        .check(code.as_str(), now)
        .and_then(|step| i64::try_from(step).ok()))
}

/// The code of `secret` at `at` (for tests and the demo).
pub fn code_at(secret_base32: &str, at: UnixTime) -> Result<String, Internal> {
    let totp = totp(secret_base32, "keyward", "")?;
    Ok(totp
        .generate(u64::try_from(at.secs()).unwrap_or(0))
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1: the secret is ASCII "12345678901234567890";
    // its 8-digit codes end in these six digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_the_rfc_6238_vectors() {
        assert_eq!(code_at(RFC_SECRET, UnixTime(59)).unwrap(), "287082");
        assert_eq!(
            code_at(RFC_SECRET, UnixTime(1_111_111_109)).unwrap(),
            "081804"
        );
        assert_eq!(
            code_at(RFC_SECRET, UnixTime(2_000_000_000)).unwrap(),
            "279037"
        );
    }

    #[test]
    fn a_code_matches_its_step_and_one_step_of_drift_either_way() {
        let at = UnixTime(1_111_111_109);
        let step = at.secs() / STEP_SECS;
        let code = TotpCode::parse(&code_at(RFC_SECRET, at).unwrap()).unwrap();
        assert_eq!(matching_step(RFC_SECRET, &code, at).unwrap(), Some(step));
        let later = UnixTime(at.secs() + STEP_SECS);
        assert_eq!(matching_step(RFC_SECRET, &code, later).unwrap(), Some(step));
        let earlier = UnixTime(at.secs() - STEP_SECS);
        assert_eq!(
            matching_step(RFC_SECRET, &code, earlier).unwrap(),
            Some(step)
        );
        let stale = UnixTime(at.secs() + 2 * STEP_SECS);
        assert_eq!(matching_step(RFC_SECRET, &code, stale).unwrap(), None);
    }

    #[test]
    fn only_six_digits_are_a_code() {
        assert!(TotpCode::parse("123456").is_some());
        assert_eq!(TotpCode::parse("123 456").unwrap().as_str(), "123456");
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "abcdef",
            "١٢٣٤٥٦",
            "123\u{0}56",
        ] {
            assert!(TotpCode::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", TotpCode::parse("123456").unwrap()),
            "<redacted>"
        );
    }

    #[test]
    fn the_address_names_the_issuer_and_account_and_draws_as_svg() {
        let uri = otpauth_uri(RFC_SECRET, "keyward", "mr.jones").unwrap();
        assert!(uri.starts_with("otpauth://totp/keyward:mr.jones?"), "{uri}");
        assert!(uri.contains(&format!("secret={RFC_SECRET}")), "{uri}");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
