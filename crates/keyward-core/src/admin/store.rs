//! SQL of user administration: the users list (its filters built from fixed
//! fragments, values always bound), one user's facts, the class and student
//! databases, custom roles.

use sqlx::{AnyConnection, Row};

use super::directory::{Learner, ListedUser};
use crate::accounts::store::{ACCOUNT_COLUMNS, SECOND_FACTORS_ON, account_from_row};
use crate::accounts::{AccountStatus, SSO_COLUMNS, sso_link_from_row, sso_only_from_row};
use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, Role, SchoolId, UnixTime, UserId};

pub(super) async fn class_in_school(
    db: &Db,
    class: &ClassId,
    school: &SchoolId,
) -> Result<bool, Internal> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM classes WHERE id = $1 AND school_id = $2")
            .bind(class.as_str())
            .bind(school.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
}

/// The user's codes still waiting to be used: (kind, sealed secret id).
pub(super) async fn open_codes(db: &Db, user: &UserId) -> Result<Vec<(String, String)>, Internal> {
    let rows = sqlx::query(
        "SELECT kind, sealed_id FROM access_codes WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("kind")?, row.try_get("sealed_id")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// A value bound to a `$n` placeholder of a query built from parts.
enum Bound {
    Text(String),
    Int(i64),
}

/// A WHERE clause built from fixed fragments, with its values bound by
/// number (`$1`, `$2`, …: both backends read them).
#[derive(Default)]
struct Conditions {
    parts: Vec<String>,
    values: Vec<Bound>,
}

impl Conditions {
    /// The next placeholder, bound to `value`.
    fn bind(&mut self, value: Bound) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    fn and(&mut self, part: String) {
        self.parts.push(part);
    }

    fn sql(&self) -> String {
        if self.parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.parts.join(" AND "))
        }
    }

    fn query(&self, sql: String) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in &self.values {
            query = match value {
                Bound::Text(text) => query.bind(text.as_str()),
                Bound::Int(n) => query.bind(*n),
            };
        }
        query
    }
}

/// The users list's filters, ready for SQL; `None` filters nothing.
pub(super) struct UserFilter<'a> {
    pub school: Option<&'a SchoolId>,
    /// A LIKE pattern (escaped with `\`, lowercased) for names, the chosen
    /// username and the email address.
    pub pattern: Option<String>,
    pub role: Option<Role>,
    pub class: Option<&'a ClassId>,
    pub status: Option<AccountStatus>,
    pub mfa: Option<bool>,
}

impl UserFilter<'_> {
    fn conditions(&self) -> Conditions {
        let mut c = Conditions::default();
        if let Some(school) = self.school {
            let p = c.bind(Bound::Text(school.as_str().to_owned()));
            c.and(format!("u.school_id = {p}"));
        }
        if let Some(pattern) = &self.pattern {
            let p = c.bind(Bound::Text(pattern.clone()));
            // A pending account's placeholder username is nobody's name.
            c.and(format!(
                "(LOWER(u.first_name || ' ' || u.last_name) LIKE {p} ESCAPE '\\' \
                  OR (u.status <> 'pending' AND u.username_key LIKE {p} ESCAPE '\\') \
                  OR u.email_key LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(role) = self.role {
            let p = c.bind(Bound::Text(role.as_str().to_owned()));
            c.and(format!("u.role = {p}"));
        }
        if let Some(class) = self.class {
            let p = c.bind(Bound::Text(class.as_str().to_owned()));
            c.and(format!(
                "(EXISTS (SELECT 1 FROM class_learners cl WHERE cl.class_id = {p} AND cl.user_id = u.id) \
                  OR EXISTS (SELECT 1 FROM class_teachers ct WHERE ct.class_id = {p} AND ct.user_id = u.id))"
            ));
        }
        if let Some(status) = self.status {
            let p = c.bind(Bound::Text(status.as_str().to_owned()));
            c.and(format!("u.status = {p}"));
        }
        match self.mfa {
            Some(true) => c.and(format!("{SECOND_FACTORS_ON} > 0")),
            Some(false) => c.and(format!("{SECOND_FACTORS_ON} = 0")),
            None => {}
        }
        c
    }
}

/// One page of the users list (by last name, first name, id) and how many
/// match in all: two queries, whatever the page's size.
pub(super) async fn list_users(
    db: &Db,
    filter: &UserFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListedUser>, i64), Internal> {
    let mut conditions = filter.conditions();
    let total: i64 = {
        let sql = format!("SELECT COUNT(*) AS n FROM users u{}", conditions.sql());
        conditions
            .query(sql)
            .fetch_one(db.pool())
            .await?
            .try_get("n")?
    };
    let where_sql = conditions.sql();
    let limit_at = conditions.bind(Bound::Int(limit));
    let offset_at = conditions.bind(Bound::Int(offset));
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, {SECOND_FACTORS_ON} AS second_factors, {SSO_COLUMNS} \
         FROM users u{where_sql} \
         ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id LIMIT {limit_at} OFFSET {offset_at}"
    );
    let rows = conditions.query(sql).fetch_all(db.pool()).await?;
    let users = rows
        .iter()
        .map(|row| {
            Ok(ListedUser {
                account: account_from_row(row)?,
                mfa_on: row.try_get::<i64, _>("second_factors")? > 0,
                sso: sso_link_from_row(row)?,
            })
        })
        .collect::<Result<_, Internal>>()?;
    Ok((users, total))
}

