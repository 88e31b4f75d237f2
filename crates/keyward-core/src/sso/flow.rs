//! The browser flow of single sign-on: **start** (discovery, a fresh `state`
//! and a binding secret for the browser's `kw_sso` cookie; the nonce and the
//! PKCE verifier are derived from the binding with the sealer's look-up key,
//! so only hashes are stored, in `sso_flows`) and **finish** (the flow claimed
//! once, the binding checked, the code exchanged, the ID token checked by
//! openidconnect — signature from the provider's keys, issuer, audience,
//! expiry on keyward's clock, nonce — the person found and signed in).
//!
//! The person: by the link of the provider's subject first; else, once, by
//! the provider's claim inside the provider's school (a verified email, or a
//! username), then linked; else created when the provider allows
//! just-in-time accounts. Only active accounts of a role the provider lets
//! in sign in; a pending account is told to use its access code first.
//!
//! The provider's second factor (`amr` holding `mfa`, with the provider's
//! `trust_mfa`) stands in for keyward's own only through a link made
//! before: the first link of an account with second factors of its own asks
//! for keyward's second step. Someone who signs in only with the provider,
//! whose school requires two-step verification of their role, is refused
//! (`sso_mfa_required`) unless the provider's second factor counts: with
//! no password they could never turn keyward's on.

use std::sync::Arc;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError,
    IdTokenClaims, IssuerUrl, JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use url::Url;

use super::http::{SsoHttp, SsoHttpError, Transport, endpoint_allowed};
use super::issuer_allowed;
use super::store::links::{self, MatchColumn};
use super::store::{flows, providers};
use super::{IdentityClaim, SsoProvider, SsoProviderId};
use crate::accounts::throttle;
use crate::accounts::{self, Account, AccountStatus, NewUser, SignInOutcome};
use crate::audit::{self, AuditEntry, action};
use crate::crypto::tokens::{Token, constant_time_eq};
use crate::error::{Code, CodedError, Internal};
use crate::service::SsoDiscoveryFailure;
use crate::types::{EmailAddress, UnixTime, UserId, Username};
use crate::{Ctx, Keyward};

/// How long a sign-in may stay at the provider.
const FLOW_TTL_SECS: u64 = 10 * 60;
/// How long a provider's discovery document and keys are kept in memory.
const DISCOVERY_TTL_SECS: i64 = 5 * 60;
/// How long a failed discovery is told again without asking the provider.
const DISCOVERY_FAILURE_TTL_SECS: i64 = 30;
/// How far in keyward's future an ID token's `iat` or `nbf` may be (clocks
/// differ a little).
const CLOCK_SKEW_SECS: i64 = 5 * 60;
/// The longest `sub` keyward links.
const SUBJECT_MAX_CHARS: usize = 255;
/// Longest `state` or `code` taken from a callback.
const MAX_CALLBACK_CHARS: usize = 2048;
/// Purposes of the values derived from the binding secret.
const NONCE_PURPOSE: &str = "sso-nonce";
const PKCE_PURPOSE: &str = "sso-pkce-verifier";

/// A sign-in sent to the provider: where the browser goes, and the secret its
/// `kw_sso` cookie keeps (never stored; its hash is).
pub struct SsoStart {
    pub authorize_url: Url,
    pub binding: Token,
}

impl std::fmt::Debug for SsoStart {
    // The URL carries the state; neither reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoStart")
            .field("authorize_url", &crate::types::REDACTED)
            .field("binding", &self.binding)
            .finish()
    }
}

/// What the provider sent back to `/sso/callback`, as the query said it.
#[derive(Default)]
pub struct SsoCallback {
    pub state: String,
    pub code: Option<String>,
    /// The provider's `error` (for example `access_denied`).
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl std::fmt::Debug for SsoCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoCallback")
            .field("state", &crate::types::REDACTED)
            .field("code", &self.code.as_ref().map(|_| crate::types::REDACTED))
            .field("error", &self.error)
            .finish()
    }
}

