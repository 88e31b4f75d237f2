//! Disabling and enabling accounts: what ends at once, what comes back, who
//! may, and parallel requests.

use super::*;
use crate::accounts::AccountStatus;
use crate::activation::ActivationError;
use crate::authz::Permission;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, account_named, actor_named, audited_actions,
    create_pending_user, ctx_at, demo_class, demo_keyward, grant_through_custom_role, signs_in,
    staff_of_another_school,
};
use crate::types::{Role, TypedCode};

#[tokio::test]
async fn disabling_ends_sessions_and_codes_and_enabling_brings_the_account_back() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let amy = account_named(&kw, "demo.amy").await;
    let session = kw
        .sign_in(&ctx, "demo.amy", DEMO_PASSWORD.into())
        .await
        .expect("sign in")
        .complete()
        .expect("no second step");

    let disabled = kw
        .disable_user(&ctx, &lead, &amy.id)
        .await
        .expect("disable");
    assert_eq!(disabled.status, AccountStatus::Disabled);
    assert!(
        kw.current_session(&ctx, &session.session_token)
            .await
            .expect("read the session")
            .is_none(),
        "the live session ended"
    );
    let refused = kw
        .sign_in(&ctx, "demo.amy", DEMO_PASSWORD.into())
        .await
        .expect_err("a disabled account cannot sign in");
    let wrong = kw
        .sign_in(&ctx, "demo.ben", "not the password".into())
        .await
        .expect_err("a wrong password");
    assert_eq!(
        refused.code(),
        wrong.code(),
        "as if the password were wrong"
    );
    assert_eq!(refused.to_string(), wrong.to_string());
    assert!(matches!(
        kw.disable_user(&ctx, &lead, &amy.id).await,
        Err(AccountStatusError::AlreadyDisabled)
    ));

    let enabled = kw.enable_user(&ctx, &lead, &amy.id).await.expect("enable");
    assert_eq!(enabled.status, AccountStatus::Active);
    assert!(signs_in(&kw, &rng, "demo.amy", DEMO_PASSWORD).await);
    assert!(matches!(
        kw.enable_user(&ctx, &lead, &amy.id).await,
        Err(AccountStatusError::NotDisabled)
    ));
    let actions = audited_actions(&kw, 10).await;
    assert!(
        actions.contains(&action::USER_DISABLE.to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&action::USER_ENABLE.to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_disabled_pending_account_loses_its_codes_and_comes_back_pending() {
    let (kw, _db, rng) = demo_keyward(42).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let class = demo_class(&kw).await;
    let created =
        create_pending_user(&kw, &ctx, &lead, Role::Learner, ("Dan", "Doe"), &[class]).await;
    let parent_code = created.parent_access_code.clone().expect("a parent code");

    kw.disable_user(&ctx, &lead, &created.id)
        .await
        .expect("disable");
    for code in [created.access_code.clone(), parent_code] {
        let err = kw
            .inspect_code(&ctx, &TypedCode::from(code))
            .await
            .expect_err("the code ended");
        assert!(matches!(err, ActivationError::UnknownCode), "{err:?}");
    }

    let enabled = kw
        .enable_user(&ctx, &lead, &created.id)
        .await
        .expect("enable");
    assert_eq!(enabled.status, AccountStatus::Pending, "no password yet");
    let shown = kw.show_user(&ctx, &lead, &created.id).await.expect("show");
    assert_eq!(shown.access_code, None, "the old code stays ended");
    let fresh = kw
        .reissue_access_code(&ctx, &lead, &created.id)
        .await
        .expect("a new access code");
    kw.inspect_code(&ctx, &TypedCode::from(fresh))
        .await
        .expect("the new code works");
}

#[tokio::test]
async fn only_those_who_manage_the_person_may_disable_them() {
    let (kw, _db, rng) = demo_keyward(43).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let admin = actor_named(&kw, "demo.admin").await;
    let amy = account_named(&kw, "demo.amy").await;

    let denied = |result: Result<Account, AccountStatusError>| match result {
        Err(AccountStatusError::Denied(denied)) => denied,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // Without users.manage.
    assert_eq!(
        denied(kw.disable_user(&ctx, &teacher, &amy.id).await),
        Denied::Forbidden
    );
    // Staff of another school learn nothing.
    let outsider =
        staff_of_another_school(&kw, &ctx, &admin, lead.user_id.clone(), Role::LeadTeacher).await;
    assert_eq!(
        denied(kw.disable_user(&ctx, &outsider, &amy.id).await),
        Denied::Hidden
    );
    // Oneself: Account Settings is the way.
    assert_eq!(
        denied(kw.disable_user(&ctx, &lead, &lead.user_id).await),
        Denied::Forbidden
    );
    // Someone holding more: a teacher given users.manage cannot disable the lead.
    grant_through_custom_role(
        &kw,
        &ctx,
        &lead,
        "demo.teacher",
        &[Permission::UsersView, Permission::UsersManage],
    )
    .await;
    let managing_teacher = actor_named(&kw, "demo.teacher").await;
    assert_eq!(
        denied(
            kw.disable_user(&ctx, &managing_teacher, &lead.user_id)
                .await
        ),
        Denied::Forbidden
    );
    assert_eq!(
        denied(kw.enable_user(&ctx, &teacher, &amy.id).await),
        Denied::Forbidden
    );
    assert_eq!(
        account_named(&kw, "demo.lead").await.status,
        AccountStatus::Active
    );
    assert_eq!(
        account_named(&kw, "demo.amy").await.status,
        AccountStatus::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_parallel_disables_on_two_instances_one_wins() {
    let (kw, db, rng) = demo_keyward(44).await;
    let second = crate::testing::second_instance(&db).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let ben = account_named(&kw, "demo.ben").await;
    let outcomes = futures_util::future::join_all((0..8).map(|i| {
        let instance = if i % 2 == 0 { &kw } else { &second };
        instance.disable_user(&ctx, &lead, &ben.id)
    }))
    .await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    let told = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AccountStatusError::AlreadyDisabled)))
        .count();
    assert_eq!((won, told), (1, 7), "{outcomes:?}");
    let disables = audited_actions(&kw, 50)
        .await
        .into_iter()
        .filter(|a| a == action::USER_DISABLE)
        .count();
    assert_eq!(disables, 1);
}
