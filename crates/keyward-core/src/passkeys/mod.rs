//! Passkeys (WebAuthn, through webauthn-rs): people register one or more
//! named passkeys in Account Settings (the password again first), list,
//! rename and remove them (the password again), and use one as the second
//! step of a sign-in or to sign in without a password (`sign_in.rs`).
//!
//! The relying party is `server.public_url`: its host is the RP ID (it must
//! be a domain name — `localhost` will do, an IP address will not — and
//! must never change, or every passkey stops working) and its origin the
//! only accepted origin. The server's half of every ceremony (the challenge
//! among it) is a row of `webauthn_ceremonies`, never a cookie; the browser
//! holds a random handle, and finishing takes the row out in one statement,
//! so a ceremony is finished once at most. Every passkey is created as a
//! discoverable credential (resident key required), so each one also works
//! from the first screen.
//!
//! Staff may always use passkeys. Learners' devices are shared, so their
//! passkeys are off unless their school switches them on
//! (`schools.learner_passkeys`); switching off removes the learners'
//! passkeys. Owns `passkeys` and `webauthn_ceremonies`; must not open
//! sessions itself (accounts does).

mod sign_in;
#[cfg(any(test, feature = "test-support"))]
pub mod soft_authenticator;
pub(crate) mod store;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Url};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{Account, throttle};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target, authorize};
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::settings::Settings;
use crate::types::{PasskeyId, Password, Role, SchoolId, UnixTime, UserId};

/// How long a ceremony may take, from its start to its finish (also the
/// timeout the browser is given).
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);
/// The most passkeys one account keeps.
pub const MAX_PASSKEYS_PER_ACCOUNT: i64 = 20;
/// The longest name of a passkey, in characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;
/// The relying party's name, which the browser may show.
const RP_NAME: &str = "keyward";

/// The kinds of ceremony, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CeremonyKind {
    /// Adding a passkey to a signed-in account.
    Registration,
    /// The second step of a sign-in, after the password: the account's own
    /// passkeys are offered.
    SecondStep,
    /// **Sign in with a passkey** from the first screen: the browser offers
    /// the passkeys it holds for this site, and the answer names the account.
    Passwordless,
}

impl CeremonyKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "registration",
            CeremonyKind::SecondStep => "second_step",
            CeremonyKind::Passwordless => "passwordless",
        }
    }
}

/// A ceremony started: the handle to finish it with (given to the browser
/// once, stored only as a digest) and the options for the browser's
/// `navigator.credentials.create()` or `.get()`, as JSON
/// (`{"publicKey": {…}}`, binary fields in base64url).
pub struct PasskeyChallenge {
    pub ceremony: Token,
    pub options: serde_json::Value,
}

impl std::fmt::Debug for PasskeyChallenge {
    // The handle never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyChallenge")
            .field("ceremony", &crate::types::REDACTED)
            .field("options", &self.options)
            .finish()
    }
}