/// Why a single sign-on did not sign anybody in; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SsoSignInError {
    #[error("There is no such sign-in service. Go back to the start page and choose again.")]
    ProviderNotFound,
    #[error(
        "This sign-in could not be finished: it was started in another browser, took longer than 10 minutes, or was already used. Start the sign-in again."
    )]
    StateInvalid,
    #[error(
        "Your school's sign-in service did not answer in time. Try again in a minute, or sign in with your keyward password."
    )]
    ProviderUnavailable,
    #[error(
        "keyward could not use your school's sign-in service: what the service says about itself does not match its settings in keyward. Tell your school, and sign in with your keyward password meanwhile."
    )]
    ProviderMisconfigured,
    #[error(
        "Your school's sign-in service did not sign you in (it said “{error}”). Try again, or sign in with your keyward password."
    )]
    ProviderError { error: String },
    #[error(
        "The answer from your school's sign-in service did not pass keyward's checks, so nobody was signed in. Try again; if it keeps happening, tell your school."
    )]
    TokenInvalid,
    #[error(
        "Your school's sign-in service has not confirmed your email address, so keyward cannot tell which account is yours. Sign in with your keyward username and password, or ask your school."
    )]
    EmailNotVerified,
    #[error(
        "Your school's sign-in service knows you, but no keyward account of your school matches. Ask your school to add you, or sign in with your keyward username and password."
    )]
    UnknownPerson,
    #[error(
        "Your keyward account is not ready yet. Use the access code your school gave you (Use a code on the start page) first; then you can sign in with your school's sign-in service."
    )]
    AccountPending,
    #[error("Your keyward account is disabled. Ask your school.")]
    AccountDisabled,
    #[error(
        "Too many sign-ins were started from your network in the last minute. Wait a minute, then try again."
    )]
    Throttled { retry_after_secs: u64 },
    #[error(
        "People with your role may not sign in with this sign-in service. Sign in with your keyward username and password."
    )]
    RoleNotAllowed,
    #[error(
        "Your school requires two-step verification for your account, and you sign in only with {provider}: use two-step verification when you sign in at {provider}. If you already do, your school must first tell keyward to trust {provider}'s two-step verification."
    )]
    MfaRequired { provider: String },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for SsoSignInError {
    fn code(&self) -> Code {
        match self {
            SsoSignInError::ProviderNotFound => Code::SsoProviderNotFound,
            SsoSignInError::StateInvalid => Code::SsoStateInvalid,
            SsoSignInError::ProviderUnavailable | SsoSignInError::ProviderMisconfigured => {
                Code::SsoProviderUnavailable
            }
            SsoSignInError::ProviderError { .. } => Code::SsoProviderError,
            SsoSignInError::TokenInvalid => Code::SsoTokenInvalid,
            SsoSignInError::EmailNotVerified
            | SsoSignInError::UnknownPerson
            | SsoSignInError::AccountPending
            | SsoSignInError::AccountDisabled => Code::SsoUnknownPerson,
            SsoSignInError::RoleNotAllowed => Code::SsoRoleNotAllowed,
            SsoSignInError::MfaRequired { .. } => Code::SsoMfaRequired,
            SsoSignInError::Throttled { .. } => Code::TooManyRequests,
            SsoSignInError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SsoSignInError::ProviderUnavailable => Some(60),
            SsoSignInError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            SsoSignInError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for SsoSignInError {
    fn from(err: sqlx::Error) -> Self {
        SsoSignInError::Internal(err.into())
    }
}

impl From<crate::types::random::RandomError> for SsoSignInError {
    fn from(err: crate::types::random::RandomError) -> Self {
        SsoSignInError::Internal(err.into())
    }
}

/// A refusal of a claimed flow, with what the audit row says.
struct Refusal {
    error: SsoSignInError,
    /// The person, when known.
    target: Option<UserId>,
    /// Why, for the audit row (never a token or code).
    why: String,
}

impl Refusal {
    fn new(error: SsoSignInError, why: impl Into<String>) -> Self {
        Refusal {
            error,
            target: None,
            why: why.into(),
        }
    }

    fn about(mut self, user: &UserId) -> Self {
        self.target = Some(user.clone());
        self
    }
}

impl From<Internal> for Refusal {
    fn from(err: Internal) -> Self {
        Refusal::new(SsoSignInError::Internal(err), "internal")
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(err: sqlx::Error) -> Self {
        Internal::from(err).into()
    }
}

/// What the ID token says about the person.
struct Identity {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    preferred_username: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    /// `amr` holds `mfa`.
    mfa: bool,
}

/// How the person was found, for the audit row.
#[derive(Clone, Copy)]
enum FoundBy {
    Link,
    Claim(IdentityClaim),
    Created,
}

impl FoundBy {
    fn as_str(self) -> &'static str {
        match self {
            FoundBy::Link => "link",
            FoundBy::Claim(claim) => claim.as_str(),
            FoundBy::Created => "created",
        }
    }
}

impl Keyward {
    /// Starts a sign-in with `provider` (`GET /sso/{id}/start`): the
    /// provider's address to send the browser to, with `state`, `nonce` and
    /// a PKCE challenge, and the binding secret for the browser's cookie.
    pub async fn start_sso_sign_in(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProviderId,
        http: &dyn SsoHttp,
    ) -> Result<SsoStart, SsoSignInError> {
        // Anyone may start: each start is a row and perhaps a call to the
        // provider, so one client address gets `sso.starts_per_address_per_minute`
        // (counted in one statement, so parallel starts cannot pass it).
        let group = throttle::address_group(ctx.client_addr.as_deref());
        let key = format!("sso:start:{group}");
        let window = ctx.now.minus(std::time::Duration::from_secs(60));
        if throttle::take_quota(&self.db, &key, window, ctx.now).await?
            > i64::from(self.settings.sso.starts_per_address_per_minute)
        {
            return Err(SsoSignInError::Throttled {
                retry_after_secs: 60,
            });
        }
        let provider = providers::find(self.db.pool(), provider)
            .await?
            .ok_or(SsoSignInError::ProviderNotFound)?;
        let metadata = self
            .sso_metadata(ctx, &provider, http)
            .await
            .map_err(|refusal| {
                tracing::info!(provider = %provider.id, why = %refusal.why, "single sign-on not started");
                refusal.error
            })?;
        let state = Token::generate(ctx.rng)?;
        let binding = Token::generate(ctx.rng)?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(provider.client_id.clone()),
            None,
        )
        .set_redirect_uri(self.redirect_url()?);
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            self.sso_derived(PKCE_PURPOSE, &binding),
        ));
        let state_text = state.expose().to_owned();
        let nonce = self.sso_derived(NONCE_PURPOSE, &binding);
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_text),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(challenge);
        for scope in provider.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (authorize_url, _, _) = request.url();
        let _turn = self.db.write_turn().await?;
        flows::insert(
            self.db.pool(),
            &state.digest(),
            &provider.id,
            &binding.digest(),
            ctx.now,
            ctx.now.plus(std::time::Duration::from_secs(FLOW_TTL_SECS)),
        )
        .await?;
        Ok(SsoStart {
            authorize_url,
            binding,
        })
    }

    /// Finishes a sign-in at `/sso/callback`: claims the flow of the
    /// callback's `state` once, checks the browser's `binding`, and — unless
    /// the provider sent an error — exchanges the code, checks the ID token,
    /// finds the person and signs them in (or opens keyward's second step).
    /// Every refusal of a flow that was ours is audited (`sso.sign_in`); a
    /// state that is unknown is only logged, so strangers cannot grow the
    /// audit log.
    pub async fn finish_sso_sign_in(
        &self,
        ctx: &Ctx<'_>,
        callback: &SsoCallback,
        binding: Option<&Token>,
        http: &dyn SsoHttp,
    ) -> Result<SignInOutcome, SsoSignInError> {
        let state = (callback.state.len() <= MAX_CALLBACK_CHARS)
            .then(|| Token::from_client(&callback.state))
            .flatten()
            .ok_or(SsoSignInError::StateInvalid)?;
        let turn = self.db.write_turn().await?;
        let claimed = flows::claim(self.db.pool(), &state.digest()).await?;
        drop(turn);
        let Some(flow) = claimed else {
            tracing::info!("single sign-on callback with an unknown or used state");
            return Err(SsoSignInError::StateInvalid);
        };
        let Some(provider) = providers::find(self.db.pool(), &flow.provider_id).await? else {
            return Err(SsoSignInError::StateInvalid);
        };
        let finished = self
            .finish_claimed(ctx, &provider, &flow, callback, binding, http)
            .await;
        match finished {
            Ok(outcome) => Ok(outcome),
            Err(Refusal {
                error: SsoSignInError::Internal(err),
                ..
            }) => Err(SsoSignInError::Internal(err)),
            Err(refusal) => {
                self.audit_sso_failure(ctx, &provider, &refusal).await?;
                Err(refusal.error)
            }
        }
    }

    async fn finish_claimed(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        flow: &flows::ClaimedFlow,
        callback: &SsoCallback,
        binding: Option<&Token>,
        http: &dyn SsoHttp,
    ) -> Result<SignInOutcome, Refusal> {
        let state_invalid = |why: &str| Refusal::new(SsoSignInError::StateInvalid, why);
        if ctx.now >= flow.expires_at {
            return Err(state_invalid("flow expired"));
        }
        let bound =
            binding.is_some_and(|b| constant_time_eq(b.digest().as_str(), &flow.binding_hash));
        if !bound {
            return Err(state_invalid(
                "another browser (binding cookie missing or different)",
            ));
        }
        let binding = binding.ok_or_else(|| state_invalid("no binding"))?;
        if let Some(error) = &callback.error {
            let error = sanitized(error, 64);
            let description = sanitized(callback.error_description.as_deref().unwrap_or(""), 200);
            let why = format!("provider error {error}: {description}");
            return Err(Refusal::new(SsoSignInError::ProviderError { error }, why));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= MAX_CALLBACK_CHARS)
            .ok_or_else(|| state_invalid("callback without a code"))?;
        let identity = self.redeem_code(ctx, provider, code, binding, http).await?;
        self.sign_in_identity(ctx, provider, &identity).await
    }

    /// Exchanges the code for tokens and checks the ID token; an unknown
    /// signing key (or a signature that does not verify) fetches the
    /// provider's keys once more, for a provider that rotated them.
    async fn redeem_code(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        code: &str,
        binding: &Token,
        http: &dyn SsoHttp,
    ) -> Result<Identity, Refusal> {
        let metadata = self.sso_metadata(ctx, provider, http).await?;
        let secret = providers::client_secret(&self.db, &self.sealer, provider).await?;
        let client = self.sso_client(provider, &metadata, &secret)?;
        let verifier = PkceCodeVerifier::new(self.sso_derived(PKCE_PURPOSE, binding));
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| Refusal::new(SsoSignInError::ProviderMisconfigured, "no token endpoint"))?
            .set_pkce_verifier(verifier)
            .request_async(&self.sso_transport(http))
            .await
            .map_err(token_error)?;
        let id_token = response
            .id_token()
            .ok_or_else(|| Refusal::new(SsoSignInError::TokenInvalid, "no ID token"))?;
        let nonce = Nonce::new(self.sso_derived(NONCE_PURPOSE, binding));
        match verified_identity(&client, id_token, &nonce, ctx.now) {
            // A key the cached set does not have, or has twice (a provider
            // mid-rotation may publish a kid twice): the keys once more.
            Err(TokenProblem::Claims(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
                | SignatureVerificationError::AmbiguousKeyId(_)
                | SignatureVerificationError::CryptoError(_),
            ))) => {
                let metadata = self.sso_fresh_keys(ctx, provider, &metadata, http).await?;
                let client = self.sso_client(provider, &metadata, &secret)?;
                verified_identity(&client, id_token, &nonce, ctx.now).map_err(token_problem)
            }
            checked => checked.map_err(token_problem),
        }
    }

    fn sso_client(
        &self,
        provider: &SsoProvider,
        metadata: &CoreProviderMetadata,
        secret: &str,
    ) -> Result<SsoClient, Refusal> {
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(secret.to_owned())),
        )
        .set_redirect_uri(self.redirect_url()?))
    }

    /// The provider's requests as openidconnect sends them, each refused
    /// unless its address is one keyward may call.
    fn sso_transport<'h>(&self, http: &'h dyn SsoHttp) -> Transport<'h> {
        Transport {
            http,
            allow_private: self.settings.sso.allow_private_addresses,
        }
    }

    fn redirect_url(&self) -> Result<RedirectUrl, Internal> {
        RedirectUrl::new(self.sso_redirect_uri())
            .map_err(|err| Internal::new(format!("the SSO redirect URI is not a URL: {err}")))
    }

    /// A value derived from the browser's binding secret (the nonce, the
    /// PKCE verifier): the sealer's keyed hash, so neither the binding's
    /// stored hash nor anything else at rest gives it away.
    fn sso_derived(&self, purpose: &str, binding: &Token) -> String {
        self.sealer.lookup_hash(purpose, binding.expose())
    }

    /// The provider's discovery document with its keys: from memory when
    /// fetched less than five minutes ago, else from the provider. A failure
    /// is told again for 30 seconds without asking the provider.
    async fn sso_metadata(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        http: &dyn SsoHttp,
    ) -> Result<Arc<CoreProviderMetadata>, Refusal> {
        if let Some(hit) = self.cached_metadata(ctx, &provider.id) {
            return hit.map_err(|failed| {
                let error = if failed.unavailable {
                    SsoSignInError::ProviderUnavailable
                } else {
                    SsoSignInError::ProviderMisconfigured
                };
                Refusal::new(error, format!("{} (remembered)", failed.why))
            });
        }
        match self.discover(provider, http).await {
            Ok(metadata) => Ok(self.remember_metadata(ctx, &provider.id, metadata)),
            Err(refusal) => {
                let failed = SsoDiscoveryFailure {
                    unavailable: matches!(refusal.error, SsoSignInError::ProviderUnavailable),
                    why: refusal.why.clone(),
                };
                self.remember_discovery(ctx, &provider.id, Err(failed));
                Err(refusal)
            }
        }
    }

    /// The provider's discovery document and keys, fetched and checked: the
    /// addresses it names for the browser, the token and the keys must be
    /// ones keyward may use (`https`; see `sso.allow_private_addresses`).
    async fn discover(
        &self,
        provider: &SsoProvider,
        http: &dyn SsoHttp,
    ) -> Result<CoreProviderMetadata, Refusal> {
        let allow_private = self.settings.sso.allow_private_addresses;
        // The issuer exactly as configured: a parsed URL would gain a `/`,
        // and the discovery document's issuer must match it to the letter.
        let issuer = IssuerUrl::new(provider.issuer.clone())
            .ok()
            .filter(|issuer| issuer_allowed(issuer.url(), allow_private))
            .ok_or_else(|| {
                Refusal::new(SsoSignInError::ProviderMisconfigured, "issuer not allowed")
            })?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.sso_transport(http))
            .await
            .map_err(discovery_error)?;
        let endpoints_ok = endpoint_allowed(metadata.authorization_endpoint().url(), allow_private)
            && endpoint_allowed(metadata.jwks_uri().url(), allow_private)
            && metadata
                .token_endpoint()
                .is_some_and(|t| endpoint_allowed(t.url(), allow_private));
        if !endpoints_ok {
            return Err(Refusal::new(
                SsoSignInError::ProviderMisconfigured,
                "authorization, token or keys endpoint missing or not allowed",
            ));
        }
        Ok(metadata)
    }

    /// The provider's keys fetched again (a key unknown to the cached set).
    async fn sso_fresh_keys(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        metadata: &CoreProviderMetadata,
        http: &dyn SsoHttp,
    ) -> Result<Arc<CoreProviderMetadata>, Refusal> {
        let keys = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.sso_transport(http))
            .await
            .map_err(discovery_error)?;
        let refreshed = metadata.clone().set_jwks(keys);
        Ok(self.remember_metadata(ctx, &provider.id, refreshed))
    }

    fn cached_metadata(
        &self,
        ctx: &Ctx<'_>,
        id: &SsoProviderId,
    ) -> Option<Result<Arc<CoreProviderMetadata>, SsoDiscoveryFailure>> {
        let cache = self.sso_discovery.lock().ok()?;
        let (fetched_at, learnt) = cache.get(id.as_str())?;
        let age = ctx.now.secs() - fetched_at.secs();
        let ttl = discovery_ttl(learnt);
        ((0..ttl).contains(&age)).then(|| learnt.clone())
    }

    /// Keeps a provider's metadata for five minutes; it back, shared.
    fn remember_metadata(
        &self,
        ctx: &Ctx<'_>,
        id: &SsoProviderId,
        metadata: CoreProviderMetadata,
    ) -> Arc<CoreProviderMetadata> {
        let metadata = Arc::new(metadata);
        self.remember_discovery(ctx, id, Ok(metadata.clone()));
        metadata
    }

    /// Keeps what discovery learnt of a provider, or why it failed.
    fn remember_discovery(
        &self,
        ctx: &Ctx<'_>,
        id: &SsoProviderId,
        learnt: Result<Arc<CoreProviderMetadata>, SsoDiscoveryFailure>,
    ) {
        if let Ok(mut cache) = self.sso_discovery.lock() {
            // Forget what has expired, so removed providers do not pile up.
            cache.retain(|_, (at, old)| ctx.now.secs() - at.secs() < discovery_ttl(old));
            cache.insert(id.as_str().to_owned(), (ctx.now, learnt));
        }
    }

    /// Finds (or makes) the person the provider vouched for and signs them
    /// in, in one write transaction. Parallel first sign-ins of one subject
    /// make one link and one account: the link's INSERT decides, and the
    /// loser starts again and finds the winner's link. A provider removed
    /// while its callback was under way refuses the sign-in as a used state
    /// would: nothing is linked, created or opened.
    async fn sign_in_identity(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        identity: &Identity,
    ) -> Result<SignInOutcome, Refusal> {
        let provider_gone = || Refusal::new(SsoSignInError::StateInvalid, "provider removed");
        for _ in 0..3 {
            match self.sign_in_identity_once(ctx, provider, identity).await {
                Ok(Some(outcome)) => return Ok(outcome),
                Ok(None) => continue, // lost a race to create the account
                Err(Refusal {
                    error: SsoSignInError::Internal(err),
                    ..
                }) if err.is_foreign_key_violation() => return Err(provider_gone()),
                Err(refusal) => return Err(refusal),
            }
        }
        Err(
            Internal::new("single sign-on: the account was created and removed three times over")
                .into(),
        )
    }

    /// One try of [`Self::sign_in_identity`]: `None` when a parallel sign-in
    /// created the account first (the transaction rolls back).
    async fn sign_in_identity_once(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        identity: &Identity,
    ) -> Result<Option<SignInOutcome>, Refusal> {
        let mut tx = self.db.begin_write().await?;
        if !providers::hold(&mut tx, self.db.backend(), &provider.id).await? {
            return Err(Refusal::new(
                SsoSignInError::StateInvalid,
                "provider removed",
            ));
        }
        let Some((account, found_by)) = self.person_of(&mut tx, ctx, provider, identity).await?
        else {
            return Ok(None);
        };
        let mfa_at_provider = provider.trust_mfa && identity.mfa;
        // Held at enrolment with no password to enrol with, they would
        // never get past it: the provider's second factor must count.
        if !mfa_at_provider && self.enrolment_out_of_reach(&mut tx, &account).await? {
            let error = SsoSignInError::MfaRequired {
                provider: provider.name.clone(),
            };
            return Err(Refusal::new(error, "two-step verification required").about(&account.id));
        }
        links::touch(&mut tx, &provider.id, &identity.subject, ctx.now).await?;
        let first_link = !matches!(found_by, FoundBy::Link);
        let outcome = self
            .sign_in_proved_elsewhere(
                &mut tx,
                ctx,
                account.clone(),
                &provider.id,
                mfa_at_provider,
                first_link,
            )
            .await?;
        // An account with second factors of its own, found by the claim, is
        // linked only by proving it is theirs: keyward's own step. Until the
        // link exists every such sign-in asks that step, so a link is never
        // left behind by a step abandoned halfway.
        if first_link && matches!(outcome, SignInOutcome::SecondStep(_)) {
            links::delete_link(&mut tx, provider.id.as_str(), &account.id).await?;
        }
        let how = match &outcome {
            SignInOutcome::Complete(_) => "success",
            SignInOutcome::SecondStep(_) => "second_step",
        };
        let detail = format!(
            "provider={}; found_by={}; mfa_at_provider={mfa_at_provider}",
            provider.id,
            found_by.as_str()
        );
        audit::insert(
            &mut *tx,
            &sso_entry(ctx, provider, Some(account.id.as_str()), how, &detail),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(outcome))
    }

    /// The active account of an allowed role that the identity names, linked;
    /// `None` when a parallel sign-in of the same subject created the account
    /// first (the caller rolls back and starts again).
    async fn person_of(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        identity: &Identity,
    ) -> Result<Option<(Account, FoundBy)>, Refusal> {
        if let Some(user) = links::linked_user(tx, &provider.id, &identity.subject).await? {
            let account = accounts::find_account_in(tx, &user)
                .await?
                .ok_or_else(|| Internal::new("an SSO link names no account"))?;
            allowed(provider, &account)?;
            return Ok(Some((account, FoundBy::Link)));
        }
        let found_by = FoundBy::Claim(provider.claim);
        let (account, found_by) = match self.match_by_claim(tx, provider, identity).await? {
            Some(account) => {
                allowed(provider, &account)?;
                (account, found_by)
            }
            None => match self
                .create_just_in_time(tx, ctx, provider, identity)
                .await?
            {
                Some(account) => (account, FoundBy::Created),
                None => return Ok(None),
            },
        };
        links::link(tx, &provider.id, &identity.subject, &account.id, ctx.now).await?;
        match links::linked_user(tx, &provider.id, &identity.subject).await? {
            Some(user) if user == account.id => Ok(Some((account, found_by))),
            // Another sign-in linked the subject first: go with its link.
            Some(_) => Ok(None),
            None => Err(Refusal::new(
                SsoSignInError::UnknownPerson,
                "the matching account is linked to another identity at this provider",
            )
            .about(&account.id)),
        }
    }

    /// The one account of the provider's school that the provider's claim
    /// names. An email counts only when the provider verified it, and an
    /// address shared by several accounts names nobody.
    async fn match_by_claim(
        &self,
        tx: &mut sqlx::AnyConnection,
        provider: &SsoProvider,
        identity: &Identity,
    ) -> Result<Option<Account>, Refusal> {
        let (column, key) = match provider.claim {
            IdentityClaim::Email => {
                let Some(email) = identity.email.as_deref() else {
                    return Ok(None);
                };
                if !identity.email_verified {
                    return Err(Refusal::new(
                        SsoSignInError::EmailNotVerified,
                        "email not verified",
                    ));
                }
                match EmailAddress::parse(email) {
                    Ok(email) => (MatchColumn::EmailKey, email.key()),
                    Err(_) => return Ok(None),
                }
            }
            IdentityClaim::PreferredUsername => match identity.preferred_username.as_deref() {
                Some(name) => (MatchColumn::UsernameKey, crate::types::username_key(name)),
                None => return Ok(None),
            },
            IdentityClaim::Subject => (
                MatchColumn::UsernameKey,
                crate::types::username_key(&identity.subject),
            ),
        };
        let mut found = links::accounts_in_school(tx, &provider.school_id, column, &key).await?;
        if found.len() > 1 {
            return Err(Refusal::new(
                SsoSignInError::UnknownPerson,
                "the claim matches several accounts of the school",
            ));
        }
        Ok(found.pop())
    }

    /// A new account for an unknown person, when the provider allows
    /// just-in-time accounts: the first of its `jit_roles`, in its school, no
    /// password, active. `None` when a parallel sign-in took the username.
    async fn create_just_in_time(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        identity: &Identity,
    ) -> Result<Option<Account>, Refusal> {
        let Some(role) = provider.jit_roles.first().copied() else {
            return Err(Refusal::new(
                SsoSignInError::UnknownPerson,
                "no matching account",
            ));
        };
        if !provider.roles.contains(&role) {
            return Err(Refusal::new(
                SsoSignInError::RoleNotAllowed,
                "just-in-time role not allowed",
            ));
        }
        let username = free_username(tx, identity).await?;
        let email = identity
            .email
            .as_deref()
            .filter(|_| identity.email_verified)
            .and_then(|e| EmailAddress::parse(e).ok());
        // An address someone outside the school uses (a platform admin's,
        // another school's teacher's) is not copied: the provider vouches
        // for its own school only, and a shared address would send that
        // person's mail, recovery links too, to the new account's name.
        let email = match email {
            Some(email)
                if links::email_used_outside_school(tx, &provider.school_id, &email.key())
                    .await? =>
            {
                None
            }
            email => email,
        };
        let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
        let first_name = name_part(identity.given_name.as_deref());
        let last_name = name_part(identity.family_name.as_deref());
        let new = NewUser {
            id: &id,
            school_id: Some(&provider.school_id),
            role,
            username: &username,
            email: email.as_ref(),
            first_name: &first_name,
            last_name: &last_name,
            status: AccountStatus::Active,
            password_hash: None,
            created_at: ctx.now,
        };
        match accounts::insert_user(&mut *tx, &new).await {
            Ok(()) => {}
            Err(err) if crate::store::is_unique_violation(&err) => return Ok(None),
            Err(err) => return Err(err.into()),
        }
        let detail = format!(
            "single sign-on: provider={}; role={}",
            provider.id,
            role.as_str()
        );
        audit::insert(
            &mut *tx,
            &AuditEntry {
                action: action::USER_CREATE,
                ..sso_entry(ctx, provider, Some(id.as_str()), "success", &detail)
            },
        )
        .await?;
        let account = accounts::find_account_in(tx, &id)
            .await?
            .ok_or_else(|| Internal::new("the new account is not there"))?;
        Ok(Some(account))
    }

    async fn audit_sso_failure(
        &self,
        ctx: &Ctx<'_>,
        provider: &SsoProvider,
        refusal: &Refusal,
    ) -> Result<(), Internal> {
        let detail = format!(
            "provider={}; reason={}; {}",
            provider.id,
            refusal.error.code().as_str(),
            refusal.why
        );
        let target = refusal.target.as_ref().map(UserId::as_str);
        audit::insert_alone(
            &self.db,
            &sso_entry(ctx, provider, target, "failure", &detail),
        )
        .await
    }
}

type SsoClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The row of an SSO sign-in (or its refusal), in the provider's school.
fn sso_entry<'a>(
    ctx: &'a Ctx<'_>,
    provider: &'a SsoProvider,
    target: Option<&'a str>,
    outcome: &'static str,
    detail: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: target,
        api_token: None,
        target_id: target,
        school_id: Some(provider.school_id.as_str()),
        action: action::SSO_SIGN_IN,
        outcome,
        client_addr: ctx.client_addr.as_deref(),
        detail: Some(detail),
    }
}

/// Only an active account of a role the provider lets in.
fn allowed(provider: &SsoProvider, account: &Account) -> Result<(), Refusal> {
    let refuse = |error, why: &str| Err(Refusal::new(error, why).about(&account.id));
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Pending => return refuse(SsoSignInError::AccountPending, "account pending"),
        AccountStatus::Disabled => {
            return refuse(SsoSignInError::AccountDisabled, "account disabled");
        }
    }
    // A provider vouches only for its own school's people, even through a
    // link made before the person moved.
    if account.school_id.as_ref() != Some(&provider.school_id) {
        return refuse(SsoSignInError::UnknownPerson, "account of another school");
    }
    if !provider.roles.contains(&account.role) {
        return refuse(
            SsoSignInError::RoleNotAllowed,
            &format!("role {} not allowed", account.role.as_str()),
        );
    }
    Ok(())
}

