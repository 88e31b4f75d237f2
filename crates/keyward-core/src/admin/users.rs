//! Creating users (R-CODE-1): staff, learners and parents are made pending,
//! with an access code they use to choose their username and password;
//! learners also get a parent access code. Nobody creates an account holding
//! more than they hold themselves.

use super::store;
use crate::Ctx;
use crate::Keyward;
use crate::accounts::{AccountStatus, NewUser, insert_user};
use crate::activation::CodeKind;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target, authorize};
use crate::error::{Code, CodedError, Internal};
use crate::types::{ClassId, EmailAddress, Role, SchoolId, UnixTime, UserId, Username};

const MAX_NAME_CHARS: usize = 80;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewPendingUser {
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    /// Required for everyone but platform admins.
    pub school_id: Option<SchoolId>,
    /// Learners are enrolled in these classes; teachers teach them.
    pub class_ids: Vec<ClassId>,
    pub email: Option<String>,
}

impl NewPendingUser {
    /// The one parser of the role asked for, for the page and the API: a
    /// built-in role's name, else `invalid_user`.
    pub fn parse_role(text: &str) -> Result<Role, CreateUserError> {
        Role::parse(text).ok_or(CreateUserError::Invalid(BAD_ROLE))
    }
}

/// A created user, with its codes in plain form: shown to staff now, kept
/// only hashed and sealed.
#[derive(Clone)]
pub struct CreatedUser {
    pub id: UserId,
    pub access_code: String,
    pub parent_access_code: Option<String>,
}

impl std::fmt::Debug for CreatedUser {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedUser")
            .field("id", &self.id)
            .field("access_code", &crate::types::REDACTED)
            .field(
                "parent_access_code",
                &crate::types::redacted(&self.parent_access_code),
            )
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CreateUserError {
    /// The field of the Add a person form (and of `POST /api/v1/users`) a
    /// refusal is about, so a page can say it next to that field; `None`
    /// when it is about no one field.
    pub fn field(&self) -> Option<&'static str> {
        let CreateUserError::Invalid(message) = self else {
            return None;
        };
        Some(match *message {
            NO_FIRST_NAME => "first_name",
            NO_LAST_NAME => "last_name",
            BAD_ROLE => "role",
            NO_SCHOOL | ADMIN_HAS_NO_SCHOOL => "school_id",
            BAD_EMAIL => "email",
            CLASS_OF_ANOTHER_SCHOOL => "class_ids",
            _ => return None,
        })
    }
}

const NO_FIRST_NAME: &str = "Enter the first name.";
const NO_LAST_NAME: &str = "Enter the last name.";
const BAD_ROLE: &str = "The role is platform_admin, lead_teacher, teacher, learner or parent.";
const NO_SCHOOL: &str = "Choose the school the person belongs to.";
const ADMIN_HAS_NO_SCHOOL: &str = "A platform admin belongs to no school.";
const BAD_EMAIL: &str = "Enter an email address like name@example.org.";
const CLASS_OF_ANOTHER_SCHOOL: &str = "Every class must belong to the person's school.";
/// Said of a first or a last name.
pub const NAME_TOO_LONG: &str = "A name has at most 80 characters and no control characters.";

impl CodedError for CreateUserError {
    fn code(&self) -> Code {
        match self {
            CreateUserError::Denied(denied) => denied.code(),
            CreateUserError::Invalid(_) => Code::InvalidUser,
            CreateUserError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            CreateUserError::Denied(denied) => denied.retry_after_secs(),
            CreateUserError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for CreateUserError {
    fn from(err: sqlx::Error) -> Self {
        CreateUserError::Internal(err.into())
    }
}

fn clean_name(name: &str, missing: &'static str) -> Result<String, CreateUserError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CreateUserError::Invalid(missing));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(CreateUserError::Invalid(NAME_TOO_LONG));
    }
    Ok(name.to_owned())
}

/// One user as staff see them: the account, its roles, classes and second
/// factors, and the codes still waiting to be used (seed 002's **Show access
/// codes**) when the viewer may show them.
#[derive(Clone)]
pub struct UserDetails {
    pub account: crate::accounts::Account,
    pub created_at: UnixTime,
    /// The names of the user's custom roles (R-ROLE-1), beside the built-in
    /// `account.role`.
    pub custom_roles: Vec<String>,
    pub classes: Vec<UserClass>,
    pub mfa: MfaSummary,
    /// The viewer may manage this user (`users.manage` over them): disable,
    /// enable, issue a new access code.
    pub may_manage: bool,
    pub access_code: Option<String>,
    pub parent_access_code: Option<String>,
    /// The person's links to single sign-on providers (issue 14), by
    /// provider name; those who may manage them may **Unlink** each.
    pub sso_links: Vec<crate::sso::SsoLink>,
    /// The person signs in only with a provider: no keyward password.
    pub sso_only: bool,
}

/// A class of a user's: one they are enrolled in or one they teach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClass {
    pub id: ClassId,
    pub name: String,
    /// Teaches it (else enrolled in it).
    pub teaching: bool,
}

/// A user's second factors (R-MFA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaSummary {
    pub authenticator_app: bool,
    pub passkeys: u32,
}

