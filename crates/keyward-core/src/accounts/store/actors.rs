//! SQL behind an actor (reads only): the permissions custom roles grant a user in
//! their school, and the classes a user teaches or is enrolled in.

use sqlx::Row;

use crate::authz::{Permission, PermissionSet, UserTarget};
use crate::error::Internal;
use crate::store::Db;
use crate::types::Role;
use crate::types::{ClassId, SchoolId, UserId};

/// Permissions from the custom roles of the user's own school.
pub(in crate::accounts) async fn granted_permissions(
    db: &Db,
    user: &UserId,
) -> Result<PermissionSet, Internal> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT p.permission FROM user_custom_roles ur \
         JOIN custom_roles r ON r.id = ur.role_id \
         JOIN users u ON u.id = ur.user_id AND u.school_id = r.school_id \
         JOIN custom_role_permissions p ON p.role_id = r.id \
         WHERE ur.user_id = $1",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    Ok(names
        .iter()
        .filter_map(|n| Permission::parse(n))
        .fold(PermissionSet::EMPTY, PermissionSet::with))
}

/// Classes the user teaches.
pub(in crate::accounts) async fn taught_classes(
    db: &Db,
    user: &UserId,
) -> Result<Vec<ClassId>, Internal> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT class_id FROM class_teachers WHERE user_id = $1 ORDER BY class_id",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    Ok(ids.into_iter().map(ClassId::from_stored).collect())
}

/// A user as a target of authorization, or `None` when there is no such user.
pub(in crate::accounts) async fn user_target(
    db: &Db,
    user: &UserId,
) -> Result<Option<UserTarget>, Internal> {
    let Some(row) = sqlx::query("SELECT role, school_id FROM users WHERE id = $1")
        .bind(user.as_str())
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let role: String = row.try_get("role")?;
    let role = Role::parse(&role).ok_or_else(|| Internal::new(format!("unknown role {role:?}")))?;
    let classes: Vec<String> = sqlx::query_scalar(
        "SELECT class_id FROM class_learners WHERE user_id = $1 \
         UNION SELECT class_id FROM class_teachers WHERE user_id = $1",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    Ok(Some(UserTarget {
        id: user.clone(),
        role,
        school_id: row
            .try_get::<Option<String>, _>("school_id")?
            .map(SchoolId::from_stored),
        granted: granted_permissions(db, user).await?,
        classes: classes.into_iter().map(ClassId::from_stored).collect(),
    }))
}
