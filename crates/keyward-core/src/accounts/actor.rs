//! The actor behind an account: its built-in role, the permissions of its
//! custom roles and the classes it teaches, loaded for `authz::authorize`;
//! users as targets; and `authorize_audited`, which writes each refusal that
//! ends a request to the audit trail.

use super::Account;
use super::store::actors as store;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{
    Action, Actor, Denied, OPERATOR_ID, PermissionSet, Target, UserTarget, authorize,
};
use crate::error::Internal;
use crate::types::{Role, SchoolId, UserId};
use crate::{Ctx, Keyward};

impl Keyward {
    /// The operator running a command such as `keyward import`: whoever can
    /// run the binary against the database holds every right already, so it
    /// acts as a platform admin. Only the binary builds this actor.
    pub fn operator_actor() -> Actor {
        Actor {
            user_id: UserId::from_stored(OPERATOR_ID.to_owned()),
            role: Role::PlatformAdmin,
            school_id: None,
            granted: PermissionSet::EMPTY,
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        }
    }
}

impl Keyward {
    /// The actor behind an account, with the permissions of its custom roles
    /// and the classes it teaches: what `authorize` needs.
    pub async fn actor_of(&self, account: &Account) -> Result<Actor, Internal> {
        Ok(Actor {
            user_id: account.id.clone(),
            role: account.role,
            school_id: account.school_id.clone(),
            granted: store::granted_permissions(&self.db, &account.id).await?,
            classes: store::taught_classes(&self.db, &account.id).await?,
            token: None,
            second_factor_at_provider: false,
        })
    }

    /// The actor behind an account as far as a menu needs it (role, school,
    /// the permissions of its custom roles) in one read, without the classes
    /// it teaches: so it holds no class-bound right, and a request is always
    /// decided on [`Keyward::actor_of`] instead.
    pub async fn menu_actor(&self, account: &Account) -> Result<Actor, Internal> {
        Ok(Actor {
            user_id: account.id.clone(),
            role: account.role,
            school_id: account.school_id.clone(),
            granted: store::granted_permissions(&self.db, &account.id).await?,
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        })
    }

    /// The actor of a signed-in session: [`Keyward::actor_of`] its account,
    /// knowing whether the session was opened with a second factor at a
    /// school's provider that keyward trusts (single sign-on), which counts
    /// as the actor's own second factor.
    pub async fn actor_of_session(
        &self,
        session: &super::CurrentSession,
    ) -> Result<Actor, Internal> {
        let mut actor = self.actor_of(&session.account).await?;
        actor.second_factor_at_provider = session.mfa_at_provider;
        Ok(actor)
    }

    /// A user as a target of authorization.
    pub(crate) async fn user_target(&self, user: &UserId) -> Result<Option<UserTarget>, Internal> {
        store::user_target(&self.db, user).await
    }

    /// [`authorize`], with a refusal written to the audit trail: what use
    /// cases call when a refusal ends the request. (Asking whether an actor
    /// *could* do something, to show or hide a button, calls `authorize`.)
    pub(crate) async fn authorize_audited(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        action: Action,
        target: Target<'_>,
    ) -> Result<(), Denied> {
        match authorize(actor, action, target) {
            Ok(()) => Ok(()),
            Err(denied) => Err(self.audit_denial(ctx, actor, action, target, denied).await),
        }
    }

    /// Writes the audit row of a refusal (action `authz.denied`, outcome
    /// `denied`; the refused action and the answer in `detail`, never a
    /// secret) and gives the refusal back. A failed write is logged, and the
    /// refusal still stands.
    pub(crate) async fn audit_denial(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        action: Action,
        target: Target<'_>,
        denied: Denied,
    ) -> Denied {
        let (target_id, school_id) = match target {
            Target::Platform => (None, None),
            Target::School(school) => (Some(school.as_str()), Some(school.as_str())),
            Target::Class { school, class } => (Some(class.as_str()), Some(school.as_str())),
            Target::User(user) => (
                Some(user.id.as_str()),
                user.school_id.as_ref().map(SchoolId::as_str),
            ),
        };
        let detail = format!(
            "action={} answer={}",
            action.as_str(),
            crate::error::CodedError::code(&denied)
        );
        let written = audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id,
                school_id,
                action: action::AUTHZ_DENIED,
                outcome: "denied",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await;
        if let Err(err) = written {
            tracing::warn!(cause = %err.cause(), "cannot audit a refused action");
        }
        denied
    }
}