/// A passkey as its owner sees it in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySummary {
    pub id: PasskeyId,
    pub name: String,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error(
        "Passkeys are switched off for learners at your school. Your lead teacher can switch them on."
    )]
    Off,
    #[error(
        "Passkeys cannot work on this server: its address (server.public_url) must be a domain name such as localhost, not an IP address."
    )]
    Unavailable,
    #[error("Give the passkey a name of 1 to 64 characters.")]
    InvalidName,
    #[error("You have as many passkeys as keyward keeps (20). Remove one first.")]
    TooMany,
    #[error("That passkey is already registered.")]
    Taken,
    #[error("This passkey request has expired or was already used. Start again.")]
    CeremonyExpired,
    #[error("The browser's answer could not be read or did not verify. Try again.")]
    ResponseInvalid,
    #[error("That passkey was not accepted. Try again, or sign in with your password.")]
    Rejected,
    #[error("There is no such passkey.")]
    NotFound,
    #[error("Your current password is not right.")]
    WrongPassword,
    #[error("Too many tries. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error("Your sign-in took too long or was already finished. Sign in again.")]
    StepExpired,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for PasskeyError {
    fn code(&self) -> Code {
        match self {
            PasskeyError::Off => Code::PasskeysOff,
            PasskeyError::Unavailable => Code::PasskeysUnavailable,
            PasskeyError::InvalidName => Code::InvalidName,
            PasskeyError::TooMany => Code::TooManyPasskeys,
            PasskeyError::Taken => Code::PasskeyTaken,
            PasskeyError::CeremonyExpired => Code::PasskeyCeremonyExpired,
            PasskeyError::ResponseInvalid => Code::PasskeyResponseInvalid,
            PasskeyError::Rejected => Code::PasskeyRejected,
            PasskeyError::NotFound => Code::NotFound,
            PasskeyError::WrongPassword => Code::WrongCurrentPassword,
            PasskeyError::Throttled { .. } => Code::TooManyAttempts,
            PasskeyError::Busy { .. } => Code::ServerBusy,
            PasskeyError::StepExpired => Code::SignInStepExpired,
            PasskeyError::Denied(denied) => denied.code(),
            PasskeyError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            PasskeyError::Throttled { retry_after_secs }
            | PasskeyError::Busy { retry_after_secs } => Some(*retry_after_secs),
            PasskeyError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

crate::accounts::from_reauth!(PasskeyError, WrongPassword);

impl From<sqlx::Error> for PasskeyError {
    fn from(err: sqlx::Error) -> Self {
        PasskeyError::Internal(err.into())
    }
}

impl From<crate::types::random::RandomError> for PasskeyError {
    fn from(err: crate::types::random::RandomError) -> Self {
        PasskeyError::Internal(err.into())
    }
}

/// A webauthn-rs failure that is ours, not the browser's (a configuration
/// or a serialisation problem).
fn internal(what: &str, err: impl std::fmt::Display) -> Internal {
    Internal::new(format!("{what}: {err}"))
}

/// The relying party of `settings.server.public_url`, or `Unavailable` when
/// its host is not a domain name (browsers refuse an IP address as RP ID).
pub(crate) fn relying_party(settings: &Settings) -> Result<Webauthn, PasskeyError> {
    let url = &settings.server.public_url;
    let Some(rp_id) = url.domain() else {
        return Err(PasskeyError::Unavailable);
    };
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|err| internal("public_url origin", err))?;
    WebauthnBuilder::new(rp_id, &origin)
        .and_then(|builder| builder.rp_name(RP_NAME).timeout(CEREMONY_TTL).build())
        .map_err(|err| PasskeyError::Internal(internal("webauthn relying party", err)))
}

/// A passkey's name as typed: trimmed, 1 to 64 characters, no control
/// characters.
pub fn passkey_name(typed: &str) -> Result<String, PasskeyError> {
    let name = typed.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_PASSKEY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::InvalidName);
    }
    Ok(name.to_owned())
}

