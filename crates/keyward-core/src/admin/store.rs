//! SQL of user administration.

use sqlx::AnyConnection;

use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UserId};

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
    use sqlx::Row;
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

/// Accounts of one school (or of every school), whose username or name
/// matches the LIKE pattern, by last and first name.
pub(super) async fn find_users(
    db: &Db,
    school: Option<&SchoolId>,
    pattern: &str,
    limit: i64,
) -> Result<Vec<crate::accounts::Account>, Internal> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE ($1 IS NULL OR school_id = $1) \
         AND (username_key LIKE $2 ESCAPE '\\' OR LOWER(first_name) LIKE $2 ESCAPE '\\' \
              OR LOWER(last_name) LIKE $2 ESCAPE '\\') \
         ORDER BY LOWER(last_name), LOWER(first_name), id LIMIT $3",
    )
    .bind(school.map(SchoolId::as_str))
    .bind(pattern)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    accounts_by_ids(db, ids).await
}

async fn accounts_by_ids(
    db: &Db,
    ids: Vec<String>,
) -> Result<Vec<crate::accounts::Account>, Internal> {
    let mut accounts = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(account) = crate::accounts::find_account(db, &UserId::from_stored(id)).await? {
            accounts.push(account);
        }
    }
    Ok(accounts)
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
pub(crate) async fn learners_of_class(
    db: &Db,
    class: &ClassId,
) -> Result<Vec<crate::accounts::Account>, Internal> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT u.id FROM class_learners l JOIN users u ON u.id = l.user_id WHERE l.class_id = $1 \
         ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id",
    )
    .bind(class.as_str())
    .fetch_all(db.pool())
    .await?;
    accounts_by_ids(db, ids).await
}

pub(super) async fn learners_of_school(
    db: &Db,
    school: &SchoolId,
    limit: i64,
) -> Result<Vec<(crate::accounts::Account, Vec<String>)>, Internal> {
    use sqlx::Row;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE school_id = $1 AND role = 'learner' \
         ORDER BY LOWER(last_name), LOWER(first_name), id LIMIT $2",
    )
    .bind(school.as_str())
    .bind(limit)
    .fetch_all(db.pool())
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
    let accounts = accounts_by_ids(db, ids).await?;
    Ok(accounts
        .into_iter()
        .map(|account| {
            let classes = classes_of.remove(account.id.as_str()).unwrap_or_default();
            (account, classes)
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
