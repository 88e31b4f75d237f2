//! Races (issue 17): many requests at once on one thing, sent alternately
//! to two keyward instances on one database (each its own pool, as two
//! processes behind a load balancer), then the end state and the audit trail
//! read back. Every answer is counted; none may be a 5xx.
//!
//! One reset link submitted 20 times at once; ten activations racing for one
//! username; one access code used eight times at once; a whole-class reset
//! racing a learner's own password change; two teachers resetting one
//! learner at once. (Throttles, sessions, API tokens, parallel admin resets,
//! disables and single sign-on callbacks race in their own files.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;
use keyward_core::audit::AuditRow;
use keyward_core::dispatch::dev_inbox;
use keyward_core::types::UnixTime;
use keyward_core::types::random::SeededRandom;

/// The demo app and two more instances on its database, which the racing
/// requests alternate between.
struct Race {
    app: Arc<TestApp>,
    instances: [Router; 2],
}

impl Race {
    async fn new() -> Race {
        // The captured mail is read through the development inbox.
        let app = spawn_app_with(|s| s.mail.dev_inbox = true).await;
        keyward_core::testing::seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
        let instances = [app.second_instance().await, app.second_instance().await];
        Race {
            app: Arc::new(app),
            instances,
        }
    }

    fn instance(&self, i: usize) -> Router {
        self.instances[i % 2].clone()
    }

    /// Sends every request at once, request `i` to instance `i % 2`, and
    /// returns the answers in order.
    async fn at_once(&self, requests: Vec<axum::http::Request<axum::body::Body>>) -> Vec<Reply> {
        self.staggered(requests.into_iter().map(|r| (Duration::ZERO, r)).collect())
            .await
    }

    /// [`Race::at_once`], each request sent after its own delay.
    async fn staggered(
        &self,
        requests: Vec<(Duration, axum::http::Request<axum::body::Body>)>,
    ) -> Vec<Reply> {
        let tasks = requests
            .into_iter()
            .enumerate()
            .map(|(i, (delay, request))| {
                let router = self.instance(i);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    send_to(&router, request).await
                })
            });
        join_all(tasks)
            .await
            .into_iter()
            .map(|joined| joined.expect("the request task ran"))
            .collect()
    }

    /// Every audit row written since the race began (`before` rows ago).
    async fn audit_since(&self, before: usize) -> Vec<AuditRow> {
        let rows = keyward_core::audit::recent(self.app.kw.db(), 10_000)
            .await
            .expect("audit readable");
        let new = rows.len().saturating_sub(before);
        rows.into_iter().take(new).collect()
    }

    async fn audit_count(&self) -> usize {
        keyward_core::audit::recent(self.app.kw.db(), 10_000)
            .await
            .expect("audit readable")
            .len()
    }

    /// Sealed learner passwords and the users pointing at them agree: one
    /// copy per user that has one, none left over from a password replaced.
    async fn assert_copies_match_passwords(&self) {
        let pool = self.app.kw.db().pool();
        let copies: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sealed_secrets WHERE purpose = 'learner_password'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let pointed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users u JOIN sealed_secrets s ON s.id = u.password_sealed_id",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let dangling: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users u WHERE u.password_sealed_id IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM sealed_secrets s WHERE s.id = u.password_sealed_id)",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(
            (copies, dangling),
            (pointed, 0),
            "sealed copies of passwords no longer in use (or pointers to nothing)"
        );
    }
}

