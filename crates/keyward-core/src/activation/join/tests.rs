//! Use-case tests of class codes and joining a class, on the backend of the
//! test run: the demo school, its Class 4B taught by demo.teacher, and a
//! second school made for the out-of-scope cases.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::admin::NewPendingUser;
use crate::authz::Actor;
use crate::authz::authorize;
use crate::error::CodedError;
use crate::testing::{MONDAY_MORNING, TestDb, actor_named, audited_actions, ctx_at, demo_keyward};
use crate::types::random::SeededRandom;

struct World {
    kw: Arc<Keyward>,
    _db: TestDb,
    rng: SeededRandom,
    admin: Actor,
    lead: Actor,
    teacher: Actor,
    school: SchoolId,
    /// Class 4B, taught by demo.teacher.
    class: ClassId,
    code: String,
}

async fn world() -> World {
    let (kw, db, rng) = demo_keyward(41).await;
    let admin = actor_named(&kw, "demo.admin").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let school = lead.school_id.clone().unwrap();
    let class = teacher.classes[0].clone();
    let code = kw.demo_class_code().await.unwrap().unwrap();
    World {
        kw,
        _db: db,
        rng,
        admin,
        lead,
        teacher,
        school,
        class,
        code,
    }
}

impl World {
    fn ctx(&self) -> Ctx<'_> {
        ctx_at(MONDAY_MORNING, &self.rng)
    }

    /// A class of `school` made by the platform admin, taught by `teachers`.
    async fn class_in(
        &self,
        school: &SchoolId,
        name: &str,
        teachers: &[UserId],
    ) -> (ClassId, String) {
        let class = self
            .kw
            .create_class(&self.ctx(), &self.admin, school, name, teachers)
            .await
            .unwrap();
        (class.id, class.class_code.unwrap())
    }

    /// An active staff member of `school`, made pending and activated.
    async fn staff(&self, school: &SchoolId, role: Role, username: &str) -> Actor {
        let created = self
            .kw
            .create_user(
                &self.ctx(),
                &self.admin,
                &NewPendingUser {
                    first_name: "Sam".into(),
                    last_name: "Staff".into(),
                    role,
                    school_id: Some(school.clone()),
                    class_ids: vec![],
                    email: Some(format!("{username}@school.example")),
                },
            )
            .await
            .unwrap();
        self.kw
            .activate(
                &self.ctx(),
                &crate::activation::ActivationInput {
                    code: crate::types::TypedCode::from(created.access_code),
                    username: username.into(),
                    password: "a fine passphrase".into(),
                    confirm_password: None,
                    email: Some(format!("{username}@school.example")),
                    first_name: None,
                    last_name: None,
                },
            )
            .await
            .unwrap();
        actor_named(&self.kw, username).await
    }

    async fn other_school(&self) -> SchoolId {
        self.kw
            .create_school(&self.ctx(), &self.admin, "Hill Top Academy")
            .await
            .unwrap()
            .id
    }

    async fn users(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.kw.db().pool())
            .await
            .unwrap()
    }
}

fn join_input(code: &str, username: &str) -> JoinInput {
    JoinInput {
        class_code: code.into(),
        first_name: "Zoe".into(),
        last_name: "Zhang".into(),
        username: username.into(),
        password: "TigerApple42".into(),
        confirm_password: Some("TigerApple42".into()),
    }
}

/// The code as a child might copy it from the board: small letters, spaced.
fn as_typed(code: &str) -> String {
    let lower = code.to_ascii_lowercase();
    format!(" {} {} ", &lower[..3], &lower[3..])
}

#[test]
fn class_codes_are_typed_in_any_case_with_spaces() {
    assert_eq!(normalize_class_code(" k7q m2x "), Some("K7QM2X".into()));
    assert_eq!(normalize_class_code("K7Q-M2X"), Some("K7QM2X".into()));
    assert_eq!(normalize_class_code("K7QM2"), None);
    assert_eq!(normalize_class_code("K7QM2XY"), None);
    // 0, O, 1 and I are never in a class code.
    assert_eq!(normalize_class_code("K7QM20"), None);
    assert_eq!(normalize_class_code("ÄBCDEF"), None);
}

