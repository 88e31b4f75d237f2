//! Single sign-on (issue 14): a school's OpenID Connect providers, the
//! browser flow through one of them (authorization code with PKCE, `state`
//! and `nonce`, the ID token checked by openidconnect), and the links between
//! a provider's subjects and keyward's people. keyward still owns the
//! accounts; a provider only proves who is signing in.

// STUB of the lead's contract (providers); main's version wins at merge.

mod flow;
mod http;
pub(crate) mod store;

pub use flow::{SsoCallback, SsoSignInError, SsoStart};
pub use http::{HttpRequest, HttpResponse, SsoHttp, SsoHttpError, SsoHttpFuture, issuer_allowed};

use crate::Keyward;
use crate::error::Internal;
use crate::types::{Role, SchoolId, UnixTime};

/// A provider's id: a random UUID in text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsoProviderId(String);

impl SsoProviderId {
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text)
            .ok()
            .map(|u| Self(u.hyphenated().to_string()))
    }
    pub(crate) fn from_stored(text: String) -> Self {
        Self(text)
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

/// Which claim names an unlinked person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityClaim {
    Email,
    PreferredUsername,
    Subject,
}

impl IdentityClaim {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityClaim::Email => "email",
            IdentityClaim::PreferredUsername => "preferred_username",
            IdentityClaim::Subject => "sub",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(IdentityClaim::Email),
            "preferred_username" => Some(IdentityClaim::PreferredUsername),
            "sub" => Some(IdentityClaim::Subject),
            _ => None,
        }
    }
}

/// A school's provider (never holds the secret).
#[derive(Debug, Clone)]
pub struct SsoProvider {
    pub id: SsoProviderId,
    pub school_id: SchoolId,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub claim: IdentityClaim,
    pub roles: Vec<Role>,
    pub jit_roles: Vec<Role>,
    pub trust_mfa: bool,
    pub created_at: UnixTime,
}

impl Keyward {
    /// `{server.public_url}/sso/callback`.
    pub fn sso_redirect_uri(&self) -> String {
        let base = self.settings.server.public_url.as_str().trim_end_matches('/');
        format!("{base}/sso/callback")
    }

    /// A provider's public facts.
    pub async fn sso_provider(&self, id: &SsoProviderId) -> Result<Option<SsoProvider>, Internal> {
        store::providers::find(self.db.pool(), id).await
    }
}
