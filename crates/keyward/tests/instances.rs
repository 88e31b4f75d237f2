//! Several `keyward serve` processes on one PostgreSQL database (issue 17,
//! R-DB-2), each on its own port and data folder, sealing with one shared
//! key file, requests alternating between them: sessions, throttles, reset
//! links, access codes, sealing key rotation, a SIGKILL of one instance, and
//! an instance started with other sealing keys. Needs
//! `KEYWARD_TEST_POSTGRES_URL`; without it each test says so and passes.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use keyward_core::testing::DEMO_PASSWORD;
use support::*;

/// Every instance believes `X-Forwarded-For` from loopback, as behind nginx
/// on the same machine, so a test can speak for several clients.
const BEHIND_PROXY: (&str, &str) = ("KEYWARD_SERVER__TRUSTED_PROXIES", "127.0.0.1");

/// Counts outcomes (`200`, `410 link_used`, …) and fails on any 5xx.
fn tally(answers: &[Answer]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.outcome()).or_insert(0) += 1;
    }
    eprintln!("answers: {counts:?}");
    assert!(
        answers.iter().all(|a| a.status < 500),
        "a server error: {counts:?}"
    );
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

/// Runs `calls` at once, each on a thread of its own, and returns the answers
/// in order.
fn at_once(calls: Vec<Box<dyn FnOnce() -> Answer + Send>>) -> Vec<Answer> {
    let barrier = Arc::new(std::sync::Barrier::new(calls.len()));
    let threads: Vec<_> = calls
        .into_iter()
        .map(|call| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                call()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("a call's thread"))
        .collect()
}

