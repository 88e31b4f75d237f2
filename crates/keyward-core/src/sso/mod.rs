//! Single sign-on (issue 14): a school's OpenID Connect providers, the
//! browser flow through one of them (authorization code with PKCE, `state`
//! and `nonce`, the ID token checked by openidconnect), and the links between
//! a provider's subjects and keyward's people. keyward still owns the
//! accounts; a provider only proves who is signing in.

pub(crate) mod store;