#[tokio::test]
async fn a_new_learner_joins_with_the_class_code_and_signs_in() {
    let w = world().await;
    let account =
        w.kw.join_class_as_new_learner(&w.ctx(), &join_input(&as_typed(&w.code), "zoe.z"))
            .await
            .unwrap();
    assert_eq!(
        (account.role, account.status, account.school_id.as_ref()),
        (Role::Learner, AccountStatus::Active, Some(&w.school))
    );
    assert_eq!(account.display_name(), "Zoe Zhang");
    w.kw.sign_in(&w.ctx(), "zoe.z", "TigerApple42".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    // Made by its owner, enrolled in the class, with a parent access code.
    let by_owner: i64 = sqlx::query_scalar("SELECT created_by_owner FROM users WHERE id = $1")
        .bind(account.id.as_str())
        .fetch_one(w.kw.db().pool())
        .await
        .unwrap();
    assert_eq!(by_owner, 1);
    let target = w.kw.user_target(&account.id).await.unwrap().unwrap();
    assert_eq!(target.classes, vec![w.class.clone()]);
    authorize(&w.teacher, Action::ViewLearner, Target::User(&target)).unwrap();
    let details =
        w.kw.show_user(&crate::testing::view_ctx(), &w.teacher, &account.id)
            .await
            .unwrap();
    assert!(details.parent_access_code.is_some());
    assert!(details.access_code.is_none());
    let audit = crate::audit::recent(w.kw.db(), 5).await.unwrap();
    assert!(audit.iter().any(|row| row.action == action::CLASS_JOIN
        && row.outcome == "success"
        && row.detail.as_deref() == Some(w.class.as_str())));
}

#[tokio::test]
async fn a_switched_off_or_regenerated_code_lets_nobody_in() {
    let w = world().await;
    let off =
        w.kw.set_class_code_enabled(&w.ctx(), &w.teacher, &w.class, false)
            .await
            .unwrap();
    assert_eq!(
        (off.code.as_deref(), off.enabled),
        (Some(w.code.as_str()), false)
    );
    let err =
        w.kw.join_class_as_new_learner(&w.ctx(), &join_input(&w.code, "zoe.z"))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "code_unknown");
    // The same answer as a code that never existed.
    let never =
        w.kw.join_class_as_new_learner(&w.ctx(), &join_input("ZZZZZZ", "zoe.z"))
            .await
            .unwrap_err();
    assert_eq!(
        (never.code(), never.to_string()),
        (err.code(), err.to_string())
    );

    let on =
        w.kw.set_class_code_enabled(&w.ctx(), &w.teacher, &w.class, true)
            .await
            .unwrap();
    assert_eq!(
        (on.code.as_deref(), on.enabled),
        (Some(w.code.as_str()), true)
    );
    w.kw.join_class_as_new_learner(&w.ctx(), &join_input(&w.code, "zoe.z"))
        .await
        .unwrap();

    let fresh =
        w.kw.regenerate_class_code(&w.ctx(), &w.teacher, &w.class)
            .await
            .unwrap();
    let new_code = fresh.code.clone().unwrap();
    assert_ne!(new_code, w.code);
    assert_eq!(
        w.kw.class_code(&crate::testing::view_ctx(), &w.teacher, &w.class)
            .await
            .unwrap(),
        fresh
    );
    let err =
        w.kw.join_class_as_new_learner(&w.ctx(), &join_input(&w.code, "yan.y"))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "code_unknown");
    w.kw.join_class_as_new_learner(&w.ctx(), &join_input(&new_code, "yan.y"))
        .await
        .unwrap();
    let actions = audited_actions(&w.kw, 50).await;
    for act in [
        action::CLASS_CODE_DISABLE,
        action::CLASS_CODE_ENABLE,
        action::CLASS_CODE_REGENERATE,
    ] {
        assert!(actions.iter().any(|a| a == act), "{act} audited");
    }
}

#[tokio::test]
async fn two_people_racing_for_one_username_one_wins_the_other_is_told() {
    let w = world().await;
    let before = w.users().await;
    let (ctx_a, ctx_b) = (w.ctx(), w.ctx());
    let (a, b) = (
        join_input(&w.code, "same.name"),
        join_input(&as_typed(&w.code), "Same.Name"),
    );
    let (first, second) = tokio::join!(
        w.kw.join_class_as_new_learner(&ctx_a, &a),
        w.kw.join_class_as_new_learner(&ctx_b, &b)
    );
    let results = [first, second];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(loser.code(), "username_taken");
    assert_eq!(w.users().await, before + 1);
    // An existing account's name is taken too.
    let err =
        w.kw.join_class_as_new_learner(&w.ctx(), &join_input(&w.code, "DEMO.AMY"))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "username_taken");
    assert_eq!(w.users().await, before + 1);
}