fn json_of(pairs: &[(&str, &str)]) -> String {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn forwarded(addr: &str) -> [(&'static str, String); 1] {
    [("X-Forwarded-For", addr.to_owned())]
}

fn sign_in_from(port: u16, addr: &str, username: &str, password: &str) -> Answer {
    let body = json_of(&[("username", username), ("password", password)]);
    let [(name, value)] = forwarded(addr);
    request(
        port,
        "POST",
        "/api/v1/session",
        &[(name, &value)],
        Some(&body),
    )
    .expect("an answer")
}

#[test]
fn a_session_made_on_one_instance_works_on_the_others_and_ends_on_all() {
    let Some(set) = Instances::start("sessions", 3, &[]) else {
        return;
    };
    set.seed_demo();
    let [a, b, c] = set.ports()[..] else {
        unreachable!()
    };
    let started = Instant::now();
    let session = ApiSession::open(a, "demo.teacher", DEMO_PASSWORD);
    // Thirty calls alternating over the three: all signed in.
    let mut seen = Vec::new();
    for i in 0..30 {
        let port = [a, b, c][i % 3];
        let me = session.call(port, "GET", "/api/v1/me", None).unwrap();
        seen.push(me.clone());
        assert_eq!(me.json()["username"], "demo.teacher", "{}", me.body);
    }
    assert_eq!(tally(&seen), counts(&[("200", 30)]));
    // A change made through B (with the session's CSRF token) is seen on C.
    let locale = session
        .call(b, "PUT", "/api/v1/me/locale", Some(r#"{"locale":"es"}"#))
        .unwrap();
    assert_eq!(locale.status, 200, "{}", locale.body);
    let me = session.call(c, "GET", "/api/v1/me", None).unwrap();
    assert_eq!(me.json()["locale"], "es", "{}", me.body);
    // A second session, listed by all three alike.
    let second = ApiSession::open(c, "demo.teacher", DEMO_PASSWORD);
    for port in [a, b, c] {
        let list = session
            .call(port, "GET", "/api/v1/me/sessions", None)
            .unwrap();
        assert_eq!(
            list.json()["sessions"].as_array().map(Vec::len),
            Some(2),
            "{}",
            list.body
        );
    }
    // Signed out on B: the session ends on A and C too; the other goes on.
    let out = session.call(b, "DELETE", "/api/v1/session", None).unwrap();
    assert_eq!(out.status, 204, "{}", out.body);
    for port in [a, b, c] {
        let me = session.call(port, "GET", "/api/v1/me", None).unwrap();
        assert_eq!(me.outcome(), "401 unauthenticated");
        let other = second.call(port, "GET", "/api/v1/me", None).unwrap();
        assert_eq!(other.status, 200);
    }
    eprintln!("sessions over 3 instances: {:?}", started.elapsed());
}

/// A password sign-in of `username` that stops at the second step; the
/// step's cookie header.
fn second_step(port: u16, username: &str) -> String {
    let body = json_of(&[("username", username), ("password", DEMO_PASSWORD)]);
    let answer = request(port, "POST", "/api/v1/session", &[], Some(&body)).unwrap();
    assert_eq!(answer.json()["mfa_required"], true, "{}", answer.body);
    format!(
        "kw_step={}",
        answer.cookie("kw_step").expect("the step's cookie")
    )
}

/// Finishes the step of `cookie` on `port` with `body` (`{"code": …}` or
/// `{"recovery_code": …}`).
fn finish_step(port: u16, cookie: &str, body: &str) -> Answer {
    request(
        port,
        "POST",
        "/api/v1/session/mfa",
        &[("Cookie", cookie)],
        Some(body),
    )
    .expect("an answer")
}

#[test]
fn a_second_step_begun_on_one_instance_finishes_on_another_and_each_code_works_once() {
    let Some(set) = Instances::start("second steps", 3, &[]) else {
        return;
    };
    set.seed_demo();
    let [a, b, c] = set.ports()[..] else {
        unreachable!()
    };
    // An authenticator app turned on through A and B.
    let teacher = ApiSession::open(a, "demo.teacher", DEMO_PASSWORD);
    let body = json_of(&[("password", DEMO_PASSWORD)]);
    let started = teacher
        .call(a, "POST", "/api/v1/me/mfa/totp", Some(&body))
        .unwrap();
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.json()["secret"].as_str().unwrap().to_owned();
    let now = keyward_core::types::UnixTime::now();
    let code = keyward_core::mfa::code_for(&secret, now).unwrap();
    let confirmed = teacher
        .call(
            b,
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            Some(&json_of(&[("code", &code)])),
        )
        .unwrap();
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let recovery: Vec<String> = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();

    // A step begun on C, finished with the next code on A and B at once:
    // one session.
    let step = second_step(c, "demo.teacher");
    let next = keyward_core::mfa::code_for(&secret, now.plus(Duration::from_secs(30))).unwrap();
    let calls: Vec<Box<dyn FnOnce() -> Answer + Send>> = [a, b, a, b]
        .into_iter()
        .map(|port| {
            let (step, body) = (step.clone(), json_of(&[("code", &next)]));
            Box::new(move || finish_step(port, &step, &body)) as Box<dyn FnOnce() -> Answer + Send>
        })
        .collect();
    let answers = at_once(calls);
    let tallied = tally(&answers);
    // The others: the code was used, or (arriving after the winner was
    // done) the step is over.
    assert_eq!(tallied.get("200"), Some(&1), "{tallied:?}");
    assert!(
        answers.iter().all(|a| matches!(
            a.outcome().as_str(),
            "200" | "422 mfa_code_used" | "401 sign_in_step_expired"
        )),
        "{tallied:?}"
    );
    let session = answers.iter().find(|a| a.status == 200).unwrap();
    let cookie = format!("kw_session={}", session.cookie("kw_session").unwrap());
    let me = request(c, "GET", "/api/v1/me", &[("Cookie", &cookie)], None).unwrap();
    assert_eq!(me.json()["username"], "demo.teacher");

    // One recovery code typed into two steps at once, on two instances:
    // it opens one of them.
    let steps = [
        second_step(a, "demo.teacher"),
        second_step(b, "demo.teacher"),
    ];
    let body = json_of(&[("recovery_code", &recovery[0])]);
    let calls: Vec<Box<dyn FnOnce() -> Answer + Send>> = steps
        .iter()
        .zip([b, c])
        .map(|(step, port)| {
            let (step, body) = (step.clone(), body.clone());
            Box::new(move || finish_step(port, &step, &body)) as Box<dyn FnOnce() -> Answer + Send>
        })
        .collect();
    let answers = at_once(calls);
    assert_eq!(
        tally(&answers),
        counts(&[("200", 1), ("422 mfa_code_used", 1)])
    );
}

#[test]
fn failed_sign_ins_on_different_instances_count_together() {
    let Some(set) = Instances::start("throttles", 3, &[BEHIND_PROXY]) else {
        return;
    };
    set.seed_demo();
    let ports = set.ports();
    let attacker = "198.51.100.66";
    let free = 5; // throttle.account_free_failures
    // One after another, each on the next instance: the free failures and
    // one more are checked, then every instance says wait.
    let mut answers = Vec::new();
    for i in 0..free + 3 {
        answers.push(sign_in_from(
            ports[i % 3],
            attacker,
            "demo.teacher",
            "wrong guess",
        ));
    }
    let outcomes: Vec<String> = answers.iter().map(Answer::outcome).collect();
    let mut expected = vec!["401 invalid_credentials".to_owned(); free + 1];
    expected.extend(vec!["429 too_many_attempts".to_owned(); 2]);
    assert_eq!(outcomes, expected);
    assert!(answers.last().unwrap().header("retry-after").is_some());

    // Thirty guesses at once at another account, spread over the three:
    // no more are checked than one after another would be.
    let started = Instant::now();
    let calls: Vec<Box<dyn FnOnce() -> Answer + Send>> = (0..30)
        .map(|i| {
            let port = ports[i % 3];
            Box::new(move || sign_in_from(port, attacker, "demo.lead", &format!("guess {i}")))
                as Box<dyn FnOnce() -> Answer + Send>
        })
        .collect();
    let answers = at_once(calls);
    let elapsed = started.elapsed().as_secs_f64();
    let tallied = tally(&answers);
    let checked = tallied.get("401 invalid_credentials").copied().unwrap_or(0);
    let throttled = tallied.get("429 too_many_attempts").copied().unwrap_or(0);
    assert_eq!(checked + throttled, 30, "{tallied:?}");
    // Delays of 1 s, 2 s, 4 s … follow the free tries: in `elapsed` seconds
    // one after another gets at most this many more.
    let more = (elapsed + 1.0).log2().floor() as usize;
    assert!(
        (free + 1..=free + 1 + more).contains(&checked),
        "{checked} checked in {elapsed:.2} s"
    );
    eprintln!(
        "30 parallel guesses over 3 instances: {checked} checked, {throttled} throttled in {elapsed:.2} s"
    );

    // The owners, at school on another address, sign in on every instance.
    for port in &ports {
        for who in ["demo.teacher", "demo.lead"] {
            assert_eq!(
                sign_in_from(*port, "203.0.113.9", who, DEMO_PASSWORD).status,
                200
            );
        }
    }
}

/// The token of the reset link in `mail`.
fn link_token(mail: &keyward_core::testing::CapturedMail) -> String {
    let text = mail.text.clone().unwrap_or_default();
    let start = text.find("/recovery/").expect("a reset link") + "/recovery/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[test]
fn a_reset_link_asked_on_one_instance_works_once_on_all_of_them() {
    let Some(set) = Instances::start("recovery links", 3, &[]) else {
        return;
    };
    set.seed_demo();
    let [a, b, c] = set.ports()[..] else {
        unreachable!()
    };
    // Only accounts that signed in before get a link.
    assert_eq!(sign_in(c, "demo.teacher", DEMO_PASSWORD).0, 200);
    let asked = request(
        a,
        "POST",
        "/api/v1/recovery",
        &[],
        Some(r#"{"username":"demo.teacher"}"#),
    )
    .unwrap();
    assert_eq!(asked.status, 202, "{}", asked.body);
    let token = link_token(&set.wait_for_mail("Reset"));
    let path = format!("/api/v1/recovery/{token}");
    let shown = request(b, "GET", &path, &[], None).unwrap();
    assert_eq!(shown.status, 200, "{}", shown.body);

    // Twelve submits at once, four on each instance: one resets.
    let calls: Vec<Box<dyn FnOnce() -> Answer + Send>> = (0..12)
        .map(|i| {
            let (port, path) = ([a, b, c][i % 3], path.clone());
            Box::new(move || {
                let password = format!("racing passphrase {i:02}");
                let body = json_of(&[("new_password", &password), ("confirm_password", &password)]);
                request(port, "POST", &path, &[], Some(&body)).expect("an answer")
            }) as Box<dyn FnOnce() -> Answer + Send>
        })
        .collect();
    let answers = at_once(calls);
    assert_eq!(
        tally(&answers),
        counts(&[("200", 1), ("410 link_used", 11)])
    );
    let winner = answers.iter().position(|a| a.status == 200).unwrap();
    let password = format!("racing passphrase {winner:02}");
    for port in [a, b, c] {
        assert_eq!(sign_in(port, "demo.teacher", &password).0, 200);
        let again = request(port, "GET", &path, &[], None).unwrap();
        assert_eq!(again.outcome(), "410 link_used");
    }
}

#[test]
fn an_access_code_used_on_two_instances_at_once_makes_one_account() {
    let Some(set) = Instances::start("access codes", 2, &[BEHIND_PROXY]) else {
        return;
    };
    set.seed_demo();
    let [a, b] = set.ports()[..] else {
        unreachable!()
    };
    let lead = ApiSession::open(a, "demo.lead", DEMO_PASSWORD);
    let school = lead.call(b, "GET", "/api/v1/me", None).unwrap().json()["school_id"]
        .as_str()
        .expect("the lead's school")
        .to_owned();
    let mut all = Vec::new();
    for round in 0..5 {
        let body = json_of(&[
            ("first_name", "Racer"),
            ("last_name", &format!("Round{round}")),
            ("role", "learner"),
            ("school_id", &school),
        ]);
        let created = lead.call(a, "POST", "/api/v1/users", Some(&body)).unwrap();
        assert_eq!(created.status, 201, "{}", created.body);
        let code = created.json()["access_code"].as_str().unwrap().to_owned();
        let id = created.json()["id"].as_str().unwrap().to_owned();
        // Six people at once, three on each instance, each from an address
        // of their own (code entry is throttled per address).
        let calls: Vec<Box<dyn FnOnce() -> Answer + Send>> = (0..6)
            .map(|i| {
                let port = [a, b][i % 2];
                let code = code.clone();
                Box::new(move || {
                    let body = json_of(&[
                        ("code", &code),
                        ("username", &format!("racer.{round}.{i}")),
                        ("password", "Racer42Pass"),
                    ]);
                    let addr = format!("198.51.100.{}", 10 + round * 10 + i);
                    request(
                        port,
                        "POST",
                        "/api/v1/activate",
                        &[("X-Forwarded-For", &addr)],
                        Some(&body),
                    )
                    .expect("an answer")
                }) as Box<dyn FnOnce() -> Answer + Send>
            })
            .collect();
        let answers = at_once(calls);
        assert_eq!(tally(&answers), counts(&[("201", 1), ("410 code_used", 5)]));
        let winner = answers.iter().position(|a| a.status == 201).unwrap();
        let user = lead
            .call(b, "GET", &format!("/api/v1/users/{id}"), None)
            .unwrap()
            .json();
        assert_eq!(user["status"], "active");
        assert_eq!(user["username"], format!("racer.{round}.{winner}"));
        all.extend(answers);
    }
    let made: i64 = set.with_core(async |kw, _| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username_key LIKE 'racer.%'")
            .fetch_one(kw.db().pool())
            .await
            .unwrap()
    });
    assert_eq!(made, 5);
    assert_eq!(tally(&all), counts(&[("201", 5), ("410 code_used", 25)]));
}

/// Every `sealed_secrets` value, by purpose: how many under each key.
fn sealed_keys(set: &Instances) -> BTreeMap<String, usize> {
    let values: Vec<String> = set.with_core(async |kw, _| {
        sqlx::query_scalar("SELECT sealed FROM sealed_secrets")
            .fetch_all(kw.db().pool())
            .await
            .unwrap()
    });
    let mut keys = BTreeMap::new();
    for value in values {
        let key = value.split('.').take(2).collect::<Vec<_>>().join(".");
        *keys.entry(key).or_insert(0) += 1;
    }
    keys
}

fn reveal(session: &ApiSession, port: u16, learner: &str) -> String {
    let shown = session
        .call(
            port,
            "GET",
            &format!("/api/v1/learners/{learner}/password"),
            None,
        )
        .unwrap();
    assert_eq!(shown.status, 200, "{}", shown.body);
    shown.json()["password"].as_str().unwrap().to_owned()
}

fn set_password(session: &ApiSession, port: u16, learner: &str, password: &str) {
    let body = json_of(&[("mode", "set"), ("password", password)]);
    let reset = session
        .call(
            port,
            "POST",
            &format!("/api/v1/learners/{learner}/password"),
            Some(&body),
        )
        .unwrap();
    assert_eq!(reset.status, 200, "{}", reset.body);
}

#[test]
fn sealed_secrets_open_on_every_instance_across_a_key_rotation() {
    let Some(set) = Instances::start("key rotation", 3, &[]) else {
        return;
    };
    set.seed_demo();
    let ports = set.ports();
    let [a, b, c] = ports[..] else { unreachable!() };
    let lead = ApiSession::open(a, "demo.lead", DEMO_PASSWORD);
    let teacher = ApiSession::open(b, "demo.teacher", DEMO_PASSWORD);
    let me = lead.call(a, "GET", "/api/v1/me", None).unwrap().json();
    let school = me["school_id"].as_str().unwrap().to_owned();
    let kept = lead
        .call(
            b,
            "PUT",
            &format!("/api/v1/schools/{school}/settings"),
            Some(r#"{"learner_passwords_retrievable":true}"#),
        )
        .unwrap();
    assert_eq!(kept.status, 200, "{}", kept.body);
    let learners = teacher
        .call(c, "GET", "/api/v1/classes", None)
        .unwrap()
        .json();
    let class = learners[0]["id"].as_str().unwrap().to_owned();
    let listed = teacher
        .call(a, "GET", &format!("/api/v1/classes/{class}/learners"), None)
        .unwrap()
        .json();
    let id_of = |username: &str| -> String {
        listed
            .as_array()
            .and_then(|l| l.iter().find(|p| p["username"] == username))
            .and_then(|p| p["id"].as_str())
            .unwrap_or_else(|| panic!("{username} in {listed}"))
            .to_owned()
    };
    let (amy, ben, cara) = (id_of("demo.amy"), id_of("demo.ben"), id_of("demo.cara"));

    // Sealed under k1 by A, and a pending learner's access code by B.
    set_password(&teacher, a, &amy, "Before1Rotation");
    let body = json_of(&[
        ("first_name", "Pending"),
        ("last_name", "Learner"),
        ("role", "learner"),
        ("school_id", &school),
    ]);
    let created = lead
        .call(b, "POST", "/api/v1/users", Some(&body))
        .unwrap()
        .json();
    let pending = created["id"].as_str().unwrap().to_owned();
    let code = created["access_code"].as_str().unwrap().to_owned();
    for port in [a, b, c] {
        assert_eq!(reveal(&teacher, port, &amy), "Before1Rotation");
    }
    assert!(
        sealed_keys(&set).keys().all(|k| k == "v2.k1"),
        "{:?}",
        sealed_keys(&set)
    );

    // `keyward keys rotate` on the shared key file while all three run.
    let rotated = run_with_stdin(
        set.site
            .command()
            .env("KEYWARD_SEALING__KEY_FILE", set.key_file())
            .args(["keys", "rotate"]),
        "",
    );
    let stdout = text(&rotated.stdout);
    assert!(
        rotated.status.success(),
        "{stdout}{}",
        text(&rotated.stderr)
    );
    assert!(stdout.contains("Sealing key k2 is now current"), "{stdout}");
    let after = sealed_keys(&set);
    assert_eq!(after.keys().collect::<Vec<_>>(), ["v2.k2"], "{after:?}");
    eprintln!("after rotation: {after:?} ({stdout})");

    // B seals before it meets a k2 value: still under k1, which every
    // instance keeps opening (the next rotation re-seals it).
    set_password(&teacher, b, &ben, "Ben1BeforeMeeting");
    // Every instance opens what was re-sealed, and A and C, having met k2,
    // seal under it from then on.
    for port in [a, b, c] {
        assert_eq!(reveal(&teacher, port, &amy), "Before1Rotation");
        let user = lead
            .call(port, "GET", &format!("/api/v1/users/{pending}"), None)
            .unwrap()
            .json();
        assert_eq!(user["access_code"], code.as_str(), "{user}");
    }
    set_password(&teacher, c, &cara, "Cara1AfterMeeting");
    for port in [a, b, c] {
        assert_eq!(reveal(&teacher, port, &ben), "Ben1BeforeMeeting");
        assert_eq!(reveal(&teacher, port, &cara), "Cara1AfterMeeting");
    }
    let keys = sealed_keys(&set);
    eprintln!("after new seals: {keys:?}");
    assert_eq!(keys.get("v2.k1"), Some(&1), "{keys:?}");
    // The code, found by its look-up hash (whose key never rotates), works.
    let body = json_of(&[
        ("code", &code),
        ("username", "after.rotation"),
        ("password", "After1Rotation"),
    ]);
    let used = request(c, "POST", "/api/v1/activate", &[], Some(&body)).unwrap();
    assert_eq!(used.status, 201, "{}", used.body);
}

#[test]
fn an_instance_with_other_sealing_keys_is_refused_at_start() {
    let Some(mut set) = Instances::start("other sealing keys", 1, &[]) else {
        return;
    };
    set.seed_demo();
    let a = set.ports()[0];
    let lead = ApiSession::open(a, "demo.lead", DEMO_PASSWORD);
    let school = lead.call(a, "GET", "/api/v1/me", None).unwrap().json()["school_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json_of(&[
        ("first_name", "Pending"),
        ("last_name", "Learner"),
        ("role", "learner"),
        ("school_id", &school),
    ]);
    let created = lead.call(a, "POST", "/api/v1/users", Some(&body)).unwrap();
    assert_eq!(created.status, 201, "{}", created.body);

    // A second machine set up without copying the key file: its data folder
    // gets a key file of its own at first start.
    let own_dir = set.site.root.path().join("elsewhere");
    let mut elsewhere = set.spawn_with_vars(
        "elsewhere",
        &[(
            "KEYWARD_SERVER__DATA_DIR",
            own_dir.to_string_lossy().into_owned(),
        )],
    );
    let status = elsewhere.wait_for_exit(Duration::from_secs(60));
    let (_, stderr) = elsewhere.output();
    assert!(!status.success(), "it served with other keys: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("keyward: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    eprintln!("refused: {}", errors[0]);
    for needle in ["sealing", "lookup", "key k1", "sealing.key_file"] {
        assert!(
            errors[0].contains(needle),
            "{needle:?} not in {}",
            errors[0]
        );
    }
    // Nor with keys from the environment that differ.
    let keys = "lookup AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; key k1 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let mut inline = set.spawn_with_vars("inline", &[("KEYWARD_SEALING__KEYS", keys.to_owned())]);
    assert!(!inline.wait_for_exit(Duration::from_secs(60)).success());
    // The instance with the right keys still serves, and one more with the
    // shared key file joins it.
    let joined = set.spawn(&[]);
    set.servers[joined].wait_until_ready();
    let b = set.servers[joined].port;
    let me = lead.call(b, "GET", "/api/v1/me", None).unwrap();
    assert_eq!(me.status, 200, "{}", me.body);
    let user = lead
        .call(
            b,
            "GET",
            &format!("/api/v1/users/{}", created.json()["id"].as_str().unwrap()),
            None,
        )
        .unwrap()
        .json();
    assert_eq!(user["access_code"], created.json()["access_code"]);
}

#[test]
fn a_killed_instance_loses_nothing_and_its_requests_move_to_the_others() {
    let Some(mut set) = Instances::start("SIGKILL", 3, &[]) else {
        return;
    };
    set.seed_demo();
    let ports = set.ports();
    let lead = ApiSession::open(ports[0], "demo.lead", DEMO_PASSWORD);
    let school = lead
        .call(ports[1], "GET", "/api/v1/me", None)
        .unwrap()
        .json()["school_id"]
        .as_str()
        .unwrap()
        .to_owned();
    const PEOPLE: usize = 24;
    let mut codes = Vec::new();
    for i in 0..PEOPLE {
        let body = json_of(&[
            ("first_name", "Kill"),
            ("last_name", &format!("Test{i}")),
            ("role", "learner"),
            ("school_id", &school),
        ]);
        let created = lead
            .call(ports[i % 3], "POST", "/api/v1/users", Some(&body))
            .unwrap();
        assert_eq!(created.status, 201, "{}", created.body);
        codes.push(created.json()["access_code"].as_str().unwrap().to_owned());
    }
    // A session made on the instance about to die.
    let doomed_session = ApiSession::open(ports[2], "demo.teacher", DEMO_PASSWORD);

    // Four clients through a balancer: each person uses their code, signs
    // in and reads their own page, twice; the third instance is killed
    // after a third of the work.
    let balancer = Arc::new(Balancer::new(ports.clone()));
    let done = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (balancer, done, answers) = (balancer.clone(), done.clone(), answers.clone());
            let mine: Vec<(usize, String)> = codes
                .iter()
                .cloned()
                .enumerate()
                .filter(|(i, _)| i % 4 == w)
                .collect();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                for (i, code) in mine {
                    let username = format!("kill.test{i}");
                    let password = format!("Kill{i}Test");
                    let body = json_of(&[
                        ("code", &code),
                        ("username", &username),
                        ("password", &password),
                    ]);
                    let used = balancer
                        .send(|port| request(port, "POST", "/api/v1/activate", &[], Some(&body)));
                    // Sent to the killed one and moved: the first try may have
                    // gone through before the kill, which the second is told.
                    assert!(
                        used.status == 201 || used.outcome() == "410 code_used",
                        "{}",
                        used.body
                    );
                    seen.push(used);
                    for _ in 0..2 {
                        let signed = balancer.send(|port| {
                            let body = json_of(&[("username", &username), ("password", &password)]);
                            request(port, "POST", "/api/v1/session", &[], Some(&body))
                        });
                        assert_eq!(signed.status, 200, "{}", signed.body);
                        let cookie = format!("kw_session={}", signed.cookie("kw_session").unwrap());
                        let me = balancer.send(|port| {
                            request(port, "GET", "/api/v1/me", &[("Cookie", &cookie)], None)
                        });
                        assert_eq!(me.json()["username"], username.as_str());
                        seen.extend([signed, me]);
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
                answers.lock().unwrap().extend(seen);
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::SeqCst) < PEOPLE / 3 {
        assert!(Instant::now() < deadline, "the clients did not get going");
        std::thread::sleep(Duration::from_millis(5));
    }
    set.servers[2]
        .child
        .kill()
        .expect("SIGKILL the third instance");
    let killed = set.servers[2]
        .child
        .wait()
        .expect("the third instance ended");
    let killed_at = done.load(Ordering::SeqCst);
    for worker in workers {
        worker.join().expect("a client finished");
    }
    let answers = answers.lock().unwrap().clone();
    let moved = balancer.moved.load(Ordering::SeqCst);
    eprintln!(
        "killed after {killed_at} of {PEOPLE} people; {} answers, {moved} call(s) moved to another instance",
        answers.len()
    );
    tally(&answers);
    // Nothing lost: every person is active and signs in, on both survivors;
    // the session made on the dead instance still works.
    for i in 0..PEOPLE {
        for port in &ports[..2] {
            assert_eq!(
                sign_in(*port, &format!("kill.test{i}"), &format!("Kill{i}Test")).0,
                200
            );
        }
    }
    for port in &ports[..2] {
        assert_eq!(
            doomed_session
                .call(*port, "GET", "/api/v1/me", None)
                .unwrap()
                .status,
            200
        );
        assert_eq!(http(*port, "GET", "/readyz", None).unwrap().0, 200);
    }
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(killed.signal(), Some(9), "{killed:?}");
}