/// How long the cache keeps what discovery learnt: metadata five minutes, a
/// failure 30 seconds.
fn discovery_ttl(learnt: &Result<Arc<CoreProviderMetadata>, SsoDiscoveryFailure>) -> i64 {
    match learnt {
        Ok(_) => DISCOVERY_TTL_SECS,
        Err(_) => DISCOVERY_FAILURE_TTL_SECS,
    }
}

/// Why an ID token was not taken: openidconnect's checks, or keyward's own
/// after them (the reason, for the audit row).
enum TokenProblem {
    Claims(ClaimsVerificationError),
    Refused(&'static str),
}

/// The ID token checked (signature, issuer, audience, expiry on keyward's
/// clock, nonce by openidconnect; then `azp`, `iat`, `nbf` and `sub`), as
/// the facts keyward uses.
fn verified_identity(
    client: &SsoClient,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    now: UnixTime,
) -> Result<Identity, TokenProblem> {
    let verifier = client
        .id_token_verifier()
        .set_time_fn(move || chrono::DateTime::from_timestamp(now.secs(), 0).unwrap_or_default());
    let claims: &IdTokenClaims<_, CoreGenderClaim> = id_token
        .claims(&verifier, nonce)
        .map_err(TokenProblem::Claims)?;
    // Meant for another client of the provider, even if we are an audience.
    if claims
        .authorized_party()
        .is_some_and(|azp| azp != client.client_id())
    {
        return Err(TokenProblem::Refused("ID token for another party (azp)"));
    }
    let latest = now.secs() + CLOCK_SKEW_SECS;
    if claims.issue_time().timestamp() > latest {
        return Err(TokenProblem::Refused("ID token issued in the future (iat)"));
    }
    match not_before(id_token) {
        Ok(Some(nbf)) if nbf > latest => {
            return Err(TokenProblem::Refused("ID token not valid yet (nbf)"));
        }
        Ok(_) => {}
        Err(()) => return Err(TokenProblem::Refused("ID token nbf not a time")),
    }
    let subject = claims.subject().as_str();
    let subject_ok = (1..=SUBJECT_MAX_CHARS).contains(&subject.chars().count())
        && !subject.chars().any(char::is_control);
    if !subject_ok {
        return Err(TokenProblem::Refused(
            "ID token sub empty, too long or not printable",
        ));
    }
    Ok(Identity {
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified() == Some(true),
        preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
        given_name: claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
        family_name: claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
        mfa: claims
            .auth_method_refs()
            .is_some_and(|amr| amr.iter().any(|m| m.as_str() == "mfa")),
    })
}

/// The `nbf` claim of a verified ID token (openidconnect does not read it),
/// `Err` when it is there but no number.
fn not_before(id_token: &CoreIdToken) -> Result<Option<i64>, ()> {
    use base64::Engine as _;
    let compact = id_token.to_string();
    let payload = compact.split('.').nth(1).ok_or(())?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| ())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| ())?;
    match claims.get("nbf") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(()),
    }
}

