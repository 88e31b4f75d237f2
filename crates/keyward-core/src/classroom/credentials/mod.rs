//! Learner credentials of a class or a whole school (R-TCH-5, seed 002's
//! **User accounts** → **Show access codes** → **Download CSV**): who the
//! learners are, their password when a sealed copy is kept, the access code
//! of a pending account and the parent access code, shown on screen or
//! exported as CSV. A class's teachers and the lead teacher may see a class;
//! only the lead teacher (and platform admins) the whole school.
//!
//! Every use is authorized first and every showing or export of secrets
//! writes one audit row with its scope and row count, never a secret. The
//! learners are loaded in a handful of queries whatever the school's size.
//! Nobody sees the secrets of a learner who holds a permission they lack
//! (a custom role): that row keeps its name but its secrets stay blank.
//! A learner who signs in only with their school's provider has no keyward
//! password: their `password_status` is `sso` and the password stays blank.

pub mod csv;
mod store;

pub use csv::{csv_record, looks_like_formula, spreadsheet_safe, write_csv};

use std::collections::HashMap;
use std::fmt;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{AccountStatus, SsoSignIn};
use crate::activation::ACCESS_CODE_PURPOSE;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Permission, PermissionSet, Target};
use crate::classroom::passwords::{LEARNER_PASSWORD_PURPOSE, PasswordState};
use crate::crypto::store::open_row_value;
use crate::error::{Code, CodedError, Internal};
use crate::types::{ClassId, Password, Role, SchoolId, UserId};

use store::Scope;

/// The columns of the credentials CSV, in order (its header row).
pub const CSV_HEADER: [&str; 9] = [
    "school",
    "class",
    "first_name",
    "last_name",
    "username",
    "password",
    "password_status",
    "access_code",
    "parent_access_code",
];

/// What the credentials are wanted for; each is audited under its own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsUse {
    /// **Show access codes**: on screen.
    Show,
    /// **Download CSV** (or `keyward export`).
    Export,
}

impl CredentialsUse {
    fn audit_action(self) -> &'static str {
        match self {
            CredentialsUse::Show => action::CREDENTIALS_SHOW,
            CredentialsUse::Export => action::CREDENTIALS_EXPORT,
        }
    }
}

/// Whose credentials: one class, or the whole school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsScope {
    Class { id: ClassId, name: String },
    School,
}

/// One learner in one class (a learner in two classes has two rows; in the
/// school export a learner in no class has one row with no class).
#[derive(Clone)]
pub struct CredentialRow {
    pub user_id: UserId,
    pub class_id: Option<ClassId>,
    /// Blank when the learner is in no class.
    pub class_name: String,
    pub first_name: String,
    pub last_name: String,
    /// `None` while the account waits for its owner to choose one.
    pub username: Option<String>,
    pub status: AccountStatus,
    pub password_state: PasswordState,
    /// The provider an SSO-only learner signs in with (state `Sso`).
    pub sso: Option<SsoSignIn>,
    /// The sealed copy, opened; only when `password_state` is `Retrievable`.
    pub password: Option<Password>,
    /// The access code of a pending account, while it can be used.
    pub access_code: Option<String>,
    pub parent_access_code: Option<String>,
    /// The learner holds a permission the viewer lacks (a custom role), so
    /// their secrets are not shown.
    pub withheld: bool,
}

impl fmt::Debug for CredentialRow {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialRow")
            .field("user_id", &self.user_id)
            .field("class_name", &self.class_name)
            .field("username", &self.username)
            .field("status", &self.status)
            .field("password_state", &self.password_state)
            .field("sso", &self.sso)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "access_code",
                &self.access_code.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "parent_access_code",
                &self.parent_access_code.as_ref().map(|_| "<redacted>"),
            )
            .field("withheld", &self.withheld)
            .finish()
    }
}

