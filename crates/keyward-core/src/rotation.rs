//! Sealing key rotation (`keyward keys rotate`): add a key to the key file and
//! re-seal every row of `sealed_secrets` under it (in the current format
//! `v2`, so legacy `v1` values become bound to their owner), in batches of one short
//! transaction each. Safe to run again after a crash midway: rows already
//! under the newest key are skipped, and old keys stay in the file, so every
//! value opens at every moment. When the keys come from `sealing.keys`,
//! keyward cannot add one: the operator adds it in their secret store and
//! restarts, and rotation then only re-seals.
//!
//! A server that was running during the rotation picks the new key up by
//! itself the first time it meets a value sealed under it (see [`Sealer`]);
//! a restart does the same.
//!
//! Also the start-up check of the keys themselves
//! ([`Keyward::check_sealing_keys`]): the database remembers a check value of
//! every key it has met (`sealing_key_checks`), and an instance whose
//! `lookup` key, or a key of the same name, differs is refused — several
//! instances must seal with the same keys, and a data folder of its own
//! makes a key file of its own at first start.

use crate::audit::{self, AuditEntry, action};
use crate::crypto::key_file::{self, KeySource};
use crate::crypto::sealing::{Sealer, SealingError};
use crate::crypto::store::{self, SealedRow};
use crate::error::{Code, CodedError, Internal};
use crate::types::UnixTime;
use crate::{Ctx, Keyward};

/// Rows read and re-sealed in one transaction.
pub const RESEAL_BATCH_ROWS: i64 = 200;
/// How often a row that changed under rotation's feet is tried again.
const RESEAL_RETRIES: usize = 3;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The key every secret is now sealed under.
    pub key_id: String,
    /// Whether the key was added by this rotation (not with `sealing.keys`).
    pub added_key: bool,
    /// Secrets re-sealed under `key_id`.
    pub resealed: u64,
    /// Secrets left as they were: changed by a running server again and
    /// again while rotation ran (still openable, under an older key), or not
    /// opening with any key (each logged with its id). A server that kept
    /// sealing under the old key during the rotation may also have left new
    /// values under it; they open, and the next rotation re-seals them.
    pub left: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "the sealing keys come from sealing.keys (KEYWARD_SEALING__KEYS), which keyward \
         cannot change, and every secret is already sealed under its last key {current}: \
         add a line `key <new id> <base64 of 32 random bytes>` (`openssl rand -base64 32`) \
         at the end of the keys in your secret store, restart keyward, then run \
         `keyward keys rotate` again to re-seal every secret under it"
    )]
    InlineKeys { current: String },
    #[error(transparent)]
    Keys(#[from] SealingError),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for RotateError {
    fn code(&self) -> Code {
        match self {
            RotateError::InlineKeys { .. } => Code::SealingKeysInline,
            RotateError::Keys(SealingError::Busy { .. }) => Code::RotationRunning,
            RotateError::Keys(_) => Code::SealingKeysUnusable,
            RotateError::Internal(err) => err.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            RotateError::Internal(err) => err.retry_after_secs(),
            _ => None,
        }
    }
}

