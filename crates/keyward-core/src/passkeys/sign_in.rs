//! Passkeys at sign-in: the second step after the password (the account's
//! own passkeys are offered; success finishes the pending step through
//! `accounts::finish_sign_in`), and **Sign in with a passkey** from the first
//! screen (the browser offers the passkeys it holds for this site; the
//! answer's user handle and credential id name the account, whose session
//! `accounts::open_session` opens).
//!
//! A failed assertion is counted before it is checked (`throttle::reserve`:
//! per address group from the first screen, on the account's second-factor
//! counter for the second step) and audited (`passkey.assertion`, with the
//! reason). A verified assertion records the credential's new signature
//! counter in a statement that claims the counter value, so a cloned
//! authenticator replaying one value is accepted once; the session opens in
//! the same transaction.

use std::time::Duration;

use sha2::Digest;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PublicKeyCredential,
};

use super::{
    CeremonyKind, PasskeyChallenge, PasskeyError, credential_key, internal, relying_party, store,
    stored_passkey,
};
use crate::Ctx;
use crate::Keyward;
use crate::accounts::throttle::{self, Attempt, OnSuccess, ThrottleKey};
use crate::accounts::{Account, AccountStatus, PendingStep, SignedIn};
use crate::audit::{self, AuditEntry, action};
use crate::crypto::tokens::Token;
use crate::error::Internal;
use crate::types::{PasskeyId, UserId};

/// Passwordless ceremonies one address group may start in a minute: each is
/// a row until it expires, and starting one needs no account.
const PASSWORDLESS_STARTS_PER_MINUTE: i64 = 30;

/// A short, safe key fragment.
fn digest(text: &str) -> String {
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..16])
}

/// Failed assertions from one address group, over all accounts.
fn address_key(group: &str) -> ThrottleKey {
    ThrottleKey {
        key: format!("passkey:address:{}", digest(group)),
        free_failures: 10,
        max_delay: Duration::from_secs(60),
        forget_after: Duration::from_secs(3600),
        on_success: OnSuccess::Refund,
    }
}

/// A verified assertion, to record.
struct Verified<'a> {
    id: &'a PasskeyId,
    passkey: &'a mut Passkey,
    result: &'a AuthenticationResult,
    user: &'a UserId,
}

/// What a verified assertion opens.
enum Opens<'a> {
    /// A session for the account the passwordless answer named.
    Session(Account),
    /// The session of a pending sign-in, which the assertion finishes.
    PendingStep(&'a PendingStep),
}

/// Why an assertion failed, for the audit trail.
struct Failure {
    user: Option<UserId>,
    reason: &'static str,
}

impl Failure {
    fn new(user: Option<&UserId>, reason: &'static str) -> Failure {
        Failure {
            user: user.cloned(),
            reason,
        }
    }
}

