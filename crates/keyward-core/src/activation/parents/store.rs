//! SQL of parent–child links.

use crate::accounts::Account;
use crate::error::Internal;
use crate::store::Db;
use crate::types::UserId;

pub(super) async fn children(db: &Db, parent: &UserId) -> Result<Vec<Account>, Internal> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT u.id FROM parent_learners p JOIN users u ON u.id = p.learner_id WHERE p.parent_id = $1 \
         ORDER BY LOWER(u.first_name), u.id",
    )
    .bind(parent.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut accounts = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(account) = crate::accounts::find_account(db, &UserId::from_stored(id)).await? {
            accounts.push(account);
        }
    }
    Ok(accounts)
}
