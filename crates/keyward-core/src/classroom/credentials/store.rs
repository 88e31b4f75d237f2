//! SQL of the credentials export: the classes of a class or a school, and
//! for one batch of them (or for the school's learners in no class) the
//! learners with their sealed passwords, open codes and custom-role
//! permissions, each in one query per batch, so a school of thousands of
//! learners is read in a few dozen queries and never held whole. Nothing
//! here opens a sealed value; `mod.rs` does, in memory.

use sqlx::Row;
use sqlx::any::{Any, AnyArguments, AnyRow};
use sqlx::query::Query;

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

/// Some learners of `school`: those enrolled in one of `classes` (classes
/// of that school), or those in no class of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Batch<'a> {
    pub school: &'a SchoolId,
    pub members: Members<'a>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Members<'a> {
    /// Enrolled in one of these classes (ids).
    InClasses(&'a [String]),
    /// Enrolled in no class of the school.
    InNoClass,
}

impl Batch<'_> {
    /// The batch's learners as a condition on `u`: binds `$1` (the school)
    /// and, for classes, `$first`, `$first + 1`, … (their ids).
    fn learners_of(&self, first: usize) -> String {
        let enrolled = match self.members {
            Members::InClasses(classes) => format!(
                "u.id IN (SELECT cl.user_id FROM class_learners cl WHERE cl.class_id IN ({}))",
                placeholders(first, classes.len())
            ),
            Members::InNoClass => NOT_ENROLLED.to_owned(),
        };
        format!("u.school_id = $1 AND u.role = 'learner' AND {enrolled}")
    }

    /// Binds the class ids of the batch, after the school and `between`.
    fn bind_classes<'q>(
        &self,
        mut query: Query<'q, Any, AnyArguments>,
    ) -> Query<'q, Any, AnyArguments> {
        if let Members::InClasses(classes) = self.members {
            for class in classes {
                query = query.bind(class.clone());
            }
        }
        query
    }
}

/// `u` is in no class of the school `$1`.
const NOT_ENROLLED: &str = "NOT EXISTS (SELECT 1 FROM class_learners cl \
     JOIN classes c ON c.id = cl.class_id WHERE cl.user_id = u.id AND c.school_id = $1)";

/// `$first, $first + 1, …`, `count` of them.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) async fn school_name(db: &Db, school: &SchoolId) -> Result<Option<String>, Internal> {
    Ok(sqlx::query_scalar("SELECT name FROM schools WHERE id = $1")
        .bind(school.as_str())
        .fetch_optional(db.pool())
        .await?)
}

/// A class of the scope that has learners, with how many.
pub(super) struct ClassEntry {
    pub id: String,
    pub name: String,
    pub learners: usize,
}

/// The classes of the scope with at least one learner of the school
/// (a class export: that class only). Unordered.
pub(super) async fn classes_of(db: &Db, scope: Scope<'_>) -> Result<Vec<ClassEntry>, Internal> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, COUNT(*) AS learners FROM classes c \
         JOIN class_learners cl ON cl.class_id = c.id \
         JOIN users u ON u.id = cl.user_id AND u.school_id = $1 AND u.role = 'learner' \
         WHERE c.school_id = $1 AND ($2 IS NULL OR c.id = $2) GROUP BY c.id, c.name",
    )
    .bind(scope.school.as_str())
    .bind(scope.class_id())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ClassEntry {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                learners: usize::try_from(row.try_get::<i64, _>("learners")?).unwrap_or(0),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// How many learners of the school are in none of its classes.
pub(super) async fn count_unenrolled(db: &Db, school: &SchoolId) -> Result<usize, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM users u WHERE u.school_id = $1 AND u.role = 'learner' AND {NOT_ENROLLED}"
    ));
    let count: i64 = sqlx::query_scalar(sql)
        .bind(school.as_str())
        .fetch_one(db.pool())
        .await?;
    Ok(usize::try_from(count).unwrap_or(0))
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

