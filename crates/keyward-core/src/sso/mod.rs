//! Single sign-on (issue 14): a school's OpenID Connect providers, the
//! browser flow through one of them (authorization code with PKCE, `state`
//! and `nonce`, the ID token checked by openidconnect), and the links between
//! a provider's subjects and keyward's people. keyward still owns the
//! accounts; a provider only proves who is signing in.

pub(crate) mod store;
mod unlink;

pub(crate) use unlink::links_of;
pub use unlink::{SsoLink, UnlinkError, UnlinkPreview, Unlinked};

// Stand-in for the lead's `SsoProviderId` until the contract lands on main
// (merge: keep the lead's definition, drop this one).
/// A provider's id: random UUID text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SsoProviderId(String);

impl SsoProviderId {
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text)
            .ok()
            .map(|u| Self(u.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SsoProviderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
