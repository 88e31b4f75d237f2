//! Use-case tests of schools and classes, on the backend of the test run.

use super::*;
use crate::authz::PermissionSet;
use crate::testing::{MONDAY_MORNING, actor_named, ctx_at, demo_keyward};

#[tokio::test]
async fn only_platform_admins_create_schools() {
    let (kw, _db, rng) = demo_keyward(21).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let school = kw
        .create_school(
            &ctx,
            &actor_named(&kw, "demo.admin").await,
            "  Hill Top Academy ",
        )
        .await
        .unwrap();
    assert_eq!(school.name, "Hill Top Academy");
    let err = kw
        .create_school(&ctx, &actor_named(&kw, "demo.lead").await, "Mine")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = kw
        .create_school(&ctx, &actor_named(&kw, "demo.admin").await, "   ")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_name");
    let err = kw
        .create_school(&ctx, &actor_named(&kw, "demo.admin").await, "a\u{0}b")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_name");
}

#[tokio::test]
async fn the_lead_teacher_creates_classes_with_readable_codes_in_their_school_only() {
    let (kw, _db, rng) = demo_keyward(21).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = kw
        .create_class(
            &ctx,
            &lead,
            &school,
            "Class 5A",
            std::slice::from_ref(&teacher.user_id),
        )
        .await
        .unwrap();
    let code = class.class_code.clone().unwrap();
    assert_eq!(code.len(), CLASS_CODE_LEN);
    assert!(
        code.bytes().all(|b| CLASS_CODE_ALPHABET.contains(&b)),
        "{code}"
    );
    // The teacher now sees it in their class database, beside the demo class.
    let teacher = actor_named(&kw, "demo.teacher").await;
    let names: Vec<String> = kw
        .class_database(&crate::testing::view_ctx(), &teacher, None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Class 5A".to_owned()));

    let other = kw
        .create_school(&ctx, &actor_named(&kw, "demo.admin").await, "Elsewhere")
        .await
        .unwrap();
    let err = kw
        .create_class(&ctx, &lead, &other.id, "Sneaky", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let err = kw
        .create_class(&ctx, &teacher, &school, "Mine", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let learner = actor_named(&kw, "demo.amy").await;
    let err = kw
        .create_class(&ctx, &lead, &school, "With a learner", &[learner.user_id])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_teacher");
}

#[tokio::test]
async fn class_codes_never_repeat() {
    let (kw, _db, rng) = demo_keyward(21).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let mut codes = std::collections::BTreeSet::new();
    for i in 0..40 {
        let class = kw
            .create_class(&ctx, &lead, &school, &format!("Class {i}"), &[])
            .await
            .unwrap();
        assert!(codes.insert(class.class_code.unwrap()));
    }
}

#[tokio::test]
async fn custom_roles_and_taught_classes_make_the_actor() {
    let (kw, _db, _rng) = demo_keyward(21).await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    assert_eq!(teacher.classes.len(), 1);
    assert_eq!(teacher.granted, PermissionSet::EMPTY);
    let learner = actor_named(&kw, "demo.amy").await;
    assert!(learner.classes.is_empty(), "learners teach no class");
}
