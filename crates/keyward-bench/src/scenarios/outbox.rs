//! outbox_drain: 5,000 queued emails (smoke: 50) delivered by keyward's
//! outbox worker to the capture SMTP server of [`crate::smtp_sink`] on
//! loopback, in emails per second from the first to the last arrival.
//!
//! The mail is what a school's morning makes: **Forgot password?**
//! (`POST /api/v1/recovery` by email) once for each of as many staff, each
//! of whom activated their account (so each request writes a reset-link
//! email; a second request for the same person would supersede the first
//! link, whose email is then skipped, not sent). To let it pile up, the sink
//! holds its greeting: the worker's first delivery waits on it while every
//! request is answered, then the sink opens and the queue drains.
//!
//! The scenario's keyward runs with, on top of the run's settings:
//! `mail.transport = smtp` to the sink; `mail.smtp.timeout = 600s` (the
//! held first delivery must not time out into a retry back-off);
//! `recovery.max_requests_per_address_per_hour = 1000000` (the requests come
//! from the 16 seeding addresses); and Argon2id at 1 MiB × 1 with
//! `hashing.allow_weak` — 5,000 activations at the real parameters would take
//! minutes of hashing that this scenario does not measure (sending mail
//! hashes nothing with Argon2).

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

use crate::keyward_server::{KeywardServer, ServerOptions};
use crate::report::Row;
use crate::smtp_sink::SmtpSink;
use crate::subject::Account;

/// Emails queued in a full run and in a smoke run.
const EMAILS: usize = 5_000;
const SMOKE_EMAILS: usize = 50;
/// The goal on this machine kind.
const TARGET_EMAILS_PER_SEC: f64 = 500.0;
/// Recovery requests in flight at once while queueing.
const QUEUE_PARALLEL: usize = 16;
/// How long the whole queue may take to arrive once the sink opens.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);

/// The scenario's settings on top of `base`'s, with the sink's port.
fn options_for(base: &ServerOptions, sink_port: u16) -> ServerOptions {
    base.clone()
        .with_env("KEYWARD_MAIL__TRANSPORT", "smtp")
        .with_env("KEYWARD_MAIL__SMTP__HOST", "127.0.0.1")
        .with_env("KEYWARD_MAIL__SMTP__PORT", sink_port.to_string())
        .with_env("KEYWARD_MAIL__SMTP__TIMEOUT", "600s")
        .with_env("KEYWARD_RECOVERY__IDENTIFY_BY", "email")
        .with_env(
            "KEYWARD_RECOVERY__MAX_REQUESTS_PER_ADDRESS_PER_HOUR",
            "1000000",
        )
        .with_env("KEYWARD_HASHING__ALLOW_WEAK", "true")
        .with_env("KEYWARD_HASHING__MEMORY_KIB", "1024")
        .with_env("KEYWARD_HASHING__ITERATIONS", "1")
}

/// Starts a keyward of its own (the run's database kind and settings, mail
/// to a fresh sink), queues the mail, opens the sink and times the drain.
pub async fn run(base: &ServerOptions, smoke: bool) -> anyhow::Result<Vec<Row>> {
    let emails = if smoke { SMOKE_EMAILS } else { EMAILS };
    let sink = SmtpSink::start(true).await?;
    let server = KeywardServer::start(&options_for(base, sink.port)).await?;
    let staff = seed_staff(&server, emails).await?;
    let before = sink.count();
    queue_recoveries(&server, &staff).await?;
    ensure!(
        sink.count() == before,
        "mail reached the held sink before it opened"
    );
    sink.open();
    let expected = before + staff.len();
    let arrived = sink.wait_for(expected, DRAIN_TIMEOUT).await;
    // A moment for any duplicate to show itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = sink.received();
    check_each_once(&received, &staff).with_context(|| {
        format!(
            "{arrived} of {expected} emails arrived within {} s",
            DRAIN_TIMEOUT.as_secs()
        )
    })?;
    let rate = rate_of(&received)?;
    let database = server.database;
    server.stop().await?;
    Ok(vec![Row {
        scenario: "outbox_drain".into(),
        database: database.into(),
        figure: format!("emails/s ({} queued, SMTP on loopback)", received.len()),
        value: rate,
        target: format!("≥ {TARGET_EMAILS_PER_SEC:.0}"),
        ratio: Some(rate / TARGET_EMAILS_PER_SEC),
        peer: None,
    }])
}

