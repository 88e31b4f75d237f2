//! Connecting a school's OpenID Connect providers: add (the settings checked
//! and parsed, the client secret sealed), list (never the secret) and remove
//! (its links and flows go with it), by the school's lead teacher or a
//! platform admin with two-step verification on their own account; and
//! the public list behind the **Sign in with …** buttons.

use url::Url;
use zeroize::Zeroizing;

use super::store::providers as store;
use super::{IdentityClaim, SignInChoice, SsoProvider, SsoProviderId};
use crate::accounts;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::{Code, CodedError, Internal};
use crate::schools::SCHOOL_ROLES;
use crate::types::random::RandomError;
use crate::types::{Role, SchoolId};
use crate::{Ctx, Keyward};

/// A school connects at most this many providers.
pub const MAX_PROVIDERS_PER_SCHOOL: usize = 10;
const NAME_MAX_CHARS: usize = 64;
const ISSUER_MAX_CHARS: usize = 512;
const CLIENT_ID_MAX_CHARS: usize = 256;
const CLIENT_SECRET_MAX_CHARS: usize = 512;
const MAX_SCOPES: usize = 20;
const SCOPE_MAX_CHARS: usize = 64;
/// The scopes asked for when the school names none.
const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// A provider to connect, as typed: [`Keyward::add_sso_provider`] checks it.
pub struct NewSsoProvider {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    /// `None`: `openid email profile`. `openid` is added when missing.
    pub scopes: Option<Vec<String>>,
    /// `None`: a verified email.
    pub claim: Option<IdentityClaim>,
    /// `None`: every role of the school.
    pub roles: Option<Vec<Role>>,
    /// `None`: nobody is created just in time.
    pub jit_roles: Option<Vec<Role>>,
    pub trust_mfa: bool,
}