/// A username for a new account: the provider's `preferred_username`, else
/// the email's local part, cleaned to what keyward accepts and made unique
/// with a number.
async fn free_username(
    tx: &mut sqlx::AnyConnection,
    identity: &Identity,
) -> Result<Username, Refusal> {
    let wanted = identity
        .preferred_username
        .clone()
        .or_else(|| {
            identity
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let base = username_base(&wanted);
    for n in 1..100u32 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}{n}")
        };
        let Ok(username) = Username::parse(&candidate) else {
            continue;
        };
        if !links::username_taken(tx, username.key()).await? {
            return Ok(username);
        }
    }
    Err(Refusal::new(
        SsoSignInError::UnknownPerson,
        "no free username for a new account",
    ))
}

/// The first try at a new account's username: ASCII letters, digits and
/// `. _ -` only — compatibility forms folded (fullwidth `ｄ` is `d`), accents
/// dropped, Cyrillic and Greek look-alikes of Latin letters read as those
/// letters, anything else left out — without dots or dashes at either end,
/// at most 56 characters, at least 3 (`user…`). A look-alike of a taken name
/// so becomes that name and gets the usual number.
fn username_base(wanted: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let folded: String = wanted
        .nfkd()
        .filter_map(|c| {
            if c.is_ascii() {
                Some(c)
            } else {
                latin_look_alike(c)
            }
        })
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(56)
        .collect();
    let base = folded.trim_matches(|c| matches!(c, '.' | '-'));
    if base.chars().count() < 3 {
        format!("user{base}")
    } else {
        base.to_owned()
    }
}

