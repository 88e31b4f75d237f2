//! Administration of accounts: the first platform admin (`keyward admin
//! create`), creating pending users with access codes, the users list and
//! one user's page (R-ADM-1), disabling and enabling accounts (R-ADM-4), and
//! administrators' resets of other people's credentials (`resets`: reset
//! link, temporary password, MFA reset).

mod directory;
mod resets;
mod roles;
mod status;
pub(crate) mod store;
mod users;

pub use directory::{
    DEFAULT_PER_PAGE, DirectoryError, Learner, ListedUser, MAX_PER_PAGE, MAX_RESULTS,
    MAX_SEARCH_CHARS, Paging, UserPage, UserQuery,
};
pub use resets::{
    AdminResetError, ENABLE_MFA_AT, MfaRemoved, Offer, ResetLinkSent, ResetTarget,
    TemporaryPassword,
};
pub use roles::CustomRole;
pub use status::AccountStatusError;

pub(crate) use store::learners_of_class;
pub(crate) use users::pending_username;
pub use users::{
    CreateUserError, CreatedUser, MfaSummary, NAME_TOO_LONG, NewPendingUser, UserClass, UserDetails,
};

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{AccountStatus, NewUser, insert_user};
use crate::audit::{self, AuditEntry, action};
use crate::crypto::hashing::HashingError;
use crate::error::{Code, CodedError, Internal};
use crate::policy::{PolicyKind, Violation};
use crate::store::is_unique_violation;
use crate::types::Role;
use crate::types::{EmailAddress, Password, UserId, Username};

#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("The username {0} is already taken.")]
    UsernameTaken(String),
    #[error("The password does not meet the policy: {}", codes(.0))]
    PasswordPolicy(Vec<Violation>),
    #[error("The server is busy; try again.")]
    Busy,
    #[error(transparent)]
    Internal(#[from] Internal),
}

fn codes(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.code())
        .collect::<Vec<_>>()
        .join(", ")
}

impl CodedError for CreateAdminError {
    fn code(&self) -> Code {
        match self {
            CreateAdminError::UsernameTaken(_) => Code::UsernameTaken,
            CreateAdminError::PasswordPolicy(_) => Code::PasswordPolicy,
            CreateAdminError::Busy => Code::ServerBusy,
            CreateAdminError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            CreateAdminError::Busy => Some(5),
            CreateAdminError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<HashingError> for CreateAdminError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { .. } => CreateAdminError::Busy,
            HashingError::Internal(e) => CreateAdminError::Internal(e),
        }
    }
}

impl Keyward {
    /// Creates a platform admin, active at once, with the staff policy. Run by
    /// whoever operates the server (the CLI), so no actor is checked here.
    pub async fn create_platform_admin(
        &self,
        ctx: &Ctx<'_>,
        username: &Username,
        email: Option<&EmailAddress>,
        password: &Password,
    ) -> Result<UserId, CreateAdminError> {
        let policy = self.password_policy(None, PolicyKind::Staff).await?;
        let violations = policy.check(password, Some(username.as_str()));
        if !violations.is_empty() {
            return Err(CreateAdminError::PasswordPolicy(violations));
        }
        let hash = self.hashing.hash(password, ctx.rng).await?;
        let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
        let mut tx = self.db.begin_write().await?;
        let user = NewUser {
            id: &id,
            school_id: None,
            role: Role::PlatformAdmin,
            username,
            email,
            first_name: "",
            last_name: "",
            status: AccountStatus::Active,
            password_hash: Some(&hash),
            created_at: ctx.now,
        };
        insert_user(&mut *tx, &user).await.map_err(|e| {
            if is_unique_violation(&e) {
                CreateAdminError::UsernameTaken(username.to_string())
            } else {
                CreateAdminError::Internal(e.into())
            }
        })?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: None,
                api_token: None,
                target_id: Some(id.as_str()),
                school_id: None,
                action: action::USER_CREATE,
                outcome: "success",
                client_addr: None,
                detail: Some("platform_admin via command line"),
            },
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests;