/// A school's classes by name, as (id, name).
pub(super) async fn class_names_of_school(
    db: &Db,
    school: &SchoolId,
) -> Result<Vec<(ClassId, String)>, Internal> {
    let rows =
        sqlx::query("SELECT id, name FROM classes WHERE school_id = $1 ORDER BY LOWER(name), id")
            .bind(school.as_str())
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|row| {
            Ok((
                ClassId::from_stored(row.try_get("id")?),
                row.try_get("name")?,
            ))
        })
        .collect()
}

/// What one user's page shows beyond the account row.
pub(super) struct UserFacts {
    pub created_at: UnixTime,
    pub authenticator_app: bool,
    pub passkeys: i64,
    /// Names of the user's custom roles, by name.
    pub custom_roles: Vec<String>,
    /// (class, name, teaching): the classes the user is enrolled in
    /// (`false`) or teaches (`true`), by name.
    pub classes: Vec<(ClassId, String, bool)>,
}

/// One user's creation time, second factors, custom roles and classes:
/// three queries. `None` when there is no such user.
pub(super) async fn user_facts(db: &Db, user: &UserId) -> Result<Option<UserFacts>, Internal> {
    let Some(row) = sqlx::query(
        "SELECT u.created_at, \
           (SELECT COUNT(*) FROM mfa_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS totp, \
           (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys \
         FROM users u WHERE u.id = $1",
    )
    .bind(user.as_str())
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let custom_roles: Vec<String> = sqlx::query_scalar(
        "SELECT r.name FROM user_custom_roles ur JOIN custom_roles r ON r.id = ur.role_id \
         WHERE ur.user_id = $1 ORDER BY LOWER(r.name), r.id",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    let class_rows = sqlx::query(
        "SELECT c.id, c.name, 0 AS teaching FROM class_learners l JOIN classes c ON c.id = l.class_id \
           WHERE l.user_id = $1 \
         UNION ALL \
         SELECT c.id, c.name, 1 AS teaching FROM class_teachers t JOIN classes c ON c.id = t.class_id \
           WHERE t.user_id = $1 \
         ORDER BY 2, 1",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    let classes = class_rows
        .iter()
        .map(|r| {
            Ok((
                ClassId::from_stored(r.try_get("id")?),
                r.try_get("name")?,
                r.try_get::<i64, _>("teaching")? != 0,
            ))
        })
        .collect::<Result<_, Internal>>()?;
    Ok(Some(UserFacts {
        created_at: UnixTime(row.try_get("created_at")?),
        authenticator_app: row.try_get::<i64, _>("totp")? > 0,
        passkeys: row.try_get("passkeys")?,
        custom_roles,
        classes,
    }))
}

/// Learners matching `condition` on `u` (bound to `$1`), each with the
/// provider of an SSO-only one, in the order of the class lists (last name,
/// first name, id): one query.
async fn learners_where(
    db: &Db,
    from_where: &str,
    value: &str,
    limit: i64,
) -> Result<Vec<Learner>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, {SSO_COLUMNS} FROM {from_where} \
         ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id LIMIT $2"
    ));
    let rows = sqlx::query(sql)
        .bind(value)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Learner {
                account: account_from_row(row)?,
                sso: sso_link_from_row(row)?,
                sso_only: sso_only_from_row(row)?.is_some(),
            })
        })
        .collect()
}