impl Keyward {
    /// Starts **Sign in with a passkey**: a ceremony bound to no account,
    /// whose options name no credential, so the browser offers every passkey
    /// it holds for this site.
    pub async fn start_passkey_sign_in(
        &self,
        ctx: &Ctx<'_>,
    ) -> Result<PasskeyChallenge, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        let group = throttle::address_group(ctx.client_addr.as_deref());
        let key = format!("passkey:start:{}", digest(&group));
        let window = ctx.now.minus(Duration::from_secs(60));
        if throttle::take_quota(&self.db, &key, window, ctx.now).await?
            > PASSWORDLESS_STARTS_PER_MINUTE
        {
            return Err(PasskeyError::Throttled {
                retry_after_secs: 60,
            });
        }
        let (request, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|err| internal("start discoverable authentication", err))?;
        let mut options =
            serde_json::to_value(&request).map_err(|err| internal("request options", err))?;
        // webauthn-rs asks for conditional mediation (autofill); the button
        // on the first screen wants the browser's ordinary passkey dialog.
        if let Some(options) = options.as_object_mut() {
            options.remove("mediation");
        }
        let state = serde_json::to_string(&state).map_err(|err| internal("authentication", err))?;
        let ceremony = self
            .begin_ceremony(ctx, CeremonyKind::Passwordless, None, &state, None)
            .await?;
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Finishes **Sign in with a passkey**: opens a session for the account
    /// the verified answer names, when it is active and may use passkeys.
    pub async fn finish_passkey_sign_in(
        &self,
        ctx: &Ctx<'_>,
        ceremony: &Token,
        response: &serde_json::Value,
    ) -> Result<SignedIn, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        let claimed = self
            .claim_ceremony(ctx, ceremony, CeremonyKind::Passwordless, None)
            .await?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(&claimed.state).map_err(|err| internal("authentication", err))?;
        let response = parse_assertion(response)?;
        let group = throttle::address_group(ctx.client_addr.as_deref());
        let attempt = self
            .reserve_assertion(ctx, vec![address_key(&group)])
            .await?;
        // The answer names the account (user handle) and the credential.
        let named = webauthn
            .identify_discoverable_authentication(&response)
            .ok()
            .and_then(|(handle, credential)| {
                Some((
                    UserId::parse(&handle.to_string())?,
                    credential_key(credential),
                ))
            });
        let Some((user, credential)) = named else {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(None, "no_user_handle"))
                .await);
        };
        let stored = store::find_by_credential_id(&self.db, &credential)
            .await?
            .filter(|stored| stored.user_id == user);
        let Some(stored) = stored else {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(None, "unknown_credential"))
                .await);
        };
        let mut passkey = stored_passkey(&stored.credential)?;
        let verified = webauthn.finish_discoverable_authentication_v2(&response, state, &passkey);
        let Ok(result) = verified else {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(&user), "not_verified"))
                .await);
        };
        let account = crate::accounts::find_account(&self.db, &user).await?;
        let Some(account) = account.filter(|a| a.status == AccountStatus::Active) else {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(&user), "account_inactive"))
                .await);
        };
        if self.passkeys_allowed(&account).await.is_err() {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(&user), "passkeys_off"))
                .await);
        }
        let verified = Verified {
            id: &stored.id,
            passkey: &mut passkey,
            result: &result,
            user: &user,
        };
        self.record_assertion(ctx, attempt, verified, Opens::Session(account))
            .await
    }

    /// Starts the passkey second step of the sign-in behind `step` (its
    /// password was right): a ceremony offering the account's own passkeys.
    pub async fn start_passkey_second_step(
        &self,
        ctx: &Ctx<'_>,
        step: &Token,
    ) -> Result<PasskeyChallenge, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        let pending = self
            .pending_sign_in(ctx, step)
            .await?
            .ok_or(PasskeyError::StepExpired)?;
        let account = &pending.account;
        self.passkeys_allowed(account).await?;
        let passkeys = store::credentials_of(&self.db, &account.id)
            .await?
            .iter()
            .map(|c| stored_passkey(&c.credential))
            .collect::<Result<Vec<Passkey>, Internal>>()?;
        if passkeys.is_empty() {
            return Err(PasskeyError::NotFound);
        }
        let (request, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|err| internal("start passkey authentication", err))?;
        let options =
            serde_json::to_value(&request).map_err(|err| internal("request options", err))?;
        let state = serde_json::to_string(&state).map_err(|err| internal("authentication", err))?;
        let ceremony = self
            .begin_ceremony(
                ctx,
                CeremonyKind::SecondStep,
                Some(&account.id),
                &state,
                None,
            )
            .await?;
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Finishes the sign-in behind `step` with a passkey: the verified
    /// answer of one of the account's passkeys claims the pending step and
    /// opens the session.
    pub async fn finish_sign_in_with_passkey(
        &self,
        ctx: &Ctx<'_>,
        step: &Token,
        ceremony: &Token,
        response: &serde_json::Value,
    ) -> Result<SignedIn, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        let pending = self
            .pending_sign_in(ctx, step)
            .await?
            .ok_or(PasskeyError::StepExpired)?;
        let user = &pending.account.id;
        let claimed = self
            .claim_ceremony(ctx, ceremony, CeremonyKind::SecondStep, Some(user))
            .await?;
        let state: PasskeyAuthentication =
            serde_json::from_str(&claimed.state).map_err(|err| internal("authentication", err))?;
        let response = parse_assertion(response)?;
        let key = ThrottleKey::second_factor(user.as_str(), &self.settings.throttle);
        let attempt = self.reserve_assertion(ctx, vec![key]).await?;
        let Ok(result) = webauthn.finish_passkey_authentication(&response, &state) else {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(user), "not_verified"))
                .await);
        };
        // The passkey as stored now (it may have been removed meanwhile).
        let key = credential_key(result.cred_id());
        let stored = store::find_by_credential_id(&self.db, &key)
            .await?
            .filter(|stored| &stored.user_id == user);
        let Some(stored) = stored else {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(user), "unknown_credential"))
                .await);
        };
        if self.passkeys_allowed(&pending.account).await.is_err() {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(user), "passkeys_off"))
                .await);
        }
        let mut passkey = stored_passkey(&stored.credential)?;
        let verified = Verified {
            id: &stored.id,
            passkey: &mut passkey,
            result: &result,
            user,
        };
        self.record_assertion(ctx, attempt, verified, Opens::PendingStep(&pending))
            .await
    }

    /// Reserves one try of an assertion before it is checked.
    async fn reserve_assertion(
        &self,
        ctx: &Ctx<'_>,
        keys: Vec<ThrottleKey>,
    ) -> Result<Attempt, PasskeyError> {
        match throttle::reserve(&self.db, keys, ctx.now).await? {
            Ok(attempt) => Ok(attempt),
            Err(retry_after_secs) => Err(PasskeyError::Throttled { retry_after_secs }),
        }
    }

    /// Records a verified assertion — the credential's new counter and last
    /// use, claimed in one statement — and opens the session, in one
    /// transaction; the tries are given back. A counter that another
    /// assertion has already used is a failure; a pending step already
    /// finished (or expired) is `StepExpired`, and the try is refunded.
    async fn record_assertion(
        &self,
        ctx: &Ctx<'_>,
        attempt: Attempt,
        verified: Verified<'_>,
        opens: Opens<'_>,
    ) -> Result<SignedIn, PasskeyError> {
        let Verified {
            id,
            passkey,
            result,
            user,
        } = verified;
        passkey.update_credential(result);
        let json = serde_json::to_string(passkey).map_err(|err| internal("passkey", err))?;
        let mut tx = self.db.begin_write().await?;
        let counter = i64::from(result.counter());
        if !store::record_use(&mut tx, id, &json, counter, ctx.now).await? {
            tx.rollback().await?;
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(user), "counter"))
                .await);
        }
        let signed_in = match opens {
            Opens::Session(account) => {
                self.open_session(&mut tx, ctx, account, None, "passkey")
                    .await?
            }
            Opens::PendingStep(pending) => {
                match self
                    .finish_sign_in(&mut tx, ctx, pending, "passkey")
                    .await?
                {
                    Some(signed_in) => signed_in,
                    None => {
                        tx.rollback().await?;
                        attempt.refund(&self.db).await?;
                        return Err(PasskeyError::StepExpired);
                    }
                }
            }
        };
        attempt.succeeded(&mut tx).await?;
        tx.commit().await?;
        Ok(signed_in)
    }

    /// A failed assertion: the try stays counted, and the audit trail says
    /// why. Gives the answer to return (`Rejected`, or an internal error
    /// when the audit row could not be written).
    async fn assertion_failed(
        &self,
        ctx: &Ctx<'_>,
        attempt: Attempt,
        failure: Failure,
    ) -> PasskeyError {
        attempt.failed();
        tracing::info!(reason = failure.reason, "passkey assertion refused");
        let user = failure.user.as_ref().map(UserId::as_str);
        let written = audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: user,
                api_token: None,
                target_id: user,
                school_id: None,
                action: action::PASSKEY_ASSERTION,
                outcome: "failure",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(failure.reason),
            },
        )
        .await;
        match written {
            Ok(()) => PasskeyError::Rejected,
            Err(internal) => PasskeyError::Internal(internal),
        }
    }
}

/// The browser's answer to a `get()`; one that cannot be read is refused
/// before anything is counted.
fn parse_assertion(response: &serde_json::Value) -> Result<PublicKeyCredential, PasskeyError> {
    serde_json::from_value(response.clone()).map_err(|_| PasskeyError::ResponseInvalid)
}

#[cfg(test)]
mod unit_tests {
    use super::super::user_handle;
    use super::*;

    #[test]
    fn user_handles_are_the_account_ids() {
        let id = UserId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        assert_eq!(user_handle(&id).unwrap().to_string(), id.as_str());
    }
}
