//! Use-case tests of activation, on the backend of the test run.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::admin::NewPendingUser;
use crate::authz::Actor;
use crate::testing::{MONDAY_MORNING, TestDb, actor_named, ctx_at, demo_keyward};
use crate::types::random::SeededRandom;
use crate::types::{ClassId, SchoolId};

struct World {
    kw: Arc<Keyward>,
    _db: TestDb,
    rng: SeededRandom,
    lead: Actor,
    school: SchoolId,
    class: ClassId,
}

async fn world() -> World {
    let (kw, db, rng) = demo_keyward(31).await;
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let class = kw
        .class_database(&crate::testing::view_ctx(), &lead, None)
        .await
        .unwrap()[0]
        .id
        .clone();
    World {
        kw,
        _db: db,
        rng,
        lead,
        school,
        class,
    }
}

impl World {
    fn ctx(&self) -> Ctx<'_> {
        ctx_at(MONDAY_MORNING, &self.rng)
    }

    async fn new_user(&self, role: Role) -> crate::admin::CreatedUser {
        let request = NewPendingUser {
            first_name: "Nia".into(),
            last_name: "New".into(),
            role,
            school_id: Some(self.school.clone()),
            class_ids: vec![self.class.clone()],
            email: None,
        };
        self.kw
            .create_user(&self.ctx(), &self.lead, &request)
            .await
            .unwrap()
    }
}

fn input(code: &str, username: &str, email: Option<&str>) -> ActivationInput {
    ActivationInput {
        code: code.into(),
        username: username.into(),
        password: "TigerApple42".into(),
        confirm_password: Some("TigerApple42".into()),
        email: email.map(str::to_owned),
        first_name: None,
        last_name: None,
    }
}

/// A parent names themselves when they make their account.
fn named(mut input: ActivationInput) -> ActivationInput {
    input.first_name = Some("Pat".into());
    input.last_name = Some("Parent".into());
    input
}

#[tokio::test]
async fn a_learner_activates_with_the_code_and_signs_in() {
    let w = world().await;
    let created = w.new_user(Role::Learner).await;
    assert!(created.parent_access_code.is_some());
    let info =
        w.kw.inspect_code(
            &w.ctx(),
            &crate::types::TypedCode::from(&created.access_code),
        )
        .await
        .unwrap();
    assert_eq!(
        (info.kind, info.needs_email, info.first_name.as_str()),
        (CodeKind::Activation, false, "Nia")
    );
    // Dashes and spaces are forgiven; case is not.
    let typed = created.access_code.replace('-', " ");
    let account =
        w.kw.activate(&w.ctx(), &input(&typed, "nia.new", None))
            .await
            .unwrap();
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(account.username.as_str(), "nia.new");
    w.kw.sign_in(&w.ctx(), "nia.new", "TigerApple42".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
}

/// Of people using one code at the same moment on two instances, one gets
/// the account and every other is told the code was used — never that it is
/// unknown (a refusal read between the winner's commit and the code's row
/// once said so), and every refusal is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_works_once_even_when_two_use_it_at_the_same_moment() {
    let w = world().await;
    let instances = [w.kw.clone(), crate::testing::second_instance(&w._db).await];
    for round in 0..8u64 {
        let created = w.new_user(Role::Learner).await;
        let mut tasks = Vec::new();
        for i in 0..6u64 {
            let kw = instances[(i % 2) as usize].clone();
            let code = created.access_code.clone();
            tasks.push(tokio::spawn(async move {
                let rng = SeededRandom::new(200 + round * 10 + i);
                // Each from an address of its own: code entry is throttled
                // per address, which is not what this is about.
                let ctx = ctx_at(MONDAY_MORNING, &rng)
                    .with_client(Some(format!("198.51.100.{}", round * 10 + i)), None);
                kw.activate(&ctx, &input(&code, &format!("racer{round}x{i}"), None))
                    .await
                    .map_err(|err| err.code().as_str())
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().map(|_| "ok"));
        }
        let ok = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(_) | Err("code_used"))),
            "round {round}: {outcomes:?}"
        );
        let err =
            w.kw.activate(&w.ctx(), &input(&created.access_code, "late", None))
                .await
                .unwrap_err();
        assert_eq!(err.code(), "code_used");
    }
    // One success and six refusals a round, each in the trail.
    let rows = crate::audit::recent(&w.kw.db, 1000).await.unwrap();
    let count = |outcome: &str| {
        rows.iter()
            .filter(|r| r.action == action::CODE_USE && r.outcome == outcome)
            .count()
    };
    assert_eq!((count("success"), count("failure")), (8, 8 * 6));
}

