//! SQL of `sso_links`: which subject at which provider is which person.

// --- A person's links, and unlinking (issue 14.3; sso-ux) ---
// (Paths written out in full, so these functions bring no `use` of their
// own to a file that other work appends to.)

/// One link of a person, with its provider's display name.
pub(crate) struct LinkRow {
    pub provider_id: String,
    pub provider_name: String,
    pub linked_at: crate::types::UnixTime,
    pub last_used_at: Option<crate::types::UnixTime>,
}

/// Every link of `user`, by provider name.
pub(crate) async fn list_for_user(
    db: &crate::store::Db,
    user: &crate::types::UserId,
) -> Result<Vec<LinkRow>, crate::error::Internal> {
    use crate::types::UnixTime;
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT l.provider_id, p.name, l.linked_at, l.last_used_at \
         FROM sso_links l JOIN sso_providers p ON p.id = l.provider_id \
         WHERE l.user_id = $1 ORDER BY LOWER(p.name), l.provider_id",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LinkRow {
                provider_id: row.try_get("provider_id")?,
                provider_name: row.try_get("name")?,
                linked_at: UnixTime(row.try_get("linked_at")?),
                last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(UnixTime),
            })
        })
        .collect()
}

/// The link of `user` at `provider`, if there is one; in the caller's
/// transaction when it decides on it.
pub(crate) async fn link_of<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    conn: E,
    provider: &str,
    user: &crate::types::UserId,
) -> Result<Option<LinkRow>, crate::error::Internal> {
    use crate::types::UnixTime;
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT l.provider_id, p.name, l.linked_at, l.last_used_at \
         FROM sso_links l JOIN sso_providers p ON p.id = l.provider_id \
         WHERE l.provider_id = $1 AND l.user_id = $2",
    )
    .bind(provider)
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(LinkRow {
            provider_id: row.try_get("provider_id")?,
            provider_name: row.try_get("name")?,
            linked_at: UnixTime(row.try_get("linked_at")?),
            last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(UnixTime),
        })
    })
    .transpose()
}

/// Removes the link of `user` at `provider`. `false` when there was none
/// (never made, or removed a moment ago by a parallel unlink): the DELETE
/// decides, so of parallel unlinks exactly one removes it.
pub(crate) async fn delete_link(
    conn: &mut sqlx::AnyConnection,
    provider: &str,
    user: &crate::types::UserId,
) -> Result<bool, crate::error::Internal> {
    let done = sqlx::query("DELETE FROM sso_links WHERE provider_id = $1 AND user_id = $2")
        .bind(provider)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