impl MfaSummary {
    /// Two-step verification is on: an authenticator app or a passkey.
    pub fn on(self) -> bool {
        self.authenticator_app || self.passkeys > 0
    }
}

impl std::fmt::Debug for UserDetails {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDetails")
            .field("account", &self.account)
            .field("created_at", &self.created_at)
            .field("custom_roles", &self.custom_roles)
            .field("classes", &self.classes)
            .field("mfa", &self.mfa)
            .field("may_manage", &self.may_manage)
            .field("sso_links", &self.sso_links)
            .field("sso_only", &self.sso_only)
            .field("access_code", &crate::types::redacted(&self.access_code))
            .field(
                "parent_access_code",
                &crate::types::redacted(&self.parent_access_code),
            )
            .finish()
    }
}

/// The username of an account until its owner chooses one. `#` is not
/// allowed in usernames, so nobody can choose it or sign in with it.
pub(crate) fn pending_username(id: &UserId) -> Username {
    Username::from_stored(format!("#pending-{id}"))
}

impl Keyward {
    /// Creates a pending user with an access code (and a parent access code
    /// for a learner), enrolled in or teaching the given classes.
    pub async fn create_user(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        request: &NewPendingUser,
    ) -> Result<CreatedUser, CreateUserError> {
        match (&request.school_id, request.role) {
            (None, Role::PlatformAdmin) => {
                self.authorize_audited(ctx, actor, Action::ManageUser, Target::Platform)
                    .await?
            }
            (Some(school), role) if role != Role::PlatformAdmin => {
                self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
                    .await?
            }
            (None, _) => {
                return Err(CreateUserError::Invalid(NO_SCHOOL));
            }
            (Some(_), _) => {
                return Err(CreateUserError::Invalid(ADMIN_HAS_NO_SCHOOL));
            }
        }
        if !actor.permissions().covers(request.role.permissions()) {
            return Err(Denied::Forbidden.into());
        }
        let first_name = clean_name(&request.first_name, NO_FIRST_NAME)?;
        let last_name = clean_name(&request.last_name, NO_LAST_NAME)?;
        let email = match request
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(text) => {
                Some(EmailAddress::parse(text).map_err(|_| CreateUserError::Invalid(BAD_EMAIL))?)
            }
            None => None,
        };
        if let Some(school) = &request.school_id {
            for class in &request.class_ids {
                if !store::class_in_school(&self.db, class, school).await? {
                    return Err(CreateUserError::Invalid(CLASS_OF_ANOTHER_SCHOOL));
                }
            }
        }
        let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
        let username = pending_username(&id);
        let mut tx = self.db.begin_write().await?;
        insert_user(
            &mut *tx,
            &NewUser {
                id: &id,
                school_id: request.school_id.as_ref(),
                role: request.role,
                username: &username,
                email: email.as_ref(),
                first_name: &first_name,
                last_name: &last_name,
                status: AccountStatus::Pending,
                password_hash: None,
                created_at: ctx.now,
            },
        )
        .await?;
        for class in &request.class_ids {
            match request.role {
                Role::Learner => crate::schools::enrol(&mut tx, class, &id).await?,
                Role::Teacher | Role::LeadTeacher => {
                    crate::schools::add_teacher(&mut tx, class, &id).await?
                }
                _ => {}
            }
        }
        let access_code = self
            .issue_code(&mut tx, ctx, &id, CodeKind::Activation)
            .await?;
        let parent_access_code = if request.role == Role::Learner {
            Some(self.issue_code(&mut tx, ctx, &id, CodeKind::Parent).await?)
        } else {
            None
        };
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: Some(id.as_str()),
                school_id: request.school_id.as_ref().map(SchoolId::as_str),
                action: action::USER_CREATE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(request.role.as_str()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedUser {
            id,
            access_code,
            parent_access_code,
        })
    }
}

impl Keyward {
    /// The name of a person, for the breadcrumbs of the pages about them
    /// (after an administrator's action on them), under the rule of
    /// [`Keyward::show_user`]; `None` for anyone the actor may not see.
    /// Opens no code and writes nothing to the audit trail: it tells no
    /// more than the person's page the crumb links to.
    pub async fn person_name(
        &self,
        actor: &Actor,
        id: &UserId,
    ) -> Result<Option<String>, Internal> {
        let Some(target) = self.user_target(id).await? else {
            return Ok(None);
        };
        let may_see = authorize(actor, Action::ViewUser, Target::User(&target)).is_ok()
            || authorize(actor, Action::ViewLearner, Target::User(&target)).is_ok();
        if !may_see {
            return Ok(None);
        }
        let account = crate::accounts::find_account(&self.db, id).await?;
        Ok(account.map(|a| a.display_name()))
    }

