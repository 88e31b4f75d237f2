//! Tests of the outbox, the worker and the transports, on the backend the test
//! run uses, sending over real SMTP to an aiosmtpd capture server.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;
use crate::demo::{DEMO_PEOPLE, DEMO_SCHOOL_NAME};
use crate::mail::store::outbox_states;
use crate::mail::{MailService, RenderedEmail, claim_size, kind, public_link};
use crate::settings::MailTransportKind;
use crate::settings::Settings;
use crate::testing::{
    MONDAY_MORNING, SmtpCapture, TestDb, account_named, ctx_at, demo_passwords, parse_mail,
    settings_for, settings_with_smtp,
};
use crate::types::UnixTime;
use crate::types::random::SeededRandom;

const PUBLIC_URL: &str = "https://keyward.school.example/kw/";
const DEV_PUBLIC_URL: &str = "http://127.0.0.1:8080/kw/";
const FROM: &str = "Hill School keyward <noreply@school.example>";

fn keyward_with(db: &TestDb, mut settings: Settings) -> Arc<Keyward> {
    settings.server.public_url = url::Url::parse(PUBLIC_URL).unwrap();
    settings.mail.from = FROM.into();
    let settings = settings.validate().unwrap();
    Keyward::new(db.db.clone(), settings, &SeededRandom::new(5)).unwrap()
}

fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

async fn queue_tests(kw: &Keyward, ctx: &Ctx<'_>, count: usize) -> Vec<String> {
    let mut recipients = Vec::new();
    for n in 0..count {
        let to = format!("person{n}@example.org");
        kw.send_test_email(ctx, &address(&to)).await.unwrap();
        recipients.push(to);
    }
    recipients
}

#[test]
fn public_link_joins_with_or_without_a_trailing_slash_and_keeps_a_path_prefix() {
    let mut settings = Settings::default();
    for (base, expected) in [
        (
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/recovery/abc?x=1",
        ),
        (
            "https://school.example/",
            "https://school.example/recovery/abc?x=1",
        ),
        (
            "https://school.example/kw",
            "https://school.example/kw/recovery/abc?x=1",
        ),
        (
            "https://school.example/kw/",
            "https://school.example/kw/recovery/abc?x=1",
        ),
    ] {
        settings.server.public_url = url::Url::parse(base).unwrap();
        assert_eq!(
            public_link(&settings, "/recovery/abc?x=1"),
            expected,
            "{base}"
        );
        assert_eq!(
            public_link(&settings, "recovery/abc?x=1"),
            expected,
            "{base}"
        );
    }
}

#[test]
fn retry_delay_doubles_from_the_base_and_stops_at_an_hour() {
    let base = Duration::from_secs(10);
    let delays: Vec<u64> = (1..=12).map(|n| retry_delay(base, n).as_secs()).collect();
    assert_eq!(&delays[..5], &[10, 20, 40, 80, 160]);
    assert_eq!(delays[11], 3600);
    assert_eq!(retry_delay(base, 200).as_secs(), 3600);
    assert_eq!(retry_delay(Duration::from_millis(10), 1).as_secs(), 1);
}

#[test]
fn a_rendered_email_never_prints_its_bodies() {
    let email = RenderedEmail {
        to: "ann@example.org".into(),
        subject: "Reset your password".into(),
        text: "secret-link".into(),
        html: "<a href=\"secret-link\">".into(),
    };
    let printed = format!("{email:?}");
    assert!(printed.contains("ann@example.org"), "{printed}");
    assert!(!printed.contains("secret-link"), "{printed}");
}

#[test]
fn the_lease_is_short_so_mail_an_instance_held_when_it_died_goes_out_within_a_minute() {
    let settings = Settings::default();
    let service = MailService::new(&settings).unwrap();
    assert_eq!(service.lease, crate::mail::LEASE);
    // Another instance's worker finds the rows within the lease and one poll.
    assert!(service.lease + settings.mail.poll_interval <= Duration::from_secs(60));
    // Renewed three times a lease: a few UPDATEs a minute, not a storm.
    assert!(service.lease >= Duration::from_secs(15));
    assert_eq!(claim_size(settings.mail.max_parallel), 32);
}