/// Statuses and error codes of `replies`, counted: `{"200": 1, "410 link_used": 19}`.
fn tally(replies: &[Reply]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for reply in replies {
        let key = if reply.status.is_success() {
            reply.status.as_u16().to_string()
        } else {
            let code = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|body| body["error"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} {code}", reply.status.as_u16())
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    println!("answers: {counts:?}");
    assert!(
        replies.iter().all(|r| !r.status.is_server_error()),
        "a server error: {counts:?}"
    );
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

fn actions<'a>(rows: &'a [AuditRow], action: &str, outcome: &str) -> Vec<&'a AuditRow> {
    rows.iter()
        .filter(|r| r.action == action && r.outcome == outcome)
        .collect()
}

/// The reset link of the newest reset email (mail delivered first).
async fn newest_reset_link(app: &TestApp) -> String {
    let rng = SeededRandom::new(31);
    app.kw
        .deliver_due_mail(&keyward_core::Ctx::new(UnixTime::now(), &rng))
        .await
        .expect("mail delivered");
    for entry in dev_inbox::list(&app.kw).await.expect("inbox") {
        let message = dev_inbox::read(&app.kw, &entry.id).await.expect("mail");
        if message.subject.contains("Reset") {
            let start = message.text.find("/recovery/").expect("a link") + "/recovery/".len();
            return message.text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
    }
    panic!("no reset email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reset_link_submitted_twenty_times_at_once_resets_once() {
    let race = Race::new().await;
    let app = &race.app;
    // Only accounts that signed in before get a link.
    assert!(signs_in(app, "demo.teacher", DEMO_PASSWORD).await);
    let asked = app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.teacher" }),
        ))
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text());
    let token = newest_reset_link(app).await;
    let path = format!("/api/v1/recovery/{token}");

    let before = race.audit_count().await;
    let passwords: Vec<String> = (0..20)
        .map(|i| format!("racing passphrase {i:02}"))
        .collect();
    let replies = race
        .at_once(
            passwords
                .iter()
                .map(|p| json_post(&path, &json!({ "new_password": p, "confirm_password": p })))
                .collect(),
        )
        .await;
    assert_eq!(
        tally(&replies),
        counts(&[("200", 1), ("410 link_used", 19)])
    );
    let winner = replies
        .iter()
        .position(|r| r.status == StatusCode::OK)
        .unwrap();
    // One success and nineteen refusals in the trail, each saying why.
    let rows = race.audit_since(before).await;
    assert_eq!(rows.len(), 20, "{rows:?}");
    assert_eq!(actions(&rows, "recovery.reset", "success").len(), 1);
    let refused = actions(&rows, "recovery.reset", "failure");
    assert_eq!(refused.len(), 19, "{rows:?}");
    assert!(
        refused
            .iter()
            .all(|r| r.detail.as_deref() == Some("link_used"))
    );

    // The winner's password is the password; the link stays used.
    assert!(signs_in(app, "demo.teacher", &passwords[winner]).await);
    assert!(!signs_in(app, "demo.teacher", &passwords[(winner + 1) % 20]).await);
    let again = app
        .send(json_post(
            &path,
            &json!({ "new_password": "one more passphrase", "confirm_password": "one more passphrase" }),
        ))
        .await;
    assert_api_error(&again, StatusCode::GONE, "link_used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_activations_racing_for_one_username_make_one_account_and_leave_nine_pending() {
    let race = Race::new().await;
    let app = &race.app;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let school = school_of(app, &lead).await;
    let mut pending = Vec::new();
    for i in 0..10 {
        let created = create_user(
            app,
            &lead,
            json!({ "first_name": "Racer", "last_name": format!("No{i}"), "role": "learner", "school_id": school }),
        )
        .await;
        pending.push((
            created["id"].as_str().unwrap().to_owned(),
            created["access_code"].as_str().unwrap().to_owned(),
        ));
    }

    let before = race.audit_count().await;
    // The same name, as different people might type it.
    let spellings = [
        "Same.Name",
        "same.name",
        "SAME.NAME",
        "same.Name",
        "Same.name",
    ];
    let replies = race
        .at_once(
            pending
                .iter()
                .enumerate()
                .map(|(i, (_, code))| {
                    json_post(
                        "/api/v1/activate",
                        &json!({ "code": code, "username": spellings[i % 5], "password": format!("Racer{i}Pass") }),
                    )
                })
                .collect(),
        )
        .await;
    assert_eq!(
        tally(&replies),
        counts(&[("201", 1), ("409 username_taken", 9)])
    );
    let winner = replies
        .iter()
        .position(|r| r.status == StatusCode::CREATED)
        .unwrap();

    // One account holds the name; the nine others are pending, untouched.
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username_key = $1")
        .bind("same.name")
        .fetch_one(app.kw.db().pool())
        .await
        .unwrap();
    assert_eq!(taken, 1);
    for (i, (id, _)) in pending.iter().enumerate() {
        let user = app
            .send(call("GET", &format!("/api/v1/users/{id}"), &lead, None))
            .await
            .json();
        let expected = if i == winner { "active" } else { "pending" };
        assert_eq!(user["status"], expected, "{user}");
    }
    assert!(signs_in(app, "same.name", &format!("Racer{winner}Pass")).await);
    let rows = race.audit_since(before).await;
    assert_eq!(actions(&rows, "code.use", "success").len(), 1, "{rows:?}");

    // A loser's code still works, with another name.
    let loser = (winner + 1) % 10;
    activate(app, &pending[loser].1, "other.name", "Racer0Other", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_access_code_used_eight_times_at_once_on_two_instances_works_once() {
    let race = Race::new().await;
    let app = &race.app;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let school = school_of(app, &lead).await;
    let created = create_user(
        app,
        &lead,
        json!({ "first_name": "Only", "last_name": "Once", "role": "learner", "school_id": school }),
    )
    .await;
    let code = created["access_code"].as_str().unwrap();

    let before = race.audit_count().await;
    // Eight: under the ten free tries per address, so no answer is a 429.
    let replies = race
        .at_once(
            (0..8)
                .map(|i| {
                    json_post(
                        "/api/v1/activate",
                        &json!({ "code": code, "username": format!("only.once{i}"), "password": "OnlyOnce42" }),
                    )
                })
                .collect(),
        )
        .await;
    assert_eq!(tally(&replies), counts(&[("201", 1), ("410 code_used", 7)]));
    let made: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username_key LIKE 'only.once%'")
            .fetch_one(app.kw.db().pool())
            .await
            .unwrap();
    assert_eq!(made, 1);
    let rows = race.audit_since(before).await;
    assert_eq!(actions(&rows, "code.use", "success").len(), 1, "{rows:?}");
}

/// Turns on the demo school's kept copies of learner passwords.
async fn keep_copies(app: &TestApp, lead: &Session) {
    let school = school_of(app, lead).await;
    let reply = app
        .send(call(
            "PUT",
            &format!("/api/v1/schools/{school}/settings"),
            lead,
            Some(json!({ "learner_passwords_retrievable": true })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

/// The kept copy of a learner's password, or `None` when the learner's own
/// password is private.
async fn revealed(app: &TestApp, staff: &Session, learner: &str) -> Option<String> {
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/learners/{learner}/password"),
            staff,
            None,
        ))
        .await;
    match reply.status {
        StatusCode::OK => Some(reply.json()["password"].as_str().unwrap().to_owned()),
        _ => {
            assert_api_error(&reply, StatusCode::NOT_FOUND, "not_retrievable");
            assert_eq!(reply.json()["password_status"], "private");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_class_reset_racing_a_learners_own_change_leaves_one_of_the_two_and_the_trail_says_which()
{
    let race = Race::new().await;
    let app = &race.app;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    keep_copies(app, &lead).await;
    let class = demo_class_id(app, &teacher).await;
    let amy = user_id(app, "demo.amy", DEMO_PASSWORD).await;
    let mut current = DEMO_PASSWORD.to_owned();
    let mut outcomes = BTreeMap::new();
    let mut changes = BTreeMap::new();
    for round in 0..16 {
        let amy_session = app.api_session_as("demo.amy", &current).await;
        let by_class = format!("Class{round}Reset");
        let by_amy = format!("Amy{round}Own");
        let before = race.audit_count().await;
        // Her change a little later each round, so that it lands before,
        // inside and after the reset's transaction.
        let replies = race
            .staggered(vec![
                (
                    Duration::ZERO,
                    call(
                        "POST",
                        &format!("/api/v1/classes/{class}/password-reset"),
                        &teacher,
                        Some(json!({ "mode": "same", "password": by_class })),
                    ),
                ),
                (
                    Duration::from_millis(round * 2),
                    call(
                        "POST",
                        "/api/v1/me/password",
                        &amy_session,
                        Some(json!({ "current_password": current, "new_password": by_amy, "confirm_password": by_amy })),
                    ),
                ),
            ])
            .await;
        assert_eq!(replies[0].status, StatusCode::OK, "{}", replies[0].text());
        let change = tally(&replies[1..]);
        *changes.entry(replies[1].status.as_u16()).or_insert(0) += 1;
        // Her change went through, or was refused clearly because the
        // reset came first: her session had ended, or her current password
        // was no longer the current one.
        let changed = replies[1].status == StatusCode::OK;
        assert!(
            changed
                || change.contains_key("401 unauthenticated")
                || change.contains_key("422 wrong_current_password"),
            "{change:?}"
        );

        // The trail's newest word on her password names what she now has.
        let rows = race.audit_since(before).await;
        let last = rows
            .iter()
            .find(|r| {
                r.outcome == "success"
                    && ((r.action == "class.password_reset"
                        && r.target_id.as_deref() == Some(class.as_str()))
                        || (r.action == "password.change"
                            && r.target_id.as_deref() == Some(amy.as_str())))
            })
            .expect("the reset is audited");
        assert_eq!(
            actions(&rows, "password.change", "success").len(),
            usize::from(changed)
        );
        let (now, other) = if last.action == "password.change" {
            (by_amy.clone(), by_class.clone())
        } else {
            (by_class.clone(), by_amy.clone())
        };
        // A copy is kept exactly when the class reset's password is hers.
        let kept = revealed(app, &teacher, &amy).await;
        assert_eq!(
            kept.as_deref(),
            (now == by_class).then_some(by_class.as_str())
        );
        assert!(signs_in(app, "demo.amy", &now).await, "round {round}");
        assert!(!signs_in(app, "demo.amy", &other).await, "round {round}");
        race.assert_copies_match_passwords().await;
        *outcomes.entry(last.action.clone()).or_insert(0) += 1;
        current = now;
    }
    println!("her change answered {changes:?}; the last word per round: {outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_teachers_resetting_one_learner_at_once_leave_the_password_audited_last() {
    let race = Race::new().await;
    let app = &race.app;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    keep_copies(app, &lead).await;
    let amy = user_id(app, "demo.amy", DEMO_PASSWORD).await;
    let lead_id = user_id(app, "demo.lead", DEMO_PASSWORD).await;
    let teacher_id = user_id(app, "demo.teacher", DEMO_PASSWORD).await;
    let path = format!("/api/v1/learners/{amy}/password");
    let mut outcomes = BTreeMap::new();
    for round in 0..10 {
        let by_teacher = format!("Teacher{round}Set");
        let by_lead = format!("Lead{round}Set");
        let before = race.audit_count().await;
        let replies = race
            .at_once(vec![
                call(
                    "POST",
                    &path,
                    &teacher,
                    Some(json!({ "mode": "set", "password": by_teacher })),
                ),
                call(
                    "POST",
                    &path,
                    &lead,
                    Some(json!({ "mode": "set", "password": by_lead })),
                ),
            ])
            .await;
        assert_eq!(tally(&replies), counts(&[("200", 2)]));
        let rows = race.audit_since(before).await;
        let resets = actions(&rows, "learner.password_reset", "success");
        assert_eq!(resets.len(), 2, "{rows:?}");
        // Newest first: the one audited last set the password she has.
        let (now, other) = if resets[0].actor_id.as_deref() == Some(teacher_id.as_str()) {
            (by_teacher.clone(), by_lead.clone())
        } else {
            assert_eq!(resets[0].actor_id.as_deref(), Some(lead_id.as_str()));
            (by_lead.clone(), by_teacher.clone())
        };
        assert_eq!(
            revealed(app, &teacher, &amy).await.as_deref(),
            Some(now.as_str())
        );
        assert!(signs_in(app, "demo.amy", &now).await, "round {round}");
        assert!(!signs_in(app, "demo.amy", &other).await, "round {round}");
        race.assert_copies_match_passwords().await;
        *outcomes
            .entry(if now == by_teacher { "teacher" } else { "lead" })
            .or_insert(0) += 1;
    }
    println!("last reset per round: {outcomes:?}");
}