impl Keyward {
    /// Checks the sealing keys against those the database has met: records
    /// the check value of each key it has not met, and refuses
    /// (`SealingError::Mismatch`, naming the keys) when the `lookup` key or a
    /// key of a name it knows is another key. Every command that opens the
    /// database calls it first, so an instance with other keys never serves.
    /// A key the database met that these keys lack (an old one removed, or
    /// a new one not yet given to this instance) is only logged.
    pub async fn check_sealing_keys(&self, now: UnixTime) -> Result<(), RotateError> {
        let checks = self.sealer.key_checks();
        let differ = store::remember_key_checks(self.db.pool(), &checks, now).await?;
        if !differ.is_empty() {
            return Err(SealingError::Mismatch {
                origin: self.sealer.source().to_string(),
                names: differ
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
            .into());
        }
        for name in store::known_key_names(self.db.pool()).await? {
            if !checks.iter().any(|(held, _)| *held == name) {
                tracing::warn!(
                    key = %name,
                    keys = %self.sealer.source(),
                    "the database has met a sealing key these keys lack; values sealed under it \
                     do not open here"
                );
            }
        }
        Ok(())
    }

    /// Adds a sealing key and re-seals every stored secret under it. With
    /// `sealing.keys`, re-seals under the last key given there, and refuses
    /// when there is nothing to re-seal (a new key must be added there).
    pub async fn rotate_sealing_key(&self, ctx: &Ctx<'_>) -> Result<RotationReport, RotateError> {
        let report = match self.sealer.source().clone() {
            KeySource::Inline => {
                self.check_sealing_keys(ctx.now).await?;
                let key_id = self.sealer.current_key_id();
                let (resealed, left) = reseal_all(self, ctx).await?;
                if resealed == 0 && left == 0 {
                    return Err(RotateError::InlineKeys { current: key_id });
                }
                RotationReport {
                    key_id,
                    added_key: false,
                    resealed,
                    left,
                }
            }
            KeySource::File(path) => {
                let _lock = key_file::lock(&path)?;
                // Keys added since start-up count when naming the next one,
                // and a changed look-up key stops everything here.
                self.sealer.reload()?;
                // Keys that are not the database's stop here, before any is added.
                self.check_sealing_keys(ctx.now).await?;
                let key_id = key_file::append_key(&path, ctx.rng, ctx.now)?;
                self.sealer.reload()?;
                if self.sealer.current_key_id() != key_id {
                    return Err(Internal::new("the new sealing key is not the current one").into());
                }
                // The new key is the database's from now on.
                self.check_sealing_keys(ctx.now).await?;
                let (resealed, left) = reseal_all(self, ctx).await?;
                RotationReport {
                    key_id,
                    added_key: true,
                    resealed,
                    left,
                }
            }
        };
        let detail = format!(
            "key={} resealed={} left={}",
            report.key_id, report.resealed, report.left
        );
        audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: None,
                api_token: None,
                target_id: None,
                school_id: None,
                action: action::SEALING_ROTATE,
                outcome: "ok",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await?;
        Ok(report)
    }
}

/// Re-seals every row not under the current key; returns how many were
/// re-sealed and how many were left.
async fn reseal_all(kw: &Keyward, ctx: &Ctx<'_>) -> Result<(u64, u64), Internal> {
    let mut resealed = 0u64;
    let mut left = 0u64;
    let mut retry: Vec<String> = Vec::new();
    let mut after = String::new();
    loop {
        let mut tx = kw.db.begin_write().await?;
        let rows = store::sealed_rows_after(&mut tx, &after, RESEAL_BATCH_ROWS).await?;
        for row in &rows {
            match reseal_row(&mut tx, &kw.sealer, ctx, row).await? {
                Resealed::Done => resealed += 1,
                Resealed::AlreadyCurrent => {}
                Resealed::DoesNotOpen => left += 1,
                Resealed::Changed => retry.push(row.id.clone()),
            }
        }
        tx.commit().await?;
        match rows.last() {
            Some(last) if rows.len() as i64 == RESEAL_BATCH_ROWS => after = last.id.clone(),
            _ => break,
        }
    }
    for round in 1..=RESEAL_RETRIES {
        if retry.is_empty() {
            break;
        }
        for id in std::mem::take(&mut retry) {
            let mut tx = kw.db.begin_write().await?;
            let outcome = match store::sealed_row(&mut tx, &id).await? {
                Some(row) => reseal_row(&mut tx, &kw.sealer, ctx, &row).await?,
                None => Resealed::AlreadyCurrent,
            };
            tx.commit().await?;
            match outcome {
                Resealed::Done => resealed += 1,
                Resealed::AlreadyCurrent => {}
                Resealed::DoesNotOpen => left += 1,
                Resealed::Changed if round == RESEAL_RETRIES => left += 1,
                Resealed::Changed => retry.push(id),
            }
        }
    }
    Ok((resealed, left))
}

enum Resealed {
    Done,
    AlreadyCurrent,
    /// A running server replaced the value between our read and our write.
    Changed,
    DoesNotOpen,
}

async fn reseal_row(
    conn: &mut sqlx::AnyConnection,
    sealer: &Sealer,
    ctx: &Ctx<'_>,
    row: &SealedRow,
) -> Result<Resealed, Internal> {
    if sealer.is_current(&row.sealed) {
        return Ok(Resealed::AlreadyCurrent);
    }
    if row.owner_id.is_empty() {
        // A legacy row the migration found no single owner for: no caller
        // opens it, and sealing it as `v2` would need an owner to bind.
        tracing::warn!(
            secret_id = %row.id,
            purpose = %row.purpose,
            "a sealed secret has no recorded owner; left as it is"
        );
        return Ok(Resealed::DoesNotOpen);
    }
    // Opened with the owner and purpose it was sealed for (a `v2` value) or
    // recorded with (a legacy `v1` value), and sealed again for the same.
    let opened = store::open_row_value(
        sealer,
        &row.id,
        &row.owner_id,
        &row.purpose,
        &row.sealed,
        &row.owner_id,
        &row.purpose,
    );
    let plaintext = match opened {
        Ok(plaintext) => zeroize::Zeroizing::new(plaintext),
        Err(err) => {
            tracing::warn!(
                secret_id = %row.id,
                purpose = %row.purpose,
                error = %err.cause(),
                "a sealed secret does not open with any sealing key; left as it is"
            );
            return Ok(Resealed::DoesNotOpen);
        }
    };
    let context = store::context_of(&row.id, &row.owner_id, &row.purpose);
    let sealed = sealer.seal(&plaintext, &context, ctx.rng)?;
    if store::reseal_if_unchanged(conn, &row.id, &row.sealed, &sealed, ctx.now).await? {
        Ok(Resealed::Done)
    } else {
        Ok(Resealed::Changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::store::{delete_sealed, insert_sealed, open_sealed, replace_sealed};
    use crate::testing::{MONDAY_MORNING, TestDb, ctx_at, keyward, settings_for};
    use crate::types::UserId;
    use crate::types::random::SeededRandom;
    use base64::Engine;
    use std::path::PathBuf;

    fn secret(i: usize) -> String {
        format!("Plain-Secret-{i:04}-Xq")
    }

    fn purpose(i: usize) -> &'static str {
        if i.is_multiple_of(2) {
            "learner_password"
        } else {
            "access_code"
        }
    }

    /// The user secret `i` belongs to (sealed rows name their owner; no
    /// user row is needed for sealing).
    fn owner(i: usize) -> UserId {
        UserId::from_stored(format!("user-{i:04}"))
    }

    /// `(row id, plaintext)` of each secret inserted; secret `i` belongs to
    /// `owner(i)` for `purpose(i)`.
    type Inserted = Vec<(String, String)>;

    async fn insert_many(kw: &Keyward, ctx: &Ctx<'_>, count: usize) -> Inserted {
        let mut tx = kw.db.begin_write().await.unwrap();
        let mut rows = Vec::new();
        for i in 0..count {
            let id = insert_sealed(&mut tx, ctx, &kw.sealer, &owner(i), purpose(i), &secret(i))
                .await
                .unwrap();
            rows.push((id, secret(i)));
        }
        tx.commit().await.unwrap();
        rows
    }

    /// Inserts `count` secrets as keyward sealed them before owners were
    /// bound: format `v1`, context `"<id>/<purpose>"`, owner recorded.
    async fn insert_legacy(kw: &Keyward, ctx: &Ctx<'_>, count: usize) -> Inserted {
        let rows = insert_many(kw, ctx, count).await;
        for (i, (id, text)) in rows.iter().enumerate() {
            let legacy = kw
                .sealer
                .seal_legacy(text, &format!("{id}/{}", purpose(i)), ctx.rng)
                .unwrap();
            sqlx::query("UPDATE sealed_secrets SET sealed = $1 WHERE id = $2")
                .bind(&legacy)
                .bind(id)
                .execute(kw.db.pool())
                .await
                .unwrap();
        }
        rows
    }

    /// Every row as text: id, purpose and sealed value.
    async fn table_text(kw: &Keyward) -> Vec<(String, String, String)> {
        sqlx::query_as("SELECT id, purpose, sealed FROM sealed_secrets ORDER BY id")
            .fetch_all(kw.db.pool())
            .await
            .unwrap()
    }

    fn key_file(kw: &Keyward) -> PathBuf {
        kw.settings().sealing.key_file.clone()
    }

    /// Opens each row as its owner's secret (rows in insertion order from 0).
    async fn assert_all_open(kw: &Keyward, sealer: &Sealer, rows: &[(String, String)]) {
        assert_open_from(kw, sealer, rows, 0).await;
    }

    async fn assert_open_from(
        kw: &Keyward,
        sealer: &Sealer,
        rows: &[(String, String)],
        first: usize,
    ) {
        for (i, (id, text)) in rows.iter().enumerate() {
            let i = first + i;
            let opened = open_sealed(kw.db.pool(), sealer, id, &owner(i), purpose(i))
                .await
                .unwrap();
            assert_eq!(opened.as_deref(), Some(text.as_str()));
        }
    }

    fn inline_material(keys: &[(&str, u8)]) -> String {
        material_with_lookup(9, keys)
    }

    fn material_with_lookup(lookup: u8, keys: &[(&str, u8)]) -> String {
        let b64 = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        let mut text = format!("lookup {}\n", b64(lookup));
        for (id, byte) in keys {
            text.push_str(&format!("key {id} {}\n", b64(*byte)));
        }
        text
    }

    #[tokio::test]
    async fn rotating_the_sealing_key_re_seals_every_secret_under_the_new_key() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(21);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        // More than two batches.
        let rows = insert_many(&kw, &ctx, 2 * RESEAL_BATCH_ROWS as usize + 7).await;
        assert!(
            table_text(&kw)
                .await
                .iter()
                .all(|(_, _, s)| s.starts_with("v2.k1."))
        );

        let report = kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!(
            report,
            RotationReport {
                key_id: "k2".into(),
                added_key: true,
                resealed: rows.len() as u64,
                left: 0,
            }
        );
        let table = table_text(&kw).await;
        assert_eq!(table.len(), rows.len());
        for (id, _, sealed) in &table {
            assert!(sealed.starts_with("v2.k2."), "{id}: {sealed}");
        }
        // A sealer loaded afresh from the file opens every value.
        let fresh = Sealer::load(&kw.settings().sealing, &SeededRandom::new(5)).unwrap();
        assert_eq!(fresh.current_key_id(), "k2");
        assert_all_open(&kw, &fresh, &rows).await;
        assert_all_open(&kw, &kw.sealer, &rows).await;

        // The file keeps k1, gains k2, stays private, and no temporary file is left.
        let path = key_file(&kw);
        let contents = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            contents
                .lines()
                .filter(|l| l.starts_with("key k1 "))
                .count(),
            1
        );
        assert_eq!(
            contents
                .lines()
                .filter(|l| l.starts_with("key k2 "))
                .count(),
            1
        );
        assert_eq!(
            contents
                .lines()
                .filter(|l| l.starts_with("lookup "))
                .count(),
            1
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        // The rotation is in the audit trail, without a secret.
        let audit = crate::audit::recent(&kw.db, 1).await.unwrap();
        assert_eq!(audit[0].action, action::SEALING_ROTATE);
        assert_eq!(
            audit[0].detail.as_deref(),
            Some(format!("key=k2 resealed={} left=0", rows.len()).as_str())
        );
    }

    #[tokio::test]
    async fn rotating_the_sealing_key_again_is_safe() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(22);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let rows = insert_many(&kw, &ctx, 5).await;
        kw.rotate_sealing_key(&ctx).await.unwrap();
        // The re-sealing step finds nothing more to do.
        assert_eq!(reseal_all(&kw, &ctx).await.unwrap(), (0, 0));

        // A crash after the key was added and before anything was re-sealed:
        // the next run adds another key and re-seals everything under it.
        key_file::append_key(&key_file(&kw), &rng, ctx.now).unwrap();
        let report = kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!(report.key_id, "k4");
        assert_eq!((report.resealed, report.left), (5, 0));
        assert!(
            table_text(&kw)
                .await
                .iter()
                .all(|(_, _, s)| s.starts_with("v2.k4."))
        );
        let fresh = Sealer::load(&kw.settings().sealing, &SeededRandom::new(5)).unwrap();
        assert_all_open(&kw, &fresh, &rows).await;
        assert_eq!(reseal_all(&kw, &ctx).await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn sealing_plaintexts_never_reach_the_database() {
        let (kw, db) = keyward().await;
        let rng = SeededRandom::new(23);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let rows = insert_many(&kw, &ctx, 12).await;
        let (first_id, _) = &rows[0];
        let mut tx = kw.db.begin_write().await.unwrap();
        replace_sealed(
            &mut tx,
            &ctx,
            &kw.sealer,
            first_id,
            &owner(0),
            purpose(0),
            "Replaced-Secret-Zz",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        kw.rotate_sealing_key(&ctx).await.unwrap();

        let mut plaintexts: Vec<String> = rows.iter().map(|(_, t)| t.clone()).collect();
        plaintexts.push("Replaced-Secret-Zz".into());
        for (id, purpose, sealed) in table_text(&kw).await {
            for text in &plaintexts {
                for column in [&id, &purpose, &sealed] {
                    assert!(!column.contains(text.as_str()), "{text} is in the table");
                }
            }
        }
        if kw.db.backend() == crate::settings::Backend::Sqlite {
            for file in ["keyward.db", "keyward.db-wal"] {
                let bytes = std::fs::read(db.data_dir().join(file)).unwrap_or_default();
                for text in &plaintexts {
                    let found = bytes.windows(text.len()).any(|w| w == text.as_bytes());
                    assert!(!found, "{text} is in {file}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_server_started_before_sealing_rotation_opens_values_under_the_new_key() {
        let (kw, db) = keyward().await;
        let rng = SeededRandom::new(24);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let running = Keyward::new(db.db.clone(), kw.settings().clone(), &rng).unwrap();
        let rows = insert_many(&running, &ctx, 3).await;
        kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!(running.sealer.current_key_id(), "k1");
        // The running server meets a value under k2, reads the file again...
        assert_all_open(&running, &running.sealer, &rows).await;
        // ...and seals under k2 from then on.
        assert_eq!(running.sealer.current_key_id(), "k2");
        let more = insert_many(&running, &ctx, 1).await;
        let sealed: String = sqlx::query_scalar("SELECT sealed FROM sealed_secrets WHERE id = $1")
            .bind(&more[0].0)
            .fetch_one(db.db.pool())
            .await
            .unwrap();
        assert!(sealed.starts_with("v2.k2."), "{sealed}");
    }

    #[tokio::test]
    async fn sealing_store_replaces_deletes_and_binds_each_value_to_its_row_and_owner() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(25);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let rows = insert_many(&kw, &ctx, 3).await;
        let (a, b, c) = (&rows[0].0, &rows[1].0, &rows[2].0);
        let mut conn = kw.db.pool().acquire().await.unwrap();
        let open = |id: &str, who: usize, what: &'static str| {
            let (sealer, pool, id) = (&kw.sealer, kw.db.pool(), id.to_owned());
            async move { open_sealed(pool, sealer, &id, &owner(who), what).await }
        };

        replace_sealed(
            &mut conn,
            &ctx,
            &kw.sealer,
            a,
            &owner(0),
            purpose(0),
            "New-Secret-1",
        )
        .await
        .unwrap();
        let opened = open(a, 0, purpose(0)).await.unwrap();
        assert_eq!(opened.as_deref(), Some("New-Secret-1"));

        // Asked for as another user's, or for another purpose: refused.
        for (who, what) in [(1, purpose(0)), (2, purpose(0)), (0, purpose(1))] {
            let err = open(a, who, what).await.unwrap_err();
            assert!(!err.cause().contains("New-Secret-1"), "{}", err.cause());
        }
        // Nor does relabelling the row's owner help: the owner is sealed in.
        sqlx::query("UPDATE sealed_secrets SET owner_id = $1 WHERE id = $2")
            .bind(owner(2).as_str())
            .bind(a)
            .execute(&mut *conn)
            .await
            .unwrap();
        let err = open(a, 2, purpose(0)).await.unwrap_err();
        assert!(err.cause().contains("does not open"), "{}", err.cause());
        sqlx::query("UPDATE sealed_secrets SET owner_id = $1 WHERE id = $2")
            .bind(owner(0).as_str())
            .bind(a)
            .execute(&mut *conn)
            .await
            .unwrap();

        // A value copied to another row (even of the same purpose) does not open.
        sqlx::query("UPDATE sealed_secrets SET sealed = (SELECT sealed FROM sealed_secrets WHERE id = $1) WHERE id = $2")
            .bind(a)
            .bind(c)
            .execute(&mut *conn)
            .await
            .unwrap();
        let err = open(c, 2, purpose(2)).await.unwrap_err();
        assert!(err.cause().contains(c.as_str()), "{}", err.cause());
        assert!(!err.cause().contains("New-Secret-1"), "{}", err.cause());

        delete_sealed(&mut conn, a).await.unwrap();
        assert_eq!(open(a, 0, purpose(0)).await.unwrap(), None);
        delete_sealed(&mut conn, a).await.unwrap();
        assert!(
            replace_sealed(&mut conn, &ctx, &kw.sealer, a, &owner(0), purpose(0), "x")
                .await
                .is_err()
        );
        // Replacing needs the row's own owner and purpose too.
        assert!(
            replace_sealed(&mut conn, &ctx, &kw.sealer, b, &owner(0), purpose(1), "x")
                .await
                .is_err()
        );
        let opened = open(b, 1, purpose(1)).await.unwrap();
        assert_eq!(opened.as_deref(), Some(rows[1].1.as_str()));
    }

    #[tokio::test]
    async fn legacy_sealed_values_open_for_their_recorded_owner_until_rotation_binds_them() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(31);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let rows = insert_legacy(&kw, &ctx, 4).await;
        assert!(
            table_text(&kw)
                .await
                .iter()
                .all(|(_, _, s)| s.starts_with("v1.k1."))
        );
        // v1 values open for the owner and purpose their row records...
        assert_all_open(&kw, &kw.sealer, &rows).await;
        // ...and for no one else.
        let wrong = open_sealed(kw.db.pool(), &kw.sealer, &rows[0].0, &owner(2), purpose(0)).await;
        assert!(wrong.is_err());

        // Rotation re-seals them as v2, bound to their owner; with inline
        // keys too, where there is then something to do without a new key.
        let report = kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!((report.resealed, report.left), (4, 0));
        assert!(
            table_text(&kw)
                .await
                .iter()
                .all(|(_, _, s)| s.starts_with("v2.k2."))
        );
        assert_all_open(&kw, &kw.sealer, &rows).await;

        // A legacy row without a recorded owner is left (and never opens).
        let more = insert_legacy(&kw, &ctx, 1).await;
        sqlx::query("UPDATE sealed_secrets SET owner_id = '' WHERE id = $1")
            .bind(&more[0].0)
            .execute(kw.db.pool())
            .await
            .unwrap();
        let report = kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!((report.resealed, report.left), (4, 1));
    }

    #[tokio::test]
    async fn a_sealed_value_no_key_opens_is_left_by_sealing_rotation() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(26);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let rows = insert_many(&kw, &ctx, 4).await;
        sqlx::query("UPDATE sealed_secrets SET sealed = $1 WHERE id = $2")
            .bind("v1.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA")
            .bind(&rows[0].0)
            .execute(kw.db.pool())
            .await
            .unwrap();
        let report = kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!((report.resealed, report.left), (3, 1));
        assert_open_from(&kw, &kw.sealer, &rows[1..], 1).await;
    }

    #[tokio::test]
    async fn inline_sealing_keys_are_re_sealed_but_never_rotated_by_keyward() {
        let db = TestDb::new().await;
        let rng = SeededRandom::new(27);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let mut settings = settings_for(&db);
        settings.sealing.keys = inline_material(&[("k1", 1)]);
        let kw = Keyward::new(db.db.clone(), settings.clone(), &rng).unwrap();
        let rows = insert_many(&kw, &ctx, 3).await;

        let err = kw.rotate_sealing_key(&ctx).await.unwrap_err();
        assert_eq!(err.code(), "sealing_keys_inline");
        let message = err.to_string();
        for needle in [
            "sealing.keys",
            "secret store",
            "restart",
            "keyward keys rotate",
        ] {
            assert!(message.contains(needle), "{needle:?} not in {message}");
        }

        // The operator adds k2 in the secret store and restarts.
        settings.sealing.keys = inline_material(&[("k1", 1), ("k2", 2)]);
        let kw = Keyward::new(db.db.clone(), settings, &rng).unwrap();
        let report = kw.rotate_sealing_key(&ctx).await.unwrap();
        assert_eq!(
            report,
            RotationReport {
                key_id: "k2".into(),
                added_key: false,
                resealed: 3,
                left: 0,
            }
        );
        assert_all_open(&kw, &kw.sealer, &rows).await;
        assert!(!key_file(&kw).exists());
    }

    #[tokio::test]
    async fn a_second_sealing_rotation_at_once_is_refused() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(28);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let lock = key_file::lock(&key_file(&kw)).unwrap();
        let err = kw.rotate_sealing_key(&ctx).await.unwrap_err();
        assert_eq!(err.code(), "rotation_running");
        assert!(err.to_string().contains("sealing.key.lock"), "{err}");
        drop(lock);
        assert_eq!(kw.rotate_sealing_key(&ctx).await.unwrap().key_id, "k2");
    }

    /// `sudo keyward keys rotate` must leave the file to the server's user.
    /// Only meaningful (and only possible) when the tests run as root.
    #[cfg(unix)]
    #[tokio::test]
    async fn sealing_rotation_keeps_the_key_file_owner() {
        use std::os::unix::fs::MetadataExt;
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(30);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let path = key_file(&kw);
        if std::os::unix::fs::chown(&path, Some(65534), Some(65534)).is_err() {
            return;
        }
        kw.rotate_sealing_key(&ctx).await.unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
        assert_eq!(meta.mode() & 0o777, 0o600);
    }

    #[tokio::test]
    async fn sealing_rotation_refuses_a_key_file_with_another_lookup_key() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(29);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let path = key_file(&kw);
        let replaced = inline_material(&[("k1", 1)]);
        std::fs::write(&path, &replaced).unwrap();
        let err = kw.rotate_sealing_key(&ctx).await.unwrap_err();
        assert!(
            matches!(err, RotateError::Keys(SealingError::LookupChanged(_))),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), replaced);
    }