#[tokio::test]
async fn bad_names_usernames_and_passwords_are_refused_before_anything_is_made() {
    let w = world().await;
    let before = w.users().await;
    let cases: [(JoinInput, &str); 6] = [
        (
            JoinInput {
                first_name: "  ".into(),
                ..join_input(&w.code, "zoe.z")
            },
            "invalid_name",
        ),
        (
            JoinInput {
                last_name: "a\u{7}b".into(),
                ..join_input(&w.code, "zoe.z")
            },
            "invalid_name",
        ),
        (join_input(&w.code, "x"), "username_too_short"),
        (
            JoinInput {
                password: "password".into(),
                confirm_password: Some("password".into()),
                ..join_input(&w.code, "zoe.z")
            },
            "password_policy",
        ),
        (
            JoinInput {
                confirm_password: Some("TigerApple43".into()),
                ..join_input(&w.code, "zoe.z")
            },
            "password_policy",
        ),
        (
            JoinInput {
                password: "x".repeat(300).into(),
                ..join_input(&w.code, "zoe.z")
            },
            "password_policy",
        ),
    ];
    for (input, code) in cases {
        let err =
            w.kw.join_class_as_new_learner(&w.ctx(), &input)
                .await
                .unwrap_err();
        assert_eq!(err.code(), code);
    }
    assert_eq!(w.users().await, before);
}

