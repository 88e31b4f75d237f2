//! Roster import (R-TCH-6), the "Uploading Students" process: a CSV of
//! learners (first name, last name, class, optional username and email)
//! becomes pending learner accounts with access codes and parent access
//! codes, enrolled in their classes (classes the school lacks are created,
//! with class codes). The whole file is checked first and imported in one
//! transaction: a file with any bad row is refused whole, with a per-row
//! report, and nothing is half imported. This module owns the rules; its SQL
//! lives in `store.rs`, the reading of the file in `parse.rs`.

pub(crate) mod parse;
mod store;

use std::collections::HashMap;
use std::fmt;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{AccountStatus, NewUser, insert_user};
use crate::activation::CodeKind;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::classroom::credentials::write_csv;
use crate::error::{Code, CodedError, Internal};
use crate::store::is_unique_violation;
use crate::types::{ClassId, Role, SchoolId, UserId};

/// The largest roster file accepted, checked before it is parsed.
pub const MAX_ROSTER_BYTES: usize = 5 * 1024 * 1024;
/// The most learners one file may hold.
pub const MAX_ROSTER_LEARNERS: usize = 10_000;
/// At most this many problems are listed; the rest are only counted.
pub const MAX_REPORTED_PROBLEMS: usize = 200;
/// The columns of the codes file a successful import produces.
pub const CODES_CSV_HEADER: [&str; 5] = [
    "first_name",
    "last_name",
    "class",
    "access_code",
    "parent_access_code",
];

/// One problem of a refused roster: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterProblem {
    /// The row as a spreadsheet numbers it (the header is row 1); `None` for
    /// a problem of the whole file (size, encoding).
    pub row: Option<u64>,
    /// The column (`first_name`, …, or a header cell as written); `None`
    /// when the problem is not one cell's.
    pub column: Option<String>,
    /// A stable code, for example `missing_value` or `formula_cell`.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
}

/// Why a roster was refused: the problems (at most
/// [`MAX_REPORTED_PROBLEMS`]) and how many there were in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRejection {
    pub problems: Vec<RosterProblem>,
    pub problem_count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("There is no such school.")]
    NotFound,
    #[error("{}", .0.summary())]
    Invalid(RosterRejection),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl RosterRejection {
    /// One sentence saying that nothing was imported and how much to fix.
    pub fn summary(&self) -> String {
        match self.problem_count {
            1 => "The roster was not imported: fix the problem below and upload it again. \
                  Nothing was changed."
                .to_owned(),
            n => format!(
                "The roster was not imported: fix the {n} problems below and upload it again. \
                 Nothing was changed."
            ),
        }
    }
}

