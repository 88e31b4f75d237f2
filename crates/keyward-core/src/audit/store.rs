//! SQL of the audit trail: writing a row, and reading rows back with their
//! actor and target named in the same query (one join, never a look-up per
//! row), one keyset page at a time or as a stream.

use futures_util::stream::{BoxStream, StreamExt};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::AuditEntry;
use super::filter::{ActionFilter, AuditQuery, PageAt};
use crate::error::Internal;
use crate::store::Db;
use crate::types::{SchoolId, UnixTime};

/// Writes one entry on its own, outside a transaction, in this process's
/// turn to write ([`Db::write_turn`]).
pub(crate) async fn insert_alone(db: &Db, entry: &AuditEntry<'_>) -> Result<(), Internal> {
    let _turn = db.write_turn().await?;
    insert(db.pool(), entry).await
}

pub(crate) async fn insert<'c, E>(exec: E, entry: &AuditEntry<'_>) -> Result<(), Internal>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, target_id, school_id, action, outcome, client_addr, detail, api_token_id) \
         VALUES ($1, $2, $3, COALESCE($4, (SELECT school_id FROM users WHERE id = $10)), $5, $6, $7, $8, $9)",
    )
    .bind(entry.at.secs())
    .bind(entry.actor_id)
    .bind(entry.target_id)
    .bind(entry.school_id)
    .bind(entry.action)
    .bind(entry.outcome)
    .bind(entry.client_addr)
    .bind(entry.detail)
    .bind(entry.api_token)
    // The target again, for its school: a separate placeholder, since a
    // number used twice is not portable across the two drivers.
    .bind(entry.target_id)
    .execute(exec)
    .await?;
    Ok(())
}

/// An audit row as read back.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: i64,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
    /// The API token the actor acted through.
    pub api_token_id: Option<String>,
}

/// The newest rows first. The browsing use case with scope and filters comes
/// with the admin pages; this serves tests and the CLI.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRow>, Internal> {
    let rows = sqlx::query(
        "SELECT at, actor_id, target_id, action, outcome, client_addr, detail, api_token_id \
         FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                at: r.try_get("at")?,
                actor_id: r.try_get("actor_id")?,
                target_id: r.try_get("target_id")?,
                action: r.try_get("action")?,
                outcome: r.try_get("outcome")?,
                client_addr: r.try_get("client_addr")?,
                detail: r.try_get("detail")?,
                api_token_id: r.try_get("api_token_id")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// A person an audit row names, as the users table knows them now. An id
/// that names no user (a school, a class, a removed account) has neither
/// username nor name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPerson {
    pub id: String,
    /// `None` while a pending account has no username of its own yet.
    pub username: Option<String>,
    /// First and last name; `None` when both are blank.
    pub name: Option<String>,
}

/// One row of the audit log with its actor and target named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: UnixTime,
    pub actor: Option<NamedPerson>,
    pub target: Option<NamedPerson>,
    pub school_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
    /// The API token the actor acted through, if any.
    pub api_token_id: Option<String>,
}

impl AuditRecord {
    /// When, in RFC 3339 (UTC, whole seconds): `2026-09-07T08:00:00Z`.
    pub fn at_rfc3339(&self) -> String {
        let secs = u64::try_from(self.at.secs()).unwrap_or(0);
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
        )
        .to_string()
    }
}

/// Rows of a school, or every row (`None`, platform admins).
type Scope<'a> = Option<&'a SchoolId>;

/// A value bound to a placeholder of a built query.
#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    Int(i64),
}

/// A SELECT over `audit_log` with its actor and target joined, built from
/// typed filters only: every value travels as a bound parameter.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    sql: String,
    args: Vec<Arg>,
}

