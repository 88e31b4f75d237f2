//! Use-case tests of the periodic purge, on the backend of the test run:
//! exactly the rows that do nothing any more go, everything else stays.

use std::time::Duration;

use super::*;
use crate::testing::{MONDAY_MORNING, account_named, ctx_at, demo_keyward};
use crate::types::UnixTime;

const NOW: UnixTime = MONDAY_MORNING;
const SEC: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

async fn keys_of(kw: &Keyward, sql: &'static str) -> Vec<String> {
    let mut keys: Vec<String> = sqlx::query_scalar(sql)
        .fetch_all(kw.db.pool())
        .await
        .unwrap();
    keys.sort();
    keys
}

async fn count_audit_rows(kw: &Keyward) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(kw.db.pool())
        .await
        .unwrap()
}

async fn insert_session(
    kw: &Keyward,
    id: &str,
    user: &str,
    last_seen: UnixTime,
    expires: UnixTime,
) {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user)
    .bind(NOW.minus(DAY).secs())
    .bind(last_seen.secs())
    .bind(expires.secs())
    .execute(kw.db.pool())
    .await
    .unwrap();
}

async fn insert_throttle(kw: &Keyward, key: &str, last_failure: UnixTime, blocked_until: UnixTime) {
    sqlx::query(
        "INSERT INTO throttle (key, failures, last_failure_at, blocked_until) VALUES ($1, 7, $2, $3)",
    )
    .bind(key)
    .bind(last_failure.secs())
    .bind(blocked_until.secs())
    .execute(kw.db.pool())
    .await
    .unwrap();
}

