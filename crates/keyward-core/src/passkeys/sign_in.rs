//! Passkeys at sign-in: the second step after the password (the account's
//! own passkeys are offered), and **Sign in with a passkey** from the first
//! screen (the browser offers the passkeys it holds for this site; the
//! answer's user handle and credential id name the account).
//!
//! A failed assertion is counted before it is checked (`throttle::reserve`,
//! per address group, and per account for the second step) and audited
//! (`passkey.assertion`, with the reason). A verified assertion records the
//! credential's new signature counter in a statement that claims the counter
//! value, so a cloned authenticator replaying one value is accepted once.

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
use crate::accounts::{Account, AccountStatus};
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

/// Failed second steps of one account.
fn account_key(user: &UserId) -> ThrottleKey {
    ThrottleKey {
        key: format!("passkey:account:{}", digest(user.as_str())),
        free_failures: 5,
        max_delay: Duration::from_secs(5 * 60),
        forget_after: Duration::from_secs(3600),
        on_success: OnSuccess::Clear,
    }
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

    /// Finishes **Sign in with a passkey**: the account the verified answer
    /// names, when it is active and may use passkeys. Opening its session is
    /// the caller's next step.
    pub async fn finish_passkey_sign_in(
        &self,
        ctx: &Ctx<'_>,
        ceremony: &Token,
        response: &serde_json::Value,
    ) -> Result<Account, PasskeyError> {
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
        self.record_assertion(ctx, attempt, &stored.id, &mut passkey, &result, &user)
            .await?;
        Ok(account)
    }

    /// Starts the passkey second step of `account`'s sign-in (its password
    /// was right): a ceremony offering the account's own passkeys.
    pub async fn start_passkey_second_step(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
    ) -> Result<PasskeyChallenge, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
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

    /// Checks the passkey second step of `account`'s sign-in; on success the
    /// passkey that answered.
    pub async fn verify_passkey_second_step(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        ceremony: &Token,
        response: &serde_json::Value,
    ) -> Result<PasskeyId, PasskeyError> {
        let webauthn = relying_party(&self.settings)?;
        let user = &account.id;
        let claimed = self
            .claim_ceremony(ctx, ceremony, CeremonyKind::SecondStep, Some(user))
            .await?;
        let state: PasskeyAuthentication =
            serde_json::from_str(&claimed.state).map_err(|err| internal("authentication", err))?;
        let response = parse_assertion(response)?;
        let group = throttle::address_group(ctx.client_addr.as_deref());
        let keys = vec![address_key(&group), account_key(user)];
        let attempt = self.reserve_assertion(ctx, keys).await?;
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
        if self.passkeys_allowed(account).await.is_err() {
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(user), "passkeys_off"))
                .await);
        }
        let mut passkey = stored_passkey(&stored.credential)?;
        self.record_assertion(ctx, attempt, &stored.id, &mut passkey, &result, user)
            .await?;
        Ok(stored.id)
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

    /// Records a verified assertion: the credential's new counter and last
    /// use, claimed in one statement, and the tries given back. A counter
    /// that another assertion has already used is a failure.
    async fn record_assertion(
        &self,
        ctx: &Ctx<'_>,
        attempt: Attempt,
        id: &PasskeyId,
        passkey: &mut Passkey,
        result: &AuthenticationResult,
        user: &UserId,
    ) -> Result<(), PasskeyError> {
        passkey.update_credential(result);
        let json = serde_json::to_string(passkey).map_err(|err| internal("passkey", err))?;
        let mut tx = self.db.begin_write().await?;
        let counter = i64::from(result.counter());
        if !store::record_use(&mut tx, id, &json, counter, ctx.now).await? {
            drop(tx);
            return Err(self
                .assertion_failed(ctx, attempt, Failure::new(Some(user), "counter"))
                .await);
        }
        attempt.succeeded(&mut tx).await?;
        tx.commit().await?;
        Ok(())
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
        let written = audit::insert(
            self.db.pool(),
            &AuditEntry {
                at: ctx.now,
                actor_id: user,
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