    /// Shows one user to someone allowed to see them: people with
    /// `users.view` in scope, or a teacher for a learner of their class.
    /// Codes are shown to those who may manage the user (or reset the
    /// learner), and showing them is audited; a refusal is audited too.
    pub async fn show_user(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        id: &UserId,
    ) -> Result<UserDetails, CreateUserError> {
        let target = self.user_target(id).await?.ok_or(Denied::Hidden)?;
        let as_staff = authorize(actor, Action::ViewUser, Target::User(&target));
        let as_teacher = authorize(actor, Action::ViewLearner, Target::User(&target));
        if as_staff.is_err() && as_teacher.is_err() {
            let denied = as_staff.and(as_teacher).err().unwrap_or(Denied::Forbidden);
            let target = Target::User(&target);
            let denied = self
                .audit_denial(ctx, actor, Action::ViewUser, target, denied)
                .await;
            return Err(denied.into());
        }
        let account = crate::accounts::find_account(&self.db, id)
            .await?
            .ok_or(Denied::Hidden)?;
        let facts = store::user_facts(&self.db, id)
            .await?
            .ok_or(Denied::Hidden)?;
        let may_manage = authorize(actor, Action::ManageUser, Target::User(&target)).is_ok();
        let may_show_codes = may_manage
            || authorize(actor, Action::ResetLearnerPassword, Target::User(&target)).is_ok();
        let (mut access_code, mut parent_access_code) = (None, None);
        if may_show_codes {
            for (kind, sealed_id) in store::open_codes(&self.db, id).await? {
                let code = crate::crypto::store::open_sealed(
                    self.db.pool(),
                    &self.sealer,
                    &sealed_id,
                    id,
                    crate::activation::ACCESS_CODE_PURPOSE,
                )
                .await?;
                match kind.as_str() {
                    "activation" => access_code = code,
                    "parent" => parent_access_code = code,
                    _ => {}
                }
            }
        }
        // Codes opened for staff to see again are audited (which kinds, never
        // the codes).
        let shown: Vec<&str> = [
            ("activation", &access_code),
            ("parent", &parent_access_code),
        ]
        .into_iter()
        .filter(|(_, code)| code.is_some())
        .map(|(kind, _)| kind)
        .collect();
        if !shown.is_empty() {
            let detail = format!("kinds={}", shown.join(","));
            audit::insert_alone(
                &self.db,
                &AuditEntry {
                    at: ctx.now,
                    actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                    api_token: actor.api_token_id(),
                    target_id: Some(id.as_str()),
                    school_id: account.school_id.as_ref().map(SchoolId::as_str),
                    action: action::CODES_REVEAL,
                    outcome: "success",
                    client_addr: ctx.client_addr.as_deref(),
                    detail: Some(&detail),
                },
            )
            .await?;
        }
        let sso_links = crate::sso::links_of(&self.db, id).await?;
        let sso_only = crate::accounts::sso_only_of(self.db.pool(), id)
            .await?
            .is_some();
        Ok(UserDetails {
            account,
            created_at: facts.created_at,
            custom_roles: facts.custom_roles,
            classes: facts
                .classes
                .into_iter()
                .map(|(id, name, teaching)| UserClass { id, name, teaching })
                .collect(),
            mfa: MfaSummary {
                authenticator_app: facts.authenticator_app,
                passkeys: u32::try_from(facts.passkeys).unwrap_or(u32::MAX),
            },
            may_manage,
            access_code,
            parent_access_code,
            sso_links,
            sso_only,
        })
    }
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn each_refusal_of_the_form_names_its_field() {
        let field = |message| CreateUserError::Invalid(message).field();
        assert_eq!(field(NO_FIRST_NAME), Some("first_name"));
        assert_eq!(field(NO_LAST_NAME), Some("last_name"));
        assert_eq!(
            NewPendingUser::parse_role("wizard").unwrap_err().field(),
            Some("role")
        );
        assert_eq!(field(NO_SCHOOL), Some("school_id"));
        assert_eq!(field(BAD_EMAIL), Some("email"));
        assert_eq!(field(CLASS_OF_ANOTHER_SCHOOL), Some("class_ids"));
        // Said of either name: the page finds which.
        assert_eq!(field(NAME_TOO_LONG), None);
        assert_eq!(CreateUserError::Denied(Denied::Forbidden).field(), None);
    }
}
