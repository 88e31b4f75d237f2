//! Faults of the email outbox (issue 17), with real processes: the `keyward`
//! binary serving with `mail.transport = smtp` and the outbox's defaults
//! (`mail.max_parallel` 8, the 30 s lease), a real SMTP server (aiosmtpd,
//! `keyward_core::testing::SmtpCapture`) stopped, stalled and started again,
//! and keyward killed (SIGKILL), stopped (SIGTERM) and run twice on one
//! database. The mail is real: one **Forgot password?** through the API for
//! each of 500 people with addresses of their own, each a reset-link email,
//! so the capture counts every message by its recipient.
//!
//! The duplicate rule they measure (README, "Email"): a message goes out
//! twice only when an instance dies after the SMTP server accepted it and
//! before it recorded it as sent — at most one per message in flight, so at
//! most `mail.max_parallel` (8) for each instance killed. Each test prints
//! its figures on standard error (`--nocapture` shows them). SQLite, or
//! PostgreSQL when `KEYWARD_TEST_POSTGRES_URL` names a server; two instances
//! share the one SQLite file as they would share a PostgreSQL database.

use std::time::{Duration, Instant};

use keyward_core::mail::LEASE;
use keyward_core::testing::SmtpCapture;

mod support;

use support::*;

/// People, each sent one reset-link email.
const PEOPLE: usize = 500;
/// `mail.max_parallel` as these keywards run it (the default): the most
/// messages one instance has in flight, so the most one death may double.
const MAX_PARALLEL: usize = 8;
/// How many messages arrive before the fault, so it strikes mid-send.
const BEFORE_FAULT: usize = 100;
/// A deadline, not a speed: the mail an instance held when it died goes out
/// from another "within about a minute" (the lease and a poll).
const TAKEOVER_DEADLINE: Duration = Duration::from_secs(90);
/// A deadline, not a speed: after an SMTP outage the queue is sent at the
/// next try of each message (back-off from 1 s, doubling).
const AFTER_OUTAGE_DEADLINE: Duration = Duration::from_secs(90);

/// What arrived for the people of a test.
#[derive(Debug)]
struct Arrived {
    /// People whose email never came.
    missing: Vec<String>,
    /// Messages beyond the first for anyone.
    doubles: usize,
    /// Every message at the server, strangers' too.
    total: usize,
}

fn arrived(capture: &SmtpCapture, people: &[String]) -> Arrived {
    let counts = deliveries(capture);
    Arrived {
        missing: people
            .iter()
            .filter(|p| !counts.contains_key(p.as_str()))
            .cloned()
            .collect(),
        doubles: counts.values().map(|n| n - 1).sum(),
        total: counts.values().sum(),
    }
}

/// Waits until each person has their email (true), or `timeout` passes.
fn everyone_served(capture: &SmtpCapture, people: &[String], timeout: Duration) -> bool {
    let mut last_count = 0;
    wait_until(timeout, || {
        let count = capture.count();
        if count < people.len() || count == last_count {
            return false;
        }
        last_count = count;
        arrived(capture, people).missing.is_empty()
    })
}