/// A recovery request: created, link and code expiry, end.
async fn insert_request(
    kw: &Keyward,
    id: &str,
    created: UnixTime,
    expires: Option<(UnixTime, UnixTime)>,
    ended: Option<UnixTime>,
) {
    sqlx::query(
        "INSERT INTO recovery_requests (id, handle_hash, created_at, token_hash, link_expires_at, \
         code_expires_at, ended_at, ended_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(format!("handle-{id}"))
    .bind(created.secs())
    .bind(expires.map(|_| format!("token-{id}")))
    .bind(expires.map(|(link, _)| link.secs()))
    .bind(expires.map(|(_, code)| code.secs()))
    .bind(ended.map(UnixTime::secs))
    .bind(ended.map(|_| "used"))
    .execute(kw.db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn the_purge_deletes_exactly_the_expired_sessions_stale_counters_and_old_requests() {
    let (kw, _db, rng) = demo_keyward(81).await;
    let ctx = ctx_at(NOW, &rng);
    let amy = account_named(&kw, "demo.amy").await;
    let user = amy.id.as_str();
    let idle = kw.settings().session.idle_timeout;
    // Rows the demo itself made (none expired at NOW) are left alone.
    let sessions_before = keys_of(&kw, "SELECT id_hash FROM sessions").await;

    insert_session(&kw, "gone-expired", user, NOW.minus(SEC), NOW.minus(SEC)).await;
    insert_session(&kw, "gone-expires-now", user, NOW, NOW).await;
    insert_session(&kw, "gone-idle", user, NOW.minus(idle), NOW.plus(DAY)).await;
    insert_session(
        &kw,
        "kept-live",
        user,
        NOW.minus(idle).plus(SEC),
        NOW.plus(DAY),
    )
    .await;

    // throttle.forget_after is one hour by default.
    assert_eq!(kw.settings().throttle.forget_after, HOUR);
    insert_throttle(&kw, "gone-quiet", NOW.minus(HOUR + SEC), UnixTime(0)).await;
    insert_throttle(&kw, "gone-block-over", NOW.minus(2 * HOUR), NOW).await;
    insert_throttle(&kw, "kept-recent", NOW.minus(HOUR), UnixTime(0)).await;
    insert_throttle(&kw, "kept-blocked", NOW.minus(2 * HOUR), NOW.plus(SEC)).await;

    let week = RECOVERY_KEEP_AFTER_END;
    let long_ago = NOW.minus(40 * DAY);
    let expired = |at: UnixTime| Some((at, at));
    insert_request(
        &kw,
        "gone-ended",
        long_ago,
        expired(long_ago),
        Some(NOW.minus(week + SEC)),
    )
    .await;
    insert_request(
        &kw,
        "kept-ended",
        long_ago,
        expired(long_ago),
        Some(NOW.minus(week - SEC)),
    )
    .await;
    insert_request(
        &kw,
        "gone-expired",
        long_ago,
        expired(NOW.minus(week + SEC)),
        None,
    )
    .await;
    insert_request(
        &kw,
        "kept-expired",
        long_ago,
        expired(NOW.minus(week - SEC)),
        None,
    )
    .await;
    let code_later = Some((NOW.minus(week + SEC), NOW.minus(week - SEC)));
    insert_request(&kw, "kept-code-later", long_ago, code_later, None).await;
    insert_request(
        &kw,
        "kept-live",
        NOW,
        Some((NOW.plus(HOUR), NOW.plus(HOUR))),
        None,
    )
    .await;
    insert_request(
        &kw,
        "gone-unsent",
        NOW.minus(RECOVERY_KEEP_UNSENT + SEC),
        None,
        None,
    )
    .await;
    insert_request(
        &kw,
        "kept-unsent",
        NOW.minus(RECOVERY_KEEP_UNSENT - SEC),
        None,
        None,
    )
    .await;
    let audit_before = count_audit_rows(&kw).await;

    let report = kw.purge_expired(&ctx).await.unwrap();
    assert_eq!(
        report,
        PurgeReport {
            sessions: 3,
            throttle_rows: 2,
            recovery_requests: 3,
            sign_in_steps: 0,
            webauthn_ceremonies: 0,
            sso_flows: 0,
        }
    );
    let mut sessions = sessions_before;
    sessions.push("kept-live".into());
    sessions.sort();
    assert_eq!(keys_of(&kw, "SELECT id_hash FROM sessions").await, sessions);
    assert_eq!(
        keys_of(&kw, "SELECT key FROM throttle").await,
        ["kept-blocked", "kept-recent"]
    );
    assert_eq!(
        keys_of(&kw, "SELECT id FROM recovery_requests").await,
        [
            "kept-code-later",
            "kept-ended",
            "kept-expired",
            "kept-live",
            "kept-unsent"
        ]
    );
    // Audit rows are never purged.
    assert_eq!(count_audit_rows(&kw).await, audit_before);
    // Nothing more to do at the same moment.
    assert_eq!(
        kw.purge_expired(&ctx).await.unwrap(),
        PurgeReport::default()
    );
}

#[tokio::test]
async fn throttle_counters_are_kept_for_the_longer_forget_after() {
    let (kw, db, rng) = demo_keyward(82).await;
    let ctx = ctx_at(NOW, &rng);
    let mut settings = kw.settings().clone();
    settings.throttle.forget_after = 3 * HOUR;
    let kw = Keyward::new(db.db.clone(), settings, &rng).unwrap();
    insert_throttle(&kw, "kept", NOW.minus(3 * HOUR), UnixTime(0)).await;
    insert_throttle(&kw, "gone", NOW.minus(3 * HOUR + SEC), UnixTime(0)).await;
    assert_eq!(kw.purge_expired(&ctx).await.unwrap().throttle_rows, 1);
    assert_eq!(keys_of(&kw, "SELECT key FROM throttle").await, ["kept"]);

    // A shorter forget_after still keeps counters an hour (and "kept", three
    // hours quiet, now goes).
    let mut settings = kw.settings().clone();
    settings.throttle.forget_after = Duration::from_secs(600);
    let kw = Keyward::new(db.db.clone(), settings, &rng).unwrap();
    insert_throttle(&kw, "kept-hour", NOW.minus(HOUR), UnixTime(0)).await;
    insert_throttle(&kw, "gone-hour", NOW.minus(HOUR + SEC), UnixTime(0)).await;
    assert_eq!(kw.purge_expired(&ctx).await.unwrap().throttle_rows, 2);
    assert_eq!(
        keys_of(&kw, "SELECT key FROM throttle").await,
        ["kept-hour"]
    );
}

#[tokio::test]
async fn the_purge_works_through_more_rows_than_one_batch() {
    let (kw, _db, rng) = demo_keyward(83).await;
    let ctx = ctx_at(NOW, &rng);
    let extra = 5;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO throttle (key, failures, last_failure_at, blocked_until) \
         SELECT 'bulk:' || i, 1, $2, 0 FROM n",
    )
    .bind(PURGE_BATCH_ROWS + extra)
    .bind(NOW.minus(DAY).secs())
    .execute(kw.db.pool())
    .await
    .unwrap();
    let report = kw.purge_expired(&ctx).await.unwrap();
    assert_eq!(report.throttle_rows, (PURGE_BATCH_ROWS + extra) as u64);
    assert!(keys_of(&kw, "SELECT key FROM throttle").await.is_empty());
}