/// The Latin letter a Cyrillic or Greek letter is drawn like, if any.
fn latin_look_alike(c: char) -> Option<char> {
    let latin = match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' => 'e',
        'һ' => 'h',
        'і' | 'ї' | 'ι' => 'i',
        'ј' | 'ϳ' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'п' | 'η' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ս' => 'u',
        'ν' | 'ѵ' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'С' | 'Ϲ' => 'C',
        'Е' | 'Ε' => 'E',
        'Н' | 'Η' => 'H',
        'І' | 'Ι' => 'I',
        'Ј' => 'J',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'У' | 'Υ' | 'Ү' => 'Y',
        'Ζ' => 'Z',
        _ => return None,
    };
    Some(latin)
}

/// A name from the provider, as keyward keeps names (at most 100 characters,
/// no control characters).
fn name_part(name: Option<&str>) -> String {
    name.unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Text from the provider fit for a page and an audit row: printable ASCII,
/// at most `max` characters.
fn sanitized(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(max)
        .collect()
}

fn discovery_error(err: DiscoveryError<SsoHttpError>) -> Refusal {
    match err {
        DiscoveryError::Request(SsoHttpError::NotAllowed) => Refusal::new(
            SsoSignInError::ProviderMisconfigured,
            "discovery: an address keyward may not call",
        ),
        DiscoveryError::Request(err) => Refusal::new(
            SsoSignInError::ProviderUnavailable,
            format!("discovery: {err}"),
        ),
        DiscoveryError::Response(status, _, _) => Refusal::new(
            SsoSignInError::ProviderUnavailable,
            format!("discovery answered {status}"),
        ),
        other => Refusal::new(
            SsoSignInError::ProviderMisconfigured,
            format!("discovery: {}", sanitized(&other.to_string(), 200)),
        ),
    }
}

fn token_error<TE: openidconnect::ErrorResponse + 'static>(
    err: RequestTokenError<SsoHttpError, TE>,
) -> Refusal {
    match err {
        RequestTokenError::Request(SsoHttpError::NotAllowed) => Refusal::new(
            SsoSignInError::ProviderMisconfigured,
            "token endpoint at an address keyward may not call",
        ),
        RequestTokenError::Request(err) => Refusal::new(
            SsoSignInError::ProviderUnavailable,
            format!("token endpoint: {err}"),
        ),
        RequestTokenError::ServerResponse(response) => {
            // The error's code only (for example `invalid_grant`): its
            // description could echo what was sent.
            let text = serde_json::to_value(&response)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "error".to_owned());
            let error = sanitized(&text, 64);
            let why = format!("token endpoint error {error}");
            Refusal::new(SsoSignInError::ProviderError { error }, why)
        }
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => Refusal::new(
            SsoSignInError::TokenInvalid,
            "token endpoint answer not understood",
        ),
    }
}