pub(super) async fn school_of_class(
    db: &Db,
    class: &ClassId,
) -> Result<Option<SchoolId>, Internal> {
    let school: Option<String> = sqlx::query_scalar("SELECT school_id FROM classes WHERE id = $1")
        .bind(class.as_str())
        .fetch_optional(db.pool())
        .await?;
    Ok(school.map(SchoolId::from_stored))
}

/// The learners enrolled in a class, in the order of the class list (last
/// name, first name): the class database and the whole-class reset.
pub(crate) async fn learners_of_class(db: &Db, class: &ClassId) -> Result<Vec<Learner>, Internal> {
    learners_where(
        db,
        "class_learners l JOIN users u ON u.id = l.user_id WHERE l.class_id = $1",
        class.as_str(),
        i64::MAX,
    )
    .await
}

/// Every learner of a school (up to `limit`) with the names of their
/// classes: two queries.
pub(super) async fn learners_of_school(
    db: &Db,
    school: &SchoolId,
    limit: i64,
) -> Result<Vec<(Learner, Vec<String>)>, Internal> {
    let learners = learners_where(
        db,
        "users u WHERE u.school_id = $1 AND u.role = 'learner'",
        school.as_str(),
        limit,
    )
    .await?;
    let mut classes_of: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let rows = sqlx::query(
        "SELECT l.user_id, c.name FROM class_learners l JOIN classes c ON c.id = l.class_id \
         WHERE c.school_id = $1 ORDER BY c.name",
    )
    .bind(school.as_str())
    .fetch_all(db.pool())
    .await?;
    for row in &rows {
        classes_of
            .entry(row.try_get("user_id")?)
            .or_default()
            .push(row.try_get("name")?);
    }
    Ok(learners
        .into_iter()
        .map(|learner| {
            let classes = classes_of
                .remove(learner.account.id.as_str())
                .unwrap_or_default();
            (learner, classes)
        })
        .collect())
}

pub(super) async fn insert_custom_role(
    conn: &mut AnyConnection,
    id: &str,
    school: &SchoolId,
    name: &str,
    now: crate::types::UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO custom_roles (id, school_id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(school.as_str())
    .bind(name)
    .bind(now.secs())
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_role_permission(
    conn: &mut AnyConnection,
    role: &str,
    permission: &str,
) -> Result<(), Internal> {
    sqlx::query("INSERT INTO custom_role_permissions (role_id, permission) VALUES ($1, $2)")
        .bind(role)
        .bind(permission)
        .execute(conn)
        .await?;
    Ok(())
}

/// A custom role's school and permission names.
pub(super) async fn find_custom_role(
    db: &Db,
    role: &str,
) -> Result<Option<(SchoolId, Vec<String>)>, Internal> {
    let school: Option<String> =
        sqlx::query_scalar("SELECT school_id FROM custom_roles WHERE id = $1")
            .bind(role)
            .fetch_optional(db.pool())
            .await?;
    let Some(school) = school else {
        return Ok(None);
    };
    let permissions: Vec<String> =
        sqlx::query_scalar("SELECT permission FROM custom_role_permissions WHERE role_id = $1")
            .bind(role)
            .fetch_all(db.pool())
            .await?;
    Ok(Some((SchoolId::from_stored(school), permissions)))
}

pub(super) async fn grant_custom_role(
    conn: &mut AnyConnection,
    user: &UserId,
    role: &str,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO user_custom_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(user.as_str())
    .bind(role)
    .execute(conn)
    .await?;
    Ok(())
}