/// `kw` with a shorter lease, for tests that wait for one to run out.
fn with_lease(mut kw: Arc<Keyward>, lease: Duration) -> Arc<Keyward> {
    Arc::get_mut(&mut kw)
        .expect("no other handle on a new keyward")
        .mail
        .lease = lease;
    kw
}

/// An SMTP server that accepts connections and never greets: every send
/// hangs until its deadline (twice `mail.smtp.timeout`).
async fn silent_smtp() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (port, task)
}

/// [`settings_for`], sending over SMTP to `port` on loopback.
fn settings_with_smtp_port(db: &TestDb, port: u16, timeout: Duration) -> Settings {
    let mut settings = settings_for(db);
    settings.mail.transport = MailTransportKind::Smtp;
    settings.mail.smtp.host = "127.0.0.1".into();
    settings.mail.smtp.port = port;
    settings.mail.smtp.timeout = timeout;
    settings
}

#[test]
fn every_smtp_security_mode_builds_a_transport_without_connecting() {
    use crate::settings::SmtpSecurity;
    for security in [
        SmtpSecurity::None,
        SmtpSecurity::Starttls,
        SmtpSecurity::Tls,
    ] {
        let mut settings = Settings::default();
        settings.mail.transport = MailTransportKind::Smtp;
        settings.mail.smtp.host = "smtp.school.example".into();
        settings.mail.smtp.security = security;
        settings.mail.smtp.username = "keyward".into();
        settings.mail.smtp.password = "mail-password".into();
        let settings = settings.validate().unwrap();
        assert!(MailService::new(&settings).is_ok(), "{security:?}");
    }
}

