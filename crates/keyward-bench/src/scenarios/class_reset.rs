//! class_reset: seed 002's whole-class reset. A class of 30 learners (smoke:
//! 5), joined through its class code, is reset by the demo lead teacher with
//! `POST /api/v1/classes/{id}/password-reset` `{"mode":"individual"}` — one
//! new password, so one Argon2id hash, per learner. The figure is the
//! reset's wall time against the hashing it cannot avoid: 30 hashes spread
//! over the cores, with 20 % for everything else. Then every learner must
//! sign in with the password the answer gave them; any other answer stops
//! the run.

use anyhow::{Context, ensure};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{Value as Json, json};

use crate::keyward_server::{KeywardServer, LEARNER_PASSWORD};
use crate::report::Row;
use crate::subject::Account;

/// Learners in the class, in a full run and a smoke run.
const CLASS_SIZE: usize = 30;
const SMOKE_CLASS_SIZE: usize = 5;
/// The allowance over pure hashing time.
const OVERHEAD: f64 = 1.2;
/// Sign-ins in flight at once when checking the new passwords.
const CHECK_PARALLEL: usize = 8;

/// Runs on `server` (the run's keyward); `one_hash_ms` and `cores` come from
/// the raw hashing measurement.
pub async fn run(
    server: &KeywardServer,
    one_hash_ms: f64,
    cores: usize,
    smoke: bool,
) -> anyhow::Result<Vec<Row>> {
    let size = if smoke { SMOKE_CLASS_SIZE } else { CLASS_SIZE };
    let lead = server.demo("demo.lead")?.clone();
    let session = server.sign_in(&lead.username, &lead.password).await?;
    let class = server
        .create_class(&session, &format!("Bench reset {size}"))
        .await?;
    server
        .join_learners(&class.code, size, LEARNER_PASSWORD)
        .await?;

    let path = format!("/api/v1/classes/{}/password-reset", class.id);
    let started = std::time::Instant::now();
    let answer = server
        .call(
            Some(&session),
            reqwest::Method::POST,
            &path,
            Some(&json!({ "mode": "individual" })),
        )
        .await?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let answer = answer.expect(200, "the whole-class reset")?;
    let learners = new_passwords(&answer)?;
    ensure!(
        learners.len() == size,
        "the reset gave {} of {size} learners a new password",
        learners.len()
    );
    sign_in_all(server, &learners).await?;

    let target_ms = OVERHEAD * size as f64 * one_hash_ms / cores.max(1) as f64;
    Ok(vec![Row {
        scenario: "class_reset".into(),
        database: server.database.into(),
        figure: format!("reset of {size} learners, ms"),
        value: wall_ms,
        target: format!(
            "≤ {OVERHEAD} × {size} × {one_hash_ms:.1} ms ÷ {cores} cores = {target_ms:.0} ms"
        ),
        ratio: Some(target_ms / wall_ms.max(f64::MIN_POSITIVE)),
        peer: None,
    }])
}

/// The `learners` of the reset's answer, each with their new password.
fn new_passwords(answer: &Json) -> anyhow::Result<Vec<Account>> {
    answer["learners"]
        .as_array()
        .context("the reset answer has no learners")?
        .iter()
        .map(|learner| {
            Ok(Account {
                username: learner["username"]
                    .as_str()
                    .context("a reset learner has no username")?
                    .to_owned(),
                password: learner["password"]
                    .as_str()
                    .context("a reset learner has no password")?
                    .to_owned(),
                email: None,
            })
        })
        .collect()
}

/// Every learner signs in with the new password (200 with a session).
async fn sign_in_all(server: &KeywardServer, learners: &[Account]) -> anyhow::Result<()> {
    stream::iter(learners)
        .map(|learner| async move {
            server
                .sign_in(&learner.username, &learner.password)
                .await
                .with_context(|| {
                    format!(
                        "{} signing in with the reset's new password",
                        learner.username
                    )
                })
        })
        .buffer_unordered(CHECK_PARALLEL)
        .try_collect::<Vec<_>>()
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyward_server::testing;

    #[tokio::test]
    async fn smoke_run_resets_a_class_and_every_learner_signs_in() {
        let Some(bin) = testing::debug_binary() else {
            return;
        };
        for options in testing::each_database(&bin) {
            let server = KeywardServer::start(&options).await.expect("start");
            let rows = run(&server, 25.0, 2, true).await.expect("class_reset");
            eprintln!("{rows:?}");
            assert_eq!(rows.len(), 1);
            assert!(rows[0].value > 0.0);
            server.stop().await.expect("stop");
        }
    }

    /// The full scenario on the release build:
    /// `cargo test -p keyward-bench --release class_reset -- --ignored --nocapture`
    /// (PostgreSQL too with `KEYWARD_TEST_POSTGRES_URL`).
    #[tokio::test]
    #[ignore = "a full run on target/release/keyward; prints its figures"]
    async fn full_run_on_the_release_build() {
        let bin = testing::release_binary();
        let (one_hash_ms, cores) = testing::one_hash_ms_and_cores();
        for options in testing::each_database(&bin) {
            let server = KeywardServer::start(&options).await.expect("start");
            let rows = run(&server, one_hash_ms, cores, false)
                .await
                .expect("class_reset");
            eprintln!("{rows:#?}");
            server.stop().await.expect("stop");
        }
    }
}