fn token_problem(problem: TokenProblem) -> Refusal {
    let err = match problem {
        TokenProblem::Claims(err) => err,
        TokenProblem::Refused(why) => return Refusal::new(SsoSignInError::TokenInvalid, why),
    };
    let why = match &err {
        ClaimsVerificationError::Expired(_) => "ID token expired",
        ClaimsVerificationError::InvalidAudience(_) => "ID token for another audience",
        ClaimsVerificationError::InvalidIssuer(_) => "ID token from another issuer",
        ClaimsVerificationError::InvalidNonce(_) => "ID token nonce mismatch",
        ClaimsVerificationError::SignatureVerification(_) => "ID token signature",
        _ => "ID token not valid",
    };
    Refusal::new(SsoSignInError::TokenInvalid, why)
}

#[cfg(test)]
mod tests {
    use super::{sanitized, username_base};

    #[test]
    fn new_usernames_are_ascii_so_look_alikes_meet_the_names_they_copy() {
        // Cyrillic е, fullwidth letters, a Greek omicron: the admin's name.
        assert_eq!(username_base("d\u{0435}mo.admin"), "demo.admin");
        assert_eq!(username_base("ｄｅｍｏ.ａｄｍｉｎ"), "demo.admin");
        assert_eq!(username_base("dem\u{03BF}.admin"), "demo.admin");
        assert_eq!(username_base("José.Núñez"), "Jose.Nunez");
        assert_eq!(username_base("..demo.admin--"), "demo.admin");
        assert_eq!(username_base("-.\u{202E}nimda.omed\u{200B}"), "nimda.omed");
        assert_eq!(username_base("李小龍"), "user");
        assert_eq!(username_base("li"), "userli");
        assert_eq!(username_base(&"x".repeat(80)).len(), 56);
        assert!(username_base("a.b_c-d9").is_ascii());
    }

    #[test]
    fn provider_text_is_cut_and_kept_printable() {
        assert_eq!(sanitized("access_denied", 64), "access_denied");
        assert_eq!(sanitized("a\nb\u{7}c<é>", 64), "a?b?c<?>");
        assert_eq!(sanitized(&"x".repeat(300), 200).len(), 200);
    }
}