#[tokio::test]
async fn two_people_racing_for_one_username_one_wins_the_other_is_told() {
    let w = world().await;
    let a = w.new_user(Role::Learner).await;
    let b = w.new_user(Role::Learner).await;
    let (ctx_a, ctx_b) = (w.ctx(), w.ctx());
    let (input_a, input_b) = (
        input(&a.access_code, "same.name", None),
        input(&b.access_code, "Same.Name", None),
    );
    let (first, second) = tokio::join!(
        w.kw.activate(&ctx_a, &input_a),
        w.kw.activate(&ctx_b, &input_b)
    );
    let results = [first, second];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(loser.code(), "username_taken");
    // The loser's code still works with another name.
    let loser_code = if results[0].is_err() {
        &a.access_code
    } else {
        &b.access_code
    };
    w.kw.activate(&w.ctx(), &input(loser_code, "other.name", None))
        .await
        .unwrap();
    let taken = w.new_user(Role::Learner).await;
    let err =
        w.kw.activate(&w.ctx(), &input(&taken.access_code, "demo.amy", None))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "username_taken");
}

#[tokio::test]
async fn staff_must_give_an_email_and_meet_the_staff_policy() {
    let w = world().await;
    let created = w.new_user(Role::Teacher).await;
    let err =
        w.kw.activate(&w.ctx(), &input(&created.access_code, "new.teacher", None))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "email_missing");
    let mut weak = input(
        &created.access_code,
        "new.teacher",
        Some("nt@school.example"),
    );
    weak.password = "password".into();
    weak.confirm_password = Some("password".into());
    let err = w.kw.activate(&w.ctx(), &weak).await.unwrap_err();
    assert_eq!(err.code(), "password_policy");
    let account =
        w.kw.activate(
            &w.ctx(),
            &input(
                &created.access_code,
                "new.teacher",
                Some("nt@school.example"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(account.email.unwrap().as_str(), "nt@school.example");
}

#[tokio::test]
async fn codes_expire_after_thirty_days_and_wrong_codes_are_throttled() {
    let w = world().await;
    let created = w.new_user(Role::Learner).await;
    let later = MONDAY_MORNING.plus(ACCESS_CODE_TTL);
    let err =
        w.kw.activate(
            &ctx_at(later, &w.rng),
            &input(&created.access_code, "too.late", None),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "code_expired");

    let mut saw_throttle = false;
    for i in 0..20 {
        let ctx = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(i)), &w.rng);
        match w
            .kw
            .inspect_code(&ctx, &crate::types::TypedCode::from("ABCDE-FGHJK"))
            .await
        {
            Err(ActivationError::Throttled { .. }) => {
                saw_throttle = true;
                break;
            }
            Err(err) => assert_eq!(err.code(), "code_unknown"),
            Ok(_) => panic!("a made-up code worked"),
        }
    }
    assert!(
        saw_throttle,
        "guessing codes from one address is slowed down"
    );
}

