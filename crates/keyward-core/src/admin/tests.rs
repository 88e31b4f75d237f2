//! The users list of a school of 10,000 (R-ADM-1): paged and filtered in
//! SQL. Correctness only: no timing is asserted.

use super::*;
use crate::accounts::AccountStatus;
use crate::testing::{
    BulkUser, actor_named, demo_class, demo_keyward, insert_many_users, view_ctx,
};
use crate::types::{ClassId, Role};

const PEOPLE: usize = 10_000;
const SURNAMES: [&str; 4] = ["Adams", "baker", "Clark", "Davis"];

/// Person `i` of the big school: a tenth are teachers; every 7th is pending,
/// every 11th (not pending) disabled; every 3rd has an email address; every
/// 13th uses an authenticator app.
fn person(i: usize) -> BulkUser {
    let status = if i.is_multiple_of(7) {
        AccountStatus::Pending
    } else if i.is_multiple_of(11) {
        AccountStatus::Disabled
    } else {
        AccountStatus::Active
    };
    BulkUser {
        role: if i.is_multiple_of(10) {
            Role::Teacher
        } else {
            Role::Learner
        },
        first_name: format!("Pupil{i:05}"),
        last_name: SURNAMES[i % 4].to_owned(),
        email: i.is_multiple_of(3).then(|| format!("P{i:05}@Example.org")),
        status,
        authenticator_app: i.is_multiple_of(13),
    }
}

/// Learners enrolled in the demo class (every 50th, from 1) and teachers
/// teaching it (every 1000th).
fn in_class(i: usize) -> bool {
    (i % 50 == 1) || i.is_multiple_of(1000)
}

/// Which of the bulk people (by number) a query should find.
type Matches = Box<dyn Fn(usize) -> bool>;

fn query(edit: impl FnOnce(&mut UserQuery)) -> UserQuery {
    let mut query = UserQuery {
        paging: Paging::new(1, MAX_PER_PAGE).expect("a page"),
        ..UserQuery::default()
    };
    edit(&mut query);
    query
}

async fn total(kw: &crate::Keyward, actor: &crate::authz::Actor, q: &UserQuery) -> u64 {
    kw.find_users(&view_ctx(), actor, q)
        .await
        .expect("list users")
        .total
}

