//! Learner credentials of a class or a whole school (R-TCH-5, seed 002's
//! **User accounts** → **Show access codes** → **Download CSV**): who the
//! learners are, their password when a sealed copy is kept, the access code
//! of a pending account and the parent access code, shown on screen or
//! exported as CSV. A class's teachers and the lead teacher may see a class;
//! only the lead teacher (and platform admins) the whole school.
//!
//! Every use is authorized first and every showing or export of secrets
//! writes one audit row with its scope and row count, never a secret. The
//! learners are read in batches of classes (about [`BATCH_ROWS`] rows, a
//! handful of queries each, learners in no class last), each batch sorted
//! in memory, so the CSV download ([`Keyward::export_credentials_csv`], for
//! the API, the pages and `keyward export`) streams a school of any size
//! in constant memory, with the same bytes as [`Credentials::to_csv`].
//! Nobody sees the secrets of a learner who holds a permission they lack
//! (a custom role): that row keeps its name but its secrets stay blank.
//! A learner who signs in only with their school's provider has no keyward
//! password: their `password_status` is `sso` and the password stays blank.

pub mod csv;
mod store;

pub use csv::{csv_record, looks_like_formula, spreadsheet_safe, write_csv};

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures_util::stream::{BoxStream, StreamExt};

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{AccountStatus, SsoSignIn};
use crate::activation::ACCESS_CODE_PURPOSE;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Permission, PermissionSet, Target};
use crate::classroom::passwords::{LEARNER_PASSWORD_PURPOSE, PasswordState};
use crate::crypto::store::open_row_value;
use crate::error::{Code, CodedError, Internal};
use crate::types::{ClassId, Password, Role, SchoolId, UnixTime, UserId};

use store::{Batch, Members, Scope};

/// About this many learner rows are read, opened and sorted at a time.
/// (Tiny in unit tests, so that they cross batches.)
const BATCH_ROWS: usize = if cfg!(test) { 2 } else { 1000 };
/// At most this many classes in one batch (one bound parameter each).
const BATCH_CLASSES: usize = 200;
/// The CSV is sent in pieces of about this many bytes.
const CSV_CHUNK_BYTES: usize = 32 * 1024;
/// Pieces the database may run ahead of a slow download.
const CSV_CHUNKS_AHEAD: usize = 4;

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
        file_name(&self.school_name, &self.scope)
    }
}