#[tokio::test]
async fn only_the_class_teachers_and_the_lead_teacher_see_and_change_the_code() {
    let w = world().await;
    let other = w.other_school().await;
    let colleague = w.staff(&w.school, Role::Teacher, "t.colleague").await;
    let (_, _) = w
        .class_in(
            &w.school,
            "Class 5A",
            std::slice::from_ref(&colleague.user_id),
        )
        .await;
    let colleague = actor_named(&w.kw, "t.colleague").await;
    let outsider = w.staff(&other, Role::LeadTeacher, "l.outsider").await;
    let learner = actor_named(&w.kw, "demo.amy").await;
    let parent = actor_named(&w.kw, "demo.parent").await;

    for allowed in [&w.teacher, &w.lead, &w.admin] {
        let info =
            w.kw.class_code(&crate::testing::view_ctx(), allowed, &w.class)
                .await
                .unwrap();
        assert_eq!(info.class_name, crate::demo::DEMO_CLASS_NAME);
        assert_eq!(info.code.as_deref(), Some(w.code.as_str()));
    }
    for (who, expected) in [
        (&colleague, "forbidden"),
        (&learner, "forbidden"),
        (&parent, "forbidden"),
        (&outsider, "not_found"),
    ] {
        let err =
            w.kw.class_code(&crate::testing::view_ctx(), who, &w.class)
                .await
                .unwrap_err();
        assert_eq!(err.code(), expected);
        let err =
            w.kw.regenerate_class_code(&w.ctx(), who, &w.class)
                .await
                .unwrap_err();
        assert_eq!(err.code(), expected);
        for enabled in [false, true] {
            let err =
                w.kw.set_class_code_enabled(&w.ctx(), who, &w.class, enabled)
                    .await
                    .unwrap_err();
            assert_eq!(err.code(), expected);
        }
    }
    // Nothing changed, and an unknown class is simply not there.
    let info =
        w.kw.class_code(&crate::testing::view_ctx(), &w.teacher, &w.class)
            .await
            .unwrap();
    assert_eq!(
        (info.code.as_deref(), info.enabled),
        (Some(w.code.as_str()), true)
    );
    let nowhere = ClassId::generate(&w.rng).unwrap();
    assert_eq!(
        w.kw.class_code(&crate::testing::view_ctx(), &w.admin, &nowhere)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[tokio::test]
async fn an_existing_learner_joins_a_second_class_and_its_teacher_then_sees_them() {
    let w = world().await;
    let colleague = w.staff(&w.school, Role::Teacher, "t.colleague").await;
    let (class_5a, code_5a) = w
        .class_in(
            &w.school,
            "Class 5A",
            std::slice::from_ref(&colleague.user_id),
        )
        .await;
    let colleague = actor_named(&w.kw, "t.colleague").await;
    let amy = actor_named(&w.kw, "demo.amy").await;
    let amy_target = || async { w.kw.user_target(&amy.user_id).await.unwrap().unwrap() };
    assert_eq!(
        authorize(
            &colleague,
            Action::ViewLearner,
            Target::User(&amy_target().await)
        ),
        Err(Denied::Forbidden)
    );

    let joined =
        w.kw.join_class(
            &w.ctx(),
            &amy,
            &crate::types::TypedCode::from(&as_typed(&code_5a)),
        )
        .await
        .unwrap();
    assert_eq!(
        joined,
        JoinedClass {
            class_id: class_5a.clone(),
            class_name: "Class 5A".into(),
            newly_enrolled: true,
        }
    );
    authorize(
        &colleague,
        Action::ViewLearner,
        Target::User(&amy_target().await),
    )
    .unwrap();
    // Still in Class 4B, and joining again is harmless.
    assert_eq!(amy_target().await.classes.len(), 2);
    let again =
        w.kw.join_class(&w.ctx(), &amy, &crate::types::TypedCode::from(&code_5a))
            .await
            .unwrap();
    assert!(!again.newly_enrolled);
    let own =
        w.kw.join_class(&w.ctx(), &amy, &crate::types::TypedCode::from(&w.code))
            .await
            .unwrap();
    assert_eq!((own.class_id, own.newly_enrolled), (w.class.clone(), false));
}

#[tokio::test]
async fn joining_another_class_is_for_learners_and_their_own_school() {
    let w = world().await;
    let other = w.other_school().await;
    let (_, foreign_code) = w.class_in(&other, "Elsewhere 1", &[]).await;
    let amy = actor_named(&w.kw, "demo.amy").await;
    let err =
        w.kw.join_class(
            &w.ctx(),
            &amy,
            &crate::types::TypedCode::from(&foreign_code),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "code_unknown");
    for who in [
        &w.teacher,
        &w.lead,
        &w.admin,
        &actor_named(&w.kw, "demo.parent").await,
    ] {
        let err =
            w.kw.join_class(&w.ctx(), who, &crate::types::TypedCode::from(&w.code))
                .await
                .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }
    w.kw.set_class_code_enabled(&w.ctx(), &w.lead, &w.class, false)
        .await
        .unwrap();
    let (class_5a, code_5a) = w.class_in(&w.school, "Class 5A", &[]).await;
    w.kw.set_class_code_enabled(&w.ctx(), &w.lead, &class_5a, false)
        .await
        .unwrap();
    let err =
        w.kw.join_class(&w.ctx(), &amy, &crate::types::TypedCode::from(&code_5a))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "code_unknown");
    let target = w.kw.user_target(&amy.user_id).await.unwrap().unwrap();
    assert_eq!(target.classes, vec![w.class.clone()]);
}

#[tokio::test]
async fn wrong_class_codes_are_throttled_even_before_a_right_one() {
    let w = world().await;
    let mut throttled_at = None;
    for i in 0..30u64 {
        let ctx = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(i)), &w.rng);
        match w
            .kw
            .join_class_as_new_learner(
                &ctx,
                &join_input(["ZZZZZ2", "WRONG2"][i as usize % 2], "guess.er"),
            )
            .await
        {
            Err(ActivationError::Throttled { .. }) => {
                throttled_at = Some(i);
                break;
            }
            Err(err) => assert_eq!(err.code(), "code_unknown"),
            Ok(_) => panic!("a made-up class code worked"),
        }
    }
    let at = throttled_at.expect("guessing class codes from one address is slowed down");
    // While throttled, even the right code waits; the existing-learner path shares the counter.
    let now = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(at)), &w.rng);
    let err =
        w.kw.join_class_as_new_learner(&now, &join_input(&w.code, "zoe.z"))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
    let amy = actor_named(&w.kw, "demo.amy").await;
    let err =
        w.kw.join_class(&now, &amy, &crate::types::TypedCode::from(&w.code))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
    // Another address is not held up by this one.
    let elsewhere = Ctx::new(now.now, &w.rng).with_client(Some("198.51.100.7".into()), None);
    w.kw.join_class_as_new_learner(&elsewhere, &join_input(&w.code, "zoe.z"))
        .await
        .unwrap();
    let failures = crate::audit::recent(w.kw.db(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == action::CLASS_JOIN && row.outcome == "failure")
        .count();
    assert!(failures >= 10, "{failures} failures audited");
}