impl CodedError for RosterError {
    fn code(&self) -> Code {
        match self {
            RosterError::Denied(denied) => denied.code(),
            RosterError::NotFound => Code::NotFound,
            RosterError::Invalid(_) => Code::RosterInvalid,
            RosterError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            RosterError::Denied(denied) => denied.retry_after_secs(),
            RosterError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for RosterError {
    fn from(err: sqlx::Error) -> Self {
        RosterError::Internal(err.into())
    }
}

/// The school a roster goes into, as the upload form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterSchool {
    pub id: SchoolId,
    pub name: String,
}

/// A learner created by an import, with the codes in plain form: shown now,
/// kept only hashed and sealed (staff can show them again).
#[derive(Clone)]
pub struct ImportedLearner {
    pub row: u64,
    pub user_id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub class: String,
    /// The username the file gave, if any.
    pub username: Option<String>,
    pub access_code: String,
    pub parent_access_code: String,
}

impl fmt::Debug for ImportedLearner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedLearner")
            .field("row", &self.row)
            .field("user_id", &self.user_id)
            .field("class", &self.class)
            .field("access_code", &"<redacted>")
            .field("parent_access_code", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What an import created.
#[derive(Debug, Clone)]
pub struct RosterReport {
    pub school: RosterSchool,
    /// In the order of the file.
    pub learners: Vec<ImportedLearner>,
    /// Classes the file named that the school did not have, now created.
    pub new_classes: Vec<String>,
}

impl RosterReport {
    /// The created learners and their codes as CSV (UTF-8, RFC 4180, header
    /// [`CODES_CSV_HEADER`]), cells that could start a formula neutralised.
    pub fn codes_csv(&self) -> Result<Vec<u8>, Internal> {
        write_csv(
            &CODES_CSV_HEADER,
            self.learners.iter().map(|learner| {
                [
                    learner.first_name.as_str(),
                    &learner.last_name,
                    &learner.class,
                    &learner.access_code,
                    &learner.parent_access_code,
                ]
            }),
        )
    }
}

/// How classes are matched by name: case and spacing do not matter.
pub(crate) fn class_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Keyward {
    /// The school a roster would go into, for the upload form: only for
    /// those who may import (lead teachers of the school, platform admins).
    pub async fn roster_school(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<RosterSchool, RosterError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        let name = store::school_name(&self.db, school)
            .await?
            .ok_or(RosterError::NotFound)?;
        Ok(RosterSchool {
            id: school.clone(),
            name,
        })
    }

    /// Imports a roster into `school`: every learner or none. See the module
    /// documentation for the rules; a refused file is audited too.
    pub async fn import_roster(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        csv_bytes: &[u8],
    ) -> Result<RosterReport, RosterError> {
        let school = self.roster_school(ctx, actor, school).await?;
        match self.check_and_import(ctx, actor, &school, csv_bytes).await {
            Err(RosterError::Invalid(rejection)) => {
                let detail = format!("problems={}", rejection.problem_count);
                audit::insert_alone(
                    &self.db,
                    &roster_audit(ctx, actor, &school.id, "failure", &detail),
                )
                .await?;
                Err(RosterError::Invalid(rejection))
            }
            outcome => outcome,
        }
    }

    async fn check_and_import(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &RosterSchool,
        csv_bytes: &[u8],
    ) -> Result<RosterReport, RosterError> {
        let (rows, mut problems) = parse::parse_roster(csv_bytes).map_err(RosterError::Invalid)?;

        // Usernames someone already has.
        let wanted: Vec<String> = rows
            .iter()
            .filter_map(|r| r.username.as_ref().map(|u| u.key().to_owned()))
            .collect();
        let taken = store::taken_username_keys(&self.db, &wanted).await?;
        for row in &rows {
            if let Some(username) = row.username.as_ref().filter(|u| taken.contains(u.key())) {
                problems.push(
                    Some(row.row),
                    Some("username"),
                    "username_taken",
                    username_taken(&username.to_string()),
                );
            }
        }

        // Classes by name (case and spacing aside): the school's own, with
        // their names as the school wrote them, and those to create.
        let mut classes: HashMap<String, (Vec<ClassId>, String)> = HashMap::new();
        for (id, name) in store::classes_of_school(&self.db, &school.id).await? {
            let entry = classes
                .entry(class_key(&name))
                .or_insert_with(|| (Vec::new(), name));
            entry.0.push(id);
        }
        for row in &rows {
            if classes
                .get(&class_key(&row.class_name))
                .is_some_and(|(ids, _)| ids.len() > 1)
            {
                problems.push(
                    Some(row.row),
                    Some("class"),
                    "class_ambiguous",
                    format!(
                        "The school has several classes named {}. Rename one of them first.",
                        row.class_name
                    ),
                );
            }
        }
        if !problems.is_empty() {
            return Err(RosterError::Invalid(problems.into_rejection()));
        }

        let mut tx = self.db.begin_write().await?;
        let mut new_classes = Vec::new();
        for row in &rows {
            let key = class_key(&row.class_name);
            if classes.contains_key(&key) {
                continue;
            }
            let id = ClassId::generate(ctx.rng).map_err(Internal::from)?;
            crate::schools::store::insert_class_with_fresh_code(
                &mut tx,
                ctx,
                &id,
                &school.id,
                &row.class_name,
            )
            .await?;
            classes.insert(key, (vec![id], row.class_name.clone()));
            new_classes.push(row.class_name.clone());
        }

        let mut learners = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
            let username = match &row.username {
                Some(username) => username.clone(),
                None => crate::admin::pending_username(&id),
            };
            let inserted = insert_user(
                &mut *tx,
                &NewUser {
                    id: &id,
                    school_id: Some(&school.id),
                    role: Role::Learner,
                    username: &username,
                    email: row.email.as_ref(),
                    first_name: &row.first_name,
                    last_name: &row.last_name,
                    status: AccountStatus::Pending,
                    password_hash: None,
                    created_at: ctx.now,
                },
            )
            .await;
            if let Err(err) = inserted {
                // Someone took the username since it was checked: nothing is
                // kept (dropping the transaction rolls it back).
                return Err(if is_unique_violation(&err) {
                    taken_meanwhile(row.row, &username.to_string())
                } else {
                    RosterError::Internal(err.into())
                });
            }
            let (class, class_name) = classes
                .get(&class_key(&row.class_name))
                .and_then(|(ids, name)| Some((ids.first()?, name)))
                .ok_or_else(|| Internal::new("a roster class vanished"))?;
            crate::schools::enrol(&mut tx, class, &id).await?;
            let access_code = self
                .issue_code(&mut tx, ctx, &id, CodeKind::Activation)
                .await?;
            let parent_access_code = self.issue_code(&mut tx, ctx, &id, CodeKind::Parent).await?;
            learners.push(ImportedLearner {
                row: row.row,
                user_id: id,
                first_name: row.first_name.clone(),
                last_name: row.last_name.clone(),
                class: class_name.clone(),
                username: row.username.as_ref().map(ToString::to_string),
                access_code,
                parent_access_code,
            });
        }
        let detail = format!(
            "learners={} new_classes={}",
            learners.len(),
            new_classes.len()
        );
        audit::insert(
            &mut *tx,
            &roster_audit(ctx, actor, &school.id, "success", &detail),
        )
        .await?;
        match tx.commit().await {
            Ok(()) => {}
            Err(err) if is_unique_violation(&err) => {
                return Err(RosterError::Invalid(
                    parse::Problems::single(
                        "changed_meanwhile",
                        "Someone changed the school while the roster was imported. \
                         Nothing was imported; upload the file again.",
                    )
                    .into_rejection(),
                ));
            }
            Err(err) => return Err(err.into()),
        }
        if learners.len() >= store::STATISTICS_AFTER_LEARNERS {
            store::refresh_statistics(&self.db).await;
        }
        Ok(RosterReport {
            school: school.clone(),
            learners,
            new_classes,
        })
    }
}

fn username_taken(username: &str) -> String {
    format!("The username {username} is taken. Choose another or leave the cell empty.")
}

fn taken_meanwhile(row: u64, username: &str) -> RosterError {
    let mut problems = parse::Problems::default();
    problems.push(
        Some(row),
        Some("username"),
        "username_taken",
        username_taken(username),
    );
    RosterError::Invalid(problems.into_rejection())
}

fn roster_audit<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    school: &'a SchoolId,
    outcome: &'static str,
    detail: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        // The operator at the command line is nobody in the users table.
        actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
        api_token: actor.api_token_id(),
        target_id: Some(school.as_str()),
        school_id: Some(school.as_str()),
        action: action::ROSTER_IMPORT,
        outcome,
        client_addr: ctx.client_addr.as_deref(),
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests;