/// `<school>[-<class>]-credentials.csv`, see [`Credentials::file_name`].
fn file_name(school_name: &str, scope: &CredentialsScope) -> String {
    {
        let mut base = slug(school_name);
        if let CredentialsScope::Class { name, .. } = scope {
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
}

/// The audit detail: the scope and the number of rows, nothing secret.
fn audit_detail(school: &SchoolId, scope: &CredentialsScope, rows: usize) -> String {
    let scope = match scope {
        CredentialsScope::Class { id, .. } => format!("class:{id}"),
        CredentialsScope::School => format!("school:{school}"),
    };
    format!("scope={scope}; rows={rows}")
}

/// Whose credentials a download holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsOf {
    School(SchoolId),
    Class(ClassId),
}

/// The credentials CSV as a download: a header row, then every row of
/// [`Credentials::rows`] in order, the very bytes of [`Credentials::to_csv`].
pub struct CredentialsCsv {
    pub school_id: SchoolId,
    pub school_name: String,
    pub scope: CredentialsScope,
    /// `<school>[-<class>]-credentials.csv`.
    pub file_name: String,
    /// Learner rows as counted when the download began (and audited).
    pub rows: usize,
    /// The file in pieces; an error ends it early with that error (the
    /// download is then incomplete, never silently short).
    pub body: BoxStream<'static, Result<Vec<u8>, Internal>>,
}

impl fmt::Debug for CredentialsCsv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCsv")
            .field("school_id", &self.school_id)
            .field("scope", &self.scope)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// One batch of the scope's learners, in the export's order: some classes
/// (consecutive in class order), or the school's learners in no class.
#[derive(Debug, Clone)]
enum Part {
    Classes(Vec<String>),
    NoClass,
}

/// How a scope's learners are read: its school, its parts in order, and
/// how many rows they hold.
struct Plan {
    school_id: SchoolId,
    school_name: String,
    scope: CredentialsScope,
    parts: Vec<Part>,
    rows: usize,
}

/// What one export may open: when it runs (codes expire) and what the
/// viewer holds (learners holding more have their secrets withheld).
#[derive(Clone, Copy)]
struct Viewer {
    now: UnixTime,
    held: PermissionSet,
    secrets: Secrets,
}

/// The export's order within a batch: by class (learners in no class
/// last), then last and first name, username, id.
fn sort_rows(rows: &mut [CredentialRow]) {
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
        self.audit_credentials(ctx, actor, &credentials.audited(), use_)
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
        self.audit_credentials(ctx, actor, &credentials.audited(), use_)
            .await?;
        Ok(credentials)
    }

    /// **Download CSV** of a class or the whole school, for the API, the
    /// pages and `keyward export`: authorized as [`Self::class_credentials`]
    /// and [`Self::school_credentials`], audited (`credentials.export`, with
    /// the rows counted) before anything is read, then streamed batch by
    /// batch as the download pulls, in constant memory.
    pub async fn export_credentials_csv(
        self: &Arc<Self>,
        ctx: &Ctx<'_>,
        actor: &Actor,
        of: &CredentialsOf,
    ) -> Result<CredentialsCsv, CredentialsError> {
        let (school, scope) = match of {
            CredentialsOf::Class(class) => self.class_in_reach(ctx, actor, class).await?,
            CredentialsOf::School(school) => (
                self.school_in_reach(ctx, actor, school).await?,
                CredentialsScope::School,
            ),
        };
        let plan = self.plan(school, scope).await?;
        let audited = Audited {
            school_id: &plan.school_id,
            scope: &plan.scope,
            rows: plan.rows,
        };
        self.audit_credentials(ctx, actor, &audited, CredentialsUse::Export)
            .await?;
        let viewer = Viewer {
            now: ctx.now,
            held: actor.permissions(),
            secrets: Secrets::With,
        };
        Ok(CredentialsCsv {
            school_id: plan.school_id.clone(),
            school_name: plan.school_name.clone(),
            scope: plan.scope.clone(),
            file_name: file_name(&plan.school_name, &plan.scope),
            rows: plan.rows,
            body: self.stream_credentials_csv(viewer, plan),
        })
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

    /// Every row of the scope at once (the pages), read as the download is.
    async fn load_credentials(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: (SchoolId, String),
        scope: CredentialsScope,
        secrets: Secrets,
    ) -> Result<Credentials, CredentialsError> {
        let plan = self.plan(school, scope).await?;
        let viewer = Viewer {
            now: ctx.now,
            held: actor.permissions(),
            secrets,
        };
        let mut rows = Vec::with_capacity(plan.rows);
        for part in &plan.parts {
            rows.extend(self.load_part(viewer, &plan.school_id, part).await?);
        }
        Ok(Credentials {
            school_id: plan.school_id,
            school_name: plan.school_name,
            scope: plan.scope,
            rows,
        })
    }

    /// The scope's classes in the export's order (by name, then id), cut
    /// into batches of about [`BATCH_ROWS`] rows, then the learners in no
    /// class (a school export).
    async fn plan(
        &self,
        (school_id, school_name): (SchoolId, String),
        scope: CredentialsScope,
    ) -> Result<Plan, Internal> {
        let class = match &scope {
            CredentialsScope::Class { id, .. } => Some(id),
            CredentialsScope::School => None,
        };
        let sql_scope = Scope {
            school: &school_id,
            class,
        };
        let mut classes = store::classes_of(&self.db, sql_scope).await?;
        classes.sort_by_cached_key(|class| (class.name.to_lowercase(), class.id.clone()));
        let (mut parts, mut rows) = (Vec::new(), 0);
        let (mut batch, mut batch_rows) = (Vec::new(), 0);
        for class in classes {
            rows += class.learners;
            batch_rows += class.learners;
            batch.push(class.id);
            if batch_rows >= BATCH_ROWS || batch.len() >= BATCH_CLASSES {
                parts.push(Part::Classes(std::mem::take(&mut batch)));
                batch_rows = 0;
            }
        }
        if !batch.is_empty() {
            parts.push(Part::Classes(batch));
        }
        if class.is_none() {
            let unenrolled = store::count_unenrolled(&self.db, &school_id).await?;
            if unenrolled > 0 {
                rows += unenrolled;
                parts.push(Part::NoClass);
            }
        }
        Ok(Plan {
            school_id,
            school_name,
            scope,
            parts,
            rows,
        })
    }

    /// The rows of one part, secrets opened as `viewer` may see them,
    /// sorted in the export's order.
    async fn load_part(
        &self,
        viewer: Viewer,
        school: &SchoolId,
        part: &Part,
    ) -> Result<Vec<CredentialRow>, Internal> {
        let batch = Batch {
            school,
            members: match part {
                Part::Classes(classes) => Members::InClasses(classes),
                Part::NoClass => Members::InNoClass,
            },
        };
        let learners = store::learner_rows(&self.db, batch).await?;
        let mut opened = if viewer.secrets == Secrets::With {
            self.open_secrets(viewer, batch).await?
        } else {
            Opened::default()
        };
        let mut rows = Vec::with_capacity(learners.len());
        for learner in learners {
            rows.push(credential_row(learner, &opened)?);
        }
        opened.passwords.clear();
        sort_rows(&mut rows);
        Ok(rows)
    }

    /// The CSV, produced by a task that reads the plan's parts one by one
    /// and hands pieces over a short channel: the download pulls, the task
    /// follows, and a download given up ends the task. An error mid-way is
    /// logged and ends the body with that error (the client sees a broken
    /// transfer, never a short file that looks whole).
    fn stream_credentials_csv(
        self: &Arc<Self>,
        viewer: Viewer,
        plan: Plan,
    ) -> BoxStream<'static, Result<Vec<u8>, Internal>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(CSV_CHUNKS_AHEAD);
        let kw = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(err) = kw.send_credentials_csv(viewer, &plan, &sender).await {
                tracing::error!(
                    cause = %err.cause(),
                    school = %plan.school_id,
                    "credentials CSV stopped"
                );
                let _ = sender.send(Err(err)).await;
            }
        });
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|piece| (piece, receiver))
        })
        .boxed()
    }

    /// Sends the CSV of `plan` over `sender` in pieces; stops quietly when
    /// the receiver is gone.
    async fn send_credentials_csv(
        &self,
        viewer: Viewer,
        plan: &Plan,
        sender: &tokio::sync::mpsc::Sender<Result<Vec<u8>, Internal>>,
    ) -> Result<(), Internal> {
        let mut piece = csv_record(CSV_HEADER)?;
        for part in &plan.parts {
            let rows = self.load_part(viewer, &plan.school_id, part).await?;
            for row in &rows {
                piece.extend_from_slice(&csv_record(row.cells(&plan.school_name))?);
                if piece.len() >= CSV_CHUNK_BYTES
                    && sender.send(Ok(std::mem::take(&mut piece))).await.is_err()
                {
                    return Ok(()); // The download was given up.
                }
            }
        }
        if !piece.is_empty() {
            let _ = sender.send(Ok(piece)).await;
        }
        Ok(())
    }

    /// Opens the sealed passwords and open codes of the batch's learners,
    /// in two queries, and finds the learners whose secrets the viewer may
    /// not see.
    async fn open_secrets(&self, viewer: Viewer, batch: Batch<'_>) -> Result<Opened, Internal> {
        let mut opened = Opened::default();
        for row in store::sealed_passwords(&self.db, batch).await? {
            let plain = self.open_row(&row, LEARNER_PASSWORD_PURPOSE)?;
            opened.passwords.insert(row.user_id, plain);
        }
        // Newest first: the first open code of a kind is the one in use.
        for row in store::open_codes(&self.db, batch, viewer.now).await? {
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
        for (user, name) in store::granted_permissions(&self.db, batch).await? {
            if let Some(permission) = Permission::parse(&name) {
                let set = granted.entry(user).or_insert(PermissionSet::EMPTY);
                *set = set.with(permission);
            }
        }
        opened.withheld = granted
            .into_iter()
            .filter(|(_, set)| !viewer.held.covers(Role::Learner.permissions().union(*set)))
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
        audited: &Audited<'_>,
        use_: CredentialsUse,
    ) -> Result<(), Internal> {
        let detail = audit_detail(audited.school_id, audited.scope, audited.rows);
        let target = match audited.scope {
            CredentialsScope::Class { id, .. } => id.as_str(),
            CredentialsScope::School => audited.school_id.as_str(),
        };
        audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: Some(target),
                school_id: Some(audited.school_id.as_str()),
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

/// What an audit row of a showing or an export says: whose, how many rows.
struct Audited<'a> {
    school_id: &'a SchoolId,
    scope: &'a CredentialsScope,
    rows: usize,
}

impl Credentials {
    fn audited(&self) -> Audited<'_> {
        Audited {
            school_id: &self.school_id,
            scope: &self.scope,
            rows: self.rows.len(),
        }
    }
}

/// A learner's row, with the secrets `opened` holds for them.
fn credential_row(learner: store::LearnerRow, opened: &Opened) -> Result<CredentialRow, Internal> {
    let status = AccountStatus::parse(&learner.status)
        .ok_or_else(|| Internal::new(format!("unknown account status {:?}", learner.status)))?;
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
        PasswordState::Retrievable if !withheld => opened.passwords.get(user_id.as_str()).cloned(),
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
    Ok(CredentialRow {
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
    })
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