/// Waits until every row of the outbox is recorded as sent, and panics with
/// the first row that is not after `timeout`. A message the SMTP server
/// accepted from an instance killed before it recorded the send is still
/// leased to the dead instance: it goes out again (a double) and is recorded
/// once the lease runs out, some time after its person already has mail.
fn wait_until_all_recorded_sent(site: &Site, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = outbox_rows(site);
        let Some(unsent) = rows.iter().find(|r| r.sent_at.is_none()) else {
            return;
        };
        assert!(
            Instant::now() < deadline,
            "{} rows not recorded as sent within {} s, the first: {unsent:?}",
            rows.iter().filter(|r| r.sent_at.is_none()).count(),
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until `n` messages have arrived; panics after a minute.
fn wait_for_messages(capture: &SmtpCapture, n: usize) {
    assert!(
        wait_until(Duration::from_secs(60), || capture.count() >= n),
        "only {} messages arrived",
        capture.count()
    );
}

/// Queues one reset-link email for each person through `ports` in turn
/// while the SMTP server is stalled (SIGSTOP), then lets it answer: the
/// whole queue drains at once, so a fault can strike in the middle of it.
fn queue_behind_a_stall(capture: &SmtpCapture, ports: &[u16], people: &[String]) {
    capture.pause();
    request_recoveries(ports, people);
    capture.resume();
}

/// Kills `server` (SIGKILL) once [`BEFORE_FAULT`] messages have arrived, so
/// it dies mid-send; returns when it died and how many had arrived then.
fn kill_mid_send(capture: &SmtpCapture, server: &mut Server) -> (Instant, usize) {
    wait_for_messages(capture, BEFORE_FAULT);
    server.child.kill().expect("SIGKILL keyward");
    let _ = server.child.wait();
    let killed = Instant::now();
    let at_kill = capture.count();
    assert!(at_kill < PEOPLE, "all mail went out before the kill");
    (killed, at_kill)
}

/// What another instance did with the mail a killed one held.
struct Takeover {
    /// From the kill to the last person served.
    took: Duration,
    doubles: usize,
    /// Rows the killed instance had claimed (they carry a second attempt;
    /// nothing else failed here).
    taken_over: usize,
}

/// Waits until every person is served after the kill and every row is
/// recorded (a double goes out first, once the dead instance's lease ends),
/// then a moment for a double to show itself; asserts nobody is missing
/// and the doubles keep the rule.
fn served_after_kill(
    site: &Site,
    capture: &SmtpCapture,
    people: &[String],
    killed: Instant,
) -> Takeover {
    assert!(
        everyone_served(capture, people, TAKEOVER_DEADLINE),
        "not everyone served within {} s of the kill: {:?}",
        TAKEOVER_DEADLINE.as_secs(),
        arrived(capture, people)
    );
    let took = killed.elapsed();
    wait_until_all_recorded_sent(site, TAKEOVER_DEADLINE);
    std::thread::sleep(Duration::from_secs(2));
    let result = arrived(capture, people);
    assert!(result.missing.is_empty(), "{result:?}");
    assert!(result.doubles <= MAX_PARALLEL, "{result:?}");
    let taken_over = outbox_rows(site).iter().filter(|r| r.attempts > 1).count();
    Takeover {
        took,
        doubles: result.doubles,
        taken_over,
    }
}

/// Prints a test's figures, with how long the whole test took.
fn report(site: &Site, test: &str, started: Instant, figures: &str) {
    eprintln!(
        "[outbox_faults] {test} ({}, {:.1} s in all): {figures}",
        site.backend(),
        started.elapsed().as_secs_f64()
    );
}

// The two tests that wait out a lease come first in name order, so that
// with the default two test threads they run side by side.

#[test]
fn a_keyward_killed_while_sending_then_restarted_loses_nothing_and_doubles_within_the_rule() {
    let started = Instant::now();
    let site = Site::new();
    let people = seed_people_with_email(&site, PEOPLE);
    let capture = SmtpCapture::start();
    let vars = outbox_vars(capture.port());
    let mut first = serve_on(&site, site.port, "killed", &vars);
    queue_behind_a_stall(&capture, &[first.port], &people);

    let (killed, at_kill) = kill_mid_send(&capture, &mut first);

    let mut second = serve_on(&site, free_port(), "restarted", &vars);
    let Takeover {
        took,
        doubles,
        taken_over,
    } = served_after_kill(&site, &capture, &people, killed);
    let status = second.terminate();
    assert!(status.success(), "{status}: {:?}", second.output().1);
    report(
        &site,
        "SIGKILL while sending, restarted",
        started,
        &format!(
            "killed with {at_kill} of {PEOPLE} delivered; the restarted instance delivered \
             the rest, {taken_over} rows the killed one had claimed among them, the last \
             {:.1} s after the kill (lease {} s, poll 1 s); {} doubles (rule: at most \
             {MAX_PARALLEL})",
            took.as_secs_f64(),
            LEASE.as_secs(),
            doubles
        ),
    );
}

#[test]
fn a_second_instance_on_one_database_sends_what_a_killed_one_held_within_a_minute() {
    let started = Instant::now();
    let site = Site::new();
    let people = seed_people_with_email(&site, PEOPLE);
    let capture = SmtpCapture::start();
    let vars = outbox_vars(capture.port());
    let mut doomed = serve_on(&site, site.port, "doomed", &vars);
    let mut survivor = serve_on(&site, free_port(), "survivor", &vars);
    queue_behind_a_stall(&capture, &[doomed.port, survivor.port], &people);

    let (killed, at_kill) = kill_mid_send(&capture, &mut doomed);

    let Takeover {
        took,
        doubles,
        taken_over,
    } = served_after_kill(&site, &capture, &people, killed);
    let status = survivor.terminate();
    assert!(status.success(), "{status}: {:?}", survivor.output().1);
    report(
        &site,
        "two instances, one killed",
        started,
        &format!(
            "killed with {at_kill} of {PEOPLE} delivered; the survivor delivered the rest, \
             {taken_over} rows the killed one had claimed among them, the last {:.1} s after \
             the kill (lease {} s, poll 1 s); {} doubles (rule: at most {MAX_PARALLEL})",
            took.as_secs_f64(),
            LEASE.as_secs(),
            doubles
        ),
    );
}

#[test]
fn an_smtp_outage_with_500_emails_queued_ends_with_each_delivered_exactly_once() {
    let started = Instant::now();
    let site = Site::new();
    let people = seed_people_with_email(&site, PEOPLE);
    let mut capture = SmtpCapture::start();
    capture.stop();
    let mut server = serve_on(&site, site.port, "outage", &outbox_vars(capture.port()));
    request_recoveries(&[site.port], &people);

    // Every email is tried while the server is down, and put off.
    let all_tried = wait_until(Duration::from_secs(60), || {
        let rows = outbox_rows(&site);
        rows.len() == PEOPLE
            && rows
                .iter()
                .all(|r| r.attempts >= 1 && r.sent_at.is_none() && r.last_error.is_some())
    });
    assert!(all_tried, "{:?}", outbox_rows(&site).first());
    let tries: i64 = outbox_rows(&site).iter().map(|r| r.attempts).sum();

    capture.restart();
    let back = Instant::now();
    assert!(
        everyone_served(&capture, &people, AFTER_OUTAGE_DEADLINE),
        "{:?}",
        arrived(&capture, &people)
    );
    let took = back.elapsed();
    wait_until_all_recorded_sent(&site, Duration::from_secs(30));
    // A moment for a double to show itself.
    std::thread::sleep(Duration::from_secs(2));
    let result = arrived(&capture, &people);
    assert_eq!((result.doubles, result.total), (0, PEOPLE), "{result:?}");
    let status = server.terminate();
    assert!(status.success(), "{status}: {:?}", server.output().1);
    report(
        &site,
        "SMTP outage",
        started,
        &format!(
            "{PEOPLE} emails queued while the server was down ({tries} failed tries); \
             each delivered exactly once, the last {:.1} s after it came back",
            took.as_secs_f64()
        ),
    );
}

#[test]
fn sigterm_while_sending_stops_the_outbox_cleanly_and_leaves_no_row_leased() {
    const GRACE: Duration = Duration::from_secs(10);
    let started = Instant::now();
    let site = Site::new();
    let people = seed_people_with_email(&site, PEOPLE);
    let capture = SmtpCapture::start();
    let mut vars = outbox_vars(capture.port());
    vars.push((
        "KEYWARD_SERVER__SHUTDOWN_GRACE",
        format!("{}s", GRACE.as_secs()),
    ));
    let mut first = serve_on(&site, site.port, "stopped", &vars);
    queue_behind_a_stall(&capture, &[first.port], &people);

    wait_for_messages(&capture, BEFORE_FAULT);
    let asked = Instant::now();
    let status = first.terminate();
    let took = asked.elapsed();
    assert!(status.success(), "{status}: {:?}", first.output().1);
    assert!(
        took < GRACE,
        "stopped {:.1} s after SIGTERM",
        took.as_secs_f64()
    );

    // The batch in hand was recorded and the rest handed back: nothing is
    // leased, every message that arrived is recorded as sent, no other.
    let at_stop = capture.count();
    assert!(at_stop < PEOPLE, "all mail went out before SIGTERM");
    let rows = outbox_rows(&site);
    let leased: Vec<_> = rows.iter().filter(|r| r.locked_until.is_some()).collect();
    assert!(
        leased.is_empty(),
        "{} rows leased: {:?}",
        leased.len(),
        leased[0]
    );
    let recorded = rows.iter().filter(|r| r.sent_at.is_some()).count();
    assert_eq!(recorded, at_stop);

    // The next instance sends the rest, each once, without waiting for a
    // lease: the rows not started were handed back uncounted.
    let restarted = Instant::now();
    let mut second = serve_on(
        &site,
        free_port(),
        "after-stop",
        &outbox_vars(capture.port()),
    );
    assert!(
        everyone_served(&capture, &people, TAKEOVER_DEADLINE),
        "{:?}",
        arrived(&capture, &people)
    );
    let rest_took = restarted.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let result = arrived(&capture, &people);
    assert_eq!((result.doubles, result.total), (0, PEOPLE), "{result:?}");
    let rows = outbox_rows(&site);
    assert!(rows.iter().all(|r| r.attempts == 1), "{rows:?}");
    let status = second.terminate();
    assert!(status.success(), "{status}: {:?}", second.output().1);
    report(
        &site,
        "SIGTERM while sending",
        started,
        &format!(
            "stopped {:.2} s after SIGTERM (grace {} s) with {at_stop} of {PEOPLE} delivered, \
             all recorded, no row leased; the next instance delivered the rest, each once, \
             within {:.1} s of its start (lease {} s)",
            took.as_secs_f64(),
            GRACE.as_secs(),
            rest_took.as_secs_f64(),
            LEASE.as_secs()
        ),
    );
}