impl CredentialRow {
    /// The `password_status` column: the password's state, or `withheld`
    /// when the viewer may not see this learner's secrets.
    pub fn status_text(&self) -> &'static str {
        if self.withheld {
            "withheld"
        } else {
            self.password_state.as_str()
        }
    }

    /// The row's cells in the order of [`CSV_HEADER`], before neutralising.
    fn cells<'a>(&'a self, school: &'a str) -> [&'a str; 9] {
        [
            school,
            &self.class_name,
            &self.first_name,
            &self.last_name,
            self.username.as_deref().unwrap_or(""),
            self.password.as_ref().map(Password::expose).unwrap_or(""),
            self.status_text(),
            self.access_code.as_deref().unwrap_or(""),
            self.parent_access_code.as_deref().unwrap_or(""),
        ]
    }
}

/// The learners of a class or school, with or without their secrets.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub school_id: SchoolId,
    pub school_name: String,
    pub scope: CredentialsScope,
    /// By class name (learners in no class last), then last and first name.
    pub rows: Vec<CredentialRow>,
}

impl Credentials {
    /// The CSV of R-TCH-5: RFC 4180 (CRLF line ends, quotes where needed),
    /// UTF-8 without a byte-order mark, a header row of [`CSV_HEADER`], every
    /// cell passed through [`spreadsheet_safe`].
    pub fn to_csv(&self) -> Result<Vec<u8>, Internal> {
        write_csv(
            &CSV_HEADER,
            self.rows.iter().map(|row| row.cells(&self.school_name)),
        )
    }

    /// A file name for the download: `<school>[-<class>]-credentials.csv`,
    /// made of lowercase ASCII letters, digits and hyphens.
    pub fn file_name(&self) -> String {
        let mut base = slug(&self.school_name);
        if let CredentialsScope::Class { name, .. } = &self.scope {
            let class = slug(name);
            base = match (base.is_empty(), class.is_empty()) {
                (_, true) => base,
                (true, false) => class,
                (false, false) => format!("{base}-{class}"),
            };
        }
        if base.is_empty() {
            "learner-credentials.csv".to_owned()
        } else {
            format!("{base}-credentials.csv")
        }
    }

    /// The audit detail: the scope and the number of rows, nothing secret.
    fn audit_detail(&self) -> String {
        let scope = match &self.scope {
            CredentialsScope::Class { id, .. } => format!("class:{id}"),
            CredentialsScope::School => format!("school:{}", self.school_id),
        };
        format!("scope={scope}; rows={}", self.rows.len())
    }
}

/// Lowercase ASCII letters and digits, other runs turned into one hyphen, at
/// most 60 characters.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(60);
    out.trim_end_matches('-').to_owned()
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for CredentialsError {
    fn code(&self) -> Code {
        match self {
            CredentialsError::Denied(denied) => denied.code(),
            CredentialsError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            CredentialsError::Denied(denied) => denied.retry_after_secs(),
            CredentialsError::Internal(internal) => internal.retry_after_secs(),
        }
    }
}

impl From<sqlx::Error> for CredentialsError {
    fn from(err: sqlx::Error) -> Self {
        CredentialsError::Internal(err.into())
    }
}

/// Which secrets to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secrets {
    /// **User accounts**: names, usernames and password states only.
    Without,
    /// **Show access codes** and the CSV: passwords and codes too.
    With,
}