#[tokio::test]
async fn a_parent_makes_an_account_linked_to_the_child_and_codes_rest_sealed() {
    let w = world().await;
    let created = w.new_user(Role::Learner).await;
    let parent_code = created.parent_access_code.clone().unwrap();
    let info =
        w.kw.inspect_code(&w.ctx(), &crate::types::TypedCode::from(&parent_code))
            .await
            .unwrap();
    assert_eq!((info.kind, info.needs_email), (CodeKind::Parent, true));
    let parent =
        w.kw.activate(
            &w.ctx(),
            &named(input(&parent_code, "nia.mum", Some("mum@family.example"))),
        )
        .await
        .unwrap();
    assert_eq!(parent.role, Role::Parent);
    // A second parent may use the same code.
    w.kw.activate(
        &w.ctx(),
        &named(input(&parent_code, "nia.dad", Some("dad@family.example"))),
    )
    .await
    .unwrap();
    let links: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM parent_learners WHERE learner_id = $1")
            .bind(created.id.as_str())
            .fetch_one(w.kw.db().pool())
            .await
            .unwrap();
    assert_eq!(links, 2);
    // Neither code is stored in plain form.
    let mut dump = String::new();
    for sql in [
        "SELECT lookup_hash FROM access_codes",
        "SELECT sealed FROM sealed_secrets",
    ] {
        let values: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(w.kw.db().pool())
            .await
            .unwrap();
        dump.push_str(&values.join("\n"));
    }
    for code in [&created.access_code, &parent_code] {
        assert!(!dump.contains(code.as_str()) && !dump.contains(&code.replace('-', "")));
    }
}

#[tokio::test]
async fn nobody_creates_an_account_holding_more_than_they_do() {
    let w = world().await;
    let request = NewPendingUser {
        first_name: "Boss".into(),
        last_name: "Person".into(),
        role: Role::PlatformAdmin,
        school_id: None,
        class_ids: vec![],
        email: None,
    };
    let err =
        w.kw.create_user(&w.ctx(), &w.lead, &request)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let teacher = actor_named(&w.kw, "demo.teacher").await;
    let learner = NewPendingUser {
        role: Role::Learner,
        school_id: Some(w.school.clone()),
        ..request
    };
    let err =
        w.kw.create_user(&w.ctx(), &teacher, &learner)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[tokio::test]
async fn parallel_wrong_codes_from_one_address_get_the_sequential_tries_only() {
    let w = world().await;
    let created = w.new_user(Role::Learner).await;
    let attacker = ctx_at(MONDAY_MORNING, &w.rng).with_client(Some("198.51.100.66".into()), None);
    let guess = crate::types::TypedCode::from("ABCDE-FGHJK");
    let guesses = (0..100).map(|_| w.kw.inspect_code(&attacker, &guess));
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|a| matches!(a, Err(ActivationError::UnknownCode)))
        .count();
    let throttled = answers
        .iter()
        .filter(|a| matches!(a, Err(ActivationError::Throttled { .. })))
        .count();
    // Ten free failures, then one more try before the first delay.
    assert_eq!((checked, throttled), (11, 89));
    // Nobody else is slowed: there is no counter shared by every client.
    let learner = ctx_at(MONDAY_MORNING, &w.rng).with_client(Some("203.0.113.9".into()), None);
    w.kw.inspect_code(
        &learner,
        &crate::types::TypedCode::from(&created.access_code),
    )
    .await
    .expect("a learner elsewhere uses their code at once");
}

#[tokio::test]
async fn parallel_wrong_class_codes_from_one_address_get_the_sequential_tries_only() {
    let w = world().await;
    let attacker = ctx_at(MONDAY_MORNING, &w.rng).with_client(Some("198.51.100.66".into()), None);
    let inputs: Vec<_> = (0..60)
        .map(|i| crate::activation::JoinInput {
            class_code: "ZZZZZZ".into(),
            first_name: "Zoe".into(),
            last_name: "Zhang".into(),
            username: format!("zoe.{i}"),
            password: "TigerApple42".into(),
            confirm_password: Some("TigerApple42".into()),
        })
        .collect();
    let joins = inputs
        .iter()
        .map(|input| w.kw.join_class_as_new_learner(&attacker, input));
    let answers = futures_util::future::join_all(joins).await;
    let checked = answers
        .iter()
        .filter(|a| matches!(a, Err(ActivationError::UnknownClassCode)))
        .count();
    assert_eq!(
        checked,
        11,
        "{:?}",
        answers
            .iter()
            .map(|a| a.as_ref().err().map(|e| e.code()))
            .collect::<Vec<_>>()
    );
}
