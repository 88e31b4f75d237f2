//! SQL of roster imports: what the checks read before the import (the
//! school, its classes, usernames already taken) and the enrolment of each
//! new learner. Creating users, classes and codes goes through their own
//! capabilities' SQL.

use std::collections::HashSet;

use sqlx::Row;

use crate::error::Internal;
use crate::settings::Backend;
use crate::store::Db;
use crate::types::{ClassId, SchoolId};

/// Usernames looked up per statement (well below every backend's limit of
/// bound parameters).
const USERNAME_KEYS_PER_QUERY: usize = 500;

pub(super) async fn school_name(db: &Db, school: &SchoolId) -> Result<Option<String>, Internal> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM schools WHERE id = $1")
        .bind(school.as_str())
        .fetch_optional(db.pool())
        .await?;
    Ok(name)
}

/// Every class of the school: (id, name).
pub(super) async fn classes_of_school(
    db: &Db,
    school: &SchoolId,
) -> Result<Vec<(ClassId, String)>, Internal> {
    let rows = sqlx::query("SELECT id, name FROM classes WHERE school_id = $1")
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
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// Which of these username keys some account already has.
pub(super) async fn taken_username_keys(
    db: &Db,
    keys: &[String],
) -> Result<HashSet<String>, Internal> {
    let mut taken = HashSet::new();
    for chunk in keys.chunks(USERNAME_KEYS_PER_QUERY) {
        // Only numbered placeholders are formatted into the statement.
        let placeholders = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT username_key FROM users WHERE username_key IN ({placeholders})"
        ));
        let mut query = sqlx::query_scalar::<_, String>(sql);
        for key in chunk {
            query = query.bind(key.as_str());
        }
        taken.extend(query.fetch_all(db.pool()).await?);
    }
    Ok(taken)
}

/// Imports of at least this many learners refresh the planner's statistics.
pub(super) const STATISTICS_AFTER_LEARNERS: usize = 200;

/// Refreshes PostgreSQL's planner statistics of the tables a roster import
/// fills. Right after a bulk import into tables never analysed (autovacuum
/// comes a minute or more later), PostgreSQL takes a school's thousands of
/// learners for one and plans the next reads (the credentials export) as
/// nested loops over every class per learner: seconds instead of
/// milliseconds. SQLite plans from its indexes and needs nothing. A failure
/// only costs speed, so it is logged, not returned.
pub(super) async fn refresh_statistics(db: &Db) {
    if db.backend() != Backend::Postgres {
        return;
    }
    let analysed =
        sqlx::query("ANALYZE users, classes, class_learners, access_codes, sealed_secrets")
            .execute(db.pool())
            .await;
    if let Err(err) = analysed {
        tracing::warn!(%err, "planner statistics not refreshed after a roster import");
    }
}