impl Keyward {
    /// **User accounts** of a class: its learners with their usernames and
    /// password states, no secret (not audited: nothing secret is shown).
    pub async fn class_accounts(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<Credentials, CredentialsError> {
        let (school, scope) = self.class_in_reach(ctx, actor, class).await?;
        self.load_credentials(ctx, actor, school, scope, Secrets::Without)
            .await
    }

    /// **User accounts** of the whole school (its lead teacher, platform
    /// admins), without secrets.
    pub async fn school_accounts(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<Credentials, CredentialsError> {
        let school = self.school_in_reach(ctx, actor, school).await?;
        self.load_credentials(
            ctx,
            actor,
            school,
            CredentialsScope::School,
            Secrets::Without,
        )
        .await
    }

    /// A class's credentials (**Show access codes**, **Download CSV**): its
    /// teachers, the lead teacher, platform admins. Audited.
    pub async fn class_credentials(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
        use_: CredentialsUse,
    ) -> Result<Credentials, CredentialsError> {
        let (school, scope) = self.class_in_reach(ctx, actor, class).await?;
        let credentials = self
            .load_credentials(ctx, actor, school, scope, Secrets::With)
            .await?;
        self.audit_credentials(ctx, actor, &credentials, use_, Some(class.as_str()))
            .await?;
        Ok(credentials)
    }

    /// The whole school's credentials: its lead teacher, platform admins.
    /// Audited.
    pub async fn school_credentials(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        use_: CredentialsUse,
    ) -> Result<Credentials, CredentialsError> {
        let school = self.school_in_reach(ctx, actor, school).await?;
        let credentials = self
            .load_credentials(ctx, actor, school, CredentialsScope::School, Secrets::With)
            .await?;
        self.audit_credentials(ctx, actor, &credentials, use_, None)
            .await?;
        Ok(credentials)
    }

    /// Authorizes a class export and finds the class. Unknown classes and
    /// classes of other schools look alike (404).
    async fn class_in_reach(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<((SchoolId, String), CredentialsScope), CredentialsError> {
        let found = crate::schools::store::find_class(&self.db, class)
            .await?
            .ok_or(Denied::Hidden)?;
        let school = found.school_id;
        self.authorize_audited(
            ctx,
            actor,
            Action::ExportClassCredentials,
            Target::Class {
                school: &school,
                class,
            },
        )
        .await?;
        let school_name = store::school_name(&self.db, &school)
            .await?
            .ok_or(Denied::Hidden)?;
        Ok((
            (school, school_name),
            CredentialsScope::Class {
                id: class.clone(),
                name: found.name,
            },
        ))
    }

    /// Authorizes a school export and finds the school (404 when unknown).
    async fn school_in_reach(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<(SchoolId, String), CredentialsError> {
        self.authorize_audited(
            ctx,
            actor,
            Action::ExportSchoolCredentials,
            Target::School(school),
        )
        .await?;
        let name = store::school_name(&self.db, school)
            .await?
            .ok_or(Denied::Hidden)?;
        Ok((school.clone(), name))
    }

    async fn load_credentials(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        (school_id, school_name): (SchoolId, String),
        scope: CredentialsScope,
        secrets: Secrets,
    ) -> Result<Credentials, CredentialsError> {
        let class = match &scope {
            CredentialsScope::Class { id, .. } => Some(id),
            CredentialsScope::School => None,
        };
        let sql_scope = Scope {
            school: &school_id,
            class,
        };
        let learners = store::learner_rows(&self.db, sql_scope).await?;
        let mut opened = if secrets == Secrets::With {
            self.open_secrets(ctx, actor, sql_scope).await?
        } else {
            Opened::default()
        };
        let mut rows = Vec::with_capacity(learners.len());
        for learner in learners {
            let status = AccountStatus::parse(&learner.status).ok_or_else(|| {
                Internal::new(format!("unknown account status {:?}", learner.status))
            })?;
            let user_id = UserId::from_stored(learner.user_id);
            let placeholder = crate::admin::pending_username(&user_id);
            let username = (learner.username != placeholder.as_str()).then_some(learner.username);
            let password_state = PasswordState::of(
                status,
                learner.sso.is_some(),
                learner.has_copy,
                learner.set_by_staff,
            );
            let withheld = opened.withheld.contains(user_id.as_str());
            let password = match password_state {
                PasswordState::Retrievable if !withheld => {
                    opened.passwords.get(user_id.as_str()).cloned()
                }
                _ => None,
            };
            let access_code = match status {
                AccountStatus::Pending if !withheld => {
                    opened.activation_codes.get(user_id.as_str()).cloned()
                }
                _ => None,
            };
            let parent_access_code = if withheld {
                None
            } else {
                opened.parent_codes.get(user_id.as_str()).cloned()
            };
            rows.push(CredentialRow {
                class_id: learner.class_id.map(ClassId::from_stored),
                class_name: learner.class_name.unwrap_or_default(),
                first_name: learner.first_name,
                last_name: learner.last_name,
                username,
                status,
                password_state,
                sso: learner.sso,
                password: password.map(Password::new),
                access_code,
                parent_access_code,
                withheld,
                user_id,
            });
        }
        opened.passwords.clear();
        rows.sort_by_cached_key(|row| {
            (
                row.class_id.is_none(),
                row.class_name.to_lowercase(),
                row.class_id.clone(),
                row.last_name.to_lowercase(),
                row.first_name.to_lowercase(),
                row.username.clone(),
                row.user_id.clone(),
            )
        });
        Ok(Credentials {
            school_id,
            school_name,
            scope,
            rows,
        })
    }

    /// Opens the sealed passwords and open codes of the scope's learners, in
    /// two queries, and finds the learners whose secrets `actor` may not see.
    async fn open_secrets(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        scope: Scope<'_>,
    ) -> Result<Opened, CredentialsError> {
        let mut opened = Opened::default();
        for row in store::sealed_passwords(&self.db, scope).await? {
            let plain = self.open_row(&row, LEARNER_PASSWORD_PURPOSE)?;
            opened.passwords.insert(row.user_id, plain);
        }
        // Newest first: the first open code of a kind is the one in use.
        for row in store::open_codes(&self.db, scope, ctx.now).await? {
            let codes = match row.kind.as_str() {
                "activation" => &mut opened.activation_codes,
                "parent" => &mut opened.parent_codes,
                _ => continue,
            };
            if let std::collections::hash_map::Entry::Vacant(slot) =
                codes.entry(row.user_id.clone())
            {
                slot.insert(self.open_row(&row, ACCESS_CODE_PURPOSE)?);
            }
        }
        let mut granted: HashMap<String, PermissionSet> = HashMap::new();
        for (user, name) in store::granted_permissions(&self.db, scope).await? {
            if let Some(permission) = Permission::parse(&name) {
                let set = granted.entry(user).or_insert(PermissionSet::EMPTY);
                *set = set.with(permission);
            }
        }
        let held = actor.permissions();
        opened.withheld = granted
            .into_iter()
            .filter(|(_, set)| !held.covers(Role::Learner.permissions().union(*set)))
            .map(|(user, _)| user)
            .collect();
        Ok(opened)
    }

    /// Opens one sealed value as the `purpose` of the learner whose row
    /// points at it, refusing one sealed for another learner or purpose.
    fn open_row(&self, row: &store::SealedRow, purpose: &str) -> Result<String, Internal> {
        open_row_value(
            &self.sealer,
            &row.sealed_id,
            &row.owner_id,
            &row.purpose,
            &row.sealed,
            &row.user_id,
            purpose,
        )
    }

    async fn audit_credentials(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        credentials: &Credentials,
        use_: CredentialsUse,
        target: Option<&str>,
    ) -> Result<(), Internal> {
        let detail = credentials.audit_detail();
        audit::insert(
            self.db.pool(),
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: target.or(Some(credentials.school_id.as_str())),
                school_id: Some(credentials.school_id.as_str()),
                action: use_.audit_action(),
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await?;
        Ok(())
    }
}

/// Secrets opened for one export, by user id.
#[derive(Default)]
struct Opened {
    passwords: HashMap<String, String>,
    activation_codes: HashMap<String, String>,
    parent_codes: HashMap<String, String>,
    withheld: std::collections::HashSet<String>,
}

#[cfg(test)]
mod tests;
