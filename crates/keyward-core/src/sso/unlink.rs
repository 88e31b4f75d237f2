//! A person's links to single sign-on providers as staff see them, and
//! **Unlink** (issue 14.3): whoever may manage the person (`users.manage`
//! over them: their school's lead teacher, a platform admin) removes one
//! link. The link is claimed by its DELETE, so of parallel unlinks exactly
//! one succeeds and is audited (`sso.unlink`); the person's sessions end
//! with it (a session does not record how it was opened, and one opened
//! through the provider must not outlive the link). Someone who signed in
//! only with that provider is left without a way in until they are given a
//! new access code or a temporary password; the confirm step says so.

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{self, Account};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::{Code, CodedError, Internal};
use crate::store::Db;
use crate::types::{SchoolId, UnixTime, UserId};

use super::SsoProviderId;
use super::store::links::{self, LinkRow};

/// One of a person's links: which provider, when it was made and last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLink {
    pub provider_id: SsoProviderId,
    pub provider_name: String,
    pub linked_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl SsoLink {
    fn of(row: LinkRow) -> SsoLink {
        SsoLink {
            provider_id: SsoProviderId::from_stored(row.provider_id),
            provider_name: row.provider_name,
            linked_at: row.linked_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// What the confirm step of an unlink shows.
#[derive(Debug, Clone)]
pub struct UnlinkPreview {
    pub account: Account,
    pub link: SsoLink,
    /// The person has no keyward password and no other link: after the
    /// unlink they cannot sign in until given an access code or a temporary
    /// password.
    pub leaves_no_way_in: bool,
}

/// A link that was removed.
#[derive(Debug, Clone)]
pub struct Unlinked {
    pub account: Account,
    pub provider_name: String,
    /// The person has no way in left (no password, no link).
    pub no_way_in: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("This person is not linked to that provider (any more).")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for UnlinkError {
    fn code(&self) -> Code {
        match self {
            UnlinkError::Denied(denied) => denied.code(),
            UnlinkError::NotFound => Code::SsoLinkNotFound,
            UnlinkError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            UnlinkError::Denied(denied) => denied.retry_after_secs(),
            UnlinkError::Internal(internal) => internal.retry_after_secs(),
            UnlinkError::NotFound => None,
        }
    }
}

impl From<sqlx::Error> for UnlinkError {
    fn from(err: sqlx::Error) -> Self {
        UnlinkError::Internal(err.into())
    }
}

/// Every link of `user`, by provider name: for one person's page, whose use
/// case has authorized the viewer.
pub(crate) async fn links_of(db: &Db, user: &UserId) -> Result<Vec<SsoLink>, Internal> {
    Ok(links::list_for_user(db, user)
        .await?
        .into_iter()
        .map(SsoLink::of)
        .collect())
}

impl Keyward {
    /// Authorizes `users.manage` over `user` (a refusal audited).
    async fn may_unlink(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<(), UnlinkError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::User(&target))
            .await?;
        Ok(())
    }

    /// The confirm step of **Unlink**: the person, the link, and whether
    /// removing it leaves them without a way in. Changes nothing.
    pub async fn unlink_preview(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
        provider: &SsoProviderId,
    ) -> Result<UnlinkPreview, UnlinkError> {
        self.may_unlink(ctx, actor, user).await?;
        let account = accounts::find_account(&self.db, user)
            .await?
            .ok_or(Denied::Hidden)?;
        let link = links::link_of(self.db.pool(), provider.as_str(), user)
            .await?
            .map(SsoLink::of)
            .ok_or(UnlinkError::NotFound)?;
        let sso_only = accounts::sso_only_of(self.db.pool(), user).await?;
        let others = links::list_for_user(&self.db, user).await?.len() > 1;
        Ok(UnlinkPreview {
            account,
            link,
            leaves_no_way_in: sso_only.is_some() && !others,
        })
    }

    /// **Unlink**: removes `user`'s link to `provider` and ends their
    /// sessions, in one transaction with its audit row. Of parallel unlinks
    /// one succeeds; the others find no link (`sso_link_not_found`).
    pub async fn unlink_sso(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
        provider: &SsoProviderId,
    ) -> Result<Unlinked, UnlinkError> {
        self.may_unlink(ctx, actor, user).await?;
        let mut tx = self.db.begin_write().await?;
        let account = accounts::lock_account(&mut tx, user)
            .await?
            .ok_or(Denied::Hidden)?;
        let link = links::link_of(&mut *tx, provider.as_str(), user)
            .await?
            .ok_or(UnlinkError::NotFound)?;
        if !links::delete_link(&mut tx, provider.as_str(), user).await? {
            return Err(UnlinkError::NotFound);
        }
        accounts::end_sessions(&mut tx, user, None).await?;
        let no_way_in = !accounts::has_way_in(&mut *tx, user).await?;
        let detail = format!("provider={provider}; no_way_in={no_way_in}");
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: Some(user.as_str()),
                school_id: account.school_id.as_ref().map(SchoolId::as_str),
                action: action::SSO_UNLINK,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Unlinked {
            account,
            provider_name: link.provider_name,
            no_way_in,
        })
    }
}
