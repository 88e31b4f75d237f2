//! The home pages' overviews, on the backend of the test run.

use crate::authz::Permission;
use crate::testing::{
    MONDAY_MORNING, actor_named, create_pending_user, ctx_at, demo_class, demo_keyward,
    grant_through_custom_role,
};
use crate::types::Role;

#[tokio::test]
async fn a_teacher_sees_each_class_taught_with_its_learners_counted() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let class_4b = demo_class(&kw).await;
    create_pending_user(
        &kw,
        &ctx,
        &lead,
        Role::Learner,
        ("Dev", "Patel"),
        std::slice::from_ref(&class_4b),
    )
    .await;
    // A class the teacher does not teach, with a learner: not theirs to count.
    let school = lead.school_id.clone().unwrap();
    let other = kw
        .create_class(&ctx, &lead, &school, "Class 6A", &[])
        .await
        .unwrap();
    create_pending_user(
        &kw,
        &ctx,
        &lead,
        Role::Learner,
        ("Gus", "Green"),
        std::slice::from_ref(&other.id),
    )
    .await;

    let teacher = actor_named(&kw, "demo.teacher").await;
    let classes = kw.teaching_overview(&teacher).await.unwrap();
    assert_eq!(classes.len(), 1, "{classes:?}");
    let class = &classes[0];
    assert_eq!(
        (class.id.clone(), class.name.as_str()),
        (class_4b, "Class 4B")
    );
    assert_eq!((class.learners, class.pending), (4, 1));
    assert!(class.class_code.is_some());
    assert!(class.may_manage && class.may_reset && class.may_export);

    // A switched-off code is not shown.
    kw.set_class_code_enabled(&ctx, &teacher, &class.id, false)
        .await
        .unwrap();
    let classes = kw.teaching_overview(&teacher).await.unwrap();
    assert_eq!(classes[0].class_code, None);

    // Learners and parents teach nothing.
    for name in ["demo.amy", "demo.parent"] {
        let actor = actor_named(&kw, name).await;
        assert!(kw.teaching_overview(&actor).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn school_numbers_go_to_those_who_may_see_the_schools_people() {
    let (kw, _db, rng) = demo_keyward(32).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let admin = actor_named(&kw, "demo.admin").await;
    create_pending_user(&kw, &ctx, &lead, Role::Teacher, ("Ola", "Nowak"), &[]).await;
    let elsewhere = kw
        .create_school(&ctx, &admin, "Hill Top Academy")
        .await
        .unwrap();

    let mine = kw.school_figures(&lead).await.unwrap();
    assert_eq!(mine.len(), 1);
    let figures = &mine[0];
    assert_eq!(Some(&figures.school.id), lead.school_id.as_ref());
    assert_eq!(
        (
            figures.classes,
            figures.learners,
            figures.staff,
            figures.parents,
            figures.pending
        ),
        (1, 3, 3, 1, 1),
        "{figures:?}"
    );

    let all = kw.school_figures(&admin).await.unwrap();
    assert_eq!(all.len(), 2);
    let empty = all.iter().find(|f| f.school.id == elsewhere.id).unwrap();
    assert_eq!(
        (empty.classes, empty.learners, empty.staff, empty.pending),
        (0, 0, 0, 0)
    );
    assert!(all.contains(figures));

    for name in ["demo.teacher", "demo.amy", "demo.parent"] {
        let actor = actor_named(&kw, name).await;
        assert!(
            kw.school_figures(&actor).await.unwrap().is_empty(),
            "{name}"
        );
    }
    // A custom role with users.view sees its school's numbers.
    grant_through_custom_role(&kw, &ctx, &lead, "demo.teacher", &[Permission::UsersView]).await;
    let helper = actor_named(&kw, "demo.teacher").await;
    assert_eq!(kw.school_figures(&helper).await.unwrap(), mine);
}

#[tokio::test]
async fn a_learner_and_a_parent_see_the_classes_with_their_teachers() {
    let (kw, _db, rng) = demo_keyward(33).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let amy = actor_named(&kw, "demo.amy").await;
    let classes = kw.own_classes(&amy).await.unwrap();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0].name, "Class 4B");
    // Both teach Class 4B in the demo, by last name.
    assert_eq!(classes[0].teachers, ["Tom Baker", "Lena Fischer"]);

    // A second class without a teacher is listed with nobody.
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let other = kw
        .create_class(&ctx, &lead, &school, "Art club", &[])
        .await
        .unwrap();
    let mut tx = kw.db.begin_write().await.unwrap();
    crate::schools::enrol(&mut tx, &other.id, &amy.user_id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let names: Vec<(String, usize)> = kw
        .own_classes(&amy)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.teachers.len()))
        .collect();
    assert_eq!(
        names,
        [("Art club".to_owned(), 0), ("Class 4B".to_owned(), 2)]
    );

    let parent = actor_named(&kw, "demo.parent").await;
    let children = kw.children_overview(&parent).await.unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].child.first_name, "Amy");
    assert_eq!(children[0].classes, kw.own_classes(&amy).await.unwrap());

    for name in ["demo.teacher", "demo.parent"] {
        let actor = actor_named(&kw, name).await;
        assert!(kw.own_classes(&actor).await.unwrap().is_empty(), "{name}");
    }
    assert!(kw.children_overview(&amy).await.unwrap().is_empty());
}