#[tokio::test]
async fn a_school_of_ten_thousand_pages_and_filters_in_sql() {
    let (kw, _db, _rng) = demo_keyward(31).await;
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().expect("a school");
    let class = demo_class(&kw).await;

    // Each filter with what it matches among the bulk people; the demo
    // school's own people are counted before they arrive.
    let cases: Vec<(&str, UserQuery, Matches)> = vec![
        ("everyone", query(|_| {}), Box::new(|_| true)),
        (
            "learners",
            query(|q| q.role = Some(Role::Learner)),
            Box::new(|i| i % 10 != 0),
        ),
        (
            "pending",
            query(|q| q.status = Some(AccountStatus::Pending)),
            Box::new(|i| i % 7 == 0),
        ),
        (
            "disabled teachers",
            query(|q| {
                q.status = Some(AccountStatus::Disabled);
                q.role = Some(Role::Teacher);
            }),
            Box::new(|i| i % 7 != 0 && i % 11 == 0 && i % 10 == 0),
        ),
        (
            "mfa on",
            query(|q| q.mfa = Some(true)),
            Box::new(|i| i % 13 == 0),
        ),
        (
            "mfa off",
            query(|q| q.mfa = Some(false)),
            Box::new(|i| i % 13 != 0),
        ),
        (
            "class",
            query(|q| q.class = Some(class.clone())),
            Box::new(in_class),
        ),
        (
            "teachers of the class",
            query(|q| {
                q.class = Some(class.clone());
                q.role = Some(Role::Teacher);
            }),
            Box::new(|i| i % 1000 == 0),
        ),
        (
            "name search",
            query(|q| q.text = "PUPIL0042".into()),
            Box::new(|i| (420..430).contains(&i)),
        ),
        (
            "email search",
            query(|q| q.text = "p00003@example".into()),
            Box::new(|i| i == 3),
        ),
        (
            "full name search",
            query(|q| q.text = "pupil09999 davis".into()),
            Box::new(|i| i == 9999),
        ),
        (
            "a wildcard matches only itself",
            query(|q| q.text = "%".into()),
            Box::new(|_| false),
        ),
        (
            "placeholder usernames are no match",
            query(|q| q.text = "#pending".into()),
            Box::new(|_| false),
        ),
    ];
    let mut before = Vec::new();
    for (_, q, _) in &cases {
        before.push(total(&kw, &lead, q).await);
    }

    let ids = insert_many_users(&kw, &school, PEOPLE, person).await;
    let mut tx = kw.db().begin_write().await.expect("begin");
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| in_class(*i)) {
        if i % 10 == 0 {
            crate::schools::add_teacher(&mut tx, &class, id)
                .await
                .expect("teach");
        } else {
            crate::schools::enrol(&mut tx, &class, id)
                .await
                .expect("enrol");
        }
    }
    tx.commit().await.expect("commit");

    for ((name, q, matches), before) in cases.iter().zip(before) {
        let expected = before + (0..PEOPLE).filter(|i| matches(*i)).count() as u64;
        assert_eq!(total(&kw, &lead, q).await, expected, "{name}");
    }

    // Every page of everyone, 200 at a time: each person once, in order.
    let mut seen = Vec::new();
    let mut number = 1;
    let everyone = loop {
        let q = query(|q| q.paging = Paging::new(number, MAX_PER_PAGE).expect("a page"));
        let page = kw.find_users(&view_ctx(), &lead, &q).await.expect("a page");
        if page.users.is_empty() {
            break page;
        }
        assert!(page.users.len() <= MAX_PER_PAGE as usize);
        seen.extend(page.users.into_iter().map(|u| u.account));
        number += 1;
    };
    assert_eq!(seen.len() as u64, everyone.total);
    assert_eq!(u64::from(number - 1), everyone.page_count());
    let keys: Vec<(String, String, String)> = seen
        .iter()
        .map(|a| {
            (
                a.last_name.to_lowercase(),
                a.first_name.to_lowercase(),
                a.id.to_string(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted, no one twice");

    // The default page holds 50; the rows say whether MFA is on.
    let first = kw
        .find_users(&view_ctx(), &lead, &UserQuery::default())
        .await
        .expect("the first page");
    assert_eq!(first.users.len(), DEFAULT_PER_PAGE as usize);
    let mfa_page = kw
        .find_users(&view_ctx(), &lead, &query(|q| q.mfa = Some(true)))
        .await
        .expect("mfa on");
    assert!(mfa_page.users.iter().all(|u| u.mfa_on));
}

#[tokio::test]
async fn the_class_filter_names_a_class_of_the_school() {
    let (kw, _db, rng) = demo_keyward(32).await;
    let lead = actor_named(&kw, "demo.lead").await;
    let admin = actor_named(&kw, "demo.admin").await;
    let ctx = crate::testing::ctx_at(crate::testing::MONDAY_MORNING, &rng);
    let elsewhere = kw
        .create_school(&ctx, &admin, "Hill Top Academy")
        .await
        .expect("a school");
    let other_class = kw
        .create_class(&ctx, &admin, &elsewhere.id, "7C", &[])
        .await
        .expect("a class");
    for class in [
        other_class.id.clone(),
        ClassId::from_stored("no-such-class".into()),
    ] {
        let err = kw
            .find_users(&view_ctx(), &lead, &query(|q| q.class = Some(class)))
            .await
            .expect_err("not the lead's class");
        assert!(
            matches!(
                err,
                DirectoryError::InvalidFilter {
                    field: "class_id",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // A platform admin looking at every school looks at the class's school.
    let demo = demo_class(&kw).await;
    let page = kw
        .find_users(&view_ctx(), &admin, &query(|q| q.class = Some(demo)))
        .await
        .expect("the demo class");
    assert!(page.total > 0);
    assert!(
        page.users
            .iter()
            .all(|u| u.account.school_id == lead.school_id)
    );
    let classes = kw
        .users_list_classes(&view_ctx(), &lead, None)
        .await
        .expect("the school's classes");
    assert!(classes.iter().all(|(id, _)| *id != other_class.id));
    assert!(!classes.is_empty());
}

/// A teacher who may manage roles cannot turn the rights they hold for
/// their own classes into school-wide ones through a custom role (found by
/// an outside review): neither by defining the role nor by granting it.
#[tokio::test]
async fn a_teachers_class_rights_cannot_become_school_wide_through_a_custom_role() {
    use crate::authz::Permission;
    let (kw, _db, _rng) = demo_keyward(31).await;
    let ctx = view_ctx();
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().expect("the lead's school");
    crate::testing::grant_through_custom_role(
        &kw,
        &ctx,
        &lead,
        "demo.teacher",
        &[Permission::RolesManage],
    )
    .await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class_bound = [Permission::LearnersView, Permission::LearnersResetPassword];
    let err = kw
        .create_custom_role(&ctx, &teacher, &school, "Everyone's resets", &class_bound)
        .await
        .unwrap_err();
    assert_eq!(crate::error::CodedError::code(&err), Code::Forbidden);
    // A role the lead made with those rights cannot be given away by the
    // teacher either, not even to themselves.
    let role = kw
        .create_custom_role(&ctx, &lead, &school, "Resets", &class_bound)
        .await
        .unwrap();
    let teacher_id = teacher.user_id.clone();
    let err = kw
        .grant_custom_role(&ctx, &teacher, &teacher_id, &role.id)
        .await
        .unwrap_err();
    assert_eq!(crate::error::CodedError::code(&err), Code::Forbidden);
    // What the teacher holds school-wide (roles.manage) they may pass on.
    kw.create_custom_role(
        &ctx,
        &teacher,
        &school,
        "Role keepers",
        &[Permission::RolesManage],
    )
    .await
    .unwrap();
}