impl std::fmt::Debug for NewSsoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSsoProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::types::REDACTED)
            .field("scopes", &self.scopes)
            .field("claim", &self.claim)
            .field("roles", &self.roles)
            .field("jit_roles", &self.jit_roles)
            .field("trust_mfa", &self.trust_mfa)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SsoConfigError {
    /// `field` names the setting; the message says what it must be.
    #[error("{reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("There is no such sign-in provider, or you may not manage it.")]
    NotFound,
    #[error("There is no such school.")]
    SchoolNotFound,
    #[error(
        "Turn on two-step verification on your own account first: only administrators who use it may connect or remove sign-in providers."
    )]
    MfaRequired,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for SsoConfigError {
    fn code(&self) -> Code {
        match self {
            SsoConfigError::Invalid { .. } => Code::SsoProviderInvalid,
            SsoConfigError::NotFound => Code::SsoProviderNotFound,
            SsoConfigError::SchoolNotFound => Code::SchoolNotFound,
            SsoConfigError::MfaRequired => Code::MfaRequired,
            SsoConfigError::Denied(denied) => denied.code(),
            SsoConfigError::Internal(internal) => internal.code(),
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            SsoConfigError::Invalid { field, .. } => vec![("field", (*field).into())],
            SsoConfigError::MfaRequired => {
                vec![("enable_at", crate::accounts::ENABLE_MFA_AT.into())]
            }
            _ => Vec::new(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SsoConfigError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<RandomError> for SsoConfigError {
    fn from(err: RandomError) -> Self {
        SsoConfigError::Internal(Internal::new(err))
    }
}

fn invalid(field: &'static str, reason: &'static str) -> SsoConfigError {
    SsoConfigError::Invalid { field, reason }
}

/// Whether keyward may talk to an issuer at `url`: the rule of every
/// endpoint (`https` to a public address; with `sso.allow_private_addresses`,
/// `allow_private`, any host and plain `http` on loopback), and no user name,
/// password, query or fragment.
pub fn issuer_allowed(url: &Url, allow_private: bool) -> bool {
    super::http::endpoint_allowed(url, allow_private)
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
}

/// One line of text: trimmed, 1 to `max` characters, no control or format
/// character (bidi overrides and isolates, zero-width characters: text that
/// would show other than it reads) and no line or paragraph separator.
fn one_line(text: &str, max: usize) -> Option<&str> {
    let text = text.trim();
    let clean =
        |c: char| !c.is_control() && !is_format_char(c) && !matches!(c, '\u{2028}' | '\u{2029}');
    (!text.is_empty() && text.chars().count() <= max && text.chars().all(clean)).then_some(text)
}

/// Unicode's format characters (general category Cf, Unicode 16).
fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// A scope token as RFC 6749 §3.3 allows it.
fn scope_ok(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= SCOPE_MAX_CHARS
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn checked_scopes(scopes: Option<&[String]>) -> Result<Vec<String>, SsoConfigError> {
    let Some(scopes) = scopes else {
        return Ok(DEFAULT_SCOPES.map(String::from).to_vec());
    };
    let mut checked = vec!["openid".to_owned()];
    for scope in scopes {
        if !scope_ok(scope) {
            return Err(invalid(
                "scopes",
                "Each scope is one word of printable characters.",
            ));
        }
        if !checked.contains(scope) {
            checked.push(scope.clone());
        }
    }
    if checked.len() > MAX_SCOPES {
        return Err(invalid("scopes", "Ask for at most 20 scopes."));
    }
    Ok(checked)
}

fn checked_roles(
    field: &'static str,
    roles: Option<&[Role]>,
    default: &[Role],
) -> Result<Vec<Role>, SsoConfigError> {
    let roles = roles.unwrap_or(default);
    if roles.iter().any(|role| !SCHOOL_ROLES.contains(role)) {
        return Err(invalid(field, "Only the school's own roles can be named."));
    }
    // In the order of the list given, without repeats.
    let mut checked: Vec<Role> = Vec::with_capacity(roles.len());
    for role in roles {
        if !checked.contains(role) {
            checked.push(*role);
        }
    }
    Ok(checked)
}

/// The settings of a new provider, checked, as the row will hold them.
fn checked_provider(
    id: SsoProviderId,
    school: &SchoolId,
    new: &NewSsoProvider,
    ctx: &Ctx<'_>,
    allow_private: bool,
) -> Result<SsoProvider, SsoConfigError> {
    let name = one_line(&new.name, NAME_MAX_CHARS)
        .ok_or_else(|| invalid("name", "Give the provider a name of 1 to 64 characters."))?;
    let issuer = one_line(&new.issuer, ISSUER_MAX_CHARS)
        .filter(|issuer| Url::parse(issuer).is_ok_and(|url| issuer_allowed(&url, allow_private)))
        .ok_or_else(|| {
            invalid(
                "issuer",
                "The issuer is the provider's https address on the internet, as its discovery document says it.",
            )
        })?;
    let client_id = one_line(&new.client_id, CLIENT_ID_MAX_CHARS)
        .ok_or_else(|| invalid("client_id", "Copy the client ID from the provider."))?;
    if one_line(&new.client_secret, CLIENT_SECRET_MAX_CHARS).is_none() {
        return Err(invalid(
            "client_secret",
            "Copy the client secret from the provider.",
        ));
    }
    // Who may sign in is a set, kept in the order of the school's roles.
    let chosen = checked_roles("roles", new.roles.as_deref(), &SCHOOL_ROLES)?;
    let roles: Vec<Role> = SCHOOL_ROLES
        .into_iter()
        .filter(|r| chosen.contains(r))
        .collect();
    if roles.is_empty() {
        return Err(invalid(
            "roles",
            "Choose at least one role that signs in with it.",
        ));
    }
    let jit_roles = checked_roles("jit_roles", new.jit_roles.as_deref(), &[])?;
    if jit_roles.iter().any(|role| !roles.contains(role)) {
        return Err(invalid(
            "jit_roles",
            "New accounts can only be made for roles that sign in with it.",
        ));
    }
    Ok(SsoProvider {
        id,
        school_id: school.clone(),
        name: name.to_owned(),
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        scopes: checked_scopes(new.scopes.as_deref())?,
        claim: new.claim.unwrap_or(IdentityClaim::Email),
        roles,
        jit_roles,
        trust_mfa: new.trust_mfa,
        created_at: ctx.now,
    })
}

impl Keyward {
    /// Connects a provider to `school` (its lead teacher, a platform admin).
    pub async fn add_sso_provider(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        new: NewSsoProvider,
    ) -> Result<SsoProvider, SsoConfigError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        self.own_second_factor(actor).await?;
        if !crate::schools::store::school_exists(&self.db, school).await? {
            return Err(SsoConfigError::SchoolNotFound);
        }
        let allow_private = self.settings.sso.allow_private_addresses;
        let id = SsoProviderId::generate(ctx.rng)?;
        let provider = checked_provider(id, school, &new, ctx, allow_private)?;
        let mut tx = self.db.begin_write().await?;
        // Counted while holding the school's lock, so parallel adds (on any
        // instance) stop at the limit.
        let lock = format!("sso-providers:{school}");
        crate::accounts::throttle::serialize_on(&mut tx, &lock, ctx.now).await?;
        if store::count_for_school(&mut *tx, school).await? >= MAX_PROVIDERS_PER_SCHOOL as i64 {
            return Err(invalid(
                "school",
                "A school connects at most 10 sign-in providers; remove one first.",
            ));
        }
        store::insert(&mut tx, ctx, &self.sealer, &provider, &new.client_secret).await?;
        let detail = format!("provider={} issuer={}", provider.id, provider.issuer);
        audit::insert(
            &mut *tx,
            &config_audit(ctx, actor, school, action::SSO_PROVIDER_ADD, &detail),
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(provider)
    }

    /// The providers `school` connected, oldest first.
    pub async fn school_sso_providers(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<Vec<SsoProvider>, SsoConfigError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        if !crate::schools::store::school_exists(&self.db, school).await? {
            return Err(SsoConfigError::SchoolNotFound);
        }
        Ok(store::list_for_school(&self.db, school).await?)
    }

    /// Removes one of `school`'s providers, its sealed secret, its links and
    /// the sign-ins under way through it. Its people who had no keyward
    /// password then need an access code or a temporary password.
    pub async fn remove_sso_provider(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        provider: &SsoProviderId,
    ) -> Result<(), SsoConfigError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        self.own_second_factor(actor).await?;
        let mut tx = self.db.begin_write().await?;
        // The DELETE claims the row: of parallel removals one goes on.
        let Some(sealed_id) = store::delete(&mut tx, school, provider).await? else {
            return Err(SsoConfigError::NotFound);
        };
        crate::crypto::store::delete_sealed(&mut tx, &sealed_id).await?;
        // What the provider opened ends with it: its sessions, and its
        // sign-ins waiting for keyward's second step.
        let sessions = accounts::end_sessions_of_provider(&mut tx, provider).await?;
        accounts::delete_sign_in_steps_of_provider(&mut tx, provider).await?;
        let detail = format!("provider={provider}; sessions_ended={sessions}");
        audit::insert(
            &mut *tx,
            &config_audit(ctx, actor, school, action::SSO_PROVIDER_REMOVE, &detail),
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(())
    }

    /// Who connects or removes a provider decides whose second factor will
    /// count, so they need one on their own keyward account (an
    /// authenticator app or a passkey): one used at a provider in this
    /// session does not do, since a provider they connected could vouch for
    /// it. The operator at the command line has no account.
    async fn own_second_factor(&self, actor: &Actor) -> Result<(), SsoConfigError> {
        if actor.is_operator() || self.second_factors_of(&actor.user_id).await?.any() {
            return Ok(());
        }
        Err(SsoConfigError::MfaRequired)
    }

    /// Every provider, with its school's name: the **Sign in with …**
    /// buttons. The same for every visitor.
    pub async fn sign_in_choices(&self) -> Result<Vec<SignInChoice>, Internal> {
        store::list_choices(&self.db).await
    }

    /// One provider's public facts (no secret), `None` when there is none.
    pub async fn sso_provider(&self, id: &SsoProviderId) -> Result<Option<SsoProvider>, Internal> {
        store::find(self.db.pool(), id).await
    }

    /// The address providers send people back to, under `server.public_url`:
    /// what a school copies into its provider's settings.
    pub fn sso_redirect_uri(&self) -> String {
        let base = self
            .settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/');
        format!("{base}/sso/callback")
    }
}

fn config_audit<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    school: &'a SchoolId,
    action: &'static str,
    detail: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
        api_token: actor.api_token_id(),
        target_id: None,
        school_id: Some(school.as_str()),
        action,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: Some(detail),
    }
}