impl Selection {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

const SELECT_NAMED: &str = "SELECT a.id, a.at, a.actor_id, a.target_id, a.school_id, a.action, \
     a.outcome, a.client_addr, a.detail, a.api_token_id, \
     ua.username AS actor_username, ua.first_name AS actor_first_name, ua.last_name AS actor_last_name, \
     ut.username AS target_username, ut.first_name AS target_first_name, ut.last_name AS target_last_name \
     FROM audit_log a \
     LEFT JOIN users ua ON ua.id = a.actor_id \
     LEFT JOIN users ut ON ut.id = a.target_id \
     WHERE 1 = 1";

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The rows in `scope` matching `query`'s filters (its page ignored), newest
/// first; `person` is the person filter already resolved to an id.
pub(crate) fn select(scope: Scope<'_>, query: &AuditQuery, person: Option<&str>) -> Selection {
    let mut s = Selection {
        sql: SELECT_NAMED.to_owned(),
        args: Vec::new(),
    };
    if let Some(school) = scope {
        let p = s.bind(Arg::Text(school.as_str().to_owned()));
        s.sql.push_str(&format!(" AND a.school_id = {p}"));
    }
    if let Some(person) = person {
        let p = s.bind(Arg::Text(person.to_owned()));
        let q = s.bind(Arg::Text(person.to_owned()));
        s.sql
            .push_str(&format!(" AND (a.actor_id = {p} OR a.target_id = {q})"));
    }
    match &query.action {
        Some(ActionFilter::Exact(name)) => {
            let p = s.bind(Arg::Text(name.clone()));
            s.sql.push_str(&format!(" AND a.action = {p}"));
        }
        Some(ActionFilter::Prefix(prefix)) => {
            let p = s.bind(Arg::Text(like_prefix(prefix)));
            s.sql
                .push_str(&format!(" AND a.action LIKE {p} ESCAPE '\\'"));
        }
        None => {}
    }
    if let Some(outcome) = &query.outcome {
        let p = s.bind(Arg::Text(outcome.clone()));
        s.sql.push_str(&format!(" AND a.outcome = {p}"));
    }
    if let Some(from) = query.from {
        let p = s.bind(Arg::Int(from.secs()));
        s.sql.push_str(&format!(" AND a.at >= {p}"));
    }
    if let Some(until) = query.until {
        let p = s.bind(Arg::Int(until.secs()));
        s.sql.push_str(&format!(" AND a.at < {p}"));
    }
    s
}

/// The id of the account with this username key, for the person filter.
pub(crate) async fn user_id_by_username_key(
    db: &Db,
    username_key: &str,
) -> Result<Option<String>, Internal> {
    Ok(
        sqlx::query_scalar("SELECT id FROM users WHERE username_key = $1")
            .bind(username_key)
            .fetch_optional(db.pool())
            .await?,
    )
}

fn bound(sql: String, args: Vec<Arg>) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text),
            Arg::Int(int) => query.bind(int),
        };
    }
    query
}

/// One page of a selection: at most `limit` rows from `page` on, newest
/// first, and whether more rows lie beyond the page in its direction.
pub(crate) async fn page(
    db: &Db,
    mut selection: Selection,
    page: PageAt,
    limit: u32,
) -> Result<(Vec<AuditRecord>, bool), Internal> {
    let order = match page {
        PageAt::Newest => "DESC",
        PageAt::Before(id) => {
            let p = selection.bind(Arg::Int(id));
            selection.sql.push_str(&format!(" AND a.id < {p}"));
            "DESC"
        }
        PageAt::After(id) => {
            let p = selection.bind(Arg::Int(id));
            selection.sql.push_str(&format!(" AND a.id > {p}"));
            "ASC"
        }
    };
    let p = selection.bind(Arg::Int(i64::from(limit) + 1));
    selection
        .sql
        .push_str(&format!(" ORDER BY a.id {order} LIMIT {p}"));
    let rows = bound(selection.sql, selection.args)
        .fetch_all(db.pool())
        .await?;
    let mut records = rows
        .iter()
        .map(record_of)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let more = records.len() > limit as usize;
    records.truncate(limit as usize);
    if order == "ASC" {
        records.reverse();
    }
    Ok((records, more))
}

/// Every row of a selection, newest first, as the database streams them:
/// the whole log is never in memory.
pub(crate) fn stream(
    pool: &sqlx::AnyPool,
    mut selection: Selection,
) -> BoxStream<'_, Result<AuditRecord, Internal>> {
    selection.sql.push_str(" ORDER BY a.id DESC");
    bound(selection.sql, selection.args)
        .fetch(pool)
        .map(|row| row.and_then(|r| record_of(&r)).map_err(Internal::from))
        .boxed()
}

fn person_of(
    row: &AnyRow,
    id: Option<String>,
    prefix: &str,
) -> Result<Option<NamedPerson>, sqlx::Error> {
    let Some(id) = id else {
        return Ok(None);
    };
    let username: Option<String> = row.try_get(format!("{prefix}_username").as_str())?;
    let first: Option<String> = row.try_get(format!("{prefix}_first_name").as_str())?;
    let last: Option<String> = row.try_get(format!("{prefix}_last_name").as_str())?;
    let name = format!("{} {}", first.unwrap_or_default(), last.unwrap_or_default());
    let name = name.trim();
    Ok(Some(NamedPerson {
        id,
        // A pending account's placeholder (`#pending-…`) is nobody's username.
        username: username.filter(|u| !u.starts_with('#')),
        name: (!name.is_empty()).then(|| name.to_owned()),
    }))
}

fn record_of(row: &AnyRow) -> Result<AuditRecord, sqlx::Error> {
    Ok(AuditRecord {
        id: row.try_get("id")?,
        at: UnixTime(row.try_get("at")?),
        actor: person_of(row, row.try_get("actor_id")?, "actor")?,
        target: person_of(row, row.try_get("target_id")?, "target")?,
        school_id: row.try_get("school_id")?,
        action: row.try_get("action")?,
        outcome: row.try_get("outcome")?,
        client_addr: row.try_get("client_addr")?,
        detail: row.try_get("detail")?,
        api_token_id: row.try_get("api_token_id")?,
    })
}
