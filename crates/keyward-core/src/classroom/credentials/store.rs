//! SQL of the credentials export: the learners of a class or a school with
//! their classes, and their sealed passwords and open codes, each in one
//! query for the whole scope (a school may have thousands of learners).
//! Nothing here opens a sealed value; `mod.rs` does, in memory.

use sqlx::Row;

use crate::accounts::{SSO_COLUMNS, SsoSignIn, sso_only_from_row};
use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UnixTime};

/// Which learners: every learner of `school`, or only those enrolled in
/// `class` (a class of that school).
#[derive(Debug, Clone, Copy)]
pub(super) struct Scope<'a> {
    pub school: &'a SchoolId,
    pub class: Option<&'a ClassId>,
}

impl Scope<'_> {
    fn class_id(&self) -> Option<&str> {
        self.class.map(ClassId::as_str)
    }
}

pub(super) async fn school_name(db: &Db, school: &SchoolId) -> Result<Option<String>, Internal> {
    Ok(sqlx::query_scalar("SELECT name FROM schools WHERE id = $1")
        .bind(school.as_str())
        .fetch_optional(db.pool())
        .await?)
}

/// One learner in one class (or in none, `class_id` then `None`).
pub(super) struct LearnerRow {
    pub user_id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub has_copy: bool,
    pub set_by_staff: bool,
    pub class_id: Option<String>,
    pub class_name: Option<String>,
    /// The provider of an SSO-only learner.
    pub sso: Option<SsoSignIn>,
}

/// The learners of the scope, one row per learner and class of the school
/// they are enrolled in (a class export: that class only). Unordered.
pub(super) async fn learner_rows(db: &Db, scope: Scope<'_>) -> Result<Vec<LearnerRow>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT u.id, u.username, u.first_name, u.last_name, u.status, u.password_set_by, \
                s.id AS sealed_id, k.class_id, k.class_name, {SSO_COLUMNS} \
         FROM users u \
         LEFT JOIN sealed_secrets s ON s.id = u.password_sealed_id \
         LEFT JOIN (SELECT cl.user_id, c.id AS class_id, c.name AS class_name \
                    FROM class_learners cl JOIN classes c ON c.id = cl.class_id \
                    WHERE c.school_id = $1) k ON k.user_id = u.id \
         WHERE u.school_id = $1 AND u.role = 'learner' AND ($2 IS NULL OR k.class_id = $2)"
    ));
    let rows = sqlx::query(sql)
        .bind(scope.school.as_str())
        .bind(scope.class_id())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(LearnerRow {
                user_id: row.try_get("id")?,
                username: row.try_get("username")?,
                first_name: row.try_get("first_name")?,
                last_name: row.try_get("last_name")?,
                status: row.try_get("status")?,
                has_copy: row.try_get::<Option<String>, _>("sealed_id")?.is_some(),
                set_by_staff: row
                    .try_get::<Option<String>, _>("password_set_by")?
                    .as_deref()
                    == Some("staff"),
                class_id: row.try_get("class_id")?,
                class_name: row.try_get("class_name")?,
                sso: sso_only_from_row(row)?,
            })
        })
        .collect()
}

/// A sealed value belonging to a learner of the scope.
pub(super) struct SealedRow {
    pub user_id: String,
    /// `password`, or the code's kind (`activation`, `parent`).
    pub kind: String,
    pub sealed_id: String,
    /// The user the sealed row says it belongs to.
    pub owner_id: String,
    pub purpose: String,
    pub sealed: String,
}

/// The learners of the scope as a condition on `u` (binds `$1`, `$2`).
macro_rules! learners_of_scope {
    () => {
        "u.school_id = $1 AND u.role = 'learner' AND ($2 IS NULL OR u.id IN \
         (SELECT user_id FROM class_learners WHERE class_id = $2))"
    };
}

/// The sealed password copies of the scope's learners.
pub(super) async fn sealed_passwords(
    db: &Db,
    scope: Scope<'_>,
) -> Result<Vec<SealedRow>, Internal> {
    let sql = concat!(
        "SELECT u.id AS user_id, 'password' AS kind, s.id AS sealed_id, s.owner_id, s.purpose, s.sealed \
         FROM users u JOIN sealed_secrets s ON s.id = u.password_sealed_id WHERE ",
        learners_of_scope!()
    );
    sealed_rows(db, sql, scope, None).await
}

/// The codes of the scope's learners still waiting to be used (unused, not
/// revoked, not expired), newest first.
pub(super) async fn open_codes(
    db: &Db,
    scope: Scope<'_>,
    now: UnixTime,
) -> Result<Vec<SealedRow>, Internal> {
    let sql = concat!(
        "SELECT a.user_id, a.kind, s.id AS sealed_id, s.owner_id, s.purpose, s.sealed \
         FROM access_codes a JOIN users u ON u.id = a.user_id \
         JOIN sealed_secrets s ON s.id = a.sealed_id \
         WHERE a.used_at IS NULL AND a.revoked_at IS NULL \
         AND (a.expires_at IS NULL OR a.expires_at > $3) AND ",
        learners_of_scope!(),
        " ORDER BY a.created_at DESC, a.id"
    );
    sealed_rows(db, sql, scope, Some(now)).await
}

async fn sealed_rows(
    db: &Db,
    sql: &'static str,
    scope: Scope<'_>,
    now: Option<UnixTime>,
) -> Result<Vec<SealedRow>, Internal> {
    let mut query = sqlx::query(sql)
        .bind(scope.school.as_str())
        .bind(scope.class_id());
    if let Some(now) = now {
        query = query.bind(now.secs());
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| {
            Ok(SealedRow {
                user_id: row.try_get("user_id")?,
                kind: row.try_get("kind")?,
                sealed_id: row.try_get("sealed_id")?,
                owner_id: row.try_get("owner_id")?,
                purpose: row.try_get("purpose")?,
                sealed: row.try_get("sealed")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// Permissions that custom roles of the learner's own school grant the
/// scope's learners: (user id, permission name).
pub(super) async fn granted_permissions(
    db: &Db,
    scope: Scope<'_>,
) -> Result<Vec<(String, String)>, Internal> {
    let sql = concat!(
        "SELECT ur.user_id, p.permission FROM user_custom_roles ur \
         JOIN custom_roles r ON r.id = ur.role_id \
         JOIN users u ON u.id = ur.user_id AND u.school_id = r.school_id \
         JOIN custom_role_permissions p ON p.role_id = r.id WHERE ",
        learners_of_scope!()
    );
    let rows = sqlx::query(sql)
        .bind(scope.school.as_str())
        .bind(scope.class_id())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("permission")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}