    #[tokio::test]
    async fn sealing_keys_other_than_the_databases_are_refused_and_new_ones_remembered() {
        let db = TestDb::new().await;
        let rng = SeededRandom::new(33);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let instance = |lookup: u8, keys: &[(&str, u8)]| {
            let mut settings = settings_for(&db);
            settings.sealing.keys = material_with_lookup(lookup, keys);
            Keyward::new(db.db.clone(), settings, &rng).unwrap()
        };
        let refused = |err: RotateError| {
            assert_eq!(err.code(), "sealing_keys_unusable");
            let message = err.to_string();
            for needle in ["sealing.keys", "same sealing keys", "sealing.key_file"] {
                assert!(message.contains(needle), "{needle:?} not in {message}");
            }
            message
        };
        // The first instance's keys become the database's; the same keys
        // again (another instance, a restart) are fine.
        instance(9, &[("k1", 1)])
            .check_sealing_keys(ctx.now)
            .await
            .unwrap();
        instance(9, &[("k1", 1)])
            .check_sealing_keys(ctx.now)
            .await
            .unwrap();
        // Another look-up key, another k1, or both: refused, naming them.
        let err = instance(8, &[("k1", 1)]).check_sealing_keys(ctx.now).await;
        let message = refused(err.unwrap_err());
        assert!(message.contains("(`lookup` differ)"), "{message}");
        let err = instance(9, &[("k1", 7)]).check_sealing_keys(ctx.now).await;
        assert!(refused(err.unwrap_err()).contains("(`key k1` differ)"));
        let err = instance(8, &[("k1", 7)]).check_sealing_keys(ctx.now).await;
        assert!(refused(err.unwrap_err()).contains("(`lookup`, `key k1` differ)"));
        // Refused keys leave nothing behind: their k2 is not the database's.
        let err = instance(8, &[("k1", 1), ("k2", 5)])
            .check_sealing_keys(ctx.now)
            .await;
        assert!(refused(err.unwrap_err()).contains("(`lookup` differ)"));
        // A key added on one instance is remembered: another k2 is refused.
        instance(9, &[("k1", 1), ("k2", 2)])
            .check_sealing_keys(ctx.now)
            .await
            .unwrap();
        let err = instance(9, &[("k1", 1), ("k2", 3)])
            .check_sealing_keys(ctx.now)
            .await;
        assert!(refused(err.unwrap_err()).contains("`key k2`"));
        // Old keys may go once nothing is sealed under them.
        instance(9, &[("k2", 2)])
            .check_sealing_keys(ctx.now)
            .await
            .unwrap();
        // Only check values are stored, never a key.
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT name, key_check FROM sealing_key_checks ORDER BY name")
                .fetch_all(db.db.pool())
                .await
                .unwrap();
        let names: Vec<&str> = stored.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["key k1", "key k2", "lookup"]);
        let b64 = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        for (_, check) in &stored {
            assert_eq!(check.len(), 64);
            for byte in [1u8, 2, 9] {
                assert!(!check.contains(&hex::encode([byte; 32])));
                assert!(!check.contains(&b64(byte)));
            }
        }
    }

    #[tokio::test]
    async fn rotation_remembers_its_new_key_and_refuses_keys_not_the_databases() {
        let (kw, db) = keyward().await;
        let rng = SeededRandom::new(34);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        kw.check_sealing_keys(ctx.now).await.unwrap();
        kw.rotate_sealing_key(&ctx).await.unwrap();
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sealing_key_checks ORDER BY name")
                .fetch_all(db.db.pool())
                .await
                .unwrap();
        assert_eq!(names, ["key k1", "key k2", "lookup"]);
        // Another key file (its own look-up key and k1) on this database.
        let mut settings = settings_for(&db);
        settings.sealing.key_file = db.data_dir().join("other.key");
        let other = Keyward::new(db.db.clone(), settings, &rng).unwrap();
        let err = other.rotate_sealing_key(&ctx).await.unwrap_err();
        assert_eq!(err.code(), "sealing_keys_unusable", "{err}");
        let contents = std::fs::read_to_string(db.data_dir().join("other.key")).unwrap();
        assert!(!contents.contains("key k2 "), "no key was added");
    }
}
