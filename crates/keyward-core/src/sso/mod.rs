//! Single sign-on (issue 14): a school's OpenID Connect providers, the
//! browser flow through one of them (authorization code with PKCE, `state`
//! and `nonce`, the ID token checked by openidconnect), and the links between
//! a provider's subjects and keyward's people. keyward still owns the
//! accounts; a provider only proves who is signing in.
//!
//! `providers` connects and removes a school's providers (its lead teacher or
//! a platform admin); the client secret is sealed in `sealed_secrets` and
//! never shown again. `flow` is the sign-in itself (start, callback), which
//! reaches providers only through the `http` port ([`SsoHttp`]) the web
//! hands it. `unlink` shows a person's links to staff and removes one
//! (**Unlink**, whoever may manage the person).

mod flow;
mod http;
mod providers;
pub(crate) mod store;
mod unlink;

pub use crate::types::SsoProviderId;
pub use flow::{SsoCallback, SsoSignInError, SsoStart};
pub use http::{
    HttpRequest, HttpResponse, SsoHttp, SsoHttpError, SsoHttpFuture, is_private_address,
};
pub use providers::{MAX_PROVIDERS_PER_SCHOOL, NewSsoProvider, SsoConfigError, issuer_allowed};
pub(crate) use unlink::links_of;
pub use unlink::{SsoLink, UnlinkError, UnlinkPreview, Unlinked};

use crate::types::{Role, SchoolId, UnixTime};

/// The purpose a provider's client secret is sealed under (its owner is the
/// provider's id).
pub(crate) const CLIENT_SECRET_PURPOSE: &str = "sso_client_secret";

/// Which claim of the ID token finds a person who is not linked yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityClaim {
    /// A verified `email` (`email_verified: true`), compared with the
    /// school's people's email addresses.
    Email,
    /// `preferred_username`, compared with the school's usernames.
    PreferredUsername,
    /// `sub`, compared with the school's usernames.
    Subject,
}

impl IdentityClaim {
    pub const ALL: [IdentityClaim; 3] = [
        IdentityClaim::Email,
        IdentityClaim::PreferredUsername,
        IdentityClaim::Subject,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentityClaim::Email => "email",
            IdentityClaim::PreferredUsername => "preferred_username",
            IdentityClaim::Subject => "sub",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|claim| claim.as_str() == text)
    }
}

/// A school's provider as everyone but the flow sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProvider {
    pub id: SsoProviderId,
    pub school_id: SchoolId,
    /// What the button says: **Sign in with <name>**.
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Always holds `openid`.
    pub scopes: Vec<String>,
    pub claim: IdentityClaim,
    /// The roles that may sign in with it.
    pub roles: Vec<Role>,
    /// The roles an unknown person may be created as (just in time); the
    /// first is the new account's role. Empty: nobody is created.
    pub jit_roles: Vec<Role>,
    /// An ID token whose `amr` holds `mfa` counts as a second factor.
    pub trust_mfa: bool,
    pub created_at: UnixTime,
}

/// One **Sign in with …** button: a provider and its school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInChoice {
    pub provider_id: SsoProviderId,
    pub name: String,
    pub school_id: SchoolId,
    pub school_name: String,
}

#[cfg(test)]
pub(crate) mod tests;