#[tokio::test]
async fn rolled_back_mail_is_never_sent_and_committed_mail_is_sent_once_over_smtp() {
    let capture = SmtpCapture::start();
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_with_smtp(&db, &capture));
    let rng = SeededRandom::new(1);
    let ctx = ctx_at(MONDAY_MORNING, &rng);

    let mut tx = kw.db.begin_write().await.unwrap();
    enqueue(
        &mut *tx,
        &ctx,
        &Outgoing {
            kind: kind::MAIL_TEST,
            user_id: None,
            to_address: "rolled.back@example.org",
            payload: serde_json::json!({ "to": "rolled.back@example.org" }),
        },
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    kw.send_test_email(&ctx, &address("bob@example.org"))
        .await
        .unwrap();

    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 1);
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 0);
    let later = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(86_400)), &rng);
    assert_eq!(kw.deliver_due_mail(&later).await.unwrap(), 0);

    let messages = capture.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let mail = &messages[0];
    assert_eq!(mail.to, "bob@example.org");
    assert_eq!(mail.envelope_to, vec!["bob@example.org".to_owned()]);
    assert_eq!(mail.from, "noreply@school.example");
    assert!(mail.raw.contains("Hill School keyward"), "{}", mail.raw);
    assert_eq!(mail.subject, "keyward can send email");
    let text = mail.text.as_deref().expect("a text/plain part");
    let html = mail.html.as_deref().expect("a text/html part");
    assert!(text.contains("keyward can send email"), "{text}");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    for body in [text, html] {
        let links: Vec<&str> = body
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .filter(|w| w.starts_with("http"))
            .collect();
        assert!(!links.is_empty(), "no link in {body}");
        assert!(links.iter().all(|l| l.starts_with(PUBLIC_URL)), "{links:?}");
    }

    let states = outbox_states(&kw.db).await.unwrap();
    assert_eq!(states.len(), 1, "the rolled-back row must not exist");
    let row = &states[0];
    assert_eq!(row.sent_at, Some(MONDAY_MORNING.secs()));
    assert_eq!(
        (row.failed_at, row.locked_until, row.attempts),
        (None, None, 1)
    );
    let message_id = mail.message_id.as_deref().unwrap_or_default();
    assert!(message_id.starts_with(&row.id), "{message_id}");
    let stats = kw.mail_stats();
    assert_eq!(stats.sent.load(Ordering::Relaxed), 1);
    assert_eq!(stats.queued.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_with_back_off_and_loses_none() {
    let mut capture = SmtpCapture::start();
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_with_smtp(&db, &capture));
    let rng = SeededRandom::new(2);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let recipients = queue_tests(&kw, &ctx, 5).await;

    capture.stop();
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 5);
    let retry_at = MONDAY_MORNING.secs() + 10;
    for row in outbox_states(&kw.db).await.unwrap() {
        assert_eq!((row.sent_at, row.failed_at, row.attempts), (None, None, 1));
        assert_eq!(row.next_attempt_at, retry_at);
        assert_eq!(row.locked_until, None);
        let error = row.last_error.unwrap_or_default();
        assert!(error.starts_with("smtp:"), "{error}");
        assert!(!error.contains("test message"), "{error}");
    }
    let stats = kw.mail_stats();
    assert_eq!(stats.retries.load(Ordering::Relaxed), 5);
    assert_eq!(stats.queued.load(Ordering::Relaxed), 5);

    // Not due yet: nothing is tried.
    let soon = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(5)), &rng);
    assert_eq!(kw.deliver_due_mail(&soon).await.unwrap(), 0);

    capture.restart();
    let after = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(11)), &rng);
    assert_eq!(kw.deliver_due_mail(&after).await.unwrap(), 5);
    assert_eq!(kw.deliver_due_mail(&after).await.unwrap(), 0);
    let messages = capture.wait_for_messages(5, Duration::from_secs(5)).await;
    let received: Vec<String> = messages.iter().map(|m| m.to.clone()).collect();
    let mut sorted = received.clone();
    sorted.sort();
    assert_eq!(sorted, recipients, "every message exactly once");
    assert_eq!(stats.sent.load(Ordering::Relaxed), 5);
    assert_eq!(stats.queued.load(Ordering::Relaxed), 0);
    for row in outbox_states(&kw.db).await.unwrap() {
        assert_eq!(row.attempts, 2);
        assert!(row.sent_at.is_some() && row.last_error.is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_delivering_at_once_never_send_one_row_twice() {
    let capture = SmtpCapture::start();
    let db = TestDb::new().await;
    let settings = settings_with_smtp(&db, &capture);
    let first = keyward_with(&db, settings.clone());
    // The second instance has its own connection pool, as on another server.
    let other_db = crate::store::Db::connect(&settings.database).await.unwrap();
    let mut other_settings = settings.clone();
    other_settings.server.public_url = url::Url::parse(PUBLIC_URL).unwrap();
    other_settings.mail.from = FROM.into();
    let second = Keyward::new(other_db, other_settings, &SeededRandom::new(6)).unwrap();
    let rng = SeededRandom::new(3);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let recipients = queue_tests(&first, &ctx, 30).await;

    let (a, b) = tokio::join!(
        async {
            let rng = SeededRandom::new(30);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            first.deliver_due_mail(&ctx).await.unwrap()
        },
        async {
            let rng = SeededRandom::new(31);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            second.deliver_due_mail(&ctx).await.unwrap()
        },
    );
    assert_eq!(a + b, 30, "each row handled by exactly one instance");
    let messages = capture.wait_for_messages(30, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let messages_after = capture.messages();
    assert_eq!(messages_after.len(), messages.len());
    let mut received: Vec<String> = messages_after.iter().map(|m| m.to.clone()).collect();
    received.sort();
    let mut expected = recipients;
    expected.sort();
    assert_eq!(received, expected);
    let ids: BTreeSet<_> = messages_after
        .iter()
        .map(|m| m.message_id.clone())
        .collect();
    assert_eq!(ids.len(), 30);
    let sent = first.mail_stats().sent.load(Ordering::Relaxed)
        + second.mail_stats().sent.load(Ordering::Relaxed);
    assert_eq!(sent, 30);
}

#[tokio::test]
async fn a_crashed_claim_is_taken_over_once_its_short_lease_ran_out_and_a_sent_row_never_again() {
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_for(&db));
    let rng = SeededRandom::new(4);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    queue_tests(&kw, &ctx, 1).await;
    let now = MONDAY_MORNING;
    let lease = kw.mail.lease;

    // A worker claims the row, then dies without renewing or recording.
    let claimed = store::claim_due(&kw.db, now, now.plus(lease), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    let during = ctx_at(now.plus(lease - Duration::from_secs(1)), &rng);
    assert_eq!(
        kw.deliver_due_mail(&during).await.unwrap(),
        0,
        "a leased row is not claimed twice"
    );

    // Once the lease has run out, another worker sends it (at least once).
    let after = ctx_at(now.plus(lease + Duration::from_secs(1)), &rng);
    assert_eq!(kw.deliver_due_mail(&after).await.unwrap(), 1);
    let row = &outbox_states(&kw.db).await.unwrap()[0];
    assert_eq!((row.attempts, row.sent_at.is_some()), (2, true));
    assert_eq!(row.locked_until, None);

    let much_later = now.plus(Duration::from_secs(10 * 86_400));
    let never = store::claim_due(
        &kw.db,
        much_later,
        much_later.plus(Duration::from_secs(9)),
        10,
    )
    .await
    .unwrap();
    assert!(never.is_empty(), "a sent row is never claimed again");
}

#[tokio::test]
async fn a_claim_takes_no_more_rows_than_its_limit_the_oldest_first() {
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_for(&db));
    let rng = SeededRandom::new(16);
    for minute in 0..40u64 {
        let ctx = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(60 * minute)), &rng);
        queue_tests(&kw, &ctx, 1).await;
    }
    let now = MONDAY_MORNING.plus(Duration::from_secs(3600));
    let claimed = store::claim_due(&kw.db, now, now.plus(kw.mail.lease), 5)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 5);
    // PostgreSQL once ran `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`
    // again for each row it scanned, and one claim leased the whole queue.
    let states = outbox_states(&kw.db).await.unwrap();
    let leased: Vec<&str> = states
        .iter()
        .filter(|r| r.locked_until.is_some())
        .map(|r| r.id.as_str())
        .collect();
    let oldest: Vec<&str> = states[..5].iter().map(|r| r.id.as_str()).collect();
    assert_eq!(leased, oldest);
    assert_eq!(states.iter().filter(|r| r.attempts > 0).count(), 5);
}