/// A credential id as stored for look-up (base64url without padding).
fn credential_key(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The WebAuthn user handle of an account: its id's 16 bytes (a random
/// UUID, so it says nothing about the person).
fn user_handle(user: &UserId) -> Result<uuid::Uuid, Internal> {
    uuid::Uuid::try_parse(user.as_str()).map_err(|err| internal("user id as handle", err))
}

fn stored_passkey(json: &str) -> Result<Passkey, Internal> {
    serde_json::from_str(json).map_err(|err| internal("stored passkey", err))
}

/// Asks for a discoverable credential: webauthn-rs's passkey registration
/// leaves residence to the authenticator ("discouraged"); keyward wants
/// every passkey usable from the first screen, where no account is named.
fn require_resident_key(options: &mut serde_json::Value) {
    if let Some(selection) = options
        .get_mut("publicKey")
        .and_then(|o| o.get_mut("authenticatorSelection"))
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
}

impl Keyward {
    /// Whether passkeys can work on this server at all (its address is a
    /// domain name), for pages deciding whether to offer them.
    pub fn passkeys_available(&self) -> bool {
        relying_party(&self.settings).is_ok()
    }

    /// Whether `account` may use passkeys here: `Unavailable` when the
    /// server's address cannot be a relying party, `Off` for a learner
    /// whose school has not switched them on.
    pub async fn passkeys_allowed(&self, account: &Account) -> Result<(), PasskeyError> {
        relying_party(&self.settings)?;
        if account.role != Role::Learner {
            return Ok(());
        }
        let on = match &account.school_id {
            Some(school) => crate::schools::store::find_learner_passkeys(&self.db, school)
                .await?
                .unwrap_or(false),
            None => false,
        };
        if on { Ok(()) } else { Err(PasskeyError::Off) }
    }

    /// Starts adding a passkey named `name` to the signed-in `account`,
    /// after its password typed again.
    pub async fn start_passkey_registration(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        name: &str,
        current_password: &Password,
    ) -> Result<PasskeyChallenge, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        self.passkeys_allowed(account).await?;
        let name = passkey_name(name)?;
        let existing = store::credentials_of(&self.db, &account.id).await?;
        if existing.len() as i64 >= MAX_PASSKEYS_PER_ACCOUNT {
            return Err(PasskeyError::TooMany);
        }
        self.confirm_password(ctx, account, current_password, action::PASSKEY_REGISTER)
            .await?;
        // The authenticator refuses to make a second passkey for an account
        // it already holds one for.
        let exclude = existing
            .iter()
            .map(|c| Ok(stored_passkey(&c.credential)?.cred_id().clone()))
            .collect::<Result<Vec<_>, Internal>>()?;
        let (creation, state) = webauthn
            .start_passkey_registration(
                user_handle(&account.id)?,
                account.username.as_str(),
                &account.display_name(),
                Some(exclude),
            )
            .map_err(|err| internal("start passkey registration", err))?;
        let mut options =
            serde_json::to_value(&creation).map_err(|err| internal("creation options", err))?;
        require_resident_key(&mut options);
        let state = serde_json::to_string(&state).map_err(|err| internal("registration", err))?;
        let ceremony = self
            .begin_ceremony(
                ctx,
                CeremonyKind::Registration,
                Some(&account.id),
                &state,
                Some(&name),
            )
            .await?;
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Finishes adding a passkey: checks the browser's answer against the
    /// ceremony (taken once) and stores the passkey under the name given
    /// at the start.
    pub async fn finish_passkey_registration(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        ceremony: &Token,
        response: &serde_json::Value,
    ) -> Result<PasskeySummary, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        let claimed = self
            .claim_ceremony(ctx, ceremony, CeremonyKind::Registration, Some(&account.id))
            .await?;
        let state: PasskeyRegistration =
            serde_json::from_str(&claimed.state).map_err(|err| internal("registration", err))?;
        let name = claimed
            .passkey_name
            .ok_or_else(|| internal("registration", "no passkey name"))?;
        let passkey = match serde_json::from_value::<RegisterPublicKeyCredential>(response.clone())
            .map_err(|err| err.to_string())
            .and_then(|r| {
                webauthn
                    .finish_passkey_registration(&r, &state)
                    .map_err(|err| err.to_string())
            }) {
            Ok(passkey) => passkey,
            Err(reason) => {
                tracing::info!(%reason, "passkey registration refused");
                self.audit_passkey(ctx, account, action::PASSKEY_REGISTER, "failure", None)
                    .await?;
                return Err(PasskeyError::ResponseInvalid);
            }
        };
        self.store_passkey(ctx, account, &name, &passkey).await
    }

    /// Stores a verified new passkey: in one transaction that holds the
    /// school's switch (for a learner) and the account's passkeys, so the
    /// limit and the switch hold under concurrency.
    async fn store_passkey(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        name: &str,
        passkey: &Passkey,
    ) -> Result<PasskeySummary, PasskeyError> {
        let id = PasskeyId::generate(ctx.rng)?;
        let json = serde_json::to_string(passkey).map_err(|err| internal("passkey", err))?;
        let mut tx = self.db.begin_write().await?;
        if account.role == Role::Learner {
            let on = match &account.school_id {
                Some(school) => crate::schools::store::learner_passkeys_in(&mut tx, school).await?,
                None => false,
            };
            if !on {
                return Err(PasskeyError::Off);
            }
        }
        throttle::serialize_on(&mut tx, &format!("passkeys:{}", account.id), ctx.now).await?;
        if store::count_passkeys(&mut *tx, &account.id).await? >= MAX_PASSKEYS_PER_ACCOUNT {
            return Err(PasskeyError::TooMany);
        }
        let inserted = store::insert_passkey(
            &mut tx,
            &store::NewPasskey {
                id: &id,
                user_id: &account.id,
                name,
                credential_id: &credential_key(passkey.cred_id()),
                credential: &json,
                sign_count: 0,
                created_at: ctx.now,
            },
        )
        .await;
        match inserted {
            Ok(()) => {}
            Err(err) if crate::store::is_unique_violation(&err) => return Err(PasskeyError::Taken),
            Err(err) => return Err(err.into()),
        }
        let detail = format!("passkey={id}");
        self.audit_passkey_in(&mut tx, ctx, account, action::PASSKEY_REGISTER, &detail)
            .await?;
        tx.commit().await?;
        Ok(PasskeySummary {
            id,
            name: name.to_owned(),
            created_at: ctx.now,
            last_used_at: None,
        })
    }

    /// The account's passkeys, oldest first.
    pub async fn list_passkeys(&self, account: &Account) -> Result<Vec<PasskeySummary>, Internal> {
        Ok(store::list_passkeys(&self.db, &account.id)
            .await?
            .into_iter()
            .map(|p| PasskeySummary {
                id: p.id,
                name: p.name,
                created_at: p.created_at,
                last_used_at: p.last_used_at,
            })
            .collect())
    }

    /// Removes one of the account's passkeys, after its password typed again.
    pub async fn remove_passkey(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        passkey: &PasskeyId,
        current_password: &Password,
    ) -> Result<(), PasskeyError> {
        self.confirm_password(ctx, account, current_password, action::PASSKEY_REMOVE)
            .await?;
        let mut tx = self.db.begin_write().await?;
        if !store::delete_passkey(&mut tx, &account.id, passkey).await? {
            return Err(PasskeyError::NotFound);
        }
        let detail = format!("passkey={passkey}");
        self.audit_passkey_in(&mut tx, ctx, account, action::PASSKEY_REMOVE, &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives one of the account's passkeys a new name.
    pub async fn rename_passkey(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        passkey: &PasskeyId,
        name: &str,
    ) -> Result<PasskeySummary, PasskeyError> {
        let name = passkey_name(name)?;
        let mut tx = self.db.begin_write().await?;
        if !store::rename_passkey(&mut tx, &account.id, passkey, &name).await? {
            return Err(PasskeyError::NotFound);
        }
        let detail = format!("passkey={passkey}");
        self.audit_passkey_in(&mut tx, ctx, account, action::PASSKEY_RENAME, &detail)
            .await?;
        tx.commit().await?;
        self.list_passkeys(account)
            .await?
            .into_iter()
            .find(|p| &p.id == passkey)
            .ok_or(PasskeyError::NotFound)
    }

    /// Whether the school lets its learners use passkeys. Its staff and
    /// platform admins may ask.
    pub async fn learner_passkeys(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<bool, PasskeyError> {
        let target = Target::School(school);
        match authorize(actor, Action::ViewLearner, target) {
            Ok(()) => {}
            // Teachers see the setting of their own school too.
            Err(Denied::Forbidden) if actor.school_id.as_ref() == Some(school) => {}
            Err(denied) => {
                let denied = self
                    .audit_denial(ctx, actor, Action::ViewLearner, target, denied)
                    .await;
                return Err(denied.into());
            }
        }
        crate::schools::store::find_learner_passkeys(&self.db, school)
            .await?
            .ok_or(PasskeyError::Denied(Denied::Hidden))
    }

    /// Switches learners' passkeys on or off for a school (its lead
    /// teacher, a platform admin). Switching off removes every passkey the
    /// school's learners registered; returns how many.
    pub async fn set_learner_passkeys(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        on: bool,
    ) -> Result<u64, PasskeyError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        let mut tx = self.db.begin_write().await?;
        if !crate::schools::store::update_learner_passkeys(&mut tx, school, on).await? {
            return Err(Denied::Hidden.into());
        }
        let removed = if on {
            0
        } else {
            store::delete_learner_passkeys_of_school(&mut tx, school).await?
        };
        let detail = format!("learner_passkeys={on}; passkeys_removed={removed}");
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: None,
                school_id: Some(school.as_str()),
                action: action::SCHOOL_SETTING_CHANGE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Stores a new ceremony and gives its handle.
    async fn begin_ceremony(
        &self,
        ctx: &Ctx<'_>,
        kind: CeremonyKind,
        user: Option<&UserId>,
        state: &str,
        passkey_name: Option<&str>,
    ) -> Result<Token, PasskeyError> {
        let ceremony = Token::generate(ctx.rng)?;
        let _turn = self.db.write_turn().await?;
        store::insert_ceremony(
            self.db.pool(),
            &store::NewCeremony {
                id_hash: &ceremony.digest(),
                user_id: user,
                kind,
                state,
                passkey_name,
                created_at: ctx.now,
                expires_at: ctx.now.plus(CEREMONY_TTL),
            },
        )
        .await?;
        Ok(ceremony)
    }

    /// Takes a ceremony out to finish it: unknown, used, expired, of another
    /// kind or of another account are all `CeremonyExpired`.
    async fn claim_ceremony(
        &self,
        ctx: &Ctx<'_>,
        ceremony: &Token,
        kind: CeremonyKind,
        user: Option<&UserId>,
    ) -> Result<store::ClaimedCeremony, PasskeyError> {
        let claimed = store::claim_ceremony(&self.db, &ceremony.digest(), kind, user)
            .await?
            .ok_or(PasskeyError::CeremonyExpired)?;
        if claimed.expires_at <= ctx.now {
            return Err(PasskeyError::CeremonyExpired);
        }
        Ok(claimed)
    }

    /// An audit row about the account's own passkeys, on its own.
    async fn audit_passkey(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        action: &'static str,
        outcome: &'static str,
        detail: Option<&str>,
    ) -> Result<(), Internal> {
        audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action,
                outcome,
                client_addr: ctx.client_addr.as_deref(),
                detail,
            },
        )
        .await
    }

    /// A successful change to the account's own passkeys, in its transaction.
    async fn audit_passkey_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
        action: &'static str,
        detail: &str,
    ) -> Result<(), Internal> {
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(detail),
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests;