/// The batch's learners, one row per learner and class of the batch they
/// are enrolled in (learners in no class: one row each). Unordered.
pub(super) async fn learner_rows(db: &Db, batch: Batch<'_>) -> Result<Vec<LearnerRow>, Internal> {
    const COLUMNS: &str = "u.id, u.username, u.first_name, u.last_name, u.status, \
                           u.password_set_by, s.id AS sealed_id";
    let sql = match batch.members {
        Members::InClasses(classes) => format!(
            "SELECT {COLUMNS}, c.id AS class_id, c.name AS class_name, {SSO_COLUMNS} \
             FROM class_learners k JOIN classes c ON c.id = k.class_id \
             JOIN users u ON u.id = k.user_id \
             LEFT JOIN sealed_secrets s ON s.id = u.password_sealed_id \
             WHERE c.school_id = $1 AND u.school_id = $1 AND u.role = 'learner' \
             AND k.class_id IN ({})",
            placeholders(2, classes.len())
        ),
        Members::InNoClass => format!(
            "SELECT {COLUMNS}, CAST(NULL AS TEXT) AS class_id, CAST(NULL AS TEXT) AS class_name, {SSO_COLUMNS} \
             FROM users u LEFT JOIN sealed_secrets s ON s.id = u.password_sealed_id \
             WHERE {}",
            batch.learners_of(2)
        ),
    };
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(batch.school.as_str());
    let rows = batch.bind_classes(query).fetch_all(db.pool()).await?;
    rows.iter().map(learner_row).collect()
}

fn learner_row(row: &AnyRow) -> Result<LearnerRow, Internal> {
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
}

/// A sealed value belonging to a learner of the batch.
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

/// The sealed password copies of the batch's learners.
pub(super) async fn sealed_passwords(
    db: &Db,
    batch: Batch<'_>,
) -> Result<Vec<SealedRow>, Internal> {
    let sql = format!(
        "SELECT u.id AS user_id, 'password' AS kind, s.id AS sealed_id, s.owner_id, s.purpose, s.sealed \
         FROM users u JOIN sealed_secrets s ON s.id = u.password_sealed_id WHERE {}",
        batch.learners_of(2)
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(batch.school.as_str());
    sealed_rows(db, batch.bind_classes(query)).await
}

/// The codes of the batch's learners still waiting to be used (unused, not
/// revoked, not expired), newest first.
pub(super) async fn open_codes(
    db: &Db,
    batch: Batch<'_>,
    now: UnixTime,
) -> Result<Vec<SealedRow>, Internal> {
    let sql = format!(
        "SELECT a.user_id, a.kind, s.id AS sealed_id, s.owner_id, s.purpose, s.sealed \
         FROM access_codes a JOIN users u ON u.id = a.user_id \
         JOIN sealed_secrets s ON s.id = a.sealed_id \
         WHERE a.used_at IS NULL AND a.revoked_at IS NULL \
         AND (a.expires_at IS NULL OR a.expires_at > $2) AND {} \
         ORDER BY a.created_at DESC, a.id",
        batch.learners_of(3)
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(batch.school.as_str())
        .bind(now.secs());
    sealed_rows(db, batch.bind_classes(query)).await
}

async fn sealed_rows<'q>(
    db: &Db,
    query: Query<'q, Any, AnyArguments>,
) -> Result<Vec<SealedRow>, Internal> {
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
/// batch's learners: (user id, permission name).
pub(super) async fn granted_permissions(
    db: &Db,
    batch: Batch<'_>,
) -> Result<Vec<(String, String)>, Internal> {
    let sql = format!(
        "SELECT ur.user_id, p.permission FROM user_custom_roles ur \
         JOIN custom_roles r ON r.id = ur.role_id \
         JOIN users u ON u.id = ur.user_id AND u.school_id = r.school_id \
         JOIN custom_role_permissions p ON p.role_id = r.id WHERE {}",
        batch.learners_of(2)
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(batch.school.as_str());
    let rows = batch.bind_classes(query).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("permission")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}