#[tokio::test]
async fn a_worker_whose_lease_ran_out_can_neither_renew_nor_overwrite_the_next_claim() {
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_for(&db));
    let rng = SeededRandom::new(13);
    queue_tests(&kw, &ctx_at(MONDAY_MORNING, &rng), 1).await;
    let at = |secs: u64| MONDAY_MORNING.plus(Duration::from_secs(secs));

    let first = store::claim_due(&kw.db, at(0), at(30), 10).await.unwrap();
    let second = store::claim_due(&kw.db, at(31), at(61), 10).await.unwrap();
    assert_eq!((first[0].attempts, second[0].attempts), (1, 2));
    let (old, new) = (first[0].claim(), second[0].claim());

    let stale = std::slice::from_ref(&old);
    assert_eq!(store::renew(&kw.db, stale, at(100)).await.unwrap(), 0);
    assert!(
        !store::mark_retry(&kw.db, &old, at(40), "late")
            .await
            .unwrap()
    );
    assert!(
        !store::mark_finished_unsent(&kw.db, &old, at(40), "late")
            .await
            .unwrap()
    );
    assert_eq!(store::release(&kw.db, stale).await.unwrap(), 0);
    let row = &outbox_states(&kw.db).await.unwrap()[0];
    assert_eq!((row.attempts, row.locked_until), (2, Some(at(61).secs())));
    assert_eq!((row.last_error.as_deref(), row.failed_at), (None, None));

    // The holder renews in one statement, and may hand the row back.
    let current = std::slice::from_ref(&new);
    assert_eq!(store::renew(&kw.db, current, at(90)).await.unwrap(), 1);
    let row = &outbox_states(&kw.db).await.unwrap()[0];
    assert_eq!(row.locked_until, Some(at(90).secs()));
    assert_eq!(store::release(&kw.db, current).await.unwrap(), 1);
    let row = &outbox_states(&kw.db).await.unwrap()[0];
    assert_eq!((row.attempts, row.locked_until), (1, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_batch_keeps_its_rows_by_renewing_its_short_lease() {
    let (port, _server) = silent_smtp().await;
    let db = TestDb::new().await;
    // Each send hangs until its deadline, 6 s: longer than the 4 s lease,
    // renewed every 1.3 s.
    let settings = settings_with_smtp_port(&db, port, Duration::from_secs(3));
    let kw = with_lease(keyward_with(&db, settings), Duration::from_secs(4));
    let rng = SeededRandom::new(11);
    queue_tests(&kw, &ctx_at(MONDAY_MORNING, &rng), 2).await;
    let sending = {
        let kw = kw.clone();
        tokio::spawn(async move {
            let rng = SeededRandom::new(12);
            kw.deliver_due_mail(&ctx_at(MONDAY_MORNING, &rng)).await
        })
    };

    // Past the lease the claim took (until 4 s): renewed, so no other
    // worker may claim the rows while they are sending.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let past_first_lease = MONDAY_MORNING.plus(Duration::from_secs(5));
    for row in outbox_states(&kw.db).await.unwrap() {
        assert!(row.locked_until >= Some(past_first_lease.secs()), "{row:?}");
    }
    let other = store::claim_due(
        &kw.db,
        past_first_lease,
        past_first_lease.plus(Duration::from_secs(4)),
        10,
    )
    .await
    .unwrap();
    assert!(other.is_empty(), "a renewed row is not claimed: {other:?}");

    // The sends ran to their own deadline, not cut by the first lease.
    assert_eq!(sending.await.unwrap().unwrap(), 2);
    for row in outbox_states(&kw.db).await.unwrap() {
        assert_eq!((row.attempts, row.locked_until), (1, None), "{row:?}");
        let error = row.last_error.unwrap_or_default();
        assert!(error.contains("longer than 6s"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_worker_hands_back_the_rows_it_had_not_started() {
    let (port, _server) = silent_smtp().await;
    let db = TestDb::new().await;
    let mut settings = settings_with_smtp_port(&db, port, Duration::from_secs(10));
    settings.mail.max_parallel = 1;
    settings.server.shutdown_grace = Duration::from_secs(1);
    let kw = keyward_with(&db, settings);
    let rng = SeededRandom::new(14);
    queue_tests(&kw, &ctx_at(MONDAY_MORNING, &rng), 4).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sending = {
        let kw = kw.clone();
        tokio::spawn(async move {
            let rng = SeededRandom::new(15);
            kw.deliver_batch(&ctx_at(MONDAY_MORNING, &rng), stopped)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    // The send in flight gets the grace period (1 s), not its 20 s deadline.
    let claimed = tokio::time::timeout(Duration::from_secs(10), sending)
        .await
        .expect("the batch stops within the grace period")
        .unwrap()
        .unwrap();
    assert_eq!(claimed, 4);

    let states = outbox_states(&kw.db).await.unwrap();
    assert!(
        states.iter().all(|r| r.locked_until.is_none()),
        "{states:?}"
    );
    let (tried, handed_back): (Vec<_>, Vec<_>) = states.iter().partition(|r| r.attempts == 1);
    assert_eq!((tried.len(), handed_back.len()), (1, 3), "{states:?}");
    let error = tried[0].last_error.as_deref().unwrap_or_default();
    assert!(error.starts_with("not sent"), "{error}");
    for row in handed_back {
        assert_eq!(row.attempts, 0, "{row:?}");
        assert_eq!(row.last_error, None);
        assert_eq!(row.next_attempt_at, MONDAY_MORNING.secs(), "due at once");
    }
}

#[tokio::test]
async fn after_max_attempts_the_row_is_given_up_and_counted() {
    let mut capture = SmtpCapture::start();
    let db = TestDb::new().await;
    let mut settings = settings_with_smtp(&db, &capture);
    settings.mail.max_attempts = 3;
    let kw = keyward_with(&db, settings);
    capture.stop();
    let rng = SeededRandom::new(5);
    let mut now = MONDAY_MORNING;
    queue_tests(&kw, &ctx_at(now, &rng), 1).await;

    for wait in [10u64, 20] {
        assert_eq!(kw.deliver_due_mail(&ctx_at(now, &rng)).await.unwrap(), 1);
        let row = &outbox_states(&kw.db).await.unwrap()[0];
        assert_eq!(row.failed_at, None);
        assert_eq!(
            row.next_attempt_at,
            now.plus(Duration::from_secs(wait)).secs()
        );
        now = now.plus(Duration::from_secs(wait));
    }
    assert_eq!(kw.deliver_due_mail(&ctx_at(now, &rng)).await.unwrap(), 1);
    let row = &outbox_states(&kw.db).await.unwrap()[0];
    assert_eq!(row.failed_at, Some(now.secs()));
    assert_eq!((row.sent_at, row.attempts), (None, 3));
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .starts_with("smtp:")
    );
    let stats = kw.mail_stats();
    assert_eq!(stats.failed.load(Ordering::Relaxed), 1);
    assert_eq!(stats.retries.load(Ordering::Relaxed), 2);
    assert_eq!(stats.queued.load(Ordering::Relaxed), 0);

    capture.restart();
    let later = ctx_at(now.plus(Duration::from_secs(86_400)), &rng);
    assert_eq!(kw.deliver_due_mail(&later).await.unwrap(), 0);
    assert!(capture.messages().is_empty());
}

#[tokio::test]
async fn an_unknown_kind_is_skipped_with_its_reason() {
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_for(&db));
    let rng = SeededRandom::new(6);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    enqueue(
        kw.db.pool(),
        &ctx,
        &Outgoing {
            kind: "no.such.kind",
            user_id: None,
            to_address: "ann@example.org",
            payload: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 1);
    let row = &outbox_states(&kw.db).await.unwrap()[0];
    assert_eq!(
        (row.sent_at, row.failed_at),
        (None, Some(MONDAY_MORNING.secs()))
    );
    assert_eq!(row.last_error.as_deref(), Some("skipped: unknown kind"));
    let stats = kw.mail_stats();
    assert_eq!(stats.skipped.load(Ordering::Relaxed), 1);
    assert_eq!(stats.failed.load(Ordering::Relaxed), 0);
    assert!(!db.data_dir().join("mail").exists(), "nothing was written");
}

#[tokio::test]
async fn file_transport_writes_eml_files_that_the_dev_inbox_lists_and_reads() {
    let db = TestDb::new().await;
    // The dev inbox exists only on http (it is refused with an https public URL).
    let mut settings = settings_for(&db);
    settings.mail.dev_inbox = true;
    settings.server.public_url = url::Url::parse(DEV_PUBLIC_URL).unwrap();
    settings.mail.from = FROM.into();
    let settings = settings.validate().unwrap();
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(5)).unwrap();
    let rng = SeededRandom::new(7);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    kw.send_test_email(&ctx, &address("first@example.org"))
        .await
        .unwrap();
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 1);
    // A later message, written later: it is listed first.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let later = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(60)), &rng);
    kw.send_test_email(&later, &address("second@example.org"))
        .await
        .unwrap();
    assert_eq!(kw.deliver_due_mail(&later).await.unwrap(), 1);

    let dir = db.data_dir().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
        let mail = parse_mail(&std::fs::read(file).unwrap());
        assert_eq!(mail.from, "noreply@school.example");
        assert!(mail.text.is_some() && mail.html.is_some(), "{}", mail.raw);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read mail files");
        }
    }

    let listed = dev_inbox::list(&kw).await.unwrap();
    let order: Vec<&str> = listed.iter().map(|e| e.to.as_str()).collect();
    assert_eq!(order, ["second@example.org", "first@example.org"]);
    assert_eq!(listed[0].subject, "keyward can send email");
    assert_eq!(listed[1].date, Some(MONDAY_MORNING));
    let message = dev_inbox::read(&kw, &listed[0].id).await.unwrap();
    assert_eq!(message.to, "second@example.org");
    assert!(message.text.contains(DEV_PUBLIC_URL), "{}", message.text);
    assert_eq!(
        dev_inbox::format_utc(MONDAY_MORNING),
        "2026-09-07T08:00:00Z"
    );
    for bad in ["../keyward", "nope", "", "0000/1"] {
        assert!(
            matches!(
                dev_inbox::read(&kw, bad).await,
                Err(dev_inbox::DevInboxError::NotFound)
            ),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_dev_inbox_does_not_exist_when_switched_off() {
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_for(&db));
    assert!(matches!(
        dev_inbox::list(&kw).await,
        Err(dev_inbox::DevInboxError::Disabled)
    ));
    assert!(matches!(
        dev_inbox::read(&kw, "0").await,
        Err(dev_inbox::DevInboxError::Disabled)
    ));
}

#[tokio::test]
async fn log_transport_marks_mail_sent_and_writes_no_file() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.mail.transport = MailTransportKind::Log;
    let kw = keyward_with(&db, settings);
    let rng = SeededRandom::new(8);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    queue_tests(&kw, &ctx, 2).await;
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 2);
    assert!(
        outbox_states(&kw.db)
            .await
            .unwrap()
            .iter()
            .all(|r| r.sent_at.is_some())
    );
    assert!(!db.data_dir().join("mail").exists());
}

#[tokio::test]
async fn mail_to_a_school_member_carries_the_school_name() {
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_for(&db));
    let rng = SeededRandom::new(9);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    kw.seed_demo(&ctx, &demo_passwords("Demo-pass-1"))
        .await
        .unwrap();
    let teacher = DEMO_PEOPLE
        .iter()
        .find(|p| p.role == crate::types::Role::Teacher)
        .unwrap();
    let account = account_named(&kw, teacher.username).await;
    enqueue(
        kw.db.pool(),
        &ctx,
        &Outgoing {
            kind: kind::MAIL_TEST,
            user_id: Some(&account.id),
            to_address: "teacher@example.org",
            payload: serde_json::json!({ "to": "teacher@example.org" }),
        },
    )
    .await
    .unwrap();
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 1);
    let file = std::fs::read_dir(db.data_dir().join("mail"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mail = parse_mail(&std::fs::read(file).unwrap());
    assert!(mail.text.unwrap().contains(DEMO_SCHOOL_NAME));
    assert!(mail.html.unwrap().contains(DEMO_SCHOOL_NAME));
}

#[tokio::test]
async fn the_worker_sends_at_once_when_woken_and_stops_on_shutdown() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    // Only the wake-up can make it send within the test's time.
    settings.mail.poll_interval = Duration::from_secs(600);
    let kw = keyward_with(&db, settings);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker::run_outbox_worker(kw.clone(), stopped));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let rng = SeededRandom::new(10);
    let ctx = ctx_at(UnixTime::now(), &rng);
    kw.send_test_email(&ctx, &address("now@example.org"))
        .await
        .unwrap();
    let dir = db.data_dir().join("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&dir).map_or(0, |d| d.count()) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not send"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker stops on shutdown")
        .unwrap();
    assert_eq!(kw.mail_stats().sent.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sent_in_parallel_delivers_each_message_exactly_once() {
    let capture = SmtpCapture::start();
    let db = TestDb::new().await;
    let mut settings = settings_with_smtp(&db, &capture);
    settings.mail.max_parallel = 4;
    let kw = keyward_with(&db, settings);
    let rng = SeededRandom::new(7);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let count = 3 * claim_size(4) + 5;
    let mut recipients = queue_tests(&kw, &ctx, count).await;

    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), count);
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 0);
    capture
        .wait_for_messages(count, Duration::from_secs(10))
        .await;
    // A moment for any duplicate to show itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = capture.messages();
    let mut received: Vec<String> = messages.iter().map(|m| m.to.clone()).collect();
    received.sort();
    recipients.sort();
    assert_eq!(received, recipients, "every message exactly once");
    let ids: BTreeSet<_> = messages.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), count);
    for row in outbox_states(&kw.db).await.unwrap() {
        assert_eq!((row.attempts, row.locked_until), (1, None));
        assert!(row.sent_at.is_some() && row.last_error.is_none());
    }
    assert_eq!(
        kw.mail_stats().sent.load(Ordering::Relaxed),
        u64::try_from(count).unwrap()
    );
}

#[tokio::test]
async fn an_idle_connection_the_server_dropped_is_not_reused() {
    let mut capture = SmtpCapture::start();
    let db = TestDb::new().await;
    let kw = keyward_with(&db, settings_with_smtp(&db, &capture));
    let rng = SeededRandom::new(8);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    queue_tests(&kw, &ctx, 1).await;
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 1);

    // The kept connection dies with the server; after a second idle it is
    // probed before use, found gone and replaced.
    capture.restart();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    kw.send_test_email(&ctx, &address("after.restart@example.org"))
        .await
        .unwrap();
    assert_eq!(kw.deliver_due_mail(&ctx).await.unwrap(), 1);
    let messages = capture.wait_for_messages(2, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    for row in outbox_states(&kw.db).await.unwrap() {
        assert_eq!(row.attempts, 1, "{row:?}");
        assert!(row.sent_at.is_some());
    }
}