/// `n` activated teachers with email addresses in the demo school.
async fn seed_staff(server: &KeywardServer, n: usize) -> anyhow::Result<Vec<Account>> {
    let lead = server.demo("demo.lead")?.clone();
    let session = server.sign_in(&lead.username, &lead.password).await?;
    let school = session
        .school_id
        .clone()
        .context("demo.lead has no school")?;
    server.create_staff_with_email(&session, &school, n).await
}

/// One **Forgot password?** per person; each answer must be 202.
async fn queue_recoveries(server: &KeywardServer, staff: &[Account]) -> anyhow::Result<()> {
    stream::iter(staff.iter().enumerate())
        .map(|(i, person)| async move {
            let email = person
                .email
                .as_deref()
                .context("a seeded person has no email")?;
            server
                .call_from(
                    i,
                    None,
                    reqwest::Method::POST,
                    "/api/v1/recovery",
                    Some(&json!({ "email": email })),
                )
                .await?
                .expect(202, &format!("recovery for {email}"))?;
            Ok::<_, anyhow::Error>(())
        })
        .buffer_unordered(QUEUE_PARALLEL)
        .try_collect::<()>()
        .await
}

/// Every seeded person got exactly one message, each message has its own
/// `Message-ID`.
fn check_each_once(
    received: &[crate::smtp_sink::Received],
    staff: &[Account],
) -> anyhow::Result<()> {
    let wanted: HashSet<String> = staff
        .iter()
        .filter_map(|p| p.email.as_deref().map(str::to_ascii_lowercase))
        .collect();
    let mut seen = HashSet::new();
    for message in received {
        for to in &message.recipients {
            if wanted.contains(to) && !seen.insert(to.clone()) {
                bail!("{to} got more than one email");
            }
        }
    }
    let ids: HashSet<&str> = received
        .iter()
        .filter_map(|m| m.message_id.as_deref())
        .collect();
    ensure!(
        ids.len() == received.len(),
        "{} messages carry {} distinct Message-IDs",
        received.len(),
        ids.len()
    );
    ensure!(
        seen.len() == wanted.len(),
        "{} of {} people got their email",
        seen.len(),
        wanted.len()
    );
    Ok(())
}

/// Messages per second from the first arrival to the last.
fn rate_of(received: &[crate::smtp_sink::Received]) -> anyhow::Result<f64> {
    let first = received.iter().map(|m| m.at).min();
    let last = received.iter().map(|m| m.at).max();
    let (Some(first), Some(last)) = (first, last) else {
        bail!("no email arrived");
    };
    let span = last.duration_since(first).max(Duration::from_micros(1));
    Ok((received.len().saturating_sub(1)) as f64 / span.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyward_server::testing;

    #[tokio::test]
    async fn smoke_run_delivers_every_email_once() {
        let Some(bin) = testing::debug_binary() else {
            return;
        };
        let options = ServerOptions::new(bin, crate::Db::Sqlite, "");
        let rows = run(&options, true).await.expect("outbox_drain");
        assert_eq!(rows.len(), 1);
        assert!(rows[0].value > 0.0, "{rows:?}");
        eprintln!("{rows:?}");
    }

    /// The full scenario on the release build (see class_reset's).
    #[tokio::test]
    #[ignore = "a full run on target/release/keyward; prints its figures"]
    async fn full_run_on_the_release_build() {
        let bin = testing::release_binary();
        for options in testing::each_database(&bin) {
            let rows = run(&options, false).await.expect("outbox_drain");
            eprintln!("{rows:#?}");
        }
    }
}
